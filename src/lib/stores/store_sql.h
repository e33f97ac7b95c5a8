/*
 * The SQL metadata stores: what every SQL flavor shares, and the few
 * primitives each flavor gives it.
 *
 * store_sql.c implements the whole of `zenc__store` (the rules: what is
 * written in one transaction, how a run is found by id, name or prefix,
 * the stale-run sweep, the outbox's claims and leases, the migrations'
 * bookkeeping, how rows become records) over a dialect: a connection that
 * runs numbered queries with bound values and returns rows.  A dialect
 * (store_sqlite.c, store_postgres.c) keeps only what differs: the SQL
 * text of each query and of each migration, connecting, transactions,
 * binding and reading columns, and its error messages.
 *
 * Values are only ever bound, never put into the SQL text.
 */
#ifndef ZENC_LIB_STORE_SQL_H
#define ZENC_LIB_STORE_SQL_H

#include <pthread.h>
#include <stddef.h>

#include "stores/store.h"
#include "internal.h"

/*
 * The queries, by number; a dialect gives the SQL text of each, with its
 * parameters numbered in the order listed here.  The schema queries come
 * first: they run before the schema exists, so a dialect that prepares
 * its statements on connecting leaves those out.
 */
enum zenc__sql_query {
	/* (): one row, non-zero when the schema_version table exists. */
	ZENC__Q_SCHEMA_EXISTS,
	/* (): creates schema_version if it does not exist. */
	ZENC__Q_SCHEMA_CREATE,
	/* (): one row, the highest version applied, 0 for none. */
	ZENC__Q_SCHEMA_VERSION,
	/* (version, applied). */
	ZENC__Q_SCHEMA_RECORD,
	ZENC__Q_PREPARED,
	/* (id, name, pipeline, status, stack, host, pid, started, ended,
	 * resumed_from). */
	ZENC__Q_RUN_BEGIN = ZENC__Q_PREPARED,
	/* (id, status, ended). */
	ZENC__Q_RUN_END,
	/* Inserts or updates: (run_id, name, status, attempts, started,
	 * ended, error_type, error_message, exit_code, signal, params_json,
	 * log_uri, upstream, cached_from, cache_key).  A later record
	 * without a start time, parameters, log or cache key keeps the
	 * earlier ones; an update keeps the
	 * row's place in the order steps are shown in. */
	ZENC__Q_STEP_PUT,
	/* Inserts or replaces: (run_id, step, attempt, status, started,
	 * ended, error_type, error_message, exit_code, signal, log_uri). */
	ZENC__Q_ATTEMPT_PUT,
	/* Inserts or replaces: (run_id, step, name, type, uri, size,
	 * checksum). */
	ZENC__Q_ARTIFACT_PUT,
	/* (run_id, step, event, hook, attempt, status, error, started,
	 * duration, seq). */
	ZENC__Q_HOOK_PUT,
	/* (run_id, step): name, type, uri, size, checksum, in the order
	 * they were recorded. */
	ZENC__Q_ARTIFACTS_GET,
	/* (pipeline, status, limit, offset), NULL for any and for no limit:
	 * the run columns, newest first, a run without start time last. */
	ZENC__Q_RUNS_LIST,
	/* (id), (name) and (low, high) of the id: the run columns, of at
	 * most two runs. */
	ZENC__Q_RUN_BY_ID,
	ZENC__Q_RUN_BY_NAME,
	ZENC__Q_RUN_BY_PREFIX,
	/* (run_id): key, name, status, attempts, started, ended,
	 * error_type, error_message, exit_code, signal, params_json,
	 * log_uri, upstream, cached_from, cache_key, in the order they were
	 * first recorded; the key
	 * is an integer that sorts the same way. */
	ZENC__Q_STEPS,
	/* (run_id): rows of the step tables, each led by its step's key and
	 * sorted by it: attempt, status, started, ended, error_type,
	 * error_message, exit_code, signal, log_uri ... */
	ZENC__Q_ATTEMPTS,
	/* ... step, name, type, uri, size, checksum ... */
	ZENC__Q_ARTIFACTS,
	/* ... and the hook columns: step, event, hook, attempt, status,
	 * error, started, duration, seq. */
	ZENC__Q_HOOKS,
	/* (run_id): 0 then the hook columns, of the run-level hooks. */
	ZENC__Q_RUN_HOOKS,
	/* (id); a run's steps, attempts, artifacts and hooks go with it. */
	ZENC__Q_RUN_DELETE,
	/* (host): id, pid, the pid of its watcher (0: none) and whether the
	 * run has a watch record (0 or 1), of its runs still "running". */
	ZENC__Q_RUNNING_HERE,
	/* (id, status, ended), only while "running". */
	ZENC__Q_STALE_RUN,
	/* (run_id, status, ended, error_type, error_message, signal) of its
	 * steps still "running". */
	ZENC__Q_STALE_STEPS,
	/* The alert columns, in the order of zenc__alert_record. */
	ZENC__Q_ALERT_PUT,
	/* (id, status, attempts, last_error, lease_until, now); delivered
	 * becomes now when the status is "delivered". */
	ZENC__Q_ALERT_UPDATE,
	/* (status, limit), NULL for any and for no limit: newest first. */
	ZENC__Q_ALERTS_LIST,
	/* (now): pending alerts whose lease ended, oldest first. */
	ZENC__Q_ALERTS_PENDING,
	/* (id, now, until): sets the lease of a pending alert whose lease
	 * ended, in one statement so that of two claims one wins. */
	ZENC__Q_ALERT_CLAIM,
	/* (dedup_key, since): one row, the count of alerts not suppressed. */
	ZENC__Q_ALERTS_RECENT,
	/* (pipeline, step, run_id): the final status of the step in the
	 * latest run of the pipeline that started before run_id did. */
	ZENC__Q_STEP_LAST_STATUS,
	/* (now): pending alerts nobody is sending whose next try is due
	 * (next_at NULL or passed), oldest first. */
	ZENC__Q_ALERTS_DUE,
	/* (id, next_at): when the courier tries the alert again. */
	ZENC__Q_ALERT_NEXT,
	/* (): one row, the count of pending alerts and the earliest time
	 * one of them may be tried (the later of its next try and its
	 * lease; NULL when none is pending). */
	ZENC__Q_ALERTS_WAKE,
	/* Inserts or replaces: (run_id, watcher_pid, spec). */
	ZENC__Q_WATCH_PUT,
	/* (run_id): watcher_pid, spec. */
	ZENC__Q_WATCH_GET,
	/* (ended, error_type, error_message): steps still "running" in runs
	 * that ended become failed (their end was never recorded). */
	ZENC__Q_LOST_STEPS,
	/* (): one row, the count of the steps ZENC__Q_LOST_STEPS repairs. */
	ZENC__Q_LOST_STEPS_COUNT,
	/* (cache_key): run_id and the run that executed it (cached_from, or
	 * run_id), of the latest step completed or cached with that key
	 * (store_sql_cache.c). */
	ZENC__Q_CACHE_LOOKUP,
	/* (uri, run_id): one row, how many artifacts of other runs than
	 * run_id have that uri (store_sql_files.c). */
	ZENC__Q_URI_SHARED,
	ZENC__Q_COUNT
};

