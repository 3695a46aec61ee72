#include "ctl/ctl-server.h"
#include "ctl/ctl-proto.h"
#include "ctl/ctl-session.h"
#include "ctl/ctl-stats.h"
#include "ctl/ctl-trace.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"
#include "net/conn.h"
#include "net/server.h"
#include "petrel-version.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Clients served at once; more wait in the listen backlog. */
#define CTL_CLIENTS_MAX 16
/* How long a request waits for the workers' answers. */
#define CTL_GATHER_TIMEOUT_MS 5000
/* How often the tail looks for new trace lines. */
#define CTL_TAIL_POLL_MS 200
/* Trace files a tail follows at once. */
#define CTL_TAIL_FILES_MAX 256
#define CTL_CLEANUP_INTERVAL_MS (86400ULL * 1000)
#define CTL_DEFAULT_KICK_REASON "Disconnected by the administrator"

struct ctl_client {
	int fd;
	uid_t uid;
	pthread_t thread;
	_Atomic bool finished;
	struct buf in;
	struct ctl_client *next;
};

static int ctl_listen_fd = -1;
static char *ctl_socket_path;
static int ctl_wake[2] = { -1, -1 };
static pthread_t ctl_thread;
static _Atomic bool ctl_started;
static _Atomic bool ctl_stopping;
static struct ctl_client *ctl_clients;
static unsigned ctl_client_count;
static uint64_t ctl_last_cleanup_ms;

/* --- Gathering answers from the workers ----------------------------------- */

enum ctl_gather_op {
	CTL_GATHER_SESSIONS,
	CTL_GATHER_KICK,
	CTL_GATHER_TRACED,
	CTL_GATHER_BYTES,
	CTL_GATHER_FIND,
};

/* Shared by the requesting client thread and one task per worker; the last
 * one to let go frees it (a worker may answer after the request gave up). */
struct ctl_gather {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned pending;
	unsigned refs;
	/* Set before posting, read-only afterwards. */
	enum ctl_gather_op op;
	char *session_id;
	char *user;
	char *reason;
	/* Results, under lock. */
	struct buf out;
	unsigned matched;
	uint64_t bytes_in, bytes_out;
	char *found_path;
};

struct ctl_gather_walk {
	struct ctl_gather *g;
	struct buf out;
	unsigned matched;
	uint64_t bytes_in, bytes_out;
	char *found_path;
};

static void ctl_gather_unref(struct ctl_gather *g)
{
	pthread_mutex_lock(&g->lock);
	bool last = --g->refs == 0;
	pthread_mutex_unlock(&g->lock);
	if (!last)
		return;
	pthread_mutex_destroy(&g->lock);
	pthread_cond_destroy(&g->cond);
	buf_free(&g->out);
	free(g->session_id);
	free(g->user);
	free(g->reason);
	free(g->found_path);
	free(g);
}

static void ctl_session_row(struct buf *out, struct ctl_session *cs, uint64_t now)
{
	struct ctl_session_facts facts = { 0 };
	cs->ops->describe(cs->ctx, &facts);
	struct conn *c = cs->conn;
	char remote[96];
	snprintf(remote, sizeof(remote), strchr(conn_remote_ip(c), ':') ? "[%s]:%u" : "%s:%u",
		 conn_remote_ip(c), conn_remote_port(c));
	buf_append_char(out, 'D');
	ctl_proto_field(out, "id", conn_id(c));
	ctl_proto_field(out, "user", cs->user != NULL ? cs->user : "");
	ctl_proto_field(out, "remote", remote);
	ctl_proto_field_u64(out, "tls", conn_is_tls(c));
	ctl_proto_field(out, "client", facts.client_id != NULL ? facts.client_id : "");
	ctl_proto_field(out, "workarounds", facts.workarounds != NULL ? facts.workarounds : "");
	ctl_proto_field(out, "state", facts.state);
	ctl_proto_field(out, "mailbox", facts.mailbox != NULL ? facts.mailbox : "");
	ctl_proto_field_u64(out, "since_ms", conn_started_ms(c));
	ctl_proto_field_u64(out, "idle_ms", now > cs->last_input_ms ? now - cs->last_input_ms : 0);
	ctl_proto_field_u64(out, "bytes_in", conn_bytes_in(c));
	ctl_proto_field_u64(out, "bytes_out", conn_bytes_out(c));
	ctl_proto_field_u64(out, "commands", facts.commands);
	ctl_proto_field_u64(out, "traced", cs->trace != NULL);
	buf_append_char(out, '\n');
}

