/* The wrapped-key file (docs/formats/wrapped-key.md): the page's example
 * parses to its fields and formats back to the same text; every damage is
 * refused naming the field, with nothing left allocated; the store's
 * write, read, mislabelled file and remove. */
#include "tap.h"

#include "../../src/common/error.h"
#include "../../src/common/fsutil.h"
#include "../../src/common/hex.h"
#include "../../src/common/wrapped_key.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/rombsr-unit-wrapped.XXXXXX";

/* The JSON block of the format page. */
static char *example(void)
{
	char *doc = tap_top_file("docs/formats/wrapped-key.md");
	char *start = doc ? strstr(doc, "```json\n") : NULL;
	char *end = start ? strstr(start + 8, "```") : NULL;
	char *text = NULL;

	if (end != NULL) {
		text = strndup(start + 8, (size_t)(end - start - 8));
	}
	free(doc);
	return text;
}

static void refused(const char *name, const char *text, int code, const char *want)
{
	struct rombsr_wrapped_key k;
	int r = rombsr_wrapped_key_parse(text, strlen(text), "k.json", &k);

	CHECK(tap_fails(r, code, want), "%s refused, naming it", name);
	CHECK(k.wrapped == NULL && k.certificate == NULL, "%s: nothing left allocated", name);
}

