/* Message bodies: the streaming writer (CRLF normalisation + SHA-256 while
 * writing to tmp/), publishing a blob into a user's blobs/ and releasing
 * blobs no message references. */

#include "store/store-private.h"
#include "store/store-sync.h"

#include "lib/arena.h"
#include "lib/filebytes.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_BLOB_OUT_SIZE 65536

struct store_blob_writer {
	int fd;
	char *tmp_path;
	EVP_MD_CTX *md;
	uint64_t size;       /* normalised bytes already flushed */
	uint64_t max_size;   /* 0: unlimited */
	bool pending_cr;     /* the previous chunk ended with CR */
	bool failed;
	size_t out_len;
	unsigned char out[STORE_BLOB_OUT_SIZE];
};

/* After mkdir(path): syncs its parent so the new entry survives a crash. */
static bool store_fsync_parent(char *path, const char **error_r)
{
	char *slash = strrchr(path, '/');
	if (slash == NULL)
		return store_fsync_dir(".", error_r);
	if (slash == path)
		return store_fsync_dir("/", error_r);
	*slash = '\0';
	bool ok = store_fsync_dir(path, error_r);
	*slash = '/';
	return ok;
}

bool store_mkdirs(const char *dir, const char **error_r)
{
	char *path = xstrdup(dir);
	bool ok = true;
	for (char *p = path + 1; ok; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(path, 0700) == 0) {
			ok = store_fsync_parent(path, error_r);
		} else if (errno != EEXIST) {
			store_sys_fail("mkdir", path, errno, error_r);
			ok = false;
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
	free(path);
	return ok;
}

bool store_fsync_dir(const char *path, const char **error_r)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY);
	if (fd < 0) {
		store_sys_fail("open dir for fsync", path, errno, error_r);
		return false;
	}
	bool ok = fsync(fd) == 0;
	if (!ok)
		store_sys_fail("fsync dir", path, errno, error_r);
	close(fd);
	return ok;
}

static void store_blob_writer_free(struct store_blob_writer *w, bool unlink_tmp)
{
	if (w->fd >= 0)
		close(w->fd);
	if (unlink_tmp && w->tmp_path != NULL)
		unlink(w->tmp_path);
	free(w->tmp_path);
	EVP_MD_CTX_free(w->md);
	free(w);
}

/* tmp/ is split into STORE_TMP_SPREAD subdirectories taken in turn, and
 * carries ext4's "top of a directory hierarchy" flag, which makes the file
 * system place each subdirectory in a block group of its own choosing. A
 * file's inode is taken from its directory's group, and ext4 without a
 * journal skips every inode freed in the last minutes when it looks for a
 * free one: with every message created (and, expunged, freed) through one
 * directory, that skipping was 40 % of the blob threads' time under steady
 * APPEND and EXPUNGE. Spread, each group skips a 256th: with sixteen
 * directories the skipping still cost 4 % of the server's CPU under the
 * mixed benchmark, with 256 it costs 1 % (docs/benchmarks.md). Elsewhere
 * the flag is not supported and the split changes nothing. */
static bool store_tmp_make_dirs(const char *data_dir, unsigned n, const char **error_r)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/tmp", data_dir);
	if (!store_mkdirs(path, error_r))
		return false;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int flags;
	if (fd >= 0 && ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 && !(flags & FS_TOPDIR_FL)) {
		flags |= FS_TOPDIR_FL;
		(void)ioctl(fd, FS_IOC_SETFLAGS, &flags);
	}
	if (fd >= 0)
		close(fd);
	snprintf(path, sizeof(path), "%s/tmp/%x", data_dir, n);
	return store_mkdirs(path, error_r);
}

/* Creates a new file in one of tmp/'s subdirectories (made on first use,
 * and again if removed); its name goes into path. Returns the descriptor,
 * -1 with errno set, or -2 when the directory could not be made. */
