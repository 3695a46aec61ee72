#include "ctl/ctl-trace.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Raw bytes of one line (outside literal data) kept for display and
 * masking; the rest of a longer line is counted, not shown. */
#define TRACE_SEGMENT_MAX (64 * 1024)
/* Last bytes of an over-long line, enough to see a literal announcement
 * ("~{18446744073709551615+}") at its end. */
#define TRACE_TAIL_MAX 32
#define TRACE_MASK "***"

/* --- Settings -------------------------------------------------------------- */

static char *ctl_trace_base_dir;
static size_t ctl_trace_literal_default = 4096;
static unsigned ctl_trace_max_age = 7 * 86400;

void ctl_trace_configure(const char *dir, size_t literal_bytes, unsigned max_age_s)
{
	free(ctl_trace_base_dir);
	ctl_trace_base_dir = xstrdup(dir);
	ctl_trace_literal_default = literal_bytes;
	ctl_trace_max_age = max_age_s;
}

void ctl_trace_deconfigure(void)
{
	free(ctl_trace_base_dir);
	ctl_trace_base_dir = NULL;
}

const char *ctl_trace_dir(void)
{
	return ctl_trace_base_dir != NULL ? ctl_trace_base_dir : "trace";
}

size_t ctl_trace_default_literal_bytes(void)
{
	return ctl_trace_literal_default;
}

/* --- Rules --------------------------------------------------------------- */

_Atomic unsigned ctl_trace_rules_generation = 1;
_Atomic unsigned ctl_trace_rules_count;

static pthread_mutex_t ctl_trace_rules_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ctl_trace_rule ctl_trace_rules[CTL_TRACE_RULES_MAX];
static size_t ctl_trace_nrules;

static void ctl_trace_rules_changed(void)
{
	atomic_store_explicit(&ctl_trace_rules_count, (unsigned)ctl_trace_nrules,
			      memory_order_release);
	atomic_fetch_add_explicit(&ctl_trace_rules_generation, 1, memory_order_acq_rel);
}

static ssize_t ctl_trace_rule_find(enum ctl_trace_match match, const char *value)
{
	for (size_t i = 0; i < ctl_trace_nrules; i++)
		if (ctl_trace_rules[i].match == match && strcmp(ctl_trace_rules[i].value, value) == 0)
			return (ssize_t)i;
	return -1;
}

bool ctl_trace_rule_set(const struct ctl_trace_rule *rule, const char **error_r)
{
	pthread_mutex_lock(&ctl_trace_rules_lock);
	ssize_t i = ctl_trace_rule_find(rule->match, rule->value);
	if (i < 0) {
		if (ctl_trace_nrules == CTL_TRACE_RULES_MAX) {
			pthread_mutex_unlock(&ctl_trace_rules_lock);
			*error_r = "too many trace rules";
			return false;
		}
		i = (ssize_t)ctl_trace_nrules++;
	}
	ctl_trace_rules[i] = *rule;
	ctl_trace_rules_changed();
	pthread_mutex_unlock(&ctl_trace_rules_lock);
	return true;
}

static void ctl_trace_rule_remove_at(size_t i)
{
	memmove(&ctl_trace_rules[i], &ctl_trace_rules[i + 1],
		(ctl_trace_nrules - i - 1) * sizeof(*ctl_trace_rules));
	ctl_trace_nrules--;
}

bool ctl_trace_rule_clear(enum ctl_trace_match match, const char *value)
{
	pthread_mutex_lock(&ctl_trace_rules_lock);
	ssize_t i = ctl_trace_rule_find(match, value);
	if (i >= 0) {
		ctl_trace_rule_remove_at((size_t)i);
		ctl_trace_rules_changed();
	}
	pthread_mutex_unlock(&ctl_trace_rules_lock);
	return i >= 0;
}

size_t ctl_trace_rules_copy(struct ctl_trace_rule *out, size_t max)
{
	pthread_mutex_lock(&ctl_trace_rules_lock);
	size_t n = ctl_trace_nrules;
	memcpy(out, ctl_trace_rules, (n < max ? n : max) * sizeof(*out));
	pthread_mutex_unlock(&ctl_trace_rules_lock);
	return n;
}