static void ctl_gather_one(struct ctl_session *cs, void *arg)
{
	struct ctl_gather_walk *w = arg;
	const struct ctl_gather *g = w->g;
	const char *id = conn_id(cs->conn);
	switch (g->op) {
	case CTL_GATHER_SESSIONS:
		ctl_session_row(&w->out, cs, time_wall_ms());
		break;
	case CTL_GATHER_KICK:
		/* A session that has said goodbye already (its connection
		 * reading the client's last bytes, conn_end) is not kicked. */
		if (conn_is_closing(cs->conn))
			break;
		if ((g->session_id != NULL && strcmp(g->session_id, id) == 0) ||
		    (g->user != NULL && cs->user != NULL && strcmp(g->user, cs->user) == 0)) {
			buf_append_char(&w->out, 'D');
			ctl_proto_field(&w->out, "id", id);
			ctl_proto_field(&w->out, "user", cs->user != NULL ? cs->user : "");
			buf_append_char(&w->out, '\n');
			w->matched++;
			log_event(LOG_INFO, id, "kicked", "reason=\"%s\"", g->reason);
			cs->ops->kick(cs->ctx, g->reason);
		}
		break;
	case CTL_GATHER_TRACED:
		if (cs->trace != NULL) {
			buf_append_str(&w->out, "D kind=session");
			ctl_proto_field(&w->out, "id", id);
			ctl_proto_field(&w->out, "user", cs->user != NULL ? cs->user : "");
			ctl_proto_field(&w->out, "path", ctl_trace_path(cs->trace));
			buf_append_char(&w->out, '\n');
		}
		break;
	case CTL_GATHER_BYTES:
		w->bytes_in += conn_bytes_in(cs->conn);
		w->bytes_out += conn_bytes_out(cs->conn);
		break;
	case CTL_GATHER_FIND:
		if (cs->trace != NULL && strcmp(g->session_id, id) == 0 && w->found_path == NULL)
			w->found_path = xstrdup(ctl_trace_path(cs->trace));
		break;
	}
}

/* Runs on a worker thread. */
static void ctl_gather_task(void *arg)
{
	struct ctl_gather *g = arg;
	struct ctl_gather_walk w = { .g = g, .out = BUF_INIT };
	ctl_session_foreach(ctl_gather_one, &w);
	pthread_mutex_lock(&g->lock);
	buf_append(&g->out, w.out.data, w.out.len);
	g->matched += w.matched;
	g->bytes_in += w.bytes_in;
	g->bytes_out += w.bytes_out;
	if (w.found_path != NULL && g->found_path == NULL) {
		g->found_path = w.found_path;
		w.found_path = NULL;
	}
	g->pending--;
	pthread_cond_signal(&g->cond);
	pthread_mutex_unlock(&g->lock);
	free(w.found_path);
	buf_free(&w.out);
	ctl_gather_unref(g);
}

static struct ctl_gather *ctl_gather_new(enum ctl_gather_op op)
{
	struct ctl_gather *g = xcalloc(1, sizeof(*g));
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	g->op = op;
	g->refs = 1;
	return g;
}

/* Posts g to every worker and waits for all of them. False when the
 * daemon is stopping or a worker did not answer in time. */
static bool ctl_gather_run(struct ctl_gather *g)
{
	size_t n = server_worker_count();
	pthread_mutex_lock(&g->lock);
	g->pending = (unsigned)n;
	g->refs += (unsigned)n;
	pthread_mutex_unlock(&g->lock);
	for (size_t i = 0; i < n; i++)
		worker_post(server_worker(i), ctl_gather_task, g);
	uint64_t deadline = time_mono_ms() + CTL_GATHER_TIMEOUT_MS;
	pthread_mutex_lock(&g->lock);
	while (g->pending > 0 && !atomic_load(&ctl_stopping) && time_mono_ms() < deadline) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&g->cond, &g->lock, &ts);
	}
	bool ok = g->pending == 0;
	pthread_mutex_unlock(&g->lock);
	return ok;
}

/* --- Client I/O -------------------------------------------------------------- */

/* Writes everything, waiting while the client's buffer is full; gives up
 * when the client is gone or the daemon stops. */
static bool ctl_client_write(struct ctl_client *cl, const void *data, size_t len)
{
	const unsigned char *p = data;
	while (len > 0) {
		ssize_t n = send(cl->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pfd[2] = { { cl->fd, POLLOUT, 0 }, { ctl_wake[0], POLLIN, 0 } };
			if (poll(pfd, 2, -1) < 0 && errno != EINTR)
				return false;
			if (pfd[1].revents != 0)
				return false;
			continue;
		}
		return false;
	}
	return true;
}

