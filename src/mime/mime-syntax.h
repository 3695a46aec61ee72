#ifndef PETREL_MIME_SYNTAX_H
#define PETREL_MIME_SYNTAX_H

/* A strict reader of the IMAP syntax this module writes, used to check our
 * own output (unit tests, fuzz targets): the ABNF rules "body" (with or
 * without extension data) and "envelope" of RFC 9051 9, including
 * string = quoted / literal. It accepts only what the ABNF allows and the
 * whole input must be consumed. Pure function; no allocation. */

#include <stdbool.h>
#include <stddef.h>

/* extended: BODYSTRUCTURE (extension data allowed) or BODY (forbidden). */
bool mime_syntax_check_body(const unsigned char *s, size_t len, bool extended,
			    const char **error_r);
bool mime_syntax_check_envelope(const unsigned char *s, size_t len,
				const char **error_r);

#endif
