#include "imap/imap-notify.h"
#include "imap/imap-selected.h"
#include "imap/imap-session.h"
#include "lib/xalloc.h"
#include "net/server.h"
#include "store/store.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

/* Each worker's registry: the sessions idling on each mailbox, in groups
 * found by (owner, mailbox id), so that a change reaches its sessions
 * without looking at any other; and every registered session found by its
 * address, so that leaving IDLE costs the same whether one or 10,000
 * sessions idle on the mailbox. */

#define NOTIFY_GROUP_BUCKETS 4096
#define NOTIFY_SESSION_BUCKETS_MIN 1024

struct notify_group;

struct notify_entry {
	struct notify_entry *prev, *next; /* in its group */
	struct notify_entry *hash_next;   /* in the session table */
	struct notify_group *group;
	struct imap_session *session;
};

struct notify_group {
	struct notify_group *next;        /* in its bucket */
	char *owner;
	uint64_t mailbox_id;
	struct notify_entry *entries;
	bool delivering;                  /* freed by the delivery when emptied */
};

struct notify_registry {
	struct notify_group *groups[NOTIFY_GROUP_BUCKETS];
	struct notify_entry **sessions;   /* by session address */
	size_t session_buckets, session_count;
};

/* What travels from the committing thread to each worker. */
struct notify_event {
	char *user;
	uint64_t mailbox_id;
};

static _Thread_local struct notify_registry *notify_local;

/* Sessions registered, over all workers, per group bucket: a change on a
 * mailbox nobody idles on (most of them) is then not handed to every
 * worker. A session registers before it reads its mailbox (cmd-idle.c),
 * and the hook runs after the change's commit, so a change the read missed
 * finds the count raised. */
static atomic_uint notify_interest[NOTIFY_GROUP_BUCKETS];

