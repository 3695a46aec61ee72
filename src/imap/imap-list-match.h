#ifndef PETREL_IMAP_LIST_MATCH_H
#define PETREL_IMAP_LIST_MATCH_H

/* LIST / LSUB pattern matching (RFC 3501 6.3.8, RFC 9051 6.3.9):
 *   "*" matches zero or more characters,
 *   "%" matches zero or more characters other than the hierarchy
 *       delimiter,
 *   every other byte matches itself.
 * Patterns and names are the UTF-8 forms (after modified UTF-7 decoding);
 * matching is by bytes, which is exact for UTF-8 because a literal byte
 * can never match in the middle of a multi-byte character that a wildcard
 * is consuming (lead and continuation bytes are disjoint).
 *
 * INBOX is case-insensitive (RFC 9051 5.1): when name is "INBOX" or lies
 * below it ("INBOX/..."), its first five characters match the pattern
 * ignoring ASCII case, so "inbox", "Inbox/%" and "in*" all match INBOX.
 * Every other comparison is case-sensitive.
 *
 * Cost: O(pattern length * name length) time and O(name length) memory,
 * whatever the pattern (no backtracking). Pure functions, thread-safe. */

#include <stdbool.h>
#include <stddef.h>

/* True when name matches pattern; sep is the hierarchy delimiter. */
bool imap_list_match(const char *pattern, const char *name, char sep);

/* True when name matches at least one of the count patterns. */
bool imap_list_match_any(const char *const *patterns, size_t count,
			 const char *name, char sep);

#endif
