/* petrel user add|passwd|del|list: administration of the user database
 * (src/auth/userdb.h). Passwords are read from standard input, one line;
 * on a terminal the line is read without echo and asked for twice. */

#include "cli/cli.h"
#include "auth/userdb.h"
#include "lib/config.h"
#include "store/store.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <termios.h>
#include <unistd.h>

static const char cli_user_usage[] =
	"Usage: petrel [-c FILE] user COMMAND [ARGS]\n"
	"\n"
	"Commands:\n"
	"  add NAME      add a user; the password is read from standard input\n"
	"  passwd NAME   change a user's password (read from standard input)\n"
	"  del NAME      delete a user and all of the user's mail\n"
	"  list          print every user name, one per line\n"
	"  quota NAME    show or set a user's quota (--storage, --messages)\n"
	"\n"
	"Run 'petrel user COMMAND --help' for details.\n";

struct cli_user_command {
	const char *name;
	int (*run)(struct userdb *db, const struct petrel_config *cfg, const char *user);
	bool takes_name;
	const char *usage;
};

static int cli_user_exit_code(enum userdb_result r)
{
	switch (r) {
	case USERDB_OK:
		return 0;
	case USERDB_NOT_FOUND:
		return EX_NOUSER;
	case USERDB_EXISTS:
		return EX_CANTCREAT;
	case USERDB_INVALID:
		return EX_DATAERR;
	case USERDB_BUSY:
		return EX_TEMPFAIL;
	case USERDB_MISMATCH:
	case USERDB_ERROR:
		break;
	}
	return EX_SOFTWARE;
}

/* Reads one line from fp into a heap string without its line ending, or
 * NULL at end of file. *len_r is the byte count (a NUL inside makes it
 * differ from strlen). */
static char *cli_read_line(FILE *fp, size_t *len_r)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, fp);
	if (n < 0) {
		free(line);
		return NULL;
	}
	if (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	*len_r = (size_t)n;
	return line;
}

static char *cli_prompt_password(const char *prompt, size_t *len_r)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	if (tty) {
		fputs(prompt, stderr);
		fflush(stderr);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	char *line = cli_read_line(stdin, len_r);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	return line;
}

static void cli_password_free(char *password, size_t len)
{
	if (password != NULL) {
		explicit_bzero(password, len);
		free(password);
	}
}

/* Reads the new password; returns 0 or an exit code. */
static int cli_read_new_password(char **password_r, size_t *len_r)
{
	size_t len = 0, len2 = 0;
	char *password = cli_prompt_password("New password: ", &len);
	if (password == NULL || len == 0) {
		cli_password_free(password, len);
		cli_error("empty password refused (give the password as one line on standard input)");
		return EX_DATAERR;
	}
	if (strlen(password) != len) {
		cli_password_free(password, len);
		cli_error("password contains a NUL byte");
		return EX_DATAERR;
	}
	if (isatty(STDIN_FILENO)) {
		char *again = cli_prompt_password("Repeat password: ", &len2);
		bool same = again != NULL && len2 == len && memcmp(again, password, len) == 0;
		cli_password_free(again, len2);
		if (!same) {
			cli_password_free(password, len);
			cli_error("passwords do not match");
			return EX_DATAERR;
		}
	}
	const char *reason;
	if (!userdb_password_valid(password, &reason)) {
		cli_password_free(password, len);
		cli_error("%s", reason);
		return EX_DATAERR;
	}
	*password_r = password;
	*len_r = len;
	return 0;
}

static int cli_user_add(struct userdb *db, const struct petrel_config *cfg, const char *name)
{
	char *password;
	size_t len;
	int ret = cli_read_new_password(&password, &len);
	if (ret != 0)
		return ret;
	const char *error;
	enum userdb_result r = userdb_add(db, name, password, &error);
	cli_password_free(password, len);
	if (r != USERDB_OK)
		cli_error("user add %s: %s", name, error);
	return cli_user_exit_code(r);
}

static int cli_user_passwd(struct userdb *db, const struct petrel_config *cfg, const char *name)
{
	const char *error;
	/* Fail before asking for a password the user cannot use. */
	enum userdb_result r = userdb_exists(db, name, &error);
	if (r != USERDB_OK) {
		cli_error("user passwd %s: %s", name, error);
		return cli_user_exit_code(r);
	}
	char *password;
	size_t len;
	int ret = cli_read_new_password(&password, &len);
	if (ret != 0)
		return ret;
	r = userdb_set_password(db, name, password, &error);
	cli_password_free(password, len);
	if (r != USERDB_OK)
		cli_error("user passwd %s: %s", name, error);
	return cli_user_exit_code(r);
}

static int cli_user_del(struct userdb *db, const struct petrel_config *cfg, const char *name)
{
	const char *error;
	/* The account goes first, so that no login or delivery can recreate
	 * the store while it is being removed. */
	enum userdb_result r = userdb_delete(db, name, &error);
	if (r != USERDB_OK) {
		cli_error("user del %s: %s", name, error);
		return cli_user_exit_code(r);
	}
	enum store_error err = store_user_delete(cfg->data_dir, name, &error);
	if (err != STORE_OK && err != STORE_ERR_NONEXISTENT) {
		cli_error("user del %s: account removed, but its mail was not: %s",
			  name, error);
		return EX_SOFTWARE;
	}
	return 0;
}

