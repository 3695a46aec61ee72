#include "imap/imap-session.h"
#include "imap/imap-access.h"
#include "imap/imap-capability.h"
#include "imap/imap-commands.h"
#include "imap/imap-compat.h"
#include "imap/imap-notify.h"
#include "imap/imap-parser.h"
#include "imap/imap-selected.h"
#include "ctl/ctl-session.h"
#include "lib/arena.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"
#include "net/conn.h"
#include "net/connlimit.h"
#include "net/server.h"
#include "store/store.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Limits before login are small and fixed: nothing an unauthenticated
 * client sends needs more (RFC 9051 §11.3 asks for care pre-auth). */
#define IMAP_PREAUTH_LINE_LENGTH 8192
#define IMAP_PREAUTH_ARGUMENTS 100
#define IMAP_PREAUTH_NESTING 8
/* Literals above this go to an unlinked temporary file, not memory. */
#define IMAP_LITERAL_MEMORY_MAX (256 * 1024)
/* Literals with at least this much still to come are read in bulk. */
#define IMAP_BULK_MIN (16 * 1024)
/* In-memory literals of one command together (SEARCH strings, many small
 * APPENDs); larger ones are in files and do not count. */
#define IMAP_LITERAL_MEMORY_TOTAL (8 * 1024 * 1024)

static void imap_session_process_input(struct imap_session *s);
static void imap_session_free(struct imap_session *s);

void imap_send_raw(struct imap_session *s, const void *data, size_t len)
{
	ctl_session_output(s->ctl, data, len);
	conn_write(s->conn, data, len);
}

static void imap_send_line(struct imap_session *s, struct buf *line)
{
	buf_append(line, "\r\n", 2);
	imap_send_raw(s, line->data, line->len);
}

void imap_send_untagged(struct imap_session *s, const char *fmt, ...)
{
	struct buf line = BUF_INIT;
	buf_append(&line, "* ", 2);
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&line, fmt, ap);
	va_end(ap);
	imap_send_line(s, &line);
	buf_free(&line);
}

/* --- Durability ----------------------------------------------------------- */

/* In petrel serve the store commits without waiting for the disk (store.h,
 * "Durability off the event loop"). A tagged answer acknowledges, so it
 * goes out only once the commits its command made are durable. This is the
 * one place that holds it back: after each step of a command and before
 * its answer the session takes the commits made meanwhile (they are its
 * own: nothing else runs on the worker during a step) and asks the sync
 * threads for them. While any is in flight the tagged line waits in
 * held_answer and the command stays in progress, so pipelined commands
 * behind it wait too and answers keep their order. Untagged responses are
 * not held: they may show a change before it is durable, as another
 * session's read may (docs/benchmarks.md, "Durable commits off the event
 * loop"). */

struct imap_sync_wait {
	struct imap_sync_wait *next;
	struct imap_session *session;   /* NULL once the session is gone */
	struct worker *worker;
	bool durable;
};

static void imap_session_release_answer(struct imap_session *s);

/* Back on the session's worker. */
static void imap_session_sync_returned(void *arg)
{
	struct imap_sync_wait *w = arg;
	struct imap_session *s = w->session;
	if (s != NULL) {
		struct imap_sync_wait **pp = &s->sync_waits;
		while (*pp != w)
			pp = &(*pp)->next;
		*pp = w->next;
		if (!w->durable)
			s->sync_failed = true;
	}
	free(w);
	if (s != NULL && s->sync_waits == NULL && s->answer_held)
		imap_session_release_answer(s);
}

/* On a sync thread. */
static void imap_session_sync_done(bool durable, void *context)
{
	struct imap_sync_wait *w = context;
	w->durable = durable;
	worker_post(w->worker, imap_session_sync_returned, w);
}

static void imap_session_sync_collect(struct imap_session *s)
{
	struct store_sync_ticket *ticket = store_sync_take();
	if (ticket == NULL)
		return;
	struct imap_sync_wait *w = xcalloc(1, sizeof(*w));
	w->session = s;
	w->worker = conn_worker(s->conn);
	/* Linked first: the answer is posted to this thread, so it is handled
	 * after this returns even when the sync finishes at once. */
	w->next = s->sync_waits;
	s->sync_waits = w;
	if (store_sync_request(&ticket, imap_session_sync_done, w)) {
		s->sync_waits = w->next;
		free(w);
	}
}

