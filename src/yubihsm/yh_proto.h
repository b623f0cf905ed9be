/* The YubiHSM 2 wire protocol's numbers, as Yubico documents them (the
 * "Commands", "Errors", "Capabilities", "Algorithms" and "Session" pages of
 * its developer documentation). Both the native backend (src/yubihsm) and
 * the emulator (src/yubihsm_emu) speak through these: a number wrong here
 * is wrong in both, which is why the emulator is also checked against
 * Yubico's own yubihsm-shell (docs/yubihsm-emulator.md, "How the emulator was
 * checked"). */
#ifndef ROMBSR_YH_PROTO_H
#define ROMBSR_YH_PROTO_H

#include <stdint.h>

/* A message is cmd(1) || length(2, big-endian) || data. A response carries
 * cmd | YH_RESPONSE_FLAG; an error is YH_CMD_ERROR with one error byte. */
#define YH_RESPONSE_FLAG 0x80
#define YH_MSG_MAX 3136
#define YH_MSG_HEADER 3

enum yh_command {
	YH_CMD_ECHO = 0x01,
	YH_CMD_CREATE_SESSION = 0x03,
	YH_CMD_AUTHENTICATE_SESSION = 0x04,
	YH_CMD_SESSION_MESSAGE = 0x05,
	YH_CMD_DEVICE_INFO = 0x06,
	YH_CMD_RESET_DEVICE = 0x08,
	YH_CMD_CLOSE_SESSION = 0x40,
	YH_CMD_STORAGE_INFO = 0x41,
	YH_CMD_PUT_OPAQUE = 0x42,
	YH_CMD_GET_OPAQUE = 0x43,
	YH_CMD_PUT_AUTHENTICATION_KEY = 0x44,
	YH_CMD_PUT_ASYMMETRIC_KEY = 0x45,
	YH_CMD_GENERATE_ASYMMETRIC_KEY = 0x46,
	YH_CMD_SIGN_PKCS1 = 0x47,
	YH_CMD_LIST_OBJECTS = 0x48,
	YH_CMD_EXPORT_WRAPPED = 0x4a,
	YH_CMD_IMPORT_WRAPPED = 0x4b,
	YH_CMD_PUT_WRAP_KEY = 0x4c,
	YH_CMD_GET_LOG_ENTRIES = 0x4d,
	YH_CMD_GET_OBJECT_INFO = 0x4e,
	YH_CMD_SET_OPTION = 0x4f,
	YH_CMD_GET_OPTION = 0x50,
	YH_CMD_GET_PSEUDO_RANDOM = 0x51,
	YH_CMD_GET_PUBLIC_KEY = 0x54,
	YH_CMD_SIGN_PSS = 0x55,
	YH_CMD_SIGN_ECDSA = 0x56,
	YH_CMD_DELETE_OBJECT = 0x58,
	YH_CMD_GENERATE_WRAP_KEY = 0x5b,
	YH_CMD_SET_LOG_INDEX = 0x67,
	YH_CMD_CHANGE_AUTHENTICATION_KEY = 0x6c,
	YH_CMD_ERROR = 0x7f,
};

/* The byte after YH_CMD_ERROR. */
enum yh_device_error {
	YH_ERR_OK = 0x00,
	YH_ERR_INVALID_COMMAND = 0x01,
	YH_ERR_INVALID_DATA = 0x02,
	YH_ERR_INVALID_SESSION = 0x03,
	YH_ERR_AUTHENTICATION_FAILED = 0x04,
	YH_ERR_SESSIONS_FULL = 0x05,
	YH_ERR_SESSION_FAILED = 0x06,
	YH_ERR_STORAGE_FAILED = 0x07,
	YH_ERR_WRONG_LENGTH = 0x08,
	YH_ERR_INSUFFICIENT_PERMISSIONS = 0x09,
	YH_ERR_LOG_FULL = 0x0a,
	YH_ERR_OBJECT_NOT_FOUND = 0x0b,
	YH_ERR_INVALID_ID = 0x0c,
	YH_ERR_SSH_CA_CONSTRAINT_VIOLATION = 0x0e,
	YH_ERR_INVALID_OTP = 0x0f,
	YH_ERR_DEMO_MODE = 0x10,
	YH_ERR_OBJECT_EXISTS = 0x11,
	YH_ERR_ALGORITHM_DISABLED = 0x12,
	YH_ERR_COMMAND_UNEXECUTED = 0xff,
};

enum yh_object_type {
	YH_TYPE_OPAQUE = 0x01,
	YH_TYPE_AUTHENTICATION_KEY = 0x02,
	YH_TYPE_ASYMMETRIC_KEY = 0x03,
	YH_TYPE_WRAP_KEY = 0x04,
	YH_TYPE_HMAC_KEY = 0x05,
	YH_TYPE_TEMPLATE = 0x06,
	YH_TYPE_OTP_AEAD_KEY = 0x07,
	YH_TYPE_SYMMETRIC_KEY = 0x08,
};

