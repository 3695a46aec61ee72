#include "imap/imap-seqset.h"

#include "lib/buf.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

void imap_seqset_init(struct imap_seqset *set)
{
	set->ranges = NULL;
	set->count = 0;
	set->alloc = 0;
}

void imap_seqset_free(struct imap_seqset *set)
{
	free(set->ranges);
	imap_seqset_init(set);
}

void imap_seqset_clear(struct imap_seqset *set)
{
	set->count = 0;
}

static void seqset_reserve(struct imap_seqset *set, size_t extra)
{
	if (set->count + extra <= set->alloc)
		return;
	size_t alloc = set->alloc ? set->alloc : 8;
	while (alloc < set->count + extra) {
		if (alloc > SIZE_MAX / 2 / sizeof(*set->ranges))
			xalloc_die();
		alloc *= 2;
	}
	set->ranges = xrealloc(set->ranges, alloc * sizeof(*set->ranges));
	set->alloc = alloc;
}

void imap_seqset_copy(struct imap_seqset *dest, const struct imap_seqset *src)
{
	dest->count = 0;
	seqset_reserve(dest, src->count);
	if (src->count)
		memcpy(dest->ranges, src->ranges, src->count * sizeof(*src->ranges));
	dest->count = src->count;
}

/* First index whose range ends at or after first - 1 (could merge with or
 * follow first:last). */
static size_t seqset_lower(const struct imap_seqset *set, uint32_t first)
{
	size_t lo = 0, hi = set->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if ((uint64_t)set->ranges[mid].last + 1 < first)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void imap_seqset_add_range(struct imap_seqset *set, uint32_t first,
			   uint32_t last)
{
	if (first > last) {
		uint32_t t = first;
		first = last;
		last = t;
	}
	if (last == 0)
		return;
	if (first == 0)
		first = 1;

	/* Fast path: appending in ascending order. */
	if (set->count == 0 ||
	    first > (uint64_t)set->ranges[set->count - 1].last + 1) {
		seqset_reserve(set, 1);
		set->ranges[set->count].first = first;
		set->ranges[set->count].last = last;
		set->count++;
		return;
	}

	size_t i = seqset_lower(set, first);
	size_t j = i;
	while (j < set->count && set->ranges[j].first <= (uint64_t)last + 1)
		j++;
	if (i == j) {
		seqset_reserve(set, 1);
		memmove(set->ranges + i + 1, set->ranges + i,
			(set->count - i) * sizeof(*set->ranges));
		set->ranges[i].first = first;
		set->ranges[i].last = last;
		set->count++;
		return;
	}
	if (set->ranges[i].first < first)
		first = set->ranges[i].first;
	if (set->ranges[j - 1].last > last)
		last = set->ranges[j - 1].last;
	set->ranges[i].first = first;
	set->ranges[i].last = last;
	memmove(set->ranges + i + 1, set->ranges + j,
		(set->count - j) * sizeof(*set->ranges));
	set->count -= j - i - 1;
}

void imap_seqset_add(struct imap_seqset *set, uint32_t num)
{
	imap_seqset_add_range(set, num, num);
}

void imap_seqset_merge(struct imap_seqset *dest, const struct imap_seqset *src)
{
	for (size_t i = 0; i < src->count; i++)
		imap_seqset_add_range(dest, src->ranges[i].first,
				      src->ranges[i].last);
}

void imap_seqset_remove_range(struct imap_seqset *set, uint32_t first,
			      uint32_t last)
{
	if (first > last) {
		uint32_t t = first;
		first = last;
		last = t;
	}
	size_t i = seqset_lower(set, first);
	while (i < set->count && set->ranges[i].first <= last) {
		struct imap_seq_range *r = &set->ranges[i];
		if (r->last < first) {
			i++;
			continue;
		}
		bool keep_left = r->first < first;
		bool keep_right = r->last > last;
		if (keep_left && keep_right) {
			/* Split in two. */
			seqset_reserve(set, 1);
			r = &set->ranges[i];
			memmove(r + 1, r, (set->count - i) * sizeof(*r));
			set->count++;
			r[0].last = first - 1;
			r[1].first = last + 1;
			return;
		}
		if (keep_left) {
			r->last = first - 1;
			i++;
		} else if (keep_right) {
			r->first = last + 1;
			return;
		} else {
			memmove(r, r + 1, (set->count - i - 1) * sizeof(*r));
			set->count--;
		}
	}
}

bool imap_seqset_contains(const struct imap_seqset *set, uint32_t num)
{
	size_t lo = 0, hi = set->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (set->ranges[mid].last < num)
			lo = mid + 1;
		else if (set->ranges[mid].first > num)
			hi = mid;
		else
			return true;
	}
	return false;
}

