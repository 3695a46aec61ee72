#include "imap/imap-mailbox-name.h"

#include "imap/imap-mutf7.h"
#include "imap/imap-parser.h"
#include "imap/imap-session.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "lib/log.h"
#include "mime/mime-imapstr.h"
#include "net/conn.h"

#include <string.h>
#include <strings.h>

/* Step 1: the client's bytes as UTF-8 in b. */
static bool mailbox_name_to_utf8(const char *data, size_t len, bool utf8,
				 struct buf *b, const char **error_r)
{
	if (!utf8)
		return imap_mutf7_to_utf8(data, len, b, error_r);
	buf_append(b, data, len);
	return true;
}

/* Step 3: RFC 9051 5.1, INBOX is case-insensitive. */
static void mailbox_name_inbox_upper(char *name)
{
	if (strncasecmp(name, "INBOX", 5) == 0 &&
	    (name[5] == '\0' || name[5] == IMAP_MAILBOX_SEP))
		memcpy(name, "INBOX", 5);
}

static unsigned mailbox_name_depth(const char *name)
{
	unsigned levels = 1;
	for (const char *p = name; *p != '\0'; p++)
		if (*p == IMAP_MAILBOX_SEP)
			levels++;
	return levels;
}

/* Step 5. */
static enum imap_mailbox_name_result
mailbox_name_check_limits(const char *name,
			  const struct imap_mailbox_name_limits *limits,
			  const char **error_r)
{
	if (limits->max_length != 0 && strlen(name) > limits->max_length) {
		*error_r = "Mailbox name is too long";
		return IMAP_MAILBOX_NAME_TOO_LONG;
	}
	if (limits->max_depth != 0 && mailbox_name_depth(name) > limits->max_depth) {
		*error_r = "Mailbox name has too many hierarchy levels";
		return IMAP_MAILBOX_NAME_TOO_DEEP;
	}
	return IMAP_MAILBOX_NAME_OK;
}

enum imap_mailbox_name_result
imap_mailbox_name_decode(const char *data, size_t len, bool utf8,
			 const struct imap_mailbox_name_limits *limits,
			 struct arena *a, const char **name_r,
			 const char **error_r)
{
	if (memchr(data, '\0', len) != NULL) {
		*error_r = "Mailbox name contains a NUL byte";
		return IMAP_MAILBOX_NAME_INVALID;
	}
	struct buf b = BUF_INIT;
	const char *codec_error;
	if (!mailbox_name_to_utf8(data, len, utf8, &b, &codec_error)) {
		buf_free(&b);
		*error_r = "Mailbox name is not valid modified UTF-7";
		return IMAP_MAILBOX_NAME_BAD_ENCODING;
	}
	/* Step 2: "foo/" is "foo" (but "/" alone stays invalid). */
	if (b.len > 1 && b.data[b.len - 1] == IMAP_MAILBOX_SEP)
		b.data[--b.len] = '\0';
	char *name = arena_strndup(a, buf_cstr(&b), b.len);
	buf_free(&b);
	mailbox_name_inbox_upper(name);
	const char *store_error;
	if (!store_mailbox_name_valid(name, &store_error)) {
		*error_r = store_error;
		return IMAP_MAILBOX_NAME_INVALID;
	}
	if (limits != NULL) {
		enum imap_mailbox_name_result r =
			mailbox_name_check_limits(name, limits, error_r);
		if (r != IMAP_MAILBOX_NAME_OK)
			return r;
	}
	*name_r = name;
	return IMAP_MAILBOX_NAME_OK;
}

bool imap_mailbox_utf8(const struct imap_session *s)
{
	/* RFC 9051 Appendix A: IMAP4rev2 clients use UTF-8 names. */
	return (s->enabled & (IMAP_ENABLED_UTF8_ACCEPT | IMAP_ENABLED_IMAP4REV2)) != 0;
}

static void mailbox_name_answer(struct imap_cmd *cmd,
				enum imap_mailbox_name_use use,
				enum imap_mailbox_name_result r,
				const char *error)
{
	if (use == IMAP_MAILBOX_NAME_EXISTING) {
		/* Such a name can never have been created. */
		imap_cmd_no(cmd, "NONEXISTENT", "%s", error);
		return;
	}
	if (r == IMAP_MAILBOX_NAME_TOO_LONG || r == IMAP_MAILBOX_NAME_TOO_DEEP)
		imap_cmd_no(cmd, "LIMIT", "%s", error);
	else
		imap_cmd_no(cmd, "CANNOT", "%s", error);
}

