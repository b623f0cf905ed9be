/* The signing server's HTTPS side (server.h): TLS and client certificates,
 * routes, bounded bodies, and the handover of each call to the worker's
 * main thread. It runs in libmicrohttpd's threads, one per connection,
 * and touches no key, no queue and no log. */
#define _GNU_SOURCE
#include "server.h"
#include "server_input.h"
#include "server_routes.h"
#include "listen_addr.h"
#include "sign_log.h"

#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/hex.h"

#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <openssl/sha.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KEY "server.listen"
/* A digest request is a few hundred bytes; this leaves room for long
 * names and nothing more. */
#define SIGN_BODY_MAX (64u * 1024)

struct rombsr_server {
	int fd;
	struct MHD_Daemon *mhd;
	struct rombsr_buf cert, key, ca;
	size_t max_connections, timeout;
	pthread_mutex_t lock;
	pthread_cond_t arrived;
	struct rombsr_server_call *head, *tail;  /* handed over, not taken yet */
	struct rombsr_clients clients;
	char clients_commit[65];
	bool have_clients, stopping;
	unsigned connections;
	struct rombsr_route_env routes;
};

/* One connection: the client certificate it last verified, and when. A
 * connection keeps its certificate, so its requests are not verified
 * again each (a chain check per call costs public-key operations); a
 * different certificate, or a minute gone, is verified again, so an
 * expiry is seen on a kept-alive connection too. */
struct peer {
	unsigned char cert_sha256[32];
	struct timespec verified_at;
	bool verified;
};
#define PEER_VERIFY_SECONDS 60

/* One HTTP request between its first and last callback. */
struct exchange {
	struct rombsr_buf body;
	size_t limit;
	bool refused;        /* answered already (an early refusal) */
	struct rombsr_server_call *call;
	/* An artifact route's multipart form and call. */
	struct MHD_PostProcessor *pp;
	struct rombsr_route_job *job;
	uint64_t received;
	bool form_failed;    /* the rest of the body is dropped, then refused */
	/* A body without a length that went over the limit: the rest is
	 * dropped (excess counts it), then refused (too_large_refusal). */
	bool too_large;
	uint64_t excess;
	const char *limit_setting; /* what sets the limit, for the message; NULL: fixed */
};

void rombsr_server_error_body(struct rombsr_buf *out, const char *code, const char *message)
{
	json_t *o = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message);
	char *text = o != NULL ? json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT) : NULL;

	rombsr_buf_init(out, 1u << 20);
	rombsr_buf_append_str(out, text != NULL ? text : "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}");
	rombsr_buf_append_str(out, "\n");
	free(text);
	json_decref(o);
}

