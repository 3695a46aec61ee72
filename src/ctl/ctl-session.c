#include "ctl/ctl-session.h"
#include "ctl/ctl-stats.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"
#include "net/conn.h"

#include <string.h>
#include <time.h>

static unsigned ctl_session_slow_ms = 1000;
/* The calling worker's records (each worker thread has its own list). */
static _Thread_local struct ctl_session *ctl_session_list;

void ctl_session_configure(unsigned slow_command_ms)
{
	ctl_session_slow_ms = slow_command_ms;
}

void ctl_session_foreach(void (*fn)(struct ctl_session *cs, void *arg), void *arg)
{
	struct ctl_session *cs = ctl_session_list;
	while (cs != NULL) {
		struct ctl_session *next = cs->next;
		fn(cs, arg);
		cs = next;
	}
}

void ctl_session_client_name(const char *client_id, char *out, size_t size)
{
	size_t n = 0;
	for (const char *p = client_id; p != NULL && *p != '\0' && *p != '/' && n + 1 < size; p++)
		out[n++] = (*p > ' ' && *p < 0x7f) ? *p : '_';
	out[n] = '\0';
}

/* A value for a "--" event line: as is when plain, else quoted like log
 * values, so that a client's ID cannot fake an event. */
static void ctl_session_value(struct buf *out, const char *value)
{
	struct arena *a = arena_new(0);
	buf_append_str(out, value != NULL ? log_str(a, value) : "-");
	arena_destroy(&a);
}

static void ctl_session_format_time(struct buf *out, uint64_t ms)
{
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&sec, &tm);
	buf_printf(out, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
		   tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000));
}

static void ctl_session_trace_start(struct ctl_session *cs, size_t literal_bytes, bool at_connect)
{
	const char *error;
	cs->trace = ctl_trace_open(conn_id(cs->conn), cs->user, literal_bytes, &error);
	if (cs->trace == NULL) {
		log_event(LOG_ERROR, conn_id(cs->conn), "trace_open_failed", "dir=%s error=\"%s\"",
			  ctl_trace_dir(), error);
		return;
	}
	cs->out_seen = conn_bytes_out(cs->conn);
	struct buf ev = BUF_INIT;
	buf_printf(&ev, "%s session=%s remote=%s port=%u local_port=%u tls=%s",
		   at_connect ? "connect" : "trace started", conn_id(cs->conn),
		   conn_remote_ip(cs->conn), conn_remote_port(cs->conn), conn_local_port(cs->conn),
		   conn_is_tls(cs->conn) ? "yes" : "no");
	if (!at_connect) {
		struct ctl_session_facts facts = { 0 };
		cs->ops->describe(cs->ctx, &facts);
		buf_append_str(&ev, " connected=");
		ctl_session_format_time(&ev, conn_started_ms(cs->conn));
		buf_append_str(&ev, " user=");
		ctl_session_value(&ev, cs->user);
		buf_append_str(&ev, " client=");
		ctl_session_value(&ev, facts.client_id);
		buf_printf(&ev, " state=%s mailbox=", facts.state);
		ctl_session_value(&ev, facts.mailbox);
	}
	buf_printf(&ev, " literal_bytes=%zu", literal_bytes);
	ctl_trace_event(cs->trace, "%s", buf_cstr(&ev));
	buf_free(&ev);
	log_event(LOG_INFO, conn_id(cs->conn), "trace_started", "path=%s",
		  ctl_trace_path(cs->trace));
}

static void ctl_session_trace_stop(struct ctl_session *cs, const char *why)
{
	ctl_trace_event(cs->trace, "trace stopped (%s)", why);
	log_event(LOG_INFO, conn_id(cs->conn), "trace_stopped", "path=%s reason=%s",
		  ctl_trace_path(cs->trace), why);
	ctl_trace_close(&cs->trace);
}

/* Starts, adjusts or stops tracing as the rules now say. */
static void ctl_session_apply_rules(struct ctl_session *cs, bool at_connect)
{
	size_t literal_bytes = 0;
	bool on = atomic_load_explicit(&ctl_trace_rules_count, memory_order_acquire) > 0 &&
		  ctl_trace_rules_match(cs->user, conn_remote_ip(cs->conn), &literal_bytes);
	if (on && cs->trace == NULL)
		ctl_session_trace_start(cs, literal_bytes, at_connect);
	else if (on)
		ctl_trace_set_literal_bytes(cs->trace, literal_bytes);
	else if (cs->trace != NULL)
		ctl_session_trace_stop(cs, "switched off");
}

struct ctl_session *ctl_session_new(struct conn *c, const struct ctl_session_ops *ops, void *ctx)
{
	struct ctl_session *cs = xcalloc(1, sizeof(*cs));
	cs->conn = c;
	cs->ops = ops;
	cs->ctx = ctx;
	cs->last_input_ms = time_wall_ms();
	cs->trace_generation = ctl_trace_generation();
	cs->next = ctl_session_list;
	if (ctl_session_list != NULL)
		ctl_session_list->prev = cs;
	ctl_session_list = cs;
	ctl_stats_connection();
	ctl_session_apply_rules(cs, true);
	return cs;
}

