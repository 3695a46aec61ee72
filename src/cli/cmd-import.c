/* petrel import USER PATH [--mailbox NAME]: copies a Maildir++ tree, an
 * mbox file or a directory of mbox files into a user's store (see
 * docs/delivery.md, "Import and export").
 *
 * Every message goes through the store's blob writer and the same metadata
 * computation as IMAP APPEND and LMTP (store_ingest_meta). Messages are
 * appended in batches, one transaction each; the import ledger row of each
 * message (key: target mailbox, SHA-256 of the message as read from the
 * source, and its occurrence number among identical messages of that
 * folder) is written in the same transaction, so an import that is killed
 * at any moment can be run again: what was committed is skipped, the rest
 * is stored, nothing twice. */

#include "cli/cli.h"
#include "cli/mailfmt.h"

#include "auth/userdb.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "lib/xalloc.h"
#include "store/store-ingest.h"
#include "store/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

/* Messages (and bytes) per transaction: large enough that the fsyncs of a
 * commit are spread over many messages, small enough that an interrupted
 * run loses little work. */
#define IMPORT_BATCH_MESSAGES 100
#define IMPORT_BATCH_BYTES (32u * 1024 * 1024)
#define IMPORT_MAX_KEYWORDS 64
#define IMPORT_SHA256_SIZE 32

static const char import_usage[] =
	"Usage: petrel [-c FILE] import USER PATH [--mailbox NAME]\n"
	"\n"
	"Copies mail into USER's store. PATH is one of:\n"
	"  a Maildir++ directory (PATH/cur, PATH/new: INBOX; PATH/.Sub.Folder:\n"
	"    the folder Sub/Folder, names in modified UTF-7); flags from the file\n"
	"    names (D F P R S T, and Dovecot's keyword letters), the internal date\n"
	"    from each file's modification time;\n"
	"  an mbox file (first line \"From \"): its messages go to INBOX; From_\n"
	"    line dates become internal dates, >From lines are unescaped (mboxrd),\n"
	"    Status/X-Status/X-Keywords headers become flags and are not stored;\n"
	"  a directory of mbox files: each file becomes the folder named by its\n"
	"    path (a file named INBOX is INBOX; a.sbd/ directories are a's\n"
	"    children).\n"
	"Options:\n"
	"  -m, --mailbox NAME  put everything under NAME instead (INBOX becomes NAME)\n"
	"  -h, --help          show this help\n"
	"Running the same import again stores only what is not there yet.\n"
	"Progress goes to standard error every second.\n"
	"Exit: 0 done; 64 bad usage; 65 some messages or folders were not\n"
	"importable (the rest was imported); 66 PATH missing; 67 no such user;\n"
	"73 over quota; 74 read error; 75 store busy (run again).\n";

/* Identical messages in one folder: how many of each were met so far, so
 * the n-th copy gets its own ledger key. Open addressing on the digest. */
struct import_seen_entry {
	unsigned char digest[IMPORT_SHA256_SIZE];
	uint32_t count; /* 0: empty slot */
};

struct import_seen {
	struct import_seen_entry *slots;
	size_t cap, used;
};

struct import_ctx {
	const struct petrel_config *cfg;
	struct store_user *u;
	const char *prefix;         /* --mailbox, or NULL */
	/* The folder being imported. */
	const char *mailbox;        /* heap */
	uint64_t mailbox_id;
	struct import_seen seen;
	/* The batch not yet committed. */
	struct arena *batch_arena;
	struct store_append batch[IMPORT_BATCH_MESSAGES];
	struct store_blob *blobs[IMPORT_BATCH_MESSAGES];
	size_t batch_count;
	uint64_t batch_bytes;
	/* Counters for the progress lines. */
	uint64_t read, stored, known, bytes;
	unsigned bad;               /* messages or folders skipped as invalid */
	struct timespec last_progress;
	int exit_code;              /* first fatal failure, 0 while none */
};

/* ---- Progress and failures ---- */

static void import_progress(struct import_ctx *ctx, bool final)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!final && now.tv_sec - ctx->last_progress.tv_sec < 1)
		return;
	ctx->last_progress = now;
	fprintf(stderr, "petrel: import: %s%" PRIu64 " messages read, %" PRIu64
		" stored, %" PRIu64 " already imported, %.1f MB stored%s\n",
		final ? "done: " : "", ctx->read, ctx->stored, ctx->known,
		(double)ctx->bytes / 1e6, final && ctx->bad > 0 ? ", some skipped" : "");
}

