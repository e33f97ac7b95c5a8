/*
 * The courier (courier.h): the process that delivers what the outbox
 * still holds, and how it is started.
 *
 * The process that kicks it may have threads (a hook under isolation
 * none runs in the orchestrating process), so between fork() and exec()
 * only async-signal-safe calls are made: everything is prepared first,
 * and the grandchild re-executes this program, whose library constructor
 * below recognises the courier by an environment variable and runs it
 * instead of main().  The lock is the file lock of a descriptor the
 * courier inherits: it holds it until it exits, and a second kick finds
 * it taken.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alerters/alerter.h"
#include "alerters/courier.h"

extern char **environ;

/* The variable that makes a re-executed program the courier:
 * "FLAVOR\x1fLOCATION"; the lock is descriptor LOCK_FD. */
#define ENTRY_VAR "ZENC__COURIER_OF"
#define LOCK_FD 3
/* The longest sleep between two looks at the outbox: alerts that other
 * processes leave pending meanwhile wait no longer than this. */
#define MAX_NAP 2.0
/* A log longer than this is started afresh. */
#define MAX_LOG (1024 * 1024)

static bool disabled(void)
{
	const char *v = getenv("ZENC_COURIER");

	return v && (!strcmp(v, "0") || !strcasecmp(v, "off") ||
		     !strcasecmp(v, "no") || !strcasecmp(v, "false"));
}

static bool is_sqlite(const char *flavor)
{
	return !flavor || !strcmp(flavor, "sqlite");
}

/* 64-bit FNV-1a: names a store's files by its location. */
static unsigned long long fnv1a(const char *s)
{
	unsigned long long h = 0xcbf29ce484222325ull;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

/* The courier's file `ext` ("lock", "log") for the store. */
static char *courier_file(
	const char *flavor, const char *location, const char *ext)
{
	char *dir;

	if (is_sqlite(flavor))
		return zenc__asprintf("%s.courier.%s", location, ext);
	dir = zenc__asprintf("%s/couriers", zenc__config_home());
	if (zenc__mkdir_p(dir, 0700) < 0) {
		free(dir);
		return NULL;
	}
	free(dir);
	return zenc__asprintf(
		"%s/couriers/%s-%016llx.%s", zenc__config_home(), flavor,
		fnv1a(location), ext);
}

/* An environment for the courier: ours with the entry variable set. */
static char **courier_env(const char *flavor, const char *location)
{
	size_t n = 0, i, k = 0;
	char **env;

	while (environ && environ[n])
		n++;
	env = zenc__calloc(n + 2, sizeof(*env));
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], ENTRY_VAR "=", strlen(ENTRY_VAR) + 1))
			env[k++] = environ[i];
	env[k] = zenc__asprintf(
		"%s=%s\x1f%s", ENTRY_VAR, flavor ? flavor : "sqlite", location);
	return env;
}

int zenc__courier_kick(const char *flavor, const char *location)
{
	char *lock = NULL, *log = NULL, **env = NULL;
	char *const argv[] = {(char *)"zenc-courier", NULL};
	pid_t pid;
	int fd = -1, rc = 0, st;

	if (disabled() || !location || !*location)
		return 0;
	if (is_sqlite(flavor) &&
	    (!strcmp(location, ":memory:") || !strncmp(location, "file:", 5)))
		return 0;
	if (!(lock = courier_file(flavor, location, "lock")) ||
	    !(log = courier_file(flavor, location, "log"))) {
		rc = zenc__error_set(
			ZENC_EIO, "cannot make the courier's folder: %s",
			strerror(errno));
		goto done;
	}
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = zenc__error_set(
			ZENC_EIO, "cannot open '%s': %s", lock,
			strerror(errno));
		goto done;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		goto done; /* a courier runs */
	env = courier_env(flavor, location);
	pid = fork();
	if (pid == 0) {
		int nul, out;

		setsid();
		if (fork() != 0)
			_exit(0);
		nul = open("/dev/null", O_RDWR);
		out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (nul >= 0)
			dup2(nul, 0);
		dup2(out >= 0 ? out : nul, 1);
		dup2(out >= 0 ? out : nul, 2);
		if (fd != LOCK_FD)
			dup2(fd, LOCK_FD);
		else
			fcntl(LOCK_FD, F_SETFD, 0);
		/* Nothing of the caller's stays open: a pipe held here
		 * would keep its reader waiting. */
		close_range(LOCK_FD + 1, ~0u, 0);
		execve("/proc/self/exe", argv, env);
		_exit(127);
	}
	if (pid < 0)
		rc = zenc__error_set(
			ZENC_EIO, "cannot start the courier: %s",
			strerror(errno));
	else
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
done:
	/* The courier holds its own copy of the locked descriptor. */
	if (fd >= 0)
		close(fd);
	if (env) {
		size_t i;

		for (i = 0; env[i]; i++)
			if (!strncmp(
				    env[i], ENTRY_VAR "=",
				    strlen(ENTRY_VAR) + 1))
				free(env[i]);
		free(env);
	}
	free(lock);
	free(log);
	return rc;
}

