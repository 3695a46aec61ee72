#include "cli/cli.h"
#include "auth/userdb.h"
#include "imap/imap-auth.h"
#include "imap/imap-blob-queue.h"
#include "imap/imap-news-post.h"
#include "imap/imap-notify.h"
#include "imap/imap-session.h"
#include "ctl/ctl-server.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "lmtp/lmtp-session.h"
#include "net/server.h"
#include "net/tls.h"
#include "news/news.h"
#include "store/store.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EX_OK 0
#define EX_USAGE 64
#define EX_SOFTWARE 70
#define EX_OSERR 71
#define EX_CANTCREAT 73
#define EX_CONFIG 78

/* Threads that make commits durable off the event loops (store.h,
 * "Durability off the event loop"). Each mostly waits in fdatasync, so a
 * few more than the cores lets syncs of different users overlap. */
#define SERVE_SYNC_THREADS 4

static void serve_usage(FILE *out)
{
	fputs("usage: petrel [-c FILE] serve\n"
	      "Runs the Petrel daemon in the foreground until SIGTERM or SIGINT.\n"
	      "SIGHUP reloads the TLS certificate and key.\n", out);
}

static bool serve_make_dir(const char *path)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return true;
	fprintf(stderr, "petrel: cannot create %s: %s\n", path, strerror(errno));
	return false;
}

/* Removes half-written files and blobs no message refers to, left by a
 * crash (DESIGN.md §4). Runs before any writer exists. */
static void serve_sweep_store(const struct petrel_config *cfg)
{
	unsigned removed = 0;
	const char *error;
	if (store_tmp_clean(cfg->data_dir, 0, &removed, &error) != STORE_OK)
		log_event(LOG_ERROR, NULL, "tmp_clean_failed", "error=\"%s\"", error);
	struct userdb *db;
	char *uerror = NULL;
	struct userdb_settings set = { .hash_ops = cfg->password_hash_ops,
				       .hash_memory = cfg->password_hash_memory };
	if (!userdb_open(cfg->data_dir, &set, &db, &uerror, NULL)) {
		log_event(LOG_ERROR, NULL, "userdb_open_failed", "error=\"%s\"", uerror);
		free(uerror);
		return;
	}
	/* The dummy hash for unknown users, made now so that not even the
	 * first failed login answers at a different speed. */
	if (userdb_prepare_verify(db, NULL, &error) != USERDB_OK)
		log_event(LOG_ERROR, NULL, "userdb_prepare_failed", "error=\"%s\"", error);
	char **names;
	size_t count;
	if (userdb_list(db, &names, &count, &error) != USERDB_OK) {
		userdb_close(&db);
		return;
	}
	for (size_t i = 0; i < count; i++) {
		struct store_user *u;
		unsigned orphans = 0;
		if (store_user_open(cfg->data_dir, names[i], &u, &error) != STORE_OK)
			continue;
		if (store_sweep_orphans(u, 0, &orphans, &error) == STORE_OK && orphans > 0)
			log_event(LOG_INFO, NULL, "orphans_removed", "user=%s count=%u", names[i], orphans);
		removed += orphans;
		/* Texts left unindexed by the last run go to the indexer. */
		uint64_t waiting = 0;
		if (store_fts_pending_count(u, &waiting, &error) == STORE_OK && waiting > 0)
			store_fts_indexer_enqueue(names[i]);
		store_user_close(&u);
	}
	userdb_list_free(names, count);
	userdb_close(&db);
}

/* When started as root: become [server] user, or else the owner of data_dir,
 * once the ports are bound (DESIGN.md §8). */
static bool serve_drop_privileges(void *ctx)
{
	const struct petrel_config *cfg = ctx;
	if (geteuid() != 0)
		return true;
	uid_t uid;
	gid_t gid;
	const char *name;
	if (cfg->run_user != NULL) {
		struct passwd *pw = getpwnam(cfg->run_user);
		if (pw == NULL) {
			fprintf(stderr, "petrel: [server] user '%s' does not exist\n", cfg->run_user);
			return false;
		}
		uid = pw->pw_uid;
		gid = pw->pw_gid;
		name = cfg->run_user;
	} else {
		struct stat st;
		if (stat(cfg->data_dir, &st) < 0 || st.st_uid == 0) {
			log_event(LOG_WARN, NULL, "running_as_root",
				  "hint=\"set [server] user to drop privileges\"");
			return true;
		}
		uid = st.st_uid;
		gid = st.st_gid;
		name = NULL;
	}
	if ((name != NULL ? initgroups(name, gid) : setgroups(0, NULL)) != 0 || setgid(gid) != 0 ||
	    setuid(uid) != 0) {
		fprintf(stderr, "petrel: cannot drop privileges: %s\n", strerror(errno));
		return false;
	}
	log_event(LOG_INFO, NULL, "privileges_dropped", "uid=%u gid=%u", (unsigned)uid, (unsigned)gid);
	return true;
}

