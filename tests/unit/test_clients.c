/* The signing server's clients list (docs/formats/clients.md): the doc's
 * example parses; every rule refuses with the field's path. */
#include "tap.h"

#include "../../src/common/error.h"
#include "../../src/queue/clients.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char cert_a[] = "3f1c2a6a0f0d8a4f7b0e61f5e7c1d1a0f43a2b9f0c6d0e3e7a1b2c3d4e5f6a7b";
static const char cert_b[] = "0000000000000000000000000000000000000000000000000000000000000001";
static const char node[] = "A31F5EEA65670A07A3B429DBD5BC2225DE6CD5EC";

static int parse(const char *text, struct rombsr_clients *c)
{
	return rombsr_clients_parse(text, strlen(text), c);
}

static void refused(const char *what, const char *text, const char *message)
{
	struct rombsr_clients c;

	CHECK(tap_fails(parse(text, &c), ROMBSR_EINVAL, message), "refused: %s", what);
}

static void test_doc_example(void)
{
	char *doc = tap_top_file("docs/formats/clients.md");
	char *start = doc != NULL ? strstr(doc, "```json\n") : NULL, *end = start != NULL ? strstr(start + 8, "```") : NULL;
	struct rombsr_clients c = {0};

	CHECK(end != NULL, "the doc shows an example");
	if (end == NULL) {
		free(doc);
		return;
	}
	*end = '\0';
	CHECK(parse(start + 8, &c) == 0 && c.n == 1, "the doc's example parses");
	CHECK(c.n == 1 && strcmp(c.list[0].name, "builder-1") == 0 && strcmp(c.list[0].build_node, node) == 0,
	      "its client is builder-1 for the build node it names");
	CHECK(rombsr_clients_find(&c, cert_a) == &c.list[0] && rombsr_clients_find(&c, cert_b) == NULL,
	      "found by its certificate's digest only");
	rombsr_clients_free(&c);
	free(doc);
}

static void test_rules(void)
{
	char text[1024];
	struct rombsr_clients c;

	CHECK(parse("{\"format\":\"rombsr.clients\",\"version\":1,\"clients\":[]}", &c) == 0 && c.n == 0,
	      "an empty list parses");
	rombsr_clients_free(&c);
	CHECK(tap_fails(parse("{\"format\":\"rombsr.clients\",\"version\":2,\"clients\":[]}", &c), ROMBSR_EUNSUPPORTED,
			"unsupported version"), "version 2 is unsupported");
	refused("unknown field", "{\"format\":\"rombsr.clients\",\"version\":1,\"clients\":[],\"x\":1}", "x");
	snprintf(text, sizeof(text),
		 "{\"format\":\"rombsr.clients\",\"version\":1,\"clients\":[{\"name\":\"a b\",\"certificate_sha256\":\"%s\","
		 "\"build_node\":\"%s\"}]}", cert_a, node);
	refused("name with a space", text, "clients[0].name: only letters");
	snprintf(text, sizeof(text),
		 "{\"format\":\"rombsr.clients\",\"version\":1,\"clients\":[{\"name\":\"a\",\"certificate_sha256\":\"%.63s\","
		 "\"build_node\":\"%s\"}]}", cert_a, node);
	refused("short digest", text, "clients[0].certificate_sha256: expected 64 lower-case hex digits");
	snprintf(text, sizeof(text),
		 "{\"format\":\"rombsr.clients\",\"version\":1,\"clients\":[{\"name\":\"a\",\"certificate_sha256\":\"%s\","
		 "\"build_node\":\"a31f5eea65670a07a3b429dbd5bc2225de6cd5ec\"}]}", cert_a);
	refused("lower-case fingerprint", text, "clients[0].build_node: expected an OpenPGP fingerprint");
	snprintf(text, sizeof(text),
		 "{\"format\":\"rombsr.clients\",\"version\":1,\"clients\":[{\"name\":\"a\",\"certificate_sha256\":\"%s\","
		 "\"build_node\":\"%s\"},{\"name\":\"b\",\"certificate_sha256\":\"%s\",\"build_node\":\"%s\"}]}",
		 cert_a, node, cert_a, node);
	refused("a certificate twice", text, "clients[1].certificate_sha256: listed twice");
	snprintf(text, sizeof(text),
		 "{\"format\":\"rombsr.clients\",\"version\":1,\"clients\":[{\"name\":\"a\",\"certificate_sha256\":\"%s\","
		 "\"build_node\":\"%s\"},{\"name\":\"a\",\"certificate_sha256\":\"%s\",\"build_node\":\"%s\"}]}",
		 cert_a, node, cert_b, node);
	refused("a name twice", text, "clients[1].name: 'a' listed twice");
	snprintf(text, sizeof(text),
		 "{\"format\":\"rombsr.clients\",\"version\":1,\"clients\":[{\"name\":\"a\",\"certificate_sha256\":\"%s\"}]}",
		 cert_a);
	refused("no build node", text, "build_node");
}

int main(void)
{
	test_doc_example();
	test_rules();
	return tap_done();
}
