/* Freezing and thawing the sign node through the queue (rombsr freeze,
 * rombsr thaw; docs/incident-response.md): an admin commits
 * incident/freeze.json (docs/formats/incident.md) with the state it
 * wants, signed with its own key, and pushes. Stopping signing takes no
 * shell on the sign node: the node reads the record at every pass. */
#ifndef ROMBSR_CLI_FREEZE_COMMIT_H
#define ROMBSR_CLI_FREEZE_COMMIT_H

#include "cli.h"

#include <stdbool.h>

/* The id of the --reason option in the commands' option tables. */
enum { FREEZE_OPT_REASON = 1 };

/* Runs rombsr freeze (frozen) or rombsr thaw: parses options (--reason
 * TEXT, required when default_reason is NULL), then commits the state.
 * Refuses, before anything is committed, a key that is not a pinned admin
 * (queue.admin), a freeze of a frozen queue and a thaw of one that is not
 * frozen. */
int freeze_command(struct cli_context *ctx, const struct cli_option *options, const char *usage, int argc,
		   char **argv, bool frozen, const char *default_reason);

#endif
