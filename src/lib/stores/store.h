/*
 * The metadata store interface: what the engine records and what the CLI
 * reads back.  Flavors implement `zenc__store` and are opened by
 * zenc__store_open(); the SQL flavors (store_sqlite.c, store_postgres.c)
 * share one implementation of it, store_sql.c.  All strings passed in
 * are copied or used only during the call.  Times are seconds since the
 * Unix epoch (wall clock) as doubles; 0 means "not set".
 */
#ifndef ZENC_LIB_STORE_H
#define ZENC_LIB_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "zenc/records.h"

/* The records are those of <zenc/records.h>, under the names the library
 * has always used for them. */
typedef zenc_run_record zenc__run_record;
typedef zenc_attempt_record zenc__attempt_record;
typedef zenc_step_record zenc__step_record;
typedef zenc_artifact_record zenc__artifact_record;
typedef zenc_hook_record zenc__hook_record;
/* What zenc__store_run_show() returns: one run and all of it.  Owned by the
 * caller, freed with zenc__run_info_free(). */
typedef zenc_step_info zenc__step_info;
typedef zenc_run_info zenc__run_info;
typedef zenc_run_list zenc__run_list;
typedef zenc_run_filter zenc__run_filter;
/* One alert of the outbox (see zenc_alert_record). */
typedef zenc_alert_record zenc__alert_record;
typedef zenc_alert_list zenc__alert_list;

void zenc__alert_list_free(zenc__alert_list *list);

#define ZENC__STORE_VERSION 5

typedef struct zenc__store zenc__store;
struct zenc__store {
	unsigned int version;
	const char *flavor;

	/* A new run, status "running". */
	int (*run_begin)(zenc__store *self, const zenc__run_record *run);
	/* The run's final status and end time. */
	int (*run_end)(
		zenc__store *self,
		const char *run_id,
		const char *status,
		double ended);
	/* Inserts or replaces a step's row (one transaction).  Used for
	 * "running" at start and for skipped steps. */
	int (*step_put)(zenc__store *self, const zenc__step_record *step);
	/* A step attempt ended: the step row, the attempt, its artifacts and
	 * hook runs, all in one transaction. */
	int (*step_end)(
		zenc__store *self,
		const zenc__step_record *step,
		const zenc__attempt_record *attempt,
		const zenc__artifact_record *arts,
		size_t n_arts,
		const zenc__hook_record *hooks,
		size_t n_hooks);
	/* Run-level hook runs (step is NULL in each). */
	int (*hooks_put)(
		zenc__store *self, const zenc__hook_record *hooks, size_t n);
	/* Artifacts of a run's step (for inputs), by run id and step name. */
	int (*artifacts_get)(
		zenc__store *self,
		const char *run_id,
		const char *step,
		zenc__artifact_record **out,
		size_t *n,
		void **arena);
	int (*runs_list)(
		zenc__store *self,
		const zenc__run_filter *filter,
		zenc__run_list *out);
	/* A run by id, by name, or by a unique id prefix; ZENC_ENOTFOUND. */
	int (*run_show)(
		zenc__store *self, const char *id_or_name, zenc__run_info *out);
	int (*run_delete)(zenc__store *self, const char *id_or_name);
	void (*free)(zenc__store *self);

	/* Version 2: the alert outbox. */
	/* Inserts a new alert. */
	int (*alert_put)(zenc__store *self, const zenc__alert_record *a);
	/* Sets an alert's status, attempts, last error (NULL clears it) and
	 * lease; `updated` becomes now, and `delivered` too for
	 * "delivered".  ZENC_ENOTFOUND for an unknown id. */
	int (*alert_update)(
		zenc__store *self,
		const char *id,
		const char *status,
		int attempts,
		const char *last_error,
		double lease_until);
	/* Alerts, newest first; `status` NULL: any; `limit` 0: all. */
	int (*alerts_list)(
		zenc__store *self,
		const char *status,
		size_t limit,
		zenc__alert_list *out);
	/* Pending alerts nobody is sending (lease before `now`), oldest
	 * first. */
	int (*alerts_pending)(
		zenc__store *self, double now, zenc__alert_list *out);
	/* Takes a pending alert for sending until `until`, unless someone
	 * else holds it: *claimed 1 or 0. */
	int (*alert_claim)(
		zenc__store *self,
		const char *id,
		double now,
		double until,
		int *claimed);
	/* How many alerts with `dedup_key` were created since `since` and
	 * not suppressed. */
	int (*alerts_recent)(
		zenc__store *self,
		const char *dedup_key,
		double since,
		int *count);
	/* The final status ("completed", "failed") of step `step` in the
	 * latest run of `pipeline` that started before run `run_id`; "" when
	 * there is none.  Written NUL-terminated into out[size]. */
	int (*step_last_status)(
		zenc__store *self,
		const char *pipeline,
		const char *step,
		const char *run_id,
		char *out,
		size_t size);

