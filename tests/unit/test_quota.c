/* The quota ledger (src/sign/quota.c): counts per key and per build node
 * over a window, recording idempotent per request, durable across a
 * reopen; a torn last line is cut, a malformed line anywhere else is an
 * error naming the line; entries older than the longest window are
 * forgotten and the file rewritten without them. */
#define _GNU_SOURCE
#include "tap.h"

#include "../../src/common/error.h"
#include "../../src/common/fsutil.h"
#include "../../src/sign/quota.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID_A "20261122" "89abcdef0123456789abcdef"
#define ID_B "20261122" "76543210fedcba9876543210"
#define ID_C "20261122" "000000000000000000000001"
#define NODE_A "766B1D0EE6E9502434D46C14812FCB67F39F41A6"
#define NODE_B "89ABCDEF0123456789ABCDEF0123456789ABCDEF"
#define NOW ((time_t)1800000000)

static char dir[64], file[128];

static const struct rombsr_quota_use platform3[] = {{"platform", 3}};
static const struct rombsr_quota_use mixed[] = {{"platform", 1}, {"media", 4}};

static char *contents(void)
{
	struct rombsr_buf b;
	char *s;

	if (rombsr_file_read(file, 1 << 20, &b) < 0)
		return strdup("(unreadable)");
	s = strdup(rombsr_buf_cstr(&b));
	rombsr_buf_free(&b);
	return s;
}

static void write_file(const char *text)
{
	FILE *f = fopen(file, "w");

	fputs(text, f);
	fclose(f);
}

static void test_memory(void)
{
	struct rombsr_quota_ledger *l;
	int r = rombsr_quota_ledger_new(&l);

	CHECK(r == 0, "an in-memory ledger opens");
	if (r < 0)
		return;
	r = rombsr_quota_ledger_add(l, NOW - 100, ID_A, NODE_A, platform3, 1);
	CHECK(r == 0 && rombsr_quota_ledger_has(l, ID_A) && !rombsr_quota_ledger_has(l, ID_B), "a request recorded");
	r = rombsr_quota_ledger_add(l, NOW - 10, ID_B, NODE_B, mixed, 2);
	CHECK(r == 0 && rombsr_quota_ledger_size(l) == 2, "a second request recorded");
	CHECK(rombsr_quota_ledger_count_key(l, "platform", NOW, 3600, NULL) == 4 &&
		      rombsr_quota_ledger_count_key(l, "media", NOW, 3600, NULL) == 4 &&
		      rombsr_quota_ledger_count_key(l, "testkey", NOW, 3600, NULL) == 0,
	      "counts per key");
	CHECK(rombsr_quota_ledger_count_node(l, NODE_A, NOW, 3600, NULL) == 3 &&
		      rombsr_quota_ledger_count_node(l, NODE_B, NOW, 3600, NULL) == 5,
	      "counts per build node, every key together");
	CHECK(rombsr_quota_ledger_count_key(l, "platform", NOW, 100, NULL) == 1 &&
		      rombsr_quota_ledger_count_key(l, "platform", NOW, 101, NULL) == 4,
	      "the window: an entry exactly W seconds old is out of it");
	CHECK(rombsr_quota_ledger_count_key(l, "platform", NOW, 3600, ID_A) == 1 &&
		      rombsr_quota_ledger_count_node(l, NODE_B, NOW, 3600, ID_B) == 0,
	      "a request can be left out of its own count");
	CHECK(rombsr_quota_ledger_count_key(l, "platform", NOW - 1000, 60, NULL) == 4,
	      "entries dated after now still count (a clock set back never frees quota)");
	r = rombsr_quota_ledger_add(l, NOW, ID_A, NODE_A, mixed, 2);
	CHECK(r == 0 && rombsr_quota_ledger_count_key(l, "platform", NOW, 3600, NULL) == 4 &&
		      rombsr_quota_ledger_size(l) == 2,
	      "recording a request again changes nothing");
	{
		struct rombsr_quota_use bad[] = {{"plat form", 1}};
		struct rombsr_quota_use zero[] = {{"platform", 0}};
		struct rombsr_quota_use twice[] = {{"platform", 1}, {"platform", 2}};

		r = rombsr_quota_ledger_add(l, NOW, ID_C, NODE_A, bad, 1);
		CHECK(r == ROMBSR_EINVAL && strstr(rombsr_error_message(r), "'plat form'"),
		      "a label with a space is refused");
		r = rombsr_quota_ledger_add(l, NOW, ID_C, NODE_A, zero, 1);
		CHECK(r == ROMBSR_EINVAL, "a zero count is refused");
		r = rombsr_quota_ledger_add(l, NOW, ID_C, NODE_A, twice, 2);
		CHECK(r == ROMBSR_EINVAL && strstr(rombsr_error_message(r), "listed twice"), "a key twice is refused");
		r = rombsr_quota_ledger_add(l, NOW, ID_C, NODE_A, platform3, 0);
		CHECK(r == ROMBSR_EINVAL, "no key at all is refused");
		r = rombsr_quota_ledger_add(l, NOW, "0123", NODE_A, platform3, 1);
		CHECK(r == ROMBSR_EINVAL && strstr(rombsr_error_message(r), "not a request ID"),
		      "a bad request ID is refused");
		r = rombsr_quota_ledger_add(l, NOW, ID_C, "766b1d0ee6e9502434d46c14812fcb67f39f41a6", platform3, 1);
		CHECK(r == ROMBSR_EINVAL && strstr(rombsr_error_message(r), "fingerprint"), "a bad node is refused");
		CHECK(!rombsr_quota_ledger_has(l, ID_C), "nothing refused was recorded");
	}
	rombsr_quota_ledger_close(l);
}

