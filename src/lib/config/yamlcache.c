/*
 * The step cache's keys of a YAML pipeline (docs/yaml.md, docs/caching.md):
 * `cache: true|false` at pipeline and step level, and a step's
 * `sources`, the files and folders whose content is part of its code.
 * A YAML step's code, for its cache key, is its command and `env`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/yamlpipe.h"
#include "engine/cache.h"
#include "engine/engine.h"

/* A piece of the code text, length-prefixed. */
static void piece(zenc_buf *b, const char *s)
{
	zenc_buf_printf(b, "%zu:%s;", strlen(s ? s : ""), s ? s : "");
}

void zenc__ycache_code(zenc_step *s, const zenc__ystep *y)
{
	zenc_buf b = ZENC_BUF_INIT;
	size_t i;

	if (y->shell) {
		zenc_buf_puts(&b, "shell=");
		piece(&b, y->shell);
	}
	for (i = 0; y->argv && y->argv[i]; i++) {
		zenc_buf_puts(&b, "arg=");
		piece(&b, y->argv[i]);
	}
	for (i = 0; y->env && y->env[i]; i++) {
		zenc_buf_puts(&b, "env=");
		piece(&b, y->env[i]);
	}
	free(s->cache_code);
	s->cache_code = zenc_buf_detach(&b);
}

static int get_cache(int *out, const zenc_yaml_node *v, zenc_buf *err)
{
	bool on;

	if (zenc_yaml_get_bool(v, &on, err) < 0)
		return -1;
	*out = on ? 1 : -1;
	return 0;
}

int zenc__ycache_pipeline(
	zenc_pipeline *p, const zenc_yaml_node *root, zenc_buf *err)
{
	const zenc_yaml_node *v = zenc_yaml_map_get(root, "cache");

	return v ? get_cache(&p->cache, v, err) : 0;
}

static int add_source(zenc_step *s, const zenc_yaml_node *n, zenc_buf *err)
{
	const char *t;

	if (zenc_yaml_get_string(n, &t, err) < 0)
		return -1;
	if (!t || !*t)
		return zenc_yaml_error(err, n, "empty source path");
	{
		size_t cap = s->n_cache_sources;

		zenc__array_grow(
			(void **)&s->cache_sources, &cap,
			s->n_cache_sources + 1, sizeof(*s->cache_sources));
		s->cache_sources[s->n_cache_sources++] = zenc__strdup(t);
	}
	return 0;
}

int zenc__ycache_step_key(
	zenc_step *s,
	const char *key,
	const zenc_yaml_node *v,
	const char *dir,
	zenc_buf *err)
{
	size_t i;

	if (!strcmp(key, "cache"))
		return get_cache(&s->cache, v, err) < 0 ? -1 : 1;
	if (strcmp(key, "sources"))
		return 0;
	free(s->cache_dir);
	s->cache_dir = zenc__strdup(dir);
	if (v->kind == ZENC_YAML_SCALAR && !zenc_yaml_is_null(v))
		return add_source(s, v, err) < 0 ? -1 : 1;
	if (zenc_yaml_expect_seq(v, err) < 0)
		return -1;
	for (i = 0; i < v->nitems; i++)
		if (add_source(s, v->items[i], err) < 0)
			return -1;
	return 1;
}

void zenc__ycache_print(FILE *f, const zenc_step *s)
{
	size_t i;

	if (s->cache || s->pipeline->cache)
		fprintf(f, "     cache: %s (%s)\n",
			zenc__cache_enabled(s) ? "on" : "off",
			s->cache ? "step" : "pipeline");
	for (i = 0; i < s->n_cache_sources; i++)
		fprintf(f, "%s%s",
			i ? ", " : "     sources: ", s->cache_sources[i]);
	if (s->n_cache_sources)
		fputc('\n', f);
}