static int store_tmp_create(const char *data_dir, char *path, size_t len, const char **error_r)
{
	static atomic_uint turn;
	unsigned n = atomic_fetch_add_explicit(&turn, 1, memory_order_relaxed) % STORE_TMP_SPREAD;
	snprintf(path, len, "%s/tmp/%x/blob.XXXXXX", data_dir, n);
	int fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	if (!store_tmp_make_dirs(data_dir, n, error_r))
		return -2;
	snprintf(path, len, "%s/tmp/%x/blob.XXXXXX", data_dir, n);
	return mkostemp(path, O_CLOEXEC);
}

enum store_error store_blob_writer_begin(const char *data_dir,
					 uint64_t max_size,
					 struct store_blob_writer **writer_r,
					 const char **error_r)
{
	struct store_blob_writer *w = xcalloc(1, sizeof(*w));
	size_t len = strlen(data_dir) + 32;
	w->tmp_path = xmalloc(len);
	w->fd = store_tmp_create(data_dir, w->tmp_path, len, error_r);
	if (w->fd == -2) {
		store_blob_writer_free(w, false);
		return STORE_ERR_INTERNAL;
	}
	if (w->fd < 0) {
		enum store_error err = store_sys_fail("create tmp blob",
						      w->tmp_path, errno, error_r);
		store_blob_writer_free(w, false);
		return err;
	}
	w->md = EVP_MD_CTX_new();
	if (w->md == NULL || EVP_DigestInit_ex(w->md, EVP_sha256(), NULL) != 1) {
		store_blob_writer_free(w, true);
		return store_fail(STORE_ERR_INTERNAL, error_r,
				  "Internal error in the mail store (sha256)");
	}
	w->max_size = max_size;
	*writer_r = w;
	return STORE_OK;
}

static enum store_error store_blob_writer_flush(struct store_blob_writer *w,
					       const char **error_r)
{
	if (EVP_DigestUpdate(w->md, w->out, w->out_len) != 1) {
		w->failed = true;
		return store_fail(STORE_ERR_INTERNAL, error_r,
				  "Internal error in the mail store (sha256)");
	}
	size_t done = 0;
	while (done < w->out_len) {
		ssize_t ret = write(w->fd, w->out + done, w->out_len - done);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0) {
			w->failed = true;
			return store_sys_fail("write tmp blob", w->tmp_path, errno,
					      error_r);
		}
		done += (size_t)ret;
	}
	w->size += w->out_len;
	w->out_len = 0;
	return STORE_OK;
}

static enum store_error store_blob_writer_emit(struct store_blob_writer *w,
					      const unsigned char *data,
					      size_t len, const char **error_r)
{
	if (w->max_size != 0 && w->size + w->out_len + len > w->max_size) {
		w->failed = true;
		return store_fail(STORE_ERR_TOOBIG, error_r,
				  "Message is larger than %llu bytes",
				  (unsigned long long)w->max_size);
	}
	while (len > 0) {
		size_t room = STORE_BLOB_OUT_SIZE - w->out_len;
		size_t n = len < room ? len : room;
		memcpy(w->out + w->out_len, data, n);
		w->out_len += n;
		data += n;
		len -= n;
		if (w->out_len == STORE_BLOB_OUT_SIZE) {
			enum store_error err = store_blob_writer_flush(w, error_r);
			if (err != STORE_OK)
				return err;
		}
	}
	return STORE_OK;
}

/* Length of the run at data without CR or LF. */
static size_t store_plain_run(const unsigned char *data, size_t len)
{
	size_t i = 0;
	while (i < len && data[i] != '\r' && data[i] != '\n')
		i++;
	return i;
}

/* Length of the start of data that normalising leaves as it is: lines
 * ending in CRLF with no other CR or LF, then a rest with neither. A CR
 * at the end is not included (its LF may come with the next chunk).
 * memchr finds line ends many bytes at a time; IMAP literals are CRLF
 * already, so this is usually the whole chunk. */
static size_t store_crlf_clean_prefix(const unsigned char *data, size_t len)
{
	size_t pos = 0;
	for (;;) {
		const unsigned char *lf = memchr(data + pos, '\n', len - pos);
		if (lf == NULL)
			return memchr(data + pos, '\r', len - pos) == NULL ? len : pos;
		size_t end = (size_t)(lf - data);
		if (end == pos || data[end - 1] != '\r' ||
		    memchr(data + pos, '\r', end - 1 - pos) != NULL)
			return pos;
		pos = end + 1;
	}
}

