#ifndef PETREL_IMAP_LIST_SHARED_H
#define PETREL_IMAP_LIST_SHARED_H

/* What LIST shows outside the personal namespace: other users' mailboxes
 * and public folders on which the session has the "l" right (RFC 4314 §4),
 * under their client names, and the namespace nodes above them ("Other
 * Users", "Other Users/<owner>", "Public Folders"; \Noselect; a root with
 * nothing visible below it only when a pattern names it, so that clients
 * of a server without sharing see no empty folders). Only what
 * is visible counts: a mailbox whose parent is invisible is listed without
 * it, and \HasChildren says whether a visible child exists. Shared
 * mailboxes carry no SPECIAL-USE (another user's \Sent is not ours) and
 * no subscription (the session's own list decides). */

#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>

struct imap_cmd;

struct imap_shared_box {
	struct store_mailbox_info info; /* info.name: the client name */
	unsigned rights;                /* 0 for a namespace node */
};

/* The shared boxes and nodes, sorted by name, from cmd->arena, for the
 * canonical LIST patterns given. */
enum store_error imap_list_shared(struct imap_cmd *cmd, const char *const *patterns,
				  size_t pattern_count, struct imap_shared_box **boxes_r,
				  size_t *count_r, const char **error_r);

/* Could a canonical LIST pattern match a name outside the personal
 * namespace? (Avoids opening other stores for "INBOX/%" and the like.) */
bool imap_list_shared_wanted(const char *const *patterns, size_t count);

#endif
