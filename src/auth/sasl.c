#include "auth/sasl.h"
#include "auth/auth-utf8.h"
#include "lib/xalloc.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>

enum sasl_state {
	SASL_STATE_START,
	SASL_STATE_PLAIN_RESPONSE,	/* sent the empty challenge */
	SASL_STATE_LOGIN_USERNAME,	/* sent "Username:" */
	SASL_STATE_LOGIN_PASSWORD,	/* sent "Password:" */
	SASL_STATE_DONE,
	SASL_STATE_FAILED,
};

struct sasl_server {
	enum sasl_mech mech;
	enum sasl_state state;
	char *username;
	char *password;
	size_t password_len;
};

static const char sasl_login_username_challenge[] = "Username:";
static const char sasl_login_password_challenge[] = "Password:";

bool sasl_mech_parse(const char *name, enum sasl_mech *mech_r)
{
	if (strcasecmp(name, "PLAIN") == 0)
		*mech_r = SASL_MECH_PLAIN;
	else if (strcasecmp(name, "LOGIN") == 0)
		*mech_r = SASL_MECH_LOGIN;
	else
		return false;
	return true;
}

const char *sasl_mech_name(enum sasl_mech mech)
{
	return mech == SASL_MECH_PLAIN ? "PLAIN" : "LOGIN";
}

struct sasl_server *sasl_server_new(enum sasl_mech mech)
{
	struct sasl_server *s = xcalloc(1, sizeof(*s));
	s->mech = mech;
	s->state = SASL_STATE_START;
	return s;
}

static void sasl_server_clear_password(struct sasl_server *s)
{
	if (s->password != NULL) {
		sodium_memzero(s->password, s->password_len);
		free(s->password);
		s->password = NULL;
		s->password_len = 0;
	}
}

void sasl_server_destroy(struct sasl_server **sp)
{
	struct sasl_server *s = *sp;
	if (s == NULL)
		return;
	sasl_server_clear_password(s);
	free(s->username);
	free(s);
	*sp = NULL;
}

/* A field of RFC 4616 (1*SAFE), also used for LOGIN's two responses:
 * non-empty, bounded, UTF-8, no NUL. */
static const char *sasl_field_check(const unsigned char *p, size_t len, const char *what_empty)
{
	if (len == 0)
		return what_empty;
	if (len > SASL_FIELD_MAX)
		return "field too long";
	if (memchr(p, '\0', len) != NULL)
		return "NUL in field";
	if (!auth_utf8_valid(p, len))
		return "invalid UTF-8";
	return NULL;
}

static enum sasl_step sasl_server_fail(struct sasl_server *s, const char *error,
				       const char **error_r)
{
	sasl_server_clear_password(s);
	free(s->username);
	s->username = NULL;
	s->state = SASL_STATE_FAILED;
	*error_r = error;
	return SASL_STEP_FAIL;
}

static enum sasl_step sasl_server_done(struct sasl_server *s, const unsigned char *user,
				       size_t user_len, const unsigned char *pass,
				       size_t pass_len)
{
	s->username = xstrndup((const char *)user, user_len);
	s->password = xstrndup((const char *)pass, pass_len);
	s->password_len = pass_len;
	s->state = SASL_STATE_DONE;
	return SASL_STEP_DONE;
}

/* RFC 4616 section 2:
 *   message = [authzid] UTF8NUL authcid UTF8NUL passwd */