/* After the ports are bound: drop privileges, then make the control socket
 * so that it belongs to the user the daemon runs as. Without the socket the
 * daemon still serves mail; the log says why ctl is unavailable. */
static bool serve_after_bind(void *ctx)
{
	const struct petrel_config *cfg = ctx;
	if (!serve_drop_privileges(ctx))
		return false;
	const char *error;
	if (!ctl_server_bind(cfg, &error))
		log_event(LOG_ERROR, NULL, "ctl_unavailable", "path=%s error=\"%s: %s\"",
			  cfg->ctl_socket, error, strerror(errno));
	/* Full-text indexing off APPEND and LMTP (store.h); as the user the
	 * daemon runs as, since it writes the databases. Without it text is
	 * indexed inside each APPEND. */
	if (!store_fts_indexer_start(cfg->data_dir, cfg->store_fts_index_delay_ms, &error))
		log_event(LOG_ERROR, NULL, "fts_indexer_unavailable", "error=\"%s\"", error);
	return true;
}

static size_t serve_collect_listens(const struct petrel_config *cfg, struct server_listen *out)
{
	size_t n = 0;
	for (size_t i = 0; i < cfg->imap_listen.count; i++)
		out[n++] = (struct server_listen){ &imap_protocol_plain, cfg->imap_listen.items[i] };
	for (size_t i = 0; i < cfg->imaps_listen.count; i++)
		out[n++] = (struct server_listen){ &imap_protocol_tls, cfg->imaps_listen.items[i] };
	for (size_t i = 0; i < cfg->lmtp_listen.count; i++)
		out[n++] = (struct server_listen){ &lmtp_protocol, cfg->lmtp_listen.items[i] };
	return n;
}

static void serve_worker_init(struct worker *w)
{
	imap_worker_init(w);
	lmtp_worker_init(w);
	/* The workers all exist now: the ctl thread may post to them. */
	if (worker_index(w) == 0) {
		ctl_server_start();
		/* A thread of its own, started once privileges are dropped. */
		news_daemon_start(server_config());
	}
}

static void serve_worker_deinit(struct worker *w)
{
	/* The first worker to stop stops ctl, before any worker is freed. */
	ctl_server_stop();
	news_daemon_stop();
	lmtp_worker_deinit(w);
	imap_worker_deinit(w);
	/* No sync may finish into this worker after it is freed. */
	store_sync_thread_end();
}

int cli_serve(struct petrel_config *cfg, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			serve_usage(stdout);
			return EX_OK;
		}
		serve_usage(stderr);
		return EX_USAGE;
	}
	log_set_level(cfg->log_level);
	server_block_signals();
	store_set_expunge_log_limits(cfg->store_expunge_log_max_age,
				     cfg->store_expunge_log_max_entries);
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s/tmp", cfg->data_dir);
	if (!serve_make_dir(cfg->data_dir) || !serve_make_dir(tmp))
		return EX_CANTCREAT;
	const char *error;
	if (!tls_init(cfg->tls_cert, cfg->tls_key, cfg->data_dir, &error)) {
		fprintf(stderr, "petrel: TLS: %s\n", error);
		return EX_CONFIG;
	}
	serve_sweep_store(cfg);

	size_t max = cfg->imap_listen.count + cfg->imaps_listen.count + cfg->lmtp_listen.count;
	struct server_listen *listens = xcalloc(max ? max : 1, sizeof(*listens));
	size_t n = serve_collect_listens(cfg, listens);
	if (n == 0) {
		fprintf(stderr, "petrel: nothing to listen on\n");
		free(listens);
		tls_deinit();
		return EX_CONFIG;
	}
	imap_auth_init(cfg);
	imap_news_post_init(cfg);
	imap_blob_queue_init();
	imap_notify_init();
	ctl_server_init(cfg);
	/* After the sweep, whose handles commit the usual way. */
	store_sync_behind_start(SERVE_SYNC_THREADS);
	struct server_hooks hooks = {
		.worker_init = serve_worker_init,
		.worker_deinit = serve_worker_deinit,
		.after_bind = serve_after_bind,
		.ctx = cfg,
	};
	int rc = server_run(cfg, listens, n, &hooks);
	ctl_server_deinit();
	imap_news_post_deinit();
	imap_blob_queue_deinit();
	imap_auth_deinit();
	/* The workers are gone: nothing appends any more. */
	store_fts_indexer_stop();
	store_sync_behind_stop();
	tls_deinit();
	free(listens);
	return rc == 0 ? EX_OK : EX_OSERR;
}
