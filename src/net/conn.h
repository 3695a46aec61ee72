#ifndef PETREL_CONN_H
#define PETREL_CONN_H

/* One client connection on one worker thread. The net layer owns the socket,
 * TLS and buffering; a protocol (IMAP, LMTP) owns what the bytes mean and is
 * told about input, drained output and the end of the connection through
 * struct conn_protocol. All functions must be called on the connection's
 * worker thread. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct evbuffer;
struct conn;
struct worker;

/* The peer's end of the stream is not an event for the protocol: the
 * connection hands over what came before it, sends what was answered and
 * closes (conn_end_of_input). */
enum conn_event {
	CONN_EVENT_ERROR,    /* socket or TLS error */
	CONN_EVENT_TIMEOUT,  /* no input within the read timeout */
};

struct conn_protocol {
	const char *name;        /* "imap", "imaps", "lmtp": for logs */
	bool implicit_tls;
	/* A new connection: returns the protocol's state for it. The protocol
	 * usually writes its greeting here. */
	void *(*on_accept)(struct conn *c);
	/* New bytes are in conn_input(c). */
	void (*on_input)(struct conn *c, void *ctx);
	/* Output dropped below the low-water mark after conn_want_drain(). */
	void (*on_drain)(struct conn *c, void *ctx);
	/* An error or a timeout. For TIMEOUT the protocol may write a goodbye
	 * and call conn_close_after_flush(); otherwise it must call
	 * conn_close() (directly or after flushing). */
	void (*on_event)(struct conn *c, void *ctx, enum conn_event ev);
	/* The server is shutting down: finish what is in flight, say goodbye,
	 * close. Called once; connections left after the grace period are
	 * closed without further notice. */
	void (*on_shutdown)(struct conn *c, void *ctx);
	/* Frees ctx. Called exactly once when the connection is destroyed. */
	void (*on_free)(struct conn *c, void *ctx);
	/* Written (then closed) instead of accepting when a connection limit
	 * is reached, e.g. "* BYE Too many connections\r\n". */
	const char *limit_message;
};

/* Input not yet consumed by the protocol. The protocol drains what it used. */
struct evbuffer *conn_input(struct conn *c);
/* Queues output. Writes to a closing connection are dropped. */
void conn_write(struct conn *c, const void *data, size_t len);
void conn_write_str(struct conn *c, const char *s);
/* Queues len bytes at data without copying them: cleanup(data, len, arg) is
 * called once they have been written (or the connection is gone). For
 * large message bodies mapped from their files. */
void conn_write_reference(struct conn *c, const void *data, size_t len,
			  void (*cleanup)(const void *data, size_t len, void *arg), void *arg);
/* Bytes queued and not yet handed to the kernel. */
size_t conn_output_pending(struct conn *c);
/* True when output is over the high-water mark: producers should stop and
 * call conn_want_drain() to be resumed through on_drain. */
bool conn_output_full(struct conn *c);
void conn_want_drain(struct conn *c);

/* Stop reading input (e.g. while a slow command runs) and start again. */
void conn_pause_input(struct conn *c);
void conn_resume_input(struct conn *c);

/* For bulk input (a large literal): reads up to len bytes straight from
 * the socket into buf, bypassing the input buffer, which libevent fills at
 * most 4 KB per wakeup. Only when nothing is buffered ahead of them, over
 * plain TCP, with input not paused. Returns the bytes read; 0 when there
 * is nothing to read now or it is not possible here: an end of file or an
 * error is then reported by the normal path. */
size_t conn_read_bulk(struct conn *c, void *buf, size_t len);

/* Seconds without input before CONN_EVENT_TIMEOUT; 0 disables. */
void conn_set_read_timeout(struct conn *c, unsigned seconds);

/* Switches to TLS once queued output is written (for STARTTLS: the OK goes
 * out in clear text first). Input already buffered is discarded: clear text
 * that arrived after the STARTTLS command must never be taken as coming
 * through TLS. Returns false when TLS is not available. */
bool conn_start_tls(struct conn *c);

/* Flushes queued output, then closes. */
void conn_close_after_flush(struct conn *c);
/* Closes now; the connection is freed once control returns to the loop. */
void conn_close(struct conn *c);
bool conn_is_closing(const struct conn *c);

/* Facts about the connection. */
const char *conn_id(const struct conn *c);          /* session id, e.g. "a3f9c01b" */
const char *conn_remote_ip(const struct conn *c);   /* "127.0.0.1", "::1" */
unsigned conn_remote_port(const struct conn *c);
unsigned conn_local_port(const struct conn *c);
bool conn_is_tls(const struct conn *c);
bool conn_is_loopback(const struct conn *c);
uint64_t conn_bytes_in(const struct conn *c);
uint64_t conn_bytes_out(const struct conn *c);
uint64_t conn_started_ms(const struct conn *c);     /* wall clock */
struct event_base *conn_event_base(const struct conn *c);
struct worker *conn_worker(const struct conn *c);

#endif
