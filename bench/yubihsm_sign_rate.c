/* RSA PKCS#1 v1.5 signing rate of the HSM layer's native YubiHSM 2 backend
 * (src/hsm/yh_*.c) against a bare loop of the same device command, Sign
 * PKCS1, on the same device, key and digest, in the same run. The two are
 * interleaved in rounds, taking turns at going first, so that drift on a
 * shared machine hits both alike.
 *
 * The layer is opened as the signer opens it (rombsr_hsm_open_login_for()
 * with the configuration): with force audit on it spills the device's log
 * to its spool when the device refuses a signature for a full log. The raw
 * loop does the least the device allows: sessions opened before the loop
 * and held, and on LOG_FULL a read of the log and a Set Log Index on a log
 * reader's session also held open, once for threads refused together.
 * Both sides pay the full logs they meet.
 *
 * With SESSIONS (default 1) both sides run on that many sessions at once,
 * one thread each: the layer with a pool of SESSIONS, the raw loop with a
 * session per thread on one connector (as the layer shares one).
 * Usage: yubihsm_sign_rate CONFIG KEY_LABEL ROUNDS PER_ROUND [SESSIONS] */
#include "../src/common/buf.h"
#include "../src/common/config.h"
#include "../src/common/error.h"
#include "../src/common/secret.h"
#include "../src/hsm/hsm.h"
#include "../src/yubihsm/yh_client.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SESSIONS 8
#define MAX_ROUNDS 1000

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The raw side: one connector, its sessions, and the log reader's. */
struct raw {
	struct rombsr_yh_connector *c;
	struct rombsr_yh_session *s[MAX_SESSIONS];
	struct rombsr_yh_session *log;
	pthread_mutex_t log_lock;
	uint16_t key_id;
	atomic_size_t drains;
};

static int session_from_pin_file(struct rombsr_yh_connector *c, const char *pin_file, struct rombsr_yh_session **s)
{
	struct rombsr_buf pin = {0};
	const char *password;
	uint16_t id;
	int r = rombsr_secret_from_file(pin_file, &pin);

	if (r == 0)
		r = rombsr_yh_parse_pin((const char *)pin.data, &id, &password);
	if (r == 0)
		r = rombsr_yh_session_open(c, id, password, strlen(password), s);
	rombsr_buf_free(&pin);
	return r < 0 ? rombsr_error_wrap(r, "session with %s", pin_file) : 0;
}

/* The key's object ID, found by label as any client would. */
static int raw_find_key(struct raw *w, const char *label)
{
	struct rombsr_yh_filter f = {.type = YH_TYPE_ASYMMETRIC_KEY, .label = label};
	struct rombsr_yh_object *o = NULL;
	size_t n = 0;
	int r = rombsr_yh_list_objects(w->s[0], &f, &o, &n);

	if (r == 0 && n != 1)
		r = rombsr_error(ROMBSR_ENOTFOUND, "%zu asymmetric keys labelled '%s'", n, label);
	if (r == 0)
		w->key_id = o[0].id;
	free(o);
	return r;
}

static int raw_open(struct raw *w, const struct rombsr_authority_config *a, const char *label, int sessions)
{
	int r = rombsr_yh_connector_open(a->connector, &w->c);

	pthread_mutex_init(&w->log_lock, NULL);
	for (int i = 0; i < sessions && r == 0; i++)
		r = session_from_pin_file(w->c, a->pin_file, &w->s[i]);
	if (r == 0)
		r = session_from_pin_file(w->c, a->log_pin_file, &w->log);
	if (r == 0)
		r = raw_find_key(w, label);
	return r;
}

static void raw_close(struct raw *w)
{
	for (int i = 0; i < MAX_SESSIONS; i++)
		rombsr_yh_session_close(w->s[i]);
	rombsr_yh_session_close(w->log);
	rombsr_yh_connector_close(w->c);
	pthread_mutex_destroy(&w->log_lock);
}

/* What force audit asks of any client: read the log, mark it read; not
 * again if another thread drained it since this one was refused (seen). */
static int raw_drain(struct raw *w, size_t seen)
{
	struct rombsr_yh_log *log = calloc(1, sizeof(*log));
	int r = log != NULL ? 0 : ROMBSR_ENOMEM;

	pthread_mutex_lock(&w->log_lock);
	if (r == 0 && atomic_load(&w->drains) == seen) {
		r = rombsr_yh_get_log(w->log, log);
		if (r == 0 && log->n > 0)
			r = rombsr_yh_set_log_index(w->log, log->entries[log->n - 1].number);
		atomic_fetch_add(&w->drains, 1);
	}
	pthread_mutex_unlock(&w->log_lock);
	free(log);
	return r;
}

