#ifndef PETREL_MIME_DIGEST_H
#define PETREL_MIME_DIGEST_H

/* Everything Petrel computes from a message once, when it is stored
 * (DESIGN.md §4): the FETCH structures, sort and thread keys, and the
 * decoded text that SEARCH matches against. A pure function of the bytes. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;

struct mime_digest {
	const char *envelope;      /* ENVELOPE */
	const char *bodystructure; /* BODYSTRUCTURE with extension data */
	const char *body;          /* BODY (non-extensible) */
	bool has_sent_date;
	int64_t sent_date;         /* Date: header as Unix seconds (UTC) */
	/* Header values decoded to UTF-8 (RFC 2047), unfolded; NULL when the
	 * field is absent. Address fields keep display names and addresses,
	 * so a search matches either form. */
	const char *from, *to, *cc, *bcc, *subject;
	/* Raw, unfolded. */
	const char *message_id, *in_reply_to, *references;
	/* All header fields decoded, one "Name: value" per line. */
	const char *header_text;
	/* Text parts (type "text") with transfer encoding removed, converted to
	 * UTF-8, separated by newlines; capped at MIME_DIGEST_TEXT_MAX. */
	const char *body_text;
	/* The message's own header as stored, up to and with the blank line
	 * that ends it (BODY[HEADER]); NULL when it has no blank line or is
	 * longer than MIME_DIGEST_HEADER_MAX. */
	const unsigned char *header;
	size_t header_len;
};

#define MIME_DIGEST_HEADER_MAX (16u * 1024)

#define MIME_DIGEST_TEXT_MAX (4u * 1024 * 1024)

/* What mime_digest_build computes besides the metadata: body_text (NULL
 * without it; decoding every text part is most of the work on a large
 * message). */
#define MIME_DIGEST_BODY_TEXT 1u

/* Fills digest_r; strings come from a. Never fails. */
void mime_digest_build(struct arena *a, const unsigned char *msg, size_t len, unsigned want,
		       struct mime_digest *digest_r);

/* Parses an RFC 5322 date-time (obsolete forms too: two-digit years,
 * named zones, missing seconds). False when it is not a date. */
bool mime_parse_date(const char *s, int64_t *time_r, int *tz_offset_min_r);

#endif
