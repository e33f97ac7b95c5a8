/*
 * The public face of the stack configuration (<zenc/stack.h>): snapshots
 * of $ZENC_HOME/config, the checked changes of config_file.c each in a
 * locked edit of its own, and the flavor listing `zenc KIND --help`
 * prints.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "config/stack.h"

/* The public kinds are the internal ones, number for number. */
_Static_assert(
	(int)ZENC_COMPONENT_ORCHESTRATOR == (int)ZENC__KIND_ORCHESTRATOR &&
		(int)ZENC_COMPONENT_ARTIFACT_STORE ==
			(int)ZENC__KIND_ARTIFACT_STORE &&
		(int)ZENC_COMPONENT_METADATA_STORE ==
			(int)ZENC__KIND_METADATA_STORE &&
		(int)ZENC_COMPONENT_ALERTER == (int)ZENC__KIND_ALERTER &&
		ZENC_COMPONENT_KINDS == ZENC__KIND_COUNT,
	"public and internal component kinds differ");

static bool kind_ok(zenc_component_kind kind)
{
	return (int)kind >= 0 && (int)kind < ZENC__KIND_COUNT;
}

const char *zenc_component_kind_name(zenc_component_kind kind)
{
	return kind_ok(kind) ? zenc__kind_name((zenc__kind)kind) : NULL;
}

int zenc_component_kind_parse(zenc_component_kind *out, const char *name)
{
	zenc__kind k;

	if (!out || zenc__kind_parse(&k, name) < 0)
		return ZENC_EINVALID;
	*out = (zenc_component_kind)k;
	return 0;
}

/*
 * Snapshots: the parsed configuration, and the public view of it made
 * once, pointing into it.
 */
typedef struct snapshot {
	zenc_stack_config pub; /* first: the public pointer is this */
	zenc__stacks cfg;
	zenc_stack_info *stacks;
	zenc_component_info *components;
	/* Where each entry of the view came from. */
	const zenc__stack_def **stack_src;
	const zenc__component **component_src;
} snapshot;

static int cmp_stack(const void *x, const void *y)
{
	return strcmp(
		(*(const zenc__stack_def *const *)x)->name,
		(*(const zenc__stack_def *const *)y)->name);
}

static int cmp_component(const void *x, const void *y)
{
	const zenc__component *a = *(const zenc__component *const *)x;
	const zenc__component *b = *(const zenc__component *const *)y;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return strcmp(a->name, b->name);
}

static void view_component(zenc_component_info *out, const zenc__component *c)
{
	const zenc_flavor *f =
		zenc_flavor_find(zenc__kind_name(c->kind), c->flavor);
	const char **values = zenc__calloc(c->n + 1, sizeof(*values));
	size_t i;

	for (i = 0; i < c->n; i++)
		values[i] = zenc__stacks_mask(f, c->keys[i], c->values[i]);
	out->kind = (zenc_component_kind)c->kind;
	out->name = c->name;
	out->flavor = c->flavor;
	out->keys = (const char *const *)c->keys;
	out->values = values;
	out->n = c->n;
}

int zenc_stack_config_read(zenc_stack_config **out)
{
	snapshot *s;
	size_t i;
	int k, rc;

	if (!out)
		return zenc__error_set(
			ZENC_EINVALID, "no place for the configuration");
	*out = NULL;
	s = zenc__calloc(1, sizeof(*s));
	if ((rc = zenc__stacks_read(&s->cfg)) < 0) {
		zenc__stacks_release(&s->cfg);
		free(s);
		return rc;
	}
	s->stack_src = zenc__calloc(s->cfg.nstacks + 1, sizeof(*s->stack_src));
	s->stacks = zenc__calloc(s->cfg.nstacks + 1, sizeof(*s->stacks));
	for (i = 0; i < s->cfg.nstacks; i++)
		s->stack_src[i] = &s->cfg.stacks[i];
	qsort(s->stack_src, s->cfg.nstacks, sizeof(*s->stack_src), cmp_stack);
	for (i = 0; i < s->cfg.nstacks; i++) {
		s->stacks[i].name = s->stack_src[i]->name;
		s->stacks[i].active =
			strcmp(s->stack_src[i]->name, s->cfg.active) == 0;
		for (k = 0; k < ZENC__KIND_COUNT; k++)
			s->stacks[i].components[k] =
				s->stack_src[i]->components[k];
	}
	s->component_src =
		zenc__calloc(s->cfg.ncomponents + 1, sizeof(*s->component_src));
	s->components =
		zenc__calloc(s->cfg.ncomponents + 1, sizeof(*s->components));
	for (i = 0; i < s->cfg.ncomponents; i++)
		s->component_src[i] = &s->cfg.components[i];
	qsort(s->component_src, s->cfg.ncomponents, sizeof(*s->component_src),
	      cmp_component);
	for (i = 0; i < s->cfg.ncomponents; i++)
		view_component(&s->components[i], s->component_src[i]);
	s->pub.active = s->cfg.active;
	s->pub.stacks = s->stacks;
	s->pub.n_stacks = s->cfg.nstacks;
	s->pub.components = s->components;
	s->pub.n_components = s->cfg.ncomponents;
	*out = &s->pub;
	return 0;
}

