#ifndef ZENC_STACK_H
#define ZENC_STACK_H

#include "common.h"
#include "hook.h"

ZENC_BEGIN_DECL

/** The stack's name ("default" for the built-in one). */
ZENC_EXTERN(const char *) zenc_stack_name(const zenc_stack *stack);

/** The stack's alerter, or NULL when none is configured. */
ZENC_EXTERN(zenc_alerter *) zenc_stack_alerter(zenc_stack *stack);

/**
 * Posts `message` through the alerter.  Returns 0 when it was delivered or
 * queued for delivery, a negative code otherwise.  `a` may be NULL: then
 * a warning is logged and ZENC_ENOTFOUND returned.
 */
ZENC_EXTERN(int) zenc_alerter_post(zenc_alerter *a, const char *message);

/**
 * The standard success hook: posts pipeline, run and step names
 * through the active stack's alerter.  With no alerter: a warning, and the
 * hook run counts as completed.
 */
ZENC_EXTERN(void)
zenc_alerter_success_hook(zenc_step_context *ctx, const void *params);

/** The standard failure hook: as above, with the error's type and
 *  message. */
ZENC_EXTERN(void)
zenc_alerter_failure_hook(
	zenc_step_context *ctx, const void *params, const zenc_exception *err);

/** The version of zenc_alert this header describes. */
#define ZENC_ALERT_VERSION 2

/** One extra line of an alert: a key and its value, both UTF-8. */
typedef struct zenc_alert_field {
	const char *key;
	const char *value;
} zenc_alert_field;

/**
 * An alert, as zenc_alerter_post_alert() takes it and as every alerter
 * flavor receives it.  Every string may be NULL (left out) and is only
 * read during the call.  Fields are only ever appended; `version` says
 * which fields the caller filled in.  Initialise with ZENC_ALERT_INIT.
 */
typedef struct zenc_alert {
	/** ZENC_ALERT_VERSION. */
	unsigned int version;
	/** One line: "Step train of pipeline nightly failed". */
	const char *title;
	/** The text of the alert; may span lines. */
	const char *message;
	/** Extra key/value lines, `n_fields` of them. */
	const zenc_alert_field *fields;
	size_t n_fields;
	const char *pipeline;
	const char *run_name;
	const char *run_id;
	const char *step;
	/** "failed", "completed", or anything the caller chooses. */
	const char *status;
	/** The step's error, for failures. */
	const char *error_type;
	const char *error_message;
	/** When the step process exited non-zero or was killed, else 0. */
	int exit_code;
	int signal;
	/** The attempt, 1-based; 0 when not about a step. */
	int attempt;
	/** Seconds the step ran; 0 when not known. */
	double duration;
	/** A link to the run (the alerter's dashboard_url + "/runs/" + id);
	 *  NULL: the alerter adds it when it has a dashboard_url. */
	const char *url;
	/** The step's parameters as a JSON object, or NULL. */
	const char *params_json;
	/** "on_failure", "on_success", "test", "message", or NULL. */
	const char *event;
	/** A channel that overrides the alerter's (Slack), or NULL. */
	const char *channel;
	/** Seconds one delivery attempt may take; set by zenc for flavors,
	 *  ignored when passed to zenc_alerter_post_alert(). */
	double timeout;
	/* Version 2. */
	/** The alert's id, the same for every try to send it: set by zenc
	 *  (ignored when passed to zenc_alerter_post_alert()), for receivers
	 *  to drop a copy they already have. */
	const char *id;
	/** The stack the alert was sent through; NULL: zenc sets the
	 *  alerter's stack. */
	const char *stack;
	/** 1 when the alert is sent late, by a later zenc command that found
	 *  the run's orchestrating process and its watcher gone (the machine
	 *  went down); its JSON then has "late": true. */
	int late;
} zenc_alert;

/** An empty alert of this header's version. */
#define ZENC_ALERT_INIT                                                        \
	{                                                                      \
		ZENC_ALERT_VERSION, NULL, NULL, NULL, 0, NULL, NULL, NULL,     \
			NULL, NULL, NULL, NULL, 0, 0, 0, 0.0, NULL, NULL,      \
			NULL, NULL, 0.0, NULL, NULL, 0                         \
	}

