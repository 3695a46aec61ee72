#ifndef PETREL_IMAP_AUTH_H
#define PETREL_IMAP_AUTH_H

/* Password checks for LOGIN and AUTHENTICATE. Argon2id takes ~0.1 s of CPU,
 * so the check runs on a small thread pool, never on a worker's event loop;
 * the answer comes back to the session's worker. Failed logins are throttled
 * per address and per user, and answered after a delay that grows with the
 * failures; the answer never tells whether the user exists. */

#include "imap/imap-session.h"

#include <stddef.h>

struct petrel_config;

/* Process-wide set-up, before the workers start / after they stop. */
void imap_auth_init(const struct petrel_config *cfg);
void imap_auth_deinit(void);

/* Checks user/password and finishes cmd: "OK [CAPABILITY ...]" and the
 * AUTH state on success, "NO [AUTHENTICATIONFAILED]" after the failure
 * delay, "NO [UNAVAILABLE]" if the user database cannot be read. Returns
 * IMAP_CMD_WAIT: the command completes later. */
enum imap_cmd_result imap_auth_verify(struct imap_cmd *cmd, const char *user,
				      const void *password, size_t password_len);

#endif