void ctl_trace_rules_expire(uint64_t now_ms)
{
	pthread_mutex_lock(&ctl_trace_rules_lock);
	bool changed = false;
	for (size_t i = 0; i < ctl_trace_nrules;) {
		const struct ctl_trace_rule *r = &ctl_trace_rules[i];
		if (r->expires_ms != 0 && r->expires_ms <= now_ms) {
			log_event(LOG_INFO, NULL, "trace_rule_expired", "match=%s value=%s",
				  r->match == CTL_TRACE_MATCH_USER ? "user" :
				  r->match == CTL_TRACE_MATCH_ADDRESS ? "address" : "all",
				  r->value[0] != '\0' ? r->value : "-");
			ctl_trace_rule_remove_at(i);
			changed = true;
		} else {
			i++;
		}
	}
	if (changed)
		ctl_trace_rules_changed();
	pthread_mutex_unlock(&ctl_trace_rules_lock);
}

bool ctl_trace_rules_match(const char *user, const char *ip, size_t *literal_bytes_r)
{
	bool matched = false;
	size_t literal = 0;
	pthread_mutex_lock(&ctl_trace_rules_lock);
	for (size_t i = 0; i < ctl_trace_nrules; i++) {
		const struct ctl_trace_rule *r = &ctl_trace_rules[i];
		bool m = r->match == CTL_TRACE_MATCH_ALL ||
			 (r->match == CTL_TRACE_MATCH_USER && user != NULL &&
			  strcmp(r->value, user) == 0) ||
			 (r->match == CTL_TRACE_MATCH_ADDRESS && ip != NULL &&
			  cidr_match(&r->cidr, ip));
		if (m) {
			matched = true;
			if (r->literal_bytes > literal)
				literal = r->literal_bytes;
		}
	}
	pthread_mutex_unlock(&ctl_trace_rules_lock);
	*literal_bytes_r = literal;
	return matched;
}

/* --- Files --------------------------------------------------------------- */

/* mkdir -p for the directories of path (not the last component). */
static bool ctl_trace_make_parents(const char *path)
{
	char tmp[4096];
	size_t len = strlen(path);
	if (len >= sizeof(tmp))
		return false;
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return false;
		*p = '/';
	}
	return true;
}

/* A user name as a directory name: user names cannot contain '/' nor start
 * with '.' (userdb_name_valid), but the trace does not rely on it. */
static void ctl_trace_user_dir(struct buf *out, const char *user)
{
	if (user == NULL) {
		buf_append_str(out, CTL_TRACE_PREAUTH_DIR);
		return;
	}
	if (user[0] == '.')
		buf_append_char(out, '_');
	for (const char *p = user; *p != '\0'; p++)
		buf_append_char(out, *p == '/' ? '_' : *p);
}

static void ctl_trace_make_path(struct buf *out, const char *user, const char *session_id)
{
	time_t now = (time_t)(time_wall_ms() / 1000);
	struct tm tm;
	gmtime_r(&now, &tm);
	buf_printf(out, "%s/", ctl_trace_dir());
	ctl_trace_user_dir(out, user);
	buf_printf(out, "/%04d-%02d-%02d/%s.trace", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		   session_id);
}

static unsigned ctl_trace_cleanup_dir(const char *path, unsigned depth, time_t cutoff)
{
	DIR *d = opendir(path);
	if (d == NULL)
		return 0;
	unsigned removed = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		struct buf child = BUF_INIT;
		buf_printf(&child, "%s/%s", path, de->d_name);
		struct stat st;
		if (lstat(buf_cstr(&child), &st) == 0) {
			if (S_ISDIR(st.st_mode) && depth < 2) {
				removed += ctl_trace_cleanup_dir(buf_cstr(&child), depth + 1, cutoff);
				/* Fails, as it should, while something is left inside. */
				rmdir(buf_cstr(&child));
			} else if (S_ISREG(st.st_mode) && depth == 2 && st.st_mtime < cutoff) {
				if (unlink(buf_cstr(&child)) == 0)
					removed++;
			}
		}
		buf_free(&child);
	}
	closedir(d);
	return removed;
}

unsigned ctl_trace_cleanup(uint64_t now_ms)
{
	time_t cutoff = (time_t)(now_ms / 1000) - (time_t)ctl_trace_max_age;
	unsigned removed = ctl_trace_cleanup_dir(ctl_trace_dir(), 0, cutoff);
	if (removed > 0)
		log_event(LOG_INFO, NULL, "traces_removed", "count=%u max_age_s=%u", removed,
			  ctl_trace_max_age);
	return removed;
}