static enum MHD_Result send_body(struct MHD_Connection *c, unsigned status, const struct rombsr_buf *body)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(body->len, (void *)body->data, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* A refusal before the main thread sees the call: said on the journal
 * (with the client, when known) and answered as JSON. */
static enum MHD_Result refuse(struct MHD_Connection *c, struct exchange *x, unsigned status, const char *code,
			      const char *who, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static enum MHD_Result refuse(struct MHD_Connection *c, struct exchange *x, unsigned status, const char *code,
			      const char *who, const char *fmt, ...)
{
	struct rombsr_buf body;
	char message[512];
	enum MHD_Result ret;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	rombsr_sign_log(LOG_NOTICE, &(struct rombsr_sign_log_fields){.outcome = "refused", .reason = code},
			"rombsr serve: refused %s: %s: %s", who, code, message);
	rombsr_server_error_body(&body, code, message);
	ret = send_body(c, status, &body);
	rombsr_buf_free(&body);
	x->refused = true;
	return ret;
}

/* libmicrohttpd takes no answer while the client still sends (it drops
 * the connection, and the client never learns why): a body that goes over
 * its limit without having said its length is read to its end and
 * dropped, then refused. One that goes on TOO_LARGE_DRAIN bytes past it
 * is cut off. */
#define TOO_LARGE_DRAIN (1u << 20)

static enum MHD_Result drop_excess(struct exchange *x, size_t *upload_size)
{
	x->too_large = true;
	x->excess += *upload_size;
	*upload_size = 0;
	return x->excess > TOO_LARGE_DRAIN ? MHD_NO : MHD_YES;
}

static enum MHD_Result too_large_refusal(struct MHD_Connection *c, struct exchange *x)
{
	return refuse(c, x, MHD_HTTP_CONTENT_TOO_LARGE, "too-large", x->call->client.name,
		      "the body is larger than %zu bytes%s%s%s", x->limit, x->limit_setting ? " (" : "",
		      x->limit_setting ? x->limit_setting : "", x->limit_setting ? ")" : "");
}

/* The client's certificate, checked against server.client-ca (chain,
 * validity dates) by GnuTLS, then looked up by the SHA-256 of its DER in
 * the clients list. */
static enum MHD_Result authenticate(struct rombsr_server *s, struct MHD_Connection *c, struct exchange *x,
				    struct rombsr_server_call *call)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	gnutls_session_t session = ci != NULL ? (gnutls_session_t)ci->tls_session : NULL;
	const gnutls_datum_t *peers;
	unsigned n = 0, status = 0;
	unsigned char md[32];
	char hex[65];
	const struct rombsr_client *known;
	bool ok = false;

	const union MHD_ConnectionInfo *sc = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct peer *peer = sc != NULL ? sc->socket_context : NULL;
	struct timespec now;

	peers = session != NULL ? gnutls_certificate_get_peers(session, &n) : NULL;
	if (peers == NULL || n == 0)
		return refuse(c, x, MHD_HTTP_UNAUTHORIZED, "client-certificate", "a client",
			      "a client certificate is required");
	SHA256(peers[0].data, peers[0].size, md);
	rombsr_hex_encode(md, 32, hex);
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (peer != NULL && peer->verified && memcmp(peer->cert_sha256, md, 32) == 0 &&
	    now.tv_sec - peer->verified_at.tv_sec < PEER_VERIFY_SECONDS) {
		/* verified on this connection, with this certificate, lately */
	} else if (gnutls_certificate_verify_peers2(session, &status) < 0 || status != 0) {
		gnutls_datum_t why = {0};
		char text[256] = "not trusted";

		if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &why, 0) == 0 &&
		    why.data != NULL)
			snprintf(text, sizeof(text), "%s", (const char *)why.data);
		gnutls_free(why.data);
		return refuse(c, x, MHD_HTTP_FORBIDDEN, "client-certificate", hex, "the client certificate %.16s...: %s",
			      hex, text);
	} else if (peer != NULL) {
		memcpy(peer->cert_sha256, md, 32);
		peer->verified_at = now;
		peer->verified = true;
	}
	pthread_mutex_lock(&s->lock);
	if (!s->have_clients) {
		pthread_mutex_unlock(&s->lock);
		return refuse(c, x, MHD_HTTP_SERVICE_UNAVAILABLE, "starting", hex,
			      "the sign node has not verified the queue's clients list yet: try again shortly");
	}
	known = rombsr_clients_find(&s->clients, hex);
	if (known != NULL) {
		call->client = *known;
		memcpy(call->clients_commit, s->clients_commit, sizeof(call->clients_commit));
		ok = true;
	}
	pthread_mutex_unlock(&s->lock);
	if (!ok)
		return refuse(c, x, MHD_HTTP_FORBIDDEN, "unknown-client", hex,
			      "the client certificate %.16s... is not in the queue's clients list (" ROMBSR_CLIENTS_PATH ")",
			      hex);
	memcpy(call->client.certificate_sha256, hex, sizeof(hex));
	return MHD_YES;
}

/* Waits for the main thread's answer: the worker answers every call it
 * takes, and stop answers those it did not. */
static void hand_over(struct rombsr_server *s, struct rombsr_server_call *call)
{
	pthread_cond_init(&call->done, NULL);
	pthread_mutex_lock(&s->lock);
	if (s->stopping) {
		call->status = MHD_HTTP_SERVICE_UNAVAILABLE;
		rombsr_server_error_body(&call->reply, "stopping", "the sign node is stopping");
		call->answered = true;
	} else {
		call->next = NULL;
		if (s->tail != NULL)
			s->tail->next = call;
		else
			s->head = call;
		s->tail = call;
		pthread_cond_signal(&s->arrived);
	}
	while (!call->answered)
		pthread_cond_wait(&call->done, &s->lock);
	pthread_mutex_unlock(&s->lock);
	pthread_cond_destroy(&call->done);
}

static void route_hand_over(void *cls, struct rombsr_server_call *call)
{
	hand_over(cls, call);
}

/* An artifact route's first callback: its key and the bundle configured,
 * a multipart body no larger than server.max-body. */
