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

/* petrel version (src/cli/main.c): prints "petrel VERSION". */
int cli_version(int argc, char **argv);

/* Prints "petrel: " + message + newline to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* True when argv[1..argc-1] holds -h or --help before any "--". */
bool cli_wants_help(int argc, char **argv);

#endif
