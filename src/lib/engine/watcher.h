/*
 * The watcher of a run (watcher.c): a small process, started with each
 * run placed on this machine, that outlives the orchestrating process.
 * When that process dies without ending the run (SIGKILL, the OOM
 * killer), the watcher kills every process of the run, records the run
 * and its running steps as failed with error type OrchestratorDied, runs
 * the failure hooks that can run outside the program (commands and the
 * standard alerter hooks) and exits.
 */
#ifndef ZENC_LIB_WATCHER_H
#define ZENC_LIB_WATCHER_H

#include "stores/store.h"

struct zenc__exec;

/* The run's record has been written: records in the store what the
 * watcher will need (the run's failure hooks and stack, as references)
 * and starts the watcher.  Without a watcher (it could not start, or
 * ZENC_NO_WATCHER is set) the run goes on as before. */
void zenc__watcher_start(struct zenc__exec *x);

/* The run's end has been recorded: the watcher is told so and exits. */
void zenc__watcher_end(struct zenc__exec *x);

/* Tells the watcher that step `step` has started (`started` 1) or that
 * its end is recorded (0), so that it can settle a step that died before
 * its "running" row was written.  Never waits. */
void zenc__watcher_note(int started, const char *step);

/* In a process forked from the orchestrating process: closes this
 * process's copy of the socket whose end tells the watcher that the
 * orchestrating process died. */
void zenc__watcher_forget(void);

/* The stale-run sweep found run `run_id` of this host left "running" with
 * its orchestrating process and its watcher both gone (the machine went
 * down): marks it failed, stops what is left of it, and sends its alerts
 * marked late.  Errors are logged. */
void zenc__watcher_late(zenc__store *store, const char *run_id);

/* Between the watcher's two files (watcher.c, watcher_settle.c). */
/* Kills every process whose environment holds ZENC_RUN_ID=`run_id`, again
 * until none is left or `budget` seconds passed; how many it killed. */
size_t zenc__watcher_kill_run(const char *run_id, double budget);
/* Marks the run failed (unless another did) with error `type`, `message`
 * and signal `sig`, and settles its running steps and those of `running`
 * (steps announced and not recorded ended; NULL when found `late`): their
 * failure hooks that can run, then the run's, and their records. */
int zenc__watcher_settle(
	zenc__store *store,
	const char *run_id,
	const char *spec_text,
	const char *type,
	const char *message,
	int sig,
	int late,
	char *const *running,
	size_t n_running);

#endif
