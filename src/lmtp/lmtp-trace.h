#ifndef PETREL_LMTP_TRACE_H
#define PETREL_LMTP_TRACE_H

/* The trace fields a delivery agent puts on top of a message (RFC 5321
 * §4.4): Return-Path with the envelope sender, and a Received line saying
 * who handed the message over, when, and how. */

#include <stdint.h>

struct buf;

struct lmtp_trace {
	const char *return_path; /* envelope sender without <>, "" for the
				  * null path; NULL: no Return-Path */
	const char *helo;        /* LHLO argument; NULL: no Received */
	const char *remote;      /* peer address ("127.0.0.1", "local") */
	const char *host;        /* our host name */
	const char *id;          /* session id, for matching logs */
	int64_t time;            /* Unix seconds */
};

/* Appends the header fields, each ending in CRLF, to out. Characters that
 * do not belong in a header (controls, 8-bit) in helo are replaced by '?'. */
void lmtp_trace_format(const struct lmtp_trace *t, struct buf *out);

/* The local host name for greetings and Received lines (cached; any
 * thread). */
const char *lmtp_trace_hostname(void);

#endif
