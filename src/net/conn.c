#include "net/net-private.h"
#include "net/connlimit.h"
#include "net/tls.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* Output above this makes conn_output_full() true; producers resume once the
 * kernel has taken all but CONN_LOW_WATER bytes. */
#define CONN_HIGH_WATER (256 * 1024)
#define CONN_LOW_WATER (64 * 1024)
/* Input read ahead of what the protocol has consumed: a client pipelining
 * faster than its commands run waits in its own socket buffer. */
#define CONN_INPUT_HIGH_WATER (256 * 1024)

static void conn_read_cb(struct bufferevent *bev, void *arg);
static void conn_write_cb(struct bufferevent *bev, void *arg);
static void conn_event_cb(struct bufferevent *bev, short what, void *arg);

static void conn_make_id(char id[17])
{
	unsigned char raw[8];
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		memset(raw, 0, sizeof(raw));
	for (int i = 0; i < 8; i++)
		snprintf(id + i * 2, 3, "%02x", raw[i]);
}

void conn_format_peer(const struct sockaddr *sa, char *ip, size_t ip_size,
		      unsigned *port_r, bool *loopback_r)
{
	unsigned port = 0;
	bool loopback = false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &sin->sin_addr, ip, (socklen_t)ip_size);
		port = ntohs(sin->sin_port);
		loopback = (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		port = ntohs(sin6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], ip, (socklen_t)ip_size);
			loopback = sin6->sin6_addr.s6_addr[12] == 127;
		} else {
			inet_ntop(AF_INET6, &sin6->sin6_addr, ip, (socklen_t)ip_size);
			loopback = IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
		}
	} else {
		snprintf(ip, ip_size, "local");
		loopback = true;
	}
	if (port_r != NULL)
		*port_r = port;
	if (loopback_r != NULL)
		*loopback_r = loopback;
}

static unsigned conn_sock_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

/* Plain TCP output is not handed to libevent's writing, which registers
 * for writability (an epoll_ctl) on every answer, waits a turn of the loop
 * for it, writes, and unregisters (another epoll_ctl). A connection's
 * writes are instead collected during the loop's turn and written to the
 * socket at its end, once; only what the socket does not take waits for
 * writability through libevent as before. TLS connections keep libevent's
 * writing (the TLS layer owns the socket). */
static void conn_flush_cb(evutil_socket_t fd, short what, void *arg);

static bool conn_writes_direct(const struct conn *c)
{
	return !c->tls && c->flush_event != NULL;
}

static void conn_setup_bev(struct conn *c)
{
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, CONN_LOW_WATER, 0);
	bufferevent_setwatermark(c->bev, EV_READ, 0, CONN_INPUT_HIGH_WATER);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	/* (A bufferevent starts with writing enabled.) */
	if (conn_writes_direct(c))
		bufferevent_disable(c->bev, EV_WRITE);
}

struct conn *conn_new(struct worker *w, const struct conn_protocol *proto, int fd,
		      const struct sockaddr *sa, int salen)
{
	(void)salen;
	struct conn *c = xcalloc(1, sizeof(*c));
	c->worker = w;
	c->proto = proto;
	c->started_ms = time_wall_ms();
	conn_make_id(c->id);
	conn_format_peer(sa, c->ip, sizeof(c->ip), &c->port, &c->loopback);
	c->local_port = conn_sock_local_port(fd);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	if (proto->implicit_tls) {
		SSL_CTX *ctx = tls_context_get();
		SSL *ssl = ctx ? SSL_new(ctx) : NULL;
		SSL_CTX_free(ctx);
		if (ssl == NULL) {
			free(c);
			return NULL;
		}
		c->bev = bufferevent_openssl_socket_new(w->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
							BEV_OPT_CLOSE_ON_FREE);
		c->tls = true;
	} else {
		c->bev = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
		c->flush_event = event_new(w->base, -1, 0, conn_flush_cb, c);
		if (c->flush_event == NULL && c->bev != NULL) {
			bufferevent_free(c->bev);
			c->bev = NULL;
		}
	}
	if (c->bev == NULL) {
		free(c);
		return NULL;
	}
	conn_setup_bev(c);
	return c;
}

