#include "imap/imap-capability.h"
#include "imap/imap-search.h"
#include "imap/imap-status.h"
#include "imap/imap-session.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "lib/log.h"
#include "net/conn.h"

#include <inttypes.h>

/* Extensions this server implements after login. A capability is listed
 * here only once its commands and behaviour are complete. hidden_by: the
 * hideable capability (IMAP_CAP bits) that takes this one off the list, 0
 * for those that always stay (docs/configuration.md says why). */
static const struct {
	const char *name;
	uint64_t hidden_by;
} imap_capabilities_authed[] = {
	/* RFC 4314: ACL commands; RIGHTS= lists the rights beyond RFC 2086. */
	{ "ACL", 0 },
	{ "BINARY", 0 },
	{ "CHILDREN", 0 },
	{ "CONDSTORE", IMAP_CAP(CONDSTORE) },
	{ "CREATE-SPECIAL-USE", 0 },
	{ "ENABLE", IMAP_CAP(ENABLE) },
	{ "ESEARCH", IMAP_CAP(ESEARCH) },
	/* RFC 5267: SORT's RETURN options. */
	{ "ESORT", IMAP_CAP(SORT) },
	{ "ID", IMAP_CAP(ID) },
	{ "IDLE", IMAP_CAP(IDLE) },
	{ "LIST-EXTENDED", 0 },
	{ "LIST-STATUS", 0 },
	{ "LITERAL+", 0 },
	{ "MOVE", IMAP_CAP(MOVE) },
	{ "MULTIAPPEND", 0 },
	{ "NAMESPACE", IMAP_CAP(NAMESPACE) },
	{ "QRESYNC", IMAP_CAP(QRESYNC) },
	{ "QUOTA", IMAP_CAP(QUOTA) },
	/* RFC 9208 §3.1: resource names mean nothing without QUOTA. */
	{ "QUOTA=RES-MESSAGE", IMAP_CAP(QUOTA) },
	{ "QUOTA=RES-STORAGE", IMAP_CAP(QUOTA) },
	{ "RIGHTS=texk", 0 },
	{ "SEARCHRES", IMAP_CAP(SEARCHRES) },
	{ "SORT", IMAP_CAP(SORT) },
	{ "SORT=DISPLAY", IMAP_CAP(SORT) },
	{ "SPECIAL-USE", 0 },
	{ "STATUS=SIZE", 0 },
	{ "THREAD=ORDEREDSUBJECT", IMAP_CAP(THREAD_ORDEREDSUBJECT) },
	{ "THREAD=REFERENCES", IMAP_CAP(THREAD_REFERENCES) },
	{ "UIDPLUS", 0 },
	{ "UNSELECT", IMAP_CAP(UNSELECT) },
	{ "WITHIN", IMAP_CAP(WITHIN) },
};

/* Extensions RFC 9051 Appendix E folded into IMAP4rev2 that can be
 * hidden: a server without one of them cannot offer IMAP4rev2. */
#define IMAP_CAPS_IN_REV2                                                                    \
	(IMAP_CAP(ENABLE) | IMAP_CAP(ESEARCH) | IMAP_CAP(IDLE) | IMAP_CAP(MOVE) |            \
	 IMAP_CAP(NAMESPACE) | IMAP_CAP(SEARCHRES) | IMAP_CAP(UNSELECT))

/* What goes when a capability goes. */
static const struct {
	uint64_t hidden;
	uint64_t implies;
} imap_capability_implied[] = {
	/* RFC 7162 §3.2: QRESYNC is built on CONDSTORE and is turned on
	 * only with ENABLE. */
	{ IMAP_CAP(CONDSTORE) | IMAP_CAP(ENABLE), IMAP_CAP(QRESYNC) },
	/* RFC 5182 §2: SAVE is a RETURN option of ESEARCH's syntax. */
	{ IMAP_CAP(ESEARCH), IMAP_CAP(SEARCHRES) },
	{ IMAP_CAPS_IN_REV2, IMAP_CAP(IMAP4REV2) },
};

uint64_t imap_capability_closure(uint64_t caps)
{
	uint64_t before;
	do {
		before = caps;
		for (size_t i = 0; i < sizeof(imap_capability_implied) /
					   sizeof(*imap_capability_implied); i++)
			if (caps & imap_capability_implied[i].hidden)
				caps |= imap_capability_implied[i].implies;
	} while (caps != before);
	return caps;
}

