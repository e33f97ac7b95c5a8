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
 * The standard success hook (H5): posts pipeline, run and step names
 * through the active stack's alerter.  With no alerter: a warning, and the
 * hook run counts as completed.
 */
ZENC_EXTERN(void) zenc_alerter_success_hook(
	zenc_step_context *ctx, const void *params);

/** The standard failure hook (H5): as above, with the error's type and
 *  message. */
ZENC_EXTERN(void) zenc_alerter_failure_hook(
	zenc_step_context *ctx, const void *params, const zenc_exception *err);

ZENC_END_DECL

#endif
