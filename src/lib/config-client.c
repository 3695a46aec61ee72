#include "lib/config-client.h"
#include "lib/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const config_cap_names[CONFIG_CAP_COUNT] = {
	[CONFIG_CAP_IMAP4REV2] = "IMAP4rev2",
	[CONFIG_CAP_CONDSTORE] = "CONDSTORE",
	[CONFIG_CAP_ENABLE] = "ENABLE",
	[CONFIG_CAP_ESEARCH] = "ESEARCH",
	[CONFIG_CAP_ID] = "ID",
	[CONFIG_CAP_IDLE] = "IDLE",
	[CONFIG_CAP_MOVE] = "MOVE",
	[CONFIG_CAP_NAMESPACE] = "NAMESPACE",
	[CONFIG_CAP_QRESYNC] = "QRESYNC",
	[CONFIG_CAP_QUOTA] = "QUOTA",
	[CONFIG_CAP_SEARCHRES] = "SEARCHRES",
	[CONFIG_CAP_SORT] = "SORT",
	[CONFIG_CAP_THREAD_ORDEREDSUBJECT] = "THREAD=ORDEREDSUBJECT",
	[CONFIG_CAP_THREAD_REFERENCES] = "THREAD=REFERENCES",
	[CONFIG_CAP_UNSELECT] = "UNSELECT",
	[CONFIG_CAP_WITHIN] = "WITHIN",
};

static const char *const config_workaround_names[CONFIG_WORKAROUND_COUNT] = {
	[CONFIG_WORKAROUND_UPDATES_ON_POLL_ONLY] = "updates_on_poll_only",
	[CONFIG_WORKAROUND_NO_UPDATES_DURING_FETCH] = "no_updates_during_fetch",
};

/* Longest pattern or address a condition may hold. */
#define CONFIG_CLIENT_VALUE_MAX 128

const char *config_cap_name(enum config_cap cap)
{
	return cap < CONFIG_CAP_COUNT ? config_cap_names[cap] : "?";
}

const char *config_workaround_name(enum config_workaround w)
{
	return w < CONFIG_WORKAROUND_COUNT ? config_workaround_names[w] : "?";
}

bool config_client_section(const char *section)
{
	return strcmp(section, "capabilities") == 0 || strcmp(section, "workarounds") == 0;
}

/* --- Matching ------------------------------------------------------------ */

/* '*' matches any run of characters; everything else one character,
 * ignoring ASCII case. Iterative, with one backtracking point: linear in
 * practice and never recursive. */
static bool config_pattern_match(const char *pattern, const char *text)
{
	const char *star = NULL, *resume = NULL;
	while (*text != '\0') {
		if (*pattern == '*') {
			star = pattern++;
			resume = text;
		} else if (*pattern != '\0' &&
			   strncasecmp(pattern, text, 1) == 0) {
			pattern++;
			text++;
		} else if (star != NULL) {
			pattern = star + 1;
			text = ++resume;
		} else {
			return false;
		}
	}
	while (*pattern == '*')
		pattern++;
	return *pattern == '\0';
}

static bool config_condition_holds(const char *pattern, const char *value)
{
	return pattern == NULL || (value != NULL && config_pattern_match(pattern, value));
}

bool config_client_match(const struct config_client_match *m, const char *address,
			 const char *user, const char *id_name, const char *id_version)
{
	if (m->has_address && (address == NULL || !cidr_match(&m->address, address)))
		return false;
	return config_condition_holds(m->user, user) &&
	       config_condition_holds(m->id_name, id_name) &&
	       config_condition_holds(m->id_version, id_version);
}

/* --- Reading --------------------------------------------------------------- */

struct config_client_reader {
	const char *p;            /* next byte of the value */
	bool allow_id;            /* id.* conditions allowed */
	char *reason;
	size_t reason_size;
};

static void config_client_match_free(struct config_client_match *m)
{
	free(m->user);
	free(m->id_name);
	free(m->id_version);
	memset(m, 0, sizeof(*m));
}

void config_client_rules_free(struct config_client_rules *rules)
{
	for (size_t i = 0; i < rules->count; i++)
		config_client_match_free(&rules->items[i].match);
	free(rules->items);
	rules->items = NULL;
	rules->count = 0;
}

static void config_client_skip_blanks(struct config_client_reader *r)
{
	while (*r->p == ' ' || *r->p == '\t')
		r->p++;
}

/* VALUE: up to a blank or ',', or "..." (blanks and ',' allowed inside). */
static bool config_client_read_value(struct config_client_reader *r, const char *field,
				     char *value, size_t size)
{
	size_t len = 0;
	bool quoted = *r->p == '"';
	if (quoted)
		r->p++;
	while (*r->p != '\0' && (quoted ? *r->p != '"'
				 : *r->p != ' ' && *r->p != '\t' && *r->p != ',')) {
		if (len + 1 >= size) {
			snprintf(r->reason, r->reason_size, "%s value longer than %zu bytes", field,
				 size - 1);
			return false;
		}
		value[len++] = *r->p++;
	}
	if (quoted && *r->p++ != '"') {
		snprintf(r->reason, r->reason_size, "%s value: missing closing '\"'", field);
		return false;
	}
	value[len] = '\0';
	if (len == 0) {
		snprintf(r->reason, r->reason_size, "empty %s value", field);
		return false;
	}
	return true;
}

