/* petrel acl get|set|delete: the access control lists (RFC 4314) of a
 * user's mailboxes and of the public folders, as an administrator sees
 * them (docs/sharing.md). The IMAP commands SETACL, DELETEACL and GETACL
 * change the same lists; the rules (owner rights, mod-rights syntax) are
 * the same here. */

#include "cli/cli.h"
#include "auth/userdb.h"
#include "lib/arena.h"
#include "lib/config.h"
#include "store/store.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

static const char cli_acl_usage[] =
	"Usage: petrel [-c FILE] acl COMMAND (USER | --public) MAILBOX [ARGS]\n"
	"\n"
	"Commands:\n"
	"  get     print a mailbox's access control list\n"
	"  set     grant, change or take away an identifier's rights\n"
	"  delete  remove an identifier's entry\n"
	"\n"
	"USER names the owner of the mailbox; --public means the public folders.\n"
	"MAILBOX is the name inside that store, in UTF-8 (INBOX, Projects/2026),\n"
	"not the name another user sees under \"Other Users/\".\n"
	"Run 'petrel acl COMMAND --help' for details; see docs/sharing.md.\n";

static const char cli_acl_get_usage[] =
	"Usage: petrel [-c FILE] acl get (USER | --public) MAILBOX\n"
	"\n"
	"Prints one line per entry, \"IDENTIFIER RIGHTS\", sorted by identifier.\n"
	"For a user's mailbox the first line is the owner, who always has every\n"
	"right (lrswipkxtea) whatever the list says. Identifiers are user names,\n"
	"\"anyone\", groups as \"$group\", and \"-IDENTIFIER\" for rights taken away.\n"
	"Exit: 0 ok, 64 bad usage, 65 invalid name, 66 no such mailbox,\n"
	"67 no such user, 75 mail store busy.\n";

static const char cli_acl_set_usage[] =
	"Usage: petrel [-c FILE] acl set (USER | --public) MAILBOX IDENTIFIER RIGHTS\n"
	"\n"
	"Changes IDENTIFIER's rights on MAILBOX as IMAP SETACL does (RFC 4314\n"
	"3.1): \"+RIGHTS\" adds, \"-RIGHTS\" takes away, anything else replaces;\n"
	"an empty result removes the entry. Rights: l lookup, r read, s keep\n"
	"\\Seen, w write flags, i insert, p post, k create mailboxes, x delete\n"
	"mailbox, t delete messages, e expunge, a administer; c (= k) and\n"
	"d (= e t) are accepted. IDENTIFIER is a user name, \"anyone\", \"$group\",\n"
	"or one of those after '-' for negative rights, which are subtracted\n"
	"from whatever the other entries give. IDENTIFIER and RIGHTS are taken\n"
	"as they are, even when they start with '-'. The owner of a user's\n"
	"mailbox always has every right and cannot be named.\n"
	"Changes apply from the next command of every running session.\n"
	"Exit: 0 ok, 64 bad usage, 65 invalid identifier or rights, 66 no such\n"
	"mailbox, 67 no such user, 75 mail store busy.\n";

static const char cli_acl_delete_usage[] =
	"Usage: petrel [-c FILE] acl delete (USER | --public) MAILBOX IDENTIFIER\n"
	"\n"
	"Removes IDENTIFIER's entry from MAILBOX's list (as IMAP DELETEACL);\n"
	"removing an entry that is not there is not an error. \"bob\" and \"-bob\"\n"
	"are separate entries.\n"
	"Exit: 0 ok, 64 bad usage, 65 invalid identifier, 66 no such mailbox,\n"
	"67 no such user, 75 mail store busy.\n";

/* What the command line names: an owner (NULL for the public store), a
 * mailbox and up to two more arguments. */
struct cli_acl_args {
	const char *owner;
	const char *mailbox;
	const char *identifier;
	const char *rights;
};

int cli_store_exit_code(enum store_error err)
{
	switch (err) {
	case STORE_OK:
		return 0;
	case STORE_ERR_NONEXISTENT:
		return EX_NOINPUT;
	case STORE_ERR_ALREADYEXISTS:
		return EX_CANTCREAT;
	case STORE_ERR_INVALID:
	case STORE_ERR_CANNOT:
	case STORE_ERR_HASCHILDREN:
		return EX_DATAERR;
	case STORE_ERR_NOPERM:
		return EX_NOPERM;
	case STORE_ERR_INUSE:
		return EX_TEMPFAIL;
	case STORE_ERR_OVERQUOTA:
	case STORE_ERR_TOOBIG:
	case STORE_ERR_LIMIT:
		return EX_CANTCREAT;
	case STORE_ERR_INTERNAL:
		break;
	}
	return EX_SOFTWARE;
}

