/* rombsr export-public: the public bundle build nodes receive (format in
 * docs/public-bundle.md). Written into a scratch folder and renamed into
 * place, so a reader sees a whole bundle or none. */
#define _GNU_SOURCE
#include "node.h"
#include "inventory.h"

#include "../audit/checkpoint.h"
#include "../common/bundle.h"
#include "../common/error.h"
#include "../common/fsutil.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define BUNDLE_FORMAT "rombsr.public-bundle"
#define BUNDLE_VERSION 1
/* A retired key's purpose in the bundle (docs/public-bundle.md). */
#define RETIRED_PURPOSE "retired by hsm-rotate-keys: signs only the APK signing-certificate lineage to its successor"

enum { OPT_OUT = 1, OPT_FORCE };

static const struct cli_option options[] = {
	{"out", "DIR", "folder to create with the bundle (required)", OPT_OUT},
	{"force", NULL, "replace DIR if it exists", OPT_FORCE},
	CLI_PIN_OPTIONS,
	{NULL, NULL, NULL, 0},
};

static int write_certificate(const char *dir, const struct inventory_key *k, char sha256_hex[65])
{
	char path[4096], file[ROMBSR_KEYSET_LABEL_MAX + 1];
	unsigned char *der = NULL, md[32];
	BIO *mem = BIO_new(BIO_s_mem());
	char *pem;
	long pem_len;
	int der_len, r;

	if (mem == NULL || PEM_write_bio_X509(mem, k->certificate) != 1) {
		BIO_free(mem);
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "%s: cannot write PEM", k->label);
	}
	pem_len = BIO_get_mem_data(mem, &pem);
	rombsr_keyset_label_file(k->label, file);
	r = rombsr_path_format(path, sizeof(path), "%s/certs/%s.pem", dir, file);
	if (r == 0)
		r = rombsr_file_write_atomic(path, pem, (size_t)pem_len, 0644, true);
	BIO_free(mem);
	if (r < 0)
		return r;
	der_len = i2d_X509(k->certificate, &der);
	if (der_len <= 0 || EVP_Digest(der, (size_t)der_len, md, NULL, EVP_sha256(), NULL) != 1) {
		OPENSSL_free(der);
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "%s: cannot hash the certificate", k->label);
	}
	OPENSSL_free(der);
	for (size_t i = 0; i < sizeof(md); i++)
		snprintf(sha256_hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

static int describe_key(const char *dir, const struct inventory_key *k, json_t *keys)
{
	char cert_sha256[65], not_before[32], not_after[32], cert_name[128], file[ROMBSR_KEYSET_LABEL_MAX + 1];
	json_t *o;
	int r;

	if (!k->present || k->certificate == NULL)
		return rombsr_error(ROMBSR_ENOTFOUND, "key '%s' %s: run 'rombsr-sign keygen' first", k->label,
				    k->present ? "has no certificate" : "is missing");
	r = write_certificate(dir, k, cert_sha256);
	if (r == 0)
		r = inventory_time(X509_get0_notBefore(k->certificate), not_before);
	if (r == 0)
		r = inventory_time(X509_get0_notAfter(k->certificate), not_after);
	if (r < 0)
		return r;
	rombsr_keyset_label_file(k->label, file);
	r = rombsr_path_format(cert_name, sizeof(cert_name), "certs/%s.pem", file);
	if (r < 0)
		return r;
	o = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:s}",
		      "label", k->label,
		      "authority", rombsr_authority_name(k->entry->authority),
		      "algorithm", rombsr_bundle_algorithm_name(k->entry->kind),
		      "bits", (int)k->bits,
		      "pkcs11_id", k->id_hex,
		      "spki_sha256", k->spki_sha256,
		      "certificate", cert_name,
		      "certificate_sha256", cert_sha256,
		      "development", k->entry->development,
		      "purpose", k->retired ? RETIRED_PURPOSE : k->entry->purpose,
		      "not_before", not_before,
		      "not_after", not_after);
	if (o == NULL || json_array_append_new(keys, o) != 0)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	return 0;
}

/* The audit key signs checkpoints, never anything a build asks for, so it
 * is not in the bundle's key list (the capture module would offer it); its
 * verifier key is published beside it for auditors. */
static int write_audit_vkey(const char *dir, const char *origin, const struct inventory_key *k)
{
	unsigned char *spki = NULL;
	struct rombsr_buf vkey;
	char path[4096];
	int len, r;

	if (!k->present || k->certificate == NULL)
		return rombsr_error(ROMBSR_ENOTFOUND, "key 'audit' %s: run 'rombsr-sign keygen' first",
				    k->present ? "has no certificate" : "is missing");
	len = i2d_PUBKEY(X509_get0_pubkey(k->certificate), &spki);
	if (len <= 0)
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "cannot encode the audit key");
	r = rombsr_note_vkey_format(origin, spki, (size_t)len, &vkey);
	OPENSSL_free(spki);
	if (r == 0) {
		rombsr_buf_append(&vkey, "\n", 1);
		r = rombsr_buf_check(&vkey, "audit.vkey");
	}
	if (r == 0)
		r = rombsr_path_format(path, sizeof(path), "%s/audit.vkey", dir);
	if (r == 0)
		r = rombsr_file_write_atomic(path, vkey.data, vkey.len, 0644, true);
	rombsr_buf_free(&vkey);
	return r;
}

