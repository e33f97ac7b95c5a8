/*
 * $ZENC_HOME/config: components and stacks, in a line format zenc writes
 * and parses itself (docs/stack.md), and the checked changes the CLI
 * makes to it.  Every change is a read-modify-write under an flock on
 * $ZENC_HOME/lock, and the file is replaced atomically, so concurrent
 * commands neither corrupt it nor lose each other's changes; readers need
 * no lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "config/stack.h"

#define CONFIG_VERSION "1"

/* Names: a letter or digit, then letters, digits, '.', '_' or '-'. */
#define NAME_MAX_LEN 64

int zenc__check_name(const char *what, const char *name)
{
	size_t i, n = name ? strlen(name) : 0;
	bool ok = n > 0 && n <= NAME_MAX_LEN;

	for (i = 0; ok && i < n; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			ok = false;
	}
	if (ok)
		return 0;
	return zenc__error_set(
		ZENC_EINVALID,
		"invalid %s name '%s' (use up to %d letters, "
		"digits, '.', '_' and '-', starting with a "
		"letter or digit)",
		what, name ? name : "", NAME_MAX_LEN);
}

void zenc__stacks_escape(zenc_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\\')
			zenc_buf_puts(b, "\\\\");
		else if (c == '\n')
			zenc_buf_puts(b, "\\n");
		else if (c == '\r')
			zenc_buf_puts(b, "\\r");
		else if (c == '\t')
			zenc_buf_puts(b, "\\t");
		else if (c < 0x20 || c == 0x7f) {
			zenc_buf_puts(b, "\\x");
			zenc_buf_putc(b, hex[c >> 4]);
			zenc_buf_putc(b, hex[c & 15]);
		} else
			zenc_buf_putc(b, (char)c);
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int zenc__stacks_unescape(zenc_buf *b, const char *s, size_t n, size_t *bad)
{
	size_t i, start = 0;
	int hi, lo;

	zenc_buf_grow(b, n);
	for (i = 0; i < n; i++) {
		if (s[i] != '\\') {
			zenc_buf_putc(b, s[i]);
			continue;
		}
		start = i;
		if (i + 1 >= n)
			goto fail;
		switch (s[++i]) {
		case '\\':
			zenc_buf_putc(b, '\\');
			break;
		case 'n':
			zenc_buf_putc(b, '\n');
			break;
		case 'r':
			zenc_buf_putc(b, '\r');
			break;
		case 't':
			zenc_buf_putc(b, '\t');
			break;
		case 'x':
			if (i + 2 >= n)
				goto fail;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			/* A NUL would cut the value short: refuse it. */
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				goto fail;
			zenc_buf_putc(b, (char)(hi * 16 + lo));
			i += 2;
			break;
		default:
			goto fail;
		}
	}
	return 0;
fail:
	if (bad)
		*bad = start;
	return -1;
}

static void component_release(zenc__component *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->keys[i]);
		free(c->values[i]);
	}
	free(c->keys);
	free(c->values);
	free(c->name);
	free(c->flavor);
	memset(c, 0, sizeof(*c));
}

static void stack_def_release(zenc__stack_def *s)
{
	int k;

	free(s->name);
	for (k = 0; k < ZENC__KIND_COUNT; k++)
		free(s->components[k]);
	memset(s, 0, sizeof(*s));
}

void zenc__stacks_release(zenc__stacks *cfg)
{
	size_t i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->ncomponents; i++)
		component_release(&cfg->components[i]);
	for (i = 0; i < cfg->nstacks; i++)
		stack_def_release(&cfg->stacks[i]);
	free(cfg->components);
	free(cfg->stacks);
	free(cfg->active);
	memset(cfg, 0, sizeof(*cfg));
}

