#ifndef PETREL_MIME_PRIVATE_H
#define PETREL_MIME_PRIVATE_H

/* Helpers shared by the files of src/mime/; not part of the public API. */

#include "mime/mime.h"

enum mime_line_kind {
	MIME_LINE_END,		/* no more bytes */
	MIME_LINE_BLANK,	/* CRLF or LF alone: end of header */
	MIME_LINE_FIELD,	/* field-name ":" ... */
	MIME_LINE_CONTINUATION,	/* starts with WSP: folded */
	MIME_LINE_OTHER,	/* anything else ends the header */
};

/* Classifies the line starting at msg[pos] (pos < end, or END). */
enum mime_line_kind mime_header_line_kind(const unsigned char *msg, size_t pos,
					  size_t end);
/* Offset just past the LF ending the line at pos, or end. */
size_t mime_line_end(const unsigned char *msg, size_t pos, size_t end);

struct mime_header_field {
	const unsigned char *name;	/* field-name, without trailing WSP */
	size_t name_len;
	const unsigned char *value;	/* raw value after ':', folding kept */
	size_t value_len;		/* up to, not including, the final line break */
	size_t start, end;		/* whole field incl. its final line break */
};

/* Iterates the header fields in msg[*pos, end). Returns false at the end of
 * the header: a blank line, a line that is neither a field nor a
 * continuation, or end. *pos advances past each returned field. */
bool mime_header_next_field(const unsigned char *msg, size_t end, size_t *pos,
			    struct mime_header_field *f);
bool mime_header_name_is(const struct mime_header_field *f, const char *name);

/* Value with line breaks removed (RFC 5322 2.2.3 unfolding), leading and
 * trailing whitespace trimmed, NUL-terminated, from a. */
char *mime_header_unfold(struct arena *a, const unsigned char *value,
			 size_t len);

/* Parses "type/subtype; params" (RFC 2045 5.1). False when the type is
 * invalid; params are returned either way. */
bool mime_header_parse_content_type(struct arena *a, const char *value,
				    const char **type_r, const char **subtype_r,
				    struct mime_param **params_r,
				    unsigned int *count_r);
/* Parses "token; params" (Content-Disposition, RFC 2183). */
bool mime_header_parse_disposition(struct arena *a, const char *value,
				   const char **type_r,
				   struct mime_param **params_r,
				   unsigned int *count_r);
/* First token of value, lower-cased (Content-Transfer-Encoding). */
const char *mime_header_parse_token(struct arena *a, const char *value);
/* Content-Language: comma-separated tags (RFC 3282). */
void mime_header_parse_languages(struct arena *a, const char *value,
				 const char ***langs_r, unsigned int *count_r);

/* Skips CFWS (RFC 5322 3.2.2: whitespace and nested comments). */
const char *mime_skip_cfws(const char *p);

bool mime_ascii_ieq(const char *a, const char *b);
bool mime_ascii_ieq_n(const void *a, size_t a_len, const char *b);
char *mime_ascii_lower(char *s);

#endif
