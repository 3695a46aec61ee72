#include "imap/imap-thread.h"
#include "imap/imap-msgid.h"
#include "imap/imap-session.h"
#include "imap/imap-sort.h"
#include "lib/arena.h"
#include "lib/buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A node of the thread tree: a message, or a dummy standing for a message
 * that is referenced but not in the searched set. */
struct thr_node {
	const char *id;
	struct imap_sort_msg *msg;   /* NULL for a dummy */
	struct thr_node *parent, *child, *next;
	/* A hint for appending a child: trusted only while it is still a
	 * child of this node and the end of the list (see thr_last_child). */
	struct thr_node *last_child;
	/* While it is a root in the list step (5) builds: the pointer that
	 * points to it there, so that it can be replaced in O(1). */
	struct thr_node **out_link;
	struct thr_node *hash_next;
	bool indexed;                /* in the Message-ID table */
};

struct thr_table {
	struct thr_node **buckets;
	size_t nbuckets;
	struct arena *a;
};

static unsigned thr_hash(const char *s, size_t nbuckets)
{
	uint64_t h = 1469598103934665603ull;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return (unsigned)(h % nbuckets);
}

static struct thr_node *thr_lookup(struct thr_table *t, const char *id)
{
	for (struct thr_node *n = t->buckets[thr_hash(id, t->nbuckets)]; n; n = n->hash_next)
		if (strcmp(n->id, id) == 0)
			return n;
	return NULL;
}

static struct thr_node *thr_new(struct thr_table *t, const char *id, bool indexed)
{
	struct thr_node *n = arena_zalloc(t->a, sizeof(*n));
	n->id = id;
	n->indexed = indexed;
	if (indexed) {
		unsigned b = thr_hash(id, t->nbuckets);
		n->hash_next = t->buckets[b];
		t->buckets[b] = n;
	}
	return n;
}

static struct thr_node *thr_get(struct thr_table *t, const char *id)
{
	struct thr_node *n = thr_lookup(t, id);
	return n != NULL ? n : thr_new(t, id, true);
}

/* --- Walking the tree without recursion ---------------------------------------
 * A thread can be as deep as the mailbox is big (a chain of replies, or one
 * message with a References list of thousands of ids), so the tree is
 * never walked recursively: the C stack would overflow. */

struct thr_vec {
	struct arena *a;
	struct thr_node **v;
	size_t count, cap;
};

static void thr_vec_push(struct thr_vec *vec, struct thr_node *n)
{
	if (vec->count == vec->cap) {
		size_t cap = vec->cap == 0 ? 64 : vec->cap * 2;
		struct thr_node **v = arena_alloc(vec->a, cap * sizeof(*v));
		if (vec->count > 0)
			memcpy(v, vec->v, vec->count * sizeof(*v));
		vec->v = v;
		vec->cap = cap;
	}
	vec->v[vec->count++] = n;
}

/* Every node of the trees whose roots are the list first, breadth first:
 * each node comes before its children, so walking the result backwards
 * visits children before their parents. */
static struct thr_node **thr_collect(struct arena *a, struct thr_node *first, size_t *count_r)
{
	struct thr_vec vec = { .a = a };
	for (struct thr_node *r = first; r != NULL; r = r->next)
		thr_vec_push(&vec, r);
	for (size_t i = 0; i < vec.count; i++)
		for (struct thr_node *c = vec.v[i]->child; c != NULL; c = c->next)
			thr_vec_push(&vec, c);
	*count_r = vec.count;
	return vec.v;
}

/* --- Tree links -------------------------------------------------------------- */

static bool thr_is_descendant(const struct thr_node *n, const struct thr_node *ancestor)
{
	for (const struct thr_node *p = n; p != NULL; p = p->parent)
		if (p == ancestor)
			return true;
	return false;
}

static void thr_unlink(struct thr_node *n)
{
	if (n->parent == NULL)
		return;
	struct thr_node **pp = &n->parent->child;
	while (*pp != n)
		pp = &(*pp)->next;
	*pp = n->next;
	n->next = NULL;
	n->parent = NULL;
}

/* The last child of parent (NULL without children). Sibling lists are
 * rebuilt by pruning and sorting, so the cached hint is checked: a child
 * of parent whose next is NULL is the end of the list. A message with
 * 100,000 replies costs one walk, not one per reply. */
static struct thr_node *thr_last_child(struct thr_node *parent)
{
	struct thr_node *last = parent->last_child;
	if (last == NULL || last->parent != parent || last->next != NULL) {
		last = parent->child;
		while (last != NULL && last->next != NULL)
			last = last->next;
		parent->last_child = last;
	}
	return last;
}

