#include "mime/mime-imapstr.h"
#include "lib/buf.h"

#include <string.h>
#include <strings.h>

static bool mime_imapstr_is_quotable_char(unsigned char c)
{
	/* QUOTED-CHAR = <any TEXT-CHAR except quoted-specials> / "\" quoted-specials;
	 * TEXT-CHAR excludes CR and LF; 8-bit is only allowed with UTF8=ACCEPT,
	 * so it always goes to a literal here. */
	return c != '\0' && c != '\r' && c != '\n' && c < 0x80;
}

bool mime_imapstr_can_quote(const void *data, size_t len)
{
	const unsigned char *p = data;
	if (len > MIME_IMAPSTR_QUOTED_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!mime_imapstr_is_quotable_char(p[i]))
			return false;
	}
	return true;
}

static void mime_imapstr_append_quoted(struct buf *out, const unsigned char *p,
				       size_t len)
{
	buf_reserve(out, len + 2);
	buf_append_char(out, '"');
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '"' || p[i] == '\\')
			buf_append_char(out, '\\');
		buf_append_char(out, (char)p[i]);
	}
	buf_append_char(out, '"');
}

static size_t mime_imapstr_count_nuls(const unsigned char *p, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += p[i] == '\0';
	return n;
}

void mime_imapstr_append_literal(struct buf *out, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t nuls = mime_imapstr_count_nuls(p, len);
	buf_printf(out, "{%zu}\r\n", len - nuls);
	if (nuls == 0) {
		buf_append(out, p, len);
		return;
	}
	buf_reserve(out, len - nuls);
	for (size_t i = 0; i < len; i++) {
		if (p[i] != '\0')
			buf_append_char(out, (char)p[i]);
	}
}

void mime_imapstr_append_literal8(struct buf *out, const void *data, size_t len)
{
	buf_printf(out, "~{%zu}\r\n", len);
	buf_append(out, data, len);
}

void mime_imapstr_append_string(struct buf *out, const void *data, size_t len)
{
	const unsigned char *p = data;
	if (len == 0) {
		buf_append(out, "\"\"", 2);
		return;
	}
	if (mime_imapstr_can_quote(p, len)) {
		mime_imapstr_append_quoted(out, p, len);
		return;
	}
	/* A value whose only problem is NUL bytes can still be quoted once
	 * they are dropped. */
	size_t nuls = mime_imapstr_count_nuls(p, len);
	if (nuls > 0 && len - nuls <= MIME_IMAPSTR_QUOTED_MAX) {
		bool quotable = true;
		for (size_t i = 0; i < len && quotable; i++)
			quotable = p[i] == '\0' || mime_imapstr_is_quotable_char(p[i]);
		if (quotable) {
			buf_append_char(out, '"');
			for (size_t i = 0; i < len; i++) {
				if (p[i] == '\0')
					continue;
				if (p[i] == '"' || p[i] == '\\')
					buf_append_char(out, '\\');
				buf_append_char(out, (char)p[i]);
			}
			buf_append_char(out, '"');
			return;
		}
	}
	mime_imapstr_append_literal(out, p, len);
}

void mime_imapstr_append_nstring(struct buf *out, const void *data, size_t len)
{
	if (data == NULL)
		buf_append(out, "NIL", 3);
	else
		mime_imapstr_append_string(out, data, len);
}

void mime_imapstr_append_nstring_cstr(struct buf *out, const char *s)
{
	mime_imapstr_append_nstring(out, s, s == NULL ? 0 : strlen(s));
}

void mime_imapstr_append_string_cstr(struct buf *out, const char *s)
{
	mime_imapstr_append_string(out, s, strlen(s));
}

/* ASTRING-CHAR = ATOM-CHAR / resp-specials; ATOM-CHAR = <any CHAR except
 * atom-specials>; atom-specials = "(" / ")" / "{" / SP / CTL /
 * list-wildcards / quoted-specials / resp-specials */
static bool mime_imapstr_is_astring_char(unsigned char c)
{
	if (c <= 0x20 || c >= 0x7f)
		return false;
	return strchr("(){%*\"\\", c) == NULL;
}

void mime_imapstr_append_astring(struct buf *out, const void *data, size_t len)
{
	const unsigned char *p = data;
	bool atom = len > 0 && !(len == 3 && strncasecmp((const char *)p, "NIL", 3) == 0);
	for (size_t i = 0; i < len && atom; i++)
		atom = mime_imapstr_is_astring_char(p[i]);
	if (atom)
		buf_append(out, p, len);
	else
		mime_imapstr_append_string(out, p, len);
}
