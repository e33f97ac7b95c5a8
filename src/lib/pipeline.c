/*
 * Building pipelines: steps, outputs, inputs, edges, settings and hook
 * lists, and the validation that turns the declarations into a DAG.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"

static const char *const event_names[ZENC__EVENT_COUNT] = {
	"on_start",   "on_success",     "on_retry",       "on_failure",
	"on_end",     "on_run_success", "on_run_failure", "on_run_start",
	"on_run_end", "on_init",        "on_cleanup"};

const char *zenc__event_name(zenc__event e)
{
	return (unsigned)e < ZENC__EVENT_COUNT ? event_names[e] : "unknown";
}

int zenc__event_parse(zenc__event *out, const char *name)
{
	int i;

	for (i = 0; i < ZENC__EVENT_COUNT; i++) {
		if (!strcmp(event_names[i], name)) {
			*out = (zenc__event)i;
			return 0;
		}
	}
	return zenc__error_set(ZENC_EINVALID, "unknown hook event '%s'", name);
}

/* Names of steps, outputs and inputs become file names and environment
 * variable names, so they are kept to a safe alphabet. */
static int check_name(const char *what, const char *name)
{
	const char *p;

	if (!name || !*name)
		return zenc__error_set(ZENC_EINVALID, "empty %s name", what);
	if (strlen(name) > 200)
		return zenc__error_set(
			ZENC_EINVALID,
			"%s name '%.40s...' is "
			"too long",
			what, name);
	for (p = name; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c == '/' || c == '\\' || c == 0x7f ||
		    (p == name && c == '.'))
			return zenc__error_set(
				ZENC_EINVALID,
				"invalid %s name '%s' (no '/', control "
				"characters or leading '.')",
				what, name);
	}
	return 0;
}

int zenc_pipeline_new(zenc_pipeline **out, const char *name)
{
	zenc_pipeline *p;
	int rc;

	*out = NULL;
	if ((rc = check_name("pipeline", name)) < 0)
		return rc;
	p = zenc__calloc(1, sizeof(*p));
	p->name = zenc__strdup(name);
	*out = p;
	return 0;
}

void zenc__hook_copy(zenc__hook *dst, const zenc_hook *src)
{
	size_t n = 0;

	memset(dst, 0, sizeof(*dst));
	dst->h = *src;
	dst->name = zenc__strdup(
		src->name                   ? src->name
		: src->command              ? src->command
		: src->argv && src->argv[0] ? src->argv[0]
					    : "hook");
	dst->h.name = dst->name;
	if (src->command) {
		dst->command = zenc__strdup(src->command);
		dst->h.command = dst->command;
	}
	if (src->argv) {
		while (src->argv[n])
			n++;
		dst->argv = zenc__calloc(n + 1, sizeof(char *));
		for (n = 0; src->argv[n]; n++)
			dst->argv[n] = zenc__strdup(src->argv[n]);
		dst->h.argv = dst->argv;
	}
}

void zenc__hook_release(zenc__hook *h)
{
	size_t i;

	free(h->name);
	free(h->command);
	if (h->argv) {
		for (i = 0; h->argv[i]; i++)
			free(h->argv[i]);
		free(h->argv);
	}
	free(h->dir);
	memset(h, 0, sizeof(*h));
}

int zenc__hook_list_add(zenc__hook_list *list, const zenc_hook *h)
{
	if (!h || h->kind == ZENC_HOOK_NONE ||
	    (h->kind != ZENC_HOOK_COMMAND && h->kind != ZENC_HOOK_BUILTIN &&
	     !h->fn) ||
	    (h->kind == ZENC_HOOK_COMMAND && !h->command && !h->argv))
		return zenc__error_set(ZENC_EINVALID, "invalid hook");
	zenc__array_grow(
		(void **)&list->items, &list->cap, list->n + 1,
		sizeof(*list->items));
	zenc__hook_copy(&list->items[list->n++], h);
	return 0;
}

void zenc__hook_list_release(zenc__hook_list *list)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		zenc__hook_release(&list->items[i]);
	free(list->items);
	memset(list, 0, sizeof(*list));
}