enum store_error store_blob_writer_write(struct store_blob_writer *w,
					 const void *data, size_t len,
					 const char **error_r)
{
	static const unsigned char crlf[2] = { '\r', '\n' };
	const unsigned char *p = data;
	enum store_error err = STORE_OK;
	if (w->failed)
		return store_fail(STORE_ERR_INTERNAL, error_r,
				  "Message writer already failed");
	while (len > 0 && err == STORE_OK) {
		if (w->pending_cr) {
			/* CR LF, bare CR and a CRLF split between chunks all
			 * become one CRLF. */
			w->pending_cr = false;
			err = store_blob_writer_emit(w, crlf, 2, error_r);
			if (*p == '\n') {
				p++;
				len--;
			}
			continue;
		}
		size_t run = store_crlf_clean_prefix(p, len);
		if (run == 0)
			run = store_plain_run(p, len);
		if (run > 0) {
			err = store_blob_writer_emit(w, p, run, error_r);
			p += run;
			len -= run;
			continue;
		}
		if (*p == '\r')
			w->pending_cr = true;
		else
			err = store_blob_writer_emit(w, crlf, 2, error_r);
		p++;
		len--;
	}
	return err;
}

enum store_error store_blob_writer_finish(struct store_blob_writer **wp,
					  struct store_blob **blob_r,
					  const char **error_r)
{
	static const unsigned char crlf[2] = { '\r', '\n' };
	struct store_blob_writer *w = *wp;
	*wp = NULL;
	enum store_error err = STORE_OK;
	if (w->failed)
		err = store_fail(STORE_ERR_INTERNAL, error_r,
				 "Message writer already failed");
	if (err == STORE_OK && w->pending_cr)
		err = store_blob_writer_emit(w, crlf, 2, error_r);
	if (err == STORE_OK && w->out_len > 0)
		err = store_blob_writer_flush(w, error_r);
	if (err == STORE_OK && fsync(w->fd) < 0)
		err = store_sys_fail("fsync tmp blob", w->tmp_path, errno, error_r);
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	if (err == STORE_OK && (EVP_DigestFinal_ex(w->md, digest, &digest_len) != 1 ||
				digest_len != 32))
		err = store_fail(STORE_ERR_INTERNAL, error_r,
				 "Internal error in the mail store (sha256)");
	if (err != STORE_OK) {
		store_blob_writer_free(w, true);
		return err;
	}
	struct store_blob *blob = xcalloc(1, sizeof(*blob));
	blob->held_fd = -1;
	store_hex(digest, digest_len, blob->hash);
	blob->size = w->size;
	blob->tmp_path = w->tmp_path;
	w->tmp_path = NULL;
	store_blob_writer_free(w, false);
	*blob_r = blob;
	return STORE_OK;
}

void store_blob_writer_abort(struct store_blob_writer **w)
{
	if (*w == NULL)
		return;
	store_blob_writer_free(*w, true);
	*w = NULL;
}

enum store_error store_tmp_file_open(const char *data_dir, int *fd_r, const char **error_r)
{
	char dir[PATH_MAX];
	if ((size_t)snprintf(dir, sizeof(dir), "%s/tmp", data_dir) >= sizeof(dir))
		return store_fail(STORE_ERR_INVALID, error_r, "data_dir path too long");
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return store_sys_fail("open scratch file", dir, errno, error_r);
	*fd_r = fd;
	return STORE_OK;
}