/* Stores a pattern condition; a field given twice in one match is an
 * error (alternatives are written with ','). */
static bool config_client_set_pattern(struct config_client_reader *r, char **slot,
				      const char *field, const char *value)
{
	if (*slot != NULL) {
		snprintf(r->reason, r->reason_size,
			 "%s given twice in one match (separate alternatives with ',')", field);
		return false;
	}
	*slot = xstrdup(value);
	return true;
}

/* CONDITION = FIELD "=" VALUE */
static bool config_client_read_condition(struct config_client_reader *r,
					 struct config_client_match *m)
{
	static const char *const fields[] = { "user", "address", "id.name", "id.version" };
	const char *eq = strchr(r->p, '=');
	size_t flen = eq != NULL ? (size_t)(eq - r->p) : 0;
	const char *field = NULL;
	for (size_t i = 0; eq != NULL && i < sizeof(fields) / sizeof(*fields); i++)
		if (strlen(fields[i]) == flen && strncmp(r->p, fields[i], flen) == 0)
			field = fields[i];
	if (field == NULL) {
		snprintf(r->reason, r->reason_size,
			 "expected user=, address=%s at '%.40s'",
			 r->allow_id ? ", id.name= or id.version=" : "", r->p);
		return false;
	}
	if (!r->allow_id && strncmp(field, "id.", 3) == 0) {
		snprintf(r->reason, r->reason_size,
			 "capabilities are never chosen by the client's ID (RFC 2971 section 3): "
			 "match by user or address");
		return false;
	}
	r->p = eq + 1;
	char value[CONFIG_CLIENT_VALUE_MAX + 1];
	if (!config_client_read_value(r, field, value, sizeof(value)))
		return false;
	if (strcmp(field, "address") == 0) {
		if (m->has_address) {
			snprintf(r->reason, r->reason_size, "address given twice in one match "
				 "(separate alternatives with ',')");
			return false;
		}
		if (!cidr_parse(value, &m->address)) {
			snprintf(r->reason, r->reason_size,
				 "expected an address or CIDR block such as 192.0.2.0/24 or "
				 "2001:db8::/32, got '%s'", value);
			return false;
		}
		m->has_address = true;
		return true;
	}
	char **slot = strcmp(field, "user") == 0 ? &m->user
		      : strcmp(field, "id.name") == 0 ? &m->id_name : &m->id_version;
	return config_client_set_pattern(r, slot, field, value);
}

static void config_client_rules_add(struct config_client_rules *rules, uint64_t bits,
				    const struct config_client_match *m, int line)
{
	rules->items = xrealloc(rules->items, (rules->count + 1) * sizeof(*rules->items));
	struct config_client_rule *rule = &rules->items[rules->count++];
	rule->bits = bits;
	rule->match = *m;
	rule->line = line;
}

/* MATCH *("," MATCH) up to the end of the value, into rules (which the
 * caller drops on failure). An empty selector is one rule for everyone
 * only when allow_empty. */
static bool config_client_read_matches(struct config_client_reader *r,
				       struct config_client_rules *rules, uint64_t bits,
				       int line, bool allow_empty)
{
	config_client_skip_blanks(r);
	if (*r->p == '\0' && allow_empty) {
		struct config_client_match everyone = { 0 };
		config_client_rules_add(rules, bits, &everyone, line);
		return true;
	}
	for (;;) {
		struct config_client_match m = { 0 };
		bool any = false;
		for (;;) {
			config_client_skip_blanks(r);
			if (*r->p == '\0' || *r->p == ',')
				break;
			if (!config_client_read_condition(r, &m)) {
				config_client_match_free(&m);
				return false;
			}
			any = true;
		}
		if (!any) {
			snprintf(r->reason, r->reason_size,
				 "expected a match such as user=alice or address=192.0.2.0/24");
			return false;
		}
		config_client_rules_add(rules, bits, &m, line);
		if (*r->p == '\0')
			return true;
		r->p++; /* ',' */
	}
}

/* Capabilities that exist but must stay: hiding them could lock users out
 * or break the protocol itself. */
static bool config_cap_is_login(const char *word)
{
	return strcasecmp(word, "IMAP4rev1") == 0 || strcasecmp(word, "STARTTLS") == 0 ||
	       strcasecmp(word, "LOGINDISABLED") == 0 || strcasecmp(word, "SASL-IR") == 0 ||
	       strncasecmp(word, "AUTH=", 5) == 0;
}

