#include "imap/imap-notify.h"
#include "imap/imap-selected.h"
#include "imap/imap-session.h"
#include "lib/xalloc.h"
#include "net/server.h"
#include "store/store.h"

#include <stdint.h>
#include <string.h>

#define NOTIFY_BUCKETS 4096

struct notify_entry {
	struct notify_entry *next;
	struct imap_session *session;
	uint64_t mailbox_id;
};

struct notify_registry {
	struct notify_entry *buckets[NOTIFY_BUCKETS];
};

/* What travels from the committing thread to each worker. */
struct notify_event {
	char *user;
	uint64_t mailbox_id;
};

static _Thread_local struct notify_registry *notify_local;

static unsigned notify_hash(const char *user, uint64_t mailbox_id)
{
	uint64_t h = 1469598103934665603ull ^ mailbox_id;
	for (const unsigned char *p = (const unsigned char *)user; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return (unsigned)(h % NOTIFY_BUCKETS);
}

void imap_notify_worker_init(void)
{
	notify_local = xcalloc(1, sizeof(*notify_local));
}

void imap_notify_worker_deinit(void)
{
	if (notify_local == NULL)
		return;
	for (size_t i = 0; i < NOTIFY_BUCKETS; i++) {
		struct notify_entry *e = notify_local->buckets[i];
		while (e != NULL) {
			struct notify_entry *next = e->next;
			free(e);
			e = next;
		}
	}
	free(notify_local);
	notify_local = NULL;
}

void imap_notify_register(struct imap_session *s)
{
	if (notify_local == NULL || s->selected == NULL)
		return;
	struct notify_entry *e = xmalloc(sizeof(*e));
	unsigned b = notify_hash(s->user, s->selected->mailbox_id);
	e->session = s;
	e->mailbox_id = s->selected->mailbox_id;
	e->next = notify_local->buckets[b];
	notify_local->buckets[b] = e;
}

void imap_notify_unregister(struct imap_session *s)
{
	if (notify_local == NULL || s->selected == NULL)
		return;
	struct notify_entry **pp =
		&notify_local->buckets[notify_hash(s->user, s->selected->mailbox_id)];
	while (*pp != NULL) {
		if ((*pp)->session == s) {
			struct notify_entry *e = *pp;
			*pp = e->next;
			free(e);
			return;
		}
		pp = &(*pp)->next;
	}
}

/* On each worker: wake the sessions idling on the changed mailbox. */
static void notify_deliver(void *arg)
{
	struct notify_event *ev = arg;
	if (notify_local != NULL) {
		struct notify_entry *e = notify_local->buckets[notify_hash(ev->user, ev->mailbox_id)];
		while (e != NULL) {
			/* imap_idle_wake may unregister e's session. */
			struct notify_entry *next = e->next;
			if (e->mailbox_id == ev->mailbox_id && strcmp(e->session->user, ev->user) == 0)
				imap_idle_wake(e->session);
			e = next;
		}
	}
	free(ev->user);
	free(ev);
}

/* In the thread that committed the change. */
static void notify_store_hook(const struct store_change *change, void *context)
{
	(void)context;
	if (change->mailbox_id == 0)
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
