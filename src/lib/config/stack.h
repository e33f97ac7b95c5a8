/*
 * Stacks as the engine sees them.  stack.c loads a stack from $ZENC_HOME
 * (or the built-in default when nothing is configured) and answers what
 * the engine needs to know about its components.
 */
#ifndef ZENC_LIB_STACK_H
#define ZENC_LIB_STACK_H

#include "internal.h"
#include "zenc/sys/flavor.h"

/*
 * Loads stack `name` (NULL: the active stack) from $ZENC_HOME.  A fresh
 * $ZENC_HOME behaves as if it held the stack "default" of components named
 * "default" (local orchestrator, local artifact store under
 * $ZENC_DATA/artifacts, sqlite metadata store at $ZENC_DATA/zenc.db, no
 * alerter).  Returns 0, ZENC_ENOTFOUND for an unknown stack, ZENC_ECONFIG
 * for an unreadable configuration; zenc_error_last() says which.
 */
int zenc__stack_load(zenc_stack **out, const char *name);
void zenc__stack_free(zenc_stack *stack);

/* The built-in default stack, with no configuration read. */
zenc_stack *zenc__stack_builtin_default(void);

const char *zenc__stack_orchestrator_flavor(const zenc_stack *stack);
/* "sqlite" and the database path, with {{secret.X}} not yet resolved. */
const char *zenc__stack_store_flavor(const zenc_stack *stack);
const char *zenc__stack_store_location(const zenc_stack *stack);
/* The artifact store's root folder. */
const char *zenc__stack_artifact_path(const zenc_stack *stack);

/*
 * The alerter component of `stack`: its flavor and its config, keys and
 * values side by side (values with {{secret.X}} not yet resolved; pass
 * them through zenc__secret_resolve() at use).  Everything is borrowed
 * from the stack.  Returns 0, or ZENC_ENOTFOUND when the stack has no
 * alerter (then *flavor is NULL and *n is 0).
 */
int zenc__stack_alerter_config(
	const zenc_stack *s,
	const char **flavor,
	const char *const **keys,
	const char *const **values,
	size_t *n);

/* The name of the stack's component of `kind` ("orchestrator", ...), or
 * NULL when it has none or the kind is unknown. */
const char *zenc__stack_component_name(const zenc_stack *s, const char *kind);

/*
 * Component kinds, in the order a stack lists them.
 */
typedef enum zenc__kind {
	ZENC__KIND_ORCHESTRATOR = 0,
	ZENC__KIND_ARTIFACT_STORE,
	ZENC__KIND_METADATA_STORE,
	ZENC__KIND_ALERTER,
	ZENC__KIND_COUNT
} zenc__kind;

/* "orchestrator", "artifact-store", "metadata-store", "alerter". */
const char *zenc__kind_name(zenc__kind kind);
/* 0, or -1 for an unknown name (no error is set). */
int zenc__kind_parse(zenc__kind *out, const char *name);

/*
 * Flavors (flavor.c).  The registry itself is public: zenc/sys/flavor.h.
 */

/*
 * One row of the flavor table: the public description first (every
 * zenc_flavor the registry hands out is the head of a row), then the code
 * of the kinds whose interface is internal.  A built-in alerter flavor
 * has `create_alerter` (it gets its config unresolved and resolves
 * secrets at each use); one registered from outside has
 * `f.new_alerter` (it gets its own keys, resolved).  A metadata-store
 * flavor has `open_store` (location: the value of its first key).
 */
struct zenc__alerter_config;
struct zenc__store;
typedef struct zenc__flavor_row {
	zenc_flavor f;
	int (*create_alerter)(
		zenc_alerter **out, const struct zenc__alerter_config *c);
	int (*open_store)(struct zenc__store **out, const char *location);
} zenc__flavor_row;

/* The row a registry flavor heads. */
static inline const zenc__flavor_row *zenc__flavor_row_of(const zenc_flavor *f)
{
	return (const zenc__flavor_row *)f;
}

