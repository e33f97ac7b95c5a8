/*
 * The watcher of a run: a process that outlives the orchestrating one.
 *
 * - When a run placed on this machine begins, the orchestrating process
 *   records in the store what the watcher will need (the failure hooks of
 *   every step and of the run, as the program registered them: command
 *   lines, the names of the standard alerter hooks and of C functions,
 *   and the stack's name; never a resolved secret), then starts the
 *   watcher: this same program, executed afresh (so that it shares no
 *   store connection or lock with its parent), in a session of its own
 *   (a Ctrl-C or a hang-up of the terminal does not reach it), told by
 *   ZENC__WATCH_* variables, which a constructor of the library reads
 *   before the program's main() runs.
 * - The orchestrating process holds the only copy of one end of a
 *   socket pair (used as a pipe) whose other end the watcher holds
 *   (close-on-exec, and closed in every process forked for steps).  The run's
 * normal end writes one byte and closes it: the watcher exits.  End of file
 * without that byte, or the process's pidfd becoming readable, means the
 * orchestrating process died: the watcher then (1) kills every process whose
 * environment holds the run's ZENC_RUN_ID (every step and hook command, and
 * what they started; forked C steps die with their parent), (2) marks the run
 * and its running steps failed, error type OrchestratorDied, (3) runs each such
 * step's on_failure and on_end hooks, then the run's on_run_failure hooks, of
 * the kinds that can run without the program (commands and the standard alerter
 * hooks; C functions are recorded as skipped), records them, and exits.
 * - When the watcher died too (the machine went down), the next zenc
 *   command that opens the store (the stale-run sweep, store_sql.c) calls
 *   zenc__watcher_late(): it stops what is left of the run and sends the
 *   run's alerts marked late; commands are not run late.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "engine/exec.h"
#include "engine/watcher.h"
#include "alerters/alerter.h"

extern char **environ;

#define ENV_FD "ZENC__WATCH_FD"
#define ENV_PID "ZENC__WATCH_PID"
#define ENV_RUN "ZENC__WATCH_RUN"
#define ENV_STACK "ZENC__WATCH_STACK"

/* The watcher reads the orchestrating process's notes at most this often
 * (milliseconds). */
#define NOTES_PACE_MS 20

/* The byte that says the run ended normally. */
#define END_BYTE 'e'

/* The run this process orchestrates now, and its watcher. */
static int watch_fd = -1;
/* Notes not sent yet (zenc__watcher_note()). */
static zenc_buf notes = ZENC_BUF_INIT;
static pid_t watch_pid;
static char watch_run[37];
static char *saved_run_id; /* ZENC_RUN_ID before the run, or NULL */
static int had_run_id, set_run_id;

/* ---- the record of what the watcher needs */

static json_t *hook_json(const zenc__hook *h)
{
	const char *name = h->h.name ? h->h.name : "";
	json_t *o = json_object();
	size_t i;

	if (h->h.kind == ZENC_HOOK_COMMAND) {
		json_object_set_new(o, "kind", json_string("command"));
		if (h->command) {
			json_object_set_new(
				o, "command", zenc__json_str(h->command));
		} else if (h->argv) {
			json_t *av = json_array();
			for (i = 0; h->argv[i]; i++)
				json_array_append_new(
					av, zenc__json_str(h->argv[i]));
			json_object_set_new(o, "argv", av);
		}
		if (h->dir)
			json_object_set_new(o, "dir", zenc__json_str(h->dir));
	} else if (
		h->h.fn == (zenc_hook_void_fn)zenc_alerter_failure_hook ||
		h->h.fn == (zenc_hook_void_fn)zenc_alerter_success_hook) {
		json_object_set_new(o, "kind", json_string("alerter"));
	} else {
		json_object_set_new(o, "kind", json_string("function"));
	}
	json_object_set_new(o, "name", zenc__json_str(name));
	if (h->h.timeout > 0)
		json_object_set_new(o, "timeout", json_real(h->h.timeout));
	return o;
}

static json_t *list_json(const zenc__hook_list *l)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < l->n; i++)
		json_array_append_new(a, hook_json(&l->items[i]));
	return a;
}

