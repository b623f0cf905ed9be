#include "capture_format.h"

#include "apk_signed_data.h"
#include "base64.h"

#include "error.h"
#include "fsutil.h"
#include "hex.h"
#include "jar_signature_file.h"
#include "json_strict.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define M(name, ec, input, hash, pss, sign) {#name, name, ec, input, hash, pss, sign}
const struct rombsr_cap_mech rombsr_cap_mechs[] = {
	M(CKM_RSA_PKCS, false, ROMBSR_CAP_IN_RAW, NULL, false, CKM_RSA_PKCS),
	M(CKM_SHA224_RSA_PKCS, false, ROMBSR_CAP_IN_HASH, "SHA224", false, CKM_RSA_PKCS),
	M(CKM_SHA256_RSA_PKCS, false, ROMBSR_CAP_IN_HASH, "SHA256", false, CKM_RSA_PKCS),
	M(CKM_SHA384_RSA_PKCS, false, ROMBSR_CAP_IN_HASH, "SHA384", false, CKM_RSA_PKCS),
	M(CKM_SHA512_RSA_PKCS, false, ROMBSR_CAP_IN_HASH, "SHA512", false, CKM_RSA_PKCS),
	M(CKM_RSA_PKCS_PSS, false, ROMBSR_CAP_IN_RAW, NULL, true, CKM_RSA_PKCS_PSS),
	M(CKM_SHA224_RSA_PKCS_PSS, false, ROMBSR_CAP_IN_HASH, "SHA224", true, CKM_RSA_PKCS_PSS),
	M(CKM_SHA256_RSA_PKCS_PSS, false, ROMBSR_CAP_IN_HASH, "SHA256", true, CKM_RSA_PKCS_PSS),
	M(CKM_SHA384_RSA_PKCS_PSS, false, ROMBSR_CAP_IN_HASH, "SHA384", true, CKM_RSA_PKCS_PSS),
	M(CKM_SHA512_RSA_PKCS_PSS, false, ROMBSR_CAP_IN_HASH, "SHA512", true, CKM_RSA_PKCS_PSS),
	M(CKM_RSA_X_509, false, ROMBSR_CAP_IN_RAW, NULL, false, CKM_RSA_X_509),
	M(CKM_ECDSA, true, ROMBSR_CAP_IN_RAW, NULL, false, CKM_ECDSA),
	M(CKM_ECDSA_SHA224, true, ROMBSR_CAP_IN_HASH, "SHA224", false, CKM_ECDSA),
	M(CKM_ECDSA_SHA256, true, ROMBSR_CAP_IN_HASH, "SHA256", false, CKM_ECDSA),
	M(CKM_ECDSA_SHA384, true, ROMBSR_CAP_IN_HASH, "SHA384", false, CKM_ECDSA),
	M(CKM_ECDSA_SHA512, true, ROMBSR_CAP_IN_HASH, "SHA512", false, CKM_ECDSA),
};
#undef M
const size_t rombsr_cap_mechs_len = sizeof(rombsr_cap_mechs) / sizeof(rombsr_cap_mechs[0]);

const struct rombsr_cap_mech *rombsr_cap_mech_by_type(CK_MECHANISM_TYPE type)
{
	for (size_t i = 0; i < rombsr_cap_mechs_len; i++)
		if (rombsr_cap_mechs[i].type == type)
			return &rombsr_cap_mechs[i];
	return NULL;
}

const struct rombsr_cap_mech *rombsr_cap_mech_by_name(const char *name)
{
	for (size_t i = 0; i < rombsr_cap_mechs_len; i++)
		if (strcmp(rombsr_cap_mechs[i].name, name) == 0)
			return &rombsr_cap_mechs[i];
	return NULL;
}

static const struct {
	const char *hash_name, *openssl, *mgf_name;
	CK_MECHANISM_TYPE hash;
	CK_RSA_PKCS_MGF_TYPE mgf;
	size_t len;
} pss_hashes[] = {
	{"CKM_SHA224", "SHA224", "CKG_MGF1_SHA224", CKM_SHA224, CKG_MGF1_SHA224, 28},
	{"CKM_SHA256", "SHA256", "CKG_MGF1_SHA256", CKM_SHA256, CKG_MGF1_SHA256, 32},
	{"CKM_SHA384", "SHA384", "CKG_MGF1_SHA384", CKM_SHA384, CKG_MGF1_SHA384, 48},
	{"CKM_SHA512", "SHA512", "CKG_MGF1_SHA512", CKM_SHA512, CKG_MGF1_SHA512, 64},
};
#define PSS_HASHES (sizeof(pss_hashes) / sizeof(pss_hashes[0]))

