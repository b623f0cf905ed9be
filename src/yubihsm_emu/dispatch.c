/* Commands inside a session: which handler, which capability the session's
 * key must hold, and the audit log around each (log rules in
 * docs/yubihsm-emulator.md). */
#include "cmds.h"

#include <string.h>

#define NO_CAP 0xff
#define NO_KEY 0xffff

struct command {
	uint8_t code;
	uint8_t capability;
	emu_handler run;
};

static const struct command commands[] = {
	{YH_CMD_ECHO, NO_CAP, emu_cmd_echo},
	{YH_CMD_DEVICE_INFO, NO_CAP, emu_cmd_device_info},
	{YH_CMD_RESET_DEVICE, YH_CAP_RESET_DEVICE, emu_cmd_reset},
	{YH_CMD_CLOSE_SESSION, NO_CAP, emu_cmd_close_session},
	{YH_CMD_STORAGE_INFO, NO_CAP, emu_cmd_storage_info},
	{YH_CMD_PUT_OPAQUE, YH_CAP_PUT_OPAQUE, emu_cmd_put_opaque},
	{YH_CMD_GET_OPAQUE, YH_CAP_GET_OPAQUE, emu_cmd_get_opaque},
	{YH_CMD_PUT_AUTHENTICATION_KEY, YH_CAP_PUT_AUTHENTICATION_KEY, emu_cmd_put_auth_key},
	{YH_CMD_PUT_ASYMMETRIC_KEY, YH_CAP_PUT_ASYMMETRIC_KEY, emu_cmd_put_asym},
	{YH_CMD_GENERATE_ASYMMETRIC_KEY, YH_CAP_GENERATE_ASYMMETRIC_KEY, emu_cmd_generate_asym},
	{YH_CMD_SIGN_PKCS1, YH_CAP_SIGN_PKCS, emu_cmd_sign_pkcs1},
	{YH_CMD_LIST_OBJECTS, NO_CAP, emu_cmd_list_objects},
	{YH_CMD_EXPORT_WRAPPED, YH_CAP_EXPORT_WRAPPED, emu_cmd_export_wrapped},
	{YH_CMD_IMPORT_WRAPPED, YH_CAP_IMPORT_WRAPPED, emu_cmd_import_wrapped},
	{YH_CMD_PUT_WRAP_KEY, YH_CAP_PUT_WRAP_KEY, emu_cmd_put_wrap},
	{YH_CMD_GET_LOG_ENTRIES, YH_CAP_GET_LOG_ENTRIES, emu_cmd_get_log},
	{YH_CMD_GET_OBJECT_INFO, NO_CAP, emu_cmd_object_info},
	{YH_CMD_SET_OPTION, YH_CAP_SET_OPTION, emu_cmd_set_option},
	{YH_CMD_GET_OPTION, YH_CAP_GET_OPTION, emu_cmd_get_option},
	{YH_CMD_GET_PSEUDO_RANDOM, YH_CAP_GET_PSEUDO_RANDOM, emu_cmd_random},
	{YH_CMD_GET_PUBLIC_KEY, NO_CAP, emu_cmd_public_key},
	{YH_CMD_SIGN_PSS, YH_CAP_SIGN_PSS, emu_cmd_sign_pss},
	{YH_CMD_SIGN_ECDSA, YH_CAP_SIGN_ECDSA, emu_cmd_sign_ecdsa},
	{YH_CMD_DELETE_OBJECT, NO_CAP, emu_cmd_delete_object},
	{YH_CMD_GENERATE_WRAP_KEY, YH_CAP_GENERATE_WRAP_KEY, emu_cmd_generate_wrap},
	{YH_CMD_SET_LOG_INDEX, YH_CAP_GET_LOG_ENTRIES, emu_cmd_set_log_index},
	{YH_CMD_CHANGE_AUTHENTICATION_KEY, YH_CAP_CHANGE_AUTHENTICATION_KEY, emu_cmd_change_auth_key},
};

static const struct command *lookup(uint8_t code)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].code == code)
			return &commands[i];
	return NULL;
}

/* Before running: the command exists, the session's key still does and
 * holds the capability, and force audit leaves room to log it. Set Log
 * Index (which makes room) and Close Session run even then. */
static uint8_t admit(struct emu_ctx *c, const struct command *cmd)
{
	struct emu_device *dev = c->dev;

	if (cmd == NULL)
		return YH_ERR_INVALID_COMMAND;
	c->auth = emu_object_find(dev, c->session->auth_id, YH_TYPE_AUTHENTICATION_KEY);
	if (c->auth == NULL)
		return YH_ERR_INSUFFICIENT_PERMISSIONS;
	if (cmd->capability != NO_CAP && (c->auth->capabilities & YH_CAP(cmd->capability)) == 0)
		return YH_ERR_INSUFFICIENT_PERMISSIONS;
	if (dev->command_audit[cmd->code] != 0 && dev->force_audit != 0 && emu_log_full(dev) &&
	    cmd->code != YH_CMD_SET_LOG_INDEX && cmd->code != YH_CMD_CLOSE_SESSION)
		return YH_ERR_LOG_FULL;
	return YH_ERR_OK;
}

void emu_dispatch(struct emu_ctx *c, uint8_t code, const uint8_t *in, size_t len, uint8_t *out, size_t *out_len)
{
	const struct command *cmd = lookup(code);
	uint16_t auth_id = c->session->auth_id;
	size_t n = EMU_INNER_MAX;
	uint8_t error;

	c->target_key = NO_KEY;
	c->second_key = NO_KEY;
	error = admit(c, cmd);
	if (error == YH_ERR_OK)
		error = cmd->run(c, in, len, out + YH_MSG_HEADER, &n);
	if (error != YH_ERR_OK) {
		out[0] = YH_CMD_ERROR;
		out[YH_MSG_HEADER] = error;
		n = 1;
	} else {
		out[0] = code | YH_RESPONSE_FLAG;
	}
	emu_put_u16(out + 1, (uint16_t)n);
	*out_len = YH_MSG_HEADER + n;
	/* A reset's own entry is the marker emu_log_reset() wrote; a command
	 * refused for want of log room is not logged, nor one of those that
	 * run without room (an unread entry is never overwritten under force
	 * audit). */
	if (!c->reset && error != YH_ERR_LOG_FULL && c->dev->command_audit[code] != 0 &&
	    !(c->dev->force_audit != 0 && emu_log_full(c->dev))) {
		struct emu_log_entry e;

		memset(&e, 0, sizeof(e));
		e.command = code;
		e.length = (uint16_t)len;
		e.session_key = auth_id;
		e.target_key = c->target_key;
		e.second_key = c->second_key;
		e.result = out[0];
		e.systick = emu_device_systick(c->dev);
		emu_log_add(c->dev, &e);
		c->changed = true;
	}
	if (c->changed || c->reset)
		emu_state_persist(c->dev);
}