/*
 * {"stack": NAME, "hook_timeout": S,
 *  "defaults": {"on_failure": [HOOK...], "on_end": [...]},
 *  "steps": {STEP: {"on_failure": [...], "on_end": [...],
 *            "hook_timeout": S}},
 *  "on_run_failure": [...], "on_run_end": [...]}
 * A step is listed only where it differs from the defaults.
 */
static char *spec_json(const zenc__exec *x)
{
	static const zenc__event evs[] = {ZENC__ON_FAILURE, ZENC__ON_END};
	const zenc_pipeline *p = x->p;
	json_t *o = json_object(), *defaults = json_object();
	json_t *steps = json_object();
	double ht = p->hook_timeout > 0 ? p->hook_timeout
					: ZENC__DEFAULT_HOOK_TIMEOUT;
	zenc_buf b = ZENC_BUF_INIT;
	size_t i, e;

	json_object_set_new(
		o, "stack", zenc__json_str(zenc_stack_name(x->stack)));
	json_object_set_new(o, "hook_timeout", json_real(ht));
	for (e = 0; e < 2; e++)
		json_object_set_new(
			defaults, zenc__event_name(evs[e]),
			list_json(&p->hooks[evs[e]]));
	json_object_set_new(o, "defaults", defaults);
	for (i = 0; i < p->n_steps; i++) {
		const zenc__stepstate *ss = &x->steps[i];
		json_t *s = NULL;
		for (e = 0; e < 2; e++) {
			const zenc__hook_list *l =
				zenc__step_hooks(ss->step, evs[e]);
			if (l == &p->hooks[evs[e]])
				continue;
			if (!s)
				s = json_object();
			json_object_set_new(
				s, zenc__event_name(evs[e]), list_json(l));
		}
		if (ss->hook_timeout != ht) {
			if (!s)
				s = json_object();
			json_object_set_new(
				s, "hook_timeout", json_real(ss->hook_timeout));
		}
		if (s)
			json_object_set_new(steps, ss->step->name, s);
	}
	json_object_set_new(o, "steps", steps);
	json_object_set_new(
		o, "on_run_failure",
		list_json(&p->hooks[ZENC__ON_RUN_FAILURE]));
	/* Then the run's end hooks (envhooks.c); never on_cleanup: what
	 * on_init set up is gone with the process, and a cleanup command
	 * without its state could do harm. */
	json_object_set_new(
		o, "on_run_end", list_json(&p->hooks[ZENC__ON_RUN_END]));
	zenc__json_dump(&b, o);
	json_decref(o);
	return zenc_buf_detach(&b);
}

/* ---- starting and ending, in the orchestrating process */

/* The program to execute as the watcher: this one. */
static char *self_exe(void)
{
	char path[4096];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);

	if (n <= 0)
		return zenc__strdup("/proc/self/exe");
	path[n] = '\0';
	/* Replaced or removed since it started: the kernel still has it. */
	if (access(path, X_OK) < 0)
		return zenc__strdup("/proc/self/exe");
	return zenc__strdup(path);
}

static pid_t spawn_watcher(const zenc__exec *x, int rfd)
{
	char *const argv[] = {"zenc-watcher", NULL};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, defaults;
	char **envp;
	char *exe = self_exe(), *vars[4];
	size_t n = 0, i, j;
	pid_t pid = -1;
	int rc;

	vars[0] = zenc__asprintf("%s=%d", ENV_FD, 3);
	vars[1] = zenc__asprintf("%s=%ld", ENV_PID, (long)getpid());
	vars[2] = zenc__asprintf("%s=%s", ENV_RUN, x->run->id);
	vars[3] = zenc__asprintf("%s=%s", ENV_STACK, zenc_stack_name(x->stack));
	while (environ && environ[n])
		n++;
	envp = zenc__calloc(n + 5, sizeof(*envp));
	for (i = 0, j = 0; i < n; i++)
		if (strncmp(environ[i], "ZENC__WATCH_", 12))
			envp[j++] = environ[i];
	for (i = 0; i < 4; i++)
		envp[j++] = vars[i];
	envp[j] = NULL;

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	/* The pipe first: it may be fd 0 or 1 when those were closed. */
	posix_spawn_file_actions_adddup2(&fa, rfd, 3);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
	posix_spawn_file_actions_addclosefrom_np(&fa, 4);
#endif
	sigemptyset(&none);
	sigemptyset(&defaults);
	sigaddset(&defaults, SIGPIPE);
	sigaddset(&defaults, SIGINT);
	sigaddset(&defaults, SIGTERM);
	sigaddset(&defaults, SIGCHLD);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &defaults);
	posix_spawnattr_setflags(
		&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
			       POSIX_SPAWN_SETSID);
	fflush(NULL);
	rc = posix_spawn(&pid, exe, &fa, &attr, argv, envp);
	if (rc != 0) {
		zenc__warn(
			"no watcher for run %s: cannot run '%s': %s",
			x->run->id, exe, strerror(rc));
		pid = -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	for (i = 0; i < 4; i++)
		free(vars[i]);
	free(envp);
	free(exe);
	return pid;
}