int cli_user_must_exist(const struct petrel_config *cfg, const char *user, const char *what)
{
	const char *reason;
	if (!userdb_name_valid(user, &reason)) {
		cli_error("%s: invalid user name '%s': %s", what, user, reason);
		return EX_DATAERR;
	}
	struct userdb *db;
	char *db_error;
	bool busy;
	if (!userdb_open(cfg->data_dir, NULL, &db, &db_error, &busy)) {
		cli_error("%s", db_error);
		free(db_error);
		return busy ? EX_TEMPFAIL : EX_CANTCREAT;
	}
	const char *error;
	enum userdb_result r = userdb_exists(db, user, &error);
	if (r == USERDB_NOT_FOUND)
		cli_error("%s: no such user '%s'", what, user);
	else if (r != USERDB_OK)
		cli_error("%s: %s", what, error);
	userdb_close(&db);
	return r == USERDB_OK ? 0 : r == USERDB_NOT_FOUND ? EX_NOUSER
	       : r == USERDB_BUSY ? EX_TEMPFAIL : EX_SOFTWARE;
}

int cli_acl_print(struct store_user *u, const char *mailbox, const char *indent)
{
	struct arena *a = arena_new(0);
	struct store_acl_entry *entries;
	size_t count;
	const char *error;
	enum store_error err = store_acl_get(u, mailbox, a, &entries, &count, &error);
	if (err != STORE_OK) {
		cli_error("ACL of %s: %s", mailbox, error);
		arena_destroy(&a);
		return cli_store_exit_code(err);
	}
	char buf[12];
	/* The owner's rights are implicit (RFC 4314 leaves that to us): show
	 * them, so that the list says who can do what. */
	if (!store_user_is_public(u))
		printf("%s%s %s\n", indent, store_user_name(u),
		       store_rights_format(STORE_RIGHTS_ALL, buf));
	for (size_t i = 0; i < count; i++)
		printf("%s%s %s\n", indent, entries[i].identifier,
		       store_rights_format(entries[i].rights, buf));
	arena_destroy(&a);
	return 0;
}

/* The rights identifier has in mailbox's stored list (0 without an entry). */
static enum store_error cli_acl_current(struct store_user *u, const char *mailbox,
					const char *identifier, unsigned *rights_r,
					const char **error_r)
{
	struct arena *a = arena_new(0);
	struct store_acl_entry *entries;
	size_t count;
	enum store_error err = store_acl_get(u, mailbox, a, &entries, &count, error_r);
	*rights_r = 0;
	for (size_t i = 0; err == STORE_OK && i < count; i++)
		if (strcmp(entries[i].identifier, identifier) == 0)
			*rights_r = entries[i].rights;
	arena_destroy(&a);
	return err;
}

/* Refuses what an ACL entry can never name: an empty identifier (RFC 4314
 * 3: BAD for IMAP), a bare "-", and the owner of a personal mailbox. */
static bool cli_acl_identifier_ok(const struct store_user *u, const char *identifier,
				  const char *what)
{
	if (identifier[0] == '\0' || strcmp(identifier, "-") == 0) {
		cli_error("acl %s: empty identifier", what);
		return false;
	}
	if (!store_user_is_public(u) && strcmp(identifier, store_user_name(u)) == 0) {
		cli_error("acl %s: %s owns the mailbox and always has every right", what,
			  identifier);
		return false;
	}
	return true;
}

static int cli_acl_get(struct store_user *u, const struct cli_acl_args *args)
{
	int ret = cli_acl_print(u, args->mailbox, "");
	if (ret == 0 && fflush(stdout) != 0) {
		cli_error("acl get: cannot write output: %s", strerror(errno));
		return EX_IOERR;
	}
	return ret;
}

static int cli_acl_set(struct store_user *u, const struct cli_acl_args *args)
{
	if (!cli_acl_identifier_ok(u, args->identifier, "set"))
		return EX_DATAERR;
	const char *error;
	unsigned current, rights;
	enum store_error err = cli_acl_current(u, args->mailbox, args->identifier, &current,
					       &error);
	if (err != STORE_OK) {
		cli_error("acl set %s: %s", args->mailbox, error);
		return cli_store_exit_code(err);
	}
	char bad;
	if (!store_rights_apply(args->rights, current, &rights, &bad)) {
		cli_error("acl set: unknown right '%c' in '%s' (rights are %s, c and d)", bad,
			  args->rights, STORE_RIGHTS_CHARS);
		return EX_DATAERR;
	}
	err = store_acl_set(u, args->mailbox, args->identifier, rights, &error);
	if (err != STORE_OK) {
		cli_error("acl set %s %s: %s", args->mailbox, args->identifier, error);
		return cli_store_exit_code(err);
	}
	return 0;
}

