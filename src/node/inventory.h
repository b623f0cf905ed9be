/* What the HSM holds of the key set: the shared read side of 'keys' and
 * 'export-public'. */
#ifndef ROMBSR_CLI_INVENTORY_H
#define ROMBSR_CLI_INVENTORY_H

#include "node.h"

#include "../common/keyset.h"

#include <openssl/x509.h>

struct inventory_key {
	const struct rombsr_keyset_entry *entry;
	/* entry's label, or for a retired predecessor (hsm-rotate-keys) its
	 * label in the token, "<label>@<16 hex>" */
	char label[ROMBSR_KEYSET_LABEL_MAX + 1];
	bool retired;
	bool present;                 /* private key found in the token or its wrapped store */
	bool stored_only;             /* kept wrapped on disk only (hsm.capacity) */
	unsigned bits;
	char id_hex[129];
	char spki_sha256[65];
	X509 *certificate;            /* NULL if the token has none */
};

struct inventory {
	struct inventory_key *keys;   /* one per key of the selected authorities, then its retired one if any */
	size_t len;
};

int inventory_load(struct cli_context *ctx, const bool selected[ROMBSR_AUTHORITY_COUNT], struct inventory *inv);
void inventory_free(struct inventory *inv);

/* ISO 8601 UTC ("2026-11-22T06:00:00Z") of an ASN1_TIME. */
int inventory_time(const ASN1_TIME *t, char out[32]);

#endif
