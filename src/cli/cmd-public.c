/* petrel public create|delete|list|quota: the public folders, a store of
 * their own (STORE_PUBLIC_OWNER) that users see under "Public Folders/"
 * as far as each folder's ACL lets them (docs/sharing.md). Public folders
 * have no owner: only the administrator creates top-level folders, and
 * only ACL entries give rights. */

#include "cli/cli.h"
#include "lib/arena.h"
#include "lib/config.h"
#include "store/store.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

/* The ACL a new top-level public folder gets when neither --acl nor the
 * configuration says otherwise: everyone may read it and keep their own
 * \Seen. */
#define CLI_PUBLIC_DEFAULT_ACL "anyone=lrs"

static const char cli_public_usage[] =
	"Usage: petrel [-c FILE] public COMMAND [ARGS]\n"
	"\n"
	"Commands:\n"
	"  create NAME [--acl \"IDENT=RIGHTS ...\"]   make a public folder\n"
	"  delete NAME                              delete a folder and its mail\n"
	"  list                                     print every folder and its ACL\n"
	"  quota [--storage SIZE|none] [--messages N|none]\n"
	"                                           show or set the quota\n"
	"\n"
	"Users see the folder NAME as \"Public Folders/NAME\".\n"
	"Run 'petrel public COMMAND --help' for details; see docs/sharing.md.\n";

static const char cli_public_create_usage[] =
	"Usage: petrel [-c FILE] public create NAME [--acl \"IDENT=RIGHTS ...\"]\n"
	"\n"
	"Makes the public folder NAME (UTF-8, levels separated by '/'; missing\n"
	"parents are made too, as empty folders) and sets the ACL of each folder\n"
	"it made to the entries given: IDENT is a user name, \"anyone\", \"$group\"\n"
	"or \"-IDENT\"; RIGHTS are letters from lrswipkxtea. For example\n"
	"  --acl 'anyone=lrs $staff=lrswipkxtea'\n"
	"Without --acl the new folders get a copy of the ACL of the nearest\n"
	"existing folder above NAME, or, when there is none, [public]\n"
	"default_acl from the configuration (default: " CLI_PUBLIC_DEFAULT_ACL ").\n"
	"Exit: 0 ok, 64 bad usage, 65 invalid name or ACL, 73 the folder\n"
	"exists, 75 mail store busy.\n";

static const char cli_public_delete_usage[] =
	"Usage: petrel [-c FILE] public delete NAME\n"
	"\n"
	"Deletes the public folder NAME with its messages and its ACL. A folder\n"
	"with subfolders stays as a name without messages until they are gone.\n"
	"Exit: 0 ok, 64 bad usage, 65 invalid name, 66 no such folder,\n"
	"75 mail store busy.\n";

static const char cli_public_list_usage[] =
	"Usage: petrel [-c FILE] public list\n"
	"\n"
	"Prints every public folder, sorted by name, each followed by its ACL\n"
	"entries indented by two spaces (\"  IDENTIFIER RIGHTS\"). A folder that\n"
	"was deleted but still holds subfolders is marked \"(\\Noselect)\" and\n"
	"has no ACL.\n";

static const char cli_public_quota_usage[] =
	"Usage: petrel [-c FILE] public quota [--storage SIZE|none] [--messages N|none]\n"
	"\n"
	"The public folders share one quota root, \"Public Folders\" in IMAP\n"
	"QUOTA (RFC 9208). Without options, prints its usage and limits; with\n"
	"options, sets the limits given (the other one is kept) and prints the\n"
	"result.\n"
	"  --storage SIZE   total size of all messages: bytes, or with K, M, G or T\n"
	"                   (powers of 1024), rounded up to whole KiB; 'none'\n"
	"                   removes the limit\n"
	"  --messages N     number of messages; 'none' removes the limit\n"
	"Exit: 0 ok, 64 bad usage, 65 invalid value, 75 mail store busy.\n";

/* ---- ACL text: "IDENT=RIGHTS IDENT=RIGHTS ..." ---- */

struct cli_public_acl {
	struct store_acl_entry *entries;
	size_t count;
};

/* Parses an ACL list in the syntax of [public] default_acl (the same
 * parser, so --acl and the configuration accept the same text). */
static bool cli_public_acl_parse(struct arena *a, const char *text, const char *what,
				 struct cli_public_acl *acl_r)
{
	struct config_acl_entry *parsed;
	size_t count;
	char *error;
	if (!config_acl_parse(text, &parsed, &count, &error)) {
		cli_error("public create: %s: %s", what, error);
		free(error);
		return false;
	}
	acl_r->entries = arena_zalloc(a, (count + 1) * sizeof(*acl_r->entries));
	acl_r->count = count;
	bool ok = true;
	for (size_t i = 0; ok && i < count; i++) {
		acl_r->entries[i].identifier = arena_strdup(a, parsed[i].identifier);
		ok = store_rights_parse(parsed[i].rights, &acl_r->entries[i].rights, NULL);
	}
	config_acl_free(parsed, count);
	if (!ok)
		cli_error("public create: %s: unknown rights", what);
	return ok;
}

