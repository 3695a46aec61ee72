#include "imap/imap-commands.h"
#include "imap/imap-parser.h"
#include "imap/imap-sort.h"
#include "lib/arena.h"

#include <stdlib.h>
#include <string.h>

enum sort_key {
	SORT_ARRIVAL, SORT_CC, SORT_DATE, SORT_FROM, SORT_SIZE, SORT_SUBJECT, SORT_TO,
	SORT_DISPLAYFROM, SORT_DISPLAYTO,
};

static const char *const sort_key_names[] = {
	"ARRIVAL", "CC", "DATE", "FROM", "SIZE", "SUBJECT", "TO", "DISPLAYFROM", "DISPLAYTO",
};

#define SORT_MAX_CRITERIA 16

struct sort_criterion {
	enum sort_key key;
	bool reverse;
};

struct sort_order {
	struct sort_criterion c[SORT_MAX_CRITERIA];
	size_t count;
};

/* sort-criteria = "(" sort-criterion *(SP sort-criterion) ")"
 * sort-criterion = ["REVERSE" SP] sort-key          (RFC 5256 §5, RFC 5957) */
static bool sort_parse_criteria(const struct imap_arg *arg, struct sort_order *order)
{
	const struct imap_arg *list;
	size_t count;
	if (!imap_arg_get_list(arg, &list, &count) || count == 0)
		return false;
	order->count = 0;
	for (size_t i = 0; i < count; i++) {
		bool reverse = false;
		if (imap_arg_atom_equals(&list[i], "REVERSE")) {
			reverse = true;
			if (++i == count)
				return false;
		}
		size_t k = 0;
		while (k < sizeof(sort_key_names) / sizeof(*sort_key_names) &&
		       !imap_arg_atom_equals(&list[i], sort_key_names[k]))
			k++;
		if (k == sizeof(sort_key_names) / sizeof(*sort_key_names) ||
		    order->count == SORT_MAX_CRITERIA)
			return false;
		order->c[order->count].key = (enum sort_key)k;
		order->c[order->count].reverse = reverse;
		order->count++;
	}
	return true;
}

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
	const struct imap_sort_msg *x = a, *y = b;
	for (size_t i = 0; i < order->count; i++) {
		int r = sort_cmp_key(x, y, order->c[i].key);
		if (r != 0)
			return order->c[i].reverse ? -r : r;
	}
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* sort = ["UID" SP] "SORT" SP sort-criteria SP search-criteria */
enum imap_cmd_result cmd_sort(struct imap_cmd *cmd)
{
	struct sort_order order;
	if (cmd->arg_count < 3 || !sort_parse_criteria(&cmd->args[0], &order)) {
		imap_cmd_bad(cmd, NULL, "SORT expects (criteria) charset search-keys");
		return IMAP_CMD_DONE;
	}
	struct imap_sort_msg *msgs;
	size_t count;
	if (!imap_sort_search(cmd, cmd->args + 1, cmd->arg_count - 1, &msgs, &count))
		return IMAP_CMD_DONE;
	qsort_r(msgs, count, sizeof(*msgs), sort_compare, &order);
	struct buf line = BUF_INIT;
	buf_append_str(&line, "SORT");
	for (size_t i = 0; i < count; i++)
		buf_printf(&line, " %u", imap_sort_number(cmd, &msgs[i]));
	imap_send_untagged(cmd->session, "%s", buf_cstr(&line));
	buf_free(&line);
	imap_cmd_ok(cmd, NULL, "%sSORT completed", cmd->uid ? "UID " : "");
	return IMAP_CMD_DONE;
}
