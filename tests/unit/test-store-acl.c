/* Store-level sharing: ACL entries and their evaluation (user, anyone,
 * groups, negative rights, the owner's fixed rights), inheritance on
 * CREATE, forgetting on DELETE, the sharing index, per-reader \Seen, and
 * COPY/MOVE between two stores with single-instance bodies. */

#include "test-common.h"
#include "test-store-common.h"

#include "lib/arena.h"
#include "store/store-ingest.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint32_t append_one(struct store_user *u, const char *mailbox, const char *text,
			   uint32_t flags)
{
	struct store_blob_writer *w;
	struct store_blob *blob;
	TEST_CHECK_INT(store_blob_writer_begin(test_dir, 0, &w, NULL), STORE_OK);
	TEST_CHECK_INT(store_blob_writer_write(w, text, strlen(text), NULL), STORE_OK);
	TEST_CHECK_INT(store_blob_writer_finish(&w, &blob, NULL), STORE_OK);
	struct arena *a = arena_new(0);
	struct store_msg_meta meta;
	TEST_CHECK_INT(store_ingest_meta(blob, a, &meta, NULL), STORE_OK);
	struct store_append app = { .blob = blob, .flags = flags, .internal_date = 1,
				    .meta = &meta };
	uint32_t uid = 0;
	TEST_CHECK_INT(store_msg_append(u, mailbox_id(u, mailbox), &app, 1, NULL, &uid, NULL),
		       STORE_OK);
	store_blob_free(&blob);
	arena_destroy(&a);
	return uid;
}

static unsigned rights_of(struct store_user *u, const char *mailbox, const char *user,
			  const char *const *groups, size_t group_count)
{
	struct store_identity who = { user, groups, group_count };
	unsigned rights = 0xdead;
	TEST_CHECK_INT(store_acl_rights(u, mailbox, &who, &rights, NULL), STORE_OK);
	return rights;
}

static unsigned parse(const char *letters)
{
	unsigned rights = 0;
	TEST_CHECK(store_rights_parse(letters, &rights, NULL));
	return rights;
}

static void test_evaluation_union_minus_negative(void)
{
	struct store_user *u = user_open("owner1");
	TEST_CHECK_INT(store_mailbox_create(u, "Team", 0, NULL, NULL), STORE_OK);
	/* The owner has everything, with or without entries. */
	TEST_CHECK_INT(rights_of(u, "Team", "owner1", NULL, 0), STORE_RIGHTS_ALL);
	/* Nobody else has anything yet. */
	TEST_CHECK_INT(rights_of(u, "Team", "bob", NULL, 0), 0);
	TEST_CHECK_INT(store_acl_set(u, "Team", "anyone", parse("l"), NULL), STORE_OK);
	TEST_CHECK_INT(store_acl_set(u, "Team", "bob", parse("rs"), NULL), STORE_OK);
	TEST_CHECK_INT(store_acl_set(u, "Team", "$staff", parse("wi"), NULL), STORE_OK);
	TEST_CHECK_INT(store_acl_set(u, "Team", "-$staff", parse("s"), NULL), STORE_OK);
	const char *staff[] = { "staff" };
	TEST_CHECK_INT(rights_of(u, "Team", "bob", NULL, 0), parse("lrs"));
	/* In staff: w and i added, s taken away by the negative entry. */
	TEST_CHECK_INT(rights_of(u, "Team", "bob", staff, 1), parse("lrwi"));
	TEST_CHECK_INT(rights_of(u, "Team", "carol", NULL, 0), parse("l"));
	/* Entries come back sorted; 0 rights removes an entry. */
	struct arena *a = arena_new(0);
	struct store_acl_entry *entries;
	size_t count;
	TEST_CHECK_INT(store_acl_get(u, "Team", a, &entries, &count, NULL), STORE_OK);
	TEST_CHECK_INT(count, 4);
	TEST_CHECK_STR(entries[0].identifier, "$staff");
	TEST_CHECK_STR(entries[1].identifier, "-$staff");
	TEST_CHECK_STR(entries[2].identifier, "anyone");
	TEST_CHECK_STR(entries[3].identifier, "bob");
	TEST_CHECK_INT(store_acl_set(u, "Team", "bob", 0, NULL), STORE_OK);
	TEST_CHECK_INT(store_acl_delete(u, "Team", "anyone", NULL), STORE_OK);
	TEST_CHECK_INT(store_acl_get(u, "Team", a, &entries, &count, NULL), STORE_OK);
	TEST_CHECK_INT(count, 2);
	TEST_CHECK_INT(rights_of(u, "Team", "bob", NULL, 0), 0);
	/* Errors. */
	TEST_CHECK_INT(store_acl_set(u, "Nope", "bob", parse("l"), NULL), STORE_ERR_NONEXISTENT);
	TEST_CHECK_INT(store_acl_set(u, "Team", "", parse("l"), NULL), STORE_ERR_INVALID);
	TEST_CHECK_INT(store_acl_set(u, "Team", "-", parse("l"), NULL), STORE_ERR_INVALID);
	arena_destroy(&a);
	store_user_close(&u);
}

