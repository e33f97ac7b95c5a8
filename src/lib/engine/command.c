/*
 * Running commands: hooks and steps that are programs.  A command gets its
 * own process group, so that a deadline kills everything it started, and
 * dies with the process that started it (PR_SET_PDEATHSIG).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/exec.h"
#include "orchestrators/orchestrator.h"

extern char **environ;

void zenc__describe_status(zenc_buf *b, int wstatus)
{
	if (WIFSIGNALED(wstatus)) {
		int sig = WTERMSIG(wstatus);
		const char *abbrev = sigabbrev_np(sig);
		if (abbrev)
			zenc_buf_printf(b, "killed by SIG%s", abbrev);
		else
			zenc_buf_printf(b, "killed by signal %d", sig);
	} else if (WIFEXITED(wstatus)) {
		zenc_buf_printf(b, "exited with code %d", WEXITSTATUS(wstatus));
	} else {
		zenc_buf_printf(b, "ended with status %d", wstatus);
	}
}

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

/* Waits for `pid` until `timeout` seconds have passed (0: for ever).
 * Returns 1 when it ended (status in *wstatus), 0 on timeout. */
static int wait_deadline(pid_t pid, double timeout, int *wstatus)
{
	double end = timeout > 0 ? zenc__monotonic() + timeout : 0;
	int pfd = timeout > 0 ? pidfd_open_compat(pid) : -1;
	double nap = 0.0001;
	/* An interrupt that comes while the command runs (SIGINT/SIGTERM to
	 * the orchestrator, which waits here under isolation none or in a
	 * thread) stops it too; commands started after it, such as the
	 * failure hooks of the interrupted step, run as usual. */
	int stopped = zenc__interrupted != 0;
	pid_t r;

	for (;;) {
		if (zenc__interrupted && !stopped) {
			kill(-pid, SIGTERM);
			kill(pid, SIGTERM);
			stopped = 1;
		}
		r = waitpid(pid, wstatus, timeout > 0 ? WNOHANG : 0);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			*wstatus = 0;
			break;
		}
		if (r == 0) {
			double left = end - zenc__monotonic();
			if (left <= 0) {
				if (pfd >= 0)
					close(pfd);
				return 0;
			}
			if (pfd >= 0) {
				struct pollfd p = {pfd, POLLIN, 0};
				int ms = (int)(left * 1000) + 1;
				/* Wake now and then to notice an interrupt. */
				poll(&p, 1, ms < 200 ? ms : 200);
			} else {
				zenc__sleep(nap < left ? nap : left);
				if (nap < 0.01)
					nap *= 2;
			}
		}
	}
	if (pfd >= 0)
		close(pfd);
	return 1;
}

/* The environment of a command: ours, with `add` ("NAME=value") replacing
 * or extending it.  The array is the caller's to free; its strings are
 * borrowed. */
/* The process groups of the commands running now, so that an interrupted
 * run can stop those that threads of the orchestrator started (a forked
 * step's commands go with its process group). */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t *live_groups;
static size_t n_live_groups, cap_live_groups;
static pthread_once_t live_once = PTHREAD_ONCE_INIT;

/* A fork while a thread holds the lock (the orchestrator of a threaded
 * run forks when its zygote is gone) would leave it held in the child:
 * the fork waits for it, and the child starts with its own empty list,
 * the groups of the other steps being none of its business. */
static void live_prepare(void)
{
	pthread_mutex_lock(&live_lock);
}

static void live_parent(void)
{
	pthread_mutex_unlock(&live_lock);
}

static void live_child(void)
{
	pthread_mutex_unlock(&live_lock);
	n_live_groups = 0;
}

static void live_register(void)
{
	pthread_atfork(live_prepare, live_parent, live_child);
}

