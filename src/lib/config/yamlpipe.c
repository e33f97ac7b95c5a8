/*
 * YAML pipelines of shell commands (see yamlpipe.h; docs/yaml.md is the
 * user's manual): loading and checking the file, and building the
 * pipeline from it; yamlstep.c runs its steps.  Decisions worth knowing:
 *
 * - Parameters become a parameter table built at load time, one 8-byte
 *   slot per field, typed from the YAML scalar (a plain integer is int, a
 *   plain number double, true/false bool, anything else or quoted a
 *   string), so --param STEP.KEY=VALUE is checked and ZENC_PARAM_* reach
 *   the step and its hooks through the normal machinery.  Pipeline-level
 *   parameters are fields of every step; a step's own of the same name
 *   wins.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrators/orchestrator.h"
#include "config/yamlpipe.h"

#define SLOT 8

/* Where a step came from, for located errors after the first pass. */
typedef struct ynode {
	zenc_step *s;
	const zenc_yaml_node *name;
	const zenc_yaml_node *inputs; /* mapping, or NULL */
	const zenc_yaml_node *after;  /* sequence, or NULL */
	const zenc_yaml_node *params; /* mapping, or NULL */
} ynode;

struct zenc__yamlpipe {
	char *path;
	char *dir;
	zenc_yaml_doc *doc;
	zenc_pipeline *p;
	zenc__dlset dls;
	ynode *steps;
	size_t n_steps;
};

static const char *const top_keys[] = {
	"name",         "on_success", "on_failure",     "on_start",
	"on_end",       "on_retry",   "on_run_success", "on_run_failure",
	"on_run_start", "on_run_end", "on_init",        "on_cleanup",
	"retry",        "timeout",    "hook_timeout",   "hook_failure",
	"parameters",   "steps",      "cache",          NULL};

static const char *const step_keys[] = {
	"name",         "run",        "after",      "inputs",   "outputs",
	"parameters",   "env",        "retry",      "timeout",  "hook_timeout",
	"memory_limit", "on_success", "on_failure", "on_start", "on_end",
	"on_retry",     "cache",      "sources",    NULL};

static const char *const type_names[] = {"int",   "double", "bool", "string",
					 "bytes", "file",   "dir",  NULL};

static char *own(zenc__ystep *y, const char *s)
{
	zenc__array_grow(
		(void **)&y->owned, &y->cap_owned, y->n_owned + 1,
		sizeof(*y->owned));
	return y->owned[y->n_owned++] = zenc__strdup(s);
}

static void ystep_free(void *payload)
{
	zenc__ystep *y = payload;
	size_t i;

	if (!y)
		return;
	free(y->shell);
	for (i = 0; y->argv && y->argv[i]; i++)
		free(y->argv[i]);
	free(y->argv);
	for (i = 0; i < y->n_env; i++)
		free(y->env[i]);
	free(y->env);
	free(y->dir);
	free(y->fields);
	for (i = 0; i < y->n_owned; i++)
		free(y->owned[i]);
	free(y->owned);
	free(y);
}

/* ---- loading */

static int config_error(zenc_buf *err)
{
	return zenc__error_set(ZENC_ECONFIG, "%s", zenc_buf_cstr(err));
}

static int describe_error(
	zenc_buf *err, const zenc_yaml_node *n, const char *expected)
{
	zenc_buf what = ZENC_BUF_INIT;

	zenc_yaml_describe(&what, n);
	zenc_yaml_error(
		err, n, "expected %s, found %s", expected,
		zenc_buf_cstr(&what));
	zenc_buf_release(&what);
	return -1;
}

/* The type a parameter gets from its YAML scalar. */
static int param_type(const zenc_yaml_node *v, zenc_type *t, zenc_buf *err)
{
	zenc_buf scratch = ZENC_BUF_INIT;
	int64_t i;
	double d;
	bool b;

	if (v->kind != ZENC_YAML_SCALAR || zenc_yaml_is_null(v))
		return describe_error(err, v, "a parameter value");
	if (v->quoted)
		*t = ZENC_STRING;
	else if (zenc_yaml_get_int(v, &i, &scratch) == 0)
		*t = ZENC_INT;
	else if (zenc_yaml_get_double(v, &d, &scratch) == 0)
		*t = ZENC_DOUBLE;
	else if (zenc_yaml_get_bool(v, &b, &scratch) == 0)
		*t = ZENC_BOOL;
	else
		*t = ZENC_STRING;
	zenc_buf_release(&scratch);
	return 0;
}

/* Adds the field `key` = `v` to the step's table; replaces a field of the
 * same name (a pipeline-level one). */
