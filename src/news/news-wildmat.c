/* Wildmat matching, RFC 3977 §4. */

#include "news/news-wildmat.h"

#include <stddef.h>
#include <string.h>

/* Length of the UTF-8 character starting at s (1 for a stray byte, so a
 * malformed name still advances). */
static size_t wildmat_char_len(const unsigned char *s)
{
	size_t len = *s < 0x80 ? 1 : (*s & 0xe0) == 0xc0 ? 2 : (*s & 0xf0) == 0xe0 ? 3
		: (*s & 0xf8) == 0xf0 ? 4 : 1;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 1;
	return len;
}

static bool wildmat_utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		size_t n = wildmat_char_len(s + i);
		if (n == 1 || i + n > len)
			return false;
		/* Overlong forms and surrogates are not UTF-8 (RFC 3629). */
		unsigned cp = n == 2 ? s[i] & 0x1fu : n == 3 ? s[i] & 0x0fu : s[i] & 0x07u;
		for (size_t k = 1; k < n; k++)
			cp = (cp << 6) | (s[i + k] & 0x3fu);
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		i += n;
	}
	return true;
}

bool news_wildmat_valid(const char *wildmat, const char **error_r)
{
	const char *error = NULL;
	bool empty = true;
	for (const char *c = wildmat;; c++) {
		if (*c == ',' || *c == '\0') {
			if (empty) {
				error = "empty pattern";
				break;
			}
			if (*c == '\0')
				break;
			empty = true;
			if (c[1] == '!')
				c++;
			continue;
		}
		if (c == wildmat && *c == '!')
			continue;
		if (*c == '!' || *c == '\\' || *c == '[' || *c == ']') {
			error = "'!' only before a pattern; '\\', '[' and ']' are not allowed";
			break;
		}
		if ((unsigned char)*c <= ' ' || *c == 0x7f) {
			error = "blank or control character";
			break;
		}
		empty = false;
	}
	if (error == NULL && !wildmat_utf8_valid((const unsigned char *)wildmat, strlen(wildmat)))
		error = "not UTF-8";
	if (error != NULL && error_r != NULL)
		*error_r = error;
	return error == NULL;
}

/* Does the pattern [p, p_end) match all of text? Backtracks over the last
 * '*' only (the classic linear-space algorithm), so the cost is
 * O(pattern * text) at worst, never exponential. */
static bool wildmat_pattern_match(const unsigned char *p, const unsigned char *p_end,
				  const unsigned char *t)
{
	const unsigned char *star_p = NULL, *star_t = NULL;
	while (*t != '\0') {
		if (p < p_end && *p == '*') {
			star_p = ++p;
			star_t = t;
			continue;
		}
		size_t tn = wildmat_char_len(t);
		if (p < p_end && *p == '?') {
			p++;
			t += tn;
			continue;
		}
		if (p < p_end) {
			size_t pn = wildmat_char_len(p);
			if (pn == tn && p + pn <= p_end && memcmp(p, t, tn) == 0) {
				p += pn;
				t += tn;
				continue;
			}
		}
		if (star_p == NULL)
			return false;
		/* Let the last '*' swallow one more character and retry. */
		star_t += wildmat_char_len(star_t);
		t = star_t;
		p = star_p;
	}
	while (p < p_end && *p == '*')
		p++;
	return p == p_end;
}

bool news_wildmat_match(const char *wildmat, const char *text)
{
	if (!news_wildmat_valid(wildmat, NULL))
		return false;
	bool result = false;
	const unsigned char *p = (const unsigned char *)wildmat;
	/* RFC 3977 §4.2: the rightmost matching pattern decides, so walk all
	 * of them and keep the last verdict. */
	for (;;) {
		bool negated = *p == '!';
		if (negated)
			p++;
		const unsigned char *end = p;
		while (*end != ',' && *end != '\0')
			end++;
		if (wildmat_pattern_match(p, end, (const unsigned char *)text))
			result = !negated;
		if (*end == '\0')
			return result;
		p = end + 1;
	}
}