const char *rombsr_cap_hash_name(CK_MECHANISM_TYPE hash)
{
	for (size_t i = 0; i < PSS_HASHES; i++)
		if (pss_hashes[i].hash == hash)
			return pss_hashes[i].openssl;
	return NULL;
}

const char *rombsr_cap_mgf_hash_name(CK_RSA_PKCS_MGF_TYPE mgf)
{
	for (size_t i = 0; i < PSS_HASHES; i++)
		if (pss_hashes[i].mgf == mgf)
			return pss_hashes[i].openssl;
	return NULL;
}

int rombsr_cap_pss_check(const struct rombsr_cap_mech *mech, const struct rombsr_cap_pss *pss,
			 size_t modulus_bytes)
{
	const char *hash = rombsr_cap_hash_name(pss->hash);
	size_t hlen = 0;

	for (size_t i = 0; i < PSS_HASHES; i++)
		if (pss_hashes[i].hash == pss->hash)
			hlen = pss_hashes[i].len;
	if (hash == NULL)
		return rombsr_error(ROMBSR_EUNSUPPORTED, "PSS hash 0x%lx is not SHA-2", (unsigned long)pss->hash);
	if (rombsr_cap_mgf_hash_name(pss->mgf) == NULL)
		return rombsr_error(ROMBSR_EUNSUPPORTED, "PSS MGF 0x%lx is not MGF1 with SHA-2", (unsigned long)pss->mgf);
	if (mech->hash != NULL && strcmp(mech->hash, hash) != 0)
		return rombsr_error(ROMBSR_EINVAL, "%s with PSS hash %s", mech->name, hash);
	/* RFC 8017 9.1.1: emLen >= hLen + sLen + 2. */
	if (modulus_bytes > 0 && (pss->salt_len > modulus_bytes || hlen + pss->salt_len + 2 > modulus_bytes))
		return rombsr_error(ROMBSR_EINVAL, "PSS salt of %lu bytes is too long for the key",
				    (unsigned long)pss->salt_len);
	return 0;
}

bool rombsr_cap_is_placeholder(const unsigned char *sig, size_t len)
{
	return len >= ROMBSR_CAP_PLACEHOLDER_MAGIC_LEN &&
	       memcmp(sig, ROMBSR_CAP_PLACEHOLDER_MAGIC, ROMBSR_CAP_PLACEHOLDER_MAGIC_LEN) == 0;
}

bool rombsr_cap_op_same(const struct rombsr_cap_op *a, const struct rombsr_cap_op *b)
{
	return strcmp(a->spki_sha256, b->spki_sha256) == 0 && a->mech == b->mech && a->pss.hash == b->pss.hash &&
	       a->pss.mgf == b->pss.mgf && a->pss.salt_len == b->pss.salt_len && a->tbs_len == b->tbs_len &&
	       memcmp(a->tbs, b->tbs, a->tbs_len) == 0;
}

int rombsr_cap_digest_info(const char *hash_name, const unsigned char *digest, size_t digest_len,
			   unsigned char *out, size_t *out_len)
{
	/* SHA-1 only so that CKM_RSA_PKCS over a SHA-1 DigestInfo can be
	 * recorded and verified (pkcs11-tool --test sends one); the sign node
	 * never signs one (src/sign/opcheck.c). */
	static const char *const allowed[] = {"SHA1", "SHA224", "SHA256", "SHA384", "SHA512"};
	const EVP_MD *md = NULL;
	X509_SIG *info = NULL;
	X509_ALGOR *alg;
	ASN1_OCTET_STRING *value;
	unsigned char *der = NULL;
	int der_len = 0, r = 0;

	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]) && md == NULL; i++)
		if (strcmp(allowed[i], hash_name) == 0)
			md = EVP_get_digestbyname(hash_name);
	if (md == NULL)
		return rombsr_error(ROMBSR_EUNSUPPORTED, "no DigestInfo for hash %s", hash_name);
	if (digest_len != (size_t)EVP_MD_get_size(md))
		return rombsr_error(ROMBSR_EINVAL, "%s digest must be %d bytes, got %zu", hash_name, EVP_MD_get_size(md),
				    digest_len);
	/* RFC 8017 9.2: SEQUENCE { AlgorithmIdentifier { OID, NULL }, OCTET STRING }. */
	info = X509_SIG_new();
	if (info == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	X509_SIG_getm(info, &alg, &value);
	if (X509_ALGOR_set0(alg, OBJ_nid2obj(EVP_MD_get_type(md)), V_ASN1_NULL, NULL) != 1 ||
	    ASN1_OCTET_STRING_set(value, digest, (int)digest_len) != 1 || (der_len = i2d_X509_SIG(info, &der)) <= 0)
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "cannot encode a DigestInfo");
	else if ((size_t)der_len > 19 + digest_len)
		r = rombsr_error(ROMBSR_EINTERNAL, "DigestInfo larger than expected");
	else {
		memcpy(out, der, (size_t)der_len);
		*out_len = (size_t)der_len;
	}
	OPENSSL_free(der);
	X509_SIG_free(info);
	return r;
}

