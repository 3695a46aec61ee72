#ifndef PETREL_STORE_INGEST_H
#define PETREL_STORE_INGEST_H

/* Turning a finished message body into what the store keeps beside it
 * (DESIGN.md §4: parse once at delivery). Shared by every way mail comes
 * in: IMAP APPEND, LMTP and petrel deliver, so that all of them store the
 * same metadata for the same bytes. */

#include "store/store.h"

struct arena;

/* Fills *meta_r from the blob's bytes exactly as they will be stored (line
 * endings already normalised to CRLF by the blob writer), so the offsets in
 * BODYSTRUCTURE are the stored file's. Strings come from a and live until
 * it is reset. body_text is NULL while the daemon's indexer runs (it
 * derives the text again when it indexes). Errors: INTERNAL (the tmp file
 * cannot be read). */
enum store_error store_ingest_meta(const struct store_blob *blob, struct arena *a,
				   struct store_msg_meta *meta_r, const char **error_r);

/* The decoded header and body text of u's stored body with hash, derived
 * again from the file exactly as store_ingest_meta derived them at
 * delivery (for full-text search: the text of a message not yet indexed
 * is not kept). Strings from a. Errors: INTERNAL (the file cannot be
 * read). */
enum store_error store_ingest_text(struct store_user *u, const char *hash, struct arena *a,
				   const char **headers_r, const char **body_r,
				   const char **error_r);

#endif
