/* The release key set of the ROMbsr architecture (seed 000), plus the OTA
 * manifest key that belongs to an authority of its own (seed 002). */
#ifndef ROMBSR_KEYSET_H
#define ROMBSR_KEYSET_H

#include "config.h"
#include "sigalg.h"

#include <stdbool.h>
#include <stddef.h>

struct rombsr_keyset_entry {
	const char *label;
	enum rombsr_key_kind kind;
	unsigned bits;                     /* RSA modulus size; 256 for P-256 */
	enum rombsr_authority_id authority;
	bool development;                  /* never valid for a user/release build */
	const char *purpose;
};

extern const struct rombsr_keyset_entry rombsr_keyset[];
extern const size_t rombsr_keyset_len;

const struct rombsr_keyset_entry *rombsr_keyset_find(const char *label);

#endif