/* A sync failed: the change is in the store but may not survive a power
 * failure, so it is not acknowledged; the client sees the connection end,
 * as after a crash, and finds out what is there when it comes back. */
static void imap_session_withhold_answer(struct imap_session *s)
{
	s->sync_failed = false;
	log_event(LOG_ERROR, conn_id(s->conn), "answer_withheld",
		  "command=%s reason=sync_failed", s->cmd != NULL ? s->cmd->name : "-");
	imap_session_bye(s, "[UNAVAILABLE] Storage failure: the change may not have been saved");
}

static void imap_session_release_answer(struct imap_session *s)
{
	s->answer_held = false;
	if (s->sync_failed)
		imap_session_withhold_answer(s);
	else
		imap_send_raw(s, s->held_answer.data, s->held_answer.len);
	buf_reset(&s->held_answer);
	imap_session_cmd_finished(s);
}

/* The tagged line (CRLF added): sent, held or withheld. */
static void imap_session_answer(struct imap_session *s, struct buf *line)
{
	buf_append(line, "\r\n", 2);
	imap_session_sync_collect(s);
	if (s->sync_waits != NULL) {
		buf_append(&s->held_answer, line->data, line->len);
		s->answer_held = true;
	} else if (s->sync_failed) {
		imap_session_withhold_answer(s);
	} else {
		imap_send_raw(s, line->data, line->len);
	}
}

static void imap_cmd_tagged(struct imap_cmd *cmd, const char *status, const char *code,
			    const char *fmt, va_list ap)
{
	struct imap_session *s = cmd->session;
	/* Untagged updates go out before the completion (RFC 9051 §7.5.1);
	 * FETCH, STORE and SEARCH must not shift sequence numbers with an
	 * EXPUNGE (RFC 9051 §7.5.1, RFC 2180 §4.1), their UID forms may. */
	if (s->selected != NULL && s->state == IMAP_STATE_SELECTED && !cmd->no_sync)
		imap_selected_sync(s, !(cmd->flags & IMAP_CMDF_NO_EXPUNGE) || cmd->uid);
	struct buf line = BUF_INIT;
	buf_printf(&line, "%s %s ", cmd->tag, status);
	if (code != NULL)
		buf_printf(&line, "[%s] ", code);
	buf_vprintf(&line, fmt, ap);
	imap_session_answer(s, &line);
	buf_free(&line);
	cmd->done = true;
	ctl_session_answer(s->ctl, status);
	if (strcmp(status, "OK") != 0)
		log_event(LOG_DEBUG, conn_id(cmd->session->conn), "command_failed",
			  "command=%s status=%s code=%s", cmd->name, status, code ? code : "-");
}

void imap_cmd_ok(struct imap_cmd *cmd, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	imap_cmd_tagged(cmd, "OK", code, fmt, ap);
	va_end(ap);
}

void imap_cmd_no(struct imap_cmd *cmd, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	imap_cmd_tagged(cmd, "NO", code, fmt, ap);
	va_end(ap);
}

void imap_cmd_bad(struct imap_cmd *cmd, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	imap_cmd_tagged(cmd, "BAD", code, fmt, ap);
	va_end(ap);
}

void imap_session_bye(struct imap_session *s, const char *text)
{
	if (conn_is_closing(s->conn))
		return;
	imap_send_untagged(s, "BYE %s", text);
	s->state = IMAP_STATE_LOGOUT;
	conn_close_after_flush(s->conn);
}

bool imap_session_plaintext_disabled(const struct imap_session *s)
{
	return !conn_is_tls(s->conn) && !conn_is_loopback(s->conn) && !s->cfg->allow_plaintext;
}

/* --- Limits ------------------------------------------------------------- */

