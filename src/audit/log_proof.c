/* tlog-proofs (c2sp.org/tlog-proof@v1): made from an open log, parsed and
 * checked by anyone who holds the entry. */
#include "audit_internal.h"

#include "../common/error.h"

#include <stdlib.h>
#include <string.h>

#define PROOF_HEADER "c2sp.org/tlog-proof@v1\n"
#define PROOF_MAX (ROMBSR_NOTE_MAX + 8192)

int rombsr_audit_log_proof(const struct rombsr_audit_log *log, uint64_t index, const char *note,
			   size_t note_len, struct rombsr_buf *out)
{
	unsigned char proof[ROMBSR_MERKLE_MAX_PROOF][ROMBSR_MERKLE_HASH_LEN], root[ROMBSR_MERKLE_HASH_LEN];
	struct rombsr_checkpoint cp;
	size_t count;
	int r;

	rombsr_buf_init(out, PROOF_MAX);
	r = rombsr_checkpoint_parse_unverified(note, note_len, &cp);
	if (r == 0 && cp.size > log->tree.size)
		r = rombsr_error(ROMBSR_EINVAL, "checkpoint of size %llu is larger than the log",
				 (unsigned long long)cp.size);
	if (r == 0)
		r = rombsr_merkle_tree_root(&log->tree, cp.size, root);
	if (r == 0 && memcmp(root, cp.root, sizeof(root)) != 0)
		r = rombsr_error(ROMBSR_ESECURITY, "the checkpoint is not one of this log");
	if (r == 0)
		r = rombsr_merkle_tree_inclusion_proof(&log->tree, index, cp.size, proof, &count);
	if (r < 0)
		return r;
	rombsr_buf_printf(out, PROOF_HEADER "index %llu\n", (unsigned long long)index);
	for (size_t i = 0; i < count; i++) {
		rombsr_base64_encode(out, proof[i], ROMBSR_MERKLE_HASH_LEN);
		rombsr_buf_append(out, "\n", 1);
	}
	rombsr_buf_append(out, "\n", 1);
	rombsr_buf_append(out, note, note_len);
	r = rombsr_buf_check(out, "inclusion proof");
	if (r < 0)
		rombsr_buf_free(out);
	return r;
}

/* The parts of a tlog-proof: its index, the hashes, and where the
 * checkpoint note starts (it runs to the end). */
static int proof_parse(const char *proof, size_t proof_len, uint64_t *index,
		       unsigned char hashes[ROMBSR_MERKLE_MAX_PROOF][ROMBSR_MERKLE_HASH_LEN], size_t *count,
		       size_t *note_at)
{
	size_t pos, hlen;
	const char *nl;
	int r;

	*count = 0;
	if (proof_len > PROOF_MAX)
		return rombsr_error(ROMBSR_EINVAL, "proof: larger than %d bytes", PROOF_MAX);
	if (proof_len < strlen(PROOF_HEADER) || memcmp(proof, PROOF_HEADER, strlen(PROOF_HEADER)) != 0)
		return rombsr_error(ROMBSR_EINVAL, "proof: first line must be c2sp.org/tlog-proof@v1");
	pos = strlen(PROOF_HEADER);
	nl = memchr(proof + pos, '\n', proof_len - pos);
	if (nl != NULL && (size_t)(nl - proof - pos) > 6 && memcmp(proof + pos, "extra ", 6) == 0)
		pos = (size_t)(nl - proof) + 1, nl = memchr(proof + pos, '\n', proof_len - pos);
	if (nl == NULL || (size_t)(nl - proof - pos) < 7 || memcmp(proof + pos, "index ", 6) != 0)
		return rombsr_error(ROMBSR_EINVAL, "proof: expected the line 'index N'");
	r = audit_parse_u64(proof + pos + 6, (size_t)(nl - proof) - pos - 6, (uint64_t)INT64_MAX, index, "proof index");
	if (r < 0)
		return r;
	pos = (size_t)(nl - proof) + 1;
	for (;;) {
		nl = memchr(proof + pos, '\n', proof_len - pos);
		if (nl == NULL)
			return rombsr_error(ROMBSR_EINVAL, "proof: missing the blank line before the checkpoint");
		if (nl == proof + pos)
			break;
		if (*count == ROMBSR_MERKLE_MAX_PROOF || nl - (proof + pos) != 44)
			return rombsr_error(ROMBSR_EINVAL, "proof: bad hash line %zu", *count + 1);
		r = rombsr_base64_decode(proof + pos, 44, hashes[*count], ROMBSR_MERKLE_HASH_LEN, &hlen, "proof hash");
		if (r < 0)
			return r;
		if (hlen != ROMBSR_MERKLE_HASH_LEN)
			return rombsr_error(ROMBSR_EINVAL, "proof: hash line %zu is not 32 bytes", *count + 1);
		++*count;
		pos = (size_t)(nl - proof) + 1;
	}
	*note_at = pos + 1;
	return 0;
}

