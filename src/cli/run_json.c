/*
 * The JSON of runs, shared by `zenc runs list|show --json` and the
 * dashboard's /api/runs (cmd_runs.c, cmd_ui.c).
 */
#include <math.h>
#include <stdio.h>

#include "cli.h"
#include "run_json.h"

static void put_number_json(zenc_buf *b, double v)
{
	if (isfinite(v))
		zenc_buf_printf(b, "%.6f", v);
	else
		zenc_buf_puts(b, "null");
}

/* The seconds from `start` to `end`, or null while not both are known. */
static void put_span_json(zenc_buf *b, double start, double end)
{
	if (start == 0 || end == 0)
		zenc_buf_puts(b, "null");
	else
		put_number_json(b, end - start);
}

void cli_run_list_json(zenc_buf *b, const zenc_run_list *l)
{
	size_t i;

	zenc_buf_putc(b, '[');
	for (i = 0; i < l->n; i++) {
		const zenc_run_record *r = &l->runs[i];

		zenc_buf_puts(b, i ? ",\n {\"id\": " : "\n {\"id\": ");
		zenc_json_str(b, r->id);
		zenc_buf_puts(b, ", \"name\": ");
		zenc_json_str(b, r->name);
		zenc_buf_puts(b, ", \"pipeline\": ");
		zenc_json_str(b, r->pipeline);
		zenc_buf_puts(b, ", \"status\": ");
		zenc_json_str(b, r->status);
		zenc_buf_puts(b, ", \"started\": ");
		cli_put_json_time(b, r->started);
		zenc_buf_puts(b, ", \"ended\": ");
		cli_put_json_time(b, r->ended);
		zenc_buf_putc(b, '}');
	}
	zenc_buf_puts(b, l->n ? "\n]\n" : "]\n");
}

static void hook_json(zenc_buf *b, const zenc_hook_record *h)
{
	zenc_buf_puts(b, "{\"event\": ");
	zenc_json_str(b, h->event);
	zenc_buf_puts(b, ", \"hook\": ");
	zenc_json_str(b, h->hook);
	zenc_buf_printf(b, ", \"attempt\": %d, \"status\": ", h->attempt);
	zenc_json_str(b, h->status);
	zenc_buf_puts(b, ", \"error\": ");
	zenc_json_str(b, h->error);
	zenc_buf_puts(b, ", \"started\": ");
	cli_put_json_time(b, h->started);
	zenc_buf_puts(b, ", \"duration\": ");
	put_number_json(b, h->duration);
	zenc_buf_putc(b, '}');
}

static void hooks_json(zenc_buf *b, const zenc_hook_record *h, size_t n)
{
	size_t i;

	zenc_buf_putc(b, '[');
	for (i = 0; i < n; i++) {
		if (i)
			zenc_buf_puts(b, ", ");
		hook_json(b, &h[i]);
	}
	zenc_buf_putc(b, ']');
}