/*
 * The columns that the readers of store_sql_rows.c take, in their order:
 * of a run, of a hook run (of hook_runs as h, after the step's key), and
 * of an alert (also the order of ZENC__Q_ALERT_PUT's parameters).
 */
#define ZENC__SQL_RUN_COLUMNS                                                  \
	"id, name, pipeline, status, stack, host, pid, started, ended,"        \
	" resumed_from"
#define ZENC__SQL_HOOK_COLUMNS                                                 \
	"h.step, h.event, h.hook, h.attempt, h.status, h.error, h.started,"    \
	" h.duration, h.seq"
#define ZENC__SQL_ALERT_COLUMNS                                                \
	"id, created, alerter, flavor, run_id, pipeline, step, event,"         \
	" step_status, error_type, title, dedup_key, status, alert_json,"      \
	" attempts, last_error, updated, delivered, lease_until"

/* A bound value: text (NULL is SQL NULL), an integer or a double. */
enum zenc__sql_type {
	ZENC__SQL_NULL,
	ZENC__SQL_TEXT,
	ZENC__SQL_INT,
	ZENC__SQL_DOUBLE
};

typedef struct zenc__sql_value {
	enum zenc__sql_type type;
	const char *text;
	long long i;
	double d;
} zenc__sql_value;

#define ZENC__SQL_MAX_PARAMS 24

