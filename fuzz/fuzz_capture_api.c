/* Call sequences into the capture module's PKCS#11 API (src/capture,
 * docs/capture.md). The module runs inside build tools that anyone with
 * access to the build may drive (apksigner, openssl, pkcs11-tool, a
 * hostile plugin), so every argument and every order of calls is
 * untrusted. The input is a small program: its first byte picks capture or
 * replay mode and how C_Initialize is called, then each step is an
 * opcode followed by the arguments it reads (handles, mechanisms,
 * templates, data and buffer sizes, all fuzzer-chosen). Buffers are
 * allocated at exactly the length the call is told, so ASan sees any write
 * past what the client gave. The module is linked in, not dlopen'ed, so the
 * sanitizers and the fuzzer's coverage see its code. */
#include "util.h"

#include "keys.h"

#include "../src/capture/capture.h"

#include <p11-kit/pkcs11.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A real signature by keys.h's platform key of SHA-256("fuzz"), so the
 * replay path can hand out and check a real signature. */
static const char sigset[] =
	"{\"format\":\"rombsr.capture-signatures\",\"version\":1,\"signatures\":[{\"label\":\"platform\","
	"\"spki_sha256\":\"" FUZZ_PLATFORM_SPKI "\",\"mechanism\":\"CKM_SHA256_RSA_PKCS\","
	"\"tbs\":\"93850b707585e404e4951a3ddc1f05a34b3d4f5fc081d616f46d8a2e8f1c8e68\",\"signature\":"
	"\"7c735a0c3c27fcef0278d3743479a6c3bf192b37fba73399d14e75d7ce50a65967f637b55a9be542abacb5bbef089ff3915cf9902e57873ef76726dce6a8f238d277db5d1a94ad5c4d36d8648dc92b728361e0550d99285274ead3aa10217f070ce5e363fce2186c58067fe50c6a94f78cd7c8a09db5940a19794817798ea907de5ad75132c58e4497345cbd3f72793c5f89f703e9f4264f391b603b9e0d3dc65640638ecfa0e63dd25bc69f626a058939ca7f30a2c9f8b11846603fc0c1b539132c7dac65a7963d4591d56c4e4c375aa716c8a3208815d31fd6988b699f58ca3e4cfda9380432261d3d7683559a6a2be9b4310e02d68634761ae9c725dfb19c\"}]}\n";

struct input {
	const uint8_t *p;
	size_t left;
};

static uint8_t byte(struct input *in)
{
	if (in->left == 0)
		return 0;
	in->left--;
	return *in->p++;
}

static CK_ULONG word(struct input *in)
{
	CK_ULONG v = byte(in);

	return v << 8 | byte(in);
}

/* A buffer of exactly n bytes (at least 1 allocated), filled from the
 * input; the caller frees it. */
static unsigned char *bytes(struct input *in, size_t n)
{
	unsigned char *b = calloc(n ? n : 1, 1);

	if (b == NULL)
		abort();
	for (size_t i = 0; i < n; i++)
		b[i] = byte(in);
	return b;
}

static const CK_MECHANISM_TYPE mechanisms[] = {
	CKM_RSA_PKCS, CKM_SHA256_RSA_PKCS, CKM_SHA384_RSA_PKCS, CKM_SHA512_RSA_PKCS, CKM_SHA1_RSA_PKCS,
	CKM_RSA_PKCS_PSS, CKM_SHA256_RSA_PKCS_PSS, CKM_SHA512_RSA_PKCS_PSS, CKM_RSA_X_509, CKM_ECDSA,
	CKM_ECDSA_SHA256, CKM_ECDSA_SHA384, CKM_SHA256, CKM_MD5_RSA_PKCS,
};
static const CK_ATTRIBUTE_TYPE attributes[] = {
	CKA_CLASS, CKA_LABEL, CKA_ID, CKA_KEY_TYPE, CKA_TOKEN, CKA_PRIVATE, CKA_MODULUS, CKA_PUBLIC_EXPONENT,
	CKA_EC_PARAMS, CKA_EC_POINT, CKA_VALUE, CKA_SIGN, CKA_VERIFY, CKA_SENSITIVE, CKA_EXTRACTABLE,
	CKA_MODULUS_BITS, CKA_PRIVATE_EXPONENT, CKA_CERTIFICATE_TYPE, CKA_SUBJECT, CKA_ALWAYS_AUTHENTICATE,
};

/* Handles: small numbers hit the sessions and objects that exist. */
static CK_SESSION_HANDLE session(struct input *in)
{
	return byte(in) % 6;
}

static CK_OBJECT_HANDLE object(struct input *in)
{
	uint8_t b = byte(in);

	return b & 0x80 ? 0x100000UL + (b & 7) : b % 8;
}