static int add_field(
	zenc__ystep *y,
	const zenc_yaml_node *key,
	const zenc_yaml_node *v,
	zenc_buf *err)
{
	zenc_buf scratch = ZENC_BUF_INIT;
	zenc_param *f = NULL;
	zenc_type t;
	size_t i;

	if (param_type(v, &t, err) < 0)
		return -1;
	for (i = 0; i < y->n_fields; i++)
		if (!strcmp(y->fields[i].name, key->text))
			f = &y->fields[i];
	if (!f) {
		y->fields = zenc__realloc(
			y->fields, (y->n_fields + 2) * sizeof(*y->fields));
		f = &y->fields[y->n_fields];
		memset(f, 0, sizeof(*f));
		f->name = own(y, key->text);
		f->offset = y->n_fields * SLOT;
		y->n_fields++;
		memset(&y->fields[y->n_fields], 0, sizeof(*f));
	}
	f->type = t;
	f->def_int = 0;
	f->def_double = 0;
	f->def_bool = 0;
	f->def_string = NULL;
	switch (t) {
	case ZENC_INT:
		zenc_yaml_get_int(v, &f->def_int, &scratch);
		break;
	case ZENC_DOUBLE:
		zenc_yaml_get_double(v, &f->def_double, &scratch);
		break;
	case ZENC_BOOL: {
		bool b = false;
		zenc_yaml_get_bool(v, &b, &scratch);
		f->def_bool = b;
		break;
	}
	default:
		if (memchr(v->text, 0, v->len)) {
			zenc_buf_release(&scratch);
			return zenc_yaml_error(
				err, v,
				"string contains a NUL "
				"character");
		}
		f->def_string = own(y, v->text);
		break;
	}
	zenc_buf_release(&scratch);
	return 0;
}

static int add_fields(zenc__ystep *y, const zenc_yaml_node *map, zenc_buf *err)
{
	size_t i;

	if (!map)
		return 0;
	for (i = 0; i < map->npairs; i++)
		if (add_field(y, map->pairs[i].key, map->pairs[i].value, err) <
		    0)
			return -1;
	return 0;
}

static int env_name_ok(const char *s)
{
	const char *p;

	if (!*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (p = s; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '_'))
			return 0;
	return 1;
}

static int parse_env(zenc__ystep *y, const zenc_yaml_node *map, zenc_buf *err)
{
	size_t i;

	if (zenc_yaml_expect_map(map, err) < 0)
		return -1;
	y->env = zenc__calloc(map->npairs + 1, sizeof(*y->env));
	for (i = 0; i < map->npairs; i++) {
		const zenc_yaml_node *k = map->pairs[i].key;
		const char *v;
		if (!env_name_ok(k->text))
			return zenc_yaml_error(
				err, k,
				"invalid environment variable "
				"name '%s'",
				k->text);
		if (zenc_yaml_get_string(map->pairs[i].value, &v, err) < 0)
			return -1;
		y->env[y->n_env++] = zenc__asprintf("%s=%s", k->text, v);
	}
	return 0;
}

static int parse_run(zenc__ystep *y, const zenc_yaml_node *run, zenc_buf *err)
{
	const char *s;
	size_t i;

	if (run->kind == ZENC_YAML_SEQ) {
		if (run->nitems == 0)
			return zenc_yaml_error(
				err, run,
				"'run' needs at least the "
				"program");
		y->argv = zenc__calloc(run->nitems + 1, sizeof(*y->argv));
		for (i = 0; i < run->nitems; i++) {
			if (zenc_yaml_get_string(run->items[i], &s, err) < 0)
				return -1;
			y->argv[i] = zenc__strdup(s);
		}
		return 0;
	}
	if (zenc_yaml_get_string(run, &s, err) < 0)
		return -1;
	if (!*s)
		return zenc_yaml_error(err, run, "empty command");
	y->shell = zenc__strdup(s);
	return 0;
}

