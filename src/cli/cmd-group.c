/* petrel group add|del|members|list: the groups that ACLs name as "$group"
 * (RFC 4314 leaves group identifiers to the server; docs/sharing.md). A
 * session reads its user's groups at login, so a change applies to
 * sessions that log in afterwards. */

#include "cli/cli.h"
#include "lib/arena.h"
#include "lib/config.h"
#include "store/store.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

static const char cli_group_usage[] =
	"Usage: petrel [-c FILE] group COMMAND [ARGS]\n"
	"\n"
	"Commands:\n"
	"  add GROUP USER...      put users in a group (made when missing)\n"
	"  del GROUP [USER...]    take users out of a group; without users,\n"
	"                         delete the group\n"
	"  members GROUP          print the group's members, one per line\n"
	"  list                   print every group name, one per line\n"
	"\n"
	"GROUP may be written with or without the '$' that ACLs put before it\n"
	"(\"team\" and \"$team\" are the same group). Group names follow the rules\n"
	"of user names. Members are read when a session logs in.\n"
	"Run 'petrel group COMMAND --help' for details.\n";

static const char cli_group_add_usage[] =
	"Usage: petrel [-c FILE] group add GROUP USER...\n"
	"\n"
	"Puts each USER in GROUP, making the group when it does not exist.\n"
	"Every USER must be an existing user; nothing is changed otherwise.\n"
	"Adding a member twice is not an error. ACLs name the group \"$GROUP\".\n"
	"Exit: 0 ok, 64 bad usage, 65 invalid group name, 67 no such user,\n"
	"75 database busy.\n";

static const char cli_group_del_usage[] =
	"Usage: petrel [-c FILE] group del GROUP [USER...]\n"
	"\n"
	"Takes each USER out of GROUP; without USER, deletes the whole group.\n"
	"ACL entries that name the group stay (and count again if a group of\n"
	"that name is made later): remove them with 'petrel acl delete'.\n"
	"Exit: 0 ok, 64 bad usage, 65 invalid group name, 66 no such group or\n"
	"USER not in it, 75 database busy.\n";

static const char cli_group_members_usage[] =
	"Usage: petrel [-c FILE] group members GROUP\n"
	"\n"
	"Prints the members of GROUP, one per line, in byte order.\n"
	"Exit: 0 ok, 64 bad usage, 65 invalid group name, 66 no such group.\n";

static const char cli_group_list_usage[] =
	"Usage: petrel [-c FILE] group list\n"
	"\n"
	"Prints every group name (without '$'), one per line, in byte order.\n";

/* GROUP without the '$' an ACL identifier has; NULL (after a message)
 * when it is not a valid name. */
static const char *cli_group_name(const char *arg, const char *what)
{
	const char *name = arg[0] == '$' ? arg + 1 : arg;
	const char *error;
	if (!store_user_name_valid(name, &error)) {
		cli_error("group %s: invalid group name '%s': %s", what, arg, error);
		return NULL;
	}
	return name;
}

static int cli_group_flush(const char *what)
{
	if (fflush(stdout) != 0) {
		cli_error("group %s: cannot write output: %s", what, strerror(errno));
		return EX_IOERR;
	}
	return 0;
}

/* Prints the members of group, or every group when group is NULL. */
static int cli_group_print(const struct petrel_config *cfg, const char *group, const char *what)
{
	struct arena *a = arena_new(0);
	const char **names;
	size_t count;
	const char *error;
	enum store_error err = store_group_list(cfg->data_dir, group, a, &names, &count, &error);
	if (err != STORE_OK) {
		cli_error("group %s: %s", what, error);
		arena_destroy(&a);
		return cli_store_exit_code(err);
	}
	if (group != NULL && count == 0) {
		/* A group exists while it has members. */
		cli_error("group %s: no such group '%s'", what, group);
		arena_destroy(&a);
		return EX_NOINPUT;
	}
	for (size_t i = 0; i < count; i++)
		printf("%s\n", names[i]);
	arena_destroy(&a);
	return cli_group_flush(what);
}

static int cli_group_add(const struct petrel_config *cfg, const char *group, char **users,
			 int user_count)
{
	/* Every name is checked first, so that a typo changes nothing. */
	for (int i = 0; i < user_count; i++) {
		int ret = cli_user_must_exist(cfg, users[i], "group add");
		if (ret != 0)
			return ret;
	}
	for (int i = 0; i < user_count; i++) {
		const char *error;
		enum store_error err = store_group_add(cfg->data_dir, group, users[i], &error);
		if (err != STORE_OK) {
			cli_error("group add %s %s: %s", group, users[i], error);
			return cli_store_exit_code(err);
		}
	}
	return 0;
}

