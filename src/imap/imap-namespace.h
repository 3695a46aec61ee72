#ifndef PETREL_IMAP_NAMESPACE_H
#define PETREL_IMAP_NAMESPACE_H

/* Namespaces (RFC 2342) and where a client's mailbox name lives:
 *   personal        ""                 the user's own store
 *   other users     "Other Users/"     "Other Users/bob/Projects" is
 *                                      "Projects" in bob's store
 *   public folders  "Public Folders/"  "Public Folders/News" is "News" in
 *                                      the public store (STORE_PUBLIC_OWNER)
 * "Other Users", "Other Users/bob" and "Public Folders" are namespace nodes:
 * they appear in LIST as \Noselect but are not mailboxes of any store.
 * Names here are UTF-8 store names (after imap_mailbox_name_decode). */

#include <stdbool.h>

struct arena;

#define IMAP_NS_OTHER_USERS_ROOT "Other Users"
#define IMAP_NS_PUBLIC_ROOT "Public Folders"

enum imap_ns {
	IMAP_NS_PERSONAL,
	IMAP_NS_OTHER_USERS,
	IMAP_NS_PUBLIC,
};

struct imap_mailbox_ref {
	enum imap_ns ns;
	/* The store holding the mailbox: the session user, another user, or
	 * STORE_PUBLIC_OWNER. NULL for the "Other Users" node. */
	const char *owner;
	/* The name inside that store; NULL for a namespace node. */
	const char *name;
};

/* Where full (a client name, UTF-8, normalised) lives for user. Strings
 * from a or pointing into full. */
void imap_namespace_split(const char *full, const char *user, struct arena *a,
			  struct imap_mailbox_ref *ref_r);

/* The client name of name in owner's store as user sees it (from a). */
const char *imap_namespace_join(struct arena *a, const char *user, const char *owner,
				const char *name);

/* True for a personal name that would hide a namespace ("Other Users",
 * "Public Folders" and anything below them). */
bool imap_namespace_reserved(const char *name);

#endif