static void live_add(pid_t pid)
{
	pthread_once(&live_once, live_register);
	pthread_mutex_lock(&live_lock);
	zenc__array_grow(
		(void **)&live_groups, &cap_live_groups, n_live_groups + 1,
		sizeof(*live_groups));
	live_groups[n_live_groups++] = pid;
	pthread_mutex_unlock(&live_lock);
}

static void live_remove(pid_t pid)
{
	size_t i;

	pthread_mutex_lock(&live_lock);
	for (i = 0; i < n_live_groups; i++) {
		if (live_groups[i] == pid) {
			live_groups[i] = live_groups[--n_live_groups];
			break;
		}
	}
	pthread_mutex_unlock(&live_lock);
}

void zenc__commands_signal(int sig)
{
	size_t i;

	pthread_mutex_lock(&live_lock);
	for (i = 0; i < n_live_groups; i++)
		kill(-live_groups[i], sig);
	pthread_mutex_unlock(&live_lock);
}

static size_t env_name_len(const char *s)
{
	const char *eq = strchr(s, '=');
	return eq ? (size_t)(eq - s) : strlen(s);
}

static size_t env_hash(const char *s, size_t len)
{
	size_t h = 5381, i;

	for (i = 0; i < len; i++)
		h = h * 33 + (unsigned char)s[i];
	return h;
}

static char **merged_env(char *const *add)
{
	size_t n = 0, n_add = 0, n_slots = 16, i, j;
	const char **slots;
	char **out;

	while (environ && environ[n])
		n++;
	while (add && add[n_add])
		n_add++;
	/* The added names in a small hash set, so that merging costs
	 * O(environ + added), not their product, for every command. */
	while (n_slots < 2 * n_add)
		n_slots *= 2;
	slots = zenc__calloc(n_slots, sizeof(*slots));
	for (i = 0; i < n_add; i++) {
		size_t len = env_name_len(add[i]);
		size_t h = env_hash(add[i], len) & (n_slots - 1);
		while (slots[h])
			h = (h + 1) & (n_slots - 1);
		slots[h] = add[i];
	}
	out = zenc__calloc(n + n_add + 1, sizeof(char *));
	for (i = 0, j = 0; i < n; i++) {
		size_t len = env_name_len(environ[i]);
		size_t h = env_hash(environ[i], len) & (n_slots - 1);
		int replaced = 0;
		for (; slots[h]; h = (h + 1) & (n_slots - 1)) {
			if (!strncmp(slots[h], environ[i], len) &&
			    slots[h][len] == '=') {
				replaced = 1;
				break;
			}
		}
		if (!replaced)
			out[j++] = environ[i];
	}
	for (i = 0; i < n_add; i++)
		out[j++] = add[i];
	out[j] = NULL;
	free(slots);
	return out;
}

/* The kernel's struct sigaction, for rt_sigaction(2) called directly. */
struct kernel_sigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	unsigned long mask;
};

/*
 * Starts `av` (searched in PATH) with `envp`, standard input from
 * `in_fd`, output and errors to `out_fd` (or inherited when -1), in
 * `dir`, in a process group of its own with `own_group`, and with
 * PR_SET_PDEATHSIG: a command never outlives the process (the thread)
 * that started it, its supervisor.  vfork() costs far less than fork()
 * of a big process; between it and exec the child shares the parent's
 * memory, so it only makes system calls (signal handlers through the
 * kernel directly, past any library that tracks them), with every signal
 * blocked until its handlers are back to their defaults.  Returns 0 with *pid,
 * or the errno of what failed (exec included).
 */
