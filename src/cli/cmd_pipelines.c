/*
 * zenc pipelines list: the pipelines that have runs in the store, with how
 * many runs each has and how the last one went.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util/util.h"

static const char usage[] =
	"usage: zenc pipelines list [--json] [--stack NAME]\n"
	"\n"
	"Lists the pipelines that have recorded runs, newest activity first:\n"
	"the number of runs, how many failed, and the last run's name, status\n"
	"and start time.  --json prints an array of {\"pipeline\", \"runs\",\n"
	"\"failed\", \"last_run\", \"last_status\", \"last_started\"}.\n";

struct pipeline_row {
	const char *name;
	size_t runs, failed;
	const zenc_run_record *last; /* the newest run */
};

static void row_json(zenc_buf *b, const struct pipeline_row *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "pipeline", cli_json_str(r->name));
	json_object_set_new(o, "runs", json_integer((json_int_t)r->runs));
	json_object_set_new(o, "failed", json_integer((json_int_t)r->failed));
	json_object_set_new(o, "last_run", cli_json_str(r->last->name));
	json_object_set_new(o, "last_status", cli_json_str(r->last->status));
	json_object_set_new(o, "last_started", cli_json_time(r->last->started));
	cli_json_put(b, o, 0);
	json_decref(o);
}

static int pipelines_list(int argc, char **argv)
{
	zenc_run_filter filter = {NULL, NULL, 0, 0};
	zenc_run_list list = {NULL, 0, NULL};
	struct pipeline_row *rows = NULL;
	const char *stack = NULL, *v;
	zenc_store *store = NULL;
	zenc_buf out = ZENC_BUF_INIT;
	size_t n_rows = 0, cap = 0, i, j;
	int json = 0, rc, k;

	for (k = 1; k < argc; k++) {
		if (cli_is_help(argv[k])) {
			fputs(usage, stdout);
			return ZENC_EXIT_OK;
		} else if (!strcmp(argv[k], "--json")) {
			json = 1;
		} else if ((rc = zenc__opt_value(
				    argc, argv, &k, "--stack", &v))) {
			if (rc < 0)
				return cli_usage_error(
					usage, "'--stack' needs a value");
			stack = v;
		} else {
			return cli_usage_error(
				usage, "unknown argument '%s'", argv[k]);
		}
	}
	if ((rc = cli_open_store(&store, stack)) != 0)
		return rc;
	if (zenc_store_runs_list(store, &filter, &list) < 0) {
		cli_error("%s", zenc_error_last());
		rc = ZENC_EXIT_ENV;
		goto done;
	}
	/* Runs come newest first, so a pipeline's first run seen is its
	 * last, and the rows come out newest activity first. */
	for (i = 0; i < list.n; i++) {
		const zenc_run_record *r = &list.runs[i];
		for (j = 0; j < n_rows; j++)
			if (!strcmp(rows[j].name, r->pipeline))
				break;
		if (j == n_rows) {
			zenc__array_grow(
				(void **)&rows, &cap, n_rows + 1,
				sizeof(*rows));
			rows[n_rows].name = r->pipeline;
			rows[n_rows].runs = rows[n_rows].failed = 0;
			rows[n_rows].last = r;
			n_rows++;
		}
		rows[j].runs++;
		if (r->status && !strcmp(r->status, "failed"))
			rows[j].failed++;
	}
	if (json) {
		zenc_buf_putc(&out, '[');
		for (j = 0; j < n_rows; j++) {
			zenc_buf_puts(&out, j ? ",\n " : "\n ");
			row_json(&out, &rows[j]);
		}
		zenc_buf_puts(&out, n_rows ? "\n]\n" : "]\n");
	} else if (n_rows == 0) {
		zenc_buf_puts(&out, "No pipelines.\n");
	} else {
		zenc_buf_printf(
			&out, "%-24s %6s %7s  %-10s %s\n", "PIPELINE", "RUNS",
			"FAILED", "LAST", "LAST STARTED");
		for (j = 0; j < n_rows; j++) {
			zenc_buf_printf(
				&out, "%-24s %6zu %7zu  %-10s ", rows[j].name,
				rows[j].runs, rows[j].failed,
				rows[j].last->status);
			cli_put_local_time(&out, rows[j].last->started);
			zenc_buf_putc(&out, '\n');
		}
	}
	fwrite(out.ptr, 1, out.len, stdout);
	rc = fflush(stdout) ? ZENC_EXIT_ENV : ZENC_EXIT_OK;
done:
	free(rows);
	zenc_buf_release(&out);
	zenc_run_list_free(&list);
	zenc_store_free(store);
	return rc;
}

int cmd_pipelines(int argc, char **argv)
{
	if (argc < 2 || cli_is_help(argv[1])) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? ZENC_EXIT_USAGE : ZENC_EXIT_OK;
	}
	if (!strcmp(argv[1], "list") || !strcmp(argv[1], "ls"))
		return pipelines_list(argc - 1, argv + 1);
	{
		static const char *const names[] = {"list", "ls", NULL};

		if (!cli_unknown_command("zenc pipelines", argv[1], names))
			fputs(usage, stderr);
	}
	return ZENC_EXIT_USAGE;
}