static enum MHD_Result first_route(struct rombsr_server *s, struct MHD_Connection *c, struct exchange *x,
				   const char *route, const char *length)
{
	const char *code = NULL;
	int r;

	x->call->route = route;
	x->limit = s->routes.cfg->server_max_body;
	x->limit_setting = "server.max-body";
	if (length != NULL && strtoull(length, NULL, 10) > x->limit)
		return too_large_refusal(c, x);
	r = rombsr_route_job_new(&s->routes, route, &x->job, &code);
	if (r < 0) {
		enum MHD_Result ret = refuse(c, x, strcmp(code, "no-key") == 0 ? MHD_HTTP_FORBIDDEN
										 : MHD_HTTP_SERVICE_UNAVAILABLE,
					     code, x->call->client.name, "%s", rombsr_error_message(r));

		rombsr_error_clear();
		return ret;
	}
	x->pp = MHD_create_post_processor(c, 64 * 1024, rombsr_route_field, x->job);
	if (x->pp == NULL)
		return refuse(c, x, MHD_HTTP_BAD_REQUEST, "bad-input", x->call->client.name,
			      "%s takes a multipart/form-data body (curl -F)", route);
	return MHD_YES;
}

static enum MHD_Result send_route_result(struct MHD_Connection *c, const struct rombsr_route_result *res)
{
	struct MHD_Response *resp;
	char disposition[128];
	enum MHD_Result ret;