static json_t *pss_to_json(const struct rombsr_cap_pss *pss)
{
	const char *hash = NULL, *mgf = NULL;

	for (size_t i = 0; i < PSS_HASHES; i++) {
		if (pss_hashes[i].hash == pss->hash)
			hash = pss_hashes[i].hash_name;
		if (pss_hashes[i].mgf == pss->mgf)
			mgf = pss_hashes[i].mgf_name;
	}
	if (hash == NULL || mgf == NULL)
		return NULL;
	return json_pack("{s:s, s:s, s:I}", "hash", hash, "mgf", mgf, "salt_len", (json_int_t)pss->salt_len);
}

static int pss_from_json(json_t *o, struct rombsr_cap_pss *pss)
{
	const char *hash = NULL, *mgf = NULL;
	json_int_t salt = -1;
	json_error_t jerr;
	bool found_hash = false, found_mgf = false;

	if (json_unpack_ex(o, &jerr, JSON_STRICT, "{s:s, s:s, s:I}", "hash", &hash, "mgf", &mgf, "salt_len", &salt) != 0)
		return rombsr_error(ROMBSR_EINVAL, "pss: %s", jerr.text);
	for (size_t i = 0; i < PSS_HASHES; i++) {
		if (strcmp(pss_hashes[i].hash_name, hash) == 0) {
			pss->hash = pss_hashes[i].hash;
			found_hash = true;
		}
		if (strcmp(pss_hashes[i].mgf_name, mgf) == 0) {
			pss->mgf = pss_hashes[i].mgf;
			found_mgf = true;
		}
	}
	if (!found_hash || !found_mgf || salt < 0 || salt > ROMBSR_CAP_SIG_MAX)
		return rombsr_error(ROMBSR_EINVAL, "pss: unknown hash or MGF, or bad salt_len");
	pss->salt_len = (CK_ULONG)salt;
	return 0;
}

/* Fields shared by journal entries and signature set items. */
static int op_to_json(const struct rombsr_cap_op *op, json_t *o)
{
	char tbs[2 * ROMBSR_CAP_TBS_MAX + 1];
	int bad = 0;

	rombsr_hex_encode(op->tbs, op->tbs_len, tbs);
	bad |= json_object_set_new(o, "label", json_string(op->label));
	bad |= json_object_set_new(o, "spki_sha256", json_string(op->spki_sha256));
	bad |= json_object_set_new(o, "mechanism", json_string(op->mech->name));
	if (op->mech->pss) {
		json_t *p = pss_to_json(&op->pss);

		bad |= p == NULL ? -1 : json_object_set_new(o, "pss", p);
	}
	bad |= json_object_set_new(o, "tbs", json_string(tbs));
	return bad ? rombsr_error(ROMBSR_ENOMEM, "cannot encode an operation") : 0;
}

static bool hex64_ok(const char *s)
{
	unsigned char tmp[32];

	return rombsr_hex_decode(s, tmp, sizeof(tmp), "fingerprint") == 0;
}

static int op_from_json(json_t *label, json_t *spki, json_t *mech, json_t *pss, json_t *tbs,
			struct rombsr_cap_op *op)
{
	unsigned char *bytes = NULL;
	size_t n;
	int r;