static enum sasl_step sasl_plain_response(struct sasl_server *s, const unsigned char *in,
					  size_t len, const char **error_r)
{
	const unsigned char *nul1 = memchr(in, '\0', len);
	if (nul1 == NULL)
		return sasl_server_fail(s, "malformed PLAIN message: missing NUL separators", error_r);
	const unsigned char *authcid = nul1 + 1;
	const unsigned char *end = in + len;
	const unsigned char *nul2 = memchr(authcid, '\0', (size_t)(end - authcid));
	if (nul2 == NULL)
		return sasl_server_fail(s, "malformed PLAIN message: missing second NUL", error_r);
	const unsigned char *passwd = nul2 + 1;
	if (memchr(passwd, '\0', (size_t)(end - passwd)) != NULL)
		return sasl_server_fail(s, "malformed PLAIN message: too many fields", error_r);

	size_t authzid_len = (size_t)(nul1 - in);
	size_t authcid_len = (size_t)(nul2 - authcid);
	size_t passwd_len = (size_t)(end - passwd);
	const char *err;
	if (authzid_len > 0 && (err = sasl_field_check(in, authzid_len, NULL)) != NULL)
		return sasl_server_fail(s, err, error_r);
	if ((err = sasl_field_check(authcid, authcid_len, "empty user name")) != NULL)
		return sasl_server_fail(s, err, error_r);
	if ((err = sasl_field_check(passwd, passwd_len, "empty password")) != NULL)
		return sasl_server_fail(s, err, error_r);
	/* We do not support proxy authorization: an authzid is accepted only
	 * when it names the authenticating user itself (RFC 4616 section 2). */
	if (authzid_len > 0 &&
	    (authzid_len != authcid_len || memcmp(in, authcid, authcid_len) != 0))
		return sasl_server_fail(s, "authorization identity differs from user name", error_r);
	return sasl_server_done(s, authcid, authcid_len, passwd, passwd_len);
}

static enum sasl_step sasl_login_username(struct sasl_server *s, const unsigned char *in,
					  size_t len, const void **out_r,
					  size_t *out_len_r, const char **error_r)
{
	const char *err = sasl_field_check(in, len, "empty user name");
	if (err != NULL)
		return sasl_server_fail(s, err, error_r);
	s->username = xstrndup((const char *)in, len);
	s->state = SASL_STATE_LOGIN_PASSWORD;
	*out_r = sasl_login_password_challenge;
	*out_len_r = sizeof(sasl_login_password_challenge) - 1;
	return SASL_STEP_CONTINUE;
}

enum sasl_step sasl_server_step(struct sasl_server *s, const void *in, size_t in_len,
				const void **out_r, size_t *out_len_r,
				const char **error_r)
{
	const unsigned char *data = in;
	*out_r = NULL;
	*out_len_r = 0;

	switch (s->state) {
	case SASL_STATE_START:
		if (s->mech == SASL_MECH_PLAIN) {
			if (in == NULL) {
				/* RFC 4422 section 5: empty challenge asks for
				 * the initial response. */
				s->state = SASL_STATE_PLAIN_RESPONSE;
				*out_r = "";
				return SASL_STEP_CONTINUE;
			}
			return sasl_plain_response(s, data, in_len, error_r);
		}
		if (in == NULL || in_len == 0) {
			s->state = SASL_STATE_LOGIN_USERNAME;
			*out_r = sasl_login_username_challenge;
			*out_len_r = sizeof(sasl_login_username_challenge) - 1;
			return SASL_STEP_CONTINUE;
		}
		/* LOGIN has no defined initial response, but clients that send
		 * one send the user name (as Dovecot and Cyrus accept). */
		return sasl_login_username(s, data, in_len, out_r, out_len_r, error_r);
	case SASL_STATE_PLAIN_RESPONSE:
		if (in == NULL)
			return sasl_server_fail(s, "missing client response", error_r);
		return sasl_plain_response(s, data, in_len, error_r);
	case SASL_STATE_LOGIN_USERNAME:
		if (in == NULL)
			return sasl_server_fail(s, "missing client response", error_r);
		return sasl_login_username(s, data, in_len, out_r, out_len_r, error_r);
	case SASL_STATE_LOGIN_PASSWORD: {
		if (in == NULL)
			return sasl_server_fail(s, "missing client response", error_r);
		const char *err = sasl_field_check(data, in_len, "empty password");
		if (err != NULL)
			return sasl_server_fail(s, err, error_r);
		char *user = s->username;
		s->username = NULL;
		enum sasl_step r = sasl_server_done(s, (const unsigned char *)user,
						    strlen(user), data, in_len);
		free(user);
		return r;
	}
	case SASL_STATE_DONE:
	case SASL_STATE_FAILED:
		break;
	}
	return sasl_server_fail(s, "authentication exchange already finished", error_r);
}

const char *sasl_server_username(const struct sasl_server *s)
{
	return s->state == SASL_STATE_DONE ? s->username : NULL;
}

const char *sasl_server_password(const struct sasl_server *s)
{
	return s->state == SASL_STATE_DONE ? s->password : NULL;
}