struct template {
	CK_ATTRIBUTE a[4];
	CK_ULONG n;
};

/* Attribute values come from the input (with_values) or are empty
 * buffers of the chosen size, or NULL, for C_GetAttributeValue. */
static void template_read(struct input *in, struct template *t, int with_values)
{
	t->n = byte(in) % 5;
	for (CK_ULONG i = 0; i < t->n; i++) {
		uint8_t b = byte(in), l = byte(in);
		/* Short values, or 256 to 319 bytes: an RSA-2048 modulus, a
		 * certificate's start. */
		size_t len = l < 0xc0 ? l % 80 : 256 + (size_t)(l & 0x3f);

		t->a[i].type = b < 0xf0 ? attributes[b % (sizeof(attributes) / sizeof(attributes[0]))] : word(in);
		t->a[i].ulValueLen = len;
		t->a[i].pValue = with_values || (b & 1) ? bytes(in, with_values ? len : 0) : NULL;
		if (!with_values && t->a[i].pValue != NULL) {
			free(t->a[i].pValue);
			t->a[i].pValue = calloc(len ? len : 1, 1);
		}
	}
}

static void template_free(struct template *t)
{
	for (CK_ULONG i = 0; i < t->n; i++)
		free(t->a[i].pValue);
}

static void mechanism_read(struct input *in, CK_MECHANISM *m, CK_RSA_PKCS_PSS_PARAMS *pss)
{
	uint8_t b = byte(in);

	/* Low bits: which mechanism; 0x40: parameters follow; 0x20: of the
	 * wrong length; 0xf0 and up: any mechanism number. */
	m->mechanism = b < 0xf0 ? mechanisms[(b & 0x1f) % (sizeof(mechanisms) / sizeof(mechanisms[0]))] : word(in);
	m->pParameter = NULL;
	m->ulParameterLen = 0;
	if (b & 0x40) {
		static const CK_MECHANISM_TYPE hashes[] = {CKM_SHA256, CKM_SHA384, CKM_SHA512, CKM_SHA_1, CKM_MD5};
		static const CK_RSA_PKCS_MGF_TYPE mgfs[] = {CKG_MGF1_SHA256, CKG_MGF1_SHA384, CKG_MGF1_SHA512, CKG_MGF1_SHA1};

		pss->hash_alg = hashes[byte(in) % 5];
		pss->mgf = mgfs[byte(in) % 4];
		pss->s_len = byte(in);
		m->pParameter = pss;
		/* A wrong length is a client mistake the module must refuse. */
		m->ulParameterLen = b & 0x20 ? sizeof(*pss) - 8 : sizeof(*pss);
	}
}

/* Data and signature buffers: data of a chosen length, an output buffer
 * that is NULL (a length query) or of a chosen length. */
static void sign_call(CK_FUNCTION_LIST *f, struct input *in, int op)
{
	CK_SESSION_HANDLE s = session(in);
	uint8_t how = byte(in);
	CK_ULONG len = how & 0x80 ? 0 : (how & 0x40 ? (CK_ULONG)(word(in) % 1100) : (CK_ULONG)(byte(in) % 80));
	unsigned char *data = how & 0x20 ? (unsigned char *)strdup("fuzz") : bytes(in, len);
	CK_ULONG out_len = how & 0x10 ? (CK_ULONG)(word(in) % 600) : 512;
	unsigned char *out = how & 0x08 ? NULL : calloc(out_len ? out_len : 1, 1);

	if (how & 0x20)
		len = 4;
	switch (op) {
	case 0: f->C_Sign(s, data, len, out, &out_len); break;
	case 1: f->C_SignUpdate(s, data, len); break;
	case 2: f->C_SignFinal(s, out, &out_len); break;
	case 3: f->C_Verify(s, data, len, out, out == NULL ? 0 : out_len); break;
	case 4: f->C_VerifyUpdate(s, data, len); break;
	case 5: f->C_VerifyFinal(s, out, out == NULL ? 0 : out_len); break;
	default: f->C_Digest(s, data, len, out, &out_len); break;
	}
	free(data);
	free(out);
}

