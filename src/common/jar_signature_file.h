/* The signature file of a JAR-signed APK (META-INF/<NAME>.SF, APK
 * signature scheme v1): what apksigner and jarsigner hand the token to sign
 * for a v1 signature, signed as is. A manifest-format text, CR LF line ends,
 * long values continued on lines that start with one space:
 *
 *   Signature-Version: 1.0
 *   Created-By: 1.0 (Android)
 *   SHA-256-Digest-Manifest: <base64 of the digest of META-INF/MANIFEST.MF>
 *   X-Android-APK-Signed: 2, 3          (the stripping protection, optional)
 *
 *   Name: AndroidManifest.xml
 *   SHA-256-Digest: <base64 of the digest of that entry's manifest section>
 *
 * Parsed strictly (recognizing it is parsing it), so that the capture
 * module carries it to the sign node, which logs the manifest digest it
 * signs (docs/sign-node.md, "Data the sign node understands"). */
#ifndef ROMBSR_JAR_SIGNATURE_FILE_H
#define ROMBSR_JAR_SIGNATURE_FILE_H

#include <stddef.h>

#define ROMBSR_JAR_DIGEST_MAX 64
#define ROMBSR_JAR_VALUE_MAX 64

struct rombsr_jar_signature_file {
	const char *manifest_algorithm; /* "SHA-256", "SHA1", "SHA-384" or "SHA-512": the strongest named */
	unsigned char manifest_digest[ROMBSR_JAR_DIGEST_MAX];
	size_t manifest_digest_len;
	char apk_signed[ROMBSR_JAR_VALUE_MAX + 1]; /* X-Android-APK-Signed, "" when absent */
	size_t entries;                           /* individual sections */
};

/* 0 when data is a signature file: the main section first, starting with
 * "Signature-Version: 1.0" and naming the manifest's digest; every other
 * section a "Name:" with at least one entry digest; every digest base64 of
 * its algorithm's length. ROMBSR_EINVAL naming what is wrong otherwise. */
int rombsr_jar_signature_file_parse(const unsigned char *data, size_t len, struct rombsr_jar_signature_file *out);

#endif
