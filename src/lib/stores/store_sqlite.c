/*
 * The SQLite metadata store: the default flavor, one file per data home.
 *
 * WAL with synchronous=NORMAL: a crash of the process never corrupts the
 * file nor loses a committed transaction; a power loss can lose the last
 * transactions committed before it, never the consistency of the rest.
 * The rules are store_sql.c's; this file is SQLite's dialect of them: the
 * schema, the SQL of each query, and running it.  Every statement is
 * prepared once, with bound values.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "stores/store_sql.h"
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
	/* 4: when the courier tries a pending alert again. */
	"ALTER TABLE alerts ADD COLUMN next_at REAL;",
	/* 5: what the watcher of a run needs when the run's orchestrating
	 * process dies: its pid, and the run's failure hooks and stack as
	 * JSON (references only: no secret is ever resolved into it). */
	"CREATE TABLE run_watch ("
	" run_id TEXT PRIMARY KEY NOT NULL"
	"  REFERENCES runs (id) ON DELETE CASCADE,"
	" watcher_pid INTEGER NOT NULL DEFAULT 0,"
	" spec TEXT NOT NULL);",
	/* 6: the steps still running, for the sweep that repairs those of runs
	 * that ended. */
	"CREATE INDEX step_runs_running ON step_runs (run_id)"
	" WHERE status = 'running';",
	/* 7: the step cache: each step's cache key and, for a step taken
	 * from the cache, the run that executed it; the run a run resumed. */
	"ALTER TABLE step_runs ADD COLUMN cached_from TEXT;"
	"ALTER TABLE step_runs ADD COLUMN cache_key TEXT;"
	"ALTER TABLE runs ADD COLUMN resumed_from TEXT;"
	"CREATE INDEX step_runs_cache ON step_runs (cache_key, ended)"
	" WHERE cache_key IS NOT NULL;",
	/* 8: the log of each attempt, and artifacts found by uri (a file
	 * is deleted only when no other run's artifact points to it). */
	"ALTER TABLE step_attempts ADD COLUMN log_uri TEXT;"
	"CREATE INDEX artifacts_uri ON artifacts (uri);",
	/* 9: the same two lookups, from indexes that a step writes to only
	 * when they may serve it (each index a row is in costs every step's
	 * commit a page): the cache's holds the steps it can reuse, once
	 * they ended; the files' holds the artifacts that point into another
	 * run's folder (those of steps taken from the cache: a run's own
	 * files are in a folder named by its id). */
	"DROP INDEX step_runs_cache;"
	"CREATE INDEX step_runs_reusable ON step_runs (cache_key)"
	" WHERE cache_key IS NOT NULL AND status IN ('completed', 'cached');"
	"DROP INDEX artifacts_uri;"
	"CREATE INDEX artifacts_foreign ON artifacts (uri)"
	" WHERE instr(uri, run_id) = 0;",
};

/* The transaction statements, cached with the queries after them. */
enum {
	TX_BEGIN_WRITE = ZENC__Q_COUNT,
	TX_BEGIN_READ,
	TX_COMMIT,
	TX_ROLLBACK,
	NSTATEMENTS
};