uint64_t imap_seqset_count(const struct imap_seqset *set)
{
	uint64_t n = 0;
	for (size_t i = 0; i < set->count; i++)
		n += (uint64_t)set->ranges[i].last - set->ranges[i].first + 1;
	return n;
}

bool imap_seqset_is_empty(const struct imap_seqset *set)
{
	return set->count == 0;
}

bool imap_seqset_first(const struct imap_seqset *set, uint32_t *num_r)
{
	if (set->count == 0)
		return false;
	*num_r = set->ranges[0].first;
	return true;
}

bool imap_seqset_last(const struct imap_seqset *set, uint32_t *num_r)
{
	if (set->count == 0)
		return false;
	*num_r = set->ranges[set->count - 1].last;
	return true;
}

void imap_seqset_format(const struct imap_seqset *set, struct buf *out)
{
	for (size_t i = 0; i < set->count; i++) {
		const struct imap_seq_range *r = &set->ranges[i];
		if (i > 0)
			buf_append_char(out, ',');
		if (r->first == r->last)
			buf_printf(out, "%u", (unsigned)r->first);
		else
			buf_printf(out, "%u:%u", (unsigned)r->first,
				   (unsigned)r->last);
	}
}

void imap_seqset_iter_init(struct imap_seqset_iter *iter,
			   const struct imap_seqset *set)
{
	iter->set = set;
	iter->idx = 0;
	iter->next = set->count > 0 ? set->ranges[0].first : 0;
}

bool imap_seqset_iter_next(struct imap_seqset_iter *iter, uint32_t *num_r)
{
	const struct imap_seqset *set = iter->set;
	if (iter->idx >= set->count)
		return false;
	*num_r = (uint32_t)iter->next;
	if (iter->next < set->ranges[iter->idx].last) {
		iter->next++;
	} else if (++iter->idx < set->count) {
		iter->next = set->ranges[iter->idx].first;
	}
	return true;
}

static int seq_range_cmp(const void *a, const void *b)
{
	const struct imap_seq_range *x = a, *y = b;
	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	if (x->last != y->last)
		return x->last < y->last ? -1 : 1;
	return 0;
}

/* seq-number = nz-number / "*"
 * nz-number  = digit-nz *DIGIT   ; Non-zero unsigned 32-bit integer
 * Returns the bytes read (0 on error); *star_r tells "*" apart. */
static size_t seqset_parse_number(const char *str, size_t len, uint32_t *num_r,
				  bool *star_r, const char **error_r)
{
	if (len > 0 && str[0] == '*') {
		*star_r = true;
		*num_r = 0;
		return 1;
	}
	*star_r = false;
	size_t i = 0;
	uint64_t n = 0;
	while (i < len && str[i] >= '0' && str[i] <= '9') {
		n = n * 10 + (uint64_t)(str[i] - '0');
		if (n > UINT32_MAX) {
			*error_r = "Sequence number too large";
			return 0;
		}
		i++;
	}
	if (i == 0) {
		*error_r = "Invalid sequence set";
		return 0;
	}
	if (str[0] == '0') {
		*error_r = n == 0 ? "Sequence number 0 is not allowed" :
			"Invalid sequence number (leading zero)";
		return 0;
	}
	*num_r = (uint32_t)n;
	return i;
}

