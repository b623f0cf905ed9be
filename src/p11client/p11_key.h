/* One signing key of a PKCS#11 token, named by an RFC 7512 URI, for the
 * build-side tools (rombsr-artifact: avb, ota, manifest). On a build node
 * the module is the capture module, which records each signing call and
 * answers a placeholder (capture) or the sign node's signature (replay); on
 * a test machine it may be any token. This is a plain PKCS#11 client: it
 * shares no code with the sign node's HSM layer (src/hsm/), which only the
 * signer links.
 *
 * The URI names the module (module-path=, or the caller's override), the
 * token (token=, serial=, …) and the key (object= and/or id=). A PIN comes
 * from pin-source= (a file, as p11-kit reads it) or from the caller; a
 * pin-value= is refused, since a URI is a command-line argument. */
#ifndef ROMBSR_P11_KEY_H
#define ROMBSR_P11_KEY_H

#include "../common/buf.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <openssl/x509.h>
#include <p11-kit/pkcs11.h>

struct rombsr_p11_key;

struct rombsr_p11_key_options {
	const char *module_path; /* overrides the URI's module-path; may be NULL */
	const char *pin_file;    /* overrides the URI's pin-source; may be NULL */
	int pin_fd;              /* -1 for none; else read the PIN from it */
	/* When set, the key is the one private key (among those the URI
	 * matches) whose public key this is; the URI need not name it. */
	EVP_PKEY *match_public;
};

/* Loads the module, finds exactly one token and exactly one private key
 * matching uri, and logs in (with the PIN; the capture module's token
 * holds no secret and is logged in with an empty PIN). ROMBSR_ENOTFOUND
 * when nothing matches, ROMBSR_EINVAL when more than one does. */
int rombsr_p11_key_open(const char *uri, const struct rombsr_p11_key_options *opts, struct rombsr_p11_key **out);
void rombsr_p11_key_close(struct rombsr_p11_key *key);

/* The key's public key: from its certificate (same CKA_ID) when the token
 * has one, else from the private key's RSA modulus and exponent. */
int rombsr_p11_key_public(struct rombsr_p11_key *key, EVP_PKEY **out);
/* The certificate with the key's CKA_ID; ROMBSR_ENOTFOUND if none. */
int rombsr_p11_key_certificate(struct rombsr_p11_key *key, X509 **out);

/* C_Sign with mechanism (no parameters) over in; the signature is appended
 * to sig (initialized here). */
int rombsr_p11_key_sign(struct rombsr_p11_key *key, CK_MECHANISM_TYPE mechanism, const unsigned char *in,
	size_t in_len, struct rombsr_buf *sig);

/* True when the token is the capture module in capture mode: its
 * signatures are placeholders, to be replaced by the sign node's in replay,
 * and a tool must not verify them. */
bool rombsr_p11_key_answers_placeholders(const struct rombsr_p11_key *key);
/* True when the token is the capture module in replay mode: a signing call
 * it has no signature for fails. */
bool rombsr_p11_key_replays(const struct rombsr_p11_key *key);

/* The key's label (from the token), for messages. */
const char *rombsr_p11_key_label(const struct rombsr_p11_key *key);

#endif