static void test_record_request(void)
{
	struct rombsr_quota_ledger *l;
	struct rombsr_request_op ops[4] = {0};
	struct rombsr_request req = {.ops = ops, .nops = 4};
	int r;

	memcpy(req.id, ID_A, sizeof(req.id));
	memcpy(req.build_node, NODE_A, sizeof(req.build_node));
	snprintf(ops[0].op.label, sizeof(ops[0].op.label), "platform");
	snprintf(ops[1].op.label, sizeof(ops[1].op.label), "avb_root");
	snprintf(ops[2].op.label, sizeof(ops[2].op.label), "platform");
	snprintf(ops[3].op.label, sizeof(ops[3].op.label), "platform");
	rombsr_quota_ledger_new(&l);
	r = rombsr_quota_ledger_record(l, &req, NOW);
	CHECK(r == 0 && rombsr_quota_ledger_count_key(l, "platform", NOW, 60, NULL) == 3 &&
		      rombsr_quota_ledger_count_key(l, "avb_root", NOW, 60, NULL) == 1 &&
		      rombsr_quota_ledger_count_node(l, NODE_A, NOW, 60, NULL) == 4,
	      "a request is recorded as its operations per key");
	rombsr_quota_ledger_close(l);
}

static void test_file(void)
{
	struct rombsr_quota_ledger *l;
	char *text;
	FILE *f;
	int r;

	r = rombsr_quota_ledger_open(dir, NOW, &l);
	CHECK(r == 0, "a new ledger file opens (%s)", r < 0 ? rombsr_error_message(r) : "ok");
	if (r < 0)
		return;
	text = contents();
	CHECK(strcmp(text, ROMBSR_QUOTA_HEADER "\n") == 0, "a new file holds the header only");
	free(text);
	r = rombsr_quota_ledger_add(l, NOW - 5, ID_A, NODE_A, platform3, 1);
	if (r == 0)
		r = rombsr_quota_ledger_add(l, NOW - 4, ID_B, NODE_B, mixed, 2);
	CHECK(r == 0, "two requests recorded");
	rombsr_quota_ledger_close(l);
	text = contents();
	CHECK(strcmp(text, ROMBSR_QUOTA_HEADER "\n"
			   "1799999995 " ID_A " " NODE_A " platform=3\n"
			   "1799999996 " ID_B " " NODE_B " platform=1 media=4\n") == 0,
	      "one line per request");
	free(text);

	r = rombsr_quota_ledger_open(dir, NOW, &l);
	CHECK(r == 0 && rombsr_quota_ledger_size(l) == 2 &&
		      rombsr_quota_ledger_count_key(l, "platform", NOW, 60, NULL) == 4,
	      "the records survive a reopen");
	if (r == 0)
		rombsr_quota_ledger_close(l);

	/* A crash in the middle of a write: the torn line is cut, and the
	 * next record starts on a line of its own. */
	f = fopen(file, "a");
	fputs("1800000000 " ID_C " " NODE_A " platfo", f);
	fclose(f);
	r = rombsr_quota_ledger_open(dir, NOW, &l);
	CHECK(r == 0 && rombsr_quota_ledger_size(l) == 2 && !rombsr_quota_ledger_has(l, ID_C),
	      "a torn last line is ignored (%s)", r < 0 ? rombsr_error_message(r) : "ok");
	if (r == 0) {
		r = rombsr_quota_ledger_add(l, NOW, ID_C, NODE_A, platform3, 1);
		rombsr_quota_ledger_close(l);
	}
	text = contents();
	CHECK(r == 0 && strstr(text, "platfo\n") == NULL &&
		      strstr(text, NODE_B " platform=1 media=4\n1800000000 " ID_C) != NULL,
	      "the torn line is cut from the file");
	free(text);

	/* A torn header of a file that was just being created. */
	write_file("rombsr.quo");
	r = rombsr_quota_ledger_open(dir, NOW, &l);
	CHECK(r == 0 && rombsr_quota_ledger_size(l) == 0, "a torn header starts an empty ledger");
	if (r == 0)
		rombsr_quota_ledger_close(l);
	text = contents();
	CHECK(strcmp(text, ROMBSR_QUOTA_HEADER "\n") == 0, "and is written whole");
	free(text);
}

