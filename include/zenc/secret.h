#ifndef ZENC_SECRET_H
#define ZENC_SECRET_H

#include "common.h"

/*
 * Secrets: named values kept in $ZENC_HOME/secrets (mode 0600), that
 * component settings refer to as {{secret.NAME}} and that are resolved
 * only when used.  A value is never put in an error message, a log line
 * or a record.
 */

ZENC_BEGIN_DECL

/**
 * Checks that `name` can name a secret: letters, digits, '.', '_' and
 * '-', starting with a letter or digit, and not too long.
 * Returns 0, or ZENC_EINVALID saying what is wrong with it.
 */
ZENC_EXTERN(int) zenc_secret_check_name(const char *name);

/**
 * Sets secret `name` to `value`, replacing any value it had; both are
 * copied.  Returns 0; ZENC_EINVALID for a bad name; ZENC_EIO or
 * ZENC_ECONFIG when the secrets file cannot be read or written.
 */
ZENC_EXTERN(int) zenc_secret_set(const char *name, const char *value);

/**
 * Deletes secret `name`.  Returns 0; ZENC_ENOTFOUND for an unknown
 * secret; ZENC_EINVALID, ZENC_EIO or ZENC_ECONFIG as zenc_secret_set().
 */
ZENC_EXTERN(int) zenc_secret_delete(const char *name);

/**
 * The names of the secrets, sorted, never their values: `*out` gets an
 * array of `*n` strings that the caller frees with
 * zenc_secret_names_free().  Returns 0, or ZENC_EIO or ZENC_ECONFIG when
 * the secrets file cannot be read (then `*out` is NULL and `*n` 0).
 */
ZENC_EXTERN(int) zenc_secret_names(char ***out, size_t *n);

/** Frees what zenc_secret_names() returned.  NULL is harmless. */
ZENC_EXTERN(void) zenc_secret_names_free(char **names, size_t n);

ZENC_END_DECL

#endif