static void step_json(zenc_buf *b, const zenc_step_info *si)
{
	const zenc_step_record *s = &si->rec;
	size_t i;

	zenc_buf_puts(b, "{\"name\": ");
	zenc_json_str(b, s->name);
	zenc_buf_puts(b, ", \"status\": ");
	zenc_json_str(b, s->status);
	zenc_buf_printf(b, ", \"attempts\": %d, \"started\": ", s->attempts);
	cli_put_json_time(b, s->started);
	zenc_buf_puts(b, ", \"ended\": ");
	cli_put_json_time(b, s->ended);
	zenc_buf_puts(b, ", \"duration\": ");
	put_span_json(b, s->started, s->ended);
	zenc_buf_puts(b, ", \"error_type\": ");
	zenc_json_str(b, s->error_type);
	zenc_buf_puts(b, ", \"error_message\": ");
	zenc_json_str(b, s->error_message);
	zenc_buf_printf(
		b, ", \"exit_code\": %d, \"signal\": %d", s->exit_code,
		s->signal);
	/* The engine stores the parameters as a JSON object already. */
	zenc_buf_puts(b, ", \"params\": ");
	zenc_buf_puts(
		b, s->params_json && *s->params_json ? s->params_json : "null");
	zenc_buf_puts(b, ", \"log\": ");
	zenc_json_str(b, s->log_uri);
	/* Also stored as JSON by the engine: the names of upstream steps. */
	zenc_buf_puts(b, ", \"upstream\": ");
	zenc_buf_puts(
		b, s->upstream_json && *s->upstream_json ? s->upstream_json
							 : "[]");

	zenc_buf_puts(b, ",\n   \"outputs\": [");
	for (i = 0; i < si->n_artifacts; i++) {
		const zenc_artifact_record *a = &si->artifacts[i];

		zenc_buf_puts(b, i ? ", {\"name\": " : "{\"name\": ");
		zenc_json_str(b, a->name);
		zenc_buf_puts(b, ", \"type\": ");
		zenc_json_str(b, a->type);
		zenc_buf_puts(b, ", \"uri\": ");
		zenc_json_str(b, a->uri);
		zenc_buf_printf(
			b,
			", \"size\": %lld, \"checksum\": ", (long long)a->size);
		zenc_json_str(b, a->checksum);
		zenc_buf_putc(b, '}');
	}
	zenc_buf_puts(b, "],\n   \"attempt_history\": [");
	for (i = 0; i < si->n_attempts; i++) {
		const zenc_attempt_record *a = &si->attempts[i];

		zenc_buf_printf(
			b, "%s{\"attempt\": %d, \"status\": ", i ? ", " : "",
			a->attempt);
		zenc_json_str(b, a->status);
		zenc_buf_puts(b, ", \"started\": ");
		cli_put_json_time(b, a->started);
		zenc_buf_puts(b, ", \"ended\": ");
		cli_put_json_time(b, a->ended);
		zenc_buf_puts(b, ", \"error_type\": ");
		zenc_json_str(b, a->error_type);
		zenc_buf_puts(b, ", \"error_message\": ");
		zenc_json_str(b, a->error_message);
		zenc_buf_printf(
			b, ", \"exit_code\": %d, \"signal\": %d}", a->exit_code,
			a->signal);
	}
	zenc_buf_puts(b, "],\n   \"hooks\": ");
	hooks_json(b, si->hooks, si->n_hooks);
	zenc_buf_putc(b, '}');
}

void cli_run_json(zenc_buf *b, const zenc_run_info *info)
{
	const zenc_run_record *r = &info->rec;
	size_t i;

	zenc_buf_puts(b, "{\"id\": ");
	zenc_json_str(b, r->id);
	zenc_buf_puts(b, ", \"name\": ");
	zenc_json_str(b, r->name);
	zenc_buf_puts(b, ", \"pipeline\": ");
	zenc_json_str(b, r->pipeline);
	zenc_buf_puts(b, ", \"status\": ");
	zenc_json_str(b, r->status);
	zenc_buf_puts(b, ", \"stack\": ");
	zenc_json_str(b, r->stack);
	zenc_buf_puts(b, ",\n \"started\": ");
	cli_put_json_time(b, r->started);
	zenc_buf_puts(b, ", \"ended\": ");
	cli_put_json_time(b, r->ended);
	zenc_buf_puts(b, ", \"duration\": ");
	put_span_json(b, r->started, r->ended);
	zenc_buf_puts(b, ",\n \"run_hooks\": ");
	hooks_json(b, info->run_hooks, info->n_run_hooks);
	zenc_buf_puts(b, ",\n \"steps\": [");
	for (i = 0; i < info->n_steps; i++) {
		zenc_buf_puts(b, i ? ",\n  " : "\n  ");
		step_json(b, &info->steps[i]);
	}
	zenc_buf_puts(b, info->n_steps ? "\n ]}\n" : "]}\n");
}
