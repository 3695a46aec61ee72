#include "imap/imap-access.h"
#include "imap/imap-commands.h"
#include "imap/imap-mailbox-name.h"
#include "imap/imap-parser.h"
#include "store/store.h"

#include <stdbool.h>

/* Special uses this server cannot give a mailbox: \All and \Flagged are
 * virtual views (RFC 6154 2), which the store does not provide. */
#define CREATE_USE_UNSUPPORTED (STORE_SPECIAL_ALL | STORE_SPECIAL_FLAGGED)

enum create_parse {
	CREATE_PARSE_OK,
	CREATE_PARSE_BAD,     /* syntax: BAD */
	CREATE_PARSE_USEATTR, /* a use-attr we cannot honour: NO [USEATTR] */
};

/* "USE" SP "(" [use-attr *(SP use-attr)] ")"      (RFC 6154 6)
 * use-attr = "\All" / "\Archive" / "\Drafts" / "\Flagged" / "\Junk" /
 *            "\Sent" / "\Trash" / use-attr-ext
 * use-attr-ext = "\" atom */
static enum create_parse create_parse_use(const struct imap_arg *arg,
					  unsigned *special_use_r,
					  const char **error_r)
{
	const struct imap_arg *list;
	size_t count;
	if (!imap_arg_get_list(arg, &list, &count)) {
		*error_r = "USE needs a parenthesised list of special uses";
		return CREATE_PARSE_BAD;
	}
	for (size_t i = 0; i < count; i++) {
		const char *atom;
		unsigned bit;
		if (!imap_arg_get_atom(&list[i], &atom) || atom[0] != '\\' ||
		    atom[1] == '\0') {
			*error_r = "A special use is a backslash and an atom";
			return CREATE_PARSE_BAD;
		}
		if (!store_special_use_parse(atom, &bit) ||
		    (bit & CREATE_USE_UNSUPPORTED) != 0) {
			*error_r = "Special use not supported";
			return CREATE_PARSE_USEATTR;
		}
		*special_use_r |= bit;
	}
	return CREATE_PARSE_OK;
}

/* create-params = SP "(" create-param *(SP create-param) ")"  (RFC 4466 2.2)
 * create-param  = create-param-name [SP create-param-value]
 * The only parameter known is USE (RFC 6154 3); any other is BAD
 * (RFC 4466 2.2: unknown parameters must be rejected). */
static enum create_parse create_parse_params(const struct imap_arg *arg,
					     unsigned *special_use_r,
					     const char **error_r)
{
	const struct imap_arg *list;
	size_t count;
	if (!imap_arg_get_list(arg, &list, &count) || count == 0) {
		*error_r = "CREATE parameters must be a non-empty list";
		return CREATE_PARSE_BAD;
	}
	bool have_use = false;
	for (size_t i = 0; i < count; i++) {
		if (!imap_arg_atom_equals(&list[i], "USE") || have_use ||
		    i + 1 == count) {
			*error_r = "Unknown or repeated CREATE parameter";
			return CREATE_PARSE_BAD;
		}
		have_use = true;
		enum create_parse r = create_parse_use(&list[++i], special_use_r,
						       error_r);
		if (r != CREATE_PARSE_OK)
			return r;
	}
	return CREATE_PARSE_OK;
}

/* create = "CREATE" SP mailbox [create-params]   (RFC 4466 2.2)
 * RFC 9051 6.3.4: OK only if a new mailbox was made; INBOX and existing
 * names are NO [ALREADYEXISTS]; missing superior levels are made too; a
 * trailing delimiter is dropped (imap-mailbox-name.h). */
enum imap_cmd_result cmd_create(struct imap_cmd *cmd)
{
	if (cmd->arg_count < 1 || cmd->arg_count > 2) {
		imap_cmd_bad(cmd, NULL, "CREATE needs a mailbox name and optional parameters");
		return IMAP_CMD_DONE;
	}
	unsigned special_use = 0;
	const char *error = NULL;
	if (cmd->arg_count == 2) {
		enum create_parse r = create_parse_params(&cmd->args[1],
							  &special_use, &error);
		if (r == CREATE_PARSE_BAD) {
			imap_cmd_bad(cmd, NULL, "%s", error);
			return IMAP_CMD_DONE;
		}
		if (r == CREATE_PARSE_USEATTR) {
			imap_cmd_no(cmd, "USEATTR", "%s", error);
			return IMAP_CMD_DONE;
		}
	}
	const char *name;
	struct imap_mailbox mb;
	if (!imap_mailbox_name_read(cmd, &cmd->args[0], IMAP_MAILBOX_NAME_NEW, &name) ||
	    !imap_mailbox_create_access(cmd, name, &mb))
		return IMAP_CMD_DONE;
	enum store_error err = store_mailbox_create(mb.store, mb.ref.name, special_use, NULL,
						    &error);
	if (err != STORE_OK) {
		imap_mailbox_answer_store_error(cmd, err, error);
		return IMAP_CMD_DONE;
	}
	imap_cmd_ok(cmd, NULL, "CREATE completed");
	return IMAP_CMD_DONE;
}