static zenc__component *append_component(
	zenc__stacks *cfg,
	zenc__kind kind,
	const char *name,
	const char *flavor)
{
	zenc__component *c;

	cfg->components = zenc__realloc(
		cfg->components,
		(cfg->ncomponents + 1) * sizeof(*cfg->components));
	c = &cfg->components[cfg->ncomponents++];
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->name = zenc__strdup(name);
	c->flavor = zenc__strdup(flavor);
	return c;
}

static zenc__stack_def *append_stack(zenc__stacks *cfg, const char *name)
{
	zenc__stack_def *s;

	cfg->stacks = zenc__realloc(
		cfg->stacks, (cfg->nstacks + 1) * sizeof(*cfg->stacks));
	s = &cfg->stacks[cfg->nstacks++];
	memset(s, 0, sizeof(*s));
	s->name = zenc__strdup(name);
	return s;
}

/* Sets `key` (replacing its value), or removes it when value is "". */
static void component_set(
	zenc__component *c, const char *key, const char *value)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->keys[i], key) == 0)
			break;
	if (i < c->n && !*value) {
		free(c->keys[i]);
		free(c->values[i]);
		memmove(&c->keys[i], &c->keys[i + 1],
			(c->n - i - 1) * sizeof(*c->keys));
		memmove(&c->values[i], &c->values[i + 1],
			(c->n - i - 1) * sizeof(*c->values));
		c->n--;
	} else if (i < c->n) {
		free(c->values[i]);
		c->values[i] = zenc__strdup(value);
	} else if (*value) {
		c->keys = zenc__realloc(c->keys, (c->n + 1) * sizeof(*c->keys));
		c->values = zenc__realloc(
			c->values, (c->n + 1) * sizeof(*c->values));
		c->keys[c->n] = zenc__strdup(key);
		c->values[c->n] = zenc__strdup(value);
		c->n++;
	}
}

const char *zenc__component_get(const zenc__component *c, const char *key)
{
	size_t i;

	for (i = 0; c && i < c->n; i++)
		if (strcmp(c->keys[i], key) == 0)
			return c->values[i];
	return NULL;
}

zenc__component *zenc__stacks_component(
	const zenc__stacks *cfg, zenc__kind kind, const char *name)
{
	size_t i;

	for (i = 0; name && i < cfg->ncomponents; i++)
		if (cfg->components[i].kind == kind &&
		    strcmp(cfg->components[i].name, name) == 0)
			return &cfg->components[i];
	return NULL;
}

zenc__stack_def *zenc__stacks_stack(const zenc__stacks *cfg, const char *name)
{
	size_t i;

	for (i = 0; name && i < cfg->nstacks; i++)
		if (strcmp(cfg->stacks[i].name, name) == 0)
			return &cfg->stacks[i];
	return NULL;
}

void zenc__stacks_default(zenc__stacks *cfg)
{
	const char *data = zenc__data_home();
	zenc__stack_def *s;
	zenc__component *c;
	char *path;
	int k;

	memset(cfg, 0, sizeof(*cfg));
	append_component(cfg, ZENC__KIND_ORCHESTRATOR, "default", "local");
	c = append_component(
		cfg, ZENC__KIND_ARTIFACT_STORE, "default", "local");
	path = zenc__asprintf("%s/artifacts", data);
	component_set(c, "path", path);
	free(path);
	c = append_component(
		cfg, ZENC__KIND_METADATA_STORE, "default", "sqlite");
	path = zenc__asprintf("%s/zenc.db", data);
	component_set(c, "path", path);
	free(path);
	s = append_stack(cfg, "default");
	for (k = 0; k < ZENC__KIND_ALERTER; k++)
		s->components[k] = zenc__strdup("default");
	cfg->active = zenc__strdup("default");
}

/*
 * Parsing.
 */

typedef struct parser {
	const char *path;
	int line;
	zenc__stacks *cfg;
	/* The block the indented lines belong to: an index, or -1. */
	long component;
	long stack;
} parser;

static int parse_error(parser *p, size_t col, const char *fmt, ...)
	ZENC__PRINTF(3, 4);

