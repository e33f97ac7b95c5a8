/*
 * The local orchestrator: places each attempt of a step on this machine,
 * in a forked child (isolation "process"; the first child of an attempt
 * comes from the zygote, zygote.c), in a thread of this process (command
 * steps, see below) or in this process itself (isolation "none", where
 * the engine calls the executor directly).  It says how a child ended;
 * the engine (engine_run.h) does the rest: scheduling, supervision,
 * deadlines, retries, hooks and records.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/exec.h"
#include "engine/watcher.h"
#include "orchestrators/orchestrator_local.h"

void zenc__child_main(zenc__attempt *a, int fd, pid_t supervisor)
{
	/* A step is never left running unsupervised: when the orchestrator
	 * dies, so does the step (and the run's watcher settles the run).
	 * A child of the zygote was set so when it was forked. */
	if (supervisor > 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != supervisor)
			_exit(120);
	}
	/* The watcher learns of the orchestrator's death by the end of a
	 * pipe only the orchestrator may hold. */
	zenc__watcher_forget();
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	zenc__attempt_exec(a, fd);
	fflush(NULL);
	_exit(0);
}

/* Forks a child, in a process group of its own, that runs the attempt
 * from its cursor and sends its events on a->fd. */
static int spawn_child(zenc__exec *x, zenc__attempt *a)
{
	pid_t self, pid;
	int fds[2];

	if (pipe2(fds, O_CLOEXEC) < 0)
		return zenc__error_set(
			ZENC_ERROR, "cannot create a pipe: %s",
			strerror(errno));
	a->from_zygote = 0;
	a->done_is_end = 0;
	if (((a->spawns++ == 0 && a->cur.phase == ZENC__PH_START) ||
	     a->yielded) &&
	    (pid = zenc__zygote_spawn(x, a, fds[1])) > 0) {
		a->yielded = 0;
		a->from_zygote = 1;
		/* The zygote reaps its children. */
		a->done_is_end = 1;
		goto started;
	}
	fflush(NULL);
	self = getpid();
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return zenc__error_set(
			ZENC_ERROR, "cannot fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(fds[0]);
		setpgid(0, 0);
		zenc__child_main(a, fds[1], self);
	}
	setpgid(pid, pid);
started:
	close(fds[1]);
	/* A pipe's read end has no other status flag to keep. */
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	a->pid = pid;
	a->fd = fds[0];
	return 0;
}

/*
 * Command steps in threads.  A step whose body only runs a command gains
 * nothing from a forked copy of the orchestrator: the command is already
 * a process of its own, and it and the command hooks enforce their own
 * deadlines.  Forking a big orchestrator for every such step is most of
 * the cost of a YAML pipeline, so these attempts run in a thread that
 * reports through the same pipe protocol as a child.  Only when every
 * step of the run qualifies: fork() while other threads run is unsafe (a
 * lock another thread holds stays held in the child), so the orchestrator
 * of a threaded run never forks while a step runs.
 *
 * A hook that is not a command (a built-in such as alerter_failure_hook,
 * a C function from a library) still runs in a process, as the step's
 * own environment: the thread stops before it (executor.c, must_yield)
 * and the attempt goes on in a child of the zygote, forked when the run
 * started and before any thread.  So a run pays a process only for the
 * hooks that fire: a pipeline-level on_failure hook costs nothing while
 * the steps succeed.
 */
static int step_threadable(const zenc_step *s)
{
	return s->threadable && !s->memory_limit;
}

/* Whether a step has a hook a thread cannot run (see above). */
static int step_has_code_hooks(const zenc_step *s)
{
	zenc__event e;
	size_t i;

	for (e = ZENC__ON_START; e <= ZENC__ON_END; e++) {
		const zenc__hook_list *l = zenc__step_hooks(s, e);
		for (i = 0; i < l->n; i++)
			if (l->items[i].h.kind != ZENC_HOOK_COMMAND)
				return 1;
	}
	return 0;
}

static int run_threadable(const zenc__exec *x)
{
	size_t i;

	if (x->isolation != ZENC_ISOLATION_PROCESS)
		return 0;
	for (i = 0; i < x->p->n_steps; i++)
		if (!step_threadable(x->p->steps[i]))
			return 0;
	return 1;
}

struct thread_job {
	zenc__attempt copy; /* the thread's own view, as a child has */
	int fd;
};

