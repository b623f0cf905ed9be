#define _GNU_SOURCE
#include "signer.h"
#include "signer_internal.h"

#include "cache.h"
#include "channel.h"
#include "checkpoint_signer.h"
#include "opcheck.h"
#include "pool.h"
#include "signer_key.h"

#include "../common/bundle.h"
#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/keyset.h"
#include "../common/secret.h"
#include "../build/sigcheck.h"
#include "../hsm/hsm.h"
#include "../hsm/hsm_x509.h"
#include "../hsm/provision.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The retry bound for an HSM that fails (docs/sign-node.md, "HSM faults"):
 * at most HSM_ATTEMPTS tries per operation, the first and then one after
 * each re-open, waiting HSM_WAIT_FIRST_MS, doubled each time up to
 * HSM_WAIT_MAX_MS, before each re-open; no try starts more than
 * HSM_BUDGET_MS after the first. Within HSM_BUDGET_MS of giving up, an
 * operation gets one try: a request of many operations, or many requests,
 * must not wait the whole bound each while the HSM is away. */
#define HSM_ATTEMPTS 5
#define HSM_WAIT_FIRST_MS 100
#define HSM_WAIT_MAX_MS 1000
#define HSM_BUDGET_MS 5000

struct signer {
	const struct rombsr_authority_config *a;
	struct rombsr_hsm *hsm;
	/* Brings stored keys in and out of a YubiHSM (the loader key); NULL:
	 * hsm does it (a PKCS#11 token), or there is no store. */
	struct rombsr_hsm *loader;
	struct rombsr_sign_cache *cache;
	struct signer_key *keys;   /* the key set's keys its token holds or its wrapped store keeps */
	size_t nkeys;
	struct signer_unwrapped unwrapped;
	_Atomic uint64_t hsm_operations, cache_hits;
	/* The audit authority's signer signs checkpoints and nothing else. */
	bool audit;
	struct rombsr_checkpoint_signer checkpoints;
	/* Its sessions sign at once (docs/sign-node.md, "Concurrent signing").
	 * hsm_lock: every use of hsm and keys holds it for reading, a re-open
	 * for writing (no C_Sign runs on a session being closed). hsm_broken:
	 * the handle must be re-opened before it is used again; generation
	 * counts re-opens, so that sessions failing together re-open once;
	 * broken_why: how the last re-open failed. */
	pthread_rwlock_t hsm_lock;
	bool hsm_broken;
	uint64_t generation;
	char broken_why[256];
	/* lock guards the cache, the operations being signed (busy: at most
	 * one session signs an operation; a second one waits for the first
	 * and is answered from the cache) and when the signer last gave up
	 * (monotonic ms, 0: never) on which operation of which request: the
	 * later operations of that request are then not tried. */
	pthread_mutex_t lock;
	pthread_cond_t op_done;
	unsigned char busy_id[ROMBSR_CONFIG_MAX_SIGNER_SESSIONS][32];
	bool busy[ROMBSR_CONFIG_MAX_SIGNER_SESSIONS];
	double gave_up_ms;
	char gave_up_request[33];
	uint32_t gave_up_index;
};

/* One key of the set: from the token, else (with hsm.capacity) from the
 * wrapped store; *present false if neither has it. */
static int load_key(struct signer *s, const struct rombsr_keyset_entry *e, const struct rombsr_hsm_key *in_token,
		    struct signer_key *k, bool *present)
{
	EVP_PKEY *pub = NULL;
	bool copy = false;
	int r;

	*present = true;
	if (in_token == NULL) {
		r = s->a->capacity > 0 ? signer_key_load_stored(s->hsm, s->a, e, k) : ROMBSR_ENOTFOUND;
		*present = r != ROMBSR_ENOTFOUND;
		return r == ROMBSR_ENOTFOUND ? 0 : r;
	}
	r = s->a->capacity > 0 ? signer_key_load_copy(s->hsm, s->a, e, in_token, k, &copy) : 0;
	if (r < 0 || copy)
		return r;
	memset(k, 0, sizeof(*k));
	k->key = *in_token;
	r = rombsr_hsm_public_key(s->hsm, &k->key, &pub);
	if (r == 0)
		r = rombsr_pubkey_spki_sha256(pub, k->spki_sha256);
	EVP_PKEY_free(pub);
	k->modulus_bytes = k->key.kind == ROMBSR_KEY_RSA ? (k->key.bits + 7) / 8 : 0;
	return r;
}