static int parse_error(parser *p, size_t col, const char *fmt, ...)
{
	zenc_buf b = ZENC_BUF_INIT;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	zenc_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	rc = zenc__error_set(
		ZENC_ECONFIG, "%s:%d:%zu: %s", p->path, p->line, col + 1,
		zenc_buf_cstr(&b));
	zenc_buf_release(&b);
	return rc;
}

/* Splits "word rest" at the first space: *word (len *wn) and *rest. */
static void split(
	const char *s, size_t n, size_t *wn, const char **rest, size_t *rn)
{
	const char *sp = memchr(s, ' ', n);

	if (!sp) {
		*wn = n;
		*rest = s + n;
		*rn = 0;
	} else {
		*wn = (size_t)(sp - s);
		*rest = sp + 1;
		*rn = n - *wn - 1;
	}
}

static bool word_is(const char *w, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(w, lit, n) == 0;
}

/* A name token: checked like every name, with its column on error. */
static int parse_name(
	parser *p,
	const char *line,
	const char *s,
	size_t n,
	const char *what,
	char **out)
{
	char *name = zenc__strndup(s, n);

	if (zenc__check_name(what, name) < 0) {
		free(name);
		return parse_error(
			p, (size_t)(s - line), "%s", zenc_error_last());
	}
	*out = name;
	return 0;
}

static int parse_top(parser *p, const char *line, const char *s, size_t n)
{
	const char *rest, *rest2;
	size_t wn, rn, wn2, rn2;
	zenc__kind kind;
	char *name = NULL, *kw;
	int rc = 0;

	split(s, n, &wn, &rest, &rn);
	p->component = p->stack = -1;
	if (word_is(s, wn, "version")) {
		if (!word_is(rest, rn, CONFIG_VERSION))
			return parse_error(
				p, (size_t)(rest - line),
				"unsupported config version '%.*s'", (int)rn,
				rest);
	} else if (word_is(s, wn, "active")) {
		if ((rc = parse_name(p, line, rest, rn, "stack", &name)) < 0)
			return rc;
		free(p->cfg->active);
		p->cfg->active = name;
	} else if (word_is(s, wn, "component")) {
		split(rest, rn, &wn2, &rest2, &rn2);
		kw = zenc__strndup(rest, wn2);
		if (zenc__kind_parse(&kind, kw) < 0) {
			rc = parse_error(
				p, (size_t)(rest - line),
				"unknown component kind '%s'", kw);
			free(kw);
			return rc;
		}
		free(kw);
		rc = parse_name(
			p, line, rest2, rn2, zenc__kind_name(kind), &name);
		if (rc < 0)
			return rc;
		if (zenc__stacks_component(p->cfg, kind, name)) {
			rc = parse_error(
				p, (size_t)(rest2 - line), "duplicate %s '%s'",
				zenc__kind_name(kind), name);
			free(name);
			return rc;
		}
		append_component(p->cfg, kind, name, NULL);
		p->component = (long)p->cfg->ncomponents - 1;
		free(name);
	} else if (word_is(s, wn, "stack")) {
		if ((rc = parse_name(p, line, rest, rn, "stack", &name)) < 0)
			return rc;
		if (zenc__stacks_stack(p->cfg, name)) {
			rc = parse_error(
				p, (size_t)(rest - line),
				"duplicate stack '%s'", name);
			free(name);
			return rc;
		}
		append_stack(p->cfg, name);
		p->stack = (long)p->cfg->nstacks - 1;
		free(name);
	} else {
		return parse_error(
			p, (size_t)(s - line), "unknown keyword '%.*s'",
			(int)wn, s);
	}
	return 0;
}

