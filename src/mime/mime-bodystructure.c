/* BODY and BODYSTRUCTURE (RFC 3501 / RFC 9051 7.5.2, ABNF "body").
 *
 * Case: media type, subtype, transfer encoding and disposition type are
 * case-insensitive tokens and are written upper-case, as in the RFC
 * examples ("TEXT" "PLAIN", "7BIT", "ATTACHMENT"). Parameter names and
 * values are written as the sender wrote them. A text part without a charset
 * parameter gets ("CHARSET" "US-ASCII") (RFC 2045 5.2), so a message without
 * Content-Type reads ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" ..).
 * An opaque part (limits, broken container) is described as TEXT/PLAIN. */

#include "mime/mime-private.h"
#include "mime/mime-imapstr.h"
#include "lib/buf.h"

#include <string.h>

static void mime_bs_upper_string(struct buf *out, const char *s)
{
	size_t len = strlen(s);
	char small[128];
	if (len >= sizeof(small)) {
		mime_imapstr_append_string(out, s, len);
		return;
	}
	for (size_t i = 0; i <= len; i++)
		small[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 'a' + 'A' : s[i]);
	mime_imapstr_append_string(out, small, len);
}

static bool mime_bs_is_message(const struct mime_part *part)
{
	const char *subtype = mime_part_subtype(part);
	return mime_ascii_ieq(mime_part_type(part), "message") &&
	       (mime_ascii_ieq(subtype, "rfc822") || mime_ascii_ieq(subtype, "global"));
}

/* Whether the part must be described as TEXT/PLAIN because its declared type
 * needs structure it does not have (ABNF: a multipart has 1*body, a
 * MESSAGE/RFC822 has an envelope and a body). */
static bool mime_bs_is_opaque(const struct mime_part *part)
{
	if ((part->flags & MIME_PART_FLAG_OPAQUE) != 0 ||
	    mime_ascii_ieq(mime_part_type(part), "multipart"))
		return true;
	return mime_bs_is_message(part) &&
	       (part->kind != MIME_PART_MESSAGE || part->children == NULL);
}

static void mime_bs_write_param_name(struct buf *out, const struct mime_param *param)
{
	if (!param->extended) {
		mime_imapstr_append_string_cstr(out, param->name);
		return;
	}
	/* RFC 2231 form kept: name* with the charset'lang'%XX value */
	struct buf name = BUF_INIT;
	buf_append_str(&name, param->name);
	buf_append_char(&name, '*');
	mime_imapstr_append_string(out, name.data, name.len);
	buf_free(&name);
}

/* body-fld-param = "(" string SP string *(SP string SP string) ")" / nil */
static void mime_bs_write_params(struct buf *out, const struct mime_param *params,
				 unsigned int count, bool default_charset)
{
	bool has_charset = false;
	for (unsigned int i = 0; i < count; i++)
		has_charset |= mime_ascii_ieq(params[i].name, "charset");
	bool add_charset = default_charset && !has_charset;
	if (count == 0 && !add_charset) {
		buf_append(out, "NIL", 3);
		return;
	}
	buf_append_char(out, '(');
	if (add_charset) {
		buf_append_str(out, "\"CHARSET\" \"US-ASCII\"");
		if (count > 0)
			buf_append_char(out, ' ');
	}
	for (unsigned int i = 0; i < count; i++) {
		if (i > 0)
			buf_append_char(out, ' ');
		mime_bs_write_param_name(out, &params[i]);
		buf_append_char(out, ' ');
		mime_imapstr_append_string_cstr(out, params[i].raw_value);
	}
	buf_append_char(out, ')');
}

/* body-fld-dsp = "(" string SP body-fld-param ")" / nil */
static void mime_bs_write_disposition(struct buf *out, const struct mime_part *part)
{
	if (part->disposition == NULL) {
		buf_append(out, "NIL", 3);
		return;
	}
	buf_append_char(out, '(');
	mime_bs_upper_string(out, part->disposition);
	buf_append_char(out, ' ');
	mime_bs_write_params(out, part->disp_params, part->disp_param_count, false);
	buf_append_char(out, ')');
}

