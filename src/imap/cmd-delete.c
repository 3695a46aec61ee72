#include "imap/imap-commands.h"
#include "imap/imap-mailbox-name.h"
#include "imap/imap-parser.h"
#include "store/store.h"

/* delete = "DELETE" SP mailbox   (RFC 9051 9)
 * RFC 9051 6.3.4: deleting INBOX or a missing name is an error
 * (NO [CANNOT], NO [NONEXISTENT]); a mailbox with inferiors loses its
 * messages and stays as \Noselect; a \Noselect name with inferiors cannot
 * be deleted (NO [HASCHILDREN], RFC 5530). Subscriptions are kept. A
 * session that has the mailbox selected learns of it through the store's
 * change notification, like any other session. */
enum imap_cmd_result cmd_delete(struct imap_cmd *cmd)
{
	if (cmd->arg_count != 1) {
		imap_cmd_bad(cmd, NULL, "DELETE needs one mailbox name");
		return IMAP_CMD_DONE;
	}
	const char *name, *error = NULL;
	if (!imap_mailbox_name_read(cmd, &cmd->args[0], IMAP_MAILBOX_NAME_EXISTING,
				    &name))
		return IMAP_CMD_DONE;
	struct store_user *u = imap_session_store(cmd->session, &error);
	if (u == NULL) {
		imap_mailbox_answer_store_error(cmd, STORE_ERR_INTERNAL, error);
		return IMAP_CMD_DONE;
	}
	enum store_error err = store_mailbox_delete(u, name, &error);
	if (err != STORE_OK) {
		imap_mailbox_answer_store_error(cmd, err, error);
		return IMAP_CMD_DONE;
	}
	imap_cmd_ok(cmd, NULL, "DELETE completed");
	return IMAP_CMD_DONE;
}
