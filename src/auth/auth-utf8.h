#ifndef PETREL_AUTH_UTF8_H
#define PETREL_AUTH_UTF8_H

/* UTF-8 checks shared by the auth modules (user names, SASL fields).
 * Pure functions, thread-safe. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decodes one UTF-8 sequence at s (len bytes available). Returns its length
 * (1-4) and the code point, or 0 for an invalid, overlong, surrogate or
 * truncated sequence. */
size_t auth_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp_r);
/* True when data is entirely well-formed UTF-8 (RFC 3629). NUL is valid
 * UTF-8; callers that forbid it check separately. */
bool auth_utf8_valid(const void *data, size_t len);

#endif
