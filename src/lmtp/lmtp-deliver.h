#ifndef PETREL_LMTP_DELIVER_H
#define PETREL_LMTP_DELIVER_H

/* Storing a delivered message: the one code path behind LMTP and
 * `petrel deliver`. The body is streamed once into a blob (after the trace
 * fields), its metadata computed once, and the same blob appended to every
 * recipient's mailbox: the store hard-links it into each user's blobs/
 * (single-instance storage, DESIGN.md §4). Each append is durable when
 * lmtp_deliver_store returns STORE_OK -- or, in sync-behind mode (petrel
 * serve), once the thread's store ticket is (store.h): lmtp-data.c waits
 * for it before it replies. */

#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;

struct lmtp_message {
	struct store_blob *blob;     /* owned: lmtp_message_free */
	struct store_msg_meta meta;  /* strings from the arena given to finish */
	int64_t received;            /* INTERNALDATE, Unix seconds */
};

/* Starts a message in data_dir/tmp/ whose first bytes are prefix (the
 * trace fields; may be empty). max_size bounds the stored size (0: none). */
enum store_error lmtp_message_begin(const char *data_dir, uint64_t max_size,
				    const void *prefix, size_t prefix_len,
				    struct store_blob_writer **writer_r, const char **error_r);

/* Ends the body (the writer is consumed whatever happens) and computes the
 * metadata into msg_r. On failure nothing is left behind. */
enum store_error lmtp_message_finish(struct store_blob_writer **writer, struct arena *a,
				     struct lmtp_message *msg_r, const char **error_r);

/* Unlinks the tmp copy once every append is done. NULL-safe. */
void lmtp_message_free(struct lmtp_message *msg);

/* Appends msg to one of u's mailboxes and returns once the append is
 * durable. mailbox NULL means INBOX. When mailbox is not an existing,
 * selectable mailbox: INBOX if fallback_inbox, else NONEXISTENT.
 * *mailbox_r (may be NULL) is the mailbox used (mailbox or "INBOX");
 * *uid_r (may be NULL) the new UID. Other errors are the store's
 * (INUSE, OVERQUOTA once quotas exist, INTERNAL, ...). */
enum store_error lmtp_deliver_store(struct store_user *u, const char *mailbox,
				    bool fallback_inbox, const struct lmtp_message *msg,
				    const char **mailbox_r, uint32_t *uid_r,
				    const char **error_r);

#endif
