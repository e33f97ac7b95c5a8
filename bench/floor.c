/*
 * The floors of the benchmarks: what a step costs with no framework.
 *
 *   floor MODE N [DB]
 *
 * forkexec  N times: fork, exec /bin/true, wait (what make does per step)
 * fork      N times: fork, the child _exit(0)s, wait
 * sqlite    N times: call a trivial function, then one SQLite transaction
 *           inserting two rows (a step row and a hook row) into DB
 *           (WAL, synchronous=NORMAL, prepared statements)
 * fork+sqlite  both: fork+wait, then the transaction (the floor of a C
 *           pipeline under process isolation)
 * sqlite+file, fork+sqlite+file  the same, and the step (the child, with
 *           fork) writes its output as zenc's artifact store does: a folder
 *           per step, a temporary file, rename (DB.art/PID/sI/x)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

static sqlite3 *db;
static sqlite3_stmt *st_begin, *st_commit, *st_step, *st_hook;

__attribute__((noinline)) static long step_fn(long i)
{
	return i * 2 + 1;
}

static void die(const char *what)
{
	fprintf(stderr, "floor: %s: %s\n", what, db ? sqlite3_errmsg(db) : "");
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void db_open(const char *path)
{
	if (sqlite3_open(path, &db) != SQLITE_OK)
		die("open");
	if (sqlite3_exec(
		    db,
		    "PRAGMA journal_mode = WAL;"
		    "PRAGMA synchronous = NORMAL;"
		    "CREATE TABLE IF NOT EXISTS steps (run TEXT, name TEXT,"
		    " status TEXT, started REAL, ended REAL, value INTEGER);"
		    "CREATE TABLE IF NOT EXISTS hooks (run TEXT, step TEXT,"
		    " event TEXT, hook TEXT, status TEXT, started REAL);",
		    NULL, NULL, NULL) != SQLITE_OK)
		die("schema");
	if (sqlite3_prepare_v2(db, "BEGIN", -1, &st_begin, NULL) ||
	    sqlite3_prepare_v2(db, "COMMIT", -1, &st_commit, NULL) ||
	    sqlite3_prepare_v2(
		    db,
		    "INSERT INTO steps VALUES (?1, ?2, 'completed',"
		    " ?3, ?4, ?5)",
		    -1, &st_step, NULL) ||
	    sqlite3_prepare_v2(
		    db,
		    "INSERT INTO hooks VALUES (?1, ?2, 'on_success',"
		    " 'on_ok', 'completed', ?3)",
		    -1, &st_hook, NULL))
		die("prepare");
}

static void record(long i, long v, double t0)
{
	char name[32];
	double t1 = now();

	snprintf(name, sizeof(name), "s%ld", i);
	if (sqlite3_step(st_begin) != SQLITE_DONE)
		die("begin");
	sqlite3_reset(st_begin);
	sqlite3_bind_text(st_step, 1, "run-1", -1, SQLITE_STATIC);
	sqlite3_bind_text(st_step, 2, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(st_step, 3, t0);
	sqlite3_bind_double(st_step, 4, t1);
	sqlite3_bind_int64(st_step, 5, v);
	if (sqlite3_step(st_step) != SQLITE_DONE)
		die("insert step");
	sqlite3_reset(st_step);
	sqlite3_bind_text(st_hook, 1, "run-1", -1, SQLITE_STATIC);
	sqlite3_bind_text(st_hook, 2, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(st_hook, 3, t1);
	if (sqlite3_step(st_hook) != SQLITE_DONE)
		die("insert hook");
	sqlite3_reset(st_hook);
	if (sqlite3_step(st_commit) != SQLITE_DONE)
		die("commit");
	sqlite3_reset(st_commit);
}

static char art_dir[4096];

/* The step's output, as an artifact file: DIR/sI/x via a temporary file. */
static void write_output(long i, long v)
{
	char dir[4200], tmp[4300], path[4300], buf[32];
	int fd, len;

	snprintf(dir, sizeof(dir), "%s/s%ld", art_dir, i);
	snprintf(tmp, sizeof(tmp), "%s/.x.tmp", dir);
	snprintf(path, sizeof(path), "%s/x", dir);
	len = snprintf(buf, sizeof(buf), "%ld", v);
	if (mkdir(dir, 0755) < 0 ||
	    (fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) <
		    0) {
		perror(dir);
		exit(1);
	}
	if (write(fd, buf, (size_t)len) != len || close(fd) < 0 ||
	    rename(tmp, path) < 0) {
		perror(path);
		exit(1);
	}
}

static void fork_wait(int do_exec, long i, long v)
{
	static char *const args[] = {"/bin/true", NULL};
	extern char **environ;
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		if (do_exec)
			execve(args[0], args, environ);
		if (art_dir[0])
			write_output(i, v);
		_exit(do_exec ? 127 : 0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "floor: child failed\n");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	const char *mode;
	long n, i, v = 0;
	int use_db, use_fork, use_exec, use_file;

	if (argc < 3) {
		fprintf(stderr, "usage: floor forkexec|fork|sqlite|fork+sqlite|"
				"sqlite+file|fork+sqlite+file N [DB]\n");
		return 2;
	}
	mode = argv[1];
	n = strtol(argv[2], NULL, 10);
	use_db = strstr(mode, "sqlite") != NULL;
	use_exec = !strcmp(mode, "forkexec");
	use_fork = !strncmp(mode, "fork", 4);
	use_file = strstr(mode, "+file") != NULL;
	if (!use_db && !use_fork) {
		fprintf(stderr, "floor: unknown mode '%s'\n", mode);
		return 2;
	}
	if (use_db) {
		if (argc < 4) {
			fprintf(stderr, "floor: %s needs a DB path\n", mode);
			return 2;
		}
		db_open(argv[3]);
	}
	if (use_file) {
		if (!use_db) {
			fprintf(stderr, "floor: %s needs sqlite\n", mode);
			return 2;
		}
		snprintf(art_dir, sizeof(art_dir), "%s.art", argv[3]);
		mkdir(art_dir, 0755);
		snprintf(
			art_dir, sizeof(art_dir), "%s.art/%ld", argv[3],
			(long)getpid());
		if (mkdir(art_dir, 0755) < 0) {
			perror(art_dir);
			return 1;
		}
	}
	for (i = 0; i < n; i++) {
		double t0 = use_db ? now() : 0;

		if (use_fork)
			fork_wait(use_exec, i, step_fn(v));
		else if (use_file)
			write_output(i, step_fn(v));
		v = step_fn(v);
		if (use_db)
			record(i, v, t0);
	}
	if (db) {
		sqlite3_finalize(st_begin);
		sqlite3_finalize(st_commit);
		sqlite3_finalize(st_step);
		sqlite3_finalize(st_hook);
		sqlite3_close(db);
	}
	return 0;
}
