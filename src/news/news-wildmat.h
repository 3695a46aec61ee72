#ifndef PETREL_NEWS_WILDMAT_H
#define PETREL_NEWS_WILDMAT_H

/* Wildmats (RFC 3977 §4): the pattern language NNTP uses for newsgroup
 * names, and the one [news-server] groups is written in.
 *
 *   wildmat = wildmat-pattern *("," ["!"] wildmat-pattern)
 *
 * Each pattern is matched against the whole string ("*" any run of
 * characters, "?" one character, anything else itself); the rightmost
 * pattern that matches decides: a match unless it is "!"-prefixed. No
 * pattern matching means no match. Characters are UTF-8 characters, not
 * octets. Pure functions; thread-safe. */

#include <stdbool.h>

/* Syntax check per RFC 3977 §4.1 (no empty pattern, no '\\', '[', ']',
 * '!' only at the start of a pattern, no blank or control character,
 * valid UTF-8). On failure *error_r (may be NULL) says why (static). */
bool news_wildmat_valid(const char *wildmat, const char **error_r);

/* Does text match wildmat? A wildmat that is not valid matches nothing. */
bool news_wildmat_match(const char *wildmat, const char *text);

#endif
