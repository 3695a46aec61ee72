#include "imap/imap-selected.h"
#include "imap/imap-capability.h"
#include "imap/imap-commands.h"
#include "imap/imap-compat.h"
#include "imap/imap-flags.h"
#include "imap/imap-session.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"
#include "net/conn.h"

#include <string.h>

static const struct {
	uint32_t bit;
	const char *name;
} imap_system_flags[] = {
	{ STORE_FLAG_ANSWERED, "\\Answered" },
	{ STORE_FLAG_FLAGGED, "\\Flagged" },
	{ STORE_FLAG_DELETED, "\\Deleted" },
	{ STORE_FLAG_SEEN, "\\Seen" },
	{ STORE_FLAG_DRAFT, "\\Draft" },
};

void imap_flags_append(struct buf *out, uint32_t flags, const char *const *keywords,
		       size_t keyword_count, bool recent)
{
	bool first = true;
	buf_append_char(out, '(');
	for (size_t i = 0; i < sizeof(imap_system_flags) / sizeof(*imap_system_flags); i++) {
		if (!(flags & imap_system_flags[i].bit))
			continue;
		if (!first)
			buf_append_char(out, ' ');
		buf_append_str(out, imap_system_flags[i].name);
		first = false;
	}
	if (recent) {
		buf_append_str(out, first ? "\\Recent" : " \\Recent");
		first = false;
	}
	for (size_t i = 0; i < keyword_count; i++) {
		if (!first)
			buf_append_char(out, ' ');
		buf_append_str(out, keywords[i]);
		first = false;
	}
	buf_append_char(out, ')');
}

static void imap_selected_reserve(struct imap_selected *sel, uint32_t need)
{
	if (need <= sel->alloc)
		return;
	uint32_t alloc = sel->alloc ? sel->alloc : 16;
	while (alloc < need)
		alloc *= 2;
	sel->uids = xrealloc(sel->uids, (size_t)alloc * sizeof(*sel->uids));
	sel->flags = xrealloc(sel->flags, (size_t)alloc * sizeof(*sel->flags));
	sel->modseqs = xrealloc(sel->modseqs, (size_t)alloc * sizeof(*sel->modseqs));
	sel->alloc = alloc;
}

static void imap_selected_push(struct imap_selected *sel, uint32_t uid, uint32_t flags,
			       uint64_t modseq)
{
	imap_selected_reserve(sel, sel->count + 1);
	sel->uids[sel->count] = uid;
	sel->flags[sel->count] = flags;
	sel->modseqs[sel->count] = modseq;
	sel->count++;
}

static void imap_selected_claim_recent(struct imap_selected *sel, struct store_user *u)
{
	uint32_t first, end;
	const char *error;
	/* IMAP4rev2 has no \Recent: such a session leaves it to others. */
	if (sel->readonly || sel->hide_recent)
		return;
	if (store_mailbox_claim_recent(u, sel->mailbox_id, &first, &end, &error) == STORE_OK &&
	    end > first)
		imap_seqset_add_range(&sel->recent, first, end - 1);
}

enum store_error imap_selected_open(struct imap_session *s, struct store_user *u,
				    const char *name, bool readonly,
				    struct imap_selected **sel_r, const char **error_r)
{
	struct store_mailbox_status st;
	enum store_error err = store_mailbox_status(u, name, &st, error_r);
	if (err != STORE_OK)
		return err;
	if (st.noselect) {
		*error_r = "Mailbox cannot be selected (\\Noselect)";
		return STORE_ERR_CANNOT;
	}
	struct store_view view;
	err = store_view_load(u, st.id, &view, error_r);
	if (err != STORE_OK)
		return err;
	struct imap_selected *sel = xcalloc(1, sizeof(*sel));
	sel->mailbox_id = st.id;
	sel->name = xstrdup(name);
	sel->owner = xstrdup(store_user_name(u));
	sel->shared = strcmp(sel->owner, s->user) != 0;
	sel->rights = STORE_RIGHTS_ALL;
	sel->readonly = readonly;
	sel->hide_recent = (s->enabled & IMAP_ENABLED_IMAP4REV2) != 0;
	sel->uidvalidity = view.uidvalidity;
	sel->uidnext = view.uidnext;
	sel->highestmodseq = view.highestmodseq;
	sel->generation = view.generation;
	sel->count = sel->alloc = view.count;
	/* The view's arrays become ours. */
	sel->uids = view.uids;
	sel->flags = view.flags;
	sel->modseqs = view.modseqs;
	imap_seqset_init(&sel->recent);
	imap_seqset_init(&sel->pending_expunge);
	imap_seqset_init(&sel->saved);
	imap_selected_claim_recent(sel, u);
	*sel_r = sel;
	return STORE_OK;
}

