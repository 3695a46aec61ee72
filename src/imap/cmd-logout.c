#include "imap/imap-commands.h"

/* "LOGOUT" (RFC 9051 §6.1.3): untagged BYE, then the tagged OK, then the
 * server closes the connection. */
enum imap_cmd_result cmd_logout(struct imap_cmd *cmd)
{
	if (cmd->arg_count != 0) {
		imap_cmd_bad(cmd, NULL, "LOGOUT takes no arguments");
		return IMAP_CMD_DONE;
	}
	imap_send_untagged(cmd->session, "BYE Logging out");
	cmd->session->state = IMAP_STATE_LOGOUT;
	imap_cmd_ok(cmd, NULL, "LOGOUT completed");
	return IMAP_CMD_DONE;
}
