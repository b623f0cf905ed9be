/* A result folder that appears whole or not at all (CONTRIBUTING.md,
 * "Files"): built as "<out>.tmp-XXXXXX" beside out, renamed to out when
 * complete, and removed on any failure. */
#ifndef ROMBSR_NODE_OUTDIR_H
#define ROMBSR_NODE_OUTDIR_H

/* Creates the scratch folder (mode 0700); *scratch is malloc'd. */
int outdir_begin(const char *out, char **scratch);
/* Renames *scratch to out, never over an existing out, and forgets it. */
int outdir_finish(char **scratch, const char *out);
/* Removes *scratch if still set, keeping the caller's error message. */
void outdir_discard(char **scratch);

#endif
