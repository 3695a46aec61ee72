#include "imap/imap-commands.h"
#include "imap/imap-mailbox-name.h"
#include "imap/imap-parser.h"
#include "store/store.h"

/* rename = "RENAME" SP mailbox SP mailbox   (RFC 9051 9)
 * RFC 9051 6.3.6: inferiors move with the mailbox; renaming INBOX moves
 * its messages to the new name and leaves INBOX empty; a missing source
 * is NO [NONEXISTENT], an existing target NO [ALREADYEXISTS], a target
 * below the source NO [CANNOT]. Missing superiors of the target are
 * made. Subscriptions are not changed. */
enum imap_cmd_result cmd_rename(struct imap_cmd *cmd)
{
	if (cmd->arg_count != 2) {
		imap_cmd_bad(cmd, NULL, "RENAME needs two mailbox names");
		return IMAP_CMD_DONE;
	}
	const char *old_name, *new_name, *error = NULL;
	if (!imap_mailbox_name_read(cmd, &cmd->args[0], IMAP_MAILBOX_NAME_EXISTING,
				    &old_name) ||
	    !imap_mailbox_name_read(cmd, &cmd->args[1], IMAP_MAILBOX_NAME_NEW,
				    &new_name))
		return IMAP_CMD_DONE;
	struct store_user *u = imap_session_store(cmd->session, &error);
	if (u == NULL) {
		imap_mailbox_answer_store_error(cmd, STORE_ERR_INTERNAL, error);
		return IMAP_CMD_DONE;
	}
	enum store_error err = store_mailbox_rename(u, old_name, new_name, &error);
	if (err != STORE_OK) {
		imap_mailbox_answer_store_error(cmd, err, error);
		return IMAP_CMD_DONE;
	}
	imap_cmd_ok(cmd, NULL, "RENAME completed");
	return IMAP_CMD_DONE;
}