static int parse_indented(parser *p, const char *line, const char *s, size_t n)
{
	zenc_buf value = ZENC_BUF_INIT;
	const char *rest;
	size_t wn, rn, bad;
	zenc__kind kind;
	char *word;
	int rc = 0;

	split(s, n, &wn, &rest, &rn);
	word = zenc__strndup(s, wn);
	if (p->component >= 0) {
		zenc__component *c = &p->cfg->components[p->component];

		if (zenc__stacks_unescape(&value, rest, rn, &bad) < 0) {
			rc = parse_error(
				p, (size_t)(rest - line) + bad,
				"bad escape in value of '%s'", word);
			goto done;
		}
		if (strcmp(word, "flavor") == 0) {
			if (c->flavor) {
				rc = parse_error(
					p, (size_t)(s - line),
					"duplicate 'flavor'");
				goto done;
			}
			rc = parse_name(
				p, line, rest, rn, "flavor", &c->flavor);
			goto done;
		}
		if (zenc__component_get(c, word)) {
			rc = parse_error(
				p, (size_t)(s - line), "duplicate key '%s'",
				word);
			goto done;
		}
		component_set(c, word, zenc_buf_cstr(&value));
	} else if (p->stack >= 0) {
		zenc__stack_def *st = &p->cfg->stacks[p->stack];

		if (zenc__kind_parse(&kind, word) < 0) {
			rc = parse_error(
				p, (size_t)(s - line),
				"unknown component kind '%s'", word);
			goto done;
		}
		if (st->components[kind]) {
			rc = parse_error(
				p, (size_t)(s - line), "duplicate '%s'", word);
			goto done;
		}
		rc = parse_name(p, line, rest, rn, word, &st->components[kind]);
	} else {
		rc = parse_error(
			p, (size_t)(s - line),
			"indented line outside a component or "
			"stack");
	}
done:
	free(word);
	zenc_buf_release(&value);
	return rc;
}

/* What only the whole file can tell: every component has a flavor, every
 * stack its components, and the active stack exists. */
static int parse_check(parser *p)
{
	size_t i;
	int k;

	for (i = 0; i < p->cfg->ncomponents; i++)
		if (!p->cfg->components[i].flavor)
			return zenc__error_set(
				ZENC_ECONFIG, "%s: %s '%s' has no flavor",
				p->path,
				zenc__kind_name(p->cfg->components[i].kind),
				p->cfg->components[i].name);
	for (i = 0; i < p->cfg->nstacks; i++) {
		zenc__stack_def *s = &p->cfg->stacks[i];

		for (k = 0; k < ZENC__KIND_COUNT; k++) {
			if (!s->components[k] && k == ZENC__KIND_ALERTER)
				continue;
			if (!s->components[k])
				return zenc__error_set(
					ZENC_ECONFIG,
					"%s: stack '%s' has no %s", p->path,
					s->name,
					zenc__kind_name((zenc__kind)k));
			if (!zenc__stacks_component(
				    p->cfg, (zenc__kind)k, s->components[k]))
				return zenc__error_set(
					ZENC_ECONFIG,
					"%s: stack '%s' uses unknown %s '%s'",
					p->path, s->name,
					zenc__kind_name((zenc__kind)k),
					s->components[k]);
		}
	}
	if (!p->cfg->active || !zenc__stacks_stack(p->cfg, p->cfg->active))
		return zenc__error_set(
			ZENC_ECONFIG, "%s: active stack '%s' does not exist",
			p->path, p->cfg->active ? p->cfg->active : "");
	return 0;
}

int zenc__stacks_parse(zenc__stacks *cfg, const char *text, const char *path)
{
	parser p = {path, 0, cfg, -1, -1};
	const char *line = text, *end, *s;
	bool any = false;
	size_t n;
	int rc = 0;

	memset(cfg, 0, sizeof(*cfg));
	while (*line) {
		p.line++;
		end = strchr(line, '\n');
		n = end ? (size_t)(end - line) : strlen(line);
		if (n > 0 && line[n - 1] == '\r')
			n--;
		for (s = line; s < line + n && (*s == ' ' || *s == '\t'); s++)
			;
		if (s < line + n && *s != '#') {
			any = true;
			if (s == line)
				rc = parse_top(
					&p, line, s, n - (size_t)(s - line));
			else
				rc = parse_indented(
					&p, line, s, n - (size_t)(s - line));
			if (rc < 0)
				goto done;
		}
		if (!end)
			break;
		line = end + 1;
	}
	/* A file with nothing in it is a fresh home. */
	if (!any) {
		zenc__stacks_default(cfg);
		goto done;
	}
	rc = parse_check(&p);
done:
	if (rc < 0)
		zenc__stacks_release(cfg);
	return rc;
}

