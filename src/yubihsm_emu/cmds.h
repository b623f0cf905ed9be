/* The handlers of commands inside a session (cmd_*.c), each an
 * emu_handler (device.h), listed in dispatch.c's table with the capability
 * the session's key must hold. */
#ifndef ROMBSR_YH_EMU_CMDS_H
#define ROMBSR_YH_EMU_CMDS_H

#include "device.h"

#define EMU_HANDLER(name) uint8_t name(struct emu_ctx *c, const uint8_t *in, size_t len, uint8_t *out, size_t *out_len)

/* cmd_device.c */
EMU_HANDLER(emu_cmd_echo);
EMU_HANDLER(emu_cmd_device_info);
EMU_HANDLER(emu_cmd_reset);
EMU_HANDLER(emu_cmd_close_session);
EMU_HANDLER(emu_cmd_storage_info);
EMU_HANDLER(emu_cmd_random);
EMU_HANDLER(emu_cmd_get_log);
EMU_HANDLER(emu_cmd_set_log_index);
EMU_HANDLER(emu_cmd_set_option);
EMU_HANDLER(emu_cmd_get_option);
/* cmd_objects.c */
EMU_HANDLER(emu_cmd_list_objects);
EMU_HANDLER(emu_cmd_object_info);
EMU_HANDLER(emu_cmd_delete_object);
EMU_HANDLER(emu_cmd_put_opaque);
EMU_HANDLER(emu_cmd_get_opaque);
EMU_HANDLER(emu_cmd_put_auth_key);
EMU_HANDLER(emu_cmd_change_auth_key);
/* Stores a new object with a copy of data and answers its id (shared by
 * the commands that create objects). */
uint8_t emu_store_new(struct emu_ctx *c, struct emu_object *o, const uint8_t *data, size_t n, uint8_t *out,
		      size_t *out_len);
/* cmd_asym.c */
EMU_HANDLER(emu_cmd_generate_asym);
EMU_HANDLER(emu_cmd_put_asym);
EMU_HANDLER(emu_cmd_public_key);
EMU_HANDLER(emu_cmd_sign_pkcs1);
EMU_HANDLER(emu_cmd_sign_pss);
EMU_HANDLER(emu_cmd_sign_ecdsa);
/* cmd_wrap.c */
EMU_HANDLER(emu_cmd_generate_wrap);
EMU_HANDLER(emu_cmd_put_wrap);
EMU_HANDLER(emu_cmd_export_wrapped);
EMU_HANDLER(emu_cmd_import_wrapped);

#endif
