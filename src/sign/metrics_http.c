/* GET /metrics for Prometheus (metrics_http.h). */
#define _GNU_SOURCE
#include "metrics_http.h"
#include "listen_addr.h"

#include "../common/error.h"

#include <microhttpd.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KEY "sign.metrics-listen"
/* A scraper or two, and someone with curl: more is not a metrics client. */
#define MAX_CONNECTIONS 8
#define CONNECTION_TIMEOUT_SECONDS 10

struct rombsr_metrics_server {
	int fd;
	struct MHD_Daemon *mhd;
	pthread_mutex_t lock;
	struct rombsr_metrics_snapshot snap;
	bool have_snap;
};

int rombsr_metrics_listen_parse(const char *text, struct sockaddr_storage *addr, socklen_t *len)
{
	return rombsr_listen_parse(KEY, text, true, addr, len);
}

int rombsr_metrics_server_bind(const char *where, struct rombsr_metrics_server **out)
{
	struct rombsr_metrics_server *s = calloc(1, sizeof(*s));
	int r;

	*out = NULL;
	if (s == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	pthread_mutex_init(&s->lock, NULL);
	r = rombsr_listen_bind(KEY, where, true, 16, &s->fd);
	if (r < 0) {
		rombsr_metrics_server_stop(s);
		return r;
	}
	*out = s;
	return 0;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type, const void *body,
			     size_t len)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result text(struct MHD_Connection *c, unsigned status, const char *msg)
{
	return reply(c, status, "text/plain; charset=utf-8", msg, strlen(msg));
}

static enum MHD_Result serve_metrics(struct rombsr_metrics_server *s, struct MHD_Connection *c)
{
	struct rombsr_buf body;
	enum MHD_Result ret;
	int r;

	pthread_mutex_lock(&s->lock);
	if (!s->have_snap) {
		pthread_mutex_unlock(&s->lock);
		return text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "the sign node is starting\n");
	}
	r = rombsr_metrics_render(&s->snap, time(NULL), &body);
	pthread_mutex_unlock(&s->lock);
	if (r < 0) {
		rombsr_buf_free(&body);
		rombsr_error_clear();
		return text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "metrics: cannot render\n");
	}
	ret = reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body.data, body.len);
	rombsr_buf_free(&body);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **state)
{
	(void)version;
	(void)upload;
	(void)state;
	if (*upload_size != 0)
		return text(c, MHD_HTTP_BAD_REQUEST, "no body expected\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET /metrics\n");
	if (strcmp(url, "/metrics") != 0)
		return text(c, MHD_HTTP_NOT_FOUND, "only GET /metrics\n");
	return serve_metrics(cls, c);
}

int rombsr_metrics_server_start(struct rombsr_metrics_server *s, char *bound, size_t size)
{
	bool ipv6;
	int r = rombsr_listen_describe(KEY, s->fd, bound, size, &ipv6);

	if (r < 0)
		return r;
	s->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | (ipv6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL,
				  on_request, s, MHD_OPTION_LISTEN_SOCKET, s->fd, MHD_OPTION_CONNECTION_LIMIT,
				  (unsigned)MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
				  (unsigned)CONNECTION_TIMEOUT_SECONDS, MHD_OPTION_END);
	if (s->mhd == NULL)
		return rombsr_error(ROMBSR_EIO, KEY ": cannot start serving on %s", bound);
	return 0;
}

void rombsr_metrics_server_publish(struct rombsr_metrics_server *s, struct rombsr_metrics_snapshot *snap)
{
	pthread_mutex_lock(&s->lock);
	if (s->have_snap)
		rombsr_metrics_snapshot_free(&s->snap);
	s->snap = *snap;
	s->have_snap = true;
	pthread_mutex_unlock(&s->lock);
	memset(snap, 0, sizeof(*snap));
}

void rombsr_metrics_server_stop(struct rombsr_metrics_server *s)
{
	if (s == NULL)
		return;
	/* MHD closes the listening socket it was given. */
	if (s->mhd != NULL)
		MHD_stop_daemon(s->mhd);
	else if (s->fd >= 0)
		close(s->fd);
	if (s->have_snap)
		rombsr_metrics_snapshot_free(&s->snap);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
