#include "imap/imap-flags.h"
#include "imap/imap-parser.h"
#include "imap/imap-session.h"
#include "lib/arena.h"
#include "lib/config.h"
#include "store/store.h"

#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	uint32_t bit;
} imap_flag_names[] = {
	{ "\\Answered", STORE_FLAG_ANSWERED }, { "\\Flagged", STORE_FLAG_FLAGGED },
	{ "\\Deleted", STORE_FLAG_DELETED },   { "\\Seen", STORE_FLAG_SEEN },
	{ "\\Draft", STORE_FLAG_DRAFT },
};

/* ATOM-CHAR = <any CHAR except atom-specials>
 * atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards /
 *                 quoted-specials / resp-specials */
bool imap_keyword_valid(const char *s, size_t max_len)
{
	size_t len = strlen(s);
	if (len == 0 || len > max_len)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return false;
	}
	return true;
}

static bool imap_flag_add(struct imap_cmd *cmd, const char *atom, struct imap_flag_list *list,
			  const char **error_r)
{
	if (atom[0] == '\\') {
		for (size_t i = 0; i < sizeof(imap_flag_names) / sizeof(*imap_flag_names); i++) {
			if (strcasecmp(atom, imap_flag_names[i].name) == 0) {
				list->flags |= imap_flag_names[i].bit;
				return true;
			}
		}
		*error_r = strcasecmp(atom, "\\Recent") == 0 ? "\\Recent cannot be set by a client"
							     : "Unknown system flag";
		return false;
	}
	if (!imap_keyword_valid(atom, cmd->session->cfg->keyword_length)) {
		*error_r = "Invalid keyword";
		return false;
	}
	for (size_t i = 0; i < list->keyword_count; i++)
		if (strcasecmp(list->keywords[i], atom) == 0)
			return true;
	list->keywords[list->keyword_count++] = atom;
	return true;
}

bool imap_flags_read(struct imap_cmd *cmd, const struct imap_arg *args, size_t count,
		     struct imap_flag_list *list_r, const char **error_r)
{
	memset(list_r, 0, sizeof(*list_r));
	list_r->keywords = arena_alloc(cmd->arena, (count ? count : 1) * sizeof(char *));
	for (size_t i = 0; i < count; i++) {
		const char *atom;
		if (args[i].type != IMAP_ARG_ATOM || !imap_arg_get_atom(&args[i], &atom)) {
			*error_r = "Flags must be atoms";
			return false;
		}
		if (!imap_flag_add(cmd, atom, list_r, error_r))
			return false;
	}
	return true;
}

uint32_t imap_flags_permitted(unsigned rights)
{
	uint32_t flags = 0;
	if (rights & STORE_RIGHT_SEEN)
		flags |= STORE_FLAG_SEEN;
	if (rights & STORE_RIGHT_DELETED)
		flags |= STORE_FLAG_DELETED;
	if (rights & STORE_RIGHT_WRITE)
		flags |= STORE_FLAG_ANSWERED | STORE_FLAG_FLAGGED | STORE_FLAG_DRAFT;
	return flags;
}

void imap_flags_filter(struct imap_flag_list *list, unsigned rights)
{
	list->flags &= imap_flags_permitted(rights);
	if (!(rights & STORE_RIGHT_WRITE))
		list->keyword_count = 0;
}
