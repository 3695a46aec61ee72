#include "imap/imap-commands.h"

/* "CHECK" (RFC 3501 §6.4.1): every change is already durable when its
 * command completes, so CHECK is a sync point only: pending updates go out
 * before the tagged OK like after any command. */
enum imap_cmd_result cmd_check(struct imap_cmd *cmd)
{
	if (cmd->arg_count != 0) {
		imap_cmd_bad(cmd, NULL, "CHECK takes no arguments");
		return IMAP_CMD_DONE;
	}
	imap_cmd_ok(cmd, NULL, "CHECK completed");
	return IMAP_CMD_DONE;
}
