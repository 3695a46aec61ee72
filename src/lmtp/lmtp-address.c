/* MAIL FROM / RCPT TO arguments (RFC 5321 §4.1.2, §4.1.1.2, §4.1.1.3). */

#include "lmtp/lmtp-address.h"

#include "lib/arena.h"
#include "lib/buf.h"

#include <string.h>
#include <strings.h>

struct lmtp_cursor {
	const char *p;
};

static bool lmtp_is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* atext (RFC 5322 §3.2.3) */
static bool lmtp_is_atext(char c)
{
	return lmtp_is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* Domain = sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str]
 * address-literal = "[" ... "]" with dcontent %d33-90 / %d94-126 inside. */
static bool lmtp_read_domain(struct lmtp_cursor *c, struct arena *a, const char **domain_r)
{
	const char *start = c->p;
	if (*c->p == '[') {
		c->p++;
		while (*c->p >= 33 && *c->p <= 126 && *c->p != '[' && *c->p != ']' && *c->p != '\\')
			c->p++;
		if (*c->p != ']' || c->p == start + 1)
			return false;
		c->p++;
	} else {
		bool label_start = true;
		while (lmtp_is_alnum(*c->p) || *c->p == '-' || *c->p == '.') {
			if (*c->p == '.' && label_start)
				return false;
			if (*c->p == '-' && label_start)
				return false;
			label_start = *c->p == '.';
			c->p++;
		}
		if (c->p == start || label_start || c->p[-1] == '-')
			return false;
	}
	*domain_r = arena_strndup(a, start, (size_t)(c->p - start));
	return true;
}

/* Quoted-string = DQUOTE *QcontentSMTP DQUOTE; quoted-pairSMTP = "\" %d32-126 */
static bool lmtp_read_quoted(struct lmtp_cursor *c, struct buf *local)
{
	c->p++;
	for (;;) {
		char ch = *c->p;
		if (ch == '"') {
			c->p++;
			return true;
		}
		if (ch == '\\') {
			if (c->p[1] < 32 || c->p[1] > 126)
				return false;
			buf_append_char(local, c->p[1]);
			c->p += 2;
			continue;
		}
		if (ch < 32 || ch > 126)
			return false;
		buf_append_char(local, ch);
		c->p++;
	}
}

/* Local-part = Dot-string / Quoted-string. Dot-string is read leniently
 * (atext and dots in any order): real mail has "john..doe" and we only
 * look such names up, never route them. */
static bool lmtp_read_local(struct lmtp_cursor *c, struct buf *local)
{
	if (*c->p == '"')
		return lmtp_read_quoted(c, local);
	const char *start = c->p;
	while (lmtp_is_atext(*c->p) || *c->p == '.')
		c->p++;
	buf_append(local, start, (size_t)(c->p - start));
	return c->p > start;
}

/* A-d-l = At-domain *( "," At-domain ) ":"  (a source route, ignored as
 * RFC 5321 §4.1.1.3 and Appendix C ask) */
static bool lmtp_skip_route(struct lmtp_cursor *c, struct arena *a)
{
	if (*c->p != '@')
		return true;
	const char *ignored;
	for (;;) {
		c->p++;
		if (!lmtp_read_domain(c, a, &ignored))
			return false;
		if (*c->p == ':') {
			c->p++;
			return true;
		}
		if (*c->p != ',' || c->p[1] != '@')
			return false;
		c->p++;
	}
}

/* Path = "<" [ A-d-l ":" ] Mailbox ">";  Mailbox = Local-part ["@" Domain] */
static enum lmtp_address_result lmtp_read_path(struct lmtp_cursor *c, struct arena *a,
					       bool allow_null, struct lmtp_path *path_r)
{
	if (*c->p != '<')
		return LMTP_ADDRESS_BAD_COMMAND;
	c->p++;
	if (*c->p == '>') {
		c->p++;
		*path_r = (struct lmtp_path){ .address = "", .local = "", .domain = NULL };
		return allow_null ? LMTP_ADDRESS_OK : LMTP_ADDRESS_BAD_PATH;
	}
	if (!lmtp_skip_route(c, a))
		return LMTP_ADDRESS_BAD_PATH;
	const char *start = c->p;
	struct buf local = BUF_INIT;
	bool ok = lmtp_read_local(c, &local);
	path_r->local = arena_strndup(a, local.len > 0 ? (const char *)local.data : "", local.len);
	buf_free(&local);
	path_r->domain = NULL;
	if (ok && *c->p == '@') {
		c->p++;
		ok = lmtp_read_domain(c, a, &path_r->domain);
	}
	if (!ok || *c->p != '>' || path_r->local[0] == '\0')
		return LMTP_ADDRESS_BAD_PATH;
	path_r->address = arena_strndup(a, start, (size_t)(c->p - start));
	c->p++;
	return LMTP_ADDRESS_OK;
}

/* esmtp-param = esmtp-keyword ["=" esmtp-value]
 * esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
 * esmtp-value = 1*(%d33-60 / %d62-126) */
static bool lmtp_read_param(struct lmtp_cursor *c, struct arena *a, struct lmtp_param *param_r)
{
	const char *start = c->p;
	if (!lmtp_is_alnum(*c->p))
		return false;
	while (lmtp_is_alnum(*c->p) || *c->p == '-')
		c->p++;
	param_r->keyword = arena_strndup(a, start, (size_t)(c->p - start));
	param_r->value = NULL;
	if (*c->p != '=')
		return *c->p == ' ' || *c->p == '\0';
	start = ++c->p;
	while (*c->p >= 33 && *c->p <= 126 && *c->p != '=')
		c->p++;
	if (c->p == start || (*c->p != ' ' && *c->p != '\0'))
		return false;
	param_r->value = arena_strndup(a, start, (size_t)(c->p - start));
	return true;
}

enum lmtp_address_result lmtp_address_parse(struct arena *a, const char *args,
					    const char *prefix, bool allow_null,
					    struct lmtp_address_args *out_r)
{
	size_t plen = strlen(prefix);
	memset(out_r, 0, sizeof(*out_r));
	if (strncasecmp(args, prefix, plen) != 0)
		return LMTP_ADDRESS_BAD_COMMAND;
	struct lmtp_cursor c = { args + plen };
	while (*c.p == ' ')
		c.p++;
	enum lmtp_address_result r = lmtp_read_path(&c, a, allow_null, &out_r->path);
	if (r != LMTP_ADDRESS_OK)
		return r;
	while (*c.p == ' ') {
		while (*c.p == ' ')
			c.p++;
		if (*c.p == '\0')
			break;
		if (out_r->param_count == LMTP_MAX_PARAMS ||
		    !lmtp_read_param(&c, a, &out_r->params[out_r->param_count]))
			return LMTP_ADDRESS_BAD_PARAMS;
		out_r->param_count++;
	}
	return *c.p == '\0' ? LMTP_ADDRESS_OK : LMTP_ADDRESS_BAD_PARAMS;
}

void lmtp_address_split_detail(struct arena *a, const char *local, const char **base_r,
			       const char **detail_r)
{
	const char *plus = strchr(local, '+');
	if (plus == NULL || plus == local) {
		*base_r = local;
		*detail_r = NULL;
		return;
	}
	*base_r = arena_strndup(a, local, (size_t)(plus - local));
	*detail_r = plus[1] != '\0' ? arena_strdup(a, plus + 1) : NULL;
}
