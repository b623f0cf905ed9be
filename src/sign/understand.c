#include "understand.h"

#include "../avb/pubkey_blob.h"
#include "../avb/vbmeta.h"
#include "../common/apk_signed_data.h"
#include "../common/bundle.h"
#include "../common/error.h"
#include "../common/hex.h"
#include "../common/jar_signature_file.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The data is the header and the auxiliary block; the authentication
 * block (hash and signature, which the signature cannot cover) is put back
 * as zeros so that the image parser checks every offset as for a whole
 * image. */
static int as_image(const unsigned char *data, size_t len, struct rombsr_buf *out, struct rombsr_avb_image *img)
{
	struct rombsr_avb_header h;
	int r = rombsr_avb_header_decode(data, len, &h);

	if (r < 0)
		return r;
	if (h.aux_block_size != len - ROMBSR_AVB_HEADER_SIZE)
		return rombsr_error(ROMBSR_EINVAL, "the header's auxiliary block is %llu bytes, the data holds %zu",
				    (unsigned long long)h.aux_block_size, len - ROMBSR_AVB_HEADER_SIZE);
	if (h.auth_block_size > 4096)
		return rombsr_error(ROMBSR_EINVAL, "an authentication block of %llu bytes",
				    (unsigned long long)h.auth_block_size);
	rombsr_buf_init(out, len + (size_t)h.auth_block_size);
	rombsr_buf_append(out, data, ROMBSR_AVB_HEADER_SIZE);
	for (uint64_t i = 0; i < h.auth_block_size; i++)
		rombsr_buf_append(out, "", 1);
	rombsr_buf_append(out, data + ROMBSR_AVB_HEADER_SIZE, len - ROMBSR_AVB_HEADER_SIZE);
	r = rombsr_buf_check(out, "vbmeta");
	if (r == 0)
		r = rombsr_avb_image_parse(out->data, out->len, img);
	return r;
}

/* "rollback index 3 at location 0; boot (hash), system (hashtree), …" */
static int summarize(const struct rombsr_avb_image *img, char *out, size_t size)
{
	size_t offset = 0, used;
	int r = 0;

	used = (size_t)snprintf(out, size, "rollback index %llu at location %u; partitions:",
				(unsigned long long)img->h.rollback_index, img->h.rollback_index_location);
	while (offset < img->descriptors.len) {
		static const char *const kinds[] = {"property", "hashtree", "hash", "cmdline", "chain"};
		const struct rombsr_avb_bytes *name = NULL;
		struct rombsr_avb_descriptor d;

		r = rombsr_avb_descriptor_next(img->descriptors.data, img->descriptors.len, &offset, &d);
		if (r <= 0)
			break;
		if (d.tag == ROMBSR_AVB_TAG_HASH)
			name = &d.u.hash.partition_name;
		else if (d.tag == ROMBSR_AVB_TAG_HASHTREE)
			name = &d.u.hashtree.partition_name;
		else if (d.tag == ROMBSR_AVB_TAG_CHAIN_PARTITION)
			name = &d.u.chain.partition_name;
		if (name == NULL || used >= size)
			continue;
		/* The audit log takes printable ASCII only, never '"' or '\'. */
		used += (size_t)snprintf(out + used, size - used, " ");
		for (size_t i = 0; i < name->len && used + 1 < size; i++) {
			unsigned char c = name->data[i];

			out[used++] = c > 0x20 && c < 0x7f && c != '"' && c != '\\' ? (char)c : '?';
		}
		out[used < size ? used : size - 1] = '\0';
		if (used < size)
			used += (size_t)snprintf(out + used, size - used, " (%s)", kinds[d.tag]);
	}
	return r < 0 ? r : 0;
}

static bool key_is_signer(const struct rombsr_avb_image *img, const char *spki_sha256)
{
	EVP_PKEY *key = NULL;
	char fp[65];
	bool same = rombsr_avb_pubkey_parse(img->public_key.data, img->public_key.len, &key) == 0 &&
		    rombsr_pubkey_spki_sha256(key, fp) == 0 && strcmp(fp, spki_sha256) == 0;

	EVP_PKEY_free(key);
	rombsr_error_clear();
	return same;
}

static bool understand_vbmeta(const struct rombsr_request_op *o, size_t i, size_t modulus_bytes,
			      struct rombsr_understood *u, struct rombsr_refusal *why)
{
	const char *hash = o->op.mech->hash;
	struct rombsr_avb_image img;
	struct rombsr_buf image = {0};
	bool ok = false;
	int r = as_image(o->data, o->data_len, &image, &img);

