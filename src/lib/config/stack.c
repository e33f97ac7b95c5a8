/*
 * A stack as the engine sees it: a snapshot of the stack's components,
 * taken from $ZENC_HOME/config when it is loaded.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "config/stack.h"
#include "alerters/alerter.h"

struct zenc_stack {
	char *name;
	/* Copies of the components, by kind; the alerter's may be empty
	 * (name NULL). */
	zenc__component components[ZENC__KIND_COUNT];
	/* Defaults for keys a component leaves out, made once. */
	char *artifact_path;
	char *store_location;
	/* The alerter object, made on first use (zenc_stack_alerter()). */
	zenc_alerter *alerter;
	int alerter_made;
};

static void copy_component(zenc__component *dst, const zenc__component *src)
{
	size_t i;

	dst->kind = src->kind;
	dst->name = zenc__strdup(src->name);
	dst->flavor = zenc__strdup(src->flavor);
	dst->n = src->n;
	dst->keys = zenc__calloc(src->n + 1, sizeof(*dst->keys));
	dst->values = zenc__calloc(src->n + 1, sizeof(*dst->values));
	for (i = 0; i < src->n; i++) {
		dst->keys[i] = zenc__strdup(src->keys[i]);
		dst->values[i] = zenc__strdup(src->values[i]);
	}
}

static void free_component(zenc__component *c)
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
}

/* Fills in what a component may leave out: the local artifact store and
 * the SQLite store default to $ZENC_DATA. */
static void fill_defaults(zenc_stack *s)
{
	const zenc__component *art = &s->components[ZENC__KIND_ARTIFACT_STORE];
	const zenc__component *meta = &s->components[ZENC__KIND_METADATA_STORE];
	const zenc_flavor *f;
	const char *v;

	v = zenc__component_get(art, "path");
	if (v)
		s->artifact_path = zenc__strdup(v);
	else if (art->flavor && strcmp(art->flavor, "local") == 0)
		s->artifact_path =
			zenc__asprintf("%s/artifacts", zenc__data_home());

	/* A metadata store's location is its flavor's first key (sqlite:
	 * path, postgres: dsn). */
	f = zenc_flavor_find("metadata-store", meta->flavor);
	v = f && f->keys && f->keys[0] ? zenc__component_get(meta, f->keys[0])
				       : NULL;
	if (v)
		s->store_location = zenc__strdup(v);
	else if (meta->flavor && strcmp(meta->flavor, "sqlite") == 0)
		s->store_location =
			zenc__asprintf("%s/zenc.db", zenc__data_home());
}

static zenc_stack *stack_from(
	const zenc__stacks *cfg, const zenc__stack_def *def)
{
	zenc_stack *s = zenc__calloc(1, sizeof(*s));
	const zenc__component *c;
	int k;

	s->name = zenc__strdup(def->name);
	for (k = 0; k < ZENC__KIND_COUNT; k++) {
		c = zenc__stacks_component(
			cfg, (zenc__kind)k, def->components[k]);
		if (c)
			copy_component(&s->components[k], c);
		else
			s->components[k].kind = (zenc__kind)k;
	}
	fill_defaults(s);
	return s;
}

int zenc__stack_load(zenc_stack **out, const char *name)
{
	zenc__stacks cfg = ZENC__STACKS_INIT;
	const zenc__stack_def *def;
	int rc;

	*out = NULL;
	if ((rc = zenc__stacks_read(&cfg)) < 0)
		return rc;
	def = zenc__stacks_stack(&cfg, name ? name : cfg.active);
	if (!def) {
		rc = zenc__error_set(
			ZENC_ENOTFOUND, "unknown stack '%s'",
			name ? name : cfg.active);
		goto done;
	}
	*out = stack_from(&cfg, def);
done:
	zenc__stacks_release(&cfg);
	return rc;
}

zenc_stack *zenc__stack_builtin_default(void)
{
	zenc__stacks cfg = ZENC__STACKS_INIT;
	zenc_stack *s;

	zenc__stacks_default(&cfg);
	s = stack_from(&cfg, zenc__stacks_stack(&cfg, "default"));
	zenc__stacks_release(&cfg);
	return s;
}

void zenc__stack_free(zenc_stack *stack)
{
	int k;

	if (!stack)
		return;
	for (k = 0; k < ZENC__KIND_COUNT; k++)
		free_component(&stack->components[k]);
	free(stack->artifact_path);
	free(stack->store_location);
	free(stack->name);
	zenc_alerter_free(stack->alerter);
	free(stack);
}

const char *zenc__stack_orchestrator_flavor(const zenc_stack *stack)
{
	return stack->components[ZENC__KIND_ORCHESTRATOR].flavor;
}

const char *zenc__stack_store_flavor(const zenc_stack *stack)
{
	return stack->components[ZENC__KIND_METADATA_STORE].flavor;
}

const char *zenc__stack_store_location(const zenc_stack *stack)
{
	return stack->store_location;
}

const char *zenc__stack_artifact_path(const zenc_stack *stack)
{
	return stack->artifact_path;
}

const char *zenc__stack_component_name(const zenc_stack *s, const char *kind)
{
	zenc__kind k;

	if (!s || zenc__kind_parse(&k, kind) < 0)
		return NULL;
	return s->components[k].name;
}

int zenc__stack_alerter_config(
	const zenc_stack *s,
	const char **flavor,
	const char *const **keys,
	const char *const **values,
	size_t *n)
{
	const zenc__component *a = &s->components[ZENC__KIND_ALERTER];

	if (!a->name) {
		*flavor = NULL;
		*keys = *values = NULL;
		*n = 0;
		return zenc__error_set(
			ZENC_ENOTFOUND, "stack '%s' has no alerter", s->name);
	}
	*flavor = a->flavor;
	*keys = (const char *const *)a->keys;
	*values = (const char *const *)a->values;
	*n = a->n;
	return 0;
}

const char *zenc_stack_name(const zenc_stack *stack)
{
	return stack ? stack->name : NULL;
}

zenc_alerter *zenc_stack_alerter(zenc_stack *stack)
{
	/* Made once per process that asks: a step's child makes its own,
	 * with its own connection to the store (alerter.c). */
	if (!stack)
		return NULL;
	if (!stack->alerter_made) {
		stack->alerter_made = 1;
		if (zenc__alerter_for_stack(&stack->alerter, stack) < 0 &&
		    zenc_error_last_code() != ZENC_ENOTFOUND)
			zenc__warn(
				"alerter of stack '%s' unusable: %s",
				stack->name, zenc_error_last());
	}
	return stack->alerter;
}
