#include "imap/imap-base-subject.h"
#include "lib/arena.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static bool bs_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* Step (1): tabs and line breaks to spaces, runs of spaces to one. */
static size_t bs_normalise_space(char *s)
{
	size_t o = 0;
	bool space = false;
	for (size_t i = 0; s[i] != '\0'; i++) {
		char c = s[i];
		if (c == '\t' || c == '\r' || c == '\n')
			c = ' ';
		if (c == ' ' && space)
			continue;
		space = c == ' ';
		s[o++] = c;
	}
	s[o] = '\0';
	return o;
}

/* Step (2): subj-trailer = "(fwd)" / WSP, removed repeatedly from the end. */
static void bs_strip_trailers(char *s, size_t *len, bool *is_reply)
{
	for (;;) {
		if (*len > 0 && bs_wsp(s[*len - 1])) {
			(*len)--;
		} else if (*len >= 5 && strncasecmp(s + *len - 5, "(fwd)", 5) == 0) {
			*len -= 5;
			*is_reply = true;
		} else {
			break;
		}
	}
	s[*len] = '\0';
}

/* subj-blob = "[" *BLOBCHAR "]" *WSP; returns its length at p, or 0. */
static size_t bs_blob(const char *p)
{
	if (*p != '[')
		return 0;
	size_t i = 1;
	while (p[i] != '\0' && p[i] != '[' && p[i] != ']')
		i++;
	if (p[i] != ']')
		return 0;
	i++;
	while (bs_wsp(p[i]))
		i++;
	return i;
}

/* subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":" */
static size_t bs_refwd(const char *p)
{
	size_t i;
	if (strncasecmp(p, "re", 2) == 0)
		i = 2;
	else if (strncasecmp(p, "fwd", 3) == 0)
		i = 3;
	else if (strncasecmp(p, "fw", 2) == 0)
		i = 2;
	else
		return 0;
	while (bs_wsp(p[i]))
		i++;
	i += bs_blob(p + i);
	return p[i] == ':' ? i + 1 : 0;
}

/* subj-leader = (*subj-blob subj-refwd) / WSP; returns its length. */
static size_t bs_leader(const char *p)
{
	if (bs_wsp(*p))
		return 1;
	size_t i = 0, b;
	while ((b = bs_blob(p + i)) > 0)
		i += b;
	size_t r = bs_refwd(p + i);
	return r > 0 ? i + r : 0;
}

/* Steps (3) to (5). */
static const char *bs_strip_leaders(const char *p, bool *is_reply)
{
	bool changed = true;
	while (changed) {
		changed = false;
		size_t n;
		while ((n = bs_leader(p)) > 0) {
			if (!bs_wsp(*p))
				*is_reply = true;
			p += n;
			changed = true;
		}
		/* A blob at the front goes unless it is all that is left. */
		n = bs_blob(p);
		if (n > 0 && p[n] != '\0') {
			p += n;
			changed = true;
		}
	}
	return p;
}

const char *imap_base_subject(struct arena *a, const char *subject, bool *is_reply_r)
{
	bool is_reply = false;
	char *s = arena_strdup(a, subject != NULL ? subject : "");
	size_t len = bs_normalise_space(s);
	const char *p = s;
	for (;;) {
		char *w = (char *)p;
		len = strlen(w);
		bs_strip_trailers(w, &len, &is_reply);
		p = bs_strip_leaders(w, &is_reply);
		len = strlen(p);
		/* Step (6): subj-fwd-hdr "[fwd:" ... subj-fwd-trl "]" */
		if (len >= 6 && strncasecmp(p, "[fwd:", 5) == 0 && p[len - 1] == ']') {
			char *inner = arena_strndup(a, p + 5, len - 6);
			is_reply = true;
			p = inner;
			continue;
		}
		break;
	}
	char *out = arena_strdup(a, p);
	for (char *q = out; *q != '\0'; q++)
		*q = (char)toupper((unsigned char)*q);
	if (is_reply_r != NULL)
		*is_reply_r = is_reply;
	return out;
}
