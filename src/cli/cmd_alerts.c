/*
 * zenc alerts list|flush: the alert outbox of the active stack's metadata
 * store; and zenc alerter test NAME, which sends one alert through a
 * component (the verb sits in cmd_component.c's table).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "zenc/sys/alerter.h"

static const char usage_alerts[] =
	"usage: zenc alerts list [--json] [--status STATUS] [--limit N]"
	" [--stack NAME]\n"
	"   or: zenc alerts flush [--stack NAME]\n"
	"\n"
	"Every alert is written to the metadata store before it is sent.\n"
	"STATUS is pending, delivered, failed or suppressed.  The store's\n"
	"courier delivers pending alerts by itself; 'flush' sends each\n"
	"pending alert once, now: exit 0 when all were delivered, 3 when\n"
	"some are still pending or failed.\n";

static void printer(zenc_log_level level, const char *message, void *payload)
{
	(void)payload;
	fprintf(stderr, "%s%s\n",
		level >= ZENC_LOG_ERROR  ? "error: "
		: level == ZENC_LOG_WARN ? "warning: "
					 : "",
		message);
}

/* The active stack's (or `stack_name`'s) metadata store, with an
 * outbox.  `flush` opens it without starting the courier, which the
 * flush starts after, for what it leaves pending. */
static int open_store(zenc_store **out, const char *stack_name, int flush)
{
	int rc;

	if (flush && (rc = zenc_store_open(out, stack_name)) < 0) {
		cli_error("%s", zenc_error_last());
		return zenc_exit_status(rc);
	}
	if (!flush && (rc = cli_open_store(out, stack_name)) != 0)
		return rc;
	if (!zenc_store_has_outbox(*out)) {
		/* Says so, in the store's words. */
		rc = zenc_store_alerts_flush(*out, NULL, NULL, NULL);
		cli_error("%s", zenc_error_last());
		zenc_store_free(*out);
		*out = NULL;
		return ZENC_EXIT_ENV;
	}
	return 0;
}

static void alert_json(zenc_buf *b, const zenc_alert_record *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", cli_json_str(r->id));
	json_object_set_new(o, "created", cli_json_time(r->created));
	json_object_set_new(o, "status", cli_json_str(r->status));
	json_object_set_new(o, "attempts", json_integer(r->attempts));
	json_object_set_new(o, "last_error", cli_json_str(r->last_error));
	json_object_set_new(o, "alerter", cli_json_str(r->alerter));
	json_object_set_new(o, "flavor", cli_json_str(r->flavor));
	json_object_set_new(o, "run_id", cli_json_str(r->run_id));
	json_object_set_new(o, "pipeline", cli_json_str(r->pipeline));
	json_object_set_new(o, "step", cli_json_str(r->step));
	json_object_set_new(o, "event", cli_json_str(r->event));
	json_object_set_new(o, "step_status", cli_json_str(r->step_status));
	json_object_set_new(o, "error_type", cli_json_str(r->error_type));
	json_object_set_new(o, "title", cli_json_str(r->title));
	json_object_set_new(o, "updated", cli_json_time(r->updated));
	json_object_set_new(o, "delivered", cli_json_time(r->delivered));
	zenc_buf_putc(b, '{');
	cli_json_put_members(b, o, 1);
	json_decref(o);
	/* The alert itself, as the outbox keeps it: JSON already. */
	zenc_buf_puts(b, ",\"alert\":");
	zenc_buf_puts(b, r->alert_json ? r->alert_json : "null");
	zenc_buf_putc(b, '}');
}

