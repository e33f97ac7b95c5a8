/*
 * The rules of the SQL metadata stores, once for every dialect: which
 * writes go in one transaction, which are tried again, how a run is found,
 * how rows become records, the alert outbox, the stale-run sweep and the
 * migrations' bookkeeping.  See store_sql.h for the primitives a dialect
 * gives; store_sqlite.c and store_postgres.c are the dialects.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "stores/store_sql.h"
#include "engine/watcher.h"
#include "internal.h"

static zenc__sqlstore *to_sql(zenc__store *self)
{
	return (zenc__sqlstore *)self;
}

/* Whether this thread's last failure was another connection's lock
 * (zenc__store_last_busy()); every write starts by clearing it. */
static _Thread_local int last_busy;

int zenc__store_last_busy(void)
{
	return last_busy;
}

int zenc__sqlstore_fail(zenc__sqlstore *s, const char *fmt, ...)
{
	zenc_buf b = ZENC_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	zenc_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	last_busy = s->d->busy && s->d->busy(s);
	zenc__error_set(
		ZENC_ESTORE, "%s: %s", zenc_buf_cstr(&b), s->d->errmsg(s));
	zenc_buf_release(&b);
	return ZENC_ESTORE;
}

#define fail zenc__sqlstore_fail

/* A growable array of fixed-size elements, for rows before they are
 * copied into the arena. */
struct vec {
	void *p;
	size_t n;
	size_t cap;
	size_t size;
};

static void *vec_push(struct vec *v)
{
	void *e;

	zenc__array_grow(&v->p, &v->cap, v->n + 1, v->size);
	e = (char *)v->p + v->n * v->size;
	memset(e, 0, v->size);
	v->n++;
	return e;
}

/*
 * Runs query `q` and reads all its rows with `read` into an array of
 * `size`-byte records in the arena (*out, *n; NULL for none).  With
 * `keys`, column 0 of each row is pushed there too.  0, or -1 with the
 * dialect's error kept.
 */
static int query_all(
	zenc__sqlstore *s,
	enum zenc__sql_query q,
	const zenc__sql_params *p,
	zenc__arena *a,
	size_t size,
	zenc__sql_read_fn read,
	const char *run_id,
	struct vec *keys,
	void **out,
	size_t *n)
{
	struct vec v = {NULL, 0, 0, size};
	zenc__sql_rows r = {s, NULL, 0};
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = s->d->query(s, q, p, &r)) == 0) {
		while ((rc = s->d->next(&r)) == 1) {
			if (keys)
				*(long long *)vec_push(keys) =
					s->d->integer(&r, 0);
			read(a, &r, vec_push(&v), run_id);
		}
	}
	s->d->close(&r);
	if (rc == 0 && v.n) {
		*out = zenc__arena_memdup(a, v.p, v.n * v.size);
		*n = v.n;
	}
	free(v.p);
	return rc;
}

/* Runs a query that returns one number: *out, 0 when there is no row. */
int zenc__sql_query_number(
	zenc__sqlstore *s,
	enum zenc__sql_query q,
	const zenc__sql_params *p,
	long long *out)
{
	zenc__sql_rows r = {s, NULL, 0};
	int rc;

	*out = 0;
	if ((rc = s->d->query(s, q, p, &r)) == 0 &&
	    (rc = s->d->next(&r)) == 1) {
		*out = s->d->integer(&r, 0);
		rc = 0;
	}
	s->d->close(&r);
	return rc;
}

/*
 * Operations.  Each holds the lock and starts on a ready connection;
 * writes are tried again where the dialect says the failure may pass (a
 * deadlock, a connection lost before COMMIT was sent).  try_again() says
 * whether to make try `try`, with *rc the last try's result.
 */
static int try_again(zenc__sqlstore *s, int try, int *rc)
{
	if (try > 0 && (*rc == 0 || !s->d->retryable(s, try - 1)))
		return 0;
	return (*rc = s->d->ready(s)) == 0;
}

static int tx_begin(zenc__sqlstore *s, enum zenc__sql_tx what)
{
	if (s->d->begin(s, what) < 0)
		return fail(s, "cannot start a transaction on %s", s->where);
	return 0;
}

static int tx_commit(zenc__sqlstore *s)
{
	int rc;

	if (s->d->commit(s) < 0) {
		rc = fail(s, "cannot commit to %s", s->where);
		s->d->rollback(s);
		return rc;
	}
	return 0;
}