struct evbuffer *conn_input(struct conn *c)
{
	return bufferevent_get_input(c->bev);
}

static void conn_schedule_flush(struct conn *c)
{
	if (!conn_writes_direct(c) || c->flush_scheduled)
		return;
	c->flush_scheduled = true;
	event_active(c->flush_event, EV_WRITE, 0);
}

void conn_write(struct conn *c, const void *data, size_t len)
{
	if (c->closing && !c->close_after_flush)
		return;
	bufferevent_write(c->bev, data, len);
	c->bytes_out += len;
	conn_schedule_flush(c);
}

void conn_write_reference(struct conn *c, const void *data, size_t len,
			  void (*cleanup)(const void *data, size_t len, void *arg), void *arg)
{
	if ((c->closing && !c->close_after_flush) ||
	    evbuffer_add_reference(bufferevent_get_output(c->bev), data, len, cleanup, arg) != 0) {
		cleanup(data, len, arg);
		return;
	}
	c->bytes_out += len;
	conn_schedule_flush(c);
}

void conn_write_str(struct conn *c, const char *s)
{
	conn_write(c, s, strlen(s));
}

size_t conn_output_pending(struct conn *c)
{
	size_t n = evbuffer_get_length(bufferevent_get_output(c->bev));
	if (c->underlying != NULL)
		n += evbuffer_get_length(bufferevent_get_output(c->underlying));
	return n;
}

bool conn_output_full(struct conn *c)
{
	return conn_output_pending(c) > CONN_HIGH_WATER;
}

void conn_want_drain(struct conn *c)
{
	c->want_drain = true;
}

/* Pausing does not stop reading from the socket: turning reading off and
 * on again costs two epoll_ctl for every command that waits (for its
 * commit to be durable, say), the commonest case. What arrives meanwhile
 * waits in the input buffer, which libevent stops filling at
 * CONN_INPUT_HIGH_WATER, and is handed to the protocol once resumed; so
 * is the client's end of the stream (eof_pending), so that a client that
 * sends its commands and closes its side gets every answer, as when
 * reading was off. */
void conn_pause_input(struct conn *c)
{
	c->input_paused = true;
}