static int import_store_exit(enum store_error err)
{
	switch (err) {
	case STORE_OK: return 0;
	case STORE_ERR_INUSE: return EX_TEMPFAIL;
	case STORE_ERR_OVERQUOTA: return EX_CANTCREAT;
	case STORE_ERR_NOPERM: return EX_NOPERM;
	case STORE_ERR_INVALID: return EX_DATAERR;
	default: return EX_SOFTWARE;
	}
}

static bool import_fail_store(struct import_ctx *ctx, enum store_error err,
			      const char *what, const char *error)
{
	cli_error("import: %s: %s", what, error != NULL ? error : store_error_name(err));
	if (ctx->exit_code == 0)
		ctx->exit_code = import_store_exit(err);
	return false;
}

static bool import_fail_io(struct import_ctx *ctx, const char *what, const char *path)
{
	cli_error("import: %s %s: %s", what, path, strerror(errno));
	if (ctx->exit_code == 0)
		ctx->exit_code = EX_IOERR;
	return false;
}

static void import_skip(struct import_ctx *ctx, const char *what, const char *path)
{
	cli_error("import: skipped %s: %s", path, what);
	ctx->bad++;
}

/* ---- Occurrences of identical messages ---- */

static uint32_t *import_seen_count(struct import_seen *seen, const unsigned char *digest)
{
	if (seen->used * 2 >= seen->cap) {
		struct import_seen bigger = { .cap = seen->cap == 0 ? 1024 : seen->cap * 2 };
		bigger.slots = xcalloc(bigger.cap, sizeof(*bigger.slots));
		for (size_t i = 0; i < seen->cap; i++) {
			if (seen->slots[i].count == 0)
				continue;
			size_t j;
			memcpy(&j, seen->slots[i].digest, sizeof(j));
			for (j &= bigger.cap - 1; bigger.slots[j].count != 0; j = (j + 1) & (bigger.cap - 1))
				;
			bigger.slots[j] = seen->slots[i];
		}
		bigger.used = seen->used;
		free(seen->slots);
		*seen = bigger;
	}
	size_t j;
	memcpy(&j, digest, sizeof(j));
	for (j &= seen->cap - 1; seen->slots[j].count != 0; j = (j + 1) & (seen->cap - 1))
		if (memcmp(seen->slots[j].digest, digest, IMPORT_SHA256_SIZE) == 0)
			return &seen->slots[j].count;
	memcpy(seen->slots[j].digest, digest, IMPORT_SHA256_SIZE);
	seen->used++;
	return &seen->slots[j].count;
}

static void import_seen_clear(struct import_seen *seen)
{
	free(seen->slots);
	memset(seen, 0, sizeof(*seen));
}

/* ---- Batches ---- */

static void import_batch_release(struct import_ctx *ctx)
{
	for (size_t i = 0; i < ctx->batch_count; i++)
		store_blob_free(&ctx->blobs[i]);
	ctx->batch_count = 0;
	ctx->batch_bytes = 0;
	arena_reset(ctx->batch_arena);
}

static bool import_flush(struct import_ctx *ctx)
{
	if (ctx->batch_count == 0)
		return true;
	uint32_t uids[IMPORT_BATCH_MESSAGES];
	const char *error;
	enum store_error err = store_msg_append(ctx->u, ctx->mailbox_id, ctx->batch,
						ctx->batch_count, NULL, uids, &error);
	if (err == STORE_OK) {
		ctx->stored += ctx->batch_count;
		ctx->bytes += ctx->batch_bytes;
	}
	import_batch_release(ctx);
	if (err != STORE_OK)
		return import_fail_store(ctx, err, ctx->mailbox, error);
	import_progress(ctx, false);
	return true;
}

/* Starts the folder name (store name, before --mailbox is applied):
 * finds or creates the mailbox. False (counted as skipped, or fatal with
 * ctx->exit_code) when it cannot be used. */
