#include "imap/imap-access.h"
#include "imap/imap-commands.h"
#include "imap/imap-mailbox-name.h"
#include "imap/imap-parser.h"
#include "store/store.h"

/* delete = "DELETE" SP mailbox   (RFC 9051 9)
 * RFC 9051 6.3.4: deleting INBOX or a missing name is an error
 * (NO [CANNOT], NO [NONEXISTENT]); a mailbox with inferiors loses its
 * messages and stays as \Noselect; a \Noselect name with inferiors cannot
 * be deleted (NO [HASCHILDREN], RFC 5530). In another user's store or the
 * public one the "x" right is needed (RFC 4314 §4). Subscriptions are kept. A
 * session that has the mailbox selected learns of it through the store's
 * change notification, like any other session. */
enum imap_cmd_result cmd_delete(struct imap_cmd *cmd)
{
	if (cmd->arg_count != 1) {
		imap_cmd_bad(cmd, NULL, "DELETE needs one mailbox name");
		return IMAP_CMD_DONE;
	}
	const char *error = NULL;
	struct imap_mailbox mb;
	if (!imap_mailbox_read_access(cmd, &cmd->args[0], STORE_RIGHT_DELETE_MB, &mb))
		return IMAP_CMD_DONE;
	enum store_error err = store_mailbox_delete(mb.store, mb.ref.name, &error);
	if (err != STORE_OK) {
		imap_mailbox_answer_store_error(cmd, err, error);
		return IMAP_CMD_DONE;
	}
	imap_cmd_ok(cmd, NULL, "DELETE completed");
	return IMAP_CMD_DONE;
}
