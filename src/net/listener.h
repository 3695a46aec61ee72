#ifndef PETREL_LISTENER_H
#define PETREL_LISTENER_H

/* Listening sockets. "host:port", "[v6addr]:port" or "*:port". Each worker
 * binds its own socket to the same address with SO_REUSEPORT so the kernel
 * spreads connections between workers (DESIGN.md §3). */

#include <stdbool.h>
#include <sys/socket.h>

/* Resolves and binds one socket (non-blocking, close-on-exec, listening).
 * Returns the fd or -1 with a message in error_r (static storage). */
int listener_open(const char *spec, const char **error_r);
/* SO_REUSEPORT would let a second server bind a port silently and share
 * its connections: checks, before the first listener_open of spec, that no
 * other socket holds it. False with a message when one does. */
bool listener_check_free(const char *spec, const char **error_r);
/* Splits "host:port" into parts; false for malformed specs. */
bool listener_parse_spec(const char *spec, char *host, size_t host_size,
			 char *port, size_t port_size);
/* The port a bound socket got (for "host:0" in tests), or -1. */
int listener_bound_port(int fd);

#endif
