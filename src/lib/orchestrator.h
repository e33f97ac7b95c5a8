/* Orchestrators: they decide when each step runs and call the executor. */
#ifndef ZENC_LIB_ORCHESTRATOR_H
#define ZENC_LIB_ORCHESTRATOR_H

#include <signal.h>

#include "exec.h"

#define MAX_MSG_FIELDS 8

/* Set by a signal handler (zenc_main installs one for SIGINT/SIGTERM):
 * the running steps are stopped and the run fails. */
extern volatile sig_atomic_t zenc__interrupted;

/* Runs every step of the run; the run's failure flag says how it went. */
int zenc__orchestrate_local(zenc__exec *x);
/* Runs the run-level hooks for the run's outcome (H12) and records them. */
void zenc__run_hooks(zenc__exec *x);

/*
 * Pieces of the local orchestrator that the Slurm one uses for the hooks
 * it runs itself.
 */
/* Fills *r from step state `ss` (r borrows its strings). */
void zenc__fill_step_record(zenc__step_record *r, zenc__exec *x,
			    zenc__stepstate *ss);
/* Records the step's state (step_put); a failure is a warning. */
void zenc__record_step(zenc__exec *x, zenc__stepstate *ss);
/* *out: the records of the attempt's hooks (a->n_hooks of them, which
 * borrow from `a`); the caller frees the array. */
void zenc__fill_hook_records(zenc__exec *x, zenc__attempt *a,
			     zenc__hook_record **out);
/* Forks a child, in a process group of its own, that runs the attempt
 * from its cursor and sends its events on a->fd; counts it in
 * x->running.  0 or an error. */
int zenc__spawn(zenc__exec *x, zenc__attempt *a);
/* Reads what the child of `a` sent and hands each event to
 * zenc__attempt_event(); returns 1 at end of file. */
int zenc__drain(zenc__attempt *a);
/* The child of `a` ended: reaps it (and what it left in its group), and
 * forks the continuation when the attempt is not done; a->done once it
 * is.  *n_cont counts the continuations (bounded). */
void zenc__child_ended(zenc__exec *x, zenc__attempt *a, int *n_cont);

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