static int spawn_command(
	pid_t *pid,
	char *const *av,
	char *const *envp,
	int in_fd,
	int out_fd,
	const char *dir,
	int own_group)
{
	volatile int child_err = 0;
	pid_t parent = getpid(), p;
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	p = vfork();
	if (p == 0) {
		struct kernel_sigaction k;
		unsigned long none = 0;
		int sig;

		for (sig = 1; sig <= 64; sig++) {
			if (sig == SIGKILL || sig == SIGSTOP ||
			    syscall(SYS_rt_sigaction, sig, NULL, &k, 8) < 0)
				continue;
			if (k.handler == SIG_DFL ||
			    (k.handler == SIG_IGN && sig != SIGPIPE &&
			     sig != SIGINT && sig != SIGTERM))
				continue;
			memset(&k, 0, sizeof(k));
			k.handler = SIG_DFL;
			syscall(SYS_rt_sigaction, sig, &k, NULL, 8);
		}
		syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (getppid() != parent)
			_exit(127);
		if (own_group)
			setpgid(0, 0);
		if (dup2(in_fd, 0) < 0 ||
		    (out_fd >= 0 &&
		     (dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)))
			goto fail;
		/* dup2() onto itself keeps close-on-exec. */
		fcntl(0, F_SETFD, 0);
		if (out_fd >= 0) {
			fcntl(1, F_SETFD, 0);
			fcntl(2, F_SETFD, 0);
		}
		if (dir && chdir(dir) < 0)
			goto fail;
		syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, 8);
		execvpe(av[0], av, envp);
	fail:
		child_err = errno ? errno : ENOEXEC;
		_exit(127);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (p < 0)
		return errno;
	if (child_err) {
		while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
			;
		return child_err;
	}
	*pid = p;
	return 0;
}

int zenc__command_run(
	const char *shell,
	char *const *argv,
	char *const *env,
	const char *input,
	size_t input_len,
	const char *dir,
	int out_fd,
	double timeout,
	int own_group,
	int *wstatus,
	int *timed_out,
	zenc_buf *err)
{
	char *const sh_argv[] = {"/bin/sh", "-c", (char *)shell, NULL};
	char *const *av = shell ? sh_argv : argv;
	int sv[2] = {-1, -1};
	char **envp = NULL;
	pid_t pid;
	ssize_t r;
	int rc;

	*timed_out = 0;
	*wstatus = 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		zenc_buf_printf(
			err, "cannot create a socket pair: %s",
			strerror(errno));
		return -1;
	}
	envp = merged_env(env);
	fflush(NULL);
	rc = spawn_command(&pid, av, envp, sv[1], out_fd, dir, own_group);
	free(envp);
	close(sv[1]);
	if (rc != 0) {
		zenc_buf_printf(
			err, "cannot run '%s'%s%s: %s",
			shell ? "/bin/sh" : av[0], dir ? " in " : "",
			dir ? dir : "", strerror(rc));
		close(sv[0]);
		return -1;
	}
	if (own_group)
		live_add(pid);
	/* The context goes on standard input; a command that does not read
	 * it must not block or kill us (MSG_NOSIGNAL, and the socket buffer
	 * holds far more than a context). */
	while (input_len > 0) {
		r = send(sv[0], input, input_len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r <= 0)
			break;
		input += r;
		input_len -= (size_t)r;
	}
	shutdown(sv[0], SHUT_WR);
	close(sv[0]);
	if (!wait_deadline(pid, timeout, wstatus)) {
		*timed_out = 1;
		if (own_group)
			kill(-pid, SIGTERM);
		kill(pid, SIGTERM);
		if (!wait_deadline(pid, 1.0, wstatus)) {
			if (own_group)
				kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, wstatus, 0);
		}
	}
	/* Whatever the command left behind in its group goes with it. */
	if (own_group) {
		live_remove(pid);
		kill(-pid, SIGKILL);
	}
	return 0;
}

static void add_env(
	char ***env,
	size_t *n,
	size_t *cap,
	const char *name,
	const char *value)
{
	zenc__array_grow((void **)env, cap, *n + 2, sizeof(char *));
	(*env)[(*n)++] = zenc__asprintf("%s=%s", name, value ? value : "");
	(*env)[*n] = NULL;
}

