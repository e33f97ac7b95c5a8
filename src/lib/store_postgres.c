/*
 * The PostgreSQL metadata store (libpq): the schema of store_sqlite.c in
 * PostgreSQL's dialect, for a team or a cluster sharing one database.
 *
 * Many processes on many machines write at once: each run's rows are its
 * own, every step event is one transaction, and migrations are serialized
 * with a transaction-scoped advisory lock.  Every statement that carries
 * values is prepared once per connection (PQprepare) and run with
 * PQexecPrepared; only constant SQL (BEGIN, COMMIT, the migrations) goes
 * through PQexec.
 *
 * The DSN is a libpq connection string or URI; {{secret.NAME}} in it is
 * resolved when the store is opened.  The resolved DSN is never logged nor
 * put in a message: errors name the server as host:port/dbname, and the
 * password and every secret value are blanked out of libpq's messages.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#ifdef ZENC_HAVE_POSTGRES
#include <libpq-fe.h>
#endif

#include "dynlib.h"
#include "store.h"
#include "stack.h"
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
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* The advisory lock that serializes migrations: "zenc" and 1. */
#define MIGRATE_LOCK_KEY ((long long)0x7a656e63 << 32 | 1)

#define RUN_COLUMNS                                                            \
	"id, name, pipeline, status, stack, host, pid, started, ended"
#define HOOK_COLUMNS                                                           \
	"h.step, h.event, h.hook, h.attempt, h.status, h.error, h.started,"    \
	" h.duration, h.seq"
#define ALERT_COLUMNS                                                          \
	"id, created, alerter, flavor, run_id, pipeline, step, event,"         \
	" step_status, error_type, title, dedup_key, status, alert_json,"      \
	" attempts, last_error, updated, delivered, lease_until"

