/* The capture module's configuration (docs/capture.md): read by a module
 * loaded into build tools, from the file ROMBSR_CAPTURE_CONFIG names. */
#define _GNU_SOURCE
#include "util.h"

#include "../src/capture/capture.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cap_config cfg;

	setenv(CAP_CONFIG_ENV, fuzz_write("capture.conf", data, size), 1);
	if (cap_config_load(&cfg) == 0)
		fuzz_check(cfg.bundle != NULL && (cfg.mode != CAP_MODE_REPLAY || cfg.signatures != NULL) &&
				   (cfg.mode != CAP_MODE_CAPTURE || cfg.journal != NULL),
			   "capture config: accepted without what its mode needs");
	cap_config_free(&cfg);
	return 0;
}
