#ifndef PETREL_IMAP_SORT_H
#define PETREL_IMAP_SORT_H

/* SORT (RFC 5256, with RFC 5957 DISPLAYFROM/DISPLAYTO) and the per-message
 * keys that SORT and THREAD compare. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;
struct imap_arg;
struct imap_cmd;

/* What SORT and THREAD know of one matching message. Strings are from the
 * command arena, upper-cased where they are compared (i;ascii-casemap). */
struct imap_sort_msg {
	uint32_t idx;              /* index in the view: sequence number - 1 */
	uint32_t uid;
	int64_t arrival;           /* internal date */
	int64_t date;              /* sent date, or the internal date (§2.2) */
	uint64_t size;
	const char *from, *to, *cc;          /* addr-mailbox of the first address */
	const char *displayfrom, *displayto; /* RFC 5957 */
	const char *subject;       /* base subject */
	bool is_reply;             /* base-subject extraction removed re/fwd */
	const char *message_id, *in_reply_to, *references; /* raw */
};

/* Runs "charset search-key..." (the arguments after the SORT criteria or
 * THREAD algorithm, RFC 5256 §3) and loads the keys of the matches, in
 * sequence order. On failure the command has been answered. */
bool imap_sort_search(struct imap_cmd *cmd, const struct imap_arg *args, size_t count,
		      struct imap_sort_msg **msgs_r, size_t *count_r);

/* The first address of a decoded address header: its local part
 * (addr-mailbox) and its display name or, without one, the address. */
void imap_sort_first_address(struct arena *a, const char *header, const char **mailbox_r,
			     const char **display_r);

/* Compares two messages by sent date, then sequence number (§2.2). */
int imap_sort_by_date(const struct imap_sort_msg *x, const struct imap_sort_msg *y);

/* Writes "n" or the UID of m, as the command asks. */
uint32_t imap_sort_number(const struct imap_cmd *cmd, const struct imap_sort_msg *m);

#endif