/**
 * Posts `alert` through the alerter.  The alert is first written to the
 * metadata store's outbox, then sent, with retries inside the hook's time
 * budget when called from a hook; one that cannot be sent yet stays
 * pending, for the store's courier (which retries it until its
 * delivery_deadline) and `zenc alerts flush`.  Returns 0 when it was
 * delivered, queued for delivery or suppressed (dedup_window, only_on_change);
 * ZENC_ENOTFOUND when `a` is NULL (a warning is logged); ZENC_EINVALID
 * for a NULL alert or an unknown version; ZENC_ECONFIG or
 * ZENC_EUNREACHABLE when the service refused it for good (bad URL, token
 * or request) or when it could neither be sent nor queued.
 */
ZENC_EXTERN(int)
zenc_alerter_post_alert(zenc_alerter *a, const zenc_alert *alert);

/**
 * The alerter component `name` of the active stack, as a run would use
 * it: its alerts are written to the stack's outbox before they are sent.
 * `*out` is the caller's, to free with zenc_alerter_free()
 * (<zenc/sys/alerter.h>).  Returns 0; ZENC_ENOTFOUND for an unknown
 * component; ZENC_EINVALID or ZENC_ECONFIG for one that is not an
 * alerter or whose settings are wrong; ZENC_EIO, ZENC_ESTORE.
 */
ZENC_EXTERN(int) zenc_alerter_open(zenc_alerter **out, const char *name);

/**
 * Sends `alert` through `a` as `zenc alerter test` does: recorded in the
 * outbox like any alert, never de-duplicated, tried a few times within a
 * short budget, and recorded as failed (never left pending) when it could
 * not be delivered.  Returns 0 when it was delivered, else the error of
 * the last attempt (zenc_error_last() says why).
 */
ZENC_EXTERN(int)
zenc_alerter_send_test(zenc_alerter *a, const zenc_alert *alert);

/*
 * The stack configuration in $ZENC_HOME/config: the components a program
 * registered, the stacks made of them and the active stack, as `zenc
 * stack` and `zenc orchestrator|artifact-store|metadata-store|alerter`
 * manage them (the file's format is in docs/stack.md).  A fresh
 * $ZENC_HOME reads as the stack "default" of components named "default".
 *
 * Each change below takes $ZENC_HOME/lock, reads the file, checks the
 * change and writes the file back atomically; a change that is refused
 * leaves the file as it was and sets zenc_error_last().  Codes:
 * ZENC_EINVALID (a bad name, kind or key), ZENC_ENOTFOUND (an unknown
 * flavor, component or stack), ZENC_EEXISTS, ZENC_EINUSE (a component a
 * stack uses), ZENC_ESTATE (deleting the active or the default stack),
 * and ZENC_ECONFIG or ZENC_EIO when the file cannot be read or written.
 */

/** The kinds of components, in the order a stack lists them. */
typedef enum zenc_component_kind {
	ZENC_COMPONENT_ORCHESTRATOR = 0,
	ZENC_COMPONENT_ARTIFACT_STORE = 1,
	ZENC_COMPONENT_METADATA_STORE = 2,
	ZENC_COMPONENT_ALERTER = 3
} zenc_component_kind;

/** How many kinds there are: the size of a stack's component array. */
#define ZENC_COMPONENT_KINDS 4

/** "orchestrator", "artifact-store", "metadata-store" or "alerter";
 *  NULL for a value out of range. */
ZENC_EXTERN(const char *) zenc_component_kind_name(zenc_component_kind kind);

/** Parses a kind's name as above.  Returns 0, or ZENC_EINVALID (with no
 *  error message set) for an unknown name. */
ZENC_EXTERN(int)
zenc_component_kind_parse(zenc_component_kind *out, const char *name);

/** One registered component. */
typedef struct zenc_component_info {
	zenc_component_kind kind;
	const char *name;
	const char *flavor;
	/** Its config keys and their values, `n` of each, in the file's
	 *  order.  Values are as every output shows them: the value of a
	 *  secret key (and, for a flavor this program does not know, of
	 *  every key) reads "****" unless it is exactly one
	 *  {{secret.NAME}} reference. */
	const char *const *keys;
	const char *const *values;
	size_t n;
} zenc_component_info;

/** One stack. */
typedef struct zenc_stack_info {
	const char *name;
	/** True for the active stack. */
	bool active;
	/** The component of each kind, by name; NULL: none (only the
	 *  alerter may be missing). */
	const char *components[ZENC_COMPONENT_KINDS];
} zenc_stack_info;

/** A snapshot of the configuration, read by zenc_stack_config_read(). */
typedef struct zenc_stack_config {
	/** The active stack's name. */
	const char *active;
	/** The stacks, sorted by name. */
	const zenc_stack_info *stacks;
	size_t n_stacks;
	/** The components, sorted by kind, then by name. */
	const zenc_component_info *components;
	size_t n_components;
} zenc_stack_config;

