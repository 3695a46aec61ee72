#include "mime/mime-digest.h"
#include "mime/mime-private.h"
#include "lib/arena.h"
#include "lib/buf.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *const digest_months[] = { "jan", "feb", "mar", "apr", "may", "jun",
					     "jul", "aug", "sep", "oct", "nov", "dec" };

/* RFC 5322 §4.3 obsolete zone names. */
static bool digest_named_zone(const char *z, size_t len, int *min_r)
{
	static const struct {
		const char *name;
		int minutes;
	} zones[] = {
		{ "UT", 0 }, { "GMT", 0 }, { "Z", 0 }, { "EST", -300 }, { "EDT", -240 },
		{ "CST", -360 }, { "CDT", -300 }, { "MST", -420 }, { "MDT", -360 },
		{ "PST", -480 }, { "PDT", -420 },
	};
	for (size_t i = 0; i < sizeof(zones) / sizeof(*zones); i++) {
		if (strlen(zones[i].name) == len && strncasecmp(zones[i].name, z, len) == 0) {
			*min_r = zones[i].minutes;
			return true;
		}
	}
	/* Military and unknown zones mean "no information" (-0000). */
	*min_r = 0;
	return len > 0;
}

static bool digest_number(const char **p, int min_digits, int max_digits, int *n_r)
{
	int n = 0, digits = 0;
	while (isdigit((unsigned char)**p) && digits < max_digits) {
		n = n * 10 + (**p - '0');
		(*p)++;
		digits++;
	}
	*n_r = n;
	return digits >= min_digits;
}

/* date-time = [ day-of-week "," ] date time [CFWS]
 * date = day month year;  time = hour ":" minute [ ":" second ] FWS zone */
bool mime_parse_date(const char *s, int64_t *time_r, int *tz_offset_min_r)
{
	const char *p = mime_skip_cfws(s);
	const char *comma = strchr(p, ',');
	if (comma != NULL && comma - p <= 12)
		p = mime_skip_cfws(comma + 1);
	int day, year, hour, minute, second = 0;
	if (!digest_number(&p, 1, 2, &day))
		return false;
	p = mime_skip_cfws(p);
	int month = -1;
	for (int m = 0; m < 12; m++)
		if (strncasecmp(p, digest_months[m], 3) == 0)
			month = m;
	if (month < 0)
		return false;
	p = mime_skip_cfws(p + 3);
	const char *ys = p;
	if (!digest_number(&p, 2, 4, &year))
		return false;
	if (p - ys == 2)
		year += year < 50 ? 2000 : 1900; /* RFC 5322 §4.3 */
	else if (p - ys == 3)
		year += 1900;
	p = mime_skip_cfws(p);
	if (!digest_number(&p, 1, 2, &hour) || *p++ != ':' || !digest_number(&p, 1, 2, &minute))
		return false;
	if (*p == ':') {
		p++;
		if (!digest_number(&p, 1, 2, &second))
			return false;
	}
	p = mime_skip_cfws(p);
	int zone = 0;
	if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1, hhmm;
		p++;
		if (!digest_number(&p, 4, 4, &hhmm))
			return false;
		zone = sign * ((hhmm / 100) * 60 + hhmm % 100);
	} else {
		size_t len = 0;
		while (isalpha((unsigned char)p[len]))
			len++;
		digest_named_zone(p, len, &zone);
	}
	if (day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
		return false;
	struct tm tm = { .tm_year = year - 1900, .tm_mon = month, .tm_mday = day,
			 .tm_hour = hour, .tm_min = minute, .tm_sec = second };
	*time_r = (int64_t)timegm(&tm) - (int64_t)zone * 60;
	if (tz_offset_min_r != NULL)
		*tz_offset_min_r = zone;
	return true;
}

static const char *digest_decoded(struct arena *a, const struct mime_header_field *f)
{
	struct buf b = BUF_INIT;
	mime_header_decode_utf8(&b, f->value, f->value_len);
	const char *s = arena_strndup(a, b.data ? (const char *)b.data : "", b.len);
	buf_free(&b);
	return s;
}

/* Reads the root header once: the fields SEARCH and SORT use, and the
 * whole header decoded for HEADER and TEXT searches. */
