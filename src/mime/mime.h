#ifndef PETREL_MIME_H
#define PETREL_MIME_H

/* RFC 5322 / MIME message parsing with byte offsets, and everything FETCH
 * needs computed from it: ENVELOPE, BODY, BODYSTRUCTURE (RFC 3501 / RFC 9051
 * 7.5.2), section ranges for BODY[section] (6.4.5), CTE decoding for
 * BINARY[] (RFC 3516), RFC 2047 / RFC 2231 decoding and a compact
 * serialisation of the part tree.
 *
 * The message is one contiguous byte buffer (mmapped blob or memory). The
 * parser never fails: broken MIME yields the most useful tree it can, and
 * limits turn the rest of the message into opaque leaves. All functions are
 * reentrant; nothing keeps global state, so any thread may call them.
 *
 * Ownership: every struct and string reachable from a struct mime_part is
 * allocated from the arena passed to mime_parse() / mime_tree_deserialize()
 * and lives until that arena is reset or destroyed. The tree does not point
 * into the message buffer: offsets do. Output is appended to caller-owned
 * struct buf. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;
struct buf;

/* ---- Part tree ----------------------------------------------------------- */

enum mime_part_kind {
	MIME_PART_LEAF = 0,	/* any non-container part, incl. opaque ones */
	MIME_PART_MULTIPART,	/* children: the body parts, in order (>= 1) */
	MIME_PART_MESSAGE,	/* message/rfc822 or message/global: one child,
				   the root part of the embedded message */
};

/* The part's header had no blank line before its body (or ran to the end of
 * its range): HEADER fetches then carry no terminating blank line. */
#define MIME_PART_FLAG_NO_BLANK_LINE	0x01u
/* A limit (depth or part count) or a broken container made this part an
 * opaque leaf: its declared type is still in type/subtype, but it has no
 * children and BODYSTRUCTURE describes it as TEXT/PLAIN. */
#define MIME_PART_FLAG_OPAQUE		0x02u
/* The header contained 8-bit bytes. */
#define MIME_PART_FLAG_HEADER_8BIT	0x04u
/* The multipart had no closing boundary (data ended or an outer boundary
 * came first). */
#define MIME_PART_FLAG_UNCLOSED		0x08u

/* A Content-Type or Content-Disposition parameter (RFC 2045 5.1, RFC 2183).
 * RFC 2231 continuations (name*0, name*1, ...) are already joined. */
struct mime_param {
	const char *name;	/* attribute without any '*' suffix, case kept */
	/* The value as carried in the header: quotes and backslash escapes
	 * removed; for an RFC 2231 extended value (extended == true) it is
	 * the joined "charset'language'%XX" form. BODYSTRUCTURE writes
	 * name (plus "*" when extended) and raw_value, which keeps the
	 * output 7-bit and lossless. */
	const char *raw_value;
	/* The value decoded to UTF-8 (RFC 2231 charset applied; when the
	 * charset is unknown, the percent-decoded bytes). For search and
	 * filenames. */
	const char *value;
	bool extended;
};

struct mime_part {
	struct mime_part *parent;
	struct mime_part *next;		/* next sibling */
	struct mime_part *children;	/* first child */
	unsigned int child_count;
	enum mime_part_kind kind;
	unsigned int flags;		/* MIME_PART_FLAG_* */
	unsigned int depth;		/* 0 for the message root */

	/* Byte offsets into the message: [header_start, header_end) is the
	 * header including its terminating blank line; [body_start, body_end)
	 * is the body. header_end == body_start always. For a multipart
	 * child the body ends before the line break that precedes the next
	 * boundary (RFC 2046 5.1.1: that CRLF belongs to the boundary). For
	 * the root part of an embedded message, header_start is the body
	 * start of the enclosing message/rfc822 part. */
	uint64_t header_start, header_end;
	uint64_t body_start, body_end;
	/* Number of LF bytes in the body ("size in text lines"). */
	uint64_t body_lines;