static int reserved_output(const char *name)
{
	const char *p;

	if (strncmp(name, "out.", 4) && strncmp(name, "log.", 4))
		return 0;
	for (p = name + 4; *p; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

static int parse_outputs(zenc_step *s, const zenc_yaml_node *map, zenc_buf *err)
{
	size_t i;

	if (zenc_yaml_expect_map(map, err) < 0)
		return -1;
	for (i = 0; i < map->npairs; i++) {
		const zenc_yaml_node *k = map->pairs[i].key;
		const zenc_yaml_node *v = map->pairs[i].value;
		const char *tn, *near;
		zenc_type t;
		if (zenc_yaml_get_string(v, &tn, err) < 0)
			return -1;
		if (!strcmp(tn, "float") || !strcmp(tn, "str") ||
		    !strcmp(tn, "integer") || !strcmp(tn, "boolean") ||
		    zenc_type_parse(&t, tn) < 0) {
			near = zenc__did_you_mean(tn, type_names);
			if (near)
				return zenc_yaml_error(
					err, v,
					"unknown type '%s' for output '%s' "
					"(did you mean '%s'?)",
					tn, k->text, near);
			return zenc_yaml_error(
				err, v,
				"unknown type '%s' for output "
				"'%s' (known: int, double, "
				"bool, string, bytes, file, dir)",
				tn, k->text);
		}
		if (reserved_output(k->text))
			return zenc_yaml_error(
				err, k,
				"output name '%s' is reserved "
				"(the step's out.N and log.N)",
				k->text);
		if (zenc_step_add_output(s, k->text, t) < 0)
			return zenc_yaml_error(err, k, "%s", zenc_error_last());
	}
	return 0;
}

static int hook_event_of(const char *key, zenc__event *ev)
{
	return zenc__event_parse(ev, key) == 0;
}

/* The step named `name`, through the pipeline's name index: the steps
 * of the file and of the pipeline are added together, in the same
 * order, so a step's index is its node's. */
static ynode *find_ynode(zenc__yamlpipe *yp, const char *name)
{
	zenc_step *s = zenc_pipeline_find_step(yp->p, name);

	return s && s->index < yp->n_steps && yp->steps[s->index].s == s
		       ? &yp->steps[s->index]
		       : NULL;
}

static int load_step(
	zenc__yamlpipe *yp,
	const zenc_yaml_node *m,
	const zenc_yaml_node *pparams,
	double ptimeout,
	zenc_buf *err)
{
	const zenc_yaml_node *name, *v;
	const char *nm;
	zenc_step *s = NULL;
	zenc__ystep *y;
	ynode *yn, *first;
	zenc__event ev;
	size_t i;

	if (m->kind != ZENC_YAML_MAP)
		return describe_error(
			err, m,
			"a step (a mapping with 'name' "
			"and 'run')");
	if (zenc_yaml_check_keys(m, step_keys, "step", err) < 0)
		return -1;
	if (!(name = zenc_yaml_require(m, "name", "step", err)))
		return -1;
	if (zenc_yaml_get_string(name, &nm, err) < 0)
		return -1;
	if ((first = find_ynode(yp, nm)))
		return zenc_yaml_error(
			err, name,
			"duplicate step name '%s' "
			"(first at line %u)",
			nm, first->name->line);
	if (!(v = zenc_yaml_require(m, "run", "step", err)))
		return -1;
	if (zenc_pipeline_add_step(&s, yp->p, nm, zenc__yamlpipe_step) < 0)
		return zenc_yaml_error(err, name, "%s", zenc_error_last());
	y = zenc__calloc(1, sizeof(*y));
	y->dir = zenc__strdup(yp->dir);
	zenc__step_set_payload(s, y, ystep_free);
	s->threadable = 1;
	yn = &yp->steps[yp->n_steps++];
	yn->s = s;
	yn->name = name;
	if (parse_run(y, v, err) < 0)
		return -1;
	if (ptimeout > 0)
		zenc_step_set_timeout(s, ptimeout);

	for (i = 0; i < m->npairs; i++) {
		const char *k = m->pairs[i].key->text;
		int c;
		v = m->pairs[i].value;
		if ((c = zenc__ycache_step_key(s, k, v, yp->dir, err)) != 0) {
			if (c < 0)
				return -1;
		} else if (!strcmp(k, "after")) {
			if (v->kind == ZENC_YAML_SCALAR &&
			    !zenc_yaml_is_null(v)) {
				yn->after = v; /* one name */
				continue;
			}
			if (zenc_yaml_expect_seq(v, err) < 0)
				return -1;
			yn->after = v;
		} else if (!strcmp(k, "inputs")) {
			if (zenc_yaml_expect_map(v, err) < 0)
				return -1;
			yn->inputs = v;
		} else if (!strcmp(k, "outputs")) {
			if (parse_outputs(s, v, err) < 0)
				return -1;
		} else if (!strcmp(k, "parameters")) {
			if (zenc_yaml_expect_map(v, err) < 0)
				return -1;
			yn->params = v;
		} else if (!strcmp(k, "env")) {
			if (parse_env(y, v, err) < 0)
				return -1;
		} else if (!strcmp(k, "retry")) {
			if (zenc__cfg_retry(&s->retry, v, err) < 0)
				return -1;
		} else if (!strcmp(k, "timeout")) {
			if (zenc_yaml_get_duration(v, &s->timeout, err) < 0)
				return -1;
		} else if (!strcmp(k, "hook_timeout")) {
			if (zenc_yaml_get_duration(v, &s->hook_timeout, err) <
			    0)
				return -1;
		} else if (!strcmp(k, "memory_limit")) {
			if (zenc_yaml_get_size(v, &s->memory_limit, err) < 0)
				return -1;
		} else if (hook_event_of(k, &ev)) {
			if (zenc__cfg_hooks(
				    &s->hooks[ev], v, yp->p, yp->dir, 0,
				    &yp->dls, err) < 0)
				return -1;
		}
	}
	zenc__ycache_code(s, y);
	if (add_fields(y, pparams, err) < 0 ||
	    add_fields(y, yn->params, err) < 0)
		return -1;
	if (y->n_fields &&
	    zenc_step_set_params(
		    s, "Parameters", y->fields, y->n_fields * SLOT) < 0)
		return zenc_yaml_error(
			err, yn->params ? yn->params : m, "%s",
			zenc_error_last());
	return 0;
}

static int unknown_step(
	zenc__yamlpipe *yp,
	const zenc_yaml_node *at,
	const char *name,
	zenc_buf *err)
{
	const char **names = zenc__calloc(yp->n_steps + 1, sizeof(*names));
	const char *near;
	size_t i;

	for (i = 0; i < yp->n_steps; i++)
		names[i] = yp->steps[i].s->name;
	near = zenc__did_you_mean(name, names);
	free(names);
	if (near)
		return zenc_yaml_error(
			err, at,
			"unknown step '%s' (did you mean "
			"'%s'?)",
			name, near);
	return zenc_yaml_error(err, at, "unknown step '%s'", name);
}

static int wire_input(
	zenc__yamlpipe *yp,
	ynode *yn,
	const zenc_yaml_node *k,
	const zenc_yaml_node *v,
	zenc_buf *err)
{
	const char *ref, *dot, *near;
	const char **names;
	char *up_name;
	ynode *up;
	size_t i;
	int rc = 0;

	if (zenc_yaml_get_string(v, &ref, err) < 0)
		return -1;
	dot = strchr(ref, '.');
	if (!dot || dot == ref || !dot[1])
		return zenc_yaml_error(
			err, v,
			"input '%s': expected STEP.OUTPUT, got "
			"'%s'",
			k->text, ref);
	up_name = zenc__strndup(ref, (size_t)(dot - ref));
	up = find_ynode(yp, up_name);
	if (!up) {
		rc = unknown_step(yp, v, up_name, err);
		goto done;
	}
	if (up == yn) {
		rc = zenc_yaml_error(
			err, v, "input '%s' reads the step's own output",
			k->text);
		goto done;
	}
	for (i = 0; i < up->s->n_outputs; i++)
		if (!strcmp(up->s->outputs[i].name, dot + 1))
			break;
	if (i == up->s->n_outputs) {
		names = zenc__calloc(up->s->n_outputs + 1, sizeof(*names));
		for (i = 0; i < up->s->n_outputs; i++)
			names[i] = up->s->outputs[i].name;
		near = zenc__did_you_mean(dot + 1, names);
		free(names);
		if (near)
			rc = zenc_yaml_error(
				err, v,
				"step '%s' has no output '%s' "
				"(did you mean '%s'?)",
				up_name, dot + 1, near);
		else
			rc = zenc_yaml_error(
				err, v, "step '%s' has no output '%s'%s",
				up_name, dot + 1,
				up->s->n_outputs ? "" : " (it declares none)");
		goto done;
	}
	if (zenc_step_add_input(yn->s, k->text, NULL, ref) < 0)
		rc = zenc_yaml_error(err, k, "%s", zenc_error_last());
done:
	free(up_name);
	return rc;
}

static int wire_after(
	zenc__yamlpipe *yp, ynode *yn, const zenc_yaml_node *v, zenc_buf *err)
{
	const char *name;
	ynode *up;

	if (zenc_yaml_get_string(v, &name, err) < 0)
		return -1;
	up = find_ynode(yp, name);
	if (!up)
		return unknown_step(yp, v, name, err);
	if (up == yn)
		return zenc_yaml_error(
			err, v, "step '%s' runs after itself", name);
	return zenc_step_after_name(yn->s, name);
}

/* The entry of `yn` that makes it depend on `dep`, for locating a cycle. */
static const zenc_yaml_node *edge_node(ynode *yn, const zenc_step *dep)
{
	const zenc_yaml_node *n;
	size_t i, len = strlen(dep->name);

	for (i = 0; yn->inputs && i < yn->inputs->npairs; i++) {
		n = yn->inputs->pairs[i].value;
		if (n->kind == ZENC_YAML_SCALAR &&
		    !strncmp(n->text, dep->name, len) && n->text[len] == '.')
			return n;
	}
	if (yn->after && yn->after->kind == ZENC_YAML_SCALAR)
		return yn->after;
	for (i = 0; yn->after && i < yn->after->nitems; i++) {
		n = yn->after->items[i];
		if (!strcmp(n->text, dep->name))
			return n;
	}
	return yn->name;
}

/* Depth-first search for a cycle; on one, reports it at the entry that
 * closes it. */
static int find_cycle(
	zenc__yamlpipe *yp,
	size_t i,
	char *state,
	size_t *stack,
	size_t depth,
	zenc_buf *err)
{
	zenc_step *s = yp->steps[i].s;
	size_t j, k;

	state[i] = 1;
	stack[depth] = i;
	for (j = 0; j < s->n_deps; j++) {
		size_t d = s->deps[j]->index;
		if (state[d] == 1) {
			zenc_buf path = ZENC_BUF_INIT;
			for (k = 0; k <= depth && stack[k] != d; k++)
				;
			for (; k <= depth; k++)
				zenc_buf_printf(
					&path, "%s -> ",
					yp->steps[stack[k]].s->name);
			zenc_buf_puts(&path, s->deps[j]->name);
			zenc_yaml_error(
				err, edge_node(&yp->steps[i], s->deps[j]),
				"dependency cycle: %s (each step "
				"waits for the next)",
				zenc_buf_cstr(&path));
			zenc_buf_release(&path);
			return -1;
		}
		if (state[d] == 0 &&
		    find_cycle(yp, d, state, stack, depth + 1, err) < 0)
			return -1;
	}
	state[i] = 2;
	return 0;
}

/* Fills each step's deps as validation would, for the cycle search. */
static void fill_deps(zenc__yamlpipe *yp)
{
	size_t i, j, k;

	for (i = 0; i < yp->n_steps; i++) {
		zenc_step *s = yp->steps[i].s;
		zenc_step *d;
		free(s->deps);
		s->deps = NULL;
		s->n_deps = 0;
		for (j = 0; j < s->n_inputs + s->n_after; j++) {
			d = zenc_pipeline_find_step(
				yp->p, j < s->n_inputs
					       ? s->inputs[j].from_step
					       : s->after[j - s->n_inputs]);
			for (k = 0; k < s->n_deps && s->deps[k] != d; k++)
				;
			if (!d || k < s->n_deps)
				continue;
			s->deps = zenc__realloc(
				s->deps, (s->n_deps + 1) * sizeof(*s->deps));
			s->deps[s->n_deps++] = d;
		}
	}
}

static int wire(zenc__yamlpipe *yp, zenc_buf *err)
{
	char *state;
	size_t *stack;
	size_t i, j;
	int rc = 0;

	for (i = 0; i < yp->n_steps; i++) {
		ynode *yn = &yp->steps[i];
		for (j = 0; yn->inputs && j < yn->inputs->npairs; j++)
			if (wire_input(
				    yp, yn, yn->inputs->pairs[j].key,
				    yn->inputs->pairs[j].value, err) < 0)
				return -1;
		if (yn->after && yn->after->kind == ZENC_YAML_SCALAR) {
			if (wire_after(yp, yn, yn->after, err) < 0)
				return -1;
			continue;
		}
		for (j = 0; yn->after && j < yn->after->nitems; j++)
			if (wire_after(yp, yn, yn->after->items[j], err) < 0)
				return -1;
	}
	fill_deps(yp);
	state = zenc__calloc(yp->n_steps, 1);
	stack = zenc__calloc(yp->n_steps, sizeof(*stack));
	for (i = 0; i < yp->n_steps && rc == 0; i++)
		if (state[i] == 0)
			rc = find_cycle(yp, i, state, stack, 0, err);
	free(state);
	free(stack);
	return rc;
}

static int load_root(
	zenc__yamlpipe *yp, const zenc_yaml_node *root, zenc_buf *err)
{
	const zenc_yaml_node *v, *steps, *pparams = NULL;
	zenc__retry retry = {0};
	double timeout = 0, hook_timeout = 0;
	const char *name = NULL, *s;
	char *base = NULL, *dot;
	zenc__event ev;
	size_t i;
	int rc = -1;

	if (zenc_yaml_check_keys(root, top_keys, "pipeline", err) < 0)
		return -1;
	v = zenc_yaml_map_get(root, "name");
	if (zenc_yaml_get_string(v, &name, err) < 0)
		return -1;
	if (!name) {
		/* The file's name without its extension. */
		s = strrchr(yp->path, '/');
		base = zenc__strdup(s ? s + 1 : yp->path);
		if ((dot = strrchr(base, '.')) && dot != base)
			*dot = '\0';
		name = base;
	}
	if (zenc_pipeline_new(&yp->p, name) < 0) {
		if (v)
			zenc_yaml_error(err, v, "%s", zenc_error_last());
		else
			zenc_yaml_error(
				err, root, "%s (set 'name')",
				zenc_error_last());
		goto done;
	}
	if (zenc__cfg_retry(&retry, zenc_yaml_map_get(root, "retry"), err) <
		    0 ||
	    zenc_yaml_get_duration(
		    zenc_yaml_map_get(root, "timeout"), &timeout, err) < 0 ||
	    zenc_yaml_get_duration(
		    zenc_yaml_map_get(root, "hook_timeout"), &hook_timeout,
		    err) < 0)
		goto done;
	if (zenc__ycache_pipeline(yp->p, root, err) < 0)
		goto done;
	if (retry.set)
		yp->p->retry = retry;
	yp->p->hook_timeout = hook_timeout;
	if ((v = zenc_yaml_map_get(root, "hook_failure"))) {
		zenc_hook_failure hf;
		if (zenc__cfg_hook_failure(&hf, v, err) < 0)
			goto done;
		zenc_pipeline_set_hook_failure(yp->p, hf);
	}
	if ((pparams = zenc_yaml_map_get(root, "parameters")) &&
	    zenc_yaml_expect_map(pparams, err) < 0)
		goto done;
	for (i = 0; i < root->npairs; i++) {
		const char *k = root->pairs[i].key->text;
		if (!hook_event_of(k, &ev))
			continue;
		if (zenc__cfg_hooks(
			    &yp->p->hooks[ev], root->pairs[i].value, yp->p,
			    yp->dir, ev >= ZENC__ON_RUN_SUCCESS, &yp->dls,
			    err) < 0)
			goto done;
	}
	if (!(steps = zenc_yaml_require(root, "steps", "pipeline", err)))
		goto done;
	if (zenc_yaml_expect_seq(steps, err) < 0)
		goto done;
	if (steps->nitems == 0) {
		zenc_yaml_error(
			err, steps,
			"a pipeline needs at least one "
			"step");
		goto done;
	}
	yp->steps = zenc__calloc(steps->nitems, sizeof(*yp->steps));
	for (i = 0; i < steps->nitems; i++)
		if (load_step(yp, steps->items[i], pparams, timeout, err) < 0)
			goto done;
	if (wire(yp, err) < 0)
		goto done;
	if (zenc_pipeline_validate(yp->p) < 0) {
		zenc_yaml_error(err, steps, "%s", zenc_error_last());
		goto done;
	}
	rc = 0;
done:
	free(base);
	return rc;
}

int zenc__yamlpipe_load(zenc__yamlpipe **out, const char *path)
{
	zenc__yamlpipe *yp = zenc__calloc(1, sizeof(*yp));
	zenc_buf err = ZENC_BUF_INIT;
	int rc = 0;

	*out = NULL;
	yp->path = zenc__strdup(path);
	if (zenc_yaml_load_file(&yp->doc, path, &err) < 0) {
		rc = config_error(&err);
		goto done;
	}
	yp->dir = zenc__cfg_dir_of(path);
	if (load_root(yp, zenc_yaml_root(yp->doc), &err) < 0) {
		rc = config_error(&err);
		goto done;
	}
	*out = yp;
	yp = NULL;
done:
	zenc__yamlpipe_free(yp);
	zenc_buf_release(&err);
	return rc;
}

zenc_pipeline *zenc__yamlpipe_pipeline(zenc__yamlpipe *yp)
{
	return yp->p;
}

int zenc__yamlpipe_check_params(zenc__yamlpipe *yp, const char *const *params)
{
	zenc__exec x;
	size_t i;
	int rc = 0;

	if (!params || !params[0])
		return 0;
	memset(&x, 0, sizeof(x));
	x.p = yp->p;
	x.steps = zenc__calloc(yp->p->n_steps, sizeof(*x.steps));
	for (i = 0; i < yp->p->n_steps; i++) {
		x.steps[i].step = yp->p->steps[i];
		zenc__params_init(&x.steps[i]);
	}
	for (i = 0; params[i] && rc == 0; i++)
		rc = zenc__params_apply(&x, params[i]);
	for (i = 0; i < yp->p->n_steps; i++)
		zenc__params_release(&x.steps[i]);
	free(x.steps);
	return rc;
}

/* ---- the plan */

static void print_duration(FILE *f, double s)
{
	if (s >= 3600 && s == (double)(long long)(s / 3600) * 3600)
		fprintf(f, "%gh", s / 3600);
	else if (s >= 60 && s == (double)(long long)(s / 60) * 60)
		fprintf(f, "%gm", s / 60);
	else if (s < 1 && s > 0)
		fprintf(f, "%gms", s * 1000);
	else
		fprintf(f, "%gs", s);
}

static void print_hooks(
	FILE *f,
	const char *indent,
	const zenc__hook_list *l,
	const char *origin,
	zenc__event ev)
{
	size_t i;

	if (!l->n)
		return;
	fprintf(f, "%s%s:", indent, zenc__event_name(ev));
	for (i = 0; i < l->n; i++)
		fprintf(f, "%s %s", i ? "," : "", l->items[i].name);
	if (origin)
		fprintf(f, " (%s)", origin);
	fputc('\n', f);
}

static void print_step(
	FILE *f, const zenc_pipeline *p, const zenc_step *s, size_t n)
{
	static const zenc__event order[] = {
		ZENC__ON_START, ZENC__ON_SUCCESS, ZENC__ON_RETRY,
		ZENC__ON_FAILURE, ZENC__ON_END};
	const zenc__ystep *y = s->fn_payload;
	const zenc__retry *r = s->retry.set ? &s->retry : &p->retry;
	zenc_buf v = ZENC_BUF_INIT;
	size_t i;

	fprintf(f, "%zu. %s", n, s->name);
	for (i = 0; i < s->n_deps; i++)
		fprintf(f, "%s%s", i ? ", " : " (after ", s->deps[i]->name);
	fprintf(f, "%s\n", s->n_deps ? ")" : "");
	if (y->shell) {
		fprintf(f, "     run: %s\n", y->shell);
	} else {
		fprintf(f, "     run:");
		for (i = 0; y->argv[i]; i++)
			fprintf(f, " %s", y->argv[i]);
		fputc('\n', f);
	}
	for (i = 0; i < s->n_inputs; i++)
		fprintf(f, "     input %s <- %s.%s\n", s->inputs[i].name,
			s->inputs[i].from_step, s->inputs[i].from_output);
	for (i = 0; i < s->n_outputs; i++)
		fprintf(f, "     output %s (%s)\n", s->outputs[i].name,
			zenc_type_name(s->outputs[i].type));
	for (i = 0; i < y->n_fields; i++) {
		zenc_buf_clear(&v);
		if (y->fields[i].type == ZENC_STRING)
			zenc_buf_puts(&v, y->fields[i].def_string);
		else if (y->fields[i].type == ZENC_INT)
			zenc_buf_printf(
				&v, "%lld", (long long)y->fields[i].def_int);
		else if (y->fields[i].type == ZENC_DOUBLE)
			zenc_buf_printf(&v, "%g", y->fields[i].def_double);
		else
			zenc_buf_puts(
				&v, y->fields[i].def_bool ? "true" : "false");
		fprintf(f, "     param %s = %s (%s)\n", y->fields[i].name,
			zenc_buf_cstr(&v), zenc_type_name(y->fields[i].type));
	}
	if (r->set && r->max_retries > 0) {
		fprintf(f, "     retry: %d, delay ", r->max_retries);
		print_duration(f, r->delay);
		fprintf(f, ", backoff %g\n", r->backoff);
	}
	if (s->timeout > 0) {
		fprintf(f, "     timeout: ");
		print_duration(f, s->timeout);
		fputc('\n', f);
	}
	if (s->memory_limit)
		fprintf(f, "     memory_limit: %zu bytes\n", s->memory_limit);
	zenc__ycache_print(f, s);
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		zenc__event ev = order[i];
		const zenc__hook_list *l = zenc__step_hooks(s, ev);
		print_hooks(
			f, "     ", l, l == &s->hooks[ev] ? "step" : "pipeline",
			ev);
	}
	zenc_buf_release(&v);
}

/* A binary min-heap of step indexes: the ready step first in the file
 * is always taken next. */
static void heap_push(size_t *h, size_t *n, size_t v)
{
	size_t i = (*n)++;

	while (i && h[(i - 1) / 2] > v) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = v;
}

static size_t heap_pop(size_t *h, size_t *n)
{
	size_t top = h[0], v = h[--*n], i = 0, c;

	while ((c = 2 * i + 1) < *n) {
		if (c + 1 < *n && h[c + 1] < h[c])
			c++;
		if (h[c] >= v)
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = v;
	return top;
}

void zenc__yamlpipe_print_plan(zenc__yamlpipe *yp, FILE *f)
{
	zenc_pipeline *p = yp->p;
	size_t n_steps = p->n_steps;
	size_t *left = zenc__calloc(n_steps + 1, sizeof(*left));
	/* The steps that depend on each step, as one array of edges. */
	size_t *first = zenc__calloc(n_steps + 1, sizeof(*first));
	size_t *edges, *heap = zenc__calloc(n_steps + 1, sizeof(*heap));
	size_t i, k, n_edges = 0, n_heap = 0, n = 0;

	fprintf(f,
		"pipeline %s (%s): %zu step%s, in the order they can "
		"run\n",
		p->name, yp->path, n_steps, n_steps == 1 ? "" : "s");
	/* Kahn's algorithm, in file order among the steps that are ready:
	 * O((steps + edges) log steps). */
	for (i = 0; i < n_steps; i++) {
		left[i] = p->steps[i]->n_deps;
		n_edges += p->steps[i]->n_deps;
		for (k = 0; k < p->steps[i]->n_deps; k++)
			first[p->steps[i]->deps[k]->index + 1]++;
	}
	for (i = 0; i < n_steps; i++)
		first[i + 1] += first[i];
	edges = zenc__calloc(n_edges + 1, sizeof(*edges));
	{
		size_t *fill = zenc__calloc(n_steps + 1, sizeof(*fill));
		for (i = 0; i < n_steps; i++)
			for (k = 0; k < p->steps[i]->n_deps; k++) {
				size_t u = p->steps[i]->deps[k]->index;
				edges[first[u] + fill[u]++] = i;
			}
		free(fill);
	}
	for (i = 0; i < n_steps; i++)
		if (!left[i])
			heap_push(heap, &n_heap, i);
	while (n_heap) {
		size_t u = heap_pop(heap, &n_heap);
		print_step(f, p, p->steps[u], ++n);
		for (k = first[u]; k < first[u + 1]; k++)
			if (!--left[edges[k]])
				heap_push(heap, &n_heap, edges[k]);
	}
	/* Run-level and run-scope hooks (on_init / on_cleanup: once per
	 * execution environment). */
	for (k = ZENC__ON_RUN_SUCCESS, n = 0; k < ZENC__EVENT_COUNT; k++)
		if (p->hooks[k].n && !n++)
			fprintf(f, "run hooks (once per run):\n");
	for (k = ZENC__ON_RUN_SUCCESS; k < ZENC__EVENT_COUNT; k++)
		print_hooks(f, "   ", &p->hooks[k], NULL, (zenc__event)k);
	free(left);
	free(first);
	free(edges);
	free(heap);
}

void zenc__yamlpipe_free(zenc__yamlpipe *yp)
{
	if (!yp)
		return;
	/* The hook lists point into the libraries: free them first. */
	zenc_pipeline_free(yp->p);
	zenc__dlset_close(&yp->dls);
	zenc_yaml_free(yp->doc);
	free(yp->steps);
	free(yp->dir);
	free(yp->path);
	free(yp);
}

/*
 * The public face of a YAML pipeline (<zenc/pipeline.h>).
 */

struct zenc_yaml_pipeline {
	zenc__yamlpipe *yp;
};

int zenc_yaml_pipeline_load(zenc_yaml_pipeline **out, const char *path)
{
	zenc__yamlpipe *yp = NULL;
	int rc;

	if (!out || !path)
		return zenc__error_set(ZENC_EINVALID, "no pipeline file");
	*out = NULL;
	if ((rc = zenc__yamlpipe_load(&yp, path)) < 0)
		return rc;
	*out = zenc__calloc(1, sizeof(**out));
	(*out)->yp = yp;
	return 0;
}

zenc_pipeline *zenc_yaml_pipeline_get(zenc_yaml_pipeline *yp)
{
	return yp ? zenc__yamlpipe_pipeline(yp->yp) : NULL;
}

int zenc_yaml_pipeline_check_params(
	zenc_yaml_pipeline *yp, const char *const *params)
{
	if (!yp)
		return zenc__error_set(ZENC_EINVALID, "no pipeline");
	return zenc__yamlpipe_check_params(yp->yp, params);
}

void zenc_yaml_pipeline_print_plan(zenc_yaml_pipeline *yp, FILE *f)
{
	if (yp && f)
		zenc__yamlpipe_print_plan(yp->yp, f);
}

void zenc_yaml_pipeline_free(zenc_yaml_pipeline *yp)
{
	if (!yp)
		return;
	zenc__yamlpipe_free(yp->yp);
	free(yp);
}