static int cli_user_list(struct userdb *db, const struct petrel_config *cfg, const char *name)
{
	char **names;
	size_t count;
	const char *error;
	enum userdb_result r = userdb_list(db, &names, &count, &error);
	if (r != USERDB_OK) {
		cli_error("user list: %s", error);
		return cli_user_exit_code(r);
	}
	for (size_t i = 0; i < count; i++)
		printf("%s\n", names[i]);
	userdb_list_free(names, count);
	if (fflush(stdout) != 0) {
		cli_error("user list: cannot write output: %s", strerror(errno));
		return EX_IOERR;
	}
	return 0;
}

/* ---- petrel user quota ---- */

static const char cli_user_quota_usage[] =
	"Usage: petrel [-c FILE] user quota NAME [--storage SIZE|none] [--messages N|none]\n"
	"\n"
	"Without options, prints the usage and limits of NAME. With options, sets\n"
	"the limits given (the other one is kept) and prints the result.\n"
	"  --storage SIZE   total size of all messages: bytes, or with K, M, G or T\n"
	"                   (powers of 1024); rounded up to whole KiB, the unit of\n"
	"                   IMAP QUOTA (RFC 9208); 'none' removes the limit\n"
	"  --messages N     number of messages; 'none' removes the limit\n"
	"Usage counts every message in every mailbox with its full size (a copy\n"
	"counts again); \\Deleted messages count until they are expunged.\n"
	"Exit: 0 ok, 64 bad usage, 65 invalid value, 67 no such user,\n"
	"75 mail store busy.\n";

static int cli_quota_store_exit(enum store_error err)
{
	switch (err) {
	case STORE_ERR_INUSE: return EX_TEMPFAIL;
	case STORE_ERR_INVALID: return EX_DATAERR;
	case STORE_ERR_NOPERM: return EX_NOPERM;
	default: return EX_SOFTWARE;
	}
}

static void cli_quota_print(const char *name, const struct store_quota *q)
{
	uint64_t kib = q->storage_bytes / 1024 + (q->storage_bytes % 1024 != 0);
	printf("user %s\n", name);
	printf("storage %" PRIu64 " KiB (%" PRIu64 " bytes), limit ", kib, q->storage_bytes);
	if (q->has_storage_limit)
		printf("%" PRIu64 " KiB\n", q->storage_limit_kib);
	else
		printf("none\n");
	printf("messages %" PRIu64 ", limit ", q->messages);
	if (q->has_message_limit)
		printf("%" PRIu64 "\n", q->message_limit);
	else
		printf("none\n");
}

static int cli_user_quota(struct petrel_config *cfg, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(cli_user_quota_usage, stdout);
		return 0;
	}
	const char *name = NULL, *storage = NULL, *messages = NULL;
	for (int i = 1; i < argc; i++) {
		const char **target = strcmp(argv[i], "--storage") == 0 ? &storage
				      : strcmp(argv[i], "--messages") == 0 ? &messages : NULL;
		if (target != NULL) {
			if (i + 1 >= argc) {
				cli_error("user quota: %s needs a value", argv[i]);
				fputs(cli_user_quota_usage, stderr);
				return EX_USAGE;
			}
			*target = argv[++i];
		} else if (argv[i][0] == '-' || name != NULL) {
			cli_error("user quota: unexpected argument '%s'", argv[i]);
			fputs(cli_user_quota_usage, stderr);
			return EX_USAGE;
		} else {
			name = argv[i];
		}
	}
	if (name == NULL) {
		cli_error("user quota: expected one user name");
		fputs(cli_user_quota_usage, stderr);
		return EX_USAGE;
	}
	const char *reason;
	if (!userdb_name_valid(name, &reason)) {
		cli_error("user quota: invalid user name: %s", reason);
		return EX_DATAERR;
	}
	struct store_quota limits = { 0 };
	bool set_storage = storage != NULL, set_messages = messages != NULL;
	if (set_storage && strcmp(storage, "none") != 0) {
		limits.has_storage_limit = true;
		if (!cli_parse_storage_kib(storage, &limits.storage_limit_kib)) {
			cli_error("user quota: invalid storage limit '%s' "
				  "(bytes, or a number with K, M, G or T, or none)", storage);
			return EX_DATAERR;
		}
	}
	if (set_messages && strcmp(messages, "none") != 0) {
		limits.has_message_limit = true;
		if (!cli_parse_count(messages, &limits.message_limit)) {
			cli_error("user quota: invalid message limit '%s' (a number, or none)",
				  messages);
			return EX_DATAERR;
		}
	}

	int exists = cli_user_must_exist(cfg, name, "user quota");
	if (exists != 0)
		return exists;

	const char *error;
	struct store_user *u;
	enum store_error err = store_user_open(cfg->data_dir, name, &u, &error);
	struct store_quota q;
	if (err == STORE_OK)
		err = store_quota_get(u, &q, &error);
	if (err == STORE_OK && (set_storage || set_messages)) {
		if (set_storage) {
			q.has_storage_limit = limits.has_storage_limit;
			q.storage_limit_kib = limits.storage_limit_kib;
		}
		if (set_messages) {
			q.has_message_limit = limits.has_message_limit;
			q.message_limit = limits.message_limit;
		}
		err = store_quota_set(u, &q, &error);
		if (err == STORE_OK)
			err = store_quota_get(u, &q, &error);
	}
	if (err != STORE_OK) {
		cli_error("user quota %s: %s", name, error);
		store_user_close(&u);
		return cli_quota_store_exit(err);
	}
	store_user_close(&u);
	cli_quota_print(name, &q);
	if (fflush(stdout) != 0) {
		cli_error("user quota: cannot write output: %s", strerror(errno));
		return EX_IOERR;
	}
	return 0;
}