static void free_keys(struct signer_key *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		signer_key_free(&keys[i]);
}

/* Replaces the key list only when the whole of it was read: after a failed
 * re-open the old list still says which keys this signer serves. */
static int load_keys(struct signer *s)
{
	const struct rombsr_keyset *ks = rombsr_keyset_current();
	/* Room for each key of the set and its retired predecessor. */
	struct signer_key *keys = calloc(2 * ks->len + 1, sizeof(*keys));
	struct rombsr_hsm_key *found_keys = NULL;
	bool *found = NULL;
	enum rombsr_authority_id authority;
	size_t n = 0, stored = 0, loaded = 0;
	int r = keys ? rombsr_authority_from_name(s->a->name, &authority) : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	if (r == 0)
		r = rombsr_hsm_find_keyset(s->hsm, ks, authority, &found_keys, &found);
	for (size_t i = 0; i < ks->len && r == 0; i++) {
		bool present;

		if (ks->entries[i].authority != authority)
			continue;
		r = load_key(s, &ks->entries[i], found[i] ? &found_keys[i] : NULL, &keys[n], &present);
		if (r == 0 && present) {
			stored += keys[n].stored != NULL;
			loaded += keys[n].stored != NULL && keys[n].key.private_key != CK_INVALID_HANDLE;
			n++;
		}
		/* Its retired predecessor (hsm-rotate-keys), always in the token. */
		if (r == 0 && found[ks->len + i] &&
		    (r = load_key(s, &ks->entries[i], &found_keys[ks->len + i], &keys[n], &present)) == 0)
			n++;
	}
	free(found_keys);
	free(found);
	if (r == 0 && n == 0)
		r = rombsr_error(ROMBSR_ENOTFOUND, "the %s authority's token holds no key of the key set", s->a->name);
	if (r == 0)
		r = signer_unwrapped_init(&s->unwrapped, s->a, n - stored, stored, loaded);
	if (r < 0) {
		free_keys(keys, n);
		free(keys);
		return r;
	}
	/* The checkpoint signer keeps a pointer to the audit key: the array
	 * stays where it is once made (it has room for the whole key set and
	 * the retired keys). */
	if (s->keys == NULL) {
		s->keys = keys;
	} else {
		free_keys(s->keys, s->nkeys);
		memcpy(s->keys, keys, n * sizeof(*keys));
		free(keys);
	}
	s->nkeys = n;
	return 0;
}

static struct signer_key *find_key(const struct signer *s, const char *label);

/* state_path: the signing cache, or for the audit signer the record of the
 * last checkpoint signed. */
/* A signer on a YubiHSM must be able to spill the device's log (a
 * signature refused for a full log waits for that): without the reader's
 * PIN it would stop at the 62nd entry, so it does not start. */
static int device_log_ready(const struct signer *s)
{
	if (s->a->backend != ROMBSR_HSM_BACKEND_YUBIHSM || rombsr_path_exists(s->a->log_pin_file))
		return 0;
	return rombsr_error(ROMBSR_ECONFIG, "the YubiHSM's log reader PIN file %s is missing: without it a full "
					     "device log stops signing (run 'rombsr-sign hsm-provision --backend yubihsm')",
			    s->a->log_pin_file);
}

static int signer_open(struct signer *s, const char *state_path)
{
	int r = device_log_ready(s);

	if (r == 0)
		r = rombsr_hsm_open_login_for(s->a, s->a->pin_file, &s->hsm);
	if (r == 0)
		r = signer_loader_open(s->a, &s->loader);

	if (r == 0)
		r = load_keys(s);
	if (r == 0 && s->audit) {
		const struct signer_key *k = find_key(s, "audit");

		r = k != NULL ? rombsr_checkpoint_signer_open(&s->checkpoints, s->hsm, &k->key, state_path)
			      : rombsr_error(ROMBSR_ENOTFOUND, "the audit token holds no 'audit' key");
	} else if (r == 0) {
		r = rombsr_sign_cache_open(state_path, &s->cache);
	}
	return r;
}

static struct signer_key *find_key(const struct signer *s, const char *label)
{
	for (size_t i = 0; i < s->nkeys; i++)
		if (strcmp(s->keys[i].key.label, label) == 0)
			return &s->keys[i];
	return NULL;
}

