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
 * once or, in sync-behind mode, once the commit is durable. */
void store_sync_commit_begin(void);
enum store_error store_sync_commit_end(struct store_user *u, const char **error_r);

/* After a commit that deleted emails rows the caller unlinks their blobs
 * (store_blobs_release). Were that durable before the commit, a power
 * failure could bring the rows back without their files, so in
 * sync-behind mode the release is handed to the database's sync job and
 * runs there, on its own connection, once the commit is durable (never,
 * if the sync fails: the files are then orphans for the next sweep).
 * True when taken; false when u's last commit dropped no emails row or is
 * durable already (release at once). */
bool store_sync_release_after(struct store_user *u, const char *const *hashes, size_t count);

/* Around BEGIN IMMEDIATE (store_db_begin_write): counts the writers
 * waiting for u's database in this process. SQLite's busy handler polls
 * and is not fair: a thread that commits and begins again at once (the
 * background indexer) can keep a delivery waiting for seconds. */
void store_sync_writer_waits(struct store_user *u, bool waiting);
/* For background work, before each of its write transactions: waits
 * while another writer waits for u's database (at most 200 ms). */
void store_sync_yield_to_writers(struct store_user *u);
#endif
