/*
 * Run configuration files (`prog run --config run.yaml`), after ZenML's
 * run configuration YAML, and the YAML forms of hooks and retries that
 * YAML pipelines (yamlpipe.c) share.  docs/run-config.md is the user's
 * manual; the decisions that are not obvious:
 *
 * - Configuration overrides code, per event: hooks a file sets for a step
 *   and an event replace that step's list for the event; pipeline-level
 *   ones replace the pipeline's list.  An empty list (`on_failure: []`)
 *   empties the list, so a step falls back to the pipeline's hooks for
 *   that event.
 * - Whatever apply changes in the pipeline (hook lists, retry, hook
 *   deadline, memory limits) is put back when the configuration is freed
 *   at the end of the run: a configuration applies to one run only.
 * - Hook libraries are opened with RTLD_NOW | RTLD_LOCAL, relative to the
 *   file's folder unless absolute, and closed when the configuration is
 *   freed (after the run, when no hook can run any more).
 * - Every error starts with the file's name, line and column, and is
 *   returned as ZENC_ECONFIG.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/runcfg.h"

typedef struct stepcfg {
	zenc_step *step;
	const zenc_yaml_node *params; /* a mapping, or NULL */
	zenc__retry retry;
	int has_timeout, has_hook_timeout, has_memory;
	double timeout, hook_timeout;
	size_t memory_limit;
	zenc__hook_list hooks[ZENC__ON_END + 1];
	int hooks_set[ZENC__ON_END + 1];
	/* What apply replaced, put back by free. */
	zenc__hook_list saved[ZENC__ON_END + 1];
	int swapped[ZENC__ON_END + 1];
	size_t saved_memory;
	int memory_swapped;
} stepcfg;

struct zenc__runcfg {
	char *dir;
	zenc_yaml_doc *doc;
	zenc_pipeline *p;
	char *run_name;
	char *stack;
	int isolation;    /* -1: not set */
	int hook_failure; /* -1: not set */
	zenc__retry retry;
	int has_hook_timeout;
	double hook_timeout;
	zenc__hook_list hooks[ZENC__EVENT_COUNT];
	int hooks_set[ZENC__EVENT_COUNT];
	zenc__hook_list saved[ZENC__EVENT_COUNT];
	int swapped[ZENC__EVENT_COUNT];
	zenc__retry saved_retry;
	int retry_swapped;
	double saved_hook_timeout;
	int hook_timeout_swapped;
	stepcfg *steps;
	size_t n_steps;
	zenc__dlset dls;
};

static const char *const top_keys[] = {
	"run_name",       "stack",        "isolation",  "hook_failure",
	"retry",          "hook_timeout", "on_success", "on_failure",
	"on_start",       "on_end",       "on_retry",   "on_run_success",
	"on_run_failure", "on_run_start", "on_run_end", "on_init",
	"on_cleanup",     "steps",        NULL};

static const char *const step_keys[] = {
	"parameters",   "retry",      "timeout",    "hook_timeout",
	"memory_limit", "on_success", "on_failure", "on_start",
	"on_end",       "on_retry",   NULL};

static const char *const retry_keys[] = {
	"max_retries", "delay", "backoff", NULL};

static const char *const command_hook_keys[] = {"run", "timeout", "name", NULL};

static const char *const builtin_names[] = {
	"alerter_success_hook", "alerter_failure_hook", NULL};

/* A located error as the library's last error. */
static int config_error(zenc_buf *err)
{
	return zenc__error_set(ZENC_ECONFIG, "%s", zenc_buf_cstr(err));
}

int zenc__cfg_hook_failure(
	zenc_hook_failure *out, const zenc_yaml_node *n, zenc_buf *err)
{
	const char *s;

	if (zenc_yaml_get_string(n, &s, err) < 0)
		return -1;
	if (!strcmp(s, "warn"))
		*out = ZENC_HOOK_FAILURE_WARN;
	else if (!strcmp(s, "fail"))
		*out = ZENC_HOOK_FAILURE_FAIL;
	else
		return zenc_yaml_error(
			err, n, "unknown hook_failure '%s' (known: warn, fail)",
			s);
	return 0;
}

