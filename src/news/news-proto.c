/* NNTP response parsing and dot-stuffing (RFC 3977 §3.1.1, §3.2, §6.1.1,
 * §7.6.3, §8.3). */

#include "news/news-proto.h"

#include "lib/buf.h"

#include <string.h>

/* Article numbers: RFC 3977 §6 says 1..2^31-1, but servers with long
 * histories run past it; anything up to INT64_MAX fits the store. */
#define NEWS_NUMBER_MAX ((uint64_t)INT64_MAX)

/* Reads a decimal number of 1..19 digits at *p (below end), no sign. */
static bool news_number_read(const char **p, const char *end, uint64_t *n_r)
{
	uint64_t n = 0;
	const char *s = *p;
	while (s < end && *s >= '0' && *s <= '9') {
		unsigned d = (unsigned)(*s - '0');
		if (n > (NEWS_NUMBER_MAX - d) / 10)
			return false;
		n = n * 10 + d;
		s++;
	}
	if (s == *p)
		return false;
	*p = s;
	*n_r = n;
	return true;
}

static bool news_skip_spaces(const char **p, const char *end)
{
	const char *s = *p;
	while (s < end && *s == ' ')
		s++;
	bool skipped = s != *p;
	*p = s;
	return skipped;
}

bool news_status_parse(const char *line, size_t len, unsigned *code_r,
		       const char **text_r, size_t *text_len_r)
{
	/* status-code = 3DIGIT, the first digit 1-5 (RFC 3977 §3.2). */
	if (len < 3 || line[0] < '1' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
	    line[2] < '0' || line[2] > '9')
		return false;
	if (len > 3 && line[3] != ' ')
		return false;
	*code_r = (unsigned)(line[0] - '0') * 100 + (unsigned)(line[1] - '0') * 10 +
		(unsigned)(line[2] - '0');
	*text_r = len > 3 ? line + 4 : line + len;
	*text_len_r = len > 3 ? len - 4 : 0;
	return true;
}

bool news_group_parse(const char *text, size_t len, struct news_group_info *info_r)
{
	const char *p = text, *end = text + len;
	struct news_group_info info;
	if (!news_number_read(&p, end, &info.count) || !news_skip_spaces(&p, end) ||
	    !news_number_read(&p, end, &info.low) || !news_skip_spaces(&p, end) ||
	    !news_number_read(&p, end, &info.high))
		return false;
	/* The group name follows; it is ours already. */
	if (p < end && *p != ' ')
		return false;
	*info_r = info;
	return true;
}

bool news_active_parse(const char *line, size_t len, struct news_active_entry *entry_r)
{
	const char *end = line + len;
	const char *name_end = memchr(line, ' ', len);
	if (name_end == NULL || name_end == line)
		return false;
	const char *p = name_end;
	struct news_active_entry e = { .name = line, .name_len = (size_t)(name_end - line) };
	if (!news_skip_spaces(&p, end) || !news_number_read(&p, end, &e.high) ||
	    !news_skip_spaces(&p, end) || !news_number_read(&p, end, &e.low) ||
	    !news_skip_spaces(&p, end) || p == end)
		return false;
	e.status = *p;
	*entry_r = e;
	return true;
}

/* The field starting at *p up to the next TAB (or end); *p moves past the
 * TAB. False when there is no field left. */
static bool news_field_next(const char **p, const char *end, const char **field_r,
			    size_t *len_r)
{
	if (*p > end)
		return false;
	const char *tab = memchr(*p, '\t', (size_t)(end - *p));
	const char *field_end = tab != NULL ? tab : end;
	*field_r = *p;
	*len_r = (size_t)(field_end - *p);
	*p = tab != NULL ? tab + 1 : end + 1;
	return true;
}