void zenc__hook_context(
	zenc_buf *json,
	char ***env,
	size_t *n_env,
	const zenc__exec *x,
	const zenc__stepstate *ss,
	zenc__event ev,
	int attempt,
	const zenc__failure *err)
{
	zenc__status st;
	const char *status;
	size_t cap = 0;
	char num[32];

	*env = NULL;
	*n_env = 0;
	if (ev == ZENC__ON_SUCCESS || ev == ZENC__ON_RUN_SUCCESS)
		st = ZENC__STATUS_COMPLETED;
	else if (ev == ZENC__ON_FAILURE || ev == ZENC__ON_RUN_FAILURE)
		st = ZENC__STATUS_FAILED;
	else if (ev == ZENC__ON_RETRY)
		st = ZENC__STATUS_RETRYING;
	else if (ev == ZENC__ON_RUN_END)
		st = x->run->cancelled ? ZENC__STATUS_CANCELLED
		     : x->run->failed  ? ZENC__STATUS_FAILED
				       : ZENC__STATUS_COMPLETED;
	else if (ev == ZENC__ON_END)
		st = err && err->type ? ZENC__STATUS_FAILED
				      : ZENC__STATUS_COMPLETED;
	else
		st = ZENC__STATUS_RUNNING;
	status = zenc__status_name(st);
	add_env(env, n_env, &cap, "ZENC_PIPELINE_NAME", x->p->name);
	add_env(env, n_env, &cap, "ZENC_RUN_NAME", x->run->name);
	add_env(env, n_env, &cap, "ZENC_RUN_ID", x->run->id);
	add_env(env, n_env, &cap, "ZENC_STEP_NAME", ss ? ss->step->name : "");
	add_env(env, n_env, &cap, "ZENC_HOOK_EVENT", zenc__event_name(ev));
	add_env(env, n_env, &cap, "ZENC_STATUS", status);
	snprintf(num, sizeof(num), "%d", attempt);
	add_env(env, n_env, &cap, "ZENC_ATTEMPT", num);
	add_env(env, n_env, &cap, "ZENC_ERROR_TYPE",
		err && err->type ? err->type : "");
	add_env(env, n_env, &cap, "ZENC_ERROR_MESSAGE",
		err && err->message ? err->message : "");
	snprintf(num, sizeof(num), "%d", err ? err->exit_code : 0);
	add_env(env, n_env, &cap, "ZENC_EXIT_CODE", num);
	snprintf(num, sizeof(num), "%d", err ? err->signal : 0);
	add_env(env, n_env, &cap, "ZENC_SIGNAL", num);
	zenc__params_env(ss, env, n_env, &cap);

	zenc_buf_puts(json, "{\"pipeline\":");
	zenc_json_str(json, x->p->name);
	zenc_buf_puts(json, ",\"run_name\":");
	zenc_json_str(json, x->run->name);
	zenc_buf_puts(json, ",\"run_id\":");
	zenc_json_str(json, x->run->id);
	zenc_buf_puts(json, ",\"step\":");
	zenc_json_str(json, ss ? ss->step->name : NULL);
	zenc_buf_puts(json, ",\"event\":");
	zenc_json_str(json, zenc__event_name(ev));
	zenc_buf_printf(json, ",\"attempt\":%d,\"status\":", attempt);
	zenc_json_str(json, status);
	zenc_buf_puts(json, ",\"error\":");
	if (err && err->type) {
		zenc_buf_puts(json, "{\"type\":");
		zenc_json_str(json, err->type);
		zenc_buf_puts(json, ",\"message\":");
		zenc_json_str(json, err->message ? err->message : "");
		zenc_buf_printf(
			json, ",\"exit_code\":%d,\"signal\":%d}",
			err->exit_code, err->signal);
	} else {
		zenc_buf_puts(json, "null");
	}
	zenc_buf_puts(json, ",\"params\":");
	zenc_buf_puts(json, ss && ss->params_json ? ss->params_json : "{}");
	zenc_buf_puts(json, "}\n");
}
