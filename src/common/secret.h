/* PINs and passphrases come from a file, a file descriptor or a prompt,
 * never from argv or the environment (both are readable by other users of
 * the machine through /proc and end up in logs). */
#ifndef ROMBSR_SECRET_H
#define ROMBSR_SECRET_H

#include "buf.h"

#define ROMBSR_SECRET_MAX 256

/* Each fills out (initialized here) with the secret as a NUL-terminated
 * string without its trailing newline; the caller frees with
 * rombsr_buf_free(), which wipes it. */

/* Refuses a file that group or others may read, like OpenSSH does for keys. */
int rombsr_secret_from_file(const char *path, struct rombsr_buf *out);
int rombsr_secret_from_fd(int fd, struct rombsr_buf *out);
/* Reads from the controlling terminal with echo off. */
int rombsr_secret_prompt(const char *prompt, struct rombsr_buf *out);

/* Creates a random secret of n hex digits (n <= 64) into out. */
int rombsr_secret_random_hex(size_t n, struct rombsr_buf *out);

#endif