static void imap_session_apply_limits(struct imap_session *s)
{
	struct imap_parser_limits lim;
	imap_parser_limits_default(&lim);
	if (s->state == IMAP_STATE_NOT_AUTH) {
		lim.line_length = IMAP_PREAUTH_LINE_LENGTH < s->cfg->line_length
					  ? IMAP_PREAUTH_LINE_LENGTH : s->cfg->line_length;
		lim.literal_size = s->cfg->literal_size_preauth;
		lim.nonsync_literal_size = s->cfg->literal_size_preauth;
		lim.discard_size = s->cfg->literal_size_preauth;
		lim.arguments = IMAP_PREAUTH_ARGUMENTS;
		lim.nesting_depth = IMAP_PREAUTH_NESTING;
	} else {
		lim.line_length = s->cfg->line_length;
		lim.literal_size = IMAP_LITERAL_MEMORY_TOTAL;
		/* LITERAL+ after login: non-synchronising literals as large as
		 * an APPEND may be (RFC 7888 §4). */
		lim.nonsync_literal_size = s->cfg->append_size;
		lim.arguments = s->cfg->arguments;
		lim.nesting_depth = s->cfg->nesting_depth;
	}
	imap_parser_set_limits(s->parser, &lim);
}

/* Decides where a literal goes before the client sends it: large ones to an
 * unlinked temporary file (APPEND streams, DESIGN.md §5), and anything over
 * APPENDLIMIT refused with TOOBIG before a byte of it is sent. */
static enum imap_literal_dest imap_session_literal_policy(void *context,
							  const struct imap_literal_request *req,
							  struct imap_literal_answer *answer_r)
{
	struct imap_session *s = context;
	if (s->state == IMAP_STATE_NOT_AUTH) {
		if (req->size > s->cfg->literal_size_preauth) {
			answer_r->code = "TOOBIG";
			answer_r->message = "Literal too large before login";
			return IMAP_LITERAL_REJECT;
		}
		return IMAP_LITERAL_MEMORY;
	}
	if (req->size > s->cfg->append_size) {
		answer_r->code = "TOOBIG";
		answer_r->message = "Literal larger than APPENDLIMIT";
		return IMAP_LITERAL_REJECT;
	}
	if (req->size <= IMAP_LITERAL_MEMORY_MAX)
		return IMAP_LITERAL_MEMORY;
	int fd;
	const char *error;
	if (store_tmp_file_open(s->cfg->data_dir, &fd, &error) != STORE_OK) {
		log_event(LOG_ERROR, conn_id(s->conn), "literal_tmpfile", "error=%s",
			  log_str(s->cmd_arena, error));
		answer_r->code = "SERVERBUG";
		answer_r->message = "Cannot store literal";
		return IMAP_LITERAL_REJECT;
	}
	if (s->literal_fd_count < IMAP_SESSION_MAX_LITERAL_FDS) {
		s->literal_fds[s->literal_fd_count++] = fd;
	} else {
		close(fd);
		answer_r->code = "LIMIT";
		answer_r->message = "Too many large literals in one command";
		return IMAP_LITERAL_REJECT;
	}
	answer_r->fd = fd;
	return IMAP_LITERAL_FILE;
}

static void imap_session_close_literal_fds(struct imap_session *s)
{
	for (unsigned i = 0; i < s->literal_fd_count; i++)
		close(s->literal_fds[i]);
	s->literal_fd_count = 0;
}

/* --- Commands ----------------------------------------------------------- */

static void imap_session_cmd_complete(struct imap_session *s)
{
	/* Its answer waits for durability: completed by the release. */
	if (s->answer_held)
		return;
	struct imap_cmd *cmd = s->cmd;
	uint64_t us = time_mono_us() - cmd->started_us;
	log_event(LOG_DEBUG, conn_id(s->conn), "command", "name=%s duration_us=%llu",
		  cmd->name, (unsigned long long)us);
	/* Statistics count names from the command table only: a client must
	 * not be able to grow them. */
	ctl_session_command_done(s->ctl, cmd->tag, cmd->name,
				 imap_command_find(cmd->name) != NULL ? cmd->name : "UNKNOWN", us,
				 s->client_id);
	s->cmd = NULL;
	imap_session_close_literal_fds(s);
	arena_reset(s->cmd_arena);
	if (s->state == IMAP_STATE_LOGOUT)
		conn_close_after_flush(s->conn);
	else if (s->shutdown_requested)
		imap_session_bye(s, "Server shutting down");
}

