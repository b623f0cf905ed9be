/* The audit log: a ring of YH_LOG_ENTRIES entries chained by digests, the
 * read mark Set Log Index moves, and the options that say what is logged
 * (force audit, command audit). */
#include "device.h"

#include <openssl/evp.h>
#include <string.h>

/* Logged by default, as the device ships: every command but Echo, Session
 * Message, Device Info and Get Log Entries (reading the log does not fill
 * it). */
static const uint8_t known_commands[] = {
	0x01, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
	0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x5b,
	0x5c, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c,
};

void emu_options_default(struct emu_device *dev)
{
	memset(dev->command_audit, 0, sizeof(dev->command_audit));
	for (size_t i = 0; i < sizeof(known_commands); i++)
		dev->command_audit[known_commands[i]] = 1;
	dev->command_audit[YH_CMD_ECHO] = 0;
	dev->command_audit[YH_CMD_SESSION_MESSAGE] = 0;
	dev->command_audit[YH_CMD_DEVICE_INFO] = 0;
	dev->command_audit[0x07] = 0; /* the boot loader's command */
	dev->command_audit[0x09] = 0;
	dev->command_audit[YH_CMD_GET_LOG_ENTRIES] = 0;
	dev->force_audit = 0;
}

bool emu_command_known(uint8_t cmd)
{
	return memchr(known_commands, cmd, sizeof(known_commands)) != NULL;
}

size_t emu_options_command_audit(const struct emu_device *dev, uint8_t *out)
{
	size_t n = 0;

	for (size_t i = 0; i < sizeof(known_commands); i++) {
		out[n++] = known_commands[i];
		out[n++] = dev->command_audit[known_commands[i]];
	}
	return n;
}

void emu_log_entry_encode(const struct emu_log_entry *e, uint8_t out[YH_LOG_ENTRY_LEN])
{
	emu_put_u16(out, e->number);
	out[2] = e->command;
	emu_put_u16(out + 3, e->length);
	emu_put_u16(out + 5, e->session_key);
	emu_put_u16(out + 7, e->target_key);
	emu_put_u16(out + 9, e->second_key);
	out[11] = e->result;
	out[12] = (uint8_t)(e->systick >> 24);
	out[13] = (uint8_t)(e->systick >> 16);
	out[14] = (uint8_t)(e->systick >> 8);
	out[15] = (uint8_t)e->systick;
	memcpy(out + 16, e->digest, YH_LOG_DIGEST_LEN);
}

void emu_log_entry_decode(const uint8_t in[YH_LOG_ENTRY_LEN], struct emu_log_entry *e)
{
	e->number = emu_get_u16(in);
	e->command = in[2];
	e->length = emu_get_u16(in + 3);
	e->session_key = emu_get_u16(in + 5);
	e->target_key = emu_get_u16(in + 7);
	e->second_key = emu_get_u16(in + 9);
	e->result = in[11];
	e->systick = ((uint32_t)in[12] << 24) | ((uint32_t)in[13] << 16) | ((uint32_t)in[14] << 8) | in[15];
	memcpy(e->digest, in + 16, YH_LOG_DIGEST_LEN);
}

size_t emu_log_unread(const struct emu_device *dev)
{
	size_t n = 0;

	for (size_t i = 0; i < dev->log.n; i++)
		if ((int16_t)(uint16_t)(dev->log.entries[i].number - dev->log.last_read) > 0)
			n++;
	return n;
}

bool emu_log_full(const struct emu_device *dev)
{
	return emu_log_unread(dev) >= YH_LOG_ENTRIES;
}

/* Appends e (its number and digest are set here): the digest chains the
 * entry's first 16 bytes to the previous entry's digest. The oldest entry
 * makes room, read or not: force audit is checked before a command runs. */
void emu_log_add(struct emu_device *dev, const struct emu_log_entry *e)
{
	struct emu_log *log = &dev->log;
	struct emu_log_entry entry = *e;
	uint8_t raw[YH_LOG_ENTRY_LEN];
	uint8_t chained[16 + YH_LOG_DIGEST_LEN];
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned md_len = 0;

	entry.number = log->next_number++;
	memset(entry.digest, 0, sizeof(entry.digest));
	emu_log_entry_encode(&entry, raw);
	memcpy(chained, raw, 16);
	memcpy(chained + 16, log->last_digest, YH_LOG_DIGEST_LEN);
	/* SHA-256 cannot fail on a buffer in memory short of a broken
	 * library; then the chain shows it (a digest of zeros). */
	if (EVP_Digest(chained, sizeof(chained), md, &md_len, EVP_sha256(), NULL) != 1)
		memset(md, 0, sizeof(md));
	memcpy(entry.digest, md, YH_LOG_DIGEST_LEN);
	memcpy(log->last_digest, md, YH_LOG_DIGEST_LEN);
	if (log->n == YH_LOG_ENTRIES) {
		memmove(&log->entries[0], &log->entries[1], (YH_LOG_ENTRIES - 1) * sizeof(entry));
		log->n--;
	}
	log->entries[log->n++] = entry;
}

/* After a reset the device's log holds two entries: the reset marker (every
 * field all ones) and the boot that follows (every field zero). */
void emu_log_reset(struct emu_device *dev)
{
	struct emu_log_entry marker;

	memset(&dev->log, 0, sizeof(dev->log));
	dev->log.next_number = 1;
	memset(&marker, 0xff, sizeof(marker));
	emu_log_add(dev, &marker);
	emu_log_boot(dev);
}

/* A power-on: logged as an entry of zeros, or counted as unlogged when
 * force audit is on and the log is full of unread entries. */
void emu_log_boot(struct emu_device *dev)
{
	struct emu_log_entry boot;

	if (dev->force_audit != 0 && emu_log_full(dev)) {
		dev->log.unlogged_boot++;
		return;
	}
	memset(&boot, 0, sizeof(boot));
	emu_log_add(dev, &boot);
}