	if (r < 0) {
		rombsr_refuse(why, "vbmeta-invalid", "operation %zu: the vbmeta it signs does not parse: %s", i,
		       rombsr_error_message(r));
		goto out;
	}
	if (img.alg->digest == NULL || hash == NULL || strcmp(img.alg->digest, hash) != 0 ||
	    o->op.mech->pss || o->op.mech->ec ||
	    (modulus_bytes != 0 && img.alg->key_bits != modulus_bytes * 8)) {
		rombsr_refuse(why, "vbmeta-algorithm", "operation %zu: a %s vbmeta signed with %s by a %zu-bit key", i,
		       img.alg->name, o->op.mech->name, modulus_bytes * 8);
		goto out;
	}
	if (!key_is_signer(&img, o->op.spki_sha256)) {
		rombsr_refuse(why, "vbmeta-key", "operation %zu: the vbmeta embeds another public key than key '%s'", i,
		       o->op.label);
		goto out;
	}
	r = summarize(&img, u->summary, sizeof(u->summary));
	if (r < 0) {
		rombsr_refuse(why, "vbmeta-invalid", "operation %zu: %s", i, rombsr_error_message(r));
		goto out;
	}
	u->kind = "avb-vbmeta";
	u->rollback_index = img.h.rollback_index;
	u->rollback_location = img.h.rollback_index_location;
	ok = true;
out:
	rombsr_buf_free(&image);
	rombsr_error_clear();
	return ok;
}

/* The SPKI SHA-256 of the key in a DER certificate; false (no error kept)
 * if it does not read. */
static bool certificate_key(const unsigned char *der, size_t len, char fp[65])
{
	const unsigned char *p = der;
	X509 *cert = d2i_X509(NULL, &p, (long)len);
	EVP_PKEY *key = cert != NULL ? X509_get_pubkey(cert) : NULL;
	bool ok = key != NULL && rombsr_pubkey_spki_sha256(key, fp) == 0;

	EVP_PKEY_free(key);
	X509_free(cert);
	rombsr_error_clear();
	return ok;
}

/* APK v2/v3 signed data: its first certificate is the signer's, and a
 * device accepts the signature only with that certificate's key: it must
 * be the signing key (by SubjectPublicKeyInfo). */
static bool understand_apk(const struct rombsr_request_op *o, size_t i, struct rombsr_understood *u,
			   struct rombsr_refusal *why)
{
	struct rombsr_apk_signed_data sd;
	char fp[65] = "";
	size_t used;
	int r = rombsr_apk_signed_data_parse(o->data, o->data_len, &sd);

	if (r < 0)
		return rombsr_refuse(why, "apk-invalid", "operation %zu: the APK signed data does not parse: %s", i,
				     rombsr_error_message(r));
	if (!certificate_key(sd.certificate, sd.certificate_len, fp) || strcmp(fp, o->op.spki_sha256) != 0)
		return rombsr_refuse(why, "apk-certificate", "operation %zu: the APK signed data names another "
			"certificate (key %.16s...) than key '%s'", i, fp[0] ? fp : "unreadable", o->op.label);
	if (sd.digests[0].len > ROMBSR_UNDERSTOOD_DIGEST_MAX)
		return rombsr_refuse(why, "apk-invalid", "operation %zu: a content digest of %zu bytes", i,
				     sd.digests[0].len);
	/* The first content digest goes into the log whole (apksigner names
	 * one per signer): what `audit-find --artifact` computes from an APK. */
	rombsr_hex_encode(sd.digests[0].digest, sd.digests[0].len, u->content_digest);
	used = (size_t)snprintf(u->summary, sizeof(u->summary), "APK signature scheme v%u, %zu certificates; "
				"content digests:", sd.scheme, sd.ncertificates);
	for (size_t d = 0; d < sd.ndigests && used < sizeof(u->summary); d++)
		used += (size_t)snprintf(u->summary + used, sizeof(u->summary) - used, " %s",
					 rombsr_apk_algorithm_name(sd.digests[d].algorithm));
	u->kind = "apk-signed-data";
	return true;
}

/* An APK v1 signature file: nothing in it names the key (the certificate
 * is in the signature block the signature goes into), so what is read is
 * what is logged: the manifest's digest and the scheme list that protects
 * v2/v3 against being stripped. */
static bool understand_jar(const struct rombsr_request_op *o, size_t i, struct rombsr_understood *u,
			   struct rombsr_refusal *why)
{
	struct rombsr_jar_signature_file sf;
	int r = rombsr_jar_signature_file_parse(o->data, o->data_len, &sf);

	if (r < 0)
		return rombsr_refuse(why, "jar-invalid", "operation %zu: the JAR signature file does not parse: %s",
				     i, rombsr_error_message(r));
	rombsr_hex_encode(sf.manifest_digest, sf.manifest_digest_len, u->content_digest);
	snprintf(u->summary, sizeof(u->summary), "APK signature scheme v1 (JAR signature file), %zu entries; "
		 "manifest %s; X-Android-APK-Signed: %s", sf.entries, sf.manifest_algorithm,
		 sf.apk_signed[0] ? sf.apk_signed : "none");
	u->kind = "jar-signature-file";
	return true;
}

/* The mechanism a lineage node's algorithm ID means: what a device checks
 * the old key's signature of it with. */