static void imap_session_handle_result(struct imap_session *s, enum imap_cmd_result r)
{
	struct imap_cmd *cmd = s->cmd;
	/* The end of a step: what it committed starts syncing now. */
	imap_session_sync_collect(s);
	if (r == IMAP_CMD_DONE || cmd->done) {
		imap_session_cmd_complete(s);
		return;
	}
	if (r == IMAP_CMD_MORE)
		conn_want_drain(s->conn);
	/* IMAP_CMD_WAIT: the handler calls imap_session_cmd_finished(). */
}

void imap_session_cmd_finished(struct imap_session *s)
{
	if (s->cmd != NULL)
		imap_session_cmd_complete(s);
	imap_session_process_input(s);
}

static void imap_session_dispatch(struct imap_session *s, const struct imap_command *pc)
{
	struct imap_cmd *cmd = arena_zalloc(s->cmd_arena, sizeof(*cmd));
	cmd->session = s;
	cmd->tag = arena_strdup(s->cmd_arena, pc->tag);
	cmd->name = arena_strdup(s->cmd_arena, pc->name);
	cmd->uid = pc->uid;
	cmd->args = pc->args;
	cmd->arg_count = pc->args_count;
	cmd->arena = s->cmd_arena;
	cmd->started_us = time_mono_us();
	s->cmd = cmd;
	s->commands++;

	const struct imap_command_def *def = imap_command_find(pc->name);
	if (def != NULL && imap_cap_hidden(s, imap_command_caps(def->name)))
		def = NULL; /* an extension hidden from this client */
	if (def != NULL)
		cmd->flags = def->flags;
	if (def == NULL) {
		imap_cmd_bad(cmd, NULL, "Unknown command %s", pc->name);
	} else if (pc->uid && !(def->flags & (IMAP_CMDF_UID | IMAP_CMDF_UID_ONLY))) {
		imap_cmd_bad(cmd, NULL, "UID cannot be used with %s", pc->name);
	} else if (!pc->uid && (def->flags & IMAP_CMDF_UID_ONLY)) {
		imap_cmd_bad(cmd, NULL, "%s needs the UID prefix", pc->name);
	} else if (!(def->states & s->state)) {
		imap_cmd_bad(cmd, NULL, "%s not allowed %s", pc->name,
			     s->state == IMAP_STATE_NOT_AUTH ? "before login"
			     : s->state == IMAP_STATE_AUTH ? "without a selected mailbox"
			     : "in this state");
	} else {
		/* A UID command may see EXPUNGEs (RFC 9051 §7.5.1): catch up
		 * first, so it does not trip over messages already gone. */
		if (pc->uid && s->selected != NULL)
			imap_selected_sync(s, true);
		imap_session_handle_result(s, def->handler(cmd));
		return;
	}
	imap_session_cmd_complete(s);
}

static void imap_session_parse_error(struct imap_session *s, bool fatal)
{
	struct imap_parser_error err;
	imap_parser_get_error(s->parser, &err);
	struct buf line = BUF_INIT;
	if (fatal)
		buf_append_str(&line, "* BYE ");
	else if (err.tag != NULL)
		/* A refused APPEND literal is a NO [TOOBIG] (RFC 7889 §4);
		 * every other lexical problem is a BAD. */
		buf_printf(&line, "%s %s ", err.tag,
			   err.code != NULL && strcmp(err.code, "TOOBIG") == 0 &&
					   err.name != NULL && strcmp(err.name, "APPEND") == 0
				   ? "NO" : "BAD");
	else
		buf_append_str(&line, "* BAD ");
	if (err.code != NULL)
		buf_printf(&line, "[%s] ", err.code);
	buf_append_str(&line, err.message);
	imap_send_line(s, &line);
	buf_free(&line);
	imap_session_close_literal_fds(s);
	ctl_session_syntax_error(s->ctl, s->client_id);
	log_event(LOG_DEBUG, conn_id(s->conn), "parse_error", "fatal=%d code=%s", fatal,
		  err.code ? err.code : "-");
	if (fatal) {
		s->state = IMAP_STATE_LOGOUT;
		conn_close_after_flush(s->conn);
	}
}