static const char *cli_public_default_acl(const struct petrel_config *cfg)
{
	return cfg->public_default_acl != NULL ? cfg->public_default_acl : CLI_PUBLIC_DEFAULT_ACL;
}

/* What public create works on: the folder's name split at each level,
 * which levels do not exist yet (the store makes them, and they get the
 * new folder's ACL), and the nearest superior that is a folder. A level
 * left as \Noselect by a DELETE is neither: it stays as it is, without
 * an ACL. */
struct cli_public_levels {
	char **names;       /* "A", "A/B", "A/B/C" */
	bool *missing;
	size_t count;
	const char *nearest_existing; /* NULL when no superior exists */
};

static void cli_public_levels_read(struct store_user *u, struct arena *a, const char *name,
				   struct cli_public_levels *levels_r)
{
	size_t count = 1;
	for (const char *p = name; *p != '\0'; p++)
		count += *p == STORE_HIERARCHY_SEP;
	levels_r->names = arena_zalloc(a, count * sizeof(*levels_r->names));
	levels_r->missing = arena_zalloc(a, count * sizeof(*levels_r->missing));
	levels_r->count = count;
	levels_r->nearest_existing = NULL;
	size_t i = 0;
	for (const char *p = name;; p++) {
		if (*p != STORE_HIERARCHY_SEP && *p != '\0')
			continue;
		levels_r->names[i] = arena_strndup(a, name, (size_t)(p - name));
		struct store_mailbox_status st;
		bool exists = store_mailbox_status(u, levels_r->names[i], &st, NULL) == STORE_OK;
		levels_r->missing[i] = !exists;
		if (exists && !st.noselect && i + 1 < count)
			levels_r->nearest_existing = levels_r->names[i];
		i++;
		if (*p == '\0')
			break;
	}
}

/* The ACL a new folder gets without --acl: a copy of its nearest existing
 * superior's (RFC 4314 4: a new mailbox inherits its parent's ACL), or for
 * a new tree the configured default. */
static int cli_public_inherited_acl(const struct petrel_config *cfg, struct store_user *u,
				    struct arena *a, const struct cli_public_levels *levels,
				    struct cli_public_acl *acl_r)
{
	if (levels->nearest_existing == NULL) {
		if (!cli_public_acl_parse(a, cli_public_default_acl(cfg), "[public] default_acl",
					  acl_r))
			return EX_CONFIG;
		return 0;
	}
	const char *error;
	enum store_error err = store_acl_get(u, levels->nearest_existing, a, &acl_r->entries,
					     &acl_r->count, &error);
	if (err != STORE_OK) {
		cli_error("public create: ACL of %s: %s", levels->nearest_existing, error);
		return cli_store_exit_code(err);
	}
	return 0;
}

static bool cli_public_acl_names(const struct cli_public_acl *acl, const char *identifier)
{
	for (size_t i = 0; i < acl->count; i++)
		if (strcmp(acl->entries[i].identifier, identifier) == 0)
			return true;
	return false;
}

/* Makes name's ACL exactly acl: entries it does not name are removed. */
static enum store_error cli_public_acl_replace(struct store_user *u, struct arena *a,
					       const char *name, const struct cli_public_acl *acl,
					       const char **error_r)
{
	struct store_acl_entry *old;
	size_t old_count;
	enum store_error err = store_acl_get(u, name, a, &old, &old_count, error_r);
	for (size_t i = 0; err == STORE_OK && i < old_count; i++)
		if (!cli_public_acl_names(acl, old[i].identifier))
			err = store_acl_delete(u, name, old[i].identifier, error_r);
	for (size_t i = 0; err == STORE_OK && i < acl->count; i++)
		err = store_acl_set(u, name, acl->entries[i].identifier, acl->entries[i].rights,
				    error_r);
	return err;
}

/* ---- Commands ---- */

static int cli_public_open(const struct petrel_config *cfg, const char *what,
			   struct store_user **u_r)
{
	const char *error;
	enum store_error err = store_user_open(cfg->data_dir, STORE_PUBLIC_OWNER, u_r, &error);
	if (err != STORE_OK) {
		cli_error("public %s: %s", what, error);
		return cli_store_exit_code(err);
	}
	return 0;
}