static const char *lineage_mechanism(uint32_t algorithm)
{
	static const struct {
		uint32_t id;
		const char *mechanism;
	} map[] = {
		{0x0101, "CKM_SHA256_RSA_PKCS_PSS"}, {0x0102, "CKM_SHA512_RSA_PKCS_PSS"},
		{0x0103, "CKM_SHA256_RSA_PKCS"},     {0x0104, "CKM_SHA512_RSA_PKCS"},
		{0x0201, "CKM_ECDSA_SHA256"},        {0x0202, "CKM_ECDSA_SHA512"},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].id == algorithm)
			return map[i].mechanism;
	return NULL;
}

/* A node of an APK signing-certificate lineage (apksigner rotate): the
 * certificate it names is the successor's, which the worker checks against
 * the key under the retired key's label (decide.c); the log gets the
 * certificate's SHA-256, which `apksigner lineage --print-certs` shows. */
static bool understand_lineage(const struct rombsr_request_op *o, size_t i, struct rombsr_understood *u,
			       struct rombsr_refusal *why)
{
	struct rombsr_apk_lineage_node ln;
	const char *mechanism;
	unsigned char md[32];
	int r = rombsr_apk_lineage_node_parse(o->data, o->data_len, &ln);

	if (r < 0)
		return rombsr_refuse(why, "lineage-invalid", "operation %zu: the lineage node does not parse: %s", i,
				     rombsr_error_message(r));
	mechanism = lineage_mechanism(ln.algorithm);
	if (mechanism == NULL || strcmp(mechanism, o->op.mech->name) != 0)
		return rombsr_refuse(why, "lineage-algorithm", "operation %zu: the lineage node says %s, and is signed "
				     "with %s", i, rombsr_apk_algorithm_name(ln.algorithm), o->op.mech->name);
	if (!certificate_key(ln.certificate, ln.certificate_len, u->successor_spki) ||
	    EVP_Digest(ln.certificate, ln.certificate_len, md, NULL, EVP_sha256(), NULL) != 1) {
		rombsr_error_clear();
		return rombsr_refuse(why, "lineage-invalid", "operation %zu: the lineage node's certificate holds no "
				     "readable key", i);
	}
	rombsr_hex_encode(md, sizeof(md), u->content_digest);
	snprintf(u->summary, sizeof(u->summary), "APK signing-certificate lineage node: rotates to the certificate "
		 "of key %.16s..., signed with %s", u->successor_spki, rombsr_apk_algorithm_name(ln.algorithm));
	u->kind = "apk-lineage-node";
	return true;
}

bool rombsr_sign_understand(const struct rombsr_request *req, size_t i, size_t modulus_bytes,
			    struct rombsr_understood *u, struct rombsr_refusal *why)
{
	const struct rombsr_request_op *o = &req->ops[i];
	const char *kind;

	memset(u, 0, sizeof(*u));
	if (o->data == NULL)
		return true;
	kind = rombsr_cap_data_kind(o->data, o->data_len);
	if (kind != NULL && strcmp(kind, "avb-vbmeta") == 0)
		return understand_vbmeta(o, i, modulus_bytes, u, why);
	if (kind != NULL && strcmp(kind, "apk-signed-data") == 0)
		return understand_apk(o, i, u, why);
	if (kind != NULL && strcmp(kind, "jar-signature-file") == 0)
		return understand_jar(o, i, u, why);
	if (kind != NULL && strcmp(kind, "apk-lineage-node") == 0)
		return understand_lineage(o, i, u, why);
	/* The request parser admits only known kinds; a new kind added there
	 * and not here must not pass unread. */
	return rombsr_refuse(why, "data-unknown", "operation %zu: data of a kind this sign node does not read", i);
}

int rombsr_sign_understood_entries(const struct rombsr_request *req, struct rombsr_audit_entry *out, size_t max,
				   size_t *n)
{
	*n = 0;
	for (size_t i = 0; i < req->nops; i++) {
		struct rombsr_understood u;
		struct rombsr_refusal why;
		struct rombsr_audit_entry *e;

		if (req->ops[i].data == NULL)
			continue;
		if (!rombsr_sign_understand(req, i, 0, &u, &why))
			return rombsr_error(ROMBSR_EINTERNAL, "a signed request's data no longer reads: %s", why.message);
		if (*n == max)
			return rombsr_error(ROMBSR_EINTERNAL, "more understood operations than room for them");
		e = &out[(*n)++];
		memset(e, 0, sizeof(*e));
		e->type = ROMBSR_AUDIT_UNDERSTOOD;
		snprintf(e->request_id, sizeof(e->request_id), "%s", req->id);
		snprintf(e->key_label, sizeof(e->key_label), "%s", req->ops[i].op.label);
		snprintf(e->kind, sizeof(e->kind), "%s", u.kind);
		rombsr_hex_encode(req->ops[i].op.tbs, req->ops[i].op.tbs_len, e->digest);
		snprintf(e->detail, sizeof(e->detail), "%s", u.summary);
		snprintf(e->content_digest, sizeof(e->content_digest), "%s", u.content_digest);
	}
	return 0;
}