static bool ctl_client_end(struct ctl_client *cl, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool ctl_client_end(struct ctl_client *cl, bool ok, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	buf_append_str(&b, ok ? "OK" : "ERR");
	if (fmt != NULL) {
		buf_append_char(&b, ' ');
		va_list ap;
		va_start(ap, fmt);
		buf_vprintf(&b, fmt, ap);
		va_end(ap);
	}
	buf_append_char(&b, '\n');
	bool r = ctl_client_write(cl, b.data, b.len);
	buf_free(&b);
	return r;
}

/* Reads one request line into line_r. 1: a line, 0: the client closed or
 * the daemon stops, -1: a line too long. */
static int ctl_client_read_line(struct ctl_client *cl, struct buf *line_r)
{
	for (;;) {
		const unsigned char *lf = cl->in.len > 0 ? memchr(cl->in.data, '\n', cl->in.len) : NULL;
		if (lf != NULL) {
			size_t len = (size_t)(lf - cl->in.data);
			buf_reset(line_r);
			buf_append(line_r, cl->in.data, len > 0 && lf[-1] == '\r' ? len - 1 : len);
			buf_consume(&cl->in, len + 1);
			return 1;
		}
		if (cl->in.len > CTL_PROTO_LINE_MAX)
			return -1;
		struct pollfd pfd[2] = { { cl->fd, POLLIN, 0 }, { ctl_wake[0], POLLIN, 0 } };
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 0;
		}
		if (pfd[1].revents != 0)
			return 0;
		char tmp[1024];
		ssize_t n = recv(cl->fd, tmp, sizeof(tmp), MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return 0;
		buf_append(&cl->in, tmp, (size_t)n);
	}
}

/* --- Requests --------------------------------------------------------------- */

static bool ctl_valid_session_id(const char *id)
{
	size_t len = strlen(id);
	if (len == 0 || len > 64)
		return false;
	for (const char *p = id; *p != '\0'; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= 'A' && *p <= 'Z') || *p == '-' || *p == '_'))
			return false;
	return true;
}

static bool ctl_valid_user(const char *user)
{
	size_t len = strlen(user);
	return len > 0 && len < CTL_TRACE_VALUE_MAX && user[0] != '.' && strchr(user, '/') == NULL;
}

static bool ctl_do_gather_rows(struct ctl_client *cl, enum ctl_gather_op op)
{
	struct ctl_gather *g = ctl_gather_new(op);
	bool ok = ctl_gather_run(g);
	pthread_mutex_lock(&g->lock);
	struct buf rows = BUF_INIT;
	buf_append(&rows, g->out.data, g->out.len);
	pthread_mutex_unlock(&g->lock);
	ctl_gather_unref(g);
	bool r = ctl_client_write(cl, rows.data, rows.len) &&
		 (ok ? ctl_client_end(cl, true, NULL)
		     : ctl_client_end(cl, false, "not every worker answered"));
	buf_free(&rows);
	return r;
}

