/* The backup manifest (docs/formats/backup.md). restore parses it only
 * once a pinned admin's signature over it verified, but it is a file from
 * removable media all the same. */
#include "util.h"

#include "../src/node/backup_manifest.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int parse(const char *text, size_t len, void *v)
{
	return backup_manifest_parse(text, len, "manifest.json", v);
}

static int encode(const void *v, struct rombsr_buf *out)
{
	char *text = NULL;
	size_t len = 0;
	int r = backup_manifest_write(v, &text, &len);

	rombsr_buf_init(out, BACKUP_FILE_MAX);
	if (r == 0) {
		rombsr_buf_append(out, text, len);
		r = rombsr_buf_check(out, "backup manifest");
	}
	free(text);
	return r;
}

static void release(void *v)
{
	(void)v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_codec codec = {"backup manifest", sizeof(struct backup_manifest), parse, encode,
						release};
	void *m = fuzz_round_trip(&codec, data, size);

	fuzz_codec_free(&codec, m);
	return 0;
}
