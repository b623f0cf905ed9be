/* Opening and closing the sign node: its users and folders, its signers
 * (each the program rombsr-signer, as the signer user), the worker's
 * confinement, and what the log must say before the first pass (the
 * signers' logins and the key set). The pass itself is worker.c. */
#define _GNU_SOURCE
#include "worker_internal.h"

#include "privsep.h"
#include "signer_link.h"

#include "../common/error.h"
#include "../common/fsutil.h"
#include "../queue/stale_locks.h"
#include "../signer/channel.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int ask(struct signer_link *s, const struct rombsr_channel_request *m, struct rombsr_channel_reply *reply)
{
	return rombsr_channel_call(s->fd, m, reply);
}

/* A signer holds keys of the key set only, each with at most one retired
 * predecessor (hsm-rotate-keys), which it reads from the same
 * configuration: twice the set's size bounds what the worker takes. */
static int learn_keys(struct signer_link *s)
{
	const size_t max = 2 * rombsr_keyset_current()->len;
	struct rombsr_channel_request *m = calloc(1, sizeof(*m));
	struct rombsr_channel_reply *reply = calloc(1, sizeof(*reply));
	int r = m && reply ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	free(s->keys);
	s->nkeys = 0;
	s->keys = calloc(max, sizeof(*s->keys));
	if (r == 0 && s->keys == NULL)
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	for (uint32_t i = 0; r == 0 && i < max; i++) {
		*m = (struct rombsr_channel_request){.magic = ROMBSR_CHANNEL_MAGIC, .version = ROMBSR_CHANNEL_VERSION,
						    .op = ROMBSR_CH_KEYS, .index = i};
		r = ask(s, m, reply);
		if (r < 0 || reply->status != 0)
			break;
		reply->label[sizeof(reply->label) - 1] = '\0';
		reply->spki_sha256[sizeof(reply->spki_sha256) - 1] = '\0';
		memcpy(s->keys[i].label, reply->label, sizeof(reply->label));
		memcpy(s->keys[i].spki_sha256, reply->spki_sha256, sizeof(reply->spki_sha256));
		s->keys[i].kind = (enum rombsr_key_kind)reply->key_kind;
		s->keys[i].modulus_bytes = reply->modulus_bytes;
		s->keys[i].device_id = reply->device_id <= 0xffff ? (uint16_t)reply->device_id : 0;
		s->nkeys = i + 1;
		if (!reply->more)
			break;
	}
	free(m);
	free(reply);
	return r;
}

/* The keys the signers found in their tokens, against the key events of
 * the log: keys generated since the last start (rombsr keygen runs outside
 * the sign node) and keys gone from a token are logged here, before the
 * node signs anything with the key set it now has. */
static int log_key_set(struct rombsr_sign_node *node)
{
	size_t total = 0;
	struct rombsr_audit_key *keys;
	char(*algorithms)[16];
	const char *tokens[ROMBSR_AUTHORITY_COUNT];
	size_t ntokens = 0, nkeys = 0, added;
	int r;

	for (int i = 0; i < ROMBSR_AUTHORITY_COUNT; i++)
		total += node->signers[i].nkeys;
	keys = calloc(total + 1, sizeof(*keys));
	algorithms = calloc(total + 1, sizeof(*algorithms));
	if (keys == NULL || algorithms == NULL) {
		free(keys);
		free(algorithms);
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	}
	for (int i = 0; i < ROMBSR_AUTHORITY_COUNT; i++) {
		const struct signer_link *s = &node->signers[i];

		if (s->fd < 0)
			continue;
		tokens[ntokens++] = s->token_label;
		for (size_t k = 0; k < s->nkeys; k++, nkeys++) {
			rombsr_key_algorithm_name(s->keys[k].kind, (unsigned)s->keys[k].modulus_bytes * 8, algorithms[nkeys]);
			keys[nkeys] = (struct rombsr_audit_key){s->token_label, s->keys[k].label,
								s->keys[k].spki_sha256, algorithms[nkeys]};
		}
	}
	r = rombsr_audit_writer_keys(node->audit, tokens, ntokens, keys, nkeys, &added);
	free(keys);
	free(algorithms);
	if (r == 0 && added > 0)
		fprintf(stderr, "rombsr sign: %zu key event%s logged (keys generated or gone since the last start)\n",
			added, added == 1 ? "" : "s");
	return r < 0 ? rombsr_error_wrap(r, "logging the key set") : 0;
}

/* A token can be briefly unreadable at start: the signers of a node that
 * was just killed may still hold it (seen with SoftHSM2 in the kill -9
 * soak). A signer that cannot find or open its token is started again,
 * at most START_TRIES times over about 1.5 s, before the node gives up. */
#define START_TRIES 5

