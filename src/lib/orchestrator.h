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

#endif