void zenc__courier_check(
	zenc__store *st, const char *flavor, const char *location)
{
	size_t pending = 0;
	double next = 0;

	if (!st || st->version < 4 || !st->alerts_wake || disabled())
		return;
	if (st->alerts_wake(st, &pending, &next) < 0 || !pending)
		return;
	if (zenc__courier_kick(flavor, location) < 0)
		zenc__debug("no courier: %s", zenc_error_last());
}

/* True when the SQLite database is no longer there (its folder was
 * removed): the courier then has nothing left to deliver. */
static bool store_gone(const char *flavor, const char *location)
{
	struct stat sb;

	return is_sqlite(flavor) && stat(location, &sb) < 0 && errno == ENOENT;
}

int zenc__courier_main(const char *flavor, const char *location)
{
	zenc__store *st = NULL;
	size_t d, p, f, pending;
	double next, nap;
	struct stat sb;
	int errors = 0;

	signal(SIGPIPE, SIG_IGN);
	if (fstat(2, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > MAX_LOG)
		if (ftruncate(2, 0) < 0)
			zenc__debug("cannot shorten the courier's log");
	zenc__info("courier %d started", (int)getpid());
	if (zenc__store_open(&st, flavor, location) < 0) {
		zenc__warn("courier: %s", zenc_error_last());
		return 1;
	}
	while (!store_gone(flavor, location)) {
		if (zenc__alerts_courier_pass(st, &d, &p, &f) < 0 ||
		    st->alerts_wake(st, &pending, &next) < 0) {
			zenc__warn("courier: %s", zenc_error_last());
			/* A store that keeps failing is given a minute. */
			if (++errors > 30)
				break;
			zenc__sleep(MAX_NAP);
			continue;
		}
		errors = 0;
		if (!pending)
			break;
		nap = next - zenc__now();
		if (nap > MAX_NAP)
			nap = MAX_NAP;
		if (nap < 0.05)
			nap = 0.05;
		zenc__sleep(nap);
	}
	zenc__info("courier %d done", (int)getpid());
	zenc__store_free(st);
	return 0;
}

/* The courier's log: one line per event, with the time. */
static void log_line(zenc_log_level level, const char *message, void *payload)
{
	zenc_buf t = ZENC_BUF_INIT;

	(void)payload;
	zenc__time_iso(&t, zenc__now());
	fprintf(stderr, "%s courier[%d] %s%s\n", zenc_buf_cstr(&t),
		(int)getpid(), level >= ZENC_LOG_WARN ? "warning: " : "",
		message);
	fflush(stderr);
	zenc_buf_release(&t);
}

/*
 * The entry of a re-executed program that is to be the courier: before
 * main(), so that any program linked with zenc can be one.
 */
__attribute__((constructor)) static void courier_entry(void)
{
	const char *v = getenv(ENTRY_VAR);
	char *flavor, *location;
	int rc;

	if (!v || !(location = strchr(v, '\x1f')))
		return;
	flavor = zenc__strndup(v, (size_t)(location - v));
	location = zenc__strdup(location + 1);
	unsetenv(ENTRY_VAR);
	prctl(PR_SET_NAME, "zenc-courier", 0, 0, 0);
	zenc_log_set(ZENC_LOG_INFO, log_line, NULL);
	rc = zenc__courier_main(flavor, location);
	free(flavor);
	free(location);
	_exit(rc);
}
