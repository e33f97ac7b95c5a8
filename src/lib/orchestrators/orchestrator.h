/* Orchestrators: where the executions of a run's steps take place. */
#ifndef ZENC_LIB_ORCHESTRATOR_H
#define ZENC_LIB_ORCHESTRATOR_H

#include <signal.h>

#include "engine/exec.h"

/* Set by a signal handler (zenc_main installs one for SIGINT/SIGTERM):
 * the running steps are stopped and the run fails. */
extern volatile sig_atomic_t zenc__interrupted;

/*
 * How a run is started when it is not a plain new local run (the Slurm
 * orchestrator, orchestrator_slurm.c).  A job of a Slurm run re-enters
 * the same program through a hidden subcommand that joins the existing
 * run: `__step` runs one step, `__finish` ends a detached run.
 */
typedef struct zenc__run_mode {
	const char *run_id; /* join this run: no new run record */
	const char *step;   /* run only this step (__step) */
	int attempt;        /* its first attempt, 1-based (0: 1) */
	int finish;         /* end the run (__finish) */
	const char *jobs;   /* __finish: "step=jobid,..." */
	int detach;         /* return once the jobs are submitted */
	/* The argv (NULL-terminated) that runs this program's hidden
	 * subcommands; NULL: /proc/self/exe, as zenc_main() serves them. */
	const char *const *entry;
	/* --no-cache: execute every step (keys are still recorded). */
	int no_cache;
	/* --resume RUN: reuse what RUN completed (engine/cache.h). */
	const char *resume;
} zenc__run_mode;

/* zenc_pipeline_run() with a mode (NULL: an ordinary run). */
int zenc__pipeline_run_mode(
	zenc_run **out,
	zenc_pipeline *p,
	const zenc_run_options *o,
	const zenc__run_mode *m);

/*
 * The orchestrator interface.  An orchestrator places the executions of
 * a run's steps somewhere and reports what became of them; the engine
 * (engine_run.h) owns everything else: scheduling, supervision, deadlines,
 * retries, the hook rules and every record.  run.c picks one by the flavor
 * of the stack's orchestrator component from a table of these structs.
 * Callbacks are only ever appended; `version` says which are there.
 *
 * An orchestrator places work either on this machine, one attempt at a
 * time (start/reap/kill: the engine schedules and supervises), or
 * elsewhere, a whole run at once (run/join: a cluster's jobs, which run
 * the engine themselves and leave their records in the shared store).
 * The processes the engine still runs on this machine for a run placed
 * elsewhere (the failure hooks of a killed job, run-level hooks) are
 * placed by the first orchestrator of the table that has `start`.
 */
#define ZENC__ORCHESTRATOR_VERSION 1

typedef struct zenc__orchestrator {
	/* ZENC__ORCHESTRATOR_VERSION. */
	unsigned int version;
	/* The flavor it serves: "local", "slurm". */
	const char *name;
	/* What one placed execution is called, for people: "Slurm job"
	 * (NULL: "job"). */
	const char *unit;

	/* Refuses a stack it cannot work with (ZENC_ECONFIG); NULL: any. */
	int (*check)(zenc__exec *x);

	/* -- Placement on this machine. */
	/* The run's steps are about to start (NULL: nothing to prepare). */
	void (*open)(zenc__exec *x);
	/* Starts a process (or thread) that runs attempt `a` from its
	 * cursor and sends its events on a->fd; sets a->pid when it is a
	 * process.  0, an error, or 1 when it ran the attempt in the
	 * calling thread to its end (nothing to supervise). */
	int (*start)(zenc__exec *x, zenc__attempt *a);
	/* What `start` started has ended (its pipe is closed): reaps it and
	 * whatever it left running into *wstatus.  1 when nothing can
	 * continue the attempt (the engine then takes it as done). */
	int (*reap)(zenc__exec *x, zenc__attempt *a, int *wstatus);
	/* Sends `sig` to what runs attempt `a`. */
	void (*kill)(zenc__attempt *a, int sig);
	/* Step `ss` completed: what is placed later may read its
	 * artifacts (NULL: nothing to do). */
	void (*completed)(zenc__exec *x, const zenc__stepstate *ss);
	/* The run's steps are over (NULL: nothing to release). */
	void (*close)(zenc__exec *x);

	/* -- Placement elsewhere (NULL: the engine schedules the run). */
	/* Places the whole run and follows it to the end, telling the
	 * engine of every attempt no job recorded; 1 when it returned at
	 * once after placing it (detach). */
	int (*run)(
		zenc__exec *x,
		const zenc_run_options *o,
		const zenc__run_mode *m);
	/* Inside a job that `run` placed: joins run m->run_id and runs its
	 * part of it (one step, or the end of a detached run). */
	int (*join)(zenc__exec *x, const zenc__run_mode *m);
	/* zenc runs cancel, for a run that `run` placed: cancels what is
	 * still placed of run `run_id` (its artifacts in `run_dir`) and
	 * leaves a mark there so that whoever follows the run treats it as
	 * cancelled.  *n: the jobs cancelled.  0 or an error.  NULL: the
	 * run's orchestrating process is signalled instead. */
	int (*cancel)(const char *run_id, const char *run_dir, size_t *n);
} zenc__orchestrator;

extern const zenc__orchestrator zenc__orchestrator_local;
extern const zenc__orchestrator zenc__orchestrator_slurm;

/* The orchestrator that serves `flavor` (the default for NULL or an
 * unknown one), from run.c's table. */
const zenc__orchestrator *zenc__orchestrator_for(const char *flavor);

#endif
