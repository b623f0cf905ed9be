#include "jar_signature_file.h"

#include "base64.h"
#include "error.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define LINE_MAX_BYTES 2048 /* a logical line: an entry name is a path, never this long in an APK */

/* Weakest first: the manifest digest kept is the last found in this order. */
static const struct {
	const char *name;
	size_t len;
} digest_algorithms[] = {{"SHA1", 20}, {"SHA-256", 32}, {"SHA-384", 48}, {"SHA-512", 64}};

#define N_ALGORITHMS (sizeof(digest_algorithms) / sizeof(digest_algorithms[0]))

struct sf_reader {
	const unsigned char *p;
	size_t left;
	size_t line; /* physical line number, for errors */
};

/* One physical line without its CR LF into line[*n...]. */
static int physical_line(struct sf_reader *r, char *line, size_t *n)
{
	r->line++;
	while (r->left > 0 && r->p[0] != '\r') {
		if (r->p[0] == '\0' || r->p[0] == '\n')
			return rombsr_error(ROMBSR_EINVAL, "signature file: line %zu holds a %s", r->line,
					    r->p[0] ? "line feed without carriage return" : "NUL byte");
		if (*n == LINE_MAX_BYTES)
			return rombsr_error(ROMBSR_EINVAL, "signature file: line %zu is longer than %d bytes", r->line,
					    LINE_MAX_BYTES);
		line[(*n)++] = (char)*r->p++;
		r->left--;
	}
	if (r->left < 2 || r->p[1] != '\n')
		return rombsr_error(ROMBSR_EINVAL, "signature file: line %zu does not end in CR LF", r->line);
	r->p += 2;
	r->left -= 2;
	return 0;
}

/* The next logical line (continuations joined) into line, NUL-terminated;
 * an empty one ends a section. */
static int logical_line(struct sf_reader *r, char line[LINE_MAX_BYTES + 1])
{
	size_t n = 0;
	int e = physical_line(r, line, &n);

	while (e == 0 && n > 0 && r->left > 0 && r->p[0] == ' ') {
		r->p++;
		r->left--;
		e = physical_line(r, line, &n);
	}
	line[n] = '\0';
	return e;
}

/* "Key: value" → key (in line) and value. */
static int attribute(struct sf_reader *r, char *line, const char **value)
{
	char *colon = strchr(line, ':');
	size_t klen = colon ? (size_t)(colon - line) : 0;

	if (colon == NULL || colon[1] != ' ' || klen == 0 || klen > 70 ||
	    strspn(line, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != klen)
		return rombsr_error(ROMBSR_EINVAL, "signature file: line %zu is not an attribute", r->line);
	*colon = '\0';
	*value = colon + 2;
	return 0;
}

/* The algorithm of "<ALG><suffix>", or -1. */
static int digest_algorithm(const char *key, const char *suffix)
{
	size_t klen = strlen(key), slen = strlen(suffix);

	if (klen <= slen || strcmp(key + klen - slen, suffix) != 0)
		return -1;
	for (size_t i = 0; i < N_ALGORITHMS; i++)
		if (strlen(digest_algorithms[i].name) == klen - slen &&
		    strncmp(key, digest_algorithms[i].name, klen - slen) == 0)
			return (int)i;
	return -1;
}

static int digest_value(struct sf_reader *r, int alg, const char *value, unsigned char *out, size_t *len)
{
	int e = rombsr_base64_decode(value, strlen(value), out, ROMBSR_JAR_DIGEST_MAX, len, "digest");

	if (e == 0 && *len != digest_algorithms[alg].len)
		e = rombsr_error(ROMBSR_EINVAL, "a %s digest of %zu bytes", digest_algorithms[alg].name, *len);
	return e < 0 ? rombsr_error_wrap(e, "signature file: line %zu", r->line) : 0;
}

static int main_section(struct sf_reader *r, char *line, struct rombsr_jar_signature_file *out)
{
	int best = -1, e = logical_line(r, line);
	const char *value;

	if (e == 0 && strcmp(line, "Signature-Version: 1.0") != 0)
		return rombsr_error(ROMBSR_EINVAL, "signature file: does not start with Signature-Version: 1.0");
	while (e == 0 && r->left > 0 && (e = logical_line(r, line)) == 0 && line[0] != '\0') {
		int alg;

		if ((e = attribute(r, line, &value)) < 0)
			break;
		alg = digest_algorithm(line, "-Digest-Manifest");
		if (alg >= 0 && alg > best) {
			e = digest_value(r, alg, value, out->manifest_digest, &out->manifest_digest_len);
			best = alg;
		} else if (alg >= 0) {
			return rombsr_error(ROMBSR_EINVAL, "signature file: line %zu: a second or weaker manifest "
					    "digest", r->line);
		} else if (strcmp(line, "X-Android-APK-Signed") == 0) {
			if (out->apk_signed[0] != '\0' || strlen(value) > ROMBSR_JAR_VALUE_MAX ||
			    value[strspn(value, "0123456789, ")] != '\0')
				return rombsr_error(ROMBSR_EINVAL, "signature file: line %zu: X-Android-APK-Signed "
						    "must be one list of scheme numbers", r->line);
			snprintf(out->apk_signed, sizeof(out->apk_signed), "%s", value);
		}
	}
	if (e == 0 && best < 0)
		e = rombsr_error(ROMBSR_EINVAL, "signature file: the main section names no manifest digest");
	if (e == 0)
		out->manifest_algorithm = digest_algorithms[best].name;
	return e;
}

/* One individual section, its first line already read: "Name: …" then
 * the entry's digests. */
static int entry_section(struct sf_reader *r, char *line)
{
	unsigned char digest[ROMBSR_JAR_DIGEST_MAX];
	size_t len, digests = 0;
	const char *value;
	int e = attribute(r, line, &value);

	if (e == 0 && (strcmp(line, "Name") != 0 || value[0] == '\0'))
		return rombsr_error(ROMBSR_EINVAL, "signature file: line %zu: a section must start with a Name",
				    r->line);
	while (e == 0 && r->left > 0 && (e = logical_line(r, line)) == 0 && line[0] != '\0') {
		int alg;

		if ((e = attribute(r, line, &value)) < 0)
			break;
		alg = digest_algorithm(line, "-Digest");
		if (alg >= 0 && (e = digest_value(r, alg, value, digest, &len)) == 0)
			digests++;
	}
	if (e == 0 && digests == 0)
		e = rombsr_error(ROMBSR_EINVAL, "signature file: the section ending at line %zu has no digest",
				 r->line);
	return e;
}

int rombsr_jar_signature_file_parse(const unsigned char *data, size_t len, struct rombsr_jar_signature_file *out)
{
	struct sf_reader r = {data, len, 0};
	char line[LINE_MAX_BYTES + 1];
	int e;

	memset(out, 0, sizeof(*out));
	if (len < 22 || memcmp(data, "Signature-Version: ", 19) != 0)
		return rombsr_error(ROMBSR_EINVAL, "signature file: does not start with Signature-Version");
	e = main_section(&r, line, out);
	while (e == 0 && r.left > 0) {
		e = logical_line(&r, line);
		/* apksigner ends every section with an empty line; sections
		 * follow each other with exactly one. */
		if (e == 0 && line[0] == '\0')
			e = rombsr_error(ROMBSR_EINVAL, "signature file: an empty section at line %zu", r.line);
		if (e == 0)
			e = entry_section(&r, line);
		if (e == 0)
			out->entries++;
	}
	return e;
}