static bool config_cap_lookup(const char *word, enum config_cap *cap_r)
{
	for (unsigned i = 0; i < CONFIG_CAP_COUNT; i++) {
		if (strcasecmp(config_cap_names[i], word) == 0) {
			*cap_r = (enum config_cap)i;
			return true;
		}
	}
	return false;
}

static void config_cap_unknown(const char *word, char *reason, size_t size)
{
	char known[200] = "";
	for (unsigned i = 0; i < CONFIG_CAP_COUNT; i++) {
		strncat(known, i > 0 ? " " : "", sizeof(known) - strlen(known) - 1);
		strncat(known, config_cap_names[i], sizeof(known) - strlen(known) - 1);
	}
	snprintf(reason, size, "'%s' cannot be hidden; hideable: %s", word, known);
}

/* The capability words before "for" (or the end) as bits; *has_for_r
 * tells whether matches follow. */
static bool config_client_read_caps(struct config_client_reader *r, uint64_t *bits_r,
				    bool *has_for_r)
{
	*bits_r = 0;
	*has_for_r = false;
	for (;;) {
		config_client_skip_blanks(r);
		size_t len = strcspn(r->p, " \t");
		if (len == 0)
			break;
		char word[48];
		size_t keep = len < sizeof(word) ? len : sizeof(word) - 1;
		snprintf(word, sizeof(word), "%.*s", (int)keep, r->p);
		if (strcmp(word, "for") == 0) {
			r->p += len;
			*has_for_r = true;
			break;
		}
		enum config_cap cap;
		if (strchr(word, '=') != NULL && (strncmp(word, "user=", 5) == 0 ||
						  strncmp(word, "address=", 8) == 0 ||
						  strncmp(word, "id.", 3) == 0)) {
			snprintf(r->reason, r->reason_size, "missing 'for' before '%s'", word);
			return false;
		}
		if (config_cap_is_login(word)) {
			snprintf(r->reason, r->reason_size,
				 "%s cannot be hidden: clients need it to log in and to speak IMAP",
				 word);
			return false;
		}
		if (len >= sizeof(word) || !config_cap_lookup(word, &cap)) {
			config_cap_unknown(word, r->reason, r->reason_size);
			return false;
		}
		*bits_r |= (uint64_t)1 << cap;
		r->p += len;
	}
	if (*bits_r == 0) {
		snprintf(r->reason, r->reason_size,
			 "expected capabilities to hide, e.g. 'CONDSTORE for user=alice'");
		return false;
	}
	return true;
}

static bool config_workaround_lookup(const char *name, enum config_workaround *w_r)
{
	for (unsigned i = 0; i < CONFIG_WORKAROUND_COUNT; i++) {
		if (strcmp(config_workaround_names[i], name) == 0) {
			*w_r = (enum config_workaround)i;
			return true;
		}
	}
	return false;
}

static void config_workaround_unknown(char *reason, size_t size)
{
	char known[160] = "";
	for (unsigned i = 0; i < CONFIG_WORKAROUND_COUNT; i++) {
		strncat(known, i > 0 ? ", " : "", sizeof(known) - strlen(known) - 1);
		strncat(known, config_workaround_names[i], sizeof(known) - strlen(known) - 1);
	}
	snprintf(reason, size, "unknown workaround (known: %s)", known);
}

/* Appends the new rules to the configuration's list (all or nothing). */
static void config_client_rules_take(struct config_client_rules *dst,
				     struct config_client_rules *src)
{
	dst->items = xrealloc(dst->items, (dst->count + src->count) * sizeof(*dst->items));
	memcpy(dst->items + dst->count, src->items, src->count * sizeof(*src->items));
	dst->count += src->count;
	free(src->items);
	src->items = NULL;
	src->count = 0;
}

bool config_client_apply(struct petrel_config *cfg, const char *section, const char *name,
			 const char *value, int line, char *reason, size_t size)
{
	struct config_client_reader r = { .p = value, .reason = reason, .reason_size = size };
	struct config_client_rules added = { 0 };
	struct config_client_rules *dst;
	bool ok;
	if (strcmp(section, "capabilities") == 0) {
		if (strcmp(name, "hide") != 0) {
			snprintf(reason, size, "unknown key");
			return false;
		}
		uint64_t bits;
		bool has_for;
		ok = config_client_read_caps(&r, &bits, &has_for) &&
		     config_client_read_matches(&r, &added, bits, line, !has_for);
		dst = &cfg->hide_capabilities;
	} else {
		enum config_workaround w;
		if (!config_workaround_lookup(name, &w)) {
			config_workaround_unknown(reason, size);
			return false;
		}
		r.allow_id = true;
		ok = config_client_read_matches(&r, &added, (uint64_t)1 << w, line, false);
		dst = &cfg->workarounds;
	}
	if (!ok) {
		config_client_rules_free(&added);
		return false;
	}
	config_client_rules_take(dst, &added);
	return true;
}