enum yh_algorithm {
	YH_ALGO_RSA_PKCS1_SHA1 = 1,
	YH_ALGO_RSA_PKCS1_SHA256 = 2,
	YH_ALGO_RSA_PKCS1_SHA384 = 3,
	YH_ALGO_RSA_PKCS1_SHA512 = 4,
	YH_ALGO_RSA_PSS_SHA1 = 5,
	YH_ALGO_RSA_PSS_SHA256 = 6,
	YH_ALGO_RSA_PSS_SHA384 = 7,
	YH_ALGO_RSA_PSS_SHA512 = 8,
	YH_ALGO_RSA_2048 = 9,
	YH_ALGO_RSA_3072 = 10,
	YH_ALGO_RSA_4096 = 11,
	YH_ALGO_EC_P256 = 12,
	YH_ALGO_EC_P384 = 13,
	YH_ALGO_EC_P521 = 14,
	YH_ALGO_AES128_CCM_WRAP = 29,
	YH_ALGO_OPAQUE_DATA = 30,
	YH_ALGO_OPAQUE_X509_CERTIFICATE = 31,
	YH_ALGO_MGF1_SHA1 = 32,
	YH_ALGO_MGF1_SHA256 = 33,
	YH_ALGO_MGF1_SHA384 = 34,
	YH_ALGO_MGF1_SHA512 = 35,
	YH_ALGO_AES128_YUBICO_AUTHENTICATION = 38,
	YH_ALGO_AES192_CCM_WRAP = 41,
	YH_ALGO_AES256_CCM_WRAP = 42,
	YH_ALGO_EC_ECDSA_SHA256 = 43,
	YH_ALGO_EC_ECDSA_SHA384 = 44,
	YH_ALGO_EC_ECDSA_SHA512 = 45,
};

/* Capability bit numbers: an object's capabilities and an authentication
 * key's delegated capabilities are 64-bit big-endian masks of
 * 1 << YH_CAP_x. */
enum yh_capability_bit {
	YH_CAP_GET_OPAQUE = 0x00,
	YH_CAP_PUT_OPAQUE = 0x01,
	YH_CAP_PUT_AUTHENTICATION_KEY = 0x02,
	YH_CAP_PUT_ASYMMETRIC_KEY = 0x03,
	YH_CAP_GENERATE_ASYMMETRIC_KEY = 0x04,
	YH_CAP_SIGN_PKCS = 0x05,
	YH_CAP_SIGN_PSS = 0x06,
	YH_CAP_SIGN_ECDSA = 0x07,
	YH_CAP_EXPORT_WRAPPED = 0x0c,
	YH_CAP_IMPORT_WRAPPED = 0x0d,
	YH_CAP_PUT_WRAP_KEY = 0x0e,
	YH_CAP_GENERATE_WRAP_KEY = 0x0f,
	YH_CAP_EXPORTABLE_UNDER_WRAP = 0x10,
	YH_CAP_SET_OPTION = 0x11,
	YH_CAP_GET_OPTION = 0x12,
	YH_CAP_GET_PSEUDO_RANDOM = 0x13,
	YH_CAP_GET_LOG_ENTRIES = 0x18,
	YH_CAP_RESET_DEVICE = 0x1c,
	YH_CAP_DELETE_OPAQUE = 0x27,
	YH_CAP_DELETE_AUTHENTICATION_KEY = 0x28,
	YH_CAP_DELETE_ASYMMETRIC_KEY = 0x29,
	YH_CAP_DELETE_WRAP_KEY = 0x2a,
	YH_CAP_CHANGE_AUTHENTICATION_KEY = 0x2e,
};

#define YH_CAP(bit) ((uint64_t)1 << (bit))

/* Options (Set Option / Get Option): force audit's value is one byte,
 * 0 off, 1 on, 2 on for good. */
#define YH_OPTION_FORCE_AUDIT 0x01
#define YH_OPTION_COMMAND_AUDIT 0x03

/* List Objects' filters: a tag, then its value (id 2 bytes, type 1,
 * domains 2, capabilities 8, algorithm 1, label 40, zero-padded). */
#define YH_LIST_ID 0x01
#define YH_LIST_TYPE 0x02
#define YH_LIST_DOMAINS 0x03
#define YH_LIST_CAPABILITIES 0x04
#define YH_LIST_ALGORITHM 0x05
#define YH_LIST_LABEL 0x06

/* Object origins (Get Object Info). */
#define YH_ORIGIN_GENERATED 0x01
#define YH_ORIGIN_IMPORTED 0x02
#define YH_ORIGIN_IMPORTED_WRAPPED 0x10

#define YH_LABEL_LEN 40
#define YH_MAX_SESSIONS 16
#define YH_MAX_OBJECTS 256
#define YH_LOG_ENTRIES 62
#define YH_LOG_ENTRY_LEN 32
#define YH_LOG_DIGEST_LEN 16
#define YH_FACTORY_AUTH_KEY 0x0001
#define YH_FACTORY_PASSWORD "password"
/* Password-derived authentication keys: PBKDF2-HMAC-SHA256 with this salt
 * and count gives 32 bytes, the encryption key then the MAC key. */
#define YH_PBKDF2_SALT "Yubico"
#define YH_PBKDF2_ITERATIONS 10000
#define YH_SESSION_IDLE_SECONDS 30

/* SCP03 (GlobalPlatform Amendment D) as the device does it: 8-byte host
 * and card challenges, the KDF in counter mode over AES-CMAC with these
 * derivation constants, 8-byte cryptograms and MACs. */
#define YH_SCP_CARD_CRYPTOGRAM 0x00
#define YH_SCP_HOST_CRYPTOGRAM 0x01
#define YH_SCP_S_ENC 0x04
#define YH_SCP_S_MAC 0x06
#define YH_SCP_S_RMAC 0x07
#define YH_SCP_CHALLENGE_LEN 8
#define YH_SCP_MAC_LEN 8
#define YH_SCP_KEY_LEN 16

#endif
