#include "cli.h"

#include "../common/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Option names that would put a secret in argv, where every user of the
 * machine can read it (ps, /proc/PID/cmdline) and shells keep it in their
 * history. They are refused by name, whatever the command. */
static const char *const secret_options[] = {"pin", "so-pin", "user-pin", "password", "passphrase", "secret"};

static char invocation[160] = "rombsr";

const char *cli_invocation(void)
{
	return invocation;
}

/* Appends " word" (cli_run starts from the program's name). */
void cli_invocation_add(const char *word, bool restart)
{
	size_t used = restart ? 0 : strlen(invocation);

	snprintf(invocation + used, sizeof(invocation) - used, "%s%s", used ? " " : "", word);
}

void cli_parser_init(struct cli_parser *p, const struct cli_option *options, int argc, char **argv)
{
	p->options = options;
	p->argc = argc;
	p->argv = argv;
	p->index = 1;
	p->value = NULL;
}

/* Whether text starts with the words of prefix, then a space or its end. */
static bool starts_with_words(const char *text, const char *prefix, size_t len)
{
	return len > 0 && strncmp(text, prefix, len) == 0 && (text[len] == ' ' || text[len] == '\0');
}

void cli_print_usage(FILE *to, const char *command, const char *usage, const struct cli_option *options)
{
	/* A usage line may spell the command (and its group) or only what
	 * follows: either way the line printed starts with the invocation. */
	size_t program = strcspn(invocation, " ");
	const char *words = invocation[program] ? invocation + program + 1 : "";
	size_t before_command = strlen(invocation) - strlen(command);

	if (starts_with_words(usage, words, strlen(words)))
		fprintf(to, "usage: %.*s %s\n", (int)program, invocation, usage);
	else if (before_command > 0 && strcmp(invocation + before_command, command) == 0 &&
		 starts_with_words(usage, command, strlen(command)))
		fprintf(to, "usage: %.*s%s\n", (int)before_command, invocation, usage);
	else
		fprintf(to, "usage: %s %s\n", invocation, usage);
	for (const struct cli_option *o = options; o != NULL && o->name != NULL; o++) {
		char left[48];

		snprintf(left, sizeof(left), "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(to, "    %-26s %s\n", left, o->help);
	}
	fprintf(to, "    %-26s %s\n", "--help", "show this help");
}

static bool is_secret_option(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(secret_options) / sizeof(secret_options[0]); i++)
		if (strlen(secret_options[i]) == len && strncmp(secret_options[i], name, len) == 0)
			return true;
	return false;
}

int cli_next(struct cli_parser *p, const char *usage)
{
	const char *arg, *name, *eq;
	size_t len;

	p->value = NULL;
	if (p->index >= p->argc)
		return 0;
	arg = p->argv[p->index];
	if (strcmp(arg, "--") == 0) {
		p->index++;
		return 0;
	}
	if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
		return 0;
	name = arg + 2;
	eq = strchr(name, '=');
	len = eq ? (size_t)(eq - name) : strlen(name);
	p->index++;
	if (len == 4 && strncmp(name, "help", 4) == 0) {
		cli_print_usage(stdout, p->argv[0], usage, p->options);
		exit(0);
	}
	if (is_secret_option(name, len))
		return rombsr_error(ROMBSR_EPERM,
				    "refusing --%.*s: a secret on the command line can be read by every user "
				    "of this machine; use --pin-file FILE or --pin-fd N",
				    (int)len, name);
	for (const struct cli_option *o = p->options; o != NULL && o->name != NULL; o++) {
		if (strlen(o->name) != len || strncmp(o->name, name, len) != 0)
			continue;
		if (o->arg == NULL) {
			if (eq != NULL)
				return rombsr_error(ROMBSR_EINVAL, "--%s takes no value", o->name);
			return o->id;
		}
		if (eq != NULL) {
			p->value = eq + 1;
		} else if (p->index < p->argc) {
			p->value = p->argv[p->index++];
		} else {
			return rombsr_error(ROMBSR_EINVAL, "--%s needs a value (%s)", o->name, o->arg);
		}
		return o->id;
	}
	return rombsr_error(ROMBSR_EINVAL, "unknown option '%s' (see '%s --help')", arg, invocation);
}

int cli_parse_uint(const char *text, unsigned long max, unsigned long *out, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0 || v > max)
		return rombsr_error(ROMBSR_EINVAL, "%s: '%s' is not a whole number from 0 to %lu", what, text, max);
	*out = v;
	return 0;
}

int cli_take_pin_option(struct cli_context *ctx, int id, const char *value)
{
	unsigned long fd;
	int r;

	if (id == CLI_OPT_PIN_FILE) {
		ctx->pin_file = value;
		return 0;
	}
	r = cli_parse_uint(value, 1024, &fd, "--pin-fd");
	if (r == 0)
		ctx->pin_fd = (int)fd;
	return r;
}