	memset(op, 0, sizeof(*op));
	if (!json_is_string(label) || json_string_length(label) == 0 || json_string_length(label) >= sizeof(op->label))
		return rombsr_error(ROMBSR_EINVAL, "label missing or too long");
	snprintf(op->label, sizeof(op->label), "%s", json_string_value(label));
	if (!json_is_string(spki) || !hex64_ok(json_string_value(spki)))
		return rombsr_error(ROMBSR_EINVAL, "spki_sha256 is not 64 lower-case hex digits");
	memcpy(op->spki_sha256, json_string_value(spki), 65);
	if (!json_is_string(mech) || (op->mech = rombsr_cap_mech_by_name(json_string_value(mech))) == NULL)
		return rombsr_error(ROMBSR_EINVAL, "mechanism %s is not supported",
				    json_is_string(mech) ? json_string_value(mech) : "(missing)");
	if (op->mech->pss != (pss != NULL))
		return rombsr_error(ROMBSR_EINVAL, "%s %s PSS parameters", op->mech->name,
				    op->mech->pss ? "needs" : "takes no");
	if (pss != NULL && (r = pss_from_json(pss, &op->pss)) < 0)
		return r;
	if (pss != NULL && (r = rombsr_cap_pss_check(op->mech, &op->pss, 0)) < 0)
		return r;
	if (!json_is_string(tbs))
		return rombsr_error(ROMBSR_EINVAL, "tbs missing");
	r = rombsr_hex_decode_alloc(json_string_value(tbs), ROMBSR_CAP_TBS_MAX, &bytes, &n, "tbs");
	if (r < 0)
		return r;
	memcpy(op->tbs, bytes, n);
	op->tbs_len = n;
	free(bytes);
	if (n == 0)
		return rombsr_error(ROMBSR_EINVAL, "tbs is empty");
	if (op->mech->hash != NULL && n != (size_t)EVP_MD_get_size(EVP_get_digestbyname(op->mech->hash)))
		return rombsr_error(ROMBSR_EINVAL, "%s needs a %s digest, tbs has %zu bytes", op->mech->name,
				    op->mech->hash, n);
	return 0;
}

/* The check suffix of a journal line: ,"sha256":"<64 hex>"} */
#define CHECK_PREFIX ",\"sha256\":\""
#define CHECK_SUFFIX_LEN (sizeof(CHECK_PREFIX) - 1 + 64 + 2)

int rombsr_cap_entry_encode(const struct rombsr_cap_entry *e, struct rombsr_buf *line)
{
	json_t *o = json_object();
	unsigned char md[32];
	char hex[65], *text = NULL;
	size_t n;
	int r = ROMBSR_ENOMEM;

	rombsr_buf_init(line, 256 * 1024);
	if (o == NULL)
		goto out;
	if (json_object_set_new(o, "v", json_integer(ROMBSR_CAP_JOURNAL_VERSION)) != 0 ||
	    json_object_set_new(o, "id", json_string(e->id)) != 0 ||
	    json_object_set_new(o, "time", json_string(e->time)) != 0 ||
	    json_object_set_new(o, "pid", json_integer(e->pid)) != 0 ||
	    json_object_set_new(o, "program", json_string(e->program)) != 0)
		goto out;
	if ((r = op_to_json(&e->op, o)) < 0)
		goto out;
	r = ROMBSR_ENOMEM;
	if (json_object_set_new(o, "sig_len", json_integer((json_int_t)e->sig_len)) != 0)
		goto out;
	if (e->data != NULL) {
		struct rombsr_buf b64;

		rombsr_buf_init(&b64, 2 * ROMBSR_CAP_DATA_MAX);
		rombsr_base64_encode(&b64, e->data, e->data_len);
		r = rombsr_buf_check(&b64, "data");
		if (r == 0 && json_object_set_new(o, "data", json_string(rombsr_buf_cstr(&b64))) != 0)
			r = ROMBSR_ENOMEM;
		rombsr_buf_free(&b64);
		if (r < 0)
			goto out;
		r = ROMBSR_ENOMEM;
	}
	/* Compact, one line (JSON escapes any newline inside strings). */
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	if (text == NULL || (n = strlen(text)) < 2 || text[n - 1] != '}')
		goto out;
	EVP_Digest(text, n - 1, md, NULL, EVP_sha256(), NULL);
	rombsr_hex_encode(md, sizeof(md), hex);
	rombsr_buf_append(line, text, n - 1);
	rombsr_buf_printf(line, "%s%s\"}\n", CHECK_PREFIX, hex);
	r = rombsr_buf_check(line, "journal entry");
out:
	if (r == ROMBSR_ENOMEM)
		rombsr_error(r, "cannot encode a journal entry");
	free(text);
	json_decref(o);
	if (r < 0)
		rombsr_buf_free(line);
	return r;
}

