/* rombsr audit-find --artifact FILE: binary transparency. Which entries of
 * the verified audit log sign this released file? The file's digests are
 * computed the ways a signature can cover it — the SHA-256 of the whole
 * file; for an AVB vbmeta image or a partition with an AVB footer, the
 * hash its vbmeta signature covers; for a signed OTA package, the hash of
 * what its whole-file signature covers — and every signature or understood
 * entry with one of them is shown. Exit 1 when none is found.
 * docs/audit-log.md, "rombsr audit-find". */
#include "audit_clone.h"
#include "audit_filter.h"
#include "cli.h"

#include "../avb/partition.h"
#include "../ota/zip.h"
#include "../avb/vbmeta.h"
#include "../common/apk_file.h"
#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/hex.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

enum { OPT_REPO = 1, OPT_VKEY, OPT_ARTIFACT, OPT_JSON };

static const struct cli_option options[] = {
	{"artifact", "FILE", "the released file: an APK, OTA package, vbmeta image or partition image (required)",
	 OPT_ARTIFACT},
	{"repo", "PATH", "read this clone of the queue instead of fetching queue.url", OPT_REPO},
	{"vkey", "FILE", "the audit verifier key (default: audit.vkey from the configuration)", OPT_VKEY},
	{"json", NULL, "print each entry as its canonical JSON line", OPT_JSON},
	{NULL, NULL, NULL, 0},
};

static const char usage[] = "audit-find --artifact FILE [--repo PATH] [--vkey FILE] [--json]";

struct digests {
	char hex[AUDIT_FILTER_MAX_DIGESTS][2 * ROMBSR_AVB_MAX_DIGEST + 1];
	size_t n;
};

/* An APK's v2/v3 signers: the hash of each one's signed data (what the
 * HSM signed: signature and understood entries) and the content digest
 * of the file (understood entries). A content digest other than the one
 * its signer signed is said: the file is not what was signed. */
static int apk_digests(const char *path, const struct rombsr_buf *zip, struct digests *d)
{
	struct rombsr_apk_signers s;
	int r = rombsr_apk_signers_read(zip->data, zip->len, &s);

	if (r < 0)
		return rombsr_error_wrap(r, "%s", path);
	for (size_t i = 0; i < s.n && d->n + 2 <= AUDIT_FILTER_MAX_DIGESTS; i++) {
		snprintf(d->hex[d->n++], sizeof(d->hex[0]), "%s", s.signer[i].signed_data_digest);
		if (s.signer[i].content_digest[0] != '\0')
			snprintf(d->hex[d->n++], sizeof(d->hex[0]), "%s", s.signer[i].content_digest);
		if (s.signer[i].content_digest[0] != '\0' && !s.signer[i].content_matches)
			cli_info("rombsr audit-find: %s: its contents are not what its v%u signer signed "
				 "(apksigner verify fails on it)", path, s.signer[i].scheme);
		if (i + 1 < s.n && d->n + 2 > AUDIT_FILTER_MAX_DIGESTS)
			cli_info("rombsr audit-find: %s: only its first %zu signers of %zu are looked for", path,
				 i + 1, s.n);
	}
	return 0;
}

/* A zip: a signed OTA package's whole-file signature covers the zip up to
 * its comment's length field (docs/ota.md): that part's SHA-256, when the
 * file ends in the signature footer; and an APK's signers. */
static int zip_digests(const char *path, uint64_t size, struct digests *d)
{
	struct rombsr_ota_layout layout;
	struct rombsr_buf zip;
	unsigned char md[32];
	int r;

	if (size < ROMBSR_OTA_EOCD_SIZE || size > ROMBSR_OTA_MAX_SIZE)
		return 0;
	r = rombsr_file_read(path, ROMBSR_OTA_MAX_SIZE, &zip);
	if (r < 0)
		return r;
	if (size >= ROMBSR_OTA_EOCD_SIZE + ROMBSR_OTA_FOOTER_SIZE && zip.data[zip.len - 4] == 0xff &&
	    zip.data[zip.len - 3] == 0xff && rombsr_ota_layout_parse(zip.data, zip.len, &layout) == 0) {
		SHA256(zip.data, layout.signed_len, md);
		rombsr_hex_encode(md, sizeof(md), d->hex[d->n++]);
	}
	rombsr_error_clear(); /* a zip that is not a signed package is not an error here */
	r = apk_digests(path, &zip, d);
	rombsr_buf_free(&zip);
	return r;
}