static void digest_headers(struct arena *a, const unsigned char *msg,
			   const struct mime_part *root, struct mime_digest *d)
{
	struct buf all = BUF_INIT;
	struct mime_header_field f;
	size_t pos = root->header_start;
	while (mime_header_next_field(msg, root->header_end, &pos, &f)) {
		const char *value = digest_decoded(a, &f);
		buf_append(&all, f.name, f.name_len);
		buf_append_str(&all, ": ");
		buf_append_str(&all, value);
		buf_append_char(&all, '\n');
		if (mime_header_name_is(&f, "from") && d->from == NULL)
			d->from = value;
		else if (mime_header_name_is(&f, "to") && d->to == NULL)
			d->to = value;
		else if (mime_header_name_is(&f, "cc") && d->cc == NULL)
			d->cc = value;
		else if (mime_header_name_is(&f, "bcc") && d->bcc == NULL)
			d->bcc = value;
		else if (mime_header_name_is(&f, "subject") && d->subject == NULL)
			d->subject = value;
		else if (mime_header_name_is(&f, "message-id") && d->message_id == NULL)
			d->message_id = mime_header_unfold(a, f.value, f.value_len);
		else if (mime_header_name_is(&f, "in-reply-to") && d->in_reply_to == NULL)
			d->in_reply_to = mime_header_unfold(a, f.value, f.value_len);
		else if (mime_header_name_is(&f, "references") && d->references == NULL)
			d->references = mime_header_unfold(a, f.value, f.value_len);
		else if (mime_header_name_is(&f, "date") && !d->has_sent_date)
			d->has_sent_date = mime_parse_date(mime_header_unfold(a, f.value, f.value_len),
							   &d->sent_date, NULL);
	}
	d->header_text = arena_strndup(a, all.data ? (const char *)all.data : "", all.len);
	buf_free(&all);
}

/* Appends the decoded text of every leaf of type "text" below part. */
static void digest_text(const struct mime_part *part, const unsigned char *msg, size_t len,
			struct buf *out)
{
	if (out->len >= MIME_DIGEST_TEXT_MAX)
		return;
	if (part->kind != MIME_PART_LEAF) {
		for (const struct mime_part *c = part->children; c != NULL; c = c->next)
			digest_text(c, msg, len, out);
		return;
	}
	if (strcmp(mime_part_type(part), "text") != 0)
		return;
	struct buf raw = BUF_INIT;
	if (mime_part_decode(part, msg, len, &raw) != MIME_DECODE_OK) {
		buf_reset(&raw);
		buf_append(&raw, msg + part->body_start, part->body_end - part->body_start);
	}
	const struct mime_param *cs = mime_part_param(part, "charset");
	size_t before = out->len;
	if (cs == NULL || cs->value == NULL ||
	    !mime_charset_to_utf8(out, cs->value, raw.data ? raw.data : (const unsigned char *)"",
				  raw.len)) {
		out->len = before;
		buf_append(out, raw.data ? raw.data : (const unsigned char *)"", raw.len);
	}
	buf_append_char(out, '\n');
	if (out->len > MIME_DIGEST_TEXT_MAX)
		out->len = MIME_DIGEST_TEXT_MAX;
	buf_free(&raw);
}

static const char *digest_buf_string(struct arena *a, struct buf *b)
{
	const char *s = arena_strndup(a, b->data ? (const char *)b->data : "", b->len);
	buf_reset(b);
	return s;
}

/* The header bytes when a blank line ends them and they are not too long
 * to keep (FETCH of header fields then needs no body file). */
static void digest_raw_header(struct arena *a, const unsigned char *msg,
			      const struct mime_part *root, struct mime_digest *d)
{
	size_t len = (size_t)root->header_end;
	bool blank_line_ends = len >= 2 && msg[len - 2] == '\r' && msg[len - 1] == '\n' &&
			       (len == 2 || (len >= 4 && msg[len - 4] == '\r' && msg[len - 3] == '\n'));
	if (root->header_start != 0 || len > MIME_DIGEST_HEADER_MAX || !blank_line_ends ||
	    (root->flags & MIME_PART_FLAG_NO_BLANK_LINE) != 0)
		return;
	unsigned char *copy = arena_alloc(a, len + 1);
	memcpy(copy, msg, len);
	copy[len] = '\0';
	d->header = copy;
	d->header_len = len;
}

void mime_digest_build(struct arena *a, const unsigned char *msg, size_t len, unsigned want,
		       struct mime_digest *d)
{
	memset(d, 0, sizeof(*d));
	struct mime_part *root = mime_parse(a, msg, len, NULL);
	struct buf b = BUF_INIT;
	mime_envelope_write(&b, msg, len, root);
	d->envelope = digest_buf_string(a, &b);
	mime_bodystructure_write(&b, msg, len, root, true);
	d->bodystructure = digest_buf_string(a, &b);
	mime_bodystructure_write(&b, msg, len, root, false);
	d->body = digest_buf_string(a, &b);
	digest_headers(a, msg, root, d);
	digest_raw_header(a, msg, root, d);
	if ((want & MIME_DIGEST_BODY_TEXT) == 0) {
		buf_free(&b);
		return;
	}
	digest_text(root, msg, len, &b);
	/* Text for the index must not contain NUL. */
	for (size_t i = 0; i < b.len; i++)
		if (b.data[i] == '\0')
			b.data[i] = ' ';
	d->body_text = digest_buf_string(a, &b);
	buf_free(&b);
}
