#ifndef PETREL_IMAP_PARSER_H
#define PETREL_IMAP_PARSER_H

/* The IMAP command tokenizer: an incremental, resumable lexer that turns the
 * bytes a client sends into one command at a time (tag, name, argument tree).
 * It never touches the socket: the caller feeds whatever bytes have arrived
 * and drains the number of bytes the parser says it consumed. Everything the
 * parser keeps is copied into its own memory, so the caller may discard the
 * consumed bytes at once. One parser per connection; not thread-safe.
 *
 * Lexical rules (RFC 9051 section 9, with RFC 7888 and RFC 3516):
 *   command    = tag SP name [SP arg *(SP arg)] CRLF
 *                ("UID" SP name is folded into name + the uid flag)
 *   tag        = 1*<any ASTRING-CHAR except "+">   (7-bit, no CTL/SP,
 *                no ( ) { % * " \ +), at most limits.tag_length bytes
 *   name       = 1*ATOM-CHAR, upper-cased, at most IMAP_PARSER_NAME_MAX
 *   arg        = atom / quoted / literal / literal8 / "(" [arg *(SP arg)] ")"
 *   atom       = liberal: a run of bytes that are not SP, CTL, "(", ")",
 *                DQUOTE or "{" (so \Seen, $Forwarded, 1:3,5,*, $, *, %,
 *                foo/%, "]" and 8-bit bytes are atoms); "[" opens a section
 *                that lasts up to the matching "]" and may hold SP, "(", ")"
 *                and quoted strings, all kept verbatim in the atom text:
 *                BODY[HEADER.FIELDS (From To)]<0.100> is one atom. An
 *                unclosed "[" at end of line, a "[" inside a section, a
 *                literal inside a section, "{" or DQUOTE inside an atom and
 *                "(" right after an atom are errors. A "]" without "[" is
 *                kept (ASTRING-CHAR includes resp-specials: "foo]" is a
 *                valid mailbox astring). ATOM-CHAR strictness (no "%",
 *                "*", "]", 8-bit) is left to the typed readers.
 *                An atom equal to "NIL" (any case) has type IMAP_ARG_NIL.
 *                Typed readers (imap_arg_get_*) check atoms strictly.
 *   quoted     = DQUOTE *QUOTED-CHAR DQUOTE, unescaped; "\" may only quote
 *                DQUOTE or "\"; 8-bit bytes are kept (UTF-8 in IMAP4rev2);
 *                NUL, CR and LF are errors.
 *   literal    = "{" number64 ["+"] "}" CRLF *CHAR8   (no NUL in the data)
 *   literal8   = "~{" number64 ["+"] "}" CRLF *OCTET
 * Separators: one or more SP between arguments; SP directly after "(" or
 * before ")" or before CRLF is tolerated. An atom, string or literal must be
 * followed by SP, ")" or the end of the line.
 * Line ends: CRLF, and a lone LF is accepted too (telnet users and some
 * scripts send it; nothing else can be meant). A CR not followed by LF is an
 * error.
 *
 * Literals: before a literal's bytes are accepted the parser decides where
 * they go (see imap_literal_callback_t). A synchronising literal that is
 * allowed makes feed return IMAP_PARSE_CONTINUE: the caller sends
 * "+ Ready" (or similar) and keeps feeding. Non-synchronising literals
 * larger than limits.nonsync_literal_size (4096 for LITERAL-, RFC 7888
 * section 5) are rejected with TOOBIG. A rejected non-synchronising literal
 * up to limits.discard_size bytes is read and thrown away (never buffered)
 * so the stream stays in sync and the command gets an ERROR; a larger one
 * (or one whose size does not fit in 63 bits) gives IMAP_PARSE_FATAL: the
 * caller answers "* BYE [TOOBIG] ..." and closes. A synchronising literal
 * of any size, even {99999999999999999999}, that is refused is only an
 * ERROR: the client waits for the continuation and sends nothing more.
 *
 * Errors are reported at the byte where they are found (a 1 MB line gives
 * its ERROR as soon as the line limit is passed); the rest of the bad line
 * is dropped by the following feed calls without being buffered.
 *
 * Memory: per command, at most about twice limits.line_length for tokens,
 * limits.literal_size for in-memory literals and the argument array; an
 * idle parser keeps a few KiB.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMAP_PARSER_NAME_MAX 64

enum imap_parse_result {
	/* All bytes consumed; feed more when they arrive. */
	IMAP_PARSE_NEED_MORE = 0,
	/* A complete command: imap_parser_get_command(). */
	IMAP_PARSE_COMMAND,
	/* imap_parser_read_line() only: a complete raw line. */
	IMAP_PARSE_LINE,
	/* A synchronising literal was accepted: send a continuation request
	 * ("+ ...") and keep feeding; the command is not complete yet. */
	IMAP_PARSE_CONTINUE,
	/* Syntax error or limit exceeded: imap_parser_get_error(). Answer
	 * "<tag> BAD ..." (or "* BAD ..." without a tag; NO when the code is
	 * set and the command is known, e.g. APPEND + TOOBIG). The parser
	 * discards the rest of the bad line by itself (including the bytes of
	 * a non-synchronising literal announced on it) as more is fed, then
	 * parses the next command normally. */
	IMAP_PARSE_ERROR,
	/* The stream cannot be resynchronised: imap_parser_get_error() has the
	 * message and code; send "* BYE" and close. Sticky until reset. */
	IMAP_PARSE_FATAL,
};

