/* The connector's HTTP API through libcurl: GET /connector/status to check
 * it sees a device, POST /connector/api for each message. One easy handle
 * per connector, used under its mutex: the device runs one command at a
 * time, so sessions on several threads take turns here. */
#include "yh_internal.h"

#include "../common/error.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define STATUS_MAX 4096

struct rombsr_yh_connector {
	pthread_mutex_t lock;
	CURL *curl;
	char *url;
	char *api_url;
	char *status_url;
};

struct sink {
	uint8_t *data;
	size_t len;
	size_t cap;
	bool overflow;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void)
{
	/* Not thread-safe, and never undone: OpenSSL is shared with the caller. */
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t sink_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct sink *s = userdata;
	size_t n = size * nmemb;

	if (nmemb != 0 && n / nmemb != size)
		return 0;
	if (n > s->cap - s->len) {
		s->overflow = true;
		return 0;
	}
	memcpy(s->data + s->len, ptr, n);
	s->len += n;
	return n;
}

static char *join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 1);

	if (s != NULL) {
		memcpy(s, a, la);
		memcpy(s + la, b, lb + 1);
	}
	return s;
}

static int check_url(const char *url, size_t *len)
{
	size_t n = strlen(url);

	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return rombsr_error(ROMBSR_ECONFIG, "YubiHSM connector URL '%s': not http:// or https://", url);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)url[i] <= ' ' || url[i] == 0x7f)
			return rombsr_error(ROMBSR_ECONFIG, "YubiHSM connector URL: a space or control character");
	while (n > 0 && url[n - 1] == '/')
		n--;
	*len = n;
	return 0;
}

/* Settings every request shares; under the lock. */
static int common_options(struct rombsr_yh_connector *c, const char *url, char *errbuf, struct sink *sink)
{
	CURL *h = c->curl;

	curl_easy_reset(h);
	if (curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_NOPROXY, "*") != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, YH_CONNECT_TIMEOUT_SECONDS) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_TIMEOUT, YH_TRANSFER_TIMEOUT_SECONDS) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_write) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_WRITEDATA, sink) != CURLE_OK)
		return rombsr_error(ROMBSR_EINTERNAL, "YubiHSM connector %s: libcurl refused an option", c->url);
	return 0;
}

/* Runs the prepared request and checks the HTTP status; under the lock. */
static int perform(struct rombsr_yh_connector *c, const char *what, const char *errbuf, const struct sink *sink)
{
	CURLcode rc = curl_easy_perform(c->curl);
	long status = 0;

	if (sink->overflow)
		return rombsr_error(ROMBSR_EHSM, "YubiHSM connector %s, %s: response larger than %zu bytes", c->url, what,
				    sink->cap);
	if (rc != CURLE_OK)
		return rombsr_error(ROMBSR_EHSM, "YubiHSM connector %s, %s: %s", c->url, what,
				    errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
	if (curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status != 200)
		return rombsr_error(ROMBSR_EHSM, "YubiHSM connector %s, %s: HTTP status %ld", c->url, what, status);
	return 0;
}

/* "status=OK" on a line of its own among the connector's key=value lines. */
static int check_status(const struct rombsr_yh_connector *c, const uint8_t *body, size_t len)
{
	size_t start = 0;

	while (start < len) {
		size_t end = start;

		while (end < len && body[end] != '\n')
			end++;
		size_t n = end - start;
		if (n > 0 && body[start + n - 1] == '\r')
			n--;
		if (n >= 7 && memcmp(body + start, "status=", 7) == 0) {
			if (n == 9 && memcmp(body + start + 7, "OK", 2) == 0)
				return 0;
			return rombsr_error(ROMBSR_EHSM, "YubiHSM connector %s: %.*s", c->url, (int)(n > 64 ? 64 : n),
					    (const char *)body + start);
		}
		start = end + 1;
	}
	return rombsr_error(ROMBSR_EHSM, "YubiHSM connector %s: no status in its answer to /connector/status", c->url);
}

static int status_check(struct rombsr_yh_connector *c)
{
	uint8_t body[STATUS_MAX];
	struct sink sink = {body, 0, sizeof(body), false};
	char errbuf[CURL_ERROR_SIZE] = "";
	int r;

	if (pthread_mutex_lock(&c->lock) != 0)
		return rombsr_error(ROMBSR_EINTERNAL, "YubiHSM connector: cannot take its lock");
	r = common_options(c, c->status_url, errbuf, &sink);
	if (r == 0)
		r = perform(c, "GET /connector/status", errbuf, &sink);
	(void)curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, NULL);
	(void)curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, NULL);
	if (pthread_mutex_unlock(&c->lock) != 0 && r == 0)
		r = rombsr_error(ROMBSR_EINTERNAL, "YubiHSM connector: cannot release its lock");
	if (r == 0)
		r = check_status(c, body, sink.len);
	return r;
}

