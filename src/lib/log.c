#include "lib/log.h"
#include "lib/arena.h"
#include "lib/buf.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static _Atomic int log_min_level = LOG_INFO;
static _Atomic int log_fd = 2;

static const char *const log_level_names[] = { "debug", "info", "warn", "error" };

void log_set_level(enum log_level min)
{
	log_min_level = (int)min;
}

enum log_level log_get_level(void)
{
	return (enum log_level)log_min_level;
}

void log_set_fd(int fd)
{
	log_fd = fd;
}

bool log_level_parse(const char *s, enum log_level *level_r)
{
	for (size_t i = 0; i < sizeof(log_level_names) / sizeof(*log_level_names); i++) {
		if (strcmp(s, log_level_names[i]) == 0) {
			*level_r = (enum log_level)i;
			return true;
		}
	}
	return false;
}

static void log_append_timestamp(struct buf *b)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	buf_printf(b, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		   ts.tv_nsec / 1000000);
}

void log_eventv(enum log_level level, const char *session, const char *event,
		const char *fmt, va_list ap)
{
	if ((int)level < log_min_level)
		return;
	struct buf b = BUF_INIT;
	log_append_timestamp(&b);
	buf_printf(&b, " level=%s", log_level_names[level]);
	if (session != NULL)
		buf_printf(&b, " session=%s", session);
	buf_printf(&b, " event=%s", event);
	if (fmt != NULL && *fmt != '\0') {
		buf_append_char(&b, ' ');
		buf_vprintf(&b, fmt, ap);
	}
	/* Never let a formatted value break the one-line-per-event rule. */
	for (size_t i = 0; i < b.len; i++)
		if (b.data[i] == '\n' || b.data[i] == '\r')
			b.data[i] = ' ';
	buf_append_char(&b, '\n');
	ssize_t r = write(log_fd, b.data, b.len);
	(void)r;
	buf_free(&b);
}

void log_event(enum log_level level, const char *session, const char *event,
	       const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_eventv(level, session, event, fmt, ap);
	va_end(ap);
}

static bool log_plain_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '=';
}

const char *log_value(struct arena *a, const void *data, size_t len)
{
	const unsigned char *p = data;
	bool plain = len > 0;
	for (size_t i = 0; i < len && plain; i++)
		plain = log_plain_char(p[i]);
	if (plain)
		return arena_strndup(a, p, len);
	struct buf b = BUF_INIT;
	buf_append_char(&b, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];
		if (c == '"' || c == '\\')
			buf_printf(&b, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			buf_printf(&b, "\\x%02x", c);
		else
			buf_append_char(&b, (char)c);
	}
	buf_append_char(&b, '"');
	const char *s = arena_strndup(a, b.data, b.len);
	buf_free(&b);
	return s;
}

const char *log_str(struct arena *a, const char *s)
{
	return log_value(a, s, s ? strlen(s) : 0);
}
