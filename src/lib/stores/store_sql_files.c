/*
 * The SQL store's questions about a run's files: whether an artifact
 * file of a run is reused by another run (a step taken from the cache
 * records the uri of the run that made the file), so that deleting a
 * run removes only the files no other run points to.
 */
#include <pthread.h>

#include "stores/store_sql.h"

#define fail zenc__sqlstore_fail

static int sql_uri_shared(
	zenc__store *self,
	const char *run_id,
	const char *uri,
	const char *owner,
	int *shared)
{
	zenc__sqlstore *s = (zenc__sqlstore *)self;
	zenc__sql_params p = {.n = 0};
	long long n = 0;
	int rc;

	*shared = 0;
	zenc__sqlp_text(&p, uri);
	zenc__sqlp_text(&p, run_id);
	zenc__sqlp_text(&p, owner);
	pthread_mutex_lock(&s->lock);
	if ((rc = s->d->ready(s)) == 0) {
		if (zenc__sql_query_number(s, ZENC__Q_URI_SHARED, &p, &n) < 0)
			rc =
				fail(s, "cannot look up the artifacts of %s",
				     s->where);
		else
			*shared = n > 0;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void zenc__sqlstore_init_files(zenc__sqlstore *s)
{
	s->base.uri_shared = sql_uri_shared;
}
