/* The device's entry point: one message in, one out, under the lock (the
 * real device runs one command at a time). Plain commands are answered
 * here; sessions are session.c's. */
#include "device.h"
#include "session.h"

#include "../common/error.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

int emu_device_init(struct emu_device *dev)
{
	memset(dev, 0, sizeof(*dev));
	if (pthread_mutex_init(&dev->lock, NULL) != 0)
		return rombsr_error(ROMBSR_EINTERNAL, "cannot create the device's lock");
	dev->serial = EMU_DEFAULT_SERIAL;
	dev->max_objects = YH_MAX_OBJECTS;
	dev->max_pages = EMU_DEFAULT_MAX_STORAGE / EMU_PAGE_SIZE;
	dev->session_timeout = YH_SESSION_IDLE_SECONDS;
	if (clock_gettime(CLOCK_MONOTONIC, &dev->boot) != 0)
		return rombsr_error(ROMBSR_EINTERNAL, "cannot read the clock");
	emu_options_default(dev);
	return 0;
}

void emu_device_free(struct emu_device *dev)
{
	emu_objects_free(dev);
	OPENSSL_cleanse(dev->sessions, sizeof(dev->sessions));
	pthread_mutex_destroy(&dev->lock);
}

uint32_t emu_device_systick(const struct emu_device *dev)
{
	struct timespec now;

	if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
		return 0;
	/* Milliseconds since the emulator started, wrapping as a u32. */
	return (uint32_t)((now.tv_sec - dev->boot.tv_sec) * 1000 + (now.tv_nsec - dev->boot.tv_nsec) / 1000000);
}

int emu_device_factory(struct emu_device *dev)
{
	struct emu_object key;
	uint8_t derived[2 * YH_SCP_KEY_LEN];

	/* Sessions are the caller's to end: a reset answers in the session
	 * that asked for it, then ends them all. */
	emu_objects_free(dev);
	emu_options_default(dev);
	memset(&key, 0, sizeof(key));
	key.id = YH_FACTORY_AUTH_KEY;
	key.type = YH_TYPE_AUTHENTICATION_KEY;
	key.algorithm = YH_ALGO_AES128_YUBICO_AUTHENTICATION;
	key.origin = YH_ORIGIN_IMPORTED;
	key.domains = EMU_DOMAINS_ALL;
	key.capabilities = EMU_CAP_ALL;
	key.delegated = EMU_CAP_ALL;
	memcpy(key.label, EMU_FACTORY_LABEL, strlen(EMU_FACTORY_LABEL));
	if (PKCS5_PBKDF2_HMAC(YH_FACTORY_PASSWORD, (int)strlen(YH_FACTORY_PASSWORD),
			      (const unsigned char *)YH_PBKDF2_SALT, (int)strlen(YH_PBKDF2_SALT), YH_PBKDF2_ITERATIONS,
			      EVP_sha256(), (int)sizeof(derived), derived) != 1)
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "PBKDF2 of the factory password");
	key.data = OPENSSL_memdup(derived, sizeof(derived));
	OPENSSL_cleanse(derived, sizeof(derived));
	if (key.data == NULL)
		return ROMBSR_ENOMEM;
	key.len = sizeof(derived);
	if (emu_object_add(dev, &key) != YH_ERR_OK) {
		emu_object_clear(&key);
		return rombsr_error(ROMBSR_EINTERNAL, "cannot store the factory authentication key");
	}
	emu_log_reset(dev);
	return 0;
}

static void respond(uint8_t *out, size_t *out_len, uint8_t cmd, const uint8_t *data, size_t len)
{
	out[0] = cmd;
	emu_put_u16(out + 1, (uint16_t)len);
	if (len > 0)
		memmove(out + YH_MSG_HEADER, data, len);
	*out_len = YH_MSG_HEADER + len;
}

void emu_respond_error(uint8_t *out, size_t *out_len, uint8_t error)
{
	respond(out, out_len, YH_CMD_ERROR, &error, 1);
}

