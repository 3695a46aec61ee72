/* libFuzzer target for everything Petrel parses from an NNTP server
 * (src/news/news-proto.c) and the wildmats of its configuration
 * (src/news/news-wildmat.c).
 *
 * The input is taken as a server's bytes:
 *  - each line goes through the status-line, GROUP, LIST ACTIVE and
 *    overview parsers, whose results must lie inside the line;
 *  - the whole input is decoded as a multi-line block, at once and one
 *    byte at a time, and both must give the same data and stop at the same
 *    place; the data, encoded for POST and decoded again, must come back
 *    with CRLF line ends (the encoder normalises them);
 *  - the first line is also a wildmat and the second a newsgroup name to
 *    match, and that name is mapped to a folder and back. */

#include "lib/arena.h"
#include "lib/buf.h"
#include "news/news-folder.h"
#include "news/news-proto.h"
#include "news/news-wildmat.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_inside(const char *line, size_t len, const char *p, size_t plen)
{
	if (plen > 0 && (p < line || p + plen > line + len))
		abort();
}

static void fuzz_line(const char *line, size_t len)
{
	unsigned code;
	const char *text;
	size_t text_len;
	if (news_status_parse(line, len, &code, &text, &text_len)) {
		if (code < 100 || code > 599)
			abort();
		check_inside(line, len, text, text_len);
	}
	struct news_group_info g;
	(void)news_group_parse(line, len, &g);
	struct news_active_entry e;
	if (news_active_parse(line, len, &e))
		check_inside(line, len, e.name, e.name_len);
	struct news_overview ov;
	if (news_overview_parse(line, len, &ov)) {
		if (ov.number == 0 || ov.number > (uint64_t)INT64_MAX)
			abort();
		check_inside(line, len, ov.subject, ov.subject_len);
		check_inside(line, len, ov.message_id, ov.message_id_len);
		check_inside(line, len, ov.references, ov.references_len);
		(void)news_msgid_valid(ov.message_id, ov.message_id_len);
	}
}

/* Decodes data in pieces of step bytes; returns the bytes used. */
static size_t decode(const uint8_t *data, size_t size, size_t step, struct buf *out,
		     bool *done_r)
{
	struct news_dot_decoder dec = NEWS_DOT_DECODER_INIT;
	size_t pos = 0;
	while (pos < size && !dec.done) {
		size_t n = size - pos < step ? size - pos : step;
		size_t used = news_dot_decode(&dec, data + pos, n, out);
		if (used > n || (used < n && !dec.done))
			abort();
		pos += used;
	}
	*done_r = dec.done;
	return pos;
}

static void fuzz_block(const uint8_t *data, size_t size)
{
	struct buf whole = BUF_INIT, bytewise = BUF_INIT;
	bool done1, done2;
	size_t used1 = decode(data, size, size == 0 ? 1 : size, &whole, &done1);
	size_t used2 = decode(data, size, 1, &bytewise, &done2);
	if (used1 != used2 || done1 != done2 || whole.len != bytewise.len ||
	    (whole.len > 0 && memcmp(whole.data, bytewise.data, whole.len) != 0))
		abort();

	/* Encode the data, decode it again: the same lines with CRLF ends. */
	struct news_dot_encoder enc = NEWS_DOT_ENCODER_INIT;
	struct buf encoded = BUF_INIT, back = BUF_INIT, expected = BUF_INIT;
	news_dot_encode(&enc, whole.data, whole.len, &encoded);
	news_dot_encode_finish(&enc, &encoded);
	bool done;
	size_t used = decode(encoded.data, encoded.len, 7, &back, &done);
	if (!done || used != encoded.len)
		abort();
	for (size_t i = 0; i < whole.len; i++) {
		unsigned char c = whole.data[i];
		if (c == '\r' || c == '\n') {
			buf_append(&expected, "\r\n", 2);
			if (c == '\r' && i + 1 < whole.len && whole.data[i + 1] == '\n')
				i++;
		} else {
			buf_append_char(&expected, (char)c);
		}
	}
	if (whole.len > 0 && whole.data[whole.len - 1] != '\n' && whole.data[whole.len - 1] != '\r')
		buf_append(&expected, "\r\n", 2);
	if (back.len != expected.len ||
	    (back.len > 0 && memcmp(back.data, expected.data, back.len) != 0))
		abort();
	buf_free(&whole);
	buf_free(&bytewise);
	buf_free(&encoded);
	buf_free(&back);
	buf_free(&expected);
}

static void fuzz_names(const char *wildmat, const char *group)
{
	bool valid = news_wildmat_valid(wildmat, NULL);
	if (news_wildmat_match(wildmat, group) && !valid)
		abort();
	struct arena *a = arena_new(0);
	const char *folder = news_group_folder(a, "News", group);
	if (folder != NULL) {
		const char *back = news_folder_to_group(a, "News", folder);
		if (back == NULL || strcmp(back, group) != 0)
			abort();
	}
	arena_destroy(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	char *lines[2] = { NULL, NULL };
	size_t start = 0, n = 0;
	for (size_t i = 0; i <= size; i++) {
		if (i < size && data[i] != '\n')
			continue;
		size_t len = i - start;
		if (len > 0 && text[start + len - 1] == '\r')
			len--;
		/* An exact-size copy, so that reading past it is caught. */
		char *line = malloc(len + 1);
		memcpy(line, text + start, len);
		line[len] = '\0';
		fuzz_line(line, len);
		if (n < 2 && memchr(line, '\0', len) == NULL)
			lines[n++] = line;
		else
			free(line);
		start = i + 1;
	}
	fuzz_block(data, size);
	if (n == 2)
		fuzz_names(lines[0], lines[1]);
	free(lines[0]);
	free(lines[1]);
	return 0;
}
