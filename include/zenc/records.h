#ifndef ZENC_RECORDS_H
#define ZENC_RECORDS_H

#include "common.h"

/*
 * Reading the metadata store: the runs, steps, attempts, artifacts and
 * hook runs that every run records, and the alert outbox.  This is what
 * `zenc runs`, `zenc pipelines` and `zenc ui` are made of.
 *
 * Times are seconds since the Unix epoch (wall clock) as doubles; 0 means
 * "not set".  Every record and every string in it belongs to the list or
 * run info it came in, and lives until that is freed.  The records are
 * filled in by the library: a program reads them and never allocates one.
 * Their layout changes only with the major version of the library (the
 * soname); fields are only ever appended.
 */

ZENC_BEGIN_DECL

/** The metadata store of a stack, opened by zenc_store_open(). */
typedef struct zenc_store zenc_store;

/** One run. */
typedef struct zenc_run_record {
	const char *id; /**< UUID */
	const char *name;
	const char *pipeline;
	/** "running", "completed", "failed", "cancelled" */
	const char *status;
	const char *stack;
	const char *host; /**< host name of the orchestrating process */
	long pid;         /**< pid of the orchestrating process */
	double started;
	double ended;
	/** The run this one resumed (`--resume`), or NULL. */
	const char *resumed_from;
} zenc_run_record;

/** One attempt of a step. */
typedef struct zenc_attempt_record {
	int attempt;        /**< 1-based */
	const char *status; /**< "completed", "failed" */
	double started;
	double ended;
	const char *error_type; /**< NULL when none */
	const char *error_message;
	int exit_code;
	int signal;
	/** The attempt's log (what a command printed, or a C step's standard
	 *  output and error), a path in the artifact store; NULL when none
	 *  was recorded. */
	const char *log_uri;
} zenc_attempt_record;

/** One step of a run, as its last attempt left it. */
typedef struct zenc_step_record {
	const char *run_id;
	const char *name;
	/** "pending", "running", "completed", "failed", "skipped", or
	 *  "cached": not executed, its outputs reused from an earlier run */
	const char *status;
	int attempts; /**< attempts made so far */
	double started;
	double ended;
	const char *error_type; /**< NULL when none */
	const char *error_message;
	int exit_code;
	int signal;
	const char *params_json;   /**< a JSON object, or NULL */
	const char *log_uri;       /**< the step's log in the artifact store */
	const char *upstream_json; /**< a JSON array of the steps it follows */
	/** For a "cached" step: the id of the run that executed it (whose
	 *  outputs it reuses); NULL otherwise. */
	const char *cached_from;
	/** The step's cache key (hex), or NULL when none was computed. */
	const char *cache_key;
} zenc_step_record;

/** One output of a step. */
typedef struct zenc_artifact_record {
	const char *run_id;
	const char *step;
	const char *name;
	const char *type; /**< zenc_type_name() */
	const char *uri;  /**< a path under the artifact store */
	int64_t size;
	const char *checksum; /**< hex */
} zenc_artifact_record;

/** One hook run. */
typedef struct zenc_hook_record {
	const char *run_id;
	const char *step;   /**< NULL for run-level hooks */
	const char *event;  /**< "on_success", "on_run_failure", ... */
	const char *hook;   /**< the recorded hook name */
	int attempt;        /**< 0 for run-level hooks */
	const char *status; /**< "completed", "failed", "timeout" */
	const char *error;  /**< NULL when none */
	double started;
	double duration; /**< seconds */
	int seq;         /**< order within the run, increasing */
} zenc_hook_record;

/** A step and all that it recorded. */
typedef struct zenc_step_info {
	zenc_step_record rec;
	zenc_attempt_record *attempts;
	size_t n_attempts;
	zenc_artifact_record *artifacts;
	size_t n_artifacts;
	zenc_hook_record *hooks;
	size_t n_hooks;
} zenc_step_info;

/** A run and all of it, as zenc_store_run_show() fills it in. */
typedef struct zenc_run_info {
	zenc_run_record rec;
	zenc_step_info *steps; /**< in the order they were first recorded */
	size_t n_steps;
	zenc_hook_record *run_hooks;
	size_t n_run_hooks;
	void *arena; /**< the library's allocation; do not touch */
} zenc_run_info;

/** Runs, as zenc_store_runs_list() fills it in. */
typedef struct zenc_run_list {
	zenc_run_record *runs; /**< newest first */
	size_t n;
	void *arena; /**< the library's allocation; do not touch */
} zenc_run_list;

