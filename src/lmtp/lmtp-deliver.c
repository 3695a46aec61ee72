#include "lmtp/lmtp-deliver.h"

#include "store/store-ingest.h"

#include <string.h>
#include <time.h>

enum store_error lmtp_message_begin(const char *data_dir, uint64_t max_size,
				    const void *prefix, size_t prefix_len,
				    struct store_blob_writer **writer_r, const char **error_r)
{
	enum store_error err = store_blob_writer_begin(data_dir, max_size, writer_r, error_r);
	if (err != STORE_OK || prefix_len == 0)
		return err;
	err = store_blob_writer_write(*writer_r, prefix, prefix_len, error_r);
	if (err != STORE_OK)
		store_blob_writer_abort(writer_r);
	return err;
}

enum store_error lmtp_message_finish(struct store_blob_writer **writer, struct arena *a,
				     struct lmtp_message *msg_r, const char **error_r)
{
	memset(msg_r, 0, sizeof(*msg_r));
	enum store_error err = store_blob_writer_finish(writer, &msg_r->blob, error_r);
	if (err != STORE_OK)
		return err;
	err = store_ingest_meta(msg_r->blob, a, &msg_r->meta, error_r);
	if (err != STORE_OK)
		store_blob_free(&msg_r->blob);
	return err;
}

void lmtp_message_free(struct lmtp_message *msg)
{
	if (msg != NULL)
		store_blob_free(&msg->blob);
}

/* The mailbox to deliver into, or NULL when there is none. */
static const char *lmtp_deliver_target(struct store_user *u, const char *mailbox,
				       bool fallback_inbox, enum store_error *err_r,
				       const char **error_r)
{
	*err_r = STORE_OK;
	if (mailbox == NULL)
		return "INBOX";
	struct store_mailbox_status st;
	enum store_error err = store_mailbox_status(u, mailbox, &st, error_r);
	if (err == STORE_OK && !st.noselect)
		return mailbox;
	if (err != STORE_OK && err != STORE_ERR_NONEXISTENT && err != STORE_ERR_INVALID) {
		*err_r = err;
		return NULL;
	}
	if (fallback_inbox)
		return "INBOX";
	*err_r = STORE_ERR_NONEXISTENT;
	if (error_r != NULL)
		*error_r = "Mailbox does not exist";
	return NULL;
}

enum store_error lmtp_deliver_store(struct store_user *u, const char *mailbox,
				    bool fallback_inbox, const struct lmtp_message *msg,
				    const char **mailbox_r, uint32_t *uid_r,
				    const char **error_r)
{
	enum store_error err;
	const char *target = lmtp_deliver_target(u, mailbox, fallback_inbox, &err, error_r);
	if (target == NULL)
		return err;
	time_t t = (time_t)msg->received;
	struct tm tm;
	localtime_r(&t, &tm);
	struct store_append app = {
		.blob = msg->blob,
		.internal_date = msg->received,
		.tz_offset_min = (int)(tm.tm_gmtoff / 60),
		.meta = &msg->meta,
	};
	err = store_msg_append_by_name(u, target, &app, NULL, uid_r, error_r);
	/* The detail mailbox may have been deleted since we looked. */
	if (err == STORE_ERR_NONEXISTENT && fallback_inbox && strcmp(target, "INBOX") != 0) {
		target = "INBOX";
		err = store_msg_append_by_name(u, target, &app, NULL, uid_r, error_r);
	}
	if (err == STORE_OK && mailbox_r != NULL)
		*mailbox_r = target;
	return err;
}