static void step_free(zenc_step *s)
{
	size_t i;

	if (!s)
		return;
	free(s->name);
	for (i = 0; i < s->n_outputs; i++)
		free(s->outputs[i].name);
	free(s->outputs);
	for (i = 0; i < s->n_inputs; i++) {
		free(s->inputs[i].name);
		free(s->inputs[i].from_step);
		free(s->inputs[i].from_output);
	}
	free(s->inputs);
	for (i = 0; i < s->n_after; i++)
		free(s->after[i]);
	free(s->after);
	free(s->params_type);
	for (i = 0; i <= ZENC__ON_END; i++)
		zenc__hook_list_release(&s->hooks[i]);
	free(s->deps);
	free(s->cache_version);
	free(s->cache_code);
	for (i = 0; i < s->n_cache_sources; i++)
		free(s->cache_sources[i]);
	free(s->cache_sources);
	free(s->cache_dir);
	if (s->payload_free)
		s->payload_free(s->fn_payload);
	free(s);
}

void zenc_pipeline_free(zenc_pipeline *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n_steps; i++)
		step_free(p->steps[i]);
	free(p->steps);
	for (i = 0; i < ZENC__EVENT_COUNT; i++)
		zenc__hook_list_release(&p->hooks[i]);
	for (i = 0; i < p->n_named; i++) {
		free(p->named[i].name);
		zenc__hook_release(&p->named[i].hook);
	}
	free(p->named);
	free(p->duplicate_name);
	free(p->name_slots);
	free(p->name);
	free(p);
}

const char *zenc_pipeline_name(const zenc_pipeline *p)
{
	return p->name;
}

static size_t name_hash(const char *s)
{
	size_t h = 14695981039346656037ULL & (size_t)-1;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * (size_t)1099511628211ULL;
	return h;
}

/* The slot of `name` in the pipeline's name index: the one holding it, or
 * the empty one where it would go. */
static size_t *name_slot(const zenc_pipeline *p, const char *name)
{
	size_t i = name_hash(name) & (p->n_slots - 1);

	while (p->name_slots[i] &&
	       strcmp(p->steps[p->name_slots[i] - 1]->name, name))
		i = (i + 1) & (p->n_slots - 1);
	return &p->name_slots[i];
}

static void index_step(zenc_pipeline *p, size_t index)
{
	size_t i;

	if (2 * (p->n_steps + 1) > p->n_slots) {
		/* Grow and rehash: every name lookup stays O(1), so that a
		 * pipeline of 10,000 steps is not built in O(N^2). */
		free(p->name_slots);
		p->n_slots = p->n_slots ? p->n_slots * 2 : 64;
		while (2 * (p->n_steps + 1) > p->n_slots)
			p->n_slots *= 2;
		p->name_slots = zenc__calloc(p->n_slots, sizeof(size_t));
		for (i = 0; i < p->n_steps; i++)
			if (i != index)
				*name_slot(p, p->steps[i]->name) = i + 1;
	}
	*name_slot(p, p->steps[index]->name) = index + 1;
}

zenc_step *zenc_pipeline_find_step(zenc_pipeline *p, const char *name)
{
	size_t *slot;

	if (!p->n_slots || !name)
		return NULL;
	slot = name_slot(p, name);
	return *slot ? p->steps[*slot - 1] : NULL;
}

int zenc_pipeline_add_step(
	zenc_step **out, zenc_pipeline *p, const char *name, zenc_step_fn fn)
{
	zenc_step *s;
	int rc;

	if (out)
		*out = NULL;
	if ((rc = check_name("step", name)) < 0)
		return rc;
	if (zenc_pipeline_find_step(p, name)) {
		/* Remembered so that validation (and so the run) fails too,
		 * even when the caller ignores this return code. */
		if (!p->duplicate) {
			p->duplicate = 1;
			p->duplicate_name = zenc__strdup(name);
		}
		return zenc__error_set(
			ZENC_EEXISTS, "duplicate step name '%s'", name);
	}
	if (!fn)
		return zenc__error_set(
			ZENC_EINVALID, "step '%s' has no body", name);
	s = zenc__calloc(1, sizeof(*s));
	s->pipeline = p;
	s->name = zenc__strdup(name);
	s->fn = fn;
	s->index = p->n_steps;
	zenc__array_grow(
		(void **)&p->steps, &p->cap_steps, p->n_steps + 1,
		sizeof(*p->steps));
	p->steps[p->n_steps] = s;
	index_step(p, p->n_steps);
	p->n_steps++;
	p->validated = 0;
	if (out)
		*out = s;
	return 0;
}

