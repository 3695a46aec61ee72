#include "imap/imap-access.h"
#include "imap/imap-blob-queue.h"
#include "imap/imap-commands.h"
#include "imap/imap-flags.h"
#include "imap/imap-mailbox-name.h"
#include "imap/imap-news-post.h"
#include "imap/imap-parser.h"
#include "imap/imap-selected.h"
#include "imap/imap-seqset.h"
#include "lib/arena.h"
#include "lib/config.h"
#include "lib/log.h"
#include "net/conn.h"

#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <time.h>

/* One message of a (MULTI)APPEND, as parsed. */
struct append_msg {
	struct imap_flag_list flags;
	bool has_date;
	int64_t date;
	int tz_offset_min;
	const unsigned char *data; /* the literal, in memory or mapped */
	size_t len;
	bool literal8;             /* sent as ~{n} (RFC 3516) */
	void *map;                 /* mmap of a literal file, or NULL */
};

static const char *const append_months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

static bool append_digits(const char *s, int n, int *v_r)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*v_r = v;
	return true;
}

/* date-time = DQUOTE date-day-fixed "-" date-month "-" date-year
 *             SP time SP zone DQUOTE
 * date-day-fixed = (SP DIGIT) / 2DIGIT;  time = 2DIGIT ":" 2DIGIT ":" 2DIGIT
 * zone = ("+" / "-") 4DIGIT */
static bool append_parse_date(const char *s, size_t len, int64_t *time_r, int *tz_r)
{
	int day, year, hh, mm, ss, zone;
	if (len != 26 || s[2] != '-' || s[6] != '-' || s[11] != ' ' || s[14] != ':' ||
	    s[17] != ':' || s[20] != ' ' || (s[21] != '+' && s[21] != '-'))
		return false;
	if (s[0] == ' ' ? !append_digits(s + 1, 1, &day) : !append_digits(s, 2, &day))
		return false;
	int month = -1;
	for (int m = 0; m < 12; m++)
		if (strncasecmp(s + 3, append_months[m], 3) == 0)
			month = m;
	if (month < 0 || !append_digits(s + 7, 4, &year) || !append_digits(s + 12, 2, &hh) ||
	    !append_digits(s + 15, 2, &mm) || !append_digits(s + 18, 2, &ss) ||
	    !append_digits(s + 22, 4, &zone))
		return false;
	if (day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 || zone % 100 > 59)
		return false;
	struct tm tm = { .tm_year = year - 1900, .tm_mon = month, .tm_mday = day,
			 .tm_hour = hh, .tm_min = mm, .tm_sec = ss };
	time_t t = timegm(&tm);
	struct tm check;
	gmtime_r(&t, &check);
	if (check.tm_mday != day) /* 31-Feb and the like */
		return false;
	int offset = (zone / 100) * 60 + zone % 100;
	if (s[21] == '-')
		offset = -offset;
	*time_r = (int64_t)t - (int64_t)offset * 60;
	*tz_r = offset;
	return true;
}

/* append-message = [SP flag-list] [SP date-time] SP literal
 * Reads one message starting at args[*i]. */
static bool append_read_message(struct imap_cmd *cmd, size_t *i, struct append_msg *m,
				const char **error_r)
{
	const struct imap_arg *args = cmd->args;
	const struct imap_arg *list;
	size_t count;
	if (*i < cmd->arg_count && imap_arg_get_list(&args[*i], &list, &count)) {
		if (!imap_flags_read(cmd, list, count, &m->flags, error_r))
			return false;
		(*i)++;
	}
	if (*i < cmd->arg_count && args[*i].type == IMAP_ARG_STRING) {
		if (!append_parse_date(args[*i].data, args[*i].len, &m->date, &m->tz_offset_min)) {
			*error_r = "Invalid date-time";
			return false;
		}
		m->has_date = true;
		(*i)++;
	}
	if (*i >= cmd->arg_count) {
		*error_r = "APPEND expects a message literal";
		return false;
	}
	const struct imap_arg *lit = &args[(*i)++];
	if (lit->type != IMAP_ARG_LITERAL && lit->type != IMAP_ARG_LITERAL_FILE) {
		*error_r = "APPEND expects a message literal";
		return false;
	}
	m->literal8 = lit->literal8;
	if (lit->type == IMAP_ARG_LITERAL) {
		m->data = (const unsigned char *)lit->data;
		m->len = lit->len;
	} else if (lit->size > 0) {
		m->map = mmap(NULL, lit->size, PROT_READ, MAP_PRIVATE, lit->fd, 0);
		if (m->map == MAP_FAILED) {
			m->map = NULL;
			*error_r = "Cannot read the message";
			return false;
		}
		m->data = m->map;
		m->len = lit->size;
	}
	return true;
}

static void append_release(struct append_msg *msgs, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (msgs[i].map != NULL)
			munmap(msgs[i].map, msgs[i].len);
	}
}

