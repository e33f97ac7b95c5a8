/* zenc runs list|show|delete: what the metadata store recorded. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "run_json.h"

static const char usage_runs[] =
	"usage: zenc runs list [--json] [--pipeline NAME] [--status STATUS]"
	" [--limit N]\n"
	"                      [--stack NAME]\n"
	"   or: zenc runs show RUN [--json] [--stack NAME]\n"
	"   or: zenc runs delete RUN [--stack NAME]\n"
	"   or: zenc runs report RUN [-o FILE] [--stack NAME]\n"
	"   or: zenc runs dag RUN [--format dot|svg] [--stack NAME]\n"
	"   or: zenc runs cancel RUN [--stack NAME]\n"
	"   or: zenc runs hooks RUN [--type EVENT] [--json] [--stack NAME]\n"
	"   or: zenc runs logs RUN [STEP] [--attempt N] [--follow]"
	" [--stack NAME]\n"
	"   or: zenc runs prune [--older-than AGE] [--keep N] [--dry-run]\n"
	"                       [--stack NAME]\n"
	"\n"
	"RUN is a run id, a run name, or a unique prefix of a run id\n"
	"(4 characters or more).\n";

static const char usage_list[] =
	"usage: zenc runs list [--json] [--pipeline NAME] [--status STATUS]"
	" [--limit N]\n"
	"                      [--stack NAME]\n"
	"\n"
	"Lists recorded runs, newest first.\n"
	"\n"
	"    --json             print a JSON array\n"
	"    --pipeline NAME    only runs of pipeline NAME\n"
	"    --status STATUS    only runs that are running, completed,"
	" failed or\n"
	"                       cancelled\n"
	"    --limit N          at most N runs\n"
	"    --stack NAME       read the metadata store of stack NAME"
	" (default: the\n"
	"                       active stack)\n";

static const char usage_show[] =
	"usage: zenc runs show RUN [--json] [--stack NAME]\n"
	"\n"
	"Shows a run: its steps, attempts, outputs and hook runs.  RUN is a\n"
	"run id, a run name, or a unique prefix of a run id.\n"
	"\n"
	"    --json             print a JSON object\n"
	"    --stack NAME       read the metadata store of stack NAME"
	" (default: the\n"
	"                       active stack)\n";

static const char usage_delete[] =
	"usage: zenc runs delete RUN [--stack NAME]\n"
	"\n"
	"Deletes a run's records from the metadata store, and its files from\n"
	"the artifact store: its outputs and the logs of its steps.  An "
	"output\n"
	"that another run points to (a step it took from the cache) stays.  A\n"
	"running run is refused: cancel it first.  RUN is a run id, a run\n"
	"name, or a unique prefix of a run id.\n"
	"\n"
	"    --stack NAME       use the metadata store of stack NAME"
	" (default: the\n"
	"                       active stack)\n";

/* Prints a store error and returns its exit code. */
static int store_exit(int rc)
{
	cli_error("%s", zenc_error_last());
	return zenc_exit_status(rc);
}

/* Output helpers. */

/* `text` with every line after the first indented by `indent` spaces. */
static void put_indented(zenc_buf *b, const char *text, int indent)
{
	const char *nl;

	for (; (nl = strchr(text, '\n')); text = nl + 1) {
		zenc_buf_put(b, text, (size_t)(nl - text) + 1);
		zenc_buf_printf(b, "%*s", indent, "");
	}
	zenc_buf_puts(b, text);
}

static int write_out(zenc_buf *b)
{
	if (fwrite(b->ptr ? b->ptr : "", 1, b->len, stdout) != b->len ||
	    fflush(stdout) == EOF) {
		cli_error("cannot write the output: %s", strerror(errno));
		return ZENC_EXIT_ENV;
	}
	return ZENC_EXIT_OK;
}

/* zenc runs list */

/* Times and durations are formatted into fixed cells up front, so that
 * listing many runs costs no allocation per run. */
