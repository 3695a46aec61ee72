/* One pull pass: groups, articles, cross-posts, expiry (news.h). */

#include "news/news.h"

#include "lib/arena.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "mime/mime-digest.h"
#include "news/news-folder.h"
#include "news/news-nntp.h"
#include "news/news-wildmat.h"
#include "store/store-ingest.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Articles asked for in one OVER command: bounds the memory one batch
 * takes while keeping round trips few. */
#define NEWS_OVER_BATCH 500
/* Groups one server may offer through LIST ACTIVE that we keep. */
#define NEWS_GROUPS_MAX 100000

static __thread char news_pull_error[512];

static const char *news_pull_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static const char *news_pull_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(news_pull_error, sizeof(news_pull_error), fmt, ap);
	va_end(ap);
	return news_pull_error;
}

/* An article of the overview, as the pull needs it. */
struct news_item {
	uint64_t number;
	const char *message_id;  /* "" when the server sent none usable */
	bool has_date;
	int64_t date;
};

struct news_pull {
	const struct petrel_config *cfg;
	const struct news_pull_events *ev;
	struct news_cancel *cancel;
	struct news_pull_stats *stats;
	struct store_user *store;
	const char *root;          /* the public store's name of [news] root */
	struct arena *pass;        /* lives for the whole pass */
	/* Groups already pulled in this pass (from an earlier server). */
	const char **done;
	size_t done_count, done_cap;
	struct news_conn *conn;
	const char *server;
	int64_t expire_before;     /* 0: no expiry */
};

static void news_report_error(struct news_pull *p, const char *group, const char *error)
{
	p->stats->errors++;
	if (p->ev->error != NULL)
		p->ev->error(p->ev->ctx, p->server != NULL ? p->server : "", group != NULL ? group : "",
			     error);
}

static void news_report_article(struct news_pull *p, const char *group,
				const struct news_item *item, enum news_article_outcome outcome)
{
	switch (outcome) {
	case NEWS_ARTICLE_STORED:
		p->stats->stored++;
		break;
	case NEWS_ARTICLE_COPIED:
		p->stats->copied++;
		break;
	default:
		p->stats->skipped++;
		break;
	}
	if (p->ev->article != NULL)
		p->ev->article(p->ev->ctx, group, item->number, item->message_id, outcome);
}

/* ---- Folders ---- */

/* Gives a folder the configured [public] default_acl. */
static void news_folder_set_acl(struct news_pull *p, const char *folder)
{
	struct config_acl_entry *entries;
	size_t count;
	char *acl_error = NULL;
	if (!config_acl_parse(p->cfg->public_default_acl, &entries, &count, &acl_error)) {
		/* config_load checked it; only a bug gets here. */
		news_report_error(p, NULL, acl_error);
		free(acl_error);
		return;
	}
	for (size_t i = 0; i < count; i++) {
		unsigned rights;
		const char *error;
		if (!store_rights_parse(entries[i].rights, &rights, NULL))
			continue;
		if (store_acl_set(p->store, folder, entries[i].identifier, rights, &error) != STORE_OK)
			news_report_error(p, NULL, news_pull_fail("ACL of %s: %s", folder, error));
	}
	config_acl_free(entries, count);
}

/* Gives folder's ancestors below the public root (and the root itself)
 * that have no ACL yet the default one, so that users can find the
 * hierarchy: the store made them as \Noselect parents. */
static void news_parents_set_acl(struct news_pull *p, const char *folder)
{
	struct arena *a = arena_new(0);
	for (const char *slash = folder + strlen(p->root); slash != NULL && *slash == '/';
	     slash = strchr(slash + 1, '/')) {
		const char *parent = arena_strndup(a, folder, (size_t)(slash - folder));
		struct store_acl_entry *entries;
		size_t count;
		const char *error;
		if (store_acl_get(p->store, parent, a, &entries, &count, &error) == STORE_OK &&
		    count == 0)
			news_folder_set_acl(p, parent);
	}
	arena_destroy(&a);
}