/* --- Input -------------------------------------------------------------- */

/* Feeds one raw line to a command waiting for client lines. */
static void imap_session_feed_line(struct imap_session *s, const unsigned char *data,
				   size_t len, size_t *consumed_r)
{
	const char *line;
	size_t line_len;
	enum imap_parse_result r =
		imap_parser_read_line(s->parser, data, len, consumed_r, &line, &line_len);
	/* Every line an AUTHENTICATE exchange reads is a SASL secret. */
	ctl_session_input(s->ctl, data, *consumed_r,
			  strcmp(s->cmd->name, "AUTHENTICATE") == 0 ? CTL_SESSION_INPUT_SECRET_LINE
								   : CTL_SESSION_INPUT_LINE);
	if (r == IMAP_PARSE_LINE) {
		imap_session_handle_result(s, s->cmd->on_line(s->cmd, (const unsigned char *)line,
								line_len));
	} else if (r == IMAP_PARSE_ERROR) {
		imap_cmd_bad(s->cmd, NULL, "Line too long");
		if (s->cmd->on_abort != NULL)
			s->cmd->on_abort(s->cmd);
		imap_session_cmd_complete(s);
	}
}

static void imap_session_feed_command(struct imap_session *s, const unsigned char *data,
				      size_t len, size_t *consumed_r)
{
	bool command_start = imap_parser_is_idle(s->parser);
	enum imap_parse_result r = imap_parser_feed(s->parser, data, len, consumed_r);
	/* The trace sees the bytes before what they cause (a "+", an answer). */
	ctl_session_input(s->ctl, data, *consumed_r,
			  command_start ? CTL_SESSION_INPUT_COMMAND_START : CTL_SESSION_INPUT_COMMAND);
	switch (r) {
	case IMAP_PARSE_NEED_MORE:
	case IMAP_PARSE_LINE:
		break;
	case IMAP_PARSE_CONTINUE:
		imap_send_raw(s, "+ Ready for literal data\r\n", 26);
		break;
	case IMAP_PARSE_COMMAND:
		imap_session_dispatch(s, imap_parser_get_command(s->parser));
		break;
	case IMAP_PARSE_ERROR:
		imap_session_parse_error(s, false);
		break;
	case IMAP_PARSE_FATAL:
		imap_session_parse_error(s, true);
		break;
	}
}

/* Literal bytes read in one go, straight from the socket (conn_read_bulk),
 * and the most one wakeup reads, so that one large upload does not hold
 * up the other connections of the worker. */
#define IMAP_BULK_READ (128 * 1024)
#define IMAP_BULK_PER_WAKEUP (4 * 1024 * 1024)

/* Large literals arrive faster read in large pieces: libevent reads 4 KB
 * per wakeup, which for a 2 MB message was 512 wakeups, reads and writes
 * to the literal's file. Called once the input buffer is used up. */
static void imap_session_read_literal_bulk(struct imap_session *s)
{
	static _Thread_local unsigned char bulk[IMAP_BULK_READ];
	size_t total = 0;
	while (s->cmd == NULL && total < IMAP_BULK_PER_WAKEUP) {
		uint64_t remaining = imap_parser_literal_remaining(s->parser);
		if (remaining < IMAP_BULK_MIN)
			return;
		size_t want = remaining < sizeof(bulk) ? (size_t)remaining : sizeof(bulk);
		size_t got = conn_read_bulk(s->conn, bulk, want);
		if (got == 0)
			return;
		total += got;
		size_t used = 0;
		while (used < got && s->cmd == NULL && !conn_is_closing(s->conn)) {
			size_t consumed = 0;
			imap_session_feed_command(s, bulk + used, got - used, &consumed);
			if (consumed == 0)
				break;
			used += consumed;
		}
		/* Only at the literal's end can a command be dispatched, and
		 * nothing past its end was read; kept for the usual path if
		 * ever otherwise. */
		if (used < got)
			evbuffer_prepend(conn_input(s->conn), bulk + used, got - used);
	}
}

/* Consumes buffered input until it runs out, a command has to wait, or the
 * output is over its high-water mark (a client that pipelines without
 * reading must not make us buffer without bound). */
