/*
 * Secrets: $ZENC_HOME/secrets, mode 0600 in a 0700 folder, one
 * "NAME VALUE" line per secret with the value escaped like config values
 * (docs/stack.md).  Component values refer to them as {{secret.NAME}},
 * resolved only at use.  A secret's value never goes into an error
 * message or a log line: messages name the secret, never its value.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"
#include "config/stack.h"

#define REF_OPEN "{{secret."
#define REF_CLOSE "}}"

typedef struct secrets {
	char **names;
	char **values;
	size_t n;
} secrets;

static void secrets_release(secrets *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->names[i]);
		if (s->values[i]) {
			/* Do not leave the value lying in freed memory. */
			memset(s->values[i], 0, strlen(s->values[i]));
			free(s->values[i]);
		}
	}
	free(s->names);
	free(s->values);
	memset(s, 0, sizeof(*s));
}

static char *secrets_path(void)
{
	return zenc__asprintf("%s/secrets", zenc__config_home());
}

static long secrets_find(const secrets *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->names[i], name) == 0)
			return (long)i;
	return -1;
}

static void secrets_put(secrets *s, const char *name, const char *value)
{
	long i = secrets_find(s, name);

	if (i >= 0) {
		memset(s->values[i], 0, strlen(s->values[i]));
		free(s->values[i]);
		s->values[i] = zenc__strdup(value);
		return;
	}
	s->names = zenc__realloc(s->names, (s->n + 1) * sizeof(*s->names));
	s->values = zenc__realloc(s->values, (s->n + 1) * sizeof(*s->values));
	s->names[s->n] = zenc__strdup(name);
	s->values[s->n] = zenc__strdup(value);
	s->n++;
}

static void wipe(zenc_buf *b)
{
	if (b->ptr)
		memset(b->ptr, 0, b->cap);
	zenc_buf_release(b);
}

/* Reads the secrets file; a missing one holds no secrets. */
static int secrets_read(secrets *s)
{
	zenc_buf text = ZENC_BUF_INIT, value = ZENC_BUF_INIT;
	char *path = secrets_path(), *name = NULL;
	const char *line, *end, *sp;
	size_t n, bad;
	int rc = 0, lineno = 0;

	memset(s, 0, sizeof(*s));
	if (zenc__read_file(&text, path) < 0) {
		if (errno != ENOENT)
			rc = zenc__error_set(
				ZENC_EIO, "cannot read '%s': %s", path,
				strerror(errno));
		goto done;
	}
	for (line = zenc_buf_cstr(&text); *line; line = end + 1) {
		lineno++;
		end = strchr(line, '\n');
		n = end ? (size_t)(end - line) : strlen(line);
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (n > 0 && line[0] != '#') {
			sp = memchr(line, ' ', n);
			name = zenc__strndup(
				line, sp ? (size_t)(sp - line) : n);
			if (zenc__secret_check_name(name) < 0) {
				rc = zenc__error_set(
					ZENC_ECONFIG,
					"%s:%d:1: invalid secret "
					"name",
					path, lineno);
				goto done;
			}
			zenc_buf_clear(&value);
			if (sp &&
			    zenc__stacks_unescape(
				    &value, sp + 1, n - (size_t)(sp - line) - 1,
				    &bad) < 0) {
				rc = zenc__error_set(
					ZENC_ECONFIG,
					"%s:%d:%zu: bad escape in secret '%s'",
					path, lineno,
					(size_t)(sp - line) + 2 + bad, name);
				goto done;
			}
			secrets_put(s, name, zenc_buf_cstr(&value));
			free(name);
			name = NULL;
		}
		if (!end)
			break;
	}
done:
	if (rc < 0)
		secrets_release(s);
	free(name);
	wipe(&value);
	wipe(&text);
	free(path);
	return rc;
}

static int secrets_write(const secrets *s)
{
	zenc_buf text = ZENC_BUF_INIT;
	const char *home = zenc__config_home();
	char *path = secrets_path();
	struct stat st;
	size_t i;
	int rc = 0;

	/* The folder that holds the secrets is the user's alone. */
	if (stat(home, &st) == 0 && (st.st_mode & 077))
		chmod(home, 0700);
	zenc_buf_puts(
		&text, "# zenc secrets, written by zenc (format: "
		       "docs/stack.md); keep this file mode 0600\n");
	for (i = 0; i < s->n; i++) {
		zenc_buf_printf(&text, "%s ", s->names[i]);
		zenc__stacks_escape(&text, s->values[i]);
		zenc_buf_putc(&text, '\n');
	}
	if (zenc__write_file_atomic(path, text.ptr, text.len, 0600) < 0)
		rc = zenc__error_set(
			ZENC_EIO, "cannot write '%s': %s", path,
			strerror(errno));
	wipe(&text);
	free(path);
	return rc;
}