void imap_selected_free(struct imap_selected **selp)
{
	struct imap_selected *sel = *selp;
	if (sel == NULL)
		return;
	free(sel->name);
	free(sel->owner);
	free(sel->uids);
	free(sel->flags);
	free(sel->modseqs);
	imap_seqset_free(&sel->recent);
	imap_seqset_free(&sel->pending_expunge);
	imap_seqset_free(&sel->saved);
	free(sel);
	*selp = NULL;
}

static void imap_selected_send_flags(struct imap_session *s, struct store_user *u)
{
	struct imap_selected *sel = s->selected;
	const char **keywords = NULL;
	size_t count = 0;
	const char *error;
	if (store_mailbox_keywords(u, sel->mailbox_id, s->cmd_arena, &keywords, &count, &error) !=
	    STORE_OK)
		count = 0;
	struct buf line = BUF_INIT;
	buf_append_str(&line, "FLAGS ");
	imap_flags_append(&line, STORE_FLAGS_ALL, keywords, count, false);
	imap_send_untagged(s, "%s", buf_cstr(&line));
	buf_reset(&line);
	/* RFC 9051 §7.1: PERMANENTFLAGS; "\*" means new keywords can be
	 * made. A read-only mailbox has none; otherwise only the flags the
	 * session has the right to change (RFC 4314 §5.1.1: \Seen needs "s",
	 * \Deleted "t", the others and keywords "w"). */
	uint32_t settable = imap_flags_permitted(sel->rights);
	bool write = (sel->rights & STORE_RIGHT_WRITE) != 0;
	if (sel->readonly) {
		buf_append_str(&line, "()");
	} else if (!write || count >= s->cfg->keywords) {
		/* At the keyword limit: no "\*", clients cannot make more. */
		imap_flags_append(&line, settable, keywords, write ? count : 0, false);
	} else {
		imap_flags_append(&line, settable, keywords, count, false);
		line.len--; /* reopen the list for \* */
		buf_append_str(&line, line.data[line.len - 1] == '(' ? "\\*)" : " \\*)");
	}
	imap_send_untagged(s, "OK [PERMANENTFLAGS %s] Flags permitted", buf_cstr(&line));
	buf_free(&line);
	sel->keywords_announced = count;
}

static uint32_t imap_selected_recent_count(const struct imap_selected *sel)
{
	uint32_t n = 0;
	for (size_t i = 0; i < sel->recent.count; i++) {
		uint32_t lo = imap_selected_lower_bound(sel, sel->recent.ranges[i].first);
		uint32_t hi = imap_selected_lower_bound(sel, sel->recent.ranges[i].last);
		if (hi < sel->count && sel->uids[hi] == sel->recent.ranges[i].last)
			hi++;
		n += hi - lo;
	}
	return n;
}

void imap_selected_send_state(struct imap_cmd *cmd, struct store_user *u)
{
	struct imap_session *s = cmd->session;
	struct imap_selected *sel = s->selected;
	bool rev1 = !(s->enabled & IMAP_ENABLED_IMAP4REV2);
	imap_selected_send_flags(s, u);
	imap_send_untagged(s, "%u EXISTS", sel->count);
	if (rev1)
		imap_send_untagged(s, "%u RECENT", imap_selected_recent_count(sel));
	if (rev1) {
		for (uint32_t i = 0; i < sel->count; i++) {
			if (!(sel->flags[i] & STORE_FLAG_SEEN)) {
				imap_send_untagged(s, "OK [UNSEEN %u] First unseen", i + 1);
				break;
			}
		}
	}
	imap_send_untagged(s, "OK [UIDVALIDITY %u] UIDs valid", sel->uidvalidity);
	imap_send_untagged(s, "OK [UIDNEXT %u] Predicted next UID", sel->uidnext);
	/* RFC 7162 §3.1.2.1, from servers that offer CONDSTORE. */
	if (!imap_cap_hidden(s, IMAP_CAP(CONDSTORE)))
		imap_send_untagged(s, "OK [HIGHESTMODSEQ %llu] Highest",
				   (unsigned long long)sel->highestmodseq);
}

