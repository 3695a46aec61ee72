/* petrel export USER PATH: writes every selectable mailbox of USER as a
 * Maildir++ tree that petrel import (and Dovecot, Courier, mutt, ...) read
 * back: INBOX in PATH/cur, the mailbox "Sub/Folder" in PATH/.Sub.Folder/cur
 * (levels in modified UTF-7), each message byte for byte as stored, its
 * flags in the file name (":2,DFPRST" plus Dovecot keyword letters named in
 * each folder's dovecot-keywords; $Forwarded is both P and a letter), its
 * internal date as the file's modification time.
 *
 * A message's file name depends only on its mailbox's UIDVALIDITY and its
 * UID ("<date>.P<uidvalidity>U<uid>.petrel,S=<size>"), so running the same
 * export again writes only what is missing and renames files whose flags
 * changed; each file is written in tmp/ and renamed into cur/, so an
 * interrupted export leaves no half message where a reader looks. */

#include "cli/cli.h"
#include "cli/mailfmt.h"

#include "auth/userdb.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "lib/xalloc.h"
#include "store/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

static const char export_usage[] =
	"Usage: petrel [-c FILE] export USER PATH\n"
	"\n"
	"Writes USER's mailboxes as a Maildir++ tree under PATH (created when\n"
	"missing): INBOX in PATH/cur, other mailboxes in PATH/.Name.Sub with\n"
	"names in modified UTF-7; flags in the file names, keywords through\n"
	"Dovecot's dovecot-keywords files, internal dates as modification\n"
	"times. 'petrel import' reads the tree back to the same messages.\n"
	"Running it again on the same PATH writes only what is missing and\n"
	"updates changed flags; files it did not write are left alone.\n"
	"Progress goes to standard error every second.\n"
	"Exit: 0 done; 64 bad usage; 67 no such user; 73 PATH cannot be made;\n"
	"74 write error; 75 store busy (run again).\n";

/* A file already in the folder: its unique part and full name. */
struct export_existing {
	char *base;
	char *name;
	bool in_new;
};

struct export_ctx {
	const struct petrel_config *cfg;
	struct store_user *u;
	struct arena *arena;
	uint64_t written, renamed, unchanged, bytes;
	struct timespec last_progress;
	bool keywords_dropped;
	int exit_code;
};

static void export_progress(struct export_ctx *ctx, bool final)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!final && now.tv_sec - ctx->last_progress.tv_sec < 1)
		return;
	ctx->last_progress = now;
	fprintf(stderr, "petrel: export: %s%" PRIu64 " messages written, %" PRIu64
		" flags updated, %" PRIu64 " already there, %.1f MB written\n",
		final ? "done: " : "", ctx->written, ctx->renamed, ctx->unchanged,
		(double)ctx->bytes / 1e6);
}

static bool export_fail_io(struct export_ctx *ctx, const char *what, const char *path)
{
	int errnum = errno;
	cli_error("export: %s %s: %s", what, path, strerror(errnum));
	if (ctx->exit_code == 0)
		ctx->exit_code = errnum == EACCES || errnum == EROFS || errnum == ENOSPC ||
				 errnum == ENOTDIR ? EX_CANTCREAT : EX_IOERR;
	return false;
}

static bool export_fail_store(struct export_ctx *ctx, enum store_error err, const char *what,
			      const char *error)
{
	cli_error("export: %s: %s", what, error != NULL ? error : store_error_name(err));
	if (ctx->exit_code == 0)
		ctx->exit_code = err == STORE_ERR_INUSE ? EX_TEMPFAIL : EX_SOFTWARE;
	return false;
}

static bool export_mkdir(struct export_ctx *ctx, const char *path)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return true;
	return export_fail_io(ctx, "cannot create", path);
}

/* ---- Files already there ---- */

static int export_existing_cmp(const void *a, const void *b)
{
	return strcmp(((const struct export_existing *)a)->base,
		      ((const struct export_existing *)b)->base);
}

