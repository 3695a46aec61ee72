#ifndef PETREL_IMAP_FETCH_H
#define PETREL_IMAP_FETCH_H

/* FETCH attributes (RFC 9051 §6.4.5, RFC 3516 BINARY, RFC 7162 MODSEQ):
 * parsed once per command into a list of items that cmd-fetch.c answers
 * for each message. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mime/mime.h"

struct arena;
struct imap_arg;

enum imap_fetch_kind {
	IMAP_FETCH_UID,
	IMAP_FETCH_FLAGS,
	IMAP_FETCH_INTERNALDATE,
	IMAP_FETCH_RFC822_SIZE,
	IMAP_FETCH_ENVELOPE,
	IMAP_FETCH_BODY,           /* BODY (non-extensible structure) */
	IMAP_FETCH_BODYSTRUCTURE,
	IMAP_FETCH_MODSEQ,
	IMAP_FETCH_SECTION,        /* BODY[...], BODY.PEEK[...], RFC822* */
	IMAP_FETCH_BINARY,         /* BINARY[...], BINARY.PEEK[...] */
	IMAP_FETCH_BINARY_SIZE,
};

struct imap_fetch_item {
	enum imap_fetch_kind kind;
	/* SECTION / BINARY / BINARY_SIZE */
	struct mime_section section;
	bool peek;                 /* does not set \Seen */
	bool partial;
	uint64_t partial_origin;
	uint64_t partial_count;
	/* Name of the item in the response, e.g. "BODY[HEADER.FIELDS (To)]",
	 * "RFC822.TEXT"; a partial adds "<origin>" to it when answering. */
	const char *response_name;
};

struct imap_fetch_request {
	struct imap_fetch_item *items;
	size_t count;
	bool needs_meta;           /* ENVELOPE, BODY, BODYSTRUCTURE */
	bool needs_body;           /* a section or BINARY item */
	bool sets_seen;            /* a non-PEEK body item */
	/* fetch-modifier: (CHANGEDSINCE n) of RFC 7162 §3.1.4.1, and
	 * VANISHED of RFC 7162 §3.2.6 (UID FETCH only). */
	bool has_changedsince;
	uint64_t changedsince;
	bool vanished;
};

/* Parses the attribute argument (atom, macro or list) and the optional
 * modifier list. On failure returns false with a message for BAD. */
bool imap_fetch_parse(struct arena *a, const struct imap_arg *atts,
		      const struct imap_arg *modifiers, bool uid,
		      struct imap_fetch_request *req_r, const char **error_r);

#endif
