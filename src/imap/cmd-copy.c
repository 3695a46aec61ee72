#include "imap/imap-access.h"
#include "imap/imap-commands.h"
#include "imap/imap-flags.h"
#include "imap/imap-mailbox-name.h"
#include "imap/imap-parser.h"
#include "imap/imap-selected.h"
#include "lib/arena.h"
#include "lib/buf.h"

#include <string.h>

/* COPY and UID COPY (RFC 9051 §6.4.7) with COPYUID (RFC 4315 §3). Everything
 * up to the store call, and the COPYUID code, is shared with MOVE
 * (cmd-move.c). */

/* Where the messages go. */
struct copy_target {
	struct imap_mailbox mb;
	uint64_t id;
};

/* copy = "COPY" SP sequence-set SP mailbox    (RFC 9051 §9)
 * move = "MOVE" SP sequence-set SP mailbox    (RFC 6851 §5)
 * Syntax errors are BAD; a MOVE out of a read-only mailbox is NO, and out
 * of a shared one needs the "t" and "e" rights there; the target needs
 * "i" (RFC 4314 §4). A target that does not exist (or exists only as
 * \Noselect, which CREATE turns into a mailbox) is NO [TRYCREATE]
 * (RFC 9051 §6.4.7). */
static bool copy_prepare(struct imap_cmd *cmd, bool move, struct store_uid_range **ranges_r,
			 size_t *count_r, struct copy_target *dst_r)
{
	struct imap_session *s = cmd->session;
	const char *set_text, *mailbox, *data, *error;
	size_t len;
	if (cmd->arg_count != 2 || !imap_arg_get_atom(&cmd->args[0], &set_text) ||
	    !imap_arg_get_astring(&cmd->args[1], &data, &len)) {
		imap_cmd_bad(cmd, NULL, "%s expects a sequence set and a mailbox", cmd->name);
		return false;
	}
	struct imap_seqset uids = IMAP_SEQSET_INIT;
	if (!imap_selected_parse_set(s->selected, set_text, cmd->uid, &uids, &error)) {
		imap_seqset_free(&uids);
		imap_cmd_bad(cmd, NULL, "%s", error);
		return false;
	}
	*ranges_r = imap_selected_ranges(cmd, &uids, count_r);
	imap_seqset_free(&uids);
	if (move && s->selected->readonly) {
		imap_cmd_no(cmd, NULL, "Mailbox is read-only");
		return false;
	}
	const unsigned move_rights = STORE_RIGHT_DELETED | STORE_RIGHT_EXPUNGE;
	if (move)
		(void)imap_selected_store(s, &error); /* rights as of now */
	if (move && (s->selected->rights & move_rights) != move_rights) {
		imap_mailbox_answer_noperm(cmd, move_rights, s->selected->rights);
		return false;
	}
	if (!imap_mailbox_name_read(cmd, &cmd->args[1], IMAP_MAILBOX_NAME_EXISTING, &mailbox) ||
	    !imap_mailbox_access(cmd, mailbox, STORE_RIGHT_INSERT, &dst_r->mb))
		return false;
	struct store_mailbox_status st;
	enum store_error err = store_mailbox_status(dst_r->mb.store, dst_r->mb.ref.name, &st,
						    &error);
	if (err == STORE_ERR_NONEXISTENT || (err == STORE_OK && st.noselect)) {
		imap_cmd_no(cmd, "TRYCREATE", "Mailbox does not exist");
		return false;
	}
	if (err != STORE_OK) {
		imap_mailbox_answer_store_error(cmd, err, error);
		return false;
	}
	dst_r->id = st.id;
	return true;
}

/* resp-code-copy = "COPYUID" SP nz-number SP uid-set SP uid-set
 *                                                  (RFC 4315 §4)
 * The store returns both lists ascending and pairwise, so each compresses
 * into ranges and the two sets stay in the same order. */
const char *cmd_copy_uid_code(struct imap_cmd *cmd, const struct store_uid_map *map)
{
	struct imap_seqset src = IMAP_SEQSET_INIT, dst = IMAP_SEQSET_INIT;
	for (size_t i = 0; i < map->count; i++) {
		imap_seqset_add(&src, map->src_uids[i]);
		imap_seqset_add(&dst, map->dst_uids[i]);
	}
	struct buf code = BUF_INIT;
	buf_printf(&code, "COPYUID %u ", map->dst_uidvalidity);
	imap_seqset_format(&src, &code);
	buf_append_char(&code, ' ');
	imap_seqset_format(&dst, &code);
	const char *result = arena_strdup(cmd->arena, buf_cstr(&code));
	buf_free(&code);
	imap_seqset_free(&src);
	imap_seqset_free(&dst);
	return result;
}

