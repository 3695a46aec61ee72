#ifndef PETREL_LMTP_DOT_H
#define PETREL_LMTP_DOT_H

/* The DATA stream (RFC 5321 §4.1.1.4, §4.5.2): removes the leading dot of
 * dot-stuffed lines and finds the end of the data, <CRLF>.<CRLF>. A
 * resumable byte-level state machine: feed it whatever arrived, in any
 * split. Only CRLF ends a line here; a bare LF or CR never starts the
 * terminator (no "SMTP smuggling" through <LF>.<LF>). */

#include <stdbool.h>
#include <stddef.h>

enum lmtp_dot_state {
	LMTP_DOT_BOL,     /* at the start of a line */
	LMTP_DOT_LINE,    /* inside a line */
	LMTP_DOT_CR,      /* after a CR inside a line */
	LMTP_DOT_DOT,     /* after a dot at the start of a line */
	LMTP_DOT_DOT_CR,  /* after "." CR at the start of a line */
	LMTP_DOT_END,     /* the terminator was read */
};

struct lmtp_dot {
	enum lmtp_dot_state state;
};

/* Starts a DATA stream (the first byte is at the start of a line). */
void lmtp_dot_init(struct lmtp_dot *d);

/* Decodes in[0..len) into out, which must have room for len + 1 bytes;
 * returns the number of bytes written. *consumed_r is len, or less when
 * the terminator was found: the bytes after it belong to the next command.
 * Returns true once the terminator has been read (the final CRLF of the
 * message, the one before the dot, is part of the output). */
bool lmtp_dot_decode(struct lmtp_dot *d, const unsigned char *in, size_t len,
		     unsigned char *out, size_t *out_len_r, size_t *consumed_r);

#endif
