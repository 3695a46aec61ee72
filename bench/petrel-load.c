/* petrel-load: an event-driven IMAP load generator.
 *
 * One process, one libevent loop, many connections (plain or TLS). Each
 * workload is a small state machine per connection; every answer is checked
 * against a model of what the mailbox must contain, so a fast but wrong
 * server shows up as errors, not as a good number.
 *
 * Output: human-readable text on stderr, and one machine-readable line per
 * result on stdout:
 *   RESULT workload=mixed server=petrel cmd=ALL metric=ops_per_s value=1234.5
 *
 * Workloads: mixed [--long], append, bigbox, idle, latency; helpers:
 * populate (APPEND a generated mailbox), genmaildir (write the same messages
 * as maildir files), genmsg (print one generated message). */

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

/* ------------------------------------------------------------------ */
/* Small utilities                                                      */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("petrel-load: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		die("out of memory");
	return p;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (p == NULL)
		die("out of memory");
	return p;
}

/* A growable byte buffer. */
struct sbuf {
	char *p;
	size_t len, cap;
};

static char *sbuf_reserve(struct sbuf *b, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
	return b->p + b->len;
}

static void sbuf_add(struct sbuf *b, const void *d, size_t n)
{
	memcpy(sbuf_reserve(b, n), d, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sbuf_addstr(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

static void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	char *d = sbuf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(d, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static void sbuf_free(struct sbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* splitmix64: a fast PRNG with a 64-bit state; deterministic per seed. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t rng_below(uint64_t *s, uint32_t n)
{
	return n ? (uint32_t)(rng_next(s) % n) : 0;
}

/* A 64-bit hash of a message's bytes, enough to notice a changed body,
 * eight bytes at a time: byte-at-a-time FNV was a fifth of the load
 * generator's CPU in mixed runs, taken from the server under test on a
 * small machine. */
static uint64_t hash_mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0xff51afd7ed558ccdull;
	return h ^ (h >> 32);
}

static uint64_t hash_bytes(const void *d, size_t n)
{
	const unsigned char *p = d;
	uint64_t h = 0xcbf29ce484222325ull ^ n, w;
	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = hash_mix(h, w);
	}
	w = 0;
	memcpy(&w, p, n);
	h = hash_mix(h, w);
	return h ? h : 1;
}

/* ------------------------------------------------------------------ */
/* Options                                                              */

static struct {
	const char *host;
	int port;
	bool tls;
	const char *user_fmt;
	const char *password;
	const char *label;
	const char *mailbox;
	int clients;
	int users;
	double duration;
	long count;
	bool long_sessions;
	int msgs;
	const char *sizes;
	const char *client_counts;
	long n;
	const char *rare;
	uint64_t seed;
	int reps;
	pid_t server_pid;
	const char *server_comm;
	const char *dir;
	int connect_window;
	int batch;
	int window;
	bool multiappend;
	int verbose;
	double timeout;
	bool inject_fault;
	const char *skip;
} opt = {
	.host = "127.0.0.1",
	.port = 1143,
	.user_fmt = "bench%d",
	.password = "bench",
	.label = "server",
	.mailbox = "INBOX",
	.clients = 8,
	.users = 0,
	.duration = 10,
	.count = 0,
	.msgs = 40,
	.sizes = "2048,102400,2097152",
	.client_counts = "1,16",
	.n = 0,
	.rare = "quetzalcoatlus",
	.seed = 42,
	.reps = 3,
	.connect_window = 200,
	.batch = 50,
	.window = 4,
	.timeout = 60,
};

static const char *workload_name = "";
static struct event_base *base;
static SSL_CTX *ssl_ctx;

static const char *user_name(int i)
{
	static char buf[8][128];
	static int slot;
	char *b = buf[slot++ & 7];
	if (strstr(opt.user_fmt, "%d"))
		snprintf(b, 128, opt.user_fmt, i);
	else
		snprintf(b, 128, "%s", opt.user_fmt);
	return b;
}

static void result(const char *cmd, const char *metric, double value)
{
	printf("RESULT workload=%s server=%s cmd=%s metric=%s value=%.3f\n", workload_name, opt.label,
	       cmd, metric, value);
	fflush(stdout);
}

/* ------------------------------------------------------------------ */
/* Statistics                                                           */

enum kind {
	K_LOGIN, K_SELECT, K_SYNC, K_FETCH_HDR, K_FETCH_BODY, K_STORE, K_APPEND, K_EXPUNGE,
	K_SEARCH, K_NOOP, K_LOGOUT, K_IDLE, K_CREATE, K_OTHER, K_DELIVERY,
	K_BB_SELECT, K_BB_FETCH_ENV, K_BB_FETCH_FLAGS, K_BB_SEARCH, K_BB_SEARCH_FROM,
	K_BB_SEARCH_UNSEEN, K_BB_SORT, K_BB_THREAD,
	K_COUNT
};

static const char *const kind_names[K_COUNT] = {
	"LOGIN", "SELECT", "FETCH_SYNC", "FETCH_HEADERS", "FETCH_BODY", "STORE", "APPEND",
	"EXPUNGE", "SEARCH", "NOOP", "LOGOUT", "IDLE", "CREATE", "OTHER", "DELIVERY",
	"SELECT", "FETCH_ENVELOPE", "FETCH_FLAGS", "SEARCH_TEXT", "SEARCH_FROM",
	"SEARCH_UNSEEN_SINCE", "SORT", "THREAD",
};

struct lat {
	uint32_t *us;
	size_t n, cap;
};

static struct {
	struct lat lat[K_COUNT];
	long consistency_errors;
	long protocol_errors;
	long connection_errors;
	long sessions;
	bool recording;
	uint64_t t_start;
} st;

static void lat_add(struct lat *l, uint64_t ns)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->us = xrealloc(l->us, l->cap * sizeof(*l->us));
	}
	uint64_t us = ns / 1000;
	l->us[l->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static double lat_pct(struct lat *l, double p)
{
	if (l->n == 0)
		return 0;
	size_t i = (size_t)(p / 100.0 * (double)(l->n - 1) + 0.5);
	return l->us[i] / 1000.0;
}

static void stats_reset(void)
{
	for (int k = 0; k < K_COUNT; k++)
		st.lat[k].n = 0;
	st.consistency_errors = st.protocol_errors = st.connection_errors = 0;
	st.sessions = 0;
}

static void consistency_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void consistency_error(const char *fmt, ...)
{
	st.consistency_errors++;
	if (st.consistency_errors <= 20 || opt.verbose) {
		va_list ap;
		va_start(ap, fmt);
		fputs("CONSISTENCY: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
	}
}

static void protocol_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void protocol_error(const char *fmt, ...)
{
	st.protocol_errors++;
	if (st.protocol_errors <= 20 || opt.verbose) {
		va_list ap;
		va_start(ap, fmt);
		fputs("PROTOCOL: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
	}
}

/* Prints per-command rates and percentiles for the kinds used. */
static void stats_report(double secs, bool rates)
{
	long total = 0;
	fprintf(stderr, "%-16s %9s %10s %9s %9s %9s\n", "command", "count", "ops/s", "p50 ms",
		"p90 ms", "p99 ms");
	for (int k = 0; k < K_COUNT; k++) {
		struct lat *l = &st.lat[k];
		if (l->n == 0)
			continue;
		qsort(l->us, l->n, sizeof(*l->us), cmp_u32);
		total += (long)l->n;
		double r = secs > 0 ? (double)l->n / secs : 0;
		fprintf(stderr, "%-16s %9zu %10.1f %9.2f %9.2f %9.2f\n", kind_names[k], l->n, r,
			lat_pct(l, 50), lat_pct(l, 90), lat_pct(l, 99));
		if (rates)
			result(kind_names[k], "ops_per_s", r);
		result(kind_names[k], "p50_ms", lat_pct(l, 50));
		result(kind_names[k], "p90_ms", lat_pct(l, 90));
		result(kind_names[k], "p99_ms", lat_pct(l, 99));
		result(kind_names[k], "count", (double)l->n);
	}
	if (rates && secs > 0) {
		fprintf(stderr, "total: %ld commands in %.1f s = %.1f ops/s\n", total, secs,
			(double)total / secs);
		result("ALL", "ops_per_s", (double)total / secs);
		result("ALL", "count", (double)total);
	}
}

static long errors_reported; /* over all errors_report() calls: the exit status */

static void errors_report(void)
{
	errors_reported += st.consistency_errors + st.protocol_errors + st.connection_errors;
	fprintf(stderr, "errors: consistency=%ld protocol=%ld connection=%ld\n",
		st.consistency_errors, st.protocol_errors, st.connection_errors);
	result("ALL", "consistency_errors", (double)st.consistency_errors);
	result("ALL", "protocol_errors", (double)st.protocol_errors);
	result("ALL", "connection_errors", (double)st.connection_errors);
}

/* ------------------------------------------------------------------ */
/* Realistic message generator                                          */

static const char *const words[] = {
	"the", "of", "and", "to", "in", "meeting", "project", "report", "budget", "review",
	"please", "thanks", "attached", "schedule", "tomorrow", "office", "customer", "invoice",
	"delivery", "update", "question", "answer", "team", "plan", "quarter", "results", "draft",
	"contract", "server", "release", "version", "issue", "ticket", "deadline", "agenda",
	"lunch", "travel", "hotel", "flight", "conference", "slides", "notes", "minutes", "call",
	"weekend", "holiday", "family", "garden", "weather", "coffee", "kitchen", "printer",
	"network", "backup", "password", "account", "payment", "order", "shipping", "warehouse",
	"product", "feature", "design", "testing", "feedback", "launch", "marketing", "sales",
	"support", "monday", "tuesday", "wednesday", "thursday", "friday", "morning", "evening",
	"would", "could", "should", "about", "before", "after", "during", "between", "through",
	"again", "already", "maybe", "really", "quickly", "carefully", "important", "urgent",
	"small", "large", "new", "old", "first", "last", "next", "other", "same", "different",
	"we", "you", "they", "I", "it", "is", "are", "was", "be", "have", "has", "will", "can",
	"for", "on", "with", "as", "at", "by", "from", "this", "that", "these", "those", "not",
	"café", "naïve", "Grüße", "año", "résumé", "Zürich", "København", "straße",
};
#define N_WORDS (sizeof(words) / sizeof(*words))

static const char *const first_names[] = {
	"Alice", "Bob", "Carol", "Dave", "Eve", "Frank", "Grace", "Heidi", "Ivan", "Judy",
	"Mallory", "Niaj", "Olivia", "Peggy", "Rupert", "Sybil", "Trent", "Victor", "Walter",
	"Zoë", "José", "Ünal", "Chen", "Priya",
};
static const char *const last_names[] = {
	"Smith", "Jones", "Müller", "García", "Rossi", "Dubois", "Nowak", "Tanaka", "Silva",
	"Kowalski", "Johansson", "O'Brien", "Nguyen", "Patel", "Schmidt", "Martin",
};
static const char *const domains[] = {
	"example.com", "example.org", "mail.example.net", "corp.example", "lists.example.org",
};
static const char *const mon_names[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
static const char *const day_names[] = { "Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed" };

/* Does generated message idx contain the rare word? About 1 in 1000, and
 * never 0 for N >= 1000. */
static bool gen_is_rare(uint64_t seed, uint64_t idx)
{
	uint64_t s = seed * 7919 + idx * 104729 + 17;
	return rng_next(&s) % 1000 == 7;
}

static long gen_rare_count(uint64_t seed, long n)
{
	long c = 0;
	for (long i = 0; i < n; i++)
		c += gen_is_rare(seed, (uint64_t)i);
	return c;
}

/* strlen of words[i], measured once (gen_words runs for every APPEND). */
static size_t word_length(size_t i)
{
	static uint8_t lengths[N_WORDS];
	if (lengths[i] == 0)
		lengths[i] = (uint8_t)strlen(words[i]);
	return lengths[i];
}

static void gen_words(struct sbuf *b, uint64_t *r, size_t bytes, bool rare)
{
	size_t start = b->len, line = 0;
	size_t rare_at = rare ? rng_below(r, (uint32_t)(bytes / 2 + 1)) : SIZE_MAX;
	bool sentence_start = true;
	while (b->len - start < bytes) {
		const char *w;
		size_t wl;
		if (b->len - start >= rare_at) {
			w = opt.rare;
			wl = strlen(w);
			rare_at = SIZE_MAX;
		} else {
			size_t i = rng_below(r, N_WORDS);
			w = words[i];
			wl = word_length(i);
		}
		if (line + wl + 1 > 72) {
			sbuf_add(b, "\r\n", 2);
			line = 0;
			if (rng_below(r, 8) == 0) {
				sbuf_add(b, "\r\n", 2);
				sentence_start = true;
			}
		} else if (line > 0) {
			sbuf_add(b, " ", 1);
			line++;
		}
		if (sentence_start && islower((unsigned char)w[0])) {
			char c = (char)toupper((unsigned char)w[0]);
			sbuf_add(b, &c, 1);
			sbuf_add(b, w + 1, wl - 1);
		} else {
			sbuf_add(b, w, wl);
		}
		line += wl;
		sentence_start = rng_below(r, 12) == 0;
		if (sentence_start) {
			sbuf_add(b, ".", 1);
			line++;
		}
	}
	if (rare_at != SIZE_MAX) { /* the body was shorter than expected */
		sbuf_add(b, " ", 1);
		sbuf_addstr(b, opt.rare);
	}
	sbuf_add(b, "\r\n", 2);
}

static void gen_base64(struct sbuf *b, uint64_t *r, size_t bytes)
{
	static const char tbl[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t chars = (bytes + 2) / 3 * 4;
	for (size_t i = 0; i < chars; i += 76) {
		size_t n = chars - i < 76 ? chars - i : 76;
		char *d = sbuf_reserve(b, n + 2);
		uint64_t bits = 0;
		for (size_t j = 0; j < n; j++, bits >>= 6) {
			if (j % 10 == 0) /* ten 6-bit digits from each number */
				bits = rng_next(r);
			d[j] = tbl[bits & 63];
		}
		d[n] = '\r';
		d[n + 1] = '\n';
		b->len += n + 2;
	}
}

static void gen_addr(struct sbuf *b, uint64_t *r)
{
	const char *fn = first_names[rng_below(r, sizeof(first_names) / sizeof(*first_names))];
	const char *ln = last_names[rng_below(r, sizeof(last_names) / sizeof(*last_names))];
	const char *dm = domains[rng_below(r, sizeof(domains) / sizeof(*domains))];
	bool non_ascii = false;
	for (const char *p = fn; *p; p++)
		non_ascii |= (unsigned char)*p >= 0x80;
	for (const char *p = ln; *p; p++)
		non_ascii |= (unsigned char)*p >= 0x80;
	char local[64];
	snprintf(local, sizeof(local), "user%u", rng_below(r, 500));
	if (non_ascii) /* an RFC 2047 encoded word, as real mailers send it */
		sbuf_printf(b, "=?UTF-8?Q?%s_%s?= <%s@%s>", "Z=C3=B6e", "M=C3=BCller", local, dm);
	else if (strchr(ln, '\''))
		sbuf_printf(b, "\"%s %s\" <%s@%s>", fn, ln, local, dm);
	else
		sbuf_printf(b, "%s %s <%s@%s>", fn, ln, local, dm);
}

/* The date of message idx: spread over about two years, increasing with
 * idx plus jitter. */
static time_t gen_date(uint64_t seed, uint64_t idx)
{
	uint64_t s = seed ^ (idx * 0x9e37ull);
	return (time_t)(1700000000 + idx * 600 + rng_below(&s, 3600));
}

static void gen_date_header(struct sbuf *b, time_t t)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	sbuf_printf(b, "%s, %d %s %d %02d:%02d:%02d +0000", day_names[(t / 86400) % 7], tm.tm_mday,
		    mon_names[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The INTERNALDATE argument of APPEND for message idx. */
static void gen_internaldate(char *out, size_t size, uint64_t seed, uint64_t idx)
{
	time_t t = gen_date(seed, idx) + 30;
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(out, size, "%02d-%s-%04d %02d:%02d:%02d +0000", tm.tm_mday, mon_names[tm.tm_mon],
		 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Flags of generated message idx (most old mail is read). */
static bool gen_seen(uint64_t seed, uint64_t idx)
{
	uint64_t s = seed * 31 + idx * 7 + 3;
	return rng_below(&s, 10) < 7;
}

/* The first line of a Received: field; draws the same numbers from r
 * whatever the order in which the compiler evaluates arguments. */
static void gen_received(struct sbuf *b, uint64_t *r)
{
	unsigned mx1 = rng_below(r, 9);
	unsigned mx2 = rng_below(r, 9);
	unsigned ip = rng_below(r, 250) + 1;
	uint64_t id = rng_next(r) & 0xffffffffu;
	sbuf_printf(b, "Received: from mx%u.example.org (mx%u.example.org [192.0.2.%u])\r\n"
		       "\tby mail.example.com (Postfix) with ESMTPS id %08" PRIX64 "\r\n\tfor <me@example.com>; ",
		    mx1, mx2, ip, id);
}

static uint64_t gen_message_rng(uint64_t seed, uint64_t idx)
{
	return seed * 0x100000001b3ull + idx + 1;
}

/* The From: field's value of generated message idx, as gen_message
 * writes it, into b. */
static void gen_from(struct sbuf *b, uint64_t seed, uint64_t idx)
{
	uint64_t r = gen_message_rng(seed, idx);
	struct sbuf received = { 0 };
	gen_received(&received, &r);
	sbuf_free(&received);
	b->len = 0;
	gen_addr(b, &r);
	sbuf_add(b, "", 1);
	b->len--;
}

/* How many of the first n messages have needle in their From: field
 * (ASCII, case-insensitive: the generator writes non-ASCII names as
 * encoded words, whose decoded text the needle must not be part of). */
static long gen_from_count(uint64_t seed, long n, const char *needle)
{
	struct sbuf b = { 0 };
	long c = 0;
	for (long i = 0; i < n; i++) {
		gen_from(&b, seed, (uint64_t)i);
		c += strcasestr(b.p, needle) != NULL;
	}
	sbuf_free(&b);
	return c;
}

/* Writes a realistic RFC 5322 message with CRLF line ends into b. When
 * size is 0, the size follows a mail-like distribution (mostly a few KB,
 * some tens of KB, a few attachments up to ~1 MB); otherwise a text/plain
 * message of about size bytes. */
static void gen_message(struct sbuf *b, uint64_t seed, uint64_t idx, size_t size)
{
	uint64_t r = gen_message_rng(seed, idx);
	bool rare = size == 0 && gen_is_rare(seed, idx);
	time_t t = gen_date(seed, idx);
	b->len = 0;
	sbuf_printf(b, "Return-Path: <bounce-%" PRIu64 "@example.org>\r\n", idx);
	gen_received(b, &r);
	gen_date_header(b, t + 20);
	sbuf_addstr(b, "\r\nDate: ");
	gen_date_header(b, t);
	sbuf_addstr(b, "\r\nFrom: ");
	gen_addr(b, &r);
	sbuf_addstr(b, "\r\nTo: ");
	gen_addr(b, &r);
	if (rng_below(&r, 3) == 0) {
		sbuf_addstr(b, "\r\nCc: ");
		gen_addr(b, &r);
		sbuf_addstr(b, ", ");
		gen_addr(b, &r);
	}
	/* Threads: a reply refers to one of the previous 50 messages and
	 * repeats its subject with "Re: ". */
	uint64_t thread_root = idx;
	bool reply = idx > 0 && rng_below(&r, 10) < 4;
	if (reply) {
		uint64_t back = 1 + rng_below(&r, 50);
		thread_root = idx > back ? idx - back : 0;
	}
	uint64_t sr = seed * 13 + thread_root * 0x51ed27ull;
	sbuf_printf(b, "\r\nSubject: %s%s %s %s %" PRIu64, reply ? "Re: " : "",
		    words[5 + rng_below(&sr, 60)], words[5 + rng_below(&sr, 60)],
		    words[5 + rng_below(&sr, 60)], thread_root % 997);
	sbuf_printf(b, "\r\nMessage-ID: <%" PRIu64 ".%" PRIu64 "@bench.example>", idx, seed);
	if (reply)
		sbuf_printf(b, "\r\nIn-Reply-To: <%" PRIu64 ".%" PRIu64 "@bench.example>\r\n"
			       "References: <%" PRIu64 ".%" PRIu64 "@bench.example>",
			    thread_root, seed, thread_root, seed);
	sbuf_addstr(b, "\r\nMIME-Version: 1.0\r\n");

	if (size > 0) {
		sbuf_addstr(b, "Content-Type: text/plain; charset=utf-8\r\n"
			       "Content-Transfer-Encoding: 8bit\r\n\r\n");
		size_t have = b->len;
		gen_words(b, &r, size > have + 2 ? size - have - 2 : 1, false);
		return;
	}

	uint32_t kind = rng_below(&r, 100);
	uint32_t szclass = rng_below(&r, 100);
	size_t text = szclass < 70 ? 300 + rng_below(&r, 3000)
		    : szclass < 95 ? 3000 + rng_below(&r, 20000)
				   : 20000 + rng_below(&r, 60000);
	if (kind < 60) {
		sbuf_addstr(b, "Content-Type: text/plain; charset=utf-8; format=flowed\r\n"
			       "Content-Transfer-Encoding: 8bit\r\n\r\n");
		gen_words(b, &r, text, rare);
	} else if (kind < 88) {
		sbuf_printf(b, "Content-Type: multipart/alternative; boundary=\"alt-%" PRIu64 "\"\r\n\r\n"
			       "This is a multi-part message in MIME format.\r\n"
			       "--alt-%" PRIu64 "\r\nContent-Type: text/plain; charset=utf-8\r\n"
			       "Content-Transfer-Encoding: 8bit\r\n\r\n", idx, idx);
		gen_words(b, &r, text, rare);
		sbuf_printf(b, "--alt-%" PRIu64 "\r\nContent-Type: text/html; charset=utf-8\r\n"
			       "Content-Transfer-Encoding: 8bit\r\n\r\n<html><body><p>\r\n", idx);
		gen_words(b, &r, text, false);
		sbuf_printf(b, "</p></body></html>\r\n--alt-%" PRIu64 "--\r\n", idx);
	} else {
		size_t att = rng_below(&r, 20) == 0 ? 200000 + rng_below(&r, 800000)
						    : 5000 + rng_below(&r, 100000);
		sbuf_printf(b, "Content-Type: multipart/mixed; boundary=\"mix-%" PRIu64 "\"\r\n\r\n"
			       "--mix-%" PRIu64 "\r\nContent-Type: text/plain; charset=utf-8\r\n"
			       "Content-Transfer-Encoding: quoted-printable\r\n\r\n", idx, idx);
		gen_words(b, &r, text / 2, rare);
		sbuf_printf(b, "--mix-%" PRIu64 "\r\nContent-Type: application/pdf; name=\"report-%" PRIu64 ".pdf\"\r\n"
			       "Content-Disposition: attachment; filename=\"report-%" PRIu64 ".pdf\"\r\n"
			       "Content-Transfer-Encoding: base64\r\n\r\n", idx, idx, idx);
		gen_base64(b, &r, att);
		sbuf_printf(b, "--mix-%" PRIu64 "--\r\n", idx);
	}
}

/* ------------------------------------------------------------------ */
/* Connections                                                          */

struct conn;
typedef void cmd_done_fn(struct conn *c, int status, const char *text, long arg);

enum { ST_OK = 0, ST_NO = 1, ST_BAD = 2, ST_CLOSED = 3 };

struct pending {
	struct pending *next;
	unsigned tag;
	int kind;
	uint64_t t0;
	cmd_done_fn *done;
	long arg;
};

struct conn_ops {
	void (*greeting)(struct conn *c, const char *line);
	void (*untagged)(struct conn *c, const char *line, size_t len);
	void (*cont)(struct conn *c, const char *line);
	void (*closed)(struct conn *c);
};

struct conn {
	struct bufferevent *bev;
	const struct conn_ops *ops;
	void *ud;
	struct sbuf resp;
	size_t lit_need;
	unsigned tagn;
	struct pending *head, *tail;
	bool greeted, expect_close, dead;
	uint64_t t_connect;
};

static long conns_open;

static void conn_free(struct conn *c)
{
	if (c->bev) {
		bufferevent_free(c->bev);
		c->bev = NULL;
		conns_open--;
	}
	while (c->head) {
		struct pending *p = c->head;
		c->head = p->next;
		free(p);
	}
	c->tail = NULL;
	sbuf_free(&c->resp);
}

/* Closes the connection; its owner is told through ops->closed unless the
 * close was expected. */
static void conn_close(struct conn *c, bool expected)
{
	if (c->dead)
		return;
	c->dead = true;
	struct pending *p = c->head;
	c->head = c->tail = NULL;
	if (!expected && !c->expect_close)
		st.connection_errors++;
	conn_free(c);
	while (p) { /* commands cut off by the close */
		struct pending *n = p->next;
		if (p->done && !c->expect_close)
			p->done(c, ST_CLOSED, "", p->arg);
		free(p);
		p = n;
	}
	if (c->ops->closed)
		c->ops->closed(c);
}

static void conn_dispatch(struct conn *c, const char *line, size_t len)
{
	if (opt.verbose > 1)
		fprintf(stderr, "S: %.*s\n", (int)(len > 300 ? 300 : len), line);
	if (!c->greeted) {
		c->greeted = true;
		if (len >= 4 && strncmp(line, "* OK", 4) == 0) {
			if (c->ops->greeting)
				c->ops->greeting(c, line);
		} else {
			protocol_error("bad greeting: %.*s", (int)(len > 100 ? 100 : len), line);
			conn_close(c, false);
		}
		return;
	}
	if (line[0] == '*') {
		if (c->ops->untagged)
			c->ops->untagged(c, line, len);
		return;
	}
	if (line[0] == '+') {
		if (c->ops->cont)
			c->ops->cont(c, line);
		return;
	}
	if (line[0] != 't') {
		protocol_error("unexpected line: %.*s", (int)(len > 100 ? 100 : len), line);
		return;
	}
	unsigned tag = (unsigned)strtoul(line + 1, NULL, 10);
	struct pending *p = c->head, *prev = NULL;
	while (p && p->tag != tag) {
		prev = p;
		p = p->next;
	}
	if (p == NULL) {
		protocol_error("response to unknown tag: %.*s", (int)(len > 100 ? 100 : len), line);
		return;
	}
	if (prev)
		prev->next = p->next;
	else
		c->head = p->next;
	if (c->tail == p)
		c->tail = prev;
	const char *sp = strchr(line, ' ');
	const char *text = sp ? sp + 1 : "";
	int status = strncasecmp(text, "OK", 2) == 0 ? ST_OK : strncasecmp(text, "NO", 2) == 0 ? ST_NO : ST_BAD;
	uint64_t t = now_ns();
	if (st.recording && p->kind >= 0 && status == ST_OK)
		lat_add(&st.lat[p->kind], t - p->t0);
	cmd_done_fn *done = p->done;
	long arg = p->arg;
	free(p);
	if (done)
		done(c, status, text, arg);
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	while (!c->dead) {
		if (c->lit_need > 0) {
			size_t avail = evbuffer_get_length(in);
			if (avail == 0)
				return;
			size_t n = avail < c->lit_need ? avail : c->lit_need;
			evbuffer_remove(in, sbuf_reserve(&c->resp, n), n);
			c->resp.len += n;
			c->lit_need -= n;
			continue;
		}
		size_t eol_len;
		struct evbuffer_ptr e = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF);
		if (e.pos < 0)
			return;
		size_t n = (size_t)e.pos + eol_len;
		char *d = sbuf_reserve(&c->resp, n);
		evbuffer_remove(in, d, n);
		/* Normalise the line end to CRLF inside the logical response. */
		size_t line_len = (size_t)e.pos;
		d[line_len] = '\r';
		d[line_len + 1] = '\n';
		c->resp.len += line_len + 2;
		c->resp.p[c->resp.len] = '\0';
		/* A literal announced at the end of the line: {n} */
		if (line_len >= 3 && d[line_len - 1] == '}') {
			size_t i = line_len - 2;
			while (i > 0 && isdigit((unsigned char)d[i]))
				i--;
			if (d[i] == '{' && i < line_len - 2) {
				c->lit_need = strtoull(d + i + 1, NULL, 10);
				if (c->lit_need > 0)
					continue;
				continue;
			}
		}
		size_t len = c->resp.len - 2;
		c->resp.p[len] = '\0';
		c->resp.len = 0;
		conn_dispatch(c, c->resp.p, len);
		if (!c->dead && c->resp.cap > 1 << 20)
			sbuf_free(&c->resp);
	}
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	if (what & BEV_EVENT_CONNECTED)
		return;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		if (!c->expect_close && opt.verbose) {
			unsigned long e = bufferevent_get_openssl_error(bev);
			fprintf(stderr, "connection closed: %s %s\n",
				what & BEV_EVENT_EOF ? "EOF" : strerror(EVUTIL_SOCKET_ERROR()),
				e ? ERR_error_string(e, NULL) : "");
		}
		conn_close(c, false);
	}
}

/* Starts a connection; conn_index spreads many connections over several
 * loopback source addresses (127.0.0.x) so that more than ~28,000
 * connections to one port do not exhaust the ephemeral ports. */
static bool conn_start(struct conn *c, const struct conn_ops *ops, void *ud, long conn_index)
{
	memset(c, 0, sizeof(*c));
	c->ops = ops;
	c->ud = ud;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "socket: %s\n", strerror(errno));
		st.connection_errors++;
		c->dead = true;
		return false;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (conn_index >= 20000) {
		struct sockaddr_in src = { .sin_family = AF_INET };
		src.sin_addr.s_addr = htonl(0x7f000001u + (uint32_t)(conn_index / 20000));
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0)
			fprintf(stderr, "bind source: %s\n", strerror(errno));
	}
	if (opt.tls) {
		SSL *ssl = SSL_new(ssl_ctx);
		SSL_set_tlsext_host_name(ssl, "localhost");
		c->bev = bufferevent_openssl_socket_new(base, fd, ssl, BUFFEREVENT_SSL_CONNECTING,
							BEV_OPT_CLOSE_ON_FREE);
	} else {
		c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	}
	if (c->bev == NULL)
		die("bufferevent_socket_new failed");
	conns_open++;
	bufferevent_setcb(c->bev, conn_read_cb, NULL, conn_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port) };
	inet_pton(AF_INET, opt.host, &sa.sin_addr);
	c->t_connect = now_ns();
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		st.connection_errors++;
		conn_free(c);
		c->dead = true;
		return false;
	}
	return true;
}

static struct pending *conn_push(struct conn *c, int kind, cmd_done_fn *done, long arg)
{
	struct pending *p = xcalloc(1, sizeof(*p));
	p->tag = ++c->tagn;
	p->kind = kind;
	p->done = done;
	p->arg = arg;
	p->t0 = now_ns();
	if (c->tail)
		c->tail->next = p;
	else
		c->head = p;
	c->tail = p;
	return p;
}

static void conn_cmd(struct conn *c, int kind, cmd_done_fn *done, long arg, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void conn_cmd(struct conn *c, int kind, cmd_done_fn *done, long arg, const char *fmt, ...)
{
	if (c->dead)
		return;
	struct pending *p = conn_push(c, kind, done, arg);
	struct evbuffer *out = bufferevent_get_output(c->bev);
	evbuffer_add_printf(out, "t%u ", p->tag);
	va_list ap;
	va_start(ap, fmt);
	if (opt.verbose > 1) {
		va_list ap2;
		va_copy(ap2, ap);
		fprintf(stderr, "C: t%u ", p->tag);
		vfprintf(stderr, fmt, ap2);
		fputc('\n', stderr);
		va_end(ap2);
	}
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\r\n", 2);
}

/* APPEND of one message with a LITERAL+ literal (no round trip). */
static void conn_append(struct conn *c, int kind, cmd_done_fn *done, long arg, const char *mailbox,
			const char *flags, const char *date, const void *msg, size_t len)
{
	if (c->dead)
		return;
	struct pending *p = conn_push(c, kind, done, arg);
	struct evbuffer *out = bufferevent_get_output(c->bev);
	evbuffer_add_printf(out, "t%u APPEND \"%s\" (%s)%s%s%s {%zu+}\r\n", p->tag, mailbox, flags,
			    date ? " \"" : "", date ? date : "", date ? "\"" : "", len);
	evbuffer_add(out, msg, len);
	evbuffer_add(out, "\r\n", 2);
}

static void conn_logout(struct conn *c)
{
	c->expect_close = true;
	conn_cmd(c, K_LOGOUT, NULL, 0, "LOGOUT");
}

/* ------------------------------------------------------------------ */
/* Response parsing                                                     */

static const char *skip_sp(const char *p, const char *end)
{
	while (p < end && *p == ' ')
		p++;
	return p;
}

/* Skips one value: atom/number/NIL, quoted string, literal or list. */
static const char *skip_value(const char *p, const char *end)
{
	if (p >= end)
		return end;
	if (*p == '"') {
		for (p++; p < end && *p != '"'; p++)
			if (*p == '\\')
				p++;
		return p < end ? p + 1 : end;
	}
	if (*p == '{') {
		size_t n = strtoull(p + 1, NULL, 10);
		const char *q = memchr(p, '\n', (size_t)(end - p));
		if (!q)
			return end;
		q++;
		return (size_t)(end - q) < n ? end : q + n;
	}
	if (*p == '(') {
		p++;
		while (p < end) {
			p = skip_sp(p, end);
			if (p < end && *p == ')')
				return p + 1;
			const char *q = skip_value(p, end);
			if (q == p)
				return end;
			p = q;
		}
		return end;
	}
	const char *start = p;
	while (p < end && *p != ' ' && *p != ')' && *p != '(') {
		if (*p == '[') { /* BODY[...] style atoms contain brackets */
			int depth = 0;
			while (p < end) {
				if (*p == '[')
					depth++;
				else if (*p == ']' && --depth == 0)
					break;
				p++;
			}
		}
		p++;
	}
	return p > start ? p : p + 1;
}

/* The bytes of a string value (quoted or literal); NIL gives NULL. */
static const char *string_value(const char *p, const char *end, size_t *len_r)
{
	if (p < end && *p == '{') {
		size_t n = strtoull(p + 1, NULL, 10);
		const char *q = memchr(p, '\n', (size_t)(end - p));
		if (!q)
			return NULL;
		q++;
		*len_r = (size_t)(end - q) < n ? (size_t)(end - q) : n;
		return q;
	}
	if (p < end && *p == '"') {
		const char *q = skip_value(p, end);
		*len_r = (size_t)(q - p) - 2;
		return p + 1;
	}
	*len_r = 0;
	return NULL;
}

enum {
	F_SEEN = 1, F_ANSWERED = 2, F_FLAGGED = 4, F_DELETED = 8, F_DRAFT = 16, F_OTHER = 32,
};

static uint8_t parse_flags(const char *p, const char *end)
{
	uint8_t f = 0;
	if (p >= end || *p != '(')
		return 0;
	p++;
	while (p < end && *p != ')') {
		p = skip_sp(p, end);
		const char *q = p;
		while (q < end && *q != ' ' && *q != ')')
			q++;
		size_t n = (size_t)(q - p);
		if (n == 5 && strncasecmp(p, "\\Seen", 5) == 0)
			f |= F_SEEN;
		else if (n == 9 && strncasecmp(p, "\\Answered", 9) == 0)
			f |= F_ANSWERED;
		else if (n == 8 && strncasecmp(p, "\\Flagged", 8) == 0)
			f |= F_FLAGGED;
		else if (n == 8 && strncasecmp(p, "\\Deleted", 8) == 0)
			f |= F_DELETED;
		else if (n == 6 && strncasecmp(p, "\\Draft", 6) == 0)
			f |= F_DRAFT;
		else if (n == 7 && strncasecmp(p, "\\Recent", 7) == 0)
			;
		else if (n > 0)
			f |= F_OTHER;
		p = q;
	}
	return f;
}

static void flags_str(uint8_t f, char *out, size_t size)
{
	snprintf(out, size, "%s%s%s%s%s", f & F_SEEN ? "\\Seen " : "", f & F_ANSWERED ? "\\Answered " : "",
		 f & F_FLAGGED ? "\\Flagged " : "", f & F_DELETED ? "\\Deleted " : "",
		 f & F_DRAFT ? "\\Draft " : "");
	size_t n = strlen(out);
	if (n > 0)
		out[n - 1] = '\0';
}

struct fetch_item {
	uint32_t seq;
	uint32_t uid;
	bool has_uid, has_flags, has_size, has_body;
	uint8_t flags;
	uint64_t size;
	uint64_t body_hash;
	size_t body_len;
};

/* Parses "* N FETCH (...)"; false when the line is something else. */
static bool parse_fetch(const char *line, size_t len, struct fetch_item *f)
{
	const char *end = line + len;
	memset(f, 0, sizeof(*f));
	char *e;
	unsigned long seq = strtoul(line + 2, &e, 10);
	if (e == line + 2 || strncasecmp(e, " FETCH (", 8) != 0)
		return false;
	f->seq = (uint32_t)seq;
	const char *p = e + 8;
	while (p < end && *p != ')') {
		p = skip_sp(p, end);
		const char *name = p;
		const char *v = skip_value(p, end); /* the item name is atom-like */
		size_t nlen = (size_t)(v - name);
		v = skip_sp(v, end);
		const char *next = skip_value(v, end);
		if (nlen == 3 && strncasecmp(name, "UID", 3) == 0) {
			f->has_uid = true;
			f->uid = (uint32_t)strtoul(v, NULL, 10);
		} else if (nlen == 5 && strncasecmp(name, "FLAGS", 5) == 0) {
			f->has_flags = true;
			f->flags = parse_flags(v, end);
		} else if (nlen == 11 && strncasecmp(name, "RFC822.SIZE", 11) == 0) {
			f->has_size = true;
			f->size = strtoull(v, NULL, 10);
		} else if ((nlen == 6 && strncasecmp(name, "BODY[]", 6) == 0) ||
			   (nlen == 6 && strncasecmp(name, "RFC822", 6) == 0)) {
			size_t bl;
			const char *b = string_value(v, end, &bl);
			f->has_body = true;
			f->body_len = bl;
			f->body_hash = b ? hash_bytes(b, bl) : 0;
		}
		if (next <= p)
			break;
		p = next;
	}
	return true;
}

/* "* N WORD" → N, when WORD matches. */
static bool parse_num_word(const char *line, const char *word, uint32_t *n_r)
{
	char *e;
	unsigned long n = strtoul(line + 2, &e, 10);
	if (e == line + 2 || *e != ' ' || strcasecmp(e + 1, word) != 0)
		return false;
	*n_r = (uint32_t)n;
	return true;
}

/* A response code "[NAME n ...]" in text; the first number after NAME. */
static bool parse_code_num(const char *text, const char *name, uint64_t *v_r, uint64_t *v2_r)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "[%s ", name);
	const char *p = strcasestr(text, pat);
	if (!p)
		return false;
	char *e;
	*v_r = strtoull(p + strlen(pat), &e, 10);
	if (v2_r)
		*v2_r = strtoull(e, NULL, 10);
	return true;
}

struct u32vec {
	uint32_t *v;
	size_t n, cap;
};

static void u32vec_push(struct u32vec *a, uint32_t x)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		a->v = xrealloc(a->v, a->cap * sizeof(*a->v));
	}
	a->v[a->n++] = x;
}

static void parse_search(const char *line, struct u32vec *out)
{
	const char *p = line + 8; /* "* SEARCH" */
	while (*p) {
		while (*p == ' ')
			p++;
		if (!isdigit((unsigned char)*p))
			break;
		u32vec_push(out, (uint32_t)strtoul(p, (char **)&p, 10));
	}
}

static bool has_cap(const char *caps, const char *cap)
{
	size_t n = strlen(cap);
	for (const char *p = caps; (p = strcasestr(p, cap)) != NULL; p += n) {
		if ((p == caps || p[-1] == ' ' || p[-1] == '[') &&
		    (p[n] == ' ' || p[n] == ']' || p[n] == '\0' || p[n] == '\r'))
			return true;
	}
	return false;
}

/* ------------------------------------------------------------------ */
/* Stop handling and the loop                                           */

static volatile sig_atomic_t got_signal;
static bool stopping;

static void on_sigint(evutil_socket_t fd, short what, void *arg)
{
	got_signal = 1;
	stopping = true;
	fprintf(stderr, "interrupted: stopping\n");
	event_base_loopbreak(base);
}

static void loop_for(double secs)
{
	struct timeval tv = { (time_t)secs, (suseconds_t)((secs - (double)(time_t)secs) * 1e6) };
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/* Runs the loop until *flag is true (checked every 10 ms) or timeout. */
static bool loop_until(bool (*cond)(void), double timeout)
{
	uint64_t deadline = now_ns() + (uint64_t)(timeout * 1e9);
	while (!cond() && !got_signal) {
		if (now_ns() > deadline)
			return false;
		loop_for(0.01);
	}
	return cond();
}

/* ------------------------------------------------------------------ */
/* Mailbox model (mixed)                                                */

struct mmsg {
	uint32_t uid;
	uint8_t flags;
	uint64_t hash;
	uint64_t size;
};

struct model {
	struct mmsg *v;
	size_t n, cap;
	uint32_t uidvalidity;
	bool known;
};

static long model_find(struct model *m, uint32_t uid)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (m->v[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < m->n && m->v[lo].uid == uid ? (long)lo : -1;
}

static void model_push(struct model *m, struct mmsg x)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->v = xrealloc(m->v, m->cap * sizeof(*m->v));
	}
	m->v[m->n++] = x;
}

/* ------------------------------------------------------------------ */
/* Workload: mixed                                                      */

enum mstate {
	MS_IDLE, MS_CONNECT, MS_LOGIN, MS_SELECT, MS_LEARN, MS_FILL, MS_OPS, MS_LOGOUT, MS_DONE,
};

enum mop { OP_NONE, OP_SYNC, OP_HDR, OP_BODY, OP_STORE, OP_APPEND, OP_EXPUNGE_MARK, OP_EXPUNGE,
	   OP_SEARCH, OP_NOOP, OP_LEARN };

struct mclient {
	struct conn c;
	int idx;
	int user;
	struct model m;
	enum mstate state;
	bool setup_done;
	int ops_left;
	uint32_t srv_exists;
	bool exists_seen;
	uint64_t rng;
	/* the operation in flight */
	enum mop op;
	uint32_t op_uid;
	long op_fetches;
	long op_expect;
	bool op_removed;
	struct u32vec search;
	struct sbuf msg;
	uint8_t msg_flags;
	bool failed;
};

static struct mclient *mclients;
static int mixed_ready;
static int mixed_running;
static void mixed_next(struct mclient *mc);
static void mixed_session_start(struct mclient *mc);

static void mixed_untagged(struct conn *c, const char *line, size_t len)
{
	struct mclient *mc = c->ud;
	uint32_t n;
	struct fetch_item f;
	if (parse_num_word(line, "EXISTS", &n)) {
		mc->srv_exists = n;
		mc->exists_seen = true;
		return;
	}
	if (parse_num_word(line, "EXPUNGE", &n)) {
		if (n < 1 || n > mc->m.n) {
			consistency_error("client %d: EXPUNGE %u outside 1..%zu", mc->idx, n, mc->m.n);
			return;
		}
		struct mmsg *x = &mc->m.v[n - 1];
		if (!(x->flags & F_DELETED))
			consistency_error("client %d: EXPUNGE of UID %u which has no \\Deleted",
					  mc->idx, x->uid);
		if (x->uid == mc->op_uid)
			mc->op_removed = true;
		memmove(x, x + 1, (mc->m.n - n) * sizeof(*x));
		mc->m.n--;
		if (mc->srv_exists > 0)
			mc->srv_exists--;
		return;
	}
	if (len > 8 && strncasecmp(line, "* SEARCH", 8) == 0) {
		parse_search(line, &mc->search);
		return;
	}
	if (parse_fetch(line, len, &f)) {
		mc->op_fetches++;
		if (mc->op == OP_LEARN) {
			if (!f.has_uid || f.seq != mc->m.n + 1) {
				consistency_error("client %d: learning FETCH seq %u uid %u out of order",
						  mc->idx, f.seq, f.uid);
				return;
			}
			model_push(&mc->m, (struct mmsg){ f.uid, f.flags & (uint8_t)~F_OTHER,
							  f.has_body ? f.body_hash : 0, f.body_len });
			return;
		}
		if (!f.has_uid) {
			if (f.has_flags && f.seq >= 1 && f.seq <= mc->m.n &&
			    (f.flags & ~F_OTHER) != mc->m.v[f.seq - 1].flags)
				consistency_error("client %d: unsolicited FLAGS for seq %u differ", mc->idx, f.seq);
			return;
		}
		long i = model_find(&mc->m, f.uid);
		if (i < 0) {
			consistency_error("client %d: FETCH of UID %u which the client never saw (seq %u)",
					  mc->idx, f.uid, f.seq);
			return;
		}
		struct mmsg *x = &mc->m.v[i];
		if ((long)f.seq != i + 1)
			consistency_error("client %d: UID %u at seq %u, expected seq %ld", mc->idx, f.uid,
					  f.seq, i + 1);
		if (f.has_flags && (f.flags & ~F_OTHER) != x->flags) {
			char a[80], b[80];
			flags_str(f.flags, a, sizeof(a));
			flags_str(x->flags, b, sizeof(b));
			consistency_error("client %d: UID %u FLAGS (%s), expected (%s)", mc->idx, f.uid, a, b);
		}
		if (f.has_size && x->size && f.size != x->size)
			consistency_error("client %d: UID %u RFC822.SIZE %" PRIu64 ", expected %" PRIu64,
					  mc->idx, f.uid, f.size, x->size);
		if (f.has_body) {
			if (x->hash == 0) {
				x->hash = f.body_hash;
				x->size = f.body_len;
			} else if (x->hash != f.body_hash) {
				consistency_error("client %d: UID %u BODY[] changed (%zu bytes)", mc->idx,
						  f.uid, f.body_len);
			}
		}
	}
}

static void mixed_check_exists(struct mclient *mc, const char *when)
{
	if (mc->srv_exists != mc->m.n)
		consistency_error("client %d: EXISTS %u after %s, expected %zu", mc->idx,
				  mc->srv_exists, when, mc->m.n);
}

static bool status_ok(struct mclient *mc, int status, const char *text, const char *what)
{
	if (status == ST_OK)
		return true;
	if (status != ST_CLOSED)
		protocol_error("client %d: %s: %.200s", mc->idx, what, text);
	return false;
}

static void mixed_op_done(struct conn *c, int status, const char *text, long arg)
{
	struct mclient *mc = c->ud;
	enum mop op = mc->op;
	mc->op = OP_NONE;
	if (status == ST_CLOSED)
		return;
	if (!status_ok(mc, status, text, arg >= 0 ? kind_names[arg] : "setup")) {
		mixed_next(mc);
		return;
	}
	switch (op) {
	case OP_SYNC:
		if (mc->op_fetches != (long)mc->m.n)
			consistency_error("client %d: FETCH 1:* gave %ld messages, expected %zu", mc->idx,
					  mc->op_fetches, mc->m.n);
		break;
	case OP_HDR:
	case OP_BODY:
		if (mc->op_fetches != mc->op_expect)
			consistency_error("client %d: %s returned %ld messages, expected %ld", mc->idx,
					  kind_names[arg], mc->op_fetches, mc->op_expect);
		break;
	case OP_APPEND: {
		uint64_t v, uid;
		if (!parse_code_num(text, "APPENDUID", &v, &uid)) {
			protocol_error("client %d: APPEND without APPENDUID: %.100s", mc->idx, text);
			mc->m.known = false;
			break;
		}
		if (mc->m.n > 0 && uid <= mc->m.v[mc->m.n - 1].uid)
			consistency_error("client %d: APPENDUID %" PRIu64 " not above UID %u", mc->idx,
					  uid, mc->m.v[mc->m.n - 1].uid);
		if (v != mc->m.uidvalidity)
			consistency_error("client %d: APPENDUID validity %" PRIu64 " != %u", mc->idx, v,
					  mc->m.uidvalidity);
		model_push(&mc->m, (struct mmsg){ (uint32_t)uid, mc->msg_flags,
						  hash_bytes(mc->msg.p, mc->msg.len), mc->msg.len });
		break;
	}
	case OP_EXPUNGE:
		if (!mc->op_removed)
			consistency_error("client %d: EXPUNGE did not remove UID %u", mc->idx, mc->op_uid);
		mixed_check_exists(mc, "EXPUNGE");
		break;
	case OP_NOOP:
		mixed_check_exists(mc, "NOOP");
		break;
	case OP_SEARCH: {
		struct u32vec *s = &mc->search;
		qsort(s->v, s->n, sizeof(*s->v), cmp_u32);
		size_t j = 0;
		bool ok = true;
		for (size_t i = 0; i < mc->m.n; i++) {
			if (!(mc->m.v[i].flags & F_FLAGGED))
				continue;
			if (j >= s->n || s->v[j] != mc->m.v[i].uid)
				ok = false;
			j++;
		}
		if (!ok || j != s->n)
			consistency_error("client %d: UID SEARCH FLAGGED gave %zu UIDs, model has %zu",
					  mc->idx, s->n, j);
		break;
	}
	default:
		break;
	}
	if (op == OP_EXPUNGE_MARK) {
		mc->op = OP_EXPUNGE;
		mc->op_removed = false;
		conn_cmd(c, K_EXPUNGE, mixed_op_done, K_EXPUNGE, "EXPUNGE");
		return;
	}
	mixed_next(mc);
}

static void mixed_start_append(struct mclient *mc, int kind)
{
	uint64_t idx = rng_next(&mc->rng) & 0xffffffffu;
	size_t size = 0;
	/* Mostly small mail; now and then a big one. */
	gen_message(&mc->msg, opt.seed + 1000 + (uint64_t)mc->idx, idx, size);
	mc->msg_flags = rng_below(&mc->rng, 3) == 0 ? F_SEEN : 0;
	mc->op = OP_APPEND;
	conn_append(&mc->c, kind, mixed_op_done, kind, opt.mailbox, mc->msg_flags ? "\\Seen" : "",
		    NULL, mc->msg.p, mc->msg.len);
}

/* Chooses and sends the next operation of a measured round. */
static void mixed_op(struct mclient *mc)
{
	struct conn *c = &mc->c;
	struct model *m = &mc->m;
	mc->op_fetches = 0;
	uint32_t r = rng_below(&mc->rng, 100);
	if (m->n == 0)
		r = 60; /* an empty mailbox can only grow */
	/* ratios: headers 30, body 22, store 20, append 10, expunge 9,
	 * search 5, noop 4 */
	if (r < 30) {
		size_t s = rng_below(&mc->rng, (uint32_t)m->n);
		size_t e = s + 9 < m->n ? s + 9 : m->n - 1;
		mc->op = OP_HDR;
		mc->op_expect = (long)(e - s + 1);
		conn_cmd(c, K_FETCH_HDR, mixed_op_done, K_FETCH_HDR,
			 "UID FETCH %u:%u (UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT DATE MESSAGE-ID)])",
			 m->v[s].uid, m->v[e].uid);
	} else if (r < 52) {
		struct mmsg *x = &m->v[rng_below(&mc->rng, (uint32_t)m->n)];
		mc->op = OP_BODY;
		mc->op_expect = 1;
		conn_cmd(c, K_FETCH_BODY, mixed_op_done, K_FETCH_BODY,
			 "UID FETCH %u (UID FLAGS RFC822.SIZE BODY.PEEK[])", x->uid);
	} else if (r < 72) {
		struct mmsg *x = &m->v[rng_below(&mc->rng, (uint32_t)m->n)];
		static const uint8_t fl[] = { F_SEEN, F_FLAGGED, F_ANSWERED };
		static const char *const fn[] = { "\\Seen", "\\Flagged", "\\Answered" };
		uint32_t k = rng_below(&mc->rng, 3);
		bool add = !(x->flags & fl[k]);
		x->flags = add ? (uint8_t)(x->flags | fl[k]) : (uint8_t)(x->flags & ~fl[k]);
		mc->op = OP_STORE;
		conn_cmd(c, K_STORE, mixed_op_done, K_STORE, "UID STORE %u %cFLAGS (%s)", x->uid,
			 add ? '+' : '-', fn[k]);
	} else if (r < 82 && m->n < (size_t)opt.msgs * 2) {
		mixed_start_append(mc, K_APPEND);
	} else if (r < 91 && m->n > (size_t)opt.msgs / 2) {
		struct mmsg *x = &m->v[rng_below(&mc->rng, (uint32_t)m->n)];
		x->flags |= F_DELETED;
		mc->op = OP_EXPUNGE_MARK;
		mc->op_uid = x->uid;
		conn_cmd(c, K_STORE, mixed_op_done, K_STORE, "UID STORE %u +FLAGS.SILENT (\\Deleted)", x->uid);
	} else if (r < 96) {
		mc->op = OP_SEARCH;
		mc->search.n = 0;
		conn_cmd(c, K_SEARCH, mixed_op_done, K_SEARCH, "UID SEARCH FLAGGED");
	} else {
		mc->op = OP_NOOP;
		conn_cmd(c, K_NOOP, mixed_op_done, K_NOOP, "NOOP");
	}
}

static void mixed_sync(struct mclient *mc)
{
	mc->op = OP_SYNC;
	mc->op_fetches = 0;
	conn_cmd(&mc->c, K_SYNC, mixed_op_done, K_SYNC, "UID FETCH 1:* (UID FLAGS)");
}

static void mixed_round(struct mclient *mc)
{
	mc->state = MS_OPS;
	mc->ops_left = 5 + (int)rng_below(&mc->rng, 11);
	if (mc->m.n > 0)
		mixed_sync(mc);
	else
		mixed_next(mc);
}

static void mixed_logout_and_wait(struct mclient *mc)
{
	mc->state = MS_LOGOUT;
	conn_logout(&mc->c);
}

/* Called after each completed step. */
static void mixed_next(struct mclient *mc)
{
	if (mc->c.dead)
		return;
	if (mc->state == MS_FILL) {
		if (mc->m.n < (size_t)opt.msgs && !stopping) {
			mixed_start_append(mc, -1);
			return;
		}
		if (mc->setup_done) { /* relearned after a lost connection */
			mixed_round(mc);
			return;
		}
		mc->setup_done = true;
		mixed_ready++;
		if (opt.long_sessions) {
			mc->state = MS_IDLE; /* waits for the measured phase */
			return;
		}
		mixed_logout_and_wait(mc);
		return;
	}
	if (mc->state != MS_OPS)
		return;
	if (stopping) {
		mixed_logout_and_wait(mc);
		return;
	}
	if (mc->ops_left-- > 0) {
		mixed_op(mc);
		return;
	}
	if (opt.long_sessions) {
		mixed_round(mc);
		return;
	}
	st.sessions++;
	mixed_logout_and_wait(mc);
}

/* A client whose LOGIN, SELECT or first FETCH failed stops for the rest of
 * the run (retrying would spin); the failure is already counted. */
static void mixed_fail(struct mclient *mc)
{
	mc->failed = true;
	conn_close(&mc->c, true);
}

static void mixed_learn_done(struct conn *c, int status, const char *text, long arg)
{
	struct mclient *mc = c->ud;
	mc->op = OP_NONE;
	if (!status_ok(mc, status, text, "learning FETCH")) {
		mixed_fail(mc);
		return;
	}
	if (mc->op_fetches != (long)mc->srv_exists)
		consistency_error("client %d: FETCH 1:* gave %ld messages, EXISTS said %u", mc->idx,
				  mc->op_fetches, mc->srv_exists);
	mc->m.known = true;
	mc->state = MS_FILL;
	mixed_next(mc);
}

static void mixed_select_done(struct conn *c, int status, const char *text, long arg)
{
	struct mclient *mc = c->ud;
	if (!status_ok(mc, status, text, "SELECT")) {
		mixed_fail(mc);
		return;
	}
	if (!mc->exists_seen)
		protocol_error("client %d: SELECT without EXISTS", mc->idx);
	if (mc->m.known)
		mixed_check_exists(mc, "SELECT");
	if (!mc->m.known) {
		mc->m.n = 0;
		if (mc->srv_exists == 0) {
			mc->m.known = true;
			mc->state = MS_FILL;
			mixed_next(mc);
			return;
		}
		mc->state = MS_LEARN;
		mc->op = OP_LEARN;
		mc->op_fetches = 0;
		conn_cmd(c, -1, mixed_learn_done, 0, "UID FETCH 1:* (UID FLAGS BODY.PEEK[])");
		return;
	}
	mixed_round(mc);
}

static void mixed_select_untagged(struct conn *c, const char *line, size_t len)
{
	struct mclient *mc = c->ud;
	uint64_t v;
	/* Only an OK line carries it: FETCH lines hold whole bodies, and
	 * searching them here cost the generator more CPU than parsing them. */
	if (len > 6 && strncasecmp(line, "* OK [", 6) == 0 &&
	    parse_code_num(line, "UIDVALIDITY", &v, NULL)) {
		if (mc->m.known && mc->m.uidvalidity != (uint32_t)v)
			consistency_error("client %d: UIDVALIDITY changed from %u to %" PRIu64, mc->idx,
					  mc->m.uidvalidity, v);
		mc->m.uidvalidity = (uint32_t)v;
		return;
	}
	mixed_untagged(c, line, len);
}

static void mixed_login_done(struct conn *c, int status, const char *text, long arg)
{
	struct mclient *mc = c->ud;
	if (!status_ok(mc, status, text, "LOGIN")) {
		mixed_fail(mc);
		return;
	}
	mc->state = MS_SELECT;
	mc->exists_seen = false;
	conn_cmd(c, mc->setup_done ? K_SELECT : -1, mixed_select_done, 0, "SELECT \"%s\"", opt.mailbox);
}

static void mixed_greeting(struct conn *c, const char *line)
{
	struct mclient *mc = c->ud;
	mc->state = MS_LOGIN;
	conn_cmd(c, mc->setup_done ? K_LOGIN : -1, mixed_login_done, 0, "LOGIN \"%s\" \"%s\"",
		 user_name(mc->user), opt.password);
}

static void mixed_closed(struct conn *c);

static const struct conn_ops mixed_ops = {
	.greeting = mixed_greeting,
	.untagged = mixed_select_untagged,
	.closed = mixed_closed,
};

static void mixed_session_start(struct mclient *mc)
{
	mc->state = MS_CONNECT;
	mc->srv_exists = 0;
	conn_start(&mc->c, &mixed_ops, mc, mc->idx);
}

static void mixed_closed(struct conn *c)
{
	struct mclient *mc = c->ud;
	if (mc->failed) {
		mc->state = MS_DONE;
		return;
	}
	bool expected = mc->state == MS_LOGOUT;
	if (!expected && !mc->setup_done)
		fprintf(stderr, "client %d: connection lost during setup\n", mc->idx);
	if (!expected) {
		/* What the server did with the command in flight is unknown:
		 * relearn the mailbox on the next session. */
		mc->m.known = false;
		mc->m.n = 0;
	}
	if (!mc->setup_done) {
		mc->state = MS_DONE;
		return;
	}
	if (mixed_running && !stopping) {
		mixed_session_start(mc);
		return;
	}
	mc->state = MS_DONE;
}

static bool mixed_all_ready(void)
{
	int done = 0;
	for (int i = 0; i < opt.clients; i++)
		done += mclients[i].setup_done || mclients[i].state == MS_DONE;
	return done == opt.clients;
}

static bool mixed_all_done(void)
{
	for (int i = 0; i < opt.clients; i++)
		if (mclients[i].state != MS_DONE && !(mclients[i].state == MS_IDLE && opt.long_sessions && !mixed_running))
			return false;
	return true;
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
	stopping = true;
}

static int run_mixed(void)
{
	int users = opt.users > 0 ? opt.users : opt.clients;
	if (users < opt.clients)
		die("mixed needs one user per client (--users >= --clients) so that every answer can be checked");
	mclients = xcalloc((size_t)opt.clients, sizeof(*mclients));
	fprintf(stderr, "mixed%s: %d clients, %d messages per mailbox, %.0f s\n",
		opt.long_sessions ? " --long" : "", opt.clients, opt.msgs, opt.duration);
	for (int i = 0; i < opt.clients; i++) {
		struct mclient *mc = &mclients[i];
		mc->idx = i;
		mc->user = i + 1;
		mc->rng = opt.seed * 1000003 + (uint64_t)i;
		mixed_session_start(mc);
	}
	/* Setup: learn each mailbox and fill it to --msgs. */
	if (!loop_until(mixed_all_ready, opt.timeout))
		fprintf(stderr, "setup did not finish in %.0f s\n", opt.timeout);
	int ok = 0;
	for (int i = 0; i < opt.clients; i++)
		ok += mclients[i].setup_done;
	fprintf(stderr, "setup: %d/%d clients ready\n", ok, opt.clients);
	long setup_consistency = st.consistency_errors, setup_protocol = st.protocol_errors;
	stats_reset();
	st.consistency_errors = setup_consistency;
	st.protocol_errors = setup_protocol;
	if (opt.inject_fault && mclients[0].setup_done && mclients[0].m.n > 0) {
		/* Self-test of the checks: pretend client 0 saw other flags and
		 * another body for its first message; the run must report
		 * consistency errors. */
		fprintf(stderr, "mixed: injecting a fault into client 0's model\n");
		mclients[0].m.v[0].flags ^= F_FLAGGED;
		mclients[0].m.v[0].hash ^= 1;
	}
	st.recording = true;
	mixed_running = 1;
	st.t_start = now_ns();
	struct event *stop_ev = evtimer_new(base, stop_cb, NULL);
	struct timeval tv = { (time_t)opt.duration, (suseconds_t)((opt.duration - (double)(time_t)opt.duration) * 1e6) };
	evtimer_add(stop_ev, &tv);
	for (int i = 0; i < opt.clients; i++) {
		struct mclient *mc = &mclients[i];
		if (!mc->setup_done)
			continue;
		if (opt.long_sessions && !mc->c.dead)
			mixed_round(mc);
		else if (mc->state == MS_DONE)
			mixed_session_start(mc);
	}
	/* Wait for sessions that were started before the setup LOGOUTs
	 * completed: clients in MS_LOGOUT restart through mixed_closed. */
	loop_until(mixed_all_done, opt.duration + opt.timeout);
	double secs = (double)(now_ns() - st.t_start) / 1e9;
	st.recording = false;
	evtimer_del(stop_ev);
	event_free(stop_ev);
	for (int i = 0; i < opt.clients; i++)
		if (!mclients[i].c.dead) {
			mclients[i].state = MS_LOGOUT;
			mclients[i].c.expect_close = true;
			conn_close(&mclients[i].c, true);
		}
	fprintf(stderr, "measured %.1f s\n", secs);
	stats_report(secs, true);
	if (!opt.long_sessions) {
		fprintf(stderr, "sessions: %ld (%.1f/s)\n", st.sessions, (double)st.sessions / secs);
		result("SESSION", "sessions_per_s", (double)st.sessions / secs);
	}
	errors_report();
	return 0;
}

/* ------------------------------------------------------------------ */
/* Simple sequential clients used by several workloads                  */

/* A connection that logs in and runs one command at a time through
 * callbacks; used by append, bigbox, latency and populate. */
struct sclient {
	struct conn c;
	int idx;
	int user;
	bool ready, failed;
	char caps[2048];
	uint32_t exists;
	uint64_t uidvalidity;
	long fetches;
	long searched;
	uint32_t last_uid;
	void (*untagged_hook)(struct sclient *sc, const char *line, size_t len);
	void *ud;
};

static void sc_untagged(struct conn *c, const char *line, size_t len)
{
	struct sclient *sc = c->ud;
	uint32_t n;
	if (parse_num_word(line, "EXISTS", &n))
		sc->exists = n;
	else if (len > 13 && strncasecmp(line, "* CAPABILITY ", 13) == 0)
		snprintf(sc->caps, sizeof(sc->caps), "%s", line + 13);
	else if (len > 7 && strncasecmp(line, "* OK [", 6) == 0 && strcasestr(line, "CAPABILITY"))
		snprintf(sc->caps, sizeof(sc->caps), "%s", line + 6);
	else if (strncasecmp(line, "* OK [UIDVALIDITY ", 18) == 0)
		sc->uidvalidity = strtoull(line + 18, NULL, 10);
	if (sc->untagged_hook)
		sc->untagged_hook(sc, line, len);
}

static void sc_login_done(struct conn *c, int status, const char *text, long arg)
{
	struct sclient *sc = c->ud;
	if (status != ST_OK) {
		if (status != ST_CLOSED)
			protocol_error("LOGIN %s: %.200s", user_name(sc->user), text);
		sc->failed = true;
		return;
	}
	/* Ask for the capabilities after login, when all are listed. */
	conn_cmd(c, -1, NULL, 0, "CAPABILITY");
	sc->ready = true;
}

static void sc_greeting(struct conn *c, const char *line)
{
	struct sclient *sc = c->ud;
	conn_cmd(c, -1, sc_login_done, 0, "LOGIN \"%s\" \"%s\"", user_name(sc->user), opt.password);
}

static void sc_closed(struct conn *c)
{
	struct sclient *sc = c->ud;
	if (!c->expect_close)
		sc->failed = true;
}

static const struct conn_ops sc_ops = {
	.greeting = sc_greeting,
	.untagged = sc_untagged,
	.closed = sc_closed,
};

static struct sclient **sc_wait_list;
static int sc_wait_n;

static bool sc_all_ready(void)
{
	for (int i = 0; i < sc_wait_n; i++)
		if (!sc_wait_list[i]->ready && !sc_wait_list[i]->failed)
			return false;
	return true;
}

static bool sc_login_all(struct sclient **list, int n)
{
	for (int i = 0; i < n; i++)
		conn_start(&list[i]->c, &sc_ops, list[i], list[i]->idx);
	sc_wait_list = list;
	sc_wait_n = n;
	loop_until(sc_all_ready, opt.timeout);
	bool ok = true;
	for (int i = 0; i < n; i++)
		ok &= list[i]->ready && !list[i]->failed;
	return ok;
}

/* Runs one command to completion; returns its status. */
static int sc_status;
static bool sc_done_flag;

static void sc_sync_done(struct conn *c, int status, const char *text, long arg)
{
	sc_status = status;
	sc_done_flag = true;
	if (status != ST_OK && status != ST_CLOSED && arg == 0)
		protocol_error("%.200s", text);
}

static bool sc_done_cond(void)
{
	return sc_done_flag;
}

static int sc_run(struct sclient *sc, int kind, bool quiet_no, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int sc_run(struct sclient *sc, int kind, bool quiet_no, const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	sc_done_flag = false;
	sc_status = ST_CLOSED;
	if (sc->c.dead)
		return ST_CLOSED;
	conn_cmd(&sc->c, kind, sc_sync_done, quiet_no, "%s", cmd);
	if (!loop_until(sc_done_cond, 3600)) {
		protocol_error("command timed out: %s", cmd);
		return ST_CLOSED;
	}
	return sc_status;
}

static void sc_logout_all(struct sclient **list, int n)
{
	for (int i = 0; i < n; i++)
		if (!list[i]->c.dead)
			conn_logout(&list[i]->c);
	uint64_t deadline = now_ns() + 5000000000ull;
	for (;;) {
		bool all = true;
		for (int i = 0; i < n; i++)
			all &= list[i]->c.dead;
		if (all || now_ns() > deadline)
			break;
		loop_for(0.01);
	}
	for (int i = 0; i < n; i++)
		conn_close(&list[i]->c, true);
}

static struct sclient *sc_new(int idx, int user)
{
	struct sclient *sc = xcalloc(1, sizeof(*sc));
	sc->idx = idx;
	sc->user = user;
	return sc;
}

/* ------------------------------------------------------------------ */
/* Workload: append                                                     */

struct aclient {
	struct sclient *sc;
	struct sbuf msg;
	uint64_t n;
	uint64_t seq;
};

static struct aclient *aclients;
static int a_nclients;
static uint64_t a_bytes, a_msgs;
static long a_limit;

static void append_send(struct aclient *a);

static void append_done(struct conn *c, int status, const char *text, long arg)
{
	struct aclient *a = &aclients[arg];
	if (status != ST_OK) {
		if (status != ST_CLOSED)
			protocol_error("APPEND: %.200s", text);
		return;
	}
	uint64_t v, uid;
	if (parse_code_num(text, "APPENDUID", &v, &uid)) {
		if (uid <= a->sc->last_uid)
			consistency_error("APPENDUID %" PRIu64 " not above the previous %u", uid, a->sc->last_uid);
		a->sc->last_uid = (uint32_t)uid;
	}
	a_msgs++;
	a_bytes += a->msg.len;
	append_send(a);
}

static void append_send(struct aclient *a)
{
	if (stopping || (a_limit > 0 && (long)a->n >= a_limit))
		return;
	a->n++;
	/* Vary the message a little (its first header) so that no server
	 * can deduplicate, without regenerating the whole body. */
	char seq[16];
	snprintf(seq, sizeof(seq), "%08" PRIx64, a->seq++ & 0xffffffffu);
	memcpy(a->msg.p + 13, seq, 8);
	conn_append(&a->sc->c, K_APPEND, append_done, a - aclients, "bench-append", "", NULL, a->msg.p,
		    a->msg.len);
}

static bool append_all_done(void)
{
	for (int i = 0; i < a_nclients; i++)
		if (!aclients[i].sc->c.dead && aclients[i].sc->c.head != NULL)
			return false;
	return true;
}

static void parse_list(const char *s, long *out, int *n, int max)
{
	*n = 0;
	while (*s && *n < max) {
		char *e;
		long v = strtol(s, &e, 10);
		if (e == s)
			die("bad list: %s", s);
		if (*e == 'K' || *e == 'k')
			v *= 1024, e++;
		else if (*e == 'M' || *e == 'm')
			v *= 1024 * 1024, e++;
		out[(*n)++] = v;
		s = *e == ',' ? e + 1 : e;
	}
}

static int run_append(void)
{
	long sizes[16], counts[16];
	int nsizes, ncounts;
	parse_list(opt.sizes, sizes, &nsizes, 16);
	parse_list(opt.client_counts, counts, &ncounts, 16);
	double per = opt.duration / (nsizes * ncounts);
	if (per < 1)
		per = 1;
	const char *wl = workload_name;
	for (int ci = 0; ci < ncounts; ci++) {
		for (int si = 0; si < nsizes; si++) {
			int n = (int)counts[ci];
			a_nclients = n;
			aclients = xcalloc((size_t)n, sizeof(*aclients));
			struct sclient **list = xcalloc((size_t)n, sizeof(*list));
			for (int i = 0; i < n; i++) {
				list[i] = aclients[i].sc = sc_new(i, i + 1);
				struct sbuf body = { 0 };
				gen_message(&body, opt.seed + 7, (uint64_t)i, (size_t)sizes[si]);
				sbuf_printf(&aclients[i].msg, "X-Bench-Seq: %08d\r\n", 0);
				sbuf_add(&aclients[i].msg, body.p, body.len);
				sbuf_free(&body);
			}
			if (!sc_login_all(list, n))
				fprintf(stderr, "append: some logins failed\n");
			for (int i = 0; i < n; i++)
				sc_run(list[i], -1, true, "CREATE bench-append");
			stats_reset();
			a_bytes = a_msgs = 0;
			a_limit = opt.count;
			stopping = false;
			st.recording = true;
			st.t_start = now_ns();
			struct event *stop_ev = evtimer_new(base, stop_cb, NULL);
			struct timeval tv = { (time_t)per, (suseconds_t)((per - (double)(time_t)per) * 1e6) };
			evtimer_add(stop_ev, &tv);
			for (int i = 0; i < n; i++)
				append_send(&aclients[i]);
			loop_until(append_all_done, per + opt.timeout);
			double secs = (double)(now_ns() - st.t_start) / 1e9;
			st.recording = false;
			evtimer_del(stop_ev);
			event_free(stop_ev);
			stopping = false;
			char name[64];
			snprintf(name, sizeof(name), "append-c%d-s%ld", n, sizes[si]);
			workload_name = name;
			fprintf(stderr, "append: %d clients, %ld-byte messages: %" PRIu64 " messages in %.1f s = %.1f msg/s, %.2f MB/s\n",
				n, sizes[si], a_msgs, secs, (double)a_msgs / secs, (double)a_bytes / secs / 1e6);
			result("APPEND", "msgs_per_s", (double)a_msgs / secs);
			result("APPEND", "mb_per_s", (double)a_bytes / secs / 1e6);
			stats_report(secs, false);
			errors_report();
			workload_name = wl;
			sc_logout_all(list, n);
			for (int i = 0; i < n; i++) {
				sbuf_free(&aclients[i].msg);
				free(list[i]);
			}
			free(list);
			free(aclients);
			if (got_signal)
				return 1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* populate and genmaildir: the bigbox data                             */

struct popstate {
	struct sclient *sc;
	long next, acked, total, sent_batches;
	bool multi;
	uint64_t bytes;
	struct sbuf msg;
};

static struct popstate pop;

static void populate_send(void);

static void populate_done(struct conn *c, int status, const char *text, long arg)
{
	if (status != ST_OK) {
		if (status != ST_CLOSED)
			protocol_error("populate APPEND: %.200s", text);
		stopping = true;
		return;
	}
	pop.acked += arg;
	populate_send();
}

static void populate_send(void)
{
	while (!stopping && pop.next < pop.total && (long)(pop.next - pop.acked) < (long)opt.batch * opt.window) {
		int b = pop.multi ? opt.batch : 1;
		if (pop.next + b > pop.total)
			b = (int)(pop.total - pop.next);
		struct conn *c = &pop.sc->c;
		struct pending *p = conn_push(c, -1, populate_done, b);
		struct evbuffer *out = bufferevent_get_output(c->bev);
		evbuffer_add_printf(out, "t%u APPEND \"%s\"", p->tag, opt.mailbox);
		for (int i = 0; i < b; i++) {
			uint64_t idx = (uint64_t)pop.next++;
			char date[40];
			gen_message(&pop.msg, opt.seed, idx, 0);
			gen_internaldate(date, sizeof(date), opt.seed, idx);
			evbuffer_add_printf(out, " (%s) \"%s\" {%zu+}\r\n", gen_seen(opt.seed, idx) ? "\\Seen" : "",
					    date, pop.msg.len);
			evbuffer_add(out, pop.msg.p, pop.msg.len);
			pop.bytes += pop.msg.len;
		}
		evbuffer_add(out, "\r\n", 2);
	}
}

static bool populate_finished(void)
{
	return pop.acked >= pop.total || pop.sc->c.dead || (stopping && pop.sc->c.head == NULL);
}

static int run_populate(void)
{
	if (opt.n <= 0)
		die("populate needs --n");
	pop.sc = sc_new(0, 1);
	struct sclient *list[1] = { pop.sc };
	if (!sc_login_all(list, 1))
		die("populate: login failed");
	/* The CAPABILITY sent after LOGIN has completed when the first
	 * command run here completes. */
	if (strcasecmp(opt.mailbox, "INBOX") != 0)
		sc_run(pop.sc, -1, true, "CREATE \"%s\"", opt.mailbox);
	else
		sc_run(pop.sc, -1, true, "NOOP");
	pop.multi = opt.multiappend || has_cap(pop.sc->caps, "MULTIAPPEND");
	pop.total = opt.n;
	uint64_t t0 = now_ns();
	fprintf(stderr, "populate: %ld messages into %s of %s (%s)\n", opt.n, opt.mailbox,
		user_name(1), pop.multi ? "MULTIAPPEND batches" : "pipelined APPEND");
	populate_send();
	uint64_t last = now_ns();
	while (!populate_finished() && !got_signal) {
		loop_for(0.05);
		if (now_ns() - last > 5000000000ull) {
			last = now_ns();
			fprintf(stderr, "  %ld/%ld\n", pop.acked, pop.total);
		}
	}
	double secs = (double)(now_ns() - t0) / 1e9;
	fprintf(stderr, "populate: %ld messages, %.1f MB in %.1f s (%.0f msg/s); %ld contain \"%s\"\n",
		pop.acked, (double)pop.bytes / 1e6, secs, (double)pop.acked / secs,
		gen_rare_count(opt.seed, opt.n), opt.rare);
	result("APPEND", "populate_msgs_per_s", (double)pop.acked / secs);
	sc_logout_all(list, 1);
	return pop.acked == pop.total ? 0 : 1;
}

static void write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		die("open %s: %s", path, strerror(errno));
	while (len > 0) {
		ssize_t w = write(fd, data, len);
		if (w < 0)
			die("write %s: %s", path, strerror(errno));
		data += w;
		len -= (size_t)w;
	}
	close(fd);
}

/* Writes the same messages as populate would APPEND, as maildir files in
 * DIR/cur (LF line ends as Dovecot stores them; S= is the file size and
 * W= the CRLF size). */
static int run_genmaildir(void)
{
	if (!opt.dir || opt.n <= 0)
		die("genmaildir needs --dir and --n");
	char path[4096];
	mkdir(opt.dir, 0700);
	const char *sub[] = { "cur", "new", "tmp" };
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", opt.dir, sub[i]);
		mkdir(path, 0700);
	}
	struct sbuf msg = { 0 }, lf = { 0 };
	uint64_t t0 = now_ns(), bytes = 0;
	for (long i = 0; i < opt.n; i++) {
		gen_message(&msg, opt.seed, (uint64_t)i, 0);
		lf.len = 0;
		char *d = sbuf_reserve(&lf, msg.len);
		size_t k = 0;
		for (size_t j = 0; j < msg.len; j++)
			if (!(msg.p[j] == '\r' && j + 1 < msg.len && msg.p[j + 1] == '\n'))
				d[k++] = msg.p[j];
		lf.len = k;
		time_t t = gen_date(opt.seed, (uint64_t)i) + 30;
		snprintf(path, sizeof(path), "%s/cur/%ld.M%ldP1.bench,S=%zu,W=%zu:2,%s", opt.dir,
			 (long)t, i, lf.len, msg.len, gen_seen(opt.seed, (uint64_t)i) ? "S" : "");
		write_file(path, lf.p, lf.len);
		struct timeval tv[2] = { { t, 0 }, { t, 0 } };
		utimes(path, tv);
		bytes += lf.len;
	}
	fprintf(stderr, "genmaildir: %ld messages, %.1f MB in %.1f s; %ld contain \"%s\"\n", opt.n,
		(double)bytes / 1e6, (double)(now_ns() - t0) / 1e9, gen_rare_count(opt.seed, opt.n), opt.rare);
	sbuf_free(&msg);
	sbuf_free(&lf);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Workload: bigbox                                                     */

static struct {
	long fetch_n;
	uint32_t last_uid;
	bool uid_order_bad;
	struct u32vec search;
	long sort_n;
	bool thread_seen;
} bb;

static void bb_hook(struct sclient *sc, const char *line, size_t len)
{
	if (len > 8 && line[2] >= '0' && line[2] <= '9') {
		const char *sp = strchr(line + 2, ' ');
		if (sp && strncasecmp(sp, " FETCH ", 7) == 0) {
			bb.fetch_n++;
			return;
		}
	}
	if (strncasecmp(line, "* SEARCH", 8) == 0)
		parse_search(line, &bb.search);
	else if (strncasecmp(line, "* SORT", 6) == 0) {
		for (const char *p = line + 6; *p; p++)
			if (*p == ' ' && isdigit((unsigned char)p[1]))
				bb.sort_n++;
	} else if (strncasecmp(line, "* THREAD", 8) == 0)
		bb.thread_seen = true;
}

/* A sender's name, as a user types it into a search box: one of the
 * generator's sixteen family names, in about 5 % of From: fields. */
#define BB_FROM_NEEDLE "Tanaka"

/* SEARCH UNSEEN SINCE: the day of the message nine tenths into the
 * mailbox, written as a search date into since; returns how many unseen
 * messages arrived that day or later (-1 when the size is unknown). */
static long bb_unseen_since(char *since, size_t size)
{
	long n = opt.n > 0 ? opt.n : 100000;
	time_t day0 = (gen_date(opt.seed, (uint64_t)(n * 9 / 10)) + 30) / 86400;
	time_t t = day0 * 86400;
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(since, size, "%d-%s-%04d", tm.tm_mday, mon_names[tm.tm_mon], tm.tm_year + 1900);
	if (opt.n <= 0)
		return -1;
	long c = 0;
	for (long i = 0; i < opt.n; i++) /* INTERNALDATE is in +0000 (gen_internaldate) */
		c += !gen_seen(opt.seed, (uint64_t)i) &&
		     (gen_date(opt.seed, (uint64_t)i) + 30) / 86400 >= day0;
	return c;
}

static int run_bigbox(void)
{
	struct sclient *sc = sc_new(0, 1);
	sc->untagged_hook = bb_hook;
	struct sclient *list[1] = { sc };
	if (!sc_login_all(list, 1))
		die("bigbox: login failed");
	sc_run(sc, -1, false, "NOOP");
	bool sort = has_cap(sc->caps, "SORT");
	bool thread = has_cap(sc->caps, "THREAD=REFERENCES");
	bool skip_sort = opt.skip && strcasestr(opt.skip, "sort");
	bool skip_thread = opt.skip && strcasestr(opt.skip, "thread");
	if (sort && skip_sort)
		fprintf(stderr, "bigbox: SORT skipped (--skip)\n");
	if (thread && skip_thread)
		fprintf(stderr, "bigbox: THREAD skipped (--skip)\n");
	long expect_rare = opt.n > 0 ? gen_rare_count(opt.seed, opt.n) : -1;
	long expect_from = opt.n > 0 ? gen_from_count(opt.seed, opt.n, BB_FROM_NEEDLE) : -1;
	char since[32];
	long expect_unseen = bb_unseen_since(since, sizeof(since));
	fprintf(stderr, "bigbox: user %s mailbox %s, %d measured repetitions after one warm-up\n",
		user_name(1), opt.mailbox, opt.reps);
	if (!sort)
		fprintf(stderr, "bigbox: server does not advertise SORT: skipped\n");
	if (!thread)
		fprintf(stderr, "bigbox: server does not advertise THREAD=REFERENCES: skipped\n");
	result("SORT", "supported", sort);
	result("THREAD", "supported", thread);
	stats_reset();
	for (int rep = 0; rep <= opt.reps && !got_signal; rep++) {
		st.recording = rep > 0; /* the first pass warms caches and indexes */
		uint64_t t0 = now_ns();
		sc->exists = 0;
		if (sc_run(sc, K_BB_SELECT, false, "SELECT \"%s\"", opt.mailbox) != ST_OK)
			break;
		if (opt.n > 0 && sc->exists != (uint32_t)opt.n)
			consistency_error("bigbox: SELECT EXISTS %u, expected %ld", sc->exists, opt.n);
		bb.fetch_n = 0;
		sc_run(sc, K_BB_FETCH_ENV, false, "FETCH 1:* (UID FLAGS ENVELOPE BODYSTRUCTURE)");
		if (bb.fetch_n != (long)sc->exists)
			consistency_error("bigbox: FETCH ENVELOPE gave %ld responses for %u messages",
					  bb.fetch_n, sc->exists);
		bb.fetch_n = 0;
		sc_run(sc, K_BB_FETCH_FLAGS, false, "FETCH 1:* (FLAGS)");
		if (bb.fetch_n != (long)sc->exists)
			consistency_error("bigbox: FETCH FLAGS gave %ld responses for %u messages",
					  bb.fetch_n, sc->exists);
		bb.search.n = 0;
		sc_run(sc, K_BB_SEARCH, false, "SEARCH TEXT %s", opt.rare);
		if (expect_rare >= 0 && (long)bb.search.n != expect_rare)
			consistency_error("bigbox: SEARCH TEXT %s found %zu messages, expected %ld", opt.rare,
					  bb.search.n, expect_rare);
		bb.search.n = 0;
		sc_run(sc, K_BB_SEARCH_FROM, false, "SEARCH FROM %s", BB_FROM_NEEDLE);
		if (expect_from >= 0 && (long)bb.search.n != expect_from)
			consistency_error("bigbox: SEARCH FROM %s found %zu messages, expected %ld",
					  BB_FROM_NEEDLE, bb.search.n, expect_from);
		bb.search.n = 0;
		sc_run(sc, K_BB_SEARCH_UNSEEN, false, "SEARCH UNSEEN SINCE %s", since);
		if (expect_unseen >= 0 && (long)bb.search.n != expect_unseen)
			consistency_error("bigbox: SEARCH UNSEEN SINCE %s found %zu messages, expected %ld",
					  since, bb.search.n, expect_unseen);
		if (sort && !skip_sort) {
			bb.sort_n = 0;
			sc_run(sc, K_BB_SORT, false, "SORT (REVERSE DATE) UTF-8 ALL");
			if (bb.sort_n != (long)sc->exists)
				consistency_error("bigbox: SORT gave %ld numbers for %u messages", bb.sort_n,
						  sc->exists);
		}
		if (thread && !skip_thread) {
			bb.thread_seen = false;
			sc_run(sc, K_BB_THREAD, false, "THREAD REFERENCES UTF-8 ALL");
			if (!bb.thread_seen)
				consistency_error("bigbox: THREAD without * THREAD");
		}
		fprintf(stderr, "  %s %d: %.2f s\n", rep ? "rep" : "warm-up", rep,
			(double)(now_ns() - t0) / 1e9);
	}
	st.recording = false;
	result("ALL", "messages", sc->exists);
	/* With few repetitions p50 is the median of the measured runs. */
	stats_report(0, false);
	errors_report();
	sc_logout_all(list, 1);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Server memory from /proc                                             */

static long smaps_private_kb(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long kb = 0, v;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Private_Clean: %ld kB", &v) == 1 ||
		    sscanf(line, "Private_Dirty: %ld kB", &v) == 1)
			kb += v;
	}
	fclose(f);
	return kb;
}

/* Private memory of the server: the process itself, or with
 * --server-comm the sum over its children of that name (Dovecot's imap
 * processes). *nproc_r counts the processes summed. */
static long server_private_kb(int *nproc_r)
{
	*nproc_r = 0;
	if (opt.server_pid <= 0)
		return -1;
	if (!opt.server_comm) {
		*nproc_r = 1;
		return smaps_private_kb(opt.server_pid);
	}
	DIR *d = opendir("/proc");
	if (!d)
		return -1;
	long total = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		char path[300], buf[512];
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		char *l = strchr(buf, '('), *r = strrchr(buf, ')');
		if (!l || !r)
			continue;
		*r = '\0';
		int ppid = 0;
		char state;
		if (sscanf(r + 2, "%c %d", &state, &ppid) != 2 || ppid != opt.server_pid)
			continue;
		if (strcmp(l + 1, opt.server_comm) != 0)
			continue;
		long kb = smaps_private_kb(atoi(e->d_name));
		if (kb > 0) {
			total += kb;
			(*nproc_r)++;
		}
	}
	closedir(d);
	return total;
}

static long server_nofile_limit(void)
{
	if (opt.server_pid <= 0)
		return -1;
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/limits", (int)opt.server_pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long v = -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "Max open files", 14) == 0)
			v = strtol(line + 26, NULL, 10);
	fclose(f);
	return v;
}

/* ------------------------------------------------------------------ */
/* Workload: idle                                                       */

enum istate { IS_NEW, IS_CONNECTING, IS_IDLING, IS_FAILED };

struct iclient {
	struct conn c;
	int idx, user;
	enum istate state;
	uint32_t exists;
	bool got_delivery;
};

static struct iclient *iclients;
static long i_idling, i_failed, i_inflight, i_next, i_delivered;
static uint64_t i_t_deliver, i_t_last;
static uint64_t *i_t_sent; /* per user: when its delivery was sent */
static int i_total;

static void idle_pump(void);

static void idle_fail(struct iclient *ic)
{
	if (ic->state == IS_CONNECTING)
		i_inflight--;
	if (ic->state != IS_FAILED)
		i_failed++;
	if (ic->state == IS_IDLING)
		i_idling--;
	ic->state = IS_FAILED;
}

static void idle_untagged(struct conn *c, const char *line, size_t len)
{
	struct iclient *ic = c->ud;
	uint32_t n;
	if (parse_num_word(line, "EXISTS", &n)) {
		if (ic->state == IS_IDLING && n > ic->exists && !ic->got_delivery) {
			ic->got_delivery = true;
			i_delivered++;
			i_t_last = now_ns();
			if (i_t_sent && i_t_sent[ic->user - 1])
				lat_add(&st.lat[K_DELIVERY], i_t_last - i_t_sent[ic->user - 1]);
		}
		ic->exists = n;
	}
}

static void idle_cont(struct conn *c, const char *line)
{
	struct iclient *ic = c->ud;
	if (ic->state == IS_CONNECTING) {
		ic->state = IS_IDLING;
		i_inflight--;
		i_idling++;
		idle_pump();
	}
}

static void idle_select_done(struct conn *c, int status, const char *text, long arg)
{
	struct iclient *ic = c->ud;
	if (status != ST_OK) {
		if (status != ST_CLOSED)
			protocol_error("idle SELECT: %.200s", text);
		idle_fail(ic);
		conn_close(c, true);
		idle_pump();
		return;
	}
	/* IDLE ends only when we close: its tagged answer never comes. */
	conn_cmd(c, -1, NULL, 0, "IDLE");
}

static void idle_login_done(struct conn *c, int status, const char *text, long arg)
{
	struct iclient *ic = c->ud;
	if (status != ST_OK) {
		if (status != ST_CLOSED)
			protocol_error("idle LOGIN: %.200s", text);
		idle_fail(ic);
		conn_close(c, true);
		idle_pump();
		return;
	}
	conn_cmd(c, -1, idle_select_done, 0, "SELECT \"%s\"", opt.mailbox);
}

static void idle_greeting(struct conn *c, const char *line)
{
	struct iclient *ic = c->ud;
	conn_cmd(c, -1, idle_login_done, 0, "LOGIN \"%s\" \"%s\"", user_name(ic->user), opt.password);
}

static void idle_closed(struct conn *c)
{
	struct iclient *ic = c->ud;
	if (ic->state != IS_FAILED) {
		if (ic->state == IS_IDLING && opt.verbose)
			fprintf(stderr, "idle connection %d closed by the server\n", ic->idx);
		idle_fail(ic);
	}
	idle_pump();
}

static const struct conn_ops idle_ops = {
	.greeting = idle_greeting,
	.untagged = idle_untagged,
	.cont = idle_cont,
	.closed = idle_closed,
};

/* Keeps at most --connect-window connections in their login phase. */
static void idle_pump(void)
{
	while (i_next < i_total && i_inflight < opt.connect_window && !stopping) {
		struct iclient *ic = &iclients[i_next];
		ic->idx = (int)i_next;
		ic->user = (int)(i_next % opt.users) + 1;
		i_next++;
		ic->state = IS_CONNECTING;
		i_inflight++;
		if (!conn_start(&ic->c, &idle_ops, ic, ic->idx)) {
			idle_fail(ic);
			fprintf(stderr, "idle: cannot open connection %d\n", ic->idx);
			stopping = true;
		}
	}
}

static bool idle_setup_done(void)
{
	return i_next >= i_total && i_inflight == 0;
}

static bool idle_delivered_all(void)
{
	return i_delivered >= i_idling;
}

static void raise_nofile(long want)
{
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	if ((long)rl.rlim_cur >= want)
		return;
	rl.rlim_cur = (rlim_t)want;
	if (rl.rlim_max < rl.rlim_cur) {
		rl.rlim_max = rl.rlim_cur;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) { /* not root: take what is allowed */
			getrlimit(RLIMIT_NOFILE, &rl);
			rl.rlim_cur = rl.rlim_max;
		}
	}
	setrlimit(RLIMIT_NOFILE, &rl);
	getrlimit(RLIMIT_NOFILE, &rl);
	fprintf(stderr, "RLIMIT_NOFILE of petrel-load: %ld\n", (long)rl.rlim_cur);
}

static int run_idle(void)
{
	i_total = (int)(opt.count > 0 ? opt.count : 1000);
	if (opt.users <= 0)
		opt.users = 100;
	raise_nofile(i_total + 1000);
	iclients = xcalloc((size_t)i_total, sizeof(*iclients));
	int np;
	long mem0 = server_private_kb(&np);
	fprintf(stderr, "idle: %d connections over %d users, mailbox %s; server nofile limit %ld\n",
		i_total, opt.users, opt.mailbox, server_nofile_limit());
	result("ALL", "server_nofile_limit", (double)server_nofile_limit());
	/* Make sure the mailboxes exist (APPEND to a missing one would fail). */
	if (strcasecmp(opt.mailbox, "INBOX") != 0) {
		for (int u = 0; u < opt.users; u++) {
			struct sclient *sc = sc_new(u, u + 1);
			struct sclient *l[1] = { sc };
			if (sc_login_all(l, 1))
				sc_run(sc, -1, true, "CREATE \"%s\"", opt.mailbox);
			sc_logout_all(l, 1);
			free(sc);
		}
	}
	uint64_t t0 = now_ns();
	idle_pump();
	uint64_t last = now_ns();
	while (!idle_setup_done() && !got_signal) {
		loop_for(0.05);
		if (now_ns() - last > 5000000000ull) {
			last = now_ns();
			fprintf(stderr, "  %ld idling, %ld failed, %ld connecting\n", i_idling, i_failed, i_inflight);
		}
		if ((double)(now_ns() - t0) / 1e9 > opt.timeout + i_total / 100.0) {
			fprintf(stderr, "idle: setup timed out\n");
			break;
		}
	}
	double setup_s = (double)(now_ns() - t0) / 1e9;
	fprintf(stderr, "idle: %ld connections in IDLE after %.1f s (%ld failed)\n", i_idling, setup_s,
		i_failed);
	result("ALL", "idle_connections", (double)i_idling);
	result("ALL", "failed_connections", (double)i_failed);
	result("ALL", "setup_s", setup_s);
	loop_for(2.0); /* let the server settle */
	long mem1 = server_private_kb(&np);
	if (mem1 >= 0 && i_idling > 0) {
		double per = (double)(mem1 - (mem0 > 0 ? mem0 : 0)) / (double)i_idling;
		fprintf(stderr, "idle: server private memory %ld kB before, %ld kB with %ld idle (%d processes): %.1f kB per connection\n",
			mem0, mem1, i_idling, np, per);
		result("ALL", "server_private_kb_before", (double)mem0);
		result("ALL", "server_private_kb", (double)mem1);
		result("ALL", "server_processes", np);
		result("ALL", "mem_per_conn_kb", per);
	}
	/* One delivery per user from other connections; every IDLE
	 * connection must see its mailbox grow. */
	int nd = opt.users;
	struct sclient **dl = xcalloc((size_t)nd, sizeof(*dl));
	for (int u = 0; u < nd; u++)
		dl[u] = sc_new(i_total + u, u + 1);
	if (!sc_login_all(dl, nd))
		fprintf(stderr, "idle: some delivery logins failed\n");
	struct sbuf msg = { 0 };
	gen_message(&msg, opt.seed + 99, 1, 2048);
	i_t_deliver = now_ns();
	i_t_last = 0;
	i_t_sent = xcalloc((size_t)nd, sizeof(*i_t_sent));
	stats_reset();
	st.recording = true;
	for (int u = 0; u < nd; u++) {
		i_t_sent[u] = now_ns();
		conn_append(&dl[u]->c, K_APPEND, NULL, 0, opt.mailbox, "", NULL, msg.p, msg.len);
	}
	loop_until(idle_delivered_all, 30 + i_total / 1000.0);
	double last_ms = i_t_last ? (double)(i_t_last - i_t_deliver) / 1e6 : -1;
	fprintf(stderr, "idle: delivery reached %ld of %ld IDLE connections; the last after %.1f ms\n",
		i_delivered, i_idling, last_ms);
	if (i_delivered < i_idling)
		consistency_error("idle: %ld IDLE connections did not get the new message",
				  i_idling - i_delivered);
	result("ALL", "delivered", (double)i_delivered);
	result("ALL", "delivery_last_ms", last_ms);
	st.recording = false;
	/* DELIVERY: from sending a user's APPEND to EXISTS in each of that
	 * user's IDLE connections; APPEND: the deliveries' own latency. */
	stats_report(0, false);
	sc_logout_all(dl, nd);
	for (int i = 0; i < i_total; i++) {
		iclients[i].state = IS_FAILED;
		iclients[i].c.expect_close = true;
		conn_close(&iclients[i].c, true);
	}
	sbuf_free(&msg);
	errors_report();
	return 0;
}

/* ------------------------------------------------------------------ */
/* Workload: latency (APPEND in one connection to EXISTS in another)    */

static struct {
	struct sclient *idler, *writer;
	bool idling, exists_seen, append_done;
	uint32_t exists;
	uint64_t t0;
	long done_n;
} lt;

static void lt_hook(struct sclient *sc, const char *line, size_t len)
{
	uint32_t n;
	if (sc == lt.idler && parse_num_word(line, "EXISTS", &n)) {
		if (lt.idling && n > lt.exists && !lt.exists_seen && lt.t0) {
			lat_add(&st.lat[K_DELIVERY], now_ns() - lt.t0);
			lt.exists_seen = true;
		}
		lt.exists = n;
	}
}

static void lt_cont(struct conn *c, const char *line)
{
	lt.idling = true;
}

static const struct conn_ops lt_idle_ops = {
	.greeting = sc_greeting,
	.untagged = sc_untagged,
	.cont = lt_cont,
	.closed = sc_closed,
};

static void lt_append_done(struct conn *c, int status, const char *text, long arg)
{
	if (status != ST_OK && status != ST_CLOSED)
		protocol_error("latency APPEND: %.200s", text);
	lt.append_done = true;
}

static bool lt_round_done(void)
{
	return lt.append_done && lt.exists_seen;
}

static bool lt_idling(void)
{
	return lt.idling;
}

static int run_latency(void)
{
	long count = opt.count > 0 ? opt.count : 1000;
	lt.idler = sc_new(0, 1);
	lt.writer = sc_new(1, 1);
	lt.idler->untagged_hook = lt_hook;
	struct sclient *list[2] = { lt.idler, lt.writer };
	if (!sc_login_all(list, 2))
		die("latency: login failed");
	sc_run(lt.writer, -1, true, "CREATE \"%s\"", opt.mailbox);
	if (sc_run(lt.idler, -1, false, "SELECT \"%s\"", opt.mailbox) != ST_OK)
		die("latency: SELECT failed");
	lt.exists = lt.idler->exists;
	lt.idler->c.ops = &lt_idle_ops;
	conn_cmd(&lt.idler->c, -1, NULL, 0, "IDLE");
	if (!loop_until(lt_idling, 10))
		die("latency: no IDLE continuation");
	struct sbuf msg = { 0 };
	gen_message(&msg, opt.seed + 5, 3, 2048);
	stats_reset();
	st.recording = true;
	uint64_t t_end = now_ns() + (uint64_t)(opt.duration * 1e9);
	long missed = 0;
	for (long i = 0; i < count && !got_signal && now_ns() < t_end; i++) {
		lt.append_done = lt.exists_seen = false;
		lt.t0 = now_ns();
		conn_append(&lt.writer->c, K_APPEND, lt_append_done, 0, opt.mailbox, "", NULL, msg.p, msg.len);
		if (!loop_until(lt_round_done, 10)) {
			missed++;
			if (!lt.exists_seen)
				consistency_error("latency: no EXISTS in IDLE within 10 s of delivery %ld", i);
			loop_until(lt_round_done, 30); /* resynchronise */
		}
		lt.done_n++;
	}
	st.recording = false;
	fprintf(stderr, "latency: %ld deliveries (%ld slower than 10 s)\n", lt.done_n, missed);
	stats_report(0, false);
	result("ALL", "deliveries", (double)lt.done_n);
	errors_report();
	lt.idler->c.expect_close = true;
	conn_close(&lt.idler->c, true);
	sc_logout_all(&list[1], 1);
	sbuf_free(&msg);
	return 0;
}

/* ------------------------------------------------------------------ */
/* main                                                                 */

static void usage(void)
{
	fprintf(stderr,
		"usage: petrel-load WORKLOAD [options]\n"
		"workloads: mixed [--long] | append | bigbox | idle | latency |\n"
		"           populate | genmaildir | genmsg\n"
		"  --host H --port P [--tls]     server (127.0.0.1:1143)\n"
		"  --user FMT --password PW      user names: printf format with %%d, 1-based (bench%%d)\n"
		"  --label NAME                  server name in RESULT lines\n"
		"  --clients N --users N         mixed: clients (one user each); idle: users\n"
		"  --duration S --count N        bounds (mixed/append: seconds; idle: connections;\n"
		"                                latency: deliveries; append: messages per client)\n"
		"  --long                        mixed: keep connections (no logout between rounds)\n"
		"  --msgs M                      mixed: messages per mailbox (40)\n"
		"  --sizes LIST --client-counts LIST   append matrix (2048,102400,2097152 / 1,16)\n"
		"  --n N --rare WORD --seed S    bigbox/populate/genmaildir data\n"
		"  --reps R --skip sort,thread   bigbox repetitions (3); commands to leave out\n"
		"  --mailbox NAME --dir DIR      mailbox; maildir for genmaildir\n"
		"  --server-pid PID [--server-comm imap]   idle: server memory from /proc\n"
		"  --connect-window N            idle: logins in flight (200)\n"
		"  --batch N --window N --multiappend     populate pipelining\n"
		"  --timeout S -v                setup timeout; verbosity (-v -v: protocol trace)\n"
		"  --inject-fault                mixed: corrupt the model to prove the checks fire\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "host", 1, 0, 'H' }, { "port", 1, 0, 'p' }, { "tls", 0, 0, 'T' },
		{ "user", 1, 0, 'u' }, { "password", 1, 0, 'w' }, { "label", 1, 0, 'l' },
		{ "clients", 1, 0, 'c' }, { "users", 1, 0, 'U' }, { "duration", 1, 0, 'd' },
		{ "count", 1, 0, 'n' }, { "long", 0, 0, 'L' }, { "msgs", 1, 0, 'm' },
		{ "sizes", 1, 0, 's' }, { "client-counts", 1, 0, 'C' }, { "n", 1, 0, 'N' },
		{ "rare", 1, 0, 'r' }, { "seed", 1, 0, 'S' }, { "reps", 1, 0, 'R' },
		{ "server-pid", 1, 0, 'P' }, { "server-comm", 1, 0, 'o' }, { "dir", 1, 0, 'D' },
		{ "mailbox", 1, 0, 'M' }, { "connect-window", 1, 0, 'W' }, { "batch", 1, 0, 'b' },
		{ "window", 1, 0, 'i' }, { "multiappend", 0, 0, 'A' }, { "timeout", 1, 0, 't' },
		{ "verbose", 0, 0, 'v' }, { "inject-fault", 0, 0, 'F' },
		{ "skip", 1, 0, 'K' }, { 0, 0, 0, 0 },
	};
	if (argc < 2 || argv[1][0] == '-')
		usage();
	workload_name = argv[1];
	optind = 2;
	int ch;
	while ((ch = getopt_long(argc, argv, "v", lopts, NULL)) != -1) {
		switch (ch) {
		case 'H': opt.host = optarg; break;
		case 'p': opt.port = atoi(optarg); break;
		case 'T': opt.tls = true; break;
		case 'u': opt.user_fmt = optarg; break;
		case 'w': opt.password = optarg; break;
		case 'l': opt.label = optarg; break;
		case 'c': opt.clients = atoi(optarg); break;
		case 'U': opt.users = atoi(optarg); break;
		case 'd': opt.duration = atof(optarg); break;
		case 'n': opt.count = atol(optarg); break;
		case 'L': opt.long_sessions = true; break;
		case 'm': opt.msgs = atoi(optarg); break;
		case 's': opt.sizes = optarg; break;
		case 'C': opt.client_counts = optarg; break;
		case 'N': opt.n = atol(optarg); break;
		case 'r': opt.rare = optarg; break;
		case 'S': opt.seed = strtoull(optarg, NULL, 10); break;
		case 'R': opt.reps = atoi(optarg); break;
		case 'P': opt.server_pid = atoi(optarg); break;
		case 'o': opt.server_comm = optarg; break;
		case 'D': opt.dir = optarg; break;
		case 'M': opt.mailbox = optarg; break;
		case 'W': opt.connect_window = atoi(optarg); break;
		case 'b': opt.batch = atoi(optarg); break;
		case 'i': opt.window = atoi(optarg); break;
		case 'A': opt.multiappend = true; break;
		case 't': opt.timeout = atof(optarg); break;
		case 'v': opt.verbose++; break;
		case 'F': opt.inject_fault = true; break;
		case 'K': opt.skip = optarg; break;
		default: usage();
		}
	}
	if (opt.clients < 1 || opt.duration <= 0 || opt.batch < 1 || opt.window < 1 || opt.reps < 0)
		usage();
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(workload_name, "genmaildir") == 0)
		return run_genmaildir();
	if (strcmp(workload_name, "genmsg") == 0) {
		struct sbuf b = { 0 };
		gen_message(&b, opt.seed, (uint64_t)opt.n, (size_t)opt.count);
		fwrite(b.p, 1, b.len, stdout);
		sbuf_free(&b);
		return 0;
	}
	if (opt.tls) {
		ssl_ctx = SSL_CTX_new(TLS_client_method());
		SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_NONE, NULL);
	}
	raise_nofile(4096);
	base = event_base_new();
	struct event *sig_ev = evsignal_new(base, SIGINT, on_sigint, NULL);
	struct event *sig_ev2 = evsignal_new(base, SIGTERM, on_sigint, NULL);
	evsignal_add(sig_ev, NULL);
	evsignal_add(sig_ev2, NULL);
	int rc;
	if (strcmp(workload_name, "mixed") == 0) {
		if (opt.long_sessions)
			workload_name = "mixed-long";
		rc = run_mixed();
	} else if (strcmp(workload_name, "append") == 0) {
		rc = run_append();
	} else if (strcmp(workload_name, "bigbox") == 0) {
		rc = run_bigbox();
	} else if (strcmp(workload_name, "idle") == 0) {
		rc = run_idle();
	} else if (strcmp(workload_name, "latency") == 0) {
		rc = run_latency();
	} else if (strcmp(workload_name, "populate") == 0) {
		rc = run_populate();
	} else {
		usage();
	}
	event_free(sig_ev);
	event_free(sig_ev2);
	event_base_free(base);
	if (ssl_ctx)
		SSL_CTX_free(ssl_ctx);
	if (rc == 0 && errors_reported > 0)
		rc = 1;
	return got_signal ? 130 : rc;
}