static void append_answer_ok(struct imap_cmd *cmd, uint32_t uidvalidity, const uint32_t *uids,
			     size_t count)
{
	struct imap_seqset set = IMAP_SEQSET_INIT;
	for (size_t i = 0; i < count; i++)
		imap_seqset_add(&set, uids[i]);
	struct buf code = BUF_INIT;
	buf_printf(&code, "APPENDUID %u ", uidvalidity);
	imap_seqset_format(&set, &code);
	imap_cmd_ok(cmd, buf_cstr(&code), "APPEND completed");
	buf_free(&code);
	imap_seqset_free(&set);
}

/* What APPEND keeps for the transaction while the bodies are written. */
struct append_pending {
	struct imap_mailbox mb;    /* strings from the command arena */
	uint64_t mailbox_id;
	struct append_msg *msgs;
	size_t count;
};

/* Bodies linked into blobs/ for an append that failed go again (unless
 * another message uses the same body). */
static void append_release_linked(struct store_user *u, const struct imap_blob_part *parts,
				  size_t count, struct arena *a)
{
	const char **hashes = arena_alloc(a, (count ? count : 1) * sizeof(*hashes));
	size_t n = 0;
	for (size_t i = 0; i < count; i++)
		if (parts[i].blob != NULL)
			hashes[n++] = store_blob_hash(parts[i].blob);
	store_blobs_release(u, hashes, n);
}

/* The target is the session's own selected mailbox. */
static bool append_into_selected(const struct imap_session *s, const struct append_pending *p)
{
	const struct imap_selected *sel = s->selected;
	return sel != NULL && !sel->shared && sel->mailbox_id == p->mailbox_id &&
	       strcmp(sel->owner, p->mb.ref.owner) == 0;
}

/* The new messages into the view without reading the mailbox again, when
 * nothing else changed it (imap_selected_own_append); a keyword may need a
 * new FLAGS response, which the read sends. */
static void append_view_current(struct imap_cmd *cmd, struct store_user *u,
				uint64_t seq_before, const struct store_append_info *info,
				const struct store_append *apps, const uint32_t *uids, size_t count)
{
	uint32_t *flags = arena_alloc(cmd->arena, count * sizeof(*flags));
	for (size_t i = 0; i < count; i++) {
		if (apps[i].keyword_count > 0)
			return;
		flags[i] = apps[i].flags;
	}
	(void)imap_selected_own_append(cmd->session, u, seq_before, info->modseq, uids, flags,
				       count);
}

/* Back on the worker with the bodies in place: stores the messages in one
 * transaction (MULTIAPPEND is all or nothing, RFC 3502 §6.3.11). */
static void append_commit(struct imap_cmd *cmd, const struct imap_blob_part *parts,
			  size_t count, enum store_error err, const char *error, void *ctx)
{
	struct append_pending *p = ctx;
	struct store_user *u = imap_session_store_of(cmd->session, p->mb.ref.owner, &error);
	if (u == NULL) {
		imap_cmd_no(cmd, "UNAVAILABLE", "Mail store unavailable");
		return;
	}
	if (err != STORE_OK) {
		append_release_linked(u, parts, count, cmd->arena);
		imap_mailbox_answer_store_error(cmd, err, error);
		return;
	}
	struct store_append *apps = arena_zalloc(cmd->arena, count * sizeof(*apps));
	for (size_t i = 0; i < count; i++) {
		const struct append_msg *m = &p->msgs[i];
		apps[i] = (struct store_append){
			.blob = parts[i].blob, .flags = m->flags.flags,
			.keywords = m->flags.keywords, .keyword_count = m->flags.keyword_count,
			.internal_date = m->has_date ? m->date : (int64_t)time(NULL),
			.tz_offset_min = m->has_date ? m->tz_offset_min : 0,
			.meta = &parts[i].meta,
		};
	}
	struct imap_selected *sel = append_into_selected(cmd->session, p) ?
		cmd->session->selected : NULL;
	/* The session is the first told of the new messages: \Recent is
	 * taken with them, not by a second write after. */
	bool claim = sel != NULL && !sel->readonly && !sel->hide_recent;
	uint64_t seq_before = store_user_commit_seq(u);
	struct store_append_info info;
	uint32_t *uids = arena_alloc(cmd->arena, count * sizeof(*uids));
	err = store_msg_append_info(u, p->mailbox_id, apps, count, claim, &info, uids, &error);
	if (err != STORE_OK) {
		imap_mailbox_answer_store_error(cmd, err, error);
		return;
	}
	if (claim)
		imap_selected_take_recent(sel, info.recent_first, info.recent_end);
	if (sel != NULL)
		append_view_current(cmd, u, seq_before, &info, apps, uids, count);
	append_answer_ok(cmd, info.uidvalidity, uids, count);
}

/* Checks the target, then writes the bodies off the event loop
 * (imap-blob-queue.h); append_commit stores them. */