/* --- Framing -------------------------------------------------------------- */

enum trace_cmd {
	TRACE_CMD_OTHER,
	TRACE_CMD_LOGIN,
	TRACE_CMD_AUTHENTICATE,
};

/* One direction of the conversation. */
struct trace_side {
	const char *marker;          /* "C" or "S" */
	struct buf line;             /* display text of the line being built */
	struct buf seg;              /* raw bytes of the current text segment */
	uint64_t seg_dropped;        /* its bytes beyond TRACE_SEGMENT_MAX */
	unsigned char tail[TRACE_TAIL_MAX];
	size_t tail_len;             /* last bytes of an over-long segment */
	bool seg_secret;             /* a raw line read while AUTHENTICATE runs */
	bool seg_raw_line;           /* a raw line: no literals, no command */
	/* Literal data in progress. */
	bool in_literal;
	bool literal_secret;
	bool literal_cr;             /* a CR held back: CRLF ends a line */
	uint64_t literal_left;
	uint64_t literal_shown;
	uint64_t literal_hidden;
	/* Client: a synchronising literal announced; it comes only after the
	 * server's "+" (a refused one never does). */
	bool await_plus;
	bool await_secret;
	uint64_t await_size;
	/* Client: the next segment continues a command after a literal. */
	bool continuation;
	enum trace_cmd cmd;
	/* Client: the last command was AUTHENTICATE. */
	bool after_authenticate;
};

struct ctl_trace {
	int fd;
	char *path;
	char *session_id;
	size_t literal_bytes;
	struct buf out;              /* formatted lines not yet written */
	bool write_failed;
	struct trace_side client, server;
};

static void trace_timestamp(struct buf *out)
{
	uint64_t ms = time_wall_ms();
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&sec, &tm);
	buf_printf(out, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ ", tm.tm_year + 1900, tm.tm_mon + 1,
		   tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000));
}

static void trace_flush(struct ctl_trace *t)
{
	size_t off = 0;
	while (off < t->out.len && !t->write_failed) {
		ssize_t n = write(t->fd, t->out.data + off, t->out.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_event(LOG_ERROR, t->session_id, "trace_write_failed", "path=%s error=\"%s\"",
				  t->path ? t->path : "-", strerror(errno));
			t->write_failed = true;
			break;
		}
		off += (size_t)n;
	}
	buf_reset(&t->out);
}

static void trace_emit_line(struct ctl_trace *t, struct trace_side *side)
{
	trace_timestamp(&t->out);
	buf_printf(&t->out, "%s: ", side->marker);
	buf_append(&t->out, side->line.data, side->line.len);
	buf_append_char(&t->out, '\n');
	buf_reset(&side->line);
}

/* Display form of raw bytes: control bytes (but TAB) as \xNN so that a
 * trace line is always one line of text. */
static void trace_escape(struct buf *out, const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] < 0x20 && p[i] != '\t')
			buf_printf(out, "\\x%02x", p[i]);
		else if (p[i] == 0x7f)
			buf_append_str(out, "\\x7f");
		else
			buf_append_char(out, (char)p[i]);
	}
}

static void trace_more_bytes(struct buf *out, uint64_t n)
{
	buf_printf(out, "[... %llu more bytes]", (unsigned long long)n);
}

/* Finds a literal announcement ending raw: "{n}", "{n+}", "~{n}", "~{n+}".
 * Returns its start offset (or len when there is none). */
static size_t trace_find_literal(const unsigned char *raw, size_t len, uint64_t *size_r,
				 bool *sync_r)
{
	if (len < 3 || raw[len - 1] != '}')
		return len;
	size_t i = len - 1;
	bool sync = true;
	if (raw[i - 1] == '+') {
		sync = false;
		i--;
	}
	size_t digits_end = i;
	while (i > 0 && raw[i - 1] >= '0' && raw[i - 1] <= '9')
		i--;
	if (i == digits_end || i == 0 || raw[i - 1] != '{' || digits_end - i > 20)
		return len;
	uint64_t n = 0;
	for (size_t k = i; k < digits_end; k++) {
		unsigned d = (unsigned)(raw[k] - '0');
		if (n > (UINT64_MAX - d) / 10)
			return len;
		n = n * 10 + d;
	}
	i--;                    /* the '{' */
	if (i > 0 && raw[i - 1] == '~')
		i--;
	*size_r = n;
	*sync_r = sync;
	return i;
}