	/* MIME header information; NULL when the field is absent. type and
	 * subtype are lower-cased; NULL when there was no valid
	 * Content-Type (the effective type is then the default:
	 * text/plain, or message/rfc822 inside multipart/digest). */
	const char *type, *subtype;
	struct mime_param *params;
	unsigned int param_count;
	const char *content_id;		/* raw, unfolded, trimmed */
	const char *description;	/* raw, unfolded, trimmed */
	const char *encoding;		/* lower-cased token; NULL = 7bit */
	const char *md5;		/* raw, unfolded, trimmed */
	const char *disposition;	/* lower-cased disposition type */
	struct mime_param *disp_params;
	unsigned int disp_param_count;
	const char **languages;		/* Content-Language tags */
	unsigned int language_count;
	const char *location;		/* Content-Location, unfolded */
};

struct mime_limits {
	unsigned int max_depth;	/* nesting of multipart/message parts */
	unsigned int max_parts;	/* total parts in the tree */
	/* body_lines left 0: for a caller that needs no BODYSTRUCTURE
	 * (counting is a pass over the whole body). */
	bool no_line_counts;
};

#define MIME_DEFAULT_MAX_DEPTH 32
#define MIME_DEFAULT_MAX_PARTS 10000

/* Parses msg[0..len). lim may be NULL for the defaults. Never fails and
 * never returns NULL; the root describes the whole message (header_start 0,
 * body_end len). Allocations come from a. */
struct mime_part *mime_parse(struct arena *a, const unsigned char *msg,
			     size_t len, const struct mime_limits *lim);

/* The root that mime_parse gives for header[0..header_len) alone, where
 * that is a message's whole header ending in its blank line (as
 * mime_digest keeps it): enough for the message's own HEADER,
 * HEADER.FIELDS[.NOT] and (empty) TEXT sections of mime_section_fetch,
 * without parsing a field. Its content fields are left unset. */
struct mime_part *mime_header_root(struct arena *a, size_t header_len);

/* Effective media type of a part, lower-case, never NULL: the declared type
 * or the RFC 2045 5.2 / RFC 2046 5.1.5 default. */
const char *mime_part_type(const struct mime_part *part);
const char *mime_part_subtype(const struct mime_part *part);
/* The parameter named name (ASCII case-insensitive), or NULL. */
const struct mime_param *mime_part_param(const struct mime_part *part,
					 const char *name);
/* Total number of parts in the tree below and including part. */
unsigned int mime_part_count(const struct mime_part *part);

/* ---- IMAP structures (RFC 3501 / RFC 9051 7.5.2) ---------------------- */

/* Appends the ENVELOPE of the message whose root part is msg_root (the
 * message root or the child of a MESSAGE part). Header values are carried
 * raw (not RFC 2047-decoded), unfolded. */
void mime_envelope_write(struct buf *out, const unsigned char *msg,
			 size_t msg_len, const struct mime_part *msg_root);

/* Appends BODY (extended == false) or BODYSTRUCTURE (extended == true) for
 * the tree rooted at part. msg is needed for embedded envelopes. */
void mime_bodystructure_write(struct buf *out, const unsigned char *msg,
			      size_t msg_len, const struct mime_part *part,
			      bool extended);

/* ---- Sections (RFC 9051 6.4.5) ---------------------------------------- */

enum mime_section_text {
	MIME_SECTION_ALL = 0,		/* BODY[] or BODY[1.2] */
	MIME_SECTION_HEADER,
	MIME_SECTION_HEADER_FIELDS,
	MIME_SECTION_HEADER_FIELDS_NOT,
	MIME_SECTION_TEXT,
	MIME_SECTION_MIME,
};

struct mime_section {
	const unsigned int *path;	/* part numbers, each >= 1 */
	unsigned int path_len;
	enum mime_section_text text;
	const char *const *fields;	/* HEADER.FIELDS[.NOT] names */
	unsigned int field_count;
};

struct mime_section_data {
	/* The part the numeric path addressed (for BINARY: its encoding);
	 * the message root when the path is empty. */
	const struct mime_part *part;
	/* When filtered is false the answer is msg[start, end). When true
	 * (HEADER.FIELDS / .NOT) the answer was appended to the caller's
	 * buffer and start/end are 0. */
	uint64_t start, end;
	bool filtered;
};

