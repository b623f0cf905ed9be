/* Listening sockets of the worker's HTTP servers (the metrics endpoint,
 * the signing server): where from configuration text, bound before the
 * worker changes user and is confined (a port under 1024 needs root), and
 * described once bound. */
#ifndef ROMBSR_SIGN_LISTEN_ADDR_H
#define ROMBSR_SIGN_LISTEN_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* "127.0.0.1:9469" or "[::1]:9469": an IP address and a port (0: any free
 * port); loopback_only refuses an address outside 127.0.0.0/8 and ::1.
 * Errors name key, the configuration key the text came from. */
int rombsr_listen_parse(const char *key, const char *text, bool loopback_only, struct sockaddr_storage *addr,
			socklen_t *len);
/* Parses text and returns a listening socket (nonblocking, close-on-exec). */
int rombsr_listen_bind(const char *key, const char *text, bool loopback_only, int backlog, int *fd);
/* "address:port" of a bound socket; *ipv6 says its family. */
int rombsr_listen_describe(const char *key, int fd, char *out, size_t size, bool *ipv6);

#endif
