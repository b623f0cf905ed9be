/* SCP03 sessions as the device runs them (session.c): Create Session,
 * Authenticate Session, Session Message (decrypt, check the C-MAC, run the
 * inner command, encrypt, R-MAC). Called under the device's lock. */
#ifndef ROMBSR_YH_EMU_SESSION_H
#define ROMBSR_YH_EMU_SESSION_H

#include "device.h"

void emu_session_create(struct emu_device *dev, const uint8_t *in, size_t len, uint8_t *out, size_t *out_len);
void emu_session_authenticate(struct emu_device *dev, const uint8_t *in, size_t len, uint8_t *out,
			      size_t *out_len);
void emu_session_message(struct emu_device *dev, const uint8_t *in, size_t len, uint8_t *out, size_t *out_len);
/* Ends sessions idle for longer than the timeout. */
void emu_sessions_expire(struct emu_device *dev);
void emu_session_end(struct emu_session *s);

/* device.c */
void emu_respond_error(uint8_t *out, size_t *out_len, uint8_t error);
size_t emu_device_info(const struct emu_device *dev, uint8_t *out);

#endif
