#include "imap/imap-access.h"
#include "imap/imap-commands.h"
#include "imap/imap-mailbox-name.h"
#include "imap/imap-parser.h"
#include "lib/buf.h"
#include "mime/mime-imapstr.h"
#include "store/store.h"

#include <string.h>

/* getquotaroot = "GETQUOTAROOT" SP mailbox     (RFC 9208 7)
 * quotaroot-response = "QUOTAROOT" SP mailbox *(SP quota-root-name)
 * Every mailbox of the user, existing or not yet created (RFC 9208 4.1.2),
 * is under the user's one quota root ""; public folders are under "Public
 * Folders"; other users' mailboxes count against their owner's quota,
 * which is not the session's to see, so no root is named for them. */
enum imap_cmd_result cmd_getquotaroot(struct imap_cmd *cmd)
{
	const char *mailbox;
	if (cmd->arg_count != 1) {
		imap_cmd_bad(cmd, NULL, "GETQUOTAROOT expects a mailbox name");
		return IMAP_CMD_DONE;
	}
	if (!imap_mailbox_name_read(cmd, &cmd->args[0], IMAP_MAILBOX_NAME_EXISTING, &mailbox))
		return IMAP_CMD_DONE;
	struct imap_mailbox mb;
	struct imap_mailbox_ref ref;
	imap_namespace_split(mailbox, cmd->session->user, cmd->arena, &ref);
	/* Shared names must be visible (imap-access.h); personal ones need
	 * not exist yet. */
	if (ref.ns != IMAP_NS_PERSONAL && !imap_mailbox_access(cmd, mailbox, 0, &mb))
		return IMAP_CMD_DONE;
	const char *root = ref.ns == IMAP_NS_PERSONAL ? "" :
		ref.ns == IMAP_NS_PUBLIC ? IMAP_NS_PUBLIC_ROOT : NULL;
	struct store_quota q;
	if (root != NULL && !cmd_quota_get(cmd, ref.owner, &q))
		return IMAP_CMD_DONE;
	struct buf line = BUF_INIT;
	buf_append_str(&line, "* QUOTAROOT ");
	imap_mailbox_name_append(&line, mailbox, imap_mailbox_utf8(cmd->session));
	if (root != NULL) {
		buf_append_char(&line, ' ');
		mime_imapstr_append_astring(&line, root, strlen(root));
	}
	buf_append_str(&line, "\r\n");
	imap_send_raw(cmd->session, line.data, line.len);
	buf_free(&line);
	if (root != NULL)
		cmd_quota_send(cmd, root, &q);
	imap_cmd_ok(cmd, NULL, "GETQUOTAROOT completed");
	return IMAP_CMD_DONE;
}
