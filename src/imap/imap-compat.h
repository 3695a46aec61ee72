#ifndef PETREL_IMAP_COMPAT_H
#define PETREL_IMAP_COMPAT_H

/* Named client workarounds (DESIGN.md §6): documented behaviours of real
 * clients that differ from what the RFCs let a server expect, and the
 * server-side accommodation for each, switched on per client by the
 * [workarounds] section (docs/configuration.md, docs/compatibility.md).
 * A rule matches by address, user (after login) or the RFC 2971 ID
 * "name"/"version" (after ID). Workarounds change details of behaviour
 * only; capabilities are never decided from the ID (RFC 2971 §3; see
 * imap-capability.h for per-user and per-address hiding). */

#include "imap/imap-session.h"
#include "lib/config.h"

#include <stdbool.h>
#include <stddef.h>

static inline bool imap_compat_on(const struct imap_session *s, enum config_workaround w)
{
	return (s->workarounds & (1u << w)) != 0;
}

/* Recomputes s->workarounds from the rules for what is known of the
 * client now; called at connect, after ID and after login. A change is
 * logged (event=workarounds names=... with the session id). */
void imap_compat_refresh(struct imap_session *s);

/* Whether cmd may bring the client up to date with the mailbox (EXISTS,
 * RECENT, EXPUNGE, FETCH FLAGS of other sessions' changes); asked by
 * imap_selected_sync. False holds the changes back, unchanged, for a later
 * command: the session's view of the mailbox stays as the client knows
 * it. */
bool imap_compat_reports_updates(const struct imap_cmd *cmd);

/* The session's workarounds as "name,name" in out (size bytes), or NULL
 * when it has none. */
const char *imap_compat_names(const struct imap_session *s, char *out, size_t size);

#endif