void zenc_stack_config_free(zenc_stack_config *cfg)
{
	snapshot *s = (snapshot *)cfg;
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->cfg.ncomponents; i++)
		free((void *)s->components[i].values);
	free(s->components);
	free(s->component_src);
	free(s->stacks);
	free(s->stack_src);
	zenc__stacks_release(&s->cfg);
	free(s);
}

int zenc_stack_config_stack(
	const zenc_stack_config *cfg,
	const char *name,
	const zenc_stack_info **out)
{
	const snapshot *s = (const snapshot *)cfg;
	zenc__stack_def *def;
	size_t i;
	int rc;

	if (!s || !out)
		return zenc__error_set(ZENC_EINVALID, "no configuration");
	*out = NULL;
	if ((rc = zenc__stacks_stack_find(
		     &s->cfg, name ? name : s->cfg.active, &def)) < 0)
		return rc;
	for (i = 0; i < s->cfg.nstacks; i++)
		if (s->stack_src[i] == def)
			*out = &s->stacks[i];
	return 0;
}

int zenc_stack_config_component(
	const zenc_stack_config *cfg,
	zenc_component_kind kind,
	const char *name,
	const zenc_component_info **out)
{
	const snapshot *s = (const snapshot *)cfg;
	zenc__component *c;
	size_t i;
	int rc;

	if (!s || !out)
		return zenc__error_set(ZENC_EINVALID, "no configuration");
	*out = NULL;
	if (!kind_ok(kind))
		return zenc__error_set(
			ZENC_EINVALID, "unknown component kind %d", (int)kind);
	if ((rc = zenc__stacks_component_find(
		     &s->cfg, (zenc__kind)kind, name ? name : "", &c)) < 0)
		return rc;
	for (i = 0; i < s->cfg.ncomponents; i++)
		if (s->component_src[i] == c)
			*out = &s->components[i];
	return 0;
}

/*
 * Changes: each one edit of the file, under its lock.
 */
typedef enum op {
	STACK_REGISTER,
	STACK_UPDATE,
	STACK_ACTIVATE,
	STACK_DELETE,
	COMPONENT_REGISTER,
	COMPONENT_UPDATE,
	COMPONENT_DELETE
} op;

typedef struct change {
	op op;
	zenc__kind kind;
	const char *name;
	const char *flavor;
	const char *const *comps;
	bool activate;
	const char *const *keys;
	const char *const *values;
	size_t n;
} change;

static int apply(zenc__stacks *cfg, void *payload)
{
	const change *c = payload;
	int rc;

	switch (c->op) {
	case STACK_REGISTER:
		rc = zenc__stacks_stack_add(cfg, c->name, c->comps);
		if (rc == 0 && c->activate)
			rc = zenc__stacks_stack_activate(cfg, c->name);
		return rc;
	case STACK_UPDATE:
		return zenc__stacks_stack_update(cfg, c->name, c->comps);
	case STACK_ACTIVATE:
		return zenc__stacks_stack_activate(cfg, c->name);
	case STACK_DELETE:
		return zenc__stacks_stack_delete(cfg, c->name);
	case COMPONENT_REGISTER:
		return zenc__stacks_component_add(
			cfg, c->kind, c->name, c->flavor, c->keys, c->values,
			c->n);
	case COMPONENT_UPDATE:
		return zenc__stacks_component_update(
			cfg, c->kind, c->name, c->keys, c->values, c->n);
	case COMPONENT_DELETE:
		return zenc__stacks_component_delete(cfg, c->kind, c->name);
	}
	return zenc__error_set(ZENC_EINVALID, "unknown change");
}

