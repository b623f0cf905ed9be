/* rombsr_append_whole (fsutil.h): a record that the disk takes only in
 * part is cut back, so the next record starts on a line of its own. The
 * disk filling is RLIMIT_FSIZE, with SIGXFSZ ignored: write(2) then takes
 * what fits and fails with EFBIG, as a full file system would. */
#include "tap.h"

#include "../../src/common/error.h"
#include "../../src/common/fsutil.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/rombsr-append.XXXXXX";

static void set_limit(rlim_t bytes)
{
	struct rlimit l;

	if (getrlimit(RLIMIT_FSIZE, &l) != 0)
		abort();
	l.rlim_cur = bytes == RLIM_INFINITY ? l.rlim_max : bytes;
	if (setrlimit(RLIMIT_FSIZE, &l) != 0)
		abort();
}

int main(void)
{
	const char first[] = "{\"line\":1}\n", second[] = "{\"line\":2, \"long enough to be torn\":true}\n",
		   third[] = "{\"line\":3}\n";
	char path[64], back[256] = "";
	struct stat st;
	FILE *f;
	int fd, r;

	if (mkdtemp(dir) == NULL || signal(SIGXFSZ, SIG_IGN) == SIG_ERR)
		abort();
	snprintf(path, sizeof(path), "%s/ledger", dir);
	fd = open(path, O_RDWR | O_CREAT | O_APPEND, 0600);
	CHECK(fd >= 0 && rombsr_append_whole(fd, first, strlen(first), "the ledger") == 0, "a record is appended");

	/* Room for 10 more bytes: the second record is written in part. */
	set_limit(strlen(first) + 10);
	r = rombsr_append_whole(fd, second, strlen(second), "the ledger");
	set_limit(RLIM_INFINITY);
	CHECK(tap_fails(r, ROMBSR_EIO, "cannot write the ledger: File too large"), "a record the disk takes in part "
	      "fails, naming the file");
	if (fstat(fd, &st) != 0)
		abort();
	CHECK((size_t)st.st_size == strlen(first), "what was written of it is cut back (%lld bytes left)",
	      (long long)st.st_size);

	CHECK(rombsr_append_whole(fd, third, strlen(third), "the ledger") == 0, "the next record is appended");
	close(fd);
	f = fopen(path, "r");
	if (f == NULL)
		abort();
	back[fread(back, 1, sizeof(back) - 1, f)] = '\0';
	fclose(f);
	CHECK(strncmp(back, first, strlen(first)) == 0 && strcmp(back + strlen(first), third) == 0,
	      "on a line of its own after the first (%zu bytes)", strlen(back));

	CHECK(tap_fails(rombsr_append_whole(-1, first, strlen(first), "the ledger"), ROMBSR_EIO, "cannot stat the ledger"),
	      "a bad descriptor is an error, not a crash");
	rombsr_remove_tree(dir);
	return tap_done();
}
