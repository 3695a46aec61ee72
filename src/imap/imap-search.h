#ifndef PETREL_IMAP_SEARCH_H
#define PETREL_IMAP_SEARCH_H

/* SEARCH programs (RFC 9051 §6.4.4 and §9 "search-program", RFC 3501's
 * NEW/OLD/RECENT, RFC 5032 OLDER/YOUNGER, RFC 5182 "$").
 *
 * A program is a tree of nodes allocated from the command arena: AND (the
 * implicit conjunction of a key list or a parenthesised group), OR, NOT, and
 * leaves. It is built in three steps:
 *   imap_search_parse   arguments -> tree; syntax, charset and limits
 *                       (imap-search-parse.c: needs neither store nor
 *                       session, so it can be fuzzed alone)
 *   imap_search_bind    sequence sets (and "$") resolved against the view
 *   imap_search_run     evaluated over every message of the view
 *
 * Evaluation: flag, \Recent, sequence-number and UID keys come from the
 * session's view in memory; dates, sizes and keywords from the store row;
 * SENTBEFORE/SENTON/SENTSINCE from the Date: instant and zone of every
 * message, read in one query (store_msg_sortkeys); string keys are case-insensitive substrings of the decoded text (see
 * imap_search_fold for the folding rules). A string key whose needle has
 * at least three characters first asks the full-text index for candidate
 * UIDs; messages outside the candidates fail the key without being read,
 * and each candidate is verified by the same scan that runs without the
 * index, so both paths give identical answers as long as the index folds
 * at least the characters imap_search_fold folds (FTS5 trigram does).
 *
 * The environment variable PETREL_SEARCH_NO_INDEX (any non-empty value but
 * "0"), read once per process, turns the index off: every string key is
 * answered by a scan. Tests use it to compare both paths.
 *
 * Limits: at most limits.max_depth nested NOT/OR/parentheses (checked
 * before recursing, so a program of 10,000 nested NOTs is refused at once),
 * at most limits.max_nodes keys, and at most limits.max_bytes bytes of
 * search strings altogether. Not thread-safe; a program belongs to one
 * command. */

#include "imap/imap-seqset.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;
struct buf;
struct imap_arg;
struct imap_selected;

#define IMAP_SEARCH_DEFAULT_MAX_DEPTH 100
#define IMAP_SEARCH_DEFAULT_MAX_NODES 10000
#define IMAP_SEARCH_DEFAULT_MAX_BYTES (64 * 1024)

/* Keys of extensions a session may hide (imap-capability.h): refused
 * like unknown keys when set in imap_search_limits.hidden_keys. */
#define IMAP_SEARCH_KEYS_CONDSTORE (1u << 0)  /* MODSEQ (RFC 7162) */
#define IMAP_SEARCH_KEYS_WITHIN (1u << 1)     /* OLDER, YOUNGER (RFC 5032) */

struct imap_search_limits {
	unsigned max_depth;
	unsigned max_nodes;
	size_t max_bytes;
	unsigned hidden_keys;  /* IMAP_SEARCH_KEYS_* bits; 0 by default */
};

enum imap_search_key {
	IMAP_SEARCH_ALL,
	IMAP_SEARCH_AND,        /* children: every one matches */
	IMAP_SEARCH_OR,         /* children: two, either matches */
	IMAP_SEARCH_NOT,        /* children: one */
	IMAP_SEARCH_FLAG,       /* flag: all these STORE_FLAG_* bits set */
	IMAP_SEARCH_UNFLAG,     /* flag: none of these bits set */
	IMAP_SEARCH_RECENT,
	IMAP_SEARCH_KEYWORD,    /* str: keyword (compared ignoring case) */
	IMAP_SEARCH_UNKEYWORD,
	IMAP_SEARCH_SEQSET,     /* spec: message sequence numbers */
	IMAP_SEARCH_UIDSET,     /* spec: UIDs */
	IMAP_SEARCH_BEFORE,     /* day: internal date's calendar day */
	IMAP_SEARCH_ON,
	IMAP_SEARCH_SINCE,
	IMAP_SEARCH_SENTBEFORE, /* day: Date: header's calendar day */
	IMAP_SEARCH_SENTON,
	IMAP_SEARCH_SENTSINCE,
	IMAP_SEARCH_LARGER,     /* number: RFC822.SIZE */
	IMAP_SEARCH_SMALLER,
	IMAP_SEARCH_OLDER,      /* number: seconds before now (RFC 5032) */
	IMAP_SEARCH_YOUNGER,
	IMAP_SEARCH_MODSEQ,     /* number: MODSEQ at least this (RFC 7162) */
	IMAP_SEARCH_FROM,       /* str: folded UTF-8 needle */
	IMAP_SEARCH_TO,
	IMAP_SEARCH_CC,
	IMAP_SEARCH_BCC,
	IMAP_SEARCH_SUBJECT,
	IMAP_SEARCH_HEADER,     /* field + str */
	IMAP_SEARCH_BODY,
	IMAP_SEARCH_TEXT,
};

