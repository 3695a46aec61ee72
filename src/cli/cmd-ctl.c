/* petrel ctl: the administrator's side of the control socket (protocol in
 * src/ctl/ctl-proto.h; walk-through in docs/troubleshooting.md). */

#include "cli/cli.h"
#include "ctl/ctl-proto.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "lib/timeutil.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define EX_USAGE 64
#define EX_UNAVAILABLE 69
#define EX_SOFTWARE 70
#define EX_NOPERM 77
/* A request the daemon answered with ERR. */
#define CTL_EXIT_REFUSED 1

static const char ctl_usage[] =
	"Usage: petrel [-c FILE] ctl [--socket PATH] COMMAND [ARGS]\n"
	"\n"
	"Talks to the running daemon over its control socket ([ctl] socket,\n"
	"by default DATA_DIR/petrel.sock; root or the daemon's user only).\n"
	"\n"
	"Commands:\n"
	"  sessions [--json]                  list the IMAP sessions\n"
	"  kick SESSION [--reason TEXT]       end one session with * BYE\n"
	"  kick --user NAME [--reason TEXT]   end every session of NAME\n"
	"  trace on (--user NAME | --address CIDR | --all) [--for DURATION]\n"
	"           [--literal-bytes N]       start tracing at each session's next command\n"
	"  trace off (--user NAME | --address CIDR | --all)\n"
	"  trace list                         rules and the sessions being traced\n"
	"  trace show SESSION                 print a session's trace\n"
	"  trace tail --user NAME [--for DURATION]\n"
	"                                     print NAME's traces as they grow, until\n"
	"                                     Ctrl-C, SIGTERM or the duration is over\n"
	"  stats [--json]                     counters since the daemon started\n"
	"  ping                               check that the daemon answers\n"
	"\n"
	"DURATION: seconds, or a number with s, m, h or d (30m, 2h).\n";

struct ctl_conn {
	int fd;
	struct buf in;
};

static volatile sig_atomic_t ctl_interrupted;

static void ctl_on_signal(int sig)
{
	(void)sig;
	ctl_interrupted = 1;
}

static int ctl_usage_error(const char *fmt, const char *arg)
{
	fputs("petrel: ctl: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\n", stderr);
	fputs(ctl_usage, stderr);
	return EX_USAGE;
}

static bool ctl_parse_duration(const char *s, uint64_t *seconds_r)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *s == '-')
		return false;
	uint64_t mult = 1;
	if (strcmp(end, "") == 0 || strcmp(end, "s") == 0)
		mult = 1;
	else if (strcmp(end, "m") == 0)
		mult = 60;
	else if (strcmp(end, "h") == 0)
		mult = 3600;
	else if (strcmp(end, "d") == 0)
		mult = 86400;
	else
		return false;
	if (n == 0 || n > UINT64_MAX / mult / 1000)
		return false;
	*seconds_r = n * mult;
	return true;
}

/* --- Talking to the daemon ---------------------------------------------------- */

static int ctl_connect(const char *path, struct ctl_conn *cc)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		cli_error("ctl: socket path too long: %s", path);
		return EX_USAGE;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		if (e == EACCES || e == EPERM) {
			cli_error("ctl: permission denied on %s (run as root or as the daemon's user)",
				  path);
			return EX_NOPERM;
		}
		cli_error("ctl: cannot connect to %s: %s (is petrel serve running?)", path,
			  strerror(e));
		return EX_UNAVAILABLE;
	}
	cc->fd = fd;
	buf_init(&cc->in);
	return 0;
}

static void ctl_close(struct ctl_conn *cc)
{
	if (cc->fd >= 0)
		close(cc->fd);
	cc->fd = -1;
	buf_free(&cc->in);
}