static bool import_folder_begin(struct import_ctx *ctx, const char *name, const char *source)
{
	if (!import_flush(ctx))
		return false;
	import_seen_clear(&ctx->seen);
	free((char *)ctx->mailbox);
	ctx->mailbox = NULL;
	char *full;
	if (ctx->prefix == NULL)
		full = xstrdup(name);
	else if (strcasecmp(name, "INBOX") == 0)
		full = xstrdup(ctx->prefix);
	else
		full = cli_asprintf("%s/%s", ctx->prefix, name);
	const char *error;
	if (!store_mailbox_name_valid(full, &error)) {
		cli_error("import: skipped %s: invalid mailbox name \"%s\": %s", source, full, error);
		ctx->bad++;
		free(full);
		return false;
	}
	struct store_mailbox_status st;
	enum store_error err = store_mailbox_status(ctx->u, full, &st, &error);
	if (err == STORE_OK && !st.noselect) {
		ctx->mailbox_id = st.id;
	} else if (err == STORE_OK || err == STORE_ERR_NONEXISTENT) {
		err = store_mailbox_create(ctx->u, full, 0, &ctx->mailbox_id, &error);
	}
	if (err != STORE_OK) {
		import_fail_store(ctx, err, full, error);
		free(full);
		return false;
	}
	ctx->mailbox = full;
	return true;
}

/* The ledger key of a message with this digest in the current folder. */
static const char *import_key(struct import_ctx *ctx, const unsigned char *digest)
{
	char hex[2 * IMPORT_SHA256_SIZE + 1];
	for (size_t i = 0; i < IMPORT_SHA256_SIZE; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	uint32_t *count = import_seen_count(&ctx->seen, digest);
	(*count)++;
	return arena_printf(ctx->batch_arena, "%s\n%s\n%u", ctx->mailbox, hex, *count);
}

/* Message metadata gathered from the source besides its bytes. */
struct import_msg {
	uint32_t flags;
	const char *keywords[IMPORT_MAX_KEYWORDS];
	size_t keyword_count;
	int64_t internal_date;
};

static void import_msg_keyword(struct import_ctx *ctx, struct import_msg *m,
			       const char *kw, size_t len)
{
	if (!mailfmt_keyword_valid(kw, len) || m->keyword_count == IMPORT_MAX_KEYWORDS)
		return;
	m->keywords[m->keyword_count++] = arena_strndup(ctx->batch_arena, kw, len);
}

/* A message whose source bytes hash to digest: skipped if the ledger knows
 * it, else written by emit into a blob and added to the batch. */
typedef enum store_error import_emit_t(void *src, struct store_blob_writer *w,
				       const char **error_r);

static bool import_message(struct import_ctx *ctx, const unsigned char *digest,
			   const struct import_msg *m, import_emit_t *emit, void *src,
			   const char *source)
{
	ctx->read++;
	const char *key = import_key(ctx, digest);
	bool known;
	const char *error;
	enum store_error err = store_import_known(ctx->u, key, &known, &error);
	if (err != STORE_OK)
		return import_fail_store(ctx, err, "import ledger", error);
	if (known) {
		ctx->known++;
		/* Nothing in the arena is needed any more when no batch is
		 * pending: a re-run over many known messages stays small. */
		if (ctx->batch_count == 0)
			arena_reset(ctx->batch_arena);
		import_progress(ctx, false);
		return true;
	}
	struct store_blob_writer *w;
	struct store_blob *blob = NULL;
	err = store_blob_writer_begin(ctx->cfg->data_dir, 0, &w, &error);
	if (err == STORE_OK) {
		err = emit(src, w, &error);
		if (err == STORE_OK)
			err = store_blob_writer_finish(&w, &blob, &error);
		else
			store_blob_writer_abort(&w);
	}
	if (err != STORE_OK)
		return import_fail_store(ctx, err, source, error);
	if (store_blob_size(blob) == 0) {
		store_blob_free(&blob);
		import_skip(ctx, "empty message", source);
		return true;
	}
	struct store_msg_meta *meta = arena_zalloc(ctx->batch_arena, sizeof(*meta));
	err = store_ingest_meta(blob, ctx->batch_arena, meta, &error);
	if (err != STORE_OK) {
		store_blob_free(&blob);
		return import_fail_store(ctx, err, source, error);
	}
	const char **keywords = arena_alloc(ctx->batch_arena,
					    (m->keyword_count + 1) * sizeof(*keywords));
	memcpy(keywords, m->keywords, m->keyword_count * sizeof(*keywords));
	size_t i = ctx->batch_count++;
	ctx->blobs[i] = blob;
	ctx->batch[i] = (struct store_append){
		.blob = blob, .flags = m->flags, .keywords = keywords,
		.keyword_count = m->keyword_count, .internal_date = m->internal_date,
		.tz_offset_min = 0, .meta = meta, .import_key = key,
	};
	ctx->batch_bytes += store_blob_size(blob);
	if (ctx->batch_count == IMPORT_BATCH_MESSAGES || ctx->batch_bytes >= IMPORT_BATCH_BYTES)
		return import_flush(ctx);
	return true;
}

/* ---- Maildir ---- */

struct import_file {
	const char *path;
};

static enum store_error import_emit_file(void *src, struct store_blob_writer *w,
					 const char **error_r)
{
	const struct import_file *f = src;
	int fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*error_r = strerror(errno);
		return STORE_ERR_INTERNAL;
	}
	unsigned char chunk[65536];
	enum store_error err = STORE_OK;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*error_r = strerror(errno);
			err = STORE_ERR_INTERNAL;
			break;
		}
		if (n == 0)
			break;
		err = store_blob_writer_write(w, chunk, (size_t)n, error_r);
		if (err != STORE_OK)
			break;
	}
	close(fd);
	return err;
}