static bool ctl_do_kick(struct ctl_client *cl, const struct ctl_request *req)
{
	const char *id = ctl_request_get(req, "session");
	const char *user = ctl_request_get(req, "user");
	const char *reason = ctl_request_get(req, "reason");
	if ((id == NULL) == (user == NULL))
		return ctl_client_end(cl, false, "KICK needs session=ID or user=NAME");
	if (reason == NULL || *reason == '\0')
		reason = CTL_DEFAULT_KICK_REASON;
	for (const char *p = reason; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return ctl_client_end(cl, false, "the reason must be one line of text");
	struct ctl_gather *g = ctl_gather_new(CTL_GATHER_KICK);
	g->session_id = id != NULL ? xstrdup(id) : NULL;
	g->user = user != NULL ? xstrdup(user) : NULL;
	g->reason = xstrdup(reason);
	bool ok = ctl_gather_run(g);
	pthread_mutex_lock(&g->lock);
	struct buf rows = BUF_INIT;
	buf_append(&rows, g->out.data, g->out.len);
	unsigned matched = g->matched;
	pthread_mutex_unlock(&g->lock);
	ctl_gather_unref(g);
	bool r = ctl_client_write(cl, rows.data, rows.len);
	buf_free(&rows);
	if (!r)
		return false;
	if (!ok)
		return ctl_client_end(cl, false, "not every worker answered");
	if (matched == 0)
		return ctl_client_end(cl, false, "no such session");
	return ctl_client_end(cl, true, "%u", matched);
}

static void ctl_stats_row_counter(struct buf *out, const char *name, uint64_t value)
{
	buf_append_str(out, "D kind=counter");
	ctl_proto_field(out, "name", name);
	ctl_proto_field_u64(out, "value", value);
	buf_append_char(out, '\n');
}

static bool ctl_do_stats(struct ctl_client *cl)
{
	struct ctl_gather *g = ctl_gather_new(CTL_GATHER_BYTES);
	bool ok = ctl_gather_run(g);
	pthread_mutex_lock(&g->lock);
	uint64_t live_in = g->bytes_in, live_out = g->bytes_out;
	pthread_mutex_unlock(&g->lock);
	ctl_gather_unref(g);
	struct ctl_stats_data *d = ctl_stats_snapshot();
	struct buf out = BUF_INIT;
	ctl_stats_row_counter(&out, "connections", d->connections);
	ctl_stats_row_counter(&out, "logins_ok", d->logins_ok);
	ctl_stats_row_counter(&out, "logins_failed", d->logins_failed);
	ctl_stats_row_counter(&out, "bytes_in", d->bytes_in + live_in);
	ctl_stats_row_counter(&out, "bytes_out", d->bytes_out + live_out);
	ctl_stats_row_counter(&out, "deliveries", d->deliveries);
	for (size_t i = 0; i < d->command_count; i++) {
		const struct ctl_stats_command *c = &d->commands[i];
		buf_append_str(&out, "D kind=command");
		ctl_proto_field(&out, "name", c->name);
		ctl_proto_field_u64(&out, "count", c->latency.count);
		ctl_proto_field_u64(&out, "p50_us", ctl_hist_percentile(&c->latency, 500));
		ctl_proto_field_u64(&out, "p90_us", ctl_hist_percentile(&c->latency, 900));
		ctl_proto_field_u64(&out, "p99_us", ctl_hist_percentile(&c->latency, 990));
		ctl_proto_field_u64(&out, "max_us", c->latency.max_us);
		ctl_proto_field_u64(&out, "no", c->no);
		ctl_proto_field_u64(&out, "bad", c->bad);
		buf_append_char(&out, '\n');
	}
	for (size_t i = 0; i < d->client_count; i++) {
		const struct ctl_stats_client *c = &d->clients[i];
		buf_append_str(&out, "D kind=client");
		ctl_proto_field(&out, "name", c->name);
		ctl_proto_field_u64(&out, "no", c->no);
		ctl_proto_field_u64(&out, "bad", c->bad);
		buf_append_char(&out, '\n');
	}
	free(d);
	bool r = ctl_client_write(cl, out.data, out.len) &&
		 (ok ? ctl_client_end(cl, true, NULL)
		     : ctl_client_end(cl, false, "not every worker answered"));
	buf_free(&out);
	return r;
}

/* The selector of TRACE-ON/OFF: exactly one of user=, address=, all=1. */
static bool ctl_trace_selector(const struct ctl_request *req, struct ctl_trace_rule *rule,
			       const char **error_r)
{
	const char *user = ctl_request_get(req, "user");
	const char *address = ctl_request_get(req, "address");
	const char *all = ctl_request_get(req, "all");
	if ((user != NULL) + (address != NULL) + (all != NULL) != 1) {
		*error_r = "give exactly one of user=NAME, address=CIDR, all=1";
		return false;
	}
	memset(rule, 0, sizeof(*rule));
	if (user != NULL) {
		if (!ctl_valid_user(user)) {
			*error_r = "invalid user name";
			return false;
		}
		rule->match = CTL_TRACE_MATCH_USER;
		snprintf(rule->value, sizeof(rule->value), "%s", user);
	} else if (address != NULL) {
		if (strlen(address) >= sizeof(rule->value) || !cidr_parse(address, &rule->cidr)) {
			*error_r = "invalid address: expected an IP address or ADDRESS/PREFIX";
			return false;
		}
		rule->match = CTL_TRACE_MATCH_ADDRESS;
		snprintf(rule->value, sizeof(rule->value), "%s", address);
	} else {
		if (strcmp(all, "1") != 0) {
			*error_r = "all takes the value 1";
			return false;
		}
		rule->match = CTL_TRACE_MATCH_ALL;
	}
	return true;
}

static bool ctl_parse_u64(const char *s, uint64_t max, uint64_t *r)
{
	if (s == NULL || *s == '\0')
		return false;
	uint64_t n = 0;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		n = n * 10 + (uint64_t)(*s - '0');
		if (n > max)
			return false;
	}
	*r = n;
	return true;
}

static const char *ctl_match_name(enum ctl_trace_match m)
{
	return m == CTL_TRACE_MATCH_USER ? "user" : m == CTL_TRACE_MATCH_ADDRESS ? "address" : "all";
}

