/*
 * The courier: one detached process per metadata store that delivers
 * the alerts still pending in its outbox, so that an alert a hook could
 * not send is not left for a human to flush.
 *
 * It is started by zenc__courier_kick(): when a hook leaves an alert
 * pending, when a `zenc` command opens a store that has pending alerts,
 * and by anything else that knows alerts wait (a process that watches
 * an orchestrator that died, say).  A lock file keeps it single per
 * store: next to an SQLite database (DB.courier.lock, its log
 * DB.courier.log), or $ZENC_HOME/couriers/<flavor>-<hash of the
 * location>.lock for other stores.  It runs detached (its own session,
 * standard input from /dev/null, output to its log, no other
 * descriptor of the process that started it), tries each pending alert
 * when due (alerters/alerter.c, zenc__alerts_courier_pass()), and exits
 * when nothing is pending any more or the store is gone.
 */
#ifndef ZENC_LIB_COURIER_H
#define ZENC_LIB_COURIER_H

#include "internal.h"
#include "stores/store.h"

/*
 * Starts the courier of the store `flavor` ("sqlite", "postgres"; NULL:
 * sqlite) at `location` (as the stack configures it: a database path,
 * or a connection string whose secrets are still {{secret.NAME}}
 * references) unless one runs already.  Returns at once: the courier is
 * a grandchild re-executing this program (/proc/self/exe), detached, so
 * the caller never waits for it nor has to reap it.  Does nothing when
 * ZENC_COURIER is 0, off, no or false, or for an SQLite store in
 * memory.  Safe to call from any thread.  Returns 0, or ZENC_EIO when
 * the lock file cannot be opened.
 */
int zenc__courier_kick(const char *flavor, const char *location);

/* Kicks the courier of `store` when it has pending alerts: one cheap
 * query, nothing started when none is pending. */
void zenc__courier_check(
	zenc__store *store, const char *flavor, const char *location);

/* The courier's loop, in this process, until nothing is pending: what
 * the detached process runs.  0, or 1 when the store cannot be used. */
int zenc__courier_main(const char *flavor, const char *location);

#endif
