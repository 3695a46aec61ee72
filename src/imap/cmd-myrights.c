#include "imap/imap-access.h"
#include "imap/imap-acl.h"
#include "imap/imap-commands.h"
#include "imap/imap-mailbox-name.h"
#include "imap/imap-parser.h"
#include "lib/buf.h"

/* myrights = "MYRIGHTS" SP mailbox   (RFC 4314 §3.5)
 * Any of the rights that make the mailbox visible is enough (§4). */
enum imap_cmd_result cmd_myrights(struct imap_cmd *cmd)
{
	struct imap_mailbox mb;
	if (cmd->arg_count != 1) {
		imap_cmd_bad(cmd, NULL, "MYRIGHTS takes a mailbox name");
		return IMAP_CMD_DONE;
	}
	const char *full;
	if (!imap_mailbox_name_read(cmd, &cmd->args[0], IMAP_MAILBOX_NAME_EXISTING, &full) ||
	    !imap_acl_access(cmd, full, 0, &mb))
		return IMAP_CMD_DONE;
	struct buf out = BUF_INIT;
	char letters[14];
	imap_acl_response_start(cmd, &out, "MYRIGHTS", &mb);
	buf_append_char(&out, ' ');
	imap_acl_append_rights(&out, store_rights_format_virtual(mb.rights, letters));
	imap_send_untagged(cmd->session, "%s", buf_cstr(&out));
	buf_free(&out);
	imap_cmd_ok(cmd, NULL, "MYRIGHTS completed");
	return IMAP_CMD_DONE;
}