static bool export_list_existing(struct export_ctx *ctx, const char *dir,
				 struct export_existing **list_r, size_t *count_r)
{
	size_t count = 0, cap = 0;
	struct export_existing *list = NULL;
	static const char *const subdirs[] = { "cur", "new" };
	for (size_t s = 0; s < 2; s++) {
		char *sub = cli_asprintf("%s/%s", dir, subdirs[s]);
		DIR *d = opendir(sub);
		if (d == NULL) {
			bool missing = errno == ENOENT;
			if (!missing)
				export_fail_io(ctx, "cannot read", sub);
			free(sub);
			if (!missing) {
				*list_r = list;
				*count_r = count;
				return false;
			}
			continue;
		}
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			if (count == cap) {
				cap = cap == 0 ? 256 : cap * 2;
				list = xrealloc(list, cap * sizeof(*list));
			}
			list[count++] = (struct export_existing){
				.base = xstrndup(e->d_name, mailfmt_maildir_base_len(e->d_name)),
				.name = xstrdup(e->d_name),
				.in_new = s == 1,
			};
		}
		closedir(d);
		free(sub);
	}
	if (count > 0)
		qsort(list, count, sizeof(*list), export_existing_cmp);
	*list_r = list;
	*count_r = count;
	return true;
}

static void export_existing_free(struct export_existing *list, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(list[i].base);
		free(list[i].name);
	}
	free(list);
}

/* ---- Keywords ---- */

static void export_keywords_read(const char *dir, char *names[26])
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
		if (mailfmt_dovecot_keywords_line(line, &index, &name)) {
			free(names[index]);
			names[index] = xstrdup(name);
		}
	}
	free(line);
	fclose(fp);
}

static bool export_keywords_write(struct export_ctx *ctx, const char *dir, char *names[26])
{
	char *tmp = cli_asprintf("%s/tmp/dovecot-keywords.petrel", dir);
	char *path = cli_asprintf("%s/dovecot-keywords", dir);
	FILE *fp = fopen(tmp, "w");
	bool ok = fp != NULL;
	for (int i = 0; ok && i < 26; i++)
		if (names[i] != NULL)
			ok = fprintf(fp, "%d %s\n", i, names[i]) > 0;
	if (fp != NULL && fclose(fp) != 0)
		ok = false;
	if (ok && rename(tmp, path) < 0)
		ok = false;
	if (!ok)
		export_fail_io(ctx, "cannot write", path);
	free(tmp);
	free(path);
	return ok;
}

/* The letter of kw, assigning a free one; -1 when all 26 are taken. */
static int export_keyword_letter(char *names[26], const char *kw, bool *changed)
{
	int free_slot = -1;
	for (int i = 0; i < 26; i++) {
		if (names[i] != NULL && strcasecmp(names[i], kw) == 0)
			return i;
		if (names[i] == NULL && free_slot < 0)
			free_slot = i;
	}
	if (free_slot >= 0) {
		names[free_slot] = xstrdup(kw);
		*changed = true;
	}
	return free_slot;
}

/* ---- Messages ---- */

static bool export_copy_blob(struct export_ctx *ctx, int in, int out, const char *path)
{
	unsigned char chunk[65536];
	for (;;) {
		ssize_t n = read(in, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return export_fail_io(ctx, "cannot read the message for", path);
		if (n == 0)
			return true;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, chunk + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return export_fail_io(ctx, "cannot write", path);
			off += w;
		}
	}
}

static bool export_set_mtime(const char *path, int64_t when)
{
	struct timespec times[2] = { { .tv_sec = (time_t)when }, { .tv_sec = (time_t)when } };
	return utimensat(AT_FDCWD, path, times, 0) == 0;
}

/* Writes a message that is not in the folder yet: tmp/, fsync, mtime,
 * rename into cur/ as final. */
