#include "net/net-private.h"
#include "net/connlimit.h"
#include "net/listener.h"
#include "net/tls.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Seconds the workers give open connections to finish after SIGTERM. */
#define SERVER_SHUTDOWN_GRACE 10

static const struct petrel_config *server_cfg;
static const struct server_hooks *server_hooks_active;
static struct worker *server_workers;
static size_t server_nworkers;
static _Atomic unsigned server_conn_total;
static _Thread_local struct worker *worker_self;
static pthread_t server_main_thread;

const struct petrel_config *server_config(void)
{
	return server_cfg;
}

size_t server_worker_count(void)
{
	return server_nworkers;
}

struct worker *server_worker(size_t i)
{
	return &server_workers[i];
}

struct worker *worker_current(void)
{
	return worker_self;
}

unsigned worker_index(const struct worker *w)
{
	return w->index;
}

struct event_base *worker_event_base(struct worker *w)
{
	return w->base;
}

void worker_foreach_conn(struct worker *w, void (*fn)(struct conn *c, void *ctx, void *arg),
			 void *arg)
{
	struct conn *c = w->conns;
	while (c != NULL) {
		struct conn *next = c->next;
		if (!c->free_scheduled)
			fn(c, c->ctx, arg);
		c = next;
	}
}

void worker_post(struct worker *w, void (*fn)(void *arg), void *arg)
{
	struct worker_task *t = xmalloc(sizeof(*t));
	t->fn = fn;
	t->arg = arg;
	t->next = NULL;
	pthread_mutex_lock(&w->task_lock);
	*w->tasks_tail = t;
	w->tasks_tail = &t->next;
	pthread_mutex_unlock(&w->task_lock);
	event_active(w->task_event, EV_READ, 0);
}

static void worker_run_tasks(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	(void)fd;
	(void)what;
	pthread_mutex_lock(&w->task_lock);
	struct worker_task *t = w->tasks;
	w->tasks = NULL;
	w->tasks_tail = &w->tasks;
	pthread_mutex_unlock(&w->task_lock);
	while (t != NULL) {
		struct worker_task *next = t->next;
		t->fn(t->arg);
		free(t);
		t = next;
	}
}

static void worker_maybe_exit(struct worker *w)
{
	if (w->stopping && w->conn_count == 0)
		event_base_loopexit(w->base, NULL);
}

void server_conn_closed(struct worker *w)
{
	atomic_fetch_sub(&server_conn_total, 1);
	worker_maybe_exit(w);
}

static void server_refuse(struct worker *w, const struct conn_protocol *proto, int fd,
			  const struct sockaddr *sa, int salen, const char *why)
{
	struct conn *c = conn_new(w, proto, fd, sa, salen);
	if (c == NULL) {
		close(fd);
		return;
	}
	log_event(LOG_WARN, c->id, "connect_refused", "proto=%s remote=%s reason=%s",
		  proto->name, c->ip, why);
	c->prev = NULL;
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	w->conn_count++;
	atomic_fetch_add(&server_conn_total, 1);
	c->ctx = NULL;
	/* A protocol-specific goodbye; on_free is skipped for such conns. */
	static const struct conn_protocol refused_proto = { .name = "refused" };
	const char *msg = proto->limit_message;
	c->proto = &refused_proto;
	if (msg != NULL)
		conn_write_str(c, msg);
	conn_close_after_flush(c);
}

static void server_accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
			     struct sockaddr *sa, int salen, void *arg)
{
	struct worker *w = arg;
	const struct conn_protocol *proto = NULL;
	for (size_t i = 0; i < w->listener_count; i++)
		if (w->listeners[i] == lev)
			proto = w->listener_protos[i];
	if (proto == NULL || w->stopping) {
		close(fd);
		return;
	}
	if (server_cfg->max_connections != 0 &&
	    atomic_load(&server_conn_total) >= server_cfg->max_connections) {
		server_refuse(w, proto, fd, sa, salen, "max_connections");
		return;
	}
	char ip[INET6_ADDRSTRLEN];
	conn_format_peer(sa, ip, sizeof(ip), NULL, NULL);
	if (!connlimit_acquire(ip, server_cfg->max_connections_per_address)) {
		server_refuse(w, proto, fd, sa, salen, "per_address_limit");
		return;
	}
	struct conn *c = conn_new(w, proto, fd, sa, salen);
	if (c == NULL) {
		connlimit_release(ip);
		close(fd);
		return;
	}
	strcpy(c->limit_key, c->ip);
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	w->conn_count++;
	atomic_fetch_add(&server_conn_total, 1);
	c->ctx = proto->on_accept(c);
}

static void worker_grace_expired(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	(void)fd;
	(void)what;
	struct conn *c = w->conns;
	while (c != NULL) {
		struct conn *next = c->next;
		conn_close(c);
		c = next;
	}
}

static void worker_begin_stop(void *arg)
{
	struct worker *w = arg;
	if (w->stopping)
		return;
	w->stopping = true;
	for (size_t i = 0; i < w->listener_count; i++) {
		evconnlistener_free(w->listeners[i]);
		w->listeners[i] = NULL;
	}
	w->listener_count = 0;
	struct conn *c = w->conns;
	while (c != NULL) {
		struct conn *next = c->next;
		conn_notify_shutdown(c);
		c = next;
	}
	struct timeval grace = { .tv_sec = SERVER_SHUTDOWN_GRACE };
	w->grace_timer = evtimer_new(w->base, worker_grace_expired, w);
	evtimer_add(w->grace_timer, &grace);
	worker_maybe_exit(w);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	worker_self = w;
	if (server_hooks_active != NULL && server_hooks_active->worker_init != NULL)
		server_hooks_active->worker_init(w);
	event_base_dispatch(w->base);
	if (server_hooks_active != NULL && server_hooks_active->worker_deinit != NULL)
		server_hooks_active->worker_deinit(w);
	worker_self = NULL;
	return NULL;
}

