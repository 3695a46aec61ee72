#ifndef PETREL_LMTP_ADDRESS_H
#define PETREL_LMTP_ADDRESS_H

/* The arguments of MAIL FROM and RCPT TO (RFC 5321 §4.1.2): paths and
 * ESMTP parameters. Pure functions of the command text: no I/O, no user
 * lookups. */

#include <stdbool.h>
#include <stddef.h>

struct arena;

/* A parsed Path. Strings come from the arena passed in. */
struct lmtp_path {
	/* Mailbox as it appeared between the brackets without a source route
	 * ("alice+x@example.org", "\"a b\"@example.org"); "" for the null
	 * reverse-path "<>". What Return-Path and replies show. */
	const char *address;
	/* Local-part with quoting removed ("a b"); "" for "<>". */
	const char *local;
	/* Domain or address literal; NULL when the path has none ("<alice>",
	 * accepted for LMTP's local recipients and RFC 5321's <Postmaster>). */
	const char *domain;
};

/* One esmtp-param = esmtp-keyword ["=" esmtp-value]. */
struct lmtp_param {
	const char *keyword;   /* as sent; compare case-insensitively */
	const char *value;     /* NULL when there is no "=" */
};

#define LMTP_MAX_PARAMS 16

struct lmtp_address_args {
	struct lmtp_path path;
	struct lmtp_param params[LMTP_MAX_PARAMS];
	size_t param_count;
};

enum lmtp_address_result {
	LMTP_ADDRESS_OK,
	LMTP_ADDRESS_BAD_COMMAND, /* no "FROM:" / "TO:" or no "<...>" at all */
	LMTP_ADDRESS_BAD_PATH,    /* the path's contents are not a mailbox */
	LMTP_ADDRESS_BAD_PARAMS,  /* parameter syntax (or too many of them) */
};

/* Parses the text after "MAIL " (prefix "FROM:") or "RCPT " (prefix
 * "TO:"): prefix, optional spaces (common in the field though RFC 5321
 * has none), "<" path ">", then SP-separated parameters. allow_null
 * accepts "<>" (reverse-path only). */
enum lmtp_address_result lmtp_address_parse(struct arena *a, const char *args,
					    const char *prefix, bool allow_null,
					    struct lmtp_address_args *out_r);

/* Splits a local part at the first '+' into base and detail ("alice+lists"
 * -> "alice", "lists"); *detail_r is NULL when there is no '+' or nothing
 * after it. From a. */
void lmtp_address_split_detail(struct arena *a, const char *local, const char **base_r,
			       const char **detail_r);

#endif