/* The queries of store_sql.h in SQLite's dialect. */
static const char *const statements[NSTATEMENTS] = {
	[ZENC__Q_SCHEMA_EXISTS] =
		"SELECT count(*) FROM sqlite_master"
		" WHERE type = 'table' AND name = 'schema_version'",
	[ZENC__Q_SCHEMA_CREATE] =
		"CREATE TABLE IF NOT EXISTS schema_version ("
		" version INTEGER NOT NULL, applied REAL NOT NULL)",
	[ZENC__Q_SCHEMA_VERSION] =
		"SELECT coalesce(max(version), 0) FROM schema_version",
	[ZENC__Q_SCHEMA_RECORD] =
		"INSERT INTO schema_version (version, applied) VALUES (?1, ?2)",
	[ZENC__Q_RUN_BEGIN] =
		"INSERT INTO runs (" ZENC__SQL_RUN_COLUMNS ")"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[ZENC__Q_RUN_END] =
		"UPDATE runs SET status = ?2, ended = ?3 WHERE id = ?1",
	/* An upsert rather than INSERT OR REPLACE: a replaced row would get
	 * a new rowid, and the rowid is the order steps are shown in. */
	[ZENC__Q_STEP_PUT] =
		"INSERT INTO step_runs (run_id, name, status, attempts,"
		" started, ended, error_type, error_message, exit_code, signal,"
		" params_json, log_uri, upstream, cached_from, cache_key)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
		" ?13, ?14, ?15)"
		" ON CONFLICT (run_id, name) DO UPDATE SET"
		" status = excluded.status, attempts = excluded.attempts,"
		" started = coalesce(excluded.started, started),"
		" ended = excluded.ended, error_type = excluded.error_type,"
		" error_message = excluded.error_message,"
		" exit_code = excluded.exit_code, signal = excluded.signal,"
		" params_json = coalesce(excluded.params_json, params_json),"
		" log_uri = coalesce(excluded.log_uri, log_uri),"
		" upstream = coalesce(excluded.upstream, upstream),"
		" cached_from = coalesce(excluded.cached_from, cached_from),"
		" cache_key = coalesce(excluded.cache_key, cache_key)",
	[ZENC__Q_ATTEMPT_PUT] =
		"INSERT OR REPLACE INTO step_attempts (run_id, step, attempt,"
		" status, started, ended, error_type, error_message, exit_code,"
		" signal, log_uri)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[ZENC__Q_ARTIFACT_PUT] =
		"INSERT OR REPLACE INTO artifacts (run_id, step, name, type,"
		" uri, size, checksum) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ZENC__Q_HOOK_PUT] =
		"INSERT INTO hook_runs (run_id, step, event, hook, attempt,"
		" status, error, started, duration, seq)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[ZENC__Q_ARTIFACTS_GET] =
		"SELECT name, type, uri, size, checksum FROM artifacts"
		" WHERE run_id = ?1 AND step = ?2 ORDER BY rowid",
	/* The ORDER BY is served by the started index whatever the
	 * filters; a negative limit is none. */
	[ZENC__Q_RUNS_LIST] =
		"SELECT " ZENC__SQL_RUN_COLUMNS " FROM runs"
		" WHERE (?1 IS NULL OR pipeline = ?1)"
		" AND (?2 IS NULL OR status = ?2)"
		" ORDER BY started DESC LIMIT coalesce(?3, -1) OFFSET ?4",
	[ZENC__Q_RUN_BY_ID] =
		"SELECT " ZENC__SQL_RUN_COLUMNS " FROM runs WHERE id = ?1",
	[ZENC__Q_RUN_BY_NAME] = "SELECT " ZENC__SQL_RUN_COLUMNS
				" FROM runs WHERE name = ?1 LIMIT 2",
	[ZENC__Q_RUN_BY_PREFIX] = "SELECT " ZENC__SQL_RUN_COLUMNS
				  " FROM runs WHERE id >= ?1 AND id < ?2"
				  " ORDER BY id LIMIT 2",
	[ZENC__Q_STEPS] =
		"SELECT rowid, name, status, attempts, started, ended,"
		" error_type, error_message, exit_code, signal, params_json,"
		" log_uri, upstream, cached_from, cache_key FROM step_runs"
		" WHERE run_id = ?1 ORDER BY rowid",
	[ZENC__Q_ATTEMPTS] =
		"SELECT s.rowid, a.attempt, a.status, a.started, a.ended,"
		" a.error_type, a.error_message, a.exit_code, a.signal,"
		" a.log_uri FROM step_attempts a JOIN step_runs s"
		" ON s.run_id = a.run_id AND s.name = a.step"
		" WHERE a.run_id = ?1 ORDER BY s.rowid, a.attempt",
	[ZENC__Q_ARTIFACTS] =
		"SELECT s.rowid, a.step, a.name, a.type, a.uri, a.size,"
		" a.checksum FROM artifacts a JOIN step_runs s"
		" ON s.run_id = a.run_id AND s.name = a.step"
		" WHERE a.run_id = ?1 ORDER BY s.rowid, a.rowid",
	[ZENC__Q_HOOKS] =
		"SELECT s.rowid, " ZENC__SQL_HOOK_COLUMNS " FROM hook_runs h"
		" JOIN step_runs s ON s.run_id = h.run_id AND s.name = h.step"
		" WHERE h.run_id = ?1 ORDER BY s.rowid, h.seq, h.rowid",
	[ZENC__Q_RUN_HOOKS] =
		"SELECT 0, " ZENC__SQL_HOOK_COLUMNS " FROM hook_runs h"
		" WHERE h.run_id = ?1 AND h.step IS NULL"
		" ORDER BY h.seq, h.rowid",
	/* The rest of the run goes with it: ON DELETE CASCADE. */
	[ZENC__Q_RUN_DELETE] = "DELETE FROM runs WHERE id = ?1",
	/* The literal 'running' lets the partial index serve the query. */
	[ZENC__Q_RUNNING_HERE] =
		"SELECT r.id, r.pid, coalesce(w.watcher_pid, 0),"
		" w.run_id IS NOT NULL FROM runs r"
		" LEFT JOIN run_watch w ON w.run_id = r.id"
		" WHERE r.status = 'running' AND r.host = ?1",
	[ZENC__Q_STALE_RUN] = "UPDATE runs SET status = ?2, ended = ?3"
			      " WHERE id = ?1 AND status = 'running'",
	[ZENC__Q_STALE_STEPS] = "UPDATE step_runs SET status = ?2, ended = ?3,"
				" error_type = ?4, error_message = ?5,"
				" signal = ?6"
				" WHERE run_id = ?1 AND status = 'running'",
	[ZENC__Q_ALERT_PUT] =
		"INSERT INTO alerts (" ZENC__SQL_ALERT_COLUMNS
		") VALUES (?1, ?2, ?3, ?4,"
		" ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,"
		" ?18, ?19)",
	[ZENC__Q_ALERT_UPDATE] =
		"UPDATE alerts SET status = ?2, attempts = ?3, last_error = ?4,"
		" lease_until = ?5, updated = ?6,"
		" delivered = CASE WHEN ?2 = 'delivered' THEN ?6"
		" ELSE delivered END WHERE id = ?1",
	[ZENC__Q_ALERTS_LIST] =
		"SELECT " ZENC__SQL_ALERT_COLUMNS " FROM alerts"
		" WHERE (?1 IS NULL OR status = ?1)"
		" ORDER BY created DESC, rowid DESC LIMIT coalesce(?2, -1)",
	[ZENC__Q_ALERTS_PENDING] =
		"SELECT " ZENC__SQL_ALERT_COLUMNS " FROM alerts"
		" WHERE status = 'pending'"
		" AND (lease_until IS NULL OR lease_until < ?1)"
		" ORDER BY created, rowid",
	[ZENC__Q_ALERT_CLAIM] =
		"UPDATE alerts SET lease_until = ?3 WHERE id = ?1"
		" AND status = 'pending'"
		" AND (lease_until IS NULL OR lease_until < ?2)",
	[ZENC__Q_ALERTS_RECENT] = "SELECT count(*) FROM alerts"
				  " WHERE dedup_key = ?1 AND created >= ?2"
				  " AND status != 'suppressed'",
	[ZENC__Q_STEP_LAST_STATUS] =
		"SELECT s.status FROM step_runs s JOIN runs r"
		" ON r.id = s.run_id"
		" WHERE r.pipeline = ?1 AND s.name = ?2 AND r.id != ?3"
		" AND s.status IN ('completed', 'failed')"
		" AND r.started < coalesce((SELECT started FROM runs"
		" WHERE id = ?3), 1e300)"
		" ORDER BY r.started DESC LIMIT 1",
	[ZENC__Q_ALERTS_DUE] = "SELECT " ZENC__SQL_ALERT_COLUMNS " FROM alerts"
			       " WHERE status = 'pending'"
			       " AND (lease_until IS NULL OR lease_until < ?1)"
			       " AND (next_at IS NULL OR next_at <= ?1)"
			       " ORDER BY created, rowid",
	[ZENC__Q_ALERT_NEXT] = "UPDATE alerts SET next_at = ?2 WHERE id = ?1",
	[ZENC__Q_ALERTS_WAKE] = "SELECT count(*), min(max(coalesce(next_at, 0),"
				" coalesce(lease_until, 0))) FROM alerts"
				" WHERE status = 'pending'",
	[ZENC__Q_WATCH_PUT] =
		"INSERT OR REPLACE INTO run_watch (run_id, watcher_pid, spec)"
		" VALUES (?1, ?2, ?3)",
	[ZENC__Q_WATCH_GET] =
		"SELECT watcher_pid, spec FROM run_watch WHERE run_id = ?1",
	/* The literal 'running' lets the partial index serve the query;
	 * EXISTS, not IN: with IN, SQLite listed every run that is not
	 * running (0.33 s a command in a store of 100,000 runs). */
	[ZENC__Q_LOST_STEPS] =
		"UPDATE step_runs SET status = 'failed',"
		" ended = coalesce(ended, ?1), error_type = ?2,"
		" error_message = ?3 WHERE status = 'running' AND EXISTS"
		" (SELECT 1 FROM runs r WHERE r.id = step_runs.run_id"
		" AND r.status != 'running')",
	/* The artifacts of other runs that point to ?1 from outside their
	 * own folders (the partial index artifacts_foreign: the same
	 * condition), and the run ?3 whose folder holds ?1, if not ?2. */
	[ZENC__Q_URI_SHARED] =
		"SELECT (SELECT count(*) FROM artifacts WHERE uri = ?1"
		" AND run_id <> ?2 AND instr(uri, run_id) = 0)"
		" + (SELECT count(*) FROM runs WHERE id = ?3 AND id <> ?2)",
	[ZENC__Q_LOST_STEPS_COUNT] =
		"SELECT count(*) FROM step_runs WHERE status = 'running'"
		" AND EXISTS (SELECT 1 FROM runs r WHERE r.id ="
		" step_runs.run_id AND r.status != 'running')",
	[ZENC__Q_CACHE_LOOKUP] =
		"SELECT run_id, coalesce(cached_from, run_id) FROM step_runs"
		" WHERE cache_key = ?1 AND status IN ('completed', 'cached')"
		" ORDER BY ended DESC LIMIT 1",
	/* IMMEDIATE: a writer waits for the others (busy_timeout) when it
	 * starts, not when it first writes, where waiting could deadlock. */
	[TX_BEGIN_WRITE] = "BEGIN IMMEDIATE",
	[TX_BEGIN_READ] = "BEGIN",
	[TX_COMMIT] = "COMMIT",
	[TX_ROLLBACK] = "ROLLBACK",
};