/* The entry's own index is the proof's, and the path leads from its leaf
 * to the checkpoint's root. */
static int proof_check_entry(const char *entry, size_t entry_len, uint64_t index,
			     unsigned char hashes[ROMBSR_MERKLE_MAX_PROOF][ROMBSR_MERKLE_HASH_LEN], size_t count,
			     const struct rombsr_checkpoint *cp)
{
	unsigned char leaf[ROMBSR_MERKLE_HASH_LEN];
	struct rombsr_audit_entry *e = malloc(sizeof(*e));
	int r = e ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	if (r == 0)
		r = rombsr_audit_entry_decode(entry, entry_len, e);
	if (r == 0 && e->index != index)
		r = rombsr_error(ROMBSR_ESECURITY, "proof is for index %llu but the entry says %llu",
				 (unsigned long long)index, (unsigned long long)e->index);
	free(e);
	if (r == 0)
		r = rombsr_merkle_leaf_hash(entry, entry_len, leaf);
	if (r == 0)
		r = rombsr_merkle_verify_inclusion(leaf, index, cp->size, (const unsigned char (*)[32])hashes, count,
						   cp->root);
	return r;
}

int rombsr_audit_proof_verify(const char *proof, size_t proof_len, const char *entry, size_t entry_len,
			      const struct rombsr_note_verifier *const *trusted, size_t n_trusted,
			      const char *origin, struct rombsr_checkpoint *cp, uint64_t *index)
{
	unsigned char hashes[ROMBSR_MERKLE_MAX_PROOF][ROMBSR_MERKLE_HASH_LEN];
	size_t count, note_at;
	int r = proof_parse(proof, proof_len, index, hashes, &count, &note_at);

	if (r == 0)
		r = rombsr_checkpoint_open(proof + note_at, proof_len - note_at, trusted, n_trusted, origin, cp);
	if (r == 0)
		r = proof_check_entry(entry, entry_len, *index, hashes, count, cp);
	return r;
}

int rombsr_audit_proof_note(const char *proof, size_t proof_len, const char **note, size_t *note_len)
{
	unsigned char hashes[ROMBSR_MERKLE_MAX_PROOF][ROMBSR_MERKLE_HASH_LEN];
	size_t count, note_at;
	uint64_t index;
	int r = proof_parse(proof, proof_len, &index, hashes, &count, &note_at);

	if (r == 0) {
		*note = proof + note_at;
		*note_len = proof_len - note_at;
	}
	return r;
}

int rombsr_audit_proof_verify_known(const char *proof, size_t proof_len, const char *entry, size_t entry_len,
				    const char *note, size_t note_len, const struct rombsr_checkpoint *note_cp,
				    struct rombsr_checkpoint *cp, uint64_t *index)
{
	unsigned char hashes[ROMBSR_MERKLE_MAX_PROOF][ROMBSR_MERKLE_HASH_LEN];
	size_t count, note_at;
	int r = proof_parse(proof, proof_len, index, hashes, &count, &note_at);

	if (r == 0 && (proof_len - note_at != note_len || memcmp(proof + note_at, note, note_len) != 0))
		return rombsr_error(ROMBSR_ENOTFOUND, "proof: another checkpoint than the one given");
	if (r == 0) {
		*cp = *note_cp;
		r = proof_check_entry(entry, entry_len, *index, hashes, count, cp);
	}
	return r;
}
