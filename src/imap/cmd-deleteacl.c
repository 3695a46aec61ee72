#include "imap/imap-access.h"
#include "imap/imap-acl.h"
#include "imap/imap-commands.h"
#include "imap/imap-mailbox-name.h"
#include "imap/imap-parser.h"

/* deleteacl = "DELETEACL" SP mailbox SP identifier   (RFC 4314 §3.2)
 * Removes the identifier's entry (also a negative one, "-fred"), whether
 * or not there is one. Needs "a". */
enum imap_cmd_result cmd_deleteacl(struct imap_cmd *cmd)
{
	const char *full, *identifier;
	if (cmd->arg_count != 2) {
		imap_cmd_bad(cmd, NULL, "DELETEACL takes a mailbox and an identifier");
		return IMAP_CMD_DONE;
	}
	if (!imap_acl_read_identifier(cmd, &cmd->args[1], &identifier) ||
	    !imap_mailbox_name_read(cmd, &cmd->args[0], IMAP_MAILBOX_NAME_EXISTING, &full))
		return IMAP_CMD_DONE;
	struct imap_mailbox mb;
	if (!imap_acl_access(cmd, full, STORE_RIGHT_ADMIN, &mb))
		return IMAP_CMD_DONE;
	if (imap_acl_names_owner(&mb, identifier)) {
		imap_cmd_no(cmd, "CANNOT", "The owner always has every right");
		return IMAP_CMD_DONE;
	}
	const char *error;
	enum store_error err = store_acl_delete(mb.store, mb.ref.name, identifier, &error);
	if (err != STORE_OK) {
		imap_mailbox_answer_store_error(cmd, err, error);
		return IMAP_CMD_DONE;
	}
	imap_cmd_ok(cmd, NULL, "DELETEACL completed");
	return IMAP_CMD_DONE;
}