static int edit(change *c)
{
	size_t i;

	if (!c->name)
		return zenc__error_set(ZENC_EINVALID, "no name given");
	if (c->op >= COMPONENT_REGISTER &&
	    !kind_ok((zenc_component_kind)c->kind))
		return zenc__error_set(
			ZENC_EINVALID, "unknown component kind %d",
			(int)c->kind);
	if (c->n && (!c->keys || !c->values))
		return zenc__error_set(ZENC_EINVALID, "no keys given");
	for (i = 0; i < c->n; i++)
		if (!c->keys[i] || !c->values[i])
			return zenc__error_set(
				ZENC_EINVALID, "config key %zu is NULL", i);
	return zenc__stacks_edit(apply, c);
}

int zenc_stack_register(
	const char *name,
	const char *const components[ZENC_COMPONENT_KINDS],
	bool activate)
{
	static const char *const none[ZENC_COMPONENT_KINDS];
	change c = {0};

	c.op = STACK_REGISTER;
	c.name = name;
	c.comps = components ? components : none;
	c.activate = activate;
	return edit(&c);
}

int zenc_stack_update(
	const char *name, const char *const components[ZENC_COMPONENT_KINDS])
{
	static const char *const none[ZENC_COMPONENT_KINDS];
	change c = {0};

	c.op = STACK_UPDATE;
	c.name = name;
	c.comps = components ? components : none;
	return edit(&c);
}

int zenc_stack_activate(const char *name)
{
	change c = {0};

	c.op = STACK_ACTIVATE;
	c.name = name;
	return edit(&c);
}

int zenc_stack_delete(const char *name)
{
	change c = {0};

	c.op = STACK_DELETE;
	c.name = name;
	return edit(&c);
}

int zenc_component_register(
	zenc_component_kind kind,
	const char *name,
	const char *flavor,
	const char *const *keys,
	const char *const *values,
	size_t n)
{
	change c = {0};

	if (!flavor)
		return zenc__error_set(ZENC_EINVALID, "no flavor given");
	c.op = COMPONENT_REGISTER;
	c.kind = (zenc__kind)kind;
	c.name = name;
	c.flavor = flavor;
	c.keys = keys;
	c.values = values;
	c.n = n;
	return edit(&c);
}

int zenc_component_update(
	zenc_component_kind kind,
	const char *name,
	const char *const *keys,
	const char *const *values,
	size_t n)
{
	change c = {0};

	c.op = COMPONENT_UPDATE;
	c.kind = (zenc__kind)kind;
	c.name = name;
	c.keys = keys;
	c.values = values;
	c.n = n;
	return edit(&c);
}

int zenc_component_delete(zenc_component_kind kind, const char *name)
{
	change c = {0};

	c.op = COMPONENT_DELETE;
	c.kind = (zenc__kind)kind;
	c.name = name;
	return edit(&c);
}

/*
 * Flavors.
 */
int zenc_flavor_list(const zenc_flavor ***out, size_t *n, const char *kind)
{
	zenc_buf names = ZENC_BUF_INIT;
	const zenc_flavor **list;
	const char *p, *comma;
	zenc__kind k;
	size_t cap = 1;
	char *name;

	if (!out || !n)
		return zenc__error_set(ZENC_EINVALID, "no place for the list");
	*out = NULL;
	*n = 0;
	if (zenc__kind_parse(&k, kind) < 0)
		return zenc__error_set(
			ZENC_EINVALID, "unknown component kind '%s'",
			kind ? kind : "(null)");
	/* The registry's sorted names, one lookup each. */
	zenc__flavor_names(&names, kind);
	for (p = zenc_buf_cstr(&names); *p; p++)
		if (*p == ',')
			cap++;
	list = zenc__calloc(cap + 1, sizeof(*list));
	for (p = zenc_buf_cstr(&names); *p;
	     p = comma ? comma + 2 : p + strlen(p)) {
		comma = strstr(p, ", ");
		name = zenc__strndup(
			p, comma ? (size_t)(comma - p) : strlen(p));
		if ((list[*n] = zenc_flavor_find(kind, name)) != NULL)
			(*n)++;
		free(name);
	}
	zenc_buf_release(&names);
	*out = list;
	return 0;
}

const char **zenc_flavor_keys(const zenc_flavor *f, size_t *n)
{
	size_t ignored;

	if (!n)
		n = &ignored;
	if (!f) {
		*n = 0;
		return zenc__calloc(1, sizeof(const char *));
	}
	return zenc__flavor_all_keys(f, n);
}

bool zenc_flavor_is_secret_key(const zenc_flavor *f, const char *key)
{
	return f && key && zenc__flavor_is_secret_key(f, key);
}
