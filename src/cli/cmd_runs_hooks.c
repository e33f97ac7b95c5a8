/*
 * zenc runs hooks RUN [--type EVENT] [--json]: every hook run of a run,
 * step hooks and run-level ones (on_run_start, on_run_end, on_init,
 * on_cleanup, on_run_success, on_run_failure) together, in the order
 * they ran.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage_hooks[] =
	"usage: zenc runs hooks RUN [--type EVENT] [--json] [--stack NAME]\n"
	"\n"
	"Lists every hook run of a run, step hooks and run-level hooks\n"
	"together, in the order they ran: event, hook, step (\"-\" for the\n"
	"run's own hooks), attempt, status, duration and error.  RUN is a\n"
	"run id, a run name, or a unique prefix of a run id.\n"
	"\n"
	"    --type EVENT       only hooks of EVENT: on_start, on_success,\n"
	"                       on_retry, on_failure, on_end, on_run_start,\n"
	"                       on_run_end, on_run_success, on_run_failure,\n"
	"                       on_init or on_cleanup\n"
	"    --json             print a JSON array\n"
	"    --stack NAME       read the metadata store of stack NAME"
	" (default: the\n"
	"                       active stack)\n";

static const char *const events[] = {
	"on_start",       "on_success",   "on_retry",   "on_failure",
	"on_end",         "on_run_start", "on_run_end", "on_run_success",
	"on_run_failure", "on_init",      "on_cleanup", NULL};

static int known_event(const char *e)
{
	size_t i;

	for (i = 0; events[i]; i++)
		if (!strcmp(events[i], e))
			return 1;
	return 0;
}

/* One hook run and the step it belongs to (NULL: the run's). */
struct row {
	const zenc_hook_record *h;
	const char *step;
};

static int by_time(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;

	if (a->h->started != b->h->started)
		return a->h->started < b->h->started ? -1 : 1;
	if (a->h->seq != b->h->seq)
		return a->h->seq < b->h->seq ? -1 : 1;
	return 0;
}

static struct row *collect(
	const zenc_run_info *info, const char *type, size_t *n_out)
{
	size_t n = info->n_run_hooks, i, j, k = 0;
	struct row *rows;

	for (i = 0; i < info->n_steps; i++)
		n += info->steps[i].n_hooks;
	rows = calloc(n + 1, sizeof(*rows));
	if (!rows)
		abort();
	for (i = 0; i < info->n_steps; i++)
		for (j = 0; j < info->steps[i].n_hooks; j++) {
			rows[k].h = &info->steps[i].hooks[j];
			rows[k++].step = info->steps[i].rec.name;
		}
	for (i = 0; i < info->n_run_hooks; i++) {
		rows[k].h = &info->run_hooks[i];
		rows[k++].step = NULL;
	}
	/* Stable enough: equal times are ordered by their numbers. */
	qsort(rows, k, sizeof(*rows), by_time);
	for (i = j = 0; i < k; i++)
		if (!type ||
		    (rows[i].h->event && !strcmp(rows[i].h->event, type)))
			rows[j++] = rows[i];
	*n_out = j;
	return rows;
}

static void put_json(zenc_buf *b, const struct row *rows, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++) {
		const zenc_hook_record *h = rows[i].h;
		json_t *o = json_object();

		json_object_set_new(o, "step", cli_json_str(rows[i].step));
		json_object_set_new(o, "event", cli_json_str(h->event));
		json_object_set_new(o, "hook", cli_json_str(h->hook));
		json_object_set_new(o, "attempt", json_integer(h->attempt));
		json_object_set_new(o, "status", cli_json_str(h->status));
		json_object_set_new(o, "error", cli_json_str(h->error));
		json_object_set_new(o, "started", cli_json_time(h->started));
		json_object_set_new(
			o, "duration", cli_json_seconds(h->duration));
		json_array_append_new(a, o);
	}
	cli_json_put(b, a, 0);
	zenc_buf_putc(b, '\n');
	json_decref(a);
}

static size_t widest(size_t w, const char *s)
{
	size_t n = strlen(s ? s : "-");
	return n > w ? n : w;
}

