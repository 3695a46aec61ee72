/* petrel deliver: stores one message read from standard input, for an MTA's
 * mailbox_command or pipe(8) transport. The same code path as LMTP
 * (lmtp/lmtp-deliver.h); exit codes are sysexits(3), which MTAs map to
 * bounce (64-67, 73) or retry (75). */

#include "cli/cli.h"

#include "auth/userdb.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "lmtp/lmtp-address.h"
#include "lmtp/lmtp-deliver.h"
#include "lmtp/lmtp-recipient.h"
#include "lmtp/lmtp-trace.h"
#include "store/store.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#define DELIVER_CHUNK 65536

static const char deliver_usage[] =
	"Usage: petrel [-c FILE] deliver [-u USER] [-m MAILBOX] [-f SENDER]\n"
	"\n"
	"Reads one message from standard input and stores it in a user's mailbox.\n"
	"A leading mbox \"From \" line is dropped.\n"
	"\n"
	"Options:\n"
	"  -u, --user USER      the recipient: a user name or an address such as\n"
	"                       alice+lists@example.org (default: $USER)\n"
	"  -m, --mailbox NAME   the mailbox (UTF-8, '/' separated); default INBOX,\n"
	"                       or the +detail mailbox of USER when it exists\n"
	"  -f, --from SENDER    the envelope sender, recorded as Return-Path\n"
	"  -h, --help           show this help\n"
	"\n"
	"Exit status: 0 stored; 64 bad usage; 65 empty or too large message;\n"
	"67 unknown user; 73 MAILBOX does not exist (or over quota with\n"
	"[quota] lmtp_overquota = permanent); 75 temporary failure, over quota.\n";

struct deliver_args {
	const char *user;
	const char *mailbox;
	const char *sender;
};

/* -f as MTAs pass it: "a@b", "<a@b>", "" or "<>" for the null sender.
 * Strips the brackets; refuses control characters (it becomes a header). */
static bool deliver_sender_valid(const char **sender)
{
	static char stripped[1024];
	const char *s = *sender;
	size_t len = strlen(s);
	if (len >= 2 && s[0] == '<' && s[len - 1] == '>') {
		if (len - 2 >= sizeof(stripped))
			return false;
		memcpy(stripped, s + 1, len - 2);
		stripped[len - 2] = '\0';
		*sender = stripped;
	}
	for (const char *p = *sender; *p != '\0'; p++)
		if ((unsigned char)*p < 32 || *p == 127 || *p == '<' || *p == '>')
			return false;
	return true;
}

