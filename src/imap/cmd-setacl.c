#include "imap/imap-access.h"
#include "imap/imap-acl.h"
#include "imap/imap-commands.h"
#include "imap/imap-mailbox-name.h"
#include "imap/imap-parser.h"

#include <string.h>

/* The identifier's stored rights (0 when it has no entry). */
static bool setacl_current(struct imap_cmd *cmd, const struct imap_mailbox *mb,
			   const char *identifier, unsigned *rights_r)
{
	struct store_acl_entry *entries;
	size_t count;
	const char *error;
	enum store_error err = store_acl_get(mb->store, mb->ref.name, cmd->arena, &entries, &count,
					     &error);
	if (err != STORE_OK) {
		imap_mailbox_answer_store_error(cmd, err, error);
		return false;
	}
	*rights_r = 0;
	for (size_t i = 0; i < count; i++) {
		if (strcmp(entries[i].identifier, identifier) == 0)
			*rights_r = entries[i].rights;
	}
	return true;
}

/* setacl = "SETACL" SP mailbox SP identifier SP mod-rights   (RFC 4314 §3.1)
 * mod-rights = astring: "+" adds, "-" removes, otherwise replaces. An
 * unknown right is BAD, never ignored. Needs "a". */
enum imap_cmd_result cmd_setacl(struct imap_cmd *cmd)
{
	const char *full, *identifier, *mod;
	size_t mod_len;
	if (cmd->arg_count != 3 || !imap_arg_get_astring(&cmd->args[2], &mod, &mod_len)) {
		imap_cmd_bad(cmd, NULL, "SETACL takes a mailbox, an identifier and rights");
		return IMAP_CMD_DONE;
	}
	unsigned ignored;
	char bad = '\0';
	if (strlen(mod) != mod_len || !store_rights_apply(mod, 0, &ignored, &bad)) {
		imap_cmd_bad(cmd, NULL, "Unknown right \"%c\"", bad >= 0x21 && bad < 0x7f ? bad : '?');
		return IMAP_CMD_DONE;
	}
	if (!imap_acl_read_identifier(cmd, &cmd->args[1], &identifier) ||
	    !imap_mailbox_name_read(cmd, &cmd->args[0], IMAP_MAILBOX_NAME_EXISTING, &full))
		return IMAP_CMD_DONE;
	struct imap_mailbox mb;
	if (!imap_acl_access(cmd, full, STORE_RIGHT_ADMIN, &mb))
		return IMAP_CMD_DONE;
	const char *owner_id = identifier[0] == '-' ? identifier + 1 : identifier;
	if (imap_acl_names_owner(&mb, owner_id)) {
		imap_cmd_no(cmd, "CANNOT", "The owner always has every right");
		return IMAP_CMD_DONE;
	}
	unsigned current, rights;
	if (!setacl_current(cmd, &mb, identifier, &current))
		return IMAP_CMD_DONE;
	store_rights_apply(mod, current, &rights, NULL);
	const char *error;
	enum store_error err = store_acl_set(mb.store, mb.ref.name, identifier, rights, &error);
	if (err != STORE_OK) {
		imap_mailbox_answer_store_error(cmd, err, error);
		return IMAP_CMD_DONE;
	}
	imap_cmd_ok(cmd, NULL, "SETACL completed");
	return IMAP_CMD_DONE;
}
