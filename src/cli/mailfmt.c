/* Maildir++ and mbox details for petrel import and export (see mailfmt.h). */

#include "cli/mailfmt.h"

#include "imap/imap-mutf7.h"
#include "lib/buf.h"
#include "store/store.h"

#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- Maildir ---- */

/* "&AC4-" is the modified UTF-7 spelling of '.', which strict modified
 * UTF-7 forbids (a printable character must stand for itself); in a
 * Maildir++ level it is the only way to keep a '.' that is not a
 * separator. */
#define MAILFMT_DOT "&AC4-"

size_t mailfmt_maildir_base_len(const char *filename)
{
	const char *colon = strchr(filename, ':');
	return colon != NULL ? (size_t)(colon - filename) : strlen(filename);
}

bool mailfmt_maildir_info_parse(const char *filename,
				struct mailfmt_maildir_flags *flags_r)
{
	memset(flags_r, 0, sizeof(*flags_r));
	const char *slash = strrchr(filename, '/');
	if (slash != NULL)
		filename = slash + 1;
	const char *info = strchr(filename, ':');
	if (info == NULL || strncmp(info, ":2,", 3) != 0)
		return false;
	for (const char *p = info + 3; *p != '\0'; p++) {
		switch (*p) {
		case 'D': flags_r->flags |= STORE_FLAG_DRAFT; break;
		case 'F': flags_r->flags |= STORE_FLAG_FLAGGED; break;
		case 'P': flags_r->forwarded = true; break;
		case 'R': flags_r->flags |= STORE_FLAG_ANSWERED; break;
		case 'S': flags_r->flags |= STORE_FLAG_SEEN; break;
		case 'T': flags_r->flags |= STORE_FLAG_DELETED; break;
		default:
			if (*p >= 'a' && *p <= 'z')
				flags_r->letters |= 1u << (*p - 'a');
			break;
		}
	}
	return true;
}

void mailfmt_maildir_info_format(const struct mailfmt_maildir_flags *flags,
				 struct buf *out)
{
	buf_append_str(out, ":2,");
	/* ASCII order: upper case letters first, then the keyword letters. */
	if (flags->flags & STORE_FLAG_DRAFT)
		buf_append_char(out, 'D');
	if (flags->flags & STORE_FLAG_FLAGGED)
		buf_append_char(out, 'F');
	if (flags->forwarded)
		buf_append_char(out, 'P');
	if (flags->flags & STORE_FLAG_ANSWERED)
		buf_append_char(out, 'R');
	if (flags->flags & STORE_FLAG_SEEN)
		buf_append_char(out, 'S');
	if (flags->flags & STORE_FLAG_DELETED)
		buf_append_char(out, 'T');
	for (int i = 0; i < 26; i++)
		if (flags->letters & (1u << i))
			buf_append_char(out, (char)('a' + i));
}

/* One level of a folder name: pieces separated by "&AC4-", each strict
 * modified UTF-7. */
static bool mailfmt_level_decode(const char *level, size_t len, struct buf *out)
{
	const char *error;
	size_t dot_len = strlen(MAILFMT_DOT);
	if (len == 0)
		return false;
	while (len > 0) {
		const char *dot = memmem(level, len, MAILFMT_DOT, dot_len);
		size_t piece = dot != NULL ? (size_t)(dot - level) : len;
		size_t start = out->len;
		if (!imap_mutf7_to_utf8(level, piece, out, &error))
			return false;
		if (memchr(out->data + start, STORE_HIERARCHY_SEP, out->len - start) != NULL)
			return false;
		if (dot == NULL)
			break;
		buf_append_char(out, '.');
		level += piece + dot_len;
		len -= piece + dot_len;
	}
	return true;
}

