/* petrel [-c FILE] COMMAND [ARGS]: one binary for the daemon and its
 * administration (DESIGN.md section 1). */

#include "cli/cli.h"
#include "lib/config.h"
#include "lib/log.h"
#include "petrel-version.h"
#include "store/store.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

static const char cli_main_usage[] =
	"Usage: petrel [-c FILE] COMMAND [ARGS...]\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE  read FILE (INI) over the built-in defaults\n"
	"  -h, --help         show this help\n"
	"  -V, --version      show the version\n"
	"\n"
	"Commands:\n"
	"  serve              run the IMAP, IMAPS and LMTP server\n"
	"  deliver            store a message read from standard input\n"
	"  user               add, change, delete and list users; quotas\n"
	"  acl                show and change who may use a mailbox (sharing)\n"
	"  group              groups of users that ACLs name as $group\n"
	"  public             create, delete and list public folders; quota\n"
	"  news               pull newsgroups into public folders now\n"
	"  import             copy a Maildir or mbox into a user's mailboxes\n"
	"  export             write a user's mailboxes as a Maildir\n"
	"  ctl                talk to the running daemon: sessions, trace, stats\n"
	"  version            show the version\n"
	"\n"
	"Run 'petrel COMMAND --help' for a command's options.\n"
	"See docs/configuration.md for the configuration file.\n";

static const char cli_version_usage[] =
	"Usage: petrel version\n"
	"\n"
	"Prints the program name and version.\n";

void cli_error(const char *fmt, ...)
{
	va_list ap;
	fputs("petrel: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

char *cli_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	return s;
}

bool cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return true;
	}
	return false;
}

int cli_version(int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(cli_version_usage, stdout);
		return 0;
	}
	if (argc > 1) {
		cli_error("version: unexpected argument '%s'", argv[1]);
		fputs(cli_version_usage, stderr);
		return EX_USAGE;
	}
	printf("petrel %s\n", PETREL_VERSION);
	return 0;
}

static int cli_usage_error(const char *what, const char *arg)
{
	cli_error("%s '%s'", what, arg);
	fputs(cli_main_usage, stderr);
	return EX_USAGE;
}

int main(int argc, char **argv)
{
	const char *config_path = NULL;
	int i = 1;
	store_process_init();

	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *opt = argv[i];
		if (strcmp(opt, "--") == 0) {
			i++;
			break;
		} else if (strcmp(opt, "-c") == 0 || strcmp(opt, "--config") == 0) {
			if (i + 1 >= argc)
				return cli_usage_error("missing file name after option", opt);
			config_path = argv[++i];
		} else if (strncmp(opt, "--config=", 9) == 0) {
			config_path = opt + 9;
		} else if (strcmp(opt, "-h") == 0 || strcmp(opt, "--help") == 0) {
			fputs(cli_main_usage, stdout);
			return 0;
		} else if (strcmp(opt, "-V") == 0 || strcmp(opt, "--version") == 0) {
			printf("petrel %s\n", PETREL_VERSION);
			return 0;
		} else {
			return cli_usage_error("unknown option", opt);
		}
	}
	if (i >= argc) {
		cli_error("no command given");
		fputs(cli_main_usage, stderr);
		return EX_USAGE;
	}

	const char *command = argv[i];
	int cmd_argc = argc - i;
	char **cmd_argv = argv + i;
	if (strcmp(command, "version") == 0)
		return cli_version(cmd_argc, cmd_argv);
	if (strcmp(command, "help") == 0) {
		fputs(cli_main_usage, stdout);
		return 0;
	}
	if (strcmp(command, "serve") != 0 && strcmp(command, "user") != 0 &&
	    strcmp(command, "deliver") != 0 && strcmp(command, "ctl") != 0 &&
	    strcmp(command, "import") != 0 && strcmp(command, "export") != 0 &&
	    strcmp(command, "acl") != 0 && strcmp(command, "group") != 0 &&
	    strcmp(command, "public") != 0 && strcmp(command, "news") != 0)
		return cli_usage_error("unknown command", command);

	struct petrel_config cfg;
	config_init_defaults(&cfg);
	if (config_path != NULL) {
		char *error = NULL;
		if (!config_load(&cfg, config_path, &error)) {
			cli_error("%s", error);
			free(error);
			config_free(&cfg);
			return EX_CONFIG;
		}
	}
	log_set_level(cfg.log_level);

	int ret = strcmp(command, "serve") == 0 ? cli_serve(&cfg, cmd_argc, cmd_argv)
		: strcmp(command, "deliver") == 0 ? cli_deliver(&cfg, cmd_argc, cmd_argv)
		: strcmp(command, "ctl") == 0 ? cli_ctl(&cfg, cmd_argc, cmd_argv)
		: strcmp(command, "import") == 0 ? cli_import(&cfg, cmd_argc, cmd_argv)
		: strcmp(command, "export") == 0 ? cli_export(&cfg, cmd_argc, cmd_argv)
		: strcmp(command, "acl") == 0 ? cli_acl(&cfg, cmd_argc, cmd_argv)
		: strcmp(command, "group") == 0 ? cli_group(&cfg, cmd_argc, cmd_argv)
		: strcmp(command, "public") == 0 ? cli_public(&cfg, cmd_argc, cmd_argv)
		: strcmp(command, "news") == 0 ? cli_news(&cfg, cmd_argc, cmd_argv)
		: cli_user(&cfg, cmd_argc, cmd_argv);
	config_free(&cfg);
	return ret;
}