static int cli_acl_delete(struct store_user *u, const struct cli_acl_args *args)
{
	if (!cli_acl_identifier_ok(u, args->identifier, "delete"))
		return EX_DATAERR;
	const char *error;
	enum store_error err = store_acl_delete(u, args->mailbox, args->identifier, &error);
	if (err != STORE_OK) {
		cli_error("acl delete %s %s: %s", args->mailbox, args->identifier, error);
		return cli_store_exit_code(err);
	}
	return 0;
}

struct cli_acl_command {
	const char *name;
	int (*run)(struct store_user *u, const struct cli_acl_args *args);
	int extra_args; /* after MAILBOX */
	const char *usage;
};

static const struct cli_acl_command cli_acl_commands[] = {
	{ "get", cli_acl_get, 0, cli_acl_get_usage },
	{ "set", cli_acl_set, 2, cli_acl_set_usage },
	{ "delete", cli_acl_delete, 1, cli_acl_delete_usage },
};

/* argv[0] is the command name. Only the first argument may be an option
 * (--public, --help, or "--" before a user name): identifiers and rights
 * start with '-' for negative rights and removals. */
static int cli_acl_parse(const struct cli_acl_command *cmd, int argc, char **argv,
			 struct cli_acl_args *args_r)
{
	int i = 1;
	if (i < argc && strcmp(argv[i], "--public") == 0) {
		args_r->owner = NULL;
	} else if (i < argc && strcmp(argv[i], "--") == 0 && i + 1 < argc) {
		args_r->owner = argv[++i];
	} else if (i < argc && argv[i][0] != '-') {
		args_r->owner = argv[i];
	} else {
		if (i < argc)
			cli_error("acl %s: unknown option '%s'", cmd->name, argv[i]);
		else
			cli_error("acl %s: expected a user name or --public", cmd->name);
		return EX_USAGE;
	}
	i++;
	if (argc - i != 1 + cmd->extra_args) {
		cli_error("acl %s: expected %s", cmd->name,
			  cmd->extra_args == 0 ? "MAILBOX"
			  : cmd->extra_args == 1 ? "MAILBOX IDENTIFIER"
			  : "MAILBOX IDENTIFIER RIGHTS");
		return EX_USAGE;
	}
	args_r->mailbox = argv[i];
	args_r->identifier = cmd->extra_args >= 1 ? argv[i + 1] : NULL;
	args_r->rights = cmd->extra_args >= 2 ? argv[i + 2] : NULL;
	return 0;
}

static int cli_acl_run(struct petrel_config *cfg, const struct cli_acl_command *cmd,
		       const struct cli_acl_args *args)
{
	const char *owner = args->owner != NULL ? args->owner : STORE_PUBLIC_OWNER;
	if (args->owner != NULL) {
		int ret = cli_user_must_exist(cfg, args->owner, "acl");
		if (ret != 0)
			return ret;
	}
	struct store_user *u;
	const char *error;
	enum store_error err = store_user_open(cfg->data_dir, owner, &u, &error);
	if (err != STORE_OK) {
		cli_error("acl %s: %s", cmd->name, error);
		return cli_store_exit_code(err);
	}
	int ret = cmd->run(u, args);
	store_user_close(&u);
	return ret;
}

int cli_acl(struct petrel_config *cfg, int argc, char **argv)
{
	if (argc < 2) {
		cli_error("acl: no command given");
		fputs(cli_acl_usage, stderr);
		return EX_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(cli_acl_usage, stdout);
		return 0;
	}
	const struct cli_acl_command *cmd = NULL;
	for (size_t i = 0; i < sizeof(cli_acl_commands) / sizeof(*cli_acl_commands); i++)
		if (strcmp(argv[1], cli_acl_commands[i].name) == 0)
			cmd = &cli_acl_commands[i];
	if (cmd == NULL) {
		cli_error("acl: unknown command '%s'", argv[1]);
		fputs(cli_acl_usage, stderr);
		return EX_USAGE;
	}
	if (argc > 2 && (strcmp(argv[2], "-h") == 0 || strcmp(argv[2], "--help") == 0)) {
		fputs(cmd->usage, stdout);
		return 0;
	}
	struct cli_acl_args args = { 0 };
	int ret = cli_acl_parse(cmd, argc - 1, argv + 1, &args);
	if (ret != 0) {
		fputs(cmd->usage, stderr);
		return ret;
	}
	return cli_acl_run(cfg, cmd, &args);
}