/* Resolves sec against the tree. Returns false when the section does not
 * exist (part number beyond the tree, HEADER/TEXT of a part that is not a
 * message, MIME without a part number, offsets beyond msg_len from a corrupt
 * tree); a FETCH then answers the empty string "" — RFC 9051 6.4.5 defines
 * the section as "the text of a particular body section", a string, and a
 * section that does not exist has no text. filtered_out receives the bytes
 * of HEADER.FIELDS[.NOT]: the matching fields verbatim (with their folding)
 * in header order, followed by the blank line (6.4.5: always, except for a
 * message with neither body nor blank line). HEADER of a header that lacked
 * its blank line but has a body is also built there, with the blank line
 * added. filtered_out may be NULL only when sec->text is ALL, TEXT or MIME. */
bool mime_section_fetch(const struct mime_part *root, const unsigned char *msg,
			size_t msg_len, const struct mime_section *sec,
			struct buf *filtered_out,
			struct mime_section_data *data_r);

/* ---- Decoding --------------------------------------------------------- */

enum mime_decode_result {
	MIME_DECODE_OK = 0,
	MIME_DECODE_UNKNOWN_CTE,	/* RFC 3516: NO [UNKNOWN-CTE] */
	MIME_DECODE_INVALID,		/* the data is not valid for its CTE */
};

/* Base64 body (RFC 2045 6.8): line breaks and whitespace are skipped;
 * returns false on any other character outside the alphabet, data after
 * the padding, or a truncated final quantum. The bytes decoded so far are
 * appended either way. */
bool mime_base64_decode(struct buf *out, const unsigned char *in, size_t len);
/* Quoted-printable body (RFC 2045 6.7): soft line breaks removed, trailing
 * whitespace on a line dropped. Returns false when an '=' is followed by
 * something other than two hex digits or a line break (the bytes are then
 * copied literally, which is the rule 6.7 (1) recommends). */
bool mime_qp_decode(struct buf *out, const unsigned char *in, size_t len);
/* Appends the body of part with its Content-Transfer-Encoding removed
 * (7bit, 8bit, binary: copied; base64; quoted-printable). */
enum mime_decode_result mime_part_decode(const struct mime_part *part,
					 const unsigned char *msg,
					 size_t msg_len, struct buf *out);

/* Appends the text of a text leaf as UTF-8 for search indexing: CTE
 * removed (invalid encodings decoded as far as possible), then converted
 * from the charset parameter (default us-ascii; an unknown charset is
 * treated as UTF-8 with invalid bytes replaced by U+FFFD). Returns false,
 * appending nothing, for parts that are not text leaves or whose CTE is
 * unknown. */
bool mime_part_text_utf8(const struct mime_part *part, const unsigned char *msg,
			 size_t msg_len, struct buf *out);

/* Converts in[0..len) from charset to UTF-8. Invalid sequences become
 * U+FFFD. Returns false (appending nothing) when the charset is unknown. */
bool mime_charset_to_utf8(struct buf *out, const char *charset,
			  const unsigned char *in, size_t len);
/* Appends an unstructured header value (RFC 2047) decoded to UTF-8: folding
 * removed, B and Q encoded-words decoded and converted, whitespace between
 * adjacent encoded-words dropped (6.2). Encoded-words with an unknown
 * charset or invalid encoding are left as they are. */
void mime_header_decode_utf8(struct buf *out, const unsigned char *value,
			     size_t len);

/* ---- Serialisation ---------------------------------------------------- */

/* Appends a compact binary form of the whole tree (offsets, sizes, lines,
 * all MIME header information) that mime_tree_deserialize() reads back. */
void mime_tree_serialize(struct buf *out, const struct mime_part *root);
/* Rebuilds a tree in a. Returns NULL with *error_r set (static string) on
 * corrupt or truncated input; never reads outside data[0..len). */
struct mime_part *mime_tree_deserialize(struct arena *a,
					const unsigned char *data, size_t len,
					const char **error_r);

#endif