static int cli_public_create_in(const struct petrel_config *cfg, struct store_user *u,
				struct arena *a, const char *name, const char *acl_text)
{
	struct cli_public_acl acl;
	if (acl_text != NULL && !cli_public_acl_parse(a, acl_text, "--acl", &acl))
		return EX_DATAERR;
	const char *error;
	if (!store_mailbox_name_valid(name, &error)) {
		cli_error("public create: invalid folder name '%s': %s", name, error);
		return EX_DATAERR;
	}
	struct cli_public_levels levels;
	cli_public_levels_read(u, a, name, &levels);
	if (acl_text == NULL) {
		int ret = cli_public_inherited_acl(cfg, u, a, &levels, &acl);
		if (ret != 0)
			return ret;
	}
	enum store_error err = store_mailbox_create(u, name, 0, NULL, &error);
	if (err != STORE_OK) {
		cli_error("public create %s: %s", name, error);
		return cli_store_exit_code(err);
	}
	/* The folder, and the superiors made for it, get the ACL; a folder
	 * that was left as \Noselect is made anew and gets it too. */
	for (size_t i = 0; err == STORE_OK && i < levels.count; i++)
		if (levels.missing[i] || i + 1 == levels.count)
			err = cli_public_acl_replace(u, a, levels.names[i], &acl, &error);
	if (err != STORE_OK) {
		cli_error("public create %s: folder made, but its ACL was not set: %s", name,
			  error);
		return cli_store_exit_code(err);
	}
	return 0;
}

static int cli_public_create(const struct petrel_config *cfg, int argc, char **argv)
{
	const char *name = NULL, *acl_text = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--acl") == 0 && i + 1 < argc) {
			acl_text = argv[++i];
		} else if (strcmp(argv[i], "--") == 0 && i + 1 < argc && name == NULL) {
			name = argv[++i];
		} else if (argv[i][0] == '-' || name != NULL) {
			cli_error("public create: unexpected argument '%s'", argv[i]);
			return EX_USAGE;
		} else {
			name = argv[i];
		}
	}
	if (name == NULL) {
		cli_error("public create: expected a folder name");
		return EX_USAGE;
	}
	struct store_user *u;
	int ret = cli_public_open(cfg, "create", &u);
	if (ret != 0)
		return ret;
	struct arena *a = arena_new(0);
	ret = cli_public_create_in(cfg, u, a, name, acl_text);
	arena_destroy(&a);
	store_user_close(&u);
	return ret;
}

static int cli_public_delete(const struct petrel_config *cfg, int argc, char **argv)
{
	int first = argc > 1 && strcmp(argv[1], "--") == 0 ? 2 : 1;
	if (argc - first != 1 || (first == 1 && argv[1][0] == '-')) {
		cli_error("public delete: expected one folder name");
		return EX_USAGE;
	}
	struct store_user *u;
	int ret = cli_public_open(cfg, "delete", &u);
	if (ret != 0)
		return ret;
	const char *error;
	enum store_error err = store_mailbox_delete(u, argv[first], &error);
	if (err != STORE_OK)
		cli_error("public delete %s: %s", argv[first], error);
	store_user_close(&u);
	return cli_store_exit_code(err);
}

static int cli_public_list_in(struct store_user *u, struct arena *a)
{
	struct store_mailbox_info *list;
	size_t count;
	const char *error;
	enum store_error err = store_mailbox_list(u, a, &list, &count, &error);
	if (err != STORE_OK) {
		cli_error("public list: %s", error);
		return cli_store_exit_code(err);
	}
	for (size_t i = 0; i < count; i++) {
		/* A deleted folder that still has subfolders keeps no ACL
		 * (RFC 4314 4: DELETE deletes the ACL). */
		if (list[i].noselect) {
			printf("%s (\\Noselect)\n", list[i].name);
			continue;
		}
		printf("%s\n", list[i].name);
		int ret = cli_acl_print(u, list[i].name, "  ");
		if (ret != 0)
			return ret;
	}
	if (fflush(stdout) != 0) {
		cli_error("public list: cannot write output: %s", strerror(errno));
		return EX_IOERR;
	}
	return 0;
}

static int cli_public_list(const struct petrel_config *cfg, int argc, char **argv)
{
	if (argc > 1) {
		cli_error("public list: unexpected argument '%s'", argv[1]);
		return EX_USAGE;
	}
	struct store_user *u;
	int ret = cli_public_open(cfg, "list", &u);
	if (ret != 0)
		return ret;
	struct arena *a = arena_new(0);
	ret = cli_public_list_in(u, a);
	arena_destroy(&a);
	store_user_close(&u);
	return ret;
}

/* "--storage VALUE --messages VALUE" into limits; the flags say which
 * were given. Returns 0 or an exit code. */
