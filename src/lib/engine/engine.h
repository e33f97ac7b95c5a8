/*
 * The engine's own structures: pipelines, steps, hook lists, runs and the
 * step context.  Orchestrators and the CLI read them; only pipeline.c,
 * params.c and the executor change them.
 */
#ifndef ZENC_LIB_ENGINE_H
#define ZENC_LIB_ENGINE_H

#include <sys/types.h>

#include "internal.h"
#include "stores/store.h"

/* Hook events, in the order they fire within an attempt.  Run-level
 * events come last. */
typedef enum zenc__event {
	ZENC__ON_START = 0,
	ZENC__ON_SUCCESS,
	ZENC__ON_RETRY,
	ZENC__ON_FAILURE,
	ZENC__ON_END,
	ZENC__ON_RUN_SUCCESS,
	ZENC__ON_RUN_FAILURE,
	/* Run scope (envhooks.c): on_run_start before the first step,
	 * on_run_end after the outcome's run-level hooks; on_init and
	 * on_cleanup once per execution environment. */
	ZENC__ON_RUN_START,
	ZENC__ON_RUN_END,
	ZENC__ON_INIT,
	ZENC__ON_CLEANUP,
	ZENC__EVENT_COUNT
} zenc__event;

const char *zenc__event_name(zenc__event e); /* "on_start", ... */
int zenc__event_parse(zenc__event *out, const char *name);

/* A registered hook: a copy of the user's zenc_hook that owns its strings.
 * Hooks from configuration may also be "builtin" names or dlopen'd. */
typedef struct zenc__hook {
	zenc_hook h; /* name, command and argv point into owned memory */
	char *name;
	char *command;
	char **argv;
	char *dir; /* working folder for command hooks, or NULL */
	void *arg; /* ZENC__HOOK_INIT_FN: the argument of the function */
} zenc__hook;

/* Kinds of hooks only the engine makes (never in a zenc_hook from the
 * caller): zenc_pipeline_on_init's and zenc_pipeline_on_cleanup's
 * functions, which return and receive the init state (envhooks.c). */
#define ZENC__HOOK_INIT_FN ((zenc_hook_kind)100)
#define ZENC__HOOK_CLEANUP_FN ((zenc_hook_kind)101)

typedef struct zenc__hook_list {
	zenc__hook *items;
	size_t n, cap;
} zenc__hook_list;

typedef struct zenc__output {
	char *name;
	zenc_type type;
} zenc__output;

typedef struct zenc__input {
	char *name;
	char *from_step; /* resolved at validation */
	char *from_output;
	struct zenc_step *from;
	zenc_type type;     /* the upstream output's type, after validation */
	zenc_type declared; /* 0, or the type the step declared it reads */
} zenc__input;

typedef struct zenc__retry {
	int set; /* 1 when configured at this level */
	int max_retries;
	double delay;
	double backoff;
} zenc__retry;

struct zenc_step {
	struct zenc_pipeline *pipeline;
	size_t index;
	char *name;
	zenc_step_fn fn;
	void *fn_payload; /* for steps that are not plain C functions */
	/* The body only runs a command and touches no global state, so the
	 * orchestrator may run it (and its command hooks) in a thread
	 * instead of a forked child. */
	int threadable;
	void (*payload_free)(void *payload);
	zenc__output *outputs;
	size_t n_outputs, cap_outputs;
	zenc__input *inputs;
	size_t n_inputs, cap_inputs;
	char **after; /* upstream step names */
	size_t n_after, cap_after;
	/* Parameters. */
	char *params_type;
	const zenc_param *param_fields;
	size_t params_size;
	/* Settings; 0 / unset means "the pipeline's". */
	zenc__retry retry;
	double timeout;
	double hook_timeout;
	size_t memory_limit;
	zenc__hook_list hooks[ZENC__ON_END + 1];
	/* Filled at validation: steps this one depends on (deduplicated). */
	struct zenc_step **deps;
	size_t n_deps;
	/* The step cache (engine/cache.c).  `cache`: 0 as the pipeline
	 * says, 1 on, -1 off.  `cache_version` stands in for the build id
	 * of the code; `cache_code`, when set, for the code itself (a YAML
	 * step's command and environment), with the content of the files
	 * matched by `cache_sources` (globs relative to `cache_dir`). */
	int cache;
	char *cache_version;
	char *cache_code;
	char **cache_sources;
	size_t n_cache_sources;
	char *cache_dir;
};

typedef struct zenc__named_hook {
	char *name;
	zenc__hook hook;
} zenc__named_hook;

struct zenc_pipeline {
	char *name;
	zenc_step **steps;
	size_t n_steps, cap_steps;
	zenc__hook_list hooks[ZENC__EVENT_COUNT];
	zenc__retry retry;
	double hook_timeout; /* 0: default 30 s */
	zenc_hook_failure hook_failure;
	zenc__named_hook *named; /* zenc_pipeline_register_hook() */
	size_t n_named, cap_named;
	int validated;
	/* Step names, hashed: slots hold index + 1 (0: empty), open
	 * addressing, at most half full. */
	size_t *name_slots;
	size_t n_slots;
	int duplicate; /* a duplicate step name was added */
	char *duplicate_name;
	int cache; /* 0: each step's default, 1 on, -1 off */
};

#define ZENC__DEFAULT_HOOK_TIMEOUT 30.0

/* Copies `h` into `list` (strings and argv are duplicated). */
int zenc__hook_list_add(zenc__hook_list *list, const zenc_hook *h);
/* True for the standard alerter hooks, which also serve as run-level
 * hooks (alerters/hooks_std.c). */
bool zenc__hook_is_alerter(const zenc_hook *h);
void zenc__hook_list_release(zenc__hook_list *list);
/* 0 when `h` may be a run-level hook (void(void), void(const zenc_run *),
 * a command, a built-in or a standard alerter hook), else an error. */
int zenc__check_run_hook(const zenc_hook *h);
void zenc__hook_copy(zenc__hook *dst, const zenc_hook *src);
void zenc__hook_release(zenc__hook *h);

/* The init state of this process (envhooks.c): set by an init hook
 * function, or read from $ZENC_INIT_STATE_FILE after an init command
 * (a non-empty file replaces the state with its text, and is emptied). */
void zenc__init_state_set(void *state);
void zenc__init_state_from_file(void);

/* The list that applies to a step for an event: the step's own hooks
 * when it has any for that event, else the pipeline's. */
const zenc__hook_list *zenc__step_hooks(const zenc_step *s, zenc__event e);

#endif