	/* Version 3, may be NULL (then step_put per row): several step rows
	 * in one transaction. */
	int (*steps_put)(
		zenc__store *self, const zenc__step_record *steps, size_t n);

	/* Version 4: the courier's schedule. */
	/* Pending alerts nobody is sending whose next try is due at `now`,
	 * oldest first. */
	int (*alerts_due)(zenc__store *self, double now, zenc__alert_list *out);
	/* When the courier tries alert `id` again (0: at once). */
	int (*alert_next)(zenc__store *self, const char *id, double next_at);
	/* How many alerts are pending, and the earliest time one of them
	 * may be tried (0 when none is pending). */
	int (*alerts_wake)(zenc__store *self, size_t *pending, double *next);
	/* Also version 4, may be NULL: what a run's watcher needs
	 * (engine/watcher.c).  Records the pid of the run's watcher and
	 * `spec`, the JSON of the run's failure hooks and stack. */
	int (*watch_put)(
		zenc__store *self,
		const char *run_id,
		long watcher_pid,
		const char *spec);
	/* *spec (the caller frees it) and *watcher_pid; ZENC_ENOTFOUND when
	 * the run has no watch record. */
	int (*watch_get)(
		zenc__store *self,
		const char *run_id,
		long *watcher_pid,
		char **spec);
	/* Marks run `run_id` failed, if it is still "running", with its
	 * running steps failed with the error given; *marked says whether
	 * this call did it (of two callers, one does). */
	int (*run_fail)(
		zenc__store *self,
		const char *run_id,
		const char *error_type,
		const char *error_message,
		int sig,
		int *marked);

	/* Version 5, may be NULL (then no step is ever
	 * taken from the cache.  The latest step completed or cached with
	 * cache key `key`: *run_id, the run whose row it is (its artifact
	 * rows are the outputs to reuse), and *from, the run that executed
	 * it; both NUL-terminated UUIDs.  ZENC_ENOTFOUND when there is
	 * none. */
	int (*cache_lookup)(
		zenc__store *self,
		const char *key,
		char run_id[37],
		char from[37]);
	/* Version 5, may be NULL (then every artifact file counts as
	 * shared, and is kept): *shared is 1 when an artifact of a run
	 * other than `run_id` points to `uri` (a step taken from the cache
	 * records the uri of the run that made the file), else 0.  `owner`
	 * is the run whose folder holds `uri` when that is not `run_id`
	 * (NULL: none, or not known): while it exists, its file is shared. */
	int (*uri_shared)(
		zenc__store *self,
		const char *run_id,
		const char *uri,
		const char *owner,
		int *shared);
};

/*
 * Opens the store described by `flavor` ("sqlite") and `location` (a file
 * path for sqlite), creating and migrating the schema as needed, and marks
 * runs whose orchestrating process died (same host, pid gone) as failed.
 * Returns 0 or ZENC_ESTORE with zenc_error_last().
 */
int zenc__store_open(
	zenc__store **out, const char *flavor, const char *location);
int zenc__store_sqlite_open(zenc__store **out, const char *path);
/* steps_put, or step_put per row where a flavor has no steps_put. */
int zenc__store_steps_put(
	zenc__store *store, const zenc__step_record *steps, size_t n);
void zenc__store_free(zenc__store *store);
/* Whether the last store call of this thread that failed failed because
 * another process held the store's write lock for longer than the store
 * waits: the same write may succeed when tried again. */
int zenc__store_last_busy(void);
void zenc__run_info_free(zenc__run_info *info);
void zenc__run_list_free(zenc__run_list *list);
void zenc__arena_free(void *arena);

/*
 * The arena that flavors allocate query results in (the `arena` of
 * zenc__run_info and zenc__run_list, and of artifacts_get): many small
 * allocations released at once by zenc__arena_free().  Allocations are
 * aligned for any type and abort on exhaustion, like zenc__malloc().
 */
typedef struct zenc__arena zenc__arena;
zenc__arena *zenc__arena_new(void);
void *zenc__arena_alloc(zenc__arena *a, size_t n); /* zeroed */
void *zenc__arena_memdup(zenc__arena *a, const void *p, size_t n);
char *zenc__arena_strndup(zenc__arena *a, const char *s, size_t n);
char *zenc__arena_strdup(zenc__arena *a, const char *s); /* NULL -> NULL */

#endif