static void refused_file(const char *what, const char *text, const char *want)
{
	struct rombsr_quota_ledger *l;
	int r;

	write_file(text);
	r = rombsr_quota_ledger_open(dir, NOW, &l);
	CHECK(r == ROMBSR_EINVAL && strstr(rombsr_error_message(r), want) != NULL, "%s refused naming '%s' (got %s)", what,
	      want, r < 0 ? rombsr_error_message(r) : "accepted");
	if (r == 0)
		rombsr_quota_ledger_close(l);
}

static void test_malformed(void)
{
	const char *h = ROMBSR_QUOTA_HEADER "\n";
	const char *good = "1800000000 " ID_A " " NODE_A " platform=3\n";
	char text[1024], *after;

	snprintf(text, sizeof(text), "%s%s%s", h, "1800000000 " ID_B " " NODE_A " platform=x\n", good);
	refused_file("a malformed middle line", text, "quota.ledger:2: bad key count");
	snprintf(text, sizeof(text), "%s%s%s", h, good, "garbage\n");
	refused_file("a complete malformed last line", text, "quota.ledger:3: not a ledger line");
	refused_file("a file without header", good, "quota.ledger:1: not a quota ledger");
	snprintf(text, sizeof(text), "%s%s%s", h, good, good);
	refused_file("a request recorded twice", text, "quota.ledger:3: request " ID_A " recorded twice");
	snprintf(text, sizeof(text), "%s%s", h, "01800000000 " ID_A " " NODE_A " platform=3\n");
	refused_file("a time with a leading zero", text, "quota.ledger:2: bad time");
	snprintf(text, sizeof(text), "%s%s", h, "1800000000  " ID_A " " NODE_A " platform=3\n");
	refused_file("two spaces", text, "quota.ledger:2: not a ledger line");
	snprintf(text, sizeof(text), "%s%s", h, "1800000000 " ID_A " " NODE_A "\n");
	refused_file("a line without keys", text, "quota.ledger:2: not a ledger line");
	snprintf(text, sizeof(text), "%s%s", h, "1800000000 " ID_A " " NODE_A " platform=3 platform=1\n");
	refused_file("a key twice in a line", text, "quota.ledger:2: key 'platform' twice");
	snprintf(text, sizeof(text), "%s%s", h, "1800000000 " ID_A " 766b1d0ee6e9502434d46c14812fcb67f39f41a6 platform=3\n");
	refused_file("a lower-case node", text, "quota.ledger:2: bad build node fingerprint");
	snprintf(text, sizeof(text), "%s%s", h, "1800000000 " ID_A " " NODE_A " platform=0\n");
	refused_file("a zero count", text, "quota.ledger:2: bad key count");
	/* Nothing was cut from a file refused as malformed. */
	after = contents();
	snprintf(text, sizeof(text), "%s%s", h, "1800000000 " ID_A " " NODE_A " platform=0\n");
	CHECK(strcmp(after, text) == 0, "a refused file is left as it is");
	free(after);
}

