#ifndef PETREL_IMAP_QRESYNC_H
#define PETREL_IMAP_QRESYNC_H

/* Quick resynchronisation (RFC 7162 §3.2): what changed in the selected
 * mailbox since a client's MODSEQ, for SELECT/EXAMINE (QRESYNC ...) and
 * UID FETCH ... (CHANGEDSINCE n VANISHED). */

#include "imap/imap-seqset.h"

#include <stdbool.h>
#include <stdint.h>

struct imap_cmd;

/* The client's sample of sequence numbers and their UIDs (§3.2.5.2). */
struct imap_qresync_match {
	struct imap_seqset seqs;
	struct imap_seqset uids;
};

/* Reads what changed in the selected mailbox after modseq (one query, for
 * both senders below). False when the command has been answered NO. */
struct store_changes;
bool imap_qresync_changes(struct imap_cmd *cmd, uint64_t modseq, struct store_changes *ch_r);

/* Sends "* VANISHED (EARLIER) uids" for the UIDs in known that ch reports
 * expunged. When the store's expunge log no longer reaches back that far,
 * every known UID that does not exist any more is reported (never too few:
 * RFC 7162 §3.2.5.1), narrowed by match when given. */
void imap_qresync_send_vanished(struct imap_cmd *cmd, const struct store_changes *ch,
				const struct imap_seqset *known,
				const struct imap_qresync_match *match);

/* Sends "* n FETCH (UID u FLAGS (...) MODSEQ (m))" for the messages in
 * known that ch reports changed. */
void imap_qresync_send_changes(struct imap_cmd *cmd, const struct store_changes *ch,
			       const struct imap_seqset *known);

#endif
