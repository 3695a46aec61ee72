/* Opening, creating and deleting a user's store; usage totals; start-up
 * sweeps of tmp/ and of orphan blobs. */

#include "store/store-private.h"
#include "store/store-fts.h"

#include "lib/arena.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const struct {
	const char *name;
	unsigned special_use;
} store_default_mailboxes[] = {
	{ "INBOX", 0 },
	{ "Drafts", STORE_SPECIAL_DRAFTS },
	{ "Sent", STORE_SPECIAL_SENT },
	{ "Trash", STORE_SPECIAL_TRASH },
	{ "Junk", STORE_SPECIAL_JUNK },
	{ "Archive", STORE_SPECIAL_ARCHIVE },
};

/* data_dir/users/<h>/<user>, <h> = first two hex digits of SHA-256(user):
 * 256 buckets keep directories small with many users. */
static char *store_user_path(const char *data_dir, const char *user)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	char prefix[3];
	if (EVP_Digest(user, strlen(user), digest, &digest_len, EVP_sha256(),
		       NULL) != 1) {
		log_event(LOG_ERROR, NULL, "store_sha256_failed", NULL);
		abort();
	}
	store_hex(digest, 1, prefix);
	size_t len = strlen(data_dir) + strlen(user) + 16;
	char *path = xmalloc(len);
	snprintf(path, len, "%s/users/%s/%s", data_dir, prefix, user);
	return path;
}

static char *store_path_join(const char *dir, const char *name)
{
	size_t len = strlen(dir) + strlen(name) + 2;
	char *path = xmalloc(len);
	snprintf(path, len, "%s/%s", dir, name);
	return path;
}

static void store_user_free(struct store_user *u)
{
	store_fts_close(u);
	store_db_close(u);
	if (u->blobs_fd >= 0)
		close(u->blobs_fd);
	free(u->name);
	free(u->dir);
	free(u->blobs_dir);
	free(u->tmp_dir);
	free(u->data_dir);
	free(u->viewer);
	free(u->pending);
	free(u);
}

static enum store_error store_user_create_defaults(struct store_user *u,
						   const char **error_r)
{
	static const char sql_account[] =
		"INSERT INTO account (id, last_uidvalidity) VALUES (1, 0)";
	static const char sql_subscribe[] =
		"INSERT OR IGNORE INTO subscriptions (name) VALUES (?)";
	sqlite3_stmt *st = store_db_stmt(u, sql_account, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	enum store_error err = store_db_step_done(u, st, "create account", error_r);
	/* The public store has no INBOX and no default folders: the
	 * administrator creates public folders (petrel public create). */
	size_t defaults = store_user_is_public(u) ? 0 :
		sizeof(store_default_mailboxes) / sizeof(store_default_mailboxes[0]);
	for (size_t i = 0; err == STORE_OK && i < defaults; i++) {
		err = store_mailbox_insert(u, store_default_mailboxes[i].name,
					   store_default_mailboxes[i].special_use,
					   NULL, error_r);
		if (err != STORE_OK)
			break;
		st = store_db_stmt(u, sql_subscribe, error_r);
		if (st == NULL)
			return STORE_ERR_INTERNAL;
		store_db_bind_text(st, 1, store_default_mailboxes[i].name);
		err = store_db_step_done(u, st, "subscribe default", error_r);
	}
	return err;
}

/* -1 error, 0 no account row yet, 1 initialised. */
static int store_user_initialised(struct store_user *u, enum store_error *err_r,
				  const char **error_r)
{
	static const char sql[] = "SELECT 1 FROM account WHERE id = 1";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL) {
		*err_r = STORE_ERR_INTERNAL;
		return -1;
	}
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	*err_r = store_db_fail(u, rc, "read account", error_r);
	return -1;
}

static enum store_error store_user_ensure_defaults(struct store_user *u,
						   const char **error_r)
{
	enum store_error err = STORE_OK;
	int ret = store_user_initialised(u, &err, error_r);
	if (ret != 0)
		return ret < 0 ? err : STORE_OK;
	err = store_db_begin_write(u, error_r);
	if (err != STORE_OK)
		return err;
	/* Check again under the write lock: another handle may have won. */
	ret = store_user_initialised(u, &err, error_r);
	if (ret < 0)
		return store_db_rollback(u, err);
	if (ret == 0) {
		err = store_user_create_defaults(u, error_r);
		if (err != STORE_OK)
			return store_db_rollback(u, err);
	}
	return store_db_commit(u, error_r);
}