static void copy_str(char *dst, size_t size, json_t *v)
{
	snprintf(dst, size, "%s", json_is_string(v) ? json_string_value(v) : "");
}

int rombsr_cap_entry_decode(const char *line, size_t len, struct rombsr_cap_entry *e)
{
	unsigned char md[32];
	char hex[65];
	json_t *o = NULL, *label, *spki, *mech, *pss, *tbs, *v, *sig_len, *id, *time, *pid, *program;
	json_error_t jerr;
	const char *key;
	json_t *value;
	int r;

	memset(e, 0, sizeof(*e));
	if (len < CHECK_SUFFIX_LEN + 2 || line[0] != '{' ||
	    memcmp(line + len - CHECK_SUFFIX_LEN, CHECK_PREFIX, sizeof(CHECK_PREFIX) - 1) != 0 ||
	    memcmp(line + len - 2, "\"}", 2) != 0)
		return rombsr_error(ROMBSR_EINVAL, "not a journal entry (no check value at the end)");
	EVP_Digest(line, len - CHECK_SUFFIX_LEN, md, NULL, EVP_sha256(), NULL);
	rombsr_hex_encode(md, sizeof(md), hex);
	if (memcmp(hex, line + len - 66, 64) != 0)
		return rombsr_error(ROMBSR_EINVAL, "check value does not match: the entry was altered or torn");
	o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL)
		return rombsr_error(ROMBSR_EINVAL, "%s", jerr.text);
	/* A versioned format read by the sign side: every field is known. */
	json_object_foreach(o, key, value) {
		static const char *const known[] = {"v", "id", "time", "pid", "program", "label", "spki_sha256",
						    "mechanism", "pss", "tbs", "sig_len", "data", "sha256"};
		bool ok = false;

		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			ok |= strcmp(known[i], key) == 0;
		if (!ok) {
			r = rombsr_error(ROMBSR_EINVAL, "unknown field \"%s\"", key);
			goto out;
		}
	}
	v = json_object_get(o, "v");
	if (!json_is_integer(v) || json_integer_value(v) != ROMBSR_CAP_JOURNAL_VERSION) {
		r = rombsr_error(ROMBSR_EUNSUPPORTED, "journal entry version is not %d", ROMBSR_CAP_JOURNAL_VERSION);
		goto out;
	}
	id = json_object_get(o, "id");
	time = json_object_get(o, "time");
	pid = json_object_get(o, "pid");
	program = json_object_get(o, "program");
	label = json_object_get(o, "label");
	spki = json_object_get(o, "spki_sha256");
	mech = json_object_get(o, "mechanism");
	pss = json_object_get(o, "pss");
	tbs = json_object_get(o, "tbs");
	sig_len = json_object_get(o, "sig_len");
	if (!json_is_string(id) || json_string_length(id) != 32 || !json_is_string(time) || !json_is_integer(pid) ||
	    !json_is_string(program) || !json_is_integer(sig_len) || json_integer_value(sig_len) <= 0 ||
	    json_integer_value(sig_len) > ROMBSR_CAP_SIG_MAX) {
		r = rombsr_error(ROMBSR_EINVAL, "id, time, pid, program or sig_len missing or wrong");
		goto out;
	}
	copy_str(e->id, sizeof(e->id), id);
	copy_str(e->time, sizeof(e->time), time);
	copy_str(e->program, sizeof(e->program), program);
	e->pid = (long)json_integer_value(pid);
	e->sig_len = (size_t)json_integer_value(sig_len);
	r = op_from_json(label, spki, mech, pss, tbs, &e->op);
	if (r == 0 && json_object_get(o, "data") != NULL)
		r = rombsr_cap_data_from_json(json_object_get(o, "data"), &e->op, &e->data, &e->data_len);
out:
	json_decref(o);
	return r;
}