static enum imap_cmd_result append_store(struct imap_cmd *cmd, const struct imap_mailbox *target,
					 struct append_msg *msgs, size_t count)
{
	const char *error;
	struct store_user *u = target->store;
	struct store_mailbox_status st;
	enum store_error err = store_mailbox_status(u, target->ref.name, &st, &error);
	if (err == STORE_ERR_NONEXISTENT || (err == STORE_OK && st.noselect)) {
		/* RFC 9051 §6.3.12: the client may CREATE and try again. */
		imap_cmd_no(cmd, "TRYCREATE", "Mailbox does not exist");
		return IMAP_CMD_DONE;
	}
	if (err != STORE_OK) {
		imap_mailbox_answer_store_error(cmd, err, error);
		return IMAP_CMD_DONE;
	}
	struct append_pending *p = arena_zalloc(cmd->arena, sizeof(*p));
	*p = (struct append_pending){ .mb = *target, .mailbox_id = st.id, .msgs = msgs,
				      .count = count };
	struct imap_blob_job *job = imap_blob_job_new(cmd, count, u);
	for (size_t i = 0; i < count; i++) {
		/* RFC 4314 §4: flags without their right are dropped. */
		imap_flags_filter(&msgs[i].flags, target->rights);
		imap_blob_job_set(job, i, msgs[i].data, msgs[i].len, msgs[i].map);
		msgs[i].map = NULL; /* the job's now */
	}
	return imap_blob_job_submit(job, append_commit, p);
}

/* APPEND into a news folder posts the article upstream (imap-news-post.h):
 * with the "p" right (RFC 4314 §2.1), one article at a time, since a
 * news server cannot take several all or nothing. */
static enum imap_cmd_result append_post(struct imap_cmd *cmd, const struct imap_mailbox *mb,
					const char *group, struct append_msg *msgs, size_t count)
{
	if (!(mb->rights & STORE_RIGHT_POST)) {
		imap_mailbox_answer_noperm(cmd, STORE_RIGHT_POST, mb->rights);
		return IMAP_CMD_DONE;
	}
	if (count != 1) {
		imap_cmd_no(cmd, "CANNOT", "Post one article at a time");
		return IMAP_CMD_DONE;
	}
	imap_flags_filter(&msgs[0].flags, mb->rights);
	return imap_news_post(cmd, mb, group, msgs[0].data, msgs[0].len, &msgs[0].flags,
			      msgs[0].has_date, msgs[0].date, msgs[0].tz_offset_min);
}

/* append = "APPEND" SP mailbox 1*append-message   (RFC 3502 §6.3.11) */
enum imap_cmd_result cmd_append(struct imap_cmd *cmd)
{
	const char *mailbox, *error = NULL;
	if (cmd->arg_count < 2) {
		imap_cmd_bad(cmd, NULL, "APPEND expects a mailbox and a message");
		return IMAP_CMD_DONE;
	}
	if (!imap_mailbox_name_read(cmd, &cmd->args[0], IMAP_MAILBOX_NAME_EXISTING, &mailbox))
		return IMAP_CMD_DONE;
	size_t max = cmd->arg_count - 1, count = 0, i = 1;
	struct append_msg *msgs = arena_zalloc(cmd->arena, max * sizeof(*msgs));
	bool ok = true;
	while (ok && i < cmd->arg_count)
		ok = append_read_message(cmd, &i, &msgs[count++], &error);
	if (!ok) {
		append_release(msgs, count);
		imap_cmd_bad(cmd, NULL, "%s", error);
		return IMAP_CMD_DONE;
	}
	for (size_t k = 0; k < count; k++) {
		if (msgs[k].len == 0) {
			append_release(msgs, count);
			imap_cmd_no(cmd, "CANNOT", "Empty messages cannot be stored");
			return IMAP_CMD_DONE;
		}
		/* RFC 3516 §4.4: a mailbox that cannot keep binary content
		 * answers UNKNOWN-CTE. Bodies are served as IMAP strings,
		 * which cannot carry NUL; other 8-bit content is kept as is. */
		if (msgs[k].literal8 && memchr(msgs[k].data, '\0', msgs[k].len) != NULL) {
			append_release(msgs, count);
			imap_cmd_no(cmd, "UNKNOWN-CTE", "Messages containing NUL cannot be stored");
			return IMAP_CMD_DONE;
		}
	}
	struct imap_mailbox mb;
	enum imap_cmd_result result = IMAP_CMD_DONE;
	if (imap_mailbox_access(cmd, mailbox, 0, &mb)) {
		const char *group = imap_news_post_group(cmd, &mb);
		if (group != NULL)
			result = append_post(cmd, &mb, group, msgs, count);
		else if (!(mb.rights & STORE_RIGHT_INSERT))
			imap_mailbox_answer_noperm(cmd, STORE_RIGHT_INSERT, mb.rights);
		else
			result = append_store(cmd, &mb, msgs, count);
	}
	append_release(msgs, count);
	return result;
}
