/* The public bundle's manifest (docs/public-bundle.md): a build node loads
 * it in rombsr apply and in the capture module, and trusts only what it
 * checks against the certificate files. The input is manifest.json in a
 * folder that holds keys.h's two certificates, so a mutated manifest
 * can name them and reach the certificate checks. */
#include "util.h"

#include "../src/common/bundle.h"

#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rombsr_bundle b;
	char dir[384];

	snprintf(dir, sizeof(dir), "%s", fuzz_bundle());
	fuzz_write("bundle/manifest.json", data, size);
	if (rombsr_bundle_load(dir, &b) == 0) {
		for (size_t i = 0; i < b.len; i++)
			fuzz_check(rombsr_bundle_find_label(&b, b.keys[i].label) != NULL &&
					   rombsr_bundle_find_spki(&b, b.keys[i].spki_sha256) != NULL,
				   "bundle: a loaded key cannot be found");
		rombsr_bundle_free(&b);
	}
	return 0;
}