static bool worker_setup(struct worker *w, unsigned index, const struct server_listen *listens,
			 size_t listen_count, int *fds)
{
	w->index = index;
	w->base = event_base_new();
	if (w->base == NULL)
		return false;
	pthread_mutex_init(&w->task_lock, NULL);
	w->tasks_tail = &w->tasks;
	w->task_event = event_new(w->base, -1, EV_PERSIST, worker_run_tasks, w);
	w->listeners = xcalloc(listen_count, sizeof(*w->listeners));
	w->listener_protos = xcalloc(listen_count, sizeof(*w->listener_protos));
	for (size_t i = 0; i < listen_count; i++) {
		w->listeners[i] = evconnlistener_new(w->base, server_accept_cb, w,
						     LEV_OPT_CLOSE_ON_FREE, -1, fds[i]);
		if (w->listeners[i] == NULL)
			return false;
		w->listener_protos[i] = listens[i].proto;
	}
	w->listener_count = listen_count;
	return true;
}

static void worker_free(struct worker *w)
{
	for (size_t i = 0; i < w->listener_count; i++)
		if (w->listeners[i] != NULL)
			evconnlistener_free(w->listeners[i]);
	free(w->listeners);
	free(w->listener_protos);
	if (w->grace_timer)
		event_free(w->grace_timer);
	if (w->task_event)
		event_free(w->task_event);
	worker_run_tasks(-1, 0, w); /* free tasks posted after the loop ended */
	if (w->base)
		event_base_free(w->base);
	pthread_mutex_destroy(&w->task_lock);
}

static unsigned server_worker_target(const struct petrel_config *cfg)
{
	if (cfg->workers != 0)
		return cfg->workers;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

/* Binds listen_count sockets for each of n workers; fds is n*listen_count. */
static bool server_bind_all(const struct server_listen *listens, size_t listen_count,
			    unsigned n, int *fds)
{
	for (size_t i = 0; i < listen_count; i++) {
		const char *error;
		if (!listener_check_free(listens[i].spec, &error)) {
			fprintf(stderr, "petrel: %s\n", error);
			log_event(LOG_ERROR, NULL, "listen_failed", "error=\"%s\"", error);
			return false;
		}
	}
	for (unsigned w = 0; w < n; w++) {
		for (size_t i = 0; i < listen_count; i++) {
			const char *error;
			int fd = listener_open(listens[i].spec, &error);
			if (fd < 0) {
				fprintf(stderr, "petrel: %s\n", error);
				log_event(LOG_ERROR, NULL, "listen_failed", "error=\"%s\"", error);
				return false;
			}
			fds[w * listen_count + i] = fd;
		}
	}
	for (size_t i = 0; i < listen_count; i++)
		log_event(LOG_INFO, NULL, "listening", "proto=%s address=%s",
			  listens[i].proto->name, listens[i].spec);
	return true;
}

void server_request_stop(void)
{
	pthread_kill(server_main_thread, SIGTERM);
}

/* The main thread waits for signals; workers block them all. */
static int server_wait_for_signals(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	for (;;) {
		int sig = 0;
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			const char *error;
			if (tls_reload(&error))
				log_event(LOG_INFO, NULL, "tls_reloaded", NULL);
			else
				log_event(LOG_ERROR, NULL, "tls_reload_failed", "error=\"%s\"", error);
			continue;
		}
		log_event(LOG_INFO, NULL, "shutdown", "signal=%s", sig == SIGINT ? "INT" : "TERM");
		return 0;
	}
}

void server_block_signals(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int server_run(const struct petrel_config *cfg, const struct server_listen *listens,
	       size_t listen_count, const struct server_hooks *hooks)
{
	server_cfg = cfg;
	server_hooks_active = hooks;
	server_main_thread = pthread_self();
	evthread_use_pthreads();
	signal(SIGPIPE, SIG_IGN);

	server_block_signals();

	unsigned n = server_worker_target(cfg);
	int *fds = xcalloc((size_t)n * (listen_count ? listen_count : 1), sizeof(int));
	if (!server_bind_all(listens, listen_count, n, fds)) {
		free(fds);
		return 1;
	}
	if (hooks != NULL && hooks->after_bind != NULL && !hooks->after_bind(hooks->ctx)) {
		free(fds);
		return 1;
	}
	server_workers = xcalloc(n, sizeof(*server_workers));
	server_nworkers = n;
	for (unsigned i = 0; i < n; i++) {
		if (!worker_setup(&server_workers[i], i, listens, listen_count,
				  fds + (size_t)i * listen_count)) {
			fprintf(stderr, "petrel: cannot set up worker %u\n", i);
			return 1;
		}
	}
	free(fds);
	for (unsigned i = 0; i < n; i++) {
		pthread_create(&server_workers[i].thread, NULL, worker_main, &server_workers[i]);
		char name[16];
		snprintf(name, sizeof(name), "petrel-w%u", i % 10000u);
		pthread_setname_np(server_workers[i].thread, name);
	}
	log_event(LOG_INFO, NULL, "started", "workers=%u pid=%ld", n, (long)getpid());

	server_wait_for_signals();

	for (unsigned i = 0; i < n; i++)
		worker_post(&server_workers[i], worker_begin_stop, &server_workers[i]);
	for (unsigned i = 0; i < n; i++)
		pthread_join(server_workers[i].thread, NULL);
	for (unsigned i = 0; i < n; i++)
		worker_free(&server_workers[i]);
	free(server_workers);
	server_workers = NULL;
	server_nworkers = 0;
	log_event(LOG_INFO, NULL, "stopped", NULL);
	return 0;
}
