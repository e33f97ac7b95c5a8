/*
 * The run-time side of the engine: the state of a run, of each step and of
 * one attempt, and the step executor that runs wherever an orchestrator
 * placed an attempt.
 *
 * How an attempt runs (docs/hooks.md): the executor walks a cursor through
 * on_start hooks, the body, the outcome hooks (on_success, on_retry or
 * on_failure) and on_end hooks, reporting every transition as an event.
 * The supervisor consumes the events (directly under isolation "none",
 * through a pipe from the step's child under "process") and so always
 * knows where the attempt stands.  When the child dies or is killed, the
 * supervisor records what was running as failed and forks a continuation
 * of itself that resumes the walk at the next position: hooks fire even
 * when the step process is gone, and a dead hook never stops the hooks
 * after it.
 */
#ifndef ZENC_LIB_EXEC_H
#define ZENC_LIB_EXEC_H

#include <pthread.h>
#include <sys/types.h>

#include "artifact.h"
#include "engine/engine.h"
#include "config/stack.h"

typedef enum zenc__phase {
	ZENC__PH_START = 0, /* on_start hooks */
	ZENC__PH_BODY,      /* the step body and storing its outputs */
	ZENC__PH_OUTCOME,   /* on_success, on_retry or on_failure hooks */
	ZENC__PH_END,       /* on_end hooks */
	ZENC__PH_RUN,       /* run-level hooks */
	ZENC__PH_DONE
} zenc__phase;

typedef struct zenc__cursor {
	zenc__phase phase;
	zenc__event ev; /* the list walked in PH_OUTCOME and PH_RUN */
	size_t idx;     /* the next hook of that list */
} zenc__cursor;

typedef struct zenc__artifact {
	char *name;
	zenc_type type;
	char *uri;
	int64_t size;
	char checksum[ZENC__SUM_MAX]; /* artifact.h */
} zenc__artifact;

/*
 * One failure, as it travels from where it happened (the body, a killed
 * process, a lost job) to the step's state, the store's records, the
 * hooks' zenc_exception and the alerts: every one of them is filled from
 * this struct, with the helpers below.
 */
typedef struct zenc__failure {
	zenc__error_kind kind; /* ZENC__EK_USER: `type` says which */
	char *type;            /* the kind's name, or the type raised */
	char *message;
	int exit_code;
	int signal;
	int attempt;
} zenc__failure;

void zenc__failure_release(zenc__failure *f);
/* A failure of type `type` (a kind's name or a type a step raised). */
void zenc__failure_set(
	zenc__failure *f,
	const char *type,
	const char *message,
	int exit_code,
	int sig,
	int attempt);
/* A failure of one of the library's own kinds. */
void zenc__failure_kind(
	zenc__failure *f,
	zenc__error_kind kind,
	const char *message,
	int exit_code,
	int sig,
	int attempt);
void zenc__failure_copy(zenc__failure *dst, const zenc__failure *src);
/* What a hook receives; points into `f`. */
void zenc__failure_exception(const zenc__failure *f, zenc_exception *out);

typedef enum zenc__step_status {
	ZENC__ST_PENDING = 0,
	ZENC__ST_RUNNING,
	ZENC__ST_WAITING, /* between attempts, until `wake` */
	ZENC__ST_COMPLETED,
	ZENC__ST_FAILED,
	ZENC__ST_SKIPPED
} zenc__step_status;

struct zenc__exec;
struct zenc__attempt;