/* SHA-256 of a whole file. */
static bool import_hash_file(const char *path, unsigned char *digest)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;
	unsigned char chunk[65536];
	while (ok) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ok = n == 0;
			break;
		}
		ok = EVP_DigestUpdate(md, chunk, (size_t)n) == 1;
	}
	int saved = errno;
	ok = ok && EVP_DigestFinal_ex(md, digest, NULL) == 1;
	EVP_MD_CTX_free(md);
	close(fd);
	errno = saved;
	return ok;
}

static int import_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Numbers by value: Dovecot's "1700000000.M99P1.host" comes before
 * "1700000000.M100P1.host", as it was delivered. */
static int import_basename_cmp(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	return strverscmp(strrchr(x, '/') + 1, strrchr(y, '/') + 1);
}

/* Names of dir's entries (not starting with '.' unless dots), sorted;
 * heap array of heap strings; NULL with errno when dir cannot be read. */
static char **import_list_dir(const char *dir, bool dots, size_t *count_r)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return NULL;
	size_t count = 0, cap = 64;
	char **names = xmalloc(cap * sizeof(*names));
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (e->d_name[0] == '.' && !dots)
			continue;
		if (count == cap) {
			cap *= 2;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[count++] = xstrdup(e->d_name);
	}
	closedir(d);
	qsort(names, count, sizeof(*names), import_strcmp);
	*count_r = count;
	return names;
}

static void import_names_free(char **names, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
}

static bool import_is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool import_is_maildir(const char *dir)
{
	char *cur = cli_asprintf("%s/cur", dir), *new = cli_asprintf("%s/new", dir);
	bool yes = import_is_dir(cur) || import_is_dir(new);
	free(cur);
	free(new);
	return yes;
}

/* Dovecot's dovecot-keywords file: "N keyword" lines, N = letter index. */
static void import_maildir_keywords(const char *dir, char *names[26])
{
	memset(names, 0, 26 * sizeof(*names));
	char *path = cli_asprintf("%s/dovecot-keywords", dir);
	FILE *fp = fopen(path, "r");
	free(path);
	if (fp == NULL)
		return;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, fp)) > 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		int index;
		const char *name;
		if (!mailfmt_dovecot_keywords_line(line, &index, &name))
			continue;
		free(names[index]);
		names[index] = xstrdup(name);
	}
	free(line);
	fclose(fp);
}

/* One message file of a Maildir folder. */
static bool import_maildir_file(struct import_ctx *ctx, const char *path,
				char *const keyword_names[26])
{
	struct stat st;
	if (stat(path, &st) < 0)
		return import_fail_io(ctx, "cannot read", path);
	if (!S_ISREG(st.st_mode))
		return true;
	unsigned char digest[IMPORT_SHA256_SIZE];
	if (!import_hash_file(path, digest))
		return import_fail_io(ctx, "cannot read", path);
	struct mailfmt_maildir_flags mf;
	mailfmt_maildir_info_parse(path, &mf);
	struct import_msg m = { .flags = mf.flags, .internal_date = (int64_t)st.st_mtime };
	if (mf.forwarded)
		import_msg_keyword(ctx, &m, "$Forwarded", strlen("$Forwarded"));
	for (int i = 0; i < 26; i++)
		if ((mf.letters & (1u << i)) && keyword_names[i] != NULL)
			import_msg_keyword(ctx, &m, keyword_names[i], strlen(keyword_names[i]));
	struct import_file f = { path };
	return import_message(ctx, digest, &m, import_emit_file, &f, path);
}