static void test_create_inherits_and_delete_forgets(void)
{
	struct store_user *u = user_open("owner2");
	TEST_CHECK_INT(store_mailbox_create(u, "Projects", 0, NULL, NULL), STORE_OK);
	TEST_CHECK_INT(store_acl_set(u, "Projects", "bob", parse("lrk"), NULL), STORE_OK);
	/* The new mailbox and the superior made for it both inherit. */
	TEST_CHECK_INT(store_mailbox_create(u, "Projects/2026/Q1", 0, NULL, NULL), STORE_OK);
	TEST_CHECK_INT(rights_of(u, "Projects/2026", "bob", NULL, 0), parse("lrk"));
	TEST_CHECK_INT(rights_of(u, "Projects/2026/Q1", "bob", NULL, 0), parse("lrk"));
	/* A later change to the parent is not copied down. */
	TEST_CHECK_INT(store_acl_set(u, "Projects", "bob", parse("l"), NULL), STORE_OK);
	TEST_CHECK_INT(rights_of(u, "Projects/2026", "bob", NULL, 0), parse("lrk"));
	/* DELETE of a mailbox with children leaves a \Noselect without ACL. */
	TEST_CHECK_INT(store_mailbox_delete(u, "Projects/2026", NULL), STORE_OK);
	unsigned rights;
	struct store_identity bob = { "bob", NULL, 0 };
	TEST_CHECK_INT(store_acl_rights(u, "Projects/2026", &bob, &rights, NULL),
		       STORE_ERR_NONEXISTENT);
	/* Re-created, it inherits from the nearest existing ancestor again. */
	TEST_CHECK_INT(store_mailbox_create(u, "Projects/2026", 0, NULL, NULL), STORE_OK);
	TEST_CHECK_INT(rights_of(u, "Projects/2026", "bob", NULL, 0), parse("l"));
	store_user_close(&u);
}

