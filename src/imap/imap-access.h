#ifndef PETREL_IMAP_ACCESS_H
#define PETREL_IMAP_ACCESS_H

/* Which store holds a client's mailbox name, and what the session may do
 * there (RFC 4314). Every command that names a mailbox comes through here,
 * so the rights are checked in one place and answered the same way:
 *   - a mailbox of another user or a public folder on which the session
 *     has none of the rights that make it visible (l r i k x a) answers
 *     exactly like one that does not exist: NO [NONEXISTENT] (RFC 4314 §6);
 *   - a visible mailbox without the right needed: NO [NOPERM];
 *   - a namespace node ("Other Users", "Other Users/bob", "Public
 *     Folders"): NO [CANNOT].
 * The owner of a personal store has every right on it. */

#include "imap/imap-namespace.h"
#include "store/store.h"

#include <stdbool.h>

struct imap_arg;
struct imap_cmd;
struct imap_session;

/* The rights that make a mailbox visible (RFC 4314 §4, "Any"). */
#define IMAP_RIGHTS_VISIBLE                                                          \
	(STORE_RIGHT_LOOKUP | STORE_RIGHT_READ | STORE_RIGHT_INSERT | STORE_RIGHT_CREATE | \
	 STORE_RIGHT_DELETE_MB | STORE_RIGHT_ADMIN)

struct imap_mailbox {
	struct imap_mailbox_ref ref;
	const char *full;          /* the client's name, UTF-8 */
	struct store_user *store;  /* valid for the current command step */
	unsigned rights;           /* the session's rights (STORE_RIGHT_*) */
};

/* The session's identity for ACL evaluation (user and groups). */
void imap_session_identity(const struct imap_session *s, struct store_identity *who_r);

/* The store of owner (the session user, another user, or
 * STORE_PUBLIC_OWNER) from the worker's cache, with the session user as
 * its \Seen viewer. Valid for the current command step. NULL, with
 * *error_r, when it cannot be opened. */
struct store_user *imap_session_store_of(struct imap_session *s, const char *owner,
					 const char **error_r);

/* Resolves full (a decoded client name) to an existing mailbox on which
 * the session has every right in need. On failure answers the command as
 * described above and returns false. In the personal namespace the
 * mailbox's existence is left to the store call that follows. */
bool imap_mailbox_access(struct imap_cmd *cmd, const char *full, unsigned need,
			 struct imap_mailbox *mb_r);

/* imap_mailbox_name_read (existing name) followed by imap_mailbox_access. */
bool imap_mailbox_read_access(struct imap_cmd *cmd, const struct imap_arg *arg, unsigned need,
			      struct imap_mailbox *mb_r);

/* For a name about to be made (CREATE, RENAME target): resolves full and
 * checks the "k" right on its nearest existing superior (RFC 4314 §4).
 * Personal names hiding a namespace are refused (NO [CANNOT]). Top-level
 * names in another user's or the public namespace have no superior: only
 * their owner or the administrator makes them (NO [NOPERM]). */
bool imap_mailbox_create_access(struct imap_cmd *cmd, const char *full,
				struct imap_mailbox *mb_r);

/* Answers NO [NOPERM] naming the first right of need that is missing. */
void imap_mailbox_answer_noperm(struct imap_cmd *cmd, unsigned need, unsigned rights);

#endif