enum imap_arg_type {
	IMAP_ARG_ATOM,
	IMAP_ARG_NIL,          /* the atom NIL (any case); text is kept */
	IMAP_ARG_STRING,       /* quoted string, unescaped */
	IMAP_ARG_LITERAL,      /* literal or literal8 held in memory */
	IMAP_ARG_LITERAL_FILE, /* literal or literal8 written to a file */
	IMAP_ARG_LIST,         /* parenthesised list */
};

struct imap_arg {
	enum imap_arg_type type;
	/* LITERAL / LITERAL_FILE: sent as ~{n} (may then contain NUL). */
	bool literal8;
	/* LITERAL / LITERAL_FILE: sent as {n+} / ~{n+}. */
	bool nonsync;
	/* ATOM, NIL, STRING, LITERAL: the bytes, NUL-terminated for
	 * convenience (len does not count the NUL). Only a literal8 may
	 * contain NUL bytes. */
	const char *data;
	size_t len;
	/* LIST: the elements. */
	const struct imap_arg *list;
	size_t list_count;
	/* LITERAL_FILE: the descriptor the literal callback supplied (not
	 * owned by the parser, never closed by it) and the number of bytes
	 * written to it from its position at the time. -1 otherwise. */
	int fd;
	uint64_t size;
};

/* A complete command. All pointers are owned by the parser and valid until
 * the next imap_parser_feed()/imap_parser_read_line()/imap_parser_reset()
 * or imap_parser_destroy(). */
struct imap_command {
	const char *tag;
	const char *name;      /* upper-cased; "UID FETCH" gives "FETCH" */
	bool uid;              /* the command had the UID prefix */
	const struct imap_arg *args;
	size_t args_count;
};

/* What went wrong (after IMAP_PARSE_ERROR or IMAP_PARSE_FATAL). Same
 * lifetime as struct imap_command. */
struct imap_parser_error {
	const char *tag;       /* NULL if the tag was not (validly) read */
	const char *name;      /* command name if read so far, else NULL */
	bool uid;
	const char *message;   /* human-readable, safe to send (no CR/LF) */
	const char *code;      /* response code without brackets ("TOOBIG",
	                          "SERVERBUG", ...) or NULL */
};

struct imap_parser_limits {
	/* Bytes of one command outside literal data (all its lines). */
	size_t line_length;
	/* In-memory literal bytes (IMAP_LITERAL_MEMORY) in one command, all
	 * its literals together; a literal that would go beyond is refused
	 * with TOOBIG. File literals do not count. */
	uint64_t literal_size;
	/* Largest non-synchronising literal accepted: 4096 for LITERAL-,
	 * larger (e.g. literal_size or APPENDLIMIT) for LITERAL+. */
	uint64_t nonsync_literal_size;
	/* Largest rejected non-synchronising literal that is still read and
	 * discarded; anything larger is IMAP_PARSE_FATAL. */
	uint64_t discard_size;
	/* Open parentheses at once. */
	unsigned nesting_depth;
	/* Arguments in one command, counting every element of every list. */
	unsigned arguments;
	/* Bytes of the tag. */
	size_t tag_length;
};

