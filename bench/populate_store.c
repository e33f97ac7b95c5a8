/*
 * Fills a zenc SQLite store with recorded runs, fast: copies one real run
 * (recorded by zenc itself, with its steps, attempts, artifacts and hook
 * runs) COUNT - 1 times in one transaction, each copy with its own id,
 * name and an earlier start time, so the real run stays the newest.
 * Columns are read from the schema, so the copies match whatever schema
 * version zenc created.
 *
 *   populate_store DB TEMPLATE_RUN_ID COUNT
 *
 * Prints the id of the copy in the middle (to `zenc runs show`).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

static sqlite3 *db;

static void die(const char *what)
{
	fprintf(stderr, "populate_store: %s: %s\n", what, sqlite3_errmsg(db));
	exit(1);
}

static void exec(const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		die(sql);
}

/* The id of copy k: an odd multiplier makes k -> 32 bits a bijection, so
 * ids are unique and their prefixes spread like random UUIDs'. */
#define NEW_ID                                                                 \
	"printf('%08x-%04x-4%03x-8%03x-%012x', (seq.k * 2654435761) % "        \
	"4294967296, seq.k % 65536, seq.k % 4096, (seq.k * 7) % 4096, seq.k)"

/* INSERT INTO table SELECT ... FROM table, seq: one copy of the template's
 * rows per k, with `key` (the run id column) renamed. */
static void copy_table(const char *table, const char *key, const char *tid)
{
	char sql[8192], cols[4096] = "", exprs[4096] = "";
	sqlite3_stmt *st;
	char *q;

	snprintf(sql, sizeof(sql), "PRAGMA table_info(%s)", table);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		die("table_info");
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *c = (const char *)sqlite3_column_text(st, 1);
		const char *e = c;
		char buf[256];

		if (!strcmp(c, key))
			e = NEW_ID;
		else if (!strcmp(table, "runs") && !strcmp(c, "name")) {
			snprintf(buf, sizeof(buf), "name || '-copy-' || seq.k");
			e = buf;
		} else if (
			!strcmp(table, "runs") &&
			(!strcmp(c, "started") || !strcmp(c, "ended"))) {
			snprintf(buf, sizeof(buf), "%s - seq.k * 10.0", c);
			e = buf;
		}
		snprintf(
			cols + strlen(cols), sizeof(cols) - strlen(cols),
			"%s\"%s\"", *cols ? ", " : "", c);
		snprintf(
			exprs + strlen(exprs), sizeof(exprs) - strlen(exprs),
			"%s%s", *exprs ? ", " : "", e);
	}
	sqlite3_finalize(st);
	if (!*cols)
		return; /* no such table in this schema */
	q = sqlite3_mprintf(
		"INSERT INTO %s (%s) SELECT %s FROM %s, seq"
		" WHERE %s.%s = %Q",
		table, cols, exprs, table, table, key, tid);
	exec(q);
	sqlite3_free(q);
}

int main(int argc, char **argv)
{
	static const char *const children[] = {
		"step_runs", "step_attempts", "artifacts", "hook_runs", NULL};
	sqlite3_stmt *st;
	long count, i;
	char *q;

	if (argc != 4) {
		fprintf(stderr,
			"usage: populate_store DB TEMPLATE_RUN_ID COUNT\n");
		return 2;
	}
	count = strtol(argv[3], NULL, 10);
	if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK)
		die("open");
	exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
	q = sqlite3_mprintf("SELECT count(*) FROM runs WHERE id = %Q", argv[2]);
	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 0) != 1)
		die("no such template run");
	sqlite3_finalize(st);
	sqlite3_free(q);

	exec("BEGIN");
	exec("CREATE TEMP TABLE seq (k INTEGER PRIMARY KEY)");
	q = sqlite3_mprintf(
		"WITH RECURSIVE c(k) AS (SELECT 1 UNION ALL"
		" SELECT k + 1 FROM c WHERE k < %ld)"
		" INSERT INTO seq SELECT k FROM c",
		count - 1);
	exec(q);
	sqlite3_free(q);
	copy_table("runs", "id", argv[2]);
	for (i = 0; children[i]; i++)
		copy_table(children[i], "run_id", argv[2]);
	exec("COMMIT");

	q = sqlite3_mprintf(
		"SELECT %s FROM seq WHERE k = %ld", NEW_ID, count / 2);
	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		die("middle id");
	printf("%s\n", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_free(q);
	sqlite3_close(db);
	return 0;
}