static void test_sharing_index_and_groups(void)
{
	struct store_user *u = user_open("owner3");
	TEST_CHECK_INT(store_mailbox_create(u, "Shared", 0, NULL, NULL), STORE_OK);
	TEST_CHECK_INT(store_group_add(test_dir, "crew", "dave", NULL), STORE_OK);
	TEST_CHECK_INT(store_group_add(test_dir, "crew", "erin", NULL), STORE_OK);
	TEST_CHECK_INT(store_acl_set(u, "Shared", "$crew", parse("lr"), NULL), STORE_OK);
	struct arena *a = arena_new(0);
	const char **names;
	size_t count;
	struct store_identity dave = { "dave", NULL, 0 }, frank = { "frank", NULL, 0 };
	TEST_CHECK_INT(store_share_owners(test_dir, &dave, a, &names, &count, NULL), STORE_OK);
	TEST_CHECK_INT(count, 1);
	TEST_CHECK_STR(names[0], "owner3");
	TEST_CHECK_INT(store_share_owners(test_dir, &frank, a, &names, &count, NULL), STORE_OK);
	TEST_CHECK_INT(count, 0);
	TEST_CHECK_INT(store_user_groups(test_dir, "erin", a, &names, &count, NULL), STORE_OK);
	TEST_CHECK_INT(count, 1);
	TEST_CHECK_STR(names[0], "crew");
	TEST_CHECK_INT(store_group_list(test_dir, "crew", a, &names, &count, NULL), STORE_OK);
	TEST_CHECK_INT(count, 2);
	TEST_CHECK_INT(store_group_remove(test_dir, "crew", "dave", NULL), STORE_OK);
	TEST_CHECK_INT(store_group_remove(test_dir, "crew", "dave", NULL), STORE_ERR_NONEXISTENT);
	TEST_CHECK_INT(store_share_owners(test_dir, &dave, a, &names, &count, NULL), STORE_OK);
	TEST_CHECK_INT(count, 0);
	/* Removing the last entry naming an identifier drops it from the index. */
	TEST_CHECK_INT(store_acl_delete(u, "Shared", "$crew", NULL), STORE_OK);
	struct store_identity erin = { "erin", NULL, 0 };
	TEST_CHECK_INT(store_share_owners(test_dir, &erin, a, &names, &count, NULL), STORE_OK);
	TEST_CHECK_INT(count, 0);
	arena_destroy(&a);
	store_user_close(&u);
}

static uint32_t flags_seen_by(struct store_user *u, const char *viewer, const char *mailbox,
			      uint32_t uid)
{
	struct arena *a = arena_new(0);
	struct store_msg msg;
	store_user_set_viewer(u, viewer);
	TEST_CHECK_INT(store_msg_get(u, mailbox_id(u, mailbox), uid, 0, a, &msg, NULL), STORE_OK);
	arena_destroy(&a);
	return msg.flags;
}