/* Creates folder (and its missing parents) unless it exists and is
 * selectable; a new folder gets the default ACL. */
static enum store_error news_folder_ensure(struct news_pull *p, const char *folder,
					   uint64_t *mailbox_id_r, const char **error_r)
{
	struct store_mailbox_status st;
	enum store_error err = store_mailbox_status(p->store, folder, &st, error_r);
	if (err == STORE_OK && !st.noselect) {
		*mailbox_id_r = st.id;
		return STORE_OK;
	}
	if (err != STORE_OK && err != STORE_ERR_NONEXISTENT)
		return err;
	err = store_mailbox_create(p->store, folder, 0, mailbox_id_r, error_r);
	if (err == STORE_ERR_ALREADYEXISTS) {
		/* Made meanwhile by someone else (an administrator). */
		err = store_mailbox_status(p->store, folder, &st, error_r);
		if (err == STORE_OK)
			*mailbox_id_r = st.id;
		return err;
	}
	if (err != STORE_OK)
		return err;
	news_folder_set_acl(p, folder);
	news_parents_set_acl(p, folder);
	return STORE_OK;
}

/* ---- One article ---- */

struct news_download {
	struct store_blob_writer *writer;
	enum store_error err;
};

static bool news_download_data(void *ctx, const void *data, size_t len, const char **error_r)
{
	struct news_download *d = ctx;
	d->err = store_blob_writer_write(d->writer, data, len, error_r);
	return d->err == STORE_OK;
}

/* The folder already has a message with this Message-ID (1), a news
 * folder has one to copy (*copy_from set, 2), or no folder has (0);
 * -1 error. */
static int news_lookup(struct news_pull *p, struct arena *a, uint64_t mailbox_id,
		       const char *message_id, struct store_news_hit *copy_from,
		       const char **error_r)
{
	struct store_news_hit *hits;
	size_t count;
	if (message_id == NULL || *message_id == '\0')
		return 0;
	if (store_news_find(p->store, message_id, a, &hits, &count, error_r) != STORE_OK)
		return -1;
	for (size_t i = 0; i < count; i++)
		if (hits[i].mailbox_id == mailbox_id)
			return 1;
	/* Copy only from folders that are news folders: another public
	 * folder may hold a different message with a forged id. */
	struct store_mailbox_info *list;
	size_t list_count;
	if (count == 0 || store_mailbox_list(p->store, a, &list, &list_count, error_r) != STORE_OK)
		return count == 0 ? 0 : -1;
	for (size_t i = 0; i < count; i++) {
		for (size_t k = 0; k < list_count; k++) {
			if (list[k].id == hits[i].mailbox_id &&
			    news_folder_to_group(a, p->root, list[k].name) != NULL) {
				*copy_from = hits[i];
				return 2;
			}
		}
	}
	return 0;
}

/* The INTERNALDATE of an article: its Date field when it has a sane one
 * (not in the future), else now. */
static int64_t news_internal_date(const struct store_msg_meta *meta)
{
	int64_t now = (int64_t)time(NULL);
	if (meta->has_sent_date && meta->sent_date > 0 && meta->sent_date <= now)
		return meta->sent_date;
	return now;
}

