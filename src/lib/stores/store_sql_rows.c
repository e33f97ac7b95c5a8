/*
 * Records and rows, for every SQL dialect: the values bound for each
 * record written, and the records read back from each query's columns
 * (in the column order store_sql.h gives for that query).
 */
#include <stdlib.h>
#include <string.h>

#include "stores/store_sql.h"
#include "internal.h"

/* Parameters.  More than ZENC__SQL_MAX_PARAMS is a bug here. */

static zenc__sql_value *p_next(zenc__sql_params *p)
{
	if (p->n >= ZENC__SQL_MAX_PARAMS)
		abort();
	return &p->v[p->n++];
}

void zenc__sqlp_text(zenc__sql_params *p, const char *v)
{
	zenc__sql_value *x = p_next(p);

	x->type = v ? ZENC__SQL_TEXT : ZENC__SQL_NULL;
	x->text = v;
}

void zenc__sqlp_int(zenc__sql_params *p, long long v)
{
	zenc__sql_value *x = p_next(p);

	x->type = ZENC__SQL_INT;
	x->i = v;
}

void zenc__sqlp_double(zenc__sql_params *p, double v)
{
	zenc__sql_value *x = p_next(p);

	x->type = ZENC__SQL_DOUBLE;
	x->d = v;
}

/* A time of 0 is stored as NULL. */
void zenc__sqlp_time(zenc__sql_params *p, double t)
{
	if (t == 0)
		zenc__sqlp_text(p, NULL);
	else
		zenc__sqlp_double(p, t);
}

/* A count of 0, a limit, is NULL: no limit. */
void zenc__sqlp_limit(zenc__sql_params *p, size_t n)
{
	if (n)
		zenc__sqlp_int(p, (long long)n);
	else
		zenc__sqlp_text(p, NULL);
}

/* Reading: columns into the arena.  NULL stays NULL, and is 0 as a
 * number. */
static const char *col_text(zenc__arena *a, zenc__sql_rows *r, int i)
{
	size_t len = 0;
	const char *t = r->s->d->text(r, i, &len);

	return t ? zenc__arena_strndup(a, t, len) : NULL;
}

static long long col_ll(zenc__sql_rows *r, int i)
{
	return r->s->d->integer(r, i);
}

static int col_int(zenc__sql_rows *r, int i)
{
	return (int)col_ll(r, i);
}

static double col_double(zenc__sql_rows *r, int i)
{
	return r->s->d->real(r, i);
}

void zenc__sql_read_run(
	zenc__arena *a, zenc__sql_rows *r, void *rec, const char *run_id)
{
	zenc__run_record *out = rec;

	(void)run_id;
	out->id = col_text(a, r, 0);
	out->name = col_text(a, r, 1);
	out->pipeline = col_text(a, r, 2);
	out->status = col_text(a, r, 3);
	out->stack = col_text(a, r, 4);
	out->host = col_text(a, r, 5);
	out->pid = (long)col_ll(r, 6);
	out->started = col_double(r, 7);
	out->ended = col_double(r, 8);
	out->resumed_from = col_text(a, r, 9);
}

/* Column 0 is the step's key in the readers of per-step rows. */
void zenc__sql_read_step(
	zenc__arena *a, zenc__sql_rows *r, void *rec, const char *run_id)
{
	zenc__step_info *si = rec;

	si->rec.run_id = run_id;
	si->rec.name = col_text(a, r, 1);
	si->rec.status = col_text(a, r, 2);
	si->rec.attempts = col_int(r, 3);
	si->rec.started = col_double(r, 4);
	si->rec.ended = col_double(r, 5);
	si->rec.error_type = col_text(a, r, 6);
	si->rec.error_message = col_text(a, r, 7);
	si->rec.exit_code = col_int(r, 8);
	si->rec.signal = col_int(r, 9);
	si->rec.params_json = col_text(a, r, 10);
	si->rec.log_uri = col_text(a, r, 11);
	si->rec.upstream_json = col_text(a, r, 12);
	si->rec.cached_from = col_text(a, r, 13);
	si->rec.cache_key = col_text(a, r, 14);
}