/* The prepared statements, by name, prepared on every new connection. */
static const struct {
	const char *name;
	const char *sql;
} statements[] = {
	{"zenc_run_begin",
	 "INSERT INTO runs (" RUN_COLUMNS ")"
	 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"},
	{"zenc_run_end",
	 "UPDATE runs SET status = $2, ended = $3 WHERE id = $1"},
	/* A later record without a start time, parameters or log keeps the
	 * earlier ones (as in store_sqlite.c). */
	{"zenc_step_put",
	 "INSERT INTO step_runs AS s (run_id, name, status, attempts,"
	 " started, ended, error_type, error_message, exit_code, signal,"
	 " params_json, log_uri, upstream) VALUES ($1, $2, $3, $4, $5, $6,"
	 " $7, $8, $9, $10, $11, $12, $13)"
	 " ON CONFLICT (run_id, name) DO UPDATE SET"
	 " status = excluded.status, attempts = excluded.attempts,"
	 " started = coalesce(excluded.started, s.started),"
	 " ended = excluded.ended, error_type = excluded.error_type,"
	 " error_message = excluded.error_message,"
	 " exit_code = excluded.exit_code, signal = excluded.signal,"
	 " params_json = coalesce(excluded.params_json, s.params_json),"
	 " log_uri = coalesce(excluded.log_uri, s.log_uri),"
	 " upstream = coalesce(excluded.upstream, s.upstream)"},
	{"zenc_attempt_put",
	 "INSERT INTO step_attempts (run_id, step, attempt, status, started,"
	 " ended, error_type, error_message, exit_code, signal)"
	 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
	 " ON CONFLICT (run_id, step, attempt) DO UPDATE SET"
	 " status = excluded.status, started = excluded.started,"
	 " ended = excluded.ended, error_type = excluded.error_type,"
	 " error_message = excluded.error_message,"
	 " exit_code = excluded.exit_code, signal = excluded.signal"},
	{"zenc_artifact_put",
	 "INSERT INTO artifacts (run_id, step, name, type, uri, size,"
	 " checksum) VALUES ($1, $2, $3, $4, $5, $6, $7)"
	 " ON CONFLICT (run_id, step, name) DO UPDATE SET"
	 " type = excluded.type, uri = excluded.uri, size = excluded.size,"
	 " checksum = excluded.checksum"},
	{"zenc_hook_put",
	 "INSERT INTO hook_runs (run_id, step, event, hook, attempt, status,"
	 " error, started, duration, seq)"
	 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"},
	{"zenc_artifacts_get",
	 "SELECT name, type, uri, size, checksum FROM artifacts"
	 " WHERE run_id = $1 AND step = $2 ORDER BY rowid"},
	/* NULL filters match anything; a NULL limit is no limit.  NULLS
	 * LAST: SQLite's order. */
	{"zenc_runs_list",
	 "SELECT " RUN_COLUMNS " FROM runs"
	 " WHERE ($1::text IS NULL OR pipeline = $1::text)"
	 " AND ($2::text IS NULL OR status = $2::text)"
	 " ORDER BY started DESC NULLS LAST LIMIT $3::bigint"
	 " OFFSET $4::bigint"},
	{"zenc_run_by_id", "SELECT " RUN_COLUMNS " FROM runs WHERE id = $1"},
	{"zenc_run_by_name",
	 "SELECT " RUN_COLUMNS " FROM runs WHERE name = $1 LIMIT 2"},
	{"zenc_run_by_prefix",
	 "SELECT " RUN_COLUMNS " FROM runs WHERE id >= $1 AND id < $2"
	 " ORDER BY id LIMIT 2"},
	{"zenc_steps",
	 "SELECT rowid, name, status, attempts, started, ended, error_type,"
	 " error_message, exit_code, signal, params_json, log_uri, upstream"
	 " FROM step_runs WHERE run_id = $1 ORDER BY rowid"},
	{"zenc_attempts",
	 "SELECT s.rowid, a.attempt, a.status, a.started, a.ended,"
	 " a.error_type, a.error_message, a.exit_code, a.signal"
	 " FROM step_attempts a JOIN step_runs s"
	 " ON s.run_id = a.run_id AND s.name = a.step"
	 " WHERE a.run_id = $1 ORDER BY s.rowid, a.attempt"},
	{"zenc_artifacts",
	 "SELECT s.rowid, a.step, a.name, a.type, a.uri, a.size, a.checksum"
	 " FROM artifacts a JOIN step_runs s"
	 " ON s.run_id = a.run_id AND s.name = a.step"
	 " WHERE a.run_id = $1 ORDER BY s.rowid, a.rowid"},
	{"zenc_hooks",
	 "SELECT s.rowid, " HOOK_COLUMNS " FROM hook_runs h"
	 " JOIN step_runs s ON s.run_id = h.run_id AND s.name = h.step"
	 " WHERE h.run_id = $1 ORDER BY s.rowid, h.seq, h.rowid"},
	{"zenc_run_hooks",
	 "SELECT 0, " HOOK_COLUMNS " FROM hook_runs h"
	 " WHERE h.run_id = $1 AND h.step IS NULL ORDER BY h.seq, h.rowid"},
	{"zenc_run_delete", "DELETE FROM runs WHERE id = $1"},
	/* The literal 'running' lets the partial index serve the query. */
	{"zenc_running_here",
	 "SELECT id, pid FROM runs WHERE status = 'running' AND host = $1"},
	{"zenc_stale_run",
	 "UPDATE runs SET status = $2, ended = $3"
	 " WHERE id = $1 AND status = 'running'"},
	{"zenc_stale_steps",
	 "UPDATE step_runs SET status = $2, ended = $3, error_type = $4,"
	 " error_message = $5 WHERE run_id = $1 AND status = 'running'"},
	/* The alert outbox. */
	{"zenc_alert_put",
	 "INSERT INTO alerts (" ALERT_COLUMNS ") VALUES ($1, $2, $3, $4, $5,"
	 " $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"},
	{"zenc_alert_update",
	 "UPDATE alerts SET status = $2::text, attempts = $3,"
	 " last_error = $4, lease_until = $5,"
	 " updated = $6::double precision,"
	 " delivered = CASE WHEN $2::text = 'delivered'"
	 " THEN $6::double precision ELSE delivered END WHERE id = $1"},
	{"zenc_alerts_list",
	 "SELECT " ALERT_COLUMNS " FROM alerts"
	 " WHERE ($1::text IS NULL OR status = $1::text)"
	 " ORDER BY created DESC, rowid DESC LIMIT $2::bigint"},
	{"zenc_alerts_pending",
	 "SELECT " ALERT_COLUMNS " FROM alerts WHERE status = 'pending'"
	 " AND (lease_until IS NULL OR lease_until < $1)"
	 " ORDER BY created, rowid"},
	/* One statement: of two processes claiming, one changes the row
	 * (the other waits for it, then finds the lease taken). */
	{"zenc_alert_claim",
	 "UPDATE alerts SET lease_until = $3 WHERE id = $1"
	 " AND status = 'pending'"
	 " AND (lease_until IS NULL OR lease_until < $2)"},
	{"zenc_alerts_recent",
	 "SELECT count(*) FROM alerts WHERE dedup_key = $1"
	 " AND created >= $2 AND status != 'suppressed'"},
	/* The run's own start bounds the search, so that a run recorded
	 * later (a concurrent one) does not count as "previous". */
	{"zenc_step_last_status",
	 "SELECT s.status FROM step_runs s JOIN runs r ON r.id = s.run_id"
	 " WHERE r.pipeline = $1 AND s.name = $2 AND r.id != $3"
	 " AND s.status IN ('completed', 'failed')"
	 " AND r.started < coalesce((SELECT started FROM runs"
	 " WHERE id = $3), 1e300::double precision)"
	 " ORDER BY r.started DESC NULLS LAST LIMIT 1"},
};

#define NSTATEMENTS (sizeof(statements) / sizeof(statements[0]))

typedef struct pg_store {
	zenc__store base;
	PGconn *conn;
	/* "host:port/dbname", the server as messages name it. */
	char *where;
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
	/* One connection is used by one thread at a time: the engine may
	 * record from several. */
	pthread_mutex_t lock;
} pg_store;

static pg_store *to_pg(zenc__store *self)
{
	return (pg_store *)self;
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

/* Sets the last error to "<what>: <the kept error>". */
static int db_fail(pg_store *s, const char *fmt, ...) ZENC__PRINTF(2, 3);

static int db_fail(pg_store *s, const char *fmt, ...)
{
	zenc_buf b = ZENC_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	zenc_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	zenc__error_set(
		ZENC_ESTORE, "%s: %s", zenc_buf_cstr(&b),
		zenc_buf_cstr(&s->err));
	zenc_buf_release(&b);
	return ZENC_ESTORE;
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

/* Parameters: text values, NULL for SQL NULL, numbers formatted into the
 * struct's own buffers. */
#define MAX_PARAMS 24

struct params {
	const char *v[MAX_PARAMS];
	char num[MAX_PARAMS][32];
	int n;
};

static void p_init(struct params *p)
{
	p->n = 0;
}

/* The next parameter's index; more than MAX_PARAMS is a bug here. */
static int p_next(struct params *p)
{
	if (p->n >= MAX_PARAMS)
		abort();
	return p->n++;
}

static void p_text(struct params *p, const char *v)
{
	p->v[p_next(p)] = v;
}

static void p_ll(struct params *p, long long v)
{
	int i = p_next(p);

	snprintf(p->num[i], sizeof(p->num[0]), "%lld", v);
	p->v[i] = p->num[i];
}

/* %.17g reads back as the same double. */
static void p_double(struct params *p, double v)
{
	int i;

	if (!isfinite(v)) {
		p_text(p, NULL);
		return;
	}
	i = p_next(p);
	snprintf(p->num[i], sizeof(p->num[0]), "%.17g", v);
	p->v[i] = p->num[i];
}

/* A time of 0 is stored as NULL. */
static void p_time(struct params *p, double t)
{
	if (t == 0)
		p_text(p, NULL);
	else
		p_double(p, t);
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

static PGresult *exec_prepared(
	pg_store *s, const char *name, const struct params *p)
{
	return check(
		s, pq.PQexecPrepared(
			   s->conn, name, p ? p->n : 0, p ? p->v : NULL, NULL,
			   NULL, 0));
}

/* Runs a prepared statement that returns no rows: 0 or -1. */
static int exec_cmd(pg_store *s, const char *name, const struct params *p)
{
	PGresult *r = exec_prepared(s, name, p);

	if (!r)
		return -1;
	pq.PQclear(r);
	return 0;
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

static int tx_begin(pg_store *s)
{
	s->commit_sent = 0;
	if (exec_sql(s, "BEGIN") < 0)
		return db_fail(s, "cannot start a transaction on %s", s->where);
	return 0;
}

static int tx_commit(pg_store *s)
{
	s->commit_sent = 1;
	if (exec_sql(s, "COMMIT") < 0)
		return db_fail(s, "cannot commit to %s", s->where);
	return 0;
}

/* After a failure: the last error is already set and stays. */
static void tx_rollback(pg_store *s)
{
	PGresult *r;

	if (pq.PQtransactionStatus(s->conn) == PQTRANS_IDLE ||
	    pq.PQstatus(s->conn) != CONNECTION_OK)
		return;
	r = pq.PQexec(s->conn, "ROLLBACK");
	pq.PQclear(r);
}

static int prepare_all(pg_store *s)
{
	PGresult *r;
	size_t i;

	for (i = 0; i < NSTATEMENTS; i++) {
		r = check(
			s, pq.PQprepare(
				   s->conn, statements[i].name,
				   statements[i].sql, 0, NULL));
		if (!r)
			return db_fail(
				s, "cannot prepare statement %s on %s",
				statements[i].name, s->where);
		pq.PQclear(r);
	}
	return 0;
}

/*
 * Before each operation: a connection found broken (a server restart, a
 * network cut noticed by the last statement) is re-established once, and
 * the statements prepared again on it.
 */
static int conn_ready(pg_store *s)
{
	if (pq.PQstatus(s->conn) == CONNECTION_OK)
		return 0;
	pq.PQreset(s->conn);
	if (pq.PQstatus(s->conn) != CONNECTION_OK) {
		note_error(s, NULL);
		return db_fail(s, "lost the connection to PostgreSQL at %s",
			       s->where);
	}
	zenc__debug("reconnected to PostgreSQL at %s", s->where);
	return prepare_all(s);
}

/*
 * Whether a failed write is tried again (once): the server rolled it back
 * for a deadlock or a serialization failure, or the connection broke
 * before COMMIT was sent.
 */
static int retryable(pg_store *s, int try)
{
	if (try >= 1)
		return 0;
	if (!strcmp(s->sqlstate, "40001") || !strcmp(s->sqlstate, "40P01"))
		return 1;
	return pq.PQstatus(s->conn) != CONNECTION_OK && !s->commit_sent;
}

/* Reading: columns into the arena.  NULL stays NULL, and is 0 as a
 * number. */
static const char *col_text(zenc__arena *a, const PGresult *r, int row, int i)
{
	if (pq.PQgetisnull(r, row, i))
		return NULL;
	return zenc__arena_strndup(
		a, pq.PQgetvalue(r, row, i), (size_t)pq.PQgetlength(r, row, i));
}

static long long col_ll(const PGresult *r, int row, int i)
{
	if (pq.PQgetisnull(r, row, i))
		return 0;
	return strtoll(pq.PQgetvalue(r, row, i), NULL, 10);
}

static int col_int(const PGresult *r, int row, int i)
{
	return (int)col_ll(r, row, i);
}

static double col_double(const PGresult *r, int row, int i)
{
	if (pq.PQgetisnull(r, row, i))
		return 0;
	return strtod(pq.PQgetvalue(r, row, i), NULL);
}

static void read_run(
	zenc__arena *a, const PGresult *r, int row, zenc__run_record *out)
{
	out->id = col_text(a, r, row, 0);
	out->name = col_text(a, r, row, 1);
	out->pipeline = col_text(a, r, row, 2);
	out->status = col_text(a, r, row, 3);
	out->stack = col_text(a, r, row, 4);
	out->host = col_text(a, r, row, 5);
	out->pid = (long)col_ll(r, row, 6);
	out->started = col_double(r, row, 7);
	out->ended = col_double(r, row, 8);
}

/* Writing. */

static void bind_step(struct params *p, const zenc__step_record *r)
{
	p_init(p);
	p_text(p, r->run_id);
	p_text(p, r->name);
	p_text(p, r->status ? r->status : "pending");
	p_ll(p, r->attempts);
	p_time(p, r->started);
	p_time(p, r->ended);
	p_text(p, r->error_type);
	p_text(p, r->error_message);
	p_ll(p, r->exit_code);
	p_ll(p, r->signal);
	p_text(p, r->params_json);
	p_text(p, r->log_uri);
	p_text(p, r->upstream_json);
}

static void bind_attempt(
	struct params *p,
	const zenc__step_record *step,
	const zenc__attempt_record *r)
{
	p_init(p);
	p_text(p, step->run_id);
	p_text(p, step->name);
	p_ll(p, r->attempt);
	p_text(p, r->status ? r->status : "failed");
	p_time(p, r->started);
	p_time(p, r->ended);
	p_text(p, r->error_type);
	p_text(p, r->error_message);
	p_ll(p, r->exit_code);
	p_ll(p, r->signal);
}

static void bind_artifact(
	struct params *p,
	const zenc__step_record *step,
	const zenc__artifact_record *r)
{
	p_init(p);
	p_text(p, r->run_id ? r->run_id : step->run_id);
	p_text(p, r->step ? r->step : step->name);
	p_text(p, r->name);
	p_text(p, r->type);
	p_text(p, r->uri);
	p_ll(p, r->size);
	p_text(p, r->checksum);
}

/* `run_id` and `step` fill in what the record leaves NULL (a run-level
 * hook has step NULL on purpose, and keeps it). */
static void bind_hook(
	struct params *p,
	const char *run_id,
	const char *step,
	const zenc__hook_record *r)
{
	p_init(p);
	p_text(p, r->run_id ? r->run_id : run_id);
	p_text(p, r->step ? r->step : step);
	p_text(p, r->event);
	p_text(p, r->hook);
	p_ll(p, r->attempt);
	p_text(p, r->status);
	p_text(p, r->error);
	p_time(p, r->started);
	p_double(p, r->duration);
	p_ll(p, r->seq);
}

static void bind_run(struct params *p, const zenc__run_record *r)
{
	p_init(p);
	p_text(p, r->id);
	p_text(p, r->name);
	p_text(p, r->pipeline);
	p_text(p, r->status ? r->status : "running");
	p_text(p, r->stack);
	p_text(p, r->host);
	p_ll(p, r->pid);
	p_time(p, r->started);
	p_time(p, r->ended);
}

static int pg_run_begin(zenc__store *self, const zenc__run_record *run)
{
	pg_store *s = to_pg(self);
	struct params p;
	int rc, try;

	pthread_mutex_lock(&s->lock);
	for (try = 0;; try++) {
		s->commit_sent = 0;
		if ((rc = conn_ready(s)) < 0)
			break;
		bind_run(&p, run);
		if (exec_cmd(s, "zenc_run_begin", &p) == 0) {
			rc = 0;
			break;
		}
		rc = db_fail(s, "cannot record run '%s'", run->name);
		/* A single statement: a lost reply may mean it committed,
		 * and then the retry's duplicate key says so. */
		if (!retryable(s, try))
			break;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int pg_run_end(
	zenc__store *self, const char *run_id, const char *status, double ended)
{
	pg_store *s = to_pg(self);
	struct params p;
	PGresult *r = NULL;
	int rc, try;

	pthread_mutex_lock(&s->lock);
	for (try = 0;; try++) {
		s->commit_sent = 0;
		if ((rc = conn_ready(s)) < 0)
			break;
		p_init(&p);
		p_text(&p, run_id);
		p_text(&p, status);
		p_time(&p, ended);
		if ((r = exec_prepared(s, "zenc_run_end", &p))) {
			rc = 0;
			break;
		}
		rc = db_fail(s, "cannot record the end of run '%s'", run_id);
		if (!retryable(s, try))
			break;
	}
	if (r && !strcmp(pq.PQcmdTuples(r), "0"))
		rc = zenc__error_set(ZENC_ENOTFOUND, "no run '%s'", run_id);
	pq.PQclear(r);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int pg_step_put(zenc__store *self, const zenc__step_record *step)
{
	pg_store *s = to_pg(self);
	struct params p;
	int rc, try;

	pthread_mutex_lock(&s->lock);
	for (try = 0;; try++) {
		s->commit_sent = 0;
		if ((rc = conn_ready(s)) < 0)
			break;
		bind_step(&p, step);
		if (exec_cmd(s, "zenc_step_put", &p) == 0) {
			rc = 0;
			break;
		}
		rc = db_fail(s, "cannot record step '%s'", step->name);
		if (!retryable(s, try))
			break;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* Inserts hook runs inside the caller's transaction. */
static int put_hooks(
	pg_store *s,
	const char *run_id,
	const char *step,
	const zenc__hook_record *hooks,
	size_t n)
{
	struct params p;
	size_t i;

	for (i = 0; i < n; i++) {
		bind_hook(&p, run_id, step, &hooks[i]);
		if (exec_cmd(s, "zenc_hook_put", &p) < 0)
			return db_fail(
				s, "cannot record hook '%s'", hooks[i].hook);
	}
	return 0;
}

static int step_end_once(
	pg_store *s,
	const zenc__step_record *step,
	const zenc__attempt_record *attempt,
	const zenc__artifact_record *arts,
	size_t n_arts,
	const zenc__hook_record *hooks,
	size_t n_hooks)
{
	struct params p;
	size_t i;
	int rc;

	if ((rc = tx_begin(s)) < 0)
		return rc;
	bind_step(&p, step);
	if (exec_cmd(s, "zenc_step_put", &p) < 0) {
		rc = db_fail(s, "cannot record step '%s'", step->name);
		goto fail;
	}
	if (attempt) {
		bind_attempt(&p, step, attempt);
		if (exec_cmd(s, "zenc_attempt_put", &p) < 0) {
			rc = db_fail(
				s, "cannot record attempt %d of step '%s'",
				attempt->attempt, step->name);
			goto fail;
		}
	}
	for (i = 0; i < n_arts; i++) {
		bind_artifact(&p, step, &arts[i]);
		if (exec_cmd(s, "zenc_artifact_put", &p) < 0) {
			rc = db_fail(
				s, "cannot record artifact '%s'", arts[i].name);
			goto fail;
		}
	}
	if ((rc = put_hooks(s, step->run_id, step->name, hooks, n_hooks)) < 0)
		goto fail;
	return tx_commit(s);
fail:
	tx_rollback(s);
	return rc;
}

static int pg_step_end(
	zenc__store *self,
	const zenc__step_record *step,
	const zenc__attempt_record *attempt,
	const zenc__artifact_record *arts,
	size_t n_arts,
	const zenc__hook_record *hooks,
	size_t n_hooks)
{
	pg_store *s = to_pg(self);
	int rc, try;

	pthread_mutex_lock(&s->lock);
	for (try = 0;; try++) {
		if ((rc = conn_ready(s)) < 0)
			break;
		rc = step_end_once(
			s, step, attempt, arts, n_arts, hooks, n_hooks);
		if (rc == 0 || !retryable(s, try))
			break;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int pg_hooks_put(
	zenc__store *self, const zenc__hook_record *hooks, size_t n)
{
	pg_store *s = to_pg(self);
	int rc, try;

	if (n == 0)
		return 0;
	pthread_mutex_lock(&s->lock);
	for (try = 0;; try++) {
		if ((rc = conn_ready(s)) < 0)
			break;
		if ((rc = tx_begin(s)) == 0) {
			if ((rc = put_hooks(s, NULL, NULL, hooks, n)) < 0)
				tx_rollback(s);
			else
				rc = tx_commit(s);
		}
		if (rc == 0 || !retryable(s, try))
			break;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* Reading. */

static int pg_artifacts_get(
	zenc__store *self,
	const char *run_id,
	const char *step,
	zenc__artifact_record **out,
	size_t *n,
	void **arena)
{
	pg_store *s = to_pg(self);
	zenc__arena *a = zenc__arena_new();
	zenc__artifact_record *recs = NULL;
	const char *rid, *sname;
	struct params p;
	PGresult *r = NULL;
	int rc, i, rows;

	*out = NULL;
	*n = 0;
	*arena = NULL;
	pthread_mutex_lock(&s->lock);
	if ((rc = conn_ready(s)) < 0)
		goto done;
	p_init(&p);
	p_text(&p, run_id);
	p_text(&p, step);
	if (!(r = exec_prepared(s, "zenc_artifacts_get", &p))) {
		rc = db_fail(s, "cannot read artifacts of step '%s'", step);
		goto done;
	}
	rows = pq.PQntuples(r);
	rid = zenc__arena_strdup(a, run_id);
	sname = zenc__arena_strdup(a, step);
	if (rows)
		recs = zenc__arena_alloc(a, (size_t)rows * sizeof(*recs));
	for (i = 0; i < rows; i++) {
		recs[i].run_id = rid;
		recs[i].step = sname;
		recs[i].name = col_text(a, r, i, 0);
		recs[i].type = col_text(a, r, i, 1);
		recs[i].uri = col_text(a, r, i, 2);
		recs[i].size = (int64_t)col_ll(r, i, 3);
		recs[i].checksum = col_text(a, r, i, 4);
	}
	*out = recs;
	*n = (size_t)rows;
	*arena = a;
	a = NULL;
done:
	pq.PQclear(r);
	pthread_mutex_unlock(&s->lock);
	zenc__arena_free(a);
	return rc;
}

static int pg_runs_list(
	zenc__store *self, const zenc__run_filter *filter, zenc__run_list *out)
{
	pg_store *s = to_pg(self);
	zenc__arena *a = zenc__arena_new();
	struct params p;
	PGresult *r = NULL;
	int rc, i, rows;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->lock);
	if ((rc = conn_ready(s)) < 0)
		goto done;
	p_init(&p);
	p_text(&p, filter ? filter->pipeline : NULL);
	p_text(&p, filter ? filter->status : NULL);
	if (filter && filter->limit)
		p_ll(&p, (long long)filter->limit);
	else
		p_text(&p, NULL);
	p_ll(&p, filter ? (long long)filter->offset : 0);
	if (!(r = exec_prepared(s, "zenc_runs_list", &p))) {
		rc = db_fail(s, "cannot list runs in %s", s->where);
		goto done;
	}
	rows = pq.PQntuples(r);
	if (rows)
		out->runs = zenc__arena_alloc(
			a, (size_t)rows * sizeof(*out->runs));
	for (i = 0; i < rows; i++)
		read_run(a, r, i, &out->runs[i]);
	out->n = (size_t)rows;
	out->arena = a;
	a = NULL;
done:
	pq.PQclear(r);
	pthread_mutex_unlock(&s->lock);
	zenc__arena_free(a);
	return rc;
}

/* Runs a run query: *n tells none, one or several (it keeps the first). */
static int find_runs(
	pg_store *s,
	zenc__arena *a,
	const char *stmt,
	const char *p1,
	const char *p2,
	zenc__run_record *out,
	int *n)
{
	struct params p;
	PGresult *r;

	*n = 0;
	p_init(&p);
	p_text(&p, p1);
	if (p2)
		p_text(&p, p2);
	if (!(r = exec_prepared(s, stmt, &p)))
		return db_fail(s, "cannot look up run '%s'", p1);
	*n = pq.PQntuples(r);
	if (*n >= 1)
		read_run(a, r, 0, out);
	pq.PQclear(r);
	return 0;
}

/* A run by id, by name, or by a unique prefix of its id (4 characters or
 * more), in that order. */
static int resolve_run(
	pg_store *s, zenc__arena *a, const char *key, zenc__run_record *out)
{
	size_t len = strlen(key);
	char *upper = NULL;
	int n, rc;

	rc = find_runs(s, a, "zenc_run_by_id", key, NULL, out, &n);
	if (rc < 0 || n == 1)
		return rc;
	rc = find_runs(s, a, "zenc_run_by_name", key, NULL, out, &n);
	if (rc < 0 || n == 1)
		return rc;
	if (n > 1)
		return zenc__error_set(
			ZENC_EINVALID,
			"several runs are named '%s'; use a run id", key);
	/* The prefix as a range of the primary key: [key, key + 1), where
	 * key + 1 has its last byte incremented (ids are ASCII, and compare
	 * bytewise: COLLATE "C"). */
	if (len < 4 || (unsigned char)key[len - 1] >= 0x7f)
		goto not_found;
	upper = zenc__strdup(key);
	upper[len - 1]++;
	rc = find_runs(s, a, "zenc_run_by_prefix", key, upper, out, &n);
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
	zenc__arena *a, const PGresult *r, int row, void *rec,
	const char *run_id);

static int load_children(
	pg_store *s,
	zenc__arena *a,
	const char *stmt,
	const char *run_id,
	size_t size,
	read_row_fn read_row,
	const long long *step_keys,
	zenc__step_info *steps,
	size_t n_steps,
	size_t which)
{
	struct params p;
	PGresult *r;
	char *base;
	size_t i, j, rows;

	p_init(&p);
	p_text(&p, run_id);
	if (!(r = exec_prepared(s, stmt, &p)))
		return db_fail(s, "cannot read run '%s'", run_id);
	rows = (size_t)pq.PQntuples(r);
	base = rows ? zenc__arena_alloc(a, rows * size) : NULL;
	for (i = 0; i < rows; i++)
		read_row(a, r, (int)i, base + i * size, run_id);
	for (i = 0, j = 0; i < n_steps; i++) {
		size_t start = j;

		while (j < rows && col_ll(r, (int)j, 0) == step_keys[i])
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
	pq.PQclear(r);
	return 0;
}

/* Column 0 is the step key in each of these readers. */
static void read_attempt(
	zenc__arena *a, const PGresult *r, int row, void *rec,
	const char *run_id)
{
	zenc__attempt_record *out = rec;

	(void)run_id;
	out->attempt = col_int(r, row, 1);
	out->status = col_text(a, r, row, 2);
	out->started = col_double(r, row, 3);
	out->ended = col_double(r, row, 4);
	out->error_type = col_text(a, r, row, 5);
	out->error_message = col_text(a, r, row, 6);
	out->exit_code = col_int(r, row, 7);
	out->signal = col_int(r, row, 8);
}

static void read_artifact(
	zenc__arena *a, const PGresult *r, int row, void *rec,
	const char *run_id)
{
	zenc__artifact_record *out = rec;

	out->run_id = run_id;
	out->step = col_text(a, r, row, 1);
	out->name = col_text(a, r, row, 2);
	out->type = col_text(a, r, row, 3);
	out->uri = col_text(a, r, row, 4);
	out->size = (int64_t)col_ll(r, row, 5);
	out->checksum = col_text(a, r, row, 6);
}

static void read_hook(
	zenc__arena *a, const PGresult *r, int row, void *rec,
	const char *run_id)
{
	zenc__hook_record *out = rec;

	out->run_id = run_id;
	out->step = col_text(a, r, row, 1);
	out->event = col_text(a, r, row, 2);
	out->hook = col_text(a, r, row, 3);
	out->attempt = col_int(r, row, 4);
	out->status = col_text(a, r, row, 5);
	out->error = col_text(a, r, row, 6);
	out->started = col_double(r, row, 7);
	out->duration = col_double(r, row, 8);
	out->seq = col_int(r, row, 9);
}

static int load_steps(pg_store *s, zenc__arena *a, zenc__run_info *out)
{
	const char *run_id = out->rec.id;
	zenc__step_info *si;
	long long *keys = NULL;
	struct params p;
	PGresult *r;
	int rc = 0, i, rows;

	p_init(&p);
	p_text(&p, run_id);
	if (!(r = exec_prepared(s, "zenc_steps", &p)))
		return db_fail(s, "cannot read run '%s'", run_id);
	rows = pq.PQntuples(r);
	if (!rows)
		goto done;
	keys = zenc__calloc((size_t)rows, sizeof(*keys));
	out->steps = zenc__arena_alloc(a, (size_t)rows * sizeof(*out->steps));
	out->n_steps = (size_t)rows;
	for (i = 0; i < rows; i++) {
		si = &out->steps[i];
		keys[i] = col_ll(r, i, 0);
		si->rec.run_id = run_id;
		si->rec.name = col_text(a, r, i, 1);
		si->rec.status = col_text(a, r, i, 2);
		si->rec.attempts = col_int(r, i, 3);
		si->rec.started = col_double(r, i, 4);
		si->rec.ended = col_double(r, i, 5);
		si->rec.error_type = col_text(a, r, i, 6);
		si->rec.error_message = col_text(a, r, i, 7);
		si->rec.exit_code = col_int(r, i, 8);
		si->rec.signal = col_int(r, i, 9);
		si->rec.params_json = col_text(a, r, i, 10);
		si->rec.log_uri = col_text(a, r, i, 11);
		si->rec.upstream_json = col_text(a, r, i, 12);
	}
	if ((rc = load_children(
		     s, a, "zenc_attempts", run_id,
		     sizeof(zenc__attempt_record), read_attempt, keys,
		     out->steps, out->n_steps, 0)) < 0 ||
	    (rc = load_children(
		     s, a, "zenc_artifacts", run_id,
		     sizeof(zenc__artifact_record), read_artifact, keys,
		     out->steps, out->n_steps, 1)) < 0 ||
	    (rc = load_children(
		     s, a, "zenc_hooks", run_id, sizeof(zenc__hook_record),
		     read_hook, keys, out->steps, out->n_steps, 2)) < 0)
		goto done;
done:
	pq.PQclear(r);
	free(keys);
	return rc;
}

static int load_run_hooks(pg_store *s, zenc__arena *a, zenc__run_info *out)
{
	struct params p;
	PGresult *r;
	int i, rows;

	p_init(&p);
	p_text(&p, out->rec.id);
	if (!(r = exec_prepared(s, "zenc_run_hooks", &p)))
		return db_fail(s, "cannot read run '%s'", out->rec.id);
	rows = pq.PQntuples(r);
	if (rows)
		out->run_hooks = zenc__arena_alloc(
			a, (size_t)rows * sizeof(*out->run_hooks));
	for (i = 0; i < rows; i++)
		read_hook(a, r, i, &out->run_hooks[i], out->rec.id);
	out->n_run_hooks = (size_t)rows;
	pq.PQclear(r);
	return 0;
}

static int pg_run_show(
	zenc__store *self, const char *id_or_name, zenc__run_info *out)
{
	pg_store *s = to_pg(self);
	zenc__arena *a = zenc__arena_new();
	int rc;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->lock);
	if ((rc = conn_ready(s)) < 0)
		goto done;
	/* One snapshot: a run and its steps as of one moment. */
	if (exec_sql(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") <
	    0) {
		rc = db_fail(s, "cannot read %s", s->where);
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

static int pg_run_delete(zenc__store *self, const char *id_or_name)
{
	pg_store *s = to_pg(self);
	zenc__arena *a = zenc__arena_new();
	zenc__run_record run;
	struct params p;
	int rc;

	pthread_mutex_lock(&s->lock);
	if ((rc = conn_ready(s)) < 0 || (rc = tx_begin(s)) < 0)
		goto done;
	if ((rc = resolve_run(s, a, id_or_name, &run)) < 0)
		goto fail;
	/* The steps, attempts, artifacts and hook runs go with it (ON
	 * DELETE CASCADE). */
	p_init(&p);
	p_text(&p, run.id);
	if (exec_cmd(s, "zenc_run_delete", &p) < 0) {
		rc = db_fail(s, "cannot delete run '%s'", id_or_name);
		goto fail;
	}
	rc = tx_commit(s);
	goto done;
fail:
	tx_rollback(s);
done:
	pthread_mutex_unlock(&s->lock);
	zenc__arena_free(a);
	return rc;
}

/* The alert outbox. */

static int pg_alert_put(zenc__store *self, const zenc__alert_record *a)
{
	pg_store *s = to_pg(self);
	struct params p;
	int rc, try;

	pthread_mutex_lock(&s->lock);
	for (try = 0;; try++) {
		s->commit_sent = 0;
		if ((rc = conn_ready(s)) < 0)
			break;
		p_init(&p);
		p_text(&p, a->id);
		p_double(&p, a->created);
		p_text(&p, a->alerter);
		p_text(&p, a->flavor);
		p_text(&p, a->run_id);
		p_text(&p, a->pipeline);
		p_text(&p, a->step);
		p_text(&p, a->event);
		p_text(&p, a->step_status);
		p_text(&p, a->error_type);
		p_text(&p, a->title);
		p_text(&p, a->dedup_key);
		p_text(&p, a->status ? a->status : "pending");
		p_text(&p, a->alert_json ? a->alert_json : "{}");
		p_ll(&p, a->attempts);
		p_text(&p, a->last_error);
		p_time(&p, a->updated);
		p_time(&p, a->delivered);
		p_time(&p, a->lease_until);
		if (exec_cmd(s, "zenc_alert_put", &p) == 0) {
			rc = 0;
			break;
		}
		rc = db_fail(s, "cannot record alert '%s'", a->id);
		if (!retryable(s, try))
			break;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int pg_alert_update(
	zenc__store *self,
	const char *id,
	const char *status,
	int attempts,
	const char *last_error,
	double lease_until)
{
	pg_store *s = to_pg(self);
	struct params p;
	PGresult *r = NULL;
	int rc, try;

	pthread_mutex_lock(&s->lock);
	for (try = 0;; try++) {
		s->commit_sent = 0;
		if ((rc = conn_ready(s)) < 0)
			break;
		p_init(&p);
		p_text(&p, id);
		p_text(&p, status);
		p_ll(&p, attempts);
		p_text(&p, last_error);
		p_time(&p, lease_until);
		p_double(&p, zenc__now());
		if ((r = exec_prepared(s, "zenc_alert_update", &p))) {
			rc = 0;
			break;
		}
		rc = db_fail(s, "cannot update alert '%s'", id);
		if (!retryable(s, try))
			break;
	}
	if (r && !strcmp(pq.PQcmdTuples(r), "0"))
		rc = zenc__error_set(ZENC_ENOTFOUND, "no alert '%s'", id);
	pq.PQclear(r);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static void read_alert(
	zenc__arena *a, const PGresult *r, int row, zenc__alert_record *out)
{
	out->id = col_text(a, r, row, 0);
	out->created = col_double(r, row, 1);
	out->alerter = col_text(a, r, row, 2);
	out->flavor = col_text(a, r, row, 3);
	out->run_id = col_text(a, r, row, 4);
	out->pipeline = col_text(a, r, row, 5);
	out->step = col_text(a, r, row, 6);
	out->event = col_text(a, r, row, 7);
	out->step_status = col_text(a, r, row, 8);
	out->error_type = col_text(a, r, row, 9);
	out->title = col_text(a, r, row, 10);
	out->dedup_key = col_text(a, r, row, 11);
	out->status = col_text(a, r, row, 12);
	out->alert_json = col_text(a, r, row, 13);
	out->attempts = col_int(r, row, 14);
	out->last_error = col_text(a, r, row, 15);
	out->updated = col_double(r, row, 16);
	out->delivered = col_double(r, row, 17);
	out->lease_until = col_double(r, row, 18);
}

/* Runs an alert query into `out`. */
static int read_alerts(
	pg_store *s, const char *stmt, const struct params *p,
	zenc__alert_list *out)
{
	zenc__arena *a;
	PGresult *r;
	int rc, i, rows;

	memset(out, 0, sizeof(*out));
	if ((rc = conn_ready(s)) < 0)
		return rc;
	if (!(r = exec_prepared(s, stmt, p)))
		return db_fail(s, "cannot list alerts in %s", s->where);
	a = zenc__arena_new();
	rows = pq.PQntuples(r);
	if (rows)
		out->alerts = zenc__arena_alloc(
			a, (size_t)rows * sizeof(*out->alerts));
	for (i = 0; i < rows; i++)
		read_alert(a, r, i, &out->alerts[i]);
	out->n = (size_t)rows;
	out->arena = a;
	pq.PQclear(r);
	return 0;
}

static int pg_alerts_list(
	zenc__store *self,
	const char *status,
	size_t limit,
	zenc__alert_list *out)
{
	pg_store *s = to_pg(self);
	struct params p;
	int rc;

	p_init(&p);
	p_text(&p, status);
	if (limit)
		p_ll(&p, (long long)limit);
	else
		p_text(&p, NULL);
	pthread_mutex_lock(&s->lock);
	rc = read_alerts(s, "zenc_alerts_list", &p, out);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int pg_alerts_pending(
	zenc__store *self, double now, zenc__alert_list *out)
{
	pg_store *s = to_pg(self);
	struct params p;
	int rc;

	p_init(&p);
	p_double(&p, now);
	pthread_mutex_lock(&s->lock);
	rc = read_alerts(s, "zenc_alerts_pending", &p, out);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int pg_alert_claim(
	zenc__store *self,
	const char *id,
	double now,
	double until,
	int *claimed)
{
	pg_store *s = to_pg(self);
	struct params p;
	PGresult *r = NULL;
	int rc;

	*claimed = 0;
	pthread_mutex_lock(&s->lock);
	if ((rc = conn_ready(s)) < 0)
		goto done;
	p_init(&p);
	p_text(&p, id);
	p_double(&p, now);
	p_double(&p, until);
	if (!(r = exec_prepared(s, "zenc_alert_claim", &p))) {
		rc = db_fail(s, "cannot claim alert '%s'", id);
		goto done;
	}
	*claimed = !strcmp(pq.PQcmdTuples(r), "1");
done:
	pq.PQclear(r);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int pg_alerts_recent(
	zenc__store *self, const char *dedup_key, double since, int *count)
{
	pg_store *s = to_pg(self);
	struct params p;
	PGresult *r = NULL;
	int rc;

	*count = 0;
	pthread_mutex_lock(&s->lock);
	if ((rc = conn_ready(s)) < 0)
		goto done;
	p_init(&p);
	p_text(&p, dedup_key);
	p_double(&p, since);
	if (!(r = exec_prepared(s, "zenc_alerts_recent", &p)) ||
	    pq.PQntuples(r) != 1) {
		rc = db_fail(s, "cannot look up recent alerts");
		goto done;
	}
	*count = col_int(r, 0, 0);
done:
	pq.PQclear(r);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int pg_step_last_status(
	zenc__store *self,
	const char *pipeline,
	const char *step,
	const char *run_id,
	char *out,
	size_t size)
{
	pg_store *s = to_pg(self);
	struct params p;
	PGresult *r = NULL;
	int rc;

	if (size)
		out[0] = '\0';
	pthread_mutex_lock(&s->lock);
	if ((rc = conn_ready(s)) < 0)
		goto done;
	p_init(&p);
	p_text(&p, pipeline);
	p_text(&p, step);
	p_text(&p, run_id ? run_id : "");
	if (!(r = exec_prepared(s, "zenc_step_last_status", &p))) {
		rc = db_fail(s, "cannot look up step '%s'", step);
		goto done;
	}
	if (pq.PQntuples(r) == 1 && !pq.PQgetisnull(r, 0, 0) && size)
		snprintf(out, size, "%s", pq.PQgetvalue(r, 0, 0));
done:
	pq.PQclear(r);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static void pg_free(zenc__store *self)
{
	pg_store *s = to_pg(self);
	size_t i;

	if (!s)
		return;
	pq.PQfinish(s->conn);
	for (i = 0; i < s->n_redact; i++) {
		/* The password does not outlive the store in memory. */
		explicit_bzero(s->redact[i], strlen(s->redact[i]));
		free(s->redact[i]);
	}
	free(s->redact);
	free(s->where);
	zenc_buf_release(&s->err);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* Opening. */

/* The schema version, 0 for an empty database. */
static int read_schema_version(pg_store *s, int *out)
{
	PGresult *r;
	int exists;

	*out = 0;
	r = check(
		s, pq.PQexec(
			   s->conn,
			   "SELECT to_regclass('schema_version') IS NOT NULL"));
	if (!r)
		return db_fail(s, "cannot read the schema of %s", s->where);
	exists = pq.PQntuples(r) == 1 && !strcmp(pq.PQgetvalue(r, 0, 0), "t");
	pq.PQclear(r);
	if (!exists)
		return 0;
	r = check(
		s, pq.PQexec(
			   s->conn, "SELECT coalesce(max(version), 0)"
				    " FROM schema_version"));
	if (!r)
		return db_fail(s, "cannot read the schema of %s", s->where);
	*out = col_int(r, 0, 0);
	pq.PQclear(r);
	return 0;
}

static int migrate(pg_store *s)
{
	struct params p;
	PGresult *r;
	int version, rc, i;

	/* The common case writes nothing and takes no lock. */
	if ((rc = read_schema_version(s, &version)) < 0)
		return rc;
	if (version == SCHEMA_VERSION)
		return 0;

	/* Of many processes opening a new database at once, one takes the
	 * lock and creates the schema; the others wait for it, then see it
	 * done.  The lock goes with the transaction. */
	if ((rc = tx_begin(s)) < 0)
		return rc;
	p_init(&p);
	p_ll(&p, MIGRATE_LOCK_KEY);
	r = check(
		s, pq.PQexecParams(
			   s->conn, "SELECT pg_advisory_xact_lock($1::bigint)",
			   p.n, NULL, p.v, NULL, NULL, 0));
	if (!r) {
		rc = db_fail(s, "cannot lock %s to migrate it", s->where);
		goto done;
	}
	pq.PQclear(r);
	if (exec_sql(s, "CREATE TABLE IF NOT EXISTS schema_version ("
			" version INTEGER NOT NULL,"
			" applied DOUBLE PRECISION NOT NULL)") < 0) {
		rc = db_fail(s, "cannot migrate %s", s->where);
		goto done;
	}
	if ((rc = read_schema_version(s, &version)) < 0)
		goto done;
	if (version > SCHEMA_VERSION) {
		rc = zenc__error_set(
			ZENC_ESTORE,
			"metadata store %s has schema version %d, newer than "
			"this zenc knows (%d)",
			s->where, version, SCHEMA_VERSION);
		goto done;
	}
	for (i = version; i < SCHEMA_VERSION; i++) {
		if (exec_sql(s, migrations[i]) < 0) {
			rc = db_fail(s, "cannot migrate %s to version %d",
				     s->where, i + 1);
			goto done;
		}
		p_init(&p);
		p_ll(&p, i + 1);
		p_double(&p, zenc__now());
		r = check(
			s, pq.PQexecParams(
				   s->conn,
				   "INSERT INTO schema_version (version,"
				   " applied) VALUES ($1, $2)",
				   p.n, NULL, p.v, NULL, NULL, 0));
		if (!r) {
			rc = db_fail(s, "cannot migrate %s to version %d",
				     s->where, i + 1);
			goto done;
		}
		pq.PQclear(r);
	}
	rc = tx_commit(s);
done:
	if (rc < 0)
		tx_rollback(s);
	return rc;
}

/*
 * Runs left "running" by an orchestrating process that died (same host, pid
 * gone) become failed, and so do their running steps.  A pid reused by an
 * unrelated process hides a dead run until that process ends too; that
 * errs on the side of never failing a live run.  Runs of other hosts are
 * left to those hosts.
 */
static int mark_stale_runs(pg_store *s)
{
	struct params p;
	PGresult *r = NULL, *u;
	char host[256], now[32];
	const char *rid;
	long long pid;
	int rc = 0, i, rows;

	if (gethostname(host, sizeof(host)) < 0)
		return 0;
	host[sizeof(host) - 1] = '\0';
	snprintf(now, sizeof(now), "%.17g", zenc__now());

	p_init(&p);
	p_text(&p, host);
	if (!(r = exec_prepared(s, "zenc_running_here", &p)))
		return db_fail(s, "cannot look for interrupted runs");
	rows = pq.PQntuples(r);
	for (i = 0; i < rows; i++) {
		rid = pq.PQgetvalue(r, i, 0);
		pid = col_ll(r, i, 1);
		if (pid <= 0 || (pid_t)pid != pid)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		/* One transaction per run: another process marking the same
		 * run at the same time changes nothing the second time. */
		if ((rc = tx_begin(s)) < 0)
			goto done;
		p_init(&p);
		p_text(&p, rid);
		p_text(&p, "failed");
		p_text(&p, now);
		if (!(u = exec_prepared(s, "zenc_stale_run", &p))) {
			rc = db_fail(s, "cannot mark run '%s' as failed", rid);
			tx_rollback(s);
			goto done;
		}
		if (!strcmp(pq.PQcmdTuples(u), "0")) {
			pq.PQclear(u);
			tx_rollback(s);
			continue;
		}
		pq.PQclear(u);
		p_text(&p, "Interrupted");
		p_text(&p, "the orchestrating process died");
		if (exec_cmd(s, "zenc_stale_steps", &p) < 0) {
			rc = db_fail(s, "cannot mark run '%s' as failed", rid);
			tx_rollback(s);
			goto done;
		}
		if ((rc = tx_commit(s)) < 0)
			goto done;
		zenc__info(
			"run '%s' was left running by a process that "
			"died; marked as failed",
			rid);
	}
done:
	pq.PQclear(r);
	return rc;
}

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
	s->base.version = ZENC__STORE_VERSION;
	s->base.flavor = "postgres";
	s->base.run_begin = pg_run_begin;
	s->base.run_end = pg_run_end;
	s->base.step_put = pg_step_put;
	s->base.step_end = pg_step_end;
	s->base.hooks_put = pg_hooks_put;
	s->base.artifacts_get = pg_artifacts_get;
	s->base.runs_list = pg_runs_list;
	s->base.run_show = pg_run_show;
	s->base.run_delete = pg_run_delete;
	s->base.free = pg_free;
	s->base.alert_put = pg_alert_put;
	s->base.alert_update = pg_alert_update;
	s->base.alerts_list = pg_alerts_list;
	s->base.alerts_pending = pg_alerts_pending;
	s->base.alert_claim = pg_alert_claim;
	s->base.alerts_recent = pg_alerts_recent;
	s->base.step_last_status = pg_step_last_status;
	pthread_mutex_init(&s->lock, NULL);

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
	s->where = describe_server(s);
	if (pq.PQstatus(s->conn) != CONNECTION_OK) {
		note_error(s, NULL);
		rc = zenc__error_set(
			ZENC_ESTORE, "cannot connect to PostgreSQL at %s: %s",
			s->where, zenc_buf_cstr(&s->err));
		goto fail;
	}
	pq.PQsetNoticeProcessor(s->conn, on_notice, s);

	if ((rc = migrate(s)) < 0 || (rc = prepare_all(s)) < 0)
		goto fail;
	/* A store that cannot be written (a read-only role, say) can still
	 * be read: then stale runs stay as they are. */
	if (mark_stale_runs(s) < 0)
		zenc__warn("%s", zenc_error_last());

	*out = &s->base;
	return 0;
fail:
	if (rc != ZENC_ESTORE && rc != ZENC_ENOMEM && rc != ZENC_ECONFIG)
		rc = ZENC_ESTORE;
	pg_free(&s->base);
	return rc;
}

#endif /* ZENC_HAVE_POSTGRES */