enum store_error store_blob_import(const char *data_dir, const char *path,
				   uint64_t max_size, struct store_blob **blob_r,
				   const char **error_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return store_fail(STORE_ERR_NONEXISTENT, error_r,
					  "No such file: %s", path);
		return store_sys_fail("open import file", path, errno, error_r);
	}
	struct store_blob_writer *w;
	enum store_error err = store_blob_writer_begin(data_dir, max_size, &w,
						       error_r);
	if (err != STORE_OK) {
		close(fd);
		return err;
	}
	unsigned char chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = store_sys_fail("read import file", path, errno, error_r);
			break;
		}
		if (n == 0)
			break;
		err = store_blob_writer_write(w, chunk, (size_t)n, error_r);
		if (err != STORE_OK)
			break;
	}
	close(fd);
	if (err != STORE_OK) {
		store_blob_writer_abort(&w);
		return err;
	}
	return store_blob_writer_finish(&w, blob_r, error_r);
}

const char *store_blob_hash(const struct store_blob *b)
{
	return b->hash;
}

uint64_t store_blob_size(const struct store_blob *b)
{
	return b->size;
}

void store_blob_free(struct store_blob **b)
{
	if (*b == NULL)
		return;
	if ((*b)->tmp_path != NULL)
		unlink((*b)->tmp_path);
	if ((*b)->held_fd >= 0)
		close((*b)->held_fd);
	free((*b)->tmp_path);
	free(*b);
	*b = NULL;
}

static char *store_blob_path_in(const char *blobs_dir, const char *hash)
{
	size_t len = strlen(blobs_dir) + STORE_HASH_HEX_SIZE + 8;
	char *path = xmalloc(len);
	snprintf(path, len, "%s/%.2s/%s", blobs_dir, hash, hash);
	return path;
}

char *store_blob_path(const struct store_user *u, const char *hash)
{
	return store_blob_path_in(u->blobs_dir, hash);
}

const char *store_user_blobs_dir(const struct store_user *u)
{
	return u->blobs_dir;
}

/* blobs/<xx>, the shard directory of hash. */
static void store_blob_shard_name(const char *blobs_dir, const char *hash, char *shard,
				  size_t shard_size)
{
	snprintf(shard, shard_size, "%s/%.2s", blobs_dir, hash);
}

/* Creates the shard (and syncs blobs/ so that the new entry is durable). */
static bool store_blob_shard_make(const char *blobs_dir, const char *shard, const char **error_r)
{
	if (mkdir(shard, 0700) == 0)
		return store_fsync_dir(blobs_dir, error_r);
	if (errno == EEXIST)
		return true;
	store_sys_fail("mkdir blob shard", shard, errno, error_r);
	return false;
}

/* link(2) of from to path, in shard, making the shard on the first body
 * that goes there (not tried first: a mkdir that finds the directory
 * costs as much as the link). 0, or -1 with errno, or -2 with *error_r. */
static int store_blob_link(const char *from, const char *path, const char *blobs_dir,
			   const char *shard, const char **error_r)
{
	if (link(from, path) == 0)
		return 0;
	if (errno != ENOENT)
		return -1;
	if (!store_blob_shard_make(blobs_dir, shard, error_r))
		return -2;
	return link(from, path) == 0 ? 0 : -1;
}

/* True when path is the very file store_blob_prelink linked or found, and
 * synced (not one an EXPUNGE released meanwhile and another append linked
 * again: the tmp file, or held_fd, keeps the inode alive, so its number is
 * not reused). */
static bool store_blob_is_prelinked(const char *path, const struct store_blob *blob)
{
	struct stat st;
	return blob->prelinked && stat(path, &st) == 0 && st.st_dev == blob->dev &&
	       st.st_ino == blob->ino;
}

/* The same body is stored already (single-instance storage), possibly
 * by a concurrent prelink that has not synced its entry yet: the entry is
 * synced here, outside the user's write lock, and the file kept open
 * (held_fd) so that store_blob_publish can tell it is still that entry.
 * A file that cannot be opened (released meanwhile) is left to publish,
 * which links and syncs under the lock as before. */
static enum store_error store_blob_prelink_existing(const char *path, const char *shard,
						    struct store_blob *blob, const char **error_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return STORE_OK;
	}
	if (!store_fsync_dir(shard, error_r)) {
		close(fd);
		return STORE_ERR_INTERNAL;
	}
	blob->prelinked = true;
	blob->dev = st.st_dev;
	blob->ino = st.st_ino;
	blob->held_fd = fd;
	return STORE_OK;
}