typedef struct sqlite_store {
	zenc__sqlstore sql;
	sqlite3 *db;
	/* Each statement, prepared when first used and kept. */
	sqlite3_stmt *st[NSTATEMENTS];
} sqlite_store;

static sqlite_store *to_sqlite(zenc__sqlstore *s)
{
	return (sqlite_store *)s;
}

/* The statement `i`, prepared if need be; NULL with the error kept. */
static sqlite3_stmt *statement(sqlite_store *s, int i)
{
	if (!s->st[i] &&
	    sqlite3_prepare_v3(
		    s->db, statements[i], -1, SQLITE_PREPARE_PERSISTENT,
		    &s->st[i], NULL) != SQLITE_OK)
		s->st[i] = NULL;
	return s->st[i];
}

/* Strings are borrowed for the call (SQLITE_STATIC): every statement is
 * reset before the call that bound it returns. */
static int bind(sqlite3_stmt *st, const zenc__sql_params *p)
{
	const zenc__sql_value *v;
	int i, rc = SQLITE_OK;

	for (i = 0; p && i < p->n && rc == SQLITE_OK; i++) {
		v = &p->v[i];
		switch (v->type) {
		case ZENC__SQL_TEXT:
			rc = sqlite3_bind_text(
				st, i + 1, v->text, -1, SQLITE_STATIC);
			break;
		case ZENC__SQL_INT:
			rc = sqlite3_bind_int64(st, i + 1, v->i);
			break;
		case ZENC__SQL_DOUBLE:
			rc = sqlite3_bind_double(st, i + 1, v->d);
			break;
		default:
			rc = sqlite3_bind_null(st, i + 1);
			break;
		}
	}
	return rc == SQLITE_OK ? 0 : -1;
}