static int cli_group_del(const struct petrel_config *cfg, const char *group, char **users,
			 int user_count)
{
	const char *error;
	if (user_count == 0) {
		enum store_error err = store_group_remove(cfg->data_dir, group, NULL, &error);
		if (err == STORE_ERR_NONEXISTENT)
			cli_error("group del: no such group '%s'", group);
		else if (err != STORE_OK)
			cli_error("group del %s: %s", group, error);
		return cli_store_exit_code(err);
	}
	int ret = 0;
	for (int i = 0; i < user_count; i++) {
		enum store_error err = store_group_remove(cfg->data_dir, group, users[i], &error);
		if (err == STORE_ERR_NONEXISTENT)
			cli_error("group del: '%s' is not a member of '%s'", users[i], group);
		else if (err != STORE_OK)
			cli_error("group del %s %s: %s", group, users[i], error);
		/* Go on with the other names; report the first failure. */
		if (err != STORE_OK && ret == 0)
			ret = cli_store_exit_code(err);
	}
	return ret;
}

static int cli_group_members(const struct petrel_config *cfg, const char *group, char **users,
			     int user_count)
{
	return cli_group_print(cfg, group, "members");
}

static int cli_group_list(const struct petrel_config *cfg, const char *group, char **users,
			  int user_count)
{
	return cli_group_print(cfg, NULL, "list");
}

struct cli_group_command {
	const char *name;
	int (*run)(const struct petrel_config *cfg, const char *group, char **users,
		   int user_count);
	bool takes_group;
	int min_users, max_users; /* after GROUP; -1: no limit */
	const char *usage;
};

static const struct cli_group_command cli_group_commands[] = {
	{ "add", cli_group_add, true, 1, -1, cli_group_add_usage },
	{ "del", cli_group_del, true, 0, -1, cli_group_del_usage },
	{ "members", cli_group_members, true, 0, 0, cli_group_members_usage },
	{ "list", cli_group_list, false, 0, 0, cli_group_list_usage },
};

static const struct cli_group_command *cli_group_find(const char *name)
{
	for (size_t i = 0; i < sizeof(cli_group_commands) / sizeof(*cli_group_commands); i++)
		if (strcmp(name, cli_group_commands[i].name) == 0)
			return &cli_group_commands[i];
	return NULL;
}

/* Checks the number of arguments after the command name against cmd. */
static bool cli_group_arity_ok(const struct cli_group_command *cmd, int nargs)
{
	int users = nargs - (cmd->takes_group ? 1 : 0);
	if (cmd->takes_group && nargs < 1)
		return false;
	return users >= cmd->min_users && (cmd->max_users < 0 || users <= cmd->max_users);
}

int cli_group(struct petrel_config *cfg, int argc, char **argv)
{
	if (argc < 2) {
		cli_error("group: no command given");
		fputs(cli_group_usage, stderr);
		return EX_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(cli_group_usage, stdout);
		return 0;
	}
	const struct cli_group_command *cmd = cli_group_find(argv[1]);
	if (cmd == NULL) {
		cli_error("group: unknown command '%s'", argv[1]);
		fputs(cli_group_usage, stderr);
		return EX_USAGE;
	}
	if (cli_wants_help(argc - 1, argv + 1)) {
		fputs(cmd->usage, stdout);
		return 0;
	}
	int first = 2;
	bool literal = first < argc && strcmp(argv[first], "--") == 0;
	if (literal)
		first++;
	if (!literal && first < argc && argv[first][0] == '-') {
		cli_error("group %s: unknown option '%s'", cmd->name, argv[first]);
		fputs(cmd->usage, stderr);
		return EX_USAGE;
	}
	if (!cli_group_arity_ok(cmd, argc - first)) {
		cli_error("group %s: wrong number of arguments", cmd->name);
		fputs(cmd->usage, stderr);
		return EX_USAGE;
	}
	if (!cmd->takes_group)
		return cmd->run(cfg, NULL, NULL, 0);
	const char *group = cli_group_name(argv[first], cmd->name);
	if (group == NULL)
		return EX_DATAERR;
	return cmd->run(cfg, group, argv + first + 1, argc - first - 1);
}