static bool ctl_do_trace_on(struct ctl_client *cl, const struct ctl_request *req)
{
	struct ctl_trace_rule rule;
	const char *error;
	if (!ctl_trace_selector(req, &rule, &error))
		return ctl_client_end(cl, false, "%s", error);
	const char *dur = ctl_request_get(req, "for");
	const char *lit = ctl_request_get(req, "literal_bytes");
	uint64_t seconds = 0, literal = ctl_trace_default_literal_bytes();
	if (dur != NULL && (!ctl_parse_u64(dur, 366ULL * 86400, &seconds) || seconds == 0))
		return ctl_client_end(cl, false, "for= takes a number of seconds (1 to a year)");
	if (lit != NULL && !ctl_parse_u64(lit, 1ULL << 30, &literal))
		return ctl_client_end(cl, false, "literal_bytes= takes a number of bytes (up to 1G)");
	rule.expires_ms = seconds != 0 ? time_wall_ms() + seconds * 1000 : 0;
	rule.literal_bytes = (size_t)literal;
	if (!ctl_trace_rule_set(&rule, &error))
		return ctl_client_end(cl, false, "%s", error);
	log_event(LOG_INFO, NULL, "trace_on", "match=%s value=%s for_s=%llu literal_bytes=%llu uid=%u",
		  ctl_match_name(rule.match), rule.value[0] ? rule.value : "-",
		  (unsigned long long)seconds, (unsigned long long)literal, (unsigned)cl->uid);
	return ctl_client_end(cl, true, "tracing %s%s%s from the next command of each session",
			      ctl_match_name(rule.match), rule.value[0] ? " " : "", rule.value);
}

static bool ctl_do_trace_off(struct ctl_client *cl, const struct ctl_request *req)
{
	struct ctl_trace_rule rule;
	const char *error;
	if (!ctl_trace_selector(req, &rule, &error))
		return ctl_client_end(cl, false, "%s", error);
	if (!ctl_trace_rule_clear(rule.match, rule.value))
		return ctl_client_end(cl, false, "no such trace rule");
	log_event(LOG_INFO, NULL, "trace_off", "match=%s value=%s uid=%u",
		  ctl_match_name(rule.match), rule.value[0] ? rule.value : "-", (unsigned)cl->uid);
	return ctl_client_end(cl, true, "tracing stops at the next command of each session");
}

static bool ctl_do_trace_list(struct ctl_client *cl)
{
	struct ctl_trace_rule rules[CTL_TRACE_RULES_MAX];
	size_t n = ctl_trace_rules_copy(rules, CTL_TRACE_RULES_MAX);
	struct buf out = BUF_INIT;
	for (size_t i = 0; i < n && i < CTL_TRACE_RULES_MAX; i++) {
		buf_append_str(&out, "D kind=rule");
		ctl_proto_field(&out, "match", ctl_match_name(rules[i].match));
		ctl_proto_field(&out, "value", rules[i].value);
		ctl_proto_field_u64(&out, "expires_ms", rules[i].expires_ms);
		ctl_proto_field_u64(&out, "literal_bytes", rules[i].literal_bytes);
		buf_append_char(&out, '\n');
	}
	bool r = ctl_client_write(cl, out.data, out.len);
	buf_free(&out);
	return r && ctl_do_gather_rows(cl, CTL_GATHER_TRACED);
}

/* Sends the complete lines of fd from *offset on as "D prefix line",
 * advancing *offset past the last LF sent. */