/* The messages of one Maildir folder directory, cur/ and new/ together in
 * order of their unique names (Maildir names begin with the delivery
 * time). */
static bool import_maildir_folder(struct import_ctx *ctx, const char *dir, const char *name)
{
	if (!import_folder_begin(ctx, name, dir))
		return ctx->exit_code == 0;
	char *keyword_names[26];
	import_maildir_keywords(dir, keyword_names);
	char **paths = NULL;
	size_t count = 0, cap = 0;
	static const char *const subdirs[] = { "cur", "new" };
	bool ok = true;
	for (size_t s = 0; s < 2 && ok; s++) {
		char *sub = cli_asprintf("%s/%s", dir, subdirs[s]);
		size_t n;
		char **names = import_list_dir(sub, false, &n);
		if (names == NULL) {
			if (errno != ENOENT)
				ok = import_fail_io(ctx, "cannot read", sub);
			free(sub);
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			if (count == cap) {
				cap = cap == 0 ? 256 : cap * 2;
				paths = xrealloc(paths, cap * sizeof(*paths));
			}
			paths[count++] = cli_asprintf("%s/%s", sub, names[i]);
		}
		import_names_free(names, n);
		free(sub);
	}
	/* By file name, whichever of cur/ and new/ holds it. */
	if (count > 0)
		qsort(paths, count, sizeof(*paths), import_basename_cmp);
	for (size_t i = 0; i < count && ok; i++)
		ok = import_maildir_file(ctx, paths[i], keyword_names);
	for (size_t i = 0; i < count; i++)
		free(paths[i]);
	free(paths);
	for (int i = 0; i < 26; i++)
		free(keyword_names[i]);
	return ok && import_flush(ctx);
}

static bool import_maildir(struct import_ctx *ctx, const char *root)
{
	if (!import_maildir_folder(ctx, root, "INBOX"))
		return false;
	size_t count;
	char **names = import_list_dir(root, true, &count);
	if (names == NULL)
		return import_fail_io(ctx, "cannot read", root);
	bool ok = true;
	for (size_t i = 0; i < count && ok; i++) {
		if (names[i][0] != '.')
			continue;
		char *dir = cli_asprintf("%s/%s", root, names[i]);
		if (import_is_maildir(dir)) {
			struct buf name = BUF_INIT;
			if (mailfmt_maildir_folder_decode(names[i], &name))
				ok = import_maildir_folder(ctx, dir, buf_cstr(&name));
			else
				import_skip(ctx, "not a valid Maildir++ folder name", dir);
			buf_free(&name);
		}
		free(dir);
	}
	import_names_free(names, count);
	return ok;
}

/* ---- mbox ---- */

/* Turns the lines of one mbox message into the message: state headers
 * dropped (and read as flags), >From unescaped, the blank line that
 * separates it from the next message dropped. The same transformation runs
 * when hashing and when writing, so both see the same bytes. */
struct import_mbox_msg {
	EVP_MD_CTX *md;               /* hashing pass */
	struct store_blob_writer *w;  /* writing pass */
	enum store_error err;
	const char *error;
	bool in_header;
	bool in_state_header;         /* inside a dropped field's lines */
	struct buf blanks;            /* blank lines not yet known not to be
				       * the separator */
	struct buf state;             /* the dropped field being read */
	struct import_ctx *ctx;
	struct import_msg *m;         /* flags read (hashing pass), or NULL */
};

static void import_mbox_out(struct import_mbox_msg *x, const void *data, size_t len)
{
	if (x->err != STORE_OK || len == 0)
		return;
	if (x->md != NULL && EVP_DigestUpdate(x->md, data, len) != 1) {
		x->err = STORE_ERR_INTERNAL;
		x->error = "SHA-256 failed";
	}
	if (x->w != NULL)
		x->err = store_blob_writer_write(x->w, data, len, &x->error);
}

