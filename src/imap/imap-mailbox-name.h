#ifndef PETREL_IMAP_MAILBOX_NAME_H
#define PETREL_IMAP_MAILBOX_NAME_H

/* Mailbox names at the protocol edge (DESIGN §4): the store keeps UTF-8
 * names with '/' as the hierarchy delimiter; clients send and receive
 * modified UTF-7 (RFC 3501 5.1.3), or UTF-8 once they have enabled
 * UTF8=ACCEPT (RFC 6855 3). Also the mapping of store errors on mailbox
 * commands to tagged NO answers with RFC 5530 response codes.
 *
 * Client name -> store name:
 *   1. decode modified UTF-7 (UTF-8 sessions: taken as is);
 *   2. one trailing delimiter is dropped (RFC 9051 6.3.4: "foo/" declares
 *      that children will follow; the name created is "foo");
 *   3. "INBOX" as the whole name or the first level, in any case, becomes
 *      "INBOX" (RFC 9051 5.1);
 *   4. the store's rules (store_mailbox_name_valid: no control characters,
 *      no empty level, no "." or ".." level, valid UTF-8);
 *   5. for names about to be created only, the configured limits:
 *      [limits] mailbox_name_length (UTF-8 bytes) and mailbox_depth
 *      (levels). Existing names are never refused for a limit, so that a
 *      mailbox made before a limit was lowered can still be deleted. */

#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"

struct arena;
struct buf;
struct imap_arg;
struct imap_cmd;
struct imap_session;

#define IMAP_MAILBOX_SEP STORE_HIERARCHY_SEP

enum imap_mailbox_name_result {
	IMAP_MAILBOX_NAME_OK,
	IMAP_MAILBOX_NAME_BAD_ENCODING, /* not modified UTF-7 */
	IMAP_MAILBOX_NAME_INVALID,      /* breaks store_mailbox_name_valid */
	IMAP_MAILBOX_NAME_TOO_LONG,
	IMAP_MAILBOX_NAME_TOO_DEEP,
};

/* What the name is used for: it decides the checks and response codes. */
enum imap_mailbox_name_use {
	/* Names an existing mailbox (DELETE, RENAME source, STATUS, SELECT,
	 * UNSUBSCRIBE): a name that cannot exist is NO [NONEXISTENT]. */
	IMAP_MAILBOX_NAME_EXISTING,
	/* Names something to be made (CREATE, RENAME target, SUBSCRIBE):
	 * limits apply; an invalid name is NO [CANNOT], a name over a limit
	 * NO [LIMIT]. */
	IMAP_MAILBOX_NAME_NEW,
};

struct imap_mailbox_name_limits {
	unsigned max_length; /* bytes of UTF-8; 0: no limit */
	unsigned max_depth;  /* hierarchy levels; 0: no limit */
};

/* Steps 1-5 above on len bytes of data. limits NULL: no limits (step 5
 * skipped). On IMAP_MAILBOX_NAME_OK *name_r is the store name, allocated
 * from a; otherwise *error_r is a static message safe to send. */
enum imap_mailbox_name_result
imap_mailbox_name_decode(const char *data, size_t len, bool utf8,
			 const struct imap_mailbox_name_limits *limits,
			 struct arena *a, const char **name_r,
			 const char **error_r);

/* True when the session gets UTF-8 names (UTF8=ACCEPT enabled). */
bool imap_mailbox_utf8(const struct imap_session *s);

/* mailbox = "INBOX" / astring   (RFC 3501 9)
 * Reads arg as a mailbox name and converts it for use. On failure answers
 * the command (BAD when arg is not an astring, NO with a response code
 * otherwise) and returns false. *name_r is from cmd->arena. */
bool imap_mailbox_name_read(struct imap_cmd *cmd, const struct imap_arg *arg,
			    enum imap_mailbox_name_use use,
			    const char **name_r);

/* A reference or list-mailbox pattern (wildcards kept) to UTF-8. Only
 * step 1 is applied. False when it is not valid modified UTF-7; such a
 * pattern matches no name. *pattern_r is from a. */
bool imap_mailbox_pattern_decode(const char *data, size_t len, bool utf8,
				 struct arena *a, const char **pattern_r);

/* Appends a store name as the "mailbox" of a response: modified UTF-7
 * (UTF-8 when utf8), written as a quoted string or, when it cannot be
 * quoted, a literal. */
void imap_mailbox_name_append(struct buf *out, const char *name, bool utf8);

/* Answers the command NO with the response code for err (RFC 5530):
 * NONEXISTENT, ALREADYEXISTS, HASCHILDREN, NOPERM, OVERQUOTA, TOOBIG,
 * CANNOT (also for INVALID), INUSE, LIMIT; INTERNAL gives SERVERBUG and a
 * reference that is also logged. error is the store's message. */
void imap_mailbox_answer_store_error(struct imap_cmd *cmd, enum store_error err,
				     const char *error);

#endif
