#include "imap/imap-commands.h"

/* "UNSELECT" (RFC 3691): leaves the selected state without expunging. */
enum imap_cmd_result cmd_unselect(struct imap_cmd *cmd)
{
	if (cmd->arg_count != 0) {
		imap_cmd_bad(cmd, NULL, "UNSELECT takes no arguments");
		return IMAP_CMD_DONE;
	}
	imap_session_unselect(cmd->session);
	imap_cmd_ok(cmd, NULL, "UNSELECT completed");
	return IMAP_CMD_DONE;
}
