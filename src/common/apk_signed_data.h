/* The "signed data" of an APK Signature Scheme v2 or v3 signer: what
 * apksigner hands the token to sign. All integers little-endian, every
 * sequence and item prefixed by its uint32 length:
 *
 *   v2: digests, certificates, additional attributes (apksigner adds one
 *       empty element after them)
 *   v3: digests, certificates, uint32 min SDK, uint32 max SDK, additional attributes
 *
 * a digest being (uint32 signature algorithm ID, length-prefixed digest) and
 * a certificate DER X.509. Parsed strictly (every length must add up to the
 * end), so that recognizing it is parsing it: the capture module carries
 * such data to the sign node, which checks its certificate against the
 * signing key (docs/sign-node.md, "Data the sign node understands"). */
#ifndef ROMBSR_APK_SIGNED_DATA_H
#define ROMBSR_APK_SIGNED_DATA_H

#include <stddef.h>
#include <stdint.h>

#define ROMBSR_APK_MAX_DIGESTS 8

struct rombsr_apk_signed_data {
	unsigned scheme;                 /* 2 or 3 */
	struct {
		uint32_t algorithm;      /* 0x0103 RSASSA-PKCS1-v1_5 with SHA2-256, … */
		const unsigned char *digest;
		size_t len;
	} digests[ROMBSR_APK_MAX_DIGESTS];
	size_t ndigests;
	const unsigned char *certificate; /* the first: the signer's, DER */
	size_t certificate_len;
	size_t ncertificates;
	uint32_t min_sdk, max_sdk;       /* v3 only */
};

/* 0 when data is v2 or v3 signed data with at least one digest of a known
 * algorithm and one certificate that parses as DER X.509; ROMBSR_EINVAL
 * naming what is wrong otherwise. Points into data. */
int rombsr_apk_signed_data_parse(const unsigned char *data, size_t len, struct rombsr_apk_signed_data *out);

/* What the old key signs when apksigner rotates (a node of an APK
 * signing-certificate lineage, "proof of rotation"): the new signer's
 * certificate and the algorithm the old key signs it with,
 *
 *   uint32 length, DER X.509 certificate, uint32 signature algorithm ID
 *
 * and nothing else. Parsed strictly; points into data. */
struct rombsr_apk_lineage_node {
	const unsigned char *certificate;
	size_t certificate_len;
	uint32_t algorithm;
};
int rombsr_apk_lineage_node_parse(const unsigned char *data, size_t len, struct rombsr_apk_lineage_node *out);

/* "RSA-PKCS1-SHA256" for 0x0103 and the others of the scheme, or NULL. */
const char *rombsr_apk_algorithm_name(uint32_t id);

#endif