uint32_t imap_selected_lower_bound(const struct imap_selected *sel, uint32_t uid)
{
	uint32_t lo = 0, hi = sel->count;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (sel->uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

uint32_t imap_selected_seq(const struct imap_selected *sel, uint32_t uid)
{
	uint32_t i = imap_selected_lower_bound(sel, uid);
	return i < sel->count && sel->uids[i] == uid ? i + 1 : 0;
}

bool imap_selected_is_recent(const struct imap_selected *sel, uint32_t uid)
{
	return !sel->hide_recent && imap_seqset_contains(&sel->recent, uid);
}

static void imap_selected_resolve_uids(const struct imap_selected *sel,
				       const struct imap_seqset *set, struct imap_seqset *uids_r)
{
	/* Keep only UIDs that exist in the view: walk the view from each
	 * range's lower bound, so the cost follows what matches, not the
	 * size of the ranges (1:4294967295 is cheap). */
	for (size_t r = 0; r < set->count; r++) {
		uint32_t i = imap_selected_lower_bound(sel, set->ranges[r].first);
		for (; i < sel->count && sel->uids[i] <= set->ranges[r].last; i++)
			imap_seqset_add(uids_r, sel->uids[i]);
	}
}

bool imap_selected_resolve(const struct imap_selected *sel, const struct imap_seqset_spec *spec,
			   bool uid, struct imap_seqset *uids_r, const char **error_r)
{
	struct imap_seqset set = IMAP_SEQSET_INIT;
	imap_seqset_clear(uids_r);
	if (uid) {
		uint32_t max = sel->count ? sel->uids[sel->count - 1] : 0;
		imap_seqset_resolve(spec, max, &sel->saved, &set);
		imap_selected_resolve_uids(sel, &set, uids_r);
		imap_seqset_free(&set);
		return true;
	}
	/* "$" holds UIDs; turn them into sequence numbers of the view. */
	struct imap_seqset saved_seqs = IMAP_SEQSET_INIT;
	if (spec->dollar) {
		struct imap_seqset_iter it;
		uint32_t u;
		imap_seqset_iter_init(&it, &sel->saved);
		while (imap_seqset_iter_next(&it, &u)) {
			uint32_t seq = imap_selected_seq(sel, u);
			if (seq != 0)
				imap_seqset_add(&saved_seqs, seq);
		}
	}
	imap_seqset_resolve(spec, sel->count, &saved_seqs, &set);
	imap_seqset_free(&saved_seqs);
	uint32_t last;
	if (imap_seqset_last(&set, &last) && last > sel->count) {
		imap_seqset_free(&set);
		*error_r = "Invalid message sequence number";
		return false;
	}
	for (size_t r = 0; r < set.count; r++)
		for (uint64_t n = set.ranges[r].first; n <= set.ranges[r].last; n++)
			imap_seqset_add(uids_r, sel->uids[n - 1]);
	imap_seqset_free(&set);
	return true;
}

bool imap_selected_parse_set(const struct imap_selected *sel, const char *text, bool uid,
			     struct imap_seqset *uids_r, const char **error_r)
{
	struct imap_seqset_spec spec;
	if (!imap_seqset_parse(text, strlen(text), 0, &spec, error_r))
		return false;
	bool ok = imap_selected_resolve(sel, &spec, uid, uids_r, error_r);
	imap_seqset_spec_free(&spec);
	return ok;
}

struct store_uid_range *imap_selected_ranges(struct imap_cmd *cmd, const struct imap_seqset *uids,
					     size_t *count_r)
{
	struct store_uid_range *r =
		arena_alloc(cmd->arena, (uids->count ? uids->count : 1) * sizeof(*r));
	for (size_t i = 0; i < uids->count; i++) {
		r[i].first = uids->ranges[i].first;
		r[i].last = uids->ranges[i].last;
	}
	*count_r = uids->count;
	return r;
}

void imap_selected_note_flags(struct imap_selected *sel, uint32_t uid, uint32_t flags,
			      uint64_t modseq)
{
	uint32_t seq = imap_selected_seq(sel, uid);
	if (seq == 0)
		return;
	sel->flags[seq - 1] = flags;
	sel->modseqs[seq - 1] = modseq;
}

/* Sends EXPUNGE (or one VANISHED) for uids (ascending) and removes them
 * from the view in one pass. */
void imap_selected_remove_expunged(struct imap_session *s, const uint32_t *uids, size_t count,
				   bool send_responses)
{
	struct imap_selected *sel = s->selected;
	bool vanished = (s->enabled & IMAP_ENABLED_QRESYNC) != 0;
	struct imap_seqset gone = IMAP_SEQSET_INIT;
	uint32_t removed = 0;
	for (size_t k = 0; k < count; k++) {
		uint32_t seq = imap_selected_seq(sel, uids[k]);
		if (seq == 0)
			continue;
		imap_seqset_add(&gone, uids[k]);
		/* Each earlier EXPUNGE shifted later numbers down by one. */
		if (send_responses && !vanished)
			imap_send_untagged(s, "%u EXPUNGE", seq - removed);
		removed++;
	}
	if (removed == 0) {
		imap_seqset_free(&gone);
		return;
	}
	if (send_responses && vanished) {
		struct buf line = BUF_INIT;
		buf_append_str(&line, "VANISHED ");
		imap_seqset_format(&gone, &line);
		imap_send_untagged(s, "%s", buf_cstr(&line));
		buf_free(&line);
	}
	uint32_t w = 0;
	for (uint32_t i = 0; i < sel->count; i++) {
		if (imap_seqset_contains(&gone, sel->uids[i]))
			continue;
		sel->uids[w] = sel->uids[i];
		sel->flags[w] = sel->flags[i];
		sel->modseqs[w] = sel->modseqs[i];
		w++;
	}
	sel->count = w;
	for (size_t r = 0; r < gone.count; r++) {
		imap_seqset_remove_range(&sel->pending_expunge, gone.ranges[r].first,
					 gone.ranges[r].last);
		imap_seqset_remove_range(&sel->recent, gone.ranges[r].first, gone.ranges[r].last);
	}
	imap_seqset_free(&gone);
}

static void imap_selected_flush_pending(struct imap_session *s)
{
	struct imap_selected *sel = s->selected;
	if (imap_seqset_is_empty(&sel->pending_expunge))
		return;
	uint64_t n = imap_seqset_count(&sel->pending_expunge);
	uint32_t *uids = xmalloc(n * sizeof(*uids));
	struct imap_seqset_iter it;
	uint32_t u;
	size_t k = 0;
	imap_seqset_iter_init(&it, &sel->pending_expunge);
	while (imap_seqset_iter_next(&it, &u))
		uids[k++] = u;
	imap_selected_remove_expunged(s, uids, k, true);
	imap_seqset_clear(&sel->pending_expunge);
	free(uids);
}

static void imap_selected_send_fetch_flags(struct imap_session *s, uint32_t seq,
					   const struct store_msg_flags *m)
{
	struct buf line = BUF_INIT;
	buf_printf(&line, "%u FETCH (", seq);
	if (s->enabled & (IMAP_ENABLED_QRESYNC | IMAP_ENABLED_CONDSTORE))
		buf_printf(&line, "UID %u ", m->uid);
	buf_append_str(&line, "FLAGS ");
	imap_flags_append(&line, m->flags, (const char *const *)m->keywords, m->keyword_count,
			  imap_selected_is_recent(s->selected, m->uid));
	if (s->enabled & (IMAP_ENABLED_QRESYNC | IMAP_ENABLED_CONDSTORE))
		buf_printf(&line, " MODSEQ (%llu)", (unsigned long long)m->modseq);
	buf_append_char(&line, ')');
	imap_send_untagged(s, "%s", buf_cstr(&line));
	buf_free(&line);
}

/* ---- One store read for every session a change wakes ---- */

/* While imap-notify wakes the sessions of one mailbox, the first of them to
 * sync reads the status and the changes since the oldest view among them;
 * the others use that read (each keeping only what is newer than its own
 * view). Thread-local: each worker wakes its own sessions. The changes are
 * read for one viewer (per-user \Seen), so a session of another user reads
 * its own. */
struct imap_selected_share {
	bool active;
	char *owner;
	uint64_t mailbox_id;
	uint64_t since;              /* lowest HIGHESTMODSEQ among the views */
	struct arena *arena;         /* the changes; freed by _end */
	char *viewer;                /* user the read was made for, NULL: none yet */
	bool failed;
	struct store_mailbox_status status;
	bool has_changes;
	struct store_changes changes;
};

static _Thread_local struct imap_selected_share imap_share;

void imap_selected_share_begin(const char *owner, uint64_t mailbox_id, uint64_t since)
{
	imap_selected_share_end();
	imap_share.active = true;
	imap_share.owner = xstrdup(owner);
	imap_share.mailbox_id = mailbox_id;
	imap_share.since = since;
}

void imap_selected_share_end(void)
{
	if (!imap_share.active)
		return;
	free(imap_share.owner);
	free(imap_share.viewer);
	arena_destroy(&imap_share.arena);
	memset(&imap_share, 0, sizeof(imap_share));
}

static bool imap_share_fits(const struct imap_session *s)
{
	const struct imap_selected *sel = s->selected;
	return imap_share.active && !imap_share.failed && sel->mailbox_id == imap_share.mailbox_id &&
	       sel->highestmodseq >= imap_share.since && strcmp(sel->owner, imap_share.owner) == 0 &&
	       (imap_share.viewer == NULL || strcmp(imap_share.viewer, s->user) == 0);
}

/* The first fitting session reads for everyone. */
static bool imap_share_load(struct imap_session *s, struct store_user *u)
{
	if (imap_share.viewer != NULL)
		return true;
	const char *error;
	imap_share.viewer = xstrdup(s->user);
	imap_share.arena = arena_new(0);
	enum store_error err = store_mailbox_status_by_id(u, imap_share.mailbox_id,
							  &imap_share.status, &error);
	if (err == STORE_OK && imap_share.status.highestmodseq != imap_share.since) {
		err = store_mailbox_changes(u, imap_share.mailbox_id, imap_share.since,
					    imap_share.arena, &imap_share.changes, &error);
		imap_share.has_changes = err == STORE_OK;
	}
	/* On failure (a deleted mailbox included) each session reads, and
	 * answers, by itself. */
	imap_share.failed = err != STORE_OK;
	return !imap_share.failed;
}

/* ---- Bringing a view up to date ---- */

/* With an incomplete expunge log: every UID of the view that does not
 * exist any more is pending (both lists ascending). */
static void imap_selected_pend_absent(struct imap_selected *sel, const struct store_changes *ch)
{
	size_t j = 0;
	for (uint32_t i = 0; i < sel->count; i++) {
		uint32_t uid = sel->uids[i];
		while (j < ch->present_count && ch->present[j] < uid)
			j++;
		if (j >= ch->present_count || ch->present[j] != uid)
			imap_seqset_add(&sel->pending_expunge, uid);
	}
}

/* Applies changes read since a MODSEQ at or below the view's; what the
 * view already reflects (MODSEQ at or below its own) is skipped, so one
 * read can serve several sessions. */
static void imap_selected_apply_changes(struct imap_session *s, const struct store_changes *ch,
					uint32_t *new_messages_r, bool *keywords_r)
{
	struct imap_selected *sel = s->selected;
	if (ch->vanished_incomplete)
		imap_selected_pend_absent(sel, ch);
	for (size_t i = 0; i < ch->vanished_count; i++)
		if (imap_selected_seq(sel, ch->vanished[i]) != 0)
			imap_seqset_add(&sel->pending_expunge, ch->vanished[i]);
	uint32_t added = 0;
	for (size_t i = 0; i < ch->changed_count; i++) {
		const struct store_msg_flags *m = &ch->changed[i];
		if (m->modseq <= sel->highestmodseq)
			continue;
		if (m->keyword_count > 0)
			*keywords_r = true;
		/* UIDs only grow: one above the view's last is new to it. */
		if (sel->count == 0 || m->uid > sel->uids[sel->count - 1]) {
			imap_selected_push(sel, m->uid, m->flags, m->modseq);
			added++;
			continue;
		}
		uint32_t seq = imap_selected_seq(sel, m->uid);
		if (seq == 0 || imap_seqset_contains(&sel->pending_expunge, m->uid))
			continue;
		if (sel->modseqs[seq - 1] == m->modseq && sel->flags[seq - 1] == m->flags)
			continue; /* our own change, already reported */
		sel->flags[seq - 1] = m->flags;
		sel->modseqs[seq - 1] = m->modseq;
		imap_selected_send_fetch_flags(s, seq, m);
	}
	if (ch->highestmodseq > sel->highestmodseq)
		sel->highestmodseq = ch->highestmodseq;
	if (added > 0 && sel->uids[sel->count - 1] >= sel->uidnext)
		sel->uidnext = sel->uids[sel->count - 1] + 1;
	*new_messages_r = added;
}

/* The status, and the changes since the view when there are any (*ch_r
 * NULL otherwise): from the shared read when it serves s, else read now.
 * -1 error, 0 the mailbox is gone, 1 done. */
static int imap_selected_read(struct imap_session *s, struct store_user *u,
			      struct store_mailbox_status *st_r, const struct store_changes **ch_r,
			      struct store_changes *own)
{
	struct imap_selected *sel = s->selected;
	const char *error;
	*ch_r = NULL;
	if (imap_share_fits(s) && imap_share_load(s, u)) {
		*st_r = imap_share.status;
		if (st_r->highestmodseq != sel->highestmodseq || st_r->uidnext != sel->uidnext) {
			if (imap_share.has_changes)
				*ch_r = &imap_share.changes;
		}
		if (*ch_r != NULL || st_r->highestmodseq == sel->highestmodseq)
			return 1;
	} else {
		enum store_error err = store_mailbox_status_by_id(u, sel->mailbox_id, st_r, &error);
		if (err == STORE_ERR_NONEXISTENT)
			return 0;
		if (err != STORE_OK)
			return -1;
		if (st_r->highestmodseq == sel->highestmodseq && st_r->uidnext == sel->uidnext)
			return 1;
	}
	if (store_mailbox_changes(u, sel->mailbox_id, sel->highestmodseq, s->cmd_arena, own,
				  &error) != STORE_OK)
		return -1;
	*ch_r = own;
	return 1;
}

/* \Recent (RFC 3501 §2.3.2) goes to the first session told of a message.
 * Claiming is a write, so only sessions that report \Recent (IMAP4rev1,
 * read-write) claim, and only when new messages arrived that nobody took
 * yet (thousands of IDLE sessions woken by one delivery would otherwise
 * each write). */
static void imap_selected_claim_new(struct imap_selected *sel, struct store_user *u,
				    struct store_mailbox_status *st)
{
	if (sel->readonly || sel->hide_recent || st->recent == 0)
		return;
	imap_selected_claim_recent(sel, u);
	/* Every message up to UIDNEXT is taken now, by us or by another. */
	st->recent = 0;
	if (imap_share.active && imap_share.viewer != NULL &&
	    imap_share.mailbox_id == sel->mailbox_id && strcmp(imap_share.owner, sel->owner) == 0)
		imap_share.status.recent = 0;
}

/* How long a session may go without reading its mailbox again when no
 * commit was made on the database in this process: the longest a change
 * by another process (petrel deliver) waits for a command to show it. */
#define IMAP_SELECTED_RECHECK_MS 1000

/* Outside a command, and for a command that asks for news
 * (IMAP_CMDF_POLL), the mailbox is always read. */
static bool imap_selected_polled(const struct imap_session *s)
{
	return s->cmd == NULL || (s->cmd->flags & IMAP_CMDF_POLL) != 0;
}

/* True when nothing can have changed since the last read: no commit on
 * the database in this process, not long ago, and no expunge waiting to
 * be announced. Every command ends with a sync; this spares most of them
 * the read. */
static bool imap_selected_unchanged(const struct imap_session *s, uint64_t seq, uint64_t now,
				    bool allow_expunge)
{
	const struct imap_selected *sel = s->selected;
	return seq != 0 && seq == sel->read_seq && now - sel->read_ms < IMAP_SELECTED_RECHECK_MS &&
	       !(allow_expunge && !imap_seqset_is_empty(&sel->pending_expunge)) &&
	       !imap_selected_polled(s);
}

bool imap_selected_own_commit(struct imap_selected *sel, struct store_user *u,
			      uint64_t seq_before, uint64_t highestmodseq)
{
	/* Any other change, in this process or another, takes a MODSEQ: the
	 * next one being ours means there was none in between. One from
	 * another process after ours is found by the read that read_ms
	 * (left as it is) still asks for within IMAP_SELECTED_RECHECK_MS. */
	if (seq_before == 0 || sel->read_seq != seq_before ||
	    store_user_commit_seq(u) != seq_before + 1 || highestmodseq != sel->highestmodseq + 1)
		return false;
	sel->read_seq = seq_before + 1;
	sel->highestmodseq = highestmodseq;
	return true;
}

void imap_selected_take_recent(struct imap_selected *sel, uint32_t first, uint32_t end)
{
	if (end > first)
		imap_seqset_add_range(&sel->recent, first, end - 1);
}

bool imap_selected_own_append(struct imap_session *s, struct store_user *u,
			      uint64_t seq_before, uint64_t modseq, const uint32_t *uids,
			      const uint32_t *flags, size_t count)
{
	struct imap_selected *sel = s->selected;
	uint32_t last = sel->count > 0 ? sel->uids[sel->count - 1] : 0;
	if (count == 0 || uids[0] <= last || uids[0] < sel->uidnext ||
	    !imap_selected_own_commit(sel, u, seq_before, modseq))
		return false;
	for (size_t i = 0; i < count; i++)
		imap_selected_push(sel, uids[i], flags[i], modseq);
	sel->uidnext = uids[count - 1] + 1;
	imap_send_untagged(s, "%u EXISTS", sel->count);
	if (!(s->enabled & IMAP_ENABLED_IMAP4REV2))
		imap_send_untagged(s, "%u RECENT", imap_selected_recent_count(sel));
	return true;
}

void imap_selected_sync(struct imap_session *s, bool allow_expunge)
{
	struct imap_selected *sel = s->selected;
	if (sel == NULL)
		return;
	/* A client workaround may hold the changes for a later command. */
	if (s->cmd != NULL && !imap_compat_reports_updates(s->cmd))
		return;
	const char *error;
	struct store_user *u = imap_selected_store(s, &error);
	if (u == NULL)
		return;
	/* Sampled before the read: a commit during it is seen next time. */
	uint64_t seq = store_user_commit_seq(u);
	uint64_t now = time_mono_ms();
	if (imap_selected_unchanged(s, seq, now, allow_expunge))
		return;
	struct store_mailbox_status st;
	struct store_changes own;
	const struct store_changes *ch;
	/* The status and the changes in one read transaction. */
	store_user_snapshot_begin(u);
	int ret = imap_selected_read(s, u, &st, &ch, &own);
	store_user_snapshot_end(u);
	if (ret > 0) {
		sel->read_seq = seq;
		sel->read_ms = now;
	}
	if (ret == 0) {
		/* Deleted by another session: every message is gone. */
		if (allow_expunge && sel->count > 0)
			imap_selected_remove_expunged(s, sel->uids, sel->count, true);
		return;
	}
	if (ret < 0)
		return;
	uint32_t added = 0;
	bool keywords = false;
	if (ch != NULL)
		imap_selected_apply_changes(s, ch, &added, &keywords);
	if (allow_expunge)
		imap_selected_flush_pending(s);
	if (keywords) {
		const char **kw;
		size_t n;
		if (store_mailbox_keywords(u, sel->mailbox_id, s->cmd_arena, &kw, &n, &error) ==
			    STORE_OK &&
		    n != sel->keywords_announced)
			imap_selected_send_flags(s, u);
	}
	if (st.uidnext > sel->uidnext)
		sel->uidnext = st.uidnext;
	if (added > 0) {
		imap_selected_claim_new(sel, u, &st);
		imap_send_untagged(s, "%u EXISTS", sel->count);
		if (!(s->enabled & IMAP_ENABLED_IMAP4REV2))
			imap_send_untagged(s, "%u RECENT", imap_selected_recent_count(sel));
	}
}
