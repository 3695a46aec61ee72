/* The full-text index's tokenizer: FTS5's trigram tokenizer, with each
 * trigram of a document passed on once (store-fts.h).
 *
 * The index keeps detail=column: for each trigram, the texts and columns
 * it occurs in, not how often or where. FTS5 nevertheless does its work
 * for every occurrence: a 2 MB text is two million trigrams, most of them
 * repeats, each looked up in its hash of pending postings only to add
 * nothing. Passing each distinct trigram once per column gives the same
 * postings for a fraction of the work (measured: two to three times less
 * CPU per inserted or deleted text).
 *
 * FTS5 tokenizes a text the same way when it inserts it and when it
 * deletes it (both FTS5_TOKENIZE_DOCUMENT), so a text indexed before this
 * wrapper existed is removed cleanly by it too. Queries are passed through
 * untouched. What does differ is FTS5's count of tokens per text, which
 * only its ranking functions read; the store never ranks.
 *
 * The wrapper is registered under the name "trigram" on each connection
 * to fts.db, in front of the built-in one it wraps: the tables keep
 * naming the built-in tokenizer, so the sqlite3 shell reads fts.db as
 * before, and an index written with or without the wrapper is the same. */

#include "store/store-fts.h"

#include "lib/xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A trigram is at most three UTF-8 characters of four bytes: its bytes
 * and its length fit the sixteen bytes of a key. */
#define TRIGRAM_KEY_BYTES 16
/* The set of trigrams seen in one column starts at most this big (less
 * for a short text) and doubles;
 * past the last size, new trigrams are passed on unrecorded (repeats
 * then cost FTS5 its usual work, but memory stays bounded). */
#define TRIGRAM_SET_FIRST_SLOTS 4096u
#define TRIGRAM_SET_MAX_SLOTS (1u << 18)

struct trigram_wrapper {
	fts5_tokenizer base;
	void *base_data;
};

struct trigram_tokenizer {
	const struct trigram_wrapper *wrapper;
	Fts5Tokenizer *base;
};

/* A trigram's bytes, zeros after them, and its length in the top byte. */
struct trigram_key {
	uint64_t w[2];
};

/* An open-addressing set of trigram keys; an all-zero slot is empty
 * (every key has its length in its top byte, so none is zero), and the
 * callback and context FTS5 gave, to pass first occurrences on to. */
struct trigram_set {
	struct trigram_key *slots;
	uint32_t mask, used;
	void *fts_ctx;
	int (*fts_token)(void *ctx, int tflags, const char *token, int len, int start, int end);
};

static uint32_t trigram_slot(const struct trigram_key *k, uint32_t mask)
{
	uint64_t h = (k->w[0] ^ (k->w[1] * 0xff51afd7ed558ccdull)) * 0x9e3779b97f4a7c15ull;
	return (uint32_t)(h >> 32) & mask;
}

static bool trigram_key_empty(const struct trigram_key *k)
{
	return k->w[0] == 0 && k->w[1] == 0;
}

static bool trigram_key_equal(const struct trigram_key *a, const struct trigram_key *b)
{
	return a->w[0] == b->w[0] && a->w[1] == b->w[1];
}

static void trigram_set_put(struct trigram_key *slots, uint32_t mask, const struct trigram_key *k)
{
	uint32_t i = trigram_slot(k, mask);
	while (!trigram_key_empty(&slots[i]))
		i = (i + 1) & mask;
	slots[i] = *k;
}

/* Doubles the set; false (the set unchanged) at its largest size or
 * when memory is short. */
static bool trigram_set_grow(struct trigram_set *s)
{
	uint32_t slots = (s->mask + 1) * 2;
	if (slots > TRIGRAM_SET_MAX_SLOTS)
		return false;
	struct trigram_key *bigger = calloc(slots, sizeof(*bigger));
	if (bigger == NULL)
		return false;
	for (uint32_t i = 0; i <= s->mask; i++)
		if (!trigram_key_empty(&s->slots[i]))
			trigram_set_put(bigger, slots - 1, &s->slots[i]);
	free(s->slots);
	s->slots = bigger;
	s->mask = slots - 1;
	return true;
}

/* Whether k was already in the set; records it otherwise, while there is
 * room (a trigram not recorded is passed on again: a repeat costs work,
 * never a wrong index). */