static void *thread_main(void *payload)
{
	struct thread_job *job = payload;

	zenc__attempt_exec(&job->copy, job->fd);
	close(job->fd);
	zenc__failure_release(&job->copy.err);
	free(job);
	return NULL;
}

static int spawn_thread(zenc__attempt *a)
{
	struct thread_job *job;
	int fds[2], rc;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return zenc__error_set(
			ZENC_ERROR, "cannot create a pipe: %s",
			strerror(errno));
	job = zenc__calloc(1, sizeof(*job));
	job->copy = *a;
	memset(&job->copy.err, 0, sizeof(job->copy.err));
	zenc__failure_copy(&job->copy.err, &a->err);
	job->copy.hooks = NULL;
	job->copy.arts = NULL;
	job->copy.hook_name = NULL;
	memset(&job->copy.in, 0, sizeof(job->copy.in));
	job->copy.threaded = 1;
	job->fd = fds[1];
	rc = pthread_create(&a->thread, NULL, thread_main, job);
	if (rc != 0) {
		close(fds[0]);
		close(fds[1]);
		zenc__failure_release(&job->copy.err);
		free(job);
		return zenc__error_set(
			ZENC_ERROR, "cannot start a thread: %s", strerror(rc));
	}
	fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
	a->threaded = 1;
	a->pid = 0;
	a->fd = fds[0];
	return 0;
}

static int local_start(zenc__exec *x, zenc__attempt *a)
{
	/* Isolation none: no process, no supervisor; a command the step
	 * runs enforces the step's deadline itself. */
	if (x->isolation == ZENC_ISOLATION_NONE) {
		zenc__attempt_exec(a, -1);
		return 1;
	}
	/* Only a step's first start: continuations and run-level hooks
	 * (which may be C functions) are forked. */
	if (x->threads && a->ss && a->cur.phase == ZENC__PH_START &&
	    a->spawns == 0 && !a->yielded)
		return spawn_thread(a);
	return spawn_child(x, a);
}

static int local_reap(zenc__exec *x, zenc__attempt *a, int *wstatus)
{
	*wstatus = 0;
	if (a->threaded) {
		/* A thread ends "done", or stopped before a hook that is not
		 * a command: the supervisor continues that in a process. */
		pthread_join(a->thread, NULL);
		a->threaded = 0;
		a->yielded = !a->done;
		return a->done;
	}
	if (a->from_zygote && a->done)
		zenc__zygote_forget(x, a->pid);
	else if (a->from_zygote)
		zenc__zygote_wait(x, a->pid, wstatus);
	else
		while (waitpid(a->pid, wstatus, 0) < 0 && errno == EINTR)
			;
	a->from_zygote = 0;
	a->done_is_end = 0;
	/* Anything the step left running in its group goes with it. */
	kill(-a->pid, SIGKILL);
	return 0;
}

static void local_kill(zenc__attempt *a, int sig)
{
	/* A thread has no process of its own to signal. */
	if (a->pid <= 0)
		return;
	kill(-a->pid, sig);
	kill(a->pid, sig);
}

static void local_open(zenc__exec *x)
{
	size_t i;
	int code_hooks = 0;

	x->threads = run_threadable(x);
	for (i = 0; x->threads && !code_hooks && i < x->p->n_steps; i++)
		code_hooks = step_has_code_hooks(x->p->steps[i]);
	/* Isolation process forks a child per step: from the zygote, when
	 * there is more than one step to fork for (a Slurm job, which writes
	 * its rows eagerly, runs one step).  A threaded run needs it only
	 * for hooks that are not commands. */
	if (x->isolation == ZENC_ISOLATION_PROCESS &&
	    (!x->threads || code_hooks) && x->p->n_steps > 1 &&
	    !x->eager_rows && !getenv("ZENC_NO_ZYGOTE"))
		zenc__zygote_start(x);
	/* Without a zygote, such hooks are forked by the orchestrator,
	 * which then must not have threads. */
	if (code_hooks && !x->zygote)
		x->threads = 0;
}

static void local_close(zenc__exec *x)
{
	zenc__zygote_stop(x);
}

const zenc__orchestrator zenc__orchestrator_local = {
	.version = ZENC__ORCHESTRATOR_VERSION,
	.name = "local",
	.open = local_open,
	.start = local_start,
	.reap = local_reap,
	.kill = local_kill,
	/* The zygote holds the run as it was: it is told of each step's
	 * artifacts, for the children it forks later. */
	.completed = zenc__zygote_completed,
	.close = local_close,
};