const char *zenc_step_name(const zenc_step *s)
{
	return s->name;
}

int zenc_step_add_output(zenc_step *s, const char *name, zenc_type type)
{
	size_t i;
	int rc;

	if ((rc = check_name("output", name)) < 0)
		return rc;
	if (type < ZENC_INT || type > ZENC_DIR)
		return zenc__error_set(
			ZENC_EINVALID, "output '%s.%s' has an unknown type",
			s->name, name);
	for (i = 0; i < s->n_outputs; i++)
		if (!strcmp(s->outputs[i].name, name))
			return zenc__error_set(
				ZENC_EEXISTS, "duplicate output '%s.%s'",
				s->name, name);
	zenc__array_grow(
		(void **)&s->outputs, &s->cap_outputs, s->n_outputs + 1,
		sizeof(*s->outputs));
	s->outputs[s->n_outputs].name = zenc__strdup(name);
	s->outputs[s->n_outputs].type = type;
	s->n_outputs++;
	s->pipeline->validated = 0;
	return 0;
}

int zenc_step_add_input(
	zenc_step *s, const char *name, zenc_step *from, const char *output)
{
	zenc__input *in;
	const char *dot;
	size_t i;
	int rc;

	if ((rc = check_name("input", name)) < 0)
		return rc;
	if (!output || !*output)
		return zenc__error_set(
			ZENC_EINVALID, "input '%s.%s' names no output", s->name,
			name);
	for (i = 0; i < s->n_inputs; i++)
		if (!strcmp(s->inputs[i].name, name))
			return zenc__error_set(
				ZENC_EEXISTS, "duplicate input '%s.%s'",
				s->name, name);
	zenc__array_grow(
		(void **)&s->inputs, &s->cap_inputs, s->n_inputs + 1,
		sizeof(*s->inputs));
	in = &s->inputs[s->n_inputs];
	memset(in, 0, sizeof(*in));
	in->name = zenc__strdup(name);
	if (from) {
		in->from_step = zenc__strdup(from->name);
		in->from_output = zenc__strdup(output);
	} else {
		dot = strchr(output, '.');
		if (!dot || dot == output || !dot[1]) {
			free(in->name);
			return zenc__error_set(
				ZENC_EINVALID,
				"input '%s.%s': expected "
				"'STEP.OUTPUT', got '%s'",
				s->name, name, output);
		}
		in->from_step = zenc__strndup(output, (size_t)(dot - output));
		in->from_output = zenc__strdup(dot + 1);
	}
	s->n_inputs++;
	s->pipeline->validated = 0;
	return 0;
}

int zenc_step_add_input_typed(
	zenc_step *s,
	const char *name,
	zenc_type type,
	zenc_step *from,
	const char *output)
{
	int rc;

	if (type < ZENC_INT || type > ZENC_DIR)
		return zenc__error_set(
			ZENC_EINVALID, "input '%s.%s' has an unknown type",
			s->name, name);
	if ((rc = zenc_step_add_input(s, name, from, output)) < 0)
		return rc;
	s->inputs[s->n_inputs - 1].declared = type;
	return 0;
}

int zenc_step_after_name(zenc_step *s, const char *upstream)
{
	if (!upstream || !*upstream)
		return zenc__error_set(ZENC_EINVALID, "empty step name");
	zenc__array_grow(
		(void **)&s->after, &s->cap_after, s->n_after + 1,
		sizeof(*s->after));
	s->after[s->n_after++] = zenc__strdup(upstream);
	s->pipeline->validated = 0;
	return 0;
}

int zenc_step_after(zenc_step *s, zenc_step *upstream)
{
	if (!upstream)
		return zenc__error_set(ZENC_EINVALID, "no upstream step");
	return zenc_step_after_name(s, upstream->name);
}

int zenc_step_set_params(
	zenc_step *s,
	const char *type_name,
	const zenc_param *fields,
	size_t struct_size)
{
	const zenc_param *f;

	if (!fields || !struct_size)
		return zenc__error_set(
			ZENC_EINVALID, "step '%s': empty parameter table",
			s->name);
	for (f = fields; f->name; f++) {
		if (f->type < ZENC_INT || f->type > ZENC_STRING)
			return zenc__error_set(
				ZENC_EINVALID,
				"parameter '%s.%s' has an unsupported type",
				s->name, f->name);
		if (f->offset >= struct_size)
			return zenc__error_set(
				ZENC_EINVALID,
				"parameter '%s.%s' lies outside the struct",
				s->name, f->name);
	}
	free(s->params_type);
	s->params_type = zenc__strdup(type_name ? type_name : "Parameters");
	s->param_fields = fields;
	s->params_size = struct_size;
	return 0;
}