void imap_seqset_spec_free(struct imap_seqset_spec *spec)
{
	imap_seqset_free(&spec->set);
	spec->has_star = false;
	spec->star_lo = UINT32_MAX;
	spec->star_hi = 0;
	spec->dollar = false;
}

/* sequence-set = (seq-number / seq-range) ["," sequence-set]
 * sequence-set =/ seq-last-command
 * seq-range    = seq-number ":" seq-number
 * seq-last-command = "$"
 * The grammar lets "$" stand for any element, so "1,$" is accepted. */
bool imap_seqset_parse(const char *str, size_t len, size_t max_ranges,
		       struct imap_seqset_spec *spec_r, const char **error_r)
{
	struct imap_seqset raw = IMAP_SEQSET_INIT;
	size_t elements = 0, i = 0;

	if (max_ranges == 0)
		max_ranges = IMAP_SEQSET_DEFAULT_MAX_RANGES;
	imap_seqset_init(&spec_r->set);
	spec_r->has_star = false;
	spec_r->star_lo = UINT32_MAX;
	spec_r->star_hi = 0;
	spec_r->dollar = false;

	for (;;) {
		if (++elements > max_ranges) {
			*error_r = "Too many ranges in sequence set";
			goto fail;
		}
		if (i < len && str[i] == '$') {
			spec_r->dollar = true;
			i++;
		} else {
			uint32_t a, b;
			bool a_star, b_star;
			size_t n = seqset_parse_number(str + i, len - i, &a,
						       &a_star, error_r);
			if (n == 0)
				goto fail;
			i += n;
			b = a;
			b_star = a_star;
			if (i < len && str[i] == ':') {
				i++;
				n = seqset_parse_number(str + i, len - i, &b,
							&b_star, error_r);
				if (n == 0)
					goto fail;
				i += n;
			}
			if (a_star || b_star) {
				spec_r->has_star = true;
				/* "n:*" or "*:n": n and max and all between */
				if (!a_star || !b_star) {
					uint32_t x = a_star ? b : a;
					if (x < spec_r->star_lo)
						spec_r->star_lo = x;
					if (x > spec_r->star_hi)
						spec_r->star_hi = x;
				}
			} else {
				seqset_reserve(&raw, 1);
				raw.ranges[raw.count].first = a < b ? a : b;
				raw.ranges[raw.count].last = a < b ? b : a;
				raw.count++;
			}
		}
		if (i == len)
			break;
		if (str[i] != ',') {
			*error_r = "Invalid sequence set";
			goto fail;
		}
		i++;
	}

	/* Sort then merge: O(n log n) whatever order the client used. */
	if (raw.count > 0)
		qsort(raw.ranges, raw.count, sizeof(*raw.ranges), seq_range_cmp);
	seqset_reserve(&spec_r->set, raw.count);
	for (size_t k = 0; k < raw.count; k++)
		imap_seqset_add_range(&spec_r->set, raw.ranges[k].first,
				      raw.ranges[k].last);
	imap_seqset_free(&raw);
	return true;
fail:
	imap_seqset_free(&raw);
	imap_seqset_spec_free(spec_r);
	return false;
}

void imap_seqset_resolve(const struct imap_seqset_spec *spec, uint32_t max,
			 const struct imap_seqset *saved,
			 struct imap_seqset *set_r)
{
	imap_seqset_copy(set_r, &spec->set);
	if (spec->has_star && max > 0) {
		uint32_t lo = spec->star_lo < max ? spec->star_lo : max;
		uint32_t hi = spec->star_hi > max ? spec->star_hi : max;
		imap_seqset_add_range(set_r, lo, hi);
	}
	if (spec->dollar && saved != NULL)
		imap_seqset_merge(set_r, saved);
}
