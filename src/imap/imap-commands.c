#include "imap/imap-commands.h"

#include <string.h>

static const struct imap_command_def imap_command_table[] = {
	{ "APPEND", cmd_append, IMAP_STATES_AUTHED, 0 },
	{ "AUTHENTICATE", cmd_authenticate, IMAP_STATE_NOT_AUTH, 0 },
	{ "CAPABILITY", cmd_capability, IMAP_STATES_ANY, 0 },
	{ "CHECK", cmd_check, IMAP_STATE_SELECTED, 0 },
	{ "CLOSE", cmd_close, IMAP_STATE_SELECTED, 0 },
	{ "COPY", cmd_copy, IMAP_STATE_SELECTED, IMAP_CMDF_UID },
	{ "CREATE", cmd_create, IMAP_STATES_AUTHED, 0 },
	{ "DELETE", cmd_delete, IMAP_STATES_AUTHED, 0 },
	{ "ENABLE", cmd_enable, IMAP_STATE_AUTH, 0 },
	{ "EXAMINE", cmd_examine, IMAP_STATES_AUTHED, 0 },
	{ "EXPUNGE", cmd_expunge, IMAP_STATE_SELECTED, IMAP_CMDF_UID },
	{ "FETCH", cmd_fetch, IMAP_STATE_SELECTED, IMAP_CMDF_UID | IMAP_CMDF_NO_EXPUNGE },
	{ "GETQUOTA", cmd_getquota, IMAP_STATES_AUTHED, 0 },
	{ "GETQUOTAROOT", cmd_getquotaroot, IMAP_STATES_AUTHED, 0 },
	{ "ID", cmd_id, IMAP_STATES_ANY, 0 },
	{ "IDLE", cmd_idle, IMAP_STATES_AUTHED, 0 },
	{ "LIST", cmd_list, IMAP_STATES_AUTHED, 0 },
	{ "LOGIN", cmd_login, IMAP_STATE_NOT_AUTH, 0 },
	{ "LOGOUT", cmd_logout, IMAP_STATES_ANY, 0 },
	{ "LSUB", cmd_lsub, IMAP_STATES_AUTHED, 0 },
	{ "MOVE", cmd_move, IMAP_STATE_SELECTED, IMAP_CMDF_UID },
	{ "NAMESPACE", cmd_namespace, IMAP_STATES_AUTHED, 0 },
	{ "NOOP", cmd_noop, IMAP_STATES_ANY, 0 },
	{ "RENAME", cmd_rename, IMAP_STATES_AUTHED, 0 },
	{ "SELECT", cmd_select, IMAP_STATES_AUTHED, 0 },
	{ "SEARCH", cmd_search, IMAP_STATE_SELECTED, IMAP_CMDF_UID | IMAP_CMDF_NO_EXPUNGE },
	{ "SETQUOTA", cmd_setquota, IMAP_STATES_AUTHED, 0 },
	{ "SORT", cmd_sort, IMAP_STATE_SELECTED, IMAP_CMDF_UID | IMAP_CMDF_NO_EXPUNGE },
	{ "STARTTLS", cmd_starttls, IMAP_STATE_NOT_AUTH, 0 },
	{ "STATUS", cmd_status, IMAP_STATES_AUTHED, 0 },
	{ "STORE", cmd_store, IMAP_STATE_SELECTED, IMAP_CMDF_UID | IMAP_CMDF_NO_EXPUNGE },
	{ "SUBSCRIBE", cmd_subscribe, IMAP_STATES_AUTHED, 0 },
	{ "THREAD", cmd_thread, IMAP_STATE_SELECTED, IMAP_CMDF_UID | IMAP_CMDF_NO_EXPUNGE },
	{ "UNSELECT", cmd_unselect, IMAP_STATE_SELECTED, 0 },
	{ "UNSUBSCRIBE", cmd_unsubscribe, IMAP_STATES_AUTHED, 0 },
};

const struct imap_command_def *imap_command_find(const char *name)
{
	for (size_t i = 0; i < sizeof(imap_command_table) / sizeof(*imap_command_table); i++)
		if (strcmp(imap_command_table[i].name, name) == 0)
			return &imap_command_table[i];
	return NULL;
}
