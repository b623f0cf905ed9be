/* Load on the signing server (bench/server-load.sh): CLIENTS threads, each
 * one HTTPS connection kept alive (libcurl, a client certificate), POST
 * /v1/sign in a loop for SECONDS, each call a new digest (so the signing
 * cache never answers one). Prints the calls signed, the rate, and the
 * 50th and 99th percentile latencies; any answer but 200 is counted and
 * makes the exit status 1.
 *
 * Usage: server_load URL CA CERT KEY LABEL MECHANISM CLIENTS SECONDS */
#include <curl/curl.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_CALLS 1000000

struct shared {
	const char *url, *ca, *cert, *key, *label, *mechanism;
	double until;
	pthread_mutex_t lock;
	double *latency;
	size_t n, failed;
	char first_failure[512];
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct reply {
	char text[4096];
	size_t len;
};

static size_t on_data(char *data, size_t size, size_t n, void *ctx)
{
	struct reply *r = ctx;
	size_t take = size * n;

	if (take > sizeof(r->text) - 1 - r->len)
		take = sizeof(r->text) - 1 - r->len;
	memcpy(r->text + r->len, data, take);
	r->len += take;
	r->text[r->len] = '\0';
	return size * n;
}

static void record(struct shared *s, double latency, long status, const struct reply *r, CURLcode rc)
{
	pthread_mutex_lock(&s->lock);
	if (status == 200 && s->n < MAX_CALLS) {
		s->latency[s->n++] = latency;
	} else if (status != 200) {
		if (s->failed++ == 0)
			snprintf(s->first_failure, sizeof(s->first_failure), "status %ld (%s): %.300s", status,
				 curl_easy_strerror(rc), r->text);
	}
	pthread_mutex_unlock(&s->lock);
}

static void *client(void *arg)
{
	struct shared *s = arg;
	CURL *c = curl_easy_init();
	struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
	char body[512];

	if (c == NULL || headers == NULL)
		return NULL;
	curl_easy_setopt(c, CURLOPT_URL, s->url);
	curl_easy_setopt(c, CURLOPT_CAINFO, s->ca);
	curl_easy_setopt(c, CURLOPT_SSLCERT, s->cert);
	curl_easy_setopt(c, CURLOPT_SSLKEY, s->key);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	while (now() < s->until) {
		unsigned char digest[32];
		char hex[65];
		struct reply r = {.len = 0};
		long status = 0;
		double t0;
		CURLcode rc;

		if (RAND_bytes(digest, sizeof(digest)) != 1)
			break;
		for (int i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", digest[i]);
		snprintf(body, sizeof(body), "{\"key\":\"%s\",\"mechanism\":\"%s\",\"digest\":\"%s\"}", s->label,
			 s->mechanism, hex);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
		t0 = now();
		rc = curl_easy_perform(c);
		if (rc == CURLE_OK)
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		record(s, now() - t0, status, &r, rc);
	}
	curl_slist_free_all(headers);
	curl_easy_cleanup(c);
	return NULL;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	struct shared s = {0};
	pthread_t threads[256];
	int clients, seconds;
	double t0, elapsed;

	if (argc != 9 || (clients = atoi(argv[7])) < 1 || clients > 256 || (seconds = atoi(argv[8])) < 1) {
		fprintf(stderr, "usage: server_load URL CA CERT KEY LABEL MECHANISM CLIENTS(1-256) SECONDS\n");
		return 2;
	}
	s = (struct shared){argv[1], argv[2], argv[3], argv[4], argv[5], argv[6], 0, PTHREAD_MUTEX_INITIALIZER,
			    calloc(MAX_CALLS, sizeof(double)), 0, 0, ""};
	if (s.latency == NULL || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 1;
	t0 = now();
	s.until = t0 + seconds;
	for (int i = 0; i < clients; i++)
		if (pthread_create(&threads[i], NULL, client, &s) != 0)
			return 1;
	for (int i = 0; i < clients; i++)
		pthread_join(threads[i], NULL);
	elapsed = now() - t0;
	qsort(s.latency, s.n, sizeof(double), by_value);
	printf("server load: %d clients, %.1f s: %zu calls signed, %.1f/s; latency p50 %.1f ms, p99 %.1f ms; %zu failed\n",
	       clients, elapsed, s.n, (double)s.n / elapsed, s.n ? 1000 * s.latency[s.n / 2] : 0.0,
	       s.n ? 1000 * s.latency[(s.n * 99) / 100] : 0.0, s.failed);
	if (s.failed > 0)
		fprintf(stderr, "server_load: first failure: %s\n", s.first_failure);
	free(s.latency);
	curl_global_cleanup();
	return s.failed > 0 || s.n == 0;
}
