#include "imap/imap-commands.h"
#include "imap/imap-parser.h"
#include "lib/log.h"
#include "net/conn.h"

/* "STARTTLS" (RFC 9051 §6.2.1). The OK goes out in clear text, then the
 * handshake starts; anything the client pipelined after the command is
 * thrown away (conn_start_tls), and so is parser state. */
enum imap_cmd_result cmd_starttls(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	if (cmd->arg_count != 0) {
		imap_cmd_bad(cmd, NULL, "STARTTLS takes no arguments");
		return IMAP_CMD_DONE;
	}
	if (conn_is_tls(s->conn)) {
		imap_cmd_bad(cmd, NULL, "TLS is already active");
		return IMAP_CMD_DONE;
	}
	imap_cmd_ok(cmd, NULL, "Begin TLS negotiation now");
	if (!conn_start_tls(s->conn)) {
		log_event(LOG_ERROR, conn_id(s->conn), "starttls_failed", NULL);
		imap_session_bye(s, "TLS is not available");
		return IMAP_CMD_DONE;
	}
	imap_parser_reset(s->parser);
	log_event(LOG_INFO, conn_id(s->conn), "starttls", NULL);
	return IMAP_CMD_DONE;
}
