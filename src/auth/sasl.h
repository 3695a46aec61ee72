#ifndef PETREL_SASL_H
#define PETREL_SASL_H

/* Server side of the SASL mechanisms Petrel offers: PLAIN (RFC 4616) and
 * LOGIN (draft-murchison-sasl-login, what many clients still use). This
 * module knows nothing about IMAP: the protocol layer base64-decodes client
 * responses, encodes challenges, handles cancellation ("*") and SASL-IR, and
 * checks the resulting user name and password against the user database.
 *
 * Usage:
 *   struct sasl_server *s = sasl_server_new(SASL_MECH_PLAIN);
 *   step with the initial response (SASL-IR) if the client sent one, else
 *   with in == NULL; while the result is SASL_STEP_CONTINUE, send *out_r as
 *   a challenge and step again with the client's decoded response.
 *   On SASL_STEP_DONE read sasl_server_username()/password(); then destroy.
 *
 * A state belongs to one session (one thread at a time); no shared state. */

#include <stdbool.h>
#include <stddef.h>

/* RFC 4616 requires accepting at least 255 octets per field; longer fields
 * are refused so that a session cannot make us hold large buffers. */
#define SASL_FIELD_MAX 1024

enum sasl_mech {
	SASL_MECH_PLAIN,
	SASL_MECH_LOGIN,
};

enum sasl_step {
	SASL_STEP_CONTINUE,	/* send *out_r as a challenge, then step again */
	SASL_STEP_DONE,		/* credentials ready for verification */
	SASL_STEP_FAIL,		/* malformed exchange; *error_r says why */
};

struct sasl_server;

/* Case-insensitive mechanism name ("PLAIN", "login") to enum. */
bool sasl_mech_parse(const char *name, enum sasl_mech *mech_r);
/* Upper-case IANA name of mech. */
const char *sasl_mech_name(enum sasl_mech mech);

struct sasl_server *sasl_server_new(enum sasl_mech mech);
/* Wipes the password from memory, frees s and sets *s to NULL. */
void sasl_server_destroy(struct sasl_server **s);

/* Feeds one client message (already base64-decoded). in == NULL means "no
 * data": the start of an exchange without an initial response. in != NULL
 * with in_len == 0 is an empty response (SASL-IR "="). On CONTINUE, *out_r
 * and *out_len_r hold the raw challenge (owned by s, valid until the next
 * call); on FAIL, *error_r is a static English message suitable for a log
 * or a NO response. After DONE or FAIL every further step fails. */
enum sasl_step sasl_server_step(struct sasl_server *s, const void *in, size_t in_len,
				const void **out_r, size_t *out_len_r,
				const char **error_r);

/* After DONE: the authentication identity and password, NUL-terminated,
 * valid UTF-8 without NUL, owned by s. NULL before DONE. */
const char *sasl_server_username(const struct sasl_server *s);
const char *sasl_server_password(const struct sasl_server *s);

#endif
