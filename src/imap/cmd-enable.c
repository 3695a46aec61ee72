#include "imap/imap-capability.h"
#include "imap/imap-commands.h"
#include "imap/imap-parser.h"

#include <strings.h>

/* Extensions that can be ENABLEd, the session bit each sets, and the
 * capability that hides it (imap-capability.h). An entry is added here
 * when the extension's behaviour is complete. */
struct enable_entry {
	const char *name;
	unsigned bit;
	uint64_t cap;
};

static const struct enable_entry enable_known[] = {
	{ "CONDSTORE", IMAP_ENABLED_CONDSTORE, IMAP_CAP(CONDSTORE) },
	{ "IMAP4rev2", IMAP_ENABLED_IMAP4REV2, IMAP_CAP(IMAP4REV2) },
	/* RFC 7162 §3.2.3: QRESYNC implies CONDSTORE. */
	{ "QRESYNC", IMAP_ENABLED_QRESYNC | IMAP_ENABLED_CONDSTORE, IMAP_CAP(QRESYNC) },
	{ NULL, 0, 0 },
};

static const struct enable_entry *enable_lookup(const char *name)
{
	for (size_t i = 0; enable_known[i].name != NULL; i++)
		if (strcasecmp(enable_known[i].name, name) == 0)
			return &enable_known[i];
	return NULL;
}

/* enable = "ENABLE" 1*(SP capability)   (RFC 5161 §3)
 * Unknown capabilities are ignored, and so are those hidden from the
 * session, which it does not offer (RFC 5161 §3.1); the ENABLED response
 * lists only what this command newly turned on. */
enum imap_cmd_result cmd_enable(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	if (cmd->arg_count == 0) {
		imap_cmd_bad(cmd, NULL, "ENABLE needs at least one capability");
		return IMAP_CMD_DONE;
	}
	struct buf line = BUF_INIT;
	buf_append_str(&line, "ENABLED");
	for (size_t i = 0; i < cmd->arg_count; i++) {
		const char *name;
		if (!imap_arg_get_atom(&cmd->args[i], &name)) {
			buf_free(&line);
			imap_cmd_bad(cmd, NULL, "ENABLE arguments must be capability atoms");
			return IMAP_CMD_DONE;
		}
		const struct enable_entry *e = enable_lookup(name);
		if (e != NULL && !imap_cap_hidden(s, e->cap) && (s->enabled & e->bit) != e->bit) {
			s->enabled |= e->bit;
			buf_printf(&line, " %s", e->name);
		}
	}
	imap_send_untagged(s, "%s", buf_cstr(&line));
	buf_free(&line);
	imap_cmd_ok(cmd, NULL, "ENABLE completed");
	return IMAP_CMD_DONE;
}
