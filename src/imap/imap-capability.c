#include "imap/imap-session.h"
#include "lib/config.h"
#include "net/conn.h"

#include <inttypes.h>

/* Extensions this server implements after login. A capability is listed
 * here only once its commands and behaviour are complete. */
static const char *const imap_capabilities_authed[] = {
	"BINARY",
	"CHILDREN",
	"CONDSTORE",
	"CREATE-SPECIAL-USE",
	"ENABLE",
	"ESEARCH",
	"ID",
	"IDLE",
	"LIST-EXTENDED",
	"LIST-STATUS",
	"LITERAL+",
	"MOVE",
	"MULTIAPPEND",
	"NAMESPACE",
	"QRESYNC",
	"QUOTA",
	"QUOTA=RES-MESSAGE",
	"QUOTA=RES-STORAGE",
	"SEARCHRES",
	"SORT",
	"SORT=DISPLAY",
	"SPECIAL-USE",
	"STATUS=SIZE",
	"THREAD=ORDEREDSUBJECT",
	"THREAD=REFERENCES",
	"UIDPLUS",
	"UNSELECT",
	"WITHIN",
};

void imap_capability_append(struct imap_session *s, struct buf *out)
{
	/* Both revisions (RFC 9051 Appendix A): a client that wants
	 * IMAP4rev2 behaviour says ENABLE IMAP4rev2. */
	buf_append_str(out, "IMAP4rev1 IMAP4rev2");
	if (s->state == IMAP_STATE_NOT_AUTH) {
		/* RFC 9051 §6.2: before login, what a client needs to log in. */
		buf_append_str(out, " LITERAL+ SASL-IR ID ENABLE");
		if (!conn_is_tls(s->conn))
			buf_append_str(out, " STARTTLS");
		if (imap_session_plaintext_disabled(s))
			buf_append_str(out, " LOGINDISABLED");
		else
			buf_append_str(out, " AUTH=PLAIN AUTH=LOGIN");
		return;
	}
	for (size_t i = 0; i < sizeof(imap_capabilities_authed) / sizeof(*imap_capabilities_authed); i++) {
		buf_append_char(out, ' ');
		buf_append_str(out, imap_capabilities_authed[i]);
	}
	/* RFC 7889: the largest message APPEND accepts (enforced on the
	 * literal before it is read). */
	buf_printf(out, " APPENDLIMIT=%" PRIu64, s->cfg->append_size);
}
