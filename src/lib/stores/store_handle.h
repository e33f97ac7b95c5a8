/* The public handle of a metadata store (<zenc/records.h>), shared by
 * records.c and records_files.c. */
#ifndef ZENC_LIB_STORE_HANDLE_H
#define ZENC_LIB_STORE_HANDLE_H

#include "stores/store.h"

struct zenc_store {
	zenc__store *impl;
	char *stack;    /* the stack's name */
	char *location; /* as configured, secrets unresolved */
};

#endif
