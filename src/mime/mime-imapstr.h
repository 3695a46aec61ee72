#ifndef PETREL_MIME_IMAPSTR_H
#define PETREL_MIME_IMAPSTR_H

/* IMAP string output (RFC 9051 4.3, ABNF "string", "nstring", "astring").
 * Each function appends one value to out choosing the form the content
 * allows:
 *   atom    only for astring: 1*ASTRING-CHAR and not "NIL"
 *   quoted  "..." when the value has no CR, LF, NUL or 8-bit byte and is at
 *           most MIME_IMAPSTR_QUOTED_MAX bytes; '"' and '\' are escaped
 *   literal {n}CRLF followed by the bytes otherwise.
 * NUL cannot appear in an IMAP string (CHAR8 excludes it), so NUL bytes are
 * dropped from the value; with NULs kept the answer is a literal8 and the
 * caller must use mime_imapstr_append_literal8(). Nothing is allocated
 * besides out's growth. */

#include <stdbool.h>
#include <stddef.h>

struct buf;

#define MIME_IMAPSTR_QUOTED_MAX 1024

void mime_imapstr_append_string(struct buf *out, const void *data, size_t len);
/* data == NULL writes NIL. */
void mime_imapstr_append_nstring(struct buf *out, const void *data, size_t len);
void mime_imapstr_append_nstring_cstr(struct buf *out, const char *s);
void mime_imapstr_append_string_cstr(struct buf *out, const char *s);
void mime_imapstr_append_astring(struct buf *out, const void *data, size_t len);
/* Always a literal: {n}CRLF + data (NULs dropped). */
void mime_imapstr_append_literal(struct buf *out, const void *data, size_t len);
/* RFC 3516 literal8: ~{n}CRLF + data, verbatim. */
void mime_imapstr_append_literal8(struct buf *out, const void *data, size_t len);
/* True when data may be written as a quoted string. */
bool mime_imapstr_can_quote(const void *data, size_t len);

#endif