bool mailfmt_maildir_folder_decode(const char *dirname, struct buf *out)
{
	if (dirname[0] != '.' || dirname[1] == '\0')
		return false;
	const char *p = dirname + 1;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t len = dot != NULL ? (size_t)(dot - p) : strlen(p);
		if (!mailfmt_level_decode(p, len, out))
			return false;
		if (dot == NULL)
			return true;
		buf_append_char(out, STORE_HIERARCHY_SEP);
		p = dot + 1;
	}
}

bool mailfmt_maildir_folder_encode(const char *name, struct buf *out)
{
	const char *error;
	for (const char *p = name; *p != '\0';) {
		buf_append_char(out, '.');
		size_t len = strcspn(p, "/");
		/* A '.' inside the level is not a separator. */
		while (len > 0) {
			const char *dot = memchr(p, '.', len);
			size_t piece = dot != NULL ? (size_t)(dot - p) : len;
			if (!imap_utf8_to_mutf7(p, piece, out, &error))
				return false;
			if (dot == NULL) {
				p += piece;
				len = 0;
				break;
			}
			buf_append_str(out, MAILFMT_DOT);
			p += piece + 1;
			len -= piece + 1;
		}
		if (*p == STORE_HIERARCHY_SEP)
			p++;
	}
	return true;
}

bool mailfmt_dovecot_keywords_line(const char *line, int *index_r, const char **name_r)
{
	int index = 0;
	const char *p = line;
	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9' && index < 100)
		index = index * 10 + (*p++ - '0');
	if (*p != ' ' || p[1] == '\0' || index >= 26)
		return false;
	*index_r = index;
	*name_r = p + 1;
	return true;
}

/* ---- mbox ---- */

bool mailfmt_mbox_is_from_line(const char *line, size_t len)
{
	return len >= 5 && memcmp(line, "From ", 5) == 0;
}

bool mailfmt_mbox_is_escaped_from(const char *line, size_t len)
{
	size_t i = 0;
	while (i < len && line[i] == '>')
		i++;
	return i > 0 && mailfmt_mbox_is_from_line(line + i, len - i);
}

static const char *const mailfmt_days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const mailfmt_months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

#define MAILFMT_MAX_TOKENS 16

struct mailfmt_token {
	const char *p;
	size_t len;
};

static bool mailfmt_token_is(const struct mailfmt_token *t, const char *const *names,
			     int count, int *index_r)
{
	for (int i = 0; i < count; i++) {
		if (t->len == 3 && strncasecmp(t->p, names[i], 3) == 0) {
			*index_r = i;
			return true;
		}
	}
	return false;
}

static bool mailfmt_token_number(const struct mailfmt_token *t, size_t min_len,
				 size_t max_len, int *n_r)
{
	if (t->len < min_len || t->len > max_len)
		return false;
	int n = 0;
	for (size_t i = 0; i < t->len; i++) {
		if (t->p[i] < '0' || t->p[i] > '9')
			return false;
		n = n * 10 + (t->p[i] - '0');
	}
	*n_r = n;
	return true;
}

/* "+hhmm" / "-hhmm" in minutes east. */
static bool mailfmt_token_zone(const struct mailfmt_token *t, int *minutes_r)
{
	int hhmm;
	if (t->len != 5 || (t->p[0] != '+' && t->p[0] != '-'))
		return false;
	struct mailfmt_token digits = { t->p + 1, 4 };
	if (!mailfmt_token_number(&digits, 4, 4, &hhmm) || hhmm % 100 > 59)
		return false;
	*minutes_r = (hhmm / 100 * 60 + hhmm % 100) * (t->p[0] == '-' ? -1 : 1);
	return true;
}