static void test_seen_is_kept_per_reader(void)
{
	struct store_user *u = user_open("owner4");
	uint32_t uid = append_one(u, "INBOX", "Subject: a\r\n\r\nbody\r\n", STORE_FLAG_FLAGGED);
	uint64_t inbox = mailbox_id(u, "INBOX");
	struct arena *a = arena_new(0);
	struct store_uid_range one = { uid, uid };
	struct store_flag_change seen = { .op = STORE_FLAGS_ADD, .flags = STORE_FLAG_SEEN };
	struct store_flags_result res;
	/* bob reads it: his \Seen only. */
	store_user_set_viewer(u, "bob");
	TEST_CHECK_INT(store_msg_set_flags(u, inbox, &one, 1, &seen, a, &res, NULL), STORE_OK);
	TEST_CHECK_INT(res.msgs[0].flags, STORE_FLAG_SEEN | STORE_FLAG_FLAGGED);
	TEST_CHECK_INT(flags_seen_by(u, NULL, "INBOX", uid), STORE_FLAG_FLAGGED);
	TEST_CHECK_INT(flags_seen_by(u, "carol", "INBOX", uid), STORE_FLAG_FLAGGED);
	TEST_CHECK_INT(flags_seen_by(u, "bob", "INBOX", uid), STORE_FLAG_SEEN | STORE_FLAG_FLAGGED);
	/* The owner as viewer is the owner. */
	TEST_CHECK_INT(flags_seen_by(u, "owner4", "INBOX", uid), STORE_FLAG_FLAGGED);
	/* STATUS UNSEEN, the view and the first unseen follow the viewer. */
	struct store_mailbox_status st;
	store_user_set_viewer(u, "bob");
	TEST_CHECK_INT(store_mailbox_status(u, "INBOX", &st, NULL), STORE_OK);
	TEST_CHECK_INT(st.unseen, 0);
	struct store_view view;
	TEST_CHECK_INT(store_view_load(u, inbox, &view, NULL), STORE_OK);
	TEST_CHECK_INT(view.flags[0], STORE_FLAG_SEEN | STORE_FLAG_FLAGGED);
	store_view_free(&view);
	uint32_t seq, first;
	TEST_CHECK_INT(store_mailbox_first_unseen(u, inbox, &seq, &first, NULL), STORE_OK);
	TEST_CHECK_INT(first, 0);
	store_user_set_viewer(u, NULL);
	TEST_CHECK_INT(store_mailbox_status(u, "INBOX", &st, NULL), STORE_OK);
	TEST_CHECK_INT(st.unseen, 1);
	/* A shared flag changed by a reader is shared. */
	struct store_flag_change unflag = { .op = STORE_FLAGS_REMOVE, .flags = STORE_FLAG_FLAGGED };
	store_user_set_viewer(u, "bob");
	TEST_CHECK_INT(store_msg_set_flags(u, inbox, &one, 1, &unflag, a, &res, NULL), STORE_OK);
	TEST_CHECK_INT(flags_seen_by(u, NULL, "INBOX", uid), 0);
	TEST_CHECK_INT(flags_seen_by(u, "bob", "INBOX", uid), STORE_FLAG_SEEN);
	/* Flags the caller may not change stay. */
	struct store_flag_change replace = { .op = STORE_FLAGS_REPLACE, .flags = STORE_FLAG_DRAFT,
					     .keep_flags = STORE_FLAG_SEEN };
	store_user_set_viewer(u, "bob");
	TEST_CHECK_INT(store_msg_set_flags(u, inbox, &one, 1, &replace, a, &res, NULL), STORE_OK);
	TEST_CHECK_INT(flags_seen_by(u, "bob", "INBOX", uid), STORE_FLAG_SEEN | STORE_FLAG_DRAFT);
	/* Expunging the message forgets every reader's \Seen with it. */
	struct store_flag_change del = { .op = STORE_FLAGS_ADD, .flags = STORE_FLAG_DELETED };
	store_user_set_viewer(u, NULL);
	TEST_CHECK_INT(store_msg_set_flags(u, inbox, &one, 1, &del, a, &res, NULL), STORE_OK);
	uint32_t *gone;
	size_t gone_count;
	TEST_CHECK_INT(store_msg_expunge(u, inbox, NULL, 0, a, &gone, &gone_count, NULL), STORE_OK);
	store_user_set_viewer(u, "bob");
	TEST_CHECK_INT(store_mailbox_status(u, "INBOX", &st, NULL), STORE_OK);
	TEST_CHECK_INT(st.messages, 0);
	TEST_CHECK_INT(st.unseen, 0);
	arena_destroy(&a);
	store_user_close(&u);
}