/* Rebuilds the operation from the message's fields, trusting none of them:
 * strings must end inside their arrays, the mechanism must be known. */
int rombsr_signer_op_from_message(const struct rombsr_channel_request *m, struct rombsr_cap_op *op)
{
	memset(op, 0, sizeof(*op));
	if (memchr(m->label, '\0', sizeof(m->label)) == NULL || memchr(m->spki_sha256, '\0', sizeof(m->spki_sha256)) == NULL ||
	    memchr(m->request_id, '\0', sizeof(m->request_id)) == NULL || m->tbs_len > sizeof(m->tbs))
		return rombsr_error(ROMBSR_EINVAL, "malformed message");
	op->mech = rombsr_cap_mech_by_type((CK_MECHANISM_TYPE)m->mechanism);
	if (op->mech == NULL)
		return rombsr_error(ROMBSR_EPERM, "mechanism 0x%llx is not supported", (unsigned long long)m->mechanism);
	memcpy(op->label, m->label, sizeof(op->label));
	memcpy(op->spki_sha256, m->spki_sha256, sizeof(op->spki_sha256));
	op->pss.hash = (CK_MECHANISM_TYPE)m->pss_hash;
	op->pss.mgf = (CK_RSA_PKCS_MGF_TYPE)m->pss_mgf;
	op->pss.salt_len = (CK_ULONG)m->pss_salt_len;
	memcpy(op->tbs, m->tbs, m->tbs_len);
	op->tbs_len = m->tbs_len;
	return 0;
}

/* The mechanism and input the token gets for an operation: hash-and-sign
 * mechanisms become their raw form over the digest the capture recorded. */
