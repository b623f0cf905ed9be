/* Shamir shares of the wrap key in ROMbsr's share format v1
 * (docs/formats/wrap-key-share.md). The GF(256) arithmetic is libgfshare's;
 * this adds what its shares lack: a version, the secret's ID, the
 * threshold and count, the share's index, an integrity check over the
 * whole share, and a check value of the secret so that a combination that
 * yields another secret is caught. */
#ifndef ROMBSR_NODE_SHARE_H
#define ROMBSR_NODE_SHARE_H

#include <stddef.h>

#define SHARE_SECRET_LEN 32
#define SHARE_ID_LEN 16
#define SHARE_MAX 255
/* A share's text is about 340 bytes; anything longer is not a share. */
#define SHARE_TEXT_MAX 1024

struct wrap_share {
	unsigned char secret_id[SHARE_ID_LEN];
	unsigned threshold;
	unsigned count;
	unsigned index;  /* 1..count: libgfshare's share number, gfcombine's .NNN */
	unsigned char check[32];
	unsigned char y[SHARE_SECRET_LEN];
};

/* SHA-256("rombsr wrap-key check v1" NUL || secret ID || secret). */
int share_check_value(const unsigned char id[SHARE_ID_LEN], const unsigned char secret[SHARE_SECRET_LEN],
		      unsigned char out[32]);

/* Splits secret into count shares (out[0..count-1], in locked memory),
 * any threshold of which rebuild it. */
int share_split(const unsigned char secret[SHARE_SECRET_LEN], const unsigned char id[SHARE_ID_LEN],
		unsigned threshold, unsigned count, struct wrap_share *out);

/* The share's text (v1) into out (SHARE_TEXT_MAX bytes); *len its length. */
int share_format(const struct wrap_share *s, char *out, size_t *len);

/* Parses and checks one share's text; name (the share's file) is in every
 * message. */
int share_parse(const char *name, const char *text, size_t len, struct wrap_share *s);

/* Rebuilds the secret from n parsed shares, refusing, by name: shares of
 * two splits, the same share twice, fewer than the threshold, and a
 * combination whose result does not match the check value. */
int share_combine(const struct wrap_share *shares, const char *const *names, size_t n,
		  unsigned char secret[SHARE_SECRET_LEN]);

#endif