/* Masks p[0..len) keeping its leading and trailing spaces, so that the
 * masked line keeps the shape of the original. */
static void trace_mask_span(struct buf *out, const unsigned char *p, size_t len)
{
	size_t lead = 0, trail = 0;
	while (lead < len && p[lead] == ' ')
		lead++;
	while (trail < len - lead && p[len - 1 - trail] == ' ')
		trail++;
	buf_append(out, p, lead);
	if (lead < len)
		buf_append_str(out, TRACE_MASK);
	buf_append(out, p + len - trail, lead < len ? trail : 0);
}

/* Separators for masking purposes: IMAP only allows SP, but a client that
 * sends TAB (or worse) must not get its password into a trace. */
static bool trace_is_blank(unsigned char c)
{
	return c <= ' ';
}

/* Length of the token at p (up to a blank or the end). */
static size_t trace_token(const unsigned char *p, size_t len)
{
	size_t i = 0;
	while (i < len && !trace_is_blank(p[i]))
		i++;
	return i;
}

static bool trace_token_is(const unsigned char *p, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp((const char *)p, word, len) == 0;
}

/* End of the astring at p[0..len) (atom or quoted string), or 0 when it
 * cannot be told (an unterminated quoted string, a literal). */
static size_t trace_astring_end(const unsigned char *p, size_t len)
{
	if (len == 0 || p[0] == '{' || p[0] == '~')
		return 0;
	if (p[0] != '"')
		return trace_token(p, len);
	for (size_t i = 1; i < len; i++) {
		if (p[i] == '\\')
			i++;
		else if (p[i] == '"')
			return i + 1;
	}
	return 0;
}

/* Appends the display of one client text segment (raw[0..text_len) before
 * any literal announcement) with secrets masked, and says whether the
 * literal announced at its end (if any) holds a secret. */
static bool trace_client_segment(struct trace_side *side, const unsigned char *raw,
				 size_t text_len)
{
	struct buf *out = &side->line;
	if (side->continuation) {
		if (side->cmd == TRACE_CMD_OTHER) {
			trace_escape(out, raw, text_len);
			return false;
		}
		/* Everything after LOGIN's user name or AUTHENTICATE's
		 * mechanism is secret. */
		trace_mask_span(out, raw, text_len);
		return true;
	}
	/* A new command: tag SP [UID SP] name [SP args]. */
	side->cmd = TRACE_CMD_OTHER;
	bool after_authenticate = side->after_authenticate;
	side->after_authenticate = false;
	size_t tag_len = trace_token(raw, text_len);
	if (tag_len == text_len && after_authenticate && text_len > 0) {
		/* One word is no command: after an AUTHENTICATE it is most
		 * likely a SASL response sent without waiting for the "+". */
		buf_append_str(out, TRACE_MASK);
		return false;
	}
	size_t p = tag_len;
	while (p < text_len && trace_is_blank(raw[p]))
		p++;
	size_t name_len = trace_token(raw + p, text_len - p);
	if (trace_token_is(raw + p, name_len, "UID")) {
		p += name_len;
		while (p < text_len && trace_is_blank(raw[p]))
			p++;
		name_len = trace_token(raw + p, text_len - p);
	}
	if (trace_token_is(raw + p, name_len, "LOGIN"))
		side->cmd = TRACE_CMD_LOGIN;
	else if (trace_token_is(raw + p, name_len, "AUTHENTICATE"))
		side->cmd = TRACE_CMD_AUTHENTICATE;
	side->after_authenticate = side->cmd == TRACE_CMD_AUTHENTICATE;
	if (side->cmd == TRACE_CMD_OTHER) {
		trace_escape(out, raw, text_len);
		return false;
	}
	size_t arg = p + name_len;
	while (arg < text_len && trace_is_blank(raw[arg]))
		arg++;
	if (arg == text_len) {
		/* The first argument is a literal (or missing): it is the user
		 * name for LOGIN, the mechanism for AUTHENTICATE; what follows
		 * it is masked as a continuation. */
		trace_escape(out, raw, text_len);
		return false;
	}
	size_t end = side->cmd == TRACE_CMD_LOGIN ? trace_astring_end(raw + arg, text_len - arg)
						  : trace_token(raw + arg, text_len - arg);
	size_t shown = end == 0 ? p + name_len : arg + end;
	trace_escape(out, raw, shown);
	trace_mask_span(out, raw + shown, text_len - shown);
	return true;
}

