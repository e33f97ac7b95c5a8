/*
 * The public face of the metadata store (<zenc/records.h>): a stack's
 * store opened by name, and what the commands read from it.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alerters/alerter.h"
#include "internal.h"
#include "alerters/courier.h"
#include "orchestrators/orchestrator.h"
#include "config/stack.h"
#include "stores/store.h"
#include "stores/store_handle.h"

int zenc_store_open(zenc_store **out, const char *stack)
{
	zenc_stack *s = NULL;
	zenc_store *store;
	int rc;

	if (!out)
		return zenc__error_set(ZENC_EINVALID, "no place for the store");
	*out = NULL;
	if ((rc = zenc__stack_load(&s, stack)) < 0)
		return rc;
	store = zenc__calloc(1, sizeof(*store));
	if ((rc = zenc__store_open(
		     &store->impl, zenc__stack_store_flavor(s),
		     zenc__stack_store_location(s))) < 0) {
		zenc__stack_free(s);
		free(store);
		return rc;
	}
	store->stack = zenc__strdup(zenc_stack_name(s));
	store->location = zenc__strdup(zenc__stack_store_location(s));
	zenc__stack_free(s);
	*out = store;
	return 0;
}

void zenc_store_deliver_pending(zenc_store *store)
{
	if (store && store->impl)
		zenc__courier_check(
			store->impl, store->impl->flavor, store->location);
}

const char *zenc_store_stack_name(const zenc_store *store)
{
	return store ? store->stack : NULL;
}

const char *zenc_store_location(const zenc_store *store)
{
	return store ? store->location : NULL;
}

void zenc_store_free(zenc_store *store)
{
	if (!store)
		return;
	zenc__store_free(store->impl);
	free(store->stack);
	free(store->location);
	free(store);
}

int zenc_store_runs_list(
	zenc_store *store, const zenc_run_filter *filter, zenc_run_list *out)
{
	zenc_run_filter all = {NULL, NULL, 0, 0};

	if (!out)
		return zenc__error_set(ZENC_EINVALID, "no place for the list");
	memset(out, 0, sizeof(*out));
	if (!store)
		return zenc__error_set(ZENC_EINVALID, "no store");
	return store->impl->runs_list(store->impl, filter ? filter : &all, out);
}

int zenc_store_run_show(
	zenc_store *store, const char *id_or_name, zenc_run_info *out)
{
	if (!out)
		return zenc__error_set(ZENC_EINVALID, "no place for the run");
	memset(out, 0, sizeof(*out));
	if (!store || !id_or_name)
		return zenc__error_set(ZENC_EINVALID, "no store or no run");
	return store->impl->run_show(store->impl, id_or_name, out);
}

int zenc_store_run_delete(zenc_store *store, const char *id_or_name)
{
	if (!store || !id_or_name)
		return zenc__error_set(ZENC_EINVALID, "no store or no run");
	return store->impl->run_delete(store->impl, id_or_name);
}

static int no_outbox(const zenc_store *store)
{
	return zenc__error_set(
		ZENC_ESTATE, "metadata store flavor '%s' has no alert outbox",
		store->impl->flavor ? store->impl->flavor : "?");
}

int zenc_store_alerts_list(
	zenc_store *store,
	const char *status,
	size_t limit,
	zenc_alert_list *out)
{
	size_t i;
	int rc;

	if (!out)
		return zenc__error_set(ZENC_EINVALID, "no place for the list");
	memset(out, 0, sizeof(*out));
	if (!store)
		return zenc__error_set(ZENC_EINVALID, "no store");
	if (store->impl->version < 2 || !store->impl->alerts_list)
		return no_outbox(store);
	if ((rc = store->impl->alerts_list(store->impl, status, limit, out)) <
	    0)
		return rc;
	for (i = 0; i < out->n; i++)
		if (!zenc__json_valid(out->alerts[i].alert_json))
			out->alerts[i].alert_json = NULL;
	return 0;
}

int zenc_store_has_outbox(const zenc_store *store)
{
	const zenc__store *st = store ? store->impl : NULL;

	return st && st->version >= 2 && st->alerts_list &&
	       st->alerts_pending && st->alert_update && st->alert_claim;
}

int zenc_store_alerts_flush(
	zenc_store *store, size_t *delivered, size_t *pending, size_t *failed)
{
	size_t d = 0, p = 0, f = 0;
	int rc;

	if (!store)
		return zenc__error_set(ZENC_EINVALID, "no store");
	if (!zenc_store_has_outbox(store))
		return no_outbox(store);
	rc = zenc__alerts_flush(store->impl, &d, &p, &f);
	if (delivered)
		*delivered = d;
	if (pending)
		*pending = p;
	if (failed)
		*failed = f;
	return rc;
}

int zenc_alerter_open(zenc_alerter **out, const char *name)
{
	zenc_stack *s = NULL;
	int rc;

	if (!out || !name)
		return zenc__error_set(ZENC_EINVALID, "no alerter name");
	*out = NULL;
	if ((rc = zenc__stack_load(&s, NULL)) < 0)
		return rc;
	rc = zenc__alerter_for_component(
		out, name, zenc__stack_store_flavor(s),
		zenc__stack_store_location(s));
	zenc__stack_free(s);
	return rc;
}

int zenc_alerter_send_test(zenc_alerter *a, const zenc_alert *alert)
{
	zenc__deliver_opts o = {0, 1, 1};
	zenc__alert_outcome outcome = ZENC__ALERT_FAILED;
	int rc;

	if (!a || !alert)
		return zenc__error_set(ZENC_EINVALID, "no alerter or no alert");
	rc = zenc__alerter_deliver(a, alert, &o, &outcome);
	if (outcome == ZENC__ALERT_DELIVERED)
		return 0;
	if (rc < 0)
		return rc;
	/* Not delivered, yet not an error of its own: the last attempt's
	 * error stands. */
	return zenc_error_last_code() < 0 ? zenc_error_last_code()
					  : ZENC_EUNREACHABLE;
}

