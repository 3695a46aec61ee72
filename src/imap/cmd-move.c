#include "imap/imap-commands.h"
#include "imap/imap-mailbox-name.h"
#include "imap/imap-selected.h"

#include <stdio.h>

/* MOVE and UID MOVE (RFC 6851, RFC 9051 §6.4.8). The store copies and
 * expunges in one transaction, so each message is either moved or left
 * alone. Arguments and COPYUID are shared with COPY (cmd-copy.c). */

/* A target deleted between the lookup and the move is still TRYCREATE. */
static void move_answer_store_error(struct imap_cmd *cmd, enum store_error err, const char *error)
{
	if (err == STORE_ERR_NONEXISTENT)
		imap_cmd_no(cmd, "TRYCREATE", "Mailbox does not exist");
	else
		imap_mailbox_answer_store_error(cmd, err, error);
}

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
	struct imap_session *s = cmd->session;
	struct store_uid_range *ranges;
	size_t range_count;
	uint64_t dst_id;
	if (!cmd_copy_prepare(cmd, true, &ranges, &range_count, &dst_id))
		return IMAP_CMD_DONE;
	if (dst_id == s->selected->mailbox_id) {
		imap_cmd_no(cmd, "CANNOT", "Cannot move messages into the same mailbox");
		return IMAP_CMD_DONE;
	}
	if (range_count == 0) {
		imap_cmd_ok(cmd, NULL, "%sMOVE completed", cmd->uid ? "UID " : "");
		return IMAP_CMD_DONE;
	}
	const char *error;
	struct store_user *u = imap_session_store(s, &error);
	struct store_uid_map map;
	enum store_error err = u == NULL ? STORE_ERR_INTERNAL
				 : store_msg_move(u, s->selected->mailbox_id, ranges, range_count,
						  dst_id, cmd->arena, &map, &error);
	if (err != STORE_OK) {
		move_answer_store_error(cmd, err, error);
		return IMAP_CMD_DONE;
	}
	if (map.count == 0) {
		/* Every message of the set was expunged meanwhile. */
		imap_cmd_ok(cmd, NULL, "%sMOVE completed", cmd->uid ? "UID " : "");
		return IMAP_CMD_DONE;
	}
	move_answer(cmd, &map);
	return IMAP_CMD_DONE;
}