struct list_cells {
	char started[24];
	char duration[24];
};

static void list_text(zenc_buf *b, const zenc_run_list *l)
{
	size_t w_name = 4, w_pipeline = 8, w_status = 6, w_started = 7, i;
	struct list_cells *cells;
	zenc_buf tmp = ZENC_BUF_INIT;

	if (!l->n) {
		zenc_buf_puts(b, "No runs.\n");
		return;
	}
	cells = zenc__calloc(l->n, sizeof(*cells));
	for (i = 0; i < l->n; i++) {
		const zenc_run_record *r = &l->runs[i];

		zenc_buf_clear(&tmp);
		cli_put_local_time(&tmp, r->started);
		snprintf(
			cells[i].started, sizeof(cells[i].started), "%s",
			zenc_buf_cstr(&tmp));
		zenc_buf_clear(&tmp);
		cli_put_span(&tmp, r->started, r->ended);
		snprintf(
			cells[i].duration, sizeof(cells[i].duration), "%s",
			zenc_buf_cstr(&tmp));
		if (r->name && strlen(r->name) > w_name)
			w_name = strlen(r->name);
		if (r->pipeline && strlen(r->pipeline) > w_pipeline)
			w_pipeline = strlen(r->pipeline);
		if (r->status && strlen(r->status) > w_status)
			w_status = strlen(r->status);
		if (strlen(cells[i].started) > w_started)
			w_started = strlen(cells[i].started);
	}
	cli_put_cell(b, "NAME", w_name, 0);
	cli_put_cell(b, "PIPELINE", w_pipeline, 0);
	cli_put_cell(b, "STATUS", w_status, 0);
	cli_put_cell(b, "STARTED", w_started, 0);
	cli_put_cell(b, "DURATION", 0, 1);
	zenc_buf_putc(b, '\n');
	for (i = 0; i < l->n; i++) {
		const zenc_run_record *r = &l->runs[i];

		cli_put_cell(b, r->name ? r->name : "-", w_name, 0);
		cli_put_cell(b, r->pipeline ? r->pipeline : "-", w_pipeline, 0);
		cli_put_cell(b, r->status ? r->status : "-", w_status, 0);
		cli_put_cell(b, cells[i].started, w_started, 0);
		cli_put_cell(b, cells[i].duration, 0, 1);
		zenc_buf_putc(b, '\n');
	}
	zenc_buf_release(&tmp);
	free(cells);
}

static int runs_list(int argc, char **argv)
{
	static const char *const statuses[] = {
		"running", "completed", "failed", "cancelled"};
	zenc_run_filter filter = {0};
	zenc_run_list list = {0};
	zenc_store *store = NULL;
	zenc_buf out = ZENC_BUF_INIT;
	const char *limit = NULL, *stack = NULL;
	int json = 0, i, m, rc;
	size_t k;

	for (i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			fputs(usage_list, stdout);
			return ZENC_EXIT_OK;
		}
	}
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--json")) {
			json = 1;
			continue;
		}
		if ((m = zenc__opt_value(
			     argc, argv, &i, "--pipeline", &filter.pipeline)) ||
		    (m = zenc__opt_value(
			     argc, argv, &i, "--status", &filter.status)) ||
		    (m = zenc__opt_value(argc, argv, &i, "--limit", &limit)) ||
		    (m = zenc__opt_value(argc, argv, &i, "--stack", &stack))) {
			if (m < 0)
				return cli_usage_error(
					usage_list, "option '%s' needs a value",
					a);
			continue;
		}
		if (a[0] == '-')
			return cli_usage_error(
				usage_list,
				"unknown option '%s' for 'runs list'", a);
		return cli_usage_error(
			usage_list, "unexpected argument '%s' for 'runs list'",
			a);
	}
	if (filter.status) {
		for (k = 0; k < sizeof(statuses) / sizeof(statuses[0]); k++)
			if (!strcmp(filter.status, statuses[k]))
				break;
		if (k == sizeof(statuses) / sizeof(statuses[0])) {
			cli_error(
				"unknown status '%s' (known: running, "
				"completed, failed, cancelled)",
				filter.status);
			return ZENC_EXIT_USAGE;
		}
	}
	if (limit) {
		char *end;
		unsigned long long v;

		errno = 0;
		v = strtoull(limit, &end, 10);
		if (!*limit || *end || errno || v == 0 || limit[0] == '-' ||
		    v > SIZE_MAX) {
			cli_error(
				"invalid limit '%s' (a positive integer)",
				limit);
			return ZENC_EXIT_USAGE;
		}
		filter.limit = (size_t)v;
	}

	if ((rc = cli_open_store(&store, stack)) != 0)
		return rc;
	if ((rc = zenc_store_runs_list(store, &filter, &list)) < 0) {
		rc = store_exit(rc);
		goto done;
	}
	if (json)
		cli_run_list_json(&out, &list);
	else
		list_text(&out, &list);
	rc = write_out(&out);
