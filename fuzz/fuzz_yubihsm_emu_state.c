/* The YubiHSM 2 emulator's state file (docs/yubihsm-emulator.md, "State
 * file"): read at every start. What it accepts must save and load back to
 * the same objects, options and log; what it refuses leaves a device that
 * frees cleanly. */
#include "util.h"

#include "../src/common/error.h"
#include "../src/yubihsm_emu/device.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_device(const struct emu_device *a, const struct emu_device *b)
{
	fuzz_check(a->n_objects == b->n_objects, "emu state: object count changed");
	for (size_t i = 0; i < a->n_objects && i < b->n_objects; i++) {
		const struct emu_object *x = &a->objects[i], *y = &b->objects[i];

		fuzz_check(x->id == y->id && x->type == y->type && x->algorithm == y->algorithm &&
				   x->domains == y->domains && x->capabilities == y->capabilities &&
				   x->delegated == y->delegated && x->origin == y->origin && x->sequence == y->sequence,
			   "emu state: object attributes changed");
		fuzz_same(x->label, YH_LABEL_LEN, y->label, YH_LABEL_LEN, "emu state: label changed");
		fuzz_same(x->data, x->len, y->data, y->len, "emu state: data changed");
	}
	fuzz_check(a->force_audit == b->force_audit, "emu state: force audit changed");
	fuzz_same(a->command_audit, sizeof(a->command_audit), b->command_audit, sizeof(b->command_audit),
		  "emu state: command audit changed");
	fuzz_check(a->log.n == b->log.n && a->log.next_number == b->log.next_number &&
			   a->log.last_read == b->log.last_read,
		   "emu state: log changed");
	fuzz_same(a->log.entries, a->log.n * sizeof(a->log.entries[0]), b->log.entries,
		  b->log.n * sizeof(b->log.entries[0]), "emu state: log entries changed");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct emu_device dev, again;
	bool fresh = false;
	int r;

	if (emu_device_init(&dev) != 0 || emu_device_init(&again) != 0)
		abort();
	dev.state_path = again.state_path = fuzz_write("state.json", data, size);
	r = emu_state_load(&dev, &fresh);
	fuzz_check(!fresh, "emu state: an existing file taken for a missing one");
	if (r == 0) {
		fuzz_check(emu_state_save(&dev) == 0, "emu state: an accepted state does not save");
		fuzz_check(emu_state_load(&again, &fresh) == 0, "emu state: its own output is refused");
		same_device(&dev, &again);
	}
	emu_device_free(&dev);
	emu_device_free(&again);
	rombsr_error_clear();
	return 0;
}
