#ifndef PETREL_CTL_SERVER_H
#define PETREL_CTL_SERVER_H

/* The daemon's side of the admin control socket (protocol: ctl-proto.h).
 *
 * A dedicated thread accepts connections; each connection is served by a
 * thread of its own with blocking I/O (an admin tool, a handful of clients
 * at most), so a `trace tail` that streams for an hour holds up nobody.
 * Requests about sessions are posted to every worker with worker_post() and
 * the answers gathered; the workers never wait for the ctl threads.
 *
 * The same thread removes expired trace rules (once a second) and old trace
 * files (at start and then daily).
 *
 * Sequence in `petrel serve`: ctl_server_init() before the server starts,
 * ctl_server_bind() once privileges are dropped (so that the socket belongs
 * to the user the daemon runs as), ctl_server_start() from a worker's init
 * hook (the workers exist then), ctl_server_stop() from the first worker's
 * deinit hook (before any worker is freed), ctl_server_deinit() at the end. */

#include <stdbool.h>

struct petrel_config;

/* Trace and slow-command settings from cfg; removes old traces. */
void ctl_server_init(const struct petrel_config *cfg);
/* Creates the socket at cfg->ctl_socket, mode 0600. A stale socket left by
 * a crash is replaced; one a running daemon answers on is an error. */
bool ctl_server_bind(const struct petrel_config *cfg, const char **error_r);
/* Starts the thread (once; later calls do nothing). */
void ctl_server_start(void);
/* Stops the thread and its clients, removes the socket. Idempotent and
 * callable from any thread. */
void ctl_server_stop(void);
void ctl_server_deinit(void);

#endif