	if (res->filename[0] == '\0')
		return send_body(c, res->status, &res->body);
	resp = MHD_create_response_from_buffer(res->body.len, (void *)res->body.data, MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	snprintf(disposition, sizeof(disposition), "attachment; filename=\"%s\"", res->filename);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disposition);
	ret = MHD_queue_response(c, res->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* An artifact route's body as it arrives, then the whole call. */
static enum MHD_Result route_upload(struct rombsr_server *s, struct MHD_Connection *c, struct exchange *x,
				    const char *upload, size_t *upload_size)
{
	struct rombsr_route_result res;
	enum MHD_Result ret, done;
	const char *why;

	if (*upload_size > 0) {
		size_t n = *upload_size;

		if (x->too_large || x->received + n > x->limit)
			return drop_excess(x, upload_size);
		*upload_size = 0;
		x->received += n;
		/* Answered once the whole body is in: libmicrohttpd drops a
		 * connection answered while the client still sends. */
		if (!x->form_failed && MHD_post_process(x->pp, upload, n) != MHD_YES)
			x->form_failed = true;
		return MHD_YES;
	}
	if (x->too_large)
		return too_large_refusal(c, x);
	done = MHD_destroy_post_processor(x->pp);
	x->pp = NULL;
	if ((why = rombsr_route_form_error(x->job)) != NULL || done != MHD_YES || x->form_failed)
		return refuse(c, x, MHD_HTTP_BAD_REQUEST, "bad-input", x->call->client.name, "%s",
			      why != NULL ? why : "a malformed multipart body");
	rombsr_route_job_run(x->job, x->call, route_hand_over, s, &res);
	ret = send_route_result(c, &res);
	rombsr_buf_free(&res.body);
	rombsr_route_job_free(x->job);
	x->job = NULL;
	x->refused = true;
	return ret;
}

static enum MHD_Result first_call(struct rombsr_server *s, struct MHD_Connection *c, const char *url,
				  const char *method, struct exchange *x)
{
	const char *length = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	enum MHD_Result ret;

	x->call = calloc(1, sizeof(*x->call));
	if (x->call == NULL)
		return MHD_NO;
	ret = authenticate(s, c, x, x->call);
	if (ret != MHD_YES || x->refused)
		return ret;
	if (strcmp(url, "/v1/sign") != 0 && rombsr_route_path(url) == NULL)
		return refuse(c, x, MHD_HTTP_NOT_FOUND, "no-route", x->call->client.name, "no route %.64s (see docs/server.md)",
			      url);
	if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
		return refuse(c, x, MHD_HTTP_METHOD_NOT_ALLOWED, "method", x->call->client.name, "%.64s takes POST", url);
	if (rombsr_route_path(url) != NULL)
		return first_route(s, c, x, rombsr_route_path(url), length);
	x->call->route = "/v1/sign";
	x->limit = SIGN_BODY_MAX;
	if (length != NULL && strtoull(length, NULL, 10) > x->limit)
		return too_large_refusal(c, x);
	rombsr_buf_init(&x->body, x->limit);
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct rombsr_server *s = cls;
	struct exchange *x = *con_cls;
	enum MHD_Result ret;
	int r;

	(void)version;
	if (x == NULL) {
		if ((x = calloc(1, sizeof(*x))) == NULL)
			return MHD_NO;
		*con_cls = x;
		return first_call(s, c, url, method, x);
	}
	if (x->refused) {
		*upload_size = 0; /* what a refused client still sends is dropped */
		return MHD_YES;
	}
	if (x->job != NULL)
		return route_upload(s, c, x, upload, upload_size);
	if (*upload_size > 0) {
		if (x->too_large || x->body.len + *upload_size > x->limit)
			return drop_excess(x, upload_size);
		rombsr_buf_append(&x->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (x->too_large)
		return too_large_refusal(c, x);
	r = rombsr_server_sign_input_parse((const char *)x->body.data, x->body.len, &x->call->in);
	if (r < 0) {
		ret = refuse(c, x, MHD_HTTP_BAD_REQUEST, "bad-input", x->call->client.name, "%s", rombsr_error_message(r));
		rombsr_error_clear();
		return ret;
	}
	hand_over(s, x->call);
	ret = send_body(c, x->call->status, &x->call->reply);
	x->refused = true;
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode why)
{
	struct exchange *x = *con_cls;

	(void)cls;
	(void)c;
	(void)why;
	if (x == NULL)
		return;
	if (x->pp != NULL)
		MHD_destroy_post_processor(x->pp);
	rombsr_route_job_free(x->job);
	if (x->call != NULL)
		rombsr_buf_free(&x->call->reply);
	free(x->call);
	rombsr_buf_free(&x->body);
	free(x);
	*con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct rombsr_server *s = cls;

	(void)c;
	/* NULL if out of memory: that connection's requests are each verified. */
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		*socket_context = calloc(1, sizeof(struct peer));
	} else {
		free(*socket_context);
		*socket_context = NULL;
	}
	pthread_mutex_lock(&s->lock);
	if (code == MHD_CONNECTION_NOTIFY_STARTED)
		s->connections++;
	else if (s->connections > 0)
		s->connections--;
	pthread_mutex_unlock(&s->lock);
}

/* The TLS private key: refused if group or others may read it, as OpenSSH
 * refuses a key file. */
static int read_key(const char *path, struct rombsr_buf *out)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), r;

	rombsr_buf_init(out, 1u << 20);
	if (fd < 0)
		return rombsr_error(errno == ENOENT ? ROMBSR_ENOTFOUND : ROMBSR_EIO, "server.key: %s: %s", path,
				    strerror(errno));
	r = fstat(fd, &st) != 0 ? rombsr_error(ROMBSR_EIO, "server.key: %s: %s", path, strerror(errno)) : 0;
	if (r == 0 && (st.st_mode & 077) != 0)
		r = rombsr_error(ROMBSR_EPERM, "server.key: %s: group or others may read it (mode %03o): chmod 600",
				 path, (unsigned)(st.st_mode & 0777));
	if (r == 0)
		r = rombsr_fd_read(fd, path, out);
	close(fd);
	return r;
}

static int read_pem(const char *key, const char *path, struct rombsr_buf *out)
{
	int r;

	if (path == NULL)
		return rombsr_error(ROMBSR_ECONFIG, "%s is not set: the server needs it (docs/server.md)", key);
	r = strcmp(key, "server.key") == 0 ? read_key(path, out) : rombsr_file_read(path, 1u << 20, out);
	if (r == 0)
		rombsr_buf_cstr(out); /* libmicrohttpd takes C strings */
	if (r < 0 && strcmp(key, "server.key") != 0)
		r = rombsr_error_wrap(r, "%s", key);
	return r < 0 ? r : rombsr_buf_check(out, key);
}

int rombsr_server_bind(const struct rombsr_config *cfg, struct rombsr_server **out)
{
	struct rombsr_server *s = calloc(1, sizeof(*s));
	int r = s != NULL ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	*out = NULL;
	if (r < 0)
		return r;
	s->fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->arrived, NULL);
	s->max_connections = cfg->server_max_connections;
	s->timeout = cfg->server_timeout;
	if (cfg->server_listen == NULL)
		r = rombsr_error(ROMBSR_ECONFIG, "server.listen is not set: where should the server listen (docs/server.md)");
	if (r == 0)
		r = read_pem("server.certificate", cfg->server_certificate, &s->cert);
	if (r == 0)
		r = read_pem("server.key", cfg->server_key, &s->key);
	if (r == 0)
		r = read_pem("server.client-ca", cfg->server_client_ca, &s->ca);
	if (r == 0)
		r = rombsr_route_env_init(cfg, &s->routes);
	if (r == 0)
		r = rombsr_listen_bind(KEY, cfg->server_listen, false, 128, &s->fd);
	if (r < 0) {
		rombsr_server_stop(s);
		return r;
	}
	*out = s;
	return 0;
}