done:
	zenc_buf_release(&out);
	zenc_run_list_free(&list);
	zenc_store_free(store);
	return rc;
}

/* zenc runs show */

/* "ValueError: My exception", and how the process ended, if it did. */
static void put_error(
	zenc_buf *b,
	const char *type,
	const char *message,
	int exit_code,
	int sig,
	int indent)
{
	if (type || message) {
		zenc_buf_puts(b, type ? type : "Error");
		if (message && *message) {
			zenc_buf_puts(b, ": ");
			put_indented(b, message, indent);
		}
	}
	if (exit_code)
		zenc_buf_printf(
			b, "%sexit code %d", type || message ? " (" : "",
			exit_code);
	else if (sig)
		zenc_buf_printf(
			b, "%ssignal %d", type || message ? " (" : "", sig);
	if ((exit_code || sig) && (type || message))
		zenc_buf_putc(b, ')');
}

/* `attempt`: say which attempt the hook ran after (the step had several). */
static void hook_text(
	zenc_buf *b, const zenc_hook_record *h, int indent, int attempt)
{
	zenc_buf_printf(
		b, "%*s%s %s: %s (", indent, "", h->event ? h->event : "-",
		h->hook ? h->hook : "-", h->status ? h->status : "-");
	cli_put_duration(b, h->duration);
	if (attempt && h->attempt > 0)
		zenc_buf_printf(b, ", attempt %d", h->attempt);
	zenc_buf_putc(b, ')');
	if (h->error && *h->error) {
		zenc_buf_puts(b, ": ");
		put_indented(b, h->error, indent + 2);
	}
	zenc_buf_putc(b, '\n');
}

static void step_text(
	zenc_buf *b, const zenc_step_info *si, const zenc_run_record *run)
{
	const zenc_step_record *s = &si->rec;
	size_t i;

	zenc_buf_printf(b, "  %s: %s", s->name, s->status ? s->status : "-");
	/* Not executed: its outputs are those of the run that executed it
	 * (reused by --resume, in a run that resumed another). */
	if (s->cached_from)
		zenc_buf_printf(
			b, "%s from run %s",
			run->resumed_from ? " (reused)" : "", s->cached_from);
	if (s->attempts > 0)
		zenc_buf_printf(
			b, ", %d attempt%s", s->attempts,
			s->attempts == 1 ? "" : "s");
	if (s->started && s->ended && !s->cached_from) {
		zenc_buf_puts(b, ", ");
		cli_put_span(b, s->started, s->ended);
	}
	zenc_buf_putc(b, '\n');
	if (s->error_type || s->error_message || s->exit_code || s->signal) {
		zenc_buf_puts(b, "    ");
		put_error(
			b, s->error_type, s->error_message, s->exit_code,
			s->signal, 4);
		zenc_buf_putc(b, '\n');
	}
	if (s->log_uri && *s->log_uri)
		zenc_buf_printf(b, "    log: %s\n", s->log_uri);
	/* The earlier attempts, when there were retries. */
	for (i = 0; si->n_attempts > 1 && i + 1 < si->n_attempts; i++) {
		const zenc_attempt_record *a = &si->attempts[i];

		zenc_buf_printf(
			b, "    attempt %d: %s", a->attempt,
			a->status ? a->status : "-");
		if (a->error_type || a->error_message || a->exit_code ||
		    a->signal) {
			zenc_buf_puts(b, ": ");
			put_error(
				b, a->error_type, a->error_message,
				a->exit_code, a->signal, 6);
		}
		zenc_buf_putc(b, '\n');
		if (a->log_uri && *a->log_uri)
			zenc_buf_printf(b, "      log: %s\n", a->log_uri);
	}
	for (i = 0; i < si->n_artifacts; i++) {
		const zenc_artifact_record *a = &si->artifacts[i];

		zenc_buf_printf(
			b, "    output %s: %s, %lld bytes\n", a->name,
			a->type ? a->type : "-", (long long)a->size);
	}
	for (i = 0; i < si->n_hooks; i++)
		hook_text(b, &si->hooks[i], 4, s->attempts > 1);
}

