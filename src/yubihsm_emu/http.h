/* The connector's HTTP API over plain HTTP on loopback (http.c), as
 * yubihsm-connector serves it: GET /connector/status (key=value lines) and
 * POST /connector/api (one raw command message in, one raw response
 * out). */
#ifndef ROMBSR_YH_EMU_HTTP_H
#define ROMBSR_YH_EMU_HTTP_H

#include "device.h"

struct emu_http;

/* Listens on listen ("127.0.0.1:12345", port 0: a free one; loopback
 * only) and serves dev from a thread of its own. *port gets the bound
 * port. */
int emu_http_start(struct emu_device *dev, const char *listen, struct emu_http **out, unsigned *port);
void emu_http_stop(struct emu_http *h);

#endif