/* Answers a failed copy or move. A target deleted (or left \Noselect)
 * between the lookup and the store call is still TRYCREATE; a source
 * deleted meanwhile is not. */
static void copy_answer_store_error(struct imap_cmd *cmd, const struct copy_target *dst,
				    enum store_error err, const char *error)
{
	const char *ignored;
	struct store_mailbox_status st;
	/* error lives in the store's buffer until its next call. */
	error = arena_strdup(cmd->arena, error != NULL ? error : store_error_name(err));
	struct store_user *u = imap_session_store_of(cmd->session, dst->mb.ref.owner, &ignored);
	if ((err == STORE_ERR_NONEXISTENT || err == STORE_ERR_CANNOT) && u != NULL) {
		enum store_error gone = store_mailbox_status_by_id(u, dst->id, &st, &ignored);
		if (gone == STORE_ERR_NONEXISTENT || (gone == STORE_OK && st.noselect)) {
			imap_cmd_no(cmd, "TRYCREATE", "Mailbox does not exist");
			return;
		}
	}
	imap_mailbox_answer_store_error(cmd, err, error);
}

bool cmd_copy_execute(struct imap_cmd *cmd, bool move, struct store_uid_map *map_r)
{
	struct imap_session *s = cmd->session;
	struct store_uid_range *ranges;
	size_t range_count;
	struct copy_target dst;
	if (!copy_prepare(cmd, move, &ranges, &range_count, &dst))
		return false;
	uint64_t src_id = s->selected->mailbox_id;
	bool same_store = strcmp(dst.mb.ref.owner, s->selected->owner) == 0;
	if (move && same_store && dst.id == src_id) {
		/* RFC 6851 §3.3 allows it wherever COPY into the same
		 * mailbox is allowed, but the store refuses it (CANNOT from
		 * store_msg_move): say so before anything is done. */
		imap_cmd_no(cmd, "CANNOT", "Cannot move messages into the same mailbox");
		return false;
	}
	memset(map_r, 0, sizeof(*map_r));
	if (range_count == 0)
		return true;
	/* RFC 4314 §4: flags the target's rights do not allow are dropped. */
	struct store_copy_mask mask = {
		.drop_flags = STORE_FLAGS_ALL & ~imap_flags_permitted(dst.mb.rights),
		.drop_keywords = !(dst.mb.rights & STORE_RIGHT_WRITE),
	};
	const char *error;
	struct store_user *src = imap_selected_store(s, &error);
	enum store_error err;
	if (src == NULL)
		err = STORE_ERR_INTERNAL;
	else if (!same_store)
		err = store_msg_copy_across(src, src_id, ranges, range_count,
					    imap_session_store_of(s, dst.mb.ref.owner, &error),
					    dst.id, move, &mask, cmd->arena, map_r, &error);
	else if (move)
		err = store_msg_move(src, src_id, ranges, range_count, dst.id, &mask, cmd->arena,
				     map_r, &error);
	else
		err = store_msg_copy(src, src_id, ranges, range_count, dst.id, &mask, cmd->arena,
				     map_r, &error);
	if (err != STORE_OK) {
		copy_answer_store_error(cmd, &dst, err, error);
		return false;
	}
	return true;
}

/* Messages of the set that another session expunged cannot be copied any
 * more (RFC 2180 §4.4): the rest is copied and COPYUID says which; the
 * EXPUNGE responses for the others precede the tagged OK. */
enum imap_cmd_result cmd_copy(struct imap_cmd *cmd)
{
	struct store_uid_map map;
	if (!cmd_copy_execute(cmd, false, &map))
		return IMAP_CMD_DONE;
	/* RFC 4315 §3: no COPYUID when nothing was copied. */
	imap_cmd_ok(cmd, map.count > 0 ? cmd_copy_uid_code(cmd, &map) : NULL, "%sCOPY completed",
		    cmd->uid ? "UID " : "");
	return IMAP_CMD_DONE;
}
