/* rombsr: the command table and the global options. */
#include "cli.h"

#include "../common/error.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#ifndef ROMBSR_VERSION
#define ROMBSR_VERSION "0.1.0"
#endif

static const struct {
	const char *name;
	int (*run)(struct cli_context *ctx, int argc, char **argv);
	const char *summary;
} commands[] = {
	{"hsm-provision", cmd_hsm_provision, "create ROMbsr's SoftHSM2 tokens (embedded default)"},
	{"keygen", cmd_keygen, "generate the release key set and certificates in the HSM"},
	{"keys", cmd_keys, "list the keys in the HSM with fingerprints and validity"},
	{"export-public", cmd_export_public, "write the public bundle for build nodes"},
	{"queue-init", cmd_queue_init, "create a signing queue with its trust file (admin)"},
	{"queue-hook", cmd_queue_hook, "install or run the queue server's pre-receive hook"},
	{"queue-verify", cmd_queue_verify, "verify every commit of a queue clone"},
	{"submit", cmd_submit, "turn capture journals and artifacts into a signing request"},
	{"approve", cmd_approve, "approve a pending request as an operator (dual control)"},
	{"status", cmd_status, "the sign node's view: policy in force, requests waiting for approvals, quotas"},
	{"apply", cmd_apply, "verify a response and replay its signatures into the build"},
	{"audit-verify", cmd_audit_verify, "verify the audit log of a queue clone against the audit key"},
	{"audit-show", cmd_audit_show, "show the verified audit log's entries, by key, request, time or type"},
	{"audit-proof", cmd_audit_proof, "a proof that one signature is in the audit log, checkable without rombsr"},
	{"sign", cmd_sign, "the sign node: answer pending requests (--once) or keep watching (--daemon)"},
};

static void usage(FILE *to)
{
	fprintf(to, "usage: rombsr [--config FILE] <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(to, "    %-16s %s\n", commands[i].name, commands[i].summary);
	fprintf(to, "\n'rombsr <command> --help' shows a command's options.\n"
		    "The configuration is --config FILE, else $ROMBSR_CONFIG, else /etc/rombsr/rombsr.conf.\n");
}

static int run_sign_daemon(int argc, char **argv)
{
	struct cli_context ctx = {.pin_fd = -1, .command = "sign"};
	char *args[8] = {"sign", "--daemon"};
	int n = 2, r;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			ctx.config_path = argv[++i];
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			ctx.config_path = argv[i] + 9;
		} else if (n < 7) {
			args[n++] = argv[i];
		} else {
			fprintf(stderr, "rombsr-sign: too many arguments\n");
			return 2;
		}
	}
	r = cmd_sign(&ctx, n, args);
	rombsr_config_free(&ctx.cfg);
	if (r < 0) {
		fprintf(stderr, "rombsr-sign: %s\n", rombsr_error_message(r));
		return r == ROMBSR_ESECURITY || r == ROMBSR_EFORK ? 3 : 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct cli_context ctx = {.pin_fd = -1};
	const char *base = strrchr(argv[0], '/');
	int i = 1, r;

	/* Installed as rombsr-sign too: the service runs "rombsr sign --daemon". */
	base = base ? base + 1 : argv[0];
	if (strcmp(base, "rombsr-sign") == 0)
		return run_sign_daemon(argc, argv);

	while (i < argc && strncmp(argv[i], "--", 2) == 0) {
		if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("rombsr %s\n", ROMBSR_VERSION);
			return 0;
		}
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			ctx.config_path = argv[i + 1];
			i += 2;
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			ctx.config_path = argv[i] + 9;
			i++;
		} else {
			fprintf(stderr, "rombsr: unknown global option '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		if (strcmp(argv[i], commands[c].name) != 0)
			continue;
		ctx.command = commands[c].name;
		r = commands[c].run(&ctx, argc - i, argv + i);
		rombsr_config_free(&ctx.cfg);
		if (r < 0) {
			fprintf(stderr, "rombsr %s: %s\n", ctx.command, rombsr_error_message(r));
			/* A failed verification is told apart from a failure to run. */
			return r == ROMBSR_ESECURITY || r == ROMBSR_EFORK ? 3 : 1;
		}
		return 0;
	}
	fprintf(stderr, "rombsr: unknown command '%s' (see 'rombsr --help')\n", argv[i]);
	return 2;
}
