#include "imap/imap-commands.h"

/* "NOOP" (RFC 9051 §6.1.2): does nothing but lets pending untagged updates
 * for the selected mailbox be sent, which the session does after every
 * command. */
enum imap_cmd_result cmd_noop(struct imap_cmd *cmd)
{
	if (cmd->arg_count != 0) {
		imap_cmd_bad(cmd, NULL, "NOOP takes no arguments");
		return IMAP_CMD_DONE;
	}
	imap_cmd_ok(cmd, NULL, "NOOP completed");
	return IMAP_CMD_DONE;
}
