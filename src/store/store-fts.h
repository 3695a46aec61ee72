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

/* After the COMMIT of a transaction that may have called store_fts_add:
 * queues u's texts for the background indexer when any were put aside in
 * this thread. Cheap otherwise. */
void store_fts_after_commit(struct store_user *u);

#endif
