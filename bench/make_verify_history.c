/* Bench data for bench/verify-history.sh: a long history on top of a real
 * queue, and the records a node would hold after verifying it.
 *
 *   make_verify_history stream N FIRST_TIME [PARENT]
 *       prints a git fast-import stream of N commits on refs/heads/main (on
 *       top of commit PARENT, the queue's head), each
 *       adding one file in the dated layout: a request, then its response,
 *       100 requests a day. They are NOT signed: OpenPGP-signing 100,000
 *       commits takes hours, and a run that starts at a recorded head never
 *       reads the commits before it (a --full run refuses them, which the
 *       bench shows).
 *   make_verify_history record OUT HEAD COMMITS REQUESTS RESPONSES [--totals] ADMIN...
 *       writes the verified record (src/queue/headfile.h) a full run of
 *       queue-verify (--totals) or apply would have written at HEAD.
 */
#define _GNU_SOURCE
#include "../src/common/error.h"
#include "../src/queue/headfile.h"
#include "../src/queue/layout.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PER_DAY 100
#define DAY 86400

static uint64_t splitmix(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int stream(unsigned long n, time_t first, const char *parent)
{
	static const char body[] = "{\"format\": \"bench placeholder\"}\n";
	char id[ROMBSR_REQUEST_ID_LEN + 1], path[160];
	uint64_t seed = 7;

	printf("blob\nmark :1\ndata %zu\n%s\n", sizeof(body) - 1, body);
	for (unsigned long i = 0; i < n; i++) {
		bool response = i % 2 == 1;
		char msg[96];

		/* A request, then its response: the pair shares the ID. */
		if (!response) {
			unsigned char random[ROMBSR_REQUEST_ID_RANDOM];
			unsigned long k = i / 2;

			for (size_t b = 0; b < sizeof(random); b += 4) {
				uint64_t v = splitmix(&seed);

				memcpy(random + b, &v, 4);
			}
			if (rombsr_request_id_make(first + (time_t)(k / PER_DAY) * DAY + (time_t)(k % PER_DAY) * 60, random,
						   id) < 0)
				return -1;
		}
		if ((response ? rombsr_queue_response_path : rombsr_queue_request_path)(id, path, sizeof(path)) < 0)
			return -1;
		snprintf(msg, sizeof(msg), "%s %s", response ? "response" : "request", id);
		printf("commit refs/heads/main\ncommitter bench <bench@rombsr.test> %lld +0000\ndata %zu\n%s\n",
		       (long long)first + (long long)i, strlen(msg), msg);
		/* The first commit goes on the queue's own head. */
		if (i == 0 && parent != NULL)
			printf("from %s\n", parent);
		printf("M 100644 :1 %s\n\n", path);
	}
	return fflush(stdout) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	if ((argc == 4 || argc == 5) && strcmp(argv[1], "stream") == 0)
		return stream(strtoul(argv[2], NULL, 10), (time_t)strtoll(argv[3], NULL, 10), argc == 5 ? argv[4] : NULL) < 0
			       ? 1
			       : 0;
	if (argc >= 8 && strcmp(argv[1], "record") == 0) {
		struct rombsr_verified_record rec = {0};
		bool totals = strcmp(argv[7], "--totals") == 0;
		int first_admin = totals ? 8 : 7, r;
		char(*admins)[41] = calloc((size_t)(argc - first_admin) + 1, sizeof(*admins));

		if (admins == NULL || git_oid_fromstr(&rec.head, argv[3]) < 0)
			return 1;
		for (int i = first_admin; i < argc; i++)
			snprintf(admins[i - first_admin], sizeof(admins[0]), "%s", argv[i]);
		rec.commits = strtoull(argv[4], NULL, 10);
		rec.requests = strtoull(argv[5], NULL, 10);
		rec.responses = rec.signed_ok = strtoull(argv[6], NULL, 10);
		rec.have_totals = totals;
		r = rombsr_verified_admins((const char(*)[41])admins, (size_t)(argc - first_admin), rec.admins);
		if (r == 0)
			r = rombsr_verified_write(argv[2], &rec);
		free(admins);
		if (r < 0)
			fprintf(stderr, "make_verify_history: %s\n", rombsr_error_message(r));
		return r < 0 ? 1 : 0;
	}
	fprintf(stderr, "usage: make_verify_history stream N FIRST_TIME [PARENT] | record OUT HEAD COMMITS REQUESTS RESPONSES "
			"[--totals] ADMIN...\n");
	return 2;
}
