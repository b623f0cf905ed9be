/* Builds the files of a signing queue whose audit log has N entries, the
 * way the sign node publishes them (src/sign/audit_writer.c,
 * rombsr_audit_writer_files): per pass, the entries appended since the last
 * push as one chunk, the pass's checkpoint, and one response per request
 * with its audit object (index, entries, tlog-proof against that
 * checkpoint). Running a real sign node to 100,000 entries would take hours
 * of HSM signing; the entries, responses and proofs here are what it would
 * write (same encoders, same library), only the signatures are random bytes
 * (audit-verify compares their SHA-256 with the log, it does not verify
 * them against keys) and checkpoints are signed by a software P-256 key.
 *
 * The node's start (3 hsm-login, 12 key-generated) opens the log; each
 * request is a request-signed entry and 3 signature entries, every tenth a
 * request-rejected entry instead.
 *
 * Usage: make_audit_queue OUT N [REQUESTS_PER_PASS] [ORIGIN]
 * Writes OUT/tree (the queue's files, to commit), OUT/log (the node's log)
 * and OUT/audit.vkey. */
#include "../src/audit/log.h"
#include "../src/common/error.h"
#include "../src/common/fsutil.h"
#include "../src/common/hex.h"
#include "../src/common/keyset.h"
#include "../src/queue/audit_layout.h"
#include "../src/queue/layout.h"
#include "../src/queue/response.h"
#include "../tests/unit/test_audit_key.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIGS 3
#define START_TIME 1795300000u /* 2026-11-22 */

struct gen {
	const char *out, *origin;
	struct rombsr_audit_log *log;
	struct rombsr_note_signer signer;
	uint64_t published; /* entries already in the queue's chunks */
	uint64_t requests, passes;
	uint64_t time;
};

/* Bench data, committed right after: written plainly, no fsync. */
static int write_tree_file(const struct gen *g, const char *queue_path, const void *data, size_t len)
{
	char path[4096], *slash;
	FILE *f;
	int r;

	snprintf(path, sizeof(path), "%s/tree/%s", g->out, queue_path);
	slash = strrchr(path, '/');
	*slash = '\0';
	r = rombsr_mkdir_p(path, 0755);
	*slash = '/';
	if (r < 0)
		return r;
	f = fopen(path, "wbx");
	if (f == NULL)
		return rombsr_error(ROMBSR_EIO, "cannot create %s", path);
	r = fwrite(data, 1, len, f) == len ? 0 : rombsr_error(ROMBSR_EIO, "cannot write %s", path);
	if (fclose(f) != 0 && r == 0)
		r = rombsr_error(ROMBSR_EIO, "cannot write %s", path);
	return r;
}

/* The node's start: what rombsr_sign_node_open logs on a new log. */
static int node_start(struct gen *g)
{
	static const char *const tokens[] = {"rombsr-release", "rombsr-manifest", "rombsr-audit"};
	static const char *const roles[] = {"signing", "signing", "audit"};
	struct rombsr_audit_entry e[3 + 16];
	uint64_t first;
	size_t n = 0;

	memset(e, 0, sizeof(e));
	for (int i = 0; i < 3; i++, n++) {
		e[n].type = ROMBSR_AUDIT_HSM_LOGIN;
		snprintf(e[n].token, sizeof(e[n].token), "%s", tokens[i]);
		snprintf(e[n].role, sizeof(e[n].role), "%s", roles[i]);
		snprintf(e[n].result, sizeof(e[n].result), "ok");
	}
	for (size_t i = 0; i < rombsr_keyset_current()->len && n < sizeof(e) / sizeof(e[0]); i++, n++) {
		const struct rombsr_keyset_entry *k = &rombsr_keyset_current()->entries[i];
		unsigned char md[32];

		e[n].type = ROMBSR_AUDIT_KEY_GENERATED;
		SHA256((const unsigned char *)k->label, strlen(k->label), md);
		rombsr_hex_encode(md, 32, e[n].key_fingerprint);
		snprintf(e[n].key_label, sizeof(e[n].key_label), "%s", k->label);
		rombsr_key_algorithm_name(k->kind, k->bits, e[n].algorithm);
		snprintf(e[n].token, sizeof(e[n].token), "rombsr-%s", rombsr_authority_name(k->authority));
	}
	for (size_t i = 0; i < n; i++)
		e[i].time = g->time;
	return rombsr_audit_log_append_batch(g->log, e, n, &first);
}