char *zenc__cfg_dir_of(const char *path)
{
	char *real = realpath(path, NULL), *slash;
	char cwd[PATH_MAX];

	if (real) {
		slash = strrchr(real, '/');
		if (slash == real)
			slash[1] = '\0';
		else if (slash)
			*slash = '\0';
		return real;
	}
	if (!getcwd(cwd, sizeof(cwd)))
		return zenc__strdup(".");
	return zenc__strdup(cwd);
}

void zenc__dlset_close(zenc__dlset *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		dlclose(d->handles[i]);
	free(d->handles);
	memset(d, 0, sizeof(*d));
}

int zenc__cfg_retry(zenc__retry *out, const zenc_yaml_node *n, zenc_buf *err)
{
	const zenc_yaml_node *v;
	int64_t max = 0;
	double delay = 0, backoff = 1;

	if (!n)
		return 1;
	if (zenc_yaml_check_keys(n, retry_keys, "retry", err) < 0)
		return -1;
	v = zenc_yaml_map_get(n, "max_retries");
	if (zenc_yaml_get_int(v, &max, err) < 0)
		return -1;
	if (max < 0 || max > 1000)
		return zenc_yaml_error(
			err, v,
			"max_retries must be between 0 and "
			"1000, got %lld",
			(long long)max);
	if (zenc_yaml_get_duration(zenc_yaml_map_get(n, "delay"), &delay, err) <
	    0)
		return -1;
	v = zenc_yaml_map_get(n, "backoff");
	if (zenc_yaml_get_double(v, &backoff, err) < 0)
		return -1;
	if (!(backoff > 0) || backoff > 1000)
		return zenc_yaml_error(
			err, v,
			"backoff must be a number above 0, "
			"got %g",
			backoff);
	out->set = 1;
	out->max_retries = (int)max;
	out->delay = delay;
	out->backoff = backoff;
	return 0;
}

/* {run: "cmd" | [argv...], timeout: DURATION, name: STRING} */
static int command_hook(
	zenc__hook_list *list,
	const zenc_yaml_node *n,
	const char *dir,
	zenc_buf *err)
{
	const zenc_yaml_node *run, *v;
	const char *name = NULL, *shell = NULL;
	char **argv = NULL;
	zenc_hook h;
	size_t i;
	int rc = -1;

	if (zenc_yaml_check_keys(n, command_hook_keys, "hook", err) < 0)
		return -1;
	if (!(run = zenc_yaml_require(n, "run", "hook", err)))
		return -1;
	memset(&h, 0, sizeof(h));
	h.kind = ZENC_HOOK_COMMAND;
	if (run->kind == ZENC_YAML_SEQ) {
		if (run->nitems == 0)
			return zenc_yaml_error(
				err, run,
				"'run' needs at least the "
				"program");
		argv = zenc__calloc(run->nitems + 1, sizeof(*argv));
		for (i = 0; i < run->nitems; i++) {
			const char *s;
			if (zenc_yaml_get_string(run->items[i], &s, err) < 0)
				goto done;
			argv[i] = (char *)s;
		}
		h.argv = argv;
	} else {
		if (zenc_yaml_get_string(run, &shell, err) < 0)
			goto done;
		if (!*shell) {
			zenc_yaml_error(err, run, "empty command");
			goto done;
		}
		h.command = shell;
	}
	if (zenc_yaml_get_duration(
		    zenc_yaml_map_get(n, "timeout"), &h.timeout, err) < 0)
		goto done;
	v = zenc_yaml_map_get(n, "name");
	if (zenc_yaml_get_string(v, &name, err) < 0)
		goto done;
	h.name = name;
	if (zenc__hook_list_add(list, &h) < 0) {
		zenc_yaml_error(err, n, "%s", zenc_error_last());
		goto done;
	}
	list->items[list->n - 1].dir = zenc__strdup(dir);
	rc = 0;
done:
	free(argv);
	return rc;
}