/* Ends the transaction a write opened: commits after success, rolls back
 * after a failure (whose error stays). */
static int tx_end(zenc__sqlstore *s, int rc)
{
	if (rc < 0) {
		s->d->rollback(s);
		return rc;
	}
	return tx_commit(s);
}

/*
 * Runs one statement that writes, under the lock, tried again where the
 * dialect says.  A single statement: a lost reply may mean it committed,
 * and then the next try's duplicate key or unchanged row says so.  The
 * error says "cannot <what> '<name>'"; *changes as the dialect's exec().
 */
int zenc__sql_write_one(
	zenc__sqlstore *s,
	enum zenc__sql_query q,
	const zenc__sql_params *p,
	long long *changes,
	const char *what,
	const char *name)
{
	int rc = 0, try;

	last_busy = 0;
	pthread_mutex_lock(&s->lock);
	for (try = 0; try_again(s, try, &rc); try++)
		if (s->d->exec(s, q, p, changes) < 0)
			rc = fail(s, "cannot %s '%s'", what, name);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int sql_run_begin(zenc__store *self, const zenc__run_record *run)
{
	zenc__sql_params p;

	zenc__sql_bind_run(&p, run);
	return zenc__sql_write_one(
		to_sql(self), ZENC__Q_RUN_BEGIN, &p, NULL, "record run",
		run->name);
}

static int sql_run_end(
	zenc__store *self, const char *run_id, const char *status, double ended)
{
	zenc__sql_params p = {.n = 0};
	long long changed = 0;
	int rc;

	zenc__sqlp_text(&p, run_id);
	zenc__sqlp_text(&p, status);
	zenc__sqlp_time(&p, ended);
	rc = zenc__sql_write_one(
		to_sql(self), ZENC__Q_RUN_END, &p, &changed,
		"record the end of run", run_id);
	if (rc == 0 && changed == 0)
		rc = zenc__error_set(ZENC_ENOTFOUND, "no run '%s'", run_id);
	return rc;
}

static int put_step(zenc__sqlstore *s, const zenc__step_record *step)
{
	zenc__sql_params p;

	zenc__sql_bind_step(&p, step);
	if (s->d->exec(s, ZENC__Q_STEP_PUT, &p, NULL) < 0)
		return fail(s, "cannot record step '%s'", step->name);
	return 0;
}

static int sql_step_put(zenc__store *self, const zenc__step_record *step)
{
	zenc__sql_params p;

	zenc__sql_bind_step(&p, step);
	return zenc__sql_write_one(
		to_sql(self), ZENC__Q_STEP_PUT, &p, NULL, "record step",
		step->name);
}

static int sql_steps_put(
	zenc__store *self, const zenc__step_record *steps, size_t n)
{
	zenc__sqlstore *s = to_sql(self);
	size_t i;
	int rc = 0, try;

	last_busy = 0;
	if (n == 0)
		return 0;
	pthread_mutex_lock(&s->lock);
	for (try = 0; try_again(s, try, &rc); try++) {
		if ((rc = tx_begin(s, ZENC__TX_WRITE)) < 0)
			continue;
		for (i = 0; i < n && rc == 0; i++)
			rc = put_step(s, &steps[i]);
		rc = tx_end(s, rc);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* Inserts hook runs inside the caller's transaction. */
static int put_hooks(
	zenc__sqlstore *s,
	const char *run_id,
	const char *step,
	const zenc__hook_record *hooks,
	size_t n)
{
	zenc__sql_params p;
	size_t i;

	for (i = 0; i < n; i++) {
		zenc__sql_bind_hook(&p, run_id, step, &hooks[i]);
		if (s->d->exec(s, ZENC__Q_HOOK_PUT, &p, NULL) < 0)
			return fail(
				s, "cannot record hook '%s'", hooks[i].hook);
	}
	return 0;
}

static int step_end_once(
	zenc__sqlstore *s,
	const zenc__step_record *step,
	const zenc__attempt_record *attempt,
	const zenc__artifact_record *arts,
	size_t n_arts,
	const zenc__hook_record *hooks,
	size_t n_hooks)
{
	zenc__sql_params p;
	size_t i;
	int rc;

	if ((rc = tx_begin(s, ZENC__TX_WRITE)) < 0)
		return rc;
	if ((rc = put_step(s, step)) < 0)
		goto done;
	if (attempt) {
		zenc__sql_bind_attempt(&p, step, attempt);
		if (s->d->exec(s, ZENC__Q_ATTEMPT_PUT, &p, NULL) < 0) {
			rc =
				fail(s, "cannot record attempt %d of step '%s'",
				     attempt->attempt, step->name);
			goto done;
		}
	}
	for (i = 0; i < n_arts; i++) {
		zenc__sql_bind_artifact(&p, step, &arts[i]);
		if (s->d->exec(s, ZENC__Q_ARTIFACT_PUT, &p, NULL) < 0) {
			rc = fail(
				s, "cannot record artifact '%s'", arts[i].name);
			goto done;
		}
	}
	rc = put_hooks(s, step->run_id, step->name, hooks, n_hooks);
done:
	return tx_end(s, rc);
}

static int sql_step_end(
	zenc__store *self,
	const zenc__step_record *step,
	const zenc__attempt_record *attempt,
	const zenc__artifact_record *arts,
	size_t n_arts,
	const zenc__hook_record *hooks,
	size_t n_hooks)
{
	zenc__sqlstore *s = to_sql(self);
	int rc = 0, try;

	last_busy = 0;
	pthread_mutex_lock(&s->lock);
	for (try = 0; try_again(s, try, &rc); try++)
		rc = step_end_once(
			s, step, attempt, arts, n_arts, hooks, n_hooks);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int sql_hooks_put(
	zenc__store *self, const zenc__hook_record *hooks, size_t n)
{
	zenc__sqlstore *s = to_sql(self);
	int rc = 0, try;

	last_busy = 0;
	if (n == 0)
		return 0;
	pthread_mutex_lock(&s->lock);
	for (try = 0; try_again(s, try, &rc); try++)
		if ((rc = tx_begin(s, ZENC__TX_WRITE)) == 0)
			rc = tx_end(s, put_hooks(s, NULL, NULL, hooks, n));
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int sql_artifacts_get(
	zenc__store *self,
	const char *run_id,
	const char *step,
	zenc__artifact_record **out,
	size_t *n,
	void **arena)
{
	zenc__sqlstore *s = to_sql(self);
	zenc__arena *a = zenc__arena_new();
	zenc__sql_params p = {.n = 0};
	const char *rid, *sname;
	void *recs = NULL;
	size_t i;
	int rc;

	*out = NULL;
	*n = 0;
	*arena = NULL;
	zenc__sqlp_text(&p, run_id);
	zenc__sqlp_text(&p, step);
	pthread_mutex_lock(&s->lock);
	if ((rc = s->d->ready(s)) == 0 &&
	    query_all(
		    s, ZENC__Q_ARTIFACTS_GET, &p, a,
		    sizeof(zenc__artifact_record),
		    zenc__sql_read_artifact_of_step, NULL, NULL, &recs, n) < 0)
		rc = fail(s, "cannot read artifacts of step '%s'", step);
	pthread_mutex_unlock(&s->lock);
	if (rc < 0) {
		zenc__arena_free(a);
		return rc;
	}
	rid = zenc__arena_strdup(a, run_id);
	sname = zenc__arena_strdup(a, step);
	for (i = 0; i < *n; i++) {
		((zenc__artifact_record *)recs)[i].run_id = rid;
		((zenc__artifact_record *)recs)[i].step = sname;
	}
	*out = recs;
	*arena = a;
	return 0;
}

/*
 * A list operation: the rows of query `q`, as records of `size` bytes read
 * by `read`, into a new arena (*recs, *n, *arena), or an error that says
 * "cannot <what> in <the store>" and leaves them empty.
 */
int zenc__sql_list_records(
	zenc__sqlstore *s,
	enum zenc__sql_query q,
	const zenc__sql_params *p,
	size_t size,
	zenc__sql_read_fn read,
	const char *what,
	void **recs,
	size_t *n,
	void **arena)
{
	zenc__arena *a = zenc__arena_new();
	int rc;

	*recs = NULL;
	*n = 0;
	*arena = NULL;
	pthread_mutex_lock(&s->lock);
	if ((rc = s->d->ready(s)) == 0 &&
	    query_all(s, q, p, a, size, read, NULL, NULL, recs, n) < 0)
		rc = fail(s, "cannot %s in %s", what, s->where);
	pthread_mutex_unlock(&s->lock);
	if (rc < 0) {
		zenc__arena_free(a);
		*recs = NULL;
		*n = 0;
		return rc;
	}
	*arena = a;
	return 0;
}

static int sql_runs_list(
	zenc__store *self, const zenc__run_filter *filter, zenc__run_list *out)
{
	zenc__sql_params p = {.n = 0};
	void *runs;
	int rc;

	zenc__sqlp_text(&p, filter ? filter->pipeline : NULL);
	zenc__sqlp_text(&p, filter ? filter->status : NULL);
	zenc__sqlp_limit(&p, filter ? filter->limit : 0);
	zenc__sqlp_int(&p, filter ? (long long)filter->offset : 0);
	rc = zenc__sql_list_records(
		to_sql(self), ZENC__Q_RUNS_LIST, &p, sizeof(zenc__run_record),
		zenc__sql_read_run, "list runs", &runs, &out->n, &out->arena);
	out->runs = runs;
	return rc;
}

/* Runs a run query, keeping the first of at most two runs: *n tells none,
 * one or several. */
static int find_runs(
	zenc__sqlstore *s,
	zenc__arena *a,
	enum zenc__sql_query q,
	const char *p1,
	const char *p2,
	zenc__run_record *out,
	int *n)
{
	zenc__sql_params p = {.n = 0};
	zenc__sql_rows r = {s, NULL, 0};
	int rc;

	*n = 0;
	zenc__sqlp_text(&p, p1);
	if (p2)
		zenc__sqlp_text(&p, p2);
	if ((rc = s->d->query(s, q, &p, &r)) == 0) {
		while (*n < 2 && (rc = s->d->next(&r)) == 1)
			if (++*n == 1)
				zenc__sql_read_run(a, &r, out, NULL);
	}
	s->d->close(&r);
	if (rc < 0)
		return fail(s, "cannot look up run '%s'", p1);
	return 0;
}

/* A run by id, by name, or by a unique prefix of its id (4 characters or
 * more), in that order. */
static int resolve_run(
	zenc__sqlstore *s,
	zenc__arena *a,
	const char *key,
	zenc__run_record *out)
{
	size_t len = strlen(key);
	char *upper = NULL;
	int n, rc;

	rc = find_runs(s, a, ZENC__Q_RUN_BY_ID, key, NULL, out, &n);
	if (rc < 0 || n == 1)
		return rc;
	rc = find_runs(s, a, ZENC__Q_RUN_BY_NAME, key, NULL, out, &n);
	if (rc < 0 || n == 1)
		return rc;
	if (n > 1)
		return zenc__error_set(
			ZENC_EINVALID,
			"several runs are named '%s'; use a run id", key);
	/* The prefix as a range of the primary key: [key, key + 1), where
	 * key + 1 has its last byte incremented (ids are ASCII, and every
	 * dialect compares them bytewise). */
	if (len < 4 || (unsigned char)key[len - 1] >= 0x7f)
		goto not_found;
	upper = zenc__strdup(key);
	upper[len - 1]++;
	rc = find_runs(s, a, ZENC__Q_RUN_BY_PREFIX, key, upper, out, &n);
	free(upper);
	if (rc < 0 || n == 1)
		return rc;
	if (n > 1)
		return zenc__error_set(
			ZENC_EINVALID, "run id prefix '%s' is ambiguous", key);
not_found:
	return zenc__error_set(ZENC_ENOTFOUND, "no run '%s'", key);
}

/*
 * Loads the rows of one per-step table for a whole run, in step order (the
 * query's first column is the step's key, and it sorts by it), and hands
 * each step its slice.  One query per table instead of one per step.
 */
static int load_children(
	zenc__sqlstore *s,
	zenc__arena *a,
	enum zenc__sql_query q,
	size_t size,
	zenc__sql_read_fn read_row,
	const long long *step_keys,
	zenc__run_info *out,
	size_t which)
{
	struct vec keys = {NULL, 0, 0, sizeof(long long)};
	zenc__sql_params p = {.n = 0};
	zenc__step_info *steps = out->steps;
	const long long *key;
	void *rows;
	char *base;
	size_t i, j, n;
	int rc = 0;

	zenc__sqlp_text(&p, out->rec.id);
	if (query_all(
		    s, q, &p, a, size, read_row, out->rec.id, &keys, &rows,
		    &n) < 0) {
		rc = fail(s, "cannot read run '%s'", out->rec.id);
		goto done;
	}
	base = rows;
	key = keys.p;
	for (i = 0, j = 0; i < out->n_steps; i++) {
		size_t start = j;

		while (j < n && key[j] == step_keys[i])
			j++;
		if (j == start)
			continue;
		switch (which) {
		case 0:
			steps[i].attempts = (void *)(base + start * size);
			steps[i].n_attempts = j - start;
			break;
		case 1:
			steps[i].artifacts = (void *)(base + start * size);
			steps[i].n_artifacts = j - start;
			break;
		default:
			steps[i].hooks = (void *)(base + start * size);
			steps[i].n_hooks = j - start;
			break;
		}
	}
done:
	free(keys.p);
	return rc;
}

static int load_steps(zenc__sqlstore *s, zenc__arena *a, zenc__run_info *out)
{
	struct vec keys = {NULL, 0, 0, sizeof(long long)};
	zenc__sql_params p = {.n = 0};
	void *steps = NULL, *hooks = NULL;
	int rc = 0;

	zenc__sqlp_text(&p, out->rec.id);
	if (query_all(
		    s, ZENC__Q_STEPS, &p, a, sizeof(zenc__step_info),
		    zenc__sql_read_step, out->rec.id, &keys, &steps,
		    &out->n_steps) < 0 ||
	    query_all(
		    s, ZENC__Q_RUN_HOOKS, &p, a, sizeof(zenc__hook_record),
		    zenc__sql_read_hook, out->rec.id, NULL, &hooks,
		    &out->n_run_hooks) < 0) {
		rc = fail(s, "cannot read run '%s'", out->rec.id);
		goto done;
	}
	out->steps = steps;
	out->run_hooks = hooks;
	if (!out->n_steps)
		goto done;
	if ((rc = load_children(
		     s, a, ZENC__Q_ATTEMPTS, sizeof(zenc__attempt_record),
		     zenc__sql_read_attempt, keys.p, out, 0)) < 0 ||
	    (rc = load_children(
		     s, a, ZENC__Q_ARTIFACTS, sizeof(zenc__artifact_record),
		     zenc__sql_read_artifact, keys.p, out, 1)) < 0)
		goto done;
	rc = load_children(
		s, a, ZENC__Q_HOOKS, sizeof(zenc__hook_record),
		zenc__sql_read_hook, keys.p, out, 2);
done:
	free(keys.p);
	return rc;
}

static int sql_run_show(
	zenc__store *self, const char *id_or_name, zenc__run_info *out)
{
	zenc__sqlstore *s = to_sql(self);
	zenc__arena *a = zenc__arena_new();
	int rc;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->lock);
	if ((rc = s->d->ready(s)) < 0)
		goto done;
	/* One read transaction: a run and its steps as of one moment. */
	if (s->d->begin(s, ZENC__TX_READ) < 0) {
		rc = fail(s, "cannot read %s", s->where);
		goto done;
	}
	if ((rc = resolve_run(s, a, id_or_name, &out->rec)) == 0)
		rc = load_steps(s, a, out);
	s->d->rollback(s);
done:
	pthread_mutex_unlock(&s->lock);
	if (rc < 0) {
		zenc__arena_free(a);
		memset(out, 0, sizeof(*out));
	} else {
		out->arena = a;
	}
	return rc;
}

static int sql_run_delete(zenc__store *self, const char *id_or_name)
{
	zenc__sqlstore *s = to_sql(self);
	zenc__arena *a = zenc__arena_new();
	zenc__sql_params p = {.n = 0};
	zenc__run_record run;
	int rc;

	pthread_mutex_lock(&s->lock);
	if ((rc = s->d->ready(s)) < 0 || (rc = tx_begin(s, ZENC__TX_WRITE)) < 0)
		goto done;
	if ((rc = resolve_run(s, a, id_or_name, &run)) == 0) {
		zenc__sqlp_text(&p, run.id);
		if (s->d->exec(s, ZENC__Q_RUN_DELETE, &p, NULL) < 0)
			rc = fail(s, "cannot delete run '%s'", id_or_name);
	}
	rc = tx_end(s, rc);
done:
	pthread_mutex_unlock(&s->lock);
	zenc__arena_free(a);
	return rc;
}

static int sql_step_last_status(
	zenc__store *self,
	const char *pipeline,
	const char *step,
	const char *run_id,
	char *out,
	size_t size)
{
	zenc__sqlstore *s = to_sql(self);
	zenc__sql_params p = {.n = 0};
	zenc__sql_rows r = {s, NULL, 0};
	const char *t;
	size_t len;
	int rc;

	if (size)
		out[0] = '\0';
	zenc__sqlp_text(&p, pipeline);
	zenc__sqlp_text(&p, step);
	zenc__sqlp_text(&p, run_id ? run_id : "");
	pthread_mutex_lock(&s->lock);
	if ((rc = s->d->ready(s)) < 0)
		goto done;
	if (s->d->query(s, ZENC__Q_STEP_LAST_STATUS, &p, &r) < 0 ||
	    (rc = s->d->next(&r)) < 0) {
		rc = fail(s, "cannot look up step '%s'", step);
		goto done;
	}
	if (rc == 1 && (t = s->d->text(&r, 0, &len)) && size)
		snprintf(out, size, "%.*s", (int)len, t);
	rc = 0;
done:
	s->d->close(&r);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* The alert outbox. */

static void sql_free(zenc__store *self)
{
	zenc__sqlstore *s = to_sql(self);

	if (!s)
		return;
	s->d->close_store(s);
	pthread_mutex_destroy(&s->lock);
	free(s->where);
	free(s);
}

/* Opening. */

/* The schema version, 0 for an empty database. */
static int read_schema_version(zenc__sqlstore *s, int *out)
{
	long long exists = 0, version = 0;

	*out = 0;
	if (zenc__sql_query_number(s, ZENC__Q_SCHEMA_EXISTS, NULL, &exists) <
		    0 ||
	    (exists && zenc__sql_query_number(
			       s, ZENC__Q_SCHEMA_VERSION, NULL, &version) < 0))
		return fail(s, "cannot read the schema of %s", s->where);
	*out = (int)version;
	return 0;
}

static int migrate(zenc__sqlstore *s)
{
	const int latest = s->d->n_migrations;
	zenc__sql_params p;
	int version, rc, i;

	/* The common case writes nothing and takes no lock. */
	if ((rc = read_schema_version(s, &version)) < 0)
		return rc;
	if (version == latest)
		return 0;

	/* Of many processes opening a new store at once, one creates the
	 * schema; the others wait for it, then see it done. */
	if (s->d->begin(s, ZENC__TX_MIGRATE) < 0)
		return fail(s, "cannot migrate %s", s->where);
	if (s->d->exec(s, ZENC__Q_SCHEMA_CREATE, NULL, NULL) < 0) {
		rc = fail(s, "cannot migrate %s", s->where);
		goto done;
	}
	if ((rc = read_schema_version(s, &version)) < 0)
		goto done;
	if (version > latest) {
		rc = zenc__error_set(
			ZENC_ESTORE,
			"metadata store %s has schema version %d, newer than "
			"this zenc knows (%d)",
			s->where, version, latest);
		goto done;
	}
	for (i = version; i < latest; i++) {
		p.n = 0;
		zenc__sqlp_int(&p, i + 1);
		zenc__sqlp_double(&p, zenc__now());
		if (s->d->script(s, s->d->migrations[i]) < 0 ||
		    s->d->exec(s, ZENC__Q_SCHEMA_RECORD, &p, NULL) < 0) {
			rc =
				fail(s, "cannot migrate %s to version %d",
				     s->where, i + 1);
			goto done;
		}
	}
done:
	return tx_end(s, rc);
}

/* Whether process `pid` of this host is gone: no such process, or a
 * zombie (dead, and nobody has reaped it: an orphan where no init
 * reaps). */
static int process_gone(long long pid)
{
	char path[64], buf[512];
	const char *p;
	ssize_t n;
	int fd;

	if (pid <= 0 || (pid_t)pid != pid)
		return 0;
	if (kill((pid_t)pid, 0) < 0)
		return errno == ESRCH;
	snprintf(path, sizeof(path), "/proc/%lld/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'Z';
}

/* Marks one run of a dead process as failed, with its running steps, in
 * a transaction of its own: another process marking the same run at the
 * same time changes nothing the second time.  *marked: whether it did. */
static int mark_stale_run(
	zenc__sqlstore *s,
	const char *rid,
	const char *type,
	const char *msg,
	int sig,
	double now,
	int *marked)
{
	zenc__sql_params p = {.n = 0};
	long long changed = 0;
	int rc;

	*marked = 0;
	if ((rc = tx_begin(s, ZENC__TX_WRITE)) < 0)
		return rc;
	zenc__sqlp_text(&p, rid);
	zenc__sqlp_text(&p, zenc__status_name(ZENC__STATUS_FAILED));
	zenc__sqlp_double(&p, now);
	if (s->d->exec(s, ZENC__Q_STALE_RUN, &p, &changed) < 0) {
		rc = fail(s, "cannot mark run '%s' as failed", rid);
		goto done;
	}
	if (changed == 0)
		goto done;
	zenc__sqlp_text(&p, type);
	zenc__sqlp_text(&p, msg);
	zenc__sqlp_int(&p, sig);
	if (s->d->exec(s, ZENC__Q_STALE_STEPS, &p, NULL) < 0) {
		rc = fail(s, "cannot mark run '%s' as failed", rid);
		goto done;
	}
	*marked = 1;
done:
	if (rc < 0 || !*marked) {
		s->d->rollback(s);
		return rc;
	}
	return tx_commit(s);
}

static int sql_run_fail(
	zenc__store *self,
	const char *run_id,
	const char *error_type,
	const char *error_message,
	int sig,
	int *marked)
{
	zenc__sqlstore *s = to_sql(self);
	int rc;

	*marked = 0;
	pthread_mutex_lock(&s->lock);
	if ((rc = s->d->ready(s)) == 0)
		rc = mark_stale_run(
			s, run_id, error_type, error_message, sig, zenc__now(),
			marked);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int sql_watch_put(
	zenc__store *self,
	const char *run_id,
	long watcher_pid,
	const char *spec)
{
	zenc__sql_params p = {.n = 0};

	zenc__sqlp_text(&p, run_id);
	zenc__sqlp_int(&p, watcher_pid);
	zenc__sqlp_text(&p, spec);
	return zenc__sql_write_one(
		to_sql(self), ZENC__Q_WATCH_PUT, &p, NULL,
		"record the watcher of run", run_id);
}

static int sql_watch_get(
	zenc__store *self, const char *run_id, long *watcher_pid, char **spec)
{
	zenc__sqlstore *s = to_sql(self);
	zenc__sql_params p = {.n = 0};
	zenc__sql_rows r = {s, NULL, 0};
	const char *t;
	size_t len;
	int rc;

	*watcher_pid = 0;
	*spec = NULL;
	zenc__sqlp_text(&p, run_id);
	pthread_mutex_lock(&s->lock);
	if ((rc = s->d->ready(s)) < 0)
		goto done;
	if (s->d->query(s, ZENC__Q_WATCH_GET, &p, &r) < 0 ||
	    (rc = s->d->next(&r)) < 0) {
		rc = fail(
			s, "cannot read the watch record of run '%s'", run_id);
		goto done;
	}
	if (rc == 0) {
		rc = zenc__error_set(
			ZENC_ENOTFOUND, "run '%s' has no watch record", run_id);
		goto done;
	}
	*watcher_pid = (long)s->d->integer(&r, 0);
	t = s->d->text(&r, 1, &len);
	*spec = t ? zenc__strndup(t, len) : NULL;
	rc = 0;
done:
	s->d->close(&r);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/*
 * Runs left "running" by an orchestrating process that died (same host, pid
 * gone) become failed, and so do their running steps.  A pid reused by an
 * unrelated process hides a dead run until that process ends too; that
 * errs on the side of never failing a live run.  Runs of other hosts are
 * left to those hosts.  A run that has a watcher (engine/watcher.c) is its
 * watcher's while the watcher lives; when both are gone (the machine went
 * down), the run is settled here, late: its alerts are sent marked late.
 */
static int mark_stale_runs(zenc__sqlstore *s)
{
	struct dead_run {
		char *id;
		int watched;
	};
	struct vec dead = {NULL, 0, 0, sizeof(struct dead_run)};
	zenc__sql_params p = {.n = 0};
	zenc__sql_rows r = {s, NULL, 0};
	char host[256];
	const char *t;
	double now = zenc__now();
	size_t i, len;
	int rc, marked;

	if (gethostname(host, sizeof(host)) < 0)
		return 0;
	host[sizeof(host) - 1] = '\0';

	/* The ids first: the query is done before anything is written. */
	zenc__sqlp_text(&p, host);
	if ((rc = s->d->query(s, ZENC__Q_RUNNING_HERE, &p, &r)) == 0) {
		while ((rc = s->d->next(&r)) == 1) {
			struct dead_run *d;
			long long watcher = s->d->integer(&r, 2);
			if (!process_gone(s->d->integer(&r, 1)) ||
			    (watcher > 0 && !process_gone(watcher)) ||
			    !(t = s->d->text(&r, 0, &len)))
				continue;
			d = vec_push(&dead);
			d->id = zenc__strndup(t, len);
			d->watched = s->d->integer(&r, 3) != 0;
		}
	}
	s->d->close(&r);
	if (rc < 0) {
		rc = fail(s, "cannot look for interrupted runs");
		goto done;
	}
	for (i = 0; i < dead.n; i++) {
		const struct dead_run *d = &((struct dead_run *)dead.p)[i];

		if (d->watched) {
			zenc__watcher_late(&s->base, d->id);
			continue;
		}
		if ((rc = mark_stale_run(
			     s, d->id,
			     zenc__error_kind_name(ZENC__EK_INTERRUPTED),
			     "the orchestrating process died", 0, now,
			     &marked)) < 0)
			goto done;
		if (marked)
			zenc__info(
				"run '%s' was left running by a process that "
				"died; marked as failed",
				d->id);
	}
done:
	for (i = 0; i < dead.n; i++)
		free(((struct dead_run *)dead.p)[i].id);
	free(dead.p);
	return rc;
}

/*
 * A step left "running" in a run that ended lost the record of its end
 * (a version that dropped a write the store refused, a process killed
 * between the two): it becomes failed, of kind Lost, so that no finished
 * run shows a step still running.
 */
static int repair_lost_steps(zenc__sqlstore *s)
{
	zenc__sql_params p = {.n = 0};
	long long changed = 0;

	/* A read first: the write, which waits for other writers, only
	 * when there is something to repair. */
	if (zenc__sql_query_number(s, ZENC__Q_LOST_STEPS_COUNT, &p, &changed) <
	    0)
		return fail(
			s, "cannot look for steps left running on %s",
			s->where);
	if (changed == 0)
		return 0;
	zenc__sqlp_double(&p, zenc__now());
	zenc__sqlp_text(&p, zenc__error_kind_name(ZENC__EK_LOST));
	zenc__sqlp_text(
		&p, "the run ended without recording the end of this step");
	if (s->d->exec(s, ZENC__Q_LOST_STEPS, &p, &changed) < 0)
		return fail(
			s, "cannot repair the steps left running on %s",
			s->where);
	if (changed > 0)
		zenc__info(
			"%lld step(s) left running in runs that ended; marked "
			"as failed",
			changed);
	return 0;
}

void zenc__sqlstore_init(
	zenc__sqlstore *s,
	const zenc__sql_dialect *d,
	const char *flavor,
	char *where)
{
	s->d = d;
	s->where = where;
	pthread_mutex_init(&s->lock, NULL);
	s->base.version = ZENC__STORE_VERSION;
	s->base.flavor = flavor;
	s->base.run_begin = sql_run_begin;
	s->base.run_end = sql_run_end;
	s->base.step_put = sql_step_put;
	s->base.step_end = sql_step_end;
	s->base.hooks_put = sql_hooks_put;
	s->base.artifacts_get = sql_artifacts_get;
	s->base.runs_list = sql_runs_list;
	s->base.run_show = sql_run_show;
	s->base.run_delete = sql_run_delete;
	s->base.free = sql_free;
	s->base.step_last_status = sql_step_last_status;
	s->base.steps_put = sql_steps_put;
	s->base.watch_put = sql_watch_put;
	s->base.watch_get = sql_watch_get;
	s->base.run_fail = sql_run_fail;
	zenc__sqlstore_init_outbox(s);
	zenc__sqlstore_init_cache(s);
	zenc__sqlstore_init_files(s);
}

int zenc__sqlstore_start(zenc__sqlstore *s)
{
	int rc;

	if ((rc = migrate(s)) < 0 || (rc = s->d->prepare(s)) < 0)
		return rc;
	/* A store that cannot be written (someone else's file, a read-only
	 * role) can still be read: then stale runs stay as they are. */
	if (mark_stale_runs(s) < 0 || repair_lost_steps(s) < 0)
		zenc__warn("%s", zenc_error_last());
	return 0;
}