/* One request's response and its entries (e, *n of them). */
static int decide(struct gen *g, struct rombsr_response *resp, struct rombsr_audit_entry *e, size_t *count)
{
	unsigned char id_random[ROMBSR_REQUEST_ID_RANDOM], md[32];
	uint64_t k = g->requests++;
	size_t n = 1;
	int r;

	memset(resp, 0, sizeof(*resp));
	memset(e, 0, (1 + SIGS) * sizeof(*e));
	/* Unique and spread like real random IDs (the queue files responses
	 * under the ID's first random byte): SHA-256 of the request's number. */
	SHA256((const unsigned char *)&k, sizeof(k), md);
	memcpy(id_random, md, sizeof(id_random));
	r = rombsr_request_id_make((time_t)g->time, id_random, resp->request_id);
	if (r < 0)
		return r;
	SHA256((const unsigned char *)resp->request_id, strlen(resp->request_id), md);
	rombsr_hex_encode(md, 20, resp->request_commit);
	snprintf(resp->sign_node, sizeof(resp->sign_node), "F3DBAD8C90F7D195076A6F78F3738949EDC4A9FC");
	resp->time = (time_t)g->time;
	resp->signed_ok = k % 10 != 9;
	e[0].type = resp->signed_ok ? ROMBSR_AUDIT_REQUEST_SIGNED : ROMBSR_AUDIT_REQUEST_REJECTED;
	snprintf(e[0].request_id, sizeof(e[0].request_id), "%s", resp->request_id);
	snprintf(e[0].request_commit, sizeof(e[0].request_commit), "%s", resp->request_commit);
	if (!resp->signed_ok) {
		snprintf(resp->reason_code, sizeof(resp->reason_code), "expired");
		snprintf(resp->reason_message, sizeof(resp->reason_message), "the request expired at its expires time");
		snprintf(e[0].reason, sizeof(e[0].reason), "%s", resp->reason_code);
		snprintf(e[0].detail, sizeof(e[0].detail), "%s", resp->reason_message);
	} else {
		resp->sigs = calloc(SIGS, sizeof(*resp->sigs));
		if (resp->sigs == NULL)
			return rombsr_error(ROMBSR_ENOMEM, "out of memory");
		resp->nsigs = SIGS;
		e[0].signatures = SIGS;
		for (size_t i = 0; i < SIGS; i++, n++) {
			struct rombsr_response_sig *s = &resp->sigs[i];

			snprintf(s->op.label, sizeof(s->op.label), "platform");
			SHA256((const unsigned char *)"platform", 8, md);
			rombsr_hex_encode(md, 32, s->op.spki_sha256);
			s->op.mech = rombsr_cap_mech_by_name("CKM_SHA256_RSA_PKCS");
			SHA256((const unsigned char *)&k, sizeof(k), s->op.tbs);
			s->op.tbs[0] = (unsigned char)i;
			s->op.tbs_len = 32;
			for (size_t b = 0; b < 512; b++)
				s->sig[b] = (unsigned char)(b * 131 + k * 7 + i);
			s->sig_len = 512;
			e[n].type = ROMBSR_AUDIT_SIGNATURE;
			snprintf(e[n].request_id, sizeof(e[n].request_id), "%s", resp->request_id);
			snprintf(e[n].request_commit, sizeof(e[n].request_commit), "%s", resp->request_commit);
			SHA256((const unsigned char *)"artifacts", 9, md);
			rombsr_hex_encode(md, 32, e[n].artifact_sha256);
			memcpy(e[n].key_fingerprint, s->op.spki_sha256, 65);
			snprintf(e[n].key_label, sizeof(e[n].key_label), "%s", s->op.label);
			snprintf(e[n].mechanism, sizeof(e[n].mechanism), "%s", s->op.mech->name);
			rombsr_hex_encode(s->op.tbs, s->op.tbs_len, e[n].digest);
			SHA256(s->sig, s->sig_len, md);
			rombsr_hex_encode(md, 32, e[n].signature_sha256);
		}
	}
	for (size_t i = 0; i < n; i++)
		e[i].time = g->time;
	resp->has_audit = true;
	resp->audit_entries = n;
	*count = n;
	return 0;
}

/* One pass of the sign node: decisions, one checkpoint, proofs in the
 * responses, then the chunk, checkpoint and responses as the queue gets them. */
