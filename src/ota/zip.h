/* The whole-file signature of an OTA package as `signapk -w` lays it out and
 * recovery checks it (docs/ota.md): the zip's comment is "signed by SignApk",
 * a NUL, a DER CMS SignedData over every byte of the file before the EOCD
 * record's comment-length field, and a 6-byte footer that says where the CMS
 * starts and how long the comment is. These functions find the parts; they
 * never trust a length before checking it against the file. */
#ifndef ROMBSR_OTA_ZIP_H
#define ROMBSR_OTA_ZIP_H

#include "../common/buf.h"

#include <stddef.h>
#include <stdint.h>

#define ROMBSR_OTA_EOCD_SIZE 22
#define ROMBSR_OTA_FOOTER_SIZE 6
/* The EOCD record's comment-length field, where the signed bytes end. */
#define ROMBSR_OTA_EOCD_COMMENT_LEN 20
#define ROMBSR_OTA_COMMENT_MAX 65535
/* The comment's opening, NUL included. */
#define ROMBSR_OTA_SIGNED_BY "signed by SignApk"
#define ROMBSR_OTA_SIGNED_BY_SIZE (sizeof(ROMBSR_OTA_SIGNED_BY))
/* Packages are read whole into memory; a zip without zip64 ends before 4 GiB. */
#define ROMBSR_OTA_MAX_SIZE ((size_t)UINT32_MAX)

/* Where the parts of a signed package lie (offsets from its start). */
struct rombsr_ota_layout {
	size_t eocd;        /* the end of central directory record */
	size_t signed_len;  /* bytes the signature covers: eocd + 20 */
	size_t comment_len; /* the zip comment, footer included */
	size_t cms;         /* the DER CMS SignedData */
	size_t cms_len;
};

/* The EOCD record of a zip that may be signed: exactly one EOCD record
 * that ends the file, a consistent one, and an empty comment. ROMBSR_EINVAL
 * naming what is wrong. */
int rombsr_ota_unsigned_eocd(const unsigned char *zip, size_t len, size_t *eocd);

/* Turns the unsigned zip in zip (its EOCD record at eocd, as found above)
 * into the signed package: sets the comment length and appends the comment
 * holding cms. ROMBSR_EINVAL if the comment would not fit in 65535 bytes or
 * would hold the EOCD magic (recovery refuses both); zip is then unusable. */
int rombsr_ota_append_signature(struct rombsr_buf *zip, size_t eocd, const unsigned char *cms,
	size_t cms_len);

/* Recovery's checks of a signed package: the footer's ff ff marker, a
 * signature start inside the comment and outside the footer, the EOCD
 * record where the comment size puts it and its magic nowhere after it;
 * and ours: the record's comment length equals the footer's and the record
 * is consistent. ROMBSR_ESECURITY naming the failed check: a package that
 * fails carries no signature recovery would accept. */
int rombsr_ota_layout_parse(const unsigned char *zip, size_t len, struct rombsr_ota_layout *out);

#endif