static char *config_path(void)
{
	return zenc__asprintf("%s/config", zenc__config_home());
}

int zenc__stacks_read(zenc__stacks *cfg)
{
	zenc_buf text = ZENC_BUF_INIT;
	char *path = config_path();
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	if (zenc__read_file(&text, path) < 0) {
		if (errno == ENOENT) {
			zenc__stacks_default(cfg);
			rc = 0;
		} else {
			rc = zenc__error_set(
				ZENC_EIO, "cannot read '%s': %s", path,
				strerror(errno));
		}
		goto done;
	}
	rc = zenc__stacks_parse(cfg, zenc_buf_cstr(&text), path);
done:
	zenc_buf_release(&text);
	free(path);
	return rc;
}

static int cmp_component(const void *a, const void *b)
{
	const zenc__component *x = *(const zenc__component *const *)a;
	const zenc__component *y = *(const zenc__component *const *)b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int cmp_stack(const void *a, const void *b)
{
	const zenc__stack_def *x = *(const zenc__stack_def *const *)a;
	const zenc__stack_def *y = *(const zenc__stack_def *const *)b;

	return strcmp(x->name, y->name);
}

void zenc__stacks_format(zenc_buf *out, const zenc__stacks *cfg)
{
	const zenc__component **cs;
	const zenc__stack_def **ss;
	size_t i, j;
	int k;

	cs = zenc__calloc(cfg->ncomponents + 1, sizeof(*cs));
	ss = zenc__calloc(cfg->nstacks + 1, sizeof(*ss));
	for (i = 0; i < cfg->ncomponents; i++)
		cs[i] = &cfg->components[i];
	for (i = 0; i < cfg->nstacks; i++)
		ss[i] = &cfg->stacks[i];
	qsort(cs, cfg->ncomponents, sizeof(*cs), cmp_component);
	qsort(ss, cfg->nstacks, sizeof(*ss), cmp_stack);

	zenc_buf_puts(
		out, "# zenc configuration, written by zenc "
		     "(format: docs/stack.md)\n");
	zenc_buf_puts(out, "version " CONFIG_VERSION "\n");
	zenc_buf_printf(out, "active %s\n", cfg->active ? cfg->active : "");
	for (i = 0; i < cfg->ncomponents; i++) {
		zenc_buf_printf(
			out, "\ncomponent %s %s\n\tflavor %s\n",
			zenc__kind_name(cs[i]->kind), cs[i]->name,
			cs[i]->flavor);
		for (j = 0; j < cs[i]->n; j++) {
			zenc_buf_printf(out, "\t%s ", cs[i]->keys[j]);
			zenc__stacks_escape(out, cs[i]->values[j]);
			zenc_buf_putc(out, '\n');
		}
	}
	for (i = 0; i < cfg->nstacks; i++) {
		zenc_buf_printf(out, "\nstack %s\n", ss[i]->name);
		for (k = 0; k < ZENC__KIND_COUNT; k++)
			if (ss[i]->components[k])
				zenc_buf_printf(
					out, "\t%s %s\n",
					zenc__kind_name((zenc__kind)k),
					ss[i]->components[k]);
	}
	free(cs);
	free(ss);
}

static int ensure_home(void)
{
	const char *home = zenc__config_home();

	if (zenc__mkdir_p(home, 0700) < 0)
		return zenc__error_set(
			ZENC_EIO, "cannot create '%s': %s", home,
			strerror(errno));
	return 0;
}

static int config_write(const zenc__stacks *cfg)
{
	zenc_buf text = ZENC_BUF_INIT;
	char *path = config_path();
	int rc = 0;

	zenc__stacks_format(&text, cfg);
	/* 0600: a component may hold a token written in clear. */
	if (zenc__write_file_atomic(path, text.ptr, text.len, 0600) < 0)
		rc = zenc__error_set(
			ZENC_EIO, "cannot write '%s': %s", path,
			strerror(errno));
	zenc_buf_release(&text);
	free(path);
	return rc;
}

int zenc__home_lock(int *fd)
{
	char *path;
	int rc = 0;

	if ((rc = ensure_home()) < 0)
		return rc;
	path = zenc__asprintf("%s/lock", zenc__config_home());
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0) {
		rc = zenc__error_set(
			ZENC_EIO, "cannot open '%s': %s", path,
			strerror(errno));
		goto done;
	}
	while (flock(*fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		rc = zenc__error_set(
			ZENC_EIO, "cannot lock '%s': %s", path,
			strerror(errno));
		close(*fd);
		*fd = -1;
		goto done;
	}
done:
	free(path);
	return rc;
}

void zenc__home_unlock(int fd)
{
	if (fd < 0)
		return;
	flock(fd, LOCK_UN);
	close(fd);
}

int zenc__stacks_edit(
	int (*fn)(zenc__stacks *cfg, void *payload), void *payload)
{
	zenc__stacks cfg = ZENC__STACKS_INIT;
	int fd = -1, rc;

	if ((rc = zenc__home_lock(&fd)) < 0)
		return rc;
	if ((rc = zenc__stacks_read(&cfg)) < 0)
		goto done;
	if ((rc = fn(&cfg, payload)) < 0)
		goto done;
	rc = config_write(&cfg);
done:
	zenc__stacks_release(&cfg);
	zenc__home_unlock(fd);
	return rc;
}

/*
 * Checked changes.
 */

/* "unknown alerter 'x' (known: a, b); did you mean 'a'?" */
static int unknown_component(
	const zenc__stacks *cfg, zenc__kind kind, const char *name)
{
	zenc_buf b = ZENC_BUF_INIT;
	const char **names, *close;
	size_t i, n = 0;
	int rc;

	names = zenc__calloc(cfg->ncomponents + 1, sizeof(*names));
	for (i = 0; i < cfg->ncomponents; i++) {
		if (cfg->components[i].kind != kind)
			continue;
		if (n)
			zenc_buf_puts(&b, ", ");
		zenc_buf_puts(&b, cfg->components[i].name);
		names[n++] = cfg->components[i].name;
	}
	close = zenc__closest(name, names, n);
	rc = zenc__error_set(
		ZENC_ENOTFOUND, "unknown %s '%s' (known: %s)%s%s%s",
		zenc__kind_name(kind), name, n ? zenc_buf_cstr(&b) : "none",
		close ? "; did you mean '" : "", close ? close : "",
		close ? "'?" : "");
	free(names);
	zenc_buf_release(&b);
	return rc;
}

static int unknown_stack(const zenc__stacks *cfg, const char *name)
{
	zenc_buf b = ZENC_BUF_INIT;
	const char **names, *close;
	size_t i;
	int rc;

	names = zenc__calloc(cfg->nstacks + 1, sizeof(*names));
	for (i = 0; i < cfg->nstacks; i++) {
		if (i)
			zenc_buf_puts(&b, ", ");
		zenc_buf_puts(&b, cfg->stacks[i].name);
		names[i] = cfg->stacks[i].name;
	}
	close = zenc__closest(name, names, cfg->nstacks);
	rc = zenc__error_set(
		ZENC_ENOTFOUND, "unknown stack '%s' (known: %s)%s%s%s", name,
		zenc_buf_cstr(&b), close ? "; did you mean '" : "",
		close ? close : "", close ? "'?" : "");
	free(names);
	zenc_buf_release(&b);
	return rc;
}

int zenc__stacks_component_find(
	const zenc__stacks *cfg,
	zenc__kind kind,
	const char *name,
	zenc__component **out)
{
	*out = zenc__stacks_component(cfg, kind, name);
	return *out ? 0 : unknown_component(cfg, kind, name);
}

int zenc__stacks_stack_find(
	const zenc__stacks *cfg, const char *name, zenc__stack_def **out)
{
	*out = zenc__stacks_stack(cfg, name);
	return *out ? 0 : unknown_stack(cfg, name);
}

static int check_keys(const zenc_flavor *f, const char *const *keys, size_t n)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		if ((rc = zenc__flavor_check_key(f, keys[i])) < 0)
			return rc;
	return 0;
}

