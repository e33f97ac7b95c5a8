/*
 * Stacks as the engine sees them.  stack.c loads a stack from $ZENC_HOME
 * (or the built-in default when nothing is configured) and answers what
 * the engine needs to know about its components.
 */
#ifndef ZENC_LIB_STACK_H
#define ZENC_LIB_STACK_H

#include "internal.h"

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

#endif