typedef struct zenc__stepstate {
	zenc_step *step;
	zenc__step_status status;
	int attempt; /* attempts started so far */
	int max_retries;
	double delay, backoff;
	double timeout, hook_timeout;
	void *params;         /* the filled struct, or NULL */
	char **param_strings; /* strings the struct points to, owned */
	size_t n_param_strings;
	char *params_json;
	char *upstream_json;  /* the names of the steps it depends on */
	char *log_uri;        /* the last attempt's log, when it wrote one */
	zenc__artifact *arts; /* of the successful attempt */
	size_t n_arts;
	double started, ended, wake;
	/* Monotonic time since which the step has been running with no
	 * "running" row in the store (engine.c writes that row
	 * late, or never when the step ends first); 0: nothing owed. */
	double unrecorded;
	zenc__failure error; /* the final error */
	struct zenc__attempt *cur;
	/* The step cache (engine/cache.c): the step's key once it was
	 * ready, the run that executed it when it was taken from the cache
	 * (NULL: it executed in this run), and what the run resumed
	 * recorded of it (key, the run whose row it is, the run that
	 * executed it). */
	char *cache_key;
	char *cached_from;
	char *resume_key, *resume_run, *resume_from;
} zenc__stepstate;

struct zenc_run {
	char id[37];
	char *name;
	char *pipeline;
	int failed;
	/* Stopped by SIGINT, SIGTERM or `zenc runs cancel`: it failed, and
	 * is recorded as cancelled. */
	int cancelled;
};

typedef struct zenc__exec {
	zenc_pipeline *p;
	zenc_run *run;
	zenc_stack *stack;
	zenc__store *store;
	char *run_dir; /* artifacts of this run */
	int jobs;
	zenc_isolation isolation;
	int keep_going;
	zenc_hook_failure hook_failure;
	int quiet;
	zenc__stepstate *steps;
	int hook_seq;
	int stop; /* a step failed: launch nothing new */
	size_t running;
	double started;
	int threads; /* command steps run in threads (see
			orchestrator_local.c) */
	/* Step rows not written yet (engine.c). */
	zenc__stepstate **owed;
	size_t n_owed, cap_owed;
	/* Attempts that completed and whose end is not written yet: written
	 * once the steps they made ready have started (engine.c). */
	struct zenc__attempt **ends;
	size_t n_ends, cap_ends;
	struct zenc__flusher *flusher;
	/* Write each "running" row at once: a Slurm job's step, whose row
	 * tells the client (and `zenc runs cancel`) that it started. */
	int eager_rows;
	/* Forks the step children of isolation process (zygote.c). */
	struct zenc__zygote *zygote;
	/* The run's orchestrator (orchestrator.h), and the one that places
	 * what the engine runs on this machine: the same, unless the run
	 * is placed elsewhere. */
	const struct zenc__orchestrator *orch;
	const struct zenc__orchestrator *place;
	/* A record write was given up: the end of the run writes every
	 * step's row again (engine.c). */
	int records_lost;
	/* on_init ran (or was due) in this process: on_cleanup runs at the
	 * end (envhooks.c). */
	int env_inited;
	/* The step cache (engine/cache.c): --no-cache (execute every step,
	 * still record keys), and the run resumed (--resume), or NULL. */
	int no_cache;
	char *resumed_from;
} zenc__exec;

/* A hook run as the supervisor records it. */
typedef struct zenc__hookrun {
	zenc__event event;
	char *hook;
	int attempt;
	zenc__status status;
	char *error;
	double started, duration;
	int seq;
} zenc__hookrun;

typedef struct zenc__attempt {
	zenc__exec *x;
	zenc__stepstate *ss; /* NULL for run-level hooks */
	int attempt;
	int last; /* no retry after this one */
	zenc__cursor cur;
	int failed;
	zenc__failure err;
	/* What the supervisor saw. */
	int in_hook, in_body, done;
	zenc__event hook_ev;
	char *hook_name;
	double hook_started, hook_timeout;
	double body_started;
	double deadline; /* monotonic; 0: none */
	int kill_reason; /* 0, or ZENC__KILL_* */
	int term_sent;
	double kill_at; /* when to follow SIGTERM with SIGKILL */
	zenc__hookrun *hooks;
	size_t n_hooks, cap_hooks;
	zenc__artifact *arts;
	size_t n_arts, cap_arts;
	double started, ended;
	/* Process isolation. */
	pid_t pid;
	int fd;
	zenc_buf in;
	/* In what runs the attempt: events not yet written (executor.c). */
	zenc_buf out;
	/* A command step run by a thread of the orchestrator (see
	 * orchestrator_local.c): no child process, so no pid. */
	int threaded;
	pthread_t thread;
	/* The thread stopped before a hook that is not a command (a
	 * built-in or a C function): the rest of the attempt goes on in a
	 * child of the zygote. */
	int yielded;
	/* Processes started for the attempt so far; the first may come
	 * from the zygote (zygote.c), whose child is then reaped by it. */
	int spawns;
	int from_zygote;
	/* Set by the placement: what runs the attempt is reaped by someone
	 * else, so its "done" event is its end and the supervisor need not
	 * wait for its pipe to close. */
	int done_is_end;
} zenc__attempt;

