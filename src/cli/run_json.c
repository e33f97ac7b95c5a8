/*
 * The JSON of runs, shared by `zenc runs list|show --json` and the
 * dashboard's /api/runs (cmd_runs.c, cmd_ui.c).  jansson writes every
 * value; this file only puts the line breaks that keep one run, and one
 * step, to a line.  A step's parameters and upstream names are stored as
 * JSON by the engine and are copied as stored.
 */
#include <stdio.h>

#include "cli.h"
#include "run_json.h"

/* The seconds from `start` to `end`, or null while not both are known. */
static json_t *span_json(double start, double end)
{
	if (start == 0 || end == 0)
		return json_null();
	return cli_json_seconds(end - start);
}

void cli_run_list_json(zenc_buf *b, const zenc_run_list *l)
{
	size_t i;

	zenc_buf_putc(b, '[');
	for (i = 0; i < l->n; i++) {
		const zenc_run_record *r = &l->runs[i];
		json_t *o = json_object();

		json_object_set_new(o, "id", cli_json_str(r->id));
		json_object_set_new(o, "name", cli_json_str(r->name));
		json_object_set_new(o, "pipeline", cli_json_str(r->pipeline));
		json_object_set_new(o, "status", cli_json_str(r->status));
		json_object_set_new(o, "started", cli_json_time(r->started));
		json_object_set_new(o, "ended", cli_json_time(r->ended));
		zenc_buf_puts(b, i ? ",\n " : "\n ");
		cli_json_put(b, o, 0);
		json_decref(o);
	}
	zenc_buf_puts(b, l->n ? "\n]\n" : "]\n");
}

static json_t *hooks_json(const zenc_hook_record *h, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++) {
		json_t *o = json_object();

		json_object_set_new(o, "event", cli_json_str(h[i].event));
		json_object_set_new(o, "hook", cli_json_str(h[i].hook));
		json_object_set_new(o, "attempt", json_integer(h[i].attempt));
		json_object_set_new(o, "status", cli_json_str(h[i].status));
		json_object_set_new(o, "error", cli_json_str(h[i].error));
		json_object_set_new(o, "started", cli_json_time(h[i].started));
		json_object_set_new(
			o, "duration", cli_json_seconds(h[i].duration));
		json_array_append_new(a, o);
	}
	return a;
}

/* Appends `j` after `key` (", \"key\": "), and frees it. */
static void put_key(zenc_buf *b, const char *sep, const char *key, json_t *j)
{
	zenc_buf_printf(b, "%s\"%s\": ", sep, key);
	cli_json_put(b, j, 0);
	json_decref(j);
}

static void step_json(zenc_buf *b, const zenc_step_info *si)
{
	const zenc_step_record *s = &si->rec;
	json_t *o = json_object(), *a;
	size_t i;

	json_object_set_new(o, "name", cli_json_str(s->name));
	json_object_set_new(o, "status", cli_json_str(s->status));
	json_object_set_new(o, "attempts", json_integer(s->attempts));
	json_object_set_new(o, "started", cli_json_time(s->started));
	json_object_set_new(o, "ended", cli_json_time(s->ended));
	json_object_set_new(o, "duration", span_json(s->started, s->ended));
	json_object_set_new(o, "error_type", cli_json_str(s->error_type));
	json_object_set_new(o, "error_message", cli_json_str(s->error_message));
	json_object_set_new(o, "exit_code", json_integer(s->exit_code));
	json_object_set_new(o, "signal", json_integer(s->signal));
	json_object_set_new(o, "cached_from", cli_json_str(s->cached_from));
	zenc_buf_putc(b, '{');
	cli_json_put_members(b, o, 0);
	json_decref(o);
	/* Stored as JSON by the engine: the parameters, an object, and the
	 * names of the upstream steps. */
	zenc_buf_puts(b, ", \"params\": ");
	zenc_buf_puts(
		b, s->params_json && *s->params_json ? s->params_json : "null");
	put_key(b, ", ", "log", cli_json_str(s->log_uri));
	zenc_buf_puts(b, ", \"upstream\": ");
	zenc_buf_puts(
		b, s->upstream_json && *s->upstream_json ? s->upstream_json
							 : "[]");

	a = json_array();
	for (i = 0; i < si->n_artifacts; i++) {
		const zenc_artifact_record *r = &si->artifacts[i];

		o = json_object();
		json_object_set_new(o, "name", cli_json_str(r->name));
		json_object_set_new(o, "type", cli_json_str(r->type));
		json_object_set_new(o, "uri", cli_json_str(r->uri));
		json_object_set_new(o, "size", json_integer(r->size));
		json_object_set_new(o, "checksum", cli_json_str(r->checksum));
		json_array_append_new(a, o);
	}
	put_key(b, ",\n   ", "outputs", a);
	a = json_array();
	for (i = 0; i < si->n_attempts; i++) {
		const zenc_attempt_record *r = &si->attempts[i];

		o = json_object();
		json_object_set_new(o, "attempt", json_integer(r->attempt));
		json_object_set_new(o, "status", cli_json_str(r->status));
		json_object_set_new(o, "started", cli_json_time(r->started));
		json_object_set_new(o, "ended", cli_json_time(r->ended));
		json_object_set_new(
			o, "error_type", cli_json_str(r->error_type));
		json_object_set_new(
			o, "error_message", cli_json_str(r->error_message));
		json_object_set_new(o, "exit_code", json_integer(r->exit_code));
		json_object_set_new(o, "signal", json_integer(r->signal));
		json_object_set_new(o, "log", cli_json_str(r->log_uri));
		json_array_append_new(a, o);
	}
	put_key(b, ",\n   ", "attempt_history", a);
	put_key(b, ",\n   ", "hooks", hooks_json(si->hooks, si->n_hooks));
	zenc_buf_putc(b, '}');
}

void cli_run_json(zenc_buf *b, const zenc_run_info *info)
{
	const zenc_run_record *r = &info->rec;
	json_t *o = json_object();
	size_t i;

	json_object_set_new(o, "id", cli_json_str(r->id));
	json_object_set_new(o, "name", cli_json_str(r->name));
	json_object_set_new(o, "pipeline", cli_json_str(r->pipeline));
	json_object_set_new(o, "status", cli_json_str(r->status));
	json_object_set_new(o, "stack", cli_json_str(r->stack));
	json_object_set_new(o, "resumed_from", cli_json_str(r->resumed_from));
	zenc_buf_putc(b, '{');
	cli_json_put_members(b, o, 0);
	json_decref(o);
	put_key(b, ",\n ", "started", cli_json_time(r->started));
	put_key(b, ", ", "ended", cli_json_time(r->ended));
	put_key(b, ", ", "duration", span_json(r->started, r->ended));
	put_key(b, ",\n ", "run_hooks",
		hooks_json(info->run_hooks, info->n_run_hooks));
	zenc_buf_puts(b, ",\n \"steps\": [");
	for (i = 0; i < info->n_steps; i++) {
		zenc_buf_puts(b, i ? ",\n  " : "\n  ");
		step_json(b, &info->steps[i]);
	}
	zenc_buf_puts(b, info->n_steps ? "\n ]}\n" : "]}\n");
}