int rombsr_cap_data_from_json(const json_t *v, const struct rombsr_cap_op *op, unsigned char **data, size_t *len)
{
	unsigned char *bytes;
	int r;

	*data = NULL;
	*len = 0;
	if (!json_is_string(v) || json_string_length(v) > 2 * ROMBSR_CAP_DATA_MAX)
		return rombsr_error(ROMBSR_EINVAL, "data is not a base64 string of at most %u bytes", ROMBSR_CAP_DATA_MAX);
	bytes = malloc(ROMBSR_CAP_DATA_MAX);
	if (bytes == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	r = rombsr_base64_decode(json_string_value(v), json_string_length(v), bytes, ROMBSR_CAP_DATA_MAX, len, "data");
	if (r == 0)
		r = rombsr_cap_data_check(op, bytes, *len);
	if (r < 0) {
		free(bytes);
		*len = 0;
		return r;
	}
	*data = bytes;
	return 0;
}

const char *const rombsr_cap_data_kinds[] = {"apk-signed-data", "avb-vbmeta", "jar-signature-file",
					      "apk-lineage-node", NULL};

const char *rombsr_cap_data_kind(const unsigned char *data, size_t len)
{
	struct rombsr_jar_signature_file sf;
	struct rombsr_apk_signed_data sd;
	struct rombsr_apk_lineage_node ln;

	/* A vbmeta header is 256 bytes and its auxiliary block a multiple of 64. */
	if (len >= 256 && (len - 256) % 64 == 0 && memcmp(data, "AVB0", 4) == 0)
		return "avb-vbmeta";
	/* APK signed data has no magic: it is what parses as one. */
	if (rombsr_apk_signed_data_parse(data, len, &sd) == 0)
		return "apk-signed-data";
	if (len >= 19 && memcmp(data, "Signature-Version: ", 19) == 0 &&
	    rombsr_jar_signature_file_parse(data, len, &sf) == 0)
		return "jar-signature-file";
	/* A lineage node's first bytes are a certificate's length, which no
	 * signed data's digest sequence can hold with a DER certificate after
	 * it: the two never read as each other. */
	if (rombsr_apk_lineage_node_parse(data, len, &ln) == 0)
		return "apk-lineage-node";
	rombsr_error_clear();
	return NULL;
}

int rombsr_cap_data_check(const struct rombsr_cap_op *op, const unsigned char *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (len == 0 || len > ROMBSR_CAP_DATA_MAX)
		return rombsr_error(ROMBSR_EINVAL, "data of %zu bytes (1 to %u)", len, ROMBSR_CAP_DATA_MAX);
	if (rombsr_cap_data_kind(data, len) == NULL)
		return rombsr_error(ROMBSR_EINVAL, "data of no kind the sign node understands");
	if (op->mech->input != ROMBSR_CAP_IN_HASH)
		return rombsr_error(ROMBSR_EINVAL, "data with %s, which does not hash", op->mech->name);
	if (!EVP_Digest(data, len, md, &n, EVP_get_digestbyname(op->mech->hash), NULL))
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "hashing data");
	if (n != op->tbs_len || CRYPTO_memcmp(md, op->tbs, n) != 0)
		return rombsr_error(ROMBSR_EINVAL, "data does not hash to tbs with %s", op->mech->name);
	return 0;
}

void rombsr_cap_entry_clear(struct rombsr_cap_entry *e)
{
	free(e->data);
	e->data = NULL;
	e->data_len = 0;
}

void rombsr_cap_journal_free(struct rombsr_cap_entry *entries, size_t len)
{
	for (size_t i = 0; entries != NULL && i < len; i++)
		rombsr_cap_entry_clear(&entries[i]);
	free(entries);
}

int rombsr_cap_journal_read(const char *path, struct rombsr_cap_entry **entries, size_t *len)
{
	struct rombsr_buf text = {0};
	struct rombsr_cap_entry *list = NULL;
	size_t n = 0, cap = 0, line_no = 0;
	int r;

	*entries = NULL;
	*len = 0;
	r = rombsr_file_read(path, ROMBSR_CAP_JOURNAL_MAX, &text);
	if (r < 0)
		return r;
	for (size_t pos = 0; pos < text.len;) {
		const char *start = (const char *)text.data + pos;
		const char *nl = memchr(start, '\n', text.len - pos);

		line_no++;
		if (nl == NULL) {
			r = rombsr_error(ROMBSR_EINVAL, "%s line %zu: truncated entry (no end of line)", path, line_no);
			goto out;
		}
		if (n == cap) {
			size_t grown = cap ? 2 * cap : 64;
			struct rombsr_cap_entry *p = realloc(list, grown * sizeof(*list));

			if (p == NULL) {
				r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
				goto out;
			}
			list = p;
			cap = grown;
		}
		r = rombsr_cap_entry_decode(start, (size_t)(nl - start), &list[n]);
		if (r < 0) {
			rombsr_error_wrap(r, "%s line %zu", path, line_no);
			goto out;
		}
		n++;
		pos += (size_t)(nl - start) + 1;
	}
	*entries = list;
	*len = n;
	list = NULL;
	r = 0;
out:
	rombsr_cap_journal_free(list, n);
	rombsr_buf_free(&text);
	return r;
}