#define ZENC__KILL_TIMEOUT 1
#define ZENC__KILL_HOOK_TIMEOUT 2
#define ZENC__KILL_MEMORY 3
#define ZENC__KILL_CANCEL 4

/* A value a step body set or read. */
typedef struct zenc__value {
	int set;
	zenc_buf data;
	/* An output already in the artifact store (bytes, file, dir): its
	 * path, size and checksum; an input of type bytes mapped. */
	char *uri;
	int64_t size;
	char sum[ZENC__SUM_MAX];
	void *map;
	size_t map_len;
} zenc__value;

struct zenc_step_context {
	zenc__attempt *a;
	zenc__exec *x;
	zenc__stepstate *ss;
	zenc_step *step;
	int attempt;
	zenc__value *outs; /* one per declared output */
	zenc__value *ins;  /* one per input, loaded on first read */
	int raised;        /* the body called zenc_raise() */
	zenc__failure raise;
	/* While a hook runs. */
	const char *hook_event;
	const zenc_exception *error;
	int in_hook;
	int hook_raised;
	char *hook_err;
};

void zenc__ctx_init(zenc_step_context *ctx, zenc__attempt *a);
void zenc__ctx_release(zenc_step_context *ctx);
zenc_step_context *zenc__ctx_current(void);
void zenc__ctx_set_current(zenc_step_context *ctx);
/* Writes the body's outputs to the artifact store: each as
 * RUN_DIR/STEP/OUTPUT, atomically, with a checksum.  Appends to `arts`
 * (caller frees).  Returns 0, or -1 with the error in ctx->raise. */
int zenc__ctx_store_outputs(
	zenc_step_context *ctx, zenc__artifact **arts, size_t *n);
void zenc__artifact_release(zenc__artifact *a);

/* zenc_raise() that also sets the error's exit code and signal (steps
 * that are commands). */
int zenc__raise_status(
	zenc_step_context *ctx,
	const char *type,
	int exit_code,
	int sig,
	const char *fmt,
	...) ZENC__PRINTF(5, 6);
/* RUN_DIR/STEP, created if need be (caller frees), or NULL with errno. */
char *zenc__ctx_step_dir(zenc_step_context *ctx);
/* Sets output `name` (of type bytes, file or dir) from the file or folder
 * at `path`, moved into the store (context_files.c).  0 or a ZENC_E*
 * code with the error set. */
int zenc__output_path(
	zenc_step_context *ctx,
	const char *name,
	const char *path,
	int allow_bytes);
/* True when nobody can kill this attempt from outside (isolation none, or
 * a command step run by a thread): a command it runs must then enforce
 * the step's deadline itself. */
int zenc__ctx_self_supervised(const zenc_step_context *ctx);
/* The artifact of the upstream step that input `in` of the running step
 * reads, or NULL with ZENC_EIO set when that step recorded none. */
zenc__artifact *zenc__ctx_input_artifact(
	zenc_step_context *ctx, const zenc__input *in);
/* This run's folder in the artifact store. */
const char *zenc__ctx_run_dir(const zenc_step_context *ctx);
/* Data attached to a step that is not a plain C function (a command). */
void *zenc__ctx_step_payload(const zenc_step_context *ctx);
void zenc__step_set_payload(
	zenc_step *s, void *payload, void (*payload_free)(void *payload));