bool news_overview_parse(const char *line, size_t len, struct news_overview *ov_r)
{
	const char *p = line, *end = line + len;
	struct news_overview ov;
	memset(&ov, 0, sizeof(ov));
	const char *number;
	size_t number_len;
	if (!news_field_next(&p, end, &number, &number_len))
		return false;
	const char *n = number;
	if (!news_number_read(&n, number + number_len, &ov.number) ||
	    n != number + number_len || ov.number == 0)
		return false;
	const char *bytes, *lines;
	size_t bytes_len, lines_len;
	if (!news_field_next(&p, end, &ov.subject, &ov.subject_len) ||
	    !news_field_next(&p, end, &ov.from, &ov.from_len) ||
	    !news_field_next(&p, end, &ov.date, &ov.date_len) ||
	    !news_field_next(&p, end, &ov.message_id, &ov.message_id_len) ||
	    !news_field_next(&p, end, &ov.references, &ov.references_len) ||
	    !news_field_next(&p, end, &bytes, &bytes_len) ||
	    !news_field_next(&p, end, &lines, &lines_len))
		return false;
	const char *b = bytes;
	if (!news_number_read(&b, bytes + bytes_len, &ov.bytes) || b != bytes + bytes_len)
		ov.bytes = 0;
	*ov_r = ov;
	return true;
}

bool news_msgid_valid(const char *id, size_t len)
{
	if (len < 3 || len > 250 || id[0] != '<' || id[len - 1] != '>')
		return false;
	for (size_t i = 1; i + 1 < len; i++)
		if (id[i] < 0x21 || id[i] > 0x7e || id[i] == '>')
			return false;
	return true;
}

/* ---- Multi-line data blocks ---- */

enum news_dot_state {
	NEWS_DOT_LINE_START, /* at the first byte of a line */
	NEWS_DOT_MIDDLE,     /* inside a line */
	NEWS_DOT_DOT,        /* the line so far is "." */
	NEWS_DOT_DOT_CR,     /* the line so far is ".\r" */
};

size_t news_dot_decode(struct news_dot_decoder *dec, const void *in, size_t len,
		       struct buf *out)
{
	const unsigned char *s = in;
	size_t i = 0, run = 0; /* run: bytes copied as they are, pending */
	while (i < len && !dec->done) {
		unsigned char c = s[i];
		switch ((enum news_dot_state)dec->state) {
		case NEWS_DOT_LINE_START:
			if (c == '.') {
				buf_append(out, s + i - run, run);
				run = 0;
				dec->state = NEWS_DOT_DOT;
				i++;
				continue;
			}
			dec->state = c == '\n' ? NEWS_DOT_LINE_START : NEWS_DOT_MIDDLE;
			break;
		case NEWS_DOT_MIDDLE:
			if (c == '\n')
				dec->state = NEWS_DOT_LINE_START;
			break;
		case NEWS_DOT_DOT:
			if (c == '\r') {
				dec->state = NEWS_DOT_DOT_CR;
				i++;
				continue;
			}
			if (c == '\n') {
				dec->done = true; /* ".\n" from a lax server */
				i++;
				continue;
			}
			/* A stuffed dot: dropped; the rest of the line is data. */
			dec->state = NEWS_DOT_MIDDLE;
			break;
		case NEWS_DOT_DOT_CR:
			if (c == '\n') {
				dec->done = true;
				i++;
				continue;
			}
			/* ".\r" then something else: the CR was data. */
			buf_append(out, s + i - run, run);
			run = 0;
			buf_append_char(out, '\r');
			dec->state = NEWS_DOT_MIDDLE;
			break;
		}
		run++;
		i++;
	}
	if (run > 0)
		buf_append(out, s + i - run, run);
	return i;
}

void news_dot_encode(struct news_dot_encoder *enc, const void *in, size_t len,
		     struct buf *out)
{
	const unsigned char *s = in;
	buf_reserve(out, len + len / 32 + 8);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];
		if (enc->after_cr) {
			enc->after_cr = false;
			/* CR LF is one line end; a bare CR became CRLF already. */
			if (c == '\n')
				continue;
		}
		if (c == '\r' || c == '\n') {
			buf_append(out, "\r\n", 2);
			enc->after_cr = c == '\r';
			enc->at_line_start = true;
			continue;
		}
		if (enc->at_line_start && c == '.')
			buf_append_char(out, '.');
		enc->at_line_start = false;
		buf_append_char(out, (char)c);
	}
}

void news_dot_encode_finish(struct news_dot_encoder *enc, struct buf *out)
{
	if (!enc->at_line_start)
		buf_append(out, "\r\n", 2);
	buf_append(out, ".\r\n", 3);
	enc->at_line_start = true;
	enc->after_cr = false;
}
