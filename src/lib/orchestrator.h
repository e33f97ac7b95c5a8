/* Orchestrators: they decide when each step runs and call the executor. */
#ifndef ZENC_LIB_ORCHESTRATOR_H
#define ZENC_LIB_ORCHESTRATOR_H

#include <signal.h>

#include "exec.h"

#define MAX_MSG_FIELDS 8

/* Set by a signal handler (zenc_main installs one for SIGINT/SIGTERM):
 * the running steps are stopped and the run fails. */
extern volatile sig_atomic_t zenc__interrupted;

/*
 * The local orchestrator's placement of an attempt on this machine
 * (orchestrator_local.c), used by the engine's supervisor.
 */
/* Starts a child (or thread) that runs attempt `a` from its cursor and
 * sends its events on a->fd.  0 or an error. */
int zenc__local_start(zenc__exec *x, zenc__attempt *a);
/* The child of `a` ended: reaps it (and what it left in its group) into
 * *wstatus; 1 when nothing can continue the attempt (a thread). */
int zenc__local_reap(zenc__exec *x, zenc__attempt *a, int *wstatus);
/* Sends `sig` to the child of `a` and its group. */
void zenc__local_kill(zenc__attempt *a, int sig);
/* A run's steps are about to start: threads or zygote, as fits. */
void zenc__local_open(zenc__exec *x);
/* The run's steps are over. */
void zenc__local_close(zenc__exec *x);

/* The body of a step child: runs the attempt from its cursor, sending
 * events on `fd`, and exits.  `supervisor`: the parent it must have. */
void zenc__child_main(zenc__attempt *a, int fd, pid_t supervisor)
	__attribute__((noreturn));

/*
 * The zygote (zygote.c): a process forked when a run starts that forks
 * the first child of each attempt, so the orchestrator itself is not
 * forked per step.
 */
/* Starts it for run `x` (x->zygote; left NULL when it cannot start). */
void zenc__zygote_start(zenc__exec *x);
/* Has it fork the child of attempt `a` (a fresh attempt of a step), with
 * `fd` as the child's event pipe; the pid, or -1 (then fork it here). */
int zenc__zygote_spawn(zenc__exec *x, zenc__attempt *a, int fd);
/* Step `ss` completed: its artifacts go to the zygote's copy of the run. */
void zenc__zygote_completed(zenc__exec *x, const zenc__stepstate *ss);
/* The wait status of its child `pid` (blocks until it ended); -1 with
 * SIGKILL when the zygote is gone. */
int zenc__zygote_wait(zenc__exec *x, pid_t pid, int *wstatus);
/* Its child `pid` said it is done: its end need not be reported. */
void zenc__zygote_forget(zenc__exec *x, pid_t pid);
/* Ends it (after the last step) and reaps it. */
void zenc__zygote_stop(zenc__exec *x);

/*
 * How a run is started when it is not a plain new local run (the Slurm
 * orchestrator, orchestrator_slurm.c).  A job of a Slurm run re-enters
 * the same program through a hidden subcommand that joins the existing
 * run: `__step` runs one step, `__finish` ends a detached run.
 */
typedef struct zenc__run_mode {
	const char *run_id;        /* join this run: no new run record */
	const char *step;          /* run only this step (__step) */
	int attempt;               /* its first attempt, 1-based (0: 1) */
	int finish;                /* end the run (__finish) */
	const char *jobs;          /* __finish: "step=jobid,..." */
	int detach;                /* return once the jobs are submitted */
	/* The argv (NULL-terminated) that runs this program's hidden
	 * subcommands; NULL: /proc/self/exe, as zenc_main() serves them. */
	const char *const *entry;
} zenc__run_mode;

/* zenc_pipeline_run() with a mode (NULL: an ordinary run). */
int zenc__pipeline_run_mode(zenc_run **out, zenc_pipeline *p,
			    const zenc_run_options *o,
			    const zenc__run_mode *m);
/* Refuses a stack the Slurm orchestrator cannot work with (ZENC_ECONFIG). */
int zenc__slurm_check(zenc__exec *x);
/* Submits the run's steps as Slurm jobs and follows them to the end;
 * returns 1 when it returned at once after submission (detach). */
int zenc__orchestrate_slurm(zenc__exec *x, const zenc_run_options *o,
			    const zenc__run_mode *m);
/* Joins the run of m->run_id (name, start time from the store). */
int zenc__slurm_join(zenc__exec *x, const zenc__run_mode *m);
/* Inside a job: runs step m->step of the joined run. */
int zenc__slurm_step(zenc__exec *x, const zenc__run_mode *m);
/* Inside the final job of a detached run: settles what Slurm killed and
 * sets the run's outcome. */
int zenc__slurm_finish(zenc__exec *x, const zenc__run_mode *m);
/* zenc runs cancel: cancels the active Slurm jobs of run `run_id` and
 * leaves a mark in `run_dir` so that whoever follows the run treats it as
 * cancelled.  *n: the jobs cancelled.  0 or an error. */
int zenc__slurm_cancel_run(const char *run_id, const char *run_dir,
			   size_t *n);

#endif