static int start_signer(const struct rombsr_config *cfg, const struct rombsr_authority_config *a,
			const char *state_path, const struct rombsr_user *user, struct signer_link *s)
{
	int r = 0;

	for (int attempt = 0; attempt < START_TRIES; attempt++) {
		if (attempt > 0) {
			fprintf(stderr, "rombsr sign: %s signer: %s; starting it again\n", a->name,
				rombsr_error_message(r));
			nanosleep(&(struct timespec){0, 100000000L << (attempt - 1)}, NULL);
		}
		/* A failed start closes and reaps what it made. */
		r = rombsr_signer_start(cfg, a, state_path, user, &s->fd, &s->pid, s->token_label);
		if (r != ROMBSR_EHSM && r != ROMBSR_ENOTFOUND)
			break;
	}
	return r;
}

/* A folder of the node's state, made if missing. Started as root with
 * users configured, the node gives it to its user; otherwise it must
 * already belong to that user (make install's tmpfiles.d does it). */
static int state_folder(const char *path, const struct rombsr_user *owner)
{
	struct stat st;
	int r = rombsr_mkdir_p(path, 0700);

	if (r == 0 && owner != NULL && geteuid() == 0 && chown(path, owner->uid, owner->gid) != 0)
		r = rombsr_error(ROMBSR_EIO, "cannot give %s to user '%s': %s", path, owner->name, strerror(errno));
	if (r == 0 && stat(path, &st) != 0)
		r = rombsr_error(ROMBSR_EIO, "cannot stat %s: %s", path, strerror(errno));
	if (r == 0 && owner != NULL && st.st_uid != owner->uid)
		r = rombsr_error(ROMBSR_EPERM, "%s belongs to uid %u, not to user '%s'", path, (unsigned)st.st_uid,
				 owner->name);
	return r;
}

/* With two users, each must reach its own folders inside the state folder
 * (and only those: the folders themselves are 0700). */
static int reachable(const char *state_dir)
{
	struct stat st;

	if (stat(state_dir, &st) != 0)
		return rombsr_error(ROMBSR_EIO, "cannot stat %s: %s", state_dir, strerror(errno));
	if ((st.st_mode & S_IXOTH) == 0)
		return rombsr_error(ROMBSR_EPERM, "%s is mode %03o: the worker and signer users cannot reach their "
				    "folders in it; make it 0711 (make install's tmpfiles.d does)", state_dir,
				    (unsigned)(st.st_mode & 0777));
	return 0;
}

/* The signers, each as the signer user with its state in <state>/signer. */
static int start_signers(struct rombsr_sign_node *node, const char *signer_dir, const struct rombsr_user *user)
{
	const struct rombsr_config *cfg = node->cfg;
	char path[4096];
	int r = 0, started = 0;

	for (int i = 0; i < ROMBSR_AUTHORITY_COUNT && r == 0; i++) {
		const struct rombsr_authority_config *a = &cfg->authority[i];
		struct signer_link *s = &node->signers[i];
		bool audit = i == ROMBSR_AUTHORITY_AUDIT;

		/* An authority without a PIN file is not served by this node; its
		 * signer says so (ROMBSR_EUNSUPPORTED): the worker does not look at
		 * PIN files. The audit authority is not optional. */
		r = audit ? rombsr_path_format(path, sizeof(path), "%s/audit-signed", signer_dir)
			  : rombsr_path_format(path, sizeof(path), "%s/cache-%s", signer_dir, a->name);
		if (r == 0)
			r = start_signer(cfg, a, path, user, s);
		if (r < 0 && audit)
			r = rombsr_error_wrap(r, "the sign node logs every decision and needs the audit key");
		else if (r == ROMBSR_EUNSUPPORTED) {
			r = 0;
			continue;
		}
		if (r == 0)
			r = learn_keys(s);
		started += r == 0 && !audit;
	}
	if (r == 0 && started == 0)
		r = rombsr_error(ROMBSR_ECONFIG, "no authority can sign here: no PIN file is readable");
	return r;
}

/* For the privilege tests (ROMBSR_PROBE_OPEN=<path>): once confined, the
 * worker tries to open path and says what happened, as any code in it
 * that tried would find. */