#define IMAP_PARSER_DEFAULT_LINE_LENGTH (64 * 1024)
#define IMAP_PARSER_DEFAULT_LITERAL_SIZE (1024 * 1024)
#define IMAP_PARSER_DEFAULT_NONSYNC_LITERAL_SIZE 4096
#define IMAP_PARSER_DEFAULT_DISCARD_SIZE (1024ULL * 1024 * 1024)
#define IMAP_PARSER_DEFAULT_NESTING_DEPTH 100
#define IMAP_PARSER_DEFAULT_ARGUMENTS 10000
#define IMAP_PARSER_DEFAULT_TAG_LENGTH 128

/* Fills limits_r with the defaults above. */
void imap_parser_limits_default(struct imap_parser_limits *limits_r);

/* The literal policy hook. */
enum imap_literal_dest {
	IMAP_LITERAL_MEMORY,   /* keep the bytes in the parser's arena */
	IMAP_LITERAL_FILE,     /* write the bytes to answer->fd */
	IMAP_LITERAL_REJECT,   /* refuse: the command gets an ERROR */
};

struct imap_literal_request {
	const char *tag;
	const char *name;      /* upper-cased command name (after UID) */
	bool uid;
	size_t arg_index;      /* index among the top-level arguments */
	unsigned depth;        /* parentheses open around the literal */
	uint64_t size;
	bool sync;             /* {n}: a continuation will be sent */
	bool literal8;         /* ~{n} */
};

struct imap_literal_answer {
	/* IMAP_LITERAL_FILE: an open descriptor to write the literal to,
	 * from its current position. The callback's owner keeps ownership:
	 * it closes the descriptor after the command (or its error) has been
	 * handled; the parser only calls write(2) on it. */
	int fd;
	/* IMAP_LITERAL_REJECT: response code (e.g. "TOOBIG") or NULL, and a
	 * message (NULL gives a default). Copied by the parser. */
	const char *code;
	const char *message;
};

/* Called once per literal, after its header ({n}, {n+}, ~{n}) and the CRLF
 * have been read and the size passed the parser's own checks (non-sync
 * limit). answer_r is zeroed with fd = -1 before the call. An
 * IMAP_LITERAL_MEMORY answer is still refused (TOOBIG) if the command's
 * in-memory literals would exceed limits.literal_size. Without a callback:
 * memory within limits.literal_size, else REJECT with TOOBIG. The callback
 * must not call back into the parser. */
typedef enum imap_literal_dest
imap_literal_callback_t(void *context, const struct imap_literal_request *req,
			struct imap_literal_answer *answer_r);

struct imap_parser;

/* limits may be NULL for the defaults; the struct is copied. */
struct imap_parser *imap_parser_new(const struct imap_parser_limits *limits);
/* Frees everything and sets *p to NULL. Never closes literal fds. */
void imap_parser_destroy(struct imap_parser **p);
/* New limits apply from the next command (e.g. larger after login). */
void imap_parser_set_limits(struct imap_parser *p,
			    const struct imap_parser_limits *limits);
/* callback NULL restores the default policy. */
void imap_parser_set_literal_callback(struct imap_parser *p,
				      imap_literal_callback_t *callback,
				      void *context);

/* Feeds len bytes. *consumed_r is set to how many bytes were used (always
 * all of them for NEED_MORE; possibly fewer for the other results, in which
 * case the rest must be fed again afterwards, e.g. pipelined commands).
 * Returns at the first event; the result does not depend on how the input
 * was split across calls. A previous command's results are released at the
 * start of the call. After FATAL every call returns FATAL and consumes
 * nothing until imap_parser_reset(). */
