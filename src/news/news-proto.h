#ifndef PETREL_NEWS_PROTO_H
#define PETREL_NEWS_PROTO_H

/* What an NNTP server sends, parsed (RFC 3977): status lines, the GROUP
 * and LIST ACTIVE answers, overview lines, and multi-line data blocks with
 * their dot-stuffing. Pure functions over bytes already received, with no
 * I/O, so that each can be tested alone and fuzzed (fuzz/fuzz-nntp.c).
 * Input is never trusted: every function takes a length, stops at it, and
 * answers false rather than reading past it. Thread-safe. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

/* Longest single line Petrel accepts from a server outside an article
 * (RFC 3977 §3.1.1 allows 512 octets for initial lines; overview lines
 * carry long References fields, so they get more room). */
#define NEWS_LINE_MAX (64 * 1024)

/* RFC 3977 §3.2: "3-digit status code, then SP and text" (the text may be
 * missing). line excludes the CRLF. *text_r points into line (after the
 * space) with *text_len_r bytes. */
bool news_status_parse(const char *line, size_t len, unsigned *code_r,
		       const char **text_r, size_t *text_len_r);

/* RFC 3977 §6.1.1.2, the text after "211 ": "number low high group". */
struct news_group_info {
	uint64_t count;
	uint64_t low;
	uint64_t high;
};
bool news_group_parse(const char *text, size_t len, struct news_group_info *info_r);

/* RFC 3977 §7.6.3, one line of LIST ACTIVE: "group high low status".
 * *name_r points into line. */
struct news_active_entry {
	const char *name;
	size_t name_len;
	uint64_t high;
	uint64_t low;
	char status;     /* 'y', 'n', 'm', ... */
};
bool news_active_parse(const char *line, size_t len, struct news_active_entry *entry_r);

/* RFC 3977 §8.3, one line of an OVER/XOVER answer: the article number and
 * the TAB-separated Subject, From, Date, Message-ID, References, :bytes
 * and :lines fields (fields beyond them are ignored). Field pointers point
 * into line. Refused: a number that is not 1..2^63-1, fewer than seven
 * fields. The Message-ID is returned as sent; see news_msgid_valid. */
struct news_overview {
	uint64_t number;
	const char *subject, *from, *date, *message_id, *references;
	size_t subject_len, from_len, date_len, message_id_len, references_len;
	uint64_t bytes;  /* 0 when the field is empty or not a number */
};
bool news_overview_parse(const char *line, size_t len, struct news_overview *ov_r);

/* RFC 3977 §3.6: "<", 1..248 printable ASCII characters other than '>',
 * ">" (3..250 octets in all). */
bool news_msgid_valid(const char *id, size_t len);

/* A multi-line data block (RFC 3977 §3.1.1) read as a byte stream: lines
 * end in CRLF, a line starting with "." had that dot added by the sender
 * (dot-stuffing), and a line holding just "." ends the block. A bare LF is
 * taken as a line end too, as servers that store articles with LF endings
 * may send it. Init with NEWS_DOT_DECODER_INIT. */
struct news_dot_decoder {
	int state;
	bool done;
};
#define NEWS_DOT_DECODER_INIT { 0, false }

/* Decodes in[0..len): appends the block's bytes (dot-stuffing removed,
 * line endings as received) to out and returns the number of input bytes
 * used. Once the terminating line has been used, dec->done is set and the
 * rest of the input is left alone. */
size_t news_dot_decode(struct news_dot_decoder *dec, const void *in, size_t len,
		       struct buf *out);

/* The opposite direction, for POST: message bytes in, a data block out.
 * Line endings become CRLF (bare LF or bare CR alike), a line starting
 * with "." gets another, and news_dot_encode_finish ends the last line if
 * the message did not and adds ".\r\n". Init with NEWS_DOT_ENCODER_INIT. */
struct news_dot_encoder {
	bool at_line_start;
	bool after_cr;
};
#define NEWS_DOT_ENCODER_INIT { true, false }
void news_dot_encode(struct news_dot_encoder *enc, const void *in, size_t len,
		     struct buf *out);
void news_dot_encode_finish(struct news_dot_encoder *enc, struct buf *out);

#endif