void conn_resume_input(struct conn *c)
{
	if (c->closing)
		return;
	c->input_paused = false;
	if (!c->eof_pending)
		bufferevent_enable(c->bev, EV_READ); /* (after a STARTTLS, say) */
	/* Input that arrived while paused is waiting in the buffer already:
	 * no new read event will come for it. */
	if (evbuffer_get_length(conn_input(c)) > 0 || c->eof_pending)
		bufferevent_trigger(c->bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

size_t conn_read_bulk(struct conn *c, void *buf, size_t len)
{
	if (c->tls || c->closing || c->input_paused || evbuffer_get_length(conn_input(c)) != 0)
		return 0;
	ssize_t n = recv(bufferevent_getfd(c->bev), buf, len, MSG_DONTWAIT);
	if (n <= 0)
		return 0;
	c->bytes_in += (uint64_t)n;
	return (size_t)n;
}

void conn_set_read_timeout(struct conn *c, unsigned seconds)
{
	struct timeval tv = { .tv_sec = seconds, .tv_usec = 0 };
	bufferevent_set_timeouts(c->bev, seconds ? &tv : NULL, NULL);
}

bool conn_start_tls(struct conn *c)
{
	if (c->tls)
		return false;
	SSL_CTX *ctx = tls_context_get();
	SSL *ssl = ctx ? SSL_new(ctx) : NULL;
	SSL_CTX_free(ctx);
	if (ssl == NULL)
		return false;
	/* Clear text pipelined after STARTTLS is dropped (command injection,
	 * RFC 9051 §11.1 / CVE-2011-0411 class). */
	struct evbuffer *in = bufferevent_get_input(c->bev);
	evbuffer_drain(in, evbuffer_get_length(in));
	c->input_seen = 0;
	struct bufferevent *tls = bufferevent_openssl_filter_new(
		c->worker->base, c->bev, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (tls == NULL) {
		SSL_free(ssl);
		return false;
	}
	/* From here the TLS layer writes through the socket bufferevent with
	 * libevent's writing; that also sends the plain answer still queued. */
	bufferevent_enable(c->bev, EV_WRITE);
	/* The filter stops encrypting while the socket layer holds this much,
	 * so backpressure reaches the protocol. */
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, CONN_HIGH_WATER);
	c->underlying = c->bev;
	c->bev = tls;
	c->tls = true;
	conn_setup_bev(c);
	return true;
}

static void conn_free_deferred(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_destroy(arg);
}

void conn_close(struct conn *c)
{
	if (c->free_scheduled)
		return;
	c->closing = true;
	c->free_scheduled = true;
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	/* Freed from the loop, so callers up the stack may still touch c. */
	event_base_once(c->worker->base, -1, EV_TIMEOUT, conn_free_deferred, c, NULL);
}

/* Over STARTTLS the filter's write callback fires once the filter has
 * handed its bytes to the socket layer, not when the socket layer has
 * written them, so the last bytes are waited for by polling. */
#define CONN_FLUSH_POLL_MS 10
#define CONN_FLUSH_POLLS_MAX 1000

static void conn_end(struct conn *c);

static void conn_flush_poll(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	(void)fd;
	(void)what;
	if (conn_output_pending(c) == 0)
		conn_end(c);
	else if (++c->flush_polls >= CONN_FLUSH_POLLS_MAX)
		conn_close(c);
}

static void conn_wait_underlying_flush(struct conn *c)
{
	if (c->flush_timer != NULL || c->free_scheduled)
		return;
	struct timeval tv = { .tv_sec = 0, .tv_usec = CONN_FLUSH_POLL_MS * 1000 };
	c->flush_timer = event_new(c->worker->base, -1, EV_PERSIST, conn_flush_poll, c);
	event_add(c->flush_timer, &tv);
}

void conn_close_after_flush(struct conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	c->close_after_flush = true;
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	if (conn_output_pending(c) == 0)
		conn_end(c);
	else if (c->underlying != NULL)
		conn_wait_underlying_flush(c);
}

/* Ending a connection the server chose to end (LOGOUT, an idle timeout):
 * the TLS session is closed with close_notify, the socket half-closed, and
 * whatever the client still sends is read and dropped until it closes too.
 * Closing with the client's late bytes unread (its own close_notify after
 * LOGOUT's OK, a command it pipelined) makes the kernel answer with a
 * reset, which clients report as an error and which can destroy our last
 * response before the client has read it. */
#define CONN_LINGER_MS 2000
#define CONN_LINGER_READS_PER_WAKEUP 16

static void conn_linger_read(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	if (what & EV_TIMEOUT) {
		conn_close(c);
		return;
	}
	char scrap[4096];
	for (int i = 0; i < CONN_LINGER_READS_PER_WAKEUP; i++) {
		ssize_t n = recv(fd, scrap, sizeof(scrap), 0);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			break;
		if (n <= 0) {
			conn_close(c);
			return;
		}
	}
	if (time_mono_ms() >= c->linger_until_ms)
		conn_close(c);
}

static void conn_linger(struct conn *c)
{
	struct bufferevent *sock_bev = c->underlying != NULL ? c->underlying : c->bev;
	evutil_socket_t fd = bufferevent_getfd(sock_bev);
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	bufferevent_disable(sock_bev, EV_READ | EV_WRITE);
	if (c->flush_timer != NULL)
		event_del(c->flush_timer);
	if (fd < 0 || shutdown(fd, SHUT_WR) != 0) {
		conn_close(c);
		return;
	}
	c->linger_until_ms = time_mono_ms() + CONN_LINGER_MS;
	c->linger_event = event_new(c->worker->base, fd, EV_READ | EV_PERSIST, conn_linger_read, c);
	struct timeval tv = { .tv_sec = CONN_LINGER_MS / 1000, .tv_usec = CONN_LINGER_MS % 1000 * 1000 };
	if (c->linger_event == NULL || event_add(c->linger_event, &tv) != 0)
		conn_close(c);
}

/* Called once all queued output has left; over STARTTLS the close_notify
 * goes through the socket layer's buffer, so that is flushed once more. */
static void conn_end(struct conn *c)
{
	if (c->free_scheduled || c->linger_event != NULL)
		return;
	if (c->worker->stopping) {
		conn_close(c);
		return;
	}
	if (c->tls && !c->close_notify_sent) {
		c->close_notify_sent = true;
		SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
		if (ssl != NULL && SSL_is_init_finished(ssl)) {
			SSL_shutdown(ssl);
			/* Its errors (a peer gone already) must not stay in
			 * the thread's queue for the next connection's reads. */
			ERR_clear_error();
		}
		if (conn_output_pending(c) > 0) {
			conn_wait_underlying_flush(c);
			return;
		}
	}
	conn_linger(c);
}

bool conn_is_closing(const struct conn *c)
{
	return c->closing;
}

void conn_notify_shutdown(struct conn *c)
{
	if (c->shutdown_notified || c->closing)
		return;
	c->shutdown_notified = true;
	if (c->proto->on_shutdown != NULL)
		c->proto->on_shutdown(c, c->ctx);
	else
		conn_close(c);
}

void conn_destroy(struct conn *c)
{
	struct worker *w = c->worker;
	if (c->proto->on_free != NULL)
		c->proto->on_free(c, c->ctx);
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	w->conn_count--;
	if (c->flush_event != NULL)
		event_free(c->flush_event);
	if (c->flush_timer != NULL)
		event_free(c->flush_timer);
	if (c->linger_event != NULL)
		event_free(c->linger_event);
	if (c->limit_key[0] != '\0')
		connlimit_release(c->limit_key);
	bufferevent_free(c->bev);
	free(c);
	server_conn_closed(w);
}

static void conn_end_of_input(struct conn *c);

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	(void)bev;
	if (c->closing)
		return;
	size_t len = evbuffer_get_length(conn_input(c));
	if (len > c->input_seen)
		c->bytes_in += len - c->input_seen;
	c->input_seen = len;
	if (c->input_paused)
		return;
	c->proto->on_input(c, c->ctx);
	if (c->free_scheduled)
		return;
	c->input_seen = evbuffer_get_length(conn_input(c));
	if (c->eof_pending && !c->input_paused && !c->closing) {
		c->eof_pending = false;
		conn_end_of_input(c);
	}
}

/* The output has fallen to the low-water mark: a connection closing
 * after its last answer ends, a long answer produces more. */
static void conn_output_drained(struct conn *c)
{
	if (c->close_after_flush) {
		if (conn_output_pending(c) == 0)
			conn_end(c);
		else if (c->underlying != NULL)
			conn_wait_underlying_flush(c);
		return;
	}
	if (c->want_drain && !c->closing && conn_output_pending(c) <= CONN_LOW_WATER) {
		c->want_drain = false;
		if (c->proto->on_drain != NULL)
			c->proto->on_drain(c, c->ctx);
	}
}

/* libevent wrote what a direct write left (or a TLS layer's output). Once
 * everything has left, plain TCP goes back to writing directly. */
static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	(void)bev;
	conn_output_drained(c);
	if (conn_writes_direct(c) && !c->free_scheduled && c->linger_event == NULL &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		bufferevent_disable(c->bev, EV_WRITE);
}

/* Writes the turn's output to the socket. What the socket does not take,
 * and a write error, are left to libevent's writing, which reports the
 * error through conn_event_cb as before. So is a long answer produced in
 * steps (want_drain): each step then waits for writability, a turn of
 * the loop in which the worker's other connections are served too. */
static void conn_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	(void)fd;
	(void)what;
	c->flush_scheduled = false;
	if (!conn_writes_direct(c) || c->free_scheduled || c->linger_event != NULL ||
	    (bufferevent_get_enabled(c->bev) & EV_WRITE))
		return;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	if (c->want_drain) {
		bufferevent_enable(c->bev, EV_WRITE);
		return;
	}
	if (evbuffer_get_length(out) > 0) {
		/* A socket bufferevent keeps its output's front frozen but for
		 * its own writes; this is one of them. */
		evbuffer_unfreeze(out, 1);
		(void)evbuffer_write(out, bufferevent_getfd(c->bev));
		evbuffer_freeze(out, 1);
	}
	if (evbuffer_get_length(out) > 0) {
		bufferevent_enable(c->bev, EV_WRITE);
		return;
	}
	conn_output_drained(c);
}

