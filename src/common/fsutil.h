#ifndef ROMBSR_FSUTIL_H
#define ROMBSR_FSUTIL_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Appends what fd holds, up to its end, to out; stops early once out has
 * failed (its cap: rombsr_buf_check() then says so). The one read loop of
 * src/common: what it reads passes through a wiped buffer, as it may be a
 * PIN. source names fd in messages. */
int rombsr_fd_read(int fd, const char *source, struct rombsr_buf *out);

/* Reads a whole regular file of at most max bytes into out (initialized
 * here). */
int rombsr_file_read(const char *path, size_t max, struct rombsr_buf *out);

/* Writes path so that a reader sees either the old file or the whole new
 * one, never a part: temporary file in the same folder, fsync, rename, fsync
 * of the folder. With exclusive, an existing path is an error (ROMBSR_EEXISTS)
 * and is never replaced. */
int rombsr_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
			     bool exclusive);

/* Creates path and missing parents with mode (existing folders are kept as
 * they are). */
int rombsr_mkdir_p(const char *path, mode_t mode);

/* fsyncs a folder so that a rename or create inside it is durable. */
int rombsr_fsync_dir(const char *path);

bool rombsr_path_exists(const char *path);

/* snprintf into a fixed-size path buffer: a path that does not fit is an
 * error (ROMBSR_EINVAL), never a shorter path that names another file. */
int rombsr_path_format(char *out, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* write(2) until all of len is written, retrying on EINTR; -1 with errno
 * on failure. */
int rombsr_write_all(int fd, const void *data, size_t len);
/* Appends one record (a line) to fd, opened O_APPEND, whole or not at all:
 * a write that fails part-way is cut back, so that the next record starts
 * on a line of its own instead of running into the torn one. what names
 * the file in the ROMBSR_EIO message. */
int rombsr_append_whole(int fd, const void *data, size_t len, const char *what);

/* SHA-256 and size of a file, read in chunks (artifacts can be large). */
int rombsr_file_sha256(const char *path, unsigned char md[32], uint64_t *size);

/* Removes a folder tree we created ourselves (used to undo half-finished
 * work); does not follow symlinks. */
int rombsr_remove_tree(const char *path);

#endif
