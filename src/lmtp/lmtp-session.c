/* An LMTP connection: greeting, the command-line reader with its limit,
 * backpressure and the connection's life cycle. Commands are in
 * lmtp-commands.c, the message data in lmtp-data.c. */

#include "lmtp/lmtp-session.h"
#include "lmtp/lmtp-private.h"
#include "lmtp/lmtp-trace.h"

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"
#include "net/conn.h"
#include "net/server.h"

#include <event2/buffer.h>
#include <stdarg.h>
#include <string.h>

void lmtp_reply(struct lmtp_session *s, const char *fmt, ...)
{
	struct buf line = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&line, fmt, ap);
	va_end(ap);
	buf_append(&line, "\r\n", 2);
	conn_write(s->conn, line.data, line.len);
	buf_free(&line);
}

void lmtp_reply_overquota(struct lmtp_session *s, const char *address)
{
	/* RFC 3463 X.2.2: mailbox full. */
	if (s->cfg->quota_overquota_tempfail)
		lmtp_reply(s, "452 4.2.2 <%s> Mailbox full, try again later", address);
	else
		lmtp_reply(s, "552 5.2.2 <%s> Mailbox full", address);
}

void lmtp_session_reset(struct lmtp_session *s)
{
	s->sender = NULL;
	s->declared_size = 0;
	s->rcpt_count = 0;
	arena_reset(s->txn_arena);
}

void lmtp_session_goodbye(struct lmtp_session *s, const char *status, const char *text)
{
	if (conn_is_closing(s->conn))
		return;
	lmtp_reply(s, "421 %s %s %s", status, lmtp_trace_hostname(), text);
	conn_close_after_flush(s->conn);
}

/* Skips the rest of an over-long line; true once its end was found (the
 * one reply for it has then been sent). */
static bool lmtp_session_skip_line(struct lmtp_session *s, struct evbuffer *in,
				   struct evbuffer_ptr eol)
{
	if (eol.pos < 0) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return false;
	}
	evbuffer_drain(in, (size_t)eol.pos + 1);
	s->skipping_line = false;
	/* RFC 5321 §4.5.3.1.4 / §4.2.4 (5.5.2: syntax error), answered once
	 * the whole line is in so that replies stay in pipelining order. */
	lmtp_reply(s, "500 5.5.2 Line too long");
	return true;
}

/* Reads and runs one command line. Returns false when no complete line is
 * buffered yet. */
static bool lmtp_session_read_line(struct lmtp_session *s, struct evbuffer *in)
{
	size_t eol_len;
	struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
	size_t line_len = eol.pos >= 0 ? (size_t)eol.pos + 1 : evbuffer_get_length(in);
	if (s->skipping_line || line_len > LMTP_LINE_MAX) {
		s->skipping_line = true;
		return lmtp_session_skip_line(s, in, eol);
	}
	if (eol.pos < 0)
		return false;
	char line[LMTP_LINE_MAX + 1];
	evbuffer_remove(in, line, line_len);
	line_len--;
	if (line_len > 0 && line[line_len - 1] == '\r')
		line_len--;
	line[line_len] = '\0';
	if (memchr(line, '\0', line_len) != NULL) {
		lmtp_reply(s, "500 5.5.2 Syntax error");
		return true;
	}
	lmtp_command_run(s, line);
	return true;
}

/* Runs buffered input until it runs out, output is over its high-water
 * mark (a client pipelining without reading replies must not make us
 * buffer without bound) or a message's replies wait for durability. */
static void lmtp_session_process_input(struct lmtp_session *s)
{
	struct evbuffer *in = conn_input(s->conn);
	while (!conn_is_closing(s->conn)) {
		bool output_full = conn_output_full(s->conn);
		if (output_full || s->sync_wait != NULL) {
			if (output_full)
				conn_want_drain(s->conn);
			if (!s->input_waiting) {
				s->input_waiting = true;
				conn_pause_input(s->conn);
			}
			return;
		}
		if (evbuffer_get_length(in) == 0)
			break;
		bool progressed = s->state == LMTP_STATE_DATA ? lmtp_data_feed(s, in)
							      : lmtp_session_read_line(s, in);
		if (!progressed)
			break;
	}
	if (s->input_waiting && !conn_is_closing(s->conn)) {
		s->input_waiting = false;
		conn_resume_input(s->conn);
	}
}

void lmtp_session_continue(struct lmtp_session *s)
{
	lmtp_session_process_input(s);
}

static void *lmtp_session_accept(struct conn *c)
{
	struct lmtp_session *s = xcalloc(1, sizeof(*s));
	s->conn = c;
	s->cfg = server_config();
	s->txn_arena = arena_new(0);
	conn_set_read_timeout(c, LMTP_TIMEOUT_S);
	log_event(LOG_INFO, conn_id(c), "connect", "proto=lmtp remote=%s port=%u",
		  conn_remote_ip(c), conn_remote_port(c));
	lmtp_reply(s, "220 %s Petrel LMTP ready", lmtp_trace_hostname());
	return s;
}

static void lmtp_session_on_input(struct conn *c, void *ctx)
{
	(void)c;
	lmtp_session_process_input(ctx);
}

static void lmtp_session_on_drain(struct conn *c, void *ctx)
{
	(void)c;
	lmtp_session_process_input(ctx);
}

static void lmtp_session_on_event(struct conn *c, void *ctx, enum conn_event ev)
{
	if (ev == CONN_EVENT_TIMEOUT) {
		log_event(LOG_INFO, conn_id(c), "timeout", "proto=lmtp");
		lmtp_session_goodbye(ctx, "4.4.2", "Timeout, closing connection");
		return;
	}
	conn_close(c);
}

static void lmtp_session_on_shutdown(struct conn *c, void *ctx)
{
	struct lmtp_session *s = ctx;
	(void)c;
	s->shutdown_requested = true;
	/* A message being received, or whose replies wait for durability, is
	 * finished first (lmtp-data.c). */
	if (s->state != LMTP_STATE_DATA && s->sync_wait == NULL)
		lmtp_session_goodbye(s, "4.3.2", "Service shutting down");
}

static void lmtp_session_on_free(struct conn *c, void *ctx)
{
	struct lmtp_session *s = ctx;
	log_event(LOG_INFO, conn_id(c), "disconnect",
		  "proto=lmtp bytes_in=%llu bytes_out=%llu duration_ms=%llu transactions=%llu",
		  (unsigned long long)conn_bytes_in(c), (unsigned long long)conn_bytes_out(c),
		  (unsigned long long)(time_wall_ms() - conn_started_ms(c)),
		  (unsigned long long)s->transactions);
	lmtp_data_abort(s);
	lmtp_data_orphan(s);
	arena_destroy(&s->txn_arena);
	free(s->rcpts);
	free(s->helo);
	free(s);
}

const struct conn_protocol lmtp_protocol = {
	.name = "lmtp",
	.implicit_tls = false,
	.on_accept = lmtp_session_accept,
	.on_input = lmtp_session_on_input,
	.on_drain = lmtp_session_on_drain,
	.on_event = lmtp_session_on_event,
	.on_shutdown = lmtp_session_on_shutdown,
	.on_free = lmtp_session_on_free,
	.limit_message = "421 4.7.0 Too many connections, try again later\r\n",
};