static void show_text(zenc_buf *b, const zenc_run_info *info)
{
	const zenc_run_record *r = &info->rec;
	size_t i;

	zenc_buf_printf(b, "Run %s: %s\n", r->name, r->status);
	zenc_buf_printf(b, "  id:       %s\n", r->id);
	zenc_buf_printf(b, "  pipeline: %s\n", r->pipeline);
	zenc_buf_printf(b, "  stack:    %s\n", r->stack ? r->stack : "-");
	if (r->resumed_from)
		zenc_buf_printf(b, "  resumed:  %s\n", r->resumed_from);
	zenc_buf_puts(b, "  started:  ");
	cli_put_local_time(b, r->started);
	zenc_buf_puts(b, "\n  ended:    ");
	cli_put_local_time(b, r->ended);
	zenc_buf_puts(b, "\n  duration: ");
	cli_put_span(b, r->started, r->ended);
	zenc_buf_putc(b, '\n');
	if (info->n_steps) {
		zenc_buf_puts(b, "Steps:\n");
		for (i = 0; i < info->n_steps; i++)
			step_text(b, &info->steps[i], r);
	}
	if (info->n_run_hooks) {
		zenc_buf_puts(b, "Run hooks:\n");
		for (i = 0; i < info->n_run_hooks; i++)
			hook_text(b, &info->run_hooks[i], 2, 0);
	}
}

/*
 * The RUN argument of show and delete, --stack NAME, and --json when `json`
 * is not NULL.  An exit code when the command is done (help, or a usage
 * error), else -1.
 */
static int parse_run_arg(
	int argc,
	char **argv,
	const char *usage,
	const char *verb,
	int *json,
	const char **stack,
	const char **run)
{
	int i, m = 0, dashdash = 0;

	*run = NULL;
	*stack = NULL;
	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (cli_is_help(argv[i])) {
			fputs(usage, stdout);
			return ZENC_EXIT_OK;
		}
	}
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!dashdash && !strcmp(a, "--"))
			dashdash = 1;
		else if (!dashdash && json && !strcmp(a, "--json"))
			*json = 1;
		else if (
			!dashdash &&
			(m = zenc__opt_value(
				 argc, argv, &i, "--stack", stack)) < 0)
			return cli_usage_error(
				usage, "option '%s' needs a value", a);
		else if (!dashdash && m)
			continue;
		else if (!dashdash && a[0] == '-' && a[1])
			return cli_usage_error(
				usage, "unknown option '%s' for 'runs %s'", a,
				verb);
		else if (*run)
			return cli_usage_error(
				usage,
				"unexpected argument '%s' for "
				"'runs %s'",
				a, verb);
		else
			*run = a;
	}
	if (!*run)
		return cli_usage_error(
			usage, "'runs %s' needs a run id or name", verb);
	return -1;
}

