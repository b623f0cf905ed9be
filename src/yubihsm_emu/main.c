/* rombsr-yubihsm-emu: a YubiHSM 2 and its yubihsm-connector in one process,
 * for rehearsals and tests (docs/yubihsm-emulator.md). It keeps its keys in
 * the clear in its state file: never for real keys. */
#define _GNU_SOURCE
#include "device.h"
#include "http.h"

#include "../common/error.h"
#include "../common/fsutil.h"
#include "../sign/listen_addr.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "rombsr-yubihsm-emu"

struct options {
	const char *state;
	const char *listen;
	const char *port_file;
	unsigned long serial, max_objects, max_storage, session_timeout;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: " PROG " --state FILE [--listen 127.0.0.1:PORT] [--port-file FILE]\n"
		   "       [--serial N] [--max-objects N] [--max-storage BYTES] [--session-timeout SECONDS]\n"
		   "A YubiHSM 2 emulator with its connector's HTTP API, for rehearsals and tests only:\n"
		   "the state file holds every key in the clear (docs/yubihsm-emulator.md).\n"
		   "  --state FILE             the device's state (created with the factory state if missing)\n"
		   "  --listen ADDR:PORT       loopback address to serve on (default 127.0.0.1:12345; port 0: any)\n"
		   "  --port-file FILE         write the bound port there once listening\n"
		   "  --serial N               the serial number (default %d)\n"
		   "  --max-objects N          object limit (default %d)\n"
		   "  --max-storage BYTES      storage limit, in pages of %d bytes (default %d)\n"
		   "  --session-timeout SECS   idle time before a session ends (default %d)\n",
		EMU_DEFAULT_SERIAL, YH_MAX_OBJECTS, EMU_PAGE_SIZE, EMU_DEFAULT_MAX_STORAGE, YH_SESSION_IDLE_SECONDS);
}

static int number(const char *name, const char *text, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0 || *out < min || *out > max)
		return rombsr_error(ROMBSR_EINVAL, "%s: '%s' is not a number from %lu to %lu", name, text, min, max);
	return 0;
}

/* 0, a negative error (exit 1), or 2 for a usage error. */
static int parse(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"state", required_argument, NULL, 's'},	   {"listen", required_argument, NULL, 'l'},
		{"port-file", required_argument, NULL, 'p'},	   {"serial", required_argument, NULL, 'n'},
		{"max-objects", required_argument, NULL, 'o'},	   {"max-storage", required_argument, NULL, 'm'},
		{"session-timeout", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ch, r = 0;

	while (r == 0 && (ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 's': o->state = optarg; break;
		case 'l': o->listen = optarg; break;
		case 'p': o->port_file = optarg; break;
		case 'n': r = number("--serial", optarg, 0, UINT32_MAX, &o->serial); break;
		case 'o': r = number("--max-objects", optarg, 1, YH_MAX_OBJECTS, &o->max_objects); break;
		case 'm': r = number("--max-storage", optarg, EMU_PAGE_SIZE, 0xffffUL * EMU_PAGE_SIZE, &o->max_storage); break;
		case 't': r = number("--session-timeout", optarg, 1, 86400, &o->session_timeout); break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return 2;
		}
	}
	if (r == 0 && (optind != argc || o->state == NULL)) {
		fprintf(stderr, PROG ": %s\n", o->state == NULL ? "--state FILE is required" : "unexpected argument");
		usage(stderr);
		return 2;
	}
	if (r == 0) {
		/* Refused before the state file is touched. */
		struct sockaddr_storage addr;
		socklen_t len;

		r = rombsr_listen_parse("--listen", o->listen, true, &addr, &len);
	}
	return r;
}

static int write_port(const char *path, unsigned port)
{
	char text[16];
	int n = snprintf(text, sizeof(text), "%u\n", port);

	return rombsr_file_write_atomic(path, text, (size_t)n, 0644, false);
}

static int run(struct emu_device *dev, const struct options *o)
{
	struct emu_http *http = NULL;
	unsigned port = 0;
	sigset_t stop;
	bool fresh;
	int sig, r;

	r = emu_state_load(dev, &fresh);
	if (r == 0 && !fresh) {
		/* A start is the device's power-on. */
		emu_log_boot(dev);
		r = emu_state_save(dev);
	}
	if (r < 0)
		return r;
	/* Signals wait for sigwait() below; the server's thread inherits the
	 * mask, so a stop never interrupts a command half-way. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, &stop, NULL) != 0)
		return rombsr_error(ROMBSR_EINTERNAL, "cannot block signals");
	r = emu_http_start(dev, o->listen, &http, &port);
	if (r == 0 && o->port_file != NULL)
		r = write_port(o->port_file, port);
	if (r == 0) {
		fprintf(stderr, PROG ": serving serial %u on port %u (state %s)\n", dev->serial, port, dev->state_path);
		if (sigwait(&stop, &sig) != 0)
			r = rombsr_error(ROMBSR_EINTERNAL, "sigwait failed");
	}
	emu_http_stop(http);
	return r;
}

int main(int argc, char **argv)
{
	struct options o = {NULL, "127.0.0.1:12345", NULL, EMU_DEFAULT_SERIAL, YH_MAX_OBJECTS, EMU_DEFAULT_MAX_STORAGE,
			    YH_SESSION_IDLE_SECONDS};
	struct emu_device dev;
	int r = parse(argc, argv, &o);

	if (r == 2)
		return 2;
	if (r < 0) {
		fprintf(stderr, PROG ": %s\n", rombsr_error_message(r));
		return 1;
	}
	r = emu_device_init(&dev);
	if (r == 0) {
		dev.state_path = o.state;
		dev.serial = (uint32_t)o.serial;
		dev.max_objects = o.max_objects;
		dev.max_pages = o.max_storage / EMU_PAGE_SIZE;
		dev.session_timeout = (unsigned)o.session_timeout;
		r = run(&dev, &o);
		emu_device_free(&dev);
	}
	if (r < 0) {
		fprintf(stderr, PROG ": %s\n", rombsr_error_message(r));
		return 1;
	}
	return 0;
}
