/* The terminal log shared by zenc_main() and `zenc run`. */
#ifndef ZENC_LIB_TERMLOG_H
#define ZENC_LIB_TERMLOG_H

#include <stddef.h>

/* Installs the printer for a run of `n_steps` steps (0 when unknown);
 * with `quiet` only warnings and errors are printed. */
void zenc__termlog_install(size_t n_steps, int quiet);
/* Clears the progress line, if one is shown. */
void zenc__termlog_done(void);

#endif