static void probe(void)
{
	const char *path = getenv("ROMBSR_PROBE_OPEN");
	int fd;

	if (path == NULL)
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	fprintf(stderr, "rombsr sign: probe: open(%s): %s\n", path, fd >= 0 ? "opened" : strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* Temporary files (the verifier's scratch keyrings, gpg's own) go to
 * <state>/sign/tmp: the confined worker may write nowhere else. */
static int private_tmp(struct rombsr_sign_node *node)
{
	char *tmp = NULL;
	int r = asprintf(&tmp, "%s/tmp", node->dir) < 0 ? rombsr_error(ROMBSR_ENOMEM, "out of memory") : 0;

	if (r == 0)
		r = rombsr_mkdir_p(tmp, 0700);
	if (r == 0 && setenv("TMPDIR", tmp, 1) != 0)
		r = rombsr_error(ROMBSR_EIO, "cannot set TMPDIR");
	free(tmp);
	return r;
}

/* What the artifact routes' tools read (docs/server.md): the public
 * bundle and the capture module's folder (by default rombsr-sign's). */
static size_t route_readable(const struct rombsr_config *cfg, const char *out[2], char *module_dir, size_t size)
{
	ssize_t n = 0;
	size_t k = 0;
	char *slash;

	if (cfg->server_listen == NULL)
		return 0;
	if (cfg->server_bundle != NULL)
		out[k++] = cfg->server_bundle;
	if (cfg->server_capture_module != NULL)
		n = snprintf(module_dir, size, "%s", cfg->server_capture_module);
	else
		n = readlink("/proc/self/exe", module_dir, size - 1);
	if (n <= 0 || (size_t)n >= size - 1)
		return k;
	module_dir[n] = '\0';
	if ((slash = strrchr(module_dir, '/')) != NULL && slash != module_dir) {
		*slash = '\0';
		out[k++] = module_dir;
	}
	return k;
}

/* The worker's own user, then Landlock: after this it cannot read a PIN
 * file nor write outside its state, its clone and its GnuPG home. */
static int confine_worker(struct rombsr_sign_node *node, const struct rombsr_user *user)
{
	const struct rombsr_config *cfg = node->cfg;
	const char *writable[5] = {node->dir, cfg->queue_clone};
	const char *url = cfg->queue_url, *home = getenv("HOME");
	char *gnupg = NULL, module_dir[4096];
	const char *readable[2];
	size_t n = 2;
	bool applied;
	int r = rombsr_repo_isolate();

	/* A queue reached by path is written by the push itself. */
	if (strncmp(url, "file://", 7) == 0)
		writable[n++] = url + 7;
	else if (strstr(url, "://") == NULL && url[0] == '/')
		writable[n++] = url;
	/* GnuPG writes its home (trust database, random seed, agent socket):
	 * the configured one, else GnuPG's own default. */
	if (cfg->gpg_home != NULL)
		writable[n++] = cfg->gpg_home;
	else if (getenv("GNUPGHOME") != NULL)
		writable[n++] = getenv("GNUPGHOME");
	else if (home != NULL && asprintf(&gnupg, "%s/.gnupg", home) >= 0)
		writable[n++] = gnupg;
	if (r == 0 && user != NULL)
		r = rombsr_user_become(user);
	if (r == 0)
		r = private_tmp(node);
	if (r == 0)
		r = rombsr_landlock_restrict(writable, n, readable, route_readable(cfg, readable, module_dir, sizeof(module_dir)),
					     &applied);
	if (r == 0)
		fprintf(stderr, "rombsr sign: worker runs as %s%s\n", user ? user->name : "the starting user",
			applied ? ", confined by Landlock" : " (this kernel has no Landlock)");
	free(gnupg);
	probe();
	return r;
}

int rombsr_sign_node_open(const struct rombsr_config *cfg, struct rombsr_sign_node **out)
{
	struct rombsr_sign_node *node = calloc(1, sizeof(*node));
	struct rombsr_user users[2];
	const struct rombsr_user *worker_user = NULL, *signer_user = NULL;
	char *signer_dir = NULL;
	int r = 0;

	*out = NULL;
	if (node == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	node->cfg = cfg;
	node->max_waiting = cfg->max_waiting;
	node->serve_pending_fd = -1;
	for (int i = 0; i < ROMBSR_AUTHORITY_COUNT; i++)
		node->signers[i].fd = -1;
	if (cfg->queue_url == NULL || cfg->gpg_key == NULL)
		r = rombsr_error(ROMBSR_ECONFIG, "the sign node needs queue.url and gpg.key");
	if (r == 0 && cfg->worker_user != NULL) {
		r = rombsr_user_lookup(cfg->worker_user, &users[0]);
		if (r == 0)
			r = rombsr_user_lookup(cfg->signer_user, &users[1]);
		worker_user = &users[0];
		signer_user = &users[1];
	}
	if (r == 0 && (asprintf(&node->dir, "%s/sign", cfg->state_dir) < 0 ||
		       asprintf(&signer_dir, "%s/signer", cfg->state_dir) < 0))
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	if (r == 0 && worker_user != NULL)
		r = reachable(cfg->state_dir);
	if (r == 0)
		r = state_folder(node->dir, worker_user);
	if (r == 0)
		r = state_folder(signer_dir, signer_user);
	/* Made here, before the worker is confined to it. */
	if (r == 0)
		r = state_folder(cfg->queue_clone, worker_user);
	if (r == 0)
		r = start_signers(node, signer_dir, signer_user);
	if (r == 0)
		r = confine_worker(node, worker_user);
	if (r == 0) {
		char path[4096];

		r = rombsr_path_format(path, sizeof(path), "%s/responses", node->dir);
		if (r == 0)
			r = rombsr_mkdir_p(path, 0700);
	}
	if (r == 0)
		r = rombsr_audit_writer_open(node->dir, cfg->audit_origin, node->signers[ROMBSR_AUTHORITY_AUDIT].fd,
					     &node->audit);
	/* The signing server's decisions an earlier run logged but did not
	 * publish: the first pass publishes them. */
	if (r == 0) {
		uint64_t entries, published;

		rombsr_audit_writer_sizes(node->audit, &entries, &published);
		r = rombsr_audit_writer_server_logged(node->audit, published, NULL, &node->served_unpublished);
	}
	for (int i = 0; i < ROMBSR_AUTHORITY_COUNT && r == 0; i++)
		if (node->signers[i].fd >= 0)
			r = rombsr_audit_writer_login(node->audit, node->signers[i].token_label,
						      i == ROMBSR_AUTHORITY_AUDIT ? "audit" : "signing");
	if (r == 0)
		r = log_key_set(node);
	if (r == 0)
		r = rombsr_device_log_open(node);
	if (r == 0)
		r = rombsr_gpg_open(cfg->gpg_home, &node->gpg);
	/* The audit writer's exclusive lock makes this node the clone's only
	 * user: a ref lock in it is left by a run that was killed. */
	if (r == 0 && rombsr_path_exists(cfg->queue_clone))
		r = rombsr_repo_clear_stale_locks(cfg->queue_clone, &(size_t){0});
	if (r == 0)
		r = rombsr_repo_open(cfg->queue_clone, true, &node->repo);
	if (r == 0)
		r = rombsr_sign_read_processed(node);
	if (r == 0)
		r = rombsr_policy_state_open(node->dir, &node->policy);
	if (r == 0)
		r = rombsr_quota_ledger_open(node->dir, time(NULL), &node->ledger);
	if (r == 0)
		r = rombsr_waiting_load(node->dir, &node->waiting);
	free(signer_dir);
	if (r < 0) {
		rombsr_sign_node_close(node);
		return r;
	}
	*out = node;
	return 0;
}

void rombsr_sign_node_close(struct rombsr_sign_node *node)
{
	if (node == NULL)
		return;
	for (int i = 0; i < ROMBSR_AUTHORITY_COUNT; i++) {
		rombsr_signer_stop(node->signers[i].fd, node->signers[i].pid);
		free(node->signers[i].keys);
	}
	if (node->have_verifier)
		rombsr_verifier_free(&node->verifier);
	rombsr_audit_writer_close(node->audit);
	rombsr_policy_state_close(node->policy);
	rombsr_quota_ledger_close(node->ledger);
	rombsr_waiting_free(&node->waiting);
	rombsr_repo_close(node->repo);
	rombsr_gpg_close(node->gpg);
	if (node->serve_pending_fd >= 0)
		close(node->serve_pending_fd);
	free(node->dir);
	free(node);
}
int rombsr_sign_node_stats(struct rombsr_sign_node *node, struct rombsr_sign_stats *stats)
{
	struct rombsr_channel_request m = {.magic = ROMBSR_CHANNEL_MAGIC, .version = ROMBSR_CHANNEL_VERSION,
					   .op = ROMBSR_CH_STATS};
	struct rombsr_channel_reply *reply = calloc(1, sizeof(*reply));
	int r = reply ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	*stats = node->stats;
	for (int i = 0; i < ROMBSR_AUTHORITY_COUNT && r == 0; i++) {
		if (node->signers[i].fd < 0)
			continue;
		r = ask(&node->signers[i], &m, reply);
		if (r == 0) {
			stats->hsm_operations += reply->hsm_operations;
			stats->cache_hits += reply->cache_hits;
			stats->unwraps += reply->unwraps;
			stats->evictions += reply->evictions;
		}
	}
	free(reply);
	return r;
}

int rombsr_sign_node_check_signers(struct rombsr_sign_node *node)
{
	for (int i = 0; i < ROMBSR_AUTHORITY_COUNT; i++) {
		struct signer_link *s = &node->signers[i];
		int status;

		if (s->pid <= 0 || waitpid(s->pid, &status, WNOHANG) != s->pid)
			continue;
		s->pid = 0; /* reaped */
		return rombsr_error(ROMBSR_EHSM, "the %s signer ended (%s %d): the node must be started again",
				    node->cfg->authority[i].name, WIFSIGNALED(status) ? "signal" : "exit status",
				    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	}
	return 0;
}
