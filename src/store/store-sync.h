#ifndef PETREL_STORE_SYNC_H
#define PETREL_STORE_SYNC_H

/* Between the database code (store-db.c) and sync-behind (store-sync.c);
 * nothing outside src/store/ includes this. The public side is in store.h,
 * "Durability off the event loop". */

#include "store/store-private.h"

/* In sync-behind mode, for a handle just opened on path (u->name set):
 * synchronous=NORMAL and the hooks that number its commits and replace
 * SQLite's automatic checkpoint. */
enum store_error store_sync_attach(struct store_user *u, const char *path,
				   const char **error_r);
/* Before the connection closes: removes the hooks (no-op without them). */
void store_sync_detach(struct store_user *u);

/* Around COMMIT (store_db_commit): _end publishes u's pending changes, at
 * once or, in sync-behind mode, once the commit is durable; after a commit
 * that deleted emails rows it waits until the commit is durable, because
 * the caller unlinks their blobs next. INTERNAL if that sync failed. */
void store_sync_commit_begin(void);
enum store_error store_sync_commit_end(struct store_user *u, const char **error_r);

#endif
