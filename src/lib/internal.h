/* Internal declarations shared by the library's modules. */
#ifndef ZENC_LIB_INTERNAL_H
#define ZENC_LIB_INTERNAL_H

#include "zenc.h"
#include "../util/util.h"

/* Last, after every system header: see banned.h. */
#include "../util/banned.h"

/* Sets this thread's last error and returns `code`, so that a failing
 * call can `return zenc__error_set(ZENC_EINVALID, "...", ...)`. */
int zenc__error_set(int code, const char *fmt, ...) ZENC__PRINTF(2, 3);
void zenc__error_clear(void);

/* The library's logger (zenc_log_set() chooses where it goes). */
void zenc__log(zenc_log_level level, const char *fmt, ...) ZENC__PRINTF(2, 3);
int zenc__log_enabled(zenc_log_level level);

/*
 * The statuses of runs, steps, attempts and hook runs, and the kinds of
 * error the library itself reports, each with one name table (error.c).
 * The names are what the store keeps and what hooks, alerts and the CLI
 * see: they never change.
 */
#define ZENC__STATUS_MAP(X)                                                    \
	X(PENDING, "pending")                                                  \
	X(RUNNING, "running")                                                  \
	X(COMPLETED, "completed")                                              \
	X(FAILED, "failed")                                                    \
	X(SKIPPED, "skipped")                                                  \
	X(CANCELLED, "cancelled")                                              \
	X(RETRYING, "retrying")                                                \
	X(TIMEOUT, "timeout")                                                  \
	X(CACHED, "cached")

typedef enum zenc__status {
	ZENC__STATUS_UNKNOWN = 0,
#define ZENC__STATUS_ENUM(name, text) ZENC__STATUS_##name,
	ZENC__STATUS_MAP(ZENC__STATUS_ENUM)
#undef ZENC__STATUS_ENUM
} zenc__status;

/* "completed"; "unknown" for a value outside the table. */
const char *zenc__status_name(zenc__status s);
/* The status named `name`; ZENC__STATUS_UNKNOWN for NULL or another
 * string. */
zenc__status zenc__status_parse(const char *name);

#define ZENC__ERROR_KIND_MAP(X)                                                \
	X(ERROR, "Error")                                                      \
	X(STEP_ERROR, "StepError")                                             \
	X(SIGNAL, "Signal")                                                    \
	X(EXIT_CODE, "ExitCode")                                               \
	X(TIMEOUT, "Timeout")                                                  \
	X(OUT_OF_MEMORY, "OutOfMemory")                                        \
	X(CANCELLED, "Cancelled")                                              \
	X(INTERRUPTED, "Interrupted")                                          \
	X(HOOK_FAILED, "HookFailed")                                           \
	X(MISSING_OUTPUT, "MissingOutput")                                     \
	X(ARTIFACT_ERROR, "ArtifactError")                                     \
	X(SPAWN_ERROR, "SpawnError")                                           \
	X(SUBMIT_ERROR, "SubmitError")                                         \
	X(LOST, "Lost")                                                        \
	X(COMMAND_ERROR, "CommandError")                                       \
	X(OUTPUT_ERROR, "OutputError")                                         \
	X(OUTPUT_TYPE_ERROR, "OutputTypeError")

/* What kind of error a failure is: one the library reports, or
 * ZENC__EK_USER, a type the step raised (its name is then the type). */
typedef enum zenc__error_kind {
	ZENC__EK_NONE = 0,
	ZENC__EK_USER,
#define ZENC__EK_ENUM(name, text) ZENC__EK_##name,
	ZENC__ERROR_KIND_MAP(ZENC__EK_ENUM)
#undef ZENC__EK_ENUM
} zenc__error_kind;

/* "Timeout"; NULL for ZENC__EK_NONE and ZENC__EK_USER. */
const char *zenc__error_kind_name(zenc__error_kind k);
/* The kind whose name is `type`: ZENC__EK_NONE for NULL, ZENC__EK_USER
 * for a type the library does not report itself. */
zenc__error_kind zenc__error_kind_parse(const char *type);

#define zenc__debug(...) zenc__log(ZENC_LOG_DEBUG, __VA_ARGS__)
#define zenc__info(...) zenc__log(ZENC_LOG_INFO, __VA_ARGS__)
#define zenc__warn(...) zenc__log(ZENC_LOG_WARN, __VA_ARGS__)

#endif
