#ifndef ZENC_COMMON_H
#define ZENC_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define ZENC_BEGIN_DECL extern "C" {
#define ZENC_END_DECL }
#else
#define ZENC_BEGIN_DECL
#define ZENC_END_DECL
#endif

#if defined(__GNUC__)
#define ZENC_EXTERN(type) __attribute__((visibility("default"))) type
#define ZENC_FORMAT(a, b) __attribute__((format(printf, a, b)))
#else
#define ZENC_EXTERN(type) type
#define ZENC_FORMAT(a, b)
#endif

#define ZENC_VERSION "0.1.0"
#define ZENC_VERSION_MAJOR 0
#define ZENC_VERSION_MINOR 1
#define ZENC_VERSION_PATCH 0

ZENC_BEGIN_DECL

/** The type of a step output or input. */
typedef enum zenc_type {
	ZENC_INT = 1,    /**< int64_t */
	ZENC_DOUBLE = 2, /**< double */
	ZENC_BOOL = 3,   /**< bool */
	ZENC_STRING = 4, /**< NUL-terminated UTF-8 text */
	ZENC_BYTES = 5,  /**< an arbitrary byte buffer */
	ZENC_FILE = 6,   /**< a file: zenc_output_file(), zenc_input_path() */
	ZENC_DIR = 7     /**< a folder, the same way */
} zenc_type;

typedef struct zenc_pipeline zenc_pipeline;
typedef struct zenc_step zenc_step;
typedef struct zenc_step_context zenc_step_context;
typedef struct zenc_run zenc_run;
typedef struct zenc_stack zenc_stack;
typedef struct zenc_alerter zenc_alerter;

/** A step body: return 0 on success or `return zenc_raise(ctx, ...)`. */
typedef int (*zenc_step_fn)(zenc_step_context *ctx);

/** The name of a type ("int", "double", "bool", "string", "bytes",
 *  "file", "dir"). */
ZENC_EXTERN(const char *) zenc_type_name(zenc_type t);

/**
 * Parses a type name as above into `*out`.
 * Returns 0, or ZENC_EINVALID for an unknown name.
 */
ZENC_EXTERN(int) zenc_type_parse(zenc_type *out, const char *name);

/** The library's version string, e.g. "0.1.0". */
ZENC_EXTERN(const char *) zenc_version(void);

/** Log levels for zenc_log_set(). */
typedef enum zenc_log_level {
	ZENC_LOG_DEBUG = 0,
	ZENC_LOG_INFO = 1,
	ZENC_LOG_WARN = 2,
	ZENC_LOG_ERROR = 3,
	ZENC_LOG_NONE = 4
} zenc_log_level;

typedef void (*zenc_log_cb)(
	zenc_log_level level, const char *message, void *payload);

/**
 * Sends the library's log lines at `level` or above to `cb`.  The library
 * itself never prints; zenc_main() installs a printer to standard error.
 * Pass NULL to silence.  Not thread-safe against concurrent logging.
 */
ZENC_EXTERN(void)
zenc_log_set(zenc_log_level level, zenc_log_cb cb, void *payload);

ZENC_END_DECL

#endif