int zenc_store_run_cancel(
	zenc_store *store, const char *id_or_name, zenc_run_cancel_info *out)
{
	zenc_run_info info;
	zenc_stack *stack = NULL;
	const zenc__orchestrator *orch;
	char host[256] = "";
	char *run_dir = NULL;
	size_t n = 0;
	int rc;

	if (out)
		memset(out, 0, sizeof(*out));
	if ((rc = zenc_store_run_show(store, id_or_name, &info)) < 0)
		goto done;
	if (zenc__status_parse(info.rec.status) != ZENC__STATUS_RUNNING) {
		rc = zenc__error_set(
			ZENC_ESTATE, "run '%s' is not running (it %s)",
			info.rec.name,
			info.rec.status ? info.rec.status : "has no status");
		goto done;
	}
	/* The stack the run ran on says how to cancel it; the store's own
	 * when that one is gone. */
	if (!info.rec.stack || zenc__stack_load(&stack, info.rec.stack) < 0) {
		if ((rc = zenc__stack_load(&stack, store->stack)) < 0)
			goto done;
	}
	/* An orchestrator that places runs elsewhere withdraws what it
	 * placed; otherwise the orchestrating process is signalled. */
	orch = zenc__orchestrator_for(zenc__stack_orchestrator_flavor(stack));
	if (orch->cancel) {
		run_dir = zenc__asprintf(
			"%s/%s", zenc__stack_artifact_path(stack), info.rec.id);
		if ((rc = orch->cancel(info.rec.id, run_dir, &n)) < 0)
			goto done;
		if (out) {
			out->unit = orch->unit ? orch->unit : "job";
			out->jobs = n;
		}
		goto done;
	}
	gethostname(host, sizeof(host) - 1);
	if (info.rec.pid <= 0 || !info.rec.host ||
	    strcmp(info.rec.host, host)) {
		rc = zenc__error_set(
			ZENC_ESTATE,
			"run '%s' is orchestrated on host '%s'; cancel it "
			"there",
			info.rec.name, info.rec.host ? info.rec.host : "?");
		goto done;
	}
	if (kill((pid_t)info.rec.pid, SIGTERM) < 0) {
		rc = zenc__error_set(
			ZENC_EIO, "cannot signal process %ld of run '%s': %s",
			info.rec.pid, info.rec.name, strerror(errno));
		goto done;
	}
	if (out)
		out->pid = info.rec.pid;
done:
	free(run_dir);
	zenc__stack_free(stack);
	zenc_run_info_free(&info);
	return rc;
}

void zenc_run_list_free(zenc_run_list *list)
{
	zenc__run_list_free(list);
}

void zenc_run_info_free(zenc_run_info *info)
{
	zenc__run_info_free(info);
}

void zenc_alert_list_free(zenc_alert_list *list)
{
	zenc__alert_list_free(list);
}