/* "LIB.so:FUNCTION": the library relative to `dir` unless absolute. */
static int library_hook(
	zenc__hook_list *list,
	const zenc_yaml_node *n,
	const char *colon,
	const char *dir,
	int run_level,
	zenc__dlset *dls,
	zenc_buf *err)
{
	char *lib = zenc__strndup(n->text, (size_t)(colon - n->text));
	const char *sym = colon + 1;
	char *path = lib[0] == '/' ? zenc__strdup(lib)
				   : zenc__asprintf("%s/%s", dir, lib);
	void *handle, *addr;
	zenc_hook h;
	int rc = -1;

	handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		const char *why = dlerror();
		zenc_yaml_error(
			err, n, "cannot load '%s': %s", lib,
			why ? why : "unknown error");
		goto done;
	}
	zenc__array_grow(
		(void **)&dls->handles, &dls->cap, dls->n + 1,
		sizeof(*dls->handles));
	dls->handles[dls->n++] = handle;
	dlerror();
	addr = dlsym(handle, sym);
	if (!addr) {
		zenc_yaml_error(err, n, "no symbol '%s' in '%s'", sym, lib);
		goto done;
	}
	memset(&h, 0, sizeof(h));
	/* The documented signatures: void(zenc_step_context *, const void *,
	 * const zenc_exception *) for step hooks, void(const zenc_run *)
	 * for run-level ones. */
	h.kind = run_level ? ZENC_HOOK_RUN : ZENC_HOOK_CTX_PARAMS_ERR;
	memcpy(&h.fn, &addr, sizeof(h.fn));
	h.name = n->text;
	if (zenc__hook_list_add(list, &h) < 0) {
		zenc_yaml_error(err, n, "%s", zenc_error_last());
		goto done;
	}
	rc = 0;
done:
	free(lib);
	free(path);
	return rc;
}

static int unknown_hook(
	const zenc_yaml_node *n, const zenc_pipeline *p, zenc_buf *err)
{
	const char **names;
	const char *near;
	size_t i, k = 0;

	names = zenc__calloc(p->n_named + 3, sizeof(*names));
	for (i = 0; builtin_names[i]; i++)
		names[k++] = builtin_names[i];
	for (i = 0; i < p->n_named; i++)
		names[k++] = p->named[i].name;
	near = zenc__did_you_mean(n->text, names);
	if (near)
		zenc_yaml_error(
			err, n,
			"unknown hook '%s' (did you mean "
			"'%s'?)",
			n->text, near);
	else
		zenc_yaml_error(
			err, n,
			"unknown hook '%s' (expected a built-in or "
			"registered hook name, LIB.so:FUNCTION or "
			"{run: COMMAND})",
			n->text);
	free(names);
	return -1;
}

static int one_hook(
	zenc__hook_list *list,
	const zenc_yaml_node *n,
	zenc_pipeline *p,
	const char *dir,
	int run_level,
	zenc__dlset *dls,
	zenc_buf *err)
{
	const char *colon;
	zenc_hook h;
	size_t i;

	if (n->kind == ZENC_YAML_MAP)
		return command_hook(list, n, dir, err);
	if (n->kind != ZENC_YAML_SCALAR || zenc_yaml_is_null(n) || !*n->text) {
		zenc_buf what = ZENC_BUF_INIT;
		zenc_yaml_describe(&what, n);
		zenc_yaml_error(
			err, n,
			"expected a hook (a name, LIB.so:FUNCTION or "
			"{run: COMMAND}), found %s",
			zenc_buf_cstr(&what));
		zenc_buf_release(&what);
		return -1;
	}
	for (i = 0; p && i < p->n_named; i++) {
		const zenc_hook *nh = &p->named[i].hook.h;
		if (strcmp(p->named[i].name, n->text))
			continue;
		if (run_level && !zenc__hook_is_alerter(nh) &&
		    nh->kind != ZENC_HOOK_VOID && nh->kind != ZENC_HOOK_RUN &&
		    nh->kind != ZENC_HOOK_COMMAND)
			return zenc_yaml_error(
				err, n,
				"hook '%s' takes a step context; run-level "
				"hooks must be void(void) or void(const "
				"zenc_run *)",
				n->text);
		if (zenc__hook_list_add(list, nh) < 0)
			return zenc_yaml_error(err, n, "%s", zenc_error_last());
		return 0;
	}
	if (zenc__builtin_hook(&h, n->text) == 0) {
		/* The standard alerter hooks also serve a run: one alert
		 * naming every failed step. */
		zenc__hook_list_add(list, &h);
		return 0;
	}
	colon = strrchr(n->text, ':');
	if (colon && colon != n->text && colon[1])
		return library_hook(list, n, colon, dir, run_level, dls, err);
	return unknown_hook(n, p, err);
}

