/* Configuration: defaults, overrides, and every kind of refusal. */
#include "tap.h"

#include "../../src/common/config.h"
#include "../../src/common/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/rombsr-unit-config.XXXXXX";

static const char *write_conf(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL)
		abort();
	fputs(text, f);
	fclose(f);
	return path;
}

static void expect_refusal(const char *name, const char *text, const char *want)
{
	struct rombsr_config cfg;
	const char *path = write_conf(name, text);
	int r = rombsr_config_load(path, &cfg);

	CHECK(r == ROMBSR_ECONFIG && strstr(rombsr_error_message(r), want) != NULL, "%s refused: %s", name,
	      rombsr_error_message(r));
	CHECK(cfg.state_dir == NULL && cfg.source == NULL, "%s: nothing left allocated", name);
}

int main(void)
{
	struct rombsr_config cfg;
	int r;

	if (mkdtemp(dir) == NULL)
		abort();
	unsetenv("ROMBSR_CONFIG");

	r = rombsr_config_load(write_conf("min.conf", "[core]\n\tstate-dir = /srv/r\n"), &cfg);
	CHECK(r == 0, "minimal file loads");
	CHECK(strcmp(cfg.state_dir, "/srv/r") == 0, "state-dir read");
	CHECK(strcmp(cfg.softhsm2_conf, "/srv/r/softhsm2.conf") == 0, "softhsm2.conf follows state-dir");
	CHECK(strcmp(cfg.authority[ROMBSR_AUTHORITY_RELEASE].pin_file, "/srv/r/pins/release.pin") == 0,
	      "release pin-file default");
	CHECK(strcmp(cfg.authority[ROMBSR_AUTHORITY_MANIFEST].so_pin_file, "/srv/r/pins/manifest.so-pin") == 0,
	      "manifest so-pin-file default");
	CHECK(strcmp(cfg.authority[ROMBSR_AUTHORITY_MANIFEST].token_uri, "pkcs11:token=rombsr-manifest") == 0,
	      "token URI default");
	CHECK(strcmp(cfg.authority[ROMBSR_AUTHORITY_RELEASE].module, ROMBSR_DEFAULT_MODULE) == 0, "module default");
	CHECK(cfg.authority[ROMBSR_AUTHORITY_RELEASE].sessions == ROMBSR_CONFIG_DEFAULT_SIGNER_SESSIONS &&
		      ROMBSR_CONFIG_DEFAULT_SIGNER_SESSIONS == 2,
	      "sign.signer-sessions default 2, copied into each authority");
	rombsr_config_free(&cfg);

	r = rombsr_config_load(write_conf("sessions.conf", "[sign]\n\tsigner-sessions = 16\n"), &cfg);
	CHECK(r == 0 && cfg.authority[ROMBSR_AUTHORITY_MANIFEST].sessions == 16, "sign.signer-sessions read");
	rombsr_config_free(&cfg);
	expect_refusal("sessions0.conf", "[sign]\n\tsigner-sessions = 0\n", "sign.signer-sessions: a count from 1 to 16");
	expect_refusal("sessions17.conf", "[sign]\n\tsigner-sessions = 17\n", "sign.signer-sessions: a count from 1 to 16");

	/* An authority's own module wins over hsm.module wherever either stands. */
	r = rombsr_config_load(write_conf("mod.conf", "[authority \"manifest\"]\n\tmodule = /m.so\n"
						      "[hsm]\n\tmodule = /h.so\n"),
			       &cfg);
	CHECK(r == 0 && strcmp(cfg.authority[ROMBSR_AUTHORITY_MANIFEST].module, "/m.so") == 0 &&
		      strcmp(cfg.authority[ROMBSR_AUTHORITY_RELEASE].module, "/h.so") == 0,
	      "authority module overrides hsm.module");
	rombsr_config_free(&cfg);

	/* The artifact routes (docs/server.md): a key per route, the bundle. */
	r = rombsr_config_load(write_conf("routes.conf", "[server]\n\tbundle = /srv/bundle\n\tkey-modules = kmod\n"
							 "\tkey-fitimage = fit\n\ttool-timeout = 30\n"),
			       &cfg);
	CHECK(r == 0 && strcmp(cfg.server_bundle, "/srv/bundle") == 0 && strcmp(cfg.server_key_modules, "kmod") == 0 &&
		      strcmp(cfg.server_key_fitimage, "fit") == 0 && cfg.server_key_swupdate == NULL &&
		      cfg.server_key_uefi == NULL && cfg.server_tool_timeout == 30 && cfg.server_capture_module == NULL,
	      "server.bundle, server.key-<route> and server.tool-timeout read; other routes have no key");
	rombsr_config_free(&cfg);
	r = rombsr_config_load(write_conf("routes0.conf", "[core]\n\tstate-dir = /x\n"), &cfg);
	CHECK(r == 0 && cfg.server_tool_timeout == ROMBSR_CONFIG_DEFAULT_SERVER_TOOL_TIMEOUT, "server.tool-timeout default");
	rombsr_config_free(&cfg);
	expect_refusal("routekey.conf", "[server]\n\tkey-mender = m\n", "unknown key 'server.key-mender'");
	expect_refusal("routelabel.conf", "[server]\n\tkey-modules = a b\n", "'a b' is not a key label");
	expect_refusal("tooltime.conf", "[server]\n\ttool-timeout = 4000\n", "server.tool-timeout");

	setenv("ROMBSR_CONFIG", write_conf("env.conf", "[core]\n\tstate-dir = /from/env\n"), 1);
	r = rombsr_config_load(NULL, &cfg);
	CHECK(r == 0 && strcmp(cfg.state_dir, "/from/env") == 0, "ROMBSR_CONFIG is used without --config");
	rombsr_config_free(&cfg);
	unsetenv("ROMBSR_CONFIG");

	r = rombsr_config_load(write_conf("queue.conf", "[queue]\n\turl = git://127.0.0.1/q.git\n"
							"\tadmin = 08D218992087D67F3A78598355CDD1168212F16E\n"
							"\tadmin = EC30EB3268BE65DE198A30FA4568FC92DA09E01E\n"
							"[gpg]\n\tkey = FB82EA8B071DD301925943348D16A38280EF872B\n"),
			       &cfg);
	CHECK(r == 0 && cfg.queue_nadmins == 2 && strcmp(cfg.queue_admins[1], "EC30EB3268BE65DE198A30FA4568FC92DA09E01E") == 0,
	      "queue.admin repeats into a list");
	CHECK(r == 0 && strcmp(cfg.queue_url, "git://127.0.0.1/q.git") == 0 && cfg.gpg_key != NULL &&
		      strstr(cfg.queue_clone, "/queue.git") != NULL,
	      "queue and gpg keys read, clone default under the state folder");
	rombsr_config_free(&cfg);
	expect_refusal("admin.conf", "[queue]\n\tadmin = 08d218992087d67f3a78598355cdd1168212f16e\n",
		       "is not an OpenPGP fingerprint");
	expect_refusal("gpgkey.conf", "[gpg]\n\tkey = 1234\n", "gpg.key: '1234' is not an OpenPGP fingerprint");
	expect_refusal("unknown.conf", "[core]\n\tstate-dir = /x\n\tstate-dri = /y\n", "unknown key 'core.state-dri'");
	expect_refusal("section.conf", "[cor]\n\tstate-dir = /x\n", "unknown key 'cor.state-dir'");
	expect_refusal("authority.conf", "[authority \"qa\"]\n\ttoken = pkcs11:token=x\n", "unknown authority 'qa'");
	expect_refusal("akey.conf", "[authority \"release\"]\n\tpin = 1234\n", "unknown key 'authority.release.pin'");
	expect_refusal("syntax.conf", "[core]\n\tstate-dir = /x\n[hsm\n", "syntax.conf:3");
	expect_refusal("novalue.conf", "[core]\n\tstate-dir\n", "has no value");
	r = rombsr_config_load("/nonexistent/rombsr.conf", &cfg);
	CHECK(r == ROMBSR_ENOTFOUND, "a named file that is missing is an error");

	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			abort();
	}
	return tap_done();
}
