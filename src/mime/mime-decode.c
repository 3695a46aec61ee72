/* Content-Transfer-Encoding decoders (RFC 2045 6), charset conversion to
 * UTF-8 through iconv, and RFC 2047 encoded-word decoding. */

#include "mime/mime-private.h"
#include "lib/base64.h"
#include "lib/buf.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>

bool mime_base64_decode(struct buf *out, const unsigned char *in, size_t len)
{
	uint32_t acc = 0;
	unsigned int have = 0, pad = 0;
	bool ok = true;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = in[i];
		if (c == '\r' || c == '\n' || c == ' ' || c == '\t')
			continue;
		if (c == '=') {
			/* '=' may only pad the third and fourth characters */
			if (have + pad < 2)
				ok = false;
			pad++;
			if (have + pad == 4) {
				if (pad > 2)
					ok = false;
				if (have == 3) {
					unsigned char b[2] = { (unsigned char)(acc >> 10),
							       (unsigned char)(acc >> 2) };
					buf_append(out, b, 2);
				} else if (have == 2) {
					buf_append_char(out, (char)(acc >> 4));
				}
				acc = 0;
				have = 0;
				pad = 0;
				/* Anything but whitespace after the end is invalid
				 * (RFC 2045 6.8: "=" ... end of data). */
				for (size_t j = i + 1; j < len; j++) {
					if (in[j] != '\r' && in[j] != '\n' && in[j] != ' ' && in[j] != '\t')
						return false;
				}
				return ok;
			}
			continue;
		}
		int v = base64_char_value(c);
		if (v < 0 || pad > 0) {
			ok = false;
			continue;
		}
		acc = acc << 6 | (uint32_t)v;
		if (++have == 4) {
			unsigned char b[3] = { (unsigned char)(acc >> 16),
					       (unsigned char)(acc >> 8), (unsigned char)acc };
			buf_append(out, b, 3);
			acc = 0;
			have = 0;
		}
	}
	if (have != 0 || pad != 0) {
		/* Truncated final quantum: keep the whole bytes it holds. */
		if (have >= 2) {
			acc <<= 6 * (4 - have);
			unsigned char b[2] = { (unsigned char)(acc >> 16), (unsigned char)(acc >> 8) };
			buf_append(out, b, have - 1);
		}
		ok = false;
	}
	return ok;
}

static int mime_hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Appends one line (without its line break) of quoted-printable text;
 * returns false on an invalid escape. *soft_r: the line ended in '='. */
static bool mime_qp_decode_line(struct buf *out, const unsigned char *p, size_t len,
				bool *soft_r)
{
	bool ok = true;
	/* RFC 2045 6.7 (3): trailing whitespace on a line is padding. */
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	*soft_r = false;
	for (size_t i = 0; i < len; i++) {
		if (p[i] != '=') {
			buf_append_char(out, (char)p[i]);
			continue;
		}
		if (i + 1 == len) {
			*soft_r = true;
			break;
		}
		int h = mime_hex(p[i + 1]);
		int l = i + 2 < len ? mime_hex(p[i + 2]) : -1;
		if (h >= 0 && l >= 0) {
			buf_append_char(out, (char)(h << 4 | l));
			i += 2;
		} else {
			buf_append_char(out, '=');
			ok = false;
		}
	}
	return ok;
}

bool mime_qp_decode(struct buf *out, const unsigned char *in, size_t len)
{
	bool ok = true;
	size_t pos = 0;
	while (pos < len) {
		size_t end = mime_line_end(in, pos, len);
		size_t text_end = end;
		bool had_break = text_end > pos && in[text_end - 1] == '\n';
		if (had_break)
			text_end--;
		if (text_end > pos && in[text_end - 1] == '\r')
			text_end--;
		bool soft;
		if (!mime_qp_decode_line(out, in + pos, text_end - pos, &soft))
			ok = false;
		if (had_break && !soft)
			buf_append(out, "\r\n", 2);
		pos = end;
	}
	return ok;
}

enum mime_decode_result mime_part_decode(const struct mime_part *part,
					 const unsigned char *msg,
					 size_t msg_len, struct buf *out)
{
	if (part->body_start > part->body_end || part->body_end > msg_len)
		return MIME_DECODE_INVALID;
	const unsigned char *body = msg + part->body_start;
	size_t len = (size_t)(part->body_end - part->body_start);
	const char *enc = part->encoding;
	if (enc == NULL || mime_ascii_ieq(enc, "7bit") || mime_ascii_ieq(enc, "8bit") ||
	    mime_ascii_ieq(enc, "binary")) {
		buf_append(out, body, len);
		return MIME_DECODE_OK;
	}
	if (mime_ascii_ieq(enc, "base64"))
		return mime_base64_decode(out, body, len) ? MIME_DECODE_OK : MIME_DECODE_INVALID;
	if (mime_ascii_ieq(enc, "quoted-printable"))
		return mime_qp_decode(out, body, len) ? MIME_DECODE_OK : MIME_DECODE_INVALID;
	return MIME_DECODE_UNKNOWN_CTE;
}

