/* A call to the signing server as a signing request (serve.h): the same
 * format a build node submits, so the same parser, hard rules, policy and
 * quotas judge it; and its record in <state>/sign/server/ until it is
 * logged, so that a crash between the HSM and the audit log leaves nothing
 * signed outside the log. */
#include "serve.h"

#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/hex.h"
#include "../common/keyset.h"
#include "../common/json_strict.h"
#include "../queue/layout.h"
#include "../queue/request.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What a server request is given to be decided in, short: the client is
 * waiting on the other end. */
#define SERVER_REQUEST_LIFETIME 600

static const char zero_commit[] = "0000000000000000000000000000000000000000";

/* The fingerprint of the key this node holds under label, or 64 zeros:
 * the decision then rejects the operation as an unknown key, and logs it. */
static void key_fingerprint(const struct rombsr_sign_node *node, const char *label, enum rombsr_authority_id *auth,
			    char out[65])
{
	const struct rombsr_keyset_entry *e = rombsr_keyset_find(label);

	*auth = e != NULL ? e->authority : ROMBSR_AUTHORITY_RELEASE;
	memset(out, '0', 64);
	out[64] = '\0';
	for (size_t i = 0; i < node->signers[*auth].nkeys; i++)
		if (strcmp(node->signers[*auth].keys[i].label, label) == 0)
			memcpy(out, node->signers[*auth].keys[i].spki_sha256, 65);
}

static json_t *artifacts_json(const struct rombsr_server_sign_input *in)
{
	json_t *list = json_array();
	char hex[65];

	if (list == NULL || !in->have_artifact)
		return list;
	rombsr_hex_encode(in->artifact_sha256, 32, hex);
	if (json_array_append_new(list, json_pack("{s:s,s:s,s:I}", "name", in->artifact_name, "sha256", hex, "size",
						  (json_int_t)in->artifact_size)) != 0) {
		json_decref(list);
		return NULL;
	}
	return list;
}

/* The request's operations: the digest of /v1/sign, or an artifact
 * route's round, each with the program that asked for it. */
static json_t *operations_json(const struct rombsr_sign_node *node, const struct rombsr_server_call *call,
			       enum rombsr_authority_id *auth, const char *digest)
{
	const struct rombsr_server_sign_input *in = &call->in;
	char spki[65];
	json_t *list;

