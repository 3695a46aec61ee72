#ifndef PETREL_STORE_FTS_H
#define PETREL_STORE_FTS_H

/* Full-text indexing in the background (store.h, store_fts_indexer_start),
 * into a database of its own beside mail.db (fts.db). Private to
 * src/store/. */

#include "store/store-private.h"

/* u's index database (u->fts), opened (created if missing) on first use.
 * NULL (*error_r set) on failure. */
struct store_user *store_fts_db(struct store_user *u, const char **error_r);
/* On a connection to fts.db, before its tables are used: puts the
 * trigram tokenizer that passes each trigram of a text once in front of
 * FTS5's own (store-fts-tokenizer.c). False when it could not, or when
 * FTS5 does not use it; the index is the same either way, only slower to
 * write. */
bool store_fts_tokenizer_install(sqlite3 *db);
/* Closes u's index database, if open (closing u). */
void store_fts_close(struct store_user *u);

/* At opening: when fts.db does not exist (a new store, one of schema 6 or
 * older, or an index removed by hand), queues every message's text for
 * the indexer and creates it. */
enum store_error store_fts_ensure(struct store_user *u, const char **error_r);

/* Whether store_fts_add keeps a copy of the text it queues: only without
 * the daemon's indexer, which derives the text again when it indexes. */
bool store_fts_keeps_copies(void);

/* Inside the write transaction that made email row email_id: queues its
 * decoded text for the indexer (email_text_pending). Nothing is done when
 * both texts are NULL. */
enum store_error store_fts_add(struct store_user *u, int64_t email_id, const char *headers,
			       const char *body, const char **error_r);

/* In a write transaction that deleted emails rows: their texts wait in
 * email_text_dead for the indexer to remove (schema version 6). */
void store_fts_note_dropped(void);

/* After every COMMIT (store_db_commit): when this thread queued texts or
 * dropped emails rows in the transaction, queues u for the background
 * indexer, or without one indexes them now. Cheap otherwise. After a
 * ROLLBACK, _after_rollback forgets them. */
void store_fts_after_commit(struct store_user *u);
void store_fts_after_rollback(void);

/* The decoded text of email email_id (body file hash): from the index, or
 * from where it waits (its copy, or derived from the file). NULLs when it
 * has none. Strings from a. */
enum store_error store_fts_text(struct store_user *u, int64_t email_id, const char *hash,
				struct arena *a, const char **headers_r, const char **body_r,
				const char **error_r);

#endif
