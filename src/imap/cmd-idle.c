#include "imap/imap-commands.h"
#include "imap/imap-notify.h"
#include "imap/imap-selected.h"
#include "lib/arena.h"
#include "lib/config.h"
#include "net/conn.h"

#include <event2/event.h>
#include <string.h>
#include <strings.h>

struct idle_ctx {
	struct imap_cmd *cmd;
	struct event *keepalive;
};

static void idle_stop(struct imap_cmd *cmd)
{
	struct idle_ctx *ctx = cmd->ctx;
	imap_notify_unregister(cmd->session);
	if (ctx->keepalive != NULL) {
		event_free(ctx->keepalive);
		ctx->keepalive = NULL;
	}
	cmd->session->idle = NULL;
}

/* A change to the mailbox: report it now (RFC 2177: the server may send
 * untagged EXISTS, EXPUNGE and FETCH at any time while idling). */
void imap_idle_wake(struct imap_session *s)
{
	if (s->idle != NULL && s->selected != NULL && !conn_is_closing(s->conn))
		imap_selected_sync(s, true);
}

/* Some NAT boxes drop connections silent for a few minutes. */
static void idle_keepalive(evutil_socket_t fd, short what, void *arg)
{
	struct idle_ctx *ctx = arg;
	(void)fd;
	(void)what;
	imap_send_untagged(ctx->cmd->session, "OK Still here");
}

static enum imap_cmd_result idle_line(struct imap_cmd *cmd, const unsigned char *line, size_t len)
{
	idle_stop(cmd);
	cmd->on_line = NULL;
	cmd->on_abort = NULL;
	if (len == 4 && strncasecmp((const char *)line, "DONE", 4) == 0)
		imap_cmd_ok(cmd, NULL, "IDLE terminated");
	else
		imap_cmd_bad(cmd, NULL, "Expected DONE");
	return IMAP_CMD_DONE;
}

/* idle = "IDLE" CRLF "DONE"   (RFC 2177, RFC 9051 §6.3.13) */
enum imap_cmd_result cmd_idle(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	if (cmd->arg_count != 0) {
		imap_cmd_bad(cmd, NULL, "IDLE takes no arguments");
		return IMAP_CMD_DONE;
	}
	struct idle_ctx *ctx = arena_zalloc(cmd->arena, sizeof(*ctx));
	ctx->cmd = cmd;
	cmd->ctx = ctx;
	cmd->on_line = idle_line;
	cmd->on_abort = idle_stop;
	s->idle = cmd;
	imap_send_raw(s, "+ idling\r\n", 10);
	/* Registered first: a change committed from now on wakes the session
	 * (imap-notify.c); the read below reports the ones before. Changes
	 * since the last command go out straight away. */
	imap_notify_register(s);
	if (s->selected != NULL)
		imap_selected_sync(s, true);
	if (s->cfg->idle_keepalive > 0) {
		struct timeval tv = { .tv_sec = s->cfg->idle_keepalive };
		ctx->keepalive = event_new(conn_event_base(s->conn), -1, EV_PERSIST, idle_keepalive, ctx);
		event_add(ctx->keepalive, &tv);
	}
	return IMAP_CMD_WAIT;
}
