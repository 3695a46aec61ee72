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

#include <stdbool.h>

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

/* A heap string from a printf format; aborts when out of memory. */
char *cli_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* petrel version (src/cli/main.c): prints "petrel VERSION". */
int cli_version(int argc, char **argv);

/* Prints "petrel: " + message + newline to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* True when argv[1..argc-1] holds -h or --help before any "--". */
bool cli_wants_help(int argc, char **argv);

#endif