void ctl_session_free(struct ctl_session **csp)
{
	struct ctl_session *cs = *csp;
	if (cs == NULL)
		return;
	*csp = NULL;
	ctl_stats_bytes(conn_bytes_in(cs->conn), conn_bytes_out(cs->conn));
	if (cs->trace != NULL) {
		uint64_t sent = conn_bytes_out(cs->conn);
		if (sent > cs->out_seen)
			ctl_trace_server_unseen(cs->trace, sent - cs->out_seen);
		ctl_trace_event(cs->trace, "disconnect bytes_in=%llu bytes_out=%llu duration_ms=%llu",
				(unsigned long long)conn_bytes_in(cs->conn),
				(unsigned long long)sent,
				(unsigned long long)(time_wall_ms() - conn_started_ms(cs->conn)));
		ctl_trace_close(&cs->trace);
	}
	if (cs->prev != NULL)
		cs->prev->next = cs->next;
	else
		ctl_session_list = cs->next;
	if (cs->next != NULL)
		cs->next->prev = cs->prev;
	free(cs->user);
	free(cs);
}

void ctl_session_input(struct ctl_session *cs, const void *data, size_t len,
		       enum ctl_session_input kind)
{
	cs->last_input_ms = time_wall_ms();
	if (kind == CTL_SESSION_INPUT_COMMAND_START) {
		unsigned gen = ctl_trace_generation();
		if (gen != cs->trace_generation) {
			cs->trace_generation = gen;
			ctl_session_apply_rules(cs, false);
		}
	} else if (kind == CTL_SESSION_INPUT_LINE || kind == CTL_SESSION_INPUT_SECRET_LINE) {
		cs->read_lines = true;
	}
	if (cs->trace == NULL)
		return;
	enum ctl_trace_input tk = kind == CTL_SESSION_INPUT_LINE ? CTL_TRACE_INPUT_LINE
			       : kind == CTL_SESSION_INPUT_SECRET_LINE ? CTL_TRACE_INPUT_SECRET_LINE
			       : CTL_TRACE_INPUT_COMMAND;
	ctl_trace_client(cs->trace, data, len, tk);
}

void ctl_session_trace_output(struct ctl_session *cs, const void *data, size_t len)
{
	/* Bytes queued since we last looked that did not come through here
	 * were written by reference (message bodies from their files). */
	uint64_t sent = conn_bytes_out(cs->conn);
	if (sent > cs->out_seen)
		ctl_trace_server_unseen(cs->trace, sent - cs->out_seen);
	cs->out_seen = sent + len;
	ctl_trace_server(cs->trace, data, len);
}

void ctl_session_answer(struct ctl_session *cs, const char *status)
{
	cs->answer = status[0];
}

void ctl_session_syntax_error(struct ctl_session *cs, const char *client_id)
{
	char client[CTL_STATS_NAME_MAX];
	ctl_session_client_name(client_id, client, sizeof(client));
	ctl_stats_syntax_error(client);
}

void ctl_session_login(struct ctl_session *cs, const char *user, const char *method)
{
	free(cs->user);
	cs->user = xstrdup(user);
	cs->logged_in_by_command = true;
	ctl_stats_login(true);
	/* User rules can apply only now. */
	ctl_session_apply_rules(cs, false);
	if (cs->trace == NULL)
		return;
	ctl_trace_move_to_user(cs->trace, user);
	struct buf ev = BUF_INIT;
	buf_append_str(&ev, "login user=");
	ctl_session_value(&ev, user);
	buf_printf(&ev, " method=%s", method);
	ctl_trace_event(cs->trace, "%s", buf_cstr(&ev));
	buf_free(&ev);
}

void ctl_session_command_done(struct ctl_session *cs, const char *tag, const char *name,
			      const char *stats_name, uint64_t us, const char *client_id)
{
	char status = cs->answer != '\0' ? cs->answer : 'O';
	char client[CTL_STATS_NAME_MAX];
	ctl_session_client_name(client_id, client, sizeof(client));
	ctl_stats_command(stats_name, us, status, client);
	bool auth = strcmp(name, "LOGIN") == 0 || strcmp(name, "AUTHENTICATE") == 0;
	bool login_failed = auth && !cs->logged_in_by_command && status == 'N';
	if (login_failed)
		ctl_stats_login(false);
	/* Commands that wait for the client (IDLE, AUTHENTICATE exchanges)
	 * and failed logins (delayed on purpose) are not slow. */
	if (ctl_session_slow_ms != 0 && us >= (uint64_t)ctl_session_slow_ms * 1000 &&
	    !cs->read_lines && !login_failed) {
		struct arena *a = arena_new(0);
		log_event(LOG_WARN, conn_id(cs->conn), "slow_command",
			  "user=%s command=%s tag=%s status=%s duration_ms=%llu.%03llu",
			  cs->user != NULL ? log_str(a, cs->user) : "-", log_str(a, name),
			  log_str(a, tag), status == 'N' ? "NO" : status == 'B' ? "BAD" : "OK",
			  (unsigned long long)(us / 1000), (unsigned long long)(us % 1000));
		arena_destroy(&a);
	}
	if (cs->trace != NULL) {
		struct buf ev = BUF_INIT;
		ctl_session_value(&ev, tag);
		buf_append_char(&ev, ' ');
		ctl_session_value(&ev, name);
		buf_printf(&ev, " %s in %llu.%03llu ms",
			   status == 'N' ? "NO" : status == 'B' ? "BAD" : "OK",
			   (unsigned long long)(us / 1000), (unsigned long long)(us % 1000));
		ctl_trace_event(cs->trace, "%s", buf_cstr(&ev));
		buf_free(&ev);
		if (strcmp(name, "STARTTLS") == 0 && status == 'O') {
			/* The connection forgets what was pipelined after it. */
			ctl_trace_client_reset(cs->trace);
			ctl_trace_event(cs->trace, "TLS started (STARTTLS)");
		}
	}
	cs->answer = '\0';
	cs->logged_in_by_command = false;
	cs->read_lines = false;
}