static int check_retry(int max_retries, double delay_s, double backoff)
{
	if (max_retries < 0 || delay_s < 0 || backoff < 0 ||
	    delay_s != delay_s || backoff != backoff)
		return zenc__error_set(
			ZENC_EINVALID,
			"invalid retry setting (max_retries %d, "
			"delay %g, backoff %g)",
			max_retries, delay_s, backoff);
	return 0;
}

int zenc_step_set_retry(
	zenc_step *s, int max_retries, double delay_s, double backoff)
{
	int rc = check_retry(max_retries, delay_s, backoff);
	if (rc < 0)
		return rc;
	s->retry.set = 1;
	s->retry.max_retries = max_retries;
	s->retry.delay = delay_s;
	s->retry.backoff = backoff > 0 ? backoff : 1.0;
	return 0;
}

int zenc_pipeline_set_retry(
	zenc_pipeline *p, int max_retries, double delay_s, double backoff)
{
	int rc = check_retry(max_retries, delay_s, backoff);
	if (rc < 0)
		return rc;
	p->retry.set = 1;
	p->retry.max_retries = max_retries;
	p->retry.delay = delay_s;
	p->retry.backoff = backoff > 0 ? backoff : 1.0;
	return 0;
}

static int check_seconds(const char *what, double seconds)
{
	if (seconds < 0 || seconds != seconds)
		return zenc__error_set(
			ZENC_EINVALID, "invalid %s %g", what, seconds);
	return 0;
}

int zenc_step_set_timeout(zenc_step *s, double seconds)
{
	int rc = check_seconds("timeout", seconds);
	if (rc == 0)
		s->timeout = seconds;
	return rc;
}

int zenc_step_set_hook_timeout(zenc_step *s, double seconds)
{
	int rc = check_seconds("hook timeout", seconds);
	if (rc == 0)
		s->hook_timeout = seconds;
	return rc;
}

int zenc_pipeline_set_hook_timeout(zenc_pipeline *p, double seconds)
{
	int rc = check_seconds("hook timeout", seconds);
	if (rc == 0)
		p->hook_timeout = seconds;
	return rc;
}

int zenc_step_set_memory_limit(zenc_step *s, size_t bytes)
{
	s->memory_limit = bytes;
	return 0;
}

int zenc_pipeline_set_hook_failure(zenc_pipeline *p, zenc_hook_failure mode)
{
	if (mode != ZENC_HOOK_FAILURE_WARN && mode != ZENC_HOOK_FAILURE_FAIL)
		return zenc__error_set(
			ZENC_EINVALID, "unknown hook failure mode %d",
			(int)mode);
	p->hook_failure = mode;
	return 0;
}

int zenc_step_on_success(zenc_step *s, zenc_hook h)
{
	return zenc__hook_list_add(&s->hooks[ZENC__ON_SUCCESS], &h);
}

int zenc_step_on_failure(zenc_step *s, zenc_hook h)
{
	return zenc__hook_list_add(&s->hooks[ZENC__ON_FAILURE], &h);
}

int zenc_step_on_start(zenc_step *s, zenc_hook h)
{
	return zenc__hook_list_add(&s->hooks[ZENC__ON_START], &h);
}

int zenc_step_on_end(zenc_step *s, zenc_hook h)
{
	return zenc__hook_list_add(&s->hooks[ZENC__ON_END], &h);
}

int zenc_step_on_retry(zenc_step *s, zenc_hook h)
{
	return zenc__hook_list_add(&s->hooks[ZENC__ON_RETRY], &h);
}

int zenc_pipeline_on_success(zenc_pipeline *p, zenc_hook h)
{
	return zenc__hook_list_add(&p->hooks[ZENC__ON_SUCCESS], &h);
}

int zenc_pipeline_on_failure(zenc_pipeline *p, zenc_hook h)
{
	return zenc__hook_list_add(&p->hooks[ZENC__ON_FAILURE], &h);
}

int zenc_pipeline_on_start(zenc_pipeline *p, zenc_hook h)
{
	return zenc__hook_list_add(&p->hooks[ZENC__ON_START], &h);
}

