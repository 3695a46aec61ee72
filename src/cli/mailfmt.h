#ifndef PETREL_CLI_MAILFMT_H
#define PETREL_CLI_MAILFMT_H

/* The details of foreign mail formats that petrel import and export need:
 * Maildir++ file names and folder names, mbox From_ lines and the status
 * headers mail readers keep in mbox files. Pure functions, no I/O, so they
 * are tested on their own (tests/unit/test-import.c). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

/* ---- Maildir (https://cr.yp.to/proto/maildir.html, Maildir++) ---- */

/* What the info part ":2,FLAGS" of a Maildir file name says. */
struct mailfmt_maildir_flags {
	uint32_t flags;    /* STORE_FLAG_*: D \Draft, F \Flagged, R \Answered,
			    * S \Seen, T \Deleted */
	bool forwarded;    /* P ("passed"): the $Forwarded keyword */
	uint32_t letters;  /* bit n: keyword letter 'a' + n (Dovecot's
			    * dovecot-keywords file names the keyword) */
};

/* Parses the info of a file name (with or without a directory part).
 * Returns false when the name has no ":2," info (a message in new/, or
 * one never seen by a reader): *flags_r is then all zero. Unknown flag
 * letters are ignored. */
bool mailfmt_maildir_info_parse(const char *filename,
				struct mailfmt_maildir_flags *flags_r);

/* Length of the unique part of a Maildir file name (before ':'). */
size_t mailfmt_maildir_base_len(const char *filename);

/* Appends ":2," and the flag letters in ASCII order (as the Maildir
 * specification requires) to out. */
void mailfmt_maildir_info_format(const struct mailfmt_maildir_flags *flags,
				 struct buf *out);

/* Maildir++ folder directory name (".Sub.Folder", modified UTF-7, '.'
 * separating levels) to a store name ("Sub/Folder", UTF-8). "&AC4-" in a
 * level stands for a '.' inside the name (what mailfmt_maildir_folder_encode
 * writes; strict modified UTF-7 has no other way to say it). Returns false
 * for a name that is not a folder (no leading '.', an empty level, invalid
 * modified UTF-7), leaving out unspecified. */
bool mailfmt_maildir_folder_decode(const char *dirname, struct buf *out);

/* The reverse: "Sub/Folder" -> ".Sub.Folder". False for names that cannot
 * be encoded (invalid UTF-8). */
bool mailfmt_maildir_folder_encode(const char *name, struct buf *out);

/* One line of Dovecot's dovecot-keywords file, "N keyword" (without the
 * line ending): N is the keyword letter 'a' + N (0-25). *name_r points
 * into line. False for anything else. */
bool mailfmt_dovecot_keywords_line(const char *line, int *index_r, const char **name_r);

/* ---- mbox ---- */

/* True if the line (without its line ending) is an mbox message
 * separator: it starts with "From ". */
bool mailfmt_mbox_is_from_line(const char *line, size_t len);

/* The date of a From_ line, "From SENDER DATE" where DATE is asctime(3)
 * style, "Wed Nov 25 19:24:41 2026", optionally without seconds and with a
 * numeric zone ("+0100") after the time or after the year. A date without
 * a zone is taken as UTC (what Python's mailbox module writes; mutt and
 * procmail write local time, which is then off by the local offset).
 * False when no date can be found. */
bool mailfmt_mbox_from_date(const char *line, size_t len, int64_t *time_r);

/* mboxrd (and mboxo) escape a body line "From ..." as ">From ...";
 * mboxrd also adds a '>' to ">From ...", ">>From ...", so that removing one
 * '>' from every line matching ^>+From  restores the message exactly. True
 * when line needs that (the caller then drops its first byte). */
bool mailfmt_mbox_is_escaped_from(const char *line, size_t len);

/* Flags from a "Status:" value (R \Seen; O only means "not new") or an
 * "X-Status:" value (A \Answered, F \Flagged, D \Deleted, T \Draft), as
 * mutt, Thunderbird, Pine and Dovecot's mbox driver write them. */
uint32_t mailfmt_mbox_status_flags(const char *value, size_t len);
uint32_t mailfmt_mbox_xstatus_flags(const char *value, size_t len);

/* The header fields mail readers keep in an mbox for their own state
 * (Status, X-Status, X-Keywords, X-UID, X-IMAP, X-IMAPbase), which import
 * turns into flags and does not store. name without the colon. */
bool mailfmt_mbox_is_state_header(const char *name, size_t len);

/* RFC 9051 flag-keyword = atom, without a leading backslash: what the store
 * accepts as a keyword. */
bool mailfmt_keyword_valid(const char *kw, size_t len);

#endif
