#include "imap/imap-commands.h"
#include "imap/imap-mailbox-name.h"
#include "imap/imap-parser.h"
#include "store/store.h"

/* subscribe = "SUBSCRIBE" SP mailbox   (RFC 9051 9)
 * RFC 9051 6.3.7: the name is added to the subscription list whether or not
 * a mailbox of that name exists (it need not: a name can be subscribed
 * before it is created or after it is deleted). Subscribing twice is OK. */
enum imap_cmd_result cmd_subscribe(struct imap_cmd *cmd)
{
	if (cmd->arg_count != 1) {
		imap_cmd_bad(cmd, NULL, "SUBSCRIBE needs one mailbox name");
		return IMAP_CMD_DONE;
	}
	const char *name, *error = NULL;
	if (!imap_mailbox_name_read(cmd, &cmd->args[0], IMAP_MAILBOX_NAME_NEW, &name))
		return IMAP_CMD_DONE;
	struct store_user *u = imap_session_store(cmd->session, &error);
	if (u == NULL) {
		imap_mailbox_answer_store_error(cmd, STORE_ERR_INTERNAL, error);
		return IMAP_CMD_DONE;
	}
	enum store_error err = store_mailbox_subscribe(u, name, true, &error);
	if (err != STORE_OK) {
		imap_mailbox_answer_store_error(cmd, err, error);
		return IMAP_CMD_DONE;
	}
	imap_cmd_ok(cmd, NULL, "SUBSCRIBE completed");
	return IMAP_CMD_DONE;
}
