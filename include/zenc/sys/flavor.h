/*
 * The flavor registry, for people who write component flavors.
 *
 * A flavor is one implementation of a component kind ("orchestrator",
 * "artifact-store", "metadata-store", "alerter"): the alerter flavor
 * "slack", the metadata-store flavor "sqlite".  zenc knows its built-in
 * flavors from a static table; a program adds its own with
 * zenc_flavor_register() before it registers or loads components of that
 * flavor.  Both are found by (kind, name) with zenc_flavor_find().
 */
#ifndef ZENC_SYS_FLAVOR_H
#define ZENC_SYS_FLAVOR_H

#include "../common.h"

ZENC_BEGIN_DECL

/** The version of zenc_flavor this header describes. */
#define ZENC_FLAVOR_VERSION 1

/**
 * A flavor's description.  Fields are only ever appended; `version` says
 * which fields the caller filled in (ZENC_FLAVOR_VERSION when built
 * against this header).
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
} zenc_flavor;

/**
 * Adds a flavor to the registry.  Everything `f` points to is copied.
 * Returns 0; ZENC_EEXISTS when the kind already has a flavor of that name
 * (built-in or registered); ZENC_EINVALID for an unknown version or kind,
 * an empty name, or a secret key that is not among `keys`.  Thread-safe.
 */
ZENC_EXTERN(int) zenc_flavor_register(const zenc_flavor *f);

/**
 * The flavor `name` of component kind `kind`, or NULL when there is none.
 * The result is owned by the registry and stays valid for the life of the
 * process.  Thread-safe.
 */
ZENC_EXTERN(const zenc_flavor *) zenc_flavor_find(
	const char *kind, const char *name);

ZENC_END_DECL

#endif
