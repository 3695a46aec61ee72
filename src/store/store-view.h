#ifndef PETREL_STORE_VIEW_H
#define PETREL_STORE_VIEW_H

/* Loading a session's view of a mailbox (store_view_load) fast: one
 * statement whose rows go straight into the view's arrays, and a small
 * per-thread cache of recently loaded views brought up to date from
 * HIGHESTMODSEQ. Private to src/store/. */

#include "store/store-private.h"

/* Registers the SQL functions the loader uses on a new connection. */
void store_view_register(sqlite3 *db);

/* Inside a read transaction that has read row (a selectable mailbox):
 * fills view's count and arrays (heap, the caller's) with every message's
 * UID, flags (the shared ones; the viewer's \Seen is the caller's) and
 * MODSEQ, from the thread's cache when it holds this mailbox. */
enum store_error store_view_fill_cached(struct store_user *u, const struct store_mailbox_row *row,
					struct store_view *view, const char **error_r);

#endif
