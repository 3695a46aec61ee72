#ifndef PETREL_IMAP_CAPABILITY_H
#define PETREL_IMAP_CAPABILITY_H

/* Capabilities an administrator hides for some users or addresses
 * ([capabilities] hide, docs/configuration.md). A hidden capability is off
 * for the session, not only unlisted: its commands answer BAD as unknown
 * commands (the command table's caps column), its arguments BAD as invalid
 * (the few parsers that test imap_cap_hidden), and ENABLE ignores it (RFC
 * 5161 §3.1). Hiding one hides what depends on it (imap-capability.c):
 * QRESYNC with CONDSTORE or ENABLE, IMAP4rev2 with any extension RFC 9051
 * folded into it (Appendix E). Never decided by the client's ID (RFC 2971
 * §3). */

#include "imap/imap-session.h"
#include "lib/config.h"

#include <stdbool.h>
#include <stdint.h>

/* The session bit of a hideable capability: IMAP_CAP(CONDSTORE). */
#define IMAP_CAP(name) ((uint64_t)1 << CONFIG_CAP_##name)

/* True when every capability in caps is hidden from the session. */
static inline bool imap_cap_hidden(const struct imap_session *s, uint64_t caps)
{
	return caps != 0 && (s->caps_hidden & caps) == caps;
}

/* Recomputes s->caps_hidden from the configuration: rules for the
 * client's address before login, and for address and user after. Called
 * at connect and at login; logs the hidden set when it changes. */
void imap_capability_refresh(struct imap_session *s);

/* caps plus everything that depends on one of them. */
uint64_t imap_capability_closure(uint64_t caps);

/* The IMAP_SEARCH_KEYS_* groups (imap-search.h) the session hides, for
 * imap_search_limits.hidden_keys. */
unsigned imap_capability_search_keys_hidden(const struct imap_session *s);

/* False, with "Unknown STATUS item" in *error_r, when items ask for what a
 * hidden capability provides (HIGHESTMODSEQ of CONDSTORE). */
struct imap_status_items;
bool imap_capability_status_items_offered(const struct imap_session *s,
					  const struct imap_status_items *items,
					  const char **error_r);

#endif
