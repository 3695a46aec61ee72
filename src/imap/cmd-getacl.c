#include "imap/imap-access.h"
#include "imap/imap-acl.h"
#include "imap/imap-commands.h"
#include "imap/imap-mailbox-name.h"
#include "imap/imap-parser.h"
#include "lib/buf.h"
#include "mime/mime-imapstr.h"

#include <string.h>

static void getacl_append_entry(struct buf *out, const char *identifier, unsigned rights)
{
	char letters[14];
	buf_append_char(out, ' ');
	mime_imapstr_append_astring(out, identifier, strlen(identifier));
	buf_append_char(out, ' ');
	imap_acl_append_rights(out, store_rights_format_virtual(rights, letters));
}

/* getacl = "GETACL" SP mailbox   (RFC 4314 §3.3), needs "a".
 * acl-data = "ACL" SP mailbox *(SP identifier SP rights)
 * The owner of a personal mailbox is listed with every right, which it
 * always has; then the stored entries. */
enum imap_cmd_result cmd_getacl(struct imap_cmd *cmd)
{
	struct imap_mailbox mb;
	if (cmd->arg_count != 1) {
		imap_cmd_bad(cmd, NULL, "GETACL takes a mailbox name");
		return IMAP_CMD_DONE;
	}
	const char *full;
	if (!imap_mailbox_name_read(cmd, &cmd->args[0], IMAP_MAILBOX_NAME_EXISTING, &full) ||
	    !imap_acl_access(cmd, full, STORE_RIGHT_ADMIN, &mb))
		return IMAP_CMD_DONE;
	struct store_acl_entry *entries;
	size_t count;
	const char *error;
	enum store_error err = store_acl_get(mb.store, mb.ref.name, cmd->arena, &entries, &count,
					     &error);
	if (err != STORE_OK) {
		imap_mailbox_answer_store_error(cmd, err, error);
		return IMAP_CMD_DONE;
	}
	struct buf out = BUF_INIT;
	imap_acl_response_start(cmd, &out, "ACL", &mb);
	if (mb.ref.ns != IMAP_NS_PUBLIC)
		getacl_append_entry(&out, mb.ref.owner, STORE_RIGHTS_ALL);
	for (size_t i = 0; i < count; i++)
		getacl_append_entry(&out, entries[i].identifier, entries[i].rights);
	imap_send_untagged(cmd->session, "%s", buf_cstr(&out));
	buf_free(&out);
	imap_cmd_ok(cmd, NULL, "GETACL completed");
	return IMAP_CMD_DONE;
}
