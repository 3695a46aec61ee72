#ifndef PETREL_IMAP_NOTIFY_H
#define PETREL_IMAP_NOTIFY_H

/* The change-notification hub (DESIGN.md §3). Every committed change to a
 * mailbox (from IMAP, LMTP, any worker) is posted to each worker thread,
 * which looks up its IDLE sessions on that mailbox and brings them up to
 * date at once. Each worker keeps its own registry, so nothing here is
 * locked beyond the workers' task queues. */

struct imap_session;

/* Installs the store's change hook; call before the workers start. */
void imap_notify_init(void);

/* Worker-thread set-up/tear-down of the registry. */
void imap_notify_worker_init(void);
void imap_notify_worker_deinit(void);

/* s idles on its selected mailbox: wake it on changes. */
void imap_notify_register(struct imap_session *s);
void imap_notify_unregister(struct imap_session *s);

/* Hook called when a watched mailbox changed (set by cmd-idle.c). */
void imap_idle_wake(struct imap_session *s);

#endif