unsigned imap_capability_search_keys_hidden(const struct imap_session *s)
{
	return (imap_cap_hidden(s, IMAP_CAP(CONDSTORE)) ? IMAP_SEARCH_KEYS_CONDSTORE : 0) |
	       (imap_cap_hidden(s, IMAP_CAP(WITHIN)) ? IMAP_SEARCH_KEYS_WITHIN : 0);
}

bool imap_capability_status_items_offered(const struct imap_session *s,
					  const struct imap_status_items *items,
					  const char **error_r)
{
	if (!imap_cap_hidden(s, IMAP_CAP(CONDSTORE)))
		return true;
	for (size_t i = 0; i < items->count; i++) {
		if (items->items[i] == IMAP_STATUS_HIGHESTMODSEQ) {
			*error_r = "Unknown STATUS item";
			return false;
		}
	}
	return true;
}

/* "CONDSTORE,QRESYNC" for the log. */
static void imap_capability_names(uint64_t caps, struct buf *out)
{
	for (unsigned i = 0; i < CONFIG_CAP_COUNT; i++) {
		if (!(caps & ((uint64_t)1 << i)))
			continue;
		if (out->len > 0)
			buf_append_char(out, ',');
		buf_append_str(out, config_cap_name((enum config_cap)i));
	}
}

void imap_capability_refresh(struct imap_session *s)
{
	const struct config_client_rules *rules = &s->cfg->hide_capabilities;
	uint64_t hidden = 0;
	for (size_t i = 0; i < rules->count; i++) {
		/* RFC 2971 §3: never from the ID, so no ID is passed. */
		if (config_client_match(&rules->items[i].match, conn_remote_ip(s->conn), s->user,
					NULL, NULL))
			hidden |= rules->items[i].bits;
	}
	hidden = imap_capability_closure(hidden);
	if (hidden == s->caps_hidden)
		return;
	s->caps_hidden = hidden;
	struct buf names = BUF_INIT;
	imap_capability_names(hidden, &names);
	log_event(LOG_INFO, conn_id(s->conn), "capabilities_hidden", "user=%s names=%s",
		  s->user != NULL ? log_str(s->cmd_arena, s->user) : "-", buf_cstr(&names));
	buf_free(&names);
}

static void imap_capability_add(struct imap_session *s, struct buf *out, const char *name,
				uint64_t hidden_by)
{
	if (imap_cap_hidden(s, hidden_by))
		return;
	buf_append_char(out, ' ');
	buf_append_str(out, name);
}

void imap_capability_append(struct imap_session *s, struct buf *out)
{
	/* Both revisions (RFC 9051 Appendix A): a client that wants
	 * IMAP4rev2 behaviour says ENABLE IMAP4rev2. */
	buf_append_str(out, "IMAP4rev1");
	imap_capability_add(s, out, "IMAP4rev2", IMAP_CAP(IMAP4REV2));
	if (s->state == IMAP_STATE_NOT_AUTH) {
		/* RFC 9051 §6.2: before login, what a client needs to log in. */
		buf_append_str(out, " LITERAL+ SASL-IR");
		imap_capability_add(s, out, "ID", IMAP_CAP(ID));
		imap_capability_add(s, out, "ENABLE", IMAP_CAP(ENABLE));
		if (!conn_is_tls(s->conn))
			buf_append_str(out, " STARTTLS");
		if (imap_session_plaintext_disabled(s))
			buf_append_str(out, " LOGINDISABLED");
		else
			buf_append_str(out, " AUTH=PLAIN AUTH=LOGIN");
		return;
	}
	size_t count = sizeof(imap_capabilities_authed) / sizeof(*imap_capabilities_authed);
	for (size_t i = 0; i < count; i++)
		imap_capability_add(s, out, imap_capabilities_authed[i].name,
				    imap_capabilities_authed[i].hidden_by);
	/* RFC 7889: the largest message APPEND accepts (enforced on the
	 * literal before it is read). */
	buf_printf(out, " APPENDLIMIT=%" PRIu64, s->cfg->append_size);
}
