/*
 * The SQLite metadata store: the default flavor, one file per data home.
 *
 * WAL with synchronous=NORMAL: a crash of the process never corrupts the
 * file nor loses a committed transaction; a power loss can lose the last
 * transactions committed before it, never the consistency of the rest.
 * Every statement is prepared with bound values; the ones the engine runs
 * per step are prepared once, when the store is opened.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"
#include "internal.h"

/*
 * The schema, as migrations applied in order: migrations[i] brings the
 * schema from version i to version i + 1.  Only ever append.
 */
static const char *const migrations[] = {
	/* 1: runs, steps, attempts, artifacts and hook runs. */
	"CREATE TABLE runs ("
	" id TEXT PRIMARY KEY NOT NULL,"
	" name TEXT NOT NULL,"
	" pipeline TEXT NOT NULL,"
	" status TEXT NOT NULL,"
	" stack TEXT,"
	" host TEXT,"
	" pid INTEGER,"
	" started REAL,"
	" ended REAL);"
	"CREATE INDEX runs_started ON runs (started DESC);"
	"CREATE INDEX runs_name ON runs (name);"
	"CREATE INDEX runs_pipeline ON runs (pipeline, started DESC);"
	"CREATE INDEX runs_running ON runs (host) WHERE status = 'running';"
	"CREATE TABLE step_runs ("
	" run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
	" name TEXT NOT NULL,"
	" status TEXT NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" started REAL,"
	" ended REAL,"
	" error_type TEXT,"
	" error_message TEXT,"
	" exit_code INTEGER NOT NULL DEFAULT 0,"
	" signal INTEGER NOT NULL DEFAULT 0,"
	" params_json TEXT,"
	" log_uri TEXT,"
	" UNIQUE (run_id, name));"
	"CREATE TABLE step_attempts ("
	" run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
	" step TEXT NOT NULL,"
	" attempt INTEGER NOT NULL,"
	" status TEXT NOT NULL,"
	" started REAL,"
	" ended REAL,"
	" error_type TEXT,"
	" error_message TEXT,"
	" exit_code INTEGER NOT NULL DEFAULT 0,"
	" signal INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (run_id, step, attempt));"
	"CREATE TABLE artifacts ("
	" run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
	" step TEXT NOT NULL,"
	" name TEXT NOT NULL,"
	" type TEXT,"
	" uri TEXT,"
	" size INTEGER NOT NULL DEFAULT 0,"
	" checksum TEXT,"
	" UNIQUE (run_id, step, name));"
	"CREATE TABLE hook_runs ("
	" run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
	" step TEXT,"
	" event TEXT NOT NULL,"
	" hook TEXT NOT NULL,"
	" attempt INTEGER NOT NULL DEFAULT 0,"
	" status TEXT NOT NULL,"
	" error TEXT,"
	" started REAL,"
	" duration REAL,"
	" seq INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX hook_runs_run ON hook_runs (run_id, seq);",
	/* 2: the DAG, so a run can be drawn from its records alone. */
	"ALTER TABLE step_runs ADD COLUMN upstream TEXT;",
	/* 3: the alert outbox.  No foreign key to runs: an alert outlives
	 * a deleted run, and a test alert has none. */
	"CREATE TABLE alerts ("
	" id TEXT PRIMARY KEY NOT NULL,"
	" created REAL NOT NULL,"
	" alerter TEXT,"
	" flavor TEXT,"
	" run_id TEXT,"
	" pipeline TEXT,"
	" step TEXT,"
	" event TEXT,"
	" step_status TEXT,"
	" error_type TEXT,"
	" title TEXT,"
	" dedup_key TEXT,"
	" status TEXT NOT NULL,"
	" alert_json TEXT NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT,"
	" updated REAL,"
	" delivered REAL,"
	" lease_until REAL);"
	"CREATE INDEX alerts_created ON alerts (created DESC);"
	"CREATE INDEX alerts_pending ON alerts (created)"
	" WHERE status = 'pending';"
	"CREATE INDEX alerts_dedup ON alerts (dedup_key, created);",
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

#define RUN_COLUMNS                                                            \
	"id, name, pipeline, status, stack, host, pid, started, ended"

/* The statements the engine runs on every step event, prepared once. */
#define SQL_RUN_BEGIN                                                          \
	"INSERT INTO runs (" RUN_COLUMNS ")"                                   \
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
#define SQL_RUN_END "UPDATE runs SET status = ?2, ended = ?3 WHERE id = ?1"
/* An upsert rather than INSERT OR REPLACE: a replaced row would get a new
 * rowid, and the rowid is the order steps are shown in.  A later record
 * without a start time, parameters or log keeps the earlier ones. */
#define SQL_STEP_PUT                                                           \
	"INSERT INTO step_runs (run_id, name, status, attempts, started,"      \
	" ended, error_type, error_message, exit_code, signal, params_json,"   \
	" log_uri, upstream) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10," \
	" ?11, ?12, ?13)"                                                      \
	" ON CONFLICT (run_id, name) DO UPDATE SET"                            \
	" status = excluded.status, attempts = excluded.attempts,"             \
	" started = coalesce(excluded.started, started),"                      \
	" ended = excluded.ended, error_type = excluded.error_type,"           \
	" error_message = excluded.error_message,"                             \
	" exit_code = excluded.exit_code, signal = excluded.signal,"           \
	" params_json = coalesce(excluded.params_json, params_json),"          \
	" log_uri = coalesce(excluded.log_uri, log_uri),"                      \
	" upstream = coalesce(excluded.upstream, upstream)"
#define SQL_ATTEMPT_PUT                                                        \
	"INSERT OR REPLACE INTO step_attempts (run_id, step, attempt, status," \
	" started, ended, error_type, error_message, exit_code, signal)"       \
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
#define SQL_ARTIFACT_PUT                                                       \
	"INSERT OR REPLACE INTO artifacts (run_id, step, name, type, uri,"     \
	" size, checksum) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
#define SQL_HOOK_PUT                                                           \
	"INSERT INTO hook_runs (run_id, step, event, hook, attempt, status,"   \
	" error, started, duration, seq)"                                      \
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"

typedef struct sqlite_store {
	zenc__store base;
	sqlite3 *db;
	char *path;
	/* One connection and its cached statements are used by one thread
	 * at a time: the engine may record from several. */
	pthread_mutex_t lock;
	sqlite3_stmt *begin;
	sqlite3_stmt *commit;
	sqlite3_stmt *rollback;
	sqlite3_stmt *run_begin;
	sqlite3_stmt *run_end;
	sqlite3_stmt *step_put;
	sqlite3_stmt *attempt_put;
	sqlite3_stmt *artifact_put;
	sqlite3_stmt *hook_put;
} sqlite_store;

/* Sets the last error to "<what>: <sqlite's message>". */
static int db_fail(sqlite_store *s, const char *fmt, ...) ZENC__PRINTF(2, 3);

static int db_fail(sqlite_store *s, const char *fmt, ...)
{
	zenc_buf b = ZENC_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	zenc_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	zenc__error_set(
		ZENC_ESTORE, "%s: %s", zenc_buf_cstr(&b),
		sqlite3_errmsg(s->db));
	zenc_buf_release(&b);
	return ZENC_ESTORE;
}

static sqlite_store *to_sqlite(zenc__store *self)
{
	return (sqlite_store *)self;
}

/* Binding: strings are borrowed for the call (SQLITE_STATIC), every
 * statement is reset before it returns; a time of 0 is stored as NULL. */
static int bind_text(sqlite3_stmt *st, int i, const char *v)
{
	return sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static int bind_time(sqlite3_stmt *st, int i, double t)
{
	return t != 0 ? sqlite3_bind_double(st, i, t)
		      : sqlite3_bind_null(st, i);
}

/* Runs a statement that returns no rows and resets it: SQLITE_OK or the
 * error, with sqlite3_errmsg() still describing it. */
static int exec_stmt(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		rc = SQLITE_OK;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

static int db_prepare(
	sqlite_store *s, sqlite3_stmt **st, const char *sql, unsigned int flags)
{
	if (sqlite3_prepare_v3(s->db, sql, -1, flags, st, NULL) != SQLITE_OK)
		return db_fail(
			s, "cannot prepare a statement on '%s'", s->path);
	return 0;
}

static int tx_begin(sqlite_store *s)
{
	if (exec_stmt(s->begin) != SQLITE_OK)
		return db_fail(
			s, "cannot start a transaction on '%s'", s->path);
	return 0;
}

static int tx_commit(sqlite_store *s)
{
	if (exec_stmt(s->commit) != SQLITE_OK) {
		db_fail(s, "cannot commit to '%s'", s->path);
		exec_stmt(s->rollback);
		return ZENC_ESTORE;
	}
	return 0;
}

/* After a failure: the last error is already set and stays. */
static void tx_rollback(sqlite_store *s)
{
	if (sqlite3_get_autocommit(s->db) == 0)
		exec_stmt(s->rollback);
}

/* Reading: columns into the arena.  NULL stays NULL. */
static const char *col_text(zenc__arena *a, sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	if (!t)
		return NULL;
	return zenc__arena_strndup(
		a, (const char *)t, (size_t)sqlite3_column_bytes(st, i));
}

static int col_int(sqlite3_stmt *st, int i)
{
	return sqlite3_column_int(st, i);
}

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

static void *vec_to_arena(struct vec *v, zenc__arena *a)
{
	return v->n ? zenc__arena_memdup(a, v->p, v->n * v->size) : NULL;
}

static void read_run(zenc__arena *a, sqlite3_stmt *st, zenc__run_record *r)
{
	r->id = col_text(a, st, 0);
	r->name = col_text(a, st, 1);
	r->pipeline = col_text(a, st, 2);
	r->status = col_text(a, st, 3);
	r->stack = col_text(a, st, 4);
	r->host = col_text(a, st, 5);
	r->pid = (long)sqlite3_column_int64(st, 6);
	r->started = sqlite3_column_double(st, 7);
	r->ended = sqlite3_column_double(st, 8);
}

/* Writing. */

static int bind_step(sqlite3_stmt *st, const zenc__step_record *r)
{
	int rc = 0;

	rc |= bind_text(st, 1, r->run_id);
	rc |= bind_text(st, 2, r->name);
	rc |= bind_text(st, 3, r->status ? r->status : "pending");
	rc |= sqlite3_bind_int(st, 4, r->attempts);
	rc |= bind_time(st, 5, r->started);
	rc |= bind_time(st, 6, r->ended);
	rc |= bind_text(st, 7, r->error_type);
	rc |= bind_text(st, 8, r->error_message);
	rc |= sqlite3_bind_int(st, 9, r->exit_code);
	rc |= sqlite3_bind_int(st, 10, r->signal);
	rc |= bind_text(st, 11, r->params_json);
	rc |= bind_text(st, 12, r->log_uri);
	rc |= bind_text(st, 13, r->upstream_json);
	return rc;
}

static int bind_attempt(
	sqlite3_stmt *st,
	const zenc__step_record *step,
	const zenc__attempt_record *r)
{
	int rc = 0;

	rc |= bind_text(st, 1, step->run_id);
	rc |= bind_text(st, 2, step->name);
	rc |= sqlite3_bind_int(st, 3, r->attempt);
	rc |= bind_text(st, 4, r->status ? r->status : "failed");
	rc |= bind_time(st, 5, r->started);
	rc |= bind_time(st, 6, r->ended);
	rc |= bind_text(st, 7, r->error_type);
	rc |= bind_text(st, 8, r->error_message);
	rc |= sqlite3_bind_int(st, 9, r->exit_code);
	rc |= sqlite3_bind_int(st, 10, r->signal);
	return rc;
}

static int bind_artifact(
	sqlite3_stmt *st,
	const zenc__step_record *step,
	const zenc__artifact_record *r)
{
	int rc = 0;

	rc |= bind_text(st, 1, r->run_id ? r->run_id : step->run_id);
	rc |= bind_text(st, 2, r->step ? r->step : step->name);
	rc |= bind_text(st, 3, r->name);
	rc |= bind_text(st, 4, r->type);
	rc |= bind_text(st, 5, r->uri);
	rc |= sqlite3_bind_int64(st, 6, r->size);
	rc |= bind_text(st, 7, r->checksum);
	return rc;
}

/* `run_id` and `step` fill in what the record leaves NULL (a run-level
 * hook has step NULL on purpose, and keeps it). */
static int bind_hook(
	sqlite3_stmt *st,
	const char *run_id,
	const char *step,
	const zenc__hook_record *r)
{
	int rc = 0;

	rc |= bind_text(st, 1, r->run_id ? r->run_id : run_id);
	rc |= bind_text(st, 2, r->step ? r->step : step);
	rc |= bind_text(st, 3, r->event);
	rc |= bind_text(st, 4, r->hook);
	rc |= sqlite3_bind_int(st, 5, r->attempt);
	rc |= bind_text(st, 6, r->status);
	rc |= bind_text(st, 7, r->error);
	rc |= bind_time(st, 8, r->started);
	rc |= sqlite3_bind_double(st, 9, r->duration);
	rc |= sqlite3_bind_int(st, 10, r->seq);
	return rc;
}

static int bind_run(sqlite3_stmt *st, const zenc__run_record *r)
{
	int rc = 0;

	rc |= bind_text(st, 1, r->id);
	rc |= bind_text(st, 2, r->name);
	rc |= bind_text(st, 3, r->pipeline);
	rc |= bind_text(st, 4, r->status ? r->status : "running");
	rc |= bind_text(st, 5, r->stack);
	rc |= bind_text(st, 6, r->host);
	rc |= sqlite3_bind_int64(st, 7, r->pid);
	rc |= bind_time(st, 8, r->started);
	rc |= bind_time(st, 9, r->ended);
	return rc;
}

static int sq_run_begin(zenc__store *self, const zenc__run_record *run)
{
	sqlite_store *s = to_sqlite(self);
	sqlite3_stmt *st = s->run_begin;
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	if (bind_run(st, run) || exec_stmt(st) != SQLITE_OK) {
		rc = db_fail(s, "cannot record run '%s'", run->name);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int sq_run_end(
	zenc__store *self, const char *run_id, const char *status, double ended)
{
	sqlite_store *s = to_sqlite(self);
	sqlite3_stmt *st = s->run_end;
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	if (bind_text(st, 1, run_id) | bind_text(st, 2, status) |
		    bind_time(st, 3, ended) ||
	    exec_stmt(st) != SQLITE_OK) {
		rc = db_fail(s, "cannot record the end of run '%s'", run_id);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	} else if (sqlite3_changes(s->db) == 0) {
		rc = zenc__error_set(ZENC_ENOTFOUND, "no run '%s'", run_id);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int sq_step_put(zenc__store *self, const zenc__step_record *step)
{
	sqlite_store *s = to_sqlite(self);
	sqlite3_stmt *st = s->step_put;
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	if (bind_step(st, step) || exec_stmt(st) != SQLITE_OK) {
		rc = db_fail(s, "cannot record step '%s'", step->name);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* Inserts step rows inside the caller's transaction. */
static int put_steps(sqlite_store *s, const void *rows, size_t n)
{
	const zenc__step_record *steps = rows;
	sqlite3_stmt *st = s->step_put;
	size_t i;

	for (i = 0; i < n; i++) {
		if (bind_step(st, &steps[i]) || exec_stmt(st) != SQLITE_OK) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return db_fail(s, "cannot record step '%s'",
				       steps[i].name);
		}
	}
	return 0;
}

/* Runs put(s, rows, n) in a transaction of its own, under the lock. */
static int write_rows(sqlite_store *s,
		      int (*put)(sqlite_store *, const void *, size_t),
		      const void *rows, size_t n)
{
	int rc;

	if (n == 0)
		return 0;
	pthread_mutex_lock(&s->lock);
	if ((rc = tx_begin(s)) < 0)
		goto done;
	if ((rc = put(s, rows, n)) < 0) {
		tx_rollback(s);
		goto done;
	}
	rc = tx_commit(s);
done:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int sq_steps_put(
	zenc__store *self, const zenc__step_record *steps, size_t n)
{
	return write_rows(to_sqlite(self), put_steps, steps, n);
}

/* Inserts hook runs inside the caller's transaction. */
static int put_hooks(
	sqlite_store *s,
	const char *run_id,
	const char *step,
	const zenc__hook_record *hooks,
	size_t n)
{
	sqlite3_stmt *st = s->hook_put;
	size_t i;

	for (i = 0; i < n; i++) {
		if (bind_hook(st, run_id, step, &hooks[i]) ||
		    exec_stmt(st) != SQLITE_OK) {
			db_fail(s, "cannot record hook '%s'", hooks[i].hook);
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return ZENC_ESTORE;
		}
	}
	return 0;
}

static int sq_step_end(
	zenc__store *self,
	const zenc__step_record *step,
	const zenc__attempt_record *attempt,
	const zenc__artifact_record *arts,
	size_t n_arts,
	const zenc__hook_record *hooks,
	size_t n_hooks)
{
	sqlite_store *s = to_sqlite(self);
	sqlite3_stmt *st;
	size_t i;
	int rc;

	pthread_mutex_lock(&s->lock);
	if ((rc = tx_begin(s)) < 0)
		goto done;

	st = s->step_put;
	if (bind_step(st, step) || exec_stmt(st) != SQLITE_OK) {
		rc = db_fail(s, "cannot record step '%s'", step->name);
		goto fail;
	}
	st = s->attempt_put;
	if (attempt &&
	    (bind_attempt(st, step, attempt) || exec_stmt(st) != SQLITE_OK)) {
		rc =
			db_fail(s, "cannot record attempt %d of step '%s'",
				attempt->attempt, step->name);
		goto fail;
	}
	st = s->artifact_put;
	for (i = 0; i < n_arts; i++) {
		if (bind_artifact(st, step, &arts[i]) ||
		    exec_stmt(st) != SQLITE_OK) {
			rc = db_fail(
				s, "cannot record artifact '%s'", arts[i].name);
			goto fail;
		}
	}
	st = NULL;
	if ((rc = put_hooks(s, step->run_id, step->name, hooks, n_hooks)) < 0)
		goto fail;
	rc = tx_commit(s);
	goto done;

fail:
	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	tx_rollback(s);
done:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* put_hooks for run-level hooks, in write_rows' shape. */
static int put_run_hooks(sqlite_store *s, const void *rows, size_t n)
{
	return put_hooks(s, NULL, NULL, rows, n);
}

static int sq_hooks_put(
	zenc__store *self, const zenc__hook_record *hooks, size_t n)
{
	return write_rows(to_sqlite(self), put_run_hooks, hooks, n);
}

/* Reading. */

static int sq_artifacts_get(
	zenc__store *self,
	const char *run_id,
	const char *step,
	zenc__artifact_record **out,
	size_t *n,
	void **arena)
{
	static const char sql[] =
		"SELECT name, type, uri, size, checksum FROM artifacts"
		" WHERE run_id = ?1 AND step = ?2 ORDER BY rowid";
	sqlite_store *s = to_sqlite(self);
	struct vec v = {NULL, 0, 0, sizeof(zenc__artifact_record)};
	sqlite3_stmt *st = NULL;
	zenc__arena *a = zenc__arena_new();
	zenc__artifact_record *r;
	const char *rid, *sname;
	int rc, step_rc;

	*out = NULL;
	*n = 0;
	*arena = NULL;
	pthread_mutex_lock(&s->lock);
	if ((rc = db_prepare(s, &st, sql, 0)) < 0)
		goto done;
	if (bind_text(st, 1, run_id) | bind_text(st, 2, step)) {
		rc = db_fail(s, "cannot read artifacts of step '%s'", step);
		goto done;
	}
	rid = zenc__arena_strdup(a, run_id);
	sname = zenc__arena_strdup(a, step);
	while ((step_rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = vec_push(&v);
		r->run_id = rid;
		r->step = sname;
		r->name = col_text(a, st, 0);
		r->type = col_text(a, st, 1);
		r->uri = col_text(a, st, 2);
		r->size = sqlite3_column_int64(st, 3);
		r->checksum = col_text(a, st, 4);
	}
	if (step_rc != SQLITE_DONE) {
		rc = db_fail(s, "cannot read artifacts of step '%s'", step);
		goto done;
	}
	*out = vec_to_arena(&v, a);
	*n = v.n;
	*arena = a;
	a = NULL;
done:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	free(v.p);
	zenc__arena_free(a);
	return rc;
}

static int sq_runs_list(
	zenc__store *self, const zenc__run_filter *filter, zenc__run_list *out)
{
	/* NULL filters match anything; the ORDER BY is served by the
	 * started index whatever the filters. */
	static const char sql[] = "SELECT " RUN_COLUMNS " FROM runs"
				  " WHERE (?1 IS NULL OR pipeline = ?1)"
				  " AND (?2 IS NULL OR status = ?2)"
				  " ORDER BY started DESC LIMIT ?3 OFFSET ?4";
	sqlite_store *s = to_sqlite(self);
	struct vec v = {NULL, 0, 0, sizeof(zenc__run_record)};
	sqlite3_stmt *st = NULL;
	zenc__arena *a = zenc__arena_new();
	int rc, step_rc;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->lock);
	if ((rc = db_prepare(s, &st, sql, 0)) < 0)
		goto done;
	if (bind_text(st, 1, filter ? filter->pipeline : NULL) |
	    bind_text(st, 2, filter ? filter->status : NULL) |
	    sqlite3_bind_int64(
		    st, 3,
		    filter && filter->limit ? (sqlite3_int64)filter->limit
					    : -1) |
	    sqlite3_bind_int64(
		    st, 4, filter ? (sqlite3_int64)filter->offset : 0)) {
		rc = db_fail(s, "cannot list runs in '%s'", s->path);
		goto done;
	}
	while ((step_rc = sqlite3_step(st)) == SQLITE_ROW)
		read_run(a, st, vec_push(&v));
	if (step_rc != SQLITE_DONE) {
		rc = db_fail(s, "cannot list runs in '%s'", s->path);
		goto done;
	}
	out->runs = vec_to_arena(&v, a);
	out->n = v.n;
	out->arena = a;
	a = NULL;
done:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	free(v.p);
	zenc__arena_free(a);
	return rc;
}

/*
 * Runs a query bound to one text parameter that returns runs, keeping at
 * most two: *n tells none, one or several.
 */
static int find_runs(
	sqlite_store *s,
	zenc__arena *a,
	const char *sql,
	const char *p1,
	const char *p2,
	zenc__run_record *out,
	int *n)
{
	sqlite3_stmt *st = NULL;
	int rc, step_rc;

	*n = 0;
	if ((rc = db_prepare(s, &st, sql, 0)) < 0)
		return rc;
	if (bind_text(st, 1, p1) | (p2 ? bind_text(st, 2, p2) : 0)) {
		rc = db_fail(s, "cannot look up run '%s'", p1);
		goto done;
	}
	while ((step_rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (++*n == 1)
			read_run(a, st, out);
		else
			break;
	}
	if (step_rc != SQLITE_ROW && step_rc != SQLITE_DONE)
		rc = db_fail(s, "cannot look up run '%s'", p1);
done:
	sqlite3_finalize(st);
	return rc;
}

/* A run by id, by name, or by a unique prefix of its id (4 characters or
 * more), in that order. */
static int resolve_run(
	sqlite_store *s, zenc__arena *a, const char *key, zenc__run_record *out)
{
	size_t len = strlen(key);
	char *upper = NULL;
	int n, rc;

	rc = find_runs(
		s, a, "SELECT " RUN_COLUMNS " FROM runs WHERE id = ?1", key,
		NULL, out, &n);
	if (rc < 0 || n == 1)
		return rc;
	rc = find_runs(
		s, a,
		"SELECT " RUN_COLUMNS " FROM runs WHERE name = ?1 LIMIT 2", key,
		NULL, out, &n);
	if (rc < 0 || n == 1)
		return rc;
	if (n > 1)
		return zenc__error_set(
			ZENC_EINVALID,
			"several runs are named '%s'; use a run id", key);
	/* The prefix as a range of the primary key: [key, key + 1), where
	 * key + 1 has its last byte incremented (ids are ASCII). */
	if (len < 4 || (unsigned char)key[len - 1] >= 0x7f)
		goto not_found;
	upper = zenc__strdup(key);
	upper[len - 1]++;
	rc = find_runs(
		s, a,
		"SELECT " RUN_COLUMNS " FROM runs WHERE id >= ?1 AND id < ?2"
		" ORDER BY id LIMIT 2",
		key, upper, out, &n);
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
 * query's first column is the step's rowid, and it sorts by it), and hands
 * each step its slice.  One query per table instead of one per step.
 */
typedef void (*read_row_fn)(
	zenc__arena *a, sqlite3_stmt *st, void *rec, const char *run_id);

static int load_children(
	sqlite_store *s,
	zenc__arena *a,
	const char *sql,
	const char *run_id,
	size_t size,
	read_row_fn read_row,
	const sqlite3_int64 *step_keys,
	zenc__step_info *steps,
	size_t n_steps,
	size_t which)
{
	struct vec rows = {NULL, 0, 0, size};
	struct vec keys = {NULL, 0, 0, sizeof(sqlite3_int64)};
	sqlite3_stmt *st = NULL;
	sqlite3_int64 *key;
	char *base;
	size_t i, j;
	int rc, step_rc;

	if ((rc = db_prepare(s, &st, sql, 0)) < 0)
		goto done;
	if (bind_text(st, 1, run_id)) {
		rc = db_fail(s, "cannot read run '%s'", run_id);
		goto done;
	}
	while ((step_rc = sqlite3_step(st)) == SQLITE_ROW) {
		key = vec_push(&keys);
		*key = sqlite3_column_int64(st, 0);
		read_row(a, st, vec_push(&rows), run_id);
	}
	if (step_rc != SQLITE_DONE) {
		rc = db_fail(s, "cannot read run '%s'", run_id);
		goto done;
	}
	base = vec_to_arena(&rows, a);
	key = keys.p;
	for (i = 0, j = 0; i < n_steps; i++) {
		size_t start = j;

		while (j < rows.n && key[j] == step_keys[i])
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
	sqlite3_finalize(st);
	free(rows.p);
	free(keys.p);
	return rc;
}

/* Column 0 is the step key in each of these readers. */
static void read_attempt(
	zenc__arena *a, sqlite3_stmt *st, void *rec, const char *run_id)
{
	zenc__attempt_record *r = rec;

	(void)run_id;
	r->attempt = col_int(st, 1);
	r->status = col_text(a, st, 2);
	r->started = sqlite3_column_double(st, 3);
	r->ended = sqlite3_column_double(st, 4);
	r->error_type = col_text(a, st, 5);
	r->error_message = col_text(a, st, 6);
	r->exit_code = col_int(st, 7);
	r->signal = col_int(st, 8);
}

static void read_artifact(
	zenc__arena *a, sqlite3_stmt *st, void *rec, const char *run_id)
{
	zenc__artifact_record *r = rec;

	r->run_id = run_id;
	r->step = col_text(a, st, 1);
	r->name = col_text(a, st, 2);
	r->type = col_text(a, st, 3);
	r->uri = col_text(a, st, 4);
	r->size = sqlite3_column_int64(st, 5);
	r->checksum = col_text(a, st, 6);
}

static void read_hook(
	zenc__arena *a, sqlite3_stmt *st, void *rec, const char *run_id)
{
	zenc__hook_record *r = rec;

	r->run_id = run_id;
	r->step = col_text(a, st, 1);
	r->event = col_text(a, st, 2);
	r->hook = col_text(a, st, 3);
	r->attempt = col_int(st, 4);
	r->status = col_text(a, st, 5);
	r->error = col_text(a, st, 6);
	r->started = sqlite3_column_double(st, 7);
	r->duration = sqlite3_column_double(st, 8);
	r->seq = col_int(st, 9);
}

#define HOOK_COLUMNS                                                           \
	"h.step, h.event, h.hook, h.attempt, h.status, h.error, h.started,"    \
	" h.duration, h.seq"

static int load_steps(sqlite_store *s, zenc__arena *a, zenc__run_info *out)
{
	static const char sql[] =
		"SELECT rowid, name, status, attempts, started, ended,"
		" error_type, error_message, exit_code, signal, params_json,"
		" log_uri, upstream FROM step_runs WHERE run_id = ?1"
		" ORDER BY rowid";
	struct vec steps = {NULL, 0, 0, sizeof(zenc__step_info)};
	struct vec keys = {NULL, 0, 0, sizeof(sqlite3_int64)};
	const char *run_id = out->rec.id;
	sqlite3_stmt *st = NULL;
	zenc__step_info *si;
	sqlite3_int64 *key;
	int rc, step_rc;

	if ((rc = db_prepare(s, &st, sql, 0)) < 0)
		goto done;
	if (bind_text(st, 1, run_id)) {
		rc = db_fail(s, "cannot read run '%s'", run_id);
		goto done;
	}
	while ((step_rc = sqlite3_step(st)) == SQLITE_ROW) {
		key = vec_push(&keys);
		*key = sqlite3_column_int64(st, 0);
		si = vec_push(&steps);
		si->rec.run_id = run_id;
		si->rec.name = col_text(a, st, 1);
		si->rec.status = col_text(a, st, 2);
		si->rec.attempts = col_int(st, 3);
		si->rec.started = sqlite3_column_double(st, 4);
		si->rec.ended = sqlite3_column_double(st, 5);
		si->rec.error_type = col_text(a, st, 6);
		si->rec.error_message = col_text(a, st, 7);
		si->rec.exit_code = col_int(st, 8);
		si->rec.signal = col_int(st, 9);
		si->rec.params_json = col_text(a, st, 10);
		si->rec.log_uri = col_text(a, st, 11);
		si->rec.upstream_json = col_text(a, st, 12);
	}
	if (step_rc != SQLITE_DONE) {
		rc = db_fail(s, "cannot read run '%s'", run_id);
		goto done;
	}
	out->steps = vec_to_arena(&steps, a);
	out->n_steps = steps.n;
	if (!steps.n)
		goto done;

	rc = load_children(
		s, a,
		"SELECT s.rowid, a.attempt, a.status, a.started, a.ended,"
		" a.error_type, a.error_message, a.exit_code, a.signal"
		" FROM step_attempts a JOIN step_runs s"
		" ON s.run_id = a.run_id AND s.name = a.step"
		" WHERE a.run_id = ?1 ORDER BY s.rowid, a.attempt",
		run_id, sizeof(zenc__attempt_record), read_attempt, keys.p,
		out->steps, out->n_steps, 0);
	if (rc < 0)
		goto done;
	rc = load_children(
		s, a,
		"SELECT s.rowid, a.step, a.name, a.type, a.uri, a.size,"
		" a.checksum FROM artifacts a JOIN step_runs s"
		" ON s.run_id = a.run_id AND s.name = a.step"
		" WHERE a.run_id = ?1 ORDER BY s.rowid, a.rowid",
		run_id, sizeof(zenc__artifact_record), read_artifact, keys.p,
		out->steps, out->n_steps, 1);
	if (rc < 0)
		goto done;
	rc = load_children(
		s, a,
		"SELECT s.rowid, " HOOK_COLUMNS " FROM hook_runs h"
		" JOIN step_runs s ON s.run_id = h.run_id AND s.name = h.step"
		" WHERE h.run_id = ?1 ORDER BY s.rowid, h.seq, h.rowid",
		run_id, sizeof(zenc__hook_record), read_hook, keys.p,
		out->steps, out->n_steps, 2);
done:
	sqlite3_finalize(st);
	free(steps.p);
	free(keys.p);
	return rc;
}

static int load_run_hooks(sqlite_store *s, zenc__arena *a, zenc__run_info *out)
{
	static const char sql[] = "SELECT 0, " HOOK_COLUMNS " FROM hook_runs h"
				  " WHERE h.run_id = ?1 AND h.step IS NULL"
				  " ORDER BY h.seq, h.rowid";
	struct vec v = {NULL, 0, 0, sizeof(zenc__hook_record)};
	sqlite3_stmt *st = NULL;
	int rc, step_rc;

	if ((rc = db_prepare(s, &st, sql, 0)) < 0)
		goto done;
	if (bind_text(st, 1, out->rec.id)) {
		rc = db_fail(s, "cannot read run '%s'", out->rec.id);
		goto done;
	}
	while ((step_rc = sqlite3_step(st)) == SQLITE_ROW)
		read_hook(a, st, vec_push(&v), out->rec.id);
	if (step_rc != SQLITE_DONE) {
		rc = db_fail(s, "cannot read run '%s'", out->rec.id);
		goto done;
	}
	out->run_hooks = vec_to_arena(&v, a);
	out->n_run_hooks = v.n;
done:
	sqlite3_finalize(st);
	free(v.p);
	return rc;
}

static int sq_run_show(
	zenc__store *self, const char *id_or_name, zenc__run_info *out)
{
	sqlite_store *s = to_sqlite(self);
	zenc__arena *a = zenc__arena_new();
	int rc;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->lock);
	/* One read transaction: a run and its steps as of one moment. */
	if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_fail(s, "cannot read '%s'", s->path);
		goto done;
	}
	if ((rc = resolve_run(s, a, id_or_name, &out->rec)) < 0 ||
	    (rc = load_steps(s, a, out)) < 0 ||
	    (rc = load_run_hooks(s, a, out)) < 0)
		goto done;
done:
	tx_rollback(s);
	pthread_mutex_unlock(&s->lock);
	if (rc < 0) {
		zenc__arena_free(a);
		memset(out, 0, sizeof(*out));
	} else {
		out->arena = a;
	}
	return rc;
}

static int sq_run_delete(zenc__store *self, const char *id_or_name)
{
	sqlite_store *s = to_sqlite(self);
	zenc__arena *a = zenc__arena_new();
	zenc__run_record run;
	sqlite3_stmt *st = NULL;
	int rc;

	pthread_mutex_lock(&s->lock);
	if ((rc = tx_begin(s)) < 0)
		goto done;
	if ((rc = resolve_run(s, a, id_or_name, &run)) < 0)
		goto fail;
	/* The steps, attempts, artifacts and hook runs go with it (ON
	 * DELETE CASCADE). */
	if ((rc = db_prepare(s, &st, "DELETE FROM runs WHERE id = ?1", 0)) < 0)
		goto fail;
	if (bind_text(st, 1, run.id) || exec_stmt(st) != SQLITE_OK) {
		rc = db_fail(s, "cannot delete run '%s'", id_or_name);
		goto fail;
	}
	rc = tx_commit(s);
	goto done;
fail:
	tx_rollback(s);
done:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	zenc__arena_free(a);
	return rc;
}

/* The alert outbox. */

#define ALERT_COLUMNS                                                          \
	"id, created, alerter, flavor, run_id, pipeline, step, event,"         \
	" step_status, error_type, title, dedup_key, status, alert_json,"      \
	" attempts, last_error, updated, delivered, lease_until"

void zenc__alert_list_free(zenc__alert_list *list)
{
	if (!list)
		return;
	zenc__arena_free(list->arena);
	memset(list, 0, sizeof(*list));
}

static int sq_alert_put(zenc__store *self, const zenc__alert_record *r)
{
	static const char sql[] =
		"INSERT INTO alerts (" ALERT_COLUMNS ") VALUES (?1, ?2, ?3, ?4,"
		" ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,"
		" ?18, ?19)";
	sqlite_store *s = to_sqlite(self);
	sqlite3_stmt *st = NULL;
	int rc, b = 0;

	pthread_mutex_lock(&s->lock);
	if ((rc = db_prepare(s, &st, sql, 0)) < 0)
		goto done;
	b |= bind_text(st, 1, r->id);
	b |= sqlite3_bind_double(st, 2, r->created);
	b |= bind_text(st, 3, r->alerter);
	b |= bind_text(st, 4, r->flavor);
	b |= bind_text(st, 5, r->run_id);
	b |= bind_text(st, 6, r->pipeline);
	b |= bind_text(st, 7, r->step);
	b |= bind_text(st, 8, r->event);
	b |= bind_text(st, 9, r->step_status);
	b |= bind_text(st, 10, r->error_type);
	b |= bind_text(st, 11, r->title);
	b |= bind_text(st, 12, r->dedup_key);
	b |= bind_text(st, 13, r->status ? r->status : "pending");
	b |= bind_text(st, 14, r->alert_json ? r->alert_json : "{}");
	b |= sqlite3_bind_int(st, 15, r->attempts);
	b |= bind_text(st, 16, r->last_error);
	b |= bind_time(st, 17, r->updated);
	b |= bind_time(st, 18, r->delivered);
	b |= bind_time(st, 19, r->lease_until);
	if (b || exec_stmt(st) != SQLITE_OK)
		rc = db_fail(s, "cannot record alert '%s'", r->id);
done:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int sq_alert_update(
	zenc__store *self,
	const char *id,
	const char *status,
	int attempts,
	const char *last_error,
	double lease_until)
{
	static const char sql[] =
		"UPDATE alerts SET status = ?2, attempts = ?3, last_error = ?4,"
		" lease_until = ?5, updated = ?6,"
		" delivered = CASE WHEN ?2 = 'delivered' THEN ?6"
		" ELSE delivered END WHERE id = ?1";
	sqlite_store *s = to_sqlite(self);
	sqlite3_stmt *st = NULL;
	int rc, b = 0;

	pthread_mutex_lock(&s->lock);
	if ((rc = db_prepare(s, &st, sql, 0)) < 0)
		goto done;
	b |= bind_text(st, 1, id);
	b |= bind_text(st, 2, status);
	b |= sqlite3_bind_int(st, 3, attempts);
	b |= bind_text(st, 4, last_error);
	b |= bind_time(st, 5, lease_until);
	b |= sqlite3_bind_double(st, 6, zenc__now());
	if (b || exec_stmt(st) != SQLITE_OK)
		rc = db_fail(s, "cannot update alert '%s'", id);
	else if (sqlite3_changes(s->db) == 0)
		rc = zenc__error_set(ZENC_ENOTFOUND, "no alert '%s'", id);
done:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static void read_alert(zenc__arena *a, sqlite3_stmt *st, zenc__alert_record *r)
{
	r->id = col_text(a, st, 0);
	r->created = sqlite3_column_double(st, 1);
	r->alerter = col_text(a, st, 2);
	r->flavor = col_text(a, st, 3);
	r->run_id = col_text(a, st, 4);
	r->pipeline = col_text(a, st, 5);
	r->step = col_text(a, st, 6);
	r->event = col_text(a, st, 7);
	r->step_status = col_text(a, st, 8);
	r->error_type = col_text(a, st, 9);
	r->title = col_text(a, st, 10);
	r->dedup_key = col_text(a, st, 11);
	r->status = col_text(a, st, 12);
	r->alert_json = col_text(a, st, 13);
	r->attempts = col_int(st, 14);
	r->last_error = col_text(a, st, 15);
	r->updated = sqlite3_column_double(st, 16);
	r->delivered = sqlite3_column_double(st, 17);
	r->lease_until = sqlite3_column_double(st, 18);
}

/* Runs an alert query whose parameters are already bound. */
static int read_alerts(
	sqlite_store *s, sqlite3_stmt *st, zenc__alert_list *out)
{
	struct vec v = {NULL, 0, 0, sizeof(zenc__alert_record)};
	zenc__arena *a = zenc__arena_new();
	int rc = 0, step_rc;

	while ((step_rc = sqlite3_step(st)) == SQLITE_ROW)
		read_alert(a, st, vec_push(&v));
	if (step_rc != SQLITE_DONE) {
		rc = db_fail(s, "cannot list alerts in '%s'", s->path);
		zenc__arena_free(a);
	} else {
		out->alerts = vec_to_arena(&v, a);
		out->n = v.n;
		out->arena = a;
	}
	free(v.p);
	return rc;
}

static int sq_alerts_list(
	zenc__store *self,
	const char *status,
	size_t limit,
	zenc__alert_list *out)
{
	static const char sql[] = "SELECT " ALERT_COLUMNS " FROM alerts"
				  " WHERE (?1 IS NULL OR status = ?1)"
				  " ORDER BY created DESC, rowid DESC LIMIT ?2";
	sqlite_store *s = to_sqlite(self);
	sqlite3_stmt *st = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->lock);
	if ((rc = db_prepare(s, &st, sql, 0)) < 0)
		goto done;
	if (bind_text(st, 1, status) |
	    sqlite3_bind_int64(st, 2, limit ? (sqlite3_int64)limit : -1)) {
		rc = db_fail(s, "cannot list alerts in '%s'", s->path);
		goto done;
	}
	rc = read_alerts(s, st, out);
done:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int sq_alerts_pending(
	zenc__store *self, double now, zenc__alert_list *out)
{
	static const char sql[] =
		"SELECT " ALERT_COLUMNS " FROM alerts"
		" WHERE status = 'pending'"
		" AND (lease_until IS NULL OR lease_until < ?1)"
		" ORDER BY created, rowid";
	sqlite_store *s = to_sqlite(self);
	sqlite3_stmt *st = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->lock);
	if ((rc = db_prepare(s, &st, sql, 0)) < 0)
		goto done;
	if (sqlite3_bind_double(st, 1, now)) {
		rc = db_fail(s, "cannot list alerts in '%s'", s->path);
		goto done;
	}
	rc = read_alerts(s, st, out);
done:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int sq_alert_claim(
	zenc__store *self,
	const char *id,
	double now,
	double until,
	int *claimed)
{
	/* One statement: of two processes claiming, one changes the row. */
	static const char sql[] =
		"UPDATE alerts SET lease_until = ?3 WHERE id = ?1"
		" AND status = 'pending'"
		" AND (lease_until IS NULL OR lease_until < ?2)";
	sqlite_store *s = to_sqlite(self);
	sqlite3_stmt *st = NULL;
	int rc;

	*claimed = 0;
	pthread_mutex_lock(&s->lock);
	if ((rc = db_prepare(s, &st, sql, 0)) < 0)
		goto done;
	if (bind_text(st, 1, id) | sqlite3_bind_double(st, 2, now) |
		    sqlite3_bind_double(st, 3, until) ||
	    exec_stmt(st) != SQLITE_OK) {
		rc = db_fail(s, "cannot claim alert '%s'", id);
		goto done;
	}
	*claimed = sqlite3_changes(s->db) == 1;
done:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int sq_alerts_recent(
	zenc__store *self, const char *dedup_key, double since, int *count)
{
	static const char sql[] = "SELECT count(*) FROM alerts"
				  " WHERE dedup_key = ?1 AND created >= ?2"
				  " AND status != 'suppressed'";
	sqlite_store *s = to_sqlite(self);
	sqlite3_stmt *st = NULL;
	int rc;

	*count = 0;
	pthread_mutex_lock(&s->lock);
	if ((rc = db_prepare(s, &st, sql, 0)) < 0)
		goto done;
	if (bind_text(st, 1, dedup_key) | sqlite3_bind_double(st, 2, since) ||
	    sqlite3_step(st) != SQLITE_ROW) {
		rc = db_fail(s, "cannot look up recent alerts");
		goto done;
	}
	*count = sqlite3_column_int(st, 0);
done:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int sq_step_last_status(
	zenc__store *self,
	const char *pipeline,
	const char *step,
	const char *run_id,
	char *out,
	size_t size)
{
	/* The run's own start bounds the search, so that a run recorded
	 * later (a concurrent one) does not count as "previous". */
	static const char sql[] =
		"SELECT s.status FROM step_runs s JOIN runs r"
		" ON r.id = s.run_id"
		" WHERE r.pipeline = ?1 AND s.name = ?2 AND r.id != ?3"
		" AND s.status IN ('completed', 'failed')"
		" AND r.started < coalesce((SELECT started FROM runs"
		" WHERE id = ?3), 1e300)"
		" ORDER BY r.started DESC LIMIT 1";
	sqlite_store *s = to_sqlite(self);
	sqlite3_stmt *st = NULL;
	const unsigned char *t;
	int rc, step_rc;

	if (size)
		out[0] = '\0';
	pthread_mutex_lock(&s->lock);
	if ((rc = db_prepare(s, &st, sql, 0)) < 0)
		goto done;
	if (bind_text(st, 1, pipeline) | bind_text(st, 2, step) |
	    bind_text(st, 3, run_id ? run_id : "")) {
		rc = db_fail(s, "cannot look up step '%s'", step);
		goto done;
	}
	step_rc = sqlite3_step(st);
	if (step_rc == SQLITE_ROW) {
		t = sqlite3_column_text(st, 0);
		if (t && size)
			snprintf(out, size, "%s", (const char *)t);
	} else if (step_rc != SQLITE_DONE) {
		rc = db_fail(s, "cannot look up step '%s'", step);
	}
done:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static void sq_free(zenc__store *self)
{
	sqlite_store *s = to_sqlite(self);

	if (!s)
		return;
	sqlite3_finalize(s->begin);
	sqlite3_finalize(s->commit);
	sqlite3_finalize(s->rollback);
	sqlite3_finalize(s->run_begin);
	sqlite3_finalize(s->run_end);
	sqlite3_finalize(s->step_put);
	sqlite3_finalize(s->attempt_put);
	sqlite3_finalize(s->artifact_put);
	sqlite3_finalize(s->hook_put);
	sqlite3_close(s->db);
	pthread_mutex_destroy(&s->lock);
	free(s->path);
	free(s);
}

/* Opening. */

static int read_schema_version(sqlite_store *s, int *out)
{
	sqlite3_stmt *st = NULL;
	int rc = 0, exists = 0;

	*out = 0;
	if ((rc = db_prepare(
		     s, &st,
		     "SELECT count(*) FROM sqlite_master"
		     " WHERE type = 'table' AND name = 'schema_version'",
		     0)) < 0)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW)
		exists = sqlite3_column_int(st, 0);
	else
		rc = db_fail(s, "cannot read the schema of '%s'", s->path);
	sqlite3_finalize(st);
	st = NULL;
	if (rc < 0 || !exists)
		return rc;
	if ((rc = db_prepare(
		     s, &st,
		     "SELECT coalesce(max(version), 0)"
		     " FROM schema_version",
		     0)) < 0)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0);
	else
		rc = db_fail(s, "cannot read the schema of '%s'", s->path);
	sqlite3_finalize(st);
	return rc;
}

static int migrate(sqlite_store *s)
{
	sqlite3_stmt *st = NULL;
	int version, rc, i;

	/* The common case reads and writes nothing. */
	if ((rc = read_schema_version(s, &version)) < 0)
		return rc;
	if (version == SCHEMA_VERSION)
		return 0;

	/* BEGIN IMMEDIATE: of two processes opening a new file, one creates
	 * the schema and the other then sees it done. */
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return db_fail(s, "cannot migrate '%s'", s->path);
	if (sqlite3_exec(
		    s->db,
		    "CREATE TABLE IF NOT EXISTS schema_version ("
		    " version INTEGER NOT NULL, applied REAL NOT NULL)",
		    NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_fail(s, "cannot migrate '%s'", s->path);
		goto done;
	}
	if ((rc = read_schema_version(s, &version)) < 0)
		goto done;
	if (version > SCHEMA_VERSION) {
		rc = zenc__error_set(
			ZENC_ESTORE,
			"metadata store '%s' has schema version %d, newer than "
			"this zenc knows (%d)",
			s->path, version, SCHEMA_VERSION);
		goto done;
	}
	if ((rc = db_prepare(
		     s, &st,
		     "INSERT INTO schema_version (version, applied)"
		     " VALUES (?1, ?2)",
		     0)) < 0)
		goto done;
	for (i = version; i < SCHEMA_VERSION; i++) {
		if (sqlite3_exec(s->db, migrations[i], NULL, NULL, NULL) !=
		    SQLITE_OK) {
			rc =
				db_fail(s, "cannot migrate '%s' to version %d",
					s->path, i + 1);
			goto done;
		}
		if (sqlite3_bind_int(st, 1, i + 1) |
			    sqlite3_bind_double(st, 2, zenc__now()) ||
		    exec_stmt(st) != SQLITE_OK) {
			rc =
				db_fail(s, "cannot migrate '%s' to version %d",
					s->path, i + 1);
			goto done;
		}
	}
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = db_fail(s, "cannot migrate '%s'", s->path);
done:
	sqlite3_finalize(st);
	if (rc < 0 && !sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/*
 * Runs left "running" by an orchestrating process that died (same host, pid
 * gone) become failed, and so do their running steps.  A pid reused by an
 * unrelated process hides a dead run until that process ends too; that
 * errs on the side of never failing a live run.
 */
static int mark_stale_runs(sqlite_store *s)
{
	struct vec dead = {NULL, 0, 0, sizeof(char *)};
	sqlite3_stmt *st = NULL, *up_run = NULL, *up_steps = NULL;
	char host[256];
	char **id;
	double now = zenc__now();
	size_t i;
	long pid;
	int rc = 0, step_rc;

	if (gethostname(host, sizeof(host)) < 0)
		return 0;
	host[sizeof(host) - 1] = '\0';

	/* The literal 'running' lets the partial index serve the query. */
	if ((rc = db_prepare(
		     s, &st,
		     "SELECT id, pid FROM runs"
		     " WHERE status = 'running' AND host = ?1",
		     0)) < 0)
		goto done;
	if (bind_text(st, 1, host)) {
		rc = db_fail(s, "cannot look for interrupted runs");
		goto done;
	}
	while ((step_rc = sqlite3_step(st)) == SQLITE_ROW) {
		pid = (long)sqlite3_column_int64(st, 1);
		if (pid <= 0 || (pid_t)pid != pid)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		id = vec_push(&dead);
		*id = zenc__strdup((const char *)sqlite3_column_text(st, 0));
	}
	if (step_rc != SQLITE_DONE) {
		rc = db_fail(s, "cannot look for interrupted runs");
		goto done;
	}
	if (!dead.n)
		goto done;

	if ((rc = db_prepare(
		     s, &up_run,
		     "UPDATE runs SET status = ?2, ended = ?3"
		     " WHERE id = ?1 AND status = 'running'",
		     0)) < 0 ||
	    (rc = db_prepare(
		     s, &up_steps,
		     "UPDATE step_runs SET status = ?2, ended = ?3,"
		     " error_type = ?4, error_message = ?5"
		     " WHERE run_id = ?1 AND status = 'running'",
		     0)) < 0)
		goto done;
	if ((rc = tx_begin(s)) < 0)
		goto done;
	for (i = 0; i < dead.n; i++) {
		const char *rid = ((char **)dead.p)[i];
		int brc = 0;

		brc |= bind_text(up_run, 1, rid);
		brc |= bind_text(up_run, 2, "failed");
		brc |= sqlite3_bind_double(up_run, 3, now);
		brc |= bind_text(up_steps, 1, rid);
		brc |= bind_text(up_steps, 2, "failed");
		brc |= sqlite3_bind_double(up_steps, 3, now);
		brc |= bind_text(up_steps, 4, "Interrupted");
		brc |= bind_text(up_steps, 5, "the orchestrating process died");
		if (brc || exec_stmt(up_run) != SQLITE_OK ||
		    exec_stmt(up_steps) != SQLITE_OK) {
			rc = db_fail(s, "cannot mark run '%s' as failed", rid);
			tx_rollback(s);
			goto done;
		}
		zenc__info(
			"run '%s' was left running by a process that "
			"died; marked as failed",
			rid);
	}
	rc = tx_commit(s);
done:
	sqlite3_finalize(st);
	sqlite3_finalize(up_run);
	sqlite3_finalize(up_steps);
	for (i = 0; i < dead.n; i++)
		free(((char **)dead.p)[i]);
	free(dead.p);
	return rc;
}

/* Creates the folder that will hold `path`, if it names one. */
static int make_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int rc = 0;

	if (!slash || slash == path)
		return 0;
	dir = zenc__strndup(path, (size_t)(slash - path));
	if (zenc__mkdir_p(dir, 0755) < 0)
		rc = zenc__error_set(
			ZENC_ESTORE, "cannot create folder '%s': %s", dir,
			strerror(errno));
	free(dir);
	return rc;
}

int zenc__store_sqlite_open(zenc__store **out, const char *path)
{
	static const unsigned int persistent = SQLITE_PREPARE_PERSISTENT;
	sqlite_store *s = NULL;
	int rc;

	*out = NULL;
	if (!path || !*path)
		return zenc__error_set(
			ZENC_ESTORE, "no path for the sqlite metadata store");
	if (strcmp(path, ":memory:") && strncmp(path, "file:", 5) &&
	    (rc = make_parent(path)) < 0)
		return rc;

	s = zenc__calloc(1, sizeof(*s));
	s->base.version = ZENC__STORE_VERSION;
	s->base.flavor = "sqlite";
	s->base.run_begin = sq_run_begin;
	s->base.run_end = sq_run_end;
	s->base.step_put = sq_step_put;
	s->base.step_end = sq_step_end;
	s->base.hooks_put = sq_hooks_put;
	s->base.artifacts_get = sq_artifacts_get;
	s->base.runs_list = sq_runs_list;
	s->base.run_show = sq_run_show;
	s->base.run_delete = sq_run_delete;
	s->base.free = sq_free;
	s->base.alert_put = sq_alert_put;
	s->base.alert_update = sq_alert_update;
	s->base.alerts_list = sq_alerts_list;
	s->base.alerts_pending = sq_alerts_pending;
	s->base.alert_claim = sq_alert_claim;
	s->base.alerts_recent = sq_alerts_recent;
	s->base.step_last_status = sq_step_last_status;
	s->base.steps_put = sq_steps_put;
	s->path = zenc__strdup(path);
	pthread_mutex_init(&s->lock, NULL);

	/* The store serializes its own use of the connection (s->lock). */
	if (sqlite3_open_v2(
		    path, &s->db,
		    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI,
		    NULL) != SQLITE_OK) {
		rc = s->db ? db_fail(s, "cannot open metadata store '%s'", path)
			   : zenc__error_set(
				     ZENC_ENOMEM,
				     "cannot open metadata store '%s'", path);
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 10000);
	if (sqlite3_exec(
		    s->db,
		    "PRAGMA journal_mode = WAL;"
		    "PRAGMA synchronous = NORMAL;"
		    "PRAGMA foreign_keys = ON;",
		    NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_fail(s, "cannot open metadata store '%s'", path);
		goto fail;
	}
	if ((rc = migrate(s)) < 0)
		goto fail;

	if ((rc = db_prepare(s, &s->begin, "BEGIN IMMEDIATE", persistent)) <
		    0 ||
	    (rc = db_prepare(s, &s->commit, "COMMIT", persistent)) < 0 ||
	    (rc = db_prepare(s, &s->rollback, "ROLLBACK", persistent)) < 0 ||
	    (rc = db_prepare(s, &s->run_begin, SQL_RUN_BEGIN, persistent)) <
		    0 ||
	    (rc = db_prepare(s, &s->run_end, SQL_RUN_END, persistent)) < 0 ||
	    (rc = db_prepare(s, &s->step_put, SQL_STEP_PUT, persistent)) < 0 ||
	    (rc = db_prepare(s, &s->attempt_put, SQL_ATTEMPT_PUT, persistent)) <
		    0 ||
	    (rc = db_prepare(
		     s, &s->artifact_put, SQL_ARTIFACT_PUT, persistent)) < 0 ||
	    (rc = db_prepare(s, &s->hook_put, SQL_HOOK_PUT, persistent)) < 0)
		goto fail;

	/* A store that cannot be written (say, someone else's, read-only)
	 * can still be read: then stale runs stay as they are. */
	if (mark_stale_runs(s) < 0)
		zenc__warn("%s", zenc_error_last());

	*out = &s->base;
	return 0;
fail:
	if (rc != ZENC_ESTORE && rc != ZENC_ENOMEM)
		rc = ZENC_ESTORE;
	sq_free(&s->base);
	return rc;
}