static void imap_session_process_input(struct imap_session *s)
{
	struct evbuffer *in = conn_input(s->conn);
	for (;;) {
		if (conn_is_closing(s->conn))
			return;
		bool blocked = (s->cmd != NULL && (s->cmd->on_line == NULL || s->cmd->done));
		if (!blocked && conn_output_full(s->conn)) {
			conn_want_drain(s->conn);
			blocked = true;
		}
		if (blocked) {
			if (!s->input_waiting) {
				s->input_waiting = true;
				conn_pause_input(s->conn);
			}
			return;
		}
		struct evbuffer_iovec v;
		if (evbuffer_get_length(in) == 0 || evbuffer_peek(in, -1, NULL, &v, 1) < 1) {
			if (s->cmd == NULL)
				imap_session_read_literal_bulk(s);
			if (evbuffer_get_length(in) == 0)
				break;
			continue;
		}
		size_t consumed = 0;
		if (s->cmd != NULL)
			imap_session_feed_line(s, v.iov_base, v.iov_len, &consumed);
		else
			imap_session_feed_command(s, v.iov_base, v.iov_len, &consumed);
		evbuffer_drain(in, consumed);
	}
	if (s->input_waiting) {
		s->input_waiting = false;
		conn_resume_input(s->conn);
	}
}

/* --- Connection callbacks ------------------------------------------------ */

static void imap_session_preauth_expired(evutil_socket_t fd, short what, void *arg)
{
	struct imap_session *s = arg;
	(void)fd;
	(void)what;
	if (s->state == IMAP_STATE_NOT_AUTH && s->cmd == NULL) {
		log_event(LOG_INFO, conn_id(s->conn), "timeout", "state=preauth");
		imap_session_bye(s, "Login timeout");
	}
}

/* What `petrel ctl sessions` shows and how `petrel ctl kick` ends us. */
static void imap_session_ctl_describe(void *ctx, struct ctl_session_facts *facts_r)
{
	struct imap_session *s = ctx;
	facts_r->state = s->state == IMAP_STATE_NOT_AUTH ? "not_authenticated"
			 : s->state == IMAP_STATE_AUTH ? "authenticated"
			 : s->state == IMAP_STATE_SELECTED ? "selected" : "logout";
	facts_r->mailbox = s->selected != NULL ? s->selected->name : NULL;
	facts_r->client_id = s->client_id;
	static _Thread_local char workarounds[256];
	facts_r->workarounds = imap_compat_names(s, workarounds, sizeof(workarounds));
	facts_r->commands = s->commands;
}

static void imap_session_ctl_kick(void *ctx, const char *reason)
{
	imap_session_bye(ctx, reason);
}

static const struct ctl_session_ops imap_session_ctl_ops = {
	.describe = imap_session_ctl_describe,
	.kick = imap_session_ctl_kick,
};

static void *imap_session_accept(struct conn *c)
{
	const struct petrel_config *cfg = server_config();
	struct imap_session *s = xcalloc(1, sizeof(*s));
	s->conn = c;
	s->cfg = cfg;
	s->state = IMAP_STATE_NOT_AUTH;
	s->cmd_arena = arena_new(0);
	s->parser = imap_parser_new(NULL);
	imap_parser_set_literal_callback(s->parser, imap_session_literal_policy, s);
	imap_session_apply_limits(s);
	conn_set_read_timeout(c, cfg->timeout_preauth);
	/* The read timeout restarts with every byte; a client dripping one
	 * byte a second must still log in within the same time. */
	struct timeval tv = { .tv_sec = cfg->timeout_preauth };
	s->preauth_timer = evtimer_new(conn_event_base(c), imap_session_preauth_expired, s);
	evtimer_add(s->preauth_timer, &tv);

	log_event(LOG_INFO, conn_id(c), "connect", "remote=%s port=%u local_port=%u tls=%d",
		  conn_remote_ip(c), conn_remote_port(c), conn_local_port(c), conn_is_tls(c));
	s->ctl = ctl_session_new(c, &imap_session_ctl_ops, s);
	imap_capability_refresh(s);
	imap_compat_refresh(s);
	struct buf line = BUF_INIT;
	buf_append_str(&line, "* OK [CAPABILITY ");
	imap_capability_append(s, &line);
	buf_append_str(&line, "] Petrel ready");
	imap_send_line(s, &line);
	buf_free(&line);
	return s;
}