static int write_bundle(const char *dir, const char *origin, const struct inventory *inv)
{
	char created[32], path[4096];
	time_t now = time(NULL);
	json_t *root, *keys = json_array();
	char *text = NULL;
	int r = 0;

	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	r = rombsr_path_format(path, sizeof(path), "%s/certs", dir);
	if (r == 0)
		r = rombsr_mkdir_p(path, 0755);
	for (size_t i = 0; i < inv->len && r == 0; i++) {
		if (inv->keys[i].entry->authority == ROMBSR_AUTHORITY_AUDIT && inv->keys[i].retired)
			continue; /* hsm-rotate-keys leaves the audit key alone; a stray one is not published */
		if (inv->keys[i].entry->authority == ROMBSR_AUTHORITY_AUDIT)
			r = write_audit_vkey(dir, origin, &inv->keys[i]);
		else
			r = describe_key(dir, &inv->keys[i], keys);
	}
	if (r < 0) {
		json_decref(keys);
		return r;
	}
	root = json_pack("{s:s, s:i, s:s, s:o}", "format", BUNDLE_FORMAT, "version", BUNDLE_VERSION, "created",
			 created, "keys", keys);
	if (root != NULL)
		text = json_dumps(root, JSON_INDENT(2));
	json_decref(root);
	if (text == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "cannot encode manifest.json");
	r = rombsr_path_format(path, sizeof(path), "%s/manifest.json", dir);
	if (r == 0)
		r = rombsr_file_write_atomic(path, text, strlen(text), 0644, true);
	free(text);
	return r;
}

static int publish(const char *scratch, const char *out, bool force)
{
	char old[4096];
	int r = 0;

	if (rombsr_path_exists(out)) {
		if (!force)
			return rombsr_error(ROMBSR_EEXISTS, "%s exists; pass --force to replace it", out);
		r = rombsr_path_format(old, sizeof(old), "%s.old", scratch);
		if (r < 0)
			return r;
		if (rename(out, old) != 0)
			return rombsr_error(ROMBSR_EIO, "cannot move the old bundle %s aside", out);
		if (rename(scratch, out) != 0) {
			rename(old, out);
			return rombsr_error(ROMBSR_EIO, "cannot move the bundle to %s", out);
		}
		r = rombsr_remove_tree(old);
	} else if (rename(scratch, out) != 0) {
		r = rombsr_error(ROMBSR_EIO, "cannot move the bundle to %s", out);
	}
	return r;
}

int cmd_export_public(struct cli_context *ctx, int argc, char **argv)
{
	bool selected[ROMBSR_AUTHORITY_COUNT];
	const char *out = NULL;
	bool force = false;
	char *scratch = NULL;
	struct inventory inv = {0};
	struct cli_parser p;
	int id, r = 0;

	cli_parser_init(&p, options, argc, argv);
	while ((id = cli_next(&p, "--out DIR [--force]")) > 0) {
		if (id == OPT_OUT)
			out = p.value;
		else if (id == OPT_FORCE)
			force = true;
		else if ((r = cli_take_pin_option(ctx, id, p.value)) < 0)
			return r;
	}
	if (id < 0)
		return id;
	if (p.index != argc)
		return rombsr_error(ROMBSR_EINVAL, "unexpected argument '%s'", argv[p.index]);
	if (out == NULL || out[0] == '\0')
		return rombsr_error(ROMBSR_EINVAL, "--out DIR is required");
	if (ctx->pin_file != NULL || ctx->pin_fd >= 0)
		return rombsr_error(ROMBSR_EINVAL, "export-public reads every authority: give the PINs in the configuration");
	if (rombsr_path_exists(out) && !force)
		return rombsr_error(ROMBSR_EEXISTS, "%s exists; pass --force to replace it", out);
	cli_authority_filter(NULL, selected);
	r = inventory_load(ctx, selected, &inv);
	if (r < 0)
		return r;
	if (asprintf(&scratch, "%s.tmp-XXXXXX", out) < 0 || mkdtemp(scratch) == NULL) {
		free(scratch);
		inventory_free(&inv);
		return rombsr_error(ROMBSR_EIO, "cannot create a folder next to %s", out);
	}
	r = chmod(scratch, 0755) == 0 ? 0 : rombsr_error(ROMBSR_EIO, "cannot chmod %s", scratch);
	if (r == 0)
		r = write_bundle(scratch, ctx->cfg.audit_origin, &inv);
	if (r == 0)
		r = publish(scratch, out, force);
	if (r < 0)
		rombsr_remove_tree(scratch);
	else
		cli_info("wrote the public bundle of %zu keys and the audit verifier key to %s", inv.len - 1, out);
	free(scratch);
	inventory_free(&inv);
	return r;
}