static int cli_public_quota_args(int argc, char **argv, struct store_quota *limits,
				 bool *set_storage_r, bool *set_messages_r)
{
	*set_storage_r = *set_messages_r = false;
	for (int i = 1; i < argc; i++) {
		bool storage = strcmp(argv[i], "--storage") == 0;
		if ((!storage && strcmp(argv[i], "--messages") != 0) || i + 1 >= argc) {
			cli_error("public quota: unexpected argument '%s'", argv[i]);
			return EX_USAGE;
		}
		const char *value = argv[++i];
		bool none = strcmp(value, "none") == 0;
		if (storage) {
			*set_storage_r = true;
			limits->has_storage_limit = !none;
			if (!none && !cli_parse_storage_kib(value, &limits->storage_limit_kib)) {
				cli_error("public quota: invalid storage limit '%s' "
					  "(bytes, or a number with K, M, G or T, or none)", value);
				return EX_DATAERR;
			}
		} else {
			*set_messages_r = true;
			limits->has_message_limit = !none;
			if (!none && !cli_parse_count(value, &limits->message_limit)) {
				cli_error("public quota: invalid message limit '%s' "
					  "(a number, or none)", value);
				return EX_DATAERR;
			}
		}
	}
	return 0;
}

static enum store_error cli_public_quota_update(struct store_user *u,
						const struct store_quota *limits,
						bool set_storage, bool set_messages,
						struct store_quota *q_r, const char **error_r)
{
	enum store_error err = store_quota_get(u, q_r, error_r);
	if (err != STORE_OK || (!set_storage && !set_messages))
		return err;
	if (set_storage) {
		q_r->has_storage_limit = limits->has_storage_limit;
		q_r->storage_limit_kib = limits->storage_limit_kib;
	}
	if (set_messages) {
		q_r->has_message_limit = limits->has_message_limit;
		q_r->message_limit = limits->message_limit;
	}
	err = store_quota_set(u, q_r, error_r);
	return err == STORE_OK ? store_quota_get(u, q_r, error_r) : err;
}

static int cli_public_quota(const struct petrel_config *cfg, int argc, char **argv)
{
	struct store_quota limits = { 0 }, q;
	bool set_storage, set_messages;
	int ret = cli_public_quota_args(argc, argv, &limits, &set_storage, &set_messages);
	if (ret != 0)
		return ret;
	struct store_user *u;
	ret = cli_public_open(cfg, "quota", &u);
	if (ret != 0)
		return ret;
	const char *error;
	enum store_error err = cli_public_quota_update(u, &limits, set_storage, set_messages,
						       &q, &error);
	store_user_close(&u);
	if (err != STORE_OK) {
		cli_error("public quota: %s", error);
		return cli_store_exit_code(err);
	}
	uint64_t kib = q.storage_bytes / 1024 + (q.storage_bytes % 1024 != 0);
	printf("public folders\n");
	printf("storage %" PRIu64 " KiB (%" PRIu64 " bytes), limit ", kib, q.storage_bytes);
	if (q.has_storage_limit)
		printf("%" PRIu64 " KiB\n", q.storage_limit_kib);
	else
		printf("none\n");
	printf("messages %" PRIu64 ", limit ", q.messages);
	if (q.has_message_limit)
		printf("%" PRIu64 "\n", q.message_limit);
	else
		printf("none\n");
	if (fflush(stdout) != 0) {
		cli_error("public quota: cannot write output: %s", strerror(errno));
		return EX_IOERR;
	}
	return 0;
}

struct cli_public_command {
	const char *name;
	int (*run)(const struct petrel_config *cfg, int argc, char **argv);
	const char *usage;
};

static const struct cli_public_command cli_public_commands[] = {
	{ "create", cli_public_create, cli_public_create_usage },
	{ "delete", cli_public_delete, cli_public_delete_usage },
	{ "list", cli_public_list, cli_public_list_usage },
	{ "quota", cli_public_quota, cli_public_quota_usage },
};

int cli_public(struct petrel_config *cfg, int argc, char **argv)
{
	if (argc < 2) {
		cli_error("public: no command given");
		fputs(cli_public_usage, stderr);
		return EX_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(cli_public_usage, stdout);
		return 0;
	}
	const struct cli_public_command *cmd = NULL;
	for (size_t i = 0; i < sizeof(cli_public_commands) / sizeof(*cli_public_commands); i++)
		if (strcmp(argv[1], cli_public_commands[i].name) == 0)
			cmd = &cli_public_commands[i];
	if (cmd == NULL) {
		cli_error("public: unknown command '%s'", argv[1]);
		fputs(cli_public_usage, stderr);
		return EX_USAGE;
	}
	if (cli_wants_help(argc - 1, argv + 1)) {
		fputs(cmd->usage, stdout);
		return 0;
	}
	int ret = cmd->run(cfg, argc - 1, argv + 1);
	if (ret == EX_USAGE)
		fputs(cmd->usage, stderr);
	return ret;
}
