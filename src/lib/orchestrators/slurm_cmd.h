/*
 * The Slurm orchestrator's dealings with Slurm itself (slurm_cmd.c): its
 * configuration, the stack check, and the commands it runs (sbatch,
 * squeue, scontrol, sacct, scancel).  orchestrator_slurm.c decides what
 * to submit and when; this file only talks to the cluster.
 */
#ifndef ZENC_LIB_SLURM_CMD_H
#define ZENC_LIB_SLURM_CMD_H

#include "engine/exec.h"

/* The file in a run's artifact folder that says `zenc runs cancel`
 * cancelled it. */
#define ZENC__SLURM_CANCEL_MARK ".cancelled"
/* A job id squeue, scontrol and sacct all stop knowing is given up on
 * after this many polls. */
#define ZENC__SLURM_MAX_UNKNOWN 20

typedef struct zenc__slurm_cfg {
	char *partition;
	char *account;
	char **extra;
	size_t n_extra;
	int single_node;
	double poll;
	double unreachable; /* seconds without an answer from slurmctld */
} zenc__slurm_cfg;

/* The default of the orchestrator's unreachable_timeout, in seconds. */
#define ZENC__SLURM_UNREACHABLE_DEFAULT 600.0

/* What the client knows of one step's job. */
typedef struct zenc__sjob {
	long job;          /* the current job; 0: none */
	int first_attempt; /* the attempt the current job starts with */
	char state[32];    /* as Slurm last said */
	char reason[64];
	int seen_running;
	int need_submit;
	int settled;
	int ours;    /* cancelled by the client (orchestrator_slurm.c) */
	int unknown; /* polls in a row with no answer */
} zenc__sjob;

/* A NULL-terminated vector of owned strings. */
void zenc__strv_push(char ***v, size_t *n, size_t *cap, const char *s);
void zenc__strv_free(char **v);

/* The orchestrator component's keys, from the stack's configuration. */
int zenc__slurm_cfg_load(zenc__slurm_cfg *c, const zenc_stack *stack);
void zenc__slurm_cfg_release(zenc__slurm_cfg *c);

/* Refuses a stack whose metadata store or artifacts not every node of
 * the cluster reaches (ZENC_ECONFIG), unless it says single_node. */
int zenc__slurm_check(zenc__exec *x);

/* `sbatch ... --wrap 'exec CMD'`: 0 and *job, or -1 with *why set. */
int zenc__slurm_sbatch(
	const zenc__slurm_cfg *cfg,
	const char *jobname,
	const char *comment,
	const char *outdir,
	const char *dependency,
	const char *const *extra,
	char **cmd,
	long *job,
	zenc_buf *why);
/* Cancels jobs `ids`; 0, or -1 (with a warning). */
int zenc__slurm_scancel(const long *ids, size_t n);
/* A job state Slurm never leaves. */
int zenc__slurm_final_state(const char *s);
/* One squeue for the `n` jobs of `st` being followed (then scontrol or
 * sacct for those it no longer shows): updates their state.  Returns 0
 * when slurmctld answered, -1 when it did not (then no job's state
 * changes, and none counts as unknown). */
int zenc__slurm_poll_jobs(zenc__sjob *st, size_t n);

/* The `cancel` of the Slurm orchestrator: scancel of the run's active
 * jobs (found by their comment), after the run's cancel mark. */
int zenc__slurm_cancel_run(const char *run_id, const char *run_dir, size_t *n);

#endif
