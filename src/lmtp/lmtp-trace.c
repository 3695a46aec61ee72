#include "lmtp/lmtp-trace.h"

#include "lib/buf.h"

#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char lmtp_hostname[256];
static pthread_once_t lmtp_hostname_once = PTHREAD_ONCE_INIT;

static void lmtp_hostname_init(void)
{
	if (gethostname(lmtp_hostname, sizeof(lmtp_hostname) - 1) != 0 || lmtp_hostname[0] == '\0')
		strcpy(lmtp_hostname, "localhost");
}

const char *lmtp_trace_hostname(void)
{
	pthread_once(&lmtp_hostname_once, lmtp_hostname_init);
	return lmtp_hostname;
}

static void lmtp_trace_append_word(struct buf *out, const char *s)
{
	for (; *s != '\0'; s++)
		buf_append_char(out, (*s > ' ' && *s < 127 && *s != '(' && *s != ')') ? *s : '?');
}

/* date-time (RFC 5322 §3.3) in local time: "Wed, 25 Nov 2026 19:00:00 +0100".
 * Day and month names are fixed English, whatever the locale. */
static void lmtp_trace_append_date(struct buf *out, int64_t when)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)when;
	struct tm tm;
	localtime_r(&t, &tm);
	long off = tm.tm_gmtoff / 60;
	char sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	buf_printf(out, "%s, %d %s %d %02d:%02d:%02d %c%02ld%02ld", days[tm.tm_wday], tm.tm_mday,
		   months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, sign,
		   off / 60, off % 60);
}

void lmtp_trace_format(const struct lmtp_trace *t, struct buf *out)
{
	if (t->return_path != NULL)
		buf_printf(out, "Return-Path: <%s>\r\n", t->return_path);
	if (t->helo == NULL)
		return;
	/* Received: from HELO (ADDRESS) by HOST (Petrel) with LMTP id ID; DATE
	 * (RFC 5321 §4.4), folded so that no line grows long. */
	buf_append_str(out, "Received: from ");
	lmtp_trace_append_word(out, t->helo);
	buf_printf(out, " (%s)\r\n\tby ", t->remote);
	lmtp_trace_append_word(out, t->host);
	buf_append_str(out, " (Petrel) with LMTP id ");
	lmtp_trace_append_word(out, t->id);
	buf_append_str(out, ";\r\n\t");
	lmtp_trace_append_date(out, t->time);
	buf_append_str(out, "\r\n");
}