static void trace_literal_begin(struct trace_side *side, uint64_t size, bool secret)
{
	side->in_literal = size > 0;
	side->literal_secret = secret;
	side->literal_left = size;
	side->literal_shown = 0;
	side->literal_hidden = 0;
	side->literal_cr = false;
	if (secret && size > 0)
		buf_append_str(&side->line, TRACE_MASK);
}

static void trace_literal_end(struct trace_side *side)
{
	if (side->literal_cr)
		buf_append_str(&side->line, "\\x0d");
	if (side->literal_hidden > 0)
		trace_more_bytes(&side->line, side->literal_hidden);
	side->in_literal = false;
	side->literal_cr = false;
}

static void trace_literal_data(struct ctl_trace *t, struct trace_side *side,
			       const unsigned char *p, size_t n)
{
	side->literal_left -= n;
	if (side->literal_secret)
		return;
	for (size_t i = 0; i < n; i++) {
		if (side->literal_shown >= t->literal_bytes) {
			side->literal_hidden += n - i;
			break;
		}
		side->literal_shown++;
		if (side->literal_cr) {
			side->literal_cr = false;
			if (p[i] == '\n') {
				trace_emit_line(t, side);
				continue;
			}
			buf_append_str(&side->line, "\\x0d");
		}
		if (p[i] == '\r')
			side->literal_cr = true;
		else if (p[i] == '\n')
			trace_emit_line(t, side);
		else
			trace_escape(&side->line, p + i, 1);
	}
}

static void trace_segment_append(struct trace_side *side, const unsigned char *p, size_t n)
{
	size_t room = side->seg.len < TRACE_SEGMENT_MAX ? TRACE_SEGMENT_MAX - side->seg.len : 0;
	size_t keep = n < room ? n : room;
	buf_append(&side->seg, p, keep);
	if (keep == n)
		return;
	side->seg_dropped += n - keep;
	/* Keep the last bytes to find a literal announcement at the end. */
	const unsigned char *rest = p + keep;
	size_t rest_len = n - keep;
	if (rest_len >= TRACE_TAIL_MAX) {
		memcpy(side->tail, rest + rest_len - TRACE_TAIL_MAX, TRACE_TAIL_MAX);
		side->tail_len = TRACE_TAIL_MAX;
	} else {
		size_t old = side->tail_len + rest_len > TRACE_TAIL_MAX
				     ? TRACE_TAIL_MAX - rest_len : side->tail_len;
		memmove(side->tail, side->tail + side->tail_len - old, old);
		memcpy(side->tail + old, rest, rest_len);
		side->tail_len = old + rest_len;
	}
}

static void trace_segment_reset(struct trace_side *side)
{
	buf_reset(&side->seg);
	side->seg_dropped = 0;
	side->tail_len = 0;
	side->seg_secret = false;
	side->seg_raw_line = false;
}

/* Appends the display of the segment's kept bytes text[0..len) (without
 * its line end and literal announcement) and a note for bytes beyond
 * them. Returns whether a literal announced after them holds a secret. */
static bool trace_segment_display(struct trace_side *side, bool is_client,
				  const unsigned char *text, size_t len)
{
	bool overflow = side->seg_dropped > 0;
	bool secret_literal = false;
	if (side->seg_raw_line) {
		if (!side->seg_secret)
			trace_escape(&side->line, text, len);
		else if (len == 1 && text[0] == '*' && !overflow)
			buf_append_char(&side->line, '*');   /* a cancelled exchange */
		else
			buf_append_str(&side->line, TRACE_MASK);
	} else if (is_client) {
		secret_literal = trace_client_segment(side, text, len);
	} else {
		trace_escape(&side->line, text, len);
	}
	if (overflow) {
		if (side->seg_secret || (is_client && side->cmd != TRACE_CMD_OTHER))
			buf_append_str(&side->line, " " TRACE_MASK);
		else
			trace_more_bytes(&side->line, side->seg_dropped);
	}
	return secret_literal;
}