static int deliver_parse_args(int argc, char **argv, struct deliver_args *args_r)
{
	static const struct option options[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "mailbox", required_argument, NULL, 'm' },
		{ "from", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	memset(args_r, 0, sizeof(*args_r));
	optind = 1;
	opterr = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "+u:m:f:h", options, NULL)) != -1) {
		switch (opt) {
		case 'u': args_r->user = optarg; break;
		case 'm': args_r->mailbox = optarg; break;
		case 'f': args_r->sender = optarg; break;
		case 'h': fputs(deliver_usage, stdout); return EX_OK;
		default:
			cli_error("deliver: bad option '%s'", argv[optind - 1]);
			fputs(deliver_usage, stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		cli_error("deliver: unexpected argument '%s'", argv[optind]);
		fputs(deliver_usage, stderr);
		return EX_USAGE;
	}
	if (args_r->sender != NULL && !deliver_sender_valid(&args_r->sender)) {
		cli_error("deliver: invalid sender '%s'", args_r->sender);
		return EX_USAGE;
	}
	if (args_r->user == NULL)
		args_r->user = getenv("USER");
	if (args_r->user == NULL || args_r->user[0] == '\0') {
		cli_error("deliver: no user given (-u) and $USER is not set");
		return EX_USAGE;
	}
	return -1;
}

/* The recipient: -u is a user name or an address, looked up like an LMTP
 * RCPT TO (lmtp/lmtp-recipient.h). */
static int deliver_resolve(const struct petrel_config *cfg, struct arena *a, const char *user,
			   struct lmtp_recipient *rcpt_r)
{
	struct userdb *db;
	char *open_error = NULL;
	if (!userdb_open(cfg->data_dir, NULL, &db, &open_error, NULL)) {
		cli_error("deliver: %s", open_error);
		free(open_error);
		return EX_TEMPFAIL;
	}
	struct lmtp_path path = { .address = user, .local = user, .domain = NULL };
	const char *at = strrchr(user, '@');
	if (at != NULL && at != user && at[1] != '\0') {
		path.local = arena_strndup(a, user, (size_t)(at - user));
		path.domain = at + 1;
	}
	const char *error = NULL;
	enum userdb_result r = lmtp_recipient_resolve(db, a, &path, rcpt_r, &error);
	int ret = EX_OK;
	if (r == USERDB_NOT_FOUND) {
		cli_error("deliver: unknown user '%s'", user);
		ret = EX_NOUSER;
	} else if (r != USERDB_OK) {
		cli_error("deliver: user database: %s", error != NULL ? error : "error");
		ret = EX_TEMPFAIL;
	}
	userdb_close(&db);
	return ret;
}

/* Reads up to len bytes, retrying on EINTR and short reads until EOF. */
static ssize_t deliver_read(unsigned char *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(STDIN_FILENO, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Copies standard input into w, without a leading "From " line (an mbox
 * separator, never a header field: field names have no spaces). Returns
 * the number of message bytes, or -1 with *err_r set. */
static int64_t deliver_copy_stdin(struct store_blob_writer *w, enum store_error *err_r,
				  const char **error_r)
{
	static unsigned char chunk[DELIVER_CHUNK];
	int64_t total = 0;
	bool first = true, skipping = false;
	for (;;) {
		ssize_t n = deliver_read(chunk, sizeof(chunk));
		if (n < 0) {
			*err_r = STORE_ERR_INTERNAL;
			*error_r = strerror(errno);
			return -1;
		}
		if (n == 0)
			return total;
		size_t start = 0;
		if (first && n >= 5 && memcmp(chunk, "From ", 5) == 0)
			skipping = true;
		first = false;
		while (skipping && start < (size_t)n)
			skipping = chunk[start++] != '\n';
		if (start < (size_t)n) {
			*err_r = store_blob_writer_write(w, chunk + start, (size_t)n - start, error_r);
			if (*err_r != STORE_OK)
				return -1;
			total += n - (ssize_t)start;
		}
	}
}

/* Streams standard input into a finished message. */
static int deliver_read_message(const struct petrel_config *cfg, struct arena *a,
				const char *sender, struct lmtp_message *msg_r)
{
	struct buf trace = BUF_INIT;
	struct lmtp_trace t = { .return_path = sender };
	lmtp_trace_format(&t, &trace);
	uint64_t max = cfg->append_size != 0 ? cfg->append_size + trace.len : 0;
	struct store_blob_writer *w;
	const char *error = NULL;
	enum store_error err = lmtp_message_begin(cfg->data_dir, max, trace.data, trace.len,
						  &w, &error);
	buf_free(&trace);
	if (err != STORE_OK) {
		cli_error("deliver: %s", error);
		return EX_TEMPFAIL;
	}
	int64_t size = deliver_copy_stdin(w, &err, &error);
	if (size <= 0) {
		store_blob_writer_abort(&w);
		if (size == 0) {
			cli_error("deliver: empty message");
			return EX_DATAERR;
		}
		cli_error("deliver: %s", error);
		return err == STORE_ERR_TOOBIG ? EX_DATAERR : EX_TEMPFAIL;
	}
	err = lmtp_message_finish(&w, a, msg_r, &error);
	if (err != STORE_OK) {
		cli_error("deliver: %s", error);
		return EX_TEMPFAIL;
	}
	msg_r->received = time(NULL);
	return EX_OK;
}

static int deliver_store(const struct petrel_config *cfg, const struct lmtp_recipient *rcpt,
			 const char *mailbox, const struct lmtp_message *msg)
{
	struct store_user *u;
	const char *error = NULL;
	enum store_error err = store_user_open(cfg->data_dir, rcpt->user, &u, &error);
	if (err != STORE_OK) {
		cli_error("deliver: %s", error);
		return EX_TEMPFAIL;
	}
	bool fallback = mailbox == NULL;
	err = lmtp_deliver_store(u, fallback ? rcpt->detail : mailbox, fallback, msg, NULL, NULL,
				 &error);
	store_user_close(&u);
	if (err == STORE_ERR_NONEXISTENT) {
		cli_error("deliver: mailbox '%s' does not exist", mailbox);
		return EX_CANTCREAT;
	}
	if (err == STORE_ERR_OVERQUOTA) {
		/* [quota] lmtp_overquota: retry later (default) or bounce. */
		cli_error("deliver: mailbox full: %s", error);
		return cfg->quota_overquota_tempfail ? EX_TEMPFAIL : EX_CANTCREAT;
	}
	if (err != STORE_OK) {
		cli_error("deliver: %s", error);
		return EX_TEMPFAIL;
	}
	return EX_OK;
}

int cli_deliver(struct petrel_config *cfg, int argc, char **argv)
{
	struct deliver_args args;
	int ret = deliver_parse_args(argc, argv, &args);
	if (ret >= 0)
		return ret;
	struct arena *a = arena_new(0);
	struct lmtp_recipient rcpt;
	struct lmtp_message msg = { 0 };
	ret = deliver_resolve(cfg, a, args.user, &rcpt);
	if (ret == EX_OK)
		ret = deliver_read_message(cfg, a, args.sender, &msg);
	if (ret == EX_OK)
		ret = deliver_store(cfg, &rcpt, args.mailbox, &msg);
	lmtp_message_free(&msg);
	arena_destroy(&a);
	return ret;
}