static unsigned notify_group_hash(const char *owner, uint64_t mailbox_id)
{
	uint64_t h = 1469598103934665603ull ^ mailbox_id;
	for (const unsigned char *p = (const unsigned char *)owner; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return (unsigned)(h % NOTIFY_GROUP_BUCKETS);
}

static size_t notify_session_hash(const struct imap_session *s, size_t buckets)
{
	uint64_t h = (uint64_t)(uintptr_t)s * 0x9e3779b97f4a7c15ull;
	return (size_t)(h >> 32) % buckets;
}

void imap_notify_worker_init(void)
{
	notify_local = xcalloc(1, sizeof(*notify_local));
	notify_local->session_buckets = NOTIFY_SESSION_BUCKETS_MIN;
	notify_local->sessions = xcalloc(notify_local->session_buckets,
					 sizeof(*notify_local->sessions));
}

void imap_notify_worker_deinit(void)
{
	if (notify_local == NULL)
		return;
	for (size_t i = 0; i < NOTIFY_GROUP_BUCKETS; i++) {
		struct notify_group *g = notify_local->groups[i];
		while (g != NULL) {
			struct notify_group *next_group = g->next;
			for (struct notify_entry *e = g->entries, *next; e != NULL; e = next) {
				next = e->next;
				free(e);
			}
			free(g->owner);
			free(g);
			g = next_group;
		}
	}
	free(notify_local->sessions);
	free(notify_local);
	notify_local = NULL;
}

static struct notify_group **notify_group_slot(const char *owner, uint64_t mailbox_id)
{
	struct notify_group **gp = &notify_local->groups[notify_group_hash(owner, mailbox_id)];
	while (*gp != NULL && ((*gp)->mailbox_id != mailbox_id || strcmp((*gp)->owner, owner) != 0))
		gp = &(*gp)->next;
	return gp;
}

/* Doubles the session table when it holds more than two per bucket. */
static void notify_sessions_grow(void)
{
	struct notify_registry *r = notify_local;
	if (r->session_count <= 2 * r->session_buckets)
		return;
	size_t buckets = 2 * r->session_buckets;
	struct notify_entry **table = xcalloc(buckets, sizeof(*table));
	for (size_t i = 0; i < r->session_buckets; i++) {
		for (struct notify_entry *e = r->sessions[i], *next; e != NULL; e = next) {
			next = e->hash_next;
			size_t b = notify_session_hash(e->session, buckets);
			e->hash_next = table[b];
			table[b] = e;
		}
	}
	free(r->sessions);
	r->sessions = table;
	r->session_buckets = buckets;
}

void imap_notify_register(struct imap_session *s)
{
	if (notify_local == NULL || s->selected == NULL)
		return;
	const char *owner = s->selected->owner;
	uint64_t mailbox_id = s->selected->mailbox_id;
	struct notify_group **gp = notify_group_slot(owner, mailbox_id);
	if (*gp == NULL) {
		*gp = xcalloc(1, sizeof(**gp));
		(*gp)->owner = xstrdup(owner);
		(*gp)->mailbox_id = mailbox_id;
	}
	struct notify_group *g = *gp;
	struct notify_entry *e = xcalloc(1, sizeof(*e));
	e->session = s;
	e->group = g;
	e->next = g->entries;
	if (g->entries != NULL)
		g->entries->prev = e;
	g->entries = e;
	size_t b = notify_session_hash(s, notify_local->session_buckets);
	e->hash_next = notify_local->sessions[b];
	notify_local->sessions[b] = e;
	notify_local->session_count++;
	notify_sessions_grow();
	atomic_fetch_add(&notify_interest[notify_group_hash(owner, mailbox_id)], 1);
}

static void notify_group_free_if_empty(struct notify_group *g)
{
	if (g->entries != NULL || g->delivering)
		return;
	struct notify_group **gp = notify_group_slot(g->owner, g->mailbox_id);
	*gp = g->next;
	free(g->owner);
	free(g);
}

void imap_notify_unregister(struct imap_session *s)
{
	if (notify_local == NULL)
		return;
	struct notify_entry **ep =
		&notify_local->sessions[notify_session_hash(s, notify_local->session_buckets)];
	while (*ep != NULL && (*ep)->session != s)
		ep = &(*ep)->hash_next;
	struct notify_entry *e = *ep;
	if (e == NULL)
		return;
	*ep = e->hash_next;
	notify_local->session_count--;
	struct notify_group *g = e->group;
	atomic_fetch_sub(&notify_interest[notify_group_hash(g->owner, g->mailbox_id)], 1);
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		g->entries = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	free(e);
	notify_group_free_if_empty(g);
}

/* The oldest view among the group's sessions: one read of the changes
 * since then serves them all (imap_selected_share_begin). */
static uint64_t notify_group_since(const struct notify_group *g)
{
	uint64_t since = UINT64_MAX;
	for (const struct notify_entry *e = g->entries; e != NULL; e = e->next) {
		const struct imap_selected *sel = e->session->selected;
		if (sel != NULL && sel->highestmodseq < since)
			since = sel->highestmodseq;
	}
	return since;
}

/* On each worker: wake the sessions idling on the changed mailbox. */
static void notify_deliver(void *arg)
{
	struct notify_event *ev = arg;
	struct notify_group *g = notify_local != NULL ? *notify_group_slot(ev->user, ev->mailbox_id)
						      : NULL;
	if (g != NULL) {
		/* Waking a session may end its IDLE (unregistering it, never
		 * another): the group stays until the loop is done. */
		g->delivering = true;
		imap_selected_share_begin(g->owner, g->mailbox_id, notify_group_since(g));
		for (struct notify_entry *e = g->entries, *next; e != NULL; e = next) {
			next = e->next;
			imap_idle_wake(e->session);
		}
		imap_selected_share_end();
		g->delivering = false;
		notify_group_free_if_empty(g);
	}
	free(ev->user);
	free(ev);
}

/* In the thread that committed the change. */
static void notify_store_hook(const struct store_change *change, void *context)
{
	(void)context;
	if (change->mailbox_id == 0 ||
	    atomic_load(&notify_interest[notify_group_hash(change->user, change->mailbox_id)]) == 0)
		return;
	size_t n = server_worker_count();
	for (size_t i = 0; i < n; i++) {
		struct notify_event *ev = xmalloc(sizeof(*ev));
		ev->user = xstrdup(change->user);
		ev->mailbox_id = change->mailbox_id;
		worker_post(server_worker(i), notify_deliver, ev);
	}
}

void imap_notify_init(void)
{
	store_set_change_hook(notify_store_hook, NULL);
}