/* text with the first `from` replaced by `to`. */
static char *edit(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	char *out = malloc(strlen(text) + strlen(to) + 1);

	if (at == NULL || out == NULL)
		abort();
	sprintf(out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	return out;
}

static void damages(const char *text)
{
	static const struct {
		const char *name, *from, *to, *want;
		int code;
	} cases[] = {
		{"another version", "\"version\": 1", "\"version\": 2", "unsupported version", ROMBSR_EUNSUPPORTED},
		{"another format", "rombsr.wrapped-key", "rombsr.wrapped", "format is not", ROMBSR_EINVAL},
		{"unknown field", "\"mechanism\"", "\"extra\": 1, \"mechanism\"", "extra", ROMBSR_EINVAL},
		{"label leaving its folder", "devices/walleye/media", "../media", "not a key-set label", ROMBSR_EINVAL},
		{"unknown authority", "\"release\"", "\"ota\"", "unknown authority 'ota'", ROMBSR_EINVAL},
		{"upper-case hex", "\"id\": \"1aa2", "\"id\": \"1AA2", "k.json.id", ROMBSR_EINVAL},
		{"other mechanism", "CKM_AES_KEY_WRAP_PAD", "CKM_AES_KEY_WRAP", "mechanism", ROMBSR_EINVAL},
		{"bad base64", "\"wrapped\": \"hF", "\"wrapped\": \"h!", "wrapped", ROMBSR_EINVAL},
		{"duplicate key", "\"mechanism\"", "\"label\": \"x\", \"mechanism\"", "duplicate", ROMBSR_EINVAL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *bad = edit(text, cases[i].from, cases[i].to);

		refused(cases[i].name, bad, cases[i].code, cases[i].want);
		free(bad);
	}
	refused("not JSON", "{", ROMBSR_EINVAL, "k.json");
}

static void store(const struct rombsr_wrapped_key *k)
{
	struct rombsr_wrapped_key back;
	char folder[128], path[4096];
	struct stat st;
	int r;

	snprintf(folder, sizeof(folder), "%s/wrapped/release", dir);
	CHECK(rombsr_wrapped_key_read(folder, k->label, ROMBSR_AUTHORITY_RELEASE, &back) == ROMBSR_ENOTFOUND,
	      "no file: ROMBSR_ENOTFOUND");
	CHECK(rombsr_wrapped_key_write(folder, k, (uid_t)-1, (gid_t)-1) == 0, "write");
	CHECK(rombsr_wrapped_key_path(folder, k->label, path, sizeof(path)) == 0 &&
		      strstr(path, "/devices+walleye+media.json") != NULL,
	      "the file is named by the label, '/' as '+'");
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "the file is 0600");
	CHECK(stat(folder, &st) == 0 && (st.st_mode & 0777) == 0700, "the folder is 0700");
	r = rombsr_wrapped_key_read(folder, k->label, ROMBSR_AUTHORITY_RELEASE, &back);
	CHECK(r == 0 && back.wrapped_len == k->wrapped_len && memcmp(back.wrapped, k->wrapped, k->wrapped_len) == 0,
	      "read back");
	rombsr_wrapped_key_free(&back);
	CHECK(tap_fails(rombsr_wrapped_key_read(folder, k->label, ROMBSR_AUTHORITY_MANIFEST, &back), ROMBSR_ESECURITY,
			"not 'devices/walleye/media' of the manifest authority"),
	      "a file read for another authority is refused");
	CHECK(rename(path, strcat(strcpy((char[4096]){0}, folder), "/devices+walleye+platform.json")) == 0, "move");
	CHECK(tap_fails(rombsr_wrapped_key_read(folder, "devices/walleye/platform", ROMBSR_AUTHORITY_RELEASE, &back),
			ROMBSR_ESECURITY, "holds key 'devices/walleye/media'"),
	      "a file under another key's name is refused");
	CHECK(rombsr_wrapped_key_remove(folder, "devices/walleye/platform") == 0 &&
		      rombsr_wrapped_key_remove(folder, "devices/walleye/platform") == 0,
	      "remove, twice");
	CHECK(!rombsr_path_exists(path) && rombsr_wrapped_key_read(folder, "devices/walleye/platform",
								    ROMBSR_AUTHORITY_RELEASE, &back) == ROMBSR_ENOTFOUND,
	      "removed");
}

/* A YubiHSM's Export Wrapped blob: read and written back as it is; a key
 * with no known mechanism is not written. */
static void yubihsm_mechanism(const char *text)
{
	char *yh = edit(text, "CKM_AES_KEY_WRAP_PAD", "YUBIHSM_AES_CCM_WRAP"), *again = NULL;
	struct rombsr_wrapped_key k;
	size_t len = 0;

	CHECK(rombsr_wrapped_key_parse(yh, strlen(yh), "yh.json", &k) == 0 &&
		      strcmp(k.mechanism, "YUBIHSM_AES_CCM_WRAP") == 0,
	      "a YubiHSM's mechanism parses");
	CHECK(rombsr_wrapped_key_format(&k, &again, &len) == 0 && len + 1 == strlen(yh) && memcmp(again, yh, len) == 0,
	      "and formats back");
	free(again);
	again = NULL;
	k.mechanism[0] = '\0';
	CHECK(tap_fails(rombsr_wrapped_key_format(&k, &again, &len), ROMBSR_EINVAL, "unknown wrap mechanism ''") &&
		      again == NULL,
	      "a key without a mechanism is not written");
	rombsr_wrapped_key_free(&k);
	free(yh);
}

int main(void)
{
	char *text = example(), *again = NULL;
	struct rombsr_wrapped_key k;
	char id[129];
	size_t len = 0;
	int r;

	if (mkdtemp(dir) == NULL || text == NULL)
		abort();
	r = rombsr_wrapped_key_parse(text, strlen(text), "example", &k);
	CHECK(r == 0, "the page's example parses (%s)", r ? rombsr_error_message(r) : "");
	rombsr_hex_encode(k.id, k.id_len, id);
	CHECK(strcmp(k.label, "devices/walleye/media") == 0 && k.authority == ROMBSR_AUTHORITY_RELEASE &&
		      strcmp(id, "1aa2a58e5e064ce720e080d083bce144") == 0 && k.wrap_key_id_len == 16 &&
		      k.wrapped_len == 80 && k.certificate_len > 400,
	      "its fields (wrapped %zu bytes, certificate %zu)", k.wrapped_len, k.certificate_len);
	CHECK(rombsr_wrapped_key_format(&k, &again, &len) == 0 && len + 1 == strlen(text) &&
		      memcmp(again, text, len) == 0,
	      "formats back to the page's text");
	CHECK(strcmp(k.mechanism, "CKM_AES_KEY_WRAP_PAD") == 0, "its mechanism");
	yubihsm_mechanism(text);
	damages(text);
	store(&k);
	rombsr_wrapped_key_free(&k);
	free(again);
	free(text);
	rombsr_remove_tree(dir);
	return tap_done();
}
