/* The queue server's guard: a pre-receive hook that refuses what the sign
 * node would refuse anyway, so a bad push never lands. The sign node does
 * not rely on it: it verifies every commit itself. */
#ifndef ROMBSR_QUEUE_HOOK_H
#define ROMBSR_QUEUE_HOOK_H

#include <stddef.h>
#include <stdio.h>

/* Installs hooks/pre-receive in the bare repository bare_path, running
 * rombsr_exe, with admins pinned in the file rombsr-admins of the
 * repository (one fingerprint a line), and turns on git's own refusal of
 * non-fast-forward updates and deletions. */
int rombsr_hook_install(const char *bare_path, const char *rombsr_exe, char (*admins)[41], size_t nadmins);

/* Runs as pre-receive: reads "<old> <new> <ref>" lines from in, and
 * prints each refusal to err as "refused: <reason>". Returns 0 only if
 * every update is acceptable. */
int rombsr_hook_run(FILE *in, FILE *err);

#endif
