/*
 * zenc: a pipeline framework in C with step hooks and alerting.
 *
 * This umbrella header brings in the whole user API.  Headers under
 * <zenc/sys/> are for people who write component flavors and are not
 * included here.
 */
#ifndef ZENC_H
#define ZENC_H

#include "zenc/common.h"
#include "zenc/errors.h"
#include "zenc/pipeline.h"
#include "zenc/hook.h"
#include "zenc/context.h"
#include "zenc/stack.h"
#include "zenc/run.h"
#include "zenc/records.h"
#include "zenc/secret.h"

#endif