int zenc__cfg_hooks(
	zenc__hook_list *list,
	const zenc_yaml_node *n,
	zenc_pipeline *p,
	const char *dir,
	int run_level,
	zenc__dlset *dls,
	zenc_buf *err)
{
	size_t i;

	if (n->kind != ZENC_YAML_SEQ)
		return one_hook(list, n, p, dir, run_level, dls, err);
	for (i = 0; i < n->nitems; i++)
		if (one_hook(list, n->items[i], p, dir, run_level, dls, err) <
		    0)
			return -1;
	return 0;
}

/* The parameters of one step, set into `ss` (the run's state, or a
 * scratch one while loading).  Errors at the key or value. */
static int set_params(
	zenc__stepstate *ss, const zenc_yaml_node *map, zenc_buf *err)
{
	zenc_step *s = ss->step;
	zenc_buf where = ZENC_BUF_INIT;
	const zenc_param *f;
	size_t i, k;
	int rc = 0;

	for (i = 0; i < map->npairs && rc == 0; i++) {
		const zenc_yaml_node *key = map->pairs[i].key;
		const zenc_yaml_node *v = map->pairs[i].value;
		for (f = s->param_fields; f && f->name; f++)
			if (!strcmp(f->name, key->text))
				break;
		if (!f || !f->name) {
			const char **names;
			const char *near;
			k = 0;
			for (f = s->param_fields; f && f->name; f++)
				k++;
			names = zenc__calloc(k + 1, sizeof(*names));
			k = 0;
			for (f = s->param_fields; f && f->name; f++)
				names[k++] = f->name;
			near = zenc__did_you_mean(key->text, names);
			if (near)
				rc = zenc_yaml_error(
					err, key,
					"step '%s' has no parameter '%s' "
					"(did you mean '%s'?)",
					s->name, key->text, near);
			else
				rc = zenc_yaml_error(
					err, key,
					"step '%s' has no parameter '%s'",
					s->name, key->text);
			free(names);
			break;
		}
		if (v->kind != ZENC_YAML_SCALAR || zenc_yaml_is_null(v)) {
			zenc_buf what = ZENC_BUF_INIT;
			zenc_yaml_describe(&what, v);
			rc = zenc_yaml_error(
				err, v,
				"parameter '%s.%s' needs a value, "
				"found %s",
				s->name, key->text, zenc_buf_cstr(&what));
			zenc_buf_release(&what);
			break;
		}
		zenc_buf_clear(&where);
		zenc_yaml_where(&where, v);
		if (zenc__params_set(
			    ss, key->text, v->text, zenc_buf_cstr(&where)) <
		    0) {
			zenc_buf_clear(err);
			zenc_buf_puts(err, zenc_error_last());
			rc = -1;
		}
	}
	zenc_buf_release(&where);
	return rc;
}

static int hook_event_of(const char *key, zenc__event *ev)
{
	return zenc__event_parse(ev, key) == 0 ? 1 : 0;
}

