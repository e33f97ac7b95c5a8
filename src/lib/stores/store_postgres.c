/*
 * The PostgreSQL metadata store (libpq): the schema of store_sqlite.c in
 * PostgreSQL's dialect, for a team or a cluster sharing one database.
 *
 * Many processes on many machines write at once: each run's rows are its
 * own, every step event is one transaction, and migrations are serialized
 * with a transaction-scoped advisory lock.  The rules are store_sql.c's;
 * this file is PostgreSQL's dialect of them.  Every statement that carries
 * values is prepared once per connection (PQprepare) and run with
 * PQexecPrepared; only constant SQL (BEGIN, COMMIT, the migrations) goes
 * through PQexec.
 *
 * The DSN is a libpq connection string or URI; {{secret.NAME}} in it is
 * resolved when the store is opened.  The resolved DSN is never logged nor
 * put in a message: errors name the server as host:port/dbname, and the
 * password and every secret value are blanked out of libpq's messages.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef ZENC_HAVE_POSTGRES
#include <libpq-fe.h>
#endif

#include "dynlib.h"
#include "stores/store_sql.h"
#include "config/stack.h"
#include "internal.h"

/* Declared here and in store.c (store.h is shared with other work). */
int zenc__store_postgres_open(zenc__store **out, const char *dsn);

#ifndef ZENC_HAVE_POSTGRES

int zenc__store_postgres_open(zenc__store **out, const char *dsn)
{
	(void)dsn;
	*out = NULL;
	return zenc__error_set(
		ZENC_ECONFIG, "zenc was built without PostgreSQL support");
}

#else

/*
 * libpq, loaded when a postgres store is first opened (dynlib.h), so that
 * a program on the sqlite store never loads it: every PQ* call goes
 * through this table.
 */
#define PQ_FUNCS(X)                                                            \
	X(PQclear)                                                             \
	X(PQcmdTuples)                                                         \
	X(PQconnectdbParams)                                                   \
	X(PQconninfoFree)                                                      \
	X(PQconninfoParse)                                                     \
	X(PQdb)                                                                \
	X(PQerrorMessage)                                                      \
	X(PQexec)                                                              \
	X(PQexecParams)                                                        \
	X(PQexecPrepared)                                                      \
	X(PQfinish)                                                            \
	X(PQfreemem)                                                           \
	X(PQgetisnull)                                                         \
	X(PQgetlength)                                                         \
	X(PQgetvalue)                                                          \
	X(PQhost)                                                              \
	X(PQntuples)                                                           \
	X(PQport)                                                              \
	X(PQprepare)                                                           \
	X(PQreset)                                                             \
	X(PQresultErrorField)                                                  \
	X(PQresultErrorMessage)                                                \
	X(PQresultStatus)                                                      \
	X(PQsetNoticeProcessor)                                                \
	X(PQstatus)                                                            \
	X(PQtransactionStatus)

static struct pq_api {
#define PQ_FIELD(name) __typeof__(name) *name;
	PQ_FUNCS(PQ_FIELD)
#undef PQ_FIELD
} pq;

static const zenc__dynsym pq_syms[] = {
#define PQ_SYM(name) ZENC__DYNSYM(pq, name),
	PQ_FUNCS(PQ_SYM)
#undef PQ_SYM
};

static zenc__dynlib pq_lib =
	ZENC__DYNLIB_INIT("libpq", "libpq.so.5", "libpq5", pq_syms, &pq);
static pthread_once_t pq_once = PTHREAD_ONCE_INIT;

static void pq_load_once(void)
{
	zenc__dynlib_open(&pq_lib);
}

/*
 * The schema, as migrations applied in order, version for version those
 * of store_sqlite.c.  Only ever append.  Differences of dialect: REAL is
 * DOUBLE PRECISION, INTEGER pids and sizes are BIGINT, ids compare
 * bytewise (COLLATE "C", so that an id prefix is an index range whatever
 * the database's collation), and SQLite's implicit rowid, the order rows
 * are shown in, is an explicit identity column.
 */
