#include "keyset.h"

#include <string.h>

/* RSA-4096 throughout the release authority: AVB has no ECDSA, and the APK
 * keys stay RSA so every Android release can verify them. */
const struct rombsr_keyset_entry rombsr_keyset[] = {
	{"platform", ROMBSR_KEY_RSA, 4096, ROMBSR_AUTHORITY_RELEASE, false, "system apps with platform signature"},
	{"media", ROMBSR_KEY_RSA, 4096, ROMBSR_AUTHORITY_RELEASE, false, "media and download providers"},
	{"shared", ROMBSR_KEY_RSA, 4096, ROMBSR_AUTHORITY_RELEASE, false, "home and contacts apps"},
	{"networkstack", ROMBSR_KEY_RSA, 4096, ROMBSR_AUTHORITY_RELEASE, false, "network stack modules"},
	{"sdk_sandbox", ROMBSR_KEY_RSA, 4096, ROMBSR_AUTHORITY_RELEASE, false, "SDK runtime sandbox"},
	{"bluetooth", ROMBSR_KEY_RSA, 4096, ROMBSR_AUTHORITY_RELEASE, false, "bluetooth stack"},
	{"testkey", ROMBSR_KEY_RSA, 4096, ROMBSR_AUTHORITY_RELEASE, true, "development builds only"},
	{"avb_root", ROMBSR_KEY_RSA, 4096, ROMBSR_AUTHORITY_RELEASE, false, "verified boot root (vbmeta)"},
	{"avb_intermediate", ROMBSR_KEY_RSA, 4096, ROMBSR_AUTHORITY_RELEASE, false, "verified boot chained partitions"},
	{"ota_key", ROMBSR_KEY_RSA, 4096, ROMBSR_AUTHORITY_RELEASE, false, "OTA package signature"},
	{"manifest", ROMBSR_KEY_EC_P256, 256, ROMBSR_AUTHORITY_MANIFEST, false, "OTA manifest authority"},
	/* C2SP signed notes with ECDSA (type 0x02) need P-256. */
	{"audit", ROMBSR_KEY_EC_P256, 256, ROMBSR_AUTHORITY_AUDIT, false, "audit log checkpoints only"},
};

const size_t rombsr_keyset_len = sizeof(rombsr_keyset) / sizeof(rombsr_keyset[0]);

const struct rombsr_keyset_entry *rombsr_keyset_find(const char *label)
{
	for (size_t i = 0; i < rombsr_keyset_len; i++)
		if (strcmp(rombsr_keyset[i].label, label) == 0)
			return &rombsr_keyset[i];
	return NULL;
}
