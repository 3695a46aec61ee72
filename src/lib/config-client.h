#ifndef PETREL_CONFIG_CLIENT_H
#define PETREL_CONFIG_CLIENT_H

/* Inside lib only: how config.c reads the sections of per-client rules,
 * [capabilities] and [workarounds] (docs/configuration.md). The public
 * types and config_client_match() are in config.h.
 *
 *   [capabilities]
 *   hide = CAPABILITY [CAPABILITY ...] [for MATCH [, MATCH ...]]
 *   [workarounds]
 *   WORKAROUND-NAME = MATCH [, MATCH ...]
 *
 *   MATCH = CONDITION [CONDITION ...]          (all must hold)
 *   CONDITION = FIELD "=" (VALUE / DQUOTE VALUE-WITH-BLANKS DQUOTE)
 *   FIELD = "user" / "address" / "id.name" / "id.version"
 *
 * Every line adds rules; nothing is replaced, so a rule is never lost to
 * a key written twice. */

#include "lib/config.h"

#include <stdbool.h>
#include <stddef.h>

/* True for the sections above. */
bool config_client_section(const char *section);

/* Adds the rules of one "name = value" line of such a section, written at
 * line. On failure returns false with the reason (for "FILE:LINE: [section]
 * name: reason") in reason, which holds size bytes; cfg is then unchanged. */
bool config_client_apply(struct petrel_config *cfg, const char *section, const char *name,
			 const char *value, int line, char *reason, size_t size);

/* Frees the rules and empties the list. */
void config_client_rules_free(struct config_client_rules *rules);

#endif
