#include "imap/imap-commands.h"
#include "imap/imap-compat.h"
#include "petrel-version.h"
#include "imap/imap-parser.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "net/conn.h"

#include <string.h>
#include <strings.h>

/* RFC 2971 §3.3 limits on what a client sends. */
#define ID_MAX_PAIRS 30
#define ID_MAX_FIELD 30
#define ID_MAX_VALUE 1024

static bool id_field_is(const char *field, size_t len, const char *name)
{
	return strlen(name) == len && strncasecmp(field, name, len) == 0;
}

/* A heap copy of an ID value, NULL when the field was absent or NIL. */
static char *id_value_dup(const char *value, size_t len)
{
	return value != NULL ? xstrndup(value, len) : NULL;
}

/* Remembers "name/version" for logs and the session list, and the two
 * fields on their own for [workarounds] matches. */
static void id_remember_client(struct imap_session *s, const char *name, size_t name_len,
			       const char *version, size_t version_len)
{
	free(s->client_name);
	free(s->client_version);
	s->client_name = id_value_dup(name, name_len);
	s->client_version = id_value_dup(version, version_len);
	struct buf id = BUF_INIT;
	buf_append(&id, name != NULL ? name : "", name != NULL ? name_len : 0);
	if (version != NULL) {
		buf_append_char(&id, '/');
		buf_append(&id, version, version_len);
	}
	free(s->client_id);
	s->client_id = xstrndup(buf_cstr(&id), id.len);
	buf_free(&id);
	log_event(LOG_INFO, conn_id(s->conn), "client_id", "id=%s",
		  log_value(s->cmd_arena, s->client_id, strlen(s->client_id)));
}

/* id = "ID" SP id-params-list
 * id-params-list = "(" *(string SP nstring) ")" / nil */
enum imap_cmd_result cmd_id(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	const struct imap_arg *list = NULL;
	size_t count = 0;
	if (cmd->arg_count != 1 ||
	    (cmd->args[0].type != IMAP_ARG_NIL && !imap_arg_get_list(&cmd->args[0], &list, &count))) {
		imap_cmd_bad(cmd, NULL, "ID expects a parenthesised list or NIL");
		return IMAP_CMD_DONE;
	}
	if (count % 2 != 0 || count / 2 > ID_MAX_PAIRS) {
		imap_cmd_bad(cmd, NULL, "ID expects at most 30 field/value pairs");
		return IMAP_CMD_DONE;
	}
	const char *name = NULL, *version = NULL;
	size_t name_len = 0, version_len = 0;
	for (size_t i = 0; i < count; i += 2) {
		const char *field, *value;
		size_t field_len, value_len;
		if (!imap_arg_get_string(&list[i], &field, &field_len) ||
		    !imap_arg_get_nstring(&list[i + 1], &value, &value_len) ||
		    field_len > ID_MAX_FIELD || value_len > ID_MAX_VALUE) {
			imap_cmd_bad(cmd, NULL, "Invalid ID field or value");
			return IMAP_CMD_DONE;
		}
		if (id_field_is(field, field_len, "name")) {
			name = value;
			name_len = value_len;
		} else if (id_field_is(field, field_len, "version")) {
			version = value;
			version_len = value_len;
		}
	}
	if (count > 0) {
		id_remember_client(s, name, name_len, version, version_len);
		/* Workarounds only: RFC 2971 §3 keeps capabilities out of it. */
		imap_compat_refresh(s);
	}
	imap_send_untagged(s, "ID (\"name\" \"Petrel\" \"version\" \"%s\")", PETREL_VERSION);
	imap_cmd_ok(cmd, NULL, "ID completed");
	return IMAP_CMD_DONE;
}