static void test_copy_and_move_across_stores(void)
{
	struct store_user *src = user_open("owner5");
	struct store_user *dst = user_open("reader5");
	append_one(src, "INBOX", "Subject: one\r\n\r\nfirst\r\n", STORE_FLAG_DELETED);
	append_one(src, "INBOX", "Subject: two\r\n\r\nsecond\r\n", STORE_FLAG_ANSWERED);
	uint64_t src_inbox = mailbox_id(src, "INBOX"), dst_inbox = mailbox_id(dst, "INBOX");
	struct arena *a = arena_new(0);
	struct store_uid_range all = { 1, UINT32_MAX };
	struct store_uid_map map;
	struct store_copy_mask mask = { .drop_flags = STORE_FLAG_DELETED };
	store_user_set_viewer(src, "reader5");
	TEST_CHECK_INT(store_msg_copy_across(src, src_inbox, &all, 1, dst, dst_inbox, false,
					     &mask, a, &map, NULL),
		       STORE_OK);
	TEST_CHECK_INT(map.count, 2);
	TEST_CHECK_INT(map.dst_uids[0], 1);
	struct store_msg m1, m2;
	TEST_CHECK_INT(store_msg_get(dst, dst_inbox, 1, STORE_MSG_WANT_META, a, &m1, NULL),
		       STORE_OK);
	TEST_CHECK_INT(store_msg_get(dst, dst_inbox, 2, 0, a, &m2, NULL), STORE_OK);
	TEST_CHECK_INT(m1.flags, 0); /* \Deleted dropped by the mask */
	TEST_CHECK_INT(m2.flags, STORE_FLAG_ANSWERED);
	TEST_CHECK(m1.meta.envelope != NULL);
	/* Single instance: the two stores share the body's inode. */
	int fd_src, fd_dst;
	struct stat st_src, st_dst;
	TEST_CHECK_INT(store_msg_open_blob(src, src_inbox, 1, &fd_src, NULL, NULL), STORE_OK);
	TEST_CHECK_INT(store_msg_open_blob(dst, dst_inbox, 1, &fd_dst, NULL, NULL), STORE_OK);
	TEST_CHECK(fstat(fd_src, &st_src) == 0 && fstat(fd_dst, &st_dst) == 0);
	TEST_CHECK(st_src.st_ino == st_dst.st_ino);
	close(fd_src);
	close(fd_dst);
	/* MOVE: copies added, originals expunged. */
	struct store_uid_range second = { 2, 2 };
	TEST_CHECK_INT(store_msg_copy_across(src, src_inbox, &second, 1, dst, dst_inbox, true,
					     NULL, a, &map, NULL),
		       STORE_OK);
	TEST_CHECK_INT(map.count, 1);
	TEST_CHECK_INT(map.src_uids[0], 2);
	struct store_mailbox_status st;
	TEST_CHECK_INT(store_mailbox_status(src, "INBOX", &st, NULL), STORE_OK);
	TEST_CHECK_INT(st.messages, 1);
	TEST_CHECK_INT(store_mailbox_status(dst, "INBOX", &st, NULL), STORE_OK);
	TEST_CHECK_INT(st.messages, 3);
	arena_destroy(&a);
	store_user_close(&src);
	store_user_close(&dst);
}

static void test_public_store_and_user_exists(void)
{
	struct store_user *pub = user_open(STORE_PUBLIC_OWNER);
	TEST_CHECK(store_user_is_public(pub));
	/* No default folders, and nobody owns it: only entries count. */
	TEST_CHECK_INT(mailbox_id(pub, "INBOX"), 0);
	TEST_CHECK_INT(store_mailbox_create(pub, "News", 0, NULL, NULL), STORE_OK);
	TEST_CHECK_INT(rights_of(pub, "News", "anybody", NULL, 0), 0);
	TEST_CHECK_INT(store_acl_set(pub, "News", "anyone", parse("lr"), NULL), STORE_OK);
	TEST_CHECK_INT(rights_of(pub, "News", "anybody", NULL, 0), parse("lr"));
	store_user_close(&pub);
	struct stat st;
	char path[512];
	snprintf(path, sizeof(path), "%s/public/mail.db", test_dir);
	TEST_CHECK(stat(path, &st) == 0);
	TEST_CHECK(store_user_exists(test_dir, "owner1"));
	TEST_CHECK(!store_user_exists(test_dir, "nobody"));
	TEST_CHECK(!store_user_exists(test_dir, "../etc"));
	/* Names that would read as identifiers are not users. */
	TEST_CHECK(!store_user_name_valid("anyone", NULL));
	TEST_CHECK(!store_user_name_valid("$crew", NULL));
	TEST_CHECK(!store_user_name_valid("-bob", NULL));
	TEST_CHECK(!store_user_name_valid(STORE_PUBLIC_OWNER, NULL));
}

int main(void)
{
	test_dir_make("/tmp/petrel-test-acl.XXXXXX");
	test_run("evaluation_union_minus_negative", test_evaluation_union_minus_negative);
	test_run("create_inherits_and_delete_forgets", test_create_inherits_and_delete_forgets);
	test_run("sharing_index_and_groups", test_sharing_index_and_groups);
	test_run("seen_is_kept_per_reader", test_seen_is_kept_per_reader);
	test_run("copy_and_move_across_stores", test_copy_and_move_across_stores);
	test_run("public_store_and_user_exists", test_public_store_and_user_exists);
	test_dir_remove();
	return test_finish();
}