/* ARTICLE into a blob, then into the folder. */
static int news_fetch(struct news_pull *p, struct arena *a, const char *group,
		      uint64_t mailbox_id, const struct news_item *item,
		      enum news_article_outcome *outcome_r, const char **error_r)
{
	struct news_download d = { .err = STORE_OK };
	enum store_error err = store_blob_writer_begin(p->cfg->data_dir, p->cfg->news_article_size,
						       &d.writer, error_r);
	if (err != STORE_OK)
		return -1;
	int got = news_conn_article(p->conn, item->number, news_download_data, &d, error_r);
	if (got <= 0 || d.err != STORE_OK) {
		store_blob_writer_abort(&d.writer);
		if (d.err == STORE_ERR_TOOBIG) {
			*outcome_r = NEWS_ARTICLE_TOO_BIG;
			return 0; /* the connection is lost; the caller reconnects */
		}
		if (got == 0) {
			*outcome_r = NEWS_ARTICLE_GONE;
			return 1;
		}
		return -1;
	}
	struct store_blob *blob;
	if (store_blob_writer_finish(&d.writer, &blob, error_r) != STORE_OK)
		return -1;
	struct store_msg_meta meta;
	err = store_ingest_meta(blob, a, &meta, error_r);
	struct store_news_hit from;
	/* The overview may have lacked the id (or differed): check again. */
	int known = err != STORE_OK ? -1 : news_lookup(p, a, mailbox_id, meta.message_id, &from,
							error_r);
	/* Found in another folder only (the overview lacked the id): storing
	 * the same bytes again still makes no second blob (same hash). */
	if (known == 0 || known == 2) {
		/* The mark moves with the article: a crash cannot leave one
		 * without the other. */
		struct store_append app = {
			.blob = blob,
			.internal_date = news_internal_date(&meta),
			.tz_offset_min = 0,
			.meta = &meta,
			.news_group = group,
			.news_number = item->number,
		};
		uint32_t uid;
		err = store_msg_append(p->store, mailbox_id, &app, 1, NULL, &uid, error_r);
		*outcome_r = NEWS_ARTICLE_STORED;
	} else {
		*outcome_r = NEWS_ARTICLE_DUPLICATE;
	}
	store_blob_free(&blob);
	if (known < 0 || err != STORE_OK)
		return -1;
	return 1;
}

/* 1 handled, 0 handled but the connection is lost, -1 error. */
static int news_pull_article(struct news_pull *p, const char *group, uint64_t mailbox_id,
			     const struct news_item *item, const char **error_r)
{
	struct arena *a = arena_new(0);
	struct store_news_hit from;
	enum news_article_outcome outcome = NEWS_ARTICLE_DUPLICATE;
	int ret = 1;
	int known = news_lookup(p, a, mailbox_id, item->message_id, &from, error_r);
	if (known < 0) {
		ret = -1;
	} else if (known == 2) {
		/* A cross-post stored before: one more row, the same blob. */
		struct store_uid_range range = { from.uid, from.uid };
		/* A fresh article in this group: readers' flags stay behind. */
		static const struct store_copy_mask fresh = { STORE_FLAGS_ALL, true };
		struct store_uid_map map;
		if (store_msg_copy(p->store, from.mailbox_id, &range, 1, mailbox_id, &fresh, a,
				   &map, error_r) != STORE_OK)
			ret = -1;
		outcome = NEWS_ARTICLE_COPIED;
	} else if (known == 0 && p->expire_before != 0 && item->has_date &&
		   item->date < p->expire_before) {
		outcome = NEWS_ARTICLE_TOO_OLD;
	} else if (known == 0) {
		ret = news_fetch(p, a, group, mailbox_id, item, &outcome, error_r);
	}
	if (ret >= 0)
		news_report_article(p, group, item, outcome);
	arena_destroy(&a);
	return ret;
}

/* ---- One group ---- */

struct news_over_ctx {
	struct arena *a;
	struct news_item *items;
	size_t count, cap;
	size_t max;     /* the numbers asked for: no honest answer has more */
};

static bool news_over_line(void *ctx, const char *line, size_t len, const char **error_r)
{
	struct news_over_ctx *c = ctx;
	struct news_overview ov;
	if (!news_overview_parse(line, len, &ov))
		return true; /* a line we cannot read: ARTICLE numbers skip it */
	if (c->count >= c->max) {
		*error_r = "the server sent more overview lines than articles asked for";
		return false;
	}
	if (c->count == c->cap) {
		size_t cap = c->cap == 0 ? 64 : c->cap * 2;
		struct news_item *bigger = arena_alloc(c->a, cap * sizeof(*bigger));
		if (c->count > 0)
			memcpy(bigger, c->items, c->count * sizeof(*bigger));
		c->items = bigger;
		c->cap = cap;
	}
	struct news_item *item = &c->items[c->count++];
	memset(item, 0, sizeof(*item));
	item->number = ov.number;
	item->message_id = news_msgid_valid(ov.message_id, ov.message_id_len) ?
		arena_strndup(c->a, ov.message_id, ov.message_id_len) : "";
	char *date = arena_strndup(c->a, ov.date, ov.date_len);
	item->has_date = mime_parse_date(date, &item->date, NULL);
	return true;
}

