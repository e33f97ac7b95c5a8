/* The SQLite metadata store, against real files in a temporary folder. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "lib/stores/store.h"
#include "lib/internal.h"

struct fixture {
	char *dir;
	char *path;
	zenc__store *store;
};

static char *make_tmpdir(void)
{
	const char *base = getenv("ZENC_TEST_TMP");
	char *tmpl;

	if (!base || !*base)
		base = "/tmp";
	if (zenc__mkdir_p(base, 0755) < 0)
		return NULL;
	tmpl = zenc__asprintf("%s/test_store.XXXXXX", base);
	if (!mkdtemp(tmpl)) {
		free(tmpl);
		return NULL;
	}
	return tmpl;
}

static int setup(void **state)
{
	struct fixture *f = zenc__calloc(1, sizeof(*f));

	f->dir = make_tmpdir();
	if (!f->dir)
		return -1;
	/* A folder that does not exist yet: the store creates it. */
	f->path = zenc__asprintf("%s/data/sub/zenc.db", f->dir);
	if (zenc__store_open(&f->store, "sqlite", f->path) < 0) {
		fprintf(stderr, "%s\n", zenc_error_last());
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd;

	zenc__store_free(f->store);
	cmd = zenc__asprintf("rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove '%s'\n", f->dir);
	free(cmd);
	free(f->path);
	free(f->dir);
	free(f);
	return 0;
}

static void reopen(struct fixture *f)
{
	zenc__store_free(f->store);
	f->store = NULL;
	assert_int_equal(zenc__store_open(&f->store, "sqlite", f->path), 0);
}