typedef struct zenc__sql_params {
	zenc__sql_value v[ZENC__SQL_MAX_PARAMS];
	int n;
} zenc__sql_params;

/* The rows of a query; `res` and `row` are the dialect's. */
typedef struct zenc__sql_rows {
	struct zenc__sqlstore *s;
	void *res;
	int row;
} zenc__sql_rows;

/* What a transaction is for. */
enum zenc__sql_tx {
	ZENC__TX_WRITE,  /* writes that other writers wait for */
	ZENC__TX_READ,   /* reads that see one moment */
	ZENC__TX_MIGRATE /* the schema, by one process at a time */
};

typedef struct zenc__sqlstore zenc__sqlstore;

/*
 * The primitives of a dialect.  Unless said otherwise they return 0, or
 * -1 with the dialect's error kept for errmsg().
 */
typedef struct zenc__sql_dialect {
	/* The migrations: migrations[i] brings the schema from version i to
	 * i + 1, as constant SQL. */
	const char *const *migrations;
	int n_migrations;
	/* Before each operation (say, reconnects): 0 or an error code with
	 * the last error set. */
	int (*ready)(zenc__sqlstore *s);
	/* Whether an operation that failed on try `try` (0, 1, ...) is
	 * tried again. */
	int (*retryable)(zenc__sqlstore *s, int try);
	int (*begin)(zenc__sqlstore *s, enum zenc__sql_tx what);
	int (*commit)(zenc__sqlstore *s);
	/* Rolls back a transaction if one is open; keeps the last error. */
	void (*rollback)(zenc__sqlstore *s);
	/* Runs constant SQL (a migration). */
	int (*script)(zenc__sqlstore *s, const char *sql);
	/* Runs a query that returns no rows; *changes (unless NULL): the
	 * rows it changed. */
	int (*exec)(
		zenc__sqlstore *s,
		enum zenc__sql_query q,
		const zenc__sql_params *p,
		long long *changes);
	/* Runs a query; its rows are read with next() and the column
	 * readers, and released with close() whatever happened. */
	int (*query)(
		zenc__sqlstore *s,
		enum zenc__sql_query q,
		const zenc__sql_params *p,
		zenc__sql_rows *rows);
	/* 1: a row, 0: no more, -1: an error. */
	int (*next)(zenc__sql_rows *rows);
	/* A column of the current row; NULL (text) or 0 (numbers) for SQL
	 * NULL.  The text lives until next() or close(). */
	const char *(*text)(zenc__sql_rows *rows, int col, size_t *len);
	long long (*integer)(zenc__sql_rows *rows, int col);
	double (*real)(zenc__sql_rows *rows, int col);
	void (*close)(zenc__sql_rows *rows);
	/* The dialect's message for its last error. */
	const char *(*errmsg)(zenc__sqlstore *s);
	/* After the schema is up to date. */
	int (*prepare)(zenc__sqlstore *s);
	/* Releases the connection and what the dialect holds, not `s`. */
	void (*close_store)(zenc__sqlstore *s);
	/* Whether the last error was a lock that another connection held
	 * past the dialect's own wait (may be NULL: never). */
	int (*busy)(zenc__sqlstore *s);
} zenc__sql_dialect;

/* The head of a dialect's store struct. */
struct zenc__sqlstore {
	zenc__store base;
	const zenc__sql_dialect *d;
	/* The store as messages name it: "'path'", "host:port/db". */
	char *where;
	/* One connection is used by one thread at a time: the engine may
	 * record from several. */
	pthread_mutex_t lock;
};

/* Fills in the store's functions and its lock; `where` is taken. */
void zenc__sqlstore_init(
	zenc__sqlstore *s,
	const zenc__sql_dialect *d,
	const char *flavor,
	char *where);
/* Once connected: migrates the schema, prepares the dialect's statements
 * and sweeps the runs whose process died.  0 or an error code. */