	key_fingerprint(node, in->key, auth, spki);
	if (call->nops == 0)
		return json_pack("[{s:s,s:s,s:s,s:s,s:s}]", "key", in->key, "mechanism", in->mechanism, "program",
				 call->route, "spki_sha256", spki, "tbs", digest);
	list = json_array();
	for (size_t i = 0; list != NULL && i < call->nops; i++) {
		json_t *op = rombsr_op_to_json(&call->ops[i].op);

		if (op == NULL || json_object_set_new(op, "program", json_string(call->ops[i].program)) != 0 ||
		    json_array_append_new(list, op) != 0) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

int rombsr_serve_request_text(const struct rombsr_sign_node *node, const struct rombsr_server_call *call,
			      char id[ROMBSR_REQUEST_ID_LEN + 1], struct rombsr_buf *out)
{
	const struct rombsr_server_sign_input *in = &call->in;
	unsigned char random[ROMBSR_REQUEST_ID_RANDOM];
	enum rombsr_authority_id auth;
	char created[21], expires[21], *digest = NULL, *text = NULL;
	time_t now = time(NULL);
	json_t *root = NULL, *artifacts = artifacts_json(in), *operations = NULL;
	int r = artifacts != NULL ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	if (r == 0 && RAND_bytes(random, sizeof(random)) != 1)
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "cannot make a request ID");
	if (r == 0)
		r = rombsr_request_id_make(now, random, id);
	if (r == 0 && (digest = malloc(2 * in->digest_len + 1)) == NULL)
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	if (r == 0) {
		rombsr_hex_encode(in->digest, in->digest_len, digest);
		operations = operations_json(node, call, &auth, digest);
		rombsr_time_format(now, created);
		rombsr_time_format(now + SERVER_REQUEST_LIFETIME, expires);
		root = json_pack("{s:s,s:i,s:s,s:s,s:s,s:s,s:i,s:{s:s,s:s,s:s,s:s,s:s},s:o,s:o}",
				 "format", ROMBSR_REQUEST_FORMAT, "version", ROMBSR_REQUEST_VERSION, "id", id, "created",
				 created, "expires", expires, "authority", rombsr_authority_name(auth), "round", 1,
				 "build", "product", in->product[0] ? in->product : call->client.name, "build_id",
				 in->build_id[0] ? in->build_id : "server", "build_type",
				 in->build_type[0] ? in->build_type : "user", "source_commit",
				 in->source_commit[0] ? in->source_commit : zero_commit, "build_node",
				 call->client.build_node, "artifacts", artifacts, "operations", operations);
		artifacts = operations = NULL; /* json_pack took them ("o"), even when it failed */
		text = root != NULL ? json_dumps(root, JSON_SORT_KEYS | JSON_INDENT(2)) : NULL;
		if (text == NULL)
			r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	}
	if (r == 0) {
		rombsr_buf_init(out, ROMBSR_REQUEST_MAX_BYTES);
		rombsr_buf_append_str(out, text);
		rombsr_buf_append_str(out, "\n");
		r = rombsr_buf_check(out, "the request");
	}
	free(text);
	free(digest);
	json_decref(root);
	json_decref(artifacts);
	json_decref(operations);
	return r;
}

/* The record file: a header line naming where the audit log stood when
 * the file was started, then one line per call. Only ever appended to
 * while calls are in hand, and emptied (durably) once every one is
 * logged, before a pass can publish: so the part of the log a recovery
 * reads for its records' entries is the part after log_from. */
static int pending_open(struct rombsr_sign_node *node)
{
	char path[4096];
	int r;

	if (node->serve_pending_fd >= 0)
		return 0;
	r = rombsr_path_format(path, sizeof(path), "%s/" ROMBSR_SERVE_PENDING_FILE, node->dir);
	if (r == 0 && (node->serve_pending_fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0)
		r = rombsr_error(ROMBSR_EIO, "%s: %s", path, strerror(errno));
	return r;
}

static int append_line(int fd, json_t *o)
{
	char *text = o != NULL ? json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
	size_t len = text != NULL ? strlen(text) : 0;
	int r = text != NULL ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	if (r == 0)
		text[len] = '\n'; /* replaces the terminator: one write per line */
	/* A record cut short would run into the next call's. */
	if (r == 0)
		r = rombsr_append_whole(fd, text, len + 1, ROMBSR_SERVE_PENDING_FILE);
	free(text);
	json_decref(o);
	return r;
}

int rombsr_serve_pending_add(struct rombsr_sign_node *node, const struct rombsr_server_call *call, const char *id,
			     const struct rombsr_buf *request)
{
	uint64_t entries, published;
	struct stat st;
	json_t *req;
	int r = pending_open(node);

	if (r == 0 && fstat(node->serve_pending_fd, &st) != 0)
		r = rombsr_error(ROMBSR_EIO, ROMBSR_SERVE_PENDING_FILE ": %s", strerror(errno));
	if (r == 0 && st.st_size == 0) {
		rombsr_audit_writer_sizes(node->audit, &entries, &published);
		r = append_line(node->serve_pending_fd, json_pack("{s:s,s:i,s:I}", "format", ROMBSR_SERVE_PENDING_FORMAT,
								  "version", 1, "log_from", (json_int_t)entries));
	}
	/* The request as an object: its text is made again from it on
	 * recovery, and parsed as strictly as any request. */
	req = r == 0 ? json_loadb((const char *)request->data, request->len, JSON_REJECT_DUPLICATES, NULL) : NULL;
	if (r == 0 && req == NULL)
		r = rombsr_error(ROMBSR_EINTERNAL, "request %s: its own text does not parse", id);
	if (r == 0)
		r = append_line(node->serve_pending_fd,
				json_pack("{s:s,s:s,s:s,s:{s:s,s:s,s:s},s:o}", "id", id, "route", call->route,
					  "clients_commit", call->clients_commit, "client", "name", call->client.name,
					  "certificate_sha256", call->client.certificate_sha256, "build_node",
					  call->client.build_node, "request", req));
	return r;
}

int rombsr_serve_pending_sync(struct rombsr_sign_node *node)
{
	if (node->serve_pending_fd >= 0 && fdatasync(node->serve_pending_fd) != 0)
		return rombsr_error(ROMBSR_EIO, ROMBSR_SERVE_PENDING_FILE ": fdatasync: %s", strerror(errno));
	return 0;
}

int rombsr_serve_pending_clear(struct rombsr_sign_node *node)
{
	int r = pending_open(node);

	if (r == 0 && (ftruncate(node->serve_pending_fd, 0) != 0 || fdatasync(node->serve_pending_fd) != 0))
		r = rombsr_error(ROMBSR_EIO, ROMBSR_SERVE_PENDING_FILE ": cannot empty it: %s", strerror(errno));
	return r;
}

/* One record line into call and request. */
static int parse_record(const char *line, size_t len, const char *where, char id[ROMBSR_REQUEST_ID_LEN + 1],
			struct rombsr_server_call *call, struct rombsr_buf *request)
{
	static const char *const allowed[] = {"id", "route", "clients_commit", "client", "request", NULL};
	static const char *const routes[] = {"/v1/sign", "/sign/modules", "/sign/swupdate", "/sign/tegra/uefi",
					     "/sign/fitimage", NULL};
	const char *commit = NULL, *name = NULL, *cert = NULL, *node = NULL, *rid = NULL;
	char *text = NULL;
	json_t *o = NULL, *client = NULL, *req = NULL;
	int route = 0, r = rombsr_json_load(line, len, len + 1, where, &o);

	memset(call, 0, sizeof(*call));
	if (r == 0)
		r = rombsr_json_only(o, where, allowed);
	if (r == 0)
		r = rombsr_json_string(o, where, "id", ROMBSR_REQUEST_ID_LEN, &rid);
	if (r == 0 && !rombsr_request_id_valid(rid))
		r = rombsr_error(ROMBSR_EINVAL, "%s.id: not a request ID", where);
	if (r == 0)
		r = rombsr_json_enum(o, where, "route", routes, &route);
	if (r == 0)
		r = rombsr_json_string(o, where, "clients_commit", 64, &commit);
	if (r == 0)
		r = rombsr_json_object(o, where, "client", &client);
	if (r == 0)
		r = rombsr_json_string(client, where, "name", ROMBSR_CLIENT_NAME_MAX, &name);
	if (r == 0)
		r = rombsr_json_string(client, where, "certificate_sha256", 64, &cert);
	if (r == 0)
		r = rombsr_json_string(client, where, "build_node", 40, &node);
	if (r == 0)
		r = rombsr_json_object(o, where, "request", &req);
	if (r == 0 && (text = json_dumps(req, JSON_SORT_KEYS | JSON_INDENT(2))) == NULL)
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	if (r == 0) {
		snprintf(id, ROMBSR_REQUEST_ID_LEN + 1, "%s", rid);
		call->route = routes[route];
		snprintf(call->clients_commit, sizeof(call->clients_commit), "%s", commit);
		snprintf(call->client.name, sizeof(call->client.name), "%s", name);
		snprintf(call->client.certificate_sha256, sizeof(call->client.certificate_sha256), "%s", cert);
		snprintf(call->client.build_node, sizeof(call->client.build_node), "%s", node);
		rombsr_buf_init(request, ROMBSR_REQUEST_MAX_BYTES);
		rombsr_buf_append_str(request, text);
		r = rombsr_buf_check(request, where);
	}
	free(text);
	json_decref(o);
	return r;
}

int rombsr_serve_pending_read(struct rombsr_sign_node *node, rombsr_serve_record_fn fn, void *ctx)
{
	struct rombsr_buf file;
	char path[4096];
	int64_t log_from = 0;
	size_t at = 0, line_no = 0;
	int r = rombsr_path_format(path, sizeof(path), "%s/" ROMBSR_SERVE_PENDING_FILE, node->dir);

	if (r == 0)
		r = rombsr_file_read(path, 1u << 30, &file);
	if (r == ROMBSR_ENOTFOUND) {
		rombsr_error_clear();
		return 0;
	}
	while (r == 0 && at < file.len) {
		const char *line = (const char *)file.data + at, *nl = memchr(line, '\n', file.len - at);
		char where[4200], id[ROMBSR_REQUEST_ID_LEN + 1];
		struct rombsr_server_call call;
		struct rombsr_buf request;
		json_t *header = NULL;

		/* A torn last line: its call was never decided (the sync that
		 * makes a record durable comes before its ledger line). */
		if (nl == NULL)
			break;
		snprintf(where, sizeof(where), "%s:%zu", path, ++line_no);
		if (line_no == 1) {
			r = rombsr_json_load_document(line, (size_t)(nl - line), where, ROMBSR_SERVE_PENDING_FORMAT, 1, &header);
			if (r == 0)
				r = rombsr_json_int(header, where, "log_from", 0, INT64_MAX, &log_from);
			json_decref(header);
		} else {
			r = parse_record(line, (size_t)(nl - line), where, id, &call, &request);
			if (r == 0) {
				r = fn(node, (uint64_t)log_from, id, &call, &request, ctx);
				rombsr_buf_free(&request);
			}
		}
		at = (size_t)(nl - (const char *)file.data) + 1;
	}
	rombsr_buf_free(&file);
	return r;
}