static bool ctl_send_file_lines(struct ctl_client *cl, int fd, off_t *offset, const char *prefix,
				bool send_partial)
{
	struct buf data = BUF_INIT;
	char chunk[65536];
	for (;;) {
		ssize_t n = pread(fd, chunk, sizeof(chunk), *offset + (off_t)data.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		buf_append(&data, chunk, (size_t)n);
		if (data.len > 4 * 1024 * 1024)
			break;
	}
	struct buf out = BUF_INIT;
	size_t start = 0;
	bool ok = true;
	while (start < data.len) {
		const unsigned char *lf = memchr(data.data + start, '\n', data.len - start);
		if (lf == NULL && !send_partial)
			break;
		size_t end = lf != NULL ? (size_t)(lf - data.data) : data.len;
		buf_append_str(&out, "D ");
		buf_append_str(&out, prefix);
		buf_append(&out, data.data + start, end - start);
		buf_append_char(&out, '\n');
		start = lf != NULL ? end + 1 : end;
		if (out.len > 65536) {
			ok = ctl_client_write(cl, out.data, out.len);
			buf_reset(&out);
			if (!ok)
				break;
		}
	}
	if (ok && out.len > 0)
		ok = ctl_client_write(cl, out.data, out.len);
	*offset += (off_t)start;
	buf_free(&out);
	buf_free(&data);
	return ok;
}

/* The trace file of session id: the live session's, else the newest file
 * of that name under the trace directory. Heap string or NULL. */
static char *ctl_find_trace(const char *id)
{
	struct ctl_gather *g = ctl_gather_new(CTL_GATHER_FIND);
	g->session_id = xstrdup(id);
	ctl_gather_run(g);
	pthread_mutex_lock(&g->lock);
	char *path = g->found_path;
	g->found_path = NULL;
	pthread_mutex_unlock(&g->lock);
	ctl_gather_unref(g);
	if (path != NULL)
		return path;
	const char *patterns[] = { "%s/*/*/%s.trace", "%s/" CTL_TRACE_PREAUTH_DIR "/*/%s.trace" };
	time_t newest = 0;
	for (size_t p = 0; p < 2; p++) {
		struct buf pat = BUF_INIT;
		buf_printf(&pat, patterns[p], ctl_trace_dir(), id);
		glob_t gl;
		if (glob(buf_cstr(&pat), 0, NULL, &gl) == 0) {
			for (size_t i = 0; i < gl.gl_pathc; i++) {
				struct stat st;
				if (stat(gl.gl_pathv[i], &st) == 0 && (path == NULL || st.st_mtime > newest)) {
					free(path);
					path = xstrdup(gl.gl_pathv[i]);
					newest = st.st_mtime;
				}
			}
			globfree(&gl);
		}
		buf_free(&pat);
	}
	return path;
}

static bool ctl_do_trace_show(struct ctl_client *cl, const struct ctl_request *req)
{
	const char *id = ctl_request_get(req, "session");
	if (id == NULL || !ctl_valid_session_id(id))
		return ctl_client_end(cl, false, "TRACE-SHOW needs session=ID");
	char *path = ctl_find_trace(id);
	if (path == NULL)
		return ctl_client_end(cl, false, "no trace for session %s", id);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		bool r = ctl_client_end(cl, false, "cannot open %s: %s", path, strerror(errno));
		free(path);
		return r;
	}
	off_t offset = 0;
	bool ok = true;
	struct stat st;
	/* Up to the size seen now: the file may grow meanwhile. */
	if (fstat(fd, &st) == 0) {
		while (ok && offset < st.st_size) {
			off_t before = offset;
			ok = ctl_send_file_lines(cl, fd, &offset, "", true);
			if (offset == before)
				break;
		}
	}
	close(fd);
	bool r = ok && ctl_client_end(cl, true, "%s", path);
	free(path);
	return r;
}

struct ctl_tail_file {
	char *path;
	char id[80];
	off_t offset;
};

/* Adds the trace files in dir not followed yet; existing ones (at the
 * first scan) from their end, new ones from their start. */
static void ctl_tail_scan_day(const char *dir, struct ctl_tail_file *files, size_t *count,
			      bool first)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return;
	struct dirent *de;
	while ((de = readdir(d)) != NULL && *count < CTL_TAIL_FILES_MAX) {
		size_t len = strlen(de->d_name);
		if (len <= 6 || strcmp(de->d_name + len - 6, ".trace") != 0)
			continue;
		struct buf path = BUF_INIT;
		buf_printf(&path, "%s/%s", dir, de->d_name);
		bool known = false;
		for (size_t i = 0; i < *count && !known; i++)
			known = strcmp(files[i].path, buf_cstr(&path)) == 0;
		struct stat st;
		if (!known && stat(buf_cstr(&path), &st) == 0 && S_ISREG(st.st_mode)) {
			struct ctl_tail_file *f = &files[(*count)++];
			f->path = xstrdup(buf_cstr(&path));
			snprintf(f->id, sizeof(f->id), "%.*s", (int)(len - 6), de->d_name);
			f->offset = first ? st.st_size : 0;
		}
		buf_free(&path);
	}
	closedir(d);
}

static void ctl_tail_day_dir(struct buf *out, const char *user, uint64_t ms)
{
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&sec, &tm);
	buf_printf(out, "%s/%s/%04d-%02d-%02d", ctl_trace_dir(), user, tm.tm_year + 1900,
		   tm.tm_mon + 1, tm.tm_mday);
}