static bool export_write_new(struct export_ctx *ctx, const char *dir, uint64_t mailbox_id,
			     uint32_t uid, const struct store_msg *msg, const char *base,
			     const char *final)
{
	const char *error;
	int in = -1;
	enum store_error err = store_msg_open_blob(ctx->u, mailbox_id, uid, &in, NULL, &error);
	if (err == STORE_ERR_NONEXISTENT)
		return true; /* expunged meanwhile */
	if (err != STORE_OK)
		return export_fail_store(ctx, err, dir, error);
	char *tmp = cli_asprintf("%s/tmp/%s", dir, base);
	int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	bool ok = out >= 0 || export_fail_io(ctx, "cannot create", tmp);
	if (ok) {
		ok = export_copy_blob(ctx, in, out, tmp);
		if (ok && fsync(out) < 0)
			ok = export_fail_io(ctx, "cannot write", tmp);
		if (close(out) < 0 && ok)
			ok = export_fail_io(ctx, "cannot write", tmp);
		if (ok && !export_set_mtime(tmp, msg->internal_date))
			ok = export_fail_io(ctx, "cannot set the time of", tmp);
		if (ok && rename(tmp, final) < 0)
			ok = export_fail_io(ctx, "cannot rename", tmp);
		if (!ok)
			unlink(tmp);
	}
	close(in);
	free(tmp);
	if (ok) {
		ctx->written++;
		ctx->bytes += msg->size;
	}
	return ok;
}

static bool export_message(struct export_ctx *ctx, const char *dir, uint64_t mailbox_id,
			   uint32_t uidvalidity, uint32_t uid, char *keyword_names[26],
			   bool *keywords_changed, const struct export_existing *existing,
			   size_t existing_count)
{
	struct store_msg msg;
	const char *error;
	arena_reset(ctx->arena);
	enum store_error err = store_msg_get(ctx->u, mailbox_id, uid, 0, ctx->arena, &msg, &error);
	if (err == STORE_ERR_NONEXISTENT)
		return true; /* expunged meanwhile */
	if (err != STORE_OK)
		return export_fail_store(ctx, err, dir, error);
	struct mailfmt_maildir_flags mf = { .flags = msg.flags };
	for (size_t i = 0; i < msg.keyword_count; i++) {
		/* $Forwarded is Maildir's P (mutt, Courier) and also a keyword
		 * letter, which is how Dovecot reads and writes it. */
		if (strcasecmp(msg.keywords[i], "$Forwarded") == 0)
			mf.forwarded = true;
		int letter = export_keyword_letter(keyword_names, msg.keywords[i], keywords_changed);
		if (letter >= 0) {
			mf.letters |= 1u << letter;
		} else if (!ctx->keywords_dropped) {
			cli_error("export: %s: more than 26 keywords; keyword %s not exported",
				  dir, msg.keywords[i]);
			ctx->keywords_dropped = true;
		}
	}
	char *base = cli_asprintf("%" PRId64 ".P%" PRIu32 "U%" PRIu32 ".petrel,S=%" PRIu64,
				  msg.internal_date, uidvalidity, uid, msg.size);
	struct buf name = BUF_INIT;
	buf_append_str(&name, base);
	mailfmt_maildir_info_format(&mf, &name);
	char *final = cli_asprintf("%s/cur/%s", dir, buf_cstr(&name));
	struct export_existing key = { .base = base };
	const struct export_existing *found =
		existing_count == 0 ? NULL
		: bsearch(&key, existing, existing_count, sizeof(*existing), export_existing_cmp);
	bool ok = true;
	if (found != NULL && !found->in_new && strcmp(found->name, buf_cstr(&name)) == 0) {
		ctx->unchanged++;
	} else if (found != NULL) {
		char *old = cli_asprintf("%s/%s/%s", dir, found->in_new ? "new" : "cur", found->name);
		if (rename(old, final) < 0)
			ok = export_fail_io(ctx, "cannot rename", old);
		else
			ctx->renamed++;
		free(old);
	} else {
		ok = export_write_new(ctx, dir, mailbox_id, uid, &msg, base, final);
	}
	free(final);
	free(base);
	buf_free(&name);
	export_progress(ctx, false);
	return ok;
}