static int runs_show(int argc, char **argv)
{
	zenc_run_info info = {0};
	zenc_store *store = NULL;
	zenc_buf out = ZENC_BUF_INIT;
	const char *run, *stack;
	int json = 0, rc;

	rc = parse_run_arg(argc, argv, usage_show, "show", &json, &stack, &run);
	if (rc >= 0)
		return rc;
	if ((rc = cli_open_store(&store, stack)) != 0)
		return rc;
	if ((rc = zenc_store_run_show(store, run, &info)) < 0) {
		rc = store_exit(rc);
		goto done;
	}
	if (json)
		cli_run_json(&out, &info);
	else
		show_text(&out, &info);
	rc = write_out(&out);
done:
	zenc_buf_release(&out);
	zenc_run_info_free(&info);
	zenc_store_free(store);
	return rc;
}

static int runs_delete(int argc, char **argv)
{
	zenc_run_info info = {0};
	zenc_purge_info how;
	zenc_store *store = NULL;
	zenc_buf b = ZENC_BUF_INIT;
	const char *run, *stack;
	int rc;

	rc = parse_run_arg(
		argc, argv, usage_delete, "delete", NULL, &stack, &run);
	if (rc >= 0)
		return rc;
	if ((rc = cli_open_store(&store, stack)) != 0)
		return rc;
	cli_show_warnings();
	/* Resolved first, so that the message names the run deleted, and
	 * then deleted by its id. */
	if ((rc = zenc_store_run_show(store, run, &info)) < 0 ||
	    (rc = zenc_store_run_purge(store, info.rec.id, 0, &how)) < 0) {
		rc = store_exit(rc);
		goto done;
	}
	cli_put_bytes(&b, how.bytes);
	printf("Deleted run '%s' (%s); freed %s (%zu file%s)", info.rec.name,
	       info.rec.id, zenc_buf_cstr(&b), how.files,
	       how.files == 1 ? "" : "s");
	if (how.kept)
		printf("; kept %zu output%s that other runs reuse", how.kept,
		       how.kept == 1 ? "" : "s");
	printf(".\n");
	rc = ZENC_EXIT_OK;
done:
	zenc_buf_release(&b);
	zenc_run_info_free(&info);
	zenc_store_free(store);
	return rc;
}

int cmd_runs(int argc, char **argv)
{
	const char *sub;

	if (argc < 2) {
		fputs(usage_runs, stderr);
		return ZENC_EXIT_USAGE;
	}
	sub = argv[1];
	if (cli_is_help(sub)) {
		fputs(usage_runs, stdout);
		return ZENC_EXIT_OK;
	}
	if (!strcmp(sub, "list") || !strcmp(sub, "ls"))
		return runs_list(argc - 1, argv + 1);
	if (!strcmp(sub, "show") || !strcmp(sub, "describe"))
		return runs_show(argc - 1, argv + 1);
	if (!strcmp(sub, "delete"))
		return runs_delete(argc - 1, argv + 1);
	if (!strcmp(sub, "report"))
		return cmd_runs_report(argc - 1, argv + 1);
	if (!strcmp(sub, "dag"))
		return cmd_runs_dag(argc - 1, argv + 1);
	if (!strcmp(sub, "cancel"))
		return cmd_runs_cancel(argc - 1, argv + 1);
	if (!strcmp(sub, "hooks"))
		return cmd_runs_hooks(argc - 1, argv + 1);
	if (!strcmp(sub, "logs"))
		return cmd_runs_logs(argc - 1, argv + 1);
	if (!strcmp(sub, "prune"))
		return cmd_runs_prune(argc - 1, argv + 1);
	{
		static const char *const names[] = {
			"list",   "ls",     "show",  "describe",
			"delete", "report", "dag",   "cancel",
			"hooks",  "logs",   "prune", NULL};

		if (!cli_unknown_command("zenc runs", sub, names))
			fputs(usage_runs, stderr);
	}
	return ZENC_EXIT_USAGE;
}
