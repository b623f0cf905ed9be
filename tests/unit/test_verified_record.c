/* The verified record of queue-verify and apply (src/queue/headfile.h,
 * docs/queue.md "The verified record"): written and read back, an older
 * rombsr's bare commit ID, and every way a damaged file is refused. */
#define _GNU_SOURCE
#include "tap.h"

#include "../../src/common/error.h"
#include "../../src/queue/headfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HEAD "3436706d23667419867faff6551029e669644a47"

static char path[64];

static void put(const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

static int read_text(const char *text, struct rombsr_verified_record *rec)
{
	bool exists;
	int r;

	put(text);
	r = rombsr_verified_read(path, rec, &exists);
	if (r == 0 && !exists)
		r = ROMBSR_EINTERNAL;
	return r;
}

static void refused(const char *text, const char *want)
{
	struct rombsr_verified_record rec;
	int r = read_text(text, &rec);

	CHECK(r == ROMBSR_EINVAL && strstr(rombsr_error_message(r), want) != NULL, "refused (%s): %s", want,
	      rombsr_error_message(r));
}

int main(void)
{
	static const char pins[2][41] = {"F3DBAD8C90F7D195076A6F78F3738949EDC4A9FC",
					 "034DA63A4D0FC8420FA873EB32A3DDF3068EB683"};
	static const char swapped[2][41] = {"034DA63A4D0FC8420FA873EB32A3DDF3068EB683",
					    "F3DBAD8C90F7D195076A6F78F3738949EDC4A9FC"};
	struct rombsr_verified_record rec = {0}, back;
	char a[65], b[65], one[65], good[512];
	bool exists = true;

	snprintf(path, sizeof(path), "/tmp/rombsr-test-record.%d", (int)getpid());
	unlink(path);
	CHECK(rombsr_verified_read(path, &back, &exists) == 0 && !exists, "no record yet");

	CHECK(rombsr_verified_admins(pins, 2, a) == 0 && rombsr_verified_admins(swapped, 2, b) == 0 && strcmp(a, b) == 0,
	      "the pinned admins are a set: order does not matter");
	CHECK(rombsr_verified_admins(pins, 1, one) == 0 && strcmp(a, one) != 0, "other pins, other hash");

	git_oid_fromstr(&rec.head, HEAD);
	memcpy(rec.admins, a, sizeof(a));
	rec.have_totals = true;
	rec.commits = 5;
	rec.requests = 2;
	rec.responses = 2;
	rec.signed_ok = 1;
	rec.rejected = 1;
	CHECK(rombsr_verified_write(path, &rec) == 0, "written");
	CHECK(rombsr_verified_read(path, &back, &exists) == 0 && exists && back.have_totals && !back.legacy &&
		      git_oid_equal(&back.head, &rec.head) && strcmp(back.admins, a) == 0 && back.commits == 5 &&
		      back.requests == 2 && back.responses == 2 && back.signed_ok == 1 && back.rejected == 1,
	      "read back with its totals");
	rec.have_totals = false;
	CHECK(rombsr_verified_write(path, &rec) == 0 && rombsr_verified_read(path, &back, &exists) == 0 &&
		      !back.have_totals && git_oid_equal(&back.head, &rec.head),
	      "apply's record: no totals");
	CHECK(read_text(HEAD "\n", &back) == 0 && back.legacy && git_oid_equal(&back.head, &rec.head),
	      "an older rombsr's bare commit ID");

	snprintf(good, sizeof(good), "rombsr.queue-verified 1\nhead %s\nadmins %s\n", HEAD, a);
	refused("", "empty, binary or cut short");
	refused("rombsr.queue-verified 1\nhead " HEAD, "cut short");
	refused(HEAD, "cut short");
	refused("rombsr.queue-verified 2\nhead " HEAD "\nadmins x\n", "line 1: not a verified record");
	refused("rombsr.queue-verified 1\nhead " HEAD "\n", "line 1: not a verified record");
	refused("rombsr.queue-verified 1\nhead 3436706D23667419867FAFF6551029E669644A47\nadmins x\n", "line 2");
	refused("rombsr.queue-verified 1\nhead " HEAD "\nadmins abc\n", "line 3");
	{
		char text[1024];

		snprintf(text, sizeof(text), "%scommits 5\nrequests 2\n", good);
		refused(text, "5 lines");
		snprintf(text, sizeof(text), "%scommits 5\nrequests 2\nresponses 3\nsigned 3\nrejected 0\n", good);
		refused(text, "do not add up");
		snprintf(text, sizeof(text), "%scommits 5\nrequests 2\nresponses 2\nsigned 1\nrejected 0\n", good);
		refused(text, "do not add up");
		snprintf(text, sizeof(text), "%scommits 05\nrequests 2\nresponses 2\nsigned 1\nrejected 1\n", good);
		refused(text, "line 4: expected 'commits'");
		snprintf(text, sizeof(text), "%scommits 5\nrequests -2\nresponses 2\nsigned 1\nrejected 1\n", good);
		refused(text, "line 5: expected 'requests'");
		snprintf(text, sizeof(text), "%scommits 5\nrequests 99999999999999999999999\nresponses 2\nsigned 1\nrejected 1\n",
			 good);
		refused(text, "line 5");
		snprintf(text, sizeof(text), "%scommits 5\nrequests 2\nresponses 2\nsigned 1\nrejected 1\nextra 1\n", good);
		refused(text, "more than 8 lines");
		snprintf(text, sizeof(text), "%scommits 5\n\nrequests 2\nresponses 2\nsigned 1\n", good);
		refused(text, "line 5: expected 'requests'");
		CHECK(read_text(good, &back) == 0 && !back.have_totals && strcmp(back.admins, a) == 0,
		      "the three lines of apply's record");
	}
	{
		/* A NUL would end the text early and let the rest pass unread. */
		struct rombsr_verified_record nul;
		FILE *f = fopen(path, "w");
		bool e;
		int r;

		fwrite(good, 1, strlen(good), f);
		fwrite("\0junk\n", 1, 6, f);
		fclose(f);
		r = rombsr_verified_read(path, &nul, &e);
		CHECK(r == ROMBSR_EINVAL, "a NUL byte is refused: %s", rombsr_error_message(r));
	}
	unlink(path);
	return tap_done();
}