/* The events an executor reports. */
typedef enum zenc__msg {
	ZENC__MSG_HOOK_BEGIN = 'h',
	ZENC__MSG_HOOK_END = 'H',
	ZENC__MSG_BODY_BEGIN = 'b',
	ZENC__MSG_BODY_END = 'B',
	ZENC__MSG_ARTIFACT = 'a',
	ZENC__MSG_OUTCOME = 'o',
	ZENC__MSG_DONE = 'd'
} zenc__msg;

/* The log of attempt `attempt` of step `step` in the run's folder
 * `run_dir`: RUN_DIR/STEP/log.N (freed by the caller). */
char *zenc__attempt_log_path(
	const char *run_dir, const char *step, int attempt);

/* Walks the attempt's cursor to the end, in the documented hook order
 * (on_start, body, on_success/on_retry/on_failure, on_end).  `fd` is the
 * pipe to the supervisor, or -1 to report in-process. */
void zenc__attempt_exec(zenc__attempt *a, int fd);

/* Applies one event to the supervisor's view of the attempt: `fields`
 * are the NUL-separated fields of the message. */
void zenc__attempt_event(zenc__attempt *a, int type, char **fields, size_t n);

/* After the hook at the cursor failed: the next position (strict mode
 * turns a failed success hook into a failure of the step). */
void zenc__attempt_hook_failed(
	zenc__attempt *a, const char *hook, const char *why);

/* The supervisor's handling of a child that ended without "done":
 * records what was running as failed and moves the cursor on. */
void zenc__attempt_died(zenc__attempt *a, int wstatus);

void zenc__attempt_free(zenc__attempt *a);

/* Parameters (params.c). */
int zenc__params_init(zenc__stepstate *ss);
int zenc__params_apply(zenc__exec *x, const char *assignment);
int zenc__params_set(
	zenc__stepstate *ss,
	const char *field,
	const char *value,
	const char *origin);
void zenc__params_json(zenc__stepstate *ss);
void zenc__params_release(zenc__stepstate *ss);
/* Appends ZENC_PARAM_<NAME>=value strings to `env` (for command hooks). */
void zenc__params_env(
	const zenc__stepstate *ss, char ***env, size_t *n, size_t *cap);
/* The text of one parameter value. */
void zenc__param_text(zenc_buf *b, const zenc_param *f, const void *params);

/* Commands (command.c): run `shell` with /bin/sh -c, or `argv`, with
 * `env` added to the environment, `input` on standard input, in `dir`
 * (or the current folder), standard output and error to `out_fd` (or
 * inherited when -1), waiting at most `timeout` seconds (0: no limit).
 * Fills `*wstatus` and `*timed_out`.  With `own_group` the command gets
 * its own process group (killed whole at the deadline); without, it stays
 * in the caller's, so that a supervisor killing the caller's group kills
 * it too.  Returns 0, or -1 when the command could not be started (with
 * `err` telling why). */
int zenc__command_run(
	const char *shell,
	char *const *argv,
	char *const *env,
	const char *input,
	size_t input_len,
	const char *dir,
	int out_fd,
	double timeout,
	int own_group,
	int *wstatus,
	int *timed_out,
	zenc_buf *err);

/* Sends `sig` to the process group of every command running now that has
 * a group of its own. */
void zenc__commands_signal(int sig);

/* "killed by SIGSEGV", "exited with code 3". */
void zenc__describe_status(zenc_buf *b, int wstatus);

/* What a command hook gets of its step (the run, the step, its
 * parameters and error), as environment and JSON. */
void zenc__hook_context(
	zenc_buf *json,
	char ***env,
	size_t *n_env,
	const zenc__exec *x,
	const zenc__stepstate *ss,
	zenc__event ev,
	int attempt,
	const zenc__failure *err);

/* Built-in hooks named in configuration. */
int zenc__builtin_hook(zenc_hook *out, const char *name);

/* Alerter delivery behind zenc_alerter_post() and the standard hooks. */
int zenc__alerter_post_text(zenc_alerter *a, const char *message);
int zenc__alerter_post_standard(
	zenc_alerter *a,
	zenc_step_context *ctx,
	const zenc_exception *err,
	const char *message);

#endif
