#ifndef PETREL_IMAP_MUTF7_H
#define PETREL_IMAP_MUTF7_H

/* Modified UTF-7 (RFC 3501 section 5.1.3) <-> UTF-8 for mailbox names.
 * Both directions are strict: what one accepts the other produces exactly,
 * so a name has one and only one encoding.
 *
 * Rejected in modified UTF-7 input: bytes outside printable US-ASCII
 * (0x20-0x7e), an unterminated "&" section, characters outside the
 * modified base64 alphabet (A-Z a-z 0-9 + ,), an empty "&...-" other than
 * "&-" (which stands for "&"), leftover bits that are not zero or amount to
 * 6 bits or more, an odd number of bytes of UTF-16, unpaired surrogates,
 * encoded characters that are printable US-ASCII (must be sent directly),
 * and encoded NUL or control characters. Two adjacent encoded sections
 * ("&AKM-&AKM-") are accepted, as RFC 3501 does not forbid them; the
 * encoder always produces one section per run ("&AKMAow-").
 * Rejected in UTF-8 input: invalid UTF-8 (overlong forms, surrogates,
 * values above U+10FFFF, truncated sequences), NUL and control characters
 * (U+0000-U+001F, U+007F-U+009F).
 *
 * Output is appended to dest (a struct buf owned by the caller); on failure
 * dest may hold a partial result, the function returns false and *error_r
 * points to a static message. */

#include <stdbool.h>
#include <stddef.h>

struct buf;

bool imap_mutf7_to_utf8(const char *src, size_t len, struct buf *dest,
			const char **error_r);
bool imap_utf8_to_mutf7(const char *src, size_t len, struct buf *dest,
			const char **error_r);
/* True if src is valid modified UTF-7 (same rules as imap_mutf7_to_utf8). */
bool imap_mutf7_is_valid(const char *src, size_t len);

#endif