static int alerts_list(int argc, char **argv)
{
	static const char *const statuses[] = {
		"pending", "delivered", "failed", "suppressed", NULL};
	zenc_alert_list list = {NULL, 0, NULL};
	const char *status = NULL, *limit_s = NULL, *stack = NULL;
	zenc_buf b = ZENC_BUF_INIT;
	zenc_store *st = NULL;
	bool json = false;
	size_t i, limit = 0;
	int rc, k, ok;
	char *end;

	for (k = 1; k < argc; k++) {
		if (cli_is_help(argv[k])) {
			fputs(usage_alerts, stdout);
			return ZENC_EXIT_OK;
		}
		if (!strcmp(argv[k], "--json")) {
			json = true;
		} else if (
			(ok = zenc__opt_value(
				 argc, argv, &k, "--status", &status)) ||
			(ok = zenc__opt_value(
				 argc, argv, &k, "--limit", &limit_s)) ||
			(ok = zenc__opt_value(
				 argc, argv, &k, "--stack", &stack))) {
			if (ok < 0) {
				cli_error("option '%s' needs a value", argv[k]);
				fputs(usage_alerts, stderr);
				return ZENC_EXIT_USAGE;
			}
		} else {
			cli_error("unexpected argument '%s'", argv[k]);
			fputs(usage_alerts, stderr);
			return ZENC_EXIT_USAGE;
		}
	}
	if (status) {
		for (i = 0; statuses[i] && strcmp(statuses[i], status); i++)
			;
		if (!statuses[i]) {
			cli_error(
				"unknown status '%s' (known: pending, "
				"delivered, failed, suppressed)",
				status);
			return ZENC_EXIT_USAGE;
		}
	}
	if (limit_s) {
		unsigned long v = strtoul(limit_s, &end, 10);

		if (!*limit_s || *end || *limit_s == '-') {
			cli_error("invalid --limit '%s'", limit_s);
			return ZENC_EXIT_USAGE;
		}
		limit = v;
	}
	if ((rc = open_store(&st, stack, 0)) != 0)
		return rc;
	if (zenc_store_alerts_list(st, status, limit, &list) < 0) {
		cli_error("%s", zenc_error_last());
		rc = ZENC_EXIT_ENV;
		goto done;
	}
	if (json) {
		zenc_buf_putc(&b, '[');
		for (i = 0; i < list.n; i++) {
			if (i)
				zenc_buf_putc(&b, ',');
			alert_json(&b, &list.alerts[i]);
		}
		zenc_buf_puts(&b, "]\n");
		fputs(zenc_buf_cstr(&b), stdout);
		goto done;
	}
	if (!list.n) {
		printf("no alerts%s%s\n", status ? " with status " : "",
		       status ? status : "");
		goto done;
	}
	printf("%-8s  %-20s  %-10s  %-8s  %-12s  %s\n", "ID", "CREATED",
	       "STATUS", "ATTEMPTS", "ALERTER", "TITLE");
	for (i = 0; i < list.n; i++) {
		const zenc_alert_record *r = &list.alerts[i];

		zenc_buf_clear(&b);
		zenc__time_iso(&b, r->created);
		if (b.len > 19)
			b.ptr[19] = '\0';
		printf("%-8.8s  %-20s  %-10s  %-8d  %-12s  %s\n", r->id, b.ptr,
		       r->status, r->attempts, r->alerter ? r->alerter : "-",
		       r->title ? r->title : "");
		if (r->last_error && strcmp(r->status, "delivered"))
			printf("%-8s  last error: %s\n", "", r->last_error);
	}
done:
	zenc_alert_list_free(&list);
	zenc_store_free(st);
	zenc_buf_release(&b);
	return rc;
}

static int alerts_flush(int argc, char **argv)
{
	const char *stack = NULL;
	zenc_store *st = NULL;
	size_t delivered, pending, failed;
	int rc, k, ok;

	for (k = 1; k < argc; k++) {
		if (cli_is_help(argv[k])) {
			fputs(usage_alerts, stdout);
			return ZENC_EXIT_OK;
		}
		if ((ok = zenc__opt_value(argc, argv, &k, "--stack", &stack))) {
			if (ok < 0) {
				cli_error("option '--stack' needs a value");
				return ZENC_EXIT_USAGE;
			}
			continue;
		}
		cli_error("unexpected argument '%s'", argv[k]);
		fputs(usage_alerts, stderr);
		return ZENC_EXIT_USAGE;
	}
	if ((rc = open_store(&st, stack, 1)) != 0)
		return rc;
	if (zenc_store_alerts_flush(st, &delivered, &pending, &failed) < 0) {
		cli_error("%s", zenc_error_last());
		rc = ZENC_EXIT_ENV;
		goto done;
	}
	printf("%zu delivered, %zu still pending, %zu failed\n", delivered,
	       pending, failed);
	rc = pending || failed ? ZENC_EXIT_ENV : ZENC_EXIT_OK;
	zenc_store_deliver_pending(st);
done:
	zenc_store_free(st);
	return rc;
}