/* One number from the file, through a separate connection. */
static long long query_int(struct fixture *f, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = -1;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void exec_sql(struct fixture *f, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static char hostname[256];

static const char *this_host(void)
{
	if (!hostname[0]) {
		assert_int_equal(gethostname(hostname, sizeof(hostname)), 0);
		hostname[sizeof(hostname) - 1] = '\0';
	}
	return hostname;
}

static void begin_run(
	struct fixture *f,
	const char *id,
	const char *name,
	const char *pipeline,
	double started)
{
	zenc__run_record r = {0};

	r.id = id;
	r.name = name;
	r.pipeline = pipeline;
	r.status = "running";
	r.stack = "default";
	r.host = this_host();
	r.pid = (long)getpid();
	r.started = started;
	assert_int_equal(f->store->run_begin(f->store, &r), 0);
}

static zenc__step_record step_rec(
	const char *run_id, const char *name, const char *status)
{
	zenc__step_record s = {0};

	s.run_id = run_id;
	s.name = name;
	s.status = status;
	return s;
}

#define RUN1 "1111aaaa-0000-4000-8000-000000000001"
#define RUN2 "1111bbbb-0000-4000-8000-000000000002"
#define RUN3 "2222cccc-0000-4000-8000-000000000003"

static void test_open_creates_schema(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	char *dir = zenc__asprintf("%s/data/sub", f->dir);

	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	free(dir);
	assert_string_equal(f->store->flavor, "sqlite");
	assert_int_equal(f->store->version, ZENC__STORE_VERSION);
	assert_int_equal(
		query_int(f, "SELECT max(version) FROM schema_version"), 9);
	/* journal_mode is a property of the file, so it shows here. */
	assert_int_equal(
		query_int(
			f, "SELECT count(*) FROM pragma_journal_mode"
			   " WHERE journal_mode = 'wal'"),
		1);
	assert_int_equal(
		query_int(
			f, "SELECT count(*) FROM sqlite_master WHERE name IN"
			   " ('runs', 'step_runs', 'step_attempts',"
			   " 'artifacts', 'hook_runs', 'runs_started',"
			   " 'runs_name')"),
		7);
	/* Opening again migrates nothing: still one row per migration. */
	reopen(f);
	reopen(f);
	assert_int_equal(
		query_int(f, "SELECT count(*) FROM schema_version"), 9);
}

/* A store of the version before the courier (schema 3, an alert
 * pending) opens, gains the courier's schedule, and keeps the alert. */
static void test_migrates_outbox_for_courier(void **state)
{
	struct fixture *f = *state;
	zenc__alert_record a;
	zenc__alert_list due = {NULL, 0, NULL};
	size_t pending;
	double next;

	memset(&a, 0, sizeof(a));
	a.id = "a-1";
	a.created = 1000;
	a.status = "pending";
	a.alert_json = "{}";
	assert_int_equal(f->store->alert_put(f->store, &a), 0);
	exec_sql(f, "ALTER TABLE alerts DROP COLUMN next_at");
	exec_sql(f, "DROP TABLE run_watch");
	exec_sql(f, "DROP INDEX step_runs_running");
	exec_sql(f, "DROP INDEX step_runs_reusable");
	exec_sql(f, "ALTER TABLE step_runs DROP COLUMN cached_from");
	exec_sql(f, "ALTER TABLE step_runs DROP COLUMN cache_key");
	exec_sql(f, "ALTER TABLE runs DROP COLUMN resumed_from");
	exec_sql(f, "DROP INDEX artifacts_foreign");
	exec_sql(f, "ALTER TABLE step_attempts DROP COLUMN log_uri");
	exec_sql(f, "DELETE FROM schema_version WHERE version >= 4");
	reopen(f);
	assert_int_equal(
		query_int(f, "SELECT max(version) FROM schema_version"), 9);
	assert_int_equal(f->store->alerts_wake(f->store, &pending, &next), 0);
	assert_int_equal(pending, 1);
	assert_int_equal(f->store->alerts_due(f->store, 2000, &due), 0);
	assert_int_equal(due.n, 1);
	zenc__alert_list_free(&due);
	/* Scheduled later: not due before then. */
	assert_int_equal(f->store->alert_next(f->store, "a-1", 3000), 0);
	assert_int_equal(f->store->alerts_due(f->store, 2000, &due), 0);
	assert_int_equal(due.n, 0);
	zenc__alert_list_free(&due);
	assert_int_equal(f->store->alerts_wake(f->store, &pending, &next), 0);
	assert_true(next >= 3000 && next < 3001);
	assert_int_equal(f->store->alerts_due(f->store, 3000, &due), 0);
	assert_int_equal(due.n, 1);
	zenc__alert_list_free(&due);
}

static void test_newer_schema_refused(void **state)
{
	struct fixture *f = *state;
	zenc__store *s = NULL;

	exec_sql(f, "INSERT INTO schema_version VALUES (99, 0)");
	assert_int_equal(zenc__store_open(&s, "sqlite", f->path), ZENC_ESTORE);
	assert_null(s);
	assert_non_null(strstr(zenc_error_last(), "schema version 99"));
}

static void test_unknown_flavor(void **state)
{
	zenc__store *s = NULL;

	(void)state;
	assert_int_equal(
		zenc__store_open(&s, "postgrs", "/nowhere"), ZENC_ECONFIG);
	assert_null(s);
	assert_string_equal(
		zenc_error_last(), "unknown metadata-store flavor 'postgrs' "
				   "(known: postgres, sqlite)");
}

static void test_open_failure(void **state)
{
	struct fixture *f = *state;
	zenc__store *s = NULL;
	char *path = zenc__asprintf("%s/file", f->dir);
	char *bad = zenc__asprintf("%s/file/sub/zenc.db", f->dir);
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fclose(fp);
	/* The parent "folder" is a file. */
	assert_int_equal(zenc__store_open(&s, "sqlite", bad), ZENC_ESTORE);
	assert_null(s);
	assert_non_null(strstr(zenc_error_last(), "cannot create folder"));
	free(path);
	free(bad);
}

static void test_run_lifecycle(void **state)
{
	struct fixture *f = *state;
	zenc__store *st = f->store;
	zenc__step_record s;
	zenc__attempt_record at = {0};
	zenc__artifact_record arts[2] = {{0}};
	zenc__hook_record hooks[3] = {{0}};
	zenc__hook_record rh[2] = {{0}};
	zenc__run_info info;
	const zenc__step_info *si;

	begin_run(f, RUN1, "p-run-1", "p", 1000.5);

	/* Steps recorded in an order that is not alphabetical. */
	s = step_rec(RUN1, "zeta", "running");
	s.attempts = 1;
	s.started = 1001;
	s.params_json = "{\"a\":1}";
	s.log_uri = "/art/zeta.log";
	assert_int_equal(st->step_put(st, &s), 0);
	s = step_rec(RUN1, "alpha", "running");
	s.attempts = 1;
	s.started = 1001.25;
	assert_int_equal(st->step_put(st, &s), 0);

	/* zeta succeeds: outputs and its hooks (seq out of order on
	 * purpose). */
	s = step_rec(RUN1, "zeta", "completed");
	s.attempts = 1;
	s.ended = 1002;
	at.attempt = 1;
	at.status = "completed";
	at.started = 1001;
	at.ended = 1002;
	arts[0].name = "first_num";
	arts[0].type = "int";
	arts[0].uri = "/art/zeta/first_num";
	arts[0].size = 8;
	arts[0].checksum = "00ff";
	arts[1].name = "label";
	arts[1].type = "string";
	arts[1].uri = "/art/zeta/label";
	arts[1].size = 5;
	arts[1].checksum = "abcd";
	hooks[0].event = "on_end";
	hooks[0].hook = "h_end";
	hooks[0].attempt = 1;
	hooks[0].status = "completed";
	hooks[0].started = 1002.1;
	hooks[0].duration = 0.001;
	hooks[0].seq = 3;
	hooks[1].event = "on_success";
	hooks[1].hook = "h_ok";
	hooks[1].attempt = 1;
	hooks[1].status = "failed";
	hooks[1].error = "ValueError: nope";
	hooks[1].started = 1002.05;
	hooks[1].duration = 0.002;
	hooks[1].seq = 2;
	assert_int_equal(st->step_end(st, &s, &at, arts, 2, hooks, 2), 0);

	/* alpha fails twice: a retry, then the final failure. */
	memset(&at, 0, sizeof(at));
	s = step_rec(RUN1, "alpha", "running");
	s.attempts = 1;
	s.error_type = "ValueError";
	s.error_message = "first";
	at.attempt = 1;
	at.status = "failed";
	at.started = 1001.25;
	at.ended = 1001.5;
	at.error_type = "ValueError";
	at.error_message = "first";
	hooks[2].event = "on_retry";
	hooks[2].hook = "notify";
	hooks[2].attempt = 1;
	hooks[2].status = "completed";
	hooks[2].seq = 4;
	assert_int_equal(st->step_end(st, &s, &at, NULL, 0, &hooks[2], 1), 0);
	s = step_rec(RUN1, "alpha", "failed");
	s.attempts = 2;
	s.ended = 1003;
	s.error_type = "Signal";
	s.error_message = "killed by SIGSEGV";
	s.signal = 11;
	at.attempt = 2;
	at.status = "failed";
	at.started = 1002;
	at.ended = 1003;
	at.error_type = "Signal";
	at.error_message = "killed by SIGSEGV";
	at.signal = 11;
	hooks[2].event = "on_failure";
	hooks[2].attempt = 2;
	hooks[2].seq = 5;
	assert_int_equal(st->step_end(st, &s, &at, NULL, 0, &hooks[2], 1), 0);

	/* A skipped step. */
	s = step_rec(RUN1, "downstream", "skipped");
	assert_int_equal(st->step_put(st, &s), 0);

	/* Run-level hooks. */
	rh[0].run_id = RUN1;
	rh[0].event = "on_run_failure";
	rh[0].hook = "page";
	rh[0].status = "timeout";
	rh[0].error = "timed out after 30s";
	rh[0].duration = 30;
	rh[0].seq = 7;
	rh[1].run_id = RUN1;
	rh[1].event = "on_run_failure";
	rh[1].hook = "first";
	rh[1].status = "completed";
	rh[1].seq = 6;
	assert_int_equal(st->hooks_put(st, rh, 2), 0);
	assert_int_equal(st->run_end(st, RUN1, "failed", 1004), 0);

	assert_int_equal(st->run_show(st, RUN1, &info), 0);
	assert_string_equal(info.rec.id, RUN1);
	assert_string_equal(info.rec.name, "p-run-1");
	assert_string_equal(info.rec.pipeline, "p");
	assert_string_equal(info.rec.status, "failed");
	assert_string_equal(info.rec.stack, "default");
	assert_string_equal(info.rec.host, this_host());
	assert_int_equal(info.rec.pid, getpid());
	assert_true(info.rec.started == 1000.5);
	assert_true(info.rec.ended == 1004);

	assert_int_equal(info.n_steps, 3);
	si = &info.steps[0];
	assert_string_equal(si->rec.name, "zeta");
	assert_string_equal(si->rec.status, "completed");
	assert_int_equal(si->rec.attempts, 1);
	/* The end record had no start, parameters nor log: kept. */
	assert_true(si->rec.started == 1001);
	assert_true(si->rec.ended == 1002);
	assert_string_equal(si->rec.params_json, "{\"a\":1}");
	assert_string_equal(si->rec.log_uri, "/art/zeta.log");
	assert_null(si->rec.error_type);
	assert_int_equal(si->n_attempts, 1);
	assert_string_equal(si->attempts[0].status, "completed");
	assert_int_equal(si->n_artifacts, 2);
	assert_string_equal(si->artifacts[0].name, "first_num");
	assert_string_equal(si->artifacts[0].step, "zeta");
	assert_string_equal(si->artifacts[0].run_id, RUN1);
	assert_int_equal(si->artifacts[0].size, 8);
	assert_string_equal(si->artifacts[1].checksum, "abcd");
	assert_int_equal(si->n_hooks, 2);
	assert_string_equal(si->hooks[0].hook, "h_ok"); /* by seq */
	assert_string_equal(si->hooks[0].status, "failed");
	assert_string_equal(si->hooks[0].error, "ValueError: nope");
	assert_true(si->hooks[0].duration == 0.002);
	assert_string_equal(si->hooks[1].hook, "h_end");
	assert_null(si->hooks[1].error);

	si = &info.steps[1];
	assert_string_equal(si->rec.name, "alpha");
	assert_string_equal(si->rec.status, "failed");
	assert_int_equal(si->rec.attempts, 2);
	assert_string_equal(si->rec.error_type, "Signal");
	assert_int_equal(si->rec.signal, 11);
	assert_null(si->rec.params_json);
	assert_int_equal(si->n_attempts, 2);
	assert_int_equal(si->attempts[0].attempt, 1);
	assert_string_equal(si->attempts[0].error_message, "first");
	assert_int_equal(si->attempts[1].attempt, 2);
	assert_int_equal(si->attempts[1].signal, 11);
	assert_int_equal(si->n_artifacts, 0);
	assert_int_equal(si->n_hooks, 2);
	assert_string_equal(si->hooks[0].event, "on_retry");
	assert_int_equal(si->hooks[0].attempt, 1);
	assert_string_equal(si->hooks[1].event, "on_failure");
	assert_string_equal(si->hooks[1].step, "alpha");

	si = &info.steps[2];
	assert_string_equal(si->rec.name, "downstream");
	assert_string_equal(si->rec.status, "skipped");
	assert_int_equal(si->n_attempts + si->n_artifacts + si->n_hooks, 0);

	assert_int_equal(info.n_run_hooks, 2);
	assert_string_equal(info.run_hooks[0].hook, "first");
	assert_null(info.run_hooks[0].step);
	assert_string_equal(info.run_hooks[1].status, "timeout");
	assert_true(info.run_hooks[1].duration == 30);
	zenc__run_info_free(&info);
	assert_null(info.arena);
	zenc__run_info_free(&info); /* harmless twice */

	/* The end of an unknown run. */
	assert_int_equal(st->run_end(st, "nope", "failed", 1), ZENC_ENOTFOUND);
	assert_string_equal(zenc_error_last(), "no run 'nope'");
}

static void test_duplicate_run_fails(void **state)
{
	struct fixture *f = *state;
	zenc__run_record r = {0};

	begin_run(f, RUN1, "n", "p", 1);
	r.id = RUN1;
	r.name = "n2";
	r.pipeline = "p";
	assert_int_equal(f->store->run_begin(f->store, &r), ZENC_ESTORE);
	assert_non_null(strstr(zenc_error_last(), "cannot record run 'n2': "));
	assert_non_null(strstr(zenc_error_last(), "UNIQUE"));
	/* The store is still usable: the statement was reset. */
	begin_run(f, RUN2, "n2", "p", 2);
}

static void test_step_end_is_atomic(void **state)
{
	struct fixture *f = *state;
	zenc__store *st = f->store;
	zenc__step_record s = step_rec(RUN1, "a", "running");
	zenc__attempt_record at = {0};
	zenc__artifact_record arts[2] = {{0}};
	zenc__run_info info;

	begin_run(f, RUN1, "n", "p", 1);
	assert_int_equal(st->step_put(st, &s), 0);
	s.status = "completed";
	at.attempt = 1;
	at.status = "completed";
	arts[0].name = "ok";
	arts[1].name = NULL; /* NOT NULL: the second insert fails */
	assert_int_equal(
		st->step_end(st, &s, &at, arts, 2, NULL, 0), ZENC_ESTORE);
	assert_non_null(strstr(zenc_error_last(), "NOT NULL"));
	assert_int_equal(st->run_show(st, RUN1, &info), 0);
	assert_int_equal(info.n_steps, 1);
	assert_string_equal(info.steps[0].rec.status, "running");
	assert_int_equal(info.steps[0].n_attempts, 0);
	assert_int_equal(info.steps[0].n_artifacts, 0);
	zenc__run_info_free(&info);

	/* And the next transaction goes through. */
	assert_int_equal(st->step_end(st, &s, &at, arts, 1, NULL, 0), 0);
	assert_int_equal(st->run_show(st, "n", &info), 0);
	assert_string_equal(info.steps[0].rec.status, "completed");
	assert_int_equal(info.steps[0].n_artifacts, 1);
	zenc__run_info_free(&info);
}

static void test_list(void **state)
{
	struct fixture *f = *state;
	zenc__store *st = f->store;
	zenc__run_filter flt = {0};
	zenc__run_list l;

	begin_run(f, RUN2, "b-2", "b", 200);
	begin_run(f, RUN1, "a-1", "a", 100);
	begin_run(f, RUN3, "a-3", "a", 300);
	assert_int_equal(st->run_end(st, RUN1, "completed", 150), 0);
	assert_int_equal(st->run_end(st, RUN2, "failed", 250), 0);

	assert_int_equal(st->runs_list(st, NULL, &l), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.runs[0].name, "a-3");
	assert_string_equal(l.runs[1].name, "b-2");
	assert_string_equal(l.runs[2].name, "a-1");
	assert_string_equal(l.runs[2].status, "completed");
	assert_true(l.runs[2].ended == 150);
	assert_true(l.runs[0].ended == 0);
	zenc__run_list_free(&l);
	assert_null(l.arena);

	flt.pipeline = "a";
	assert_int_equal(st->runs_list(st, &flt, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.runs[0].name, "a-3");
	assert_string_equal(l.runs[1].name, "a-1");
	zenc__run_list_free(&l);

	flt.status = "running";
	assert_int_equal(st->runs_list(st, &flt, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.runs[0].id, RUN3);
	zenc__run_list_free(&l);

	flt.pipeline = NULL;
	flt.status = "failed";
	assert_int_equal(st->runs_list(st, &flt, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.runs[0].name, "b-2");
	zenc__run_list_free(&l);

	flt.status = NULL;
	flt.limit = 2;
	assert_int_equal(st->runs_list(st, &flt, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.runs[1].name, "b-2");
	zenc__run_list_free(&l);

	flt.offset = 2;
	assert_int_equal(st->runs_list(st, &flt, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.runs[0].name, "a-1");
	zenc__run_list_free(&l);

	flt.pipeline = "none";
	flt.offset = 0;
	assert_int_equal(st->runs_list(st, &flt, &l), 0);
	assert_int_equal(l.n, 0);
	assert_null(l.runs);
	zenc__run_list_free(&l);
}

static void test_list_many(void **state)
{
	struct fixture *f = *state;
	zenc__run_list l;
	char id[37];
	char name[32];
	int i;

	/* Enough rows to fill several arena blocks. */
	for (i = 0; i < 3000; i++) {
		zenc__uuid(id);
		snprintf(name, sizeof(name), "run-%04d", i);
		begin_run(f, id, name, "many", 10 + i);
	}
	assert_int_equal(f->store->runs_list(f->store, NULL, &l), 0);
	assert_int_equal(l.n, 3000);
	assert_string_equal(l.runs[0].name, "run-2999");
	assert_string_equal(l.runs[2999].name, "run-0000");
	assert_int_equal(strlen(l.runs[1234].id), 36);
	zenc__run_list_free(&l);
}

static void test_show_lookup(void **state)
{
	struct fixture *f = *state;
	zenc__store *st = f->store;
	zenc__run_info info;

	begin_run(f, RUN1, "first", "p", 1);
	begin_run(f, RUN2, "second", "p", 2);
	begin_run(f, RUN3, "dup", "p", 3);
	begin_run(f, "4444dddd-0000-4000-8000-000000000004", "dup", "p", 4);
	/* A run named like another's id prefix: the name wins. */
	begin_run(f, "5555eeee-0000-4000-8000-000000000005", "2222", "p", 5);

	assert_int_equal(st->run_show(st, "second", &info), 0);
	assert_string_equal(info.rec.id, RUN2);
	zenc__run_info_free(&info);

	assert_int_equal(st->run_show(st, "1111a", &info), 0);
	assert_string_equal(info.rec.id, RUN1);
	zenc__run_info_free(&info);

	assert_int_equal(st->run_show(st, "2222c", &info), 0);
	assert_string_equal(info.rec.id, RUN3);
	zenc__run_info_free(&info);

	assert_int_equal(st->run_show(st, "2222", &info), 0);
	assert_string_equal(info.rec.name, "2222");
	zenc__run_info_free(&info);

	assert_int_equal(st->run_show(st, "1111", &info), ZENC_EINVALID);
	assert_non_null(strstr(zenc_error_last(), "'1111' is ambiguous"));
	assert_null(info.arena);

	assert_int_equal(st->run_show(st, "dup", &info), ZENC_EINVALID);
	assert_non_null(strstr(zenc_error_last(), "'dup'"));

	/* Too short for a prefix. */
	assert_int_equal(st->run_show(st, "555", &info), ZENC_ENOTFOUND);
	assert_string_equal(zenc_error_last(), "no run '555'");

	assert_int_equal(st->run_show(st, "nope-x", &info), ZENC_ENOTFOUND);
	assert_string_equal(zenc_error_last(), "no run 'nope-x'");
	assert_int_equal(st->run_show(st, "", &info), ZENC_ENOTFOUND);
	assert_int_equal(st->run_show(st, "1111a~", &info), ZENC_ENOTFOUND);
}

static void test_delete(void **state)
{
	struct fixture *f = *state;
	zenc__store *st = f->store;
	zenc__step_record s = step_rec(RUN1, "a", "completed");
	zenc__attempt_record at = {1,    "completed", 1, 2,   NULL,
				   NULL, 0,           0, NULL};
	zenc__artifact_record art = {0};
	zenc__hook_record h = {0};
	zenc__run_info info;

	begin_run(f, RUN1, "gone", "p", 1);
	begin_run(f, RUN2, "kept", "p", 2);
	art.name = "out";
	h.event = "on_success";
	h.hook = "x";
	h.status = "completed";
	assert_int_equal(st->step_end(st, &s, &at, &art, 1, &h, 1), 0);
	s.run_id = RUN2;
	assert_int_equal(st->step_end(st, &s, &at, &art, 1, &h, 1), 0);
	h.run_id = RUN1;
	assert_int_equal(st->hooks_put(st, &h, 1), 0);

	assert_int_equal(st->run_delete(st, "gone"), 0);
	assert_int_equal(st->run_show(st, RUN1, &info), ZENC_ENOTFOUND);
	assert_int_equal(st->run_delete(st, "gone"), ZENC_ENOTFOUND);
	assert_string_equal(zenc_error_last(), "no run 'gone'");

	/* Everything of the run went with it, nothing of the other. */
	assert_int_equal(query_int(f, "SELECT count(*) FROM step_runs"), 1);
	assert_int_equal(query_int(f, "SELECT count(*) FROM step_attempts"), 1);
	assert_int_equal(query_int(f, "SELECT count(*) FROM artifacts"), 1);
	assert_int_equal(query_int(f, "SELECT count(*) FROM hook_runs"), 1);
	assert_int_equal(st->run_show(st, "kept", &info), 0);
	assert_int_equal(info.steps[0].n_artifacts, 1);
	zenc__run_info_free(&info);

	/* By prefix. */
	assert_int_equal(st->run_delete(st, "1111b"), 0);
	assert_int_equal(query_int(f, "SELECT count(*) FROM runs"), 0);
	assert_int_equal(query_int(f, "SELECT count(*) FROM step_runs"), 0);
}

/* The log of each attempt is kept, and uri_shared says which artifact
 * files another run points to (what deleting a run keeps). */
static void test_attempt_logs_and_shared_uris(void **state)
{
	struct fixture *f = *state;
	zenc__store *st = f->store;
	zenc__step_record s = step_rec(RUN1, "a", "completed");
	zenc__attempt_record at = {
		1, "failed", 1, 2, "E", "m", 0, 0, "/art/" RUN1 "/a/log.1"};
	zenc__artifact_record art = {0};
	zenc__run_info info;
	int shared = -1;

	begin_run(f, RUN1, "first", "p", 1);
	begin_run(f, RUN2, "second", "p", 2);
	assert_int_equal(st->step_end(st, &s, &at, NULL, 0, NULL, 0), 0);
	at.attempt = 2;
	at.status = "completed";
	at.log_uri = NULL;
	art.name = "out";
	art.uri = "/art/" RUN1 "/a/out";
	assert_int_equal(st->step_end(st, &s, &at, &art, 1, NULL, 0), 0);
	assert_int_equal(st->run_show(st, RUN1, &info), 0);
	assert_int_equal(info.steps[0].n_attempts, 2);
	assert_string_equal(
		info.steps[0].attempts[0].log_uri, "/art/" RUN1 "/a/log.1");
	assert_null(info.steps[0].attempts[1].log_uri);
	zenc__run_info_free(&info);

	/* Only RUN1 points to its file so far. */
	assert_non_null(st->uri_shared);
	assert_int_equal(st->uri_shared(st, RUN1, art.uri, NULL, &shared), 0);
	assert_int_equal(shared, 0);
	/* RUN2 took the step from the cache: the same uri, no copy. */
	s.run_id = RUN2;
	art.name = "reused";
	assert_int_equal(st->step_end(st, &s, &at, &art, 1, NULL, 0), 0);
	assert_int_equal(st->uri_shared(st, RUN1, art.uri, NULL, &shared), 0);
	assert_int_equal(shared, 1);
	assert_int_equal(st->uri_shared(st, RUN2, art.uri, RUN1, &shared), 0);
	assert_int_equal(shared, 1);
	assert_int_equal(st->run_delete(st, RUN1), 0);
	assert_int_equal(st->uri_shared(st, RUN2, art.uri, RUN1, &shared), 0);
	assert_int_equal(shared, 0);
}

static long dead_pid(void)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	/* exec rather than just _exit, so that valgrind does not report
	 * the copy of this process's memory the child exits with. */
	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return (long)pid;
}

static void test_stale_runs(void **state)
{
	struct fixture *f = *state;
	zenc__store *st = f->store;
	zenc__run_record r = {0};
	zenc__step_record s;
	zenc__run_info info;
	long dead = dead_pid();
	double before = zenc__now();

	r.pipeline = "p";
	r.status = "running";
	r.host = this_host();
	r.started = 5;

	r.id = RUN1;
	r.name = "dead";
	r.pid = dead;
	assert_int_equal(st->run_begin(st, &r), 0);
	s = step_rec(RUN1, "done", "completed");
	assert_int_equal(st->step_put(st, &s), 0);
	s = step_rec(RUN1, "busy", "running");
	assert_int_equal(st->step_put(st, &s), 0);
	s = step_rec(RUN1, "later", "pending");
	assert_int_equal(st->step_put(st, &s), 0);

	r.id = RUN2;
	r.name = "alive";
	r.pid = (long)getpid();
	assert_int_equal(st->run_begin(st, &r), 0);

	r.id = RUN3;
	r.name = "elsewhere";
	r.host = "some-other-host.invalid";
	r.pid = dead;
	assert_int_equal(st->run_begin(st, &r), 0);

	/* A dead process's run that had ended is left alone. */
	r.id = "4444dddd-0000-4000-8000-000000000004";
	r.name = "finished";
	r.host = this_host();
	assert_int_equal(st->run_begin(st, &r), 0);
	assert_int_equal(st->run_end(st, r.id, "completed", 6), 0);

	reopen(f);
	st = f->store;

	assert_int_equal(st->run_show(st, "dead", &info), 0);
	assert_string_equal(info.rec.status, "failed");
	assert_true(info.rec.ended >= before);
	assert_string_equal(info.steps[0].rec.status, "completed");
	assert_null(info.steps[0].rec.error_type);
	assert_string_equal(info.steps[1].rec.status, "failed");
	assert_string_equal(info.steps[1].rec.error_type, "Interrupted");
	assert_string_equal(
		info.steps[1].rec.error_message,
		"the orchestrating process died");
	assert_true(info.steps[1].rec.ended >= before);
	assert_string_equal(info.steps[2].rec.status, "pending");
	zenc__run_info_free(&info);

	assert_int_equal(st->run_show(st, "alive", &info), 0);
	assert_string_equal(info.rec.status, "running");
	zenc__run_info_free(&info);
	assert_int_equal(st->run_show(st, "elsewhere", &info), 0);
	assert_string_equal(info.rec.status, "running");
	zenc__run_info_free(&info);
	assert_int_equal(st->run_show(st, "finished", &info), 0);
	assert_string_equal(info.rec.status, "completed");
	assert_true(info.rec.ended == 6);
	zenc__run_info_free(&info);
}

/* Runs with a watcher (engine/watcher.c): left to it while it lives,
 * settled late once it is gone too; and run_fail(), its way of marking. */
static void test_watched_runs(void **state)
{
	struct fixture *f = *state;
	zenc__store *st = f->store;
	zenc__run_record r = {0};
	zenc__step_record s;
	zenc__run_info info;
	long dead = dead_pid(), pid;
	char *spec;
	int marked;

	r.pipeline = "p";
	r.status = "running";
	r.host = this_host();
	r.started = 5;
	r.pid = dead;

	r.id = RUN1;
	r.name = "watched";
	assert_int_equal(st->run_begin(st, &r), 0);
	s = step_rec(RUN1, "busy", "running");
	assert_int_equal(st->step_put(st, &s), 0);
	assert_int_equal(
		st->watch_put(
			st, RUN1, (long)getpid(), "{\"stack\": \"no-such\"}"),
		0);

	r.id = RUN2;
	r.name = "orphaned";
	assert_int_equal(st->run_begin(st, &r), 0);
	s = step_rec(RUN2, "busy", "running");
	assert_int_equal(st->step_put(st, &s), 0);
	assert_int_equal(
		st->watch_put(st, RUN2, dead, "{\"stack\": \"no-such\"}"), 0);

	assert_int_equal(st->watch_get(st, RUN1, &pid, &spec), 0);
	assert_int_equal(pid, (long)getpid());
	assert_string_equal(spec, "{\"stack\": \"no-such\"}");
	free(spec);
	assert_int_equal(st->watch_get(st, RUN3, &pid, &spec), ZENC_ENOTFOUND);
	assert_null(spec);

	reopen(f);
	st = f->store;

	/* Its watcher lives: the run is the watcher's. */
	assert_int_equal(st->run_show(st, "watched", &info), 0);
	assert_string_equal(info.rec.status, "running");
	zenc__run_info_free(&info);
	/* Both gone: settled on open. */
	assert_int_equal(st->run_show(st, "orphaned", &info), 0);
	assert_string_equal(info.rec.status, "failed");
	assert_string_equal(info.steps[0].rec.status, "failed");
	assert_string_equal(info.steps[0].rec.error_type, "Interrupted");
	zenc__run_info_free(&info);

	/* As the watcher marks a run: once, with the signal. */
	assert_int_equal(
		st->run_fail(
			st, RUN1, "OrchestratorDied", "the process died", 9,
			&marked),
		0);
	assert_int_equal(marked, 1);
	assert_int_equal(
		st->run_fail(st, RUN1, "Other", "again", 1, &marked), 0);
	assert_int_equal(marked, 0);
	assert_int_equal(st->run_show(st, "watched", &info), 0);
	assert_string_equal(info.rec.status, "failed");
	assert_string_equal(info.steps[0].rec.error_type, "OrchestratorDied");
	assert_int_equal(info.steps[0].rec.signal, 9);
	zenc__run_info_free(&info);
}

static void test_artifacts_get(void **state)
{
	struct fixture *f = *state;
	zenc__store *st = f->store;
	zenc__step_record s = step_rec(RUN1, "load", "completed");
	zenc__artifact_record arts[2] = {{0}}, *out;
	size_t n;
	void *arena;

	begin_run(f, RUN1, "n", "p", 1);
	arts[0].name = "rows";
	arts[0].type = "int";
	arts[0].uri = "/a/rows";
	arts[0].size = 8;
	arts[0].checksum = "0123456789abcdef";
	arts[1].name = "blob";
	arts[1].type = "bytes";
	arts[1].uri = "/a/blob";
	arts[1].size = INT64_C(5000000000);
	assert_int_equal(st->step_end(st, &s, NULL, arts, 2, NULL, 0), 0);

	assert_int_equal(
		st->artifacts_get(st, RUN1, "load", &out, &n, &arena), 0);
	assert_int_equal(n, 2);
	assert_string_equal(out[0].name, "rows");
	assert_string_equal(out[0].run_id, RUN1);
	assert_string_equal(out[0].step, "load");
	assert_string_equal(out[0].type, "int");
	assert_string_equal(out[0].checksum, "0123456789abcdef");
	assert_string_equal(out[1].uri, "/a/blob");
	assert_true(out[1].size == INT64_C(5000000000));
	assert_null(out[1].checksum);
	zenc__arena_free(arena);

	assert_int_equal(
		st->artifacts_get(st, RUN1, "other", &out, &n, &arena), 0);
	assert_int_equal(n, 0);
	zenc__arena_free(arena);
}

static void test_strings_round_trip(void **state)
{
	struct fixture *f = *state;
	zenc__store *st = f->store;
	static const char weird[] = "it's \"quoted\"; DROP TABLE runs; --\n"
				    "line two\ttab \\ back\r\n"
				    "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac "
				    "\xf0\x9f\x9a\x80 %s %n";
	static const char params[] = "{\"msg\":\"a \\\"b\\\"\\n\","
				     "\"u\":\"\xc3\xa9\"}";
	zenc__step_record s = step_rec(RUN1, weird, "failed");
	zenc__attempt_record at = {1, "failed", 1, 2, weird, weird, 3, 0, NULL};
	zenc__hook_record h = {0};
	zenc__run_info info;

	begin_run(f, RUN1, weird, weird, 1);
	s.error_type = weird;
	s.error_message = weird;
	s.params_json = params;
	h.event = "on_failure";
	h.hook = weird;
	h.status = "failed";
	h.error = weird;
	assert_int_equal(st->step_end(st, &s, &at, NULL, 0, &h, 1), 0);

	assert_int_equal(st->run_show(st, weird, &info), 0);
	assert_string_equal(info.rec.name, weird);
	assert_string_equal(info.rec.pipeline, weird);
	assert_string_equal(info.steps[0].rec.name, weird);
	assert_string_equal(info.steps[0].rec.error_message, weird);
	assert_string_equal(info.steps[0].rec.params_json, params);
	assert_string_equal(info.steps[0].attempts[0].error_type, weird);
	assert_int_equal(info.steps[0].attempts[0].exit_code, 3);
	assert_string_equal(info.steps[0].hooks[0].hook, weird);
	assert_string_equal(info.steps[0].hooks[0].error, weird);
	zenc__run_info_free(&info);
	assert_int_equal(query_int(f, "SELECT count(*) FROM runs"), 1);
}

struct writer {
	zenc__store *store;
	int index;
	int failures;
};

static void *write_steps(void *arg)
{
	struct writer *w = arg;
	zenc__attempt_record at = {1,    "completed", 1, 2,   NULL,
				   NULL, 0,           0, NULL};
	zenc__hook_record h = {0};
	zenc__step_record s;
	char name[32];
	int i;

	h.event = "on_success";
	h.hook = "h";
	h.status = "completed";
	for (i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "t%d-s%02d", w->index, i);
		s = step_rec(RUN1, name, "running");
		if (w->store->step_put(w->store, &s) < 0)
			w->failures++;
		s.status = "completed";
		h.seq = w->index * 100 + i;
		if (w->store->step_end(w->store, &s, &at, NULL, 0, &h, 1) < 0)
			w->failures++;
	}
	return NULL;
}

/* The engine may record from several threads through one store. */
static void test_threads(void **state)
{
	struct fixture *f = *state;
	struct writer w[4];
	pthread_t t[4];
	zenc__run_info info;
	size_t i;

	begin_run(f, RUN1, "n", "p", 1);
	for (i = 0; i < 4; i++) {
		w[i].store = f->store;
		w[i].index = (int)i;
		w[i].failures = 0;
		assert_int_equal(
			pthread_create(&t[i], NULL, write_steps, &w[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].failures, 0);
	}
	assert_int_equal(f->store->run_show(f->store, RUN1, &info), 0);
	assert_int_equal(info.n_steps, 200);
	for (i = 0; i < info.n_steps; i++) {
		assert_string_equal(info.steps[i].rec.status, "completed");
		assert_int_equal(info.steps[i].n_attempts, 1);
		assert_int_equal(info.steps[i].n_hooks, 1);
		assert_string_equal(
			info.steps[i].hooks[0].step, info.steps[i].rec.name);
	}
	zenc__run_info_free(&info);
}

static void test_arena(void **state)
{
	zenc__arena *a = zenc__arena_new();
	char *s, *big;
	int i;

	(void)state;
	for (i = 0; i < 10000; i++) {
		s = zenc__arena_strdup(a, "hello");
		assert_string_equal(s, "hello");
		assert_int_equal((uintptr_t)s % sizeof(void *), 0);
	}
	big = zenc__arena_alloc(a, 1 << 20);
	assert_int_equal(big[(1 << 20) - 1], 0);
	memset(big, 1, 1 << 20);
	assert_null(zenc__arena_strdup(a, NULL));
	assert_string_equal(zenc__arena_strndup(a, "abcdef", 3), "abc");
	zenc__arena_free(a);
	zenc__arena_free(NULL);
	zenc__store_free(NULL);
	zenc__run_list_free(NULL);
	zenc__run_info_free(NULL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_open_creates_schema),
		T(test_newer_schema_refused),
		T(test_migrates_outbox_for_courier),
		cmocka_unit_test(test_unknown_flavor),
		T(test_open_failure),
		T(test_run_lifecycle),
		T(test_duplicate_run_fails),
		T(test_step_end_is_atomic),
		T(test_list),
		T(test_list_many),
		T(test_show_lookup),
		T(test_delete),
		T(test_attempt_logs_and_shared_uris),
		T(test_stale_runs),
		T(test_watched_runs),
		T(test_artifacts_get),
		T(test_strings_round_trip),
		T(test_threads),
		cmocka_unit_test(test_arena),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
