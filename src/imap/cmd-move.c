#include "imap/imap-commands.h"
#include "imap/imap-selected.h"

#include <stdio.h>

/* MOVE and UID MOVE (RFC 6851, RFC 9051 §6.4.8). The store copies and
 * expunges in one transaction, so each message is either moved or left
 * alone. Arguments and COPYUID are shared with COPY (cmd-copy.c). */

/* Answers a move that moved count > 0 messages: COPYUID in an untagged OK
 * before the expunge responses (RFC 9051 §6.4.8, RFC 6851 §4.3), then
 * EXPUNGE, or VANISHED for QRESYNC clients (RFC 6851 §4.4). */
static void move_answer(struct imap_cmd *cmd, const struct store_uid_map *map)
{
	struct imap_session *s = cmd->session;
	imap_send_untagged(s, "OK [%s] Moved", cmd_copy_uid_code(cmd, map));
	imap_selected_remove_expunged(s, map->src_uids, map->count, true);
	const char *done = cmd->uid ? "UID MOVE completed" : "MOVE completed";
	if (!(s->enabled & (IMAP_ENABLED_CONDSTORE | IMAP_ENABLED_QRESYNC))) {
		imap_cmd_ok(cmd, NULL, "%s", done);
		return;
	}
	/* RFC 6851 §4.4: the mailbox's new HIGHESTMODSEQ in the tagged OK.
	 * Syncing first makes the value one whose changes the client has all
	 * been told about. */
	imap_selected_sync(s, true);
	char code[48];
	snprintf(code, sizeof(code), "HIGHESTMODSEQ %llu",
		 (unsigned long long)s->selected->highestmodseq);
	imap_cmd_ok(cmd, code, "%s", done);
}

enum imap_cmd_result cmd_move(struct imap_cmd *cmd)
{
	struct store_uid_map map;
	if (!cmd_copy_execute(cmd, true, &map))
		return IMAP_CMD_DONE;
	if (map.count == 0) {
		/* An empty set, or every message was expunged meanwhile. */
		imap_cmd_ok(cmd, NULL, "%sMOVE completed", cmd->uid ? "UID " : "");
		return IMAP_CMD_DONE;
	}
	move_answer(cmd, &map);
	return IMAP_CMD_DONE;
}
