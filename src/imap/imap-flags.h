#ifndef PETREL_IMAP_FLAGS_H
#define PETREL_IMAP_FLAGS_H

/* Reading flag lists from clients (APPEND, STORE). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct imap_arg;
struct imap_cmd;

struct imap_flag_list {
	uint32_t flags;          /* STORE_FLAG_* */
	const char **keywords;   /* from the command arena */
	size_t keyword_count;
};

/* flag-list = "(" [flag *(SP flag)] ")", or (allow_bare) a single flag
 * without parentheses as STORE permits. flag = "\Answered" / "\Flagged" /
 * "\Deleted" / "\Seen" / "\Draft" / flag-keyword. \Recent and other
 * backslash flags cannot be set by a client; keywords must be atoms of at
 * most the configured length. On failure *error_r says why (for BAD). */
bool imap_flags_read(struct imap_cmd *cmd, const struct imap_arg *args, size_t count,
		     struct imap_flag_list *list_r, const char **error_r);

/* The system flags (STORE_FLAG_*) rights allow setting or clearing
 * (RFC 4314 §4): \Seen with "s", \Deleted with "t", the others with "w". */
uint32_t imap_flags_permitted(unsigned rights);

/* Drops from list what rights do not allow (keywords need "w"). RFC 4314
 * §4: APPEND, COPY and STORE drop such flags rather than fail. */
void imap_flags_filter(struct imap_flag_list *list, unsigned rights);

/* flag-keyword = "$MDNSent" / "$Forwarded" / ... / atom */
bool imap_keyword_valid(const char *s, size_t max_len);

#endif