static int pass(struct gen *g, uint64_t requests, uint64_t n_max)
{
	struct rombsr_response *resp = calloc(requests, sizeof(*resp));
	struct rombsr_audit_entry *e = calloc(requests * (1 + SIGS), sizeof(*e));
	struct rombsr_checkpoint cp;
	struct rombsr_buf note = {0}, chunk;
	char path[160];
	uint64_t done = 0, size = rombsr_audit_log_size(g->log), first;
	size_t n = 0, count = 0;
	int r = resp && e ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	/* The node writes each request's entries durably before publishing;
	 * one write per pass here gives the same log, faster. */
	for (; done < requests && r == 0 && size + n + 1 + SIGS <= n_max; done++) {
		r = decide(g, &resp[done], &e[n], &count);
		resp[done].audit_index = size + n;
		n += count;
	}
	if (r == 0)
		r = rombsr_audit_log_append_batch(g->log, e, n, &first);
	free(e);
	if (r == 0)
		r = rombsr_audit_log_checkpoint(g->log, g->origin, &g->signer, &note);
	if (r == 0)
		r = rombsr_checkpoint_parse_unverified((const char *)note.data, note.len, &cp);
	for (uint64_t i = 0; i < done && r == 0; i++) {
		struct rombsr_buf proof, text;

		r = rombsr_audit_log_proof(g->log, resp[i].audit_index, (const char *)note.data, note.len, &proof);
		if (r == 0 && rombsr_buf_cstr(&proof) == NULL)
			r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
		if (r == 0 && (resp[i].audit_proof = strdup((const char *)proof.data)) == NULL)
			r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
		rombsr_buf_free(&proof);
		if (r == 0)
			r = rombsr_response_encode(&resp[i], &text);
		if (r == 0)
			r = rombsr_queue_response_path(resp[i].request_id, path, sizeof(path));
		if (r == 0)
			r = write_tree_file(g, path, text.data, text.len);
		rombsr_buf_free(&text);
	}
	rombsr_buf_init(&chunk, ROMBSR_RESPONSE_MAX_BYTES);
	for (uint64_t i = g->published; i < cp.size && r == 0; i++) {
		struct rombsr_buf line;

		r = rombsr_audit_log_entry(g->log, i, &line);
		rombsr_buf_append(&chunk, line.data, line.len);
		rombsr_buf_append(&chunk, "\n", 1);
		rombsr_buf_free(&line);
		if (r == 0)
			r = rombsr_buf_check(&chunk, "chunk");
	}
	if (r == 0)
		r = rombsr_queue_audit_chunk_path(g->published, path, sizeof(path));
	if (r == 0)
		r = write_tree_file(g, path, chunk.data, chunk.len);
	if (r == 0)
		r = rombsr_queue_audit_checkpoint_path(cp.size, path, sizeof(path));
	if (r == 0)
		r = write_tree_file(g, path, note.data, note.len);
	if (r == 0) {
		g->published = cp.size;
		g->passes++;
	}
	rombsr_buf_free(&chunk);
	rombsr_buf_free(&note);
	for (uint64_t i = 0; i < requests; i++)
		rombsr_response_free(&resp[i]);
	free(resp);
	g->time += 60;
	return r;
}

int main(int argc, char **argv)
{
	struct gen g = {0};
	struct test_key key = {0};
	struct rombsr_buf vkey = {0};
	char path[4096];
	uint64_t n, per_pass;
	int r;

	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: make_audit_queue OUT N [REQUESTS_PER_PASS] [ORIGIN]\n");
		return 2;
	}
	g.out = argv[1];
	n = strtoull(argv[2], NULL, 10);
	per_pass = argc > 3 ? strtoull(argv[3], NULL, 10) : 250;
	g.origin = argc > 4 ? argv[4] : ROMBSR_DEFAULT_AUDIT_ORIGIN;
	g.time = START_TIME;
	if (n < 100 || per_pass == 0) {
		fprintf(stderr, "make_audit_queue: N must be at least 100, REQUESTS_PER_PASS at least 1\n");
		return 2;
	}
	r = test_key_new(&key) == 0 ? 0 : rombsr_error(ROMBSR_ECRYPTO, "cannot make a P-256 key");
	g.signer = (struct rombsr_note_signer){g.origin, key.spki, key.spki_len, test_key_sign, &key};
	snprintf(path, sizeof(path), "%s/log", g.out);
	if (r == 0)
		r = rombsr_audit_log_open(path, &g.log);
	if (r == 0)
		r = node_start(&g);
	while (r == 0 && rombsr_audit_log_size(g.log) + 1 + SIGS <= n)
		r = pass(&g, per_pass, n);
	if (r == 0)
		r = rombsr_note_vkey_format(g.origin, key.spki, key.spki_len, &vkey);
	if (r == 0) {
		rombsr_buf_append(&vkey, "\n", 1);
		r = rombsr_buf_check(&vkey, "vkey");
	}
	snprintf(path, sizeof(path), "%s/audit.vkey", g.out);
	if (r == 0)
		r = rombsr_file_write_atomic(path, vkey.data, vkey.len, 0644, false);
	if (r == 0)
		printf("%llu entries, %llu requests, %llu checkpoints\n", (unsigned long long)rombsr_audit_log_size(g.log),
		       (unsigned long long)g.requests, (unsigned long long)g.passes);
	else
		fprintf(stderr, "make_audit_queue: %s\n", rombsr_error_message(r));
	rombsr_audit_log_close(g.log);
	rombsr_buf_free(&vkey);
	test_key_free(&key);
	return r < 0 ? 1 : 0;
}
