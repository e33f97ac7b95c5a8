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

#define zenc__debug(...) zenc__log(ZENC_LOG_DEBUG, __VA_ARGS__)
#define zenc__info(...) zenc__log(ZENC_LOG_INFO, __VA_ARGS__)
#define zenc__warn(...) zenc__log(ZENC_LOG_WARN, __VA_ARGS__)

#endif