static bool export_mailbox(struct export_ctx *ctx, const char *root,
			   const struct store_mailbox_info *info)
{
	char *dir;
	if (strcmp(info->name, "INBOX") == 0) {
		dir = xstrdup(root);
	} else {
		struct buf enc = BUF_INIT;
		if (!mailfmt_maildir_folder_encode(info->name, &enc)) {
			buf_free(&enc);
			cli_error("export: mailbox \"%s\" has no Maildir++ name; skipped", info->name);
			return true;
		}
		dir = cli_asprintf("%s/%s", root, buf_cstr(&enc));
		buf_free(&enc);
	}
	bool ok = export_mkdir(ctx, dir);
	static const char *const subdirs[] = { "cur", "new", "tmp" };
	for (size_t i = 0; ok && i < 3; i++) {
		char *sub = cli_asprintf("%s/%s", dir, subdirs[i]);
		ok = export_mkdir(ctx, sub);
		free(sub);
	}
	if (ok && strcmp(info->name, "INBOX") != 0) {
		/* Maildir++: marks a folder directory. */
		char *marker = cli_asprintf("%s/maildirfolder", dir);
		int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			ok = export_fail_io(ctx, "cannot create", marker);
		else
			close(fd);
		free(marker);
	}
	struct export_existing *existing = NULL;
	size_t existing_count = 0;
	if (ok)
		ok = export_list_existing(ctx, dir, &existing, &existing_count);
	char *keyword_names[26];
	export_keywords_read(dir, keyword_names);
	bool keywords_changed = false;
	struct store_view view = { 0 };
	const char *error;
	if (ok) {
		enum store_error err = store_view_load(ctx->u, info->id, &view, &error);
		if (err != STORE_OK)
			ok = export_fail_store(ctx, err, info->name, error);
	}
	for (uint32_t i = 0; ok && i < view.count; i++)
		ok = export_message(ctx, dir, info->id, view.uidvalidity, view.uids[i],
				    keyword_names, &keywords_changed, existing, existing_count);
	if (ok && keywords_changed)
		ok = export_keywords_write(ctx, dir, keyword_names);
	store_view_free(&view);
	for (int i = 0; i < 26; i++)
		free(keyword_names[i]);
	export_existing_free(existing, existing_count);
	free(dir);
	return ok;
}

int cli_export(struct petrel_config *cfg, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(export_usage, stdout);
		return 0;
	}
	if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '\0') {
		cli_error("export: expected a user name and a path");
		fputs(export_usage, stderr);
		return EX_USAGE;
	}
	const char *user = argv[1], *root = argv[2];
	const char *reason, *error;
	if (!userdb_name_valid(user, &reason)) {
		cli_error("export: invalid user name: %s", reason);
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
	enum userdb_result r = userdb_exists(db, user, &error);
	if (r != USERDB_OK)
		cli_error("export: %s", r == USERDB_NOT_FOUND ? "no such user" : error);
	userdb_close(&db);
	if (r != USERDB_OK)
		return r == USERDB_NOT_FOUND ? EX_NOUSER : r == USERDB_BUSY ? EX_TEMPFAIL
		       : EX_SOFTWARE;

	struct export_ctx ctx = { .cfg = cfg, .arena = arena_new(0) };
	clock_gettime(CLOCK_MONOTONIC, &ctx.last_progress);
	enum store_error err = store_user_open(cfg->data_dir, user, &ctx.u, &error);
	bool ok = err == STORE_OK || export_fail_store(&ctx, err, user, error);
	struct arena *list_arena = arena_new(0);
	struct store_mailbox_info *list = NULL;
	size_t count = 0;
	if (ok) {
		err = store_mailbox_list(ctx.u, list_arena, &list, &count, &error);
		if (err != STORE_OK)
			ok = export_fail_store(&ctx, err, user, error);
	}
	if (ok)
		ok = export_mkdir(&ctx, root);
	for (size_t i = 0; ok && i < count; i++)
		if (!list[i].noselect)
			ok = export_mailbox(&ctx, root, &list[i]);
	export_progress(&ctx, true);
	arena_destroy(&list_arena);
	arena_destroy(&ctx.arena);
	store_user_close(&ctx.u);
	if (!ok)
		return ctx.exit_code != 0 ? ctx.exit_code : EX_SOFTWARE;
	return 0;
}
