#include "imap/imap-qresync.h"
#include "imap/imap-mailbox-name.h"
#include "imap/imap-selected.h"
#include "imap/imap-session.h"
#include "lib/buf.h"

/* The highest UID up to which the client's sequence match data proves it
 * has seen every expunge: the last pair that still matches the view. */
static uint32_t qresync_matched_uid(const struct imap_selected *sel,
				    const struct imap_qresync_match *match)
{
	struct imap_seqset_iter si, ui;
	uint32_t seq, uid, proven = 0;
	imap_seqset_iter_init(&si, &match->seqs);
	imap_seqset_iter_init(&ui, &match->uids);
	while (imap_seqset_iter_next(&si, &seq) && imap_seqset_iter_next(&ui, &uid)) {
		if (seq == 0 || seq > sel->count || sel->uids[seq - 1] != uid)
			break;
		proven = uid;
	}
	return proven;
}

/* Adds to out every UID of [first, last] missing from uids (ascending).
 * The walk follows the array, not the width of the range, so "1:*" over a
 * mailbox with a few messages is cheap. */
static void qresync_add_gaps(const uint32_t *uids, size_t count, uint64_t first, uint64_t last,
			     struct imap_seqset *out)
{
	size_t lo = 0, hi = count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (uids[mid] < first)
			lo = mid + 1;
		else
			hi = mid;
	}
	uint64_t next = first;
	while (next <= last) {
		uint64_t present = lo < count ? uids[lo] : (uint64_t)UINT32_MAX + 1;
		uint64_t gap_end = present <= last ? present - 1 : last;
		if (gap_end >= next)
			imap_seqset_add_range(out, (uint32_t)next, (uint32_t)gap_end);
		next = present + 1;
		lo++;
	}
}

/* The store no longer knows what was expunged since the client's MODSEQ
 * (RFC 7162 §3.2.6: then report every expunged UID of the set): every
 * known UID above what the match data proves that does not exist now is
 * reported. UIDs that never existed may be among them (allowed); none
 * that did is left out, because ch->present is the exact list of UIDs in
 * the same snapshot. UIDs the session still shows (expunged, not yet
 * announced) are left to the EXPUNGE or VANISHED that removes them, as in
 * the complete case. */
static void qresync_add_absent(const struct imap_selected *sel, const struct store_changes *ch,
			       const struct imap_seqset *known, uint32_t above,
			       struct imap_seqset *out)
{
	for (size_t r = 0; r < known->count; r++) {
		uint64_t first = known->ranges[r].first, last = known->ranges[r].last;
		if (last <= above)
			continue;
		if (first <= above)
			first = (uint64_t)above + 1;
		qresync_add_gaps(ch->present, ch->present_count, first, last, out);
	}
	struct imap_seqset shown = IMAP_SEQSET_INIT;
	for (size_t r = 0; r < out->count; r++) {
		uint32_t i = imap_selected_lower_bound(sel, out->ranges[r].first);
		for (; i < sel->count && sel->uids[i] <= out->ranges[r].last; i++)
			imap_seqset_add(&shown, sel->uids[i]);
	}
	for (size_t r = 0; r < shown.count; r++)
		imap_seqset_remove_range(out, shown.ranges[r].first, shown.ranges[r].last);
	imap_seqset_free(&shown);
}

bool imap_qresync_changes(struct imap_cmd *cmd, uint64_t modseq, struct store_changes *ch_r)
{
	struct imap_session *s = cmd->session;
	const char *error;
	struct store_user *u = imap_selected_store(s, &error);
	enum store_error err = u == NULL ? STORE_ERR_INTERNAL
				 : store_mailbox_changes(u, s->selected->mailbox_id, modseq,
							 cmd->arena, ch_r, &error);
	if (err != STORE_OK) {
		imap_mailbox_answer_store_error(cmd, err, error);
		return false;
	}
	return true;
}

void imap_qresync_send_vanished(struct imap_cmd *cmd, const struct store_changes *ch,
				const struct imap_seqset *known,
				const struct imap_qresync_match *match)
{
	struct imap_session *s = cmd->session;
	struct imap_selected *sel = s->selected;
	struct imap_seqset vanished = IMAP_SEQSET_INIT;
	if (ch->vanished_incomplete) {
		uint32_t above = match != NULL ? qresync_matched_uid(sel, match) : 0;
		qresync_add_absent(sel, ch, known, above, &vanished);
	} else {
		for (size_t i = 0; i < ch->vanished_count; i++)
			if (imap_seqset_contains(known, ch->vanished[i]) &&
			    imap_selected_seq(sel, ch->vanished[i]) == 0)
				imap_seqset_add(&vanished, ch->vanished[i]);
	}
	if (!imap_seqset_is_empty(&vanished)) {
		struct buf line = BUF_INIT;
		buf_append_str(&line, "VANISHED (EARLIER) ");
		imap_seqset_format(&vanished, &line);
		imap_send_untagged(s, "%s", buf_cstr(&line));
		buf_free(&line);
	}
	imap_seqset_free(&vanished);
}

void imap_qresync_send_changes(struct imap_cmd *cmd, const struct store_changes *ch,
			       const struct imap_seqset *known)
{
	struct imap_session *s = cmd->session;
	struct imap_selected *sel = s->selected;
	for (size_t i = 0; i < ch->changed_count; i++) {
		const struct store_msg_flags *m = &ch->changed[i];
		uint32_t seq = imap_selected_seq(sel, m->uid);
		if (seq == 0 || !imap_seqset_contains(known, m->uid))
			continue;
		struct buf line = BUF_INIT;
		buf_printf(&line, "%u FETCH (UID %u FLAGS ", seq, m->uid);
		imap_flags_append(&line, m->flags, (const char *const *)m->keywords,
				  m->keyword_count, imap_selected_is_recent(sel, m->uid));
		buf_printf(&line, " MODSEQ (%llu))", (unsigned long long)m->modseq);
		imap_send_untagged(s, "%s", buf_cstr(&line));
		buf_free(&line);
		imap_selected_note_flags(sel, m->uid, m->flags, m->modseq);
	}
}