static int load_step(
	zenc__runcfg *cfg, stepcfg *sc, const zenc_yaml_node *m, zenc_buf *err)
{
	zenc__stepstate scratch;
	const zenc_yaml_node *v;
	zenc__event ev;
	size_t i;
	int rc;

	if (zenc_yaml_check_keys(m, step_keys, "step", err) < 0)
		return -1;
	for (i = 0; i < m->npairs; i++) {
		const char *k = m->pairs[i].key->text;
		v = m->pairs[i].value;
		if (!strcmp(k, "parameters")) {
			if (zenc_yaml_expect_map(v, err) < 0)
				return -1;
			if (!sc->step->param_fields && v->npairs)
				return zenc_yaml_error(
					err, m->pairs[i].key,
					"step '%s' has no parameters",
					sc->step->name);
			sc->params = v;
		} else if (!strcmp(k, "retry")) {
			if (zenc__cfg_retry(&sc->retry, v, err) < 0)
				return -1;
		} else if (!strcmp(k, "timeout")) {
			if (zenc_yaml_get_duration(v, &sc->timeout, err) < 0)
				return -1;
			sc->has_timeout = 1;
		} else if (!strcmp(k, "hook_timeout")) {
			if (zenc_yaml_get_duration(v, &sc->hook_timeout, err) <
			    0)
				return -1;
			sc->has_hook_timeout = 1;
		} else if (!strcmp(k, "memory_limit")) {
			if (zenc_yaml_get_size(v, &sc->memory_limit, err) < 0)
				return -1;
			sc->has_memory = 1;
		} else if (hook_event_of(k, &ev) && ev <= ZENC__ON_END) {
			if (zenc__cfg_hooks(
				    &sc->hooks[ev], v, cfg->p, cfg->dir, 0,
				    &cfg->dls, err) < 0)
				return -1;
			sc->hooks_set[ev] = 1;
		}
	}
	if (!sc->params)
		return 0;
	/* Check the values now, on a scratch state: a wrong type is a
	 * configuration error before anything runs. */
	memset(&scratch, 0, sizeof(scratch));
	scratch.step = sc->step;
	zenc__params_init(&scratch);
	rc = set_params(&scratch, sc->params, err);
	zenc__params_release(&scratch);
	return rc;
}

static int unknown_step(
	const zenc_yaml_node *key, const zenc_pipeline *p, zenc_buf *err)
{
	const char **names = zenc__calloc(p->n_steps + 1, sizeof(*names));
	const char *near;
	zenc_buf known = ZENC_BUF_INIT;
	size_t i;

	for (i = 0; i < p->n_steps; i++) {
		names[i] = p->steps[i]->name;
		zenc_buf_printf(&known, "%s%s", i ? ", " : "", names[i]);
	}
	near = zenc__did_you_mean(key->text, names);
	if (near)
		zenc_yaml_error(
			err, key, "unknown step '%s' (did you mean '%s'?)",
			key->text, near);
	else
		zenc_yaml_error(
			err, key, "unknown step '%s' (known: %s)", key->text,
			zenc_buf_cstr(&known));
	zenc_buf_release(&known);
	free(names);
	return -1;
}

static int load_steps(
	zenc__runcfg *cfg, const zenc_yaml_node *steps, zenc_buf *err)
{
	size_t i, j;

	if (zenc_yaml_expect_map(steps, err) < 0)
		return -1;
	cfg->steps = zenc__calloc(steps->npairs + 1, sizeof(*cfg->steps));
	for (i = 0; i < steps->npairs; i++) {
		const zenc_yaml_node *key = steps->pairs[i].key;
		const zenc_yaml_node *v = steps->pairs[i].value;
		zenc_step *s = zenc_pipeline_find_step(cfg->p, key->text);
		stepcfg *sc;
		if (!s)
			return unknown_step(key, cfg->p, err);
		for (j = 0; j < cfg->n_steps; j++)
			if (cfg->steps[j].step == s)
				return zenc_yaml_error(
					err, key,
					"step '%s' is "
					"configured twice",
					s->name);
		sc = &cfg->steps[cfg->n_steps++];
		sc->step = s;
		if (zenc_yaml_is_null(v))
			continue;
		if (load_step(cfg, sc, v, err) < 0)
			return -1;
	}
	return 0;
}

