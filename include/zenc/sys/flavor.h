/*
 * The flavor registry, for people who write component flavors.
 *
 * A flavor is one implementation of a component kind ("orchestrator",
 * "artifact-store", "metadata-store", "alerter"): the alerter flavor
 * "slack", the metadata-store flavor "sqlite".  zenc knows its built-in
 * flavors from a static table; a program adds its own with
 * zenc_flavor_register() before it registers or loads components of that
 * flavor.  Both are found by (kind, name) with zenc_flavor_find().
 *
 * A flavor carries its code: since version 2 of the struct, an alerter
 * flavor names the function that makes its alerters (`new_alerter`), so
 * a flavor written outside zenc works like a built-in one in stacks, in
 * `zenc alerter test` and in the standard alerter hooks.  Such a flavor
 * can live in a plugin: a shared object in a folder named by
 * ZENC_PLUGIN_PATH whose zenc_plugin_init() registers it (see
 * docs/alerters.md, "Writing an alerter flavor").
 */
#ifndef ZENC_SYS_FLAVOR_H
#define ZENC_SYS_FLAVOR_H

#include "../common.h"

ZENC_BEGIN_DECL

/** The version of zenc_flavor this header describes. */
#define ZENC_FLAVOR_VERSION 2

/**
 * Makes an alerter of a flavor (see <zenc/sys/alerter.h> for what an
 * alerter is).  `keys` and `values` are the `n` config keys the component
 * sets among the flavor's own `keys`, with {{secret.NAME}} references
 * already resolved: copy what is needed, keep no pointer into them (they
 * are wiped when the call returns).  The keys every alerter shares
 * (timeout, dedup_window, only_on_change, dashboard_url) are the
 * delivery core's and are never passed.  Returns 0 with `*out` set (the
 * caller frees it with its `free`), or a negative ZENC_E* code with the
 * message set with zenc_alerter_error(): ZENC_EINVALID for a config the
 * flavor can never use.
 */
typedef int (*zenc_flavor_new_alerter_fn)(
	zenc_alerter **out,
	const char *const *keys,
	const char *const *values,
	size_t n);

/**
 * A flavor's description.  Fields are only ever appended; `version` says
 * which fields the caller filled in (ZENC_FLAVOR_VERSION when built
 * against this header), and zenc reads no field past them: a version 1
 * struct registers a flavor with keys but no code.
 */
typedef struct zenc_flavor {
	/** ZENC_FLAVOR_VERSION. */
	unsigned int version;
	/** "orchestrator", "artifact-store", "metadata-store" or "alerter". */
	const char *kind;
	/** The flavor's name, unique within its kind: "slack". */
	const char *name;
	/** The config keys the flavor accepts, NULL-terminated; NULL: none. */
	const char *const *keys;
	/** The keys among `keys` whose values are secret and are masked in
	 *  every output, NULL-terminated; NULL: none. */
	const char *const *secret_keys;
	/** One line for `--help`; may be NULL. */
	const char *description;

	/* Version 2. */

	/** For kind "alerter": makes the flavor's alerters.  NULL: the
	 *  flavor has no code in this program (components of it can be
	 *  registered, not used).  Must be NULL for the other kinds, whose
	 *  interfaces are internal to zenc; the built-in flavors of every
	 *  kind carry their code in zenc's own table, and this field is
	 *  NULL for them too: use zenc_alerter_new(). */
	zenc_flavor_new_alerter_fn new_alerter;
} zenc_flavor;

/**
 * Adds a flavor to the registry.  Everything `f` points to is copied
 * (the strings; `new_alerter` is kept as it is).  Returns 0; ZENC_EEXISTS
 * when the kind already has a flavor of that name (built-in or
 * registered); ZENC_EINVALID for an unknown version or kind, an empty
 * name, a secret key that is not among `keys`, or a constructor for a
 * kind other than "alerter".  Thread-safe.
 */
ZENC_EXTERN(int) zenc_flavor_register(const zenc_flavor *f);

/**
 * The flavor `name` of component kind `kind`, or NULL when there is none.
 * The result is owned by the registry and stays valid for the life of the
 * process; it is of this header's version whatever version registered
 * it.  The first lookup of a process loads the plugins
 * (ZENC_PLUGIN_PATH).  Thread-safe.
 */
ZENC_EXTERN(const zenc_flavor *)
zenc_flavor_find(const char *kind, const char *name);

/**
 * What a plugin exports: zenc calls it once per process, at the first
 * flavor lookup, after loading the plugin.  It registers the plugin's
 * flavors with zenc_flavor_register() and returns 0, or a negative
 * ZENC_E* code (then the process cannot use flavors: every lookup fails
 * with an error that names the plugin's file).
 */
typedef int (*zenc_plugin_init_fn)(void);

/** The name of the function a plugin exports, of type
 *  zenc_plugin_init_fn. */
#define ZENC_PLUGIN_INIT_SYMBOL "zenc_plugin_init"

ZENC_END_DECL

#endif