/**
 * Reads $ZENC_HOME/config into `*out`, for the caller to free with
 * zenc_stack_config_free().  The snapshot does not follow later changes.
 * Returns 0, or ZENC_ECONFIG or ZENC_EIO (the message names the file,
 * line and column).
 */
ZENC_EXTERN(int) zenc_stack_config_read(zenc_stack_config **out);

/** Frees a snapshot and everything in it.  NULL is harmless. */
ZENC_EXTERN(void) zenc_stack_config_free(zenc_stack_config *cfg);

/**
 * The stack `name` of the snapshot (NULL: the active stack).  Returns 0
 * with `*out` set, or ZENC_ENOTFOUND with a message that lists the known
 * stacks and may suggest the closest.
 */
ZENC_EXTERN(int)
zenc_stack_config_stack(
	const zenc_stack_config *cfg,
	const char *name,
	const zenc_stack_info **out);

/**
 * The component `name` of kind `kind` in the snapshot.  Returns 0 with
 * `*out` set, or ZENC_ENOTFOUND with "unknown alerter 'x' (known: ...)"
 * and maybe a suggestion.
 */
ZENC_EXTERN(int)
zenc_stack_config_component(
	const zenc_stack_config *cfg,
	zenc_component_kind kind,
	const char *name,
	const zenc_component_info **out);

/**
 * Registers stack `name` of `components` (by kind, as in
 * zenc_stack_info; an element NULL is the component named "default",
 * and for the alerter the alerter "default" if there is one, else none).
 * With `activate`, it becomes the active stack in the same change.
 */
ZENC_EXTERN(int)
zenc_stack_register(
	const char *name,
	const char *const components[ZENC_COMPONENT_KINDS],
	bool activate);

/** Changes the components of stack `name`: an element NULL leaves that
 *  kind as it is, "" removes it (the alerter only). */
ZENC_EXTERN(int)
zenc_stack_update(
	const char *name, const char *const components[ZENC_COMPONENT_KINDS]);

/** Makes stack `name` the active one. */
ZENC_EXTERN(int) zenc_stack_activate(const char *name);

/** Deletes stack `name` (neither the active stack nor "default"). */
ZENC_EXTERN(int) zenc_stack_delete(const char *name);

/**
 * Registers component `name` of `kind` and `flavor`, with `n` config
 * keys and values (copied; a value may be a {{secret.NAME}} reference).
 * Every key must be one of the flavor's (zenc_flavor_keys()).
 */
ZENC_EXTERN(int)
zenc_component_register(
	zenc_component_kind kind,
	const char *name,
	const char *flavor,
	const char *const *keys,
	const char *const *values,
	size_t n);

/** Sets `n` config keys of a component; an empty value removes the key.
 *  The flavor cannot change. */
ZENC_EXTERN(int)
zenc_component_update(
	zenc_component_kind kind,
	const char *name,
	const char *const *keys,
	const char *const *values,
	size_t n);

/** Deletes a component that no stack uses. */
ZENC_EXTERN(int)
zenc_component_delete(zenc_component_kind kind, const char *name);

/* Flavors (struct zenc_flavor is described in <zenc/sys/flavor.h>). */
struct zenc_flavor;

/**
 * The flavors of component kind `kind` ("alerter", ...), built in,
 * registered and loaded from plugins, sorted by name: `*out` gets an
 * array of `*n` registry entries (they live as long as the process) that
 * the caller frees with free().  Returns 0, or ZENC_EINVALID for an
 * unknown kind (then `*out` is NULL and `*n` 0).
 */
ZENC_EXTERN(int)
zenc_flavor_list(const struct zenc_flavor ***out, size_t *n, const char *kind);

/**
 * Every config key flavor `f` takes, in order: its own, then for an
 * alerter the keys every alerter shares (timeout, dedup_window,
 * only_on_change, dashboard_url) that it does not list itself.  An array
 * of `*n` strings and a NULL, that the caller frees with free() (the
 * strings are the registry's).
 */
ZENC_EXTERN(const char **)
zenc_flavor_keys(const struct zenc_flavor *f, size_t *n);

/** True when `key` is one of the secret keys of flavor `f`, whose values
 *  every output masks.  `f` may be NULL (false). */
ZENC_EXTERN(bool)
zenc_flavor_is_secret_key(const struct zenc_flavor *f, const char *key);

ZENC_END_DECL

#endif
