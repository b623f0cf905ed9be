/* The sign node's hard rules: what no policy can loosen. The worker
 * applies them to every request (decide.c), and `rombsr-sign status` shows
 * a waiting request's standing by the very same functions. The rules that
 * need the signers (is the authority served here, is the key in its token,
 * does the mechanism suit it) stay in decide.c. */
#ifndef ROMBSR_SIGN_HARD_RULES_H
#define ROMBSR_SIGN_HARD_RULES_H

#include "../queue/request.h"
#include "../queue/response.h"

#include <stdbool.h>
#include <time.h>

/* How far in the future a request's creation time may be (clock skew
 * between build node and sign node), in seconds. */
#define ROMBSR_SIGN_CLOCK_SKEW 300

/* A refusal: a reason code of docs/formats/response.md and one line. */
struct rombsr_refusal {
	char code[64];
	char message[ROMBSR_REASON_MAX + 1];
};

/* Fills why with code and a message; returns false, so that a check can
 * `return rombsr_refuse(why, …)`. */
bool rombsr_refuse(struct rombsr_refusal *why, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The request as a whole at now: committed by the build node it names, not
 * expired (while waiting for approvals: policy-approvals), not created in
 * the future. False with *why set when it is refused. */
bool rombsr_sign_request_rules(const struct rombsr_request *req, const char *committer, bool was_waiting,
			       time_t now, struct rombsr_refusal *why);

/* Operation i: its key belongs to the request's authority, and a
 * development key never signs a user build. */
bool rombsr_sign_operation_rules(const struct rombsr_request *req, size_t i, struct rombsr_refusal *why);

#endif