int zenc_pipeline_on_end(zenc_pipeline *p, zenc_hook h)
{
	return zenc__hook_list_add(&p->hooks[ZENC__ON_END], &h);
}

int zenc_pipeline_on_retry(zenc_pipeline *p, zenc_hook h)
{
	return zenc__hook_list_add(&p->hooks[ZENC__ON_RETRY], &h);
}

/* A run-level hook receives no step context, so only the signatures that
 * do not need one are accepted (docs/hooks.md, "Run-level hooks"). */
int zenc__check_run_hook(const zenc_hook *h)
{
	if (h->kind == ZENC_HOOK_VOID || h->kind == ZENC_HOOK_RUN ||
	    h->kind == ZENC_HOOK_COMMAND || h->kind == ZENC_HOOK_BUILTIN ||
	    zenc__hook_is_alerter(h))
		return 0;
	return zenc__error_set(
		ZENC_EINVALID,
		"run-level hook '%s' must be void(void), "
		"void(const zenc_run *) or a standard alerter hook",
		h->name ? h->name : "?");
}

int zenc_pipeline_on_run_success(zenc_pipeline *p, zenc_hook h)
{
	int rc = zenc__check_run_hook(&h);
	return rc < 0 ? rc
		      : zenc__hook_list_add(
				&p->hooks[ZENC__ON_RUN_SUCCESS], &h);
}

int zenc_pipeline_on_run_failure(zenc_pipeline *p, zenc_hook h)
{
	int rc = zenc__check_run_hook(&h);
	return rc < 0 ? rc
		      : zenc__hook_list_add(
				&p->hooks[ZENC__ON_RUN_FAILURE], &h);
}

int zenc_pipeline_register_hook(zenc_pipeline *p, const char *name, zenc_hook h)
{
	size_t i;

	if (!name || !*name)
		return zenc__error_set(ZENC_EINVALID, "empty hook name");
	for (i = 0; i < p->n_named; i++)
		if (!strcmp(p->named[i].name, name))
			return zenc__error_set(
				ZENC_EEXISTS, "hook '%s' is already registered",
				name);
	zenc__array_grow(
		(void **)&p->named, &p->cap_named, p->n_named + 1,
		sizeof(*p->named));
	p->named[p->n_named].name = zenc__strdup(name);
	zenc__hook_copy(&p->named[p->n_named].hook, &h);
	p->n_named++;
	return 0;
}

const zenc__hook_list *zenc__step_hooks(const zenc_step *s, zenc__event e)
{
	if (e <= ZENC__ON_END && s->hooks[e].n > 0)
		return &s->hooks[e];
	return &s->pipeline->hooks[e];
}

/* Hook constructors behind ZENC_HOOK. */
static zenc_hook make_hook(
	zenc_hook_kind kind, zenc_hook_void_fn fn, const char *name)
{
	zenc_hook h;

	memset(&h, 0, sizeof(h));
	h.kind = kind;
	h.fn = fn;
	h.name = name;
	return h;
}

zenc_hook zenc_hook_void(zenc_hook_void_fn fn, const char *name)
{
	return make_hook(ZENC_HOOK_VOID, fn, name);
}

zenc_hook zenc_hook_ctx(zenc_hook_ctx_fn fn, const char *name)
{
	return make_hook(ZENC_HOOK_CTX, (zenc_hook_void_fn)fn, name);
}

zenc_hook zenc_hook_ctx_params(zenc_hook_ctx_params_fn fn, const char *name)
{
	return make_hook(ZENC_HOOK_CTX_PARAMS, (zenc_hook_void_fn)fn, name);
}

zenc_hook zenc_hook_ctx_params_err(
	zenc_hook_ctx_params_err_fn fn, const char *name)
{
	return make_hook(ZENC_HOOK_CTX_PARAMS_ERR, (zenc_hook_void_fn)fn, name);
}

zenc_hook zenc_hook_err(zenc_hook_err_fn fn, const char *name)
{
	return make_hook(ZENC_HOOK_ERR, (zenc_hook_void_fn)fn, name);
}

zenc_hook zenc_hook_run(zenc_hook_run_fn fn, const char *name)
{
	return make_hook(ZENC_HOOK_RUN, (zenc_hook_void_fn)fn, name);
}

