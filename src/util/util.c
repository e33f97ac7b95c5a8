#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void oom(void)
{
	static const char msg[] = "zenc: out of memory\n";
	ssize_t r = write(2, msg, sizeof(msg) - 1);
	(void)r;
	abort();
}

void *zenc__malloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *zenc__calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *zenc__realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom();
	return q;
}

char *zenc__strdup(const char *s)
{
	return s ? zenc__strndup(s, strlen(s)) : NULL;
}

char *zenc__strndup(const char *s, size_t n)
{
	char *p = zenc__malloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *zenc__asprintf(const char *fmt, ...)
{
	zenc_buf b = ZENC_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	zenc_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return zenc_buf_detach(&b);
}

void zenc__array_grow(void **arr, size_t *cap, size_t need, size_t size)
{
	size_t n;

	if (need <= *cap)
		return;
	n = *cap ? *cap * 2 : 8;
	while (n < need)
		n *= 2;
	*arr = zenc__realloc(*arr, n * size);
	*cap = n;
}

void zenc_buf_grow(zenc_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1, n;

	if (need <= b->cap)
		return;
	n = b->cap ? b->cap * 2 : 64;
	while (n < need)
		n *= 2;
	b->ptr = zenc__realloc(b->ptr, n);
	b->cap = n;
}

void zenc_buf_put(zenc_buf *b, const void *data, size_t n)
{
	zenc_buf_grow(b, n);
	if (n)
		memcpy(b->ptr + b->len, data, n);
	b->len += n;
	b->ptr[b->len] = '\0';
}

void zenc_buf_puts(zenc_buf *b, const char *s)
{
	zenc_buf_put(b, s, strlen(s));
}

void zenc_buf_putc(zenc_buf *b, char c)
{
	zenc_buf_put(b, &c, 1);
}

void zenc_buf_vprintf(zenc_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	zenc_buf_grow(b, 64);
	va_copy(cp, ap);
	n = vsnprintf(b->ptr + b->len, b->cap - b->len, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	if ((size_t)n >= b->cap - b->len) {
		zenc_buf_grow(b, (size_t)n);
		vsnprintf(b->ptr + b->len, b->cap - b->len, fmt, ap);
	}
	b->len += (size_t)n;
}

void zenc_buf_printf(zenc_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	zenc_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void zenc_buf_clear(zenc_buf *b)
{
	b->len = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

const char *zenc_buf_cstr(const zenc_buf *b)
{
	return b->ptr ? b->ptr : "";
}

char *zenc_buf_detach(zenc_buf *b)
{
	char *p = b->ptr ? b->ptr : zenc__strdup("");
	b->ptr = NULL;
	b->len = b->cap = 0;
	return p;
}

void zenc_buf_release(zenc_buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
}

size_t zenc__utf8_len(const unsigned char *s, size_t n)
{
	unsigned int c = s[0], cp;
	size_t len, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/*
 * Appends the `n` bytes at `s` escaped for the inside of a JSON string.
 * With `utf8`, invalid UTF-8 becomes \ufffd and \b, \f are \u escapes;
 * without, bytes of 0x80 and up are copied as they are.
 */
static void json_escape(zenc_buf *b, const char *s, size_t n, int utf8)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	size_t len;

	while (p < end) {
		unsigned char c = *p;
		switch (c) {
		case '"':
			zenc_buf_puts(b, "\\\"");
			break;
		case '\\':
			zenc_buf_puts(b, "\\\\");
			break;
		case '\n':
			zenc_buf_puts(b, "\\n");
			break;
		case '\r':
			zenc_buf_puts(b, "\\r");
			break;
		case '\t':
			zenc_buf_puts(b, "\\t");
			break;
		case '\b':
		case '\f':
			if (!utf8) {
				zenc_buf_puts(b, c == '\b' ? "\\b" : "\\f");
				break;
			}
			/* fall through */
		default:
			if (c < 0x20 || c == 0x7f) {
				char e[7] = {'\\',        'u',         '0', '0',
					     hex[c >> 4], hex[c & 15], 0};
				zenc_buf_puts(b, e);
				break;
			}
			len = utf8 ? zenc__utf8_len(p, (size_t)(end - p)) : 1;
			if (!len) {
				zenc_buf_puts(b, "\\ufffd");
				break;
			}
			zenc_buf_put(b, p, len);
			p += len;
			continue;
		}
		p++;
	}
}

void zenc_json_strn(zenc_buf *b, const char *s, size_t n)
{
	zenc_buf_grow(b, n + 2);
	zenc_buf_putc(b, '"');
	json_escape(b, s, n, 0);
	zenc_buf_putc(b, '"');
}

void zenc_json_str(zenc_buf *b, const char *s)
{
	if (!s)
		zenc_buf_puts(b, "null");
	else
		zenc_json_strn(b, s, strlen(s));
}

void zenc__json_utf8_inner(zenc_buf *b, const char *s)
{
	json_escape(b, s, strlen(s), 1);
}

void zenc__json_utf8(zenc_buf *b, const char *s)
{
	if (!s) {
		zenc_buf_puts(b, "null");
		return;
	}
	zenc_buf_putc(b, '"');
	zenc__json_utf8_inner(b, s);
	zenc_buf_putc(b, '"');
}

void zenc__utf8_truncate(zenc_buf *b, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, n;

	if (len <= max) {
		zenc_buf_put(b, s, len);
		return;
	}
	max = max > 3 ? max - 3 : 0;
	while (i < max) {
		n = zenc__utf8_len(p + i, len - i);
		if (!n)
			n = 1;
		if (i + n > max)
			break;
		i += n;
	}
	zenc_buf_put(b, s, i);
	zenc_buf_puts(b, "\xe2\x80\xa6"); /* … */
}

double zenc__now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double zenc__monotonic(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void split_time(double t, time_t *sec, long *usec)
{
	*sec = (time_t)t;
	*usec = (long)((t - (double)*sec) * 1e6 + 0.5);
	if (*usec >= 1000000) {
		*sec += 1;
		*usec -= 1000000;
	}
}

void zenc__time_iso(zenc_buf *b, double t)
{
	struct tm tm;
	time_t sec;
	long usec;

	split_time(t, &sec, &usec);
	gmtime_r(&sec, &tm);
	zenc_buf_printf(
		b, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
		tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		usec);
}

void zenc__time_runname(zenc_buf *b, double t)
{
	struct tm tm;
	time_t sec;
	long usec;

	split_time(t, &sec, &usec);
	localtime_r(&sec, &tm);
	zenc_buf_printf(
		b, "%04d_%02d_%02d-%02d_%02d_%02d_%06ld", tm.tm_year + 1900,
		tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		usec);
}

void zenc__sleep(double seconds)
{
	struct timespec ts;

	if (seconds <= 0)
		return;
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void zenc__uuid(char out[37])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[16];
	size_t i, j = 0;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		/* Not expected on Linux; fall back to time and pid. */
		uint64_t x = (uint64_t)(zenc__now() * 1e6) ^
			     ((uint64_t)getpid() << 40);
		for (i = 0; i < 16; i++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			r[i] = (unsigned char)(x >> 56);
		}
	}
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[j++] = '-';
		out[j++] = hex[r[i] >> 4];
		out[j++] = hex[r[i] & 15];
	}
	out[j] = '\0';
}

int zenc__parse_duration(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0 || v != v)
		return -1;
	if (!strcmp(end, "") || !strcmp(end, "s"))
		;
	else if (!strcmp(end, "ms"))
		v /= 1000.0;
	else if (!strcmp(end, "m"))
		v *= 60.0;
	else if (!strcmp(end, "h"))
		v *= 3600.0;
	else
		return -1;
	*out = v;
	return 0;
}

int zenc__parse_size(const char *s, size_t *out)
{
	char *end;
	double v, mul = 1;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0 || v != v)
		return -1;
	switch (toupper((unsigned char)*end)) {
	case '\0':
		break;
	case 'K':
		mul = 1024.0;
		break;
	case 'M':
		mul = 1024.0 * 1024;
		break;
	case 'G':
		mul = 1024.0 * 1024 * 1024;
		break;
	case 'T':
		mul = 1024.0 * 1024 * 1024 * 1024;
		break;
	default:
		return -1;
	}
	if (*end) {
		end++;
		if (*end == 'i')
			end++;
		if (*end == 'B' || *end == 'b')
			end++;
		if (*end)
			return -1;
	}
	*out = (size_t)(v * mul);
	return 0;
}

void zenc__env_name(zenc_buf *b, const char *name)
{
	for (; *name; name++) {
		unsigned char c = (unsigned char)toupper((unsigned char)*name);
		zenc_buf_putc(
			b, (char)(((c >= 'A' && c <= 'Z') ||
				   (c >= '0' && c <= '9'))
					  ? c
					  : '_'));
	}
}

/* Makes the parent folders of p (modified in place, then restored):
 * walks back from the end to the deepest one that exists, so that a
 * missing folder or two under a long path costs a few mkdir() calls, not
 * one per component from the root. */
static int mkdir_parents(char *p, mode_t mode)
{
	char *slash = strrchr(p, '/');
	int rc = 0;

	while (slash && slash > p && slash[1] == '\0') {
		/* "a/b/": the parent of "a/b" */
		*slash = '\0';
		slash = strrchr(p, '/');
	}
	if (!slash || slash == p)
		return 0; /* the root, or a name in the current folder */
	*slash = '\0';
	if (mkdir(p, mode) < 0 && errno != EEXIST) {
		if (errno != ENOENT || mkdir_parents(p, mode) < 0 ||
		    (mkdir(p, mode) < 0 && errno != EEXIST))
			rc = -1;
	}
	*slash = '/';
	return rc;
}

int zenc__mkdir_p(const char *path, int mode)
{
	char *p;
	int rc = 0;

	/* Usually only the last component is missing. */
	if (mkdir(path, (mode_t)mode) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -1;
	p = zenc__strdup(path);
	if (mkdir_parents(p, (mode_t)mode) < 0 ||
	    (mkdir(path, (mode_t)mode) < 0 && errno != EEXIST))
		rc = -1;
	free(p);
	return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * A file that does not exist yet, written unnamed in its folder (O_TMPFILE)
 * and linked under its name once whole: as atomic as a temporary file and
 * a rename, with one change to the folder instead of three.  1 when this
 * way does not apply (the file exists, the file system or /proc cannot do
 * it): then the caller writes a temporary file and renames it.
 */
static int write_new_file(
	const char *path, const void *data, size_t n, int mode)
{
	const char *slash = strrchr(path, '/');
	char *dir, link[64];
	int fd, saved;

	if (!slash)
		return 1;
	dir = slash == path ? zenc__strdup("/")
			    : zenc__strndup(path, (size_t)(slash - path));
	fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, (mode_t)mode);
	free(dir);
	if (fd < 0)
		return 1;
	if (fchmod(fd, (mode_t)mode) < 0 || write_all(fd, data, n) < 0)
		goto fail;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, link, AT_FDCWD, path, AT_SYMLINK_FOLLOW) < 0) {
		close(fd);
		return 1;
	}
	if (close(fd) < 0) {
		saved = errno;
		unlink(path);
		errno = saved;
		return -1;
	}
	return 0;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int zenc__write_file_atomic(
	const char *path, const void *data, size_t n, int mode)
{
	char *tmp;
	const char *p = data;
	int fd, rc, saved;

	if ((rc = write_new_file(path, data, n, mode)) <= 0)
		return rc;
	rc = -1;
	tmp = zenc__asprintf("%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
	if (fd < 0)
		goto done;
	/* O_CREAT honours the umask; a secret file must be exactly `mode`. */
	if (fchmod(fd, (mode_t)mode) < 0 || write_all(fd, p, n) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto fail;
	rc = 0;
	goto done;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = saved;
done:
	free(tmp);
	return rc;
}

int zenc__read_fd(zenc_buf *b, int fd, size_t expect)
{
	ssize_t r;

	/* Straight into the buffer, which doubles when full: no chunk on
	 * the stack (in a step's process a stack page first touched is a
	 * page fault) and no copy. */
	zenc_buf_grow(b, expect ? expect : 4096);
	for (;;) {
		if (b->cap - b->len < 2)
			zenc_buf_grow(b, 4096);
		r = read(fd, b->ptr + b->len, b->cap - b->len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		b->len += (size_t)r;
	}
	b->ptr[b->len] = '\0';
	return r < 0 ? -1 : 0;
}

int zenc__read_file(zenc_buf *b, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc, saved;

	if (fd < 0)
		return -1;
	rc = zenc__read_fd(b, fd, 0);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

void zenc__fmt_double(zenc_buf *b, double v)
{
	char tmp[64];
	int prec;

	for (prec = 15; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	if (prec == 17)
		snprintf(tmp, sizeof(tmp), "%.17g", v);
	zenc_buf_puts(b, tmp);
}

int zenc__opt_value(
	int argc, char **argv, int *i, const char *name, const char **out)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=') {
		*out = a + n + 1;
		return 1;
	}
	if (a[n])
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*out = argv[++*i];
	return 1;
}

static const char *home_dir(char **slot, const char *env, const char *rel)
{
	const char *v, *home;

	if (*slot)
		return *slot;
	v = getenv(env);
	if (v && *v) {
		*slot = zenc__strdup(v);
	} else {
		home = getenv("HOME");
		*slot = zenc__asprintf(
			"%s/%s", home && *home ? home : "/tmp", rel);
	}
	return *slot;
}

/* Cached for the life of the process: ZENC_HOME and ZENC_DATA are read
 * once.  The cache is intentionally never freed. */
static char *config_home_slot, *data_home_slot;

const char *zenc__config_home(void)
{
	return home_dir(&config_home_slot, "ZENC_HOME", ".config/zenc");
}

const char *zenc__data_home(void)
{
	return home_dir(&data_home_slot, "ZENC_DATA", ".local/share/zenc");
}