struct imap_search_node {
	enum imap_search_key key;
	struct imap_search_node *children; /* AND, OR, NOT */
	struct imap_search_node *next;     /* next sibling */
	uint32_t flag;
	uint64_t number;
	int64_t day;                       /* days since 1970-01-01 */
	const char *field;                 /* HEADER field name */
	const char *str;                   /* NUL-terminated, len bytes */
	size_t len;
	/* SEQSET/UIDSET: what the client wrote, and after bind the UIDs of
	 * the view it stands for. Heap ranges: imap_search_program_free. */
	struct imap_seqset_spec spec;
	struct imap_seqset uids;
	struct imap_search_node *next_set;
	/* Full-text candidates (ascending UIDs) when the index answered. */
	bool indexed;
	const uint32_t *candidates;
	size_t candidate_count;
};

struct imap_search_program {
	struct imap_search_node *root;
	unsigned node_count;
	size_t string_bytes;
	struct imap_search_node *sets;     /* SEQSET/UIDSET nodes */
	bool has_modseq;                   /* a MODSEQ key: answers carry
					    * the highest MODSEQ found */
};

enum imap_search_parse_result {
	IMAP_SEARCH_PARSE_OK,
	IMAP_SEARCH_PARSE_BAD,        /* syntax, limits, invalid strings */
	IMAP_SEARCH_PARSE_BADCHARSET, /* unknown CHARSET: NO [BADCHARSET] */
};

/* Fills limits_r with the defaults above. */
void imap_search_limits_default(struct imap_search_limits *limits_r);

/* search-program = ["CHARSET" SP charset SP] search-key *(SP search-key)
 * over args[0..count). Strings in another charset than UTF-8/US-ASCII are
 * converted with iconv; the result must be valid UTF-8 without NUL. Nodes
 * and strings come from a. On any result *prog_r is valid and must be
 * released with imap_search_program_free; *error_r is a static or arena
 * message safe to send. */
enum imap_search_parse_result
imap_search_parse(struct arena *a, const struct imap_arg *args, size_t count,
		  const struct imap_search_limits *limits,
		  struct imap_search_program *prog_r, const char **error_r);

/* Frees the heap parts of the program's sequence sets. */
void imap_search_program_free(struct imap_search_program *prog);

/* Resolves every sequence set of the program against sel (and its saved
 * "$" result). False with a message for BAD when a sequence number is
 * beyond the mailbox. */
bool imap_search_bind(struct imap_search_program *prog, const struct imap_selected *sel,
		      const char **error_r);

struct imap_search_stats {
	unsigned indexed_keys;   /* string keys answered through the index */
	unsigned scanned_keys;   /* string keys answered by scanning only */
	uint32_t messages_read;  /* messages whose store row was read */
};

/* Evaluates a bound program over sel. *matches_r receives the view indexes
 * (sequence number - 1) of the matching messages, ascending, from a.
 * use_index false forces a scan. Messages expunged meanwhile (still in the
 * view) never match. Store errors are returned as they are. */
enum store_error imap_search_run(struct imap_search_program *prog, struct store_user *u,
				 const struct imap_selected *sel, bool use_index,
				 struct arena *a, uint32_t **matches_r, size_t *count_r,
				 struct imap_search_stats *stats_r, const char **error_r);

/* False when PETREL_SEARCH_NO_INDEX is set (read once per process). */
bool imap_search_index_enabled(void);

/* Case folding for string keys, in place over len bytes, keeping the
 * length: ASCII A-Z; Latin-1 U+00C0-U+00DE (not U+00D7); Latin
 * Extended-A capitals (U+0100-U+017F, with U+0178 to U+00FF); Greek
 * U+0386-U+03AB capitals and final sigma to sigma; Cyrillic
 * U+0400-U+042F. Every other byte, every
 * character outside these ranges and every malformed sequence (a lead
 * byte takes all the continuation bytes after it, as SQLite reads UTF-8)
 * is left as it is. All mappings stay within two-byte UTF-8. */
void imap_search_fold(char *s, size_t len);

/* True when needle (already folded, valid UTF-8) occurs in hay after
 * folding, ending on a character boundary. scratch is reused between
 * calls (the caller frees it). */
bool imap_search_match(struct buf *scratch, const char *hay, size_t hay_len,
		       const char *needle, size_t needle_len);

/* date-text = date-day "-" date-month "-" date-year: days since
 * 1970-01-01 (negative before). False when it is not a valid date. */
bool imap_search_parse_date(const char *s, size_t len, int64_t *day_r);

/* The calendar day (days since 1970-01-01) of the instant t (Unix seconds)
 * in a zone zone_min minutes east of UTC: what BEFORE/ON/SINCE and
 * SENTBEFORE/SENTON/SENTSINCE compare with a date-text. */
int64_t imap_search_day(int64_t t, int zone_min);

/* A canonical text form of the tree, for tests and debug logs:
 * (AND (FROM "x") (NOT SEEN)) style. */
void imap_search_program_format(const struct imap_search_program *prog, struct buf *out);

#endif
