#include "imap/imap-access.h"
#include "imap/imap-capability.h"
#include "imap/imap-commands.h"
#include "imap/imap-mailbox-name.h"
#include "imap/imap-parser.h"
#include "imap/imap-status.h"
#include "store/store.h"

/* status = "STATUS" SP mailbox SP "(" status-att *(SP status-att) ")"
 * (RFC 9051 9; items in imap-status.h)
 * A missing or \Noselect mailbox is NO [NONEXISTENT]: it has no status. */
enum imap_cmd_result cmd_status(struct imap_cmd *cmd)
{
	if (cmd->arg_count != 2) {
		imap_cmd_bad(cmd, NULL, "STATUS needs a mailbox name and a list of items");
		return IMAP_CMD_DONE;
	}
	struct imap_status_items items;
	const char *name, *error = NULL;
	if (!imap_status_items_parse(&cmd->args[1], &items, &error) ||
	    !imap_capability_status_items_offered(cmd->session, &items, &error)) {
		imap_cmd_bad(cmd, NULL, "%s", error);
		return IMAP_CMD_DONE;
	}
	struct imap_mailbox mb;
	if (!imap_mailbox_read_access(cmd, &cmd->args[0], STORE_RIGHT_READ, &mb))
		return IMAP_CMD_DONE;
	name = mb.full;
	struct store_mailbox_status status;
	enum store_error err = store_mailbox_status(mb.store, mb.ref.name, &status, &error);
	if (err == STORE_OK && status.noselect) {
		imap_cmd_no(cmd, "NONEXISTENT", "Mailbox is not selectable");
		return IMAP_CMD_DONE;
	}
	if (err != STORE_OK) {
		imap_mailbox_answer_store_error(cmd, err, error);
		return IMAP_CMD_DONE;
	}
	imap_status_send(cmd->session, name, &status, &items);
	imap_cmd_ok(cmd, NULL, "STATUS completed");
	return IMAP_CMD_DONE;
}
