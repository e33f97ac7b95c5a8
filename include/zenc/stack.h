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
	/** Version 2: 1 when the alert is sent late, by a later zenc command
	 *  that found the run's orchestrating process and its watcher gone
	 *  (the machine went down); its JSON then has "late": true. */
	int late;
} zenc_alert;

/** An empty alert of this header's version. */
#define ZENC_ALERT_INIT                                                        \
	{                                                                      \
		ZENC_ALERT_VERSION, NULL, NULL, NULL, 0, NULL, NULL, NULL,     \
			NULL, NULL, NULL, NULL, 0, 0, 0, 0.0, NULL, NULL,      \
			NULL, NULL, 0.0, 0                                     \
	}

/**
 * Posts `alert` through the alerter.  The alert is first written to the
 * metadata store's outbox, then sent, with retries inside the hook's time
 * budget when called from a hook; one that cannot be sent yet stays
 * pending for `zenc alerts flush`.  Returns 0 when it was delivered,
 * queued for delivery or suppressed (dedup_window, only_on_change);
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

ZENC_END_DECL

#endif