int zenc__stacks_component_add(
	zenc__stacks *cfg,
	zenc__kind kind,
	const char *name,
	const char *flavor,
	const char *const *keys,
	const char *const *values,
	size_t n)
{
	const zenc_flavor *f;
	zenc__component *c;
	size_t i;
	int rc;

	if ((rc = zenc__check_name(zenc__kind_name(kind), name)) < 0)
		return rc;
	if (zenc__stacks_component(cfg, kind, name))
		return zenc__error_set(
			ZENC_EEXISTS, "%s '%s' already exists",
			zenc__kind_name(kind), name);
	if ((rc = zenc__flavor_lookup(&f, zenc__kind_name(kind), flavor)) < 0)
		return rc;
	if ((rc = check_keys(f, keys, n)) < 0)
		return rc;
	c = append_component(cfg, kind, name, f->name);
	for (i = 0; i < n; i++)
		component_set(c, keys[i], values[i]);
	return 0;
}

int zenc__stacks_component_update(
	zenc__stacks *cfg,
	zenc__kind kind,
	const char *name,
	const char *const *keys,
	const char *const *values,
	size_t n)
{
	const zenc_flavor *f;
	zenc__component *c;
	size_t i;
	int rc;

	if (!(c = zenc__stacks_component(cfg, kind, name)))
		return unknown_component(cfg, kind, name);
	if ((rc = zenc__flavor_lookup(&f, zenc__kind_name(kind), c->flavor)) <
	    0)
		return rc;
	if ((rc = check_keys(f, keys, n)) < 0)
		return rc;
	for (i = 0; i < n; i++)
		component_set(c, keys[i], values[i]);
	return 0;
}

