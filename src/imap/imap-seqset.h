#ifndef PETREL_IMAP_SEQSET_H
#define PETREL_IMAP_SEQSET_H

/* IMAP sequence sets (RFC 9051 section 9 "sequence-set", RFC 5182 "$").
 *
 * struct imap_seqset is a resolved set of 32-bit numbers kept as sorted,
 * merged ranges (never one entry per number: 1:4294967295 is one range).
 * struct imap_seqset_spec is what the client wrote: the explicit ranges
 * already sorted and merged, plus what "*" and "$" contributed, to be
 * resolved against the mailbox once the command runs.
 *
 * Memory: ranges are heap arrays owned by the struct; free them with
 * imap_seqset_free() / imap_seqset_spec_free(). Not thread-safe. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

/* Default bound on the ranges a client may send in one set. */
#define IMAP_SEQSET_DEFAULT_MAX_RANGES 100000

struct imap_seq_range {
	uint32_t first, last;  /* 1 <= first <= last */
};

struct imap_seqset {
	struct imap_seq_range *ranges;  /* sorted; never overlapping/adjacent */
	size_t count;
	size_t alloc;
};

struct imap_seqset_spec {
	struct imap_seqset set;  /* ranges without "*" */
	/* Some element used "*". All such elements ("*", "n:*", "*:n") hold
	 * the largest number, so together they make one range from
	 * min(star_lo, max) to max(star_hi, max): star_lo/star_hi are the
	 * least/greatest explicit n paired with "*" (UINT32_MAX/0 when "*"
	 * only appeared alone). */
	bool has_star;
	uint32_t star_lo, star_hi;
	/* "$" appeared: the saved SEARCHRES result is part of the set. */
	bool dollar;
};

#define IMAP_SEQSET_INIT { NULL, 0, 0 }

void imap_seqset_init(struct imap_seqset *set);
/* Frees the ranges; the set is empty (and reusable) afterwards. */
void imap_seqset_free(struct imap_seqset *set);
void imap_seqset_clear(struct imap_seqset *set);
void imap_seqset_copy(struct imap_seqset *dest, const struct imap_seqset *src);
/* Adds first:last (in either order; 0 is not a member and is ignored
 * when first and last are both 0, else clamped to 1), merging with
 * neighbours. Appending in ascending order is O(1). */
void imap_seqset_add_range(struct imap_seqset *set, uint32_t first,
			   uint32_t last);
void imap_seqset_add(struct imap_seqset *set, uint32_t num);
/* Adds every range of src to dest. */
void imap_seqset_merge(struct imap_seqset *dest, const struct imap_seqset *src);
/* Removes first:last. */
void imap_seqset_remove_range(struct imap_seqset *set, uint32_t first,
			      uint32_t last);
bool imap_seqset_contains(const struct imap_seqset *set, uint32_t num);
/* How many numbers the set holds (up to 4294967295). */
uint64_t imap_seqset_count(const struct imap_seqset *set);
bool imap_seqset_is_empty(const struct imap_seqset *set);
/* Smallest and largest member; false if the set is empty. */
bool imap_seqset_first(const struct imap_seqset *set, uint32_t *num_r);
bool imap_seqset_last(const struct imap_seqset *set, uint32_t *num_r);
/* Appends "1:3,5,9:12" to out (nothing for an empty set). */
void imap_seqset_format(const struct imap_seqset *set, struct buf *out);

/* Ascending iteration:
 *   struct imap_seqset_iter it; uint32_t n;
 *   imap_seqset_iter_init(&it, set);
 *   while (imap_seqset_iter_next(&it, &n)) ...
 * The set must not change during the iteration. */
struct imap_seqset_iter {
	const struct imap_seqset *set;
	size_t idx;
	uint64_t next;
};
void imap_seqset_iter_init(struct imap_seqset_iter *iter,
			   const struct imap_seqset *set);
bool imap_seqset_iter_next(struct imap_seqset_iter *iter, uint32_t *num_r);

/* Parses str[0..len) as a sequence-set. At most max_ranges elements are
 * accepted (0 = IMAP_SEQSET_DEFAULT_MAX_RANGES); more is an error, so
 * memory stays bounded. On success fills *spec_r (which must be freed with
 * imap_seqset_spec_free) and returns true; on failure returns false with a
 * static message in *error_r and *spec_r empty. */
bool imap_seqset_parse(const char *str, size_t len, size_t max_ranges,
		       struct imap_seqset_spec *spec_r, const char **error_r);
void imap_seqset_spec_free(struct imap_seqset_spec *spec);
/* Resolves spec against max (the highest message sequence number or UID;
 * 0 for an empty mailbox, in which case "*" elements contribute nothing)
 * and the saved SEARCHRES result (NULL: "$" is empty, RFC 5182 2.1).
 * set_r is cleared first, then filled. Numbers above max are kept: the
 * caller decides whether they are an error (sequence numbers) or simply
 * match nothing (UIDs). */
void imap_seqset_resolve(const struct imap_seqset_spec *spec, uint32_t max,
			 const struct imap_seqset *saved,
			 struct imap_seqset *set_r);

#endif
