#include "zip.h"

#include "../common/error.h"

#include <string.h>

#define EOCD_MAGIC 0x06054b50u
#define CENTRAL_MAGIC 0x02014b50u
#define ZIP64_LOCATOR_MAGIC 0x07064b50u
#define ZIP64_EOCD_MAGIC 0x06064b50u
#define ZIP64_LOCATOR_SIZE 20

static unsigned le16(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v & 0xff);
	p[1] = (unsigned char)(v >> 8);
}

/* The first offset in [from, to) where the EOCD magic starts, or to. */
static size_t find_magic(const unsigned char *zip, size_t from, size_t to)
{
	for (size_t i = from; i + 4 <= to; i++)
		if (le32(zip + i) == EOCD_MAGIC)
			return i;
	return to;
}

/* A record that zip readers would all read the same way: one disk, the
 * central directory right before the record (or a zip64 locator there).
 * The reason goes to why. */
static const char *eocd_inconsistent(const unsigned char *zip, size_t eocd)
{
	const unsigned char *e = zip + eocd;
	unsigned disk = le16(e + 4), cd_disk = le16(e + 6), here = le16(e + 8), total = le16(e + 10);
	uint32_t cd_size = le32(e + 12), cd_offset = le32(e + 16);
	size_t loc;

	if (here == 0xffff || total == 0xffff || cd_size == UINT32_MAX || cd_offset == UINT32_MAX) {
		/* zip64: the real values are in the zip64 record the locator names. */
		if (eocd < ZIP64_LOCATOR_SIZE || le32(e - ZIP64_LOCATOR_SIZE) != ZIP64_LOCATOR_MAGIC)
			return "zip64 values without a zip64 locator before the record";
		loc = eocd - ZIP64_LOCATOR_SIZE;
		uint64_t z64 = le32(zip + loc + 8) | (uint64_t)le32(zip + loc + 12) << 32;
		if (z64 > loc || loc - z64 < 4 || le32(zip + z64) != ZIP64_EOCD_MAGIC)
			return "the zip64 locator names no zip64 record";
		return NULL;
	}
	if (disk != 0 || cd_disk != 0)
		return "it names another disk (split archives are not OTA packages)";
	if (here != total)
		return "its entry counts differ";
	if ((uint64_t)cd_offset + cd_size != eocd)
		return "the central directory does not end where the record starts";
	if ((total == 0) != (cd_size == 0))
		return "its entry count and central directory size disagree";
	if (total > 0 && le32(zip + cd_offset) != CENTRAL_MAGIC)
		return "no central directory entry where it says the directory starts";
	return NULL;
}

int rombsr_ota_unsigned_eocd(const unsigned char *zip, size_t len, size_t *eocd)
{
	size_t from, found = 0, count = 0;
	const char *why;

	if (len < ROMBSR_OTA_EOCD_SIZE)
		return rombsr_error(ROMBSR_EINVAL, "not a zip file: %zu bytes, shorter than an end of central "
					       "directory record", len);
	from = len > ROMBSR_OTA_EOCD_SIZE + ROMBSR_OTA_COMMENT_MAX ? len - ROMBSR_OTA_EOCD_SIZE -
		ROMBSR_OTA_COMMENT_MAX : 0;
	/* Every place a zip reader could take for the record: the magic, with
	 * a comment length that reaches the end of the file exactly. */
	for (size_t i = find_magic(zip, from, len); i + ROMBSR_OTA_EOCD_SIZE <= len;
	     i = find_magic(zip, i + 1, len)) {
		if (i + ROMBSR_OTA_EOCD_SIZE + le16(zip + i + ROMBSR_OTA_EOCD_COMMENT_LEN) == len) {
			found = i;
			count++;
		}
	}
	if (count == 0)
		return rombsr_error(ROMBSR_EINVAL, "not a zip file: no end of central directory record ends it");
	if (count > 1)
		return rombsr_error(ROMBSR_EINVAL, "%zu end of central directory records end the file: "
					       "zip readers would disagree on its content", count);
	if (found + ROMBSR_OTA_EOCD_SIZE != len)
		return rombsr_error(ROMBSR_EINVAL, "the zip has a comment of %zu bytes (signed already?): "
					       "only a zip without a comment can be signed",
				    len - found - ROMBSR_OTA_EOCD_SIZE);
	why = eocd_inconsistent(zip, found);
	if (why != NULL)
		return rombsr_error(ROMBSR_EINVAL, "not a zip file recovery can read: end of central directory "
					       "record at offset %zu: %s", found, why);
	*eocd = found;
	return 0;
}

