/* The device's error byte: its name, the thread's last one, and which
 * ROMBSR_E* code it is. */
#include "yh_internal.h"

#include "../common/error.h"

#include <stddef.h>

static _Thread_local uint8_t last_device_error;

uint8_t rombsr_yh_last_device_error(void)
{
	return last_device_error;
}

void rombsr_yh_set_last_device_error(uint8_t error)
{
	last_device_error = error;
}

static const char *known_name(uint8_t error)
{
	switch (error) {
	case YH_ERR_OK: return "ok";
	case YH_ERR_INVALID_COMMAND: return "invalid command";
	case YH_ERR_INVALID_DATA: return "invalid data";
	case YH_ERR_INVALID_SESSION: return "invalid session";
	case YH_ERR_AUTHENTICATION_FAILED: return "authentication failed";
	case YH_ERR_SESSIONS_FULL: return "all sessions in use";
	case YH_ERR_SESSION_FAILED: return "session failed";
	case YH_ERR_STORAGE_FAILED: return "storage failed";
	case YH_ERR_WRONG_LENGTH: return "wrong length";
	case YH_ERR_INSUFFICIENT_PERMISSIONS: return "insufficient permissions";
	case YH_ERR_LOG_FULL: return "audit log full";
	case YH_ERR_OBJECT_NOT_FOUND: return "object not found";
	case YH_ERR_INVALID_ID: return "invalid ID";
	case YH_ERR_SSH_CA_CONSTRAINT_VIOLATION: return "SSH CA constraint violation";
	case YH_ERR_INVALID_OTP: return "invalid OTP";
	case YH_ERR_DEMO_MODE: return "demo mode (power-cycle the device)";
	case YH_ERR_OBJECT_EXISTS: return "object exists";
	case YH_ERR_ALGORITHM_DISABLED: return "algorithm disabled";
	case YH_ERR_COMMAND_UNEXECUTED: return "command unexecuted";
	default: return NULL;
	}
}

const char *rombsr_yh_device_error_name(uint8_t error)
{
	const char *name = known_name(error);

	return name != NULL ? name : "unknown device error";
}

const char *rombsr_yh_command_name(uint8_t cmd)
{
	static const struct {
		uint8_t cmd;
		const char *name;
	} names[] = {
		{YH_CMD_ECHO, "Echo"},
		{YH_CMD_CREATE_SESSION, "Create Session"},
		{YH_CMD_AUTHENTICATE_SESSION, "Authenticate Session"},
		{YH_CMD_SESSION_MESSAGE, "Session Message"},
		{YH_CMD_DEVICE_INFO, "Device Info"},
		{YH_CMD_RESET_DEVICE, "Reset Device"},
		{YH_CMD_CLOSE_SESSION, "Close Session"},
		{YH_CMD_STORAGE_INFO, "Storage Info"},
		{YH_CMD_PUT_OPAQUE, "Put Opaque"},
		{YH_CMD_GET_OPAQUE, "Get Opaque"},
		{YH_CMD_PUT_AUTHENTICATION_KEY, "Put Authentication Key"},
		{YH_CMD_PUT_ASYMMETRIC_KEY, "Put Asymmetric Key"},
		{YH_CMD_GENERATE_ASYMMETRIC_KEY, "Generate Asymmetric Key"},
		{YH_CMD_SIGN_PKCS1, "Sign PKCS1"},
		{YH_CMD_LIST_OBJECTS, "List Objects"},
		{YH_CMD_EXPORT_WRAPPED, "Export Wrapped"},
		{YH_CMD_IMPORT_WRAPPED, "Import Wrapped"},
		{YH_CMD_PUT_WRAP_KEY, "Put Wrap Key"},
		{YH_CMD_GET_LOG_ENTRIES, "Get Log Entries"},
		{YH_CMD_GET_OBJECT_INFO, "Get Object Info"},
		{YH_CMD_SET_OPTION, "Set Option"},
		{YH_CMD_GET_OPTION, "Get Option"},
		{YH_CMD_GET_PSEUDO_RANDOM, "Get Pseudo Random"},
		{YH_CMD_GET_PUBLIC_KEY, "Get Public Key"},
		{YH_CMD_SIGN_PSS, "Sign PSS"},
		{YH_CMD_SIGN_ECDSA, "Sign ECDSA"},
		{YH_CMD_DELETE_OBJECT, "Delete Object"},
		{YH_CMD_GENERATE_WRAP_KEY, "Generate Wrap Key"},
		{YH_CMD_SET_LOG_INDEX, "Set Log Index"},
		{YH_CMD_CHANGE_AUTHENTICATION_KEY, "Change Authentication Key"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].cmd == cmd)
			return names[i].name;
	return "command";
}

int rombsr_yh_device_failure(uint8_t cmd, const char *what, uint8_t error)
{
	int code = ROMBSR_EHSM;

	last_device_error = error;
	/* Only the session handshake judges the credential: elsewhere the
	 * device's "authentication failed" is about a message, not a password. */
	if (error == YH_ERR_AUTHENTICATION_FAILED &&
	    (cmd == YH_CMD_CREATE_SESSION || cmd == YH_CMD_AUTHENTICATE_SESSION))
		code = ROMBSR_EAUTH;
	if (known_name(error) == NULL)
		return rombsr_error(code, "YubiHSM %s: unknown device error 0x%02x", what, error);
	return rombsr_error(code, "YubiHSM %s: %s", what, rombsr_yh_device_error_name(error));
}