/* Resets a statement after use; sqlite3_errmsg() still tells why it
 * failed, if it did. */
static void release(sqlite3_stmt *st)
{
	if (!st)
		return;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Runs statement `i`, which returns no rows. */
static int run(sqlite_store *s, int i, const zenc__sql_params *p)
{
	sqlite3_stmt *st = statement(s, i);
	int rc;

	if (!st)
		return -1;
	rc = bind(st, p) < 0 ? SQLITE_ERROR : sqlite3_step(st);
	release(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

static int sq_ready(zenc__sqlstore *s)
{
	(void)s;
	return 0;
}

/* A busy database has already been waited for (busy_timeout). */
static int sq_retryable(zenc__sqlstore *s, int try)
{
	(void)s;
	(void)try;
	return 0;
}

static int sq_begin(zenc__sqlstore *s, enum zenc__sql_tx what)
{
	return run(
		to_sqlite(s),
		what == ZENC__TX_READ ? TX_BEGIN_READ : TX_BEGIN_WRITE, NULL);
}

static int sq_commit(zenc__sqlstore *s)
{
	return run(to_sqlite(s), TX_COMMIT, NULL);
}

static void sq_rollback(zenc__sqlstore *s)
{
	if (sqlite3_get_autocommit(to_sqlite(s)->db) == 0)
		run(to_sqlite(s), TX_ROLLBACK, NULL);
}

static int sq_script(zenc__sqlstore *s, const char *sql)
{
	return sqlite3_exec(to_sqlite(s)->db, sql, NULL, NULL, NULL) ==
			       SQLITE_OK
		       ? 0
		       : -1;
}

static int sq_exec(
	zenc__sqlstore *s,
	enum zenc__sql_query q,
	const zenc__sql_params *p,
	long long *changes)
{
	if (run(to_sqlite(s), (int)q, p) < 0)
		return -1;
	if (changes)
		*changes = sqlite3_changes(to_sqlite(s)->db);
	return 0;
}

static int sq_query(
	zenc__sqlstore *s,
	enum zenc__sql_query q,
	const zenc__sql_params *p,
	zenc__sql_rows *rows)
{
	sqlite3_stmt *st = statement(to_sqlite(s), (int)q);

	rows->s = s;
	rows->res = NULL;
	if (!st)
		return -1;
	rows->res = st;
	return bind(st, p);
}

static int sq_next(zenc__sql_rows *rows)
{
	int rc = sqlite3_step(rows->res);

	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

static const char *sq_text(zenc__sql_rows *rows, int col, size_t *len)
{
	const unsigned char *t = sqlite3_column_text(rows->res, col);

	*len = t ? (size_t)sqlite3_column_bytes(rows->res, col) : 0;
	return (const char *)t;
}

static long long sq_integer(zenc__sql_rows *rows, int col)
{
	return sqlite3_column_int64(rows->res, col);
}

static double sq_real(zenc__sql_rows *rows, int col)
{
	return sqlite3_column_double(rows->res, col);
}

static void sq_close(zenc__sql_rows *rows)
{
	release(rows->res);
	rows->res = NULL;
}

static const char *sq_errmsg(zenc__sqlstore *s)
{
	return sqlite3_errmsg(to_sqlite(s)->db);
}

/* Another connection held its lock past busy_timeout. */
static int sq_busy(zenc__sqlstore *s)
{
	int rc = sqlite3_errcode(to_sqlite(s)->db) & 0xff;

	return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

/* The statements the engine runs on every step event are prepared now,
 * so that a store that opens can record. */
static int sq_prepare(zenc__sqlstore *s)
{
	static const int hot[] = {TX_BEGIN_WRITE,      TX_COMMIT,
				  TX_ROLLBACK,         ZENC__Q_RUN_BEGIN,
				  ZENC__Q_RUN_END,     ZENC__Q_STEP_PUT,
				  ZENC__Q_ATTEMPT_PUT, ZENC__Q_ARTIFACT_PUT,
				  ZENC__Q_HOOK_PUT};
	size_t i;

	for (i = 0; i < sizeof(hot) / sizeof(hot[0]); i++)
		if (!statement(to_sqlite(s), hot[i]))
			return zenc__sqlstore_fail(
				s, "cannot prepare a statement on %s",
				s->where);
	return 0;
}

static void sq_close_store(zenc__sqlstore *s)
{
	sqlite_store *q = to_sqlite(s);
	size_t i;

	for (i = 0; i < NSTATEMENTS; i++)
		sqlite3_finalize(q->st[i]);
	sqlite3_close(q->db);
}

static const zenc__sql_dialect sqlite_dialect = {
	.migrations = migrations,
	.n_migrations = (int)(sizeof(migrations) / sizeof(migrations[0])),
	.ready = sq_ready,
	.retryable = sq_retryable,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.script = sq_script,
	.exec = sq_exec,
	.query = sq_query,
	.next = sq_next,
	.text = sq_text,
	.integer = sq_integer,
	.real = sq_real,
	.close = sq_close,
	.errmsg = sq_errmsg,
	.prepare = sq_prepare,
	.close_store = sq_close_store,
	.busy = sq_busy,
};

/* Creates the folder that will hold `path`, if it names one. */
static int make_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int rc = 0;

	if (!slash || slash == path)
		return 0;
	dir = zenc__strndup(path, (size_t)(slash - path));
	if (zenc__mkdir_p(dir, 0700) < 0)
		rc = zenc__error_set(
			ZENC_ESTORE, "cannot create folder '%s': %s", dir,
			strerror(errno));
	free(dir);
	return rc;
}

/*
 * The records hold parameters and logs: the database and its WAL are
 * the owner's only.  A new database is created 0600 (SQLite gives its
 * -wal and -shm files the database's mode); one made by an older zenc
 * with a wider mode is tightened, when this user owns it.
 */
static void own_files(const char *path)
{
	static const char *const suffixes[] = {"", "-wal", "-shm"};
	size_t i;
	int fd;

	/* Only a database that does not exist yet is opened here: closing
	 * a descriptor of a database file drops every POSIX lock this
	 * process holds on it, those of its other SQLite connections too,
	 * and another process could then checkpoint and delete the WAL
	 * they still write to. */
	fd = open(
		path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0)
		close(fd);
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		char *f = zenc__asprintf("%s%s", path, suffixes[i]);
		struct stat st;
		if (stat(f, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_uid == geteuid() && (st.st_mode & 077))
			chmod(f, st.st_mode & 0700);
		free(f);
	}
}

int zenc__store_sqlite_open(zenc__store **out, const char *path)
{
	sqlite_store *s = NULL;
	int rc;

	*out = NULL;
	if (!path || !*path)
		return zenc__error_set(
			ZENC_ESTORE, "no path for the sqlite metadata store");
	if (strcmp(path, ":memory:") && strncmp(path, "file:", 5) &&
	    (rc = make_parent(path)) < 0)
		return rc;
	if (strcmp(path, ":memory:") && strncmp(path, "file:", 5))
		own_files(path);

	s = zenc__calloc(1, sizeof(*s));
	zenc__sqlstore_init(
		&s->sql, &sqlite_dialect, "sqlite",
		zenc__asprintf("'%s'", path));

	/* The store serializes its own use of the connection (its lock). */
	if (sqlite3_open_v2(
		    path, &s->db,
		    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI,
		    NULL) != SQLITE_OK) {
		rc = s->db ? zenc__sqlstore_fail(
				     &s->sql, "cannot open metadata store '%s'",
				     path)
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
		    /* A checkpoint (two fsyncs, 2 ms each on a small
		     * virtual machine) every 4,000 pages of log, not every
		     * 1,000: about one per 500 steps recorded. */
		    "PRAGMA wal_autocheckpoint = 4000;"
		    "PRAGMA foreign_keys = ON;",
		    NULL, NULL, NULL) != SQLITE_OK) {
		rc = zenc__sqlstore_fail(
			&s->sql, "cannot open metadata store '%s'", path);
		goto fail;
	}
	if ((rc = zenc__sqlstore_start(&s->sql)) < 0)
		goto fail;
	*out = &s->sql.base;
	return 0;
fail:
	if (rc != ZENC_ESTORE && rc != ZENC_ENOMEM)
		rc = ZENC_ESTORE;
	s->sql.base.free(&s->sql.base);
	return rc;
}
