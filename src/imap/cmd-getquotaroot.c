#include "imap/imap-commands.h"
#include "imap/imap-mailbox-name.h"
#include "imap/imap-parser.h"
#include "lib/buf.h"
#include "store/store.h"

/* getquotaroot = "GETQUOTAROOT" SP mailbox     (RFC 9208 7)
 * quotaroot-response = "QUOTAROOT" SP mailbox *(SP quota-root-name)
 * Every mailbox of the user, existing or not yet created (RFC 9208 4.1.2),
 * is under the user's one quota root "". */
enum imap_cmd_result cmd_getquotaroot(struct imap_cmd *cmd)
{
	const char *mailbox;
	if (cmd->arg_count != 1) {
		imap_cmd_bad(cmd, NULL, "GETQUOTAROOT expects a mailbox name");
		return IMAP_CMD_DONE;
	}
	if (!imap_mailbox_name_read(cmd, &cmd->args[0], IMAP_MAILBOX_NAME_EXISTING, &mailbox))
		return IMAP_CMD_DONE;
	struct store_quota q;
	if (!cmd_quota_get(cmd, &q))
		return IMAP_CMD_DONE;
	struct buf line = BUF_INIT;
	buf_append_str(&line, "* QUOTAROOT ");
	imap_mailbox_name_append(&line, mailbox, imap_mailbox_utf8(cmd->session));
	buf_append_str(&line, " \"\"\r\n");
	imap_send_raw(cmd->session, line.data, line.len);
	buf_free(&line);
	cmd_quota_send(cmd, &q);
	imap_cmd_ok(cmd, NULL, "GETQUOTAROOT completed");
	return IMAP_CMD_DONE;
}