static int raw_sign(struct raw *w, int session, const unsigned char *digest, unsigned char *sig, size_t *sig_len)
{
	size_t room = *sig_len;
	int r = rombsr_yh_sign_pkcs1(w->s[session], w->key_id, digest, 32, sig, sig_len);

	if (r == ROMBSR_EHSM && rombsr_yh_last_device_error() == YH_ERR_LOG_FULL) {
		r = raw_drain(w, atomic_load(&w->drains));
		*sig_len = room;
		if (r == 0)
			r = rombsr_yh_sign_pkcs1(w->s[session], w->key_id, digest, 32, sig, sig_len);
	}
	return r;
}

struct job {
	struct raw *raw;          /* NULL: the layer */
	struct rombsr_hsm *hsm;
	const struct rombsr_hsm_key *key;
	const unsigned char *digest;
	int session, n, r;
};

static void *job_run(void *arg)
{
	struct job *j = arg;
	unsigned char sig[1024];

	for (int i = 0; i < j->n && j->r == 0; i++) {
		size_t len = sizeof(sig);

		if (j->raw != NULL)
			j->r = raw_sign(j->raw, j->session, j->digest, sig, &len);
		else
			j->r = rombsr_hsm_sign_digest(j->hsm, j->key, ROMBSR_SIG_RSA_PKCS1_SHA256, j->digest, 32, sig,
						      &len);
	}
	if (j->r < 0)
		fprintf(stderr, "yubihsm_sign_rate: %s: %s\n", j->raw != NULL ? "raw" : "layer",
			rombsr_error_message(j->r));
	return NULL;
}

/* n signatures in all, split over `sessions` threads; the time taken. */
static int run(struct raw *raw, struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key,
	       const unsigned char *digest, int n, int sessions, double *seconds)
{
	struct job j[MAX_SESSIONS];
	pthread_t th[MAX_SESSIONS];
	int r = 0, started = 0;
	double t = now();

	for (int i = 0; i < sessions; i++) {
		j[i] = (struct job){raw, hsm, key, digest, i, n / sessions + (i < n % sessions), 0};
		if (pthread_create(&th[i], NULL, job_run, &j[i]) != 0) {
			r = rombsr_error(ROMBSR_EINTERNAL, "pthread_create");
			break;
		}
		started++;
	}
	for (int i = 0; i < started; i++) {
		pthread_join(th[i], NULL);
		if (r == 0)
			r = j[i].r;
	}
	*seconds += now() - t;
	return r;
}

/* Both sides must make the same bytes: PKCS#1 v1.5 is deterministic, so
 * this proves the same key and the same digest. */
static int same_signature(struct raw *w, struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key,
			  const unsigned char *digest)
{
	unsigned char a[1024], b[1024];
	size_t la = sizeof(a), lb = sizeof(b);
	int r = rombsr_hsm_sign_digest(hsm, key, ROMBSR_SIG_RSA_PKCS1_SHA256, digest, 32, a, &la);

	if (r == 0)
		r = raw_sign(w, 0, digest, b, &lb);
	if (r == 0 && (la != lb || memcmp(a, b, la) != 0))
		r = rombsr_error(ROMBSR_EINTERNAL, "the layer and the raw loop made different signatures");
	return r;
}

/* Untimed, between rounds: the worker's part, trimming the spool the layer
 * spilled to, <log-spool>-<serial> (docs/yubihsm.md; the handle is named
 * yubihsm-<serial>), whose first line names the last entry spilled, so
 * that a long run does not fill it. */
