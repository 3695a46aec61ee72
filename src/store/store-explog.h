#ifndef PETREL_STORE_EXPLOG_H
#define PETREL_STORE_EXPLOG_H

/* The expunge log (table expunged) that QRESYNC answers VANISHED from, and
 * its compaction (store.h, store_set_expunge_log_limits). Private to
 * src/store/. */

#include "store/store-private.h"

/* Inside the write transaction that has just logged count expunges of
 * mailbox_id, all with modseq: stamps them with the time, counts them, and
 * trims the mailbox's log to the configured limits. The work is bounded by
 * the number of entries it removes (plus a few index lookups). */
enum store_error store_explog_note(struct store_user *u, uint64_t mailbox_id, uint64_t modseq,
				   size_t count, const char **error_r);

/* Inside a write transaction: forgets the entries with MODSEQ <= up_to
 * and raises the mailbox's expunge floor to up_to (never lowers it). */
enum store_error store_explog_forget(struct store_user *u, uint64_t mailbox_id, uint64_t up_to,
				     const char **error_r);

#endif
