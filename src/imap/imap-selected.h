#ifndef PETREL_IMAP_SELECTED_H
#define PETREL_IMAP_SELECTED_H

/* The selected mailbox as one session sees it: message sequence numbers map
 * to UIDs through the session's own snapshot, which changes only when the
 * session tells the client (EXISTS, EXPUNGE, FETCH FLAGS), so sequence
 * numbers stay consistent inside a command (RFC 9051 §7.5.1, RFC 2180).
 * Between commands the session holds no database handle: just this view,
 * about 16 bytes per message. */

#include "imap/imap-seqset.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>

struct imap_session;
struct imap_cmd;

struct imap_selected {
	uint64_t mailbox_id;
	char *name;                  /* UTF-8 name in the owner's store (heap) */
	char *owner;                 /* the store's owner: the session user,
				      * another user, or STORE_PUBLIC_OWNER */
	bool shared;                 /* not the session user's own store */
	unsigned rights;             /* STORE_RIGHT_*, refreshed each command */
	bool readonly;               /* EXAMINE, or no write access */
	bool hide_recent;            /* IMAP4rev2 has no \Recent */
	uint32_t uidvalidity;
	uint32_t uidnext;            /* as last told to the client */
	uint64_t highestmodseq;      /* changes up to here are reflected */
	uint64_t generation;
	/* Message sequence number n is index n-1. */
	uint32_t count, alloc;
	uint32_t *uids;
	uint32_t *flags;             /* STORE_FLAG_* as last told */
	uint64_t *modseqs;
	struct imap_seqset recent;   /* UIDs \Recent to this session */
	/* Expunged in the store but not yet announced: the messages stay in
	 * the view (and keep their sequence numbers) until a command that may
	 * send EXPUNGE runs. */
	struct imap_seqset pending_expunge;
	size_t keywords_announced;   /* keywords in the last FLAGS response */
	bool keywords_changed;
	/* SEARCHRES (RFC 5182): the last SEARCH ... SAVE result, as UIDs. */
	struct imap_seqset saved;
	/* When the mailbox was last read for changes (imap_selected_sync):
	 * the store's commit number then, and the time. */
	uint64_t read_seq;
	uint64_t read_ms;
};

/* The selected mailbox's store (imap_session_store_of its owner), with
 * the session's rights on it re-read for a shared one. */
struct store_user *imap_selected_store(struct imap_session *s, const char **error_r);

/* Opens name for s: loads the view, claims \Recent when read-write.
 * Errors from the store (NONEXISTENT, CANNOT for \Noselect...). */
enum store_error imap_selected_open(struct imap_session *s, struct store_user *u,
				    const char *name, bool readonly,
				    struct imap_selected **sel_r, const char **error_r);
/* Sends what SELECT/EXAMINE answer before the tagged OK (RFC 9051 §6.3.2,
 * with rev1's RECENT and UNSEEN for IMAP4rev1 clients). */
void imap_selected_send_state(struct imap_cmd *cmd, struct store_user *u);
void imap_selected_free(struct imap_selected **sel);

/* Sequence number of uid, 0 when it is not in the view. */
uint32_t imap_selected_seq(const struct imap_selected *sel, uint32_t uid);
/* Index of the first message with UID >= uid (count if none). */
uint32_t imap_selected_lower_bound(const struct imap_selected *sel, uint32_t uid);
bool imap_selected_is_recent(const struct imap_selected *sel, uint32_t uid);

/* Turns a parsed sequence set into UIDs present in the view. Sequence
 * numbers beyond EXISTS make it fail with a message for BAD (RFC 9051
 * §9 "seq-number": valid numbers only); UIDs beyond the last one simply
 * match nothing. */
bool imap_selected_resolve(const struct imap_selected *sel, const struct imap_seqset_spec *spec,
			   bool uid, struct imap_seqset *uids_r, const char **error_r);
/* Parses an atom as a sequence set and resolves it (BAD text in error_r). */
bool imap_selected_parse_set(const struct imap_selected *sel, const char *text, bool uid,
			     struct imap_seqset *uids_r, const char **error_r);
/* The view's UIDs in uids as store ranges (from the command arena). */
struct store_uid_range *imap_selected_ranges(struct imap_cmd *cmd, const struct imap_seqset *uids,
					     size_t *count_r);

/* Adds [first, end) to the UIDs \Recent to this session: those it
 * claimed with its own APPEND (store_msg_append_info). */
void imap_selected_take_recent(struct imap_selected *sel, uint32_t first, uint32_t end);
/* After the session's own APPEND of count messages to its selected mailbox
 * (uids ascending, flags as stored, all with modseq): takes them into the
 * view and sends EXISTS (and RECENT) without reading the mailbox, when
 * that commit was the only one since the view was read
 * (imap_selected_own_commit). False, with nothing done, otherwise. */
bool imap_selected_own_append(struct imap_session *s, struct store_user *u,
			      uint64_t seq_before, uint64_t modseq, const uint32_t *uids,
			      const uint32_t *flags, size_t count);

/* Brings the client up to date with the store: new messages (EXISTS,
 * RECENT), flag changes by others (FETCH FLAGS), and, when allow_expunge,
 * expunges (EXPUNGE, or VANISHED for QRESYNC clients). Cheap when nothing
 * changed: one status row read. */
void imap_selected_sync(struct imap_session *s, bool allow_expunge);

/* Between _begin and _end (the worker thread only, not nested), syncs of
 * sessions on owner's mailbox_id whose views are at least at since share
 * one read of the store: imap-notify brackets the wake-up of the sessions
 * one change concerns, since being the lowest HIGHESTMODSEQ of their
 * views. */
void imap_selected_share_begin(const char *owner, uint64_t mailbox_id, uint64_t since);
void imap_selected_share_end(void);

/* After a write of the session's own, whose changes the caller has put
 * into the view: when that commit is the only one since the view was read
 * (seq_before, the store's commit number sampled just before the write,
 * is the view's, and exactly one commit followed) and it took the next
 * MODSEQ (highestmodseq), the view is current without reading the mailbox
 * again. Returns whether it is; if not, imap_selected_sync reads. */
bool imap_selected_own_commit(struct imap_selected *sel, struct store_user *u,
			      uint64_t seq_before, uint64_t highestmodseq);

/* Records flags this session set itself, so that sync does not report
 * them again. */
void imap_selected_note_flags(struct imap_selected *sel, uint32_t uid, uint32_t flags,
			      uint64_t modseq);
/* Removes uids expunged by this session's own command after it sent the
 * EXPUNGE (or VANISHED) responses for them; returns how many. */
void imap_selected_remove_expunged(struct imap_session *s, const uint32_t *uids, size_t count,
				   bool send_responses);

/* "(\Seen \Answered $Keyword)" for a message's flags. */
struct buf;
void imap_flags_append(struct buf *out, uint32_t flags, const char *const *keywords,
		       size_t keyword_count, bool recent);

#endif