void zenc__sql_read_attempt(
	zenc__arena *a, zenc__sql_rows *r, void *rec, const char *run_id)
{
	zenc__attempt_record *out = rec;

	(void)run_id;
	out->attempt = col_int(r, 1);
	out->status = col_text(a, r, 2);
	out->started = col_double(r, 3);
	out->ended = col_double(r, 4);
	out->error_type = col_text(a, r, 5);
	out->error_message = col_text(a, r, 6);
	out->exit_code = col_int(r, 7);
	out->signal = col_int(r, 8);
	out->log_uri = col_text(a, r, 9);
}

void zenc__sql_read_artifact(
	zenc__arena *a, zenc__sql_rows *r, void *rec, const char *run_id)
{
	zenc__artifact_record *out = rec;

	out->run_id = run_id;
	out->step = col_text(a, r, 1);
	out->name = col_text(a, r, 2);
	out->type = col_text(a, r, 3);
	out->uri = col_text(a, r, 4);
	out->size = (int64_t)col_ll(r, 5);
	out->checksum = col_text(a, r, 6);
}

void zenc__sql_read_hook(
	zenc__arena *a, zenc__sql_rows *r, void *rec, const char *run_id)
{
	zenc__hook_record *out = rec;

	out->run_id = run_id;
	out->step = col_text(a, r, 1);
	out->event = col_text(a, r, 2);
	out->hook = col_text(a, r, 3);
	out->attempt = col_int(r, 4);
	out->status = col_text(a, r, 5);
	out->error = col_text(a, r, 6);
	out->started = col_double(r, 7);
	out->duration = col_double(r, 8);
	out->seq = col_int(r, 9);
}

void zenc__sql_read_alert(
	zenc__arena *a, zenc__sql_rows *r, void *rec, const char *run_id)
{
	zenc__alert_record *out = rec;

	(void)run_id;
	out->id = col_text(a, r, 0);
	out->created = col_double(r, 1);
	out->alerter = col_text(a, r, 2);
	out->flavor = col_text(a, r, 3);
	out->run_id = col_text(a, r, 4);
	out->pipeline = col_text(a, r, 5);
	out->step = col_text(a, r, 6);
	out->event = col_text(a, r, 7);
	out->step_status = col_text(a, r, 8);
	out->error_type = col_text(a, r, 9);
	out->title = col_text(a, r, 10);
	out->dedup_key = col_text(a, r, 11);
	out->status = col_text(a, r, 12);
	out->alert_json = col_text(a, r, 13);
	out->attempts = col_int(r, 14);
	out->last_error = col_text(a, r, 15);
	out->updated = col_double(r, 16);
	out->delivered = col_double(r, 17);
	out->lease_until = col_double(r, 18);
}

/* Writing. */

void zenc__sql_bind_run(zenc__sql_params *p, const zenc__run_record *r)
{
	p->n = 0;
	zenc__sqlp_text(p, r->id);
	zenc__sqlp_text(p, r->name);
	zenc__sqlp_text(p, r->pipeline);
	zenc__sqlp_text(p, r->status ? r->status : "running");
	zenc__sqlp_text(p, r->stack);
	zenc__sqlp_text(p, r->host);
	zenc__sqlp_int(p, r->pid);
	zenc__sqlp_time(p, r->started);
	zenc__sqlp_time(p, r->ended);
	zenc__sqlp_text(p, r->resumed_from);
}

void zenc__sql_bind_step(zenc__sql_params *p, const zenc__step_record *r)
{
	p->n = 0;
	zenc__sqlp_text(p, r->run_id);
	zenc__sqlp_text(p, r->name);
	zenc__sqlp_text(p, r->status ? r->status : "pending");
	zenc__sqlp_int(p, r->attempts);
	zenc__sqlp_time(p, r->started);
	zenc__sqlp_time(p, r->ended);
	zenc__sqlp_text(p, r->error_type);
	zenc__sqlp_text(p, r->error_message);
	zenc__sqlp_int(p, r->exit_code);
	zenc__sqlp_int(p, r->signal);
	zenc__sqlp_text(p, r->params_json);
	zenc__sqlp_text(p, r->log_uri);
	zenc__sqlp_text(p, r->upstream_json);
	zenc__sqlp_text(p, r->cached_from);
	zenc__sqlp_text(p, r->cache_key);
}