static const struct cli_user_command cli_user_commands[] = {
	{ "add", cli_user_add, true,
	  "Usage: petrel [-c FILE] user add NAME\n"
	  "\n"
	  "Adds the user NAME. The password is read from standard input as one\n"
	  "line (on a terminal: without echo, twice). An empty password is refused.\n"
	  "NAME: 1-64 bytes of UTF-8, no white space, control characters or '/',\n"
	  "not starting with '.' or '-'; '@' is allowed. Names are case-sensitive,\n"
	  "but may not differ from an existing name only in letter case.\n"
	  "Exit: 0 added, 65 invalid name or password, 73 the user exists.\n" },
	{ "passwd", cli_user_passwd, true,
	  "Usage: petrel [-c FILE] user passwd NAME\n"
	  "\n"
	  "Sets a new password for NAME, read from standard input as one line.\n"
	  "Exit: 0 changed, 65 invalid password, 67 no such user.\n" },
	{ "del", cli_user_del, true,
	  "Usage: petrel [-c FILE] user del NAME\n"
	  "\n"
	  "Deletes the user NAME and all of the user's mail. Sessions of the user\n"
	  "in a running server are not ended by this command.\n"
	  "Exit: 0 deleted, 67 no such user.\n" },
	{ "list", cli_user_list, false,
	  "Usage: petrel [-c FILE] user list\n"
	  "\n"
	  "Prints every user name, one per line, in byte order.\n" },
};

int cli_user(struct petrel_config *cfg, int argc, char **argv)
{
	if (argc < 2) {
		cli_error("user: no command given");
		fputs(cli_user_usage, stderr);
		return EX_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(cli_user_usage, stdout);
		return 0;
	}
	if (strcmp(argv[1], "quota") == 0)
		return cli_user_quota(cfg, argc - 1, argv + 1);
	const struct cli_user_command *cmd = NULL;
	for (size_t i = 0; i < sizeof(cli_user_commands) / sizeof(*cli_user_commands); i++)
		if (strcmp(argv[1], cli_user_commands[i].name) == 0)
			cmd = &cli_user_commands[i];
	if (cmd == NULL) {
		cli_error("user: unknown command '%s'", argv[1]);
		fputs(cli_user_usage, stderr);
		return EX_USAGE;
	}
	if (cli_wants_help(argc - 1, argv + 1)) {
		fputs(cmd->usage, stdout);
		return 0;
	}
	/* After "--" an argument is a name even if it starts with '-' (and
	 * is then refused as a name). */
	int first = 2;
	bool literal = first < argc && strcmp(argv[first], "--") == 0;
	if (literal)
		first++;
	int nargs = argc - first;
	if (nargs > 0 && !literal && argv[first][0] == '-') {
		cli_error("user %s: unknown option '%s'", cmd->name, argv[first]);
		fputs(cmd->usage, stderr);
		return EX_USAGE;
	}
	if (nargs != (cmd->takes_name ? 1 : 0)) {
		cli_error("user %s: expected %s", cmd->name,
			  cmd->takes_name ? "one user name" : "no arguments");
		fputs(cmd->usage, stderr);
		return EX_USAGE;
	}
	const char *name = cmd->takes_name ? argv[first] : NULL;
	const char *reason;
	if (name != NULL && !userdb_name_valid(name, &reason)) {
		cli_error("user %s: invalid user name: %s", cmd->name, reason);
		return EX_DATAERR;
	}

	struct userdb_settings set = {
		.hash_ops = cfg->password_hash_ops,
		.hash_memory = cfg->password_hash_memory,
	};
	struct userdb *db;
	char *error;
	bool busy;
	if (!userdb_open(cfg->data_dir, &set, &db, &error, &busy)) {
		cli_error("%s", error);
		free(error);
		return busy ? EX_TEMPFAIL : EX_CANTCREAT;
	}
	int ret = cmd->run(db, cfg, name);
	userdb_close(&db);
	return ret;
}
