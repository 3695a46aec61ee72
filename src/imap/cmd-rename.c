#include "imap/imap-access.h"
#include "imap/imap-commands.h"
#include "imap/imap-mailbox-name.h"
#include "imap/imap-parser.h"
#include "store/store.h"

#include <string.h>

/* rename = "RENAME" SP mailbox SP mailbox   (RFC 9051 9)
 * RFC 9051 6.3.6: inferiors move with the mailbox; renaming INBOX moves
 * its messages to the new name and leaves INBOX empty; a missing source
 * is NO [NONEXISTENT], an existing target NO [ALREADYEXISTS], a target
 * below the source NO [CANNOT]. Missing superiors of the target are
 * made. Subscriptions are not changed. Outside the personal namespace
 * the "x" right on the source and "k" on the target's superior are
 * needed (RFC 4314 §4), and both names must be in the same store. */
enum imap_cmd_result cmd_rename(struct imap_cmd *cmd)
{
	if (cmd->arg_count != 2) {
		imap_cmd_bad(cmd, NULL, "RENAME needs two mailbox names");
		return IMAP_CMD_DONE;
	}
	const char *old_name, *new_name, *error = NULL;
	struct imap_mailbox from, to;
	if (!imap_mailbox_name_read(cmd, &cmd->args[0], IMAP_MAILBOX_NAME_EXISTING,
				    &old_name) ||
	    !imap_mailbox_name_read(cmd, &cmd->args[1], IMAP_MAILBOX_NAME_NEW,
				    &new_name) ||
	    !imap_mailbox_access(cmd, old_name, STORE_RIGHT_DELETE_MB, &from) ||
	    !imap_mailbox_create_access(cmd, new_name, &to))
		return IMAP_CMD_DONE;
	if (strcmp(from.ref.owner, to.ref.owner) != 0) {
		imap_cmd_no(cmd, "CANNOT", "A mailbox cannot move to another owner's namespace");
		return IMAP_CMD_DONE;
	}
	/* The handle of the last access is the one both names live in. */
	enum store_error err = store_mailbox_rename(to.store, from.ref.name, to.ref.name, &error);
	if (err != STORE_OK) {
		imap_mailbox_answer_store_error(cmd, err, error);
		return IMAP_CMD_DONE;
	}
	imap_cmd_ok(cmd, NULL, "RENAME completed");
	return IMAP_CMD_DONE;
}
