/* Shamir shares of the wrap key (src/node/share.c,
 * docs/formats/wrap-key-share.md): any threshold of a split rebuild the
 * secret; the set checks name the share; every change to a share's text is
 * caught by its parser. */
#include "tap.h"

#include "../../src/common/error.h"
#include "../../src/node/share.h"

#include <string.h>

static const unsigned char secret[SHARE_SECRET_LEN] = "0123456789abcdef0123456789abcdef";
static const unsigned char id[SHARE_ID_LEN] = "split-one-id-16b";
static const char *const names[5] = {"s1", "s2", "s3", "s4", "s5"};

static void test_any_three(const struct wrap_share *all)
{
	int good = 0;

	for (int a = 0; a < 5; a++)
		for (int b = a + 1; b < 5; b++)
			for (int c = b + 1; c < 5; c++) {
				struct wrap_share set[3] = {all[a], all[b], all[c]};
				const char *n[3] = {names[a], names[b], names[c]};
				unsigned char out[SHARE_SECRET_LEN];

				if (share_combine(set, n, 3, out) == 0 && memcmp(out, secret, sizeof(out)) == 0)
					good++;
			}
	CHECK(good == 10, "every 3 of 5 rebuild the secret (%d of 10)", good);
}

static void test_refusals(const struct wrap_share *all)
{
	unsigned char out[SHARE_SECRET_LEN];
	struct wrap_share set[3] = {all[0], all[1], all[2]};
	const char *n[3] = {"a", "b", "c"};

	CHECK(tap_fails(share_combine(set, n, 2, out), ROMBSR_EINVAL, "2 shares given (a, …); this split needs 3"),
	      "two shares");
	set[2] = all[1];
	CHECK(tap_fails(share_combine(set, n, 3, out), ROMBSR_EINVAL, "b and c are the same share (index 2)"),
	      "a share twice");
	set[2] = all[2];
	set[2].secret_id[0] ^= 1;
	CHECK(tap_fails(share_combine(set, n, 3, out), ROMBSR_EINVAL, "shares of two different splits"), "two splits");
	set[2] = all[2];
	set[2].y[5] ^= 0x40;
	CHECK(tap_fails(share_combine(set, n, 3, out), ROMBSR_ESECURITY, "check value mismatch"), "a changed share");
}

static void test_text(const struct wrap_share *s)
{
	char text[SHARE_TEXT_MAX], bad[SHARE_TEXT_MAX];
	struct wrap_share back;
	size_t len = 0;
	int caught = 0, tries = 0;
	int r = share_format(s, text, &len);

	CHECK(r == 0 && len < 400, "format (%zu bytes)", len);
	CHECK(share_parse("f", text, len, &back) == 0 && memcmp(&back, s, sizeof(back)) == 0, "parse round trip");
	for (size_t i = 0; i < len; i++) {
		memcpy(bad, text, len);
		bad[i] ^= 0x01;
		tries++;
		caught += share_parse("f", bad, len, &back) < 0;
	}
	CHECK(caught == tries, "every one-bit change is refused (%d of %d)", caught, tries);
	CHECK(tap_fails(share_parse("f", text, len - 1, &back), ROMBSR_EINVAL, "f: not a wrap-key share"), "truncated");
	CHECK(tap_fails(share_parse("g", "hello\n", 6, &back), ROMBSR_EINVAL, "g: not a ROMbsr wrap-key share"),
	      "foreign file");
	memcpy(bad, text, len);
	bad[23] = '2';
	CHECK(tap_fails(share_parse("h", bad, len, &back), ROMBSR_EUNSUPPORTED, "another version"), "version 2");
}

int main(void)
{
	struct wrap_share all[5];

	CHECK(share_split(secret, id, 3, 5, all) == 0, "split 3 of 5");
	CHECK(all[0].index == 1 && all[4].index == 5 && all[2].threshold == 3 && all[2].count == 5, "header fields");
	CHECK(tap_fails(share_split(secret, id, 1, 5, all + 0), ROMBSR_EINVAL, "2 <= threshold"), "threshold 1");
	test_any_three(all);
	test_refusals(all);
	test_text(&all[3]);
	return tap_done();
}
