#include "imap/imap-compat.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "net/conn.h"

#include <stdio.h>
#include <string.h>

/* The registry. Each entry: the client behaviour it answers (where it is
 * documented is in docs/compatibility.md) and how mailbox updates are
 * reported under it. A command reports updates when it is in `only` (if
 * given) and not in `never`. */
struct imap_compat_def {
	enum config_workaround id;
	const char *const *only;   /* NULL-terminated, or NULL: every command */
	const char *const *never;  /* NULL-terminated, or NULL: none */
};

/* Some clients take an EXISTS, EXPUNGE or FETCH that arrives in the answer
 * to another command (FETCH, SEARCH, STORE...) for part of that answer, or
 * ignore it, and then show a wrong message count; they see changes only
 * when they poll. Petrel keeps every change for the answer to NOOP or
 * CHECK, or for IDLE, where such clients look for it. */
static const char *const imap_compat_poll_commands[] = { "NOOP", "CHECK", "IDLE", NULL };

/* Some clients read an untagged EXISTS or RECENT inside a FETCH answer as
 * data of a fetched message, then report the message as gone. Petrel
 * reports nothing new while answering FETCH (RFC 9051 §7.5.1 already keeps
 * EXPUNGE out of it); the next other command carries the changes. */
static const char *const imap_compat_fetch_commands[] = { "FETCH", NULL };

static const struct imap_compat_def imap_compat_registry[] = {
	{ CONFIG_WORKAROUND_UPDATES_ON_POLL_ONLY, imap_compat_poll_commands, NULL },
	{ CONFIG_WORKAROUND_NO_UPDATES_DURING_FETCH, NULL, imap_compat_fetch_commands },
};

static bool imap_compat_listed(const char *const *names, const char *name)
{
	for (; *names != NULL; names++)
		if (strcmp(*names, name) == 0)
			return true;
	return false;
}

bool imap_compat_reports_updates(const struct imap_cmd *cmd)
{
	const struct imap_session *s = cmd->session;
	if (s->workarounds == 0)
		return true;
	for (size_t i = 0; i < sizeof(imap_compat_registry) / sizeof(*imap_compat_registry); i++) {
		const struct imap_compat_def *d = &imap_compat_registry[i];
		if (!imap_compat_on(s, d->id))
			continue;
		if (d->only != NULL && !imap_compat_listed(d->only, cmd->name))
			return false;
		if (d->never != NULL && imap_compat_listed(d->never, cmd->name))
			return false;
	}
	return true;
}

const char *imap_compat_names(const struct imap_session *s, char *out, size_t size)
{
	if (s->workarounds == 0 || size == 0)
		return NULL;
	size_t len = 0;
	out[0] = '\0';
	for (unsigned w = 0; w < CONFIG_WORKAROUND_COUNT; w++) {
		if (!imap_compat_on(s, (enum config_workaround)w))
			continue;
		int n = snprintf(out + len, size - len, "%s%s", len > 0 ? "," : "",
				 config_workaround_name((enum config_workaround)w));
		if (n < 0 || (size_t)n >= size - len)
			break;
		len += (size_t)n;
	}
	return out;
}

void imap_compat_refresh(struct imap_session *s)
{
	const struct config_client_rules *rules = &s->cfg->workarounds;
	unsigned on = 0;
	for (size_t i = 0; i < rules->count; i++)
		if (config_client_match(&rules->items[i].match, conn_remote_ip(s->conn), s->user,
					s->client_name, s->client_version))
			on |= (unsigned)rules->items[i].bits;
	if (on == s->workarounds)
		return;
	s->workarounds = on;
	char names[256];
	const char *list = imap_compat_names(s, names, sizeof(names));
	log_event(LOG_INFO, conn_id(s->conn), "workarounds", "names=%s user=%s client=%s",
		  list != NULL ? list : "-",
		  s->user != NULL ? log_str(s->cmd_arena, s->user) : "-",
		  s->client_id != NULL ? log_str(s->cmd_arena, s->client_id) : "-");
}