zenc_hook zenc_hook_command(const char *shell)
{
	zenc_hook h = make_hook(ZENC_HOOK_COMMAND, NULL, NULL);
	h.command = shell;
	h.name = shell;
	return h;
}

zenc_hook zenc_hook_argv(char *const *argv)
{
	zenc_hook h = make_hook(ZENC_HOOK_COMMAND, NULL, NULL);
	h.argv = argv;
	h.name = argv ? argv[0] : NULL;
	return h;
}

/* Validation: resolve names, check types, order topologically. */
static int add_dep(zenc_step *s, zenc_step *dep)
{
	size_t i;

	for (i = 0; i < s->n_deps; i++)
		if (s->deps[i] == dep)
			return 0;
	s->deps = zenc__realloc(s->deps, (s->n_deps + 1) * sizeof(*s->deps));
	s->deps[s->n_deps++] = dep;
	return 0;
}

static int find_cycle(
	zenc_pipeline *p, zenc_step *s, char *state, zenc_buf *path)
{
	size_t i;

	state[s->index] = 1;
	for (i = 0; i < s->n_deps; i++) {
		zenc_step *d = s->deps[i];
		if (state[d->index] == 1) {
			zenc_buf_printf(path, "%s -> %s", d->name, s->name);
			return 1;
		}
		if (state[d->index] == 0 && find_cycle(p, d, state, path)) {
			zenc_buf_printf(path, " -> %s", s->name);
			return 1;
		}
	}
	state[s->index] = 2;
	return 0;
}

int zenc_pipeline_validate(zenc_pipeline *p)
{
	zenc_buf path = ZENC_BUF_INIT;
	char *state = NULL;
	size_t i, j, k;
	int rc = 0;

	if (p->duplicate)
		return zenc__error_set(
			ZENC_EEXISTS, "duplicate step name '%s'",
			p->duplicate_name);
	if (p->n_steps == 0)
		return zenc__error_set(
			ZENC_EINVALID, "pipeline '%s' has no steps", p->name);
	for (i = 0; i < p->n_steps; i++) {
		zenc_step *s = p->steps[i];
		s->n_deps = 0;
		for (j = 0; j < s->n_inputs; j++) {
			zenc__input *in = &s->inputs[j];
			zenc_step *from =
				zenc_pipeline_find_step(p, in->from_step);
			if (!from)
				return zenc__error_set(
					ZENC_ENOTFOUND,
					"input '%s.%s' names unknown step '%s'",
					s->name, in->name, in->from_step);
			if (from == s)
				return zenc__error_set(
					ZENC_ECYCLE,
					"input '%s.%s' reads the step's own "
					"output",
					s->name, in->name);
			for (k = 0; k < from->n_outputs; k++)
				if (!strcmp(from->outputs[k].name,
					    in->from_output))
					break;
			if (k == from->n_outputs)
				return zenc__error_set(
					ZENC_ENOTFOUND,
					"input '%s.%s' names unknown output "
					"'%s.%s'",
					s->name, in->name, from->name,
					in->from_output);
			in->from = from;
			in->type = from->outputs[k].type;
			if (in->declared && in->declared != in->type)
				return zenc__error_set(
					ZENC_ETYPE,
					"input '%s.%s' expects %s but output "
					"'%s.%s' is %s",
					s->name, in->name,
					zenc_type_name(in->declared),
					from->name, in->from_output,
					zenc_type_name(in->type));
			add_dep(s, from);
		}
		for (j = 0; j < s->n_after; j++) {
			zenc_step *up = zenc_pipeline_find_step(p, s->after[j]);
			if (!up)
				return zenc__error_set(
					ZENC_ENOTFOUND,
					"step '%s' runs after unknown step "
					"'%s'",
					s->name, s->after[j]);
			if (up == s)
				return zenc__error_set(
					ZENC_ECYCLE,
					"step '%s' runs after itself", s->name);
			add_dep(s, up);
		}
	}
	state = zenc__calloc(p->n_steps, 1);
	for (i = 0; i < p->n_steps; i++) {
		if (state[i] == 0 && find_cycle(p, p->steps[i], state, &path)) {
			rc = zenc__error_set(
				ZENC_ECYCLE, "dependency cycle: %s",
				zenc_buf_cstr(&path));
			goto done;
		}
	}
	p->validated = 1;
done:
	free(state);
	zenc_buf_release(&path);
	return rc;
}
