#include "imap/imap-auth.h"
#include "imap/imap-commands.h"
#include "imap/imap-parser.h"

#include <string.h>

/* login = "LOGIN" SP userid SP password
 * userid = astring, password = astring (RFC 9051 §6.2.3) */
enum imap_cmd_result cmd_login(struct imap_cmd *cmd)
{
	const char *user, *password;
	size_t user_len, password_len;
	if (cmd->arg_count != 2 || !imap_arg_get_astring(&cmd->args[0], &user, &user_len) ||
	    !imap_arg_get_astring(&cmd->args[1], &password, &password_len)) {
		imap_cmd_bad(cmd, NULL, "LOGIN expects a user name and a password");
		return IMAP_CMD_DONE;
	}
	if (imap_session_plaintext_disabled(cmd->session)) {
		imap_cmd_no(cmd, "PRIVACYREQUIRED", "Use STARTTLS or the TLS port before LOGIN");
		return IMAP_CMD_DONE;
	}
	if (user_len == 0 || memchr(user, '\0', user_len) != NULL ||
	    memchr(password, '\0', password_len) != NULL) {
		imap_cmd_no(cmd, "AUTHENTICATIONFAILED", "Authentication failed");
		return IMAP_CMD_DONE;
	}
	return imap_auth_verify(cmd, user, password, password_len);
}
