/* What a client sends the signing server, read strictly in the HTTP
 * thread (docs/server.md, "POST /v1/sign"): the shape only. What it asks
 * for (which key, which mechanism, whether it may) is the decision's,
 * made on the main thread and logged. */
#ifndef ROMBSR_SIGN_SERVER_INPUT_H
#define ROMBSR_SIGN_SERVER_INPUT_H

#include "server.h"

#include <stddef.h>

int rombsr_server_sign_input_parse(const char *text, size_t len, struct rombsr_server_sign_input *out);

#endif