static void mime_append_replacement(struct buf *out)
{
	buf_append(out, "\xEF\xBF\xBD", 3);
}

/* Length of the valid UTF-8 sequence at p, or 0 (RFC 3629 4). */
static size_t mime_utf8_seq_len(const unsigned char *p, size_t len)
{
	unsigned char c = p[0];
	size_t n;
	unsigned char lo = 0x80, hi = 0xBF;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else
		return 0;
	if (len < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++) {
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	}
	return n;
}

/* Copies in, each byte that starts no valid sequence replaced by U+FFFD.
 * Valid runs are copied whole: texts of megabytes pass through here on
 * their way to the full-text index. */
static void mime_utf8_sanitize(struct buf *out, const unsigned char *in, size_t len)
{
	size_t run = 0, i = 0; /* in[run..i) is valid and not copied yet */
	while (i < len) {
		if (in[i] < 0x80) {
			i++;
			continue;
		}
		size_t n = mime_utf8_seq_len(in + i, len - i);
		if (n > 0) {
			i += n;
			continue;
		}
		if (i > run)
			buf_append(out, in + run, i - run);
		mime_append_replacement(out);
		run = ++i;
	}
	if (i > run) /* in may be NULL when len is 0 */
		buf_append(out, in + run, i - run);
}

static bool mime_charset_is_utf8(const char *charset)
{
	return mime_ascii_ieq(charset, "utf-8") || mime_ascii_ieq(charset, "utf8") ||
	       mime_ascii_ieq(charset, "us-ascii") || mime_ascii_ieq(charset, "ascii");
}

/* Charset names seen in mail that glibc does not know under that name. */
static const char *mime_charset_alias(const char *charset)
{
	static const struct { const char *mail, *iconv; } aliases[] = {
		{ "ks_c_5601-1987", "CP949" },
		{ "x-sjis", "SHIFT_JIS" },
		{ "x-euc-jp", "EUC-JP" },
		{ "x-gbk", "GBK" },
		{ "gb2312", "GBK" },	/* GBK is a superset; mislabelled mail is common */
		{ "x-user-defined", "WINDOWS-1252" },
		{ "unicode-1-1-utf-7", "UTF-7" },
	};
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
		if (mime_ascii_ieq(charset, aliases[i].mail))
			return aliases[i].iconv;
	}
	return charset;
}

bool mime_charset_to_utf8(struct buf *out, const char *charset,
			  const unsigned char *in, size_t len)
{
	if (mime_charset_is_utf8(charset)) {
		mime_utf8_sanitize(out, in, len);
		return true;
	}
	/* Refuse names iconv would interpret as options ("//TRANSLIT"). */
	if (strchr(charset, '/') != NULL || *charset == '\0')
		return false;
	iconv_t cd = iconv_open("UTF-8", mime_charset_alias(charset));
	if (cd == (iconv_t)-1)
		return false;
	char *src = (char *)(uintptr_t)in;
	size_t src_left = len;
	char chunk[1024];
	while (src_left > 0) {
		char *dst = chunk;
		size_t dst_left = sizeof(chunk);
		size_t r = iconv(cd, &src, &src_left, &dst, &dst_left);
		buf_append(out, chunk, sizeof(chunk) - dst_left);
		if (r != (size_t)-1)
			break;
		if (errno == E2BIG)
			continue;
		/* EILSEQ: skip one byte; EINVAL: truncated sequence at the end */
		mime_append_replacement(out);
		if (errno == EINVAL)
			break;
		src++;
		src_left--;
		iconv(cd, NULL, NULL, NULL, NULL);
	}
	/* flush any shift state */
	char *dst = chunk;
	size_t dst_left = sizeof(chunk);
	iconv(cd, NULL, NULL, &dst, &dst_left);
	buf_append(out, chunk, sizeof(chunk) - dst_left);
	iconv_close(cd);
	return true;
}

/* encoded-word = "=?" charset "?" encoding "?" encoded-text "?="
 * (RFC 2047 2); charset may carry "*language" (RFC 2231 5). On success
 * appends the decoded UTF-8 text and returns the length consumed. */