int zenc__sqlstore_start(zenc__sqlstore *s);
/* Sets the last error to "<what>: <the dialect's message>". */
int zenc__sqlstore_fail(zenc__sqlstore *s, const char *fmt, ...)
	ZENC__PRINTF(2, 3);

/*
 * Records and rows (store_sql_rows.c).  The parameter builders append a
 * value; a time of 0 and a limit of 0 (none) become NULL.  A binder
 * starts `p` afresh with the parameters of the record's query.  A reader
 * fills the record `rec` from the current row; `run_id` is the run the
 * rows are of, where the query leaves it out.
 */
void zenc__sqlp_text(zenc__sql_params *p, const char *v);
void zenc__sqlp_int(zenc__sql_params *p, long long v);
void zenc__sqlp_double(zenc__sql_params *p, double v);
void zenc__sqlp_time(zenc__sql_params *p, double t);
void zenc__sqlp_limit(zenc__sql_params *p, size_t n);

void zenc__sql_bind_run(zenc__sql_params *p, const zenc__run_record *r);
void zenc__sql_bind_step(zenc__sql_params *p, const zenc__step_record *r);
void zenc__sql_bind_attempt(
	zenc__sql_params *p,
	const zenc__step_record *step,
	const zenc__attempt_record *r);
void zenc__sql_bind_artifact(
	zenc__sql_params *p,
	const zenc__step_record *step,
	const zenc__artifact_record *r);
void zenc__sql_bind_hook(
	zenc__sql_params *p,
	const char *run_id,
	const char *step,
	const zenc__hook_record *r);
void zenc__sql_bind_alert(zenc__sql_params *p, const zenc__alert_record *a);

typedef void (*zenc__sql_read_fn)(
	zenc__arena *a, zenc__sql_rows *r, void *rec, const char *run_id);
/* zenc__run_record */
void zenc__sql_read_run(
	zenc__arena *a, zenc__sql_rows *r, void *rec, const char *run_id);
/* zenc__step_info; column 0 is the step's key in this and the next
 * three. */
void zenc__sql_read_step(
	zenc__arena *a, zenc__sql_rows *r, void *rec, const char *run_id);
void zenc__sql_read_attempt(
	zenc__arena *a, zenc__sql_rows *r, void *rec, const char *run_id);
void zenc__sql_read_artifact(
	zenc__arena *a, zenc__sql_rows *r, void *rec, const char *run_id);
void zenc__sql_read_hook(
	zenc__arena *a, zenc__sql_rows *r, void *rec, const char *run_id);
void zenc__sql_read_alert(
	zenc__arena *a, zenc__sql_rows *r, void *rec, const char *run_id);
/* A row of ZENC__Q_ARTIFACTS_GET, without run and step. */
void zenc__sql_read_artifact_of_step(
	zenc__arena *a, zenc__sql_rows *r, void *rec, const char *run_id);

/* Shared by the SQL store's files (store_sql.c, store_sql_outbox.c). */
/* Runs a query that returns one number: *out, 0 when there is no row. */
int zenc__sql_query_number(
	zenc__sqlstore *s,
	enum zenc__sql_query q,
	const zenc__sql_params *p,
	long long *out);
/* One write, under the store's lock, tried again while the dialect says
 * the failure may pass; the error says "cannot <what> '<name>'". */
int zenc__sql_write_one(
	zenc__sqlstore *s,
	enum zenc__sql_query q,
	const zenc__sql_params *p,
	long long *changes,
	const char *what,
	const char *name);
/* The rows of query `q` as records of `size` bytes read by `read`, in a
 * new arena; the error says "cannot <what> in <the store>". */
int zenc__sql_list_records(
	zenc__sqlstore *s,
	enum zenc__sql_query q,
	const zenc__sql_params *p,
	size_t size,
	zenc__sql_read_fn read,
	const char *what,
	void **recs,
	size_t *n,
	void **arena);
/* Sets the operations on a run's files of `s` (store_sql_files.c). */
void zenc__sqlstore_init_files(zenc__sqlstore *s);
/* Sets the outbox operations of `s` (store_sql_outbox.c). */
void zenc__sqlstore_init_outbox(zenc__sqlstore *s);
/* Sets the step cache's operations of `s` (store_sql_cache.c). */
void zenc__sqlstore_init_cache(zenc__sqlstore *s);

#endif