/* A text segment ended with LF (included in seg, or in the tail). */
static void trace_segment_end(struct ctl_trace *t, struct trace_side *side, bool is_client)
{
	bool overflow = side->seg_dropped > 0;
	const unsigned char *raw = overflow ? side->tail : side->seg.data;
	size_t len = overflow ? side->tail_len : side->seg.len;
	/* The LF is there: the segment ended with it. */
	len--;
	bool crlf = len > 0 && raw[len - 1] == '\r';
	if (crlf)
		len--;
	uint64_t lit_size = 0;
	bool lit_sync = true;
	size_t ann = side->seg_raw_line ? len : trace_find_literal(raw, len, &lit_size, &lit_sync);
	bool has_literal = ann < len;

	/* Display: the kept bytes (all of them unless over-long). */
	bool secret_literal = trace_segment_display(side, is_client, side->seg.data,
						    overflow ? side->seg.len : ann);
	if (has_literal) {
		if (overflow)
			buf_append_char(&side->line, ' ');
		trace_escape(&side->line, raw + ann, len - ann);
	}
	if (!crlf)
		buf_append_str(&side->line, "[LF only]");
	trace_emit_line(t, side);
	trace_segment_reset(side);

	if (!has_literal) {
		side->continuation = false;
		return;
	}
	side->continuation = true;
	if (is_client && lit_sync) {
		side->await_plus = true;
		side->await_size = lit_size;
		side->await_secret = secret_literal;
	} else {
		trace_literal_begin(side, lit_size, secret_literal);
	}
}

static void trace_side_feed(struct ctl_trace *t, struct trace_side *side, bool is_client,
			    const unsigned char *p, size_t len)
{
	while (len > 0) {
		if (side->in_literal) {
			size_t n = side->literal_left < len ? (size_t)side->literal_left : len;
			trace_literal_data(t, side, p, n);
			p += n;
			len -= n;
			if (side->literal_left == 0)
				trace_literal_end(side);
			continue;
		}
		const unsigned char *lf = memchr(p, '\n', len);
		size_t n = lf != NULL ? (size_t)(lf - p) + 1 : len;
		trace_segment_append(side, p, n);
		p += n;
		len -= n;
		if (lf != NULL)
			trace_segment_end(t, side, is_client);
	}
}

static void trace_side_free(struct trace_side *side)
{
	buf_free(&side->line);
	buf_free(&side->seg);
}

/* --- Public writer ---------------------------------------------------------- */

static struct ctl_trace *ctl_trace_alloc(int fd, size_t literal_bytes)
{
	struct ctl_trace *t = xcalloc(1, sizeof(*t));
	t->fd = fd;
	t->literal_bytes = literal_bytes;
	t->client.marker = "C";
	t->server.marker = "S";
	return t;
}

struct ctl_trace *ctl_trace_new_fd(int fd, size_t literal_bytes)
{
	return ctl_trace_alloc(fd, literal_bytes);
}

struct ctl_trace *ctl_trace_open(const char *session_id, const char *user,
				 size_t literal_bytes, const char **error_r)
{
	struct buf path = BUF_INIT;
	ctl_trace_make_path(&path, user, session_id);
	if (!ctl_trace_make_parents(buf_cstr(&path))) {
		*error_r = "cannot create the trace directory";
		buf_free(&path);
		return NULL;
	}
	int fd = open(buf_cstr(&path), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
		      0600);
	if (fd < 0) {
		*error_r = "cannot open the trace file";
		buf_free(&path);
		return NULL;
	}
	struct ctl_trace *t = ctl_trace_alloc(fd, literal_bytes);
	t->path = xstrdup(buf_cstr(&path));
	t->session_id = xstrdup(session_id);
	buf_free(&path);
	return t;
}

static void trace_side_finish(struct ctl_trace *t, struct trace_side *side)
{
	if (side->in_literal) {
		trace_more_bytes(&side->line, side->literal_left);
		trace_literal_end(side);
	}
	if (side->seg.len > 0 || side->seg_dropped > 0) {
		trace_segment_display(side, side == &t->client, side->seg.data, side->seg.len);
		buf_append_str(&side->line, "[incomplete line]");
		trace_segment_reset(side);
	}
	if (side->line.len > 0)
		trace_emit_line(t, side);
}