static int news_item_cmp(const void *x, const void *y)
{
	const struct news_item *a = x, *b = y;
	return a->number < b->number ? -1 : a->number > b->number;
}

/* Reconnects after the connection was lost mid-article, and selects
 * group again. */
static bool news_reconnect(struct news_pull *p, const struct config_news_server *srv,
			   const char *group, const char **error_r)
{
	news_conn_close(&p->conn);
	struct news_group_info info;
	return news_conn_open(srv, p->cfg->news_timeout, p->cancel, &p->conn, error_r) &&
		news_conn_group(p->conn, group, &info, error_r) == 1;
}

/* Articles [first, last] of the selected group, one OVER batch at a time;
 * the mark follows each article. */
static bool news_pull_range(struct news_pull *p, const struct config_news_server *srv,
			    const char *group, uint64_t mailbox_id, uint64_t first, uint64_t last,
			    const char **error_r)
{
	for (uint64_t lo = first; lo <= last && lo != 0;) {
		uint64_t hi = last - lo >= NEWS_OVER_BATCH - 1 ? lo + NEWS_OVER_BATCH - 1 : last;
		struct news_over_ctx over = { .a = arena_new(0), .max = hi - lo + 1 };
		bool ok = news_conn_over(p->conn, lo, hi, news_over_line, &over, error_r);
		if (ok)
			qsort(over.items, over.count, sizeof(*over.items), news_item_cmp);
		for (size_t i = 0; ok && i < over.count; i++) {
			const struct news_item *item = &over.items[i];
			if (item->number < lo || item->number > hi)
				continue;
			if (news_cancel_requested(p->cancel)) {
				ok = false;
				*error_r = "stopped";
				break;
			}
			int r = news_pull_article(p, group, mailbox_id, item, error_r);
			ok = r >= 0 && store_news_mark_set(p->store, group, item->number,
							   error_r) == STORE_OK;
			if (ok && r == 0)
				ok = news_reconnect(p, srv, group, error_r);
		}
		arena_destroy(&over.a);
		/* Numbers without an article (cancelled, expired) count as
		 * seen too. */
		if (!ok || store_news_mark_set(p->store, group, hi, error_r) != STORE_OK)
			return false;
		lo = hi + 1;
	}
	return true;
}

static void news_pull_group(struct news_pull *p, const struct config_news_server *srv,
			    const char *group)
{
	const char *error = NULL;
	struct arena *a = arena_new(0);
	const char *folder = news_group_folder(a, p->root, group);
	uint64_t mailbox_id = 0, mark = 0;
	struct news_group_info info;
	int selected = 0;
	if (folder == NULL) {
		error = "newsgroup name cannot be a folder name";
	} else if (news_folder_ensure(p, folder, &mailbox_id, &error) != STORE_OK ||
		   store_news_mark_get(p->store, group, &mark, &error) != STORE_OK) {
		/* error set */
	} else if ((selected = news_conn_group(p->conn, group, &info, &error)) == 0) {
		error = "the server does not have this group";
	}
	if (selected == 1) {
		p->stats->groups++;
		/* RFC 3977 §6.1.1.2: an empty group may report high < low. A
		 * mark above the server's high means the server renumbered:
		 * start again from its low (Message-IDs keep out duplicates). */
		uint64_t first = mark > info.high ? info.low : mark + 1;
		if (first < info.low)
			first = info.low;
		if (first == 0)
			first = 1;
		uint64_t last = info.count == 0 ? 0 : info.high;
		if (p->ev->group != NULL)
			p->ev->group(p->ev->ctx, group, first, last);
		if (first <= last && !news_pull_range(p, srv, group, mailbox_id, first, last, &error))
			selected = -1;
	}
	if (selected != 1 && error != NULL)
		news_report_error(p, group, error);
	/* After a failure mid-group the connection may be out of step: the
	 * next group gets a fresh one. */
	if (selected == -1)
		news_conn_close(&p->conn);
	arena_destroy(&a);
}

