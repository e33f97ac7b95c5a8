/*
 * The engine's run semantics: what run.c and the orchestrators ask of it.
 *
 * The engine schedules a run's steps, supervises the processes that run
 * steps and hooks, enforces deadlines and memory limits, decides retries,
 * applies the hook rules (through the executor) and writes every step,
 * attempt and hook record.  An orchestrator only places work somewhere
 * and says what became of it (orchestrator.h); the engine is the only
 * code that turns that into records.
 *
 *   engine.c            records, the outcome of an attempt, retries,
 *                       lost attempts, run-level hooks
 *   engine_sched.c      the scheduler: which step starts when
 *   engine_supervise.c  the supervisor: event pipes, deadlines, memory,
 *                       continuations of dead processes
 */
#ifndef ZENC_LIB_ENGINE_RUN_H
#define ZENC_LIB_ENGINE_RUN_H

#include "engine/exec.h"

/* ---- for run.c and the orchestrators */

/* Runs every step of the run that is still pending, on this machine:
 * the run's failure flag says how it went. */
int zenc__engine_run(zenc__exec *x);

/* A job that runs one step of a run placed elsewhere: step `ss` runs
 * alone, from attempt `first_attempt` (1-based), with its hooks,
 * deadlines and retries; every other step counts as completed. */
int zenc__engine_run_one(zenc__exec *x, zenc__stepstate *ss, int first_attempt);

/* Step `ss` will not run (`why` is logged); with `now`, its row is
 * written at once, otherwise with the next batch of rows. */
void zenc__engine_skip(
	zenc__exec *x, zenc__stepstate *ss, const char *why, int now);

/* Attempt `attempt` of step `ss` ended where no supervisor saw it (a
 * cluster killed its job, or it could not be placed): runs its on_retry
 * or on_failure hooks and its on_end hooks here, under supervision, and
 * records the failed attempt.  `retry_ok`: a retry is allowed.  Returns
 * 1 when the step will be retried (it is left waiting), 0 when it
 * failed. */
int zenc__engine_attempt_lost(
	zenc__exec *x,
	zenc__stepstate *ss,
	int attempt,
	const char *type,
	const char *msg,
	int retry_ok);

/* Step `ss` ended in a job that recorded its outcome itself (`r`, read
 * back from the store): the run's view of the step follows it.  Returns
 * 1 when it failed and nothing new may start (see below). */
int zenc__engine_adopt(
	zenc__exec *x, zenc__stepstate *ss, const zenc__step_record *r);

/* A step failed for good: so does the run, and unless the run keeps
 * going after a failure, nothing new starts (x->stop).  Returns 1 in that
 * case: what was placed and has not started should be withdrawn. */
int zenc__engine_step_failed(zenc__exec *x);

/* Writes the run's record as it begins; `detached`: no process of this
 * machine follows the run to its end (its last job ends it). */
int zenc__engine_begin_run(zenc__exec *x, int detached);

/* How long step `ss` waits before attempt `attempt` + 1. */
double zenc__engine_retry_wait(const zenc__stepstate *ss, int attempt);

/* The run was interrupted or cancelled: it fails, is recorded as
 * cancelled, and nothing new starts. */
void zenc__engine_cancelled(zenc__exec *x);

/* How the run ended (or stands): completed, failed or cancelled. */
zenc__status zenc__run_status(const zenc_run *run);

/* Runs the run-level hooks for the run's outcome, records them and the
 * end of the run. */
void zenc__engine_end_run(zenc__exec *x);
/* A failed run's closing block on the log, at error level (kept by
 * --quiet): each failed step, its error, its log and the log's last
 * lines, and the command that shows the run (summary.c). */
void zenc__engine_summary(const zenc__exec *x);

/* ---- between the engine's files */

/* The most fields of one event an executor sends on its pipe. */
#define MAX_MSG_FIELDS 8

/* A step that starts late gets its "running" row after this long. */
#define ZENC__RUNNING_ROW_DELAY 0.1

zenc__attempt *zenc__engine_new_attempt(zenc__exec *x, zenc__stepstate *ss);
/* The attempt reached its end: records it and decides what comes next
 * (completed, waiting for a retry, or failed); frees it. */
void zenc__engine_finish_attempt(zenc__exec *x, zenc__attempt *a);
/* The same for an attempt the supervisor followed, except that the record
 * of one that completed may be owed: written by zenc__engine_pay_ends(),
 * which the scheduler calls once it started the steps this one made
 * ready. */
void zenc__engine_finish_attempt_later(zenc__exec *x, zenc__attempt *a);
void zenc__engine_pay_ends(zenc__exec *x);
/* Step `ss` was taken from the cache (cache.c): records it and completes
 * it; no attempt, no hook. */
void zenc__engine_cached(zenc__exec *x, zenc__stepstate *ss);
/* Rows of steps: owed (written later, together) and paid. */
void zenc__engine_owe_row(zenc__exec *x, zenc__stepstate *ss);
void zenc__engine_pay_rows(zenc__exec *x);
/* A step starts: its "running" row is owed, or written. */
void zenc__engine_started_row(zenc__exec *x, zenc__stepstate *ss);
/* The thread that writes late rows under isolation none. */
void zenc__engine_flusher_start(zenc__exec *x);
void zenc__engine_flusher_stop(zenc__exec *x);

/* Starts a process (or thread) for attempt `a` from its cursor, through
 * the run's placement; counts it in x->running.  0, 1 when it ran in
 * this thread to its end (isolation none), or an error. */
int zenc__engine_start(zenc__exec *x, zenc__attempt *a);
/* Polls the live attempts once, for at most `max_wait` seconds: reads
 * their events, enforces deadlines and memory limits.  An attempt whose
 * process ended is marked with term_sent == -1. */
void zenc__engine_supervise(
	zenc__attempt **live, size_t n_live, double max_wait);
/* The process of `a` ended: reaps it and starts the continuation when
 * the attempt is not done; a->done once it is.  *n_cont counts the
 * continuations (bounded). */
void zenc__engine_ended(zenc__exec *x, zenc__attempt *a, int *n_cont);
/* Walks attempt `a` to its end under supervision (or in this thread
 * under isolation none, where the placement runs it at once). */
void zenc__engine_walk(zenc__exec *x, zenc__attempt *a);
/* The run was interrupted: the running attempts are stopped. */
void zenc__engine_interrupt(zenc__exec *x);

#endif
