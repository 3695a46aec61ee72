#ifndef PETREL_IMAP_STATUS_H
#define PETREL_IMAP_STATUS_H

/* STATUS data items, shared by the STATUS command (RFC 9051 6.3.11) and
 * the STATUS return option of LIST (RFC 5819). */

#include <stdbool.h>
#include <stddef.h>

struct imap_arg;
struct imap_session;
struct store_mailbox_status;

enum imap_status_item {
	IMAP_STATUS_MESSAGES,
	IMAP_STATUS_RECENT,        /* RFC 3501 */
	IMAP_STATUS_UIDNEXT,
	IMAP_STATUS_UIDVALIDITY,
	IMAP_STATUS_UNSEEN,
	IMAP_STATUS_DELETED,       /* RFC 9051 */
	IMAP_STATUS_SIZE,          /* RFC 8438 */
	IMAP_STATUS_HIGHESTMODSEQ, /* RFC 7162 3.1.6 */
	IMAP_STATUS_APPENDLIMIT,   /* RFC 7889 */
	IMAP_STATUS_DELETED_STORAGE, /* RFC 9208 4.1.4 */
	IMAP_STATUS_ITEM_COUNT
};

/* The items asked for, each once, in the order first asked. */
struct imap_status_items {
	enum imap_status_item items[IMAP_STATUS_ITEM_COUNT];
	size_t count;
};

/* "(" status-att *(SP status-att) ")"   (RFC 9051 9)
 * status-att = "MESSAGES" / "UIDNEXT" / "UIDVALIDITY" / "UNSEEN" /
 *              "DELETED" / "SIZE" / "RECENT" / "HIGHESTMODSEQ" /
 *              "APPENDLIMIT" / "DELETED-STORAGE"
 * arg must be a non-empty list of those atoms (any case); a repeated item
 * counts once. False with *error_r (static, safe to send) otherwise. */
bool imap_status_items_parse(const struct imap_arg *arg,
			     struct imap_status_items *items_r,
			     const char **error_r);

/* Sends "* STATUS <mailbox> (<item> <value> ...)" for the store name. */
void imap_status_send(struct imap_session *s, const char *name,
		      const struct store_mailbox_status *status,
		      const struct imap_status_items *items);

#endif