static int load_root(
	zenc__runcfg *cfg, const zenc_yaml_node *root, zenc_buf *err)
{
	const zenc_yaml_node *v;
	const char *s;
	zenc__event ev;
	size_t i;

	if (zenc_yaml_check_keys(root, top_keys, "run configuration", err) < 0)
		return -1;
	for (i = 0; i < root->npairs; i++) {
		const char *k = root->pairs[i].key->text;
		v = root->pairs[i].value;
		if (!strcmp(k, "run_name")) {
			if (zenc_yaml_get_string(v, &s, err) < 0)
				return -1;
			if (!*s)
				return zenc_yaml_error(
					err, v, "empty run name");
			cfg->run_name = zenc__strdup(s);
		} else if (!strcmp(k, "stack")) {
			if (zenc_yaml_get_string(v, &s, err) < 0)
				return -1;
			cfg->stack = zenc__strdup(s);
		} else if (!strcmp(k, "isolation")) {
			if (zenc_yaml_get_string(v, &s, err) < 0)
				return -1;
			if (!strcmp(s, "process"))
				cfg->isolation = ZENC_ISOLATION_PROCESS;
			else if (!strcmp(s, "none"))
				cfg->isolation = ZENC_ISOLATION_NONE;
			else
				return zenc_yaml_error(
					err, v,
					"unknown isolation '%s' (known: "
					"process, none)",
					s);
		} else if (!strcmp(k, "hook_failure")) {
			zenc_hook_failure hf = ZENC_HOOK_FAILURE_WARN;
			if (zenc__cfg_hook_failure(&hf, v, err) < 0)
				return -1;
			cfg->hook_failure = hf;
		} else if (!strcmp(k, "retry")) {
			if (zenc__cfg_retry(&cfg->retry, v, err) < 0)
				return -1;
		} else if (!strcmp(k, "hook_timeout")) {
			if (zenc_yaml_get_duration(v, &cfg->hook_timeout, err) <
			    0)
				return -1;
			cfg->has_hook_timeout = 1;
		} else if (!strcmp(k, "steps")) {
			if (!zenc_yaml_is_null(v) &&
			    load_steps(cfg, v, err) < 0)
				return -1;
		} else if (hook_event_of(k, &ev)) {
			if (zenc__cfg_hooks(
				    &cfg->hooks[ev], v, cfg->p, cfg->dir,
				    ev >= ZENC__ON_RUN_SUCCESS, &cfg->dls,
				    err) < 0)
				return -1;
			cfg->hooks_set[ev] = 1;
		}
	}
	return 0;
}

int zenc__runcfg_load(zenc__runcfg **out, const char *path, zenc_pipeline *p)
{
	zenc__runcfg *cfg;
	zenc_buf err = ZENC_BUF_INIT;
	int rc = 0;

	*out = NULL;
	cfg = zenc__calloc(1, sizeof(*cfg));
	cfg->p = p;
	cfg->isolation = -1;
	cfg->hook_failure = -1;
	if (zenc_yaml_load_file(&cfg->doc, path, &err) < 0) {
		rc = config_error(&err);
		goto done;
	}
	cfg->dir = zenc__cfg_dir_of(path);
	if (load_root(cfg, zenc_yaml_root(cfg->doc), &err) < 0) {
		rc = config_error(&err);
		goto done;
	}
	*out = cfg;
	cfg = NULL;
done:
	zenc__runcfg_free(cfg);
	zenc_buf_release(&err);
	return rc;
}

static void swap_list(
	zenc__hook_list *live,
	zenc__hook_list *fresh,
	zenc__hook_list *saved,
	int *swapped)
{
	*saved = *live;
	*live = *fresh;
	memset(fresh, 0, sizeof(*fresh));
	*swapped = 1;
}

int zenc__runcfg_apply(zenc__runcfg *cfg, zenc__exec *x)
{
	zenc_pipeline *p = cfg->p;
	zenc_buf err = ZENC_BUF_INIT;
	size_t i;
	int e, rc = 0;

	if (cfg->isolation >= 0)
		x->isolation = (zenc_isolation)cfg->isolation;
	if (cfg->hook_failure >= 0)
		x->hook_failure = (zenc_hook_failure)cfg->hook_failure;
	if (cfg->retry.set) {
		cfg->saved_retry = p->retry;
		cfg->retry_swapped = 1;
		p->retry = cfg->retry;
	}
	if (cfg->has_hook_timeout) {
		cfg->saved_hook_timeout = p->hook_timeout;
		cfg->hook_timeout_swapped = 1;
		p->hook_timeout = cfg->hook_timeout;
	}
	for (e = 0; e < ZENC__EVENT_COUNT; e++)
		if (cfg->hooks_set[e] && !cfg->swapped[e])
			swap_list(
				&p->hooks[e], &cfg->hooks[e], &cfg->saved[e],
				&cfg->swapped[e]);
	for (i = 0; i < cfg->n_steps; i++) {
		stepcfg *sc = &cfg->steps[i];
		zenc_step *s = sc->step;
		for (e = 0; e <= ZENC__ON_END; e++)
			if (sc->hooks_set[e] && !sc->swapped[e])
				swap_list(
					&s->hooks[e], &sc->hooks[e],
					&sc->saved[e], &sc->swapped[e]);
		if (sc->has_memory && !sc->memory_swapped) {
			sc->saved_memory = s->memory_limit;
			sc->memory_swapped = 1;
			s->memory_limit = sc->memory_limit;
		}
		if (sc->params &&
		    set_params(&x->steps[s->index], sc->params, &err) < 0) {
			rc = config_error(&err);
			break;
		}
	}
	zenc_buf_release(&err);
	return rc;
}