void ctl_trace_close(struct ctl_trace **tp)
{
	struct ctl_trace *t = *tp;
	if (t == NULL)
		return;
	*tp = NULL;
	trace_side_finish(t, &t->client);
	trace_side_finish(t, &t->server);
	trace_flush(t);
	close(t->fd);
	trace_side_free(&t->client);
	trace_side_free(&t->server);
	buf_free(&t->out);
	free(t->path);
	free(t->session_id);
	free(t);
}

const char *ctl_trace_path(const struct ctl_trace *t)
{
	return t->path;
}

bool ctl_trace_move_to_user(struct ctl_trace *t, const char *user)
{
	if (t->path == NULL)
		return false;
	struct buf path = BUF_INIT;
	ctl_trace_make_path(&path, user, t->session_id);
	bool ok = strcmp(buf_cstr(&path), t->path) == 0 ||
		  (ctl_trace_make_parents(buf_cstr(&path)) &&
		   rename(t->path, buf_cstr(&path)) == 0);
	if (ok) {
		free(t->path);
		t->path = xstrdup(buf_cstr(&path));
	} else {
		log_event(LOG_WARN, t->session_id, "trace_move_failed", "path=%s error=\"%s\"",
			  buf_cstr(&path), strerror(errno));
	}
	buf_free(&path);
	return ok;
}

void ctl_trace_set_literal_bytes(struct ctl_trace *t, size_t literal_bytes)
{
	t->literal_bytes = literal_bytes;
}

void ctl_trace_client(struct ctl_trace *t, const void *data, size_t len,
		      enum ctl_trace_input kind)
{
	struct trace_side *side = &t->client;
	if (len == 0)
		return;
	if (side->await_plus) {
		/* Client bytes before any "+": the literal was refused and the
		 * command answered; these bytes start something new. */
		side->await_plus = false;
		side->continuation = false;
		side->cmd = TRACE_CMD_OTHER;
	}
	if (kind != CTL_TRACE_INPUT_COMMAND && !side->in_literal) {
		side->seg_raw_line = true;
		if (kind == CTL_TRACE_INPUT_SECRET_LINE)
			side->seg_secret = true;
	}
	trace_side_feed(t, side, true, data, len);
	trace_flush(t);
}

void ctl_trace_client_reset(struct ctl_trace *t)
{
	struct trace_side *side = &t->client;
	if (side->in_literal)
		trace_literal_end(side);
	if (side->seg.len > 0 || side->line.len > 0) {
		buf_append_str(&side->line, "[discarded]");
		trace_emit_line(t, side);
	}
	trace_segment_reset(side);
	side->await_plus = false;
	side->continuation = false;
	side->cmd = TRACE_CMD_OTHER;
	trace_flush(t);
}

void ctl_trace_server(struct ctl_trace *t, const void *data, size_t len)
{
	const unsigned char *p = data;
	/* A continuation request lets an announced client literal come. */
	struct trace_side *c = &t->client;
	if (c->await_plus && len > 0 && p[0] == '+' && t->server.seg.len == 0 &&
	    !t->server.in_literal) {
		c->await_plus = false;
		trace_literal_begin(c, c->await_size, c->await_secret);
		if (c->await_size == 0)
			c->continuation = true;
	}
	trace_side_feed(t, &t->server, false, p, len);
	trace_flush(t);
}

void ctl_trace_server_unseen(struct ctl_trace *t, uint64_t len)
{
	struct trace_side *side = &t->server;
	if (side->in_literal) {
		uint64_t n = len < side->literal_left ? len : side->literal_left;
		side->literal_left -= n;
		side->literal_hidden += n;
		len -= n;
		if (side->literal_left == 0)
			trace_literal_end(side);
	}
	if (len > 0)
		buf_printf(&side->line, "[%llu bytes not traced]", (unsigned long long)len);
}

void ctl_trace_event(struct ctl_trace *t, const char *fmt, ...)
{
	trace_timestamp(&t->out);
	buf_append_str(&t->out, "-- ");
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&t->out, fmt, ap);
	va_end(ap);
	buf_append_char(&t->out, '\n');
	trace_flush(t);
}