static void put_text(zenc_buf *b, const struct row *rows, size_t n)
{
	size_t w_ev = 5, w_hook = 4, w_step = 4, w_st = 6, i;
	zenc_buf tmp = ZENC_BUF_INIT;
	char num[32];

	if (!n) {
		zenc_buf_puts(b, "No hook runs.\n");
		return;
	}
	for (i = 0; i < n; i++) {
		w_ev = widest(w_ev, rows[i].h->event);
		w_hook = widest(w_hook, rows[i].h->hook);
		w_step = widest(w_step, rows[i].step);
		w_st = widest(w_st, rows[i].h->status);
	}
	cli_put_cell(b, "EVENT", w_ev, 0);
	cli_put_cell(b, "HOOK", w_hook, 0);
	cli_put_cell(b, "STEP", w_step, 0);
	cli_put_cell(b, "ATTEMPT", 7, 0);
	cli_put_cell(b, "STATUS", w_st, 0);
	cli_put_cell(b, "DURATION", 8, 0);
	cli_put_cell(b, "ERROR", 0, 1);
	zenc_buf_putc(b, '\n');
	for (i = 0; i < n; i++) {
		const zenc_hook_record *h = rows[i].h;
		cli_put_cell(b, h->event ? h->event : "-", w_ev, 0);
		cli_put_cell(b, h->hook ? h->hook : "-", w_hook, 0);
		cli_put_cell(b, rows[i].step ? rows[i].step : "-", w_step, 0);
		if (h->attempt > 0)
			snprintf(num, sizeof(num), "%d", h->attempt);
		else
			snprintf(num, sizeof(num), "-");
		cli_put_cell(b, num, 7, 0);
		cli_put_cell(b, h->status ? h->status : "-", w_st, 0);
		zenc_buf_clear(&tmp);
		cli_put_duration(&tmp, h->duration);
		cli_put_cell(b, zenc_buf_cstr(&tmp), 8, !h->error);
		if (h->error) {
			/* One line per hook run. */
			const char *e;
			for (e = h->error; *e; e++)
				zenc_buf_putc(b, *e == '\n' ? ' ' : *e);
		}
		zenc_buf_putc(b, '\n');
	}
	zenc_buf_release(&tmp);
}

int cmd_runs_hooks(int argc, char **argv)
{
	zenc_run_info info = {0};
	zenc_store *store = NULL;
	zenc_buf out = ZENC_BUF_INIT;
	const char *run = NULL, *stack = NULL, *type = NULL;
	struct row *rows = NULL;
	size_t n = 0;
	int i, m, json = 0, rc;

	for (i = 1; i < argc; i++)
		if (cli_is_help(argv[i])) {
			fputs(usage_hooks, stdout);
			return ZENC_EXIT_OK;
		}
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--json")) {
			json = 1;
		} else if ((m = zenc__opt_value(
				    argc, argv, &i, "--stack", &stack))) {
			if (m < 0)
				return cli_usage_error(
					usage_hooks,
					"option '--stack' needs a value");
		} else if ((m = zenc__opt_value(
				    argc, argv, &i, "--type", &type))) {
			if (m < 0)
				return cli_usage_error(
					usage_hooks,
					"option '--type' needs a value");
			if (!known_event(type))
				return cli_usage_error(
					usage_hooks,
					"unknown hook event '%s' for "
					"'--type'",
					type);
		} else if (a[0] == '-' && a[1]) {
			return cli_usage_error(
				usage_hooks,
				"unknown option '%s' for 'runs hooks'", a);
		} else if (run) {
			return cli_usage_error(
				usage_hooks,
				"unexpected argument '%s' for 'runs hooks'", a);
		} else {
			run = a;
		}
	}
	if (!run)
		return cli_usage_error(
			usage_hooks, "'runs hooks' needs a run id or name");
	if ((rc = cli_open_store(&store, stack)) != 0)
		return rc;
	if ((rc = zenc_store_run_show(store, run, &info)) < 0) {
		cli_error("%s", zenc_error_last());
		rc = zenc_exit_status(rc);
		goto done;
	}
	rows = collect(&info, type, &n);
	if (json)
		put_json(&out, rows, n);
	else
		put_text(&out, rows, n);
	rc = ZENC_EXIT_OK;
	if (fwrite(out.ptr ? out.ptr : "", 1, out.len, stdout) != out.len ||
	    fflush(stdout) == EOF) {
		cli_error("cannot write the output: %s", strerror(errno));
		rc = ZENC_EXIT_ENV;
	}
done:
	free(rows);
	zenc_buf_release(&out);
	zenc_run_info_free(&info);
	zenc_store_free(store);
	return rc;
}
