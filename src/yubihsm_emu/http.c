/* The connector's HTTP API (http.h). The connector is untrusted in the real
 * deployment too: it only carries messages, and sessions are encrypted and
 * MACed end to end, so this file parses nothing but the HTTP framing. */
#define _GNU_SOURCE
#include "http.h"

#include "../common/error.h"
#include "../sign/listen_addr.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What yubihsm-connector reports; libyubihsm reads status= and port=. */
#define CONNECTOR_VERSION "3.0.4"
#define MAX_CONNECTIONS 64
#define CONNECTION_TIMEOUT_SECONDS 60

struct emu_http {
	struct MHD_Daemon *mhd;
	struct emu_device *dev;
	char host[128];
	unsigned port;
};

struct upload {
	uint8_t data[YH_MSG_MAX];
	size_t len;
	bool too_big;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type, const void *body,
			     size_t len)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (resp == NULL)
		return MHD_NO;
	if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result text(struct MHD_Connection *c, unsigned status, const char *msg)
{
	return reply(c, status, "text/plain", msg, strlen(msg));
}

static enum MHD_Result status(struct emu_http *h, struct MHD_Connection *c)
{
	char body[256];
	int n = snprintf(body, sizeof(body), "status=OK\nserial=*\nversion=%s\npid=%ld\naddress=%s\nport=%u\n",
			 CONNECTOR_VERSION, (long)getpid(), h->host, h->port);

	if (n < 0 || (size_t)n >= sizeof(body))
		return text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "status too long\n");
	return reply(c, MHD_HTTP_OK, "text/plain", body, (size_t)n);
}

static enum MHD_Result api(struct emu_http *h, struct MHD_Connection *c, const char *upload, size_t *upload_size,
			   void **state)
{
	struct upload *u = *state;
	uint8_t out[YH_MSG_MAX];
	size_t out_len = 0;

	if (u == NULL) {
		u = calloc(1, sizeof(*u));
		if (u == NULL)
			return MHD_NO;
		*state = u;
		return MHD_YES;
	}
	if (*upload_size != 0) {
		if (*upload_size > sizeof(u->data) - u->len)
			u->too_big = true;
		else
			memcpy(u->data + u->len, upload, *upload_size);
		u->len += u->too_big ? 0 : *upload_size;
		*upload_size = 0;
		return MHD_YES;
	}
	if (u->too_big)
		return text(c, MHD_HTTP_CONTENT_TOO_LARGE, "message too long\n");
	emu_device_process(h->dev, u->data, u->len, out, &out_len);
	return reply(c, MHD_HTTP_OK, "application/octet-stream", out, out_len);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **state)
{
	(void)version;
	if (strcmp(url, "/connector/api") == 0 && strcmp(method, MHD_HTTP_METHOD_POST) == 0)
		return api(cls, c, upload, upload_size, state);
	if (*upload_size != 0)
		return text(c, MHD_HTTP_BAD_REQUEST, "no body expected\n");
	if (strcmp(url, "/connector/status") == 0 && strcmp(method, MHD_HTTP_METHOD_GET) == 0)
		return status(cls, c);
	return text(c, MHD_HTTP_NOT_FOUND, "GET /connector/status or POST /connector/api\n");
}

static void on_completed(void *cls, struct MHD_Connection *c, void **state, enum MHD_RequestTerminationCode code)
{
	(void)cls;
	(void)c;
	(void)code;
	free(*state);
	*state = NULL;
}

int emu_http_start(struct emu_device *dev, const char *listen, struct emu_http **out, unsigned *port)
{
	struct emu_http *h = calloc(1, sizeof(*h));
	char bound[128];
	char *colon;
	bool ipv6 = false;
	int fd = -1, r;

	*out = NULL;
	if (h == NULL)
		return ROMBSR_ENOMEM;
	h->dev = dev;
	r = rombsr_listen_bind("--listen", listen, true, 16, &fd);
	if (r == 0)
		r = rombsr_listen_describe("--listen", fd, bound, sizeof(bound), &ipv6);
	if (r < 0)
		goto fail;
	colon = strrchr(bound, ':');
	h->port = (unsigned)strtoul(colon + 1, NULL, 10);
	*colon = '\0';
	memcpy(h->host, bound, sizeof(h->host));
	h->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | (ipv6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL,
				  on_request, h, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT,
				  (unsigned)MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
				  (unsigned)CONNECTION_TIMEOUT_SECONDS, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
				  MHD_OPTION_END);
	if (h->mhd == NULL) {
		r = rombsr_error(ROMBSR_EIO, "cannot start serving on %s", listen);
		goto fail;
	}
	*port = h->port;
	*out = h;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(h);
	return r;
}

void emu_http_stop(struct emu_http *h)
{
	if (h == NULL)
		return;
	if (h->mhd != NULL)
		MHD_stop_daemon(h->mhd);
	free(h);
}