int rombsr_cap_sigset_read(const char *path, struct rombsr_cap_signature **sigs, size_t *len)
{
	struct rombsr_buf text = {0};
	struct rombsr_cap_signature *list = NULL;
	json_t *root = NULL, *items;
	size_t n = 0;
	int r;

	*sigs = NULL;
	*len = 0;
	r = rombsr_file_read(path, ROMBSR_CAP_SIGSET_MAX, &text);
	if (r < 0)
		return r;
	r = rombsr_json_load_document((const char *)text.data, text.len, path, ROMBSR_CAP_SIGSET_FORMAT,
				      ROMBSR_CAP_SIGSET_VERSION, &root);
	if (r < 0)
		goto out;
	items = json_object_get(root, "signatures");
	if (!json_is_array(items)) {
		r = rombsr_error(ROMBSR_EINVAL, "%s: signatures must be a list", path);
		goto out;
	}
	list = calloc(json_array_size(items) + 1, sizeof(*list));
	if (list == NULL) {
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
		goto out;
	}
	for (n = 0; n < json_array_size(items); n++) {
		json_t *it = json_array_get(items, n), *sig;
		unsigned char *bytes = NULL;

		sig = json_object_get(it, "signature");
		r = json_is_object(it) ? op_from_json(json_object_get(it, "label"), json_object_get(it, "spki_sha256"),
						       json_object_get(it, "mechanism"), json_object_get(it, "pss"),
						       json_object_get(it, "tbs"), &list[n].op)
				       : rombsr_error(ROMBSR_EINVAL, "not an object");
		if (r == 0 && !json_is_string(sig))
			r = rombsr_error(ROMBSR_EINVAL, "signature missing");
		if (r == 0)
			r = rombsr_hex_decode_alloc(json_string_value(sig), ROMBSR_CAP_SIG_MAX, &bytes, &list[n].sig_len,
						    "signature");
		if (r == 0 && list[n].sig_len == 0)
			r = rombsr_error(ROMBSR_EINVAL, "signature is empty");
		if (r == 0)
			memcpy(list[n].sig, bytes, list[n].sig_len);
		free(bytes);
		if (r < 0) {
			rombsr_error_wrap(r, "%s: signatures[%zu]", path, n);
			goto out;
		}
	}
	*sigs = list;
	*len = n;
	list = NULL;
	r = 0;
out:
	free(list);
	json_decref(root);
	rombsr_buf_free(&text);
	return r;
}

int rombsr_cap_sigset_write(const char *path, const struct rombsr_cap_signature *sigs, size_t len)
{
	json_t *root = NULL, *items = json_array();
	char *text = NULL;
	int r = ROMBSR_ENOMEM;

	if (items == NULL)
		goto out;
	for (size_t i = 0; i < len; i++) {
		char hex[2 * ROMBSR_CAP_SIG_MAX + 1];
		json_t *it = json_object();

		if (it == NULL || json_array_append_new(items, it) != 0)
			goto out;
		if ((r = op_to_json(&sigs[i].op, it)) < 0)
			goto out;
		rombsr_hex_encode(sigs[i].sig, sigs[i].sig_len, hex);
		r = ROMBSR_ENOMEM;
		if (json_object_set_new(it, "signature", json_string(hex)) != 0)
			goto out;
	}
	root = json_pack("{s:s, s:i, s:O}", "format", ROMBSR_CAP_SIGSET_FORMAT, "version", ROMBSR_CAP_SIGSET_VERSION,
			 "signatures", items);
	if (root == NULL || (text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER)) == NULL)
		goto out;
	r = rombsr_file_write_atomic(path, text, strlen(text), 0644, false);
out:
	if (r == ROMBSR_ENOMEM)
		rombsr_error(r, "cannot encode the signature set");
	free(text);
	json_decref(root);
	json_decref(items);
	return r;
}
