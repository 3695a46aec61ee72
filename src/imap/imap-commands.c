#include "imap/imap-commands.h"
#include "imap/imap-capability.h"

#include <string.h>

static const struct imap_command_def imap_command_table[] = {
	{ "APPEND", cmd_append, IMAP_STATES_AUTHED, 0 },
	{ "AUTHENTICATE", cmd_authenticate, IMAP_STATE_NOT_AUTH, 0 },
	{ "CAPABILITY", cmd_capability, IMAP_STATES_ANY, 0 },
	{ "CHECK", cmd_check, IMAP_STATE_SELECTED, IMAP_CMDF_POLL },
	{ "CLOSE", cmd_close, IMAP_STATE_SELECTED, 0 },
	{ "COPY", cmd_copy, IMAP_STATE_SELECTED, IMAP_CMDF_UID },
	{ "CREATE", cmd_create, IMAP_STATES_AUTHED, 0 },
	{ "DELETE", cmd_delete, IMAP_STATES_AUTHED, 0 },
	{ "DELETEACL", cmd_deleteacl, IMAP_STATES_AUTHED, 0 },
	{ "ENABLE", cmd_enable, IMAP_STATE_AUTH, 0 },
	{ "EXAMINE", cmd_examine, IMAP_STATES_AUTHED, 0 },
	{ "EXPUNGE", cmd_expunge, IMAP_STATE_SELECTED, IMAP_CMDF_UID },
	{ "FETCH", cmd_fetch, IMAP_STATE_SELECTED, IMAP_CMDF_UID | IMAP_CMDF_NO_EXPUNGE },
	{ "GETACL", cmd_getacl, IMAP_STATES_AUTHED, 0 },
	{ "GETQUOTA", cmd_getquota, IMAP_STATES_AUTHED, 0 },
	{ "GETQUOTAROOT", cmd_getquotaroot, IMAP_STATES_AUTHED, 0 },
	{ "ID", cmd_id, IMAP_STATES_ANY, 0 },
	{ "IDLE", cmd_idle, IMAP_STATES_AUTHED, IMAP_CMDF_POLL },
	{ "LIST", cmd_list, IMAP_STATES_AUTHED, 0 },
	{ "LISTRIGHTS", cmd_listrights, IMAP_STATES_AUTHED, 0 },
	{ "LOGIN", cmd_login, IMAP_STATE_NOT_AUTH, 0 },
	{ "LOGOUT", cmd_logout, IMAP_STATES_ANY, 0 },
	{ "LSUB", cmd_lsub, IMAP_STATES_AUTHED, 0 },
	{ "MOVE", cmd_move, IMAP_STATE_SELECTED, IMAP_CMDF_UID },
	{ "MYRIGHTS", cmd_myrights, IMAP_STATES_AUTHED, 0 },
	{ "NAMESPACE", cmd_namespace, IMAP_STATES_AUTHED, 0 },
	{ "NOOP", cmd_noop, IMAP_STATES_ANY, IMAP_CMDF_POLL },
	{ "RENAME", cmd_rename, IMAP_STATES_AUTHED, 0 },
	{ "SELECT", cmd_select, IMAP_STATES_AUTHED, 0 },
	{ "SEARCH", cmd_search, IMAP_STATE_SELECTED, IMAP_CMDF_UID | IMAP_CMDF_NO_EXPUNGE },
	{ "SETACL", cmd_setacl, IMAP_STATES_AUTHED, 0 },
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

/* Commands that belong to a hideable extension. */
static const struct {
	const char *name;
	uint64_t caps;
} imap_command_caps_table[] = {
	{ "ENABLE", IMAP_CAP(ENABLE) },
	{ "GETQUOTA", IMAP_CAP(QUOTA) },
	{ "GETQUOTAROOT", IMAP_CAP(QUOTA) },
	{ "ID", IMAP_CAP(ID) },
	{ "IDLE", IMAP_CAP(IDLE) },
	{ "MOVE", IMAP_CAP(MOVE) },
	{ "NAMESPACE", IMAP_CAP(NAMESPACE) },
	{ "SETQUOTA", IMAP_CAP(QUOTA) },
	{ "SORT", IMAP_CAP(SORT) },
	{ "THREAD", IMAP_CAP(THREAD_ORDEREDSUBJECT) | IMAP_CAP(THREAD_REFERENCES) },
	{ "UNSELECT", IMAP_CAP(UNSELECT) },
};

uint64_t imap_command_caps(const char *name)
{
	size_t count = sizeof(imap_command_caps_table) / sizeof(*imap_command_caps_table);
	for (size_t i = 0; i < count; i++)
		if (strcmp(imap_command_caps_table[i].name, name) == 0)
			return imap_command_caps_table[i].caps;
	return 0;
}
