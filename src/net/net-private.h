#ifndef PETREL_NET_PRIVATE_H
#define PETREL_NET_PRIVATE_H

/* Shared between server.c and conn.c only. */

#include "net/conn.h"
#include "net/server.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdint.h>

struct bufferevent;
struct evconnlistener;

struct worker_task {
	struct worker_task *next;
	void (*fn)(void *arg);
	void *arg;
};

struct worker {
	unsigned index;
	pthread_t thread;
	struct event_base *base;
	struct evconnlistener **listeners;
	const struct conn_protocol **listener_protos;
	size_t listener_count;
	struct event *task_event;     /* woken by worker_post */
	pthread_mutex_t task_lock;
	struct worker_task *tasks, **tasks_tail;
	struct event *grace_timer;
	struct conn *conns;           /* doubly linked list of open connections */
	size_t conn_count;
	bool stopping;
};

struct conn {
	struct conn *prev, *next;
	struct worker *worker;
	struct bufferevent *bev;
	/* After STARTTLS, bev is a TLS filter over this socket bufferevent,
	 * which holds encrypted bytes not yet written. */
	struct bufferevent *underlying;
	/* Plain TCP: output is written at the end of the loop's turn by this
	 * event, straight to the socket (conn_flush_cb in conn.c). */
	struct event *flush_event;
	bool flush_scheduled;
	struct event *flush_timer;    /* close_after_flush over STARTTLS */
	unsigned flush_polls;
	struct event *linger_event;   /* reading the client's last bytes */
	uint64_t linger_until_ms;
	const struct conn_protocol *proto;
	void *ctx;
	char id[17];
	char ip[INET6_ADDRSTRLEN];
	char limit_key[INET6_ADDRSTRLEN];
	unsigned port, local_port;
	bool tls, loopback;
	bool closing, close_after_flush, want_drain, shutdown_notified;
	bool free_scheduled, input_paused, close_notify_sent;
	bool eof_pending;             /* the client closed while input was paused */
	uint64_t bytes_in, bytes_out, started_ms;
	size_t input_seen;            /* input length after the last on_input */
};

/* conn.c */
struct conn *conn_new(struct worker *w, const struct conn_protocol *proto, int fd,
		      const struct sockaddr *sa, int salen);
void conn_notify_shutdown(struct conn *c);
void conn_format_peer(const struct sockaddr *sa, char *ip, size_t ip_size,
		      unsigned *port_r, bool *loopback_r);
void conn_destroy(struct conn *c);

/* server.c */
void server_conn_closed(struct worker *w);

#endif