/* A dropped header field complete in x->state: its flags. */
static void import_mbox_state_done(struct import_mbox_msg *x)
{
	if (x->m == NULL || x->state.len == 0)
		return;
	const char *field = buf_cstr(&x->state);
	const char *colon = strchr(field, ':');
	if (colon == NULL)
		return;
	size_t name_len = (size_t)(colon - field);
	const char *value = colon + 1;
	size_t value_len = strlen(value);
	if (name_len == 6 && strncasecmp(field, "Status", 6) == 0) {
		x->m->flags |= mailfmt_mbox_status_flags(value, value_len);
	} else if (name_len == 8 && strncasecmp(field, "X-Status", 8) == 0) {
		x->m->flags |= mailfmt_mbox_xstatus_flags(value, value_len);
	} else if (name_len == 10 && strncasecmp(field, "X-Keywords", 10) == 0) {
		/* Space or comma separated (mutt, Dovecot). */
		const char *p = value;
		while (*p != '\0') {
			p += strspn(p, " \t,");
			size_t n = strcspn(p, " \t,");
			if (n > 0)
				import_msg_keyword(x->ctx, x->m, p, n);
			p += n;
		}
	}
	buf_reset(&x->state);
}

static void import_mbox_line(struct import_mbox_msg *x, const char *line, size_t len)
{
	size_t content = len;
	while (content > 0 && (line[content - 1] == '\n' || line[content - 1] == '\r'))
		content--;
	if (content == 0) {
		if (x->in_state_header)
			import_mbox_state_done(x);
		x->in_state_header = false;
		x->in_header = false;
		buf_append(&x->blanks, line, len);
		return;
	}
	import_mbox_out(x, x->blanks.data, x->blanks.len);
	buf_reset(&x->blanks);
	if (x->in_header) {
		bool continuation = line[0] == ' ' || line[0] == '\t';
		if (!continuation) {
			if (x->in_state_header)
				import_mbox_state_done(x);
			const char *colon = memchr(line, ':', content);
			x->in_state_header = colon != NULL &&
				mailfmt_mbox_is_state_header(line, (size_t)(colon - line));
		}
		if (x->in_state_header) {
			buf_append(&x->state, line, content);
			return;
		}
	}
	if (mailfmt_mbox_is_escaped_from(line, content)) {
		line++;
		len--;
	}
	import_mbox_out(x, line, len);
}

/* End of the message: all but the last blank line are part of it. */
static void import_mbox_end(struct import_mbox_msg *x)
{
	if (x->in_state_header)
		import_mbox_state_done(x);
	if (x->blanks.len > 0) {
		size_t keep = x->blanks.len - 1;
		while (keep > 0 && x->blanks.data[keep - 1] != '\n')
			keep--;
		import_mbox_out(x, x->blanks.data, keep);
	}
	buf_free(&x->blanks);
	buf_free(&x->state);
}

/* A message's lines in the file: [start, end). */
struct import_mbox_region {
	FILE *fp;
	off_t start, end;
	struct import_ctx *ctx;
};

static enum store_error import_emit_mbox(void *src, struct store_blob_writer *w,
					 const char **error_r)
{
	struct import_mbox_region *r = src;
	struct import_mbox_msg x = { .w = w, .in_header = true, .ctx = r->ctx };
	if (fseeko(r->fp, r->start, SEEK_SET) < 0) {
		*error_r = strerror(errno);
		return STORE_ERR_INTERNAL;
	}
	char *line = NULL;
	size_t cap = 0;
	off_t pos = r->start;
	while (pos < r->end && x.err == STORE_OK) {
		ssize_t n = getline(&line, &cap, r->fp);
		if (n <= 0) {
			x.err = STORE_ERR_INTERNAL;
			x.error = "mbox file changed during the import";
			break;
		}
		import_mbox_line(&x, line, (size_t)n);
		pos += n;
	}
	free(line);
	import_mbox_end(&x);
	if (x.err != STORE_OK)
		*error_r = x.error;
	return x.err;
}

