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
/* Asks for news (NOOP, CHECK, IDLE: RFC 9051 §6.1.2 and §6.3.13, RFC 3501
 * §6.4.1): the mailbox is always read again for it (imap_selected_sync). */
#define IMAP_CMDF_POLL (1u << 3)

typedef enum imap_cmd_result imap_cmd_handler_t(struct imap_cmd *cmd);

struct imap_command_def {
	const char *name;
	imap_cmd_handler_t *handler;
	unsigned states;                /* enum imap_state bits */
	unsigned flags;
};

/* NULL for an unknown name. name is upper case. */
const struct imap_command_def *imap_command_find(const char *name);

/* The extension a command belongs to, as IMAP_CAP bits (imap-capability.h),
 * 0 for the base protocol: a session that hides all of them does not know
 * the command. name is upper case. */
uint64_t imap_command_caps(const char *name);

imap_cmd_handler_t cmd_append;
imap_cmd_handler_t cmd_authenticate;
imap_cmd_handler_t cmd_capability;
imap_cmd_handler_t cmd_check;
imap_cmd_handler_t cmd_close;
imap_cmd_handler_t cmd_copy;
imap_cmd_handler_t cmd_create;
imap_cmd_handler_t cmd_delete;
imap_cmd_handler_t cmd_enable;
imap_cmd_handler_t cmd_examine;
imap_cmd_handler_t cmd_expunge;
imap_cmd_handler_t cmd_fetch;
imap_cmd_handler_t cmd_getquota;
imap_cmd_handler_t cmd_getquotaroot;
imap_cmd_handler_t cmd_id;
imap_cmd_handler_t cmd_idle;
imap_cmd_handler_t cmd_list;
imap_cmd_handler_t cmd_login;
imap_cmd_handler_t cmd_logout;
imap_cmd_handler_t cmd_move;
imap_cmd_handler_t cmd_myrights;
imap_cmd_handler_t cmd_lsub;
imap_cmd_handler_t cmd_namespace;
imap_cmd_handler_t cmd_deleteacl;
imap_cmd_handler_t cmd_getacl;
imap_cmd_handler_t cmd_listrights;
imap_cmd_handler_t cmd_setacl;
imap_cmd_handler_t cmd_noop;
imap_cmd_handler_t cmd_rename;
imap_cmd_handler_t cmd_search;
imap_cmd_handler_t cmd_select;
imap_cmd_handler_t cmd_setquota;
imap_cmd_handler_t cmd_sort;
imap_cmd_handler_t cmd_starttls;
imap_cmd_handler_t cmd_status;
imap_cmd_handler_t cmd_store;
imap_cmd_handler_t cmd_subscribe;
imap_cmd_handler_t cmd_thread;
imap_cmd_handler_t cmd_unselect;
imap_cmd_handler_t cmd_unsubscribe;

/* Shared by COPY and MOVE (cmd-copy.c). cmd_copy_execute reads "sequence-set
 * SP mailbox", checks both and copies (move: moves); when it returns false
 * it has answered the command (BAD, NO, NO [TRYCREATE]). map_r->count is 0
 * when nothing matched; its arrays come from cmd->arena.
 * cmd_copy_uid_code gives "COPYUID ..." for map (from cmd->arena). */
struct store_uid_map;
bool cmd_copy_execute(struct imap_cmd *cmd, bool move, struct store_uid_map *map_r);
const char *cmd_copy_uid_code(struct imap_cmd *cmd, const struct store_uid_map *map);

/* QUOTA (cmd-getquota.c): the user's usage and limits (false: answered NO),
 * and the untagged QUOTA response for a root. */
struct store_quota;
bool cmd_quota_get(struct imap_cmd *cmd, const char *owner, struct store_quota *quota_r);
void cmd_quota_send(struct imap_cmd *cmd, const char *root, const struct store_quota *q);

#endif