bool imap_mailbox_name_read(struct imap_cmd *cmd, const struct imap_arg *arg,
			    enum imap_mailbox_name_use use,
			    const char **name_r)
{
	struct imap_session *s = cmd->session;
	const char *data;
	size_t len;
	if (!imap_arg_get_astring(arg, &data, &len)) {
		imap_cmd_bad(cmd, NULL, "Mailbox name must be an atom or a string");
		return false;
	}
	struct imap_mailbox_name_limits limits = {
		.max_length = s->cfg->mailbox_name_length,
		.max_depth = s->cfg->mailbox_depth,
	};
	const char *error = NULL;
	enum imap_mailbox_name_result r = imap_mailbox_name_decode(
		data, len, imap_mailbox_utf8(s),
		use == IMAP_MAILBOX_NAME_NEW ? &limits : NULL, cmd->arena,
		name_r, &error);
	if (r == IMAP_MAILBOX_NAME_OK)
		return true;
	mailbox_name_answer(cmd, use, r, error);
	return false;
}

bool imap_mailbox_pattern_decode(const char *data, size_t len, bool utf8,
				 struct arena *a, const char **pattern_r)
{
	if (memchr(data, '\0', len) != NULL)
		return false;
	struct buf b = BUF_INIT;
	const char *error;
	bool ok = mailbox_name_to_utf8(data, len, utf8, &b, &error);
	if (ok)
		*pattern_r = arena_strndup(a, buf_cstr(&b), b.len);
	buf_free(&b);
	return ok;
}

void imap_mailbox_name_append(struct buf *out, const char *name, bool utf8)
{
	size_t len = strlen(name);
	if (utf8) {
		mime_imapstr_append_string(out, name, len);
		return;
	}
	struct buf enc = BUF_INIT;
	const char *error;
	/* Store names are valid UTF-8 without control characters, which the
	 * encoder always accepts; the raw bytes are a last resort. */
	if (imap_utf8_to_mutf7(name, len, &enc, &error))
		mime_imapstr_append_string(out, enc.data, enc.len);
	else
		mime_imapstr_append_string(out, name, len);
	buf_free(&enc);
}

static const char *mailbox_store_error_code(enum store_error err)
{
	switch (err) {
	case STORE_ERR_NONEXISTENT: return "NONEXISTENT";
	case STORE_ERR_ALREADYEXISTS: return "ALREADYEXISTS";
	case STORE_ERR_HASCHILDREN: return "HASCHILDREN";
	case STORE_ERR_NOPERM: return "NOPERM";
	case STORE_ERR_OVERQUOTA: return "OVERQUOTA";
	case STORE_ERR_TOOBIG: return "TOOBIG";
	case STORE_ERR_INUSE: return "INUSE";
	case STORE_ERR_LIMIT: return "LIMIT";
	case STORE_ERR_CANNOT:
	case STORE_ERR_INVALID: return "CANNOT";
	case STORE_OK:
	case STORE_ERR_INTERNAL: break;
	}
	return "SERVERBUG";
}

void imap_mailbox_answer_store_error(struct imap_cmd *cmd, enum store_error err,
				     const char *error)
{
	struct imap_session *s = cmd->session;
	if (err == STORE_ERR_INTERNAL || err == STORE_OK) {
		/* The store has logged the details; the reference ties the
		 * client's report to them. */
		log_event(LOG_ERROR, conn_id(s->conn), "mailbox_command_failed",
			  "command=%s ref=%s-%llu error=%s", cmd->name,
			  conn_id(s->conn), (unsigned long long)s->commands,
			  log_str(cmd->arena, error != NULL ? error : "-"));
		imap_cmd_no(cmd, "SERVERBUG", "Internal error, reference %s-%llu",
			    conn_id(s->conn), (unsigned long long)s->commands);
		return;
	}
	imap_cmd_no(cmd, mailbox_store_error_code(err), "%s",
		    error != NULL ? error : store_error_name(err));
}
