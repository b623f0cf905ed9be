/* Commands about the device itself: Echo, Device Info, Reset Device, Close
 * Session, Storage Info, Get Pseudo Random, the log (Get Log Entries, Set
 * Log Index) and the options (Set Option, Get Option). */
#include "cmds.h"
#include "session.h"

#include <openssl/rand.h>
#include <string.h>

EMU_HANDLER(emu_cmd_echo)
{
	(void)c;
	if (len > *out_len)
		return YH_ERR_WRONG_LENGTH;
	memcpy(out, in, len);
	*out_len = len;
	return YH_ERR_OK;
}

EMU_HANDLER(emu_cmd_device_info)
{
	(void)in;
	if (len > 1)
		return YH_ERR_WRONG_LENGTH;
	*out_len = emu_device_info(c->dev, out);
	return YH_ERR_OK;
}

EMU_HANDLER(emu_cmd_reset)
{
	(void)in;
	(void)out;
	if (len != 0)
		return YH_ERR_WRONG_LENGTH;
	if (emu_device_factory(c->dev) != 0)
		return YH_ERR_STORAGE_FAILED;
	c->reset = true;
	*out_len = 0;
	return YH_ERR_OK;
}

EMU_HANDLER(emu_cmd_close_session)
{
	(void)in;
	(void)out;
	if (len != 0)
		return YH_ERR_WRONG_LENGTH;
	c->end_session = true;
	*out_len = 0;
	return YH_ERR_OK;
}

EMU_HANDLER(emu_cmd_storage_info)
{
	const struct emu_device *dev = c->dev;
	size_t used = emu_pages_used(dev);

	(void)in;
	if (len != 0)
		return YH_ERR_WRONG_LENGTH;
	/* A state loaded under smaller limits may hold more than they allow:
	 * then nothing is free. */
	emu_put_u16(out, (uint16_t)dev->max_objects);
	emu_put_u16(out + 2, (uint16_t)(dev->n_objects < dev->max_objects ? dev->max_objects - dev->n_objects : 0));
	emu_put_u16(out + 4, (uint16_t)dev->max_pages);
	emu_put_u16(out + 6, (uint16_t)(used < dev->max_pages ? dev->max_pages - used : 0));
	emu_put_u16(out + 8, EMU_PAGE_SIZE);
	*out_len = 10;
	return YH_ERR_OK;
}

EMU_HANDLER(emu_cmd_random)
{
	size_t n;

	(void)c;
	if (len != 2)
		return YH_ERR_WRONG_LENGTH;
	n = emu_get_u16(in);
	if (n > *out_len)
		return YH_ERR_INVALID_DATA;
	if (n > 0 && RAND_bytes(out, (int)n) != 1)
		return YH_ERR_COMMAND_UNEXECUTED;
	*out_len = n;
	return YH_ERR_OK;
}

EMU_HANDLER(emu_cmd_get_log)
{
	const struct emu_log *log = &c->dev->log;

	(void)in;
	if (len != 0)
		return YH_ERR_WRONG_LENGTH;
	emu_put_u16(out, log->unlogged_boot);
	emu_put_u16(out + 2, log->unlogged_auth);
	out[4] = (uint8_t)log->n;
	for (size_t i = 0; i < log->n; i++)
		emu_log_entry_encode(&log->entries[i], out + 5 + i * YH_LOG_ENTRY_LEN);
	*out_len = 5 + log->n * YH_LOG_ENTRY_LEN;
	return YH_ERR_OK;
}

EMU_HANDLER(emu_cmd_set_log_index)
{
	struct emu_log *log = &c->dev->log;
	uint16_t index;

	(void)out;
	if (len != 2)
		return YH_ERR_WRONG_LENGTH;
	index = emu_get_u16(in);
	/* An index past the newest entry would mark unwritten entries read. */
	if ((int16_t)(uint16_t)(index - (uint16_t)(log->next_number - 1)) > 0)
		return YH_ERR_INVALID_DATA;
	log->last_read = index;
	/* The counters of unlogged events are read with the entries. */
	log->unlogged_boot = 0;
	log->unlogged_auth = 0;
	c->changed = true;
	*out_len = 0;
	return YH_ERR_OK;
}

/* A fixed option (2) stays as it is until a reset. */
static uint8_t set_value(uint8_t *option, uint8_t value)
{
	if (value > 2)
		return YH_ERR_INVALID_DATA;
	if (*option == 2 && value != 2)
		return YH_ERR_INVALID_DATA;
	*option = value;
	return YH_ERR_OK;
}

EMU_HANDLER(emu_cmd_set_option)
{
	struct emu_device *dev = c->dev;
	uint8_t audit[256];
	uint8_t error = YH_ERR_OK;
	size_t n;

	(void)out;
	if (len < 3 || emu_get_u16(in + 1) != len - 3)
		return YH_ERR_WRONG_LENGTH;
	n = len - 3;
	if (in[0] == YH_OPTION_FORCE_AUDIT) {
		if (n != 1)
			return YH_ERR_WRONG_LENGTH;
		error = set_value(&dev->force_audit, in[3]);
	} else if (in[0] == YH_OPTION_COMMAND_AUDIT) {
		if (n == 0 || n % 2 != 0)
			return YH_ERR_WRONG_LENGTH;
		/* All pairs or none: work on a copy. */
		memcpy(audit, dev->command_audit, sizeof(audit));
		for (size_t i = 0; i < n && error == YH_ERR_OK; i += 2)
			error = !emu_command_known(in[3 + i]) || (in[3 + i] == YH_CMD_SESSION_MESSAGE && in[4 + i] != 0)
					? YH_ERR_INVALID_DATA
					: set_value(&audit[in[3 + i]], in[4 + i]);
		if (error == YH_ERR_OK)
			memcpy(dev->command_audit, audit, sizeof(audit));
	} else {
		return YH_ERR_INVALID_DATA;
	}
	if (error == YH_ERR_OK)
		c->changed = true;
	*out_len = 0;
	return error;
}

EMU_HANDLER(emu_cmd_get_option)
{
	if (len != 1)
		return YH_ERR_WRONG_LENGTH;
	if (in[0] == YH_OPTION_FORCE_AUDIT) {
		out[0] = c->dev->force_audit;
		*out_len = 1;
	} else if (in[0] == YH_OPTION_COMMAND_AUDIT) {
		*out_len = emu_options_command_audit(c->dev, out);
	} else {
		return YH_ERR_INVALID_DATA;
	}
	return YH_ERR_OK;
}