/* Watchers of runs that ended, not reaped yet. */
static pid_t *unreaped;
static size_t n_unreaped, cap_unreaped;

static void reap_watchers(void)
{
	size_t i = 0;

	while (i < n_unreaped) {
		pid_t r = waitpid(unreaped[i], NULL, WNOHANG);
		if (r == 0) {
			i++;
			continue;
		}
		unreaped[i] = unreaped[--n_unreaped];
	}
}

void zenc__watcher_start(zenc__exec *x)
{
	const char *old = getenv("ZENC_RUN_ID");
	char *spec;
	int fds[2];
	pid_t pid;

	reap_watchers();
	if (watch_fd >= 0 || getenv("ZENC_NO_WATCHER") || !x->store->watch_put)
		goto env;
	/* A socket rather than a pipe: the end byte is sent with
	 * MSG_NOSIGNAL, so a watcher that died early costs no SIGPIPE. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) {
		zenc__warn(
			"no watcher for run %s: cannot create a socket pair: "
			"%s",
			x->run->id, strerror(errno));
		goto env;
	}
	pid = spawn_watcher(x, fds[0]);
	close(fds[0]);
	if (pid < 0) {
		close(fds[1]);
		goto env;
	}
	watch_fd = fds[1];
	watch_pid = pid;
	memcpy(watch_run, x->run->id, sizeof(watch_run));
	spec = spec_json(x);
	if (x->store->watch_put(x->store, x->run->id, (long)pid, spec) < 0)
		zenc__warn(
			"could not record the watcher of run %s: %s",
			x->run->id, zenc_error_last());
	free(spec);
env:
	/* Every process of the run, whatever it starts, carries the run's
	 * id: that is how the watcher finds them. */
	had_run_id = old != NULL;
	free(saved_run_id);
	saved_run_id = old ? zenc__strdup(old) : NULL;
	set_run_id = 1;
	setenv("ZENC_RUN_ID", x->run->id, 1);
}

