#include "imap/imap-commands.h"
#include "imap/imap-mailbox-name.h"
#include "imap/imap-selected.h"

/* "CLOSE" (RFC 9051 §6.4.1): expunges \Deleted messages when the mailbox is
 * read-write (and the "e" right is there), sends no EXPUNGE responses, and
 * leaves the selected state. */
enum imap_cmd_result cmd_close(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	if (cmd->arg_count != 0) {
		imap_cmd_bad(cmd, NULL, "CLOSE takes no arguments");
		return IMAP_CMD_DONE;
	}
	const char *error;
	struct store_user *u = imap_selected_store(s, &error);
	/* RFC 4314 §4: without "e" the expunge is skipped, not refused. */
	if (!s->selected->readonly && (s->selected->rights & STORE_RIGHT_EXPUNGE)) {
		uint32_t *uids;
		size_t count;
		enum store_error err = u == NULL ? STORE_ERR_INTERNAL
					 : store_msg_expunge(u, s->selected->mailbox_id, NULL, 0,
							     cmd->arena, &uids, &count, &error);
		if (err != STORE_OK && err != STORE_ERR_NONEXISTENT) {
			imap_mailbox_answer_store_error(cmd, err, error);
			return IMAP_CMD_DONE;
		}
	}
	cmd->no_sync = true;
	imap_session_unselect(s);
	imap_cmd_ok(cmd, NULL, "CLOSE completed");
	return IMAP_CMD_DONE;
}