/* "hh:mm" or "hh:mm:ss". */
static bool mailfmt_token_time(const struct mailfmt_token *t, int *h_r, int *m_r, int *s_r)
{
	struct mailfmt_token part;
	if (t->len != 5 && t->len != 8)
		return false;
	if (t->p[2] != ':' || (t->len == 8 && t->p[5] != ':'))
		return false;
	part = (struct mailfmt_token){ t->p, 2 };
	if (!mailfmt_token_number(&part, 2, 2, h_r))
		return false;
	part = (struct mailfmt_token){ t->p + 3, 2 };
	if (!mailfmt_token_number(&part, 2, 2, m_r))
		return false;
	*s_r = 0;
	if (t->len == 8) {
		part = (struct mailfmt_token){ t->p + 6, 2 };
		if (!mailfmt_token_number(&part, 2, 2, s_r))
			return false;
	}
	return *h_r <= 23 && *m_r <= 59 && *s_r <= 60;
}

/* DATE at tokens[i..]: wday month day time [zone] year [zone]. */
static bool mailfmt_date_at(const struct mailfmt_token *tok, size_t count, size_t i,
			    int64_t *time_r)
{
	int wday, month, day, hh, mm, ss, year, zone = 0;
	if (count - i < 5 || !mailfmt_token_is(&tok[i], mailfmt_days, 7, &wday) ||
	    !mailfmt_token_is(&tok[i + 1], mailfmt_months, 12, &month) ||
	    !mailfmt_token_number(&tok[i + 2], 1, 2, &day) ||
	    !mailfmt_token_time(&tok[i + 3], &hh, &mm, &ss))
		return false;
	size_t y = i + 4;
	if (mailfmt_token_zone(&tok[y], &zone))
		y++;
	if (y >= count || !mailfmt_token_number(&tok[y], 4, 4, &year))
		return false;
	if (y + 1 < count)
		(void)mailfmt_token_zone(&tok[y + 1], &zone);
	if (day < 1 || day > 31 || year < 1970)
		return false;
	struct tm tm = { .tm_year = year - 1900, .tm_mon = month, .tm_mday = day,
			 .tm_hour = hh, .tm_min = mm, .tm_sec = ss };
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return false;
	*time_r = (int64_t)t - (int64_t)zone * 60;
	return true;
}

bool mailfmt_mbox_from_date(const char *line, size_t len, int64_t *time_r)
{
	if (!mailfmt_mbox_is_from_line(line, len))
		return false;
	struct mailfmt_token tok[MAILFMT_MAX_TOKENS];
	size_t count = 0;
	for (size_t i = 5; i < len && count < MAILFMT_MAX_TOKENS;) {
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		size_t start = i;
		while (i < len && line[i] != ' ' && line[i] != '\t')
			i++;
		if (i > start)
			tok[count++] = (struct mailfmt_token){ line + start, i - start };
	}
	/* The sender may be missing or contain spaces: the date starts at the
	 * first weekday that is followed by a valid date. */
	for (size_t i = 0; i < count; i++)
		if (mailfmt_date_at(tok, count, i, time_r))
			return true;
	return false;
}

uint32_t mailfmt_mbox_status_flags(const char *value, size_t len)
{
	return memchr(value, 'R', len) != NULL ? STORE_FLAG_SEEN : 0;
}

uint32_t mailfmt_mbox_xstatus_flags(const char *value, size_t len)
{
	uint32_t flags = 0;
	for (size_t i = 0; i < len; i++) {
		switch (value[i]) {
		case 'A': flags |= STORE_FLAG_ANSWERED; break;
		case 'F': flags |= STORE_FLAG_FLAGGED; break;
		case 'D': flags |= STORE_FLAG_DELETED; break;
		case 'T': flags |= STORE_FLAG_DRAFT; break;
		default: break;
		}
	}
	return flags;
}

bool mailfmt_mbox_is_state_header(const char *name, size_t len)
{
	static const char *const names[] = { "Status", "X-Status", "X-Keywords", "X-UID",
					     "X-IMAP", "X-IMAPbase" };
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (strlen(names[i]) == len && strncasecmp(name, names[i], len) == 0)
			return true;
	return false;
}

bool mailfmt_keyword_valid(const char *kw, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)kw[i];
		/* atom-specials (RFC 9051 9), and '\' which starts system flags. */
		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return false;
	}
	return true;
}