/* Finishes the message hashed so far in x (lines [start, end)). */
static bool import_mbox_finish(struct import_ctx *ctx, struct import_mbox_msg *x,
			       struct import_msg *m, FILE *fp, off_t start, off_t end,
			       const char *path)
{
	import_mbox_end(x);
	unsigned char digest[IMPORT_SHA256_SIZE];
	bool ok = x->err == STORE_OK && EVP_DigestFinal_ex(x->md, digest, NULL) == 1;
	EVP_MD_CTX_free(x->md);
	x->md = NULL;
	if (!ok)
		return import_fail_store(ctx, STORE_ERR_INTERNAL, path, x->error);
	struct import_mbox_region r = { fp, start, end, ctx };
	off_t resume = ftello(fp);
	ok = import_message(ctx, digest, m, import_emit_mbox, &r, path);
	if (ok && fseeko(fp, resume, SEEK_SET) < 0)
		return import_fail_io(ctx, "cannot read", path);
	return ok;
}

static bool import_mbox_file(struct import_ctx *ctx, const char *path, const char *name)
{
	FILE *fp = fopen(path, "r");
	if (fp == NULL)
		return import_fail_io(ctx, "cannot read", path);
	struct stat st;
	if (fstat(fileno(fp), &st) < 0) {
		fclose(fp);
		return import_fail_io(ctx, "cannot read", path);
	}
	if (!import_folder_begin(ctx, name, path)) {
		fclose(fp);
		return ctx->exit_code == 0;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	off_t pos = 0, start = 0;
	bool in_msg = false, ok = true;
	struct import_mbox_msg x = { 0 };
	struct import_msg m = { 0 };
	while (ok && (n = getline(&line, &cap, fp)) > 0) {
		size_t content = (size_t)n;
		while (content > 0 && (line[content - 1] == '\n' || line[content - 1] == '\r'))
			content--;
		if (mailfmt_mbox_is_from_line(line, content)) {
			if (in_msg)
				ok = import_mbox_finish(ctx, &x, &m, fp, start, pos, path);
			if (!ok)
				break;
			m = (struct import_msg){ .internal_date = (int64_t)st.st_mtime };
			(void)mailfmt_mbox_from_date(line, content, &m.internal_date);
			x = (struct import_mbox_msg){ .md = EVP_MD_CTX_new(), .in_header = true,
						      .ctx = ctx, .m = &m };
			if (x.md == NULL || EVP_DigestInit_ex(x.md, EVP_sha256(), NULL) != 1) {
				EVP_MD_CTX_free(x.md);
				ok = import_fail_store(ctx, STORE_ERR_INTERNAL, path, "SHA-256 failed");
				break;
			}
			in_msg = true;
			pos += n;
			start = pos;
			continue;
		}
		if (in_msg)
			import_mbox_line(&x, line, (size_t)n);
		pos += n;
	}
	if (ok && ferror(fp))
		ok = import_fail_io(ctx, "cannot read", path);
	if (ok && in_msg)
		ok = import_mbox_finish(ctx, &x, &m, fp, start, pos, path);
	else if (in_msg) {
		import_mbox_end(&x);
		EVP_MD_CTX_free(x.md);
	}
	free(line);
	if (ok)
		ok = import_flush(ctx);
	fclose(fp);
	return ok;
}

/* True when the file's first bytes are "From ". */
static bool import_file_is_mbox(const char *path)
{
	char head[5];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, head, sizeof(head));
	close(fd);
	return n == (ssize_t)sizeof(head) && memcmp(head, "From ", 5) == 0;
}

/* A directory of mbox files: rel is the folder name of dir ("" at the
 * top). */
static bool import_mbox_dir(struct import_ctx *ctx, const char *dir, const char *rel)
{
	size_t count;
	char **names = import_list_dir(dir, false, &count);
	if (names == NULL)
		return import_fail_io(ctx, "cannot read", dir);
	bool ok = true;
	for (size_t i = 0; i < count && ok; i++) {
		char *path = cli_asprintf("%s/%s", dir, names[i]);
		struct stat st;
		if (stat(path, &st) < 0) {
			ok = import_fail_io(ctx, "cannot read", path);
		} else if (S_ISDIR(st.st_mode)) {
			/* Thunderbird keeps the children of "a" in "a.sbd". */
			size_t len = strlen(names[i]);
			if (len > 4 && strcmp(names[i] + len - 4, ".sbd") == 0)
				names[i][len - 4] = '\0';
			char *sub = rel[0] == '\0' ? xstrdup(names[i])
				    : cli_asprintf("%s/%s", rel, names[i]);
			ok = import_mbox_dir(ctx, path, sub);
			free(sub);
		} else if (S_ISREG(st.st_mode) && import_file_is_mbox(path)) {
			char *name = rel[0] == '\0' ? xstrdup(names[i])
				     : cli_asprintf("%s/%s", rel, names[i]);
			ok = import_mbox_file(ctx, path, name);
			free(name);
		} else if (S_ISREG(st.st_mode) && st.st_size > 0) {
			cli_error("import: ignored %s: not an mbox file", path);
		}
		free(path);
	}
	import_names_free(names, count);
	return ok;
}