static void test_prune(void)
{
	struct rombsr_quota_ledger *l;
	char text[1024], *after;
	time_t old = NOW - ROMBSR_QUOTA_MAX_WINDOW, kept = old + 1;
	int r;

	snprintf(text, sizeof(text),
		 ROMBSR_QUOTA_HEADER "\n%lld " ID_A " " NODE_A " platform=3\n%lld " ID_B " " NODE_A " platform=2\n",
		 (long long)old, (long long)kept);
	write_file(text);
	r = rombsr_quota_ledger_open(dir, NOW, &l);
	CHECK(r == 0 && rombsr_quota_ledger_size(l) == 1 && !rombsr_quota_ledger_has(l, ID_A) &&
		      rombsr_quota_ledger_has(l, ID_B),
	      "entries older than the longest window are forgotten on open (%s)", r < 0 ? rombsr_error_message(r) : "ok");
	after = contents();
	snprintf(text, sizeof(text), ROMBSR_QUOTA_HEADER "\n%lld " ID_B " " NODE_A " platform=2\n", (long long)kept);
	CHECK(strcmp(after, text) == 0, "and the file is rewritten without them");
	free(after);
	if (r < 0)
		return;
	r = rombsr_quota_ledger_add(l, NOW, ID_C, NODE_A, platform3, 1);
	CHECK(r == 0, "recording goes on in the rewritten file");
	r = rombsr_quota_ledger_prune(l, NOW + 2);
	CHECK(r == 0 && rombsr_quota_ledger_size(l) == 1 && rombsr_quota_ledger_has(l, ID_C) &&
		      !rombsr_quota_ledger_has(l, ID_B),
	      "prune while open");
	r = rombsr_quota_ledger_add(l, NOW, ID_A, NODE_A, platform3, 1);
	rombsr_quota_ledger_close(l);
	after = contents();
	snprintf(text, sizeof(text), ROMBSR_QUOTA_HEADER "\n1800000000 " ID_C " " NODE_A " platform=3\n1800000000 " ID_A
			 " " NODE_A " platform=3\n");
	CHECK(r == 0 && strcmp(after, text) == 0, "appends after a prune land in the new file");
	free(after);
}

/* A request over a whole per-device key set (docs/formats/keyset.md):
 * recorded, written on one line and read back, labels with '/'. */
static void test_many_keys(void)
{
	struct rombsr_quota_use *uses = calloc(500, sizeof(*uses));
	struct rombsr_quota_ledger *l;
	int r;

	if (uses == NULL)
		abort();
	for (size_t i = 0; i < 500; i++) {
		snprintf(uses[i].key, sizeof(uses[i].key), "devices/d%03zu/key%zu", i / 10, i % 10);
		uses[i].count = 2;
	}
	write_file(ROMBSR_QUOTA_HEADER "\n");
	r = rombsr_quota_ledger_open(dir, NOW, &l);
	if (r == 0) {
		r = rombsr_quota_ledger_add(l, NOW, ID_C, NODE_B, uses, 500);
		rombsr_quota_ledger_close(l);
	}
	CHECK(r == 0, "a request over 500 per-device keys is recorded: %s", r < 0 ? rombsr_error_message(r) : "ok");
	r = rombsr_quota_ledger_open(dir, NOW, &l);
	CHECK(r == 0 && rombsr_quota_ledger_count_key(l, "devices/d049/key9", NOW, 60, NULL) == 2 &&
		      rombsr_quota_ledger_count_node(l, NODE_B, NOW, 60, NULL) == 1000,
	      "and read back after a reopen");
	if (r == 0)
		rombsr_quota_ledger_close(l);
	free(uses);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/rombsr-quota.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		CHECK(false, "temporary folder");
		return tap_done();
	}
	snprintf(file, sizeof(file), "%s/%s", dir, ROMBSR_QUOTA_FILE);
	test_memory();
	test_record_request();
	test_file();
	test_malformed();
	test_prune();
	test_many_keys();
	rombsr_remove_tree(dir);
	return tap_done();
}
