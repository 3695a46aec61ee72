/* LMTP commands (RFC 2033 §4, RFC 5321 §4.1.1) other than the message
 * data itself. Enhanced status codes follow RFC 3463 (ENHANCEDSTATUSCODES,
 * RFC 2034). */

#include "lmtp/lmtp-address.h"
#include "lmtp/lmtp-private.h"
#include "lmtp/lmtp-recipient.h"
#include "lmtp/lmtp-trace.h"

#include "auth/userdb.h"
#include "lib/arena.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "net/conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct lmtp_command {
	const char *name;
	void (*run)(struct lmtp_session *s, const char *args);
	bool takes_args;    /* false: anything after the verb is a 501 */
};

/* LHLO = "LHLO" SP Domain CRLF (RFC 2033 §4.1). Like EHLO it resets the
 * transaction (RFC 5321 §4.1.4). */
static void lmtp_cmd_lhlo(struct lmtp_session *s, const char *args)
{
	size_t len = strcspn(args, " ");
	if (len == 0) {
		lmtp_reply(s, "501 5.5.4 Syntax: LHLO hostname");
		return;
	}
	free(s->helo);
	s->helo = xstrndup(args, len);
	lmtp_session_reset(s);
	lmtp_reply(s, "250-%s", lmtp_trace_hostname());
	lmtp_reply(s, "250-PIPELINING");
	lmtp_reply(s, "250-ENHANCEDSTATUSCODES");
	lmtp_reply(s, "250-8BITMIME");
	lmtp_reply(s, "250 SIZE %llu", (unsigned long long)s->cfg->append_size);
}

/* RFC 2033 §4.1: HELO and EHLO are not part of LMTP. */
static void lmtp_cmd_helo(struct lmtp_session *s, const char *args)
{
	(void)args;
	lmtp_reply(s, "500 5.5.1 This is LMTP: use LHLO");
}

/* MAIL parameters: SIZE=n (RFC 1870) and BODY=7BIT/8BITMIME (RFC 6152).
 * Returns false after replying. */
static bool lmtp_mail_params(struct lmtp_session *s, const struct lmtp_address_args *args)
{
	s->declared_size = 0;
	for (size_t i = 0; i < args->param_count; i++) {
		const struct lmtp_param *p = &args->params[i];
		if (strcasecmp(p->keyword, "SIZE") == 0) {
			char *end;
			errno = 0;
			unsigned long long size = p->value != NULL ? strtoull(p->value, &end, 10) : 0;
			if (p->value == NULL || *end != '\0' || p->value[0] < '0' ||
			    p->value[0] > '9' || errno != 0) {
				lmtp_reply(s, "501 5.5.4 Invalid SIZE value");
				return false;
			}
			s->declared_size = size;
			if (size > s->cfg->append_size) {
				lmtp_reply(s, "552 5.3.4 Message size exceeds fixed limit of %llu bytes",
					   (unsigned long long)s->cfg->append_size);
				return false;
			}
		} else if (strcasecmp(p->keyword, "BODY") == 0) {
			if (p->value == NULL || (strcasecmp(p->value, "7BIT") != 0 &&
						 strcasecmp(p->value, "8BITMIME") != 0)) {
				lmtp_reply(s, "501 5.5.4 Invalid BODY value");
				return false;
			}
		} else {
			lmtp_reply(s, "555 5.5.4 Unsupported parameter %s", p->keyword);
			return false;
		}
	}
	return true;
}