static int trim_spool(struct rombsr_hsm *hsm, const char *spool)
{
	const char *serial = strchr(rombsr_hsm_token_label(hsm), '-');
	char path[4096];
	unsigned last;
	int r = 0;
	FILE *f;

	if (serial == NULL || (size_t)snprintf(path, sizeof(path), "%s%s", spool, serial) >= sizeof(path))
		return rombsr_error(ROMBSR_EINVAL, "spool path of %s", rombsr_hsm_token_label(hsm));
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	if (fscanf(f, "rombsr-device-log v1 %u", &last) == 1)
		r = rombsr_hsm_device_log_ack(hsm, (uint16_t)last);
	fclose(f);
	return r;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void report(const struct rombsr_hsm_key *key, int rounds, int per, int sessions, double t_layer, double t_raw,
		   double *ratios, size_t raw_drains)
{
	double n = (double)rounds * per;

	printf("RSA-%u PKCS#1 v1.5 signatures per second, %d each, over %d session%s: native backend %.1f, raw Sign "
	       "PKCS1 loop %.1f\n",
	       key->bits, rounds * per, sessions, sessions == 1 ? "" : "s", n / t_layer, n / t_raw);
	qsort(ratios, (size_t)rounds, sizeof(*ratios), cmp_double);
	printf("per-round ratios: min %.3f, median %.3f, max %.3f; raw loop drained the device log %zu times\n",
	       ratios[0], ratios[rounds / 2], ratios[rounds - 1], raw_drains);
	printf("native backend / raw Sign PKCS1 loop: %.3f (goal >= 0.9)\n", t_raw / t_layer);
}

static int bench(const struct rombsr_authority_config *a, const char *label, int rounds, int per, int sessions)
{
	struct rombsr_hsm *hsm = NULL;
	struct rombsr_hsm_key key;
	struct raw w = {0};
	unsigned char digest[32];
	double t_layer = 0, t_raw = 0, ratios[MAX_ROUNDS], dummy = 0;
	int r;

	EVP_Digest("rombsr bench", 12, digest, NULL, EVP_sha256(), NULL);
	r = rombsr_hsm_open_login_for(a, a->pin_file, &hsm);
	if (r == 0)
		rombsr_hsm_set_max_sessions(hsm, (size_t)sessions);
	if (r == 0)
		r = rombsr_hsm_find_key(hsm, label, &key);
	if (r == 0)
		r = raw_open(&w, a, label, sessions);
	if (r == 0)
		r = same_signature(&w, hsm, &key, digest);
	/* warm-up: the layer's pool opens its other sessions */
	if (r == 0)
		r = run(NULL, hsm, &key, digest, 2 * sessions, sessions, &dummy);
	for (int i = 0; i < rounds && r == 0; i++) {
		double l0 = t_layer, r0 = t_raw;

		if (i % 2 == 0) {
			r = run(&w, hsm, &key, digest, per, sessions, &t_raw);
			if (r == 0)
				r = run(NULL, hsm, &key, digest, per, sessions, &t_layer);
		} else {
			r = run(NULL, hsm, &key, digest, per, sessions, &t_layer);
			if (r == 0)
				r = run(&w, hsm, &key, digest, per, sessions, &t_raw);
		}
		ratios[i] = (t_raw - r0) / (t_layer - l0);
		if (r == 0)
			r = trim_spool(hsm, a->log_spool);
	}
	if (r == 0)
		report(&key, rounds, per, sessions, t_layer, t_raw, ratios, atomic_load(&w.drains));
	else
		fprintf(stderr, "yubihsm_sign_rate: %s\n", rombsr_error_message(r));
	raw_close(&w);
	rombsr_hsm_close(hsm);
	return r;
}

int main(int argc, char **argv)
{
	struct rombsr_config cfg;
	const struct rombsr_authority_config *a;
	int rounds, per, sessions, r;

	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: yubihsm_sign_rate CONFIG KEY_LABEL ROUNDS PER_ROUND [SESSIONS]\n");
		return 2;
	}
	rounds = atoi(argv[3]);
	per = atoi(argv[4]);
	sessions = argc == 6 ? atoi(argv[5]) : 1;
	if (rounds <= 0 || rounds > MAX_ROUNDS || per <= 0 || sessions <= 0 || sessions > MAX_SESSIONS) {
		fprintf(stderr, "yubihsm_sign_rate: ROUNDS 1 to %d, PER_ROUND positive, SESSIONS 1 to %d\n", MAX_ROUNDS,
			MAX_SESSIONS);
		return 2;
	}
	r = rombsr_config_load(argv[1], &cfg);
	if (r < 0) {
		fprintf(stderr, "yubihsm_sign_rate: %s\n", rombsr_error_message(r));
		return 1;
	}
	a = &cfg.authority[ROMBSR_AUTHORITY_RELEASE];
	if (a->backend != ROMBSR_HSM_BACKEND_YUBIHSM) {
		fprintf(stderr, "yubihsm_sign_rate: %s: the release authority is not on a YubiHSM\n", argv[1]);
		r = ROMBSR_ECONFIG;
	} else {
		r = bench(a, argv[2], rounds, per, sessions);
	}
	rombsr_config_free(&cfg);
	return r < 0 ? 1 : 0;
}