enum store_error store_blob_prelink(const char *blobs_dir, struct store_blob *blob,
				    const char **error_r)
{
	char shard[4096];
	store_blob_shard_name(blobs_dir, blob->hash, shard, sizeof(shard));
	struct stat st;
	if (stat(blob->tmp_path, &st) < 0)
		return store_sys_fail("stat tmp blob", blob->tmp_path, errno, error_r);
	char *path = store_blob_path_in(blobs_dir, blob->hash);
	enum store_error err = STORE_OK;
	int linked = store_blob_link(blob->tmp_path, path, blobs_dir, shard, error_r);
	if (linked == -2) {
		err = STORE_ERR_INTERNAL;
	} else if (linked == 0) {
		if (!store_fsync_dir(shard, error_r))
			err = STORE_ERR_INTERNAL;
		else {
			blob->prelinked = true;
			blob->dev = st.st_dev;
			blob->ino = st.st_ino;
		}
	} else if (errno == EEXIST) {
		err = store_blob_prelink_existing(path, shard, blob, error_r);
	} else {
		err = store_sys_fail("link blob", path, errno, error_r);
	}
	free(path);
	return err;
}

enum store_error store_blob_publish(struct store_user *u,
				    const struct store_blob *blob,
				    const char **error_r)
{
	char shard[4096];
	store_blob_shard_name(u->blobs_dir, blob->hash, shard, sizeof(shard));
	char *path = store_blob_path(u, blob->hash);
	enum store_error err = STORE_OK;
	/* EEXIST: single-instance storage, the same body is already here.
	 * Its entry is synced again unless store_blob_prelink made it: a
	 * concurrent prelink of the same body may not have synced yet. A
	 * link made now is a new entry (also when a prelinked one was
	 * released meanwhile) and is synced. */
	int ret = store_blob_link(blob->tmp_path, path, u->blobs_dir, shard, error_r);
	bool linked = ret == 0;
	if (ret == -2)
		err = STORE_ERR_INTERNAL;
	else if (!linked && errno != EEXIST)
		err = store_sys_fail("link blob", path, errno, error_r);
	else if ((linked || !store_blob_is_prelinked(path, blob)) &&
		 !store_fsync_dir(shard, error_r))
		err = STORE_ERR_INTERNAL;
	free(path);
	return err;
}

int store_blob_referenced(struct store_user *u, const char *hash,
			  enum store_error *err_r, const char **error_r)
{
	static const char sql[] = "SELECT 1 FROM emails WHERE hash = ?";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL) {
		*err_r = STORE_ERR_INTERNAL;
		return -1;
	}
	store_db_bind_text(st, 1, hash);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	*err_r = store_db_fail(u, rc, "look up blob", error_r);
	return -1;
}

/* Under the write lock: moves the blob out of blobs/ into tmp/ and returns
 * its new path (heap), or NULL if it was already gone or on failure. */
static char *store_blob_retire(const char *blobs_dir, const char *tmp_dir, const char *hash)
{
	char *path = store_blob_path_in(blobs_dir, hash);
	char unique[STORE_OBJECTID_SIZE];
	store_objectid_new('g', unique);
	size_t len = strlen(tmp_dir) + STORE_HASH_HEX_SIZE +
		STORE_OBJECTID_SIZE + 16;
	char *gone = xmalloc(len);
	snprintf(gone, len, "%s/gone.%s.%s", tmp_dir, hash, unique);
	if (rename(path, gone) < 0) {
		const char *error;
		if (errno != ENOENT)
			store_sys_fail("retire blob", path, errno, &error);
		free(gone);
		gone = NULL;
	}
	free(path);
	return gone;
}

void store_blobs_release(struct store_user *u, const char *const *hashes,
			 size_t count)
{
	if (count == 0 || store_sync_release_after(u, hashes, count))
		return;
	store_blobs_release_in(u, u->blobs_dir, u->tmp_dir, hashes, count);
}

