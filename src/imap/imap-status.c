#include "imap/imap-status.h"

#include "imap/imap-mailbox-name.h"
#include "imap/imap-parser.h"
#include "imap/imap-session.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "store/store.h"

#include <inttypes.h>
#include <strings.h>

static const char *const imap_status_names[IMAP_STATUS_ITEM_COUNT] = {
	[IMAP_STATUS_MESSAGES] = "MESSAGES",
	[IMAP_STATUS_RECENT] = "RECENT",
	[IMAP_STATUS_UIDNEXT] = "UIDNEXT",
	[IMAP_STATUS_UIDVALIDITY] = "UIDVALIDITY",
	[IMAP_STATUS_UNSEEN] = "UNSEEN",
	[IMAP_STATUS_DELETED] = "DELETED",
	[IMAP_STATUS_SIZE] = "SIZE",
	[IMAP_STATUS_HIGHESTMODSEQ] = "HIGHESTMODSEQ",
	[IMAP_STATUS_APPENDLIMIT] = "APPENDLIMIT",
	[IMAP_STATUS_DELETED_STORAGE] = "DELETED-STORAGE",
};

static bool imap_status_item_lookup(const char *atom,
				    enum imap_status_item *item_r)
{
	for (size_t i = 0; i < IMAP_STATUS_ITEM_COUNT; i++) {
		if (strcasecmp(atom, imap_status_names[i]) == 0) {
			*item_r = (enum imap_status_item)i;
			return true;
		}
	}
	return false;
}

bool imap_status_items_parse(const struct imap_arg *arg,
			     struct imap_status_items *items_r,
			     const char **error_r)
{
	const struct imap_arg *list;
	size_t count;
	if (!imap_arg_get_list(arg, &list, &count) || count == 0) {
		*error_r = "STATUS items must be a non-empty parenthesised list";
		return false;
	}
	bool seen[IMAP_STATUS_ITEM_COUNT] = { false };
	items_r->count = 0;
	for (size_t i = 0; i < count; i++) {
		const char *atom;
		enum imap_status_item item;
		if (!imap_arg_get_atom(&list[i], &atom) ||
		    !imap_status_item_lookup(atom, &item)) {
			*error_r = "Unknown STATUS item";
			return false;
		}
		if (!seen[item]) {
			seen[item] = true;
			items_r->items[items_r->count++] = item;
		}
	}
	return true;
}

static void imap_status_append_value(struct buf *line, struct imap_session *s,
				     const struct store_mailbox_status *st,
				     enum imap_status_item item)
{
	switch (item) {
	case IMAP_STATUS_MESSAGES: buf_printf(line, "%" PRIu32, st->messages); break;
	case IMAP_STATUS_RECENT: buf_printf(line, "%" PRIu32, st->recent); break;
	case IMAP_STATUS_UIDNEXT: buf_printf(line, "%" PRIu32, st->uidnext); break;
	case IMAP_STATUS_UIDVALIDITY: buf_printf(line, "%" PRIu32, st->uidvalidity); break;
	case IMAP_STATUS_UNSEEN: buf_printf(line, "%" PRIu32, st->unseen); break;
	case IMAP_STATUS_DELETED: buf_printf(line, "%" PRIu32, st->deleted); break;
	case IMAP_STATUS_SIZE: buf_printf(line, "%" PRIu64, st->size); break;
	/* RFC 9208 4.1.4: the exact bytes an EXPUNGE would free (octets, as
	 * RFC 9208 7 gives no unit; the sum of RFC822.SIZE it permits). */
	case IMAP_STATUS_DELETED_STORAGE: buf_printf(line, "%" PRIu64, st->deleted_size); break;
	case IMAP_STATUS_HIGHESTMODSEQ: buf_printf(line, "%" PRIu64, st->highestmodseq); break;
	case IMAP_STATUS_APPENDLIMIT:
		/* RFC 7889 4: the limit that applies to this mailbox; one
		 * server-wide value here. */
		buf_printf(line, "%" PRIu64, s->cfg->append_size);
		break;
	case IMAP_STATUS_ITEM_COUNT: break;
	}
}

/* status-response = "STATUS" SP mailbox SP "(" [status-att-list] ")" */
void imap_status_send(struct imap_session *s, const char *name,
		      const struct store_mailbox_status *status,
		      const struct imap_status_items *items)
{
	struct buf line = BUF_INIT;
	buf_append_str(&line, "* STATUS ");
	imap_mailbox_name_append(&line, name, imap_mailbox_utf8(s));
	buf_append_str(&line, " (");
	for (size_t i = 0; i < items->count; i++) {
		if (i > 0)
			buf_append_char(&line, ' ');
		buf_printf(&line, "%s ", imap_status_names[items->items[i]]);
		imap_status_append_value(&line, s, status, items->items[i]);
	}
	buf_append_str(&line, ")\r\n");
	imap_send_raw(s, line.data, line.len);
	buf_free(&line);
}
