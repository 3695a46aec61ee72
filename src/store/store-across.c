/* COPY and MOVE between two stores (a user's own and another user's or the
 * public one). Bodies stay single-instance: the source's blob file is
 * hard-linked into the target store, exactly as a delivery links its tmp
 * file, and the metadata computed at delivery travels with the message. */

#include "store/store-private.h"

#include "lib/arena.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* The UIDs of src's mailbox within ranges, ascending. */
static enum store_error store_across_uids(struct store_user *src, uint64_t src_id,
					  const struct store_uid_range *ranges, size_t range_count,
					  struct arena *a, uint32_t **uids_r, size_t *count_r,
					  const char **error_r)
{
	uint32_t *all;
	size_t all_count, n = 0;
	enum store_error err = store_msg_all_uids(src, src_id, a, &all, &all_count, error_r);
	if (err != STORE_OK)
		return err;
	uint32_t *uids = arena_alloc(a, (all_count + 1) * sizeof(*uids));
	for (size_t i = 0; i < all_count; i++) {
		for (size_t r = 0; r < range_count; r++) {
			if (all[i] >= ranges[r].first && all[i] <= ranges[r].last) {
				uids[n++] = all[i];
				break;
			}
		}
	}
	*uids_r = uids;
	*count_r = n;
	return STORE_OK;
}

/* Reads what a copy of each message needs, in one read transaction. */
static enum store_error store_across_read(struct store_user *src, uint64_t src_id,
					  const uint32_t *uids, size_t count,
					  const struct store_copy_mask *mask, struct arena *a,
					  struct store_append *apps, struct store_blob *blobs,
					  const char **error_r)
{
	enum store_error err = store_db_begin_read(src, error_r);
	for (size_t i = 0; err == STORE_OK && i < count; i++) {
		struct store_msg msg;
		struct store_msg_meta *meta = arena_zalloc(a, sizeof(*meta));
		err = store_msg_get(src, src_id, uids[i],
				    STORE_MSG_WANT_META | STORE_MSG_WANT_TEXT | STORE_MSG_WANT_HEADER,
				    a, &msg, error_r);
		if (err != STORE_OK)
			break;
		*meta = msg.meta;
		/* The source's own file stands in for a freshly written one:
		 * appending links it into the target store. */
		char *path = store_blob_path(src, msg.hash);
		blobs[i].tmp_path = arena_strdup(a, path);
		free(path);
		memcpy(blobs[i].hash, msg.hash, sizeof(blobs[i].hash));
		blobs[i].size = msg.size;
		blobs[i].held_fd = -1;
		apps[i] = (struct store_append){
			.blob = &blobs[i],
			.flags = msg.flags & ~(mask != NULL ? mask->drop_flags : 0),
			.keywords = mask != NULL && mask->drop_keywords ? NULL :
				(const char *const *)msg.keywords,
			.keyword_count = mask != NULL && mask->drop_keywords ? 0 : msg.keyword_count,
			.internal_date = msg.internal_date,
			.tz_offset_min = msg.tz_offset_min,
			.meta = meta,
		};
	}
	if (err != STORE_OK)
		return store_db_rollback(src, err);
	return store_db_commit(src, error_r);
}

/* MOVE's second half: the originals go, logged for VANISHED. */
static enum store_error store_across_remove(struct store_user *src, uint64_t src_id,
					    const uint32_t *uids, size_t count, struct arena *a,
					    const char **error_r)
{
	struct store_uid_range *ranges = arena_alloc(a, count * sizeof(*ranges));
	for (size_t i = 0; i < count; i++)
		ranges[i] = (struct store_uid_range){ uids[i], uids[i] };
	struct store_flag_change deleted = { .op = STORE_FLAGS_ADD, .flags = STORE_FLAG_DELETED };
	struct store_flags_result res;
	enum store_error err = store_msg_set_flags(src, src_id, ranges, count, &deleted, a, &res,
						   error_r);
	uint32_t *gone;
	size_t gone_count;
	if (err == STORE_OK)
		err = store_msg_expunge(src, src_id, ranges, count, a, &gone, &gone_count, error_r);
	return err;
}

enum store_error store_msg_copy_across(struct store_user *src, uint64_t src_id,
				       const struct store_uid_range *ranges, size_t range_count,
				       struct store_user *dst, uint64_t dst_id, bool move,
				       const struct store_copy_mask *mask, struct arena *a,
				       struct store_uid_map *map_r, const char **error_r)
{
	memset(map_r, 0, sizeof(*map_r));
	uint32_t *uids;
	size_t count;
	enum store_error err = store_across_uids(src, src_id, ranges, range_count, a, &uids,
						 &count, error_r);
	if (err != STORE_OK || count == 0)
		return err;
	if (count > STORE_ACROSS_MAX)
		return store_fail(STORE_ERR_LIMIT, error_r,
				  "At most %u messages can be copied between owners at once",
				  STORE_ACROSS_MAX);
	struct store_append *apps = arena_zalloc(a, count * sizeof(*apps));
	struct store_blob *blobs = arena_zalloc(a, count * sizeof(*blobs));
	err = store_across_read(src, src_id, uids, count, mask, a, apps, blobs, error_r);
	uint32_t *dst_uids = arena_alloc(a, count * sizeof(*dst_uids));
	uint32_t uidvalidity = 0;
	if (err == STORE_OK)
		err = store_msg_append(dst, dst_id, apps, count, &uidvalidity, dst_uids, error_r);
	if (err != STORE_OK)
		return err;
	map_r->dst_uidvalidity = uidvalidity;
	map_r->count = count;
	map_r->src_uids = uids;
	map_r->dst_uids = dst_uids;
	/* Two databases cannot share a transaction: a crash here leaves the
	 * message in both mailboxes, never in neither. */
	return move ? store_across_remove(src, src_id, uids, count, a, error_r) : STORE_OK;
}