void zenc__runcfg_step_settings(const zenc__runcfg *cfg, zenc__stepstate *ss)
{
	size_t i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->n_steps; i++) {
		const stepcfg *sc = &cfg->steps[i];
		if (sc->step != ss->step)
			continue;
		if (sc->retry.set) {
			ss->max_retries = sc->retry.max_retries;
			ss->delay = sc->retry.delay;
			ss->backoff = sc->retry.backoff;
		}
		if (sc->has_timeout)
			ss->timeout = sc->timeout;
		if (sc->has_hook_timeout)
			ss->hook_timeout = sc->hook_timeout;
	}
}

const char *zenc__runcfg_run_name(const zenc__runcfg *cfg)
{
	return cfg ? cfg->run_name : NULL;
}

const char *zenc__runcfg_stack(const zenc__runcfg *cfg)
{
	return cfg ? cfg->stack : NULL;
}

char *zenc__runcfg_expand_name(const char *tmpl, const char *pipeline, double t)
{
	zenc_buf b = ZENC_BUF_INIT, stamp = ZENC_BUF_INIT;
	const char *p;

	zenc__time_runname(&stamp, t);
	for (p = tmpl; *p; p++) {
		if (!strncmp(p, "{pipeline}", 10)) {
			zenc_buf_puts(&b, pipeline);
			p += 9;
		} else if (!strncmp(p, "{date}", 6)) {
			zenc_buf_put(&b, stamp.ptr, 10);
			p += 5;
		} else if (!strncmp(p, "{time}", 6)) {
			zenc_buf_puts(&b, stamp.ptr + 11);
			p += 5;
		} else {
			zenc_buf_putc(&b, *p);
		}
	}
	zenc_buf_release(&stamp);
	return zenc_buf_detach(&b);
}

static void restore_list(
	zenc__hook_list *live,
	zenc__hook_list *fresh,
	zenc__hook_list *saved,
	int swapped)
{
	if (swapped) {
		zenc__hook_list_release(live);
		*live = *saved;
	}
	zenc__hook_list_release(fresh);
}

void zenc__runcfg_free(zenc__runcfg *cfg)
{
	size_t i;
	int e;

	if (!cfg)
		return;
	for (e = 0; e < ZENC__EVENT_COUNT; e++)
		restore_list(
			&cfg->p->hooks[e], &cfg->hooks[e], &cfg->saved[e],
			cfg->swapped[e]);
	if (cfg->retry_swapped)
		cfg->p->retry = cfg->saved_retry;
	if (cfg->hook_timeout_swapped)
		cfg->p->hook_timeout = cfg->saved_hook_timeout;
	for (i = 0; i < cfg->n_steps; i++) {
		stepcfg *sc = &cfg->steps[i];
		for (e = 0; e <= ZENC__ON_END; e++)
			restore_list(
				&sc->step->hooks[e], &sc->hooks[e],
				&sc->saved[e], sc->swapped[e]);
		if (sc->memory_swapped)
			sc->step->memory_limit = sc->saved_memory;
	}
	free(cfg->steps);
	/* After the hook lists that point into the libraries are gone. */
	zenc__dlset_close(&cfg->dls);
	zenc_yaml_free(cfg->doc);
	free(cfg->dir);
	free(cfg->run_name);
	free(cfg->stack);
	free(cfg);
}
