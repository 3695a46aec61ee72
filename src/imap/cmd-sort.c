#include "imap/imap-commands.h"
#include "imap/imap-parser.h"
#include "imap/imap-selected.h"
#include "imap/imap-sort.h"
#include "lib/arena.h"
#include "lib/buf.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum sort_key {
	SORT_ARRIVAL, SORT_CC, SORT_DATE, SORT_FROM, SORT_SIZE, SORT_SUBJECT, SORT_TO,
	SORT_DISPLAYFROM, SORT_DISPLAYTO,
};

static const struct {
	const char *name;
	unsigned need;              /* IMAP_SORT_NEED_* */
} sort_keys[] = {
	[SORT_ARRIVAL] = { "ARRIVAL", IMAP_SORT_NEED_ARRIVAL },
	[SORT_CC] = { "CC", IMAP_SORT_NEED_CC },
	[SORT_DATE] = { "DATE", IMAP_SORT_NEED_DATE },
	[SORT_FROM] = { "FROM", IMAP_SORT_NEED_FROM },
	[SORT_SIZE] = { "SIZE", IMAP_SORT_NEED_SIZE },
	[SORT_SUBJECT] = { "SUBJECT", IMAP_SORT_NEED_SUBJECT },
	[SORT_TO] = { "TO", IMAP_SORT_NEED_TO },
	[SORT_DISPLAYFROM] = { "DISPLAYFROM", IMAP_SORT_NEED_DISPLAYFROM },
	[SORT_DISPLAYTO] = { "DISPLAYTO", IMAP_SORT_NEED_DISPLAYTO },
};
#define SORT_KEY_COUNT (sizeof(sort_keys) / sizeof(*sort_keys))

#define SORT_MAX_CRITERIA 16

struct sort_criterion {
	enum sort_key key;
	bool reverse;
};

struct sort_order {
	struct sort_criterion c[SORT_MAX_CRITERIA];
	size_t count;
	unsigned need;              /* the keys the criteria compare */
};

/* RFC 5267 §3.1: the return options of RFC 4731, in sort order. */
#define SORT_RET_MIN (1u << 0)
#define SORT_RET_MAX (1u << 1)
#define SORT_RET_ALL (1u << 2)
#define SORT_RET_COUNT (1u << 3)

/* sort-criteria = "(" sort-criterion *(SP sort-criterion) ")"
 * sort-criterion = ["REVERSE" SP] sort-key          (RFC 5256 §5, RFC 5957) */
static bool sort_parse_criteria(const struct imap_arg *arg, struct sort_order *order)
{
	const struct imap_arg *list;
	size_t count;
	if (!imap_arg_get_list(arg, &list, &count) || count == 0)
		return false;
	order->count = 0;
	order->need = 0;
	for (size_t i = 0; i < count; i++) {
		bool reverse = false;
		if (imap_arg_atom_equals(&list[i], "REVERSE")) {
			reverse = true;
			if (++i == count)
				return false;
		}
		size_t k = 0;
		while (k < SORT_KEY_COUNT && !imap_arg_atom_equals(&list[i], sort_keys[k].name))
			k++;
		if (k == SORT_KEY_COUNT || order->count == SORT_MAX_CRITERIA)
			return false;
		order->c[order->count].key = (enum sort_key)k;
		order->c[order->count].reverse = reverse;
		order->count++;
		order->need |= sort_keys[k].need;
	}
	return true;
}

/* search-return-opts = SP "RETURN" SP "(" [search-return-opt
 *                      *(SP search-return-opt)] ")"    (RFC 4466 §2.6)
 * The options of RFC 4731 (MIN, MAX, ALL, COUNT), which ESORT adapts to
 * the sort order (RFC 5267 §3.1); "()" means ALL. SAVE (RFC 5182) is not
 * taken with SORT: the saved "$" is a set, and which messages MIN and MAX
 * would leave in it is not specified for sorted results. */