int cmd_alerts(int argc, char **argv)
{
	zenc_log_set(ZENC_LOG_INFO, printer, NULL);
	if (argc < 2) {
		fputs(usage_alerts, stderr);
		return ZENC_EXIT_USAGE;
	}
	if (cli_is_help(argv[1])) {
		fputs(usage_alerts, stdout);
		return ZENC_EXIT_OK;
	}
	if (!strcmp(argv[1], "list"))
		return alerts_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "flush"))
		return alerts_flush(argc - 1, argv + 1);
	{
		static const char *const names[] = {"list", "flush", NULL};

		if (!cli_unknown_command("zenc alerts", argv[1], names))
			fputs(usage_alerts, stderr);
	}
	return ZENC_EXIT_USAGE;
}

/*
 * zenc alerter test NAME: one alert through the component, recorded in
 * the active stack's outbox like any other (a test that fails is
 * "failed", never left pending).
 */
int cmd_alerter_test(const char *kind, int argc, char **argv)
{
	static const char usage[] =
		"usage: zenc alerter test NAME\n"
		"\n"
		"Sends one test alert through alerter NAME and says what "
		"happened:\nexit 0 when it was delivered, 3 when it was "
		"not.\n";
	zenc_alert al = ZENC_ALERT_INIT;
	zenc_alerter *a = NULL;
	zenc_store *st = NULL;
	zenc_buf title = ZENC_BUF_INIT, msg = ZENC_BUF_INIT;
	const char *name = NULL;
	int rc, k;

	(void)kind;
	zenc_log_set(ZENC_LOG_INFO, printer, NULL);
	for (k = 1; k < argc; k++) {
		if (cli_is_help(argv[k])) {
			fputs(usage, stdout);
			return ZENC_EXIT_OK;
		}
		if (argv[k][0] == '-' || name) {
			cli_error("unexpected argument '%s'", argv[k]);
			fputs(usage, stderr);
			return ZENC_EXIT_USAGE;
		}
		name = argv[k];
	}
	if (!name) {
		cli_error("missing alerter name");
		fputs(usage, stderr);
		return ZENC_EXIT_USAGE;
	}
	/* The store is only for the record: opened to check it works. */
	if ((rc = open_store(&st, NULL, 0)) != 0)
		return rc;
	zenc_store_free(st);
	if ((rc = zenc_alerter_open(&a, name)) < 0) {
		cli_error("%s", zenc_error_last());
		rc = zenc_exit_status(rc);
		goto done;
	}
	zenc_buf_printf(&title, "zenc test alert from alerter '%s'", name);
	zenc_buf_printf(
		&msg,
		"This is a test alert, sent by 'zenc alerter test "
		"%s'. If you read it, alerts of stacks that use this "
		"alerter reach you.",
		name);
	al.title = title.ptr;
	al.message = msg.ptr;
	al.event = "test";
	al.status = "test";
	if (zenc_alerter_send_test(a, &al) == 0) {
		printf("test alert delivered through alerter '%s' (flavor "
		       "%s)\n",
		       name, a->flavor);
		rc = ZENC_EXIT_OK;
	} else {
		cli_error(
			"test alert not delivered through alerter '%s': %s",
			name, zenc_error_last());
		rc = ZENC_EXIT_ENV;
	}
done:
	zenc_alerter_free(a);
	zenc_buf_release(&title);
	zenc_buf_release(&msg);
	return rc;
}
