/* The audit signer's one job: sign checkpoints of the audit log with the
 * audit key, and only checkpoints that extend the last one it signed.
 *
 * It remembers the last tree it signed (size and root) in a state file,
 * made durable before the signature leaves the process, and asks for an
 * RFC 6962 consistency proof from that tree to the new one. So even a
 * worker that has been taken over cannot get two different views of the
 * log signed (a fork), nor a log with entries cut out of its history: the
 * worst it can do is stop logging, which every auditor sees. */
#ifndef ROMBSR_SIGN_CHECKPOINT_SIGNER_H
#define ROMBSR_SIGN_CHECKPOINT_SIGNER_H

#include "channel.h"

#include "../hsm/hsm.h"

struct rombsr_checkpoint_signer {
	struct rombsr_hsm *hsm;
	const struct rombsr_hsm_key *key;
	unsigned char *spki; /* DER SubjectPublicKeyInfo of the audit key */
	size_t spki_len;
	char *state_path;
	uint64_t size;       /* last tree signed; 0 = none */
	unsigned char root[ROMBSR_MERKLE_HASH_LEN];
};

/* Loads the state file at state_path (absent: nothing signed yet). */
int rombsr_checkpoint_signer_open(struct rombsr_checkpoint_signer *cs, struct rombsr_hsm *hsm,
				  const struct rombsr_hsm_key *key, const char *state_path);
void rombsr_checkpoint_signer_close(struct rombsr_checkpoint_signer *cs);

/* ROMBSR_CH_AUDIT_STATE and ROMBSR_CH_CHECKPOINT; fills reply->status. */
void rombsr_checkpoint_signer_handle(struct rombsr_checkpoint_signer *cs, const struct rombsr_channel_request *m,
				     struct rombsr_channel_reply *reply);

#endif
