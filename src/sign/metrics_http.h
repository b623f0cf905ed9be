/* The sign node's metrics endpoint (docs/metrics.md): GET /metrics on a
 * loopback address only, served by libmicrohttpd's own thread in the
 * worker (never the signer). The socket is bound before the worker is
 * confined, the thread started after, so the thread is confined too. */
#ifndef ROMBSR_SIGN_METRICS_HTTP_H
#define ROMBSR_SIGN_METRICS_HTTP_H

#include "metrics.h"

#include <stddef.h>
#include <sys/socket.h>

struct rombsr_metrics_server;

/* "127.0.0.1:9469" or "[::1]:9469": an address of 127.0.0.0/8 or ::1
 * and a port (0: any free port). Anything else is refused, naming the
 * configuration key. */
int rombsr_metrics_listen_parse(const char *text, struct sockaddr_storage *addr, socklen_t *len);

/* Parses where and binds its socket. */
int rombsr_metrics_server_bind(const char *where, struct rombsr_metrics_server **out);
/* Starts answering; bound gets "address:port" as bound (port 0 resolved). */
int rombsr_metrics_server_start(struct rombsr_metrics_server *s, char *bound, size_t size);
/* Serves snap from now on (taken over: the caller's copy is emptied). */
void rombsr_metrics_server_publish(struct rombsr_metrics_server *s, struct rombsr_metrics_snapshot *snap);
void rombsr_metrics_server_stop(struct rombsr_metrics_server *s);

#endif
