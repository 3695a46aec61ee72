#include "imap/imap-list-match.h"

#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* Rows up to this many name bytes live on the stack. */
#define LIST_MATCH_STACK_ROW 256

static bool list_match_inbox_prefix(const char *name, char sep)
{
	return (name[0] == 'I' && name[1] == 'N' && name[2] == 'B' &&
		name[3] == 'O' && name[4] == 'X' &&
		(name[5] == '\0' || name[5] == sep));
}

static char list_match_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* Literal pattern bytes (wildcards excluded): a pattern with more of them
 * than the name has bytes cannot match. */
static size_t list_match_literal_count(const char *pattern)
{
	size_t n = 0;
	for (const char *p = pattern; *p != '\0'; p++)
		if (*p != '*' && *p != '%')
			n++;
	return n;
}

/* One pattern step over the row. row[j] says whether the pattern so far
 * matches the first j bytes of name; it is updated in place to include
 * the pattern byte c. */
static void list_match_step(bool *row, const char *name, size_t len, char c,
			    char sep, size_t ci_len)
{
	if (c == '*') {
		/* row[j] = any row[k] for k <= j */
		for (size_t j = 1; j <= len; j++)
			row[j] = row[j] || row[j - 1];
	} else if (c == '%') {
		/* row[j] = row[j] or (row[j-1] and name[j-1] is not sep) */
		for (size_t j = 1; j <= len; j++)
			row[j] = row[j] || (row[j - 1] && name[j - 1] != sep);
	} else {
		/* row[j] = row[j-1] and name[j-1] equals c; right to left so
		 * row[j-1] is still the previous value. */
		for (size_t j = len; j >= 1; j--) {
			char n = name[j - 1];
			bool eq = j <= ci_len ?
				list_match_upper(n) == list_match_upper(c) : n == c;
			row[j] = row[j - 1] && eq;
		}
		row[0] = false;
	}
}

bool imap_list_match(const char *pattern, const char *name, char sep)
{
	size_t len = strlen(name);
	if (list_match_literal_count(pattern) > len)
		return false;
	size_t ci_len = list_match_inbox_prefix(name, sep) ? 5 : 0;
	bool stack_row[LIST_MATCH_STACK_ROW + 1];
	bool *row = len < LIST_MATCH_STACK_ROW ? stack_row :
		xmalloc((len + 1) * sizeof(*row));
	row[0] = true;
	for (size_t j = 1; j <= len; j++)
		row[j] = false;
	for (const char *p = pattern; *p != '\0'; p++) {
		char c = *p;
		/* A run of wildcards is one "*" if it holds any "*", else one
		 * "%": this bounds the work by the number of literal bytes. */
		while ((c == '*' || c == '%') && (p[1] == '*' || p[1] == '%')) {
			p++;
			if (*p == '*')
				c = '*';
		}
		list_match_step(row, name, len, c, sep, ci_len);
	}
	bool matched = row[len];
	if (row != stack_row)
		free(row);
	return matched;
}

bool imap_list_match_any(const char *const *patterns, size_t count,
			 const char *name, char sep)
{
	for (size_t i = 0; i < count; i++)
		if (imap_list_match(patterns[i], name, sep))
			return true;
	return false;
}
