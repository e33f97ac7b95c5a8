/*
 * What every metadata-store flavor shares: opening a flavor by name, the
 * free functions of query results, and the arena those results live in.
 */
#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "config/stack.h"
#include "stores/store.h"

/* A metadata-store flavor's code is in its row of the flavor table
 * (flavor.c): the built-in ones open sqlite and postgres stores. */
int zenc__store_open(
	zenc__store **out, const char *flavor, const char *location)
{
	const zenc__flavor_row *row = NULL;
	const zenc_flavor *f;
	zenc_buf known = ZENC_BUF_INIT;
	int rc;

	*out = NULL;
	if (!flavor)
		flavor = "sqlite";
	if ((rc = zenc__plugins_load()) < 0)
		return rc;
	if ((f = zenc_flavor_find("metadata-store", flavor)))
		row = zenc__flavor_row_of(f);
	if (row && row->open_store)
		return row->open_store(out, location);
	if (row)
		return zenc__error_set(
			ZENC_ECONFIG,
			"metadata-store flavor '%s' has no implementation in "
			"this program",
			flavor);
	zenc__flavor_names(&known, "metadata-store");
	rc = zenc__error_set(
		ZENC_ECONFIG, "unknown metadata-store flavor '%s' (known: %s)",
		flavor, zenc_buf_cstr(&known));
	zenc_buf_release(&known);
	return rc;
}

int zenc__store_steps_put(
	zenc__store *store, const zenc__step_record *steps, size_t n)
{
	size_t i;
	int rc = 0;

	if (n == 0)
		return 0;
	if (store->version >= 3 && store->steps_put)
		return store->steps_put(store, steps, n);
	for (i = 0; i < n; i++)
		if (store->step_put(store, &steps[i]) < 0)
			rc = ZENC_ESTORE;
	return rc;
}

void zenc__store_free(zenc__store *store)
{
	if (store)
		store->free(store);
}

void zenc__run_info_free(zenc__run_info *info)
{
	if (!info)
		return;
	zenc__arena_free(info->arena);
	memset(info, 0, sizeof(*info));
}

void zenc__run_list_free(zenc__run_list *list)
{
	if (!list)
		return;
	zenc__arena_free(list->arena);
	memset(list, 0, sizeof(*list));
}

/*
 * A bump allocator over a list of blocks.  Query results are many small
 * strings and a few arrays; one malloc per 64 KiB instead of one per string
 * keeps `zenc runs list` over many runs fast.  An allocation larger than a
 * block gets a block of its own.
 */
#define ARENA_BLOCK 65536
#define ARENA_ALIGN alignof(max_align_t)
#define ARENA_ROUND(n) (((n) + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1))

struct arena_block {
	struct arena_block *next;
	size_t used;
	size_t cap;
};

struct zenc__arena {
	struct arena_block *head;
};

#define BLOCK_DATA(b) ((char *)(b) + ARENA_ROUND(sizeof(struct arena_block)))

zenc__arena *zenc__arena_new(void)
{
	return zenc__calloc(1, sizeof(zenc__arena));
}

static struct arena_block *arena_block_new(size_t cap)
{
	struct arena_block *b;

	b = zenc__malloc(ARENA_ROUND(sizeof(struct arena_block)) + cap);
	b->used = 0;
	b->cap = cap;
	return b;
}

void *zenc__arena_alloc(zenc__arena *a, size_t n)
{
	struct arena_block *b = a->head;
	void *p;

	n = ARENA_ROUND(n ? n : 1);
	if (n > ARENA_BLOCK / 4) {
		/* Big: its own block, behind the current one so that the
		 * current one keeps filling. */
		b = arena_block_new(n);
		if (a->head) {
			b->next = a->head->next;
			a->head->next = b;
		} else {
			b->next = NULL;
			a->head = b;
		}
	} else if (!b || b->cap - b->used < n) {
		b = arena_block_new(ARENA_BLOCK);
		b->next = a->head;
		a->head = b;
	}
	p = BLOCK_DATA(b) + b->used;
	b->used += n;
	memset(p, 0, n);
	return p;
}

void *zenc__arena_memdup(zenc__arena *a, const void *p, size_t n)
{
	void *q = zenc__arena_alloc(a, n);

	if (n)
		memcpy(q, p, n);
	return q;
}

char *zenc__arena_strndup(zenc__arena *a, const char *s, size_t n)
{
	char *q = zenc__arena_alloc(a, n + 1);

	memcpy(q, s, n);
	q[n] = '\0';
	return q;
}

char *zenc__arena_strdup(zenc__arena *a, const char *s)
{
	return s ? zenc__arena_strndup(a, s, strlen(s)) : NULL;
}

void zenc__arena_free(void *arena)
{
	zenc__arena *a = arena;
	struct arena_block *b, *next;

	if (!a)
		return;
	for (b = a->head; b; b = next) {
		next = b->next;
		free(b);
	}
	free(a);
}
