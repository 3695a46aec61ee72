#include "imap/imap-commands.h"

/* capability = "CAPABILITY" (RFC 9051 §6.1.1) */
enum imap_cmd_result cmd_capability(struct imap_cmd *cmd)
{
	if (cmd->arg_count != 0) {
		imap_cmd_bad(cmd, NULL, "CAPABILITY takes no arguments");
		return IMAP_CMD_DONE;
	}
	struct buf line = BUF_INIT;
	buf_append_str(&line, "CAPABILITY ");
	imap_capability_append(cmd->session, &line);
	imap_send_untagged(cmd->session, "%s", buf_cstr(&line));
	buf_free(&line);
	imap_cmd_ok(cmd, NULL, "CAPABILITY completed");
	return IMAP_CMD_DONE;
}
