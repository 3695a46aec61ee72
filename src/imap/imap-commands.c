#include "imap/imap-commands.h"

#include <string.h>

static const struct imap_command_def imap_command_table[] = {
	{ "AUTHENTICATE", cmd_authenticate, IMAP_STATE_NOT_AUTH, 0 },
	{ "CAPABILITY", cmd_capability, IMAP_STATES_ANY, 0 },
	{ "ENABLE", cmd_enable, IMAP_STATE_AUTH, 0 },
	{ "ID", cmd_id, IMAP_STATES_ANY, 0 },
	{ "LOGIN", cmd_login, IMAP_STATE_NOT_AUTH, 0 },
	{ "LOGOUT", cmd_logout, IMAP_STATES_ANY, 0 },
	{ "NOOP", cmd_noop, IMAP_STATES_ANY, 0 },
	{ "STARTTLS", cmd_starttls, IMAP_STATE_NOT_AUTH, 0 },
};

const struct imap_command_def *imap_command_find(const char *name)
{
	for (size_t i = 0; i < sizeof(imap_command_table) / sizeof(*imap_command_table); i++)
		if (strcmp(imap_command_table[i].name, name) == 0)
			return &imap_command_table[i];
	return NULL;
}