size_t emu_device_info(const struct emu_device *dev, uint8_t *out)
{
	static const uint8_t algorithms[] = {
		YH_ALGO_RSA_PKCS1_SHA1, YH_ALGO_RSA_PKCS1_SHA256, YH_ALGO_RSA_PKCS1_SHA384, YH_ALGO_RSA_PKCS1_SHA512,
		YH_ALGO_RSA_PSS_SHA1, YH_ALGO_RSA_PSS_SHA256, YH_ALGO_RSA_PSS_SHA384, YH_ALGO_RSA_PSS_SHA512,
		YH_ALGO_RSA_2048, YH_ALGO_RSA_3072, YH_ALGO_RSA_4096, YH_ALGO_EC_P256, YH_ALGO_EC_P384,
		YH_ALGO_AES128_CCM_WRAP, YH_ALGO_OPAQUE_DATA, YH_ALGO_OPAQUE_X509_CERTIFICATE, YH_ALGO_MGF1_SHA1,
		YH_ALGO_MGF1_SHA256, YH_ALGO_MGF1_SHA384, YH_ALGO_MGF1_SHA512, YH_ALGO_AES128_YUBICO_AUTHENTICATION,
		YH_ALGO_AES192_CCM_WRAP, YH_ALGO_AES256_CCM_WRAP, YH_ALGO_EC_ECDSA_SHA256, YH_ALGO_EC_ECDSA_SHA384,
		YH_ALGO_EC_ECDSA_SHA512,
	};
	size_t unread = emu_log_unread(dev);

	out[0] = EMU_FW_MAJOR;
	out[1] = EMU_FW_MINOR;
	out[2] = EMU_FW_PATCH;
	out[3] = (uint8_t)(dev->serial >> 24);
	out[4] = (uint8_t)(dev->serial >> 16);
	out[5] = (uint8_t)(dev->serial >> 8);
	out[6] = (uint8_t)dev->serial;
	out[7] = YH_LOG_ENTRIES;
	out[8] = (uint8_t)unread;
	memcpy(out + 9, algorithms, sizeof(algorithms));
	return 9 + sizeof(algorithms);
}

static void process_plain(struct emu_device *dev, uint8_t cmd, const uint8_t *data, size_t len, uint8_t *out,
			  size_t *out_len)
{
	uint8_t info[64];

	switch (cmd) {
	case YH_CMD_ECHO:
		respond(out, out_len, cmd | YH_RESPONSE_FLAG, data, len);
		return;
	case YH_CMD_DEVICE_INFO:
		/* Page 1 (the part number) is not emulated: its answer is
		 * empty. */
		if (len == 1 && data[0] == 1) {
			respond(out, out_len, cmd | YH_RESPONSE_FLAG, NULL, 0);
			return;
		}
		if (len != 0 && !(len == 1 && data[0] == 0)) {
			emu_respond_error(out, out_len, YH_ERR_WRONG_LENGTH);
			return;
		}
		respond(out, out_len, cmd | YH_RESPONSE_FLAG, info, emu_device_info(dev, info));
		return;
	case YH_CMD_CREATE_SESSION:
		emu_session_create(dev, data, len, out, out_len);
		return;
	case YH_CMD_AUTHENTICATE_SESSION:
		emu_session_authenticate(dev, data, len, out, out_len);
		return;
	case YH_CMD_SESSION_MESSAGE:
		emu_session_message(dev, data, len, out, out_len);
		return;
	default:
		emu_respond_error(out, out_len, YH_ERR_INVALID_COMMAND);
		return;
	}
}

void emu_device_process(struct emu_device *dev, const uint8_t *in, size_t len, uint8_t *out, size_t *out_len)
{
	if (pthread_mutex_lock(&dev->lock) != 0) {
		emu_respond_error(out, out_len, YH_ERR_COMMAND_UNEXECUTED);
		return;
	}
	emu_sessions_expire(dev);
	if (len < YH_MSG_HEADER || len > YH_MSG_MAX)
		emu_respond_error(out, out_len, YH_ERR_WRONG_LENGTH);
	else if (emu_get_u16(in + 1) != len - YH_MSG_HEADER)
		emu_respond_error(out, out_len, YH_ERR_WRONG_LENGTH);
	else
		process_plain(dev, in[0], in + YH_MSG_HEADER, len - YH_MSG_HEADER, out, out_len);
	pthread_mutex_unlock(&dev->lock);
}
