#ifndef PETREL_IMAP_COMMANDS_H
#define PETREL_IMAP_COMMANDS_H

/* The command table: name, handler, states in which the command is allowed,
 * flags. Adding a command means a cmd-<name>.c file and one row in
 * imap-commands.c. */

#include "imap/imap-session.h"

#define IMAP_CMDF_UID (1u << 0)        /* may follow the UID prefix */
#define IMAP_CMDF_UID_ONLY (1u << 1)   /* only with UID (UID EXPUNGE) */
/* Without UID, no EXPUNGE responses while it runs (FETCH, STORE, SEARCH). */
#define IMAP_CMDF_NO_EXPUNGE (1u << 2)

typedef enum imap_cmd_result imap_cmd_handler_t(struct imap_cmd *cmd);

struct imap_command_def {
	const char *name;
	imap_cmd_handler_t *handler;
	unsigned states;                /* enum imap_state bits */
	unsigned flags;
};

/* NULL for an unknown name. name is upper case. */
const struct imap_command_def *imap_command_find(const char *name);

imap_cmd_handler_t cmd_authenticate;
imap_cmd_handler_t cmd_capability;
imap_cmd_handler_t cmd_enable;
imap_cmd_handler_t cmd_id;
imap_cmd_handler_t cmd_login;
imap_cmd_handler_t cmd_logout;
imap_cmd_handler_t cmd_noop;
imap_cmd_handler_t cmd_starttls;

#endif