/* body-fld-lang = nstring / "(" string *(SP string) ")" */
static void mime_bs_write_language(struct buf *out, const struct mime_part *part)
{
	if (part->language_count == 0) {
		buf_append(out, "NIL", 3);
		return;
	}
	if (part->language_count == 1) {
		mime_imapstr_append_string_cstr(out, part->languages[0]);
		return;
	}
	buf_append_char(out, '(');
	for (unsigned int i = 0; i < part->language_count; i++) {
		if (i > 0)
			buf_append_char(out, ' ');
		mime_imapstr_append_string_cstr(out, part->languages[i]);
	}
	buf_append_char(out, ')');
}

/* The tail shared by body-ext-1part and body-ext-mpart after their first
 * item: SP body-fld-dsp SP body-fld-lang SP body-fld-loc */
static void mime_bs_write_ext_tail(struct buf *out, const struct mime_part *part)
{
	buf_append_char(out, ' ');
	mime_bs_write_disposition(out, part);
	buf_append_char(out, ' ');
	mime_bs_write_language(out, part);
	buf_append_char(out, ' ');
	mime_imapstr_append_nstring_cstr(out, part->location);
}

static void mime_bs_write_part(struct buf *out, const unsigned char *msg, size_t msg_len,
			       const struct mime_part *part, bool extended);

/* body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart] */
static void mime_bs_write_multipart(struct buf *out, const unsigned char *msg,
				    size_t msg_len, const struct mime_part *part,
				    bool extended)
{
	for (const struct mime_part *c = part->children; c != NULL; c = c->next)
		mime_bs_write_part(out, msg, msg_len, c, extended);
	buf_append_char(out, ' ');
	mime_bs_upper_string(out, mime_part_subtype(part));
	if (!extended)
		return;
	buf_append_char(out, ' ');
	mime_bs_write_params(out, part->params, part->param_count, false);
	mime_bs_write_ext_tail(out, part);
}

/* body-type-1part = (body-type-basic / body-type-msg / body-type-text)
 *                   [SP body-ext-1part] */
static void mime_bs_write_single(struct buf *out, const unsigned char *msg,
				 size_t msg_len, const struct mime_part *part,
				 bool extended)
{
	bool opaque = mime_bs_is_opaque(part);
	bool text = opaque || mime_ascii_ieq(mime_part_type(part), "text");
	/* media-basic / media-message / media-text */
	mime_bs_upper_string(out, opaque ? "text" : mime_part_type(part));
	buf_append_char(out, ' ');
	mime_bs_upper_string(out, opaque ? "plain" : mime_part_subtype(part));
	buf_append_char(out, ' ');
	/* body-fields = body-fld-param SP body-fld-id SP body-fld-desc SP
	 *               body-fld-enc SP body-fld-octets */
	mime_bs_write_params(out, part->params, part->param_count, text);
	buf_append_char(out, ' ');
	mime_imapstr_append_nstring_cstr(out, part->content_id);
	buf_append_char(out, ' ');
	mime_imapstr_append_nstring_cstr(out, part->description);
	buf_append_char(out, ' ');
	mime_bs_upper_string(out, part->encoding != NULL ? part->encoding : "7bit");
	buf_printf(out, " %llu", (unsigned long long)(part->body_end - part->body_start));
	if (!opaque && mime_bs_is_message(part)) {
		/* body-type-msg: ... SP envelope SP body SP body-fld-lines */
		buf_append_char(out, ' ');
		mime_envelope_write(out, msg, msg_len, part->children);
		buf_append_char(out, ' ');
		mime_bs_write_part(out, msg, msg_len, part->children, extended);
		buf_printf(out, " %llu", (unsigned long long)part->body_lines);
	} else if (text) {
		buf_printf(out, " %llu", (unsigned long long)part->body_lines);
	}
	if (!extended)
		return;
	buf_append_char(out, ' ');
	mime_imapstr_append_nstring_cstr(out, part->md5);
	mime_bs_write_ext_tail(out, part);
}

static void mime_bs_write_part(struct buf *out, const unsigned char *msg, size_t msg_len,
			       const struct mime_part *part, bool extended)
{
	buf_append_char(out, '(');
	if (part->kind == MIME_PART_MULTIPART && part->children != NULL)
		mime_bs_write_multipart(out, msg, msg_len, part, extended);
	else
		mime_bs_write_single(out, msg, msg_len, part, extended);
	buf_append_char(out, ')');
}

void mime_bodystructure_write(struct buf *out, const unsigned char *msg,
			      size_t msg_len, const struct mime_part *part,
			      bool extended)
{
	mime_bs_write_part(out, msg, msg_len, part, extended);
}
