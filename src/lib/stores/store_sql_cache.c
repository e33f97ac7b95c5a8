/*
 * The step cache of every SQL store (engine/cache.c decides what to take
 * from it): the lookup of a completed step by its cache key.  The keys
 * themselves are columns of the step rows, written with them; the SQL
 * text is the dialect's (store_sqlite.c, store_postgres.c).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "stores/store_sql.h"
#include "internal.h"

static zenc__sqlstore *to_sql(zenc__store *self)
{
	return (zenc__sqlstore *)self;
}

static void copy_id(char out[37], const char *t, size_t len)
{
	if (!t || len > 36)
		len = 0;
	memcpy(out, t ? t : "", len);
	out[len] = '\0';
}

static int sql_cache_lookup(
	zenc__store *self, const char *key, char run_id[37], char from[37])
{
	zenc__sqlstore *s = to_sql(self);
	zenc__sql_params p = {.n = 0};
	zenc__sql_rows r = {s, NULL, 0};
	const char *t;
	size_t len;
	int rc;

	run_id[0] = from[0] = '\0';
	zenc__sqlp_text(&p, key);
	pthread_mutex_lock(&s->lock);
	if ((rc = s->d->ready(s)) < 0)
		goto done;
	if (s->d->query(s, ZENC__Q_CACHE_LOOKUP, &p, &r) < 0 ||
	    (rc = s->d->next(&r)) < 0) {
		rc = zenc__sqlstore_fail(s, "cannot look up the step cache");
		goto done;
	}
	if (rc == 0) {
		rc = ZENC_ENOTFOUND;
		goto done;
	}
	t = s->d->text(&r, 0, &len);
	copy_id(run_id, t, len);
	t = s->d->text(&r, 1, &len);
	copy_id(from, t, len);
	rc = run_id[0] ? 0 : ZENC_ENOTFOUND;
done:
	s->d->close(&r);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void zenc__sqlstore_init_cache(zenc__sqlstore *s)
{
	s->base.cache_lookup = sql_cache_lookup;
}
