/* The YubiHSM 2 emulator's input from the connector (docs/yubihsm-emulator.md):
 * raw messages as POST /connector/api hands them over, and the commands
 * inside a session once its MAC has verified. The first byte chooses: even,
 * the rest is a run of raw messages for emu_device_process() (framing,
 * plain commands, session setup, session messages whose MAC cannot verify);
 * odd, a run of inner commands for emu_dispatch() in an authenticated
 * session of the factory key (every handler's parsing). Each message is
 * cmd(1) || length(2) || data, the length cut to what is left. Every
 * response must be a well-formed message that fits. */
#include "util.h"

#include "../src/common/error.h"
#include "../src/yubihsm_emu/device.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_response(const uint8_t *out, size_t len)
{
	fuzz_check(len >= YH_MSG_HEADER && len <= YH_MSG_MAX, "emu: response length out of bounds");
	fuzz_check(emu_get_u16(out + 1) == len - YH_MSG_HEADER, "emu: response header length wrong");
	fuzz_check(out[0] == YH_CMD_ERROR ? len == YH_MSG_HEADER + 1 : (out[0] & YH_RESPONSE_FLAG) != 0,
		   "emu: response neither an error nor a response");
}

static void run_inner(struct emu_device *dev, const uint8_t *p, size_t n, uint8_t *out)
{
	struct emu_session *s = &dev->sessions[0];

	s->used = true;
	s->authenticated = true;
	s->auth_id = YH_FACTORY_AUTH_KEY;
	while (n >= YH_MSG_HEADER && s->authenticated) {
		size_t len = emu_get_u16(p + 1), out_len = 0;
		struct emu_ctx c;

		if (len > n - YH_MSG_HEADER)
			len = n - YH_MSG_HEADER;
		memset(&c, 0, sizeof(c));
		c.dev = dev;
		c.session = s;
		emu_dispatch(&c, p[0], p + YH_MSG_HEADER, len, out, &out_len);
		check_response(out, out_len);
		fuzz_check(out_len <= YH_MSG_HEADER + EMU_INNER_MAX, "emu: inner response too long to seal");
		if (c.end_session || c.reset)
			break;
		p += YH_MSG_HEADER + len;
		n -= YH_MSG_HEADER + len;
	}
}

static void run_raw(struct emu_device *dev, const uint8_t *p, size_t n, uint8_t *out)
{
	while (n >= YH_MSG_HEADER) {
		size_t len = emu_get_u16(p + 1), out_len = 0;

		if (len > n - YH_MSG_HEADER)
			len = n - YH_MSG_HEADER;
		emu_device_process(dev, p, YH_MSG_HEADER + len, out, &out_len);
		check_response(out, out_len);
		p += YH_MSG_HEADER + len;
		n -= YH_MSG_HEADER + len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[YH_MSG_MAX];
	struct emu_device dev;
	bool fresh;

	if (size < 1)
		return 0;
	if (emu_device_init(&dev) != 0)
		abort();
	dev.state_path = fuzz_write("state.json", "", 0);
	if (remove(dev.state_path) != 0 || emu_state_load(&dev, &fresh) != 0 || !fresh)
		abort();
	if (data[0] % 2 == 0)
		run_raw(&dev, data + 1, size - 1, out);
	else
		run_inner(&dev, data + 1, size - 1, out);
	fuzz_check(dev.n_objects <= dev.max_objects && emu_pages_used(&dev) <= dev.max_pages,
		   "emu: a limit was passed");
	fuzz_check(dev.log.n <= YH_LOG_ENTRIES, "emu: log over its size");
	emu_device_free(&dev);
	rombsr_error_clear();
	return 0;
}
