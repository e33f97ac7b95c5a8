/*
 * The local orchestrator's own pieces, shared by orchestrator_local.c and
 * zygote.c and by nothing else: the rest of the library reaches the local
 * orchestrator only through its struct (orchestrator.h).
 */
#ifndef ZENC_LIB_ORCHESTRATOR_LOCAL_H
#define ZENC_LIB_ORCHESTRATOR_LOCAL_H

#include "orchestrators/orchestrator.h"

/* The body of a step child: runs the attempt from its cursor, sending
 * events on `fd`, and exits.  `supervisor`: the parent it must have, or 0
 * when the child was made to die with its parent already. */
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

#endif