static const char *const migrations[] = {
	/* 1: runs, steps, attempts, artifacts and hook runs. */
	"CREATE TABLE runs ("
	" id TEXT COLLATE \"C\" PRIMARY KEY NOT NULL,"
	" name TEXT NOT NULL,"
	" pipeline TEXT NOT NULL,"
	" status TEXT NOT NULL,"
	" stack TEXT,"
	" host TEXT,"
	" pid BIGINT,"
	" started DOUBLE PRECISION,"
	" ended DOUBLE PRECISION);"
	"CREATE INDEX runs_started ON runs (started DESC NULLS LAST);"
	"CREATE INDEX runs_name ON runs (name);"
	"CREATE INDEX runs_pipeline ON runs"
	" (pipeline, started DESC NULLS LAST);"
	"CREATE INDEX runs_running ON runs (host) WHERE status = 'running';"
	"CREATE TABLE step_runs ("
	" rowid BIGINT GENERATED ALWAYS AS IDENTITY,"
	" run_id TEXT COLLATE \"C\" NOT NULL"
	"  REFERENCES runs (id) ON DELETE CASCADE,"
	" name TEXT NOT NULL,"
	" status TEXT NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" started DOUBLE PRECISION,"
	" ended DOUBLE PRECISION,"
	" error_type TEXT,"
	" error_message TEXT,"
	" exit_code INTEGER NOT NULL DEFAULT 0,"
	" signal INTEGER NOT NULL DEFAULT 0,"
	" params_json TEXT,"
	" log_uri TEXT,"
	" UNIQUE (run_id, name));"
	"CREATE TABLE step_attempts ("
	" run_id TEXT COLLATE \"C\" NOT NULL"
	"  REFERENCES runs (id) ON DELETE CASCADE,"
	" step TEXT NOT NULL,"
	" attempt INTEGER NOT NULL,"
	" status TEXT NOT NULL,"
	" started DOUBLE PRECISION,"
	" ended DOUBLE PRECISION,"
	" error_type TEXT,"
	" error_message TEXT,"
	" exit_code INTEGER NOT NULL DEFAULT 0,"
	" signal INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (run_id, step, attempt));"
	"CREATE TABLE artifacts ("
	" rowid BIGINT GENERATED ALWAYS AS IDENTITY,"
	" run_id TEXT COLLATE \"C\" NOT NULL"
	"  REFERENCES runs (id) ON DELETE CASCADE,"
	" step TEXT NOT NULL,"
	" name TEXT NOT NULL,"
	" type TEXT,"
	" uri TEXT,"
	" size BIGINT NOT NULL DEFAULT 0,"
	" checksum TEXT,"
	" UNIQUE (run_id, step, name));"
	"CREATE TABLE hook_runs ("
	" rowid BIGINT GENERATED ALWAYS AS IDENTITY,"
	" run_id TEXT COLLATE \"C\" NOT NULL"
	"  REFERENCES runs (id) ON DELETE CASCADE,"
	" step TEXT,"
	" event TEXT NOT NULL,"
	" hook TEXT NOT NULL,"
	" attempt INTEGER NOT NULL DEFAULT 0,"
	" status TEXT NOT NULL,"
	" error TEXT,"
	" started DOUBLE PRECISION,"
	" duration DOUBLE PRECISION,"
	" seq INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX hook_runs_run ON hook_runs (run_id, seq);",
	/* 2: the DAG, so a run can be drawn from its records alone. */
	"ALTER TABLE step_runs ADD COLUMN upstream TEXT;",
	/* 3: the alert outbox.  No foreign key to runs: an alert outlives
	 * a deleted run, and a test alert has none. */
	"CREATE TABLE alerts ("
	" rowid BIGINT GENERATED ALWAYS AS IDENTITY,"
	" id TEXT COLLATE \"C\" PRIMARY KEY NOT NULL,"
	" created DOUBLE PRECISION NOT NULL,"
	" alerter TEXT,"
	" flavor TEXT,"
	" run_id TEXT COLLATE \"C\","
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
	" updated DOUBLE PRECISION,"
	" delivered DOUBLE PRECISION,"
	" lease_until DOUBLE PRECISION);"
	"CREATE INDEX alerts_created ON alerts (created DESC);"
	"CREATE INDEX alerts_pending ON alerts (created)"
	" WHERE status = 'pending';"
	"CREATE INDEX alerts_dedup ON alerts (dedup_key, created);",
	/* 4: when the courier tries a pending alert again. */
	"ALTER TABLE alerts ADD COLUMN next_at DOUBLE PRECISION;",
	/* 5: what the watcher of a run needs when the run's orchestrating
	 * process dies: its pid, and the run's failure hooks and stack as
	 * JSON (references only: no secret is ever resolved into it). */
	"CREATE TABLE run_watch ("
	" run_id TEXT COLLATE \"C\" PRIMARY KEY NOT NULL"
	"  REFERENCES runs (id) ON DELETE CASCADE,"
	" watcher_pid BIGINT NOT NULL DEFAULT 0,"
	" spec TEXT NOT NULL);",
	/* 6: the steps still running, for the sweep that repairs those of runs
	 * that ended. */
	"CREATE INDEX step_runs_running ON step_runs (run_id)"
	" WHERE status = 'running';",
	/* 7: the step cache: each step's cache key and, for a step taken
	 * from the cache, the run that executed it; the run a run resumed. */
	"ALTER TABLE step_runs ADD COLUMN cached_from TEXT COLLATE \"C\";"
	"ALTER TABLE step_runs ADD COLUMN cache_key TEXT COLLATE \"C\";"
	"ALTER TABLE runs ADD COLUMN resumed_from TEXT COLLATE \"C\";"
	"CREATE INDEX step_runs_cache ON step_runs (cache_key, ended)"
	" WHERE cache_key IS NOT NULL;",
	/* 8: the log of each attempt, and artifacts found by uri (a file
	 * is deleted only when no other run's artifact points to it). */
	"ALTER TABLE step_attempts ADD COLUMN log_uri TEXT;"
	"CREATE INDEX artifacts_uri ON artifacts (uri);",
	/* 9: the same two lookups, from indexes that a step writes to only
	 * when they may serve it: the cache's holds the steps it can reuse,
	 * once they ended; the files' holds the artifacts that point into
	 * another run's folder (those of steps taken from the cache). */
	"DROP INDEX step_runs_cache;"
	"CREATE INDEX step_runs_reusable ON step_runs (cache_key)"
	" WHERE cache_key IS NOT NULL AND status IN ('completed', 'cached');"
	"DROP INDEX artifacts_uri;"
	"CREATE INDEX artifacts_foreign ON artifacts (uri)"
	" WHERE strpos(uri, run_id) = 0;",
};