static bool ctl_do_trace_tail(struct ctl_client *cl, const struct ctl_request *req)
{
	const char *user = ctl_request_get(req, "user");
	if (user == NULL || !ctl_valid_user(user))
		return ctl_client_end(cl, false, "TRACE-TAIL needs user=NAME");
	size_t literal;
	if (!ctl_trace_rules_match(user, NULL, &literal)) {
		struct buf w = BUF_INIT;
		buf_printf(&w, "W tracing is not on for %s by name; "
			   "switch it on with: petrel ctl trace on --user %s\n", user, user);
		bool ok = ctl_client_write(cl, w.data, w.len);
		buf_free(&w);
		if (!ok)
			return false;
	}
	struct ctl_tail_file *files = xcalloc(CTL_TAIL_FILES_MAX, sizeof(*files));
	size_t count = 0;
	bool first = true, ok = true;
	while (ok && !atomic_load(&ctl_stopping)) {
		/* Today's and yesterday's directories: a session that began
		 * before midnight keeps its file. */
		uint64_t now = time_wall_ms();
		for (int back = 1; back >= 0; back--) {
			struct buf dir = BUF_INIT;
			ctl_tail_day_dir(&dir, user, now - (uint64_t)back * 86400 * 1000);
			ctl_tail_scan_day(buf_cstr(&dir), files, &count, first);
			buf_free(&dir);
		}
		first = false;
		for (size_t i = 0; i < count && ok; i++) {
			int fd = open(files[i].path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
			if (fd < 0)
				continue;
			char prefix[96];
			snprintf(prefix, sizeof(prefix), "[%s] ", files[i].id);
			ok = ctl_send_file_lines(cl, fd, &files[i].offset, prefix, false);
			close(fd);
		}
		/* The client ends a tail by closing the connection. */
		struct pollfd pfd[2] = { { cl->fd, POLLIN, 0 }, { ctl_wake[0], POLLIN, 0 } };
		int r = poll(pfd, 2, CTL_TAIL_POLL_MS);
		if (r < 0 && errno != EINTR)
			break;
		if (pfd[1].revents != 0 || (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0)
			break;
	}
	for (size_t i = 0; i < count; i++)
		free(files[i].path);
	free(files);
	return false;
}

/* Serves one request; false ends the connection. */
static bool ctl_handle(struct ctl_client *cl, const char *line)
{
	struct ctl_request req;
	const char *error;
	if (!ctl_proto_parse(line, true, &req, &error))
		return ctl_client_end(cl, false, "%s", error);
	const char *v = req.verb;
	bool r;
	if (strcmp(v, "PING") == 0)
		r = ctl_client_end(cl, true, "petrel %s", PETREL_VERSION);
	else if (strcmp(v, "SESSIONS") == 0)
		r = ctl_do_gather_rows(cl, CTL_GATHER_SESSIONS);
	else if (strcmp(v, "KICK") == 0)
		r = ctl_do_kick(cl, &req);
	else if (strcmp(v, "STATS") == 0)
		r = ctl_do_stats(cl);
	else if (strcmp(v, "TRACE-ON") == 0)
		r = ctl_do_trace_on(cl, &req);
	else if (strcmp(v, "TRACE-OFF") == 0)
		r = ctl_do_trace_off(cl, &req);
	else if (strcmp(v, "TRACE-LIST") == 0)
		r = ctl_do_trace_list(cl);
	else if (strcmp(v, "TRACE-SHOW") == 0)
		r = ctl_do_trace_show(cl, &req);
	else if (strcmp(v, "TRACE-TAIL") == 0)
		r = ctl_do_trace_tail(cl, &req);
	else
		r = ctl_client_end(cl, false, "unknown request %s", v);
	ctl_request_free(&req);
	return r;
}

static void *ctl_client_main(void *arg)
{
	struct ctl_client *cl = arg;
	struct buf line = BUF_INIT;
	for (;;) {
		int r = ctl_client_read_line(cl, &line);
		if (r == 0)
			break;
		if (r < 0) {
			ctl_client_end(cl, false, "request line too long");
			break;
		}
		if (!ctl_handle(cl, buf_cstr(&line)))
			break;
	}
	buf_free(&line);
	close(cl->fd);
	cl->fd = -1;
	buf_free(&cl->in);
	atomic_store(&cl->finished, true);
	return NULL;
}

/* --- The accepting thread ------------------------------------------------------ */

static void ctl_reap_clients(bool all)
{
	struct ctl_client **pp = &ctl_clients;
	while (*pp != NULL) {
		struct ctl_client *cl = *pp;
		if (all || atomic_load(&cl->finished)) {
			pthread_join(cl->thread, NULL);
			*pp = cl->next;
			ctl_client_count--;
			free(cl);
		} else {
			pp = &cl->next;
		}
	}
}

static void ctl_accept_one(void)
{
	int fd = accept4(ctl_listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    (cred.uid != 0 && cred.uid != geteuid())) {
		log_event(LOG_WARN, NULL, "ctl_refused", "uid=%ld pid=%ld",
			  len == sizeof(cred) ? (long)cred.uid : -1L,
			  len == sizeof(cred) ? (long)cred.pid : -1L);
		static const char refused[] = "ERR permission denied\n";
		(void)!send(fd, refused, sizeof(refused) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(fd);
		return;
	}
	if (ctl_client_count >= CTL_CLIENTS_MAX) {
		static const char busy[] = "ERR too many control connections\n";
		(void)!send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(fd);
		return;
	}
	struct ctl_client *cl = xcalloc(1, sizeof(*cl));
	cl->fd = fd;
	cl->uid = cred.uid;
	if (pthread_create(&cl->thread, NULL, ctl_client_main, cl) != 0) {
		close(fd);
		free(cl);
		return;
	}
	cl->next = ctl_clients;
	ctl_clients = cl;
	ctl_client_count++;
}

static void ctl_tick(void)
{
	uint64_t now = time_wall_ms();
	ctl_trace_rules_expire(now);
	if (now - ctl_last_cleanup_ms >= CTL_CLEANUP_INTERVAL_MS) {
		ctl_last_cleanup_ms = now;
		ctl_trace_cleanup(now);
	}
}

static void *ctl_thread_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&ctl_stopping)) {
		struct pollfd pfd[2] = { { ctl_listen_fd, POLLIN, 0 }, { ctl_wake[0], POLLIN, 0 } };
		int r = poll(pfd, 2, 1000);
		if (r < 0 && errno != EINTR)
			break;
		if (pfd[1].revents != 0)
			break;
		if (pfd[0].revents & POLLIN)
			ctl_accept_one();
		ctl_reap_clients(false);
		ctl_tick();
	}
	ctl_reap_clients(true);
	return NULL;
}