static void conn_log_tls_error(struct conn *c)
{
	unsigned long e;
	while ((e = bufferevent_get_openssl_error(c->bev)) != 0) {
		char msg[200];
		ERR_error_string_n(e, msg, sizeof(msg));
		log_event(LOG_INFO, c->id, "tls_error", "reason=\"%s\"", msg);
	}
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		/* A TLS handshake completed. */
		SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
		if (ssl != NULL)
			log_event(LOG_INFO, c->id, "tls", "version=%s cipher=%s",
				  SSL_get_version(ssl), SSL_get_cipher_name(ssl));
		return;
	}
	if (c->free_scheduled)
		return;
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_TIMEOUT)) {
		/* While paused (conn_pause_input), it waits behind the input. */
		if (c->input_paused && !c->closing)
			c->eof_pending = true;
		else
			conn_end_of_input(c);
		return;
	}
	enum conn_event ev = CONN_EVENT_ERROR;
	if (what & BEV_EVENT_TIMEOUT) {
		ev = CONN_EVENT_TIMEOUT;
		/* No input while a command runs is not idleness. */
		if (c->input_paused && !c->closing) {
			bufferevent_enable(c->bev, EV_READ);
			return;
		}
	} else if (c->tls) {
		conn_log_tls_error(c);
	}
	if (c->close_after_flush) {
		conn_close(c);
		return;
	}
	c->proto->on_event(c, c->ctx, ev);
}

/* The client closed its side, and everything it sent before has been
 * handed to the protocol: what it was answered still goes out (it may be
 * reading yet: a script that sends its commands and shuts down its
 * sending side), then the connection closes. */
static void conn_end_of_input(struct conn *c)
{
	if (c->close_after_flush)
		conn_close(c);
	else
		conn_close_after_flush(c);
}

const char *conn_id(const struct conn *c) { return c->id; }
const char *conn_remote_ip(const struct conn *c) { return c->ip; }
unsigned conn_remote_port(const struct conn *c) { return c->port; }
unsigned conn_local_port(const struct conn *c) { return c->local_port; }
bool conn_is_tls(const struct conn *c) { return c->tls; }
bool conn_is_loopback(const struct conn *c) { return c->loopback; }
uint64_t conn_bytes_in(const struct conn *c) { return c->bytes_in; }
uint64_t conn_bytes_out(const struct conn *c) { return c->bytes_out; }
uint64_t conn_started_ms(const struct conn *c) { return c->started_ms; }
struct event_base *conn_event_base(const struct conn *c) { return c->worker->base; }
struct worker *conn_worker(const struct conn *c) { return c->worker; }
