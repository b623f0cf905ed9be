/* The sign node's metrics and journal fields (src/sign/metrics.c,
 * metrics_http.c, sign_log.c; docs/metrics.md): the listen address is a
 * loopback ADDRESS:PORT or refused in one line; counters keep a bounded
 * label set; the exposition escapes label values and builds cumulative
 * buckets; a journal entry carries exactly the fields given, and stderr
 * is the journal only when JOURNAL_STREAM names it. */
#define _GNU_SOURCE
#include "tap.h"

#include "../../src/common/error.h"
#include "../../src/sign/metrics.h"
#include "../../src/sign/metrics_http.h"
#include "../../src/sign/sign_log.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_listen(void)
{
	static const char *good[] = {"127.0.0.1:9469", "127.1.2.3:1", "[::1]:9469", "127.0.0.1:0"};
	static const struct {
		const char *text, *message;
	} bad[] = {
		{"10.0.0.1:9469", "10.0.0.1 is not a loopback address"},
		{"0.0.0.0:9469", "0.0.0.0 is not a loopback address"},
		{"[::]:9469", ":: is not a loopback address"},
		{"[fe80::1]:9469", "fe80::1 is not a loopback address"},
		{"localhost:9469", "'localhost' is not an IP address"},
		{"127.0.0.1", "is not ADDRESS:PORT"},
		{":9469", "is not ADDRESS:PORT"},
		{"127.0.0.1:", "is not ADDRESS:PORT"},
		{"127.0.0.1:x", "the port must be a number from 0 to 65535"},
		{"127.0.0.1:-1", "the port must be a number from 0 to 65535"},
		{"127.0.0.1:65536", "the port must be a number from 0 to 65535"},
		{"127.0.0.1:+80", "the port must be a number from 0 to 65535"},
	};
	struct sockaddr_storage addr;
	socklen_t len;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(rombsr_metrics_listen_parse(good[i], &addr, &len) == 0, "listen %s accepted", good[i]);
	CHECK(rombsr_metrics_listen_parse("127.0.0.1:9469", &addr, &len) == 0 && addr.ss_family == AF_INET &&
		      ntohs(((struct sockaddr_in *)&addr)->sin_port) == 9469 && len == sizeof(struct sockaddr_in),
	      "127.0.0.1:9469 parsed");
	CHECK(rombsr_metrics_listen_parse("[::1]:80", &addr, &len) == 0 && addr.ss_family == AF_INET6 &&
		      len == sizeof(struct sockaddr_in6),
	      "[::1]:80 parsed");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = rombsr_metrics_listen_parse(bad[i].text, &addr, &len);

		CHECK(tap_fails(r, ROMBSR_ECONFIG, bad[i].message), "listen %s refused", bad[i].text);
		CHECK(strncmp(rombsr_error_message(r), "sign.metrics-listen: ", 21) == 0 &&
			      strchr(rombsr_error_message(r), '\n') == NULL,
		      "the refusal of %s names the key, in one line", bad[i].text);
	}
}

static void test_counters(void)
{
	struct rombsr_sign_counters *c = calloc(1, sizeof(*c));
	char reason[32];

	for (int i = 0; i < 100; i++) {
		snprintf(reason, sizeof(reason), "r%d", i);
		rombsr_sign_counters_request(c, "rejected", reason);
	}
	rombsr_sign_counters_request(c, "rejected", "r0");
	CHECK(c->nrequests == ROMBSR_METRICS_MAX_REASONS, "the label set is bounded (%zu)", c->nrequests);
	CHECK(strcmp(c->requests[0].reason, "r0") == 0 && c->requests[0].n == 2, "a known pair is counted again");
	CHECK(strcmp(c->requests[ROMBSR_METRICS_MAX_REASONS - 1].reason, "other") == 0 &&
		      c->requests[ROMBSR_METRICS_MAX_REASONS - 1].n == 100 - (ROMBSR_METRICS_MAX_REASONS - 1),
	      "pairs beyond the bound are counted as other");
	rombsr_sign_counters_latency(c, 0.03);
	rombsr_sign_counters_latency(c, 0.05);
	rombsr_sign_counters_latency(c, 1000);
	CHECK(c->latency_count == 3 && c->latency_buckets[2] == 2, "0.03 s and 0.05 s fall in le=0.05");
	free(c);
}

