#ifndef PETREL_LOG_H
#define PETREL_LOG_H

/* One line per event, key=value, to stderr (or a configured stream):
 *   2026-11-25T18:40:01.123Z level=info session=5f2a event=login user=demo
 * Thread-safe: each line is written with a single write(2). Values that
 * come from outside (user names, client IDs, addresses) must go through
 * log_value() so that a client cannot forge fields or lines. */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct arena;

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level min);
enum log_level log_get_level(void);
/* fd to write to; default 2 (stderr). */
void log_set_fd(int fd);
/* Parses "debug", "info", "warn", "error". */
bool log_level_parse(const char *s, enum log_level *level_r);

/* session may be NULL for process-wide events. fmt continues the line with
 * further " key=value" pairs and may be NULL. */
void log_event(enum log_level level, const char *session, const char *event,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void log_eventv(enum log_level level, const char *session, const char *event,
		const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

/* A value safe to put after "key=": returned as-is when it is plain
 * printable ASCII without spaces, quotes or '=', else double-quoted with
 * \" \\ and \xNN escapes. Allocated from a. */
const char *log_value(struct arena *a, const void *data, size_t len);
const char *log_str(struct arena *a, const char *s);

#endif