int zenc__stacks_component_delete(
	zenc__stacks *cfg, zenc__kind kind, const char *name)
{
	zenc__component *c;
	zenc_buf users = ZENC_BUF_INIT;
	size_t i, nusers = 0;
	int rc;

	if (!(c = zenc__stacks_component(cfg, kind, name)))
		return unknown_component(cfg, kind, name);
	for (i = 0; i < cfg->nstacks; i++) {
		const char *used = cfg->stacks[i].components[kind];

		if (!used || strcmp(used, name) != 0)
			continue;
		if (nusers++)
			zenc_buf_puts(&users, "', '");
		zenc_buf_puts(&users, cfg->stacks[i].name);
	}
	if (nusers) {
		rc = zenc__error_set(
			ZENC_EINUSE, "%s '%s' is still used by stack%s '%s'",
			zenc__kind_name(kind), name, nusers > 1 ? "s" : "",
			zenc_buf_cstr(&users));
		zenc_buf_release(&users);
		return rc;
	}
	component_release(c);
	i = (size_t)(c - cfg->components);
	memmove(c, c + 1, (cfg->ncomponents - i - 1) * sizeof(*c));
	cfg->ncomponents--;
	return 0;
}

/* The component stack `name` will use for `kind` given `want` (NULL: the
 * default; "": none); *out is borrowed from cfg or NULL for none. */