/** Which runs zenc_store_runs_list() lists; all zero: every run. */
typedef struct zenc_run_filter {
	const char *pipeline; /**< NULL: any */
	const char *status;   /**< NULL: any */
	size_t limit;         /**< 0: no limit */
	size_t offset;
} zenc_run_filter;

/**
 * One alert of the outbox.  Every alert is written there before it is
 * sent; `status` is "pending" (not delivered yet), "delivered", "failed"
 * (refused for good) or "suppressed" (dedup_window, only_on_change).  No
 * field ever holds a secret.
 */
typedef struct zenc_alert_record {
	const char *id; /**< UUID */
	double created;
	const char *alerter; /**< the component's name, or NULL */
	const char *flavor;
	const char *run_id; /**< NULL when not about a run */
	const char *pipeline;
	const char *step;
	const char *event;       /**< "on_failure", "test", ... */
	const char *step_status; /**< the step's: "failed", "completed" */
	const char *error_type;
	const char *title;
	const char *dedup_key; /**< NULL: never de-duplicated */
	const char *status;
	/** The alert as a JSON object, to send it again; NULL when what
	 *  the store holds is not valid JSON. */
	const char *alert_json;
	int attempts; /**< delivery attempts so far */
	const char *last_error;
	double updated;
	double delivered;
	double lease_until; /**< someone is sending it until then */
} zenc_alert_record;

/** Alerts, as zenc_store_alerts_list() fills it in. */
typedef struct zenc_alert_list {
	zenc_alert_record *alerts;
	size_t n;
	void *arena; /**< the library's allocation; do not touch */
} zenc_alert_list;

/**
 * Opens the metadata store of stack `stack` (NULL: the active stack), the
 * one its runs record into, creating its schema if needed.  Runs whose
 * orchestrating process died (same host, pid gone) are marked failed, and
 * steps left "running" in runs that ended are marked failed ("Lost").
 * `*out` is the caller's, to free with zenc_store_free().  Returns 0;
 * ZENC_ENOTFOUND for an unknown stack; ZENC_ECONFIG for an unreadable
 * stack configuration or an unknown store flavor; ZENC_ESTORE when the
 * store cannot be opened.
 */
ZENC_EXTERN(int) zenc_store_open(zenc_store **out, const char *stack);

/** The name of the stack whose store `store` is; owned by `store`. */
ZENC_EXTERN(const char *) zenc_store_stack_name(const zenc_store *store);

/**
 * Where the store is, as the stack configures it: the database file of an
 * SQLite store, the connection string of a PostgreSQL one, with every
 * {{secret.NAME}} reference left as it is (never a secret's value).
 * Owned by `store`.
 */
ZENC_EXTERN(const char *) zenc_store_location(const zenc_store *store);

/** Closes a store opened by zenc_store_open().  NULL is harmless. */
ZENC_EXTERN(void) zenc_store_free(zenc_store *store);

/**
 * Lists the runs that `filter` (NULL: every run) selects, newest first,
 * into `*out`, which the caller frees with zenc_run_list_free(), also
 * after an error.  Returns 0 or ZENC_ESTORE.
 */
ZENC_EXTERN(int)
zenc_store_runs_list(
	zenc_store *store, const zenc_run_filter *filter, zenc_run_list *out);

/**
 * Reads one run, found by id, by name or by a unique prefix of its id,
 * with its steps, attempts, artifacts and hook runs, into `*out`, which
 * the caller frees with zenc_run_info_free(), also after an error.
 * Returns 0; ZENC_ENOTFOUND for no such run; ZENC_EINVALID for a prefix
 * or name that several runs share; ZENC_ESTORE.
 */
ZENC_EXTERN(int)
zenc_store_run_show(
	zenc_store *store, const char *id_or_name, zenc_run_info *out);

/**
 * Deletes a run and all its records (not its artifacts), found as by
 * zenc_store_run_show().  Returns 0, or an error as that function does.
 */
ZENC_EXTERN(int)
zenc_store_run_delete(zenc_store *store, const char *id_or_name);

/**
 * Lists the alerts of the outbox whose status is `status` (NULL: any),
 * newest first, at most `limit` of them (0: all), into `*out`, which the
 * caller frees with zenc_alert_list_free(), also after an error.
 * Returns 0; ZENC_ESTATE for a store whose flavor has no outbox;
 * ZENC_ESTORE.
 */
ZENC_EXTERN(int)
zenc_store_alerts_list(
	zenc_store *store,
	const char *status,
	size_t limit,
	zenc_alert_list *out);