/* The advisory lock that serializes migrations: "zenc" and 1. */
#define MIGRATE_LOCK_KEY ((long long)0x7a656e63 << 32 | 1)

/*
 * The queries of store_sql.h in PostgreSQL's dialect.  Those with a name
 * are prepared on every new connection; the schema queries, which run
 * before the tables they name exist, are sent with their values each
 * time.
 */
static const struct {
	const char *name;
	const char *sql;
} statements[ZENC__Q_COUNT] = {
	[ZENC__Q_SCHEMA_EXISTS] =
		{NULL,
		 "SELECT (to_regclass('schema_version') IS NOT NULL)::int"},
	[ZENC__Q_SCHEMA_CREATE] =
		{NULL, "CREATE TABLE IF NOT EXISTS schema_version ("
		       " version INTEGER NOT NULL,"
		       " applied DOUBLE PRECISION NOT NULL)"},
	[ZENC__Q_SCHEMA_VERSION] =
		{NULL, "SELECT coalesce(max(version), 0) FROM schema_version"},
	[ZENC__Q_SCHEMA_RECORD] =
		{NULL, "INSERT INTO schema_version (version, applied)"
		       " VALUES ($1, $2)"},
	[ZENC__Q_RUN_BEGIN] =
		{"zenc_run_begin",
		 "INSERT INTO runs (" ZENC__SQL_RUN_COLUMNS ")"
		 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"},
	[ZENC__Q_RUN_END] =
		{"zenc_run_end",
		 "UPDATE runs SET status = $2, ended = $3 WHERE id = $1"},
	/* A later record without a start time, parameters or log keeps the
	 * earlier ones (as in store_sqlite.c). */
	[ZENC__Q_STEP_PUT] =
		{"zenc_step_put",
		 "INSERT INTO step_runs AS s (run_id, name, status, attempts,"
		 " started, ended, error_type, error_message, exit_code,"
		 " signal, params_json, log_uri, upstream, cached_from,"
		 " cache_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
		 " $10, $11, $12, $13, $14, $15)"
		 " ON CONFLICT (run_id, name) DO UPDATE SET"
		 " status = excluded.status, attempts = excluded.attempts,"
		 " started = coalesce(excluded.started, s.started),"
		 " ended = excluded.ended, error_type = excluded.error_type,"
		 " error_message = excluded.error_message,"
		 " exit_code = excluded.exit_code, signal = excluded.signal,"
		 " params_json = coalesce(excluded.params_json, s.params_json),"
		 " log_uri = coalesce(excluded.log_uri, s.log_uri),"
		 " upstream = coalesce(excluded.upstream, s.upstream),"
		 " cached_from = coalesce(excluded.cached_from, s.cached_from),"
		 " cache_key = coalesce(excluded.cache_key, s.cache_key)"},
	[ZENC__Q_ATTEMPT_PUT] =
		{"zenc_attempt_put",
		 "INSERT INTO step_attempts (run_id, step, attempt, status,"
		 " started, ended, error_type, error_message, exit_code,"
		 " signal, log_uri)"
		 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
		 " ON CONFLICT (run_id, step, attempt) DO UPDATE SET"
		 " status = excluded.status, started = excluded.started,"
		 " ended = excluded.ended, error_type = excluded.error_type,"
		 " error_message = excluded.error_message,"
		 " exit_code = excluded.exit_code, signal = excluded.signal,"
		 " log_uri = excluded.log_uri"},
	[ZENC__Q_ARTIFACT_PUT] =
		{"zenc_artifact_put",
		 "INSERT INTO artifacts (run_id, step, name, type, uri, size,"
		 " checksum) VALUES ($1, $2, $3, $4, $5, $6, $7)"
		 " ON CONFLICT (run_id, step, name) DO UPDATE SET"
		 " type = excluded.type, uri = excluded.uri,"
		 " size = excluded.size, checksum = excluded.checksum"},
	[ZENC__Q_HOOK_PUT] =
		{"zenc_hook_put",
		 "INSERT INTO hook_runs (run_id, step, event, hook, attempt,"
		 " status, error, started, duration, seq)"
		 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"},
	[ZENC__Q_ARTIFACTS_GET] =
		{"zenc_artifacts_get",
		 "SELECT name, type, uri, size, checksum FROM artifacts"
		 " WHERE run_id = $1 AND step = $2 ORDER BY rowid"},
	/* NULL filters match anything; a NULL limit is no limit.  NULLS
	 * LAST: SQLite's order. */
	[ZENC__Q_RUNS_LIST] =
		{"zenc_runs_list",
		 "SELECT " ZENC__SQL_RUN_COLUMNS " FROM runs"
		 " WHERE ($1::text IS NULL OR pipeline = $1::text)"
		 " AND ($2::text IS NULL OR status = $2::text)"
		 " ORDER BY started DESC NULLS LAST LIMIT $3::bigint"
		 " OFFSET $4::bigint"},
	[ZENC__Q_RUN_BY_ID] =
		{"zenc_run_by_id",
		 "SELECT " ZENC__SQL_RUN_COLUMNS " FROM runs WHERE id = $1"},
	[ZENC__Q_RUN_BY_NAME] =
		{"zenc_run_by_name",
		 "SELECT " ZENC__SQL_RUN_COLUMNS " FROM runs"
		 " WHERE name = $1 LIMIT 2"},
	[ZENC__Q_RUN_BY_PREFIX] =
		{"zenc_run_by_prefix",
		 "SELECT " ZENC__SQL_RUN_COLUMNS " FROM runs"
		 " WHERE id >= $1 AND id < $2 ORDER BY id LIMIT 2"},
	[ZENC__Q_STEPS] =
		{"zenc_steps",
		 "SELECT rowid, name, status, attempts, started, ended,"
		 " error_type, error_message, exit_code, signal, params_json,"
		 " log_uri, upstream, cached_from, cache_key FROM step_runs"
		 " WHERE run_id = $1 ORDER BY rowid"},
	[ZENC__Q_ATTEMPTS] =
		{"zenc_attempts",
		 "SELECT s.rowid, a.attempt, a.status, a.started, a.ended,"
		 " a.error_type, a.error_message, a.exit_code, a.signal,"
		 " a.log_uri FROM step_attempts a JOIN step_runs s"
		 " ON s.run_id = a.run_id AND s.name = a.step"
		 " WHERE a.run_id = $1 ORDER BY s.rowid, a.attempt"},
	[ZENC__Q_ARTIFACTS] =
		{"zenc_artifacts",
		 "SELECT s.rowid, a.step, a.name, a.type, a.uri, a.size,"
		 " a.checksum FROM artifacts a JOIN step_runs s"
		 " ON s.run_id = a.run_id AND s.name = a.step"
		 " WHERE a.run_id = $1 ORDER BY s.rowid, a.rowid"},
	[ZENC__Q_HOOKS] =
		{"zenc_hooks",
		 "SELECT s.rowid, " ZENC__SQL_HOOK_COLUMNS " FROM hook_runs h"
		 " JOIN step_runs s ON s.run_id = h.run_id AND s.name = h.step"
		 " WHERE h.run_id = $1 ORDER BY s.rowid, h.seq, h.rowid"},
	[ZENC__Q_RUN_HOOKS] =
		{"zenc_run_hooks",
		 "SELECT 0, " ZENC__SQL_HOOK_COLUMNS " FROM hook_runs h"
		 " WHERE h.run_id = $1 AND h.step IS NULL"
		 " ORDER BY h.seq, h.rowid"},
	[ZENC__Q_RUN_DELETE] =
		{"zenc_run_delete", "DELETE FROM runs WHERE id = $1"},
	/* The literal 'running' lets the partial index serve the query. */
	[ZENC__Q_RUNNING_HERE] =
		{"zenc_running_here",
		 "SELECT r.id, r.pid, coalesce(w.watcher_pid, 0),"
		 " (w.run_id IS NOT NULL)::int FROM runs r"
		 " LEFT JOIN run_watch w ON w.run_id = r.id"
		 " WHERE r.status = 'running' AND r.host = $1"},
	[ZENC__Q_STALE_RUN] =
		{"zenc_stale_run", "UPDATE runs SET status = $2, ended = $3"
				   " WHERE id = $1 AND status = 'running'"},
	[ZENC__Q_STALE_STEPS] =
		{"zenc_stale_steps",
		 "UPDATE step_runs SET status = $2, ended = $3,"
		 " error_type = $4, error_message = $5, signal = $6"
		 " WHERE run_id = $1 AND status = 'running'"},
	/* The alert outbox. */
	[ZENC__Q_ALERT_PUT] =
		{"zenc_alert_put",
		 "INSERT INTO alerts (" ZENC__SQL_ALERT_COLUMNS ")"
		 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,"
		 " $12, $13, $14, $15, $16, $17, $18, $19)"},
	[ZENC__Q_ALERT_UPDATE] =
		{"zenc_alert_update",
		 "UPDATE alerts SET status = $2::text, attempts = $3,"
		 " last_error = $4, lease_until = $5,"
		 " updated = $6::double precision,"
		 " delivered = CASE WHEN $2::text = 'delivered'"
		 " THEN $6::double precision ELSE delivered END WHERE id = $1"},
	[ZENC__Q_ALERTS_LIST] =
		{"zenc_alerts_list",
		 "SELECT " ZENC__SQL_ALERT_COLUMNS " FROM alerts"
		 " WHERE ($1::text IS NULL OR status = $1::text)"
		 " ORDER BY created DESC, rowid DESC LIMIT $2::bigint"},
	[ZENC__Q_ALERTS_PENDING] =
		{"zenc_alerts_pending",
		 "SELECT " ZENC__SQL_ALERT_COLUMNS " FROM alerts"
		 " WHERE status = 'pending'"
		 " AND (lease_until IS NULL OR lease_until < $1)"
		 " ORDER BY created, rowid"},
	/* One statement: of two processes claiming, one changes the row
	 * (the other waits for it, then finds the lease taken). */
	[ZENC__Q_ALERT_CLAIM] =
		{"zenc_alert_claim",
		 "UPDATE alerts SET lease_until = $3 WHERE id = $1"
		 " AND status = 'pending'"
		 " AND (lease_until IS NULL OR lease_until < $2)"},
	[ZENC__Q_ALERTS_RECENT] =
		{"zenc_alerts_recent",
		 "SELECT count(*) FROM alerts WHERE dedup_key = $1"
		 " AND created >= $2 AND status != 'suppressed'"},
	/* The run's own start bounds the search, so that a run recorded
	 * later (a concurrent one) does not count as "previous". */
	[ZENC__Q_STEP_LAST_STATUS] =
		{"zenc_step_last_status",
		 "SELECT s.status FROM step_runs s JOIN runs r"
		 " ON r.id = s.run_id"
		 " WHERE r.pipeline = $1 AND s.name = $2 AND r.id != $3"
		 " AND s.status IN ('completed', 'failed')"
		 " AND r.started < coalesce((SELECT started FROM runs"
		 " WHERE id = $3), 1e300::double precision)"
		 " ORDER BY r.started DESC NULLS LAST LIMIT 1"},
	[ZENC__Q_ALERTS_DUE] =
		{"zenc_alerts_due",
		 "SELECT " ZENC__SQL_ALERT_COLUMNS " FROM alerts"
		 " WHERE status = 'pending'"
		 " AND (lease_until IS NULL OR lease_until < $1)"
		 " AND (next_at IS NULL OR next_at <= $1)"
		 " ORDER BY created, rowid"},
	[ZENC__Q_ALERT_NEXT] =
		{"zenc_alert_next",
		 "UPDATE alerts SET next_at = $2::double precision"
		 " WHERE id = $1"},
	[ZENC__Q_ALERTS_WAKE] =
		{"zenc_alerts_wake",
		 "SELECT count(*), min(greatest(coalesce(next_at, 0),"
		 " coalesce(lease_until, 0))) FROM alerts"
		 " WHERE status = 'pending'"},
	[ZENC__Q_WATCH_PUT] =
		{"zenc_watch_put",
		 "INSERT INTO run_watch (run_id, watcher_pid, spec)"
		 " VALUES ($1, $2, $3) ON CONFLICT (run_id) DO UPDATE SET"
		 " watcher_pid = excluded.watcher_pid, spec = excluded.spec"},
	[ZENC__Q_WATCH_GET] =
		{"zenc_watch_get",
		 "SELECT watcher_pid, spec FROM run_watch WHERE run_id = $1"},
	[ZENC__Q_LOST_STEPS] =
		{"zenc_lost_steps",
		 "UPDATE step_runs SET status = 'failed',"
		 " ended = coalesce(ended, $1::double precision),"
		 " error_type = $2, error_message = $3"
		 " WHERE status = 'running' AND EXISTS"
		 " (SELECT 1 FROM runs r WHERE r.id = step_runs.run_id"
		 " AND r.status <> 'running')"},
	[ZENC__Q_URI_SHARED] =
		{"zenc_uri_shared",
		 "SELECT (SELECT count(*) FROM artifacts WHERE uri = $1"
		 " AND run_id <> $2 AND strpos(uri, run_id) = 0)"
		 " + (SELECT count(*) FROM runs WHERE id = $3 AND id <> $2)"},
	[ZENC__Q_LOST_STEPS_COUNT] =
		{"zenc_lost_steps_count",
		 "SELECT count(*) FROM step_runs WHERE status = 'running'"
		 " AND EXISTS (SELECT 1 FROM runs r WHERE r.id ="
		 " step_runs.run_id AND r.status <> 'running')"},
	[ZENC__Q_CACHE_LOOKUP] =
		{"zenc_cache_lookup",
		 "SELECT run_id, coalesce(cached_from, run_id) FROM step_runs"
		 " WHERE cache_key = $1 AND status IN ('completed', 'cached')"
		 " ORDER BY ended DESC NULLS LAST LIMIT 1"},
};

typedef struct pg_store {
	zenc__sqlstore sql;
	PGconn *conn;
	/* Strings no message may show: the password, the secret values. */
	char **redact;
	size_t n_redact, redact_cap;
	/* The last error of the server or of libpq, cleaned and redacted,
	 * and its SQLSTATE ("" when none). */
	zenc_buf err;
	char sqlstate[6];
	/* COMMIT was sent in the current try: a lost connection then may
	 * have committed, and the transaction is not tried again. */
	int commit_sent;
} pg_store;

static pg_store *to_pg(zenc__sqlstore *s)
{
	return (pg_store *)s;
}

/* Messages. */

static void redact_add(pg_store *s, const char *v)
{
	if (!v || !*v)
		return;
	zenc__array_grow(
		(void **)&s->redact, &s->redact_cap, s->n_redact + 1,
		sizeof(*s->redact));
	s->redact[s->n_redact++] = zenc__strdup(v);
}

/* Appends `msg` to `b`: whitespace runs (libpq's messages have newlines
 * and tabs) become one space, and every string to redact becomes "****". */
static void put_clean(pg_store *s, zenc_buf *b, const char *msg)
{
	const char *p = msg;
	size_t i, n;
	int space = 0;

	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	while (*p) {
		for (i = 0; i < s->n_redact; i++) {
			n = strlen(s->redact[i]);
			if (!strncmp(p, s->redact[i], n))
				break;
		}
		if (i < s->n_redact) {
			if (space)
				zenc_buf_putc(b, ' ');
			space = 0;
			zenc_buf_puts(b, "****");
			p += n;
			continue;
		}
		if (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') {
			space = 1;
			p++;
			continue;
		}
		if (space)
			zenc_buf_putc(b, ' ');
		space = 0;
		zenc_buf_putc(b, *p++);
	}
}

/* Keeps the error of `r` (or of the connection when r is NULL). */
static void note_error(pg_store *s, const PGresult *r)
{
	const char *msg = NULL, *state = NULL;

	if (r) {
		msg = pq.PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
		state = pq.PQresultErrorField(r, PG_DIAG_SQLSTATE);
		if (!msg || !*msg)
			msg = pq.PQresultErrorMessage(r);
	}
	if (!msg || !*msg)
		msg = s->conn ? pq.PQerrorMessage(s->conn) : "";
	if (!msg || !*msg)
		msg = "unknown error";
	zenc_buf_clear(&s->err);
	put_clean(s, &s->err, msg);
	snprintf(s->sqlstate, sizeof(s->sqlstate), "%s", state ? state : "");
}

/* Notices (say, "relation already exists, skipping") are for debugging,
 * never for standard error. */
static void on_notice(void *arg, const char *message)
{
	pg_store *s = arg;
	zenc_buf b = ZENC_BUF_INIT;

	put_clean(s, &b, message);
	zenc__debug("PostgreSQL: %s", zenc_buf_cstr(&b));
	zenc_buf_release(&b);
}

/* Parameters as libpq takes them: text, NULL for SQL NULL, numbers
 * formatted into the struct's own buffers. */
struct pg_params {
	const char *v[ZENC__SQL_MAX_PARAMS];
	char num[ZENC__SQL_MAX_PARAMS][32];
};

/* %.17g reads a double back as the same double; one that is not finite
 * is stored as NULL. */
static const char *const *pg_values(
	struct pg_params *out, const zenc__sql_params *p)
{
	const zenc__sql_value *v;
	int i;

	for (i = 0; p && i < p->n; i++) {
		v = &p->v[i];
		out->v[i] = out->num[i];
		if (v->type == ZENC__SQL_TEXT)
			out->v[i] = v->text;
		else if (v->type == ZENC__SQL_INT)
			snprintf(
				out->num[i], sizeof(out->num[0]), "%lld", v->i);
		else if (v->type == ZENC__SQL_DOUBLE && isfinite(v->d))
			snprintf(
				out->num[i], sizeof(out->num[0]), "%.17g",
				v->d);
		else
			out->v[i] = NULL;
	}
	return out->v;
}

/* Running statements: the result, or NULL with the error kept. */
static PGresult *check(pg_store *s, PGresult *r)
{
	ExecStatusType st = r ? pq.PQresultStatus(r) : PGRES_FATAL_ERROR;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		s->sqlstate[0] = '\0';
		return r;
	}
	note_error(s, r);
	pq.PQclear(r);
	return NULL;
}

/* Runs query `q`, prepared or (a schema query) with its SQL. */
static PGresult *run(
	pg_store *s, enum zenc__sql_query q, const zenc__sql_params *p)
{
	struct pg_params pp;
	const char *const *v = pg_values(&pp, p);
	int n = p ? p->n : 0;

	if (statements[q].name)
		return check(
			s, pq.PQexecPrepared(
				   s->conn, statements[q].name, n, v, NULL,
				   NULL, 0));
	return check(
		s,
		pq.PQexecParams(
			s->conn, statements[q].sql, n, NULL, v, NULL, NULL, 0));
}

/* Runs constant SQL (no values in it): 0 or -1. */
static int exec_sql(pg_store *s, const char *sql)
{
	PGresult *r = check(s, pq.PQexec(s->conn, sql));

	if (!r)
		return -1;
	pq.PQclear(r);
	return 0;
}

static int prepare_all(pg_store *s)
{
	PGresult *r;
	int i;

	for (i = ZENC__Q_PREPARED; i < ZENC__Q_COUNT; i++) {
		r =
			check(s, pq.PQprepare(
					 s->conn, statements[i].name,
					 statements[i].sql, 0, NULL));
		if (!r)
			return zenc__sqlstore_fail(
				&s->sql, "cannot prepare statement %s on %s",
				statements[i].name, s->sql.where);
		pq.PQclear(r);
	}
	return 0;
}

/*
 * Before each operation: a connection found broken (a server restart, a
 * network cut noticed by the last statement) is re-established once, and
 * the statements prepared again on it.
 */
static int pg_ready(zenc__sqlstore *sql)
{
	pg_store *s = to_pg(sql);

	s->commit_sent = 0;
	if (pq.PQstatus(s->conn) == CONNECTION_OK)
		return 0;
	pq.PQreset(s->conn);
	if (pq.PQstatus(s->conn) != CONNECTION_OK) {
		note_error(s, NULL);
		return zenc__sqlstore_fail(
			sql, "lost the connection to PostgreSQL at %s",
			sql->where);
	}
	zenc__debug("reconnected to PostgreSQL at %s", sql->where);
	return prepare_all(s);
}

/*
 * Whether a failed write is tried again (once): the server rolled it back
 * for a deadlock or a serialization failure, or the connection broke
 * before COMMIT was sent.
 */
static int pg_retryable(zenc__sqlstore *sql, int try)
{
	pg_store *s = to_pg(sql);

	if (try >= 1)
		return 0;
	if (!strcmp(s->sqlstate, "40001") || !strcmp(s->sqlstate, "40P01"))
		return 1;
	return pq.PQstatus(s->conn) != CONNECTION_OK && !s->commit_sent;
}

static void pg_rollback(zenc__sqlstore *sql)
{
	pg_store *s = to_pg(sql);
	PGresult *r;

	if (pq.PQtransactionStatus(s->conn) == PQTRANS_IDLE ||
	    pq.PQstatus(s->conn) != CONNECTION_OK)
		return;
	r = pq.PQexec(s->conn, "ROLLBACK");
	pq.PQclear(r);
}

/* A migration takes the advisory lock, which goes with the transaction:
 * of many processes opening a new database at once, one migrates and
 * the others wait for it. */
static int pg_begin(zenc__sqlstore *sql, enum zenc__sql_tx what)
{
	pg_store *s = to_pg(sql);
	struct pg_params pp;
	zenc__sql_params p = {.n = 0};
	PGresult *r;

	s->commit_sent = 0;
	if (what == ZENC__TX_READ)
		return exec_sql(
			s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
	if (exec_sql(s, "BEGIN") < 0)
		return -1;
	if (what != ZENC__TX_MIGRATE)
		return 0;
	zenc__sqlp_int(&p, MIGRATE_LOCK_KEY);
	r = check(
		s, pq.PQexecParams(
			   s->conn, "SELECT pg_advisory_xact_lock($1::bigint)",
			   p.n, NULL, pg_values(&pp, &p), NULL, NULL, 0));
	if (!r) {
		pg_rollback(sql);
		return -1;
	}
	pq.PQclear(r);
	return 0;
}

static int pg_commit(zenc__sqlstore *sql)
{
	pg_store *s = to_pg(sql);

	s->commit_sent = 1;
	return exec_sql(s, "COMMIT");
}

static int pg_script(zenc__sqlstore *sql, const char *text)
{
	return exec_sql(to_pg(sql), text);
}

static int pg_exec(
	zenc__sqlstore *sql,
	enum zenc__sql_query q,
	const zenc__sql_params *p,
	long long *changes)
{
	PGresult *r = run(to_pg(sql), q, p);

	if (!r)
		return -1;
	if (changes)
		*changes = strtoll(pq.PQcmdTuples(r), NULL, 10);
	pq.PQclear(r);
	return 0;
}

static int pg_query(
	zenc__sqlstore *sql,
	enum zenc__sql_query q,
	const zenc__sql_params *p,
	zenc__sql_rows *rows)
{
	rows->s = sql;
	rows->row = -1;
	rows->res = run(to_pg(sql), q, p);
	return rows->res ? 0 : -1;
}

static int pg_next(zenc__sql_rows *rows)
{
	if (rows->row + 1 >= pq.PQntuples(rows->res))
		return 0;
	rows->row++;
	return 1;
}

static const char *pg_text(zenc__sql_rows *rows, int col, size_t *len)
{
	*len = 0;
	if (pq.PQgetisnull(rows->res, rows->row, col))
		return NULL;
	*len = (size_t)pq.PQgetlength(rows->res, rows->row, col);
	return pq.PQgetvalue(rows->res, rows->row, col);
}

static long long pg_integer(zenc__sql_rows *rows, int col)
{
	size_t len;
	const char *t = pg_text(rows, col, &len);

	return t ? strtoll(t, NULL, 10) : 0;
}

static double pg_real(zenc__sql_rows *rows, int col)
{
	size_t len;
	const char *t = pg_text(rows, col, &len);

	return t ? strtod(t, NULL) : 0;
}

static void pg_close(zenc__sql_rows *rows)
{
	pq.PQclear(rows->res);
	rows->res = NULL;
}

static const char *pg_errmsg(zenc__sqlstore *sql)
{
	return zenc_buf_cstr(&to_pg(sql)->err);
}

static int pg_prepare(zenc__sqlstore *sql)
{
	return prepare_all(to_pg(sql));
}

static void pg_close_store(zenc__sqlstore *sql)
{
	pg_store *s = to_pg(sql);
	size_t i;

	pq.PQfinish(s->conn);
	for (i = 0; i < s->n_redact; i++) {
		/* The password does not outlive the store in memory. */
		explicit_bzero(s->redact[i], strlen(s->redact[i]));
		free(s->redact[i]);
	}
	free(s->redact);
	zenc_buf_release(&s->err);
}

static const zenc__sql_dialect pg_dialect = {
	.migrations = migrations,
	.n_migrations = (int)(sizeof(migrations) / sizeof(migrations[0])),
	.ready = pg_ready,
	.retryable = pg_retryable,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.script = pg_script,
	.exec = pg_exec,
	.query = pg_query,
	.next = pg_next,
	.text = pg_text,
	.integer = pg_integer,
	.real = pg_real,
	.close = pg_close,
	.errmsg = pg_errmsg,
	.prepare = pg_prepare,
	.close_store = pg_close_store,
};

/*
 * What must never show in a message: the value of each {{secret.NAME}} in
 * the DSN (each reference resolved on its own), and the password, however
 * it was given.
 */
static void collect_redactions(
	pg_store *s, const char *dsn, const char *resolved)
{
	static const char open_ref[] = "{{secret.";
	PQconninfoOption *opts, *o;
	const char *p, *close;
	char *ref, *err = NULL;
	zenc_buf v = ZENC_BUF_INIT;

	for (p = dsn; (p = strstr(p, open_ref)); p = close + 2) {
		if (!(close = strstr(p + strlen(open_ref), "}}")))
			break;
		ref = zenc__strndup(p, (size_t)(close + 2 - p));
		zenc_buf_clear(&v);
		if (zenc__secret_resolve(&v, ref) == 0 &&
		    strcmp(zenc_buf_cstr(&v), ref))
			redact_add(s, zenc_buf_cstr(&v));
		free(ref);
	}
	if (v.ptr)
		explicit_bzero(v.ptr, v.cap);
	zenc_buf_release(&v);

	opts = pq.PQconninfoParse(resolved, &err);
	for (o = opts; o && o->keyword; o++)
		if (!strcmp(o->keyword, "password") && o->val)
			redact_add(s, o->val);
	pq.PQconninfoFree(opts);
	pq.PQfreemem(err);
}

/* "host:port/dbname", as libpq understood the DSN (redacted too: a
 * password put in the wrong place stays hidden). */
static char *describe_server(pg_store *s)
{
	const char *host = pq.PQhost(s->conn);
	const char *port = pq.PQport(s->conn);
	const char *db = pq.PQdb(s->conn);
	zenc_buf b = ZENC_BUF_INIT;
	char *raw;

	raw = zenc__asprintf(
		"%s:%s/%s", host && *host ? host : "localhost",
		port && *port ? port : "5432", db && *db ? db : "?");
	put_clean(s, &b, raw);
	free(raw);
	return zenc_buf_detach(&b);
}

/* The current error, as a reason the store could not be opened. */
static int open_failed(int code)
{
	char *msg = zenc__strdup(zenc_error_last());
	int rc = zenc__error_set(
		code, "cannot open the postgres metadata store: %s", msg);

	free(msg);
	return rc;
}

int zenc__store_postgres_open(zenc__store **out, const char *dsn)
{
	/* The DSN is given last, so that what it says wins over these
	 * defaults: a server that does not answer is an error in 10 s,
	 * not in the minutes of the TCP timeout. */
	static const char *const keys[] = {
		"connect_timeout", "application_name", "dbname", NULL};
	const char *values[4] = {"10", "zenc", NULL, NULL};
	zenc_buf resolved = ZENC_BUF_INIT;
	pg_store *s;
	int rc;

	*out = NULL;
	if (!dsn || !*dsn)
		return zenc__error_set(
			ZENC_ECONFIG,
			"no dsn for the postgres metadata store (set it with "
			"--dsn)");
	pthread_once(&pq_once, pq_load_once);
	if (!pq_lib.handle) {
		zenc__dynlib_error(&pq_lib, ZENC_ESTORE);
		return open_failed(ZENC_ESTORE);
	}

	s = zenc__calloc(1, sizeof(*s));
	zenc__sqlstore_init(&s->sql, &pg_dialect, "postgres", NULL);

	if ((rc = zenc__secret_resolve(&resolved, dsn)) < 0) {
		if (resolved.ptr)
			explicit_bzero(resolved.ptr, resolved.cap);
		zenc_buf_release(&resolved);
		rc = open_failed(ZENC_ECONFIG);
		goto fail;
	}
	collect_redactions(s, dsn, zenc_buf_cstr(&resolved));

	values[2] = zenc_buf_cstr(&resolved);
	s->conn = pq.PQconnectdbParams(keys, values, 1);
	if (resolved.ptr)
		explicit_bzero(resolved.ptr, resolved.cap);
	zenc_buf_release(&resolved);
	if (!s->conn) {
		rc = zenc__error_set(
			ZENC_ENOMEM, "cannot connect to PostgreSQL: out of "
				     "memory");
		goto fail;
	}
	s->sql.where = describe_server(s);
	if (pq.PQstatus(s->conn) != CONNECTION_OK) {
		note_error(s, NULL);
		rc = zenc__error_set(
			ZENC_ESTORE, "cannot connect to PostgreSQL at %s: %s",
			s->sql.where, zenc_buf_cstr(&s->err));
		goto fail;
	}
	pq.PQsetNoticeProcessor(s->conn, on_notice, s);

	if ((rc = zenc__sqlstore_start(&s->sql)) < 0)
		goto fail;
	*out = &s->sql.base;
	return 0;
fail:
	if (rc != ZENC_ESTORE && rc != ZENC_ENOMEM && rc != ZENC_ECONFIG)
		rc = ZENC_ESTORE;
	s->sql.base.free(&s->sql.base);
	return rc;
}

#endif /* ZENC_HAVE_POSTGRES */