void store_blobs_release_in(struct store_user *u, const char *blobs_dir, const char *tmp_dir,
			    const char *const *hashes, size_t count)
{
	if (count == 0)
		return;
	char **retired = xcalloc(count, sizeof(*retired));
	const char *error;
	enum store_error err = store_db_begin_write(u, &error);
	for (size_t i = 0; i < count && err == STORE_OK; i++) {
		if (store_blob_referenced(u, hashes[i], &err, &error) == 0)
			retired[i] = store_blob_retire(blobs_dir, tmp_dir, hashes[i]);
	}
	if (err != STORE_OK)
		store_db_rollback(u, err);
	else
		(void)store_db_commit(u, &error);
	for (size_t i = 0; i < count; i++) {
		if (retired[i] != NULL && unlink(retired[i]) < 0 && errno != ENOENT)
			store_sys_fail("unlink retired blob", retired[i], errno, &error);
		free(retired[i]);
	}
	free(retired);
}

/* ---- Reading bodies ---- */

/* Body files each thread keeps open (store_blob_load): FETCH reads the
 * same bodies again and again (a client's header listing, then the message
 * it opens part by part), and opening a file costs more than reading a
 * header from it. A body is named by its SHA-256, so an open file serves
 * that hash whichever store it was opened in. A file released meanwhile
 * stays readable, like any file being read, until its slot is reused: at
 * most STORE_BLOB_KEPT_OPEN per thread. */
#define STORE_BLOB_KEPT_OPEN 32

struct store_blob_kept {
	char hash[STORE_HASH_HEX_SIZE]; /* "" when free */
	int fd;
	uint64_t used;
};

static __thread struct store_blob_kept store_blob_kept[STORE_BLOB_KEPT_OPEN];
static __thread uint64_t store_blob_kept_tick;

/* An open descriptor of the body with hash (the thread's, not to be
 * closed), or -1 with an error. */
static int store_blob_kept_fd(struct store_user *u, const char *hash, const char **error_r)
{
	struct store_blob_kept *victim = &store_blob_kept[0];
	for (size_t i = 0; i < STORE_BLOB_KEPT_OPEN; i++) {
		struct store_blob_kept *k = &store_blob_kept[i];
		if (k->hash[0] != '\0' && strcmp(k->hash, hash) == 0) {
			k->used = ++store_blob_kept_tick;
			return k->fd;
		}
		if (k->used < victim->used)
			victim = k;
	}
	int fd;
	if (store_blob_open(u, hash, &fd, NULL, error_r) != STORE_OK)
		return -1;
	if (victim->hash[0] != '\0')
		close(victim->fd);
	snprintf(victim->hash, sizeof(victim->hash), "%s", hash);
	victim->fd = fd;
	victim->used = ++store_blob_kept_tick;
	return fd;
}

static void store_blob_kept_forget(const char *hash)
{
	for (size_t i = 0; i < STORE_BLOB_KEPT_OPEN; i++) {
		struct store_blob_kept *k = &store_blob_kept[i];
		if (k->hash[0] != '\0' && strcmp(k->hash, hash) == 0) {
			close(k->fd);
			k->hash[0] = '\0';
			k->used = 0;
		}
	}
}

enum store_error store_blob_load(struct store_user *u, const char *hash, uint64_t size,
				 uint64_t want, struct file_bytes *out, const char **error_r)
{
	if (want > size)
		want = size;
	/* A kept file that no longer reads (it cannot change: bodies are
	 * never rewritten) is dropped and the body opened afresh once. */
	int load_errno = 0;
	for (int attempt = 0; attempt < 2; attempt++) {
		int fd = store_blob_kept_fd(u, hash, error_r);
		if (fd < 0)
			return STORE_ERR_INTERNAL;
		if (file_bytes_load(fd, (size_t)want, out, &load_errno))
			return STORE_OK;
		store_blob_kept_forget(hash);
	}
	char *path = store_blob_path(u, hash);
	enum store_error err = store_sys_fail("read blob", path, load_errno, error_r);
	free(path);
	return err;
}