static void imap_session_on_input(struct conn *c, void *ctx)
{
	(void)c;
	imap_session_process_input(ctx);
}

static void imap_session_on_drain(struct conn *c, void *ctx)
{
	struct imap_session *s = ctx;
	(void)c;
	if (s->cmd != NULL && s->cmd->resume != NULL && !s->cmd->done) {
		imap_session_handle_result(s, s->cmd->resume(s->cmd));
		if (s->cmd != NULL)
			return;
	}
	if (s->shutdown_requested && s->cmd == NULL) {
		imap_session_bye(s, "Server shutting down");
		return;
	}
	imap_session_process_input(s);
}

static void imap_session_on_event(struct conn *c, void *ctx, enum conn_event ev)
{
	struct imap_session *s = ctx;
	if (ev == CONN_EVENT_TIMEOUT) {
		log_event(LOG_INFO, conn_id(c), "timeout", "state=%s",
			  s->state == IMAP_STATE_NOT_AUTH ? "preauth" : "authenticated");
		imap_session_bye(s, "Autologout; idle for too long");
		return;
	}
	conn_close(c);
}

static void imap_session_on_shutdown(struct conn *c, void *ctx)
{
	struct imap_session *s = ctx;
	(void)c;
	s->shutdown_requested = true;
	/* A command in flight finishes first; its completion says goodbye. */
	if (s->cmd == NULL || (s->cmd->on_line != NULL && !s->cmd->done))
		imap_session_bye(s, "Server shutting down");
}

static void imap_session_on_free(struct conn *c, void *ctx)
{
	struct imap_session *s = ctx;
	log_event(LOG_INFO, conn_id(c), "disconnect",
		  "user=%s bytes_in=%llu bytes_out=%llu duration_ms=%llu commands=%llu",
		  s->user ? s->user : "-", (unsigned long long)conn_bytes_in(c),
		  (unsigned long long)conn_bytes_out(c),
		  (unsigned long long)(time_wall_ms() - conn_started_ms(c)),
		  (unsigned long long)s->commands);
	imap_session_free(s);
}

static void imap_session_free(struct imap_session *s)
{
	if (s->cmd != NULL && s->cmd->on_abort != NULL)
		s->cmd->on_abort(s->cmd);
	/* After the abort, which may still answer. */
	ctl_session_free(&s->ctl);
	for (struct imap_sync_wait *w = s->sync_waits; w != NULL; w = w->next)
		w->session = NULL; /* each is freed when its sync returns */
	buf_free(&s->held_answer);
	imap_session_close_literal_fds(s);
	imap_selected_free(&s->selected);
	if (s->preauth_timer != NULL)
		event_free(s->preauth_timer);
	if (s->user_limit_key != NULL)
		connlimit_release(s->user_limit_key);
	imap_parser_destroy(&s->parser);
	arena_destroy(&s->cmd_arena);
	buf_free(&s->out);
	for (size_t i = 0; i < s->group_count; i++)
		free(s->groups[i]);
	free(s->groups);
	free(s->user);
	free(s->user_limit_key);
	free(s->client_id);
	free(s->client_name);
	free(s->client_version);
	free(s);
}

const struct conn_protocol imap_protocol_plain = {
	.name = "imap",
	.implicit_tls = false,
	.on_accept = imap_session_accept,
	.on_input = imap_session_on_input,
	.on_drain = imap_session_on_drain,
	.on_event = imap_session_on_event,
	.on_shutdown = imap_session_on_shutdown,
	.on_free = imap_session_on_free,
	.limit_message = "* BYE [UNAVAILABLE] Too many connections\r\n",
};

const struct conn_protocol imap_protocol_tls = {
	.name = "imaps",
	.implicit_tls = true,
	.on_accept = imap_session_accept,
	.on_input = imap_session_on_input,
	.on_drain = imap_session_on_drain,
	.on_event = imap_session_on_event,
	.on_shutdown = imap_session_on_shutdown,
	.on_free = imap_session_on_free,
	.limit_message = "* BYE [UNAVAILABLE] Too many connections\r\n",
};