/* Says what `notes` holds to the watcher, and empties it. */
static void notes_send(void)
{
	size_t off = 0;
	ssize_t w;

	/* Never waits: the watcher reads as it goes; a full socket (a
	 * watcher that stopped reading) only loses what it cannot say. */
	while (watch_fd >= 0 && off < notes.len) {
		w =
			send(watch_fd, notes.ptr + off, notes.len - off,
			     MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	zenc_buf_clear(&notes);
}

void zenc__watcher_end(zenc__exec *x)
{
	char b = END_BYTE;

	if (set_run_id && had_run_id)
		setenv("ZENC_RUN_ID", saved_run_id, 1);
	else if (set_run_id)
		unsetenv("ZENC_RUN_ID");
	free(saved_run_id);
	saved_run_id = NULL;
	had_run_id = set_run_id = 0;
	if (watch_fd < 0 || strcmp(watch_run, x->run->id))
		return;
	notes_send();
	zenc_buf_release(&notes);
	while (send(watch_fd, &b, 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
	       errno == EINTR)
		;
	close(watch_fd);
	watch_fd = -1;
	/* It exits at once; a run does not wait for that (it may still be
	 * starting): it is reaped now if it is gone, else later. */
	zenc__array_grow(
		(void **)&unreaped, &cap_unreaped, n_unreaped + 1,
		sizeof(*unreaped));
	unreaped[n_unreaped++] = watch_pid;
	watch_pid = 0;
	reap_watchers();
}

/*
 * A step that starts is said at once: should this process die, the
 * watcher settles it even when it has no row yet.  A step whose end is
 * recorded waits for the next start (or the end of the run), so that
 * the watcher wakes once per step, not twice: until then the watcher
 * counts it as running, which changes nothing, since the watcher settles
 * only a step whose row says running or that has no row.
 */
void zenc__watcher_note(int started, const char *step)
{
	if (watch_fd < 0 || !step)
		return;
	zenc_buf_putc(&notes, started ? 'S' : 'E');
	zenc_buf_put(&notes, step, strlen(step));
	zenc_buf_putc(&notes, '\n');
	if (started)
		notes_send();
}

void zenc__watcher_forget(void)
{
	/* Nothing written when there is nothing to forget: in a step's
	 * process, a page written is a page copied. */
	if (watch_fd < 0)
		return;
	close(watch_fd);
	watch_fd = -1;
	notes.len = 0;
}

/* ---- the watcher process */

static int pidfd_open_compat(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

/* The signal that killed process `pid`, from its zombie's exit code in
 * /proc (while its parent has not reaped it yet), or 0. */
static int death_signal(pid_t pid)
{
	char path[64];
	zenc_buf b = ZENC_BUF_INIT;
	const char *p;
	int field = 3, sig = 0;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if (zenc__read_file(&b, path) < 0 || !(p = strrchr(b.ptr, ')')))
		goto done;
	p++;
	while (*p == ' ')
		p++;
	if (*p != 'Z')
		goto done;
	/* Field 52, exit_code: a wait status. */
	while (*p && field < 52) {
		if (*p++ == ' ')
			field++;
	}
	if (field == 52) {
		int status = atoi(p);
		if (WIFSIGNALED(status))
			sig = WTERMSIG(status);
	}
done:
	zenc_buf_release(&b);
	return sig;
}

/* The steps the orchestrating process said were running (started and
 * not yet recorded as ended), in the order they started. */
typedef struct running_set {
	char **names;
	size_t n, cap;
	zenc_buf line; /* a line not complete yet */
} running_set;

static void running_note(running_set *rs, const char *line, size_t len)
{
	size_t i;

	if (len < 2)
		return;
	if (line[0] == 'S') {
		zenc__array_grow(
			(void **)&rs->names, &rs->cap, rs->n + 1,
			sizeof(*rs->names));
		rs->names[rs->n++] = zenc__strndup(line + 1, len - 1);
		return;
	}
	for (i = 0; line[0] == 'E' && i < rs->n; i++) {
		if (strlen(rs->names[i]) != len - 1 ||
		    memcmp(rs->names[i], line + 1, len - 1))
			continue;
		free(rs->names[i]);
		memmove(&rs->names[i], &rs->names[i + 1],
			(rs->n - i - 1) * sizeof(*rs->names));
		rs->n--;
		return;
	}
}

static void running_release(running_set *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		free(rs->names[i]);
	free(rs->names);
	zenc_buf_release(&rs->line);
}

/* Reads what the orchestrating process sent: 1 when it said the run
 * ended, 0 when it said nothing more yet, -1 at end of file (or an
 * error) without that. */
static int read_notes(int fd, running_set *rs)
{
	char buf[4096];
	ssize_t r, i;

	for (;;) {
		r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (r <= 0)
			return -1;
		for (i = 0; i < r; i++) {
			if (buf[i] == END_BYTE && !rs->line.len)
				return 1;
			if (buf[i] != '\n') {
				zenc_buf_putc(&rs->line, buf[i]);
				continue;
			}
			running_note(rs, rs->line.ptr, rs->line.len);
			zenc_buf_clear(&rs->line);
		}
		/* A short read emptied the socket: no read to learn that. */
		if ((size_t)r < sizeof(buf))
			return 0;
	}
}

/* Waits for the run to end or its orchestrating process to die: 1 when
 * it died.  Keeps `rs`, the steps it said were running. */
static int wait_for_end(int fd, int pfd, running_set *rs)
{
	const struct timespec pace = {0, NOTES_PACE_MS * 1000000L};
	struct pollfd p[2];
	int r;

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	for (;;) {
		p[0].fd = fd;
		p[0].events = POLLIN;
		p[0].revents = 0;
		p[1].fd = pfd;
		p[1].events = POLLIN;
		p[1].revents = 0;
		if (poll(p, pfd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (p[0].revents) {
			if ((r = read_notes(fd, rs)) != 0)
				return r < 0;
			/* The notes that come meanwhile are read at once
			 * after: the watcher wakes at most once per
			 * NOTES_PACE_MS, not for each step, and learns of an
			 * end or a death that much later at most. */
			nanosleep(&pace, NULL);
			continue;
		}
		if (p[1].revents) {
			/* Gone, though a process it forked may still hold
			 * the socket: what it already sent still counts. */
			return read_notes(fd, rs) != 1;
		}
	}
}

static int watch_main(int fd, pid_t orch, const char *run_id, const char *stk)
{
	zenc_stack *stack = NULL;
	zenc__store *store = NULL;
	char *spec = NULL, *message;
	running_set rs = {NULL, 0, 0, ZENC_BUF_INIT};
	long wpid = 0;
	size_t killed;
	int sig, pfd;

	signal(SIGHUP, SIG_IGN);
	pfd = pidfd_open_compat(orch);
	if (!wait_for_end(fd, pfd, &rs)) {
		running_release(&rs);
		return 0;
	}
	close(fd);
	/* The pipe closes before the process is a zombie, whose exit code
	 * tells the signal: its pidfd says when it is one. */
	if (pfd >= 0) {
		struct pollfd p = {pfd, POLLIN, 0};
		poll(&p, 1, 200);
		close(pfd);
	}
	/* First what matters within seconds: nothing of the run runs on. */
	sig = death_signal(orch);
	killed = zenc__watcher_kill_run(run_id, 3.0);
	if (zenc__stack_load(&stack, stk) < 0 ||
	    zenc__store_open(
		    &store, zenc__stack_store_flavor(stack),
		    zenc__stack_store_location(stack)) < 0) {
		zenc__warn(
			"run %s: the orchestrating process died, and the "
			"store cannot be opened: %s",
			run_id, zenc_error_last());
		zenc__stack_free(stack);
		running_release(&rs);
		return 1;
	}
	if (store->watch_get &&
	    store->watch_get(store, run_id, &wpid, &spec) < 0)
		spec = NULL;
	if (sig)
		message = zenc__asprintf(
			"the orchestrating process died (killed by SIG%s)",
			sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
	else
		message = zenc__strdup("the orchestrating process died");
	zenc__debug(
		"run %s: orchestrating process %ld gone; %zu processes killed",
		run_id, (long)orch, killed);
	zenc__watcher_settle(
		store, run_id, spec, "OrchestratorDied", message, sig, 0,
		rs.names, rs.n);
	running_release(&rs);
	free(message);
	free(spec);
	zenc__store_free(store);
	zenc__stack_free(stack);
	return 0;
}

/* The watcher keeps the standard error of the run: what it did shows
 * where the run's own messages went. */
static void log_stderr(zenc_log_level level, const char *msg, void *payload)
{
	(void)level;
	(void)payload;
	fprintf(stderr, "zenc-watcher: %s\n", msg);
}

/* Runs before main() in every program linked with the library: the
 * watcher is that program, executed with ZENC__WATCH_* set. */
__attribute__((constructor)) static void watcher_entry(void)
{
	const char *fd = getenv(ENV_FD), *pid, *run, *stk;
	char run_id[37], *stack;
	int rc, in;

	if (!fd)
		return;
	pid = getenv(ENV_PID);
	run = getenv(ENV_RUN);
	stk = getenv(ENV_STACK);
	if (!pid || !run || strlen(run) != 36 || !stk)
		_exit(2);
	memcpy(run_id, run, sizeof(run_id));
	stack = zenc__strdup(stk);
	/* Not for the commands it runs (one may be a zenc program). */
	unsetenv(ENV_FD);
	unsetenv(ENV_PID);
	unsetenv(ENV_RUN);
	unsetenv(ENV_STACK);
	prctl(PR_SET_NAME, "zenc-watcher");
	zenc_log_set(ZENC_LOG_INFO, log_stderr, NULL);
	in = atoi(fd);
	rc = watch_main(in, (pid_t)atol(pid), run_id, stack);
	free(stack);
	_exit(rc);
}
