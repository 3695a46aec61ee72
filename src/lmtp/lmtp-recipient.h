#ifndef PETREL_LMTP_RECIPIENT_H
#define PETREL_LMTP_RECIPIENT_H

/* Which Petrel user, and which of their mailboxes, an address stands for.
 *
 * The domain is not checked: Petrel delivers what the MTA routed to it.
 * Candidates are tried in this order, the first existing user wins:
 *   1. local@domain       (user names may be full mail addresses)
 *   2. local
 *   3. base@domain, base  (local = base "+" detail; the detail names the
 *                          mailbox to deliver into, see lmtp_deliver_store)
 * Each name is looked up as given and, failing that, in lower case (user
 * names never differ only in case, see auth/userdb.h). */

#include "auth/userdb.h"

struct arena;
struct lmtp_path;

struct lmtp_recipient {
	const char *user;    /* the Petrel user name as stored */
	const char *detail;  /* NULL, or the mailbox named by +detail */
};

/* USERDB_OK with *rcpt_r filled (strings from a), USERDB_NOT_FOUND,
 * or USERDB_BUSY / USERDB_ERROR with *error_r set (valid until the next
 * call on db). */
enum userdb_result lmtp_recipient_resolve(struct userdb *db, struct arena *a,
					  const struct lmtp_path *path,
					  struct lmtp_recipient *rcpt_r, const char **error_r);

#endif
