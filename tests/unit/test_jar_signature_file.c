/* APK v1 signature files (src/common/jar_signature_file.c): apksigner's
 * layout parsed back, every kind of damage refused naming what, and the
 * capture format naming its kind. */
#include "tap.h"

#include "../../src/common/capture_format.h"
#include "../../src/common/error.h"
#include "../../src/common/jar_signature_file.h"

#include <stdio.h>
#include <string.h>

/* A SHA-256 digest in base64 (32 bytes of 0x01), and one of the wrong size. */
#define D32 "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
#define D20 "AQEBAQEBAQEBAQEBAQEBAQEBAQE="

static const char good[] =
	"Signature-Version: 1.0\r\n"
	"Created-By: 1.0 (Android)\r\n"
	"SHA-256-Digest-Manifest: " D32 "\r\n"
	"X-Android-APK-Signed: 2, 3\r\n"
	"\r\n"
	"Name: AndroidManifest.xml\r\n"
	"SHA-256-Digest: " D32 "\r\n"
	"\r\n"
	"Name: res/layout/a_very_long_name_that_the_manifest_format_continues_on_the\r\n"
	" _next_line.xml\r\n"
	"SHA-256-Digest: " D32 "\r\n"
	"\r\n";

static int parse(const char *text, struct rombsr_jar_signature_file *sf)
{
	return rombsr_jar_signature_file_parse((const unsigned char *)text, strlen(text), sf);
}

/* good with the first occurrence of from replaced by to. */
static int parse_changed(const char *from, const char *to, struct rombsr_jar_signature_file *sf)
{
	char text[sizeof(good) + 256];
	const char *at = strstr(good, from);

	snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - good), good, to, at + strlen(from));
	return parse(text, sf);
}

int main(void)
{
	struct rombsr_jar_signature_file sf;
	unsigned char one[32];

	memset(one, 1, sizeof(one));
	CHECK(parse(good, &sf) == 0 && sf.entries == 2 && strcmp(sf.manifest_algorithm, "SHA-256") == 0 &&
		      sf.manifest_digest_len == 32 && memcmp(sf.manifest_digest, one, 32) == 0 &&
		      strcmp(sf.apk_signed, "2, 3") == 0,
	      "apksigner's signature file parses: 2 entries (one name continued), SHA-256 manifest digest, 2, 3");
	CHECK(strcmp(rombsr_cap_data_kind((const unsigned char *)good, strlen(good)), "jar-signature-file") == 0,
	      "the capture format names it jar-signature-file");
	CHECK(parse_changed("X-Android-APK-Signed: 2, 3\r\n", "", &sf) == 0 && sf.apk_signed[0] == '\0',
	      "without X-Android-APK-Signed (v1 only)");
	CHECK(tap_fails(parse_changed("1.0\r\n", "2.0\r\n", &sf), ROMBSR_EINVAL, "Signature-Version: 1.0"),
	      "another version is refused");
	CHECK(tap_fails(parse_changed("SHA-256-Digest-Manifest: " D32, "SHA-256-Digest-Manifest: " D20, &sf),
			ROMBSR_EINVAL, "a SHA-256 digest of 20 bytes"),
	      "a manifest digest of the wrong size is refused");
	CHECK(tap_fails(parse_changed("SHA-256-Digest-Manifest: " D32 "\r\n", "", &sf), ROMBSR_EINVAL,
			"names no manifest digest"),
	      "a main section without the manifest digest is refused");
	CHECK(tap_fails(parse_changed("Name: AndroidManifest.xml", "Nom: AndroidManifest.xml", &sf), ROMBSR_EINVAL,
			"must start with a Name"),
	      "a section without a Name is refused");
	CHECK(tap_fails(parse_changed("SHA-256-Digest: " D32 "\r\n", "", &sf), ROMBSR_EINVAL, "has no digest"),
	      "a section without a digest is refused");
	CHECK(tap_fails(parse_changed("Created-By: 1.0 (Android)\r\n", "Created-By: 1.0 (Android)\n", &sf),
			ROMBSR_EINVAL, "line feed without carriage return"),
	      "a bare line feed is refused");
	CHECK(tap_fails(parse_changed("\r\n\r\nName: Andr", "\r\n\r\n\r\nName: Andr", &sf), ROMBSR_EINVAL,
			"an empty section"),
	      "two empty lines are refused");
	CHECK(tap_fails(parse_changed("X-Android-APK-Signed: 2, 3", "X-Android-APK-Signed: two", &sf), ROMBSR_EINVAL,
			"X-Android-APK-Signed"),
	      "a scheme list that is not numbers is refused");
	CHECK(tap_fails(parse_changed("Created-By: 1.0", "Created By: 1.0", &sf), ROMBSR_EINVAL, "not an attribute"),
	      "a line that is no attribute is refused");
	CHECK(tap_fails(rombsr_jar_signature_file_parse((const unsigned char *)good, strlen(good) - 3, &sf),
			ROMBSR_EINVAL, "does not end in CR LF"),
	      "a truncated file is refused");
	CHECK(rombsr_cap_data_kind((const unsigned char *)good, strlen(good) - 3) == NULL,
	      "and is of no kind the capture module carries");
	return tap_done();
}
