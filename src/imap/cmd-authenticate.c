#include "imap/imap-auth.h"
#include "imap/imap-commands.h"
#include "imap/imap-parser.h"
#include "auth/sasl.h"
#include "lib/arena.h"
#include "lib/base64.h"

#include <string.h>

struct authenticate_ctx {
	struct sasl_server *sasl;
};

static void authenticate_free(struct imap_cmd *cmd)
{
	struct authenticate_ctx *ctx = cmd->ctx;
	sasl_server_destroy(&ctx->sasl);
}

static void authenticate_send_challenge(struct imap_cmd *cmd, const void *data, size_t len)
{
	struct buf line = BUF_INIT;
	buf_append_str(&line, "+ ");
	base64_encode(&line, data, len);
	buf_append_str(&line, "\r\n");
	imap_send_raw(cmd->session, line.data, line.len);
	buf_free(&line);
}

/* Runs one SASL step with a decoded client response (NULL: none yet). */
static enum imap_cmd_result authenticate_step(struct imap_cmd *cmd, const void *in, size_t in_len)
{
	struct authenticate_ctx *ctx = cmd->ctx;
	const void *out;
	size_t out_len;
	const char *error;
	switch (sasl_server_step(ctx->sasl, in, in_len, &out, &out_len, &error)) {
	case SASL_STEP_CONTINUE:
		authenticate_send_challenge(cmd, out, out_len);
		return IMAP_CMD_WAIT;
	case SASL_STEP_FAIL:
		authenticate_free(cmd);
		cmd->on_line = NULL;
		cmd->on_abort = NULL;
		imap_cmd_no(cmd, "AUTHENTICATIONFAILED", "%s", error);
		return IMAP_CMD_DONE;
	case SASL_STEP_DONE:
		break;
	}
	cmd->on_line = NULL;
	const char *user = sasl_server_username(ctx->sasl);
	const char *password = sasl_server_password(ctx->sasl);
	/* imap_auth_verify copies both before ctx goes. */
	enum imap_cmd_result r = imap_auth_verify(cmd, user, password, strlen(password));
	sasl_server_destroy(&ctx->sasl);
	return r;
}

/* A client response line: base64, or "*" to cancel (RFC 9051 §6.2.2). */
static enum imap_cmd_result authenticate_line(struct imap_cmd *cmd, const unsigned char *line,
					      size_t len)
{
	if (len == 1 && line[0] == '*') {
		authenticate_free(cmd);
		cmd->on_line = NULL;
		cmd->on_abort = NULL;
		imap_cmd_bad(cmd, NULL, "Authentication cancelled");
		return IMAP_CMD_DONE;
	}
	struct buf decoded = BUF_INIT;
	if (!base64_decode(&decoded, line, len)) {
		buf_free(&decoded);
		authenticate_free(cmd);
		cmd->on_line = NULL;
		cmd->on_abort = NULL;
		imap_cmd_bad(cmd, NULL, "Invalid base64 in SASL response");
		return IMAP_CMD_DONE;
	}
	enum imap_cmd_result r = authenticate_step(cmd, decoded.data ? (void *)decoded.data : "",
						   decoded.len);
	if (decoded.data != NULL)
		memset(decoded.data, 0, decoded.cap);
	buf_free(&decoded);
	return r;
}

/* authenticate = "AUTHENTICATE" SP auth-type [SP initial-resp]
 * initial-resp = (base64 / "=")          (RFC 9051 §6.2.2, RFC 4959) */
enum imap_cmd_result cmd_authenticate(struct imap_cmd *cmd)
{
	const char *mech_name;
	enum sasl_mech mech;
	if (cmd->arg_count < 1 || cmd->arg_count > 2 ||
	    !imap_arg_get_atom(&cmd->args[0], &mech_name)) {
		imap_cmd_bad(cmd, NULL, "AUTHENTICATE expects a mechanism name");
		return IMAP_CMD_DONE;
	}
	if (!sasl_mech_parse(mech_name, &mech)) {
		imap_cmd_no(cmd, "CANNOT", "Unsupported authentication mechanism");
		return IMAP_CMD_DONE;
	}
	if (imap_session_plaintext_disabled(cmd->session)) {
		imap_cmd_no(cmd, "PRIVACYREQUIRED", "Use STARTTLS or the TLS port first");
		return IMAP_CMD_DONE;
	}
	struct authenticate_ctx *ctx = arena_zalloc(cmd->arena, sizeof(*ctx));
	ctx->sasl = sasl_server_new(mech);
	cmd->ctx = ctx;
	cmd->on_abort = authenticate_free;
	cmd->on_line = authenticate_line;
	if (cmd->arg_count == 1)
		return authenticate_step(cmd, NULL, 0);
	const char *ir;
	if (!imap_arg_get_atom(&cmd->args[1], &ir)) {
		authenticate_free(cmd);
		cmd->on_line = NULL;
		cmd->on_abort = NULL;
		imap_cmd_bad(cmd, NULL, "Invalid initial response");
		return IMAP_CMD_DONE;
	}
	if (strcmp(ir, "=") == 0)
		return authenticate_step(cmd, "", 0);
	return authenticate_line(cmd, (const unsigned char *)ir, strlen(ir));
}
