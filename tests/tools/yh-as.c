/* yh-as: one command on a YubiHSM as one authentication key, for the tests
 * of provisioning's roles (t-yubihsm-provision): what a key may and may not
 * do is the device's answer, not ROMbsr's.
 *
 * Usage: yh-as URL PIN_FILE|factory COMMAND [ARGS]
 *   session                 open a session and close it
 *   delete ID TYPE          Delete Object (TYPE: a number, 3 asymmetric)
 *   sign ID                 Sign PKCS1 over a SHA-256 digest
 *   export WRAP_ID TYPE ID  Export Wrapped
 *   import WRAP_ID FILE     Import Wrapped of the blob in FILE
 *   caps ID TYPE            the object's capabilities and delegated ones
 * Prints what it did; a refusal is "yh-as: <why>" and exit 1. */
#include "../../src/common/buf.h"
#include "../../src/common/error.h"
#include "../../src/common/fsutil.h"
#include "../../src/common/secret.h"
#include "../../src/yubihsm/yh_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int open_as(const char *url, const char *who, struct rombsr_yh_connector **c, struct rombsr_yh_session **s)
{
	struct rombsr_buf pin = {0};
	const char *password = YH_FACTORY_PASSWORD;
	uint16_t id = YH_FACTORY_AUTH_KEY;
	int r = rombsr_yh_connector_open(url, c);

	if (r == 0 && strcmp(who, "factory") != 0) {
		r = rombsr_secret_from_file(who, &pin);
		if (r == 0)
			r = rombsr_yh_parse_pin((const char *)pin.data, &id, &password);
	}
	if (r == 0)
		r = rombsr_yh_session_open(*c, id, password, strlen(password), s);
	rombsr_buf_free(&pin);
	return r;
}

static int run(struct rombsr_yh_session *s, int argc, char **argv)
{
	const char *cmd = argv[0];
	uint8_t digest[32] = {0}, sig[1024], *blob = NULL;
	size_t sig_len = sizeof(sig), blob_len = 0;
	struct rombsr_yh_object_info info;
	int r;

	if (strcmp(cmd, "session") == 0) {
		printf("session as key 0x%04x\n", rombsr_yh_session_auth_id(s));
		return 0;
	}
	if (strcmp(cmd, "delete") == 0 && argc == 3) {
		r = rombsr_yh_delete_object(s, (uint16_t)strtoul(argv[1], NULL, 0), (uint8_t)strtoul(argv[2], NULL, 0));
		if (r == 0)
			printf("deleted\n");
		return r;
	}
	if (strcmp(cmd, "sign") == 0 && argc == 2) {
		r = rombsr_yh_sign_pkcs1(s, (uint16_t)strtoul(argv[1], NULL, 0), digest, sizeof(digest), sig, &sig_len);
		if (r == 0)
			printf("signed: %zu bytes\n", sig_len);
		return r;
	}
	if (strcmp(cmd, "export") == 0 && argc == 4) {
		r = rombsr_yh_export_wrapped(s, (uint16_t)strtoul(argv[1], NULL, 0), (uint8_t)strtoul(argv[2], NULL, 0),
					     (uint16_t)strtoul(argv[3], NULL, 0), &blob, &blob_len);
		if (r == 0)
			printf("exported: %zu bytes\n", blob_len);
		free(blob);
		return r;
	}
	if (strcmp(cmd, "import") == 0 && argc == 3) {
		struct rombsr_buf file = {0};
		uint16_t id = 0;
		uint8_t type = 0;

		r = rombsr_file_read(argv[2], 4096, &file);
		if (r == 0)
			r = rombsr_yh_import_wrapped(s, (uint16_t)strtoul(argv[1], NULL, 0), file.data, file.len, &type, &id);
		if (r == 0)
			printf("imported: type %u id 0x%04x\n", type, id);
		rombsr_buf_free(&file);
		return r;
	}
	if (strcmp(cmd, "caps") == 0 && argc == 3) {
		r = rombsr_yh_object_info(s, (uint16_t)strtoul(argv[1], NULL, 0), (uint8_t)strtoul(argv[2], NULL, 0),
					  &info);
		if (r == 0)
			printf("capabilities %016llx delegated %016llx domains %04x label %s\n",
			       (unsigned long long)info.capabilities, (unsigned long long)info.delegated, info.domains,
			       info.label);
		return r;
	}
	return rombsr_error(ROMBSR_EINVAL, "unknown command or arguments: %s", cmd);
}

int main(int argc, char **argv)
{
	struct rombsr_yh_connector *c = NULL;
	struct rombsr_yh_session *s = NULL;
	int r;

	if (argc < 4) {
		fprintf(stderr, "usage: yh-as URL PIN_FILE|factory COMMAND [ARGS]\n");
		return 2;
	}
	r = open_as(argv[1], argv[2], &c, &s);
	if (r == 0)
		r = run(s, argc - 3, argv + 3);
	if (r < 0)
		fprintf(stderr, "yh-as: %s\n", rombsr_error_message(r));
	rombsr_yh_session_close(s);
	rombsr_yh_connector_close(c);
	return r < 0 ? 1 : 0;
}