/* The hash a vbmeta signature covers, when the file is a vbmeta image or
 * carries one in its footer; nothing otherwise (not an error: most
 * artifacts are neither). */
static int vbmeta_digest(const char *path, struct digests *d)
{
	struct rombsr_avb_partition part;
	struct rombsr_buf image = {0};
	struct rombsr_avb_image img;
	unsigned char md[ROMBSR_AVB_MAX_DIGEST], magic[4];
	size_t len;
	int r = rombsr_avb_partition_open(path, false, &part);

	if (r < 0)
		return r;
	if (part.has_footer)
		r = rombsr_avb_partition_read_vbmeta(&part, &image);
	else if (part.file_size >= ROMBSR_AVB_HEADER_SIZE && rombsr_avb_partition_read(&part, magic, 4, 0) == 0 &&
		 memcmp(magic, "AVB0", 4) == 0)
		r = rombsr_file_read(path, ROMBSR_AVB_MAX_VBMETA_SIZE * 16, &image);
	rombsr_avb_partition_close(&part);
	if (r < 0 || image.data == NULL) {
		rombsr_buf_free(&image);
		return r;
	}
	r = rombsr_avb_image_parse(image.data, image.len, &img);
	if (r == 0 && img.alg->hash_size > 0 && (r = rombsr_avb_image_digest(&img, md, &len)) == 0)
		rombsr_hex_encode(md, len, d->hex[d->n++]);
	rombsr_buf_free(&image);
	return r < 0 ? rombsr_error_wrap(r, "%s", path) : 0;
}

int cmd_audit_find(struct cli_context *ctx, int argc, char **argv)
{
	const char *repo_path = NULL, *vkey = NULL, *artifact = NULL;
	struct audit_filter f = {.until = UINT64_MAX};
	struct digests d = {.n = 0};
	struct audit_clone ac;
	struct cli_parser p;
	unsigned char md[32];
	uint64_t size, vouched, shown = 0;
	int id, r;

	cli_parser_init(&p, options, argc, argv);
	while ((id = cli_next(&p, usage)) > 0) {
		if (id == OPT_REPO)
			repo_path = p.value;
		else if (id == OPT_VKEY)
			vkey = p.value;
		else if (id == OPT_ARTIFACT)
			artifact = p.value;
		else if (id == OPT_JSON)
			f.json = true;
	}
	if (id < 0)
		return id;
	if (artifact == NULL || p.index != argc)
		return rombsr_error(ROMBSR_EINVAL, "usage: %s", usage);
	r = rombsr_file_sha256(artifact, md, &size);
	if (r < 0)
		return r;
	rombsr_hex_encode(md, sizeof(md), d.hex[d.n++]);
	r = vbmeta_digest(artifact, &d);
	if (r == 0)
		r = zip_digests(artifact, size, &d);
	if (r < 0)
		return r;
	for (size_t i = 0; i < d.n; i++)
		f.digests[f.ndigests++] = d.hex[i];
	r = audit_clone_open_verified(ctx, repo_path, vkey, &ac);
	if (r < 0)
		return r;
	vouched = audit_clone_vouched(&ac);
	r = audit_show(&ac, &f, vouched, &shown);
	audit_clone_close(&ac);
	if (r == 0 && shown == 0)
		return rombsr_error(ROMBSR_ENOTFOUND, "no entry of the verified audit log (%llu entries) signs %s "
						      "(looked for %s%s%s)", (unsigned long long)vouched, artifact,
				    d.hex[0], d.n > 1 ? " and " : "", d.n > 1 ? d.hex[1] : "");
	if (r == 0)
		cli_info("rombsr audit-find: %llu entries of the verified log sign %s", (unsigned long long)shown,
			 artifact);
	return r;
}
