/* Release manifests (docs/formats/release-manifest.md): what `manifest
 * verify` reads from anyone. Each input is tried as an envelope (parse,
 * round trip, then the whole check against keys.h's manifest key, whose
 * private half is gone: the signature check runs but never passes) and as
 * a manifest payload, whose encoding must be the input itself. The
 * payload inside an envelope that parses is tried as a manifest too, so
 * the seeds reach the manifest parser either way. */
#include "keys.h"
#include "util.h"

#include "../src/manifest/envelope.h"

#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int parse_envelope(const char *text, size_t len, void *v)
{
	return rombsr_manifest_envelope_parse(text, len, v);
}

static int encode_envelope(const void *v, struct rombsr_buf *out)
{
	return rombsr_manifest_envelope_encode(v, out);
}

static void release_envelope(void *v)
{
	rombsr_manifest_envelope_free(v);
}

static int parse_manifest(const char *text, size_t len, void *v)
{
	return rombsr_release_manifest_parse(text, len, v);
}

static int encode_manifest(const void *v, struct rombsr_buf *out)
{
	return rombsr_release_manifest_encode(v, out);
}

static void release_manifest(void *v)
{
	rombsr_release_manifest_free(v);
}

static EVP_PKEY *manifest_key(void)
{
	static EVP_PKEY *key;
	BIO *bio;
	X509 *cert;

	if (key != NULL)
		return key;
	bio = BIO_new_mem_buf(FUZZ_MANIFEST_PEM, -1);
	cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	key = cert ? X509_get_pubkey(cert) : NULL;
	X509_free(cert);
	BIO_free(bio);
	fuzz_check(key != NULL, "release_manifest: keys.h's manifest certificate does not load");
	return key;
}

static void try_manifest(const struct fuzz_codec *c, const uint8_t *data, size_t size)
{
	struct rombsr_release_manifest *m = fuzz_round_trip(c, data, size);
	struct rombsr_buf text = {0};

	if (m != NULL) {
		/* One encoding only: what parses is its own encoding. */
		fuzz_check(rombsr_release_manifest_encode(m, &text) == 0, "release_manifest: no encoding");
		fuzz_same(text.data, text.len, data, size, "release_manifest: a parsed manifest is not canonical");
		rombsr_buf_free(&text);
	}
	fuzz_codec_free(c, m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_codec envelope = {"manifest envelope", sizeof(struct rombsr_manifest_envelope),
						   parse_envelope, encode_envelope, release_envelope};
	static const struct fuzz_codec manifest = {"release manifest", sizeof(struct rombsr_release_manifest),
						   parse_manifest, encode_manifest, release_manifest};
	struct rombsr_manifest_envelope *e = fuzz_round_trip(&envelope, data, size);
	struct rombsr_release_manifest m;

	if (e != NULL)
		try_manifest(&manifest, e->payload, e->payload_len);
	fuzz_codec_free(&envelope, e);
	try_manifest(&manifest, data, size);
	fuzz_check(rombsr_release_manifest_open((const char *)data, size, manifest_key(), &m) != 0,
		   "release_manifest: an envelope verified with a key whose private half is gone");
	rombsr_release_manifest_free(&m);
	return 0;
}