void zenc__sql_bind_attempt(
	zenc__sql_params *p,
	const zenc__step_record *step,
	const zenc__attempt_record *r)
{
	p->n = 0;
	zenc__sqlp_text(p, step->run_id);
	zenc__sqlp_text(p, step->name);
	zenc__sqlp_int(p, r->attempt);
	zenc__sqlp_text(p, r->status ? r->status : "failed");
	zenc__sqlp_time(p, r->started);
	zenc__sqlp_time(p, r->ended);
	zenc__sqlp_text(p, r->error_type);
	zenc__sqlp_text(p, r->error_message);
	zenc__sqlp_int(p, r->exit_code);
	zenc__sqlp_int(p, r->signal);
	zenc__sqlp_text(p, r->log_uri);
}

void zenc__sql_bind_artifact(
	zenc__sql_params *p,
	const zenc__step_record *step,
	const zenc__artifact_record *r)
{
	p->n = 0;
	zenc__sqlp_text(p, r->run_id ? r->run_id : step->run_id);
	zenc__sqlp_text(p, r->step ? r->step : step->name);
	zenc__sqlp_text(p, r->name);
	zenc__sqlp_text(p, r->type);
	zenc__sqlp_text(p, r->uri);
	zenc__sqlp_int(p, r->size);
	zenc__sqlp_text(p, r->checksum);
}

/* `run_id` and `step` fill in what the record leaves NULL (a run-level
 * hook has step NULL on purpose, and keeps it). */
void zenc__sql_bind_hook(
	zenc__sql_params *p,
	const char *run_id,
	const char *step,
	const zenc__hook_record *r)
{
	p->n = 0;
	zenc__sqlp_text(p, r->run_id ? r->run_id : run_id);
	zenc__sqlp_text(p, r->step ? r->step : step);
	zenc__sqlp_text(p, r->event);
	zenc__sqlp_text(p, r->hook);
	zenc__sqlp_int(p, r->attempt);
	zenc__sqlp_text(p, r->status);
	zenc__sqlp_text(p, r->error);
	zenc__sqlp_time(p, r->started);
	zenc__sqlp_double(p, r->duration);
	zenc__sqlp_int(p, r->seq);
}

void zenc__sql_bind_alert(zenc__sql_params *p, const zenc__alert_record *a)
{
	p->n = 0;
	zenc__sqlp_text(p, a->id);
	zenc__sqlp_double(p, a->created);
	zenc__sqlp_text(p, a->alerter);
	zenc__sqlp_text(p, a->flavor);
	zenc__sqlp_text(p, a->run_id);
	zenc__sqlp_text(p, a->pipeline);
	zenc__sqlp_text(p, a->step);
	zenc__sqlp_text(p, a->event);
	zenc__sqlp_text(p, a->step_status);
	zenc__sqlp_text(p, a->error_type);
	zenc__sqlp_text(p, a->title);
	zenc__sqlp_text(p, a->dedup_key);
	zenc__sqlp_text(p, a->status ? a->status : "pending");
	zenc__sqlp_text(p, a->alert_json ? a->alert_json : "{}");
	zenc__sqlp_int(p, a->attempts);
	zenc__sqlp_text(p, a->last_error);
	zenc__sqlp_time(p, a->updated);
	zenc__sqlp_time(p, a->delivered);
	zenc__sqlp_time(p, a->lease_until);
}

/* Reading. */

void zenc__sql_read_artifact_of_step(
	zenc__arena *a, zenc__sql_rows *r, void *rec, const char *run_id)
{
	zenc__artifact_record *out = rec;

	(void)run_id;
	out->name = col_text(a, r, 0);
	out->type = col_text(a, r, 1);
	out->uri = col_text(a, r, 2);
	out->size = (int64_t)col_ll(r, 3);
	out->checksum = col_text(a, r, 4);
}
