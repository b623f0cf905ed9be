/* Listening sockets of the worker's HTTP servers (listen_addr.h). */
#define _GNU_SOURCE
#include "listen_addr.h"

#include "../common/error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int parse_port(const char *key, const char *text, const char *port, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(port, &end, 10);
	if (port[0] < '0' || port[0] > '9' || *end != '\0' || errno != 0 || v > 65535)
		return rombsr_error(ROMBSR_ECONFIG, "%s: '%s': the port must be a number from 0 to 65535", key, text);
	*out = (unsigned)v;
	return 0;
}

int rombsr_listen_parse(const char *key, const char *text, bool loopback_only, struct sockaddr_storage *addr,
			socklen_t *len)
{
	char host[64];
	const char *colon = strrchr(text, ':');
	unsigned port;
	size_t hlen;
	int r;

	memset(addr, 0, sizeof(*addr));
	if (colon == NULL || colon == text || colon[1] == '\0')
		return rombsr_error(ROMBSR_ECONFIG, "%s: '%s' is not ADDRESS:PORT (e.g. 127.0.0.1:9469)", key, text);
	hlen = (size_t)(colon - text);
	if (text[0] == '[' && hlen >= 2 && text[hlen - 1] == ']') {
		text++; /* [v6]: the brackets are not the address */
		hlen -= 2;
	}
	if (hlen >= sizeof(host))
		return rombsr_error(ROMBSR_ECONFIG, "%s: the address is too long", key);
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	r = parse_port(key, text, colon + 1, &port);
	if (r < 0)
		return r;
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)addr)->sin_addr) == 1) {
		struct sockaddr_in *in = (struct sockaddr_in *)addr;

		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		*len = sizeof(*in);
		if (loopback_only && (ntohl(in->sin_addr.s_addr) >> 24) != 127)
			return rombsr_error(ROMBSR_ECONFIG, "%s: %s is not a loopback address: only 127.0.0.0/8 or [::1] "
					    "may be given", key, host);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)addr)->sin6_addr) == 1) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)addr;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*in6);
		if (loopback_only && !IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
			return rombsr_error(ROMBSR_ECONFIG, "%s: %s is not a loopback address: only 127.0.0.0/8 or [::1] "
					    "may be given", key, host);
		return 0;
	}
	return rombsr_error(ROMBSR_ECONFIG, "%s: '%s' is not an IP address (e.g. 127.0.0.1 or [::1], not a name)", key,
			    host);
}

int rombsr_listen_bind(const char *key, const char *text, bool loopback_only, int backlog, int *fd)
{
	struct sockaddr_storage addr;
	socklen_t len;
	int one = 1, r = rombsr_listen_parse(key, text, loopback_only, &addr, &len);

	*fd = -1;
	if (r < 0)
		return r;
	*fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (*fd < 0)
		return rombsr_error(ROMBSR_EIO, "%s: cannot make a socket: %s", key, strerror(errno));
	if (setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
		r = rombsr_error(ROMBSR_EIO, "%s: setsockopt: %s", key, strerror(errno));
	if (r == 0 && (bind(*fd, (struct sockaddr *)&addr, len) != 0 || listen(*fd, backlog) != 0))
		r = rombsr_error(ROMBSR_EIO, "%s: cannot listen on %s: %s", key, text, strerror(errno));
	if (r < 0) {
		close(*fd);
		*fd = -1;
	}
	return r;
}

int rombsr_listen_describe(const char *key, int fd, char *out, size_t size, bool *ipv6)
{
	struct sockaddr_storage addr;
	socklen_t len = sizeof(addr);
	char host[INET6_ADDRSTRLEN];

	if (getsockname(fd, (struct sockaddr *)&addr, &len) != 0)
		return rombsr_error(ROMBSR_EIO, "%s: getsockname: %s", key, strerror(errno));
	*ipv6 = addr.ss_family == AF_INET6;
	if (*ipv6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&addr)->sin6_addr, host, sizeof(host));
		snprintf(out, size, "[%s]:%u", host, ntohs(((struct sockaddr_in6 *)&addr)->sin6_port));
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&addr)->sin_addr, host, sizeof(host));
		snprintf(out, size, "%s:%u", host, ntohs(((struct sockaddr_in *)&addr)->sin_port));
	}
	return 0;
}