int rombsr_ota_append_signature(struct rombsr_buf *zip, size_t eocd, const unsigned char *cms,
	size_t cms_len)
{
	static const unsigned char marker[2] = {0xff, 0xff};
	struct rombsr_ota_layout l;
	size_t total, start, at;
	unsigned char field[2];
	int r;

	if (eocd + ROMBSR_OTA_EOCD_SIZE != zip->len)
		return rombsr_error(ROMBSR_EINTERNAL, "append_signature: not an unsigned zip's record");
	total = ROMBSR_OTA_SIGNED_BY_SIZE + cms_len + ROMBSR_OTA_FOOTER_SIZE;
	if (total > ROMBSR_OTA_COMMENT_MAX)
		return rombsr_error(ROMBSR_EINVAL, "a signature block of %zu bytes makes a zip comment of %zu "
					       "bytes, more than 65535", cms_len, total);
	start = total - ROMBSR_OTA_SIGNED_BY_SIZE;
	zip->len = eocd + ROMBSR_OTA_EOCD_COMMENT_LEN;
	put16(field, (unsigned)total);
	rombsr_buf_append(zip, field, 2);
	rombsr_buf_append(zip, ROMBSR_OTA_SIGNED_BY, ROMBSR_OTA_SIGNED_BY_SIZE);
	rombsr_buf_append(zip, cms, cms_len);
	put16(field, (unsigned)start);
	rombsr_buf_append(zip, field, 2);
	rombsr_buf_append(zip, marker, 2);
	put16(field, (unsigned)total);
	rombsr_buf_append(zip, field, 2);
	r = rombsr_buf_check(zip, "signed package");
	if (r < 0)
		return r;
	/* RSA PKCS#1 v1.5 is deterministic: the same package always gets the
	 * same signature, so only a change to the package gets past this. */
	at = find_magic(zip->data, eocd + 4, zip->len);
	if (at != zip->len)
		return rombsr_error(ROMBSR_EINVAL, "the signature block holds the end of central directory magic "
					       "(comment offset %zu), which recovery refuses; change any byte of the "
					       "package and sign again", at - eocd - ROMBSR_OTA_EOCD_SIZE);
	r = rombsr_ota_layout_parse(zip->data, zip->len, &l);
	if (r == 0 && (l.cms != eocd + ROMBSR_OTA_EOCD_SIZE + ROMBSR_OTA_SIGNED_BY_SIZE || l.cms_len != cms_len))
		r = rombsr_error(ROMBSR_ESECURITY, "the CMS is not where it was put");
	if (r < 0)
		return rombsr_error_wrap_as(r, ROMBSR_EINTERNAL, "the package just signed fails its own check");
	return 0;
}

int rombsr_ota_layout_parse(const unsigned char *zip, size_t len, struct rombsr_ota_layout *out)
{
	const unsigned char *footer;
	size_t comment, start, eocd, at;
	const char *why;

	if (len < ROMBSR_OTA_EOCD_SIZE + ROMBSR_OTA_FOOTER_SIZE)
		return rombsr_error(ROMBSR_ESECURITY, "no whole-file signature: %zu bytes are too few for a "
						  "signed zip", len);
	footer = zip + len - ROMBSR_OTA_FOOTER_SIZE;
	if (footer[2] != 0xff || footer[3] != 0xff)
		return rombsr_error(ROMBSR_ESECURITY, "no whole-file signature: the footer's marker is %02x %02x, "
						  "not ff ff", footer[2], footer[3]);
	start = le16(footer);
	comment = le16(footer + 4);
	if (start > comment)
		return rombsr_error(ROMBSR_ESECURITY, "bad whole-file signature footer: the signature starts %zu "
						  "bytes from the end, outside the %zu-byte comment", start, comment);
	if (start <= ROMBSR_OTA_FOOTER_SIZE)
		return rombsr_error(ROMBSR_ESECURITY, "bad whole-file signature footer: the signature start (%zu) "
						  "lies in the footer", start);
	if (len < comment + ROMBSR_OTA_EOCD_SIZE)
		return rombsr_error(ROMBSR_ESECURITY, "bad whole-file signature footer: a %zu-byte comment does "
						  "not fit in a %zu-byte file", comment, len);
	eocd = len - comment - ROMBSR_OTA_EOCD_SIZE;
	if (le32(zip + eocd) != EOCD_MAGIC)
		return rombsr_error(ROMBSR_ESECURITY, "no end of central directory record where the footer's "
						  "comment size (%zu) puts it (offset %zu)", comment, eocd);
	at = find_magic(zip, eocd + 4, len);
	if (at != len)
		return rombsr_error(ROMBSR_ESECURITY, "the end of central directory magic occurs again at offset "
						  "%zu, after the record at %zu", at, eocd);
	if (le16(zip + eocd + ROMBSR_OTA_EOCD_COMMENT_LEN) != comment)
		return rombsr_error(ROMBSR_ESECURITY, "the end of central directory record's comment length (%u) "
						  "differs from the footer's (%zu)", le16(zip + eocd + ROMBSR_OTA_EOCD_COMMENT_LEN),
				    comment);
	why = eocd_inconsistent(zip, eocd);
	if (why != NULL)
		return rombsr_error(ROMBSR_ESECURITY, "end of central directory record at offset %zu: %s", eocd,
				    why);
	out->eocd = eocd;
	out->signed_len = eocd + ROMBSR_OTA_EOCD_COMMENT_LEN;
	out->comment_len = comment;
	out->cms = len - start;
	out->cms_len = start - ROMBSR_OTA_FOOTER_SIZE;
	return 0;
}