static bool ctl_send(struct ctl_conn *cc, const struct buf *req)
{
	size_t off = 0;
	while (off < req->len) {
		ssize_t n = send(cc->fd, req->data + off, req->len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		off += (size_t)n;
	}
	return true;
}

/* Reads one line (without LF) into line. 1: a line; 0: the daemon closed;
 * -1: an error; -2: interrupted by a signal or the deadline (mono ms, 0 for
 * none). */
static int ctl_read_line(struct ctl_conn *cc, struct buf *line, uint64_t deadline)
{
	for (;;) {
		const unsigned char *lf = cc->in.len > 0 ? memchr(cc->in.data, '\n', cc->in.len) : NULL;
		if (lf != NULL) {
			size_t len = (size_t)(lf - cc->in.data);
			buf_reset(line);
			buf_append(line, cc->in.data, len);
			buf_consume(&cc->in, len + 1);
			return 1;
		}
		if (ctl_interrupted)
			return -2;
		int timeout = -1;
		if (deadline != 0) {
			uint64_t now = time_mono_ms();
			if (now >= deadline)
				return -2;
			timeout = (int)(deadline - now < 200 ? deadline - now : 200);
		} else {
			timeout = 200;
		}
		struct pollfd pfd = { cc->fd, POLLIN, 0 };
		int r = poll(&pfd, 1, timeout);
		if (r < 0 && errno != EINTR)
			return -1;
		if (r <= 0)
			continue;
		char tmp[65536];
		ssize_t n = recv(cc->fd, tmp, sizeof(tmp), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		buf_append(&cc->in, tmp, (size_t)n);
	}
}

typedef void ctl_row_fn(const char *text, void *ctx);

/* Sends req and reads the answer: D lines go to on_row, W lines to stderr.
 * Returns the exit status (0 for OK); *ok_text_r gets the OK line's text. */
static int ctl_request(struct ctl_conn *cc, const struct buf *req, ctl_row_fn *on_row,
		       void *ctx, uint64_t deadline, struct buf *ok_text_r)
{
	/* A daemon that refuses us answers and closes at once, maybe before
	 * our request is written: its answer is still there to read. */
	(void)ctl_send(cc, req);
	struct buf line = BUF_INIT;
	int status = EX_SOFTWARE;
	for (;;) {
		int r = ctl_read_line(cc, &line, deadline);
		if (r == -2) {
			status = 0;
			break;
		}
		if (r <= 0) {
			if (r == 0 && deadline != 0) {
				status = 0;   /* a tail ends when the daemon stops */
				break;
			}
			cli_error("ctl: the daemon closed the connection");
			status = EX_UNAVAILABLE;
			break;
		}
		const char *text = buf_cstr(&line);
		if (strncmp(text, "D ", 2) == 0 || strcmp(text, "D") == 0) {
			on_row(text[1] != '\0' ? text + 2 : "", ctx);
		} else if (strncmp(text, "W ", 2) == 0) {
			fprintf(stderr, "petrel: ctl: %s\n", text + 2);
		} else if (strcmp(text, "OK") == 0 || strncmp(text, "OK ", 3) == 0) {
			if (ok_text_r != NULL)
				buf_append_str(ok_text_r, text[2] != '\0' ? text + 3 : "");
			status = 0;
			break;
		} else if (strncmp(text, "ERR ", 4) == 0) {
			cli_error("ctl: %s", text + 4);
			status = strcmp(text + 4, "permission denied") == 0 ? EX_NOPERM
									     : CTL_EXIT_REFUSED;
			break;
		} else {
			cli_error("ctl: unexpected answer from the daemon: %s", text);
			break;
		}
	}
	buf_free(&line);
	return status;
}

/* --- Records --------------------------------------------------------------- */

/* One D record's fields, decoded. */
struct ctl_record {
	struct ctl_request r;
	bool valid;
};

static void ctl_record_parse(struct ctl_record *rec, const char *text)
{
	const char *error;
	rec->valid = ctl_proto_parse(text, false, &rec->r, &error);
}

static const char *ctl_field(const struct ctl_record *rec, const char *key)
{
	const char *v = rec->valid ? ctl_request_get(&rec->r, key) : NULL;
	return v != NULL ? v : "";
}

static unsigned long long ctl_field_u64(const struct ctl_record *rec, const char *key)
{
	return strtoull(ctl_field(rec, key), NULL, 10);
}

struct ctl_table {
	struct ctl_record *rows;
	size_t count;
};

static void ctl_table_add(const char *text, void *ctx)
{
	struct ctl_table *t = ctx;
	t->rows = realloc(t->rows, (t->count + 1) * sizeof(*t->rows));
	if (t->rows == NULL) {
		cli_error("out of memory");
		exit(EX_SOFTWARE);
	}
	ctl_record_parse(&t->rows[t->count++], text);
}

static void ctl_table_free(struct ctl_table *t)
{
	for (size_t i = 0; i < t->count; i++)
		if (t->rows[i].valid)
			ctl_request_free(&t->rows[i].r);
	free(t->rows);
	t->rows = NULL;
	t->count = 0;
}

static void ctl_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void ctl_json_nullable(FILE *out, const char *s)
{
	if (*s == '\0')
		fputs("null", out);
	else
		ctl_json_string(out, s);
}

static void ctl_format_time(char *out, size_t size, unsigned long long ms)
{
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&sec, &tm);
	strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void ctl_format_span(char *out, size_t size, unsigned long long ms)
{
	unsigned long long s = ms / 1000;
	if (s < 60)
		snprintf(out, size, "%llus", s);
	else if (s < 3600)
		snprintf(out, size, "%llum%02llus", s / 60, s % 60);
	else if (s < 86400)
		snprintf(out, size, "%lluh%02llum", s / 3600, s % 3600 / 60);
	else
		snprintf(out, size, "%llud%02lluh", s / 86400, s % 86400 / 3600);
}

/* Printable text for a table cell: control bytes shown as '?'. */
static const char *ctl_cell(const char *s, char *tmp, size_t size)
{
	if (*s == '\0')
		return "-";
	size_t n = 0;
	for (; *s != '\0' && n + 1 < size; s++)
		tmp[n++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
	tmp[n] = '\0';
	return tmp;
}

/* --- sessions ---------------------------------------------------------------- */

#define CTL_SESSION_COLUMNS 12

static void ctl_sessions_print(const struct ctl_table *t, bool json)
{
	if (json) {
		fputs("[", stdout);
		for (size_t i = 0; i < t->count; i++) {
			const struct ctl_record *r = &t->rows[i];
			char since[32];
			ctl_format_time(since, sizeof(since), ctl_field_u64(r, "since_ms"));
			fputs(i > 0 ? ",\n " : "\n ", stdout);
			fputs("{\"id\": ", stdout);
			ctl_json_string(stdout, ctl_field(r, "id"));
			fputs(", \"user\": ", stdout);
			ctl_json_nullable(stdout, ctl_field(r, "user"));
			fputs(", \"remote\": ", stdout);
			ctl_json_string(stdout, ctl_field(r, "remote"));
			printf(", \"tls\": %s, \"client_id\": ",
			       ctl_field_u64(r, "tls") ? "true" : "false");
			ctl_json_nullable(stdout, ctl_field(r, "client"));
			fputs(", \"workarounds\": ", stdout);
			ctl_json_nullable(stdout, ctl_field(r, "workarounds"));
			fputs(", \"state\": ", stdout);
			ctl_json_string(stdout, ctl_field(r, "state"));
			fputs(", \"mailbox\": ", stdout);
			ctl_json_nullable(stdout, ctl_field(r, "mailbox"));
			printf(", \"since\": \"%s\", \"since_ms\": %llu, \"idle_ms\": %llu, "
			       "\"bytes_in\": %llu, \"bytes_out\": %llu, \"commands\": %llu, "
			       "\"traced\": %s}",
			       since, ctl_field_u64(r, "since_ms"), ctl_field_u64(r, "idle_ms"),
			       ctl_field_u64(r, "bytes_in"), ctl_field_u64(r, "bytes_out"),
			       ctl_field_u64(r, "commands"),
			       ctl_field_u64(r, "traced") ? "true" : "false");
		}
		fputs(t->count > 0 ? "\n]\n" : "]\n", stdout);
		return;
	}
	static const char *const heads[CTL_SESSION_COLUMNS] = {
		"ID", "USER", "REMOTE", "TLS", "CLIENT", "STATE", "MAILBOX", "SINCE", "IDLE",
		"IN", "OUT", "CMDS",
	};
	size_t rows = t->count + 1;
	char (*cells)[CTL_SESSION_COLUMNS][128] = calloc(rows, sizeof(*cells));
	if (cells == NULL)
		return;
	size_t width[CTL_SESSION_COLUMNS] = { 0 };
	for (size_t c = 0; c < CTL_SESSION_COLUMNS; c++)
		snprintf(cells[0][c], sizeof(cells[0][c]), "%s", heads[c]);
	for (size_t i = 0; i < t->count; i++) {
		const struct ctl_record *r = &t->rows[i];
		char (*row)[128] = cells[i + 1];
		char tmp[128];
		snprintf(row[0], 128, "%.100s%s", ctl_cell(ctl_field(r, "id"), tmp, sizeof(tmp)),
			 ctl_field_u64(r, "traced") ? "*" : "");
		snprintf(row[1], 128, "%s", ctl_cell(ctl_field(r, "user"), tmp, sizeof(tmp)));
		snprintf(row[2], 128, "%s", ctl_cell(ctl_field(r, "remote"), tmp, sizeof(tmp)));
		snprintf(row[3], 128, "%s", ctl_field_u64(r, "tls") ? "yes" : "no");
		snprintf(row[4], 128, "%s", ctl_cell(ctl_field(r, "client"), tmp, 40));
		snprintf(row[5], 128, "%s", ctl_cell(ctl_field(r, "state"), tmp, sizeof(tmp)));
		snprintf(row[6], 128, "%s", ctl_cell(ctl_field(r, "mailbox"), tmp, 40));
		ctl_format_time(row[7], 128, ctl_field_u64(r, "since_ms"));
		ctl_format_span(row[8], 128, ctl_field_u64(r, "idle_ms"));
		snprintf(row[9], 128, "%llu", ctl_field_u64(r, "bytes_in"));
		snprintf(row[10], 128, "%llu", ctl_field_u64(r, "bytes_out"));
		snprintf(row[11], 128, "%llu", ctl_field_u64(r, "commands"));
	}
	for (size_t i = 0; i < rows; i++)
		for (size_t c = 0; c < CTL_SESSION_COLUMNS; c++)
			if (strlen(cells[i][c]) > width[c])
				width[c] = strlen(cells[i][c]);
	for (size_t i = 0; i < rows; i++) {
		for (size_t c = 0; c + 1 < CTL_SESSION_COLUMNS; c++)
			printf("%-*s  ", (int)width[c], cells[i][c]);
		printf("%s\n", cells[i][CTL_SESSION_COLUMNS - 1]);
	}
	free(cells);
	if (t->count > 0)
		printf("(%zu session%s; * = traced)\n", t->count, t->count == 1 ? "" : "s");
}

/* --- stats -------------------------------------------------------------------- */

static void ctl_ms(char *out, size_t size, unsigned long long us)
{
	snprintf(out, size, "%llu.%03llu", us / 1000, us % 1000);
}

static void ctl_stats_print(const struct ctl_table *t, bool json)
{
	if (json) {
		fputs("{", stdout);
		bool first = true;
		for (size_t i = 0; i < t->count; i++) {
			const struct ctl_record *r = &t->rows[i];
			if (strcmp(ctl_field(r, "kind"), "counter") != 0)
				continue;
			printf("%s\n  ", first ? "" : ",");
			ctl_json_string(stdout, ctl_field(r, "name"));
			printf(": %llu", ctl_field_u64(r, "value"));
			first = false;
		}
		const char *kinds[] = { "command", "client" };
		const char *keys[] = { "commands", "clients" };
		for (size_t k = 0; k < 2; k++) {
			printf("%s\n  \"%s\": {", first ? "" : ",", keys[k]);
			first = false;
			bool first_row = true;
			for (size_t i = 0; i < t->count; i++) {
				const struct ctl_record *r = &t->rows[i];
				if (strcmp(ctl_field(r, "kind"), kinds[k]) != 0)
					continue;
				printf("%s\n    ", first_row ? "" : ",");
				first_row = false;
				ctl_json_string(stdout, ctl_field(r, "name"));
				if (k == 0)
					printf(": {\"count\": %llu, \"p50_us\": %llu, \"p90_us\": %llu, "
					       "\"p99_us\": %llu, \"max_us\": %llu, \"no\": %llu, "
					       "\"bad\": %llu}",
					       ctl_field_u64(r, "count"), ctl_field_u64(r, "p50_us"),
					       ctl_field_u64(r, "p90_us"), ctl_field_u64(r, "p99_us"),
					       ctl_field_u64(r, "max_us"), ctl_field_u64(r, "no"),
					       ctl_field_u64(r, "bad"));
				else
					printf(": {\"no\": %llu, \"bad\": %llu}", ctl_field_u64(r, "no"),
					       ctl_field_u64(r, "bad"));
			}
			fputs(first_row ? "}" : "\n  }", stdout);
		}
		fputs("\n}\n", stdout);
		return;
	}
	char tmp[64];
	for (size_t i = 0; i < t->count; i++) {
		const struct ctl_record *r = &t->rows[i];
		if (strcmp(ctl_field(r, "kind"), "counter") == 0)
			printf("%-16s %llu\n", ctl_cell(ctl_field(r, "name"), tmp, sizeof(tmp)),
			       ctl_field_u64(r, "value"));
	}
	printf("\n%-20s %8s %10s %10s %10s %10s %6s %6s\n", "COMMAND", "COUNT", "P50_MS", "P90_MS",
	       "P99_MS", "MAX_MS", "NO", "BAD");
	for (size_t i = 0; i < t->count; i++) {
		const struct ctl_record *r = &t->rows[i];
		if (strcmp(ctl_field(r, "kind"), "command") != 0)
			continue;
		char p50[32], p90[32], p99[32], max[32];
		ctl_ms(p50, sizeof(p50), ctl_field_u64(r, "p50_us"));
		ctl_ms(p90, sizeof(p90), ctl_field_u64(r, "p90_us"));
		ctl_ms(p99, sizeof(p99), ctl_field_u64(r, "p99_us"));
		ctl_ms(max, sizeof(max), ctl_field_u64(r, "max_us"));
		printf("%-20s %8llu %10s %10s %10s %10s %6llu %6llu\n",
		       ctl_cell(ctl_field(r, "name"), tmp, sizeof(tmp)), ctl_field_u64(r, "count"),
		       p50, p90, p99, max, ctl_field_u64(r, "no"), ctl_field_u64(r, "bad"));
	}
	printf("\n%-32s %6s %6s\n", "CLIENT (from ID)", "NO", "BAD");
	for (size_t i = 0; i < t->count; i++) {
		const struct ctl_record *r = &t->rows[i];
		if (strcmp(ctl_field(r, "kind"), "client") == 0)
			printf("%-32s %6llu %6llu\n", ctl_cell(ctl_field(r, "name"), tmp, sizeof(tmp)),
			       ctl_field_u64(r, "no"), ctl_field_u64(r, "bad"));
	}
}

/* --- trace list / show / tail ------------------------------------------------ */

static void ctl_trace_list_print(const struct ctl_table *t)
{
	size_t rules = 0, sessions = 0;
	char tmp[256];
	for (size_t i = 0; i < t->count; i++) {
		const struct ctl_record *r = &t->rows[i];
		if (strcmp(ctl_field(r, "kind"), "rule") != 0)
			continue;
		if (rules++ == 0)
			puts("Rules:");
		unsigned long long exp = ctl_field_u64(r, "expires_ms");
		char until[128] = "until switched off";
		if (exp != 0) {
			char when[32], left[32];
			uint64_t now = (uint64_t)time(NULL) * 1000;
			ctl_format_time(when, sizeof(when), exp);
			ctl_format_span(left, sizeof(left), exp > now ? exp - now : 0);
			snprintf(until, sizeof(until), "until %s (%s left)", when, left);
		}
		printf("  %-8s %-24s %s, literals cut at %llu bytes\n", ctl_field(r, "match"),
		       ctl_cell(ctl_field(r, "value"), tmp, sizeof(tmp)), until,
		       ctl_field_u64(r, "literal_bytes"));
	}
	if (rules == 0)
		puts("No trace rules.");
	for (size_t i = 0; i < t->count; i++) {
		const struct ctl_record *r = &t->rows[i];
		if (strcmp(ctl_field(r, "kind"), "session") != 0)
			continue;
		if (sessions++ == 0)
			puts("Sessions being traced:");
		char user[128];
		printf("  %-10s %-20s %s\n", ctl_field(r, "id"),
		       ctl_cell(ctl_field(r, "user"), user, sizeof(user)),
		       ctl_cell(ctl_field(r, "path"), tmp, sizeof(tmp)));
	}
	if (sessions == 0)
		puts("No session is being traced.");
}

static void ctl_print_text(const char *text, void *ctx)
{
	(void)ctx;
	puts(text);
	fflush(stdout);
}

static void ctl_print_kicked(const char *text, void *ctx)
{
	(void)ctx;
	struct ctl_record rec;
	ctl_record_parse(&rec, text);
	char tmp[128];
	printf("ended session %s (user %s)\n", ctl_field(&rec, "id"),
	       ctl_cell(ctl_field(&rec, "user"), tmp, sizeof(tmp)));
	if (rec.valid)
		ctl_request_free(&rec.r);
}

/* --- Argument parsing ------------------------------------------------------------ */

/* The selector options of trace on/off into req. */
static int ctl_trace_args(int argc, char **argv, int i, bool on, struct buf *req,
			  uint64_t *for_s_r)
{
	int selectors = 0;
	for (; i < argc; i++) {
		const char *a = argv[i];
		bool has_value = i + 1 < argc;
		if (strcmp(a, "--user") == 0 && has_value) {
			ctl_proto_field(req, "user", argv[++i]);
			selectors++;
		} else if (strcmp(a, "--address") == 0 && has_value) {
			ctl_proto_field(req, "address", argv[++i]);
			selectors++;
		} else if (strcmp(a, "--all") == 0) {
			ctl_proto_field(req, "all", "1");
			selectors++;
		} else if (on && strcmp(a, "--for") == 0 && has_value) {
			if (!ctl_parse_duration(argv[++i], for_s_r))
				return ctl_usage_error("invalid duration '%s'", argv[i]);
			ctl_proto_field_u64(req, "for", *for_s_r);
		} else if (on && strcmp(a, "--literal-bytes") == 0 && has_value) {
			char *end;
			errno = 0;
			unsigned long long n = strtoull(argv[++i], &end, 10);
			if (errno != 0 || *end != '\0' || end == argv[i] || argv[i][0] == '-')
				return ctl_usage_error("invalid byte count '%s'", argv[i]);
			ctl_proto_field_u64(req, "literal_bytes", n);
		} else {
			return ctl_usage_error("unexpected argument '%s'", a);
		}
	}
	if (selectors != 1)
		return ctl_usage_error("%s", "give exactly one of --user NAME, --address CIDR, --all");
	return 0;
}

static int ctl_run(const char *socket_path, int argc, char **argv)
{
	const char *cmd = argv[0];
	const char *sub = argc > 1 ? argv[1] : "";
	bool json = false;
	struct buf req = BUF_INIT;
	enum { OUT_NONE, OUT_SESSIONS, OUT_STATS, OUT_LIST, OUT_TEXT, OUT_KICK } out = OUT_NONE;
	uint64_t for_s = 0;
	bool tail = false;
	int rc = 0;

	if (strcmp(cmd, "sessions") == 0 || strcmp(cmd, "stats") == 0) {
		for (int i = 1; i < argc; i++) {
			if (strcmp(argv[i], "--json") == 0)
				json = true;
			else
				return ctl_usage_error("unexpected argument '%s'", argv[i]);
		}
		buf_append_str(&req, cmd[1] == 'e' ? "SESSIONS" : "STATS");
		out = cmd[1] == 'e' ? OUT_SESSIONS : OUT_STATS;
	} else if (strcmp(cmd, "ping") == 0) {
		if (argc > 1)
			return ctl_usage_error("unexpected argument '%s'", argv[1]);
		buf_append_str(&req, "PING");
	} else if (strcmp(cmd, "kick") == 0) {
		buf_append_str(&req, "KICK");
		bool target = false;
		for (int i = 1; i < argc; i++) {
			if (strcmp(argv[i], "--user") == 0 && i + 1 < argc && !target) {
				ctl_proto_field(&req, "user", argv[++i]);
				target = true;
			} else if (strcmp(argv[i], "--reason") == 0 && i + 1 < argc) {
				ctl_proto_field(&req, "reason", argv[++i]);
			} else if (argv[i][0] != '-' && !target) {
				ctl_proto_field(&req, "session", argv[i]);
				target = true;
			} else {
				buf_free(&req);
				return ctl_usage_error("unexpected argument '%s'", argv[i]);
			}
		}
		if (!target) {
			buf_free(&req);
			return ctl_usage_error("%s", "kick needs SESSION or --user NAME");
		}
		out = OUT_KICK;
	} else if (strcmp(cmd, "trace") == 0 && (strcmp(sub, "on") == 0 || strcmp(sub, "off") == 0)) {
		bool on = strcmp(sub, "on") == 0;
		buf_append_str(&req, on ? "TRACE-ON" : "TRACE-OFF");
		rc = ctl_trace_args(argc, argv, 2, on, &req, &for_s);
	} else if (strcmp(cmd, "trace") == 0 && strcmp(sub, "list") == 0) {
		if (argc > 2)
			return ctl_usage_error("unexpected argument '%s'", argv[2]);
		buf_append_str(&req, "TRACE-LIST");
		out = OUT_LIST;
	} else if (strcmp(cmd, "trace") == 0 && strcmp(sub, "show") == 0) {
		if (argc != 3 || argv[2][0] == '-')
			return ctl_usage_error("%s", "trace show needs a SESSION id");
		buf_append_str(&req, "TRACE-SHOW");
		ctl_proto_field(&req, "session", argv[2]);
		out = OUT_TEXT;
	} else if (strcmp(cmd, "trace") == 0 && strcmp(sub, "tail") == 0) {
		buf_append_str(&req, "TRACE-TAIL");
		bool user = false;
		for (int i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--user") == 0 && i + 1 < argc && !user) {
				ctl_proto_field(&req, "user", argv[++i]);
				user = true;
			} else if (strcmp(argv[i], "--for") == 0 && i + 1 < argc) {
				if (!ctl_parse_duration(argv[++i], &for_s)) {
					buf_free(&req);
					return ctl_usage_error("invalid duration '%s'", argv[i]);
				}
			} else {
				buf_free(&req);
				return ctl_usage_error("unexpected argument '%s'", argv[i]);
			}
		}
		if (!user) {
			buf_free(&req);
			return ctl_usage_error("%s", "trace tail needs --user NAME");
		}
		out = OUT_TEXT;
		tail = true;
	} else {
		return ctl_usage_error("unknown command '%s'", cmd);
	}
	if (rc != 0) {
		buf_free(&req);
		return rc;
	}
	buf_append_char(&req, '\n');

	struct ctl_conn cc = { .fd = -1 };
	rc = ctl_connect(socket_path, &cc);
	if (rc != 0) {
		buf_free(&req);
		return rc;
	}
	struct ctl_table table = { 0 };
	struct buf ok_text = BUF_INIT;
	ctl_row_fn *on_row = out == OUT_TEXT ? ctl_print_text
			     : out == OUT_KICK ? ctl_print_kicked : ctl_table_add;
	uint64_t deadline = 0;
	if (tail) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = ctl_on_signal;   /* no SA_RESTART: poll returns */
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		deadline = for_s != 0 ? time_mono_ms() + for_s * 1000 : UINT64_MAX;
	}
	rc = ctl_request(&cc, &req, on_row, &table, deadline, &ok_text);
	ctl_close(&cc);
	buf_free(&req);
	if (rc == 0) {
		if (out == OUT_SESSIONS)
			ctl_sessions_print(&table, json);
		else if (out == OUT_STATS)
			ctl_stats_print(&table, json);
		else if (out == OUT_LIST)
			ctl_trace_list_print(&table);
		else if (out == OUT_NONE && ok_text.len > 0)
			puts(buf_cstr(&ok_text));
	}
	ctl_table_free(&table);
	buf_free(&ok_text);
	return rc;
}

int cli_ctl(struct petrel_config *cfg, int argc, char **argv)
{
	const char *socket_path = cfg->ctl_socket;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(ctl_usage, stdout);
			return 0;
		}
		if ((strcmp(argv[i], "--socket") == 0 || strcmp(argv[i], "-s") == 0) && i + 1 < argc)
			socket_path = argv[++i];
		else
			return ctl_usage_error("unknown option '%s'", argv[i]);
	}
	if (i >= argc)
		return ctl_usage_error("%s", "no command given");
	if (cli_wants_help(argc - i, argv + i)) {
		fputs(ctl_usage, stdout);
		return 0;
	}
	return ctl_run(socket_path, argc - i, argv + i);
}