static int choose(
	const zenc__stacks *cfg,
	const char *stack,
	zenc__kind kind,
	const char *want,
	const char **out)
{
	const char *name = want ? want : "default";

	*out = NULL;
	if (kind == ZENC__KIND_ALERTER) {
		if (!want && !zenc__stacks_component(cfg, kind, name))
			return 0;
		if (want && !*want)
			return 0;
	} else if (!*name) {
		return zenc__error_set(
			ZENC_EINVALID,
			"cannot remove the %s of stack '%s' (only "
			"the alerter is optional)",
			zenc__kind_name(kind), stack);
	}
	if (!zenc__stacks_component(cfg, kind, name))
		return unknown_component(cfg, kind, name);
	*out = zenc__stacks_component(cfg, kind, name)->name;
	return 0;
}

int zenc__stacks_stack_add(
	zenc__stacks *cfg, const char *name, const char *const *comps)
{
	const char *chosen[ZENC__KIND_COUNT];
	zenc__stack_def *s;
	int k, rc;

	if ((rc = zenc__check_name("stack", name)) < 0)
		return rc;
	if (zenc__stacks_stack(cfg, name))
		return zenc__error_set(
			ZENC_EEXISTS, "stack '%s' already exists", name);
	for (k = 0; k < ZENC__KIND_COUNT; k++)
		if ((rc =
			     choose(cfg, name, (zenc__kind)k, comps[k],
				    &chosen[k])) < 0)
			return rc;
	s = append_stack(cfg, name);
	for (k = 0; k < ZENC__KIND_COUNT; k++)
		s->components[k] = zenc__strdup(chosen[k]);
	return 0;
}

int zenc__stacks_stack_update(
	zenc__stacks *cfg, const char *name, const char *const *comps)
{
	const char *chosen[ZENC__KIND_COUNT];
	zenc__stack_def *s;
	int k, rc;

	if (!(s = zenc__stacks_stack(cfg, name)))
		return unknown_stack(cfg, name);
	for (k = 0; k < ZENC__KIND_COUNT; k++)
		if (comps[k] && (rc =
					 choose(cfg, name, (zenc__kind)k,
						comps[k], &chosen[k])) < 0)
			return rc;
	for (k = 0; k < ZENC__KIND_COUNT; k++) {
		if (!comps[k])
			continue;
		free(s->components[k]);
		s->components[k] = zenc__strdup(chosen[k]);
	}
	return 0;
}

int zenc__stacks_stack_delete(zenc__stacks *cfg, const char *name)
{
	zenc__stack_def *s;
	size_t i;

	if (!(s = zenc__stacks_stack(cfg, name)))
		return unknown_stack(cfg, name);
	if (strcmp(name, "default") == 0)
		return zenc__error_set(
			ZENC_ESTATE, "stack 'default' cannot be deleted");
	if (cfg->active && strcmp(cfg->active, name) == 0)
		return zenc__error_set(
			ZENC_ESTATE,
			"stack '%s' is active (make another "
			"stack active first: zenc stack set "
			"NAME)",
			name);
	stack_def_release(s);
	i = (size_t)(s - cfg->stacks);
	memmove(s, s + 1, (cfg->nstacks - i - 1) * sizeof(*s));
	cfg->nstacks--;
	return 0;
}

int zenc__stacks_stack_activate(zenc__stacks *cfg, const char *name)
{
	zenc__stack_def *s;

	if (!(s = zenc__stacks_stack(cfg, name)))
		return unknown_stack(cfg, name);
	free(cfg->active);
	cfg->active = zenc__strdup(s->name);
	return 0;
}

const char *zenc__stacks_mask(
	const zenc_flavor *f, const char *key, const char *value)
{
	if (!value || !*value || zenc__secret_is_ref(value))
		return value;
	if (f && !zenc__flavor_is_secret_key(f, key))
		return value;
	return "****";
}