static bool trigram_set_seen(struct trigram_set *s, const struct trigram_key *k)
{
	uint32_t i = trigram_slot(k, s->mask);
	while (!trigram_key_empty(&s->slots[i])) {
		if (trigram_key_equal(&s->slots[i], k))
			return true;
		i = (i + 1) & s->mask;
	}
	if ((s->used + 1) * 2 > s->mask + 1) {
		if (!trigram_set_grow(s))
			return false;
		return trigram_set_seen(s, k);
	}
	s->slots[i] = *k;
	s->used++;
	return false;
}

static int trigram_pass_first(void *ctx, int tflags, const char *token, int len, int start,
			      int end)
{
	struct trigram_set *s = ctx;
	if (len > 0 && len < TRIGRAM_KEY_BYTES) {
		/* Built in registers: a key copied through memory byte by
		 * byte and read back whole stalls on every trigram. */
		struct trigram_key k = { { 0, (uint64_t)len << 56 } };
		for (int i = 0; i < len; i++)
			k.w[i / 8] |= (uint64_t)(unsigned char)token[i] << (8 * (i % 8));
		if (trigram_set_seen(s, &k))
			return SQLITE_OK;
	}
	return s->fts_token(s->fts_ctx, tflags, token, len, start, end);
}

static int trigram_create(void *data, const char **args, int nargs, Fts5Tokenizer **out)
{
	const struct trigram_wrapper *w = data;
	struct trigram_tokenizer *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return SQLITE_NOMEM;
	t->wrapper = w;
	int rc = w->base.xCreate(w->base_data, args, nargs, &t->base);
	if (rc != SQLITE_OK) {
		free(t);
		return rc;
	}
	*out = (Fts5Tokenizer *)t;
	return SQLITE_OK;
}

static void trigram_delete(Fts5Tokenizer *tok)
{
	struct trigram_tokenizer *t = (struct trigram_tokenizer *)tok;
	t->wrapper->base.xDelete(t->base);
	free(t);
}

static int trigram_tokenize(Fts5Tokenizer *tok, void *ctx, int flags, const char *text, int len,
			    int (*token)(void *ctx, int tflags, const char *token, int len,
					 int start, int end))
{
	struct trigram_tokenizer *t = (struct trigram_tokenizer *)tok;
	const fts5_tokenizer *base = &t->wrapper->base;
	/* A text of len bytes has fewer than len trigrams: a short one (a
	 * header column) gets a set its size, not the first full size. */
	uint32_t slots = 16;
	while (slots < TRIGRAM_SET_FIRST_SLOTS && slots < (uint32_t)len * 2)
		slots *= 2;
	struct trigram_set s = {
		.slots = (flags & FTS5_TOKENIZE_DOCUMENT) ?
			calloc(slots, sizeof(struct trigram_key)) : NULL,
		.mask = slots - 1,
		.fts_ctx = ctx,
		.fts_token = token,
	};
	if (s.slots == NULL)
		return base->xTokenize(t->base, ctx, flags, text, len, token);
	int rc = base->xTokenize(t->base, &s, flags, text, len, trigram_pass_first);
	free(s.slots);
	return rc;
}

static fts5_api *store_fts_api(sqlite3 *db)
{
	fts5_api *api = NULL;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_pointer(st, 1, &api, "fts5_api_ptr", NULL);
	sqlite3_step(st);
	sqlite3_finalize(st);
	return api;
}

bool store_fts_tokenizer_install(sqlite3 *db)
{
	fts5_api *api = store_fts_api(db);
	if (api == NULL)
		return false;
	struct trigram_wrapper *w = xcalloc(1, sizeof(*w));
	if (api->xFindTokenizer(api, "trigram", &w->base_data, &w->base) != SQLITE_OK) {
		free(w);
		return false;
	}
	static fts5_tokenizer wrapper = {
		.xCreate = trigram_create,
		.xDelete = trigram_delete,
		.xTokenize = trigram_tokenize,
	};
	if (api->xCreateTokenizer(api, "trigram", w, &wrapper, free) != SQLITE_OK) {
		free(w);
		return false;
	}
	/* FTS5 finds the most recently registered tokenizer of a name;
	 * checked rather than assumed. */
	void *found_data;
	fts5_tokenizer found;
	return api->xFindTokenizer(api, "trigram", &found_data, &found) == SQLITE_OK &&
	       found.xTokenize == trigram_tokenize;
}