/* Loads the plugins of ZENC_PLUGIN_PATH, the first time (plugin.c).
 * Returns 0, or (then and at every later call) the ZENC_EIO error of the
 * plugin that failed.  flavor.c calls it at each lookup. */
int zenc__plugins_load(void);
/* The same, leaving this thread's last error as it was: for lookups that
 * cannot report one (zenc_flavor_find()). */
void zenc__plugins_load_silent(void);

/* The keys the alerter delivery core reads, which every alerter flavor
 * takes besides its own: NULL-terminated. */
extern const char *const zenc__alerter_shared_keys[];
/* True when `key` is one of those. */
bool zenc__alerter_is_shared_key(const char *key);
/* Every key `f` takes, in order: its own, then for an alerter the shared
 * keys it does not list itself; NULL-terminated, the array the
 * caller's (free()), the strings not. */
const char **zenc__flavor_all_keys(const zenc_flavor *f, size_t *n);

/* Appends the names of `kind`'s flavors, sorted, joined by ", ". */
void zenc__flavor_names(zenc_buf *b, const char *kind);
/* Finds a flavor, or sets "unknown alerter flavor 'slak' (known: ...);
 * did you mean 'slack'?" and returns ZENC_ENOTFOUND; or returns the
 * error of a plugin that failed to load (ZENC_EIO). */
int zenc__flavor_lookup(
	const zenc_flavor **out, const char *kind, const char *name);
/* 0 when `key` is one of the flavor's keys; otherwise sets "unknown config
 * key ..." and returns ZENC_EINVALID. */
int zenc__flavor_check_key(const zenc_flavor *f, const char *key);
/* True when `key` is one of the flavor's secret keys. */
bool zenc__flavor_is_secret_key(const zenc_flavor *f, const char *key);
/* The candidate closest to `word` when it is close enough to suggest
 * ("did you mean"), else NULL. */
const char *zenc__closest(const char *word, const char *const *cands, size_t n);

/*
 * The configuration in $ZENC_HOME/config (config_file.c; the format is in
 * docs/stack.md).  Read it with zenc__stacks_read(); change it only inside
 * zenc__stacks_edit(), which holds $ZENC_HOME/lock around the read, the
 * change and the atomic write.
 */
typedef struct zenc__component {
	zenc__kind kind;
	char *name;
	char *flavor;
	char **keys;
	char **values;
	size_t n;
} zenc__component;

typedef struct zenc__stack_def {
	char *name;
	/* Component names by kind; NULL: none (only the alerter may be). */
	char *components[ZENC__KIND_COUNT];
} zenc__stack_def;

typedef struct zenc__stacks {
	char *active;
	zenc__component *components;
	size_t ncomponents;
	zenc__stack_def *stacks;
	size_t nstacks;
} zenc__stacks;

#define ZENC__STACKS_INIT                                                      \
	{                                                                      \
		NULL, NULL, 0, NULL, 0                                         \
	}

/* The configuration of a fresh $ZENC_HOME: the stack "default". */
void zenc__stacks_default(zenc__stacks *cfg);
/* Reads $ZENC_HOME/config, or the default when there is none.  0, or
 * ZENC_ECONFIG / ZENC_EIO with "path:line:column: ..." */
int zenc__stacks_read(zenc__stacks *cfg);
/* Parses `text`; `path` is only for messages. */
int zenc__stacks_parse(zenc__stacks *cfg, const char *text, const char *path);
void zenc__stacks_format(zenc_buf *out, const zenc__stacks *cfg);
void zenc__stacks_release(zenc__stacks *cfg);
/* Locks $ZENC_HOME (creating it 0700), reads the config, calls fn, and
 * writes the config back atomically when fn returns 0.  Returns fn's
 * result, or an error of its own. */
int zenc__stacks_edit(
	int (*fn)(zenc__stacks *cfg, void *payload), void *payload);
/* An exclusive flock on $ZENC_HOME/lock: 0 and *fd, or ZENC_EIO. */
int zenc__home_lock(int *fd);
void zenc__home_unlock(int fd);

