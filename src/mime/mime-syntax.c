/* Checker for the RFC 9051 9 ABNF rules "body" and "envelope". Each reader
 * is named after its rule and returns false at the first mismatch, leaving
 * the reason in the context. */

#include "mime/mime-syntax.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#define MIME_SYNTAX_MAX_NESTING 300

struct mime_syntax {
	const unsigned char *p, *end;
	const char *error;
	unsigned int nesting;
};

static bool syn_fail(struct mime_syntax *s, const char *error)
{
	if (s->error == NULL)
		s->error = error;
	return false;
}

static bool syn_char(struct mime_syntax *s, char c)
{
	if (s->p >= s->end || *s->p != (unsigned char)c)
		return syn_fail(s, c == ' ' ? "expected SP" : c == '(' ? "expected (" :
				c == ')' ? "expected )" : "unexpected character");
	s->p++;
	return true;
}

static bool syn_peek(const struct mime_syntax *s, char c)
{
	return s->p < s->end && *s->p == (unsigned char)c;
}

static bool syn_nil(struct mime_syntax *s)
{
	if (s->end - s->p >= 3 && memcmp(s->p, "NIL", 3) == 0) {
		s->p += 3;
		return true;
	}
	return false;
}

/* number = 1*DIGIT (fits in 63 bits for number64) */
static bool syn_number(struct mime_syntax *s)
{
	const unsigned char *start = s->p;
	uint64_t v = 0;
	while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
		if (v > (UINT64_MAX >> 1) / 10)
			return syn_fail(s, "number too large");
		v = v * 10 + (uint64_t)(*s->p - '0');
		s->p++;
	}
	return s->p != start || syn_fail(s, "expected number");
}

/* quoted = DQUOTE *QUOTED-CHAR DQUOTE; literal = "{" number "}" CRLF *CHAR8 */
static bool syn_string_value(struct mime_syntax *s, const unsigned char **v_r, size_t *len_r)
{
	if (syn_peek(s, '"')) {
		s->p++;
		*v_r = s->p;
		while (s->p < s->end && *s->p != '"') {
			unsigned char c = *s->p;
			if (c == '\\') {
				s->p++;
				if (s->p >= s->end || (*s->p != '"' && *s->p != '\\'))
					return syn_fail(s, "bad quoted escape");
			} else if (c == '\r' || c == '\n' || c == '\0' || c >= 0x80) {
				return syn_fail(s, "bad character in quoted string");
			}
			s->p++;
		}
		if (s->p >= s->end)
			return syn_fail(s, "unterminated quoted string");
		*len_r = (size_t)(s->p - *v_r);
		s->p++;
		return true;
	}
	if (syn_peek(s, '{')) {
		s->p++;
		size_t n = 0;
		const unsigned char *digits = s->p;
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
			if (n > SIZE_MAX / 20)
				return syn_fail(s, "literal too large");
			n = n * 10 + (size_t)(*s->p - '0');
			s->p++;
		}
		if (s->p == digits || !syn_char(s, '}') || !syn_char(s, '\r') || !syn_char(s, '\n'))
			return syn_fail(s, "bad literal prefix");
		if ((size_t)(s->end - s->p) < n)
			return syn_fail(s, "literal runs past the end");
		if (memchr(s->p, '\0', n) != NULL)
			return syn_fail(s, "NUL in literal");
		*v_r = s->p;
		*len_r = n;
		s->p += n;
		return true;
	}
	return syn_fail(s, "expected string");
}

static bool syn_string(struct mime_syntax *s)
{
	const unsigned char *v;
	size_t len;
	return syn_string_value(s, &v, &len);
}

static bool syn_nstring(struct mime_syntax *s)
{
	return syn_nil(s) || syn_string(s);
}

/* body-fld-param = "(" string SP string *(SP string SP string) ")" / nil */
static bool syn_body_fld_param(struct mime_syntax *s)
{
	if (syn_nil(s))
		return true;
	if (!syn_char(s, '(') || !syn_string(s) || !syn_char(s, ' ') || !syn_string(s))
		return false;
	while (syn_peek(s, ' ')) {
		s->p++;
		if (!syn_string(s) || !syn_char(s, ' ') || !syn_string(s))
			return false;
	}
	return syn_char(s, ')');
}

/* body-fld-dsp = "(" string SP body-fld-param ")" / nil */
static bool syn_body_fld_dsp(struct mime_syntax *s)
{
	if (syn_nil(s))
		return true;
	return syn_char(s, '(') && syn_string(s) && syn_char(s, ' ') &&
	       syn_body_fld_param(s) && syn_char(s, ')');
}

/* body-fld-lang = nstring / "(" string *(SP string) ")" */
static bool syn_body_fld_lang(struct mime_syntax *s)
{
	if (!syn_peek(s, '('))
		return syn_nstring(s);
	s->p++;
	if (!syn_string(s))
		return false;
	while (syn_peek(s, ' ')) {
		s->p++;
		if (!syn_string(s))
			return false;
	}
	return syn_char(s, ')');
}

/* [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc]]] — we never emit
 * body-extension, so none is accepted. */
