/*
 * The alert outbox of every SQL store: alerts put, updated, listed,
 * claimed with a lease by whoever sends them (a hook, the courier, a
 * flush), and scheduled for the courier's next try.  The rules are here
 * once; the SQL text of each query is the dialect's (store_sqlite.c,
 * store_postgres.c).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "stores/store_sql.h"
#include "internal.h"

#define fail zenc__sqlstore_fail

static zenc__sqlstore *to_sql(zenc__store *self)
{
	return (zenc__sqlstore *)self;
}

void zenc__alert_list_free(zenc__alert_list *list)
{
	if (!list)
		return;
	zenc__arena_free(list->arena);
	memset(list, 0, sizeof(*list));
}

static int sql_alert_put(zenc__store *self, const zenc__alert_record *a)
{
	zenc__sql_params p;

	zenc__sql_bind_alert(&p, a);
	return zenc__sql_write_one(
		to_sql(self), ZENC__Q_ALERT_PUT, &p, NULL, "record alert",
		a->id);
}

static int sql_alert_update(
	zenc__store *self,
	const char *id,
	const char *status,
	int attempts,
	const char *last_error,
	double lease_until)
{
	zenc__sql_params p = {.n = 0};
	long long changed = 0;
	int rc;

	zenc__sqlp_text(&p, id);
	zenc__sqlp_text(&p, status);
	zenc__sqlp_int(&p, attempts);
	zenc__sqlp_text(&p, last_error);
	zenc__sqlp_time(&p, lease_until);
	zenc__sqlp_double(&p, zenc__now());
	rc = zenc__sql_write_one(
		to_sql(self), ZENC__Q_ALERT_UPDATE, &p, &changed,
		"update alert", id);
	if (rc == 0 && changed == 0)
		rc = zenc__error_set(ZENC_ENOTFOUND, "no alert '%s'", id);
	return rc;
}

/* Runs an alert query into `out`. */
static int list_alerts(
	zenc__sqlstore *s,
	enum zenc__sql_query q,
	const zenc__sql_params *p,
	zenc__alert_list *out)
{
	void *alerts;
	int rc;

	rc = zenc__sql_list_records(
		s, q, p, sizeof(zenc__alert_record), zenc__sql_read_alert,
		"list alerts", &alerts, &out->n, &out->arena);
	out->alerts = alerts;
	return rc;
}

static int sql_alerts_list(
	zenc__store *self,
	const char *status,
	size_t limit,
	zenc__alert_list *out)
{
	zenc__sql_params p = {.n = 0};

	zenc__sqlp_text(&p, status);
	zenc__sqlp_limit(&p, limit);
	return list_alerts(to_sql(self), ZENC__Q_ALERTS_LIST, &p, out);
}

static int sql_alerts_pending(
	zenc__store *self, double now, zenc__alert_list *out)
{
	zenc__sql_params p = {.n = 0};

	zenc__sqlp_double(&p, now);
	return list_alerts(to_sql(self), ZENC__Q_ALERTS_PENDING, &p, out);
}

static int sql_alert_claim(
	zenc__store *self,
	const char *id,
	double now,
	double until,
	int *claimed)
{
	zenc__sqlstore *s = to_sql(self);
	zenc__sql_params p = {.n = 0};
	long long changed = 0;
	int rc;

	*claimed = 0;
	zenc__sqlp_text(&p, id);
	zenc__sqlp_double(&p, now);
	zenc__sqlp_double(&p, until);
	/* Not tried again: a claim whose reply was lost may have been
	 * taken, and a second try would find its own lease. */
	pthread_mutex_lock(&s->lock);
	if ((rc = s->d->ready(s)) == 0) {
		if (s->d->exec(s, ZENC__Q_ALERT_CLAIM, &p, &changed) < 0)
			rc = fail(s, "cannot claim alert '%s'", id);
		else
			*claimed = changed == 1;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int sql_alerts_recent(
	zenc__store *self, const char *dedup_key, double since, int *count)
{
	zenc__sqlstore *s = to_sql(self);
	zenc__sql_params p = {.n = 0};
	long long n = 0;
	int rc;

	*count = 0;
	zenc__sqlp_text(&p, dedup_key);
	zenc__sqlp_double(&p, since);
	pthread_mutex_lock(&s->lock);
	if ((rc = s->d->ready(s)) == 0) {
		if (zenc__sql_query_number(s, ZENC__Q_ALERTS_RECENT, &p, &n) <
		    0)
			rc = fail(s, "cannot look up recent alerts");
		else
			*count = (int)n;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int sql_alerts_due(zenc__store *self, double now, zenc__alert_list *out)
{
	zenc__sql_params p = {.n = 0};

	zenc__sqlp_double(&p, now);
	return list_alerts(to_sql(self), ZENC__Q_ALERTS_DUE, &p, out);
}

static int sql_alert_next(zenc__store *self, const char *id, double next_at)
{
	zenc__sql_params p = {.n = 0};

	zenc__sqlp_text(&p, id);
	zenc__sqlp_time(&p, next_at);
	return zenc__sql_write_one(
		to_sql(self), ZENC__Q_ALERT_NEXT, &p, NULL, "schedule alert",
		id);
}

static int sql_alerts_wake(zenc__store *self, size_t *pending, double *next)
{
	zenc__sqlstore *s = to_sql(self);
	zenc__sql_rows r = {s, NULL, 0};
	int rc;

	*pending = 0;
	*next = 0;
	pthread_mutex_lock(&s->lock);
	if ((rc = s->d->ready(s)) < 0)
		goto done;
	if (s->d->query(s, ZENC__Q_ALERTS_WAKE, NULL, &r) < 0 ||
	    (rc = s->d->next(&r)) < 0) {
		rc = fail(s, "cannot look up pending alerts");
		goto done;
	}
	if (rc == 1) {
		*pending = (size_t)s->d->integer(&r, 0);
		*next = s->d->real(&r, 1);
	}
	rc = 0;
done:
	s->d->close(&r);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void zenc__sqlstore_init_outbox(zenc__sqlstore *s)
{
	s->base.alert_put = sql_alert_put;
	s->base.alert_update = sql_alert_update;
	s->base.alerts_list = sql_alerts_list;
	s->base.alerts_pending = sql_alerts_pending;
	s->base.alert_claim = sql_alert_claim;
	s->base.alerts_recent = sql_alerts_recent;
	s->base.alerts_due = sql_alerts_due;
	s->base.alert_next = sql_alert_next;
	s->base.alerts_wake = sql_alerts_wake;
}