/* Appends child under parent unless that would make a loop. A loop needs
 * parent below child, so a child without children of its own (a message
 * seen for the first time) skips the walk up from parent, which would
 * otherwise make a long chain of replies quadratic. */
static void thr_link(struct thr_node *parent, struct thr_node *child)
{
	if (parent == child || (child->child != NULL && thr_is_descendant(parent, child)))
		return;
	thr_unlink(child);
	child->parent = parent;
	struct thr_node *last = thr_last_child(parent);
	if (last == NULL)
		parent->child = child;
	else
		last->next = child;
	parent->last_child = child;
}

/* --- Sorting sibling lists by sent date -------------------------------------- */

static const struct imap_sort_msg *thr_date_msg(const struct thr_node *n)
{
	/* A dummy sorts by its first child (RFC 5256 §3 steps 4 and 6). */
	while (n != NULL && n->msg == NULL)
		n = n->child;
	return n != NULL ? n->msg : NULL;
}

/* A sibling's sort key, computed once per sort rather than once per
 * comparison: its (first child's) message's sent date and sequence
 * number; siblings without any message sort last. */
struct thr_sort_item {
	int64_t date;
	uint32_t idx;
	bool none;
	struct thr_node *node;
};

static int thr_item_cmp(const void *a, const void *b)
{
	const struct thr_sort_item *x = a, *y = b;
	if (x->none || y->none)
		return (int)x->none - (int)y->none;
	if (x->date != y->date)
		return x->date < y->date ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static struct thr_node *thr_sort_list(struct arena *a, struct thr_node *first)
{
	if (first == NULL || first->next == NULL)
		return first;
	size_t n = 0;
	for (struct thr_node *c = first; c; c = c->next)
		n++;
	struct thr_sort_item *v = arena_alloc(a, n * sizeof(*v));
	n = 0;
	for (struct thr_node *c = first; c; c = c->next) {
		const struct imap_sort_msg *m = thr_date_msg(c);
		v[n++] = (struct thr_sort_item){ .date = m != NULL ? m->date : 0,
						 .idx = m != NULL ? m->idx : 0,
						 .none = m == NULL, .node = c };
	}
	qsort(v, n, sizeof(*v), thr_item_cmp);
	for (size_t i = 0; i + 1 < n; i++)
		v[i].node->next = v[i + 1].node;
	v[n - 1].node->next = NULL;
	return v[0].node;
}

/* Step (6): children are sorted before their parents' level (walking the
 * breadth-first order backwards), so a dummy's first child is already its
 * earliest when the dummy itself is compared. */
static struct thr_node *thr_sort_tree(struct arena *a, struct thr_node *first)
{
	size_t count;
	struct thr_node **all = thr_collect(a, first, &count);
	for (size_t i = count; i-- > 0;)
		all[i]->child = thr_sort_list(a, all[i]->child);
	return thr_sort_list(a, first);
}

/* --- Output ------------------------------------------------------------------ */

/* thread-list    = "(" (thread-members / thread-nested) ")"
 * thread-members = nz-number *(SP nz-number) [SP thread-nested]
 * thread-nested  = 2*thread-list                       (RFC 5256 §5)
 * Each root is a thread-list. A message's single children continue its
 * thread-members; where there are several, each is a thread-list of its
 * own (thread-nested); a dummy is only the parentheses around its
 * children's lists. Written with an explicit stack: for every "(" still
 * open, the sibling to continue with once it is closed. */
static void thr_write(struct imap_cmd *cmd, const struct thr_node *roots, struct buf *out)
{
	struct thr_vec open = { .a = cmd->arena };
	const struct thr_node *n = roots;
	for (;;) {
		if (n == NULL) {
			/* The end of a list: close the innermost "(". */
			if (open.count == 0)
				return;
			buf_append_char(out, ')');
			n = open.v[--open.count];
			continue;
		}
		buf_append_char(out, '(');
		thr_vec_push(&open, n->next);
		if (n->msg == NULL) {
			n = n->child;
			continue;
		}
		const struct thr_node *m = n;
		buf_append_uint(out, imap_sort_number(cmd, m->msg));
		while (m->child != NULL && m->child->next == NULL) {
			m = m->child;
			buf_append_char(out, ' ');
			buf_append_uint(out, imap_sort_number(cmd, m->msg));
		}
		if (m->child != NULL)
			buf_append_char(out, ' ');
		n = m->child;
	}
}

/* --- ORDEREDSUBJECT ---------------------------------------------------------- */

static int thr_subject_cmp(const void *a, const void *b)
{
	const struct imap_sort_msg *x = a, *y = b;
	int r = strcmp(x->subject, y->subject);
	return r != 0 ? r : imap_sort_by_date(x, y);
}

void imap_thread_orderedsubject(struct imap_cmd *cmd, struct imap_sort_msg *msgs, size_t count,
				struct buf *out)
{
	qsort(msgs, count, sizeof(*msgs), thr_subject_cmp);
	struct thr_node *roots = NULL, **tail = &roots;
	for (size_t i = 0; i < count;) {
		struct thr_node *root = arena_zalloc(cmd->arena, sizeof(*root));
		root->msg = &msgs[i];
		struct thr_node **ctail = &root->child;
		size_t j = i + 1;
		for (; j < count && strcmp(msgs[j].subject, msgs[i].subject) == 0; j++) {
			struct thr_node *c = arena_zalloc(cmd->arena, sizeof(*c));
			c->msg = &msgs[j];
			c->parent = root;
			*ctail = c;
			ctail = &c->next;
		}
		*tail = root;
		tail = &root->next;
		i = j;
	}
	thr_write(cmd, thr_sort_list(cmd->arena, roots), out);
}

/* --- REFERENCES -------------------------------------------------------------- */

/* Step (1): link messages by their references. Returns m's node. */
static struct thr_node *thr_link_message(struct thr_table *t, struct imap_sort_msg *m)
{
	const char **mids;
	struct thr_node *node = NULL;
	if (imap_thread_parse_ids(t->a, m->message_id, &mids) > 0) {
		node = thr_lookup(t, mids[0]);
		if (node != NULL && node->msg != NULL)
			node = NULL; /* a duplicate Message-ID: a unique one */
		else if (node == NULL)
			node = thr_new(t, mids[0], true);
	}
	if (node == NULL)
		node = thr_new(t, "", false);
	node->msg = m;
	const char **refs;
	size_t nrefs = imap_thread_parse_ids(t->a, m->references, &refs);
	if (nrefs == 0)
		nrefs = imap_thread_parse_ids(t->a, m->in_reply_to, &refs) > 0 ? 1 : 0;
	for (size_t i = 0; i + 1 < nrefs; i++) {
		struct thr_node *parent = thr_get(t, refs[i]), *child = thr_get(t, refs[i + 1]);
		if (child->parent == NULL)
			thr_link(parent, child);
	}
	/* (B): the last reference is the parent, whatever was there before. */
	thr_unlink(node);
	if (nrefs > 0)
		thr_link(thr_get(t, refs[nrefs - 1]), node);
	return node;
}

/* Step (3) for one sibling list whose members' own children are already
 * pruned: drop dummies without children; splice the children of other
 * dummies into their place, except at the top when there are several. A
 * node taken out of the tree forgets its parent (thr_last_child relies on
 * it). */
static struct thr_node *thr_prune_list(struct thr_node *first, struct thr_node *parent, bool top)
{
	struct thr_node *head = NULL, **tail = &head;
	struct thr_node *n = first;
	while (n != NULL) {
		struct thr_node *next = n->next;
		n->next = NULL;
		if (n->msg == NULL && n->child == NULL) {
			n->parent = NULL;
		} else if (n->msg == NULL && (!top || n->child->next == NULL)) {
			*tail = n->child;
			for (struct thr_node *c = n->child; c; c = c->next) {
				c->parent = parent;
				tail = &c->next;
			}
			n->parent = NULL;
			n->child = NULL;
		} else {
			n->parent = parent;
			*tail = n;
			tail = &n->next;
		}
		n = next;
	}
	return head;
}

/* Step (3) over the whole tree, children before parents. */
static struct thr_node *thr_prune(struct arena *a, struct thr_node *roots)
{
	size_t count;
	struct thr_node **all = thr_collect(a, roots, &count);
	for (size_t i = count; i-- > 0;)
		all[i]->child = thr_prune_list(all[i]->child, all[i], false);
	return thr_prune_list(roots, NULL, true);
}

static const struct imap_sort_msg *thr_subject_msg(const struct thr_node *n)
{
	return n->msg != NULL ? n->msg : n->child != NULL ? n->child->msg : NULL;
}

struct thr_subject {
	const char *subject;
	struct thr_node *node;
	struct thr_subject *next;
};

/* The subject table of step (5): base subject -> thread, hashed. */
struct thr_subjects {
	struct thr_subject **buckets;
	size_t nbuckets;
};

static struct thr_subject *thr_subject_find(struct thr_subjects *t, const char *s)
{
	for (struct thr_subject *e = t->buckets[thr_hash(s, t->nbuckets)]; e; e = e->next)
		if (strcmp(e->subject, s) == 0)
			return e;
	return NULL;
}

static void thr_subject_add(struct arena *a, struct thr_subjects *t, const char *s,
			    struct thr_node *node)
{
	struct thr_subject *e = arena_alloc(a, sizeof(*e));
	unsigned b = thr_hash(s, t->nbuckets);
	e->subject = s;
	e->node = node;
	e->next = t->buckets[b];
	t->buckets[b] = e;
}

/* Step (5): merge top-level threads that share a base subject. */
static struct thr_node *thr_merge_subjects(struct arena *a, struct thr_node *roots)
{
	size_t n = 0;
	for (struct thr_node *r = roots; r; r = r->next)
		n++;
	struct thr_subjects tab = { .nbuckets = n * 2 + 17 };
	tab.buckets = arena_zalloc(a, tab.nbuckets * sizeof(*tab.buckets));
	for (struct thr_node *r = roots; r; r = r->next) {
		const struct imap_sort_msg *m = thr_subject_msg(r);
		if (m == NULL || m->subject[0] == '\0')
			continue;
		struct thr_subject *e = thr_subject_find(&tab, m->subject);
		if (e == NULL) {
			thr_subject_add(a, &tab, m->subject, r);
		} else if (e->node->msg != NULL &&
			   (r->msg == NULL || (e->node->msg->is_reply && !r->msg->is_reply))) {
			e->node = r;
		}
	}
	struct thr_node *head = NULL, **tail = &head, *r = roots;
	while (r != NULL) {
		struct thr_node *next = r->next;
		r->next = NULL;
		const struct imap_sort_msg *m = thr_subject_msg(r);
		struct thr_subject *e = m != NULL && m->subject[0] != '\0'
						? thr_subject_find(&tab, m->subject) : NULL;
		if (e == NULL || e->node == r) {
			r->out_link = tail;
			*tail = r;
			tail = &r->next;
		} else if (e->node->msg == NULL && r->msg == NULL) {
			while (r->child != NULL) {
				struct thr_node *c = r->child;
				thr_unlink(c);
				thr_link(e->node, c);
			}
		} else if (e->node->msg == NULL || (r->msg->is_reply && !e->node->msg->is_reply)) {
			thr_link(e->node, r);
		} else {
			/* A new dummy holding both; it takes the table's place. */
			struct thr_node *dummy = arena_zalloc(a, sizeof(*dummy));
			struct thr_node *old = e->node;
			if (old->out_link != NULL && *old->out_link == old) {
				dummy->next = old->next;
				dummy->out_link = old->out_link;
				*dummy->out_link = dummy;
				if (dummy->next != NULL)
					dummy->next->out_link = &dummy->next;
				if (tail == &old->next)
					tail = &dummy->next;
				old->next = NULL;
				old->out_link = NULL;
			}
			thr_link(dummy, old);
			thr_link(dummy, r);
			e->node = dummy;
		}
		r = next;
	}
	return head;
}

void imap_thread_references(struct imap_cmd *cmd, struct imap_sort_msg *msgs, size_t count,
			    struct buf *out)
{
	struct thr_table t = { .a = cmd->arena, .nbuckets = count * 2 + 17 };
	t.buckets = arena_zalloc(cmd->arena, t.nbuckets * sizeof(*t.buckets));
	struct thr_node **nodes = arena_alloc(cmd->arena, (count ? count : 1) * sizeof(*nodes));
	for (size_t i = 0; i < count; i++)
		nodes[i] = thr_link_message(&t, &msgs[i]);
	/* Step (2): everything without a parent hangs from the root: the
	 * table's nodes (messages and dummies), and messages that got a
	 * unique id of their own. */
	struct thr_node *roots = NULL, **tail = &roots;
	for (size_t b = 0; b < t.nbuckets; b++)
		for (struct thr_node *n = t.buckets[b]; n; n = n->hash_next)
			if (n->parent == NULL) {
				*tail = n;
				tail = &n->next;
			}
	for (size_t i = 0; i < count; i++)
		if (!nodes[i]->indexed && nodes[i]->parent == NULL) {
			*tail = nodes[i];
			tail = &nodes[i]->next;
		}
	roots = thr_prune(cmd->arena, roots);
	for (struct thr_node *r = roots; r; r = r->next)
		r->child = thr_sort_list(cmd->arena, r->child);
	roots = thr_sort_list(cmd->arena, roots);
	roots = thr_merge_subjects(cmd->arena, roots);
	roots = thr_sort_tree(cmd->arena, roots);
	thr_write(cmd, roots, out);
}
