#include "imap/imap-access.h"
#include "imap/imap-acl.h"
#include "imap/imap-commands.h"
#include "imap/imap-mailbox-name.h"
#include "imap/imap-parser.h"
#include "lib/buf.h"
#include "mime/mime-imapstr.h"

#include <string.h>

/* listrights = "LISTRIGHTS" SP mailbox SP identifier   (RFC 4314 §3.4)
 * listrights-data = "LISTRIGHTS" SP mailbox SP identifier SP rights
 *                   *(SP rights)
 * The owner is always granted every right (required, nothing optional).
 * Anyone else is granted nothing by force and may be given each right
 * alone: no rights are tied, and "c" and "d" are listed by themselves
 * (§2.1.1). The identifier is echoed as the client sent it. Needs "a". */
enum imap_cmd_result cmd_listrights(struct imap_cmd *cmd)
{
	const char *full, *identifier;
	if (cmd->arg_count != 2) {
		imap_cmd_bad(cmd, NULL, "LISTRIGHTS takes a mailbox and an identifier");
		return IMAP_CMD_DONE;
	}
	if (!imap_acl_read_identifier(cmd, &cmd->args[1], &identifier) ||
	    !imap_mailbox_name_read(cmd, &cmd->args[0], IMAP_MAILBOX_NAME_EXISTING, &full))
		return IMAP_CMD_DONE;
	struct imap_mailbox mb;
	if (!imap_acl_access(cmd, full, STORE_RIGHT_ADMIN, &mb))
		return IMAP_CMD_DONE;
	struct buf out = BUF_INIT;
	imap_acl_response_start(cmd, &out, "LISTRIGHTS", &mb);
	buf_append_char(&out, ' ');
	mime_imapstr_append_astring(&out, identifier, strlen(identifier));
	if (imap_acl_names_owner(&mb, identifier)) {
		buf_append_str(&out, " " STORE_RIGHTS_CHARS);
	} else {
		buf_append_str(&out, " \"\"");
		for (const char *p = STORE_RIGHTS_CHARS "cd"; *p != '\0'; p++) {
			buf_append_char(&out, ' ');
			buf_append_char(&out, *p);
		}
	}
	imap_send_untagged(cmd->session, "%s", buf_cstr(&out));
	buf_free(&out);
	imap_cmd_ok(cmd, NULL, "LISTRIGHTS completed");
	return IMAP_CMD_DONE;
}
