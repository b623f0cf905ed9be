/* The signature set (docs/capture.md): written by rombsr apply, read back
 * by the capture module in replay mode and by rombsr apply --merge, which
 * checks every signature against the public bundle (src/build/apply.c):
 * the harness does both, with util.c's bundle. */
#include "util.h"

#include "../src/build/apply.h"
#include "../src/common/capture_format.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rombsr_bundle bundle;
	static int have_bundle;
	struct rombsr_cap_signature *sigs = NULL, *back = NULL;
	size_t n = 0, nback = 0;
	const char *path;

	if (!have_bundle) {
		fuzz_check(rombsr_bundle_load(fuzz_bundle(), &bundle) == 0, "sigset: the fixed bundle does not load");
		have_bundle = 1;
	}
	path = fuzz_write("signatures.json", data, size);
	if (rombsr_cap_sigset_read(path, &sigs, &n) < 0)
		return 0;
	rombsr_apply_check_set(path, sigs, n, &bundle);
	path = fuzz_write("written.json", "", 0);
	fuzz_check(rombsr_cap_sigset_write(path, sigs, n) == 0, "sigset: a set read does not write");
	fuzz_check(rombsr_cap_sigset_read(path, &back, &nback) == 0 && nback == n,
		   "sigset: a set written does not read back");
	for (size_t i = 0; i < n; i++)
		fuzz_check(rombsr_cap_op_same(&sigs[i].op, &back[i].op) && sigs[i].sig_len == back[i].sig_len &&
				   memcmp(sigs[i].sig, back[i].sig, sigs[i].sig_len) == 0,
			   "sigset: a signature changed in the round trip");
	free(sigs);
	free(back);
	return 0;
}