int rombsr_yh_connector_open(const char *url, struct rombsr_yh_connector **out)
{
	struct rombsr_yh_connector *c;
	size_t len = 0;
	int r;

	rombsr_yh_set_last_device_error(YH_ERR_OK);
	*out = NULL;
	if (url == NULL || url[0] == '\0')
		url = YH_DEFAULT_URL;
	r = check_url(url, &len);
	if (r != 0)
		return r;
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return rombsr_error(ROMBSR_EINTERNAL, "libcurl: %s", curl_easy_strerror(curl_init_rc));
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return ROMBSR_ENOMEM;
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c);
		return rombsr_error(ROMBSR_EINTERNAL, "YubiHSM connector: cannot create its lock");
	}
	c->url = strndup(url, len);
	if (c->url != NULL) {
		c->api_url = join(c->url, "/connector/api");
		c->status_url = join(c->url, "/connector/status");
	}
	c->curl = curl_easy_init();
	if (c->url == NULL || c->api_url == NULL || c->status_url == NULL) {
		r = ROMBSR_ENOMEM;
		goto out;
	}
	if (c->curl == NULL) {
		r = rombsr_error(ROMBSR_EINTERNAL, "libcurl: cannot create a handle");
		goto out;
	}
	r = status_check(c);
	if (r == 0)
		*out = c;
out:
	if (r != 0)
		rombsr_yh_connector_close(c);
	return r;
}

void rombsr_yh_connector_close(struct rombsr_yh_connector *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	(void)pthread_mutex_destroy(&c->lock);
	free(c->url);
	free(c->api_url);
	free(c->status_url);
	free(c);
}

int rombsr_yh_connector_transfer(struct rombsr_yh_connector *c, const uint8_t *msg, size_t len, uint8_t *resp,
				 size_t *resp_len)
{
	struct sink sink = {resp, 0, YH_RESPONSE_MAX, false};
	struct curl_slist *headers;
	char errbuf[CURL_ERROR_SIZE] = "";
	int r;

	headers = curl_slist_append(NULL, "Content-Type: application/octet-stream");
	if (headers == NULL)
		return ROMBSR_ENOMEM;
	if (pthread_mutex_lock(&c->lock) != 0) {
		curl_slist_free_all(headers);
		return rombsr_error(ROMBSR_EINTERNAL, "YubiHSM connector: cannot take its lock");
	}
	r = common_options(c, c->api_url, errbuf, &sink);
	if (r == 0 && (curl_easy_setopt(c->curl, CURLOPT_POST, 1L) != CURLE_OK ||
		       curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers) != CURLE_OK ||
		       curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, (const void *)msg) != CURLE_OK ||
		       curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)len) != CURLE_OK))
		r = rombsr_error(ROMBSR_EINTERNAL, "YubiHSM connector %s: libcurl refused an option", c->url);
	if (r == 0)
		r = perform(c, "POST /connector/api", errbuf, &sink);
	/* The handle keeps no pointer to this call's buffers past here. */
	(void)curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	(void)curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, NULL);
	(void)curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, NULL);
	(void)curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, NULL);
	if (pthread_mutex_unlock(&c->lock) != 0 && r == 0)
		r = rombsr_error(ROMBSR_EINTERNAL, "YubiHSM connector: cannot release its lock");
	curl_slist_free_all(headers);
	if (r == 0)
		*resp_len = sink.len;
	return r;
}

int rombsr_yh_plain(struct rombsr_yh_connector *c, uint8_t cmd, const char *what, const uint8_t *data, size_t len,
		    uint8_t *resp, size_t *resp_len)
{
	uint8_t msg[YH_MSG_MAX], answer[YH_RESPONSE_MAX];
	size_t msg_len, answer_len = 0, data_len;
	const uint8_t *body;
	int r;

	r = rombsr_yh_frame(cmd, data, len, msg, sizeof(msg), &msg_len);
	if (r == 0)
		r = rombsr_yh_connector_transfer(c, msg, msg_len, answer, &answer_len);
	if (r == 0)
		r = rombsr_yh_parse_response(cmd, what, answer, answer_len, &body, &data_len);
	if (r == 0 && data_len > *resp_len)
		r = rombsr_error(ROMBSR_EHSM, "YubiHSM %s: response of %zu bytes, at most %zu expected", what, data_len,
				 *resp_len);
	if (r == 0) {
		memcpy(resp, body, data_len);
		*resp_len = data_len;
	}
	OPENSSL_cleanse(msg, sizeof(msg));
	return r;
}