bool store_user_exists(const char *data_dir, const char *user)
{
	const char *ignored;
	if (!store_user_name_valid(user, &ignored))
		return false;
	char *dir = store_user_path(data_dir, user);
	char *db = store_path_join(dir, "mail.db");
	struct stat st;
	bool exists = stat(db, &st) == 0;
	free(db);
	free(dir);
	return exists;
}

bool store_user_is_public(const struct store_user *u)
{
	return strcmp(u->name, STORE_PUBLIC_OWNER) == 0;
}

enum store_error store_user_open(const char *data_dir, const char *user,
				 struct store_user **user_r,
				 const char **error_r)
{
	bool public = strcmp(user, STORE_PUBLIC_OWNER) == 0;
	if (!public && !store_user_name_valid(user, error_r))
		return STORE_ERR_INVALID;
	struct store_user *u = xcalloc(1, sizeof(*u));
	u->name = xstrdup(user);
	u->dir = public ? store_path_join(data_dir, "public") : store_user_path(data_dir, user);
	u->blobs_dir = store_path_join(u->dir, "blobs");
	u->blobs_fd = -1;
	u->tmp_dir = store_path_join(data_dir, "tmp");
	u->data_dir = xstrdup(data_dir);
	if (!store_mkdirs(u->blobs_dir, error_r) ||
	    !store_mkdirs(u->tmp_dir, error_r)) {
		store_user_free(u);
		return STORE_ERR_INTERNAL;
	}
	char *db_path = store_path_join(u->dir, "mail.db");
	enum store_error err = store_db_open(u, db_path, error_r);
	free(db_path);
	if (err == STORE_OK)
		err = store_user_ensure_defaults(u, error_r);
	if (err == STORE_OK)
		err = store_fts_ensure(u, error_r);
	if (err != STORE_OK) {
		store_user_free(u);
		return err;
	}
	*user_r = u;
	return STORE_OK;
}

void store_user_close(struct store_user **u)
{
	if (*u == NULL)
		return;
	store_user_free(*u);
	*u = NULL;
}

const char *store_user_name(const struct store_user *u)
{
	return u->name;
}

const char *store_user_dir(const struct store_user *u)
{
	return u->dir;
}

static int store_remove_entry(const char *path, const struct stat *st,
			      int type, struct FTW *ftw)
{
	int ret = type == FTW_DP ? rmdir(path) : unlink(path);
	return ret < 0 && errno != ENOENT ? -1 : 0;
}

enum store_error store_user_delete(const char *data_dir, const char *user,
				   const char **error_r)
{
	if (!store_user_name_valid(user, error_r))
		return STORE_ERR_INVALID;
	char *dir = store_user_path(data_dir, user);
	struct stat st;
	enum store_error err = STORE_OK;
	if (lstat(dir, &st) < 0) {
		err = errno == ENOENT ?
			store_fail(STORE_ERR_NONEXISTENT, error_r,
				   "User has no mail store") :
			store_sys_fail("stat user dir", dir, errno, error_r);
	} else if (nftw(dir, store_remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) {
		err = store_sys_fail("remove user dir", dir, errno, error_r);
	}
	free(dir);
	return err;
}

enum store_error store_user_usage(struct store_user *u, uint64_t *bytes_r,
				  uint64_t *messages_r, const char **error_r)
{
	static const char sql[] = "SELECT bytes, messages FROM account WHERE id = 1";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return store_db_fail(u, rc, "read usage", error_r);
	}
	*bytes_r = (uint64_t)sqlite3_column_int64(st, 0);
	*messages_r = (uint64_t)sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	return STORE_OK;
}

static bool store_file_old_enough(const struct stat *st, unsigned min_age_s)
{
	/* ctime, not mtime: link(2) into blobs/ updates ctime, so a blob
	 * just reused by an APPEND counts as young. */
	return min_age_s == 0 || st->st_ctime + (time_t)min_age_s <= time(NULL);
}

/* Removes the old enough files in the directory fd, and (when depth
 * allows) in its subdirectories: tmp/'s files sit one level down. */
