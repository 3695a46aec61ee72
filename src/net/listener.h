#ifndef PETREL_LISTENER_H
#define PETREL_LISTENER_H

/* Listening sockets. "host:port", "[v6addr]:port" or "*:port". Each worker
 * binds its own socket to the same address with SO_REUSEPORT so the kernel
 * spreads connections between workers (DESIGN.md §3).
 *
 * An absolute path ("/run/petrel/lmtp") is a unix stream socket, mode 0666
 * (who may connect is decided by the directory's permissions). A path
 * cannot be bound twice, so the first listener_open of a path binds it and
 * later calls for the same path (one per worker) return duplicates of that
 * socket; the workers then take turns accepting. A socket file left by a
 * process that is gone is replaced; one that still accepts connections
 * makes the bind fail with EADDRINUSE. Not thread-safe: open listeners from
 * one thread (the main thread, at start-up). */

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
