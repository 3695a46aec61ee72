#ifndef PETREL_IMAP_NEWS_POST_H
#define PETREL_IMAP_NEWS_POST_H

/* APPEND into a news folder (docs/news.md): the article goes upstream with
 * NNTP POST first, on a pool thread (the network must not stall the
 * worker's event loop), and is stored in the folder only when the server
 * has accepted it, with the Newsgroups and Message-ID lines the post added
 * so that the next pull recognises it. Needs the "p" right. */

#include "imap/imap-session.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct imap_flag_list;
struct imap_mailbox;
struct petrel_config;

void imap_news_post_init(const struct petrel_config *cfg);
void imap_news_post_deinit(void);

/* The newsgroup of mb when it is a news folder (from cmd->arena), or
 * NULL. */
const char *imap_news_post_group(struct imap_cmd *cmd, const struct imap_mailbox *mb);

/* Posts len bytes of data (copied: the caller may release them) as an
 * article to group, then stores it in mb with flags and the internal date
 * (has_date false: now). Answers the command itself: returns
 * IMAP_CMD_WAIT. */
enum imap_cmd_result imap_news_post(struct imap_cmd *cmd, const struct imap_mailbox *mb,
				    const char *group, const void *data, size_t len,
				    const struct imap_flag_list *flags, bool has_date,
				    int64_t date, int tz_offset_min);

#endif