static size_t mime_decode_encoded_word(struct buf *out, const unsigned char *p,
				       size_t len)
{
	if (len < 8 || p[0] != '=' || p[1] != '?')
		return 0;
	size_t i = 2;
	while (i < len && p[i] != '?' && p[i] > 0x20 && p[i] < 0x7f)
		i++;
	if (i >= len || p[i] != '?' || i == 2 || i - 2 > 64 || i + 3 >= len || p[i + 2] != '?')
		return 0;
	char charset[80];
	memcpy(charset, p + 2, i - 2);
	charset[i - 2] = '\0';
	char *star = strchr(charset, '*');
	if (star != NULL)
		*star = '\0';
	unsigned char enc = p[i + 1];
	size_t text_start = i + 3, text_end = text_start;
	/* encoded-text: printable ASCII without '?' or SPACE */
	while (text_end < len && p[text_end] != '?' && p[text_end] > 0x20 && p[text_end] < 0x7f)
		text_end++;
	if (text_end + 1 >= len || p[text_end] != '?' || p[text_end + 1] != '=')
		return 0;
	struct buf raw = BUF_INIT;
	bool ok;
	if (enc == 'B' || enc == 'b') {
		ok = mime_base64_decode(&raw, p + text_start, text_end - text_start);
	} else if (enc == 'Q' || enc == 'q') {
		ok = true;
		for (size_t k = text_start; k < text_end; k++) {
			int h, l;
			if (p[k] == '_')
				buf_append_char(&raw, ' ');
			else if (p[k] == '=' && k + 2 < text_end &&
				 (h = mime_hex(p[k + 1])) >= 0 && (l = mime_hex(p[k + 2])) >= 0) {
				buf_append_char(&raw, (char)(h << 4 | l));
				k += 2;
			} else if (p[k] == '=') {
				ok = false;
				break;
			} else
				buf_append_char(&raw, (char)p[k]);
		}
	} else {
		ok = false;
	}
	struct buf conv = BUF_INIT;
	if (ok)
		ok = mime_charset_to_utf8(&conv, charset, raw.data, raw.len);
	if (ok)
		buf_append(out, conv.data, conv.len);
	buf_free(&raw);
	buf_free(&conv);
	return ok ? text_end + 2 : 0;
}

void mime_header_decode_utf8(struct buf *out, const unsigned char *value, size_t len)
{
	/* Whitespace after an encoded-word is held back: RFC 2047 6.2 drops
	 * it when the next word is also encoded. */
	struct buf pending_ws = BUF_INIT, word = BUF_INIT;
	bool after_word = false;
	size_t i = 0;
	while (i < len) {
		unsigned char c = value[i];
		if (c == '\r' || c == '\n') {
			i++;
			continue;
		}
		if (c == '=' && i + 1 < len && value[i + 1] == '?') {
			buf_reset(&word);
			size_t n = mime_decode_encoded_word(&word, value + i, len - i);
			if (n > 0) {
				if (!after_word)
					buf_append(out, pending_ws.data, pending_ws.len);
				buf_append(out, word.data, word.len);
				buf_reset(&pending_ws);
				after_word = true;
				i += n;
				continue;
			}
		}
		if (c == ' ' || c == '\t') {
			buf_append_char(&pending_ws, (char)c);
			i++;
			continue;
		}
		buf_append(out, pending_ws.data, pending_ws.len);
		buf_reset(&pending_ws);
		after_word = false;
		buf_append_char(out, (char)c);
		i++;
	}
	buf_append(out, pending_ws.data, pending_ws.len);
	buf_free(&pending_ws);
	buf_free(&word);
}

bool mime_part_text_utf8(const struct mime_part *part, const unsigned char *msg,
			 size_t msg_len, struct buf *out)
{
	if (part->kind != MIME_PART_LEAF || (part->flags & MIME_PART_FLAG_OPAQUE) != 0 ||
	    !mime_ascii_ieq(mime_part_type(part), "text"))
		return false;
	struct buf decoded = BUF_INIT;
	if (mime_part_decode(part, msg, msg_len, &decoded) == MIME_DECODE_UNKNOWN_CTE) {
		buf_free(&decoded);
		return false;
	}
	const struct mime_param *cs = mime_part_param(part, "charset");
	const char *charset = cs != NULL ? cs->value : "us-ascii";
	if (!mime_charset_to_utf8(out, charset, decoded.data, decoded.len))
		mime_utf8_sanitize(out, decoded.data, decoded.len);
	buf_free(&decoded);
	return true;
}