static int hsm_sign(struct signer *s, struct signer_key *k, const struct rombsr_cap_op *op, unsigned char *sig,
		    size_t *sig_len)
{
	CK_RSA_PKCS_PSS_PARAMS pss = {op->pss.hash, op->pss.mgf, op->pss.salt_len};
	CK_MECHANISM mech = {op->mech->sign_type, NULL, 0};
	unsigned char input[ROMBSR_CAP_TBS_MAX + 32];
	size_t input_len = op->tbs_len;
	struct rombsr_hsm_key key = k->key;
	int r = 0;

	memcpy(input, op->tbs, op->tbs_len);
	if (op->mech->sign_type == CKM_RSA_PKCS && op->mech->input == ROMBSR_CAP_IN_HASH)
		r = rombsr_cap_digest_info(op->mech->hash, op->tbs, op->tbs_len, input, &input_len);
	if (op->mech->sign_type == CKM_RSA_PKCS_PSS) {
		mech.pParameter = &pss;
		mech.ulParameterLen = sizeof(pss);
	}
	/* Pinned from its unwrap to the end of C_Sign: another session's
	 * unwrap must not evict it in between. */
	if (r == 0 && (r = signer_key_ready(s->loader ? s->loader : s->hsm, &s->unwrapped, s->keys, s->nkeys, k, &key.private_key)) == 0) {
		r = rombsr_hsm_sign_raw(s->hsm, &key, &mech, input, input_len, sig, sig_len);
		signer_key_release(&s->unwrapped, k);
	}
	if (r == 0)
		s->hsm_operations++;
	/* A stored file is the key only if the token's unwrapping of it signs
	 * as its certificate says: a mixed-up or replaced file must not sign
	 * under a label that is not its own. */
	if (r == 0 && k->stored != NULL && rombsr_sigcheck_verify(k->certified, op, sig, *sig_len) < 0) {
		OPENSSL_cleanse(sig, *sig_len);
		r = rombsr_error(ROMBSR_EPERM, "the key unwrapped from %s's stored file does not match its certificate",
				 k->key.label);
	}
	return r;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Closes what the signer has of the token and opens it again: module,
 * session, login (the PIN is read again from its file: the signer keeps no
 * copy), key handles. */
static int signer_reopen(struct signer *s)
{
	struct rombsr_buf pin = {0};
	int r = rombsr_secret_from_file(s->a->pin_file, &pin);

	if (r == 0)
		r = rombsr_hsm_reopen(s->hsm, (const char *)pin.data);
	rombsr_buf_free(&pin);
	signer_unwrapped_forget(&s->unwrapped, s->keys, s->nkeys);
	if (r == 0) {
		rombsr_hsm_close(s->loader);
		r = signer_loader_open(s->a, &s->loader);
	}
	if (r == 0)
		r = load_keys(s);
	return r;
}

/* One try, under the read lock: no re-open can close the session under
 * it. The token that came back must hold the same key. */
static int try_sign(struct signer *s, const struct rombsr_cap_op *op, unsigned char *sig, size_t *sig_len,
		    uint64_t *generation, bool *recoverable)
{
	struct signer_key *k;
	int r;

	*recoverable = false;
	pthread_rwlock_rdlock(&s->hsm_lock);
	*generation = s->generation;
	if (s->hsm_broken) {
		r = rombsr_error(ROMBSR_EHSM, "%s", s->broken_why);
		*recoverable = true;
	} else if ((k = find_key(s, op->label)) == NULL || strcmp(k->spki_sha256, op->spki_sha256) != 0) {
		r = rombsr_error(ROMBSR_EPERM, "key '%s' %.16s… is gone from the re-opened token", op->label,
				 op->spki_sha256);
	} else {
		r = hsm_sign(s, k, op, sig, sig_len);
		*recoverable = r == ROMBSR_EHSM && rombsr_hsm_recoverable(s->hsm);
	}
	pthread_rwlock_unlock(&s->hsm_lock);
	return r;
}

/* Marks the handle broken after a failed try at generation seen, or (with
 * reopen) re-opens it if it is still broken at seen: sessions that failed
 * together re-open once, the others take the re-opened handle. */
static void handle_failure(struct signer *s, uint64_t seen, bool reopen)
{
	pthread_rwlock_wrlock(&s->hsm_lock);
	if (!reopen && !s->hsm_broken && s->generation == seen) {
		s->hsm_broken = true;
		snprintf(s->broken_why, sizeof(s->broken_why), "the token is being re-opened");
	} else if (reopen && s->hsm_broken && s->generation == seen) {
		int r = signer_reopen(s);

		s->hsm_broken = r < 0;
		if (r < 0)
			snprintf(s->broken_why, sizeof(s->broken_why), "%s", rombsr_error_message(r));
		s->generation++;
	}
	pthread_rwlock_unlock(&s->hsm_lock);
}

static bool broken_now(struct signer *s, uint64_t *generation)
{
	bool broken;

	pthread_rwlock_rdlock(&s->hsm_lock);
	broken = s->hsm_broken;
	*generation = s->generation;
	pthread_rwlock_unlock(&s->hsm_lock);
	return broken;
}

/* One operation through the HSM within the retry bound. A C_Sign that
 * returned a signature is never repeated: only a failed call is tried
 * again, so a retry cannot make a second signature. *unavailable tells a
 * failure of the HSM that outlasted the bound from a refusal. */
static int sign_retrying(struct signer *s, const struct rombsr_channel_request *m, const struct rombsr_cap_op *op,
			 unsigned char *sig, size_t *sig_len, bool *unavailable)
{
	const double start = now_ms();
	uint64_t generation;
	const bool was_broken = broken_now(s, &generation);
	unsigned attempts, wait = HSM_WAIT_FIRST_MS, tried = 0;
	bool recoverable;
	int r = 0;

	pthread_mutex_lock(&s->lock);
	attempts = was_broken && s->gave_up_ms > 0 && start - s->gave_up_ms < HSM_BUDGET_MS ? 1 : HSM_ATTEMPTS;
	pthread_mutex_unlock(&s->lock);
	*unavailable = false;
	for (;;) {
		size_t len = *sig_len;

		tried++;
		if (broken_now(s, &generation))
			handle_failure(s, generation, true);
		r = try_sign(s, op, sig, &len, &generation, &recoverable);
		if (r == 0) {
			if (tried > 1 || was_broken)
				fprintf(stderr, "rombsr sign: %s signer: the HSM is back (attempt %u)\n", s->a->name, tried);
			*sig_len = len;
			return 0;
		}
		if (!recoverable)
			return r;
		handle_failure(s, generation, false);
		if (tried >= attempts || now_ms() + wait - start > HSM_BUDGET_MS)
			break;
		fprintf(stderr, "rombsr sign: %s signer: %s; re-opening the token in %u ms (attempt %u of %u)\n",
			s->a->name, rombsr_error_message(r), wait, tried + 1, attempts);
		sleep_ms(wait);
		wait = wait * 2 > HSM_WAIT_MAX_MS ? HSM_WAIT_MAX_MS : wait * 2;
	}
	pthread_mutex_lock(&s->lock);
	s->gave_up_ms = now_ms();
	snprintf(s->gave_up_request, sizeof(s->gave_up_request), "%s", m->request_id);
	s->gave_up_index = m->index;
	pthread_mutex_unlock(&s->lock);
	*unavailable = true;
	r = rombsr_error_wrap_as(r, ROMBSR_EHSM, "the HSM stayed unavailable (%u attempt%s in %.1f s)", tried,
			      tried == 1 ? "" : "s", (now_ms() - start) / 1e3);
	fprintf(stderr, "rombsr sign: %s signer: %s\n", s->a->name, rombsr_error_message(r));
	return r;
}

/* The operations in flight after one the signer gave up on are not tried:
 * the request is answered as a whole (rejected, or tried again from its
 * first operation in a later pass), and a signature made for one of them
 * now would be in no response. Sessions still signing one of them when it
 * gave up finish: the worker then fails the pass rather than reject
 * (docs/sign-node.md, "HSM faults"). */
static int check_gave_up(struct signer *s, const struct rombsr_channel_request *m, bool *unavailable)
{
	int r = 0;

	pthread_mutex_lock(&s->lock);
	if (s->gave_up_request[0] != '\0' && strcmp(s->gave_up_request, m->request_id) == 0 &&
	    m->index > s->gave_up_index) {
		*unavailable = true;
		r = rombsr_error(ROMBSR_EHSM, "the HSM was unavailable for an earlier operation of request %s",
				 s->gave_up_request);
	} else {
		s->gave_up_request[0] = '\0';
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

static int check_key(struct signer *s, const struct rombsr_cap_op *op)
{
	const struct signer_key *k;
	int r = 0;

	pthread_rwlock_rdlock(&s->hsm_lock);
	if ((k = find_key(s, op->label)) == NULL)
		r = rombsr_error(ROMBSR_EPERM, "the %s authority holds no key '%s'", s->a->name, op->label);
	else if (strcmp(k->spki_sha256, op->spki_sha256) != 0)
		r = rombsr_error(ROMBSR_EPERM, "key '%s' is not the key %.16s… the request names", op->label, op->spki_sha256);
	else
		r = rombsr_opcheck(op, k->key.kind, k->modulus_bytes);
	pthread_rwlock_unlock(&s->hsm_lock);
	return r;
}

/* From the cache, else through the HSM by one session only: a second
 * session asked for the same operation (the same digest in two requests
 * in flight) waits for the first and takes its signature from the cache,
 * so the HSM never signs an operation twice. */
static int sign_once(struct signer *s, const struct rombsr_channel_request *m, const struct rombsr_cap_op *op,
		     unsigned char *sig, size_t *sig_len, bool *unavailable, bool *from_cache)
{
	unsigned char id[32];
	size_t mine = ROMBSR_CONFIG_MAX_SIGNER_SESSIONS;
	int r;

	rombsr_sign_cache_op_id(op, id);
	pthread_mutex_lock(&s->lock);
	while (!(*from_cache = rombsr_sign_cache_get(s->cache, op, sig, sig_len))) {
		size_t i, free_slot = ROMBSR_CONFIG_MAX_SIGNER_SESSIONS;

		for (i = 0; i < ROMBSR_CONFIG_MAX_SIGNER_SESSIONS; i++) {
			if (s->busy[i] && memcmp(s->busy_id[i], id, 32) == 0)
				break;
			if (!s->busy[i] && free_slot == ROMBSR_CONFIG_MAX_SIGNER_SESSIONS)
				free_slot = i;
		}
		if (i == ROMBSR_CONFIG_MAX_SIGNER_SESSIONS) {
			/* one slot per thread: there is always one free */
			mine = free_slot;
			s->busy[mine] = true;
			memcpy(s->busy_id[mine], id, 32);
			break;
		}
		pthread_cond_wait(&s->op_done, &s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	if (*from_cache) {
		s->cache_hits++;
		return 0;
	}
	r = sign_retrying(s, m, op, sig, sig_len, unavailable);
	pthread_mutex_lock(&s->lock);
	/* Durable before it leaves this process (the outbox syncs before
	 * sending): after a crash the same operation is answered from here,
	 * not signed again. */
	if (r == 0)
		r = rombsr_sign_cache_put(s->cache, op, sig, *sig_len);
	s->busy[mine] = false;
	pthread_cond_broadcast(&s->op_done);
	pthread_mutex_unlock(&s->lock);
	return r;
}

static void handle_sign(struct signer *s, const struct rombsr_channel_request *m, struct rombsr_channel_reply *reply,
			bool *needs_sync)
{
	struct rombsr_cap_op op;
	size_t sig_len = sizeof(reply->sig);
	bool unavailable = false, from_cache = false;
	int r = rombsr_signer_op_from_message(m, &op);

	if (r == 0)
		r = check_gave_up(s, m, &unavailable);
	if (r == 0)
		r = check_key(s, &op);
	if (r == 0)
		r = sign_once(s, m, &op, reply->sig, &sig_len, &unavailable, &from_cache);
	/* Every signature waits for a sync, one from the cache too: its entry
	 * may have been put by another session whose reply is not out yet. */
	*needs_sync = r == 0;
	reply->from_cache = from_cache;
	reply->status = r;
	reply->hsm_unavailable = unavailable;
	if (r < 0) {
		OPENSSL_cleanse(reply->sig, sizeof(reply->sig));
		snprintf(reply->message, sizeof(reply->message), "%s", rombsr_error_message(r));
	}
	else
		reply->sig_len = (uint32_t)sig_len;
}

/* The audit signer hands the device's log to the worker, which logs it,
 * then acknowledges (src/sign/device_log.c). */
static void handle_device_log(struct signer *s, const struct rombsr_channel_request *m,
			      struct rombsr_channel_reply *reply)
{
	struct rombsr_hsm_device_log *log;
	int r;

	if (!s->audit)
		r = rombsr_error(ROMBSR_EPERM, "the %s signer does not hand out the device log", s->a->name);
	else if ((log = calloc(1, sizeof(*log))) == NULL)
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	else {
		pthread_rwlock_rdlock(&s->hsm_lock);
		r = m->op == ROMBSR_CH_DEVICE_LOG ? rombsr_hsm_device_log_read(s->hsm, log)
						  : rombsr_hsm_device_log_ack(s->hsm, (uint16_t)m->index);
		pthread_rwlock_unlock(&s->hsm_lock);
		for (size_t i = 0; r == 0 && i < log->n; i++)
			memcpy(reply->device_log[i], log->entries[i], ROMBSR_CHANNEL_DEVICE_LOG_ENTRY);
		reply->device_log_n = (uint32_t)log->n;
		reply->more = log->more;
		free(log);
	}
	reply->status = r;
	if (r < 0)
		snprintf(reply->message, sizeof(reply->message), "%s", rombsr_error_message(r));
}

static void handle(struct signer *s, const struct rombsr_channel_request *m, struct rombsr_channel_reply *reply,
		   bool *needs_sync)
{
	*needs_sync = false;
	memset(reply, 0, sizeof(*reply));
	reply->magic = ROMBSR_CHANNEL_MAGIC;
	if (m->magic != ROMBSR_CHANNEL_MAGIC || m->version != ROMBSR_CHANNEL_VERSION) {
		reply->status = ROMBSR_EINVAL;
		snprintf(reply->message, sizeof(reply->message), "bad message header");
		return;
	}
	switch (m->op) {
	case ROMBSR_CH_SIGN:
		if (s->audit) {
			reply->status = ROMBSR_EPERM;
			snprintf(reply->message, sizeof(reply->message), "the audit key signs checkpoints only");
			break;
		}
		handle_sign(s, m, reply, needs_sync);
		break;
	case ROMBSR_CH_AUDIT_STATE:
	case ROMBSR_CH_CHECKPOINT:
		if (!s->audit) {
			reply->status = ROMBSR_EPERM;
			snprintf(reply->message, sizeof(reply->message), "the %s authority does not sign checkpoints",
				 s->a->name);
			break;
		}
		rombsr_checkpoint_signer_handle(&s->checkpoints, m, reply);
		break;
	case ROMBSR_CH_DEVICE_LOG:
	case ROMBSR_CH_DEVICE_LOG_ACK:
		handle_device_log(s, m, reply);
		break;
	case ROMBSR_CH_KEYS:
		pthread_rwlock_rdlock(&s->hsm_lock);
		if (m->index >= s->nkeys) {
			reply->status = ROMBSR_ENOTFOUND;
		} else {
			memcpy(reply->label, s->keys[m->index].key.label, sizeof(reply->label));
			memcpy(reply->spki_sha256, s->keys[m->index].spki_sha256, sizeof(reply->spki_sha256));
			reply->key_kind = s->keys[m->index].key.kind;
			reply->modulus_bytes = (uint32_t)s->keys[m->index].modulus_bytes;
			reply->more = m->index + 1 < s->nkeys;
			if (s->a->backend == ROMBSR_HSM_BACKEND_YUBIHSM && s->keys[m->index].key.id_len == 2)
				reply->device_id = (uint32_t)(s->keys[m->index].key.id[0] << 8 | s->keys[m->index].key.id[1]);
		}
		pthread_rwlock_unlock(&s->hsm_lock);
		break;
	case ROMBSR_CH_STATS:
		reply->hsm_operations = s->hsm_operations;
		reply->cache_hits = s->cache_hits;
		pthread_mutex_lock(&s->unwrapped.lock);
		reply->unwraps = s->unwrapped.unwraps;
		reply->evictions = s->unwrapped.evictions;
		pthread_mutex_unlock(&s->unwrapped.lock);
		break;
	default:
		reply->status = ROMBSR_EINVAL;
		snprintf(reply->message, sizeof(reply->message), "unknown operation %u", m->op);
	}
}

static void handle_message(void *ctx, const struct rombsr_channel_request *m, struct rombsr_channel_reply *reply,
			   bool *needs_sync)
{
	handle(ctx, m, reply, needs_sync);
}

/* The locks of struct signer; a re-open (the writer) goes before new
 * readers, so that sessions failing together do not keep it waiting. */
static void signer_locks_init(struct signer *s)
{
	pthread_rwlockattr_t attr;

	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&s->hsm_lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->op_done, NULL);
	signer_unwrapped_setup(&s->unwrapped);
}

static void signer_locks_destroy(struct signer *s)
{
	signer_unwrapped_teardown(&s->unwrapped);
	pthread_cond_destroy(&s->op_done);
	pthread_mutex_destroy(&s->lock);
	pthread_rwlock_destroy(&s->hsm_lock);
}

int rombsr_signer_serve(const struct rombsr_authority_config *a, const char *cache_path, int fd)
{
	struct signer s = {.a = a, .audit = strcmp(a->name, rombsr_authority_name(ROMBSR_AUTHORITY_AUDIT)) == 0};
	struct rombsr_channel_reply *reply = calloc(1, sizeof(*reply));
	/* The audit signer signs one checkpoint at a time, each extending the
	 * one before: it keeps one session. */
	const size_t sessions = s.audit || a->sessions == 0 ? 1 : a->sessions;
	int r;

	signer_locks_init(&s);
	r = reply ? signer_open(&s, cache_path) : rombsr_error(ROMBSR_ENOMEM, "out of memory");
	/* One session per thread: C_Sign never waits for a session another
	 * thread holds. */
	if (r == 0 && !s.audit)
		rombsr_hsm_set_max_sessions(s.hsm, sessions);
	/* The first reply tells the worker whether this signer is usable. */
	if (reply != NULL) {
		memset(reply, 0, sizeof(*reply));
		reply->magic = ROMBSR_CHANNEL_MAGIC;
		reply->status = r;
		if (r < 0)
			snprintf(reply->message, sizeof(reply->message), "%s", rombsr_error_message(r));
		else /* the worker names the token in the audit log, never parsing HSM URIs */
			snprintf(reply->label, sizeof(reply->label), "%s", rombsr_hsm_token_label(s.hsm));
		if (rombsr_channel_send(fd, reply, sizeof(*reply)) < 0 && r == 0)
			r = ROMBSR_EIO;
	}
	if (r == 0)
		r = signer_pool_serve(fd, sessions, s.cache, handle_message, &s);
	rombsr_sign_cache_close(s.cache);
	if (s.audit)
		rombsr_checkpoint_signer_close(&s.checkpoints);
	if (s.loader != NULL)
		signer_unwrapped_evict_all(s.loader, &s.unwrapped, s.keys, s.nkeys);
	rombsr_hsm_close(s.loader);
	rombsr_hsm_close(s.hsm);
	if (s.keys != NULL)
		free_keys(s.keys, s.nkeys);
	free(s.keys);
	signer_locks_destroy(&s);
	free(reply);
	return r;
}
