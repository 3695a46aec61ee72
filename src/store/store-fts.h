#ifndef PETREL_STORE_FTS_H
#define PETREL_STORE_FTS_H

/* Full-text indexing, in the APPEND transaction or in the background
 * (store.h, store_fts_indexer_start). Private to src/store/. */

#include "store/store-private.h"

/* Inside the write transaction that made email row email_id: indexes its
 * decoded text, or puts it aside for the background indexer when that
 * runs. NULL texts are stored as NULL; nothing is done when both are. */
enum store_error store_fts_add(struct store_user *u, int64_t email_id, const char *headers,
			       const char *body, const char **error_r);

/* In a write transaction that deleted emails rows: their texts wait in
 * email_text_dead for the indexer to remove (schema version 6). */
void store_fts_note_dropped(void);

/* After every COMMIT (store_db_commit): queues u for the background
 * indexer when this thread put texts aside or dropped emails rows in the
 * transaction. Cheap otherwise. After a ROLLBACK, _after_rollback
 * forgets them. */
void store_fts_after_commit(struct store_user *u);
void store_fts_after_rollback(void);

#endif