/* --- Login and the store -------------------------------------------------- */

/* Each worker thread keeps its own bounded cache of open user stores
 * (DESIGN.md §3); sessions look their store up per command. */
#define IMAP_STORE_CACHE_HANDLES 64

static _Thread_local struct store_cache *imap_store_cache;

void imap_worker_init(struct worker *w)
{
	(void)w;
	imap_store_cache = store_cache_new(server_config()->data_dir, IMAP_STORE_CACHE_HANDLES);
	imap_notify_worker_init();
}

void imap_worker_deinit(struct worker *w)
{
	(void)w;
	store_cache_destroy(&imap_store_cache);
	imap_notify_worker_deinit();
}

struct store_user *imap_session_store(struct imap_session *s, const char **error_r)
{
	return imap_session_store_of(s, s->user, error_r);
}

struct store_user *imap_session_store_of(struct imap_session *s, const char *owner,
					 const char **error_r)
{
	struct store_user *u = NULL;
	if (store_cache_get(imap_store_cache, owner, &u, error_r) != STORE_OK)
		return NULL;
	store_user_set_viewer(u, s->user);
	return u;
}

/* Group membership for ACLs is read once, at login (docs/sharing.md). */
static void imap_session_load_groups(struct imap_session *s)
{
	const char **groups;
	size_t count;
	const char *error;
	if (store_user_groups(s->cfg->data_dir, s->user, s->cmd_arena, &groups, &count,
			      &error) != STORE_OK) {
		log_event(LOG_WARN, conn_id(s->conn), "groups_unavailable", "user=%s error=%s",
			  log_str(s->cmd_arena, s->user), log_str(s->cmd_arena, error));
		return;
	}
	s->groups = xcalloc(count + 1, sizeof(*s->groups));
	for (size_t i = 0; i < count; i++)
		s->groups[i] = xstrdup(groups[i]);
	s->group_count = count;
}

bool imap_session_login(struct imap_cmd *cmd, const char *user)
{
	struct imap_session *s = cmd->session;
	struct buf key = BUF_INIT;
	buf_printf(&key, "%s\n%s", user, conn_remote_ip(s->conn));
	if (!connlimit_acquire(buf_cstr(&key), s->cfg->max_connections_per_user_address)) {
		log_event(LOG_WARN, conn_id(s->conn), "login_refused",
			  "reason=per_user_address_limit user=%s", log_str(s->cmd_arena, user));
		buf_free(&key);
		imap_cmd_no(cmd, "LIMIT", "Too many connections for this user from your address");
		return false;
	}
	s->user_limit_key = xstrndup(buf_cstr(&key), key.len);
	buf_free(&key);
	s->user = xstrdup(user);
	const char *error;
	if (imap_session_store(s, &error) == NULL) {
		log_event(LOG_ERROR, conn_id(s->conn), "store_open_failed", "user=%s error=%s",
			  log_str(s->cmd_arena, user), log_str(s->cmd_arena, error));
		connlimit_release(s->user_limit_key);
		free(s->user_limit_key);
		free(s->user);
		s->user_limit_key = NULL;
		s->user = NULL;
		imap_cmd_no(cmd, "UNAVAILABLE", "Mail store unavailable, try again later");
		return false;
	}
	imap_session_load_groups(s);
	s->state = IMAP_STATE_AUTH;
	imap_capability_refresh(s);
	imap_compat_refresh(s);
	ctl_session_login(s->ctl, user, cmd->name);
	evtimer_del(s->preauth_timer);
	conn_set_read_timeout(s->conn, s->cfg->timeout_authenticated);
	imap_session_apply_limits(s);
	log_event(LOG_INFO, conn_id(s->conn), "login", "user=%s remote=%s tls=%d client=%s",
		  log_str(s->cmd_arena, user), conn_remote_ip(s->conn), conn_is_tls(s->conn),
		  s->client_id ? log_str(s->cmd_arena, s->client_id) : "-");
	return true;
}