/* --- Life cycle -------------------------------------------------------------- */

void ctl_server_init(const struct petrel_config *cfg)
{
	struct buf dir = BUF_INIT;
	if (cfg->trace_dir != NULL)
		buf_append_str(&dir, cfg->trace_dir);
	else
		buf_printf(&dir, "%s/trace", cfg->data_dir);
	ctl_trace_configure(buf_cstr(&dir), cfg->trace_literal_bytes, cfg->trace_max_age);
	buf_free(&dir);
	ctl_session_configure(cfg->slow_command_ms);
	ctl_last_cleanup_ms = time_wall_ms();
	ctl_trace_cleanup(ctl_last_cleanup_ms);
}

bool ctl_server_bind(const struct petrel_config *cfg, const char **error_r)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = cfg->ctl_socket;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		*error_r = "ctl socket path too long";
		return false;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			*error_r = "ctl socket path exists and is not a socket";
			return false;
		}
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		bool alive = probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		if (probe >= 0)
			close(probe);
		if (alive) {
			*error_r = "another daemon answers on the ctl socket";
			return false;
		}
		unlink(path);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*error_r = "cannot create the ctl socket";
		return false;
	}
	/* Owner only from the first instant: no window with a wider mode. */
	mode_t old = umask(0177);
	int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || chmod(path, 0600) < 0 || listen(fd, 16) < 0) {
		*error_r = "cannot bind the ctl socket";
		close(fd);
		return false;
	}
	if (pipe2(ctl_wake, O_CLOEXEC) < 0) {
		*error_r = "cannot create a pipe";
		close(fd);
		unlink(path);
		return false;
	}
	ctl_listen_fd = fd;
	ctl_socket_path = xstrdup(path);
	log_event(LOG_INFO, NULL, "ctl_listening", "path=%s", path);
	return true;
}

void ctl_server_start(void)
{
	if (ctl_listen_fd < 0 || atomic_exchange(&ctl_started, true))
		return;
	if (pthread_create(&ctl_thread, NULL, ctl_thread_main, NULL) != 0) {
		log_event(LOG_ERROR, NULL, "ctl_thread_failed", NULL);
		atomic_store(&ctl_started, false);
	}
}

void ctl_server_stop(void)
{
	if (atomic_exchange(&ctl_stopping, true))
		return;
	if (ctl_wake[1] >= 0)
		(void)!write(ctl_wake[1], "x", 1);
	if (atomic_load(&ctl_started))
		pthread_join(ctl_thread, NULL);
	if (ctl_listen_fd >= 0) {
		close(ctl_listen_fd);
		ctl_listen_fd = -1;
		unlink(ctl_socket_path);
	}
}

void ctl_server_deinit(void)
{
	ctl_server_stop();
	for (int i = 0; i < 2; i++) {
		if (ctl_wake[i] >= 0)
			close(ctl_wake[i]);
		ctl_wake[i] = -1;
	}
	free(ctl_socket_path);
	ctl_socket_path = NULL;
	ctl_trace_deconfigure();
}