static void test_render(void)
{
	struct rombsr_metrics_snapshot *s = calloc(1, sizeof(*s));
	struct rombsr_buf out;
	const char *text;

	s->started = 1000;
	rombsr_sign_counters_request(&s->counters, "signed", "none");
	rombsr_sign_counters_latency(&s->counters, 0.2);
	rombsr_sign_counters_latency(&s->counters, 3);
	s->counters.lag_since = 1900;
	s->counters.checkpoint_at = 0;
	s->oldest_waiting = 1500;
	snprintf(s->authority[0].name, sizeof(s->authority[0].name), "release");
	s->authority[0].served = s->authority[0].up = true;
	s->authority[0].hsm_operations = 7;
	s->quota = calloc(1, sizeof(*s->quota));
	s->nquota = 1;
	snprintf(s->quota[0].kind, sizeof(s->quota[0].kind), "key");
	snprintf(s->quota[0].name, sizeof(s->quota[0].name), "dev\"ices\\a");
	s->quota[0].used = 3;
	s->quota[0].limit = 10;
	s->quota[0].window = 3600;
	CHECK(rombsr_metrics_render(s, 2000, &out) == 0, "renders");
	text = rombsr_buf_cstr(&out);
	CHECK(strstr(text, "rombsr_sign_requests_total{outcome=\"signed\",reason=\"none\"} 1\n") != NULL, "requests");
	CHECK(strstr(text, "rombsr_sign_signing_duration_seconds_bucket{le=\"0.25\"} 1\n") != NULL &&
		      strstr(text, "rombsr_sign_signing_duration_seconds_bucket{le=\"5\"} 2\n") != NULL &&
		      strstr(text, "rombsr_sign_signing_duration_seconds_bucket{le=\"+Inf\"} 2\n") != NULL,
	      "buckets are cumulative");
	CHECK(strstr(text, "rombsr_sign_hsm_operations_total{authority=\"release\"} 7\n") != NULL, "per authority");
	CHECK(strstr(text, "authority=\"manifest\"") == NULL, "an authority not served has no series");
	CHECK(strstr(text, "rombsr_sign_queue_lag_seconds 100\n") != NULL, "lag computed at the scrape");
	CHECK(strstr(text, "rombsr_sign_oldest_waiting_request_age_seconds 500\n") != NULL, "oldest waiting age");
	CHECK(strstr(text, "rombsr_sign_audit_checkpoint_age_seconds 0\n") != NULL, "no checkpoint known: 0");
	CHECK(strstr(text, "name=\"dev\\\"ices\\\\a\",window=\"3600\"} 3\n") != NULL, "label values escaped");
	CHECK(strstr(text, "# TYPE rombsr_sign_requests_total counter\n") != NULL, "types");
	CHECK(strstr(text, "rombsr_device_log_anomalies_total") == NULL, "no device log series without a YubiHSM");
	rombsr_buf_free(&out);
	s->device_log = true;
	s->device_log_anomalies = 2;
	CHECK(rombsr_metrics_render(s, 2000, &out) == 0 &&
		      strstr(rombsr_buf_cstr(&out), "# TYPE rombsr_device_log_anomalies_total counter\n"
						    "rombsr_device_log_anomalies_total 2\n") != NULL,
	      "the device log's anomalies on a YubiHSM");
	rombsr_buf_free(&out);
	rombsr_metrics_snapshot_free(s);
	free(s);
}

static void test_journal_entry(void)
{
	struct rombsr_sign_log_entry e;
	struct rombsr_sign_log_fields f = {"0123456789abcdef0123456789abcdef", "platform,media", "rejected", "quota",
					   ""};

	CHECK(rombsr_sign_log_entry_build(LOG_NOTICE, &f, "rombsr sign: request x: rejected: quota", &e) == 0,
	      "entry built");
	CHECK(e.n == 7, "MESSAGE, PRIORITY, SYSLOG_IDENTIFIER and the four fields given (%zu)", e.n);
	CHECK(e.n == 7 && strcmp(e.field[0], "MESSAGE=rombsr sign: request x: rejected: quota") == 0 &&
		      strcmp(e.field[1], "PRIORITY=5") == 0 && strcmp(e.field[2], "SYSLOG_IDENTIFIER=rombsr-sign") == 0 &&
		      strcmp(e.field[3], "REQUEST_ID=0123456789abcdef0123456789abcdef") == 0 &&
		      strcmp(e.field[4], "KEY=platform,media") == 0 && strcmp(e.field[5], "OUTCOME=rejected") == 0 &&
		      strcmp(e.field[6], "REASON=quota") == 0,
	      "fields in order; an empty BUILD_NODE is left out");
	rombsr_sign_log_entry_free(&e);
	CHECK(rombsr_sign_log_entry_build(LOG_INFO, NULL, "plain", &e) == 0 && e.n == 3, "no fields: three");
	rombsr_sign_log_entry_free(&e);
	CHECK(tap_fails(rombsr_sign_log_entry_build(8, NULL, "x", &e), ROMBSR_EINTERNAL, "priority"),
	      "a priority beyond LOG_DEBUG is a bug");
}

/* Decided once per process: this test sets JOURNAL_STREAM to stderr's own
 * device and inode, as systemd does; t-sign-journal covers the inherited
 * variable that names another stream. */
static void test_journal_detection(void)
{
	struct stat st;
	char value[64];

	CHECK(fstat(STDERR_FILENO, &st) == 0, "fstat stderr");
	snprintf(value, sizeof(value), "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", value, 1);
	CHECK(rombsr_sign_log_to_journal(), "JOURNAL_STREAM naming stderr: the journal");
	unsetenv("JOURNAL_STREAM");
	CHECK(rombsr_sign_log_to_journal(), "decided once");
}

int main(void)
{
	test_listen();
	test_counters();
	test_render();
	test_journal_entry();
	test_journal_detection();
	return tap_done();
}