static void step(CK_FUNCTION_LIST *f, struct input *in)
{
	uint8_t op = byte(in) % 20;
	CK_MECHANISM m;
	CK_RSA_PKCS_PSS_PARAMS pss;
	struct template t = {.n = 0};
	CK_SESSION_HANDLE h;
	CK_OBJECT_HANDLE found[8], obj;
	CK_ULONG n = 0;
	/* Arguments are read into these first, one statement each: the order
	 * in which a call's arguments are evaluated is unspecified, and gcc
	 * (replay) and clang (libFuzzer) must read an input the same way. */
	uint8_t a, b;
	union {
		CK_SLOT_ID slots[4];
		CK_MECHANISM_TYPE mechs[32];
		CK_SLOT_INFO slot;
		CK_TOKEN_INFO token;
		CK_MECHANISM_INFO mech;
		CK_SESSION_INFO session;
		unsigned char random[64];
	} out;

	switch (op) {
	case 0:
		a = byte(in);
		b = byte(in);
		f->C_OpenSession(a % 2, CKF_SERIAL_SESSION | (b & 1 ? CKF_RW_SESSION : 0), NULL, NULL, &h);
		break;
	case 1: f->C_CloseSession(session(in)); break;
	case 2: {
		CK_ULONG len = byte(in) % 16;
		unsigned char *pin = bytes(in, len);

		h = session(in);
		f->C_Login(h, byte(in) % 4, pin, len);
		free(pin);
		break;
	}
	case 3: f->C_Logout(session(in)); break;
	case 4:
		h = session(in);
		template_read(in, &t, 1);
		if (f->C_FindObjectsInit(h, t.a, t.n) == CKR_OK) {
			f->C_FindObjects(h, found, byte(in) % 9, &n);
			if (byte(in) & 1)
				f->C_FindObjectsFinal(h);
		}
		break;
	case 5:
		h = session(in);
		obj = object(in);
		template_read(in, &t, 0);
		f->C_GetAttributeValue(h, obj, t.a, t.n);
		break;
	case 6:
	case 7:
		h = session(in);
		mechanism_read(in, &m, &pss);
		obj = object(in);
		if (op == 6)
			f->C_SignInit(h, &m, obj);
		else
			f->C_VerifyInit(h, &m, obj);
		break;
	case 8: case 9: case 10: case 11: case 12: case 13:
		sign_call(f, in, op - 8);
		break;
	case 14:
		h = session(in);
		template_read(in, &t, 1);
		f->C_CreateObject(h, t.a, t.n, &obj);
		break;
	case 15:
		h = session(in);
		f->C_DestroyObject(h, object(in));
		break;
	case 16:
		n = byte(in) % 4;
		a = byte(in);
		b = byte(in);
		f->C_GetSlotList(a & 1, b & 1 ? out.slots : NULL, &n);
		f->C_GetSlotInfo(byte(in) % 2, &out.slot);
		f->C_GetTokenInfo(byte(in) % 2, &out.token);
		break;
	case 17:
		n = byte(in) % 33;
		a = byte(in);
		b = byte(in);
		f->C_GetMechanismList(a % 2, b & 1 ? out.mechs : NULL, &n);
		mechanism_read(in, &m, &pss);
		f->C_GetMechanismInfo(byte(in) % 2, m.mechanism, &out.mech);
		f->C_GetSessionInfo(session(in), &out.session);
		break;
	case 18:
		h = session(in);
		f->C_GetObjectSize(h, object(in), &n);
		h = session(in);
		f->C_GenerateRandom(h, out.random, byte(in) % sizeof(out.random));
		break;
	default:
		if (byte(in) & 1) {
			f->C_CloseAllSessions(byte(in) % 2);
		} else {
			mechanism_read(in, &m, &pss);
			f->C_DigestInit(session(in), &m);
			sign_call(f, in, 6);
		}
		break;
	}
	template_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static CK_FUNCTION_LIST *f;
	static char capture_conf[512], replay_conf[512];
	struct input in = {data, size};
	uint8_t mode = byte(&in);
	CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};

	if (f == NULL) {
		const char *bundle = fuzz_bundle();
		char text[1280];

		fuzz_check(C_GetFunctionList(&f) == CKR_OK, "capture api: no function list");
		fuzz_write("signatures.json", sigset, strlen(sigset));
		snprintf(text, sizeof(text), "mode = capture\nbundle = %s\njournal = %s/journal.jsonl\n", bundle, fuzz_dir());
		snprintf(capture_conf, sizeof(capture_conf), "%s", fuzz_write("capture.conf", text, strlen(text)));
		snprintf(text, sizeof(text), "mode = replay\nbundle = %s\nsignatures = %s/signatures.json\n", bundle,
			 fuzz_dir());
		snprintf(replay_conf, sizeof(replay_conf), "%s", fuzz_write("replay.conf", text, strlen(text)));
	}
	/* The journal would grow with every run: start each one empty. */
	fuzz_write("journal.jsonl", "", 0);
	setenv(CAP_CONFIG_ENV, mode & 1 ? replay_conf : capture_conf, 1);
	if (f->C_Initialize(mode & 2 ? &args : NULL) != CKR_OK)
		return 0;
	for (int steps = 0; in.left > 0 && steps < 64; steps++)
		step(f, &in);
	fuzz_check(f->C_Finalize(NULL) == CKR_OK, "capture api: C_Finalize failed");
	return 0;
}