zenc__component *zenc__stacks_component(
	const zenc__stacks *cfg, zenc__kind kind, const char *name);
zenc__stack_def *zenc__stacks_stack(const zenc__stacks *cfg, const char *name);
/* As above, or ZENC_ENOTFOUND with "unknown alerter 'x' (known: ...)". */
int zenc__stacks_component_find(
	const zenc__stacks *cfg,
	zenc__kind kind,
	const char *name,
	zenc__component **out);
int zenc__stacks_stack_find(
	const zenc__stacks *cfg, const char *name, zenc__stack_def **out);
/* The value of `key` in `c`, or NULL. */
const char *zenc__component_get(const zenc__component *c, const char *key);
/* 0 for a valid component or stack name, else ZENC_EINVALID with
 * "invalid <what> name '...'" set. */
int zenc__check_name(const char *what, const char *name);

/*
 * Checked changes: each validates everything first, sets the error and
 * leaves `cfg` unchanged when it refuses.  Codes: ZENC_EINVALID (bad
 * name or key), ZENC_ENOTFOUND (unknown flavor, component or stack),
 * ZENC_EEXISTS, ZENC_EINUSE (component used by a stack), ZENC_ESTATE
 * (deleting the active or the default stack).
 */
int zenc__stacks_component_add(
	zenc__stacks *cfg,
	zenc__kind kind,
	const char *name,
	const char *flavor,
	const char *const *keys,
	const char *const *values,
	size_t n);
/* Sets each key; an empty value removes the key. */
int zenc__stacks_component_update(
	zenc__stacks *cfg,
	zenc__kind kind,
	const char *name,
	const char *const *keys,
	const char *const *values,
	size_t n);
int zenc__stacks_component_delete(
	zenc__stacks *cfg, zenc__kind kind, const char *name);
/* comps[kind]: the component's name; NULL: the one named "default" (for
 * the alerter: the alerter "default" if there is one, else none). */
int zenc__stacks_stack_add(
	zenc__stacks *cfg, const char *name, const char *const *comps);
/* comps[kind]: NULL leaves it; "" removes it (the alerter only). */
int zenc__stacks_stack_update(
	zenc__stacks *cfg, const char *name, const char *const *comps);
int zenc__stacks_stack_delete(zenc__stacks *cfg, const char *name);
int zenc__stacks_stack_activate(zenc__stacks *cfg, const char *name);

/* How `value` of `key` is shown: as is, or "****" for a secret key whose
 * value is not exactly one {{secret.NAME}} reference.  `f` may be NULL
 * (an unknown flavor: every value but a reference is masked). */
const char *zenc__stacks_mask(
	const zenc_flavor *f, const char *key, const char *value);

/* Line-format escaping shared by the config and the secrets file:
 * backslash, and control characters as \n, \r, \t or \xHH. */
void zenc__stacks_escape(zenc_buf *b, const char *s);
/* Undoes it; -1 (and *bad the offset) for a malformed escape. */
int zenc__stacks_unescape(zenc_buf *b, const char *s, size_t n, size_t *bad);

/*
 * Secrets (secret.c), in $ZENC_HOME/secrets, mode 0600.  A value is never
 * put in an error message or a log line.
 */
int zenc__secret_check_name(const char *name);
/* Sets (or replaces) a secret.  0, ZENC_EINVALID, ZENC_EIO. */
int zenc__secret_set(const char *name, const char *value);
/* 0, or ZENC_ENOTFOUND "unknown secret 'NAME'". */
int zenc__secret_delete(const char *name);
/* The names, sorted; free each and the array. */
int zenc__secret_names(char ***out, size_t *n);
/* Appends `value` to `out` with every {{secret.NAME}} replaced by the
 * secret's value.  0, or ZENC_ECONFIG "unknown secret 'NAME'". */
int zenc__secret_resolve(zenc_buf *out, const char *value);
/* True when `value` is exactly one {{secret.NAME}} reference. */
bool zenc__secret_is_ref(const char *value);

#endif