enum imap_parse_result
imap_parser_feed(struct imap_parser *p, const unsigned char *data, size_t len,
		 size_t *consumed_r);

/* Raw-line mode for AUTHENTICATE responses and IDLE's "DONE": reads one
 * line ending in CRLF (or LF) and returns IMAP_PARSE_LINE with *line_r and
 * *line_len_r set to its bytes without the line end (NUL-terminated; owned
 * by the parser with the same lifetime as a command). A line longer than
 * limits.line_length gives IMAP_PARSE_ERROR (no tag) once; the rest of it is
 * skipped without buffering by the next call (of either function). Must
 * only be called between commands (not while feed is mid-command). */
enum imap_parse_result
imap_parser_read_line(struct imap_parser *p, const unsigned char *data,
		      size_t len, size_t *consumed_r,
		      const char **line_r, size_t *line_len_r);

/* After IMAP_PARSE_COMMAND: the command. NULL at any other time. */
const struct imap_command *imap_parser_get_command(const struct imap_parser *p);
/* After IMAP_PARSE_ERROR or IMAP_PARSE_FATAL: fills error_r. */
void imap_parser_get_error(const struct imap_parser *p,
			   struct imap_parser_error *error_r);
/* True when no part of a command (or of a skipped bad line) is pending,
 * i.e. the next byte starts a new command. */
bool imap_parser_is_idle(const struct imap_parser *p);
/* Bytes of the literal being read (or skipped) still to come; 0 outside
 * literal data. */
uint64_t imap_parser_literal_remaining(const struct imap_parser *p);
/* Forgets the current command, any partial input, skip state and FATAL:
 * the next byte fed starts a new command (e.g. after STARTTLS). */
void imap_parser_reset(struct imap_parser *p);

/* Typed readers for command handlers, named after the ABNF rules. Each
 * returns false (leaving the outputs untouched) when arg is NULL or does not
 * match the rule. Returned pointers share the command's lifetime. */

/* atom = 1*ATOM-CHAR (NIL counts: it is an atom too). */
bool imap_arg_get_atom(const struct imap_arg *arg, const char **str_r);
/* True for an atom/NIL equal to str ignoring ASCII case. */
bool imap_arg_atom_equals(const struct imap_arg *arg, const char *str);
/* string = quoted / literal (in memory, not literal8). */
bool imap_arg_get_string(const struct imap_arg *arg, const char **data_r,
			 size_t *len_r);
/* astring = 1*ASTRING-CHAR / string */
bool imap_arg_get_astring(const struct imap_arg *arg, const char **data_r,
			  size_t *len_r);
/* nstring = string / nil: *data_r is NULL and *len_r 0 for NIL. */
bool imap_arg_get_nstring(const struct imap_arg *arg, const char **data_r,
			  size_t *len_r);
/* list-mailbox = 1*list-char / string */
bool imap_arg_get_list_mailbox(const struct imap_arg *arg,
			       const char **data_r, size_t *len_r);
/* A parenthesised list (possibly empty). */
bool imap_arg_get_list(const struct imap_arg *arg,
		       const struct imap_arg **list_r, size_t *count_r);
/* literal / literal8 kept in memory (any literal: check arg->literal8). */
bool imap_arg_get_literal(const struct imap_arg *arg, const char **data_r,
			  size_t *len_r);
/* literal / literal8 written to a file by the literal callback. */
bool imap_arg_get_literal_file(const struct imap_arg *arg, int *fd_r,
			       uint64_t *size_r);
/* number = 1*DIGIT fitting in 32 bits; number64 = 1*DIGIT up to 2^63-1;
 * nz-number = digit-nz *DIGIT fitting in 32 bits. Atoms only. */
bool imap_arg_get_number(const struct imap_arg *arg, uint32_t *num_r);
bool imap_arg_get_number64(const struct imap_arg *arg, uint64_t *num_r);
bool imap_arg_get_nz_number(const struct imap_arg *arg, uint32_t *num_r);
/* "ATOM", "NIL", "STRING", "LITERAL", "LITERAL_FILE" or "LIST". */
const char *imap_arg_type_name(enum imap_arg_type type);

#endif
