/* The main of both command-line programs (rombsr, rombsr-sign): global
 * options, then one command of the program's table. */
#include "cli.h"

#include "../common/error.h"

#include <stdio.h>
#include <string.h>

#ifndef ROMBSR_VERSION
#define ROMBSR_VERSION "0.1.0"
#endif

static void usage(FILE *to, const char *program, const struct cli_command *commands, size_t n)
{
	fprintf(to, "usage: %s [--config FILE] <command> [options]\n\ncommands:\n", program);
	for (size_t i = 0; i < n; i++)
		fprintf(to, "    %-16s %s\n", commands[i].name, commands[i].summary);
	fprintf(to, "\n'%s <command> --help' shows a command's options.\n"
		    "The configuration is --config FILE, else $ROMBSR_CONFIG, else /etc/rombsr/rombsr.conf.\n",
		program);
}

int cli_run(const char *program, const struct cli_command *commands, size_t ncommands, int argc, char **argv)
{
	struct cli_context ctx = {.pin_fd = -1};
	int i = 1, r;

	while (i < argc && strncmp(argv[i], "--", 2) == 0) {
		if (strcmp(argv[i], "--help") == 0) {
			usage(stdout, program, commands, ncommands);
			return 0;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("%s %s\n", program, ROMBSR_VERSION);
			return 0;
		}
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			ctx.config_path = argv[i + 1];
			i += 2;
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			ctx.config_path = argv[i] + 9;
			i++;
		} else {
			fprintf(stderr, "%s: unknown global option '%s'\n", program, argv[i]);
			usage(stderr, program, commands, ncommands);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr, program, commands, ncommands);
		return 2;
	}
	for (size_t c = 0; c < ncommands; c++) {
		if (strcmp(argv[i], commands[c].name) != 0)
			continue;
		ctx.command = commands[c].name;
		cli_invocation_add(program, true);
		cli_invocation_add(ctx.command, false);
		r = commands[c].run(&ctx, argc - i, argv + i);
		rombsr_config_free(&ctx.cfg);
		if (r < 0) {
			fprintf(stderr, "%s: %s\n", cli_invocation(), rombsr_error_message(r));
			/* A failed verification is told apart from a failure to run. */
			return r == ROMBSR_ESECURITY || r == ROMBSR_EFORK ? 3 : 1;
		}
		return 0;
	}
	fprintf(stderr, "%s: unknown command '%s' (see '%s --help')\n", program, argv[i], program);
	return 2;
}

int cli_run_group(struct cli_context *ctx, const struct cli_command *commands, size_t ncommands, int argc,
		  char **argv)
{
	const char *group = argv[0];

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		FILE *to = argc < 2 ? stderr : stdout;

		fprintf(to, "usage: %s <command> [options]\n\ncommands:\n", cli_invocation());
		for (size_t i = 0; i < ncommands; i++)
			fprintf(to, "    %-22s %s\n", commands[i].name, commands[i].summary);
		if (argc < 2)
			return rombsr_error(ROMBSR_EINVAL, "which %s command? (see '%s --help')", group, cli_invocation());
		return 0;
	}
	for (size_t c = 0; c < ncommands; c++)
		if (strcmp(argv[1], commands[c].name) == 0) {
			cli_invocation_add(argv[1], false);
			return commands[c].run(ctx, argc - 1, argv + 1);
		}
	return rombsr_error(ROMBSR_EINVAL, "unknown %s command '%s' (see '%s --help')", group, argv[1], cli_invocation());
}