static bool syn_ext_tail(struct mime_syntax *s)
{
	if (!syn_peek(s, ' '))
		return true;
	s->p++;
	if (!syn_body_fld_dsp(s))
		return false;
	if (!syn_peek(s, ' '))
		return true;
	s->p++;
	if (!syn_body_fld_lang(s))
		return false;
	if (!syn_peek(s, ' '))
		return true;
	s->p++;
	return syn_nstring(s);
}

/* address = "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")" */
static bool syn_address(struct mime_syntax *s)
{
	return syn_char(s, '(') && syn_nstring(s) && syn_char(s, ' ') && syn_nstring(s) &&
	       syn_char(s, ' ') && syn_nstring(s) && syn_char(s, ' ') && syn_nstring(s) &&
	       syn_char(s, ')');
}

/* env-from etc. = "(" 1*address ")" / nil */
static bool syn_address_list(struct mime_syntax *s)
{
	if (syn_nil(s))
		return true;
	if (!syn_char(s, '(') || !syn_address(s))
		return false;
	while (syn_peek(s, '(')) {
		if (!syn_address(s))
			return false;
	}
	return syn_char(s, ')');
}

/* envelope = "(" env-date SP env-subject SP env-from SP env-sender SP
 *            env-reply-to SP env-to SP env-cc SP env-bcc SP
 *            env-in-reply-to SP env-message-id ")" */
static bool syn_envelope(struct mime_syntax *s)
{
	if (!syn_char(s, '(') || !syn_nstring(s) || !syn_char(s, ' ') || !syn_nstring(s))
		return false;
	for (int i = 0; i < 6; i++) {
		if (!syn_char(s, ' ') || !syn_address_list(s))
			return false;
	}
	return syn_char(s, ' ') && syn_nstring(s) && syn_char(s, ' ') && syn_nstring(s) &&
	       syn_char(s, ')');
}

static bool syn_body(struct mime_syntax *s, bool extended);

static bool syn_value_is(const unsigned char *v, size_t len, const char *word)
{
	return len == strlen(word) && strncasecmp((const char *)v, word, len) == 0;
}

/* body-type-1part = (body-type-basic / body-type-msg / body-type-text)
 *                   [SP body-ext-1part] */
static bool syn_body_type_1part(struct mime_syntax *s, bool extended)
{
	const unsigned char *type, *subtype;
	size_t type_len, subtype_len;
	if (!syn_string_value(s, &type, &type_len) || !syn_char(s, ' ') ||
	    !syn_string_value(s, &subtype, &subtype_len) || !syn_char(s, ' '))
		return false;
	/* body-fields */
	if (!syn_body_fld_param(s) || !syn_char(s, ' ') || !syn_nstring(s) ||
	    !syn_char(s, ' ') || !syn_nstring(s) || !syn_char(s, ' ') || !syn_string(s) ||
	    !syn_char(s, ' ') || !syn_number(s))
		return false;
	if (syn_value_is(type, type_len, "MESSAGE") &&
	    (syn_value_is(subtype, subtype_len, "RFC822") ||
	     syn_value_is(subtype, subtype_len, "GLOBAL"))) {
		if (!syn_char(s, ' ') || !syn_envelope(s) || !syn_char(s, ' ') ||
		    !syn_body(s, extended) || !syn_char(s, ' ') || !syn_number(s))
			return false;
	} else if (syn_value_is(type, type_len, "TEXT")) {
		if (!syn_char(s, ' ') || !syn_number(s))
			return false;
	}
	if (!syn_peek(s, ' '))
		return true;
	if (!extended)
		return syn_fail(s, "extension data in BODY");
	s->p++;
	return syn_nstring(s) && syn_ext_tail(s); /* body-fld-md5 ... */
}

/* body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart] */
static bool syn_body_type_mpart(struct mime_syntax *s, bool extended)
{
	while (syn_peek(s, '(')) {
		if (!syn_body(s, extended))
			return false;
	}
	if (!syn_char(s, ' ') || !syn_string(s))
		return false;
	if (!syn_peek(s, ' '))
		return true;
	if (!extended)
		return syn_fail(s, "extension data in BODY");
	s->p++;
	return syn_body_fld_param(s) && syn_ext_tail(s);
}

/* body = "(" (body-type-1part / body-type-mpart) ")" */
static bool syn_body(struct mime_syntax *s, bool extended)
{
	if (++s->nesting > MIME_SYNTAX_MAX_NESTING)
		return syn_fail(s, "nesting too deep");
	if (!syn_char(s, '('))
		return false;
	bool ok = syn_peek(s, '(') ? syn_body_type_mpart(s, extended) :
				     syn_body_type_1part(s, extended);
	s->nesting--;
	return ok && syn_char(s, ')');
}

static bool syn_finish(struct mime_syntax *s, bool ok, const char **error_r)
{
	if (ok && s->p != s->end)
		ok = syn_fail(s, "trailing data");
	if (!ok)
		*error_r = s->error != NULL ? s->error : "syntax error";
	return ok;
}

bool mime_syntax_check_body(const unsigned char *str, size_t len, bool extended,
			    const char **error_r)
{
	struct mime_syntax s = { .p = str, .end = str + len };
	return syn_finish(&s, syn_body(&s, extended), error_r);
}

bool mime_syntax_check_envelope(const unsigned char *str, size_t len, const char **error_r)
{
	struct mime_syntax s = { .p = str, .end = str + len };
	return syn_finish(&s, syn_envelope(&s), error_r);
}