/* ---- One server ---- */

struct news_active_ctx {
	struct news_pull *p;
	const struct config_news_server *srv;
	struct arena *a;
	const char **groups;
	size_t count, cap;
};

static bool news_active_line(void *ctx, const char *line, size_t len, const char **error_r)
{
	struct news_active_ctx *c = ctx;
	struct news_active_entry e;
	if (!news_active_parse(line, len, &e) || !news_group_name_valid(e.name, e.name_len))
		return true;
	const char *name = arena_strndup(c->a, e.name, e.name_len);
	/* The server may ignore the wildmat argument: match here too. */
	if (!news_wildmat_match(c->srv->groups, name))
		return true;
	if (c->count >= NEWS_GROUPS_MAX) {
		*error_r = "more groups than Petrel keeps from one server";
		return false;
	}
	if (c->count == c->cap) {
		size_t cap = c->cap == 0 ? 32 : c->cap * 2;
		const char **bigger = arena_alloc(c->a, cap * sizeof(*bigger));
		if (c->count > 0)
			memcpy(bigger, c->groups, c->count * sizeof(*bigger));
		c->groups = bigger;
		c->cap = cap;
	}
	c->groups[c->count++] = name;
	return true;
}

static int news_name_cmp(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static bool news_group_done(struct news_pull *p, const char *group)
{
	for (size_t i = 0; i < p->done_count; i++)
		if (strcmp(p->done[i], group) == 0)
			return true;
	if (p->done_count == p->done_cap) {
		size_t cap = p->done_cap == 0 ? 32 : p->done_cap * 2;
		const char **bigger = arena_alloc(p->pass, cap * sizeof(*bigger));
		if (p->done_count > 0)
			memcpy(bigger, p->done, p->done_count * sizeof(*bigger));
		p->done = bigger;
		p->done_cap = cap;
	}
	p->done[p->done_count++] = arena_strdup(p->pass, group);
	return false;
}

static void news_pull_server(struct news_pull *p, const struct config_news_server *srv)
{
	const char *error;
	p->server = srv->name;
	if (!news_conn_open(srv, p->cfg->news_timeout, p->cancel, &p->conn, &error)) {
		news_report_error(p, NULL, error);
		return;
	}
	p->stats->servers++;
	struct news_active_ctx active = { .p = p, .srv = srv, .a = arena_new(0) };
	if (!news_conn_list_active(p->conn, srv->groups, news_active_line, &active, &error)) {
		news_report_error(p, NULL, error);
	} else {
		qsort(active.groups, active.count, sizeof(*active.groups), news_name_cmp);
		if (p->ev->server != NULL)
			p->ev->server(p->ev->ctx, srv->name, active.count);
		for (size_t i = 0; i < active.count && !news_cancel_requested(p->cancel); i++) {
			if (news_group_done(p, active.groups[i]))
				continue;
			if (p->conn == NULL &&
			    !news_conn_open(srv, p->cfg->news_timeout, p->cancel, &p->conn, &error)) {
				news_report_error(p, NULL, error);
				break;
			}
			news_pull_group(p, srv, active.groups[i]);
		}
	}
	arena_destroy(&active.a);
	news_conn_close(&p->conn);
	p->server = NULL;
}

/* ---- Expiry ---- */

static void news_expire_all(struct news_pull *p)
{
	struct arena *a = arena_new(0);
	struct store_mailbox_info *list;
	size_t count;
	const char *error;
	if (store_mailbox_list(p->store, a, &list, &count, &error) != STORE_OK) {
		news_report_error(p, NULL, error);
		count = 0;
	}
	for (size_t i = 0; i < count && !news_cancel_requested(p->cancel); i++) {
		const char *group = news_folder_to_group(a, p->root, list[i].name);
		if (group == NULL || list[i].noselect)
			continue;
		uint32_t *uids;
		size_t expired;
		if (store_news_expire(p->store, list[i].id, p->expire_before, a, &uids, &expired,
				      &error) != STORE_OK) {
			news_report_error(p, group, error);
			continue;
		}
		p->stats->expired += expired;
		if (expired > 0 && p->ev->expired != NULL)
			p->ev->expired(p->ev->ctx, group, expired);
	}
	arena_destroy(&a);
}

/* ---- The pass ---- */

/* data_dir/news.lock, held (flock) for the whole pass; the kernel drops
 * it when the process dies, whatever the way. -1 when another holds it
 * (*busy_r) or it cannot be opened. */
static int news_lock(const struct petrel_config *cfg, bool *busy_r, const char **error_r)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/news.lock", cfg->data_dir);
	/* petrel news pull may run before the daemon ever made data_dir. */
	if (mkdir(cfg->data_dir, 0700) < 0 && errno != EEXIST) {
		*error_r = news_pull_fail("%s: %s", cfg->data_dir, strerror(errno));
		return -1;
	}
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		*error_r = news_pull_fail("%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		*busy_r = errno == EWOULDBLOCK;
		*error_r = *busy_r ? "another pull is running" :
			news_pull_fail("%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

bool news_pull(const struct petrel_config *cfg, const struct news_pull_events *events,
	       struct news_cancel *cancel, struct news_pull_stats *stats_r, bool *busy_r,
	       const char **error_r)
{
	static const struct news_pull_events no_events;
	memset(stats_r, 0, sizeof(*stats_r));
	*busy_r = false;
	const char *root = config_news_public_root(cfg);
	if (root == NULL) {
		*error_r = "[news] root is not below \"Public Folders/\"";
		return false;
	}
	int lock = news_lock(cfg, busy_r, error_r);
	if (lock < 0)
		return false;
	struct news_pull p = {
		.cfg = cfg, .ev = events != NULL ? events : &no_events, .cancel = cancel,
		.stats = stats_r, .root = root, .pass = arena_new(0),
	};
	const char *error;
	if (store_user_open(cfg->data_dir, STORE_PUBLIC_OWNER, &p.store, &error) != STORE_OK) {
		*error_r = news_pull_fail("public folders: %s", error);
		arena_destroy(&p.pass);
		close(lock);
		return false;
	}
	int64_t now = (int64_t)time(NULL);
	p.expire_before = cfg->news_expire == 0 ? 0 : now - (int64_t)cfg->news_expire;
	for (size_t i = 0; i < cfg->news_server_count && !news_cancel_requested(cancel); i++)
		news_pull_server(&p, &cfg->news_servers[i]);
	if (p.expire_before != 0 && !news_cancel_requested(cancel))
		news_expire_all(&p);
	store_user_close(&p.store);
	arena_destroy(&p.pass);
	close(lock);
	return true;
}

bool news_folder_group(const struct petrel_config *cfg, const char *mailbox, char **group_r)
{
	const char *root = config_news_public_root(cfg);
	if (root == NULL)
		return false;
	struct arena *a = arena_new(0);
	const char *group = news_folder_to_group(a, root, mailbox);
	bool carried = false;
	for (size_t i = 0; group != NULL && i < cfg->news_server_count && !carried; i++)
		carried = news_wildmat_match(cfg->news_servers[i].groups, group);
	if (carried && group_r != NULL)
		*group_r = xstrdup(group);
	arena_destroy(&a);
	return carried;
}
