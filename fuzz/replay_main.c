/* The main() of the replay binaries (build/fuzz/replay_<name>): the normal
 * gcc build, without libFuzzer, runs a harness on every file named on the
 * command line, or on every file of a folder named there, so that tests/run
 * replays the committed corpora under ASan and UBSan on every CI run. A
 * crash aborts with the sanitizer's report; the file being run is printed
 * first so the report names it. */
#define _GNU_SOURCE
#include "../src/common/buf.h"
#include "../src/common/fsutil.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Larger than any corpus file: libFuzzer's default -max_len is 4096, and
 * regression inputs are minimised. */
#define REPLAY_MAX (4u * 1024 * 1024)

static int replay_file(const char *path)
{
	struct rombsr_buf b = {0};
	int r = rombsr_file_read(path, REPLAY_MAX, &b);

	if (r < 0) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		return -1;
	}
	fprintf(stderr, "replay: %s (%zu bytes)\n", path, b.len);
	/* A copy of exactly the file's length, so ASan sees a read past the end
	 * of the input as libFuzzer would. */
	uint8_t *copy = malloc(b.len ? b.len : 1);
	if (copy == NULL)
		abort();
	if (b.len)
		memcpy(copy, b.data, b.len);
	LLVMFuzzerTestOneInput(copy, b.len);
	free(copy);
	rombsr_buf_free(&b);
	return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
	int failed = 0, files = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			struct dirent **names;
			int n = scandir(argv[i], &names, NULL, by_name);

			if (n < 0) {
				fprintf(stderr, "replay: cannot list %s\n", argv[i]);
				failed++;
				continue;
			}
			for (int j = 0; j < n; j++) {
				char path[4096];

				if (names[j]->d_name[0] != '.') {
					snprintf(path, sizeof(path), "%s/%s", argv[i], names[j]->d_name);
					failed += replay_file(path) < 0;
					files++;
				}
				free(names[j]);
			}
			free(names);
		} else {
			failed += replay_file(argv[i]) < 0;
			files++;
		}
	}
	printf("replayed %d files, %d unreadable\n", files, failed);
	return failed == 0 && files > 0 ? 0 : 1;
}
