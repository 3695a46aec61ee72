#ifndef PETREL_IMAP_SORT_H
#define PETREL_IMAP_SORT_H

/* SORT (RFC 5256, with RFC 5957 DISPLAYFROM/DISPLAYTO) and the per-message
 * keys that SORT and THREAD compare. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;
struct buf;
struct imap_arg;
struct imap_cmd;

/* The keys a command compares. Only these are read from the store and
 * derived; the other fields of struct imap_sort_msg stay zero/"". */
#define IMAP_SORT_NEED_ARRIVAL     (1u << 0)
#define IMAP_SORT_NEED_SIZE        (1u << 1)
#define IMAP_SORT_NEED_DATE        (1u << 2)
#define IMAP_SORT_NEED_FROM        (1u << 3)
#define IMAP_SORT_NEED_DISPLAYFROM (1u << 4)
#define IMAP_SORT_NEED_TO          (1u << 5)
#define IMAP_SORT_NEED_DISPLAYTO   (1u << 6)
#define IMAP_SORT_NEED_CC          (1u << 7)
#define IMAP_SORT_NEED_SUBJECT     (1u << 8)  /* base subject and is_reply */
#define IMAP_SORT_NEED_THREAD      (1u << 9)  /* the three id headers */

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
	const char *message_id, *in_reply_to, *references; /* raw, may be NULL */
};

/* The matches of a SORT or THREAD search, in sequence order. */
struct imap_sort_set {
	struct imap_sort_msg *msgs;
	size_t count;
	/* The search had a MODSEQ key (RFC 7162 §3.1.9: SORT answers carry
	 * the highest MODSEQ of what they return). */
	bool has_modseq;
};

/* Runs "charset search-key..." (the arguments after the SORT criteria or
 * THREAD algorithm, RFC 5256 §3) and loads the keys in need
 * (IMAP_SORT_NEED_*) of the matches with one store query. Messages
 * expunged by another session meanwhile are left out, as SEARCH leaves
 * them out. need 0 reads nothing from the store: only idx and uid are set.
 * On failure the command has been answered. */
bool imap_sort_search(struct imap_cmd *cmd, const struct imap_arg *args, size_t count,
		      unsigned need, struct imap_sort_set *set_r);

/* The first address of a decoded address header: its local part
 * (addr-mailbox) and its display name or, without one, the address, both
 * upper-cased, from a. Either output may be NULL when not wanted. */
void imap_sort_first_address(struct arena *a, const char *header, const char **mailbox_r,
			     const char **display_r);

/* Compares two messages by sent date, then sequence number (§2.2). */
int imap_sort_by_date(const struct imap_sort_msg *x, const struct imap_sort_msg *y);

/* Writes "n" or the UID of m, as the command asks. */
uint32_t imap_sort_number(const struct imap_cmd *cmd, const struct imap_sort_msg *m);

#endif