/* mail = "MAIL FROM:" Reverse-path [SP Mail-parameters] CRLF */
static void lmtp_cmd_mail(struct lmtp_session *s, const char *args)
{
	if (s->helo == NULL) {
		lmtp_reply(s, "503 5.5.1 Send LHLO first");
		return;
	}
	if (s->sender != NULL) {
		lmtp_reply(s, "503 5.5.1 Sender already given");
		return;
	}
	struct lmtp_address_args parsed;
	switch (lmtp_address_parse(s->txn_arena, args, "FROM:", true, &parsed)) {
	case LMTP_ADDRESS_OK:
		break;
	case LMTP_ADDRESS_BAD_COMMAND:
		lmtp_reply(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	case LMTP_ADDRESS_BAD_PATH:
		lmtp_reply(s, "501 5.1.7 Bad sender address syntax");
		return;
	case LMTP_ADDRESS_BAD_PARAMS:
		lmtp_reply(s, "501 5.5.4 Invalid parameters");
		return;
	}
	if (!lmtp_mail_params(s, &parsed))
		return;
	s->sender = parsed.path.address;
	lmtp_reply(s, "250 2.1.0 Sender OK");
}

static void lmtp_rcpt_add(struct lmtp_session *s, const char *address,
			  const struct lmtp_recipient *r)
{
	if (s->rcpt_count == s->rcpt_cap) {
		s->rcpt_cap = s->rcpt_cap ? s->rcpt_cap * 2 : 8;
		s->rcpts = xrealloc(s->rcpts, s->rcpt_cap * sizeof(*s->rcpts));
	}
	s->rcpts[s->rcpt_count++] = (struct lmtp_rcpt){
		.address = address, .user = r->user, .detail = r->detail,
	};
}

/* A recipient already at a QUOTA limit (RFC 9208) is refused at RCPT,
 * before the message is sent. The store checks again inside the append,
 * which refuses the same way after DATA if the quota filled up meanwhile.
 * Returns false after replying. */
static bool lmtp_rcpt_check_quota(struct lmtp_session *s, const char *user, const char *address)
{
	struct store_user *u;
	const char *error = NULL;
	uint64_t size = s->declared_size > 0 ? s->declared_size : 1;
	enum store_error err = lmtp_worker_store(user, &u, &error);
	if (err == STORE_OK)
		err = store_quota_check(u, size, 1, &error);
	if (err == STORE_OK)
		return true;
	if (err == STORE_ERR_OVERQUOTA) {
		log_event(LOG_INFO, conn_id(s->conn), "lmtp_over_quota", "user=%s",
			  log_str(s->txn_arena, user));
		lmtp_reply_overquota(s, address);
		return false;
	}
	log_event(LOG_ERROR, conn_id(s->conn), "lmtp_store_failed", "user=%s error=%s reason=%s",
		  log_str(s->txn_arena, user), store_error_name(err),
		  log_str(s->txn_arena, error != NULL ? error : ""));
	lmtp_reply(s, "451 4.3.0 <%s> Temporary failure, try again later", address);
	return false;
}

/* Looks the recipient up and replies. */
static void lmtp_rcpt_resolve(struct lmtp_session *s, const struct lmtp_path *path)
{
	struct userdb *db = lmtp_worker_userdb();
	struct lmtp_recipient r;
	const char *error = NULL;
	enum userdb_result res = db == NULL ? USERDB_ERROR
		: lmtp_recipient_resolve(db, s->txn_arena, path, &r, &error);
	switch (res) {
	case USERDB_OK:
		if (!lmtp_rcpt_check_quota(s, r.user, path->address))
			return;
		lmtp_rcpt_add(s, path->address, &r);
		lmtp_reply(s, "250 2.1.5 <%s> Recipient OK", path->address);
		return;
	case USERDB_NOT_FOUND:
		log_event(LOG_INFO, conn_id(s->conn), "lmtp_unknown_user", "address=%s",
			  log_str(s->txn_arena, path->address));
		lmtp_reply(s, "550 5.1.1 <%s> User unknown", path->address);
		return;
	default:
		log_event(LOG_ERROR, conn_id(s->conn), "lmtp_userdb_failed", "error=%s",
			  log_str(s->txn_arena, error != NULL ? error : "unavailable"));
		lmtp_reply(s, "451 4.3.0 <%s> Temporary lookup failure, try again later",
			   path->address);
		return;
	}
}

/* rcpt = "RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" /
 *        Forward-path ) [SP Rcpt-parameters] CRLF */
static void lmtp_cmd_rcpt(struct lmtp_session *s, const char *args)
{
	if (s->sender == NULL) {
		lmtp_reply(s, "503 5.5.1 Need MAIL command");
		return;
	}
	struct lmtp_address_args parsed;
	switch (lmtp_address_parse(s->txn_arena, args, "TO:", false, &parsed)) {
	case LMTP_ADDRESS_OK:
		break;
	case LMTP_ADDRESS_BAD_COMMAND:
		lmtp_reply(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	case LMTP_ADDRESS_BAD_PATH:
		lmtp_reply(s, "501 5.1.3 Bad recipient address syntax");
		return;
	case LMTP_ADDRESS_BAD_PARAMS:
		lmtp_reply(s, "501 5.5.4 Invalid parameters");
		return;
	}
	if (parsed.param_count > 0) {
		lmtp_reply(s, "555 5.5.4 Unsupported parameter %s", parsed.params[0].keyword);
		return;
	}
	if (s->rcpt_count >= LMTP_MAX_RECIPIENTS) {
		lmtp_reply(s, "452 4.5.3 Too many recipients");
		return;
	}
	lmtp_rcpt_resolve(s, &parsed.path);
}

static void lmtp_cmd_data(struct lmtp_session *s, const char *args)
{
	(void)args;
	if (s->sender == NULL) {
		lmtp_reply(s, "503 5.5.1 Need MAIL command");
		return;
	}
	/* RFC 2033 §4.2: no successful RCPT means DATA fails with 503. */
	if (s->rcpt_count == 0) {
		lmtp_reply(s, "503 5.5.1 No valid recipients");
		return;
	}
	if (lmtp_data_begin(s))
		lmtp_reply(s, "354 Start mail input; end with <CRLF>.<CRLF>");
}

static void lmtp_cmd_rset(struct lmtp_session *s, const char *args)
{
	(void)args;
	lmtp_session_reset(s);
	lmtp_reply(s, "250 2.0.0 OK");
}

static void lmtp_cmd_noop(struct lmtp_session *s, const char *args)
{
	(void)args;
	lmtp_reply(s, "250 2.0.0 OK");
}

/* RFC 5321 §3.5.3: 252 when we will not say whether a user exists. */
static void lmtp_cmd_vrfy(struct lmtp_session *s, const char *args)
{
	if (args[0] == '\0') {
		lmtp_reply(s, "501 5.5.4 Syntax: VRFY address");
		return;
	}
	lmtp_reply(s, "252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery");
}

static void lmtp_cmd_quit(struct lmtp_session *s, const char *args)
{
	(void)args;
	lmtp_reply(s, "221 2.0.0 %s Bye", lmtp_trace_hostname());
	conn_close_after_flush(s->conn);
}

static const struct lmtp_command lmtp_commands[] = {
	{ "LHLO", lmtp_cmd_lhlo, true },
	{ "MAIL", lmtp_cmd_mail, true },
	{ "RCPT", lmtp_cmd_rcpt, true },
	{ "DATA", lmtp_cmd_data, false },
	{ "RSET", lmtp_cmd_rset, false },
	{ "NOOP", lmtp_cmd_noop, true },
	{ "VRFY", lmtp_cmd_vrfy, true },
	{ "QUIT", lmtp_cmd_quit, false },
	{ "HELO", lmtp_cmd_helo, true },
	{ "EHLO", lmtp_cmd_helo, true },
};

void lmtp_command_run(struct lmtp_session *s, const char *line)
{
	size_t verb_len = strcspn(line, " ");
	const char *args = line + verb_len;
	if (*args == ' ')
		args++;
	for (size_t i = 0; i < sizeof(lmtp_commands) / sizeof(lmtp_commands[0]); i++) {
		const struct lmtp_command *cmd = &lmtp_commands[i];
		if (strlen(cmd->name) != verb_len || strncasecmp(line, cmd->name, verb_len) != 0)
			continue;
		if (!cmd->takes_args && args[0] != '\0') {
			lmtp_reply(s, "501 5.5.4 Syntax: %s takes no arguments", cmd->name);
			return;
		}
		cmd->run(s, args);
		return;
	}
	if (verb_len == 0)
		lmtp_reply(s, "500 5.5.2 Syntax error");
	else
		lmtp_reply(s, "500 5.5.1 Unknown command");
}
