/*
 * Small helpers shared by the library and the CLI: a growable string
 * buffer, JSON output, time, ids and file system helpers.  None of these
 * are public symbols.
 */
#ifndef ZENC_UTIL_H
#define ZENC_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define ZENC__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define ZENC__PRINTF(a, b)
#endif

/* A growable NUL-terminated buffer, after git's strbuf.  An allocation
 * failure aborts: the library treats memory exhaustion as fatal. */
typedef struct zenc_buf {
	char *ptr;
	size_t len;
	size_t cap;
} zenc_buf;

#define ZENC_BUF_INIT                                                          \
	{                                                                      \
		NULL, 0, 0                                                     \
	}

void zenc_buf_grow(zenc_buf *b, size_t extra);
void zenc_buf_put(zenc_buf *b, const void *data, size_t n);
void zenc_buf_puts(zenc_buf *b, const char *s);
void zenc_buf_putc(zenc_buf *b, char c);
void zenc_buf_printf(zenc_buf *b, const char *fmt, ...) ZENC__PRINTF(2, 3);
void zenc_buf_vprintf(zenc_buf *b, const char *fmt, va_list ap);
void zenc_buf_clear(zenc_buf *b);
/* The buffer's text, never NULL ("" when empty). */
const char *zenc_buf_cstr(const zenc_buf *b);
/* Hands the string to the caller (who frees it) and resets the buffer. */
char *zenc_buf_detach(zenc_buf *b);
void zenc_buf_release(zenc_buf *b);

/* The length of the valid UTF-8 sequence at `s` (of `n` bytes), or 0:
 * overlong forms, surrogates and code points past U+10FFFF are not. */
size_t zenc__utf8_len(const unsigned char *s, size_t n);

/* JSON output. */
void zenc_json_str(zenc_buf *b, const char *s); /* quoted; NULL -> null */
void zenc_json_strn(zenc_buf *b, const char *s, size_t n);
/* A JSON string with invalid UTF-8 replaced by U+FFFD (and \b, \f as
 * \u escapes); NULL -> null.  What alerts send. */
void zenc__json_utf8(zenc_buf *b, const char *s);
/* The same, without the quotes (for body templates). */
void zenc__json_utf8_inner(zenc_buf *b, const char *s);
/* Copies at most `max` bytes of `s`, cut at a character boundary, with
 * an ellipsis when cut. */
void zenc__utf8_truncate(zenc_buf *b, const char *s, size_t max);

/* Memory helpers that abort on exhaustion. */
void *zenc__malloc(size_t n);
void *zenc__calloc(size_t n, size_t size);
void *zenc__realloc(void *p, size_t n);
char *zenc__strdup(const char *s); /* NULL -> NULL */
char *zenc__strndup(const char *s, size_t n);
char *zenc__asprintf(const char *fmt, ...) ZENC__PRINTF(1, 2);

/* Grows an array `*arr` of `*cap` elements of `size` bytes to hold at
 * least `need` elements. */
void zenc__array_grow(void **arr, size_t *cap, size_t need, size_t size);

/* Time. */
double zenc__now(void);       /* wall clock, seconds since the epoch */
double zenc__monotonic(void); /* monotonic seconds */
/* ISO 8601 UTC with microseconds: "2026-11-25T18:03:01.123456Z". */
void zenc__time_iso(zenc_buf *b, double t);
/* Local time as "2026_11_25-18_03_01_123456". */
void zenc__time_runname(zenc_buf *b, double t);
void zenc__sleep(double seconds);

/* A random version-4 UUID, 36 characters and a NUL. */
void zenc__uuid(char out[37]);

/* Parses "500ms", "2s", "1.5", "10m", "1h" into seconds.  0 or -1. */
int zenc__parse_duration(const char *s, double *out);
/* Parses "512", "512K", "512M", "2G" into bytes.  0 or -1. */
int zenc__parse_size(const char *s, size_t *out);

/* The name used in environment variables: upper case, every character
 * other than A-Z and 0-9 turned into '_'. */
void zenc__env_name(zenc_buf *b, const char *name);

/* File system. */
int zenc__mkdir_p(const char *path, int mode); /* 0 or -1 with errno */
/* Writes `data` to `path` atomically (temp file + fsync-less rename).
 * `mode` is the file mode (e.g. 0644, or 0600 for secrets). 0 or -1. */
int zenc__write_file_atomic(
	const char *path, const void *data, size_t n, int mode);
/* Reads a whole file into `b` (appending).  0 or -1 with errno. */
int zenc__read_file(zenc_buf *b, const char *path);
/* Appends what `fd` holds, to its end, to `b` (`expect`: the size it
 * likely has, 0: not known); 0, or -1 with errno. */
int zenc__read_fd(zenc_buf *b, int fd, size_t expect);

/* The shortest "%.Ng" text that reads back as exactly `v`. */
void zenc__fmt_double(zenc_buf *b, double v);

/*
 * The one matcher of options with a value, for the zenc command and for
 * pipeline programs (zenc_main()): at argv[*i], "NAME VALUE" and
 * "NAME=VALUE" (NAME as typed: "--stack", "-j").  Returns 1 with *out set
 * (and *i moved past a separate value), 0 when argv[*i] is something
 * else, -1 when NAME is the last argument and has no value.
 */
int zenc__opt_value(
	int argc, char **argv, int *i, const char *name, const char **out);

/* The home folders: $ZENC_HOME (default ~/.config/zenc) and $ZENC_DATA
 * (default ~/.local/share/zenc).  Returned strings are static. */
const char *zenc__config_home(void);
const char *zenc__data_home(void);

#endif