static bool sort_parse_return(const struct imap_arg *list_arg, unsigned *opts_r)
{
	static const struct {
		const char *name;
		unsigned bit;
	} opts[] = {
		{ "MIN", SORT_RET_MIN }, { "MAX", SORT_RET_MAX },
		{ "ALL", SORT_RET_ALL }, { "COUNT", SORT_RET_COUNT },
	};
	const struct imap_arg *list;
	size_t count;
	if (!imap_arg_get_list(list_arg, &list, &count))
		return false;
	*opts_r = 0;
	for (size_t i = 0; i < count; i++) {
		size_t k = 0;
		while (k < sizeof(opts) / sizeof(*opts) && !imap_arg_atom_equals(&list[i], opts[k].name))
			k++;
		if (k == sizeof(opts) / sizeof(*opts))
			return false;
		*opts_r |= opts[k].bit;
	}
	if (*opts_r == 0)
		*opts_r = SORT_RET_ALL;
	return true;
}

/* ---- Comparing ------------------------------------------------------------- */

static int sort_cmp_num(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

static int sort_cmp_key(const struct imap_sort_msg *x, const struct imap_sort_msg *y,
			enum sort_key key)
{
	switch (key) {
	case SORT_ARRIVAL:
		return sort_cmp_num(x->arrival, y->arrival);
	case SORT_DATE:
		return sort_cmp_num(x->date, y->date);
	case SORT_SIZE:
		return x->size < y->size ? -1 : x->size > y->size;
	case SORT_CC:
		return strcmp(x->cc, y->cc);
	case SORT_FROM:
		return strcmp(x->from, y->from);
	case SORT_TO:
		return strcmp(x->to, y->to);
	case SORT_SUBJECT:
		return strcmp(x->subject, y->subject);
	case SORT_DISPLAYFROM:
		return strcmp(x->displayfrom, y->displayfrom);
	case SORT_DISPLAYTO:
		return strcmp(x->displayto, y->displayto);
	}
	return 0;
}

/* Criteria in priority order, then the implicit sequence number, which
 * REVERSE never affects (RFC 5256 §3). */
static int sort_compare(const void *a, const void *b, void *arg)
{
	const struct sort_order *order = arg;
	const struct imap_sort_msg *x = *(const struct imap_sort_msg *const *)a;
	const struct imap_sort_msg *y = *(const struct imap_sort_msg *const *)b;
	for (size_t i = 0; i < order->count; i++) {
		int r = sort_cmp_key(x, y, order->c[i].key);
		if (r != 0)
			return order->c[i].reverse ? -r : r;
	}
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* One numeric criterion (the usual DATE, ARRIVAL or SIZE) sorts small
 * contiguous items instead of chasing pointers to whole messages: the
 * key, then the sequence number. */
struct sort_num_item {
	int64_t key;
	uint32_t idx;
	const struct imap_sort_msg *m;
};

static int sort_num_cmp(const void *a, const void *b)
{
	const struct sort_num_item *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int sort_num_cmp_reverse(const void *a, const void *b)
{
	const struct sort_num_item *x = a, *y = b;
	if (x->key != y->key)
		return x->key > y->key ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static bool sort_numeric_key(const struct sort_order *order)
{
	return order->count == 1 && (order->c[0].key == SORT_DATE ||
				     order->c[0].key == SORT_ARRIVAL ||
				     order->c[0].key == SORT_SIZE);
}

static int64_t sort_num_key(const struct imap_sort_msg *m, enum sort_key key)
{
	/* RFC822.SIZE fits in int64: messages are far below 2^63 bytes. */
	return key == SORT_DATE ? m->date : key == SORT_ARRIVAL ? m->arrival : (int64_t)m->size;
}

static void sort_numeric(struct imap_cmd *cmd, const struct imap_sort_set *set,
			 const struct sort_order *order, const struct imap_sort_msg **v)
{
	struct sort_num_item *items =
		arena_alloc(cmd->arena, (set->count ? set->count : 1) * sizeof(*items));
	for (size_t i = 0; i < set->count; i++)
		items[i] = (struct sort_num_item){ sort_num_key(&set->msgs[i], order->c[0].key),
						   set->msgs[i].idx, &set->msgs[i] };
	qsort(items, set->count, sizeof(*items),
	      order->c[0].reverse ? sort_num_cmp_reverse : sort_num_cmp);
	for (size_t i = 0; i < set->count; i++)
		v[i] = items[i].m;
}

/* The messages in sort order, as pointers into set (sorting pointers moves
 * 8 bytes per swap instead of a whole imap_sort_msg). */
static const struct imap_sort_msg **sort_order_msgs(struct imap_cmd *cmd,
						    const struct imap_sort_set *set,
						    const struct sort_order *order)
{
	const struct imap_sort_msg **v =
		arena_alloc(cmd->arena, (set->count ? set->count : 1) * sizeof(*v));
	if (sort_numeric_key(order)) {
		sort_numeric(cmd, set, order, v);
		return v;
	}
	for (size_t i = 0; i < set->count; i++)
		v[i] = &set->msgs[i];
	qsort_r(v, set->count, sizeof(*v), sort_compare, (void *)order);
	return v;
}

/* ---- Answers ------------------------------------------------------------- */

static uint64_t sort_modseq(const struct imap_cmd *cmd, const struct imap_sort_msg *m)
{
	return cmd->session->selected->modseqs[m->idx];
}

/* The highest MODSEQ of the messages found, in whatever order. */
static uint64_t sort_highest_modseq(const struct imap_cmd *cmd, const struct imap_sort_set *set)
{
	uint64_t max = 0;
	for (size_t i = 0; i < set->count; i++)
		if (sort_modseq(cmd, &set->msgs[i]) > max)
			max = sort_modseq(cmd, &set->msgs[i]);
	return max;
}

/* sort-data = "SORT" [1*(SP nz-number) SP search-sort-mod-seq]
 * search-sort-mod-seq = "(" "MODSEQ" SP mod-sequence-value ")"
 *                                           (RFC 5256 §4, RFC 7162 §3.1.9) */
static void sort_send_plain(struct imap_cmd *cmd, const struct imap_sort_set *set,
			    const struct imap_sort_msg *const *sorted)
{
	struct buf line = BUF_INIT;
	buf_append_str(&line, "SORT");
	for (size_t i = 0; i < set->count; i++) {
		buf_append_char(&line, ' ');
		buf_append_uint(&line, imap_sort_number(cmd, sorted[i]));
	}
	if (set->has_modseq && set->count > 0)
		buf_printf(&line, " (MODSEQ %" PRIu64 ")", sort_highest_modseq(cmd, set));
	imap_send_untagged(cmd->session, "%s", buf_cstr(&line));
	buf_free(&line);
}

/* RFC 5267 §3.1 and §3.2: ALL lists the messages in sort order as a
 * sequence-set, which a client expands in increasing order; so a range
 * stands only for a run that ascends one by one ("5,3,2,1", never
 * "5:3"). */
static void sort_append_all(struct imap_cmd *cmd, const struct imap_sort_set *set,
			    const struct imap_sort_msg *const *sorted, struct buf *out)
{
	size_t i = 0;
	while (i < set->count) {
		uint32_t first = imap_sort_number(cmd, sorted[i]), last = first;
		size_t j = i + 1;
		while (j < set->count && last != UINT32_MAX &&
		       imap_sort_number(cmd, sorted[j]) == last + 1) {
			last++;
			j++;
		}
		if (i > 0)
			buf_append_char(out, ',');
		buf_append_uint(out, first);
		if (last != first) {
			buf_append_char(out, ':');
			buf_append_uint(out, last);
		}
		i = j;
	}
}

/* RFC 4731 §3.2 (RFC 7162 §3.1.10): with a MODSEQ key, the MODSEQ of the
 * one message MIN or MAX returned, the higher of the two when both are the
 * only options, and otherwise the highest of all. */
static uint64_t sort_esearch_modseq(struct imap_cmd *cmd, unsigned opts,
				    const struct imap_sort_set *set,
				    const struct imap_sort_msg *const *sorted)
{
	if (!set->has_modseq || set->count == 0)
		return 0;
	if ((opts & (SORT_RET_ALL | SORT_RET_COUNT)) != 0)
		return sort_highest_modseq(cmd, set);
	uint64_t modseq = 0;
	if ((opts & SORT_RET_MIN) != 0)
		modseq = sort_modseq(cmd, sorted[0]);
	if ((opts & SORT_RET_MAX) != 0 && sort_modseq(cmd, sorted[set->count - 1]) > modseq)
		modseq = sort_modseq(cmd, sorted[set->count - 1]);
	return modseq;
}

/* esearch-response = "ESEARCH" [search-correlator] [SP "UID"]
 *                    *(SP search-return-data)     (RFC 4731 §3.1)
 * RFC 5267 §3.1: MIN is the first message in sort order, MAX the last.
 * MIN, MAX and ALL are left out when nothing matched; COUNT never is.
 * sorted is NULL when COUNT is the only option. */
static void sort_send_esearch(struct imap_cmd *cmd, unsigned opts,
			      const struct imap_sort_set *set,
			      const struct imap_sort_msg *const *sorted)
{
	struct buf line = BUF_INIT;
	/* Tags never hold '"' or '\', so quoting is plain. */
	buf_printf(&line, "ESEARCH (TAG \"%s\")%s", cmd->tag, cmd->uid ? " UID" : "");
	if ((opts & SORT_RET_MIN) && set->count > 0)
		buf_printf(&line, " MIN %" PRIu32, imap_sort_number(cmd, sorted[0]));
	if ((opts & SORT_RET_MAX) && set->count > 0)
		buf_printf(&line, " MAX %" PRIu32, imap_sort_number(cmd, sorted[set->count - 1]));
	if (opts & SORT_RET_COUNT)
		buf_printf(&line, " COUNT %zu", set->count);
	if ((opts & SORT_RET_ALL) && set->count > 0) {
		buf_append_str(&line, " ALL ");
		sort_append_all(cmd, set, sorted, &line);
	}
	uint64_t modseq = sort_esearch_modseq(cmd, opts, set, sorted);
	if (modseq > 0)
		buf_printf(&line, " MODSEQ %" PRIu64, modseq);
	imap_send_untagged(cmd->session, "%s", buf_cstr(&line));
	buf_free(&line);
}

/* sort = ["UID" SP] "SORT" SP sort-criteria SP search-criteria   (RFC 5256)
 * extended-sort = ["UID" SP] "SORT" search-return-opts SP sort-criteria
 *                 SP search-criteria                        (RFC 5267 §5) */
enum imap_cmd_result cmd_sort(struct imap_cmd *cmd)
{
	const struct imap_arg *args = cmd->args;
	size_t count = cmd->arg_count;
	unsigned opts = 0;
	bool extended = count > 0 && imap_arg_atom_equals(&args[0], "RETURN");
	if (extended) {
		if (count < 2 || !sort_parse_return(&args[1], &opts)) {
			imap_cmd_bad(cmd, NULL, "Invalid SORT RETURN options");
			return IMAP_CMD_DONE;
		}
		args += 2;
		count -= 2;
	}
	struct sort_order order;
	if (count < 3 || !sort_parse_criteria(&args[0], &order)) {
		imap_cmd_bad(cmd, NULL, "SORT expects (criteria) charset search-keys");
		return IMAP_CMD_DONE;
	}
	/* COUNT alone does not depend on the order: nothing to read or sort. */
	bool count_only = extended && opts == SORT_RET_COUNT;
	struct imap_sort_set set;
	if (!imap_sort_search(cmd, args + 1, count - 1, count_only ? 0 : order.need, &set))
		return IMAP_CMD_DONE;
	const struct imap_sort_msg *const *sorted =
		count_only ? NULL : sort_order_msgs(cmd, &set, &order);
	if (extended)
		sort_send_esearch(cmd, opts, &set, sorted);
	else
		sort_send_plain(cmd, &set, sorted);
	imap_cmd_ok(cmd, NULL, "%sSORT completed", cmd->uid ? "UID " : "");
	return IMAP_CMD_DONE;
}
