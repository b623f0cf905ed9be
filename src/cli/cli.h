/* The rombsr command line: one file per subcommand (cmd_*.c), each with an
 * option table that drives both parsing and --help. */
#ifndef ROMBSR_CLI_H
#define ROMBSR_CLI_H

#include "../common/config.h"

#include <stdbool.h>
#include <stdio.h>

struct cli_context {
	const char *config_path;   /* --config, or NULL */
	struct rombsr_config cfg;
	bool cfg_loaded;
	const char *command;
	/* PIN source given on the command line; overrides the config's pin-file */
	const char *pin_file;
	int pin_fd;
};

struct cli_option {
	const char *name;       /* long name without "--" */
	const char *arg;        /* NULL for a flag, else the argument's name in --help */
	const char *help;
	int id;                 /* returned by cli_parse for this option */
};

/* Options every command that logs into a token accepts. */
#define CLI_PIN_OPTIONS                                                              \
	{"pin-file", "FILE", "read the token PIN from FILE (mode 0600) instead of the " \
			     "configured pin-file", CLI_OPT_PIN_FILE},                  \
	{"pin-fd", "N", "read the token PIN from file descriptor N", CLI_OPT_PIN_FD}
enum { CLI_OPT_PIN_FILE = 1000, CLI_OPT_PIN_FD };

struct cli_parser {
	const struct cli_option *options;
	int argc;
	char **argv;
	int index;          /* next argv element */
	const char *value;  /* argument of the option just returned */
};

/* How the command being run is spelled ("rombsr-sign wrap-key create"):
 * the prefix of its error message and the command a hint names. Set by
 * cli_run, extended by cli_run_group. */
const char *cli_invocation(void);
void cli_invocation_add(const char *word, bool restart);

void cli_parser_init(struct cli_parser *p, const struct cli_option *options, int argc, char **argv);
/* Returns the next option's id, 0 at the end of options (p->index is then
 * the first operand), or a negative error with a message. --help is
 * answered here (usage on stdout, then exit 0). A PIN or passphrase given
 * as an option value is refused with ROMBSR_EPERM. */
int cli_next(struct cli_parser *p, const char *usage);
void cli_print_usage(FILE *to, const char *command, const char *usage, const struct cli_option *options);

/* Handles the options of CLI_PIN_OPTIONS; returns 0 or an error. */
int cli_take_pin_option(struct cli_context *ctx, int id, const char *value);
int cli_parse_uint(const char *text, unsigned long max, unsigned long *out, const char *what);

/* Loads the configuration once (--config, ROMBSR_CONFIG, default file). */
int cli_config(struct cli_context *ctx, const struct rombsr_config **cfg);

/* --authority NAME|all: which authorities a command works on. */
int cli_authority_filter(const char *name, bool selected[ROMBSR_AUTHORITY_COUNT]);

/* Progress on stderr, so stdout stays machine-readable. */
void cli_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int cmd_queue_init(struct cli_context *ctx, int argc, char **argv);
int cmd_queue_hook(struct cli_context *ctx, int argc, char **argv);
int cmd_queue_verify(struct cli_context *ctx, int argc, char **argv);
int cmd_submit(struct cli_context *ctx, int argc, char **argv);
int cmd_approve(struct cli_context *ctx, int argc, char **argv);
int cmd_apply(struct cli_context *ctx, int argc, char **argv);
int cmd_audit_verify(struct cli_context *ctx, int argc, char **argv);
int cmd_audit_show(struct cli_context *ctx, int argc, char **argv);
int cmd_audit_proof(struct cli_context *ctx, int argc, char **argv);
int cmd_audit_find(struct cli_context *ctx, int argc, char **argv);
int cmd_audit_anomalies(struct cli_context *ctx, int argc, char **argv);
int cmd_rom_sign(struct cli_context *ctx, int argc, char **argv);
int cmd_freeze(struct cli_context *ctx, int argc, char **argv);
int cmd_thaw(struct cli_context *ctx, int argc, char **argv);
/* avb, ota, manifest: run by rombsr-artifact (cmd_artifact.c). */
int cmd_artifact(struct cli_context *ctx, int argc, char **argv);

/* One command of a program's table. */
struct cli_command {
	const char *name;
	int (*run)(struct cli_context *ctx, int argc, char **argv);
	const char *summary;
};

/* A program's main: global options (--config, --help, --version), then
 * the command; prints "<program> <command>: <message>" on failure. Exit
 * status: 0, 1 (failure), 2 (usage), 3 (a failed security check). */
int cli_run(const char *program, const struct cli_command *commands, size_t ncommands, int argc, char **argv);
/* A command made of commands ("avb make-vbmeta"): argv[0] is the group,
 * argv[1] the command, run with argv + 1. */
int cli_run_group(struct cli_context *ctx, const struct cli_command *commands, size_t ncommands, int argc,
		  char **argv);

#endif
