#include "imap/imap-commands.h"
#include "imap/imap-mailbox-name.h"
#include "imap/imap-parser.h"
#include "imap/imap-selected.h"
#include "lib/log.h"
#include "net/conn.h"

/* Closes the current mailbox without expunging (SELECT of another mailbox,
 * UNSELECT). */
void imap_session_unselect(struct imap_session *s)
{
	imap_selected_free(&s->selected);
	s->state = IMAP_STATE_AUTH;
}

/* select = "SELECT" SP mailbox [select-params]
 * examine = "EXAMINE" SP mailbox [select-params]   (RFC 9051 §6.3.2-3) */
static enum imap_cmd_result select_or_examine(struct imap_cmd *cmd, bool readonly)
{
	struct imap_session *s = cmd->session;
	const char *name;
	if (cmd->arg_count != 1) {
		imap_cmd_bad(cmd, NULL, "%s expects one mailbox name", cmd->name);
		return IMAP_CMD_DONE;
	}
	if (!imap_mailbox_name_read(cmd, &cmd->args[0], IMAP_MAILBOX_NAME_EXISTING, &name))
		return IMAP_CMD_DONE;
	/* RFC 9051 §6.3.2: selecting closes the current mailbox first, even
	 * when the new SELECT fails; [CLOSED] marks where the old mailbox's
	 * responses end. */
	cmd->no_sync = true;
	if (s->selected != NULL) {
		imap_session_unselect(s);
		imap_send_untagged(s, "OK [CLOSED] Previous mailbox closed");
	}
	const char *error;
	struct store_user *u = imap_session_store(s, &error);
	if (u == NULL) {
		imap_cmd_no(cmd, "UNAVAILABLE", "Mail store unavailable");
		return IMAP_CMD_DONE;
	}
	struct imap_selected *sel;
	enum store_error err = imap_selected_open(s, u, name, readonly, &sel, &error);
	if (err != STORE_OK) {
		imap_mailbox_answer_store_error(cmd, err, error);
		return IMAP_CMD_DONE;
	}
	s->selected = sel;
	s->state = IMAP_STATE_SELECTED;
	imap_selected_send_state(cmd, u);
	imap_cmd_ok(cmd, readonly ? "READ-ONLY" : "READ-WRITE", "%s completed", cmd->name);
	return IMAP_CMD_DONE;
}

enum imap_cmd_result cmd_select(struct imap_cmd *cmd)
{
	return select_or_examine(cmd, false);
}

enum imap_cmd_result cmd_examine(struct imap_cmd *cmd)
{
	return select_or_examine(cmd, true);
}
