#include "imap/imap-commands.h"
#include "imap/imap-mailbox-name.h"
#include "imap/imap-parser.h"
#include "store/store.h"

/* unsubscribe = "UNSUBSCRIBE" SP mailbox   (RFC 9051 9)
 * RFC 9051 6.3.8: the name is removed from the subscription list whether
 * or not the mailbox exists; removing a name that is not subscribed is
 * OK (the list ends up as asked). */
enum imap_cmd_result cmd_unsubscribe(struct imap_cmd *cmd)
{
	if (cmd->arg_count != 1) {
		imap_cmd_bad(cmd, NULL, "UNSUBSCRIBE needs one mailbox name");
		return IMAP_CMD_DONE;
	}
	const char *name, *error = NULL;
	if (!imap_mailbox_name_read(cmd, &cmd->args[0], IMAP_MAILBOX_NAME_EXISTING, &name))
		return IMAP_CMD_DONE;
	struct store_user *u = imap_session_store(cmd->session, &error);
	if (u == NULL) {
		imap_mailbox_answer_store_error(cmd, STORE_ERR_INTERNAL, error);
		return IMAP_CMD_DONE;
	}
	enum store_error err = store_mailbox_subscribe(u, name, false, &error);
	if (err != STORE_OK) {
		imap_mailbox_answer_store_error(cmd, err, error);
		return IMAP_CMD_DONE;
	}
	imap_cmd_ok(cmd, NULL, "UNSUBSCRIBE completed");
	return IMAP_CMD_DONE;
}