static enum store_error store_tmp_clean_dir(int fd, const char *name, int depth,
					    unsigned min_age_s, unsigned *removed,
					    const char **error_r)
{
	DIR *dir = fdopendir(fd);
	if (dir == NULL) {
		close(fd);
		return store_sys_fail("open tmp dir", name, errno, error_r);
	}
	enum store_error err = STORE_OK;
	struct dirent *d;
	while ((d = readdir(dir)) != NULL) {
		struct stat st;
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0 ||
		    fstatat(dirfd(dir), d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth > 0) {
			int sub = openat(dirfd(dir), d->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			enum store_error e;
			if (sub < 0)
				e = store_sys_fail("open tmp dir", d->d_name, errno, error_r);
			else
				e = store_tmp_clean_dir(sub, d->d_name, depth - 1, min_age_s, removed,
							error_r);
			if (e != STORE_OK)
				err = e;
			continue;
		}
		if (!S_ISREG(st.st_mode) || !store_file_old_enough(&st, min_age_s))
			continue;
		if (unlinkat(dirfd(dir), d->d_name, 0) == 0)
			(*removed)++;
		else if (errno != ENOENT)
			err = store_sys_fail("clean tmp", d->d_name, errno, error_r);
	}
	closedir(dir);
	return err;
}

enum store_error store_tmp_clean(const char *data_dir, unsigned min_age_s,
				 unsigned *removed_r, const char **error_r)
{
	char *tmp_dir = store_path_join(data_dir, "tmp");
	unsigned removed = 0;
	enum store_error err = STORE_OK;
	int fd = open(tmp_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		err = store_tmp_clean_dir(fd, tmp_dir, 1, min_age_s, &removed, error_r);
	else if (errno != ENOENT)
		err = store_sys_fail("open tmp dir", tmp_dir, errno, error_r);
	free(tmp_dir);
	if (removed_r != NULL)
		*removed_r = removed;
	return err;
}

static bool store_is_hash_name(const char *name)
{
	size_t i;
	for (i = 0; name[i] != '\0'; i++) {
		if (!((name[i] >= '0' && name[i] <= '9') ||
		      (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	}
	return i == STORE_HASH_HEX_SIZE - 1;
}

static enum store_error store_sweep_shard(struct store_user *u, int shard_fd,
					  const char *shard_path,
					  unsigned min_age_s, unsigned *removed,
					  const char **error_r)
{
	DIR *dir = fdopendir(shard_fd);
	if (dir == NULL) {
		close(shard_fd);
		return store_sys_fail("open blob shard", shard_path, errno, error_r);
	}
	enum store_error err = STORE_OK;
	struct dirent *d;
	while (err == STORE_OK && (d = readdir(dir)) != NULL) {
		struct stat st;
		if (!store_is_hash_name(d->d_name) ||
		    fstatat(dirfd(dir), d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode) || !store_file_old_enough(&st, min_age_s))
			continue;
		int ret = store_blob_referenced(u, d->d_name, &err, error_r);
		if (ret != 0)
			continue;
		if (unlinkat(dirfd(dir), d->d_name, 0) == 0)
			(*removed)++;
		else if (errno != ENOENT)
			err = store_sys_fail("remove orphan blob", d->d_name, errno,
					     error_r);
	}
	closedir(dir);
	return err;
}

enum store_error store_sweep_orphans(struct store_user *u, unsigned min_age_s,
				     unsigned *removed_r, const char **error_r)
{
	unsigned removed = 0;
	DIR *blobs = opendir(u->blobs_dir);
	if (blobs == NULL)
		return store_sys_fail("open blobs dir", u->blobs_dir, errno, error_r);
	/* Under the write lock an APPEND cannot be between linking a blob and
	 * committing the row that references it. */
	enum store_error err = store_db_begin_write(u, error_r);
	struct dirent *d;
	while (err == STORE_OK && (d = readdir(blobs)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		int fd = openat(dirfd(blobs), d->d_name,
				O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
		if (fd < 0)
			continue;
		err = store_sweep_shard(u, fd, d->d_name, min_age_s, &removed,
					error_r);
	}
	closedir(blobs);
	if (err != STORE_OK)
		return store_db_rollback(u, err);
	err = store_db_commit(u, error_r);
	if (removed_r != NULL)
		*removed_r = removed;
	if (removed > 0) {
		struct arena *a = arena_new(0);
		log_event(LOG_INFO, NULL, "store_orphans_swept",
			  "user=%s removed=%u", log_str(a, u->name), removed);
		arena_destroy(&a);
	}
	return err;
}
