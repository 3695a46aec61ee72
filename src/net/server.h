#ifndef PETREL_SERVER_H
#define PETREL_SERVER_H

/* The daemon's core (DESIGN.md §3): N worker threads, each with its own
 * libevent loop and its own SO_REUSEPORT copy of every listener. A
 * connection lives its whole life on one worker. The main thread only waits
 * for signals: SIGTERM/SIGINT stop the server gracefully, SIGHUP reloads the
 * TLS certificate. */

#include <stdbool.h>
#include <stddef.h>

struct conn_protocol;
struct petrel_config;
struct worker;

struct server_listen {
	const struct conn_protocol *proto;
	const char *spec;               /* "host:port" */
};

/* Called on each worker thread at start and before it exits, so upper
 * layers can set up per-thread state (database handle caches...). */
struct server_hooks {
	void (*worker_init)(struct worker *w);
	void (*worker_deinit)(struct worker *w);
	/* Called on the main thread after binding, before workers start:
	 * the place to drop privileges. Returns false to abort start-up. */
	bool (*after_bind)(void *ctx);
	void *ctx;
};

/* Binds every listener (exits with an error message if one cannot be
 * bound), starts the workers, and returns when the server has stopped.
 * Returns 0 on a clean stop. */
int server_run(const struct petrel_config *cfg, const struct server_listen *listens,
	       size_t listen_count, const struct server_hooks *hooks);

/* Blocks the signals the main thread waits for. Call before creating any
 * thread (threads inherit the mask), so that only sigwait sees them. */
void server_block_signals(void);

/* Asks the server to stop, as SIGTERM does (any thread). */
void server_request_stop(void);

/* Runs fn(arg) on worker w's thread, soon. Safe from any thread. */
void worker_post(struct worker *w, void (*fn)(void *arg), void *arg);
/* All workers, for broadcasting (valid while the server runs). */
size_t server_worker_count(void);
struct worker *server_worker(size_t i);
/* The worker running the calling thread, or NULL on other threads. */
struct worker *worker_current(void);
unsigned worker_index(const struct worker *w);
struct event_base *worker_event_base(struct worker *w);
/* Calls fn for each open connection of the calling worker. */
void worker_foreach_conn(struct worker *w, void (*fn)(struct conn *c, void *ctx, void *arg),
			 void *arg);
const struct petrel_config *server_config(void);

#endif