int zenc__secret_check_name(const char *name)
{
	return zenc__check_name("secret", name);
}

int zenc__secret_set(const char *name, const char *value)
{
	secrets s = {NULL, NULL, 0};
	int fd = -1, rc;

	if ((rc = zenc__secret_check_name(name)) < 0)
		return rc;
	if ((rc = zenc__home_lock(&fd)) < 0)
		return rc;
	if ((rc = secrets_read(&s)) < 0)
		goto done;
	secrets_put(&s, name, value);
	rc = secrets_write(&s);
done:
	secrets_release(&s);
	zenc__home_unlock(fd);
	return rc;
}

int zenc__secret_delete(const char *name)
{
	secrets s = {NULL, NULL, 0};
	int fd = -1, rc;
	long i;

	if ((rc = zenc__home_lock(&fd)) < 0)
		return rc;
	if ((rc = secrets_read(&s)) < 0)
		goto done;
	if ((i = secrets_find(&s, name)) < 0) {
		rc = zenc__error_set(
			ZENC_ENOTFOUND, "unknown secret '%s'", name);
		goto done;
	}
	/* Move the last one into the hole; the file order does not matter. */
	free(s.names[i]);
	memset(s.values[i], 0, strlen(s.values[i]));
	free(s.values[i]);
	s.n--;
	s.names[i] = s.names[s.n];
	s.values[i] = s.values[s.n];
	rc = secrets_write(&s);
done:
	secrets_release(&s);
	zenc__home_unlock(fd);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int zenc__secret_names(char ***out, size_t *n)
{
	secrets s = {NULL, NULL, 0};
	size_t i;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = secrets_read(&s)) < 0)
		return rc;
	*out = zenc__calloc(s.n + 1, sizeof(**out));
	for (i = 0; i < s.n; i++)
		(*out)[i] = zenc__strdup(s.names[i]);
	*n = s.n;
	qsort(*out, *n, sizeof(**out), cmp_str);
	secrets_release(&s);
	return 0;
}

/* The reference at `p` ("{{secret.NAME}}"): its name and length, or 0. */
static size_t ref_at(const char *p, const char **name, size_t *name_len)
{
	const char *start, *close;

	if (strncmp(p, REF_OPEN, strlen(REF_OPEN)) != 0)
		return 0;
	start = p + strlen(REF_OPEN);
	close = strstr(start, REF_CLOSE);
	if (!close || close == start)
		return 0;
	*name = start;
	*name_len = (size_t)(close - start);
	return (size_t)(close - p) + strlen(REF_CLOSE);
}

bool zenc__secret_is_ref(const char *value)
{
	const char *name;
	size_t n;

	return value && ref_at(value, &name, &n) == strlen(value);
}

int zenc__secret_resolve(zenc_buf *out, const char *value)
{
	secrets s = {NULL, NULL, 0};
	bool loaded = false;
	const char *p, *name;
	char *want;
	size_t len, n;
	long i;
	int rc = 0;

	for (p = value; *p;) {
		if (!(len = ref_at(p, &name, &n))) {
			zenc_buf_putc(out, *p++);
			continue;
		}
		/* Read the file only when a value refers to a secret. */
		if (!loaded) {
			if ((rc = secrets_read(&s)) < 0)
				goto done;
			loaded = true;
		}
		want = zenc__strndup(name, n);
		i = secrets_find(&s, want);
		if (i < 0) {
			rc = zenc__error_set(
				ZENC_ECONFIG, "unknown secret '%s'", want);
			free(want);
			goto done;
		}
		free(want);
		zenc_buf_puts(out, s.values[i]);
		p += len;
	}
done:
	secrets_release(&s);
	return rc;
}

/*
 * The public calls (<zenc/secret.h>).
 */

int zenc_secret_check_name(const char *name)
{
	return zenc__secret_check_name(name);
}

int zenc_secret_set(const char *name, const char *value)
{
	if (!value)
		return zenc__error_set(
			ZENC_EINVALID, "no value for secret '%s'",
			name ? name : "");
	return zenc__secret_set(name, value);
}

int zenc_secret_delete(const char *name)
{
	return zenc__secret_delete(name);
}

int zenc_secret_names(char ***out, size_t *n)
{
	if (!out || !n)
		return zenc__error_set(ZENC_EINVALID, "no place for the names");
	return zenc__secret_names(out, n);
}

void zenc_secret_names_free(char **names, size_t n)
{
	size_t i;

	if (!names)
		return;
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
