#ifndef PETREL_CLI_H
#define PETREL_CLI_H

/* Subcommands of the petrel binary. Each returns the process exit status
 * (sysexits-style codes where a caller such as an MTA depends on them):
 *   0 ok, 64 EX_USAGE bad usage, 65 EX_DATAERR invalid name or password,
 *   67 EX_NOUSER unknown user, 70 EX_SOFTWARE internal error,
 *   73 EX_CANTCREAT user exists / database cannot be created,
 *   75 EX_TEMPFAIL database busy, 78 EX_CONFIG configuration error.
 * Each gets argc/argv starting at its own name (argv[0] = "serve", "user",
 * ...) and the loaded configuration (built-in defaults without -c). Error
 * messages go to stderr as "petrel: ..." through cli_error(). */

#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>

struct petrel_config;

/* petrel serve: runs the daemon until SIGTERM/SIGINT; answers -h/--help. */
int cli_serve(struct petrel_config *cfg, int argc, char **argv);

/* petrel user add|passwd|del|list (src/cli/cmd-user.c). */
int cli_user(struct petrel_config *cfg, int argc, char **argv);

/* petrel deliver [-u USER] [-m MAILBOX] [-f SENDER] (src/cli/cmd-deliver.c):
 * stores the message on stdin. Exit codes: 0, 64, 65 empty or too large,
 * 67 unknown user, 73 missing mailbox, 75 temporary failure; over quota
 * is 75, or 73 with [quota] lmtp_overquota = permanent. */
int cli_deliver(struct petrel_config *cfg, int argc, char **argv);

/* petrel ctl sessions|kick|trace|stats (src/cli/cmd-ctl.c): talks to the
 * running daemon over its control socket. 69 EX_UNAVAILABLE when the daemon
 * cannot be reached, 77 EX_NOPERM when it refuses us. */
int cli_ctl(struct petrel_config *cfg, int argc, char **argv);

/* petrel import USER PATH [--mailbox NAME] (src/cli/cmd-import.c): copies a
 * Maildir++ tree, an mbox file or a directory of mbox files into USER's
 * store; running it again skips what it stored before. Exit codes: 0,
 * 64, 65 some sources not importable, 66 no PATH, 67 unknown user,
 * 73 over quota, 74 read error, 75 store busy. */
int cli_import(struct petrel_config *cfg, int argc, char **argv);

/* petrel export USER PATH (src/cli/cmd-export.c): writes USER's mailboxes
 * as a Maildir++ tree that petrel import reads back to the same content.
 * Exit codes: 0, 64, 67 unknown user, 73 PATH cannot be made, 74 write
 * error, 75 store busy. */
int cli_export(struct petrel_config *cfg, int argc, char **argv);

/* petrel acl get|set|delete (src/cli/cmd-acl.c): a user's or the public
 * folders' access control lists (RFC 4314, docs/sharing.md). Exit codes:
 * 0, 64, 65 invalid identifier or rights, 66 no such mailbox, 67 unknown
 * user, 75 store busy. */
int cli_acl(struct petrel_config *cfg, int argc, char **argv);

/* petrel group add|del|members|list (src/cli/cmd-group.c): the groups ACLs
 * name as "$group". Exit codes: 0, 64, 65 invalid name, 66 no such group
 * or member, 67 unknown user, 75 busy. */
int cli_group(struct petrel_config *cfg, int argc, char **argv);

/* petrel public create|delete|list|quota (src/cli/cmd-public.c): the public
 * folders. Exit codes: 0, 64, 65 invalid name, ACL or value, 66 no such
 * folder, 73 the folder exists, 75 store busy. */
int cli_public(struct petrel_config *cfg, int argc, char **argv);

/* petrel news pull [-v] | post GROUP (src/cli/cmd-news.c): one pass of the
 * news feed, or an article posted upstream. Exit codes: 0, 64, 65 article
 * refused, 75 a server or group failed or another pull runs, 78 no
 * [news-server] configured. */
int cli_news(struct petrel_config *cfg, int argc, char **argv);

/* Helpers of the sharing commands, in src/cli/cmd-acl.c. The exit code
 * for a store error: NONEXISTENT 66, ALREADYEXISTS 73, INVALID, CANNOT
 * and HASCHILDREN 65, NOPERM 77, INUSE 75, others 70. */
int cli_store_exit_code(enum store_error err);
/* 0 when user is a valid name in the user database; otherwise prints why
 * (prefixed by what) and returns 65, 67, 75 or 70. */
int cli_user_must_exist(const struct petrel_config *cfg, const char *user, const char *what);
/* Prints mailbox's ACL of u as "INDENT IDENTIFIER RIGHTS" lines, the
 * owner's implicit full rights first for a personal store. 0 or an exit
 * code (after a message). */
int cli_acl_print(struct store_user *u, const char *mailbox, const char *indent);

/* Quota values (src/cli/cli-parse.c): SIZE is bytes (rounded up to KiB)
 * or a number with K, M, G or T; N a plain count up to INT64_MAX. */
bool cli_parse_storage_kib(const char *s, uint64_t *kib_r);
bool cli_parse_count(const char *s, uint64_t *n_r);

/* A heap string from a printf format; aborts when out of memory. */
char *cli_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* petrel version (src/cli/main.c): prints "petrel VERSION". */
int cli_version(int argc, char **argv);

/* Prints "petrel: " + message + newline to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* True when argv[1..argc-1] holds -h or --help before any "--". */
bool cli_wants_help(int argc, char **argv);

#endif