int rombsr_server_start(struct rombsr_server *s, char *bound, size_t size)
{
	bool ipv6;
	int r = rombsr_listen_describe(KEY, s->fd, bound, size, &ipv6);

	if (r < 0)
		return r;
	/* One thread per connection: a call blocks its thread until the main
	 * thread answers, and the connection limit bounds the threads. */
	s->mhd = MHD_start_daemon(
		MHD_USE_TLS | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | (ipv6 ? MHD_USE_IPv6 : 0),
		0, NULL, NULL, on_request, s, MHD_OPTION_LISTEN_SOCKET, s->fd, MHD_OPTION_HTTPS_MEM_CERT,
		(const char *)s->cert.data, MHD_OPTION_HTTPS_MEM_KEY, (const char *)s->key.data,
		MHD_OPTION_HTTPS_MEM_TRUST, (const char *)s->ca.data, MHD_OPTION_HTTPS_PRIORITIES,
		"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2", MHD_OPTION_CONNECTION_LIMIT, (unsigned)s->max_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s->timeout, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_END);
	/* GnuTLS holds its own copy of the key now. */
	rombsr_buf_free(&s->key);
	if (s->mhd == NULL)
		return rombsr_error(ROMBSR_EIO, "server: cannot start HTTPS on %s (is server.certificate the pair of "
						"server.key?)", bound);
	s->fd = -1; /* libmicrohttpd closes it */
	return 0;
}

void rombsr_server_stop(struct rombsr_server *s)
{
	struct rombsr_server_call *call;

	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	while ((call = s->head) != NULL) {
		s->head = call->next;
		call->status = MHD_HTTP_SERVICE_UNAVAILABLE;
		rombsr_server_error_body(&call->reply, "stopping", "the sign node is stopping");
		call->answered = true;
		pthread_cond_signal(&call->done);
	}
	s->tail = NULL;
	pthread_mutex_unlock(&s->lock);
	if (s->mhd != NULL)
		MHD_stop_daemon(s->mhd);
	if (s->fd >= 0)
		close(s->fd);
	rombsr_buf_free(&s->cert);
	rombsr_buf_free(&s->key);
	rombsr_buf_free(&s->ca);
	rombsr_clients_free(&s->clients);
	pthread_cond_destroy(&s->arrived);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void rombsr_server_set_clients(struct rombsr_server *s, struct rombsr_clients *clients, const char *commit_hex)
{
	pthread_mutex_lock(&s->lock);
	rombsr_clients_free(&s->clients);
	s->clients = *clients;
	snprintf(s->clients_commit, sizeof(s->clients_commit), "%s", commit_hex);
	s->have_clients = true;
	pthread_mutex_unlock(&s->lock);
	memset(clients, 0, sizeof(*clients));
}

struct rombsr_server_call *rombsr_server_take(struct rombsr_server *s, unsigned wait_ms)
{
	struct rombsr_server_call *calls;
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->lock);
	if (s->head == NULL && wait_ms > 0)
		pthread_cond_timedwait(&s->arrived, &s->lock, &until);
	calls = s->head;
	s->head = s->tail = NULL;
	pthread_mutex_unlock(&s->lock);
	return calls;
}

void rombsr_server_answer(struct rombsr_server *s, struct rombsr_server_call *call)
{
	pthread_mutex_lock(&s->lock);
	call->answered = true;
	pthread_cond_signal(&call->done);
	pthread_mutex_unlock(&s->lock);
}

unsigned rombsr_server_connections(struct rombsr_server *s)
{
	unsigned n;

	pthread_mutex_lock(&s->lock);
	n = s->connections;
	pthread_mutex_unlock(&s->lock);
	return n;
}