/* ---- The command ---- */

static int import_user_check(const struct petrel_config *cfg, const char *user)
{
	const char *reason;
	if (!userdb_name_valid(user, &reason)) {
		cli_error("import: invalid user name: %s", reason);
		return EX_DATAERR;
	}
	struct userdb *db;
	char *db_error;
	bool busy;
	if (!userdb_open(cfg->data_dir, NULL, &db, &db_error, &busy)) {
		cli_error("%s", db_error);
		free(db_error);
		return busy ? EX_TEMPFAIL : EX_CANTCREAT;
	}
	const char *error;
	enum userdb_result r = userdb_exists(db, user, &error);
	userdb_close(&db);
	if (r == USERDB_NOT_FOUND) {
		cli_error("import: no such user: %s", user);
		return EX_NOUSER;
	}
	if (r != USERDB_OK) {
		cli_error("import: %s", error);
		return r == USERDB_BUSY ? EX_TEMPFAIL : EX_SOFTWARE;
	}
	return 0;
}

int cli_import(struct petrel_config *cfg, int argc, char **argv)
{
	static const struct option options[] = {
		{ "mailbox", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *prefix = NULL;
	optind = 1;
	opterr = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "m:h", options, NULL)) != -1) {
		switch (opt) {
		case 'm': prefix = optarg; break;
		case 'h': fputs(import_usage, stdout); return 0;
		default:
			cli_error("import: bad option '%s'", argv[optind - 1]);
			fputs(import_usage, stderr);
			return EX_USAGE;
		}
	}
	if (argc - optind != 2) {
		cli_error("import: expected a user name and a path");
		fputs(import_usage, stderr);
		return EX_USAGE;
	}
	const char *user = argv[optind], *path = argv[optind + 1];
	const char *error;
	if (prefix != NULL && !store_mailbox_name_valid(prefix, &error)) {
		cli_error("import: invalid mailbox name \"%s\": %s", prefix, error);
		return EX_DATAERR;
	}
	struct stat st;
	if (stat(path, &st) < 0) {
		cli_error("import: %s: %s", path, strerror(errno));
		return errno == ENOENT ? EX_NOINPUT : EX_IOERR;
	}
	bool maildir = S_ISDIR(st.st_mode) && import_is_maildir(path);
	if (!S_ISDIR(st.st_mode) && !(S_ISREG(st.st_mode) && import_file_is_mbox(path))) {
		cli_error("import: %s is neither a Maildir, an mbox file (first line "
			  "\"From \") nor a directory of mbox files", path);
		return EX_DATAERR;
	}
	int ret = import_user_check(cfg, user);
	if (ret != 0)
		return ret;

	struct import_ctx ctx = { .cfg = cfg, .prefix = prefix };
	enum store_error err = store_user_open(cfg->data_dir, user, &ctx.u, &error);
	if (err != STORE_OK) {
		cli_error("import: %s", error);
		return import_store_exit(err);
	}
	ctx.batch_arena = arena_new(0);
	clock_gettime(CLOCK_MONOTONIC, &ctx.last_progress);
	bool ok;
	if (maildir)
		ok = import_maildir(&ctx, path);
	else if (S_ISDIR(st.st_mode))
		ok = import_mbox_dir(&ctx, path, "");
	else
		ok = import_mbox_file(&ctx, path, "INBOX");
	if (ok)
		ok = import_flush(&ctx);
	import_batch_release(&ctx);
	import_progress(&ctx, true);
	import_seen_clear(&ctx.seen);
	free((char *)ctx.mailbox);
	arena_destroy(&ctx.batch_arena);
	store_user_close(&ctx.u);
	if (!ok)
		return ctx.exit_code != 0 ? ctx.exit_code : EX_SOFTWARE;
	return ctx.bad > 0 ? EX_DATAERR : 0;
}
