#ifndef ZENC_ERRORS_H
#define ZENC_ERRORS_H

#include "common.h"

ZENC_BEGIN_DECL

/*
 * Every library error code, from one list: the enum, zenc_strerror() and
 * zenc_error_name() are all made from it.  Numbers never change; new codes
 * are only appended.
 */
#define ZENC_ERROR_MAP(X)                                                      \
	X(OK, 0, "success")                                                    \
	X(ERROR, -1, "generic error")                                          \
	X(ENOMEM, -2, "out of memory")                                         \
	X(EINVALID, -3, "invalid argument")                                    \
	X(ENOTFOUND, -4, "not found")                                          \
	X(EEXISTS, -5, "already exists")                                       \
	X(ETYPE, -6, "type mismatch")                                          \
	X(ECYCLE, -7, "dependency cycle")                                      \
	X(ESTORE, -8, "metadata store error")                                  \
	X(EIO, -9, "input/output error")                                       \
	X(ECONFIG, -10, "configuration error")                                 \
	X(EUNREACHABLE, -11, "service unreachable")                            \
	X(ESTATE, -12, "operation not allowed in this state")                  \
	X(ETIMEOUT, -13, "timed out")                                          \
	X(EINUSE, -14, "still in use")

typedef enum zenc_error_code {
#define ZENC__ERR_ENUM(name, num, text) ZENC_##name = num,
	ZENC_ERROR_MAP(ZENC__ERR_ENUM)
#undef ZENC__ERR_ENUM
} zenc_error_code;

/** A fixed description of `code`; never NULL. */
ZENC_EXTERN(const char *) zenc_strerror(int code);

/** The code's name, e.g. "ZENC_ENOTFOUND"; never NULL. */
ZENC_EXTERN(const char *) zenc_error_name(int code);

/**
 * The message of the last error raised by a zenc call on this thread, e.g.
 * "unknown step 'trian' in --param 'trian.lr=1'".  Never NULL: "" when
 * there was none.  Valid until the next failing call on this thread.
 */
ZENC_EXTERN(const char *) zenc_error_last(void);

/** The code of the last error on this thread, or 0. */
ZENC_EXTERN(int) zenc_error_last_code(void);

/** Exit status of a program whose run completed. */
#define ZENC_EXIT_OK 0
/** Exit status of a program whose run failed. */
#define ZENC_EXIT_FAILED 1
/** Exit status for a usage error, an input that does not validate or a
 *  refused request. */
#define ZENC_EXIT_USAGE 2
/** Exit status for a broken environment: a store, stack or service that
 *  cannot be used. */
#define ZENC_EXIT_ENV 3
/** Exit status of a program whose run was cancelled: SIGINT (Ctrl-C) or
 *  SIGTERM (`zenc runs cancel`) stopped it, as a shell reports Ctrl-C. */
#define ZENC_EXIT_CANCELLED 130

/**
 * The exit status that the zenc command and zenc_main() give for a call
 * that failed with `code`: ZENC_EXIT_USAGE when the request itself was
 * refused (ZENC_EINVALID, ZENC_ENOTFOUND, ZENC_EEXISTS, ZENC_ETYPE,
 * ZENC_ECYCLE, ZENC_ESTATE, ZENC_EINUSE), ZENC_EXIT_ENV for every other
 * negative code (the store, the stack's configuration, I/O, a service,
 * memory), ZENC_EXIT_OK for 0 or a positive value.  Never fails.
 */
ZENC_EXTERN(int) zenc_exit_status(int code);

ZENC_END_DECL

#endif