/** 1 when the store keeps an alert outbox (every built-in flavor does),
 *  0 when its flavor has none. */
ZENC_EXTERN(int) zenc_store_has_outbox(const zenc_store *store);

/**
 * Sends each pending alert of the outbox once more, through the alerter
 * that queued it, and counts what happened: delivered, still pending,
 * failed for good (each pointer may be NULL).  Returns 0; ZENC_ESTATE
 * for a store without an outbox; ZENC_ESTORE.
 */
ZENC_EXTERN(int)
zenc_store_alerts_flush(
	zenc_store *store, size_t *delivered, size_t *pending, size_t *failed);

/**
 * Hands the store's pending alerts, if it has any, to its courier: a
 * detached process, one per store, that retries them with backoff until
 * each is delivered, refused for good or past its alerter's
 * delivery_deadline, and then exits.  Returns at once; starts nothing
 * when no alert is pending, when a courier runs already, or when the
 * environment variable ZENC_COURIER is 0, off, no or false.  The `zenc`
 * command calls it for every store it opens.
 */
ZENC_EXTERN(void) zenc_store_deliver_pending(zenc_store *store);

/** How zenc_store_run_cancel() cancelled a run. */
typedef struct zenc_run_cancel_info {
	/** What was cancelled, one of `jobs` (the orchestrator's word for a
	 *  placed run, "Slurm job"), or NULL when the run's orchestrating
	 *  process was sent SIGTERM instead. */
	const char *unit;
	size_t jobs; /**< how many were cancelled */
	long pid;    /**< the process signalled */
} zenc_run_cancel_info;

/**
 * Cancels a running run, found as by zenc_store_run_show(), the way the
 * stack it ran on says: with an orchestrator that places runs elsewhere
 * (Slurm), what it placed is withdrawn and the run is marked for whoever
 * follows it; otherwise its
 * orchestrating process, which must be on this host, gets SIGTERM and
 * ends the run as an interrupted one (recorded "cancelled").  `out` (may be
 * NULL) says what was done.  Returns 0; ZENC_ENOTFOUND for no such run;
 * ZENC_ESTATE for a run that is not running or runs on another host; ZENC_EIO
 * when the process cannot be signalled; the errors of Slurm otherwise.
 */
ZENC_EXTERN(int)
zenc_store_run_cancel(
	zenc_store *store, const char *id_or_name, zenc_run_cancel_info *out);

/**
 * The folder of run `id_or_name`'s files in the artifact store of the
 * stack it ran on (of the store's own stack when that one is gone): its
 * outputs, and the logs of its steps, RUN_DIR/STEP/log.N for attempt N,
 * written while the attempt runs.  `*out` is the caller's, to free().
 * Returns 0, or an error as zenc_store_run_show() does.
 */
ZENC_EXTERN(int)
zenc_store_run_dir(zenc_store *store, const char *id_or_name, char **out);

/** What zenc_store_run_purge() removed, or would remove. */
typedef struct zenc_purge_info {
	uint64_t bytes; /**< disk space of the files removed */
	size_t files;   /**< files removed */
	size_t kept;    /**< artifacts kept: another run points to them */
} zenc_purge_info;

/**
 * Deletes a run as zenc_store_run_delete() does, and then its files in
 * the artifact store (its folder, zenc_store_run_dir(), and its outputs):
 * every one but an output that an artifact of another run points to (a
 * step that run took from the cache), which stays where it is.  With
 * `dry_run`, deletes nothing and counts what it would.  `out` (may be
 * NULL) says what was done.  Returns 0; ZENC_ESTATE for a run still
 * running; otherwise an error as zenc_store_run_show() does.  Files that
 * cannot be removed are logged as warnings and not counted.
 */
ZENC_EXTERN(int)
zenc_store_run_purge(
	zenc_store *store,
	const char *id_or_name,
	int dry_run,
	zenc_purge_info *out);

/** Frees what a list or show call filled in, and zeroes `*list`.  NULL
 *  and a zeroed struct are harmless. */
ZENC_EXTERN(void) zenc_run_list_free(zenc_run_list *list);
/** As zenc_run_list_free(), for zenc_store_run_show(). */
ZENC_EXTERN(void) zenc_run_info_free(zenc_run_info *info);
/** As zenc_run_list_free(), for zenc_store_alerts_list(). */
ZENC_EXTERN(void) zenc_alert_list_free(zenc_alert_list *list);

ZENC_END_DECL

#endif
