/*
 * What a run's watcher does once the orchestrating process died
 * (watcher.c waits for that): stop every process of the run, record the
 * run and its running steps failed, run the failure hooks that can run
 * without the program and record them.  The stale-run sweep does the
 * same, later, for a run whose watcher died too.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "engine/exec.h"
#include "engine/watcher.h"
#include "alerters/alerter.h"

extern char **environ;

/* The hook runs the watcher records are numbered from here, after any
 * the run recorded itself. */
#define WATCH_SEQ_BASE 900000000

/* ---- stopping what is left of a run */

/* Whether process `pid`'s environment holds `needle` ("NAME=value"). */
static int environ_has(const char *pid, const char *needle, size_t len)
{
	char path[300];
	zenc_buf b = ZENC_BUF_INIT;
	size_t i = 0;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%s/environ", pid);
	if (zenc__read_file(&b, path) < 0)
		return 0;
	while (i < b.len) {
		const char *e = b.ptr + i;
		size_t n = strnlen(e, b.len - i);
		if (n == len && !memcmp(e, needle, len)) {
			found = 1;
			break;
		}
		i += n + 1;
	}
	zenc_buf_release(&b);
	return found;
}

/* SIGKILLs every process but this one whose environment holds the run's
 * ZENC_RUN_ID, until none is left (or `budget` seconds have passed: a
 * process that forks faster than it can be killed).  Returns how many it
 * killed. */
size_t zenc__watcher_kill_run(const char *run_id, double budget)
{
	char *needle = zenc__asprintf("ZENC_RUN_ID=%s", run_id);
	double end = zenc__monotonic() + budget;
	size_t len = strlen(needle), killed = 0, found;
	pid_t self = getpid();
	struct dirent *de;
	DIR *d;

	do {
		found = 0;
		if (!(d = opendir("/proc")))
			break;
		while ((de = readdir(d))) {
			char *endp;
			long pid = strtol(de->d_name, &endp, 10);
			if (*endp || pid <= 1 || pid == (long)self)
				continue;
			if (!environ_has(de->d_name, needle, len))
				continue;
			if (kill((pid_t)pid, SIGKILL) == 0) {
				found++;
				killed++;
			}
		}
		closedir(d);
		if (found)
			zenc__sleep(0.01);
	} while (found && zenc__monotonic() < end);
	free(needle);
	return killed;
}

/* ---- settling a run whose orchestrating process died */

typedef struct settle {
	zenc__store *store;
	const char *run_id;
	const zenc__run_info *info;
	json_t *spec;
	zenc_stack *stack;
	zenc_alerter *alerter;
	int alerter_tried;
	const char *type, *message;
	int sig;
	int late;
	int seq;
	zenc__hook_record *recs;
	size_t n_recs, cap_recs;
	size_t n_put;    /* recorded with their steps already */
	zenc_buf *texts; /* strings the records point to */
	size_t n_texts, cap_texts;
} settle;

static const char *keep(settle *st, zenc_buf *b)
{
	zenc__array_grow(
		(void **)&st->texts, &st->cap_texts, st->n_texts + 1,
		sizeof(*st->texts));
	st->texts[st->n_texts] = *b;
	memset(b, 0, sizeof(*b));
	return zenc_buf_cstr(&st->texts[st->n_texts++]);
}

static void add_record(
	settle *st,
	const char *step,
	const char *event,
	const char *hook,
	int attempt,
	const char *status,
	zenc_buf *error,
	double started)
{
	zenc__hook_record *r;

	zenc__array_grow(
		(void **)&st->recs, &st->cap_recs, st->n_recs + 1,
		sizeof(*st->recs));
	r = &st->recs[st->n_recs++];
	memset(r, 0, sizeof(*r));
	r->run_id = st->run_id;
	r->step = step;
	r->event = event;
	r->hook = hook;
	r->attempt = attempt;
	r->status = status;
	r->error = error && error->len ? keep(st, error) : NULL;
	r->started = started;
	r->duration = zenc__now() - started;
	r->seq = WATCH_SEQ_BASE + st->seq++;
}

static void add_env(char ***env, size_t *n, size_t *cap, char *entry)
{
	zenc__array_grow((void **)env, cap, *n + 2, sizeof(char *));
	(*env)[(*n)++] = entry;
	(*env)[*n] = NULL;
}

/* The text of a parameter value, as ZENC_PARAM_* carries it. */
static void param_text(zenc_buf *b, json_t *v)
{
	if (json_is_string(v))
		zenc_buf_puts(b, json_string_value(v));
	else
		zenc__json_dump(b, v);
}

/* What a command hook gets (docs/hooks.md, "Command hooks"). */
static void command_context(
	settle *st,
	const zenc_step_record *s,
	const char *event,
	char ***env,
	zenc_buf *json)
{
	const zenc_run_record *run = &st->info->rec;
	json_t *params = zenc__json_or_null(s ? s->params_json : NULL);
	json_t *o = json_object(), *err = json_object();
	size_t n = 0, cap = 0;
	const char *key;
	json_t *v;
	int attempt = s ? s->attempts : 0;

	*env = NULL;
	add_env(env, &n, &cap,
		zenc__asprintf("ZENC_PIPELINE_NAME=%s", run->pipeline));
	add_env(env, &n, &cap, zenc__asprintf("ZENC_RUN_NAME=%s", run->name));
	add_env(env, &n, &cap, zenc__asprintf("ZENC_RUN_ID=%s", run->id));
	add_env(env, &n, &cap,
		zenc__asprintf("ZENC_STEP_NAME=%s", s ? s->name : ""));
	add_env(env, &n, &cap, zenc__asprintf("ZENC_HOOK_EVENT=%s", event));
	add_env(env, &n, &cap, zenc__strdup("ZENC_STATUS=failed"));
	add_env(env, &n, &cap, zenc__asprintf("ZENC_ATTEMPT=%d", attempt));
	add_env(env, &n, &cap, zenc__asprintf("ZENC_ERROR_TYPE=%s", st->type));
	add_env(env, &n, &cap,
		zenc__asprintf("ZENC_ERROR_MESSAGE=%s", st->message));
	add_env(env, &n, &cap, zenc__strdup("ZENC_EXIT_CODE=0"));
	add_env(env, &n, &cap, zenc__asprintf("ZENC_SIGNAL=%d", st->sig));
	if (json_is_object(params)) {
		json_object_foreach(params, key, v)
		{
			zenc_buf b = ZENC_BUF_INIT;
			zenc_buf_puts(&b, "ZENC_PARAM_");
			zenc__env_name(&b, key);
			zenc_buf_putc(&b, '=');
			param_text(&b, v);
			add_env(env, &n, &cap, zenc_buf_detach(&b));
		}
	}
	json_object_set_new(o, "pipeline", zenc__json_str(run->pipeline));
	json_object_set_new(o, "run_name", zenc__json_str(run->name));
	json_object_set_new(o, "run_id", zenc__json_str(run->id));
	json_object_set_new(o, "step", zenc__json_str(s ? s->name : NULL));
	json_object_set_new(o, "event", zenc__json_str(event));
	json_object_set_new(o, "attempt", json_integer(attempt));
	json_object_set_new(o, "status", json_string("failed"));
	json_object_set_new(err, "type", zenc__json_str(st->type));
	json_object_set_new(err, "message", zenc__json_str(st->message));
	json_object_set_new(err, "exit_code", json_integer(0));
	json_object_set_new(err, "signal", json_integer(st->sig));
	json_object_set_new(o, "error", err);
	json_object_set_new(
		o, "params", json_is_object(params) ? params : json_object());
	if (!json_is_object(params))
		json_decref(params);
	zenc__json_dump(json, o);
	zenc_buf_putc(json, '\n');
	json_decref(o);
}

static const char *run_command(
	settle *st,
	const zenc_step_record *s,
	const char *event,
	json_t *h,
	double timeout,
	zenc_buf *why)
{
	json_t *av = json_object_get(h, "argv");
	const char *cmd = zenc__json_get_str(h, "command");
	const char *dir = zenc__json_get_str(h, "dir");
	const char *status = "completed";
	zenc_buf json = ZENC_BUF_INIT;
	char **env = NULL, **argv = NULL;
	size_t i;
	int wstatus = 0, timed_out = 0;

	if (!cmd && json_is_array(av)) {
		argv = zenc__calloc(json_array_size(av) + 1, sizeof(*argv));
		for (i = 0; i < json_array_size(av); i++)
			argv[i] = (char *)json_string_value(
				json_array_get(av, i));
	}
	if (!cmd && (!argv || !argv[0])) {
		zenc_buf_puts(why, "no command recorded");
		free(argv);
		return "failed";
	}
	command_context(st, s, event, &env, &json);
	if (zenc__command_run(
		    cmd, argv, env, json.ptr, json.len, dir, -1, timeout, 1,
		    &wstatus, &timed_out, why) < 0) {
		status = "failed";
	} else if (timed_out) {
		status = "timeout";
		zenc_buf_printf(why, "timed out after %gs", timeout);
	} else if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus)) {
		status = "failed";
		zenc__describe_status(why, wstatus);
	}
	for (i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
	free(argv);
	zenc_buf_release(&json);
	return status;
}

/* The standard failure hook's alert, as the step's process would have
 * posted it (hooks_std.c), with the error that ended the run. */
static const char *post_alert(
	settle *st, const zenc_step_record *s, double timeout, zenc_buf *why)
{
	const zenc_run_record *run = &st->info->rec;
	const char *late = st->late ? " (late)" : "";
	zenc_alert al = ZENC_ALERT_INIT;
	zenc__deliver_opts o = {timeout, 0, 0};
	zenc__alert_outcome outcome;
	zenc_buf title = ZENC_BUF_INIT, msg = ZENC_BUF_INIT;
	zenc_alert_field *fields = NULL;
	zenc_buf *vals = NULL;
	json_t *params = zenc__json_or_null(s->params_json), *v;
	const char *key, *rc_status = "completed";
	size_t n = 0, i;

	if (!st->alerter_tried) {
		st->alerter_tried = 1;
		if (st->stack &&
		    zenc__alerter_for_stack(&st->alerter, st->stack) < 0)
			st->alerter = NULL;
	}
	if (!st->alerter) {
		zenc__warn(
			"alerter_failure_hook for step %s: no alerter in "
			"stack '%s'; nothing posted",
			s->name, run->stack ? run->stack : "");
		return "completed";
	}
	zenc_buf_printf(
		&title, "Step %s of pipeline %s failed%s", s->name,
		run->pipeline, late);
	zenc_buf_printf(
		&msg, "Step %s of pipeline %s (run %s) failed: %s: %s", s->name,
		run->pipeline, run->name, st->type, st->message);
	if (st->sig)
		zenc_buf_printf(&msg, " (signal %d)", st->sig);
	zenc_buf_puts(&msg, late);
	al.title = title.ptr;
	al.message = msg.ptr;
	al.pipeline = run->pipeline;
	al.run_name = run->name;
	al.run_id = run->id;
	al.step = s->name;
	al.status = "failed";
	al.event = "on_failure";
	al.attempt = s->attempts;
	al.error_type = st->type;
	al.error_message = st->message;
	al.signal = st->sig;
	if (s->started > 0)
		al.duration = zenc__now() - s->started;
	al.params_json = s->params_json;
	al.late = st->late;
	if (json_is_object(params) && json_object_size(params)) {
		fields =
			zenc__calloc(json_object_size(params), sizeof(*fields));
		vals = zenc__calloc(json_object_size(params), sizeof(*vals));
		json_object_foreach(params, key, v)
		{
			if (!strcmp(key, "alert_channel")) {
				if (json_string_length(v))
					al.channel = json_string_value(v);
				continue;
			}
			param_text(&vals[n], v);
			fields[n].key = key;
			fields[n].value = zenc_buf_cstr(&vals[n]);
			n++;
		}
		al.fields = fields;
		al.n_fields = n;
	}
	if (zenc__alerter_deliver(st->alerter, &al, &o, &outcome) < 0) {
		rc_status = "failed";
		zenc_buf_puts(why, zenc_error_last());
	}
	for (i = 0; i < n; i++)
		zenc_buf_release(&vals[i]);
	free(vals);
	free(fields);
	json_decref(params);
	zenc_buf_release(&title);
	zenc_buf_release(&msg);
	return rc_status;
}

/* Runs the hooks of `list` for step `s` (NULL: run-level) and records
 * them. */
static void run_list(
	settle *st,
	const zenc_step_record *s,
	const char *event,
	json_t *list,
	double hook_timeout)
{
	size_t i;

	for (i = 0; i < json_array_size(list); i++) {
		json_t *h = json_array_get(list, i);
		const char *kind = zenc__json_get_str(h, "kind");
		const char *name = zenc__json_get_str(h, "name");
		json_t *t = json_object_get(h, "timeout");
		double timeout =
			json_is_number(t) ? json_number_value(t) : hook_timeout;
		double t0 = zenc__now();
		const char *status;
		zenc_buf why = ZENC_BUF_INIT, nb = ZENC_BUF_INIT;

		if (!kind)
			kind = "function";
		if (!strcmp(kind, "command") && st->late) {
			status = "skipped";
			zenc_buf_puts(
				&why, "not run: the run was found dead later, "
				      "with nothing left to run it");
		} else if (!strcmp(kind, "command")) {
			zenc__info(
				"Running %s hook %s%s%s after the "
				"orchestrating "
				"process died.",
				event, name ? name : "", s ? " of step " : "",
				s ? s->name : "");
			status = run_command(st, s, event, h, timeout, &why);
		} else if (!strcmp(kind, "alerter") && s) {
			status = post_alert(st, s, timeout, &why);
		} else {
			status = "skipped";
			zenc_buf_puts(
				&why, "a C function hook cannot run once its "
				      "program is gone");
		}
		zenc_buf_puts(&nb, name ? name : "");
		add_record(
			st, s ? s->name : NULL, event, keep(st, &nb),
			s ? s->attempts : 0, status, &why, t0);
		zenc_buf_release(&why);
	}
}

/* Step `s` failed with the run: its row, its attempt and the hook runs
 * from recs[first] on, in one transaction, as the engine records an
 * attempt. */
static void record_step(settle *st, const zenc_step_record *s, size_t first)
{
	zenc_step_record r = *s;
	zenc_attempt_record att;
	double now = zenc__now();

	r.status = "failed";
	r.ended = now;
	r.error_type = st->type;
	r.error_message = st->message;
	r.exit_code = 0;
	r.signal = st->sig;
	if (r.attempts < 1)
		r.attempts = 1;
	memset(&att, 0, sizeof(att));
	att.attempt = r.attempts;
	att.status = "failed";
	att.started = s->started;
	att.ended = now;
	att.error_type = st->type;
	att.error_message = st->message;
	att.signal = st->sig;
	if (st->store->step_end(
		    st->store, &r, &att, NULL, 0, st->recs + first,
		    st->n_recs - first) < 0)
		zenc__warn(
			"could not record step %s of run %s: %s", s->name,
			st->run_id, zenc_error_last());
	st->n_put = st->n_recs;
}

/* The list of `event` that applies to step `name`, and its hook
 * timeout. */
static json_t *step_list(
	const settle *st, const char *name, const char *event, double *ht)
{
	json_t *steps = json_object_get(st->spec, "steps");
	json_t *own = json_object_get(steps, name), *l, *t;

	t = json_object_get(st->spec, "hook_timeout");
	*ht = json_is_number(t) ? json_number_value(t)
				: ZENC__DEFAULT_HOOK_TIMEOUT;
	t = json_object_get(own, "hook_timeout");
	if (json_is_number(t))
		*ht = json_number_value(t);
	if ((l = json_object_get(own, event)))
		return l;
	return json_object_get(json_object_get(st->spec, "defaults"), event);
}

/*
 * Marks the run failed (unless someone else did: then nothing more) and
 * runs the failure hooks of the steps that were running and of the run.
 * `store` is open; `spec_text` is the run's watch record.
 */
/* Settles step `s` of the run: its failure and end hooks, then its
 * records. */
static void settle_step(settle *st, const zenc_step_record *s)
{
	static const char *const events[] = {"on_failure", "on_end"};
	size_t first = st->n_recs, e;

	for (e = 0; e < 2; e++) {
		double ht;
		json_t *l = step_list(st, s->name, events[e], &ht);
		run_list(st, s, events[e], l, ht);
	}
	record_step(st, s, first);
}

/* Whether the run's records have step `name`. */
static int has_step(const zenc__run_info *info, const char *name)
{
	size_t i;

	for (i = 0; i < info->n_steps; i++)
		if (info->steps[i].rec.name &&
		    !strcmp(info->steps[i].rec.name, name))
			return 1;
	return 0;
}

/*
 * `running`, `n_running`: the steps the orchestrating process said were
 * running (NULL for a run found late).  A step that started less than a
 * moment before the death may have no row yet (its "running" row is
 * written late, in a batch): it is settled too, from its name.
 */
int zenc__watcher_settle(
	zenc__store *store,
	const char *run_id,
	const char *spec_text,
	const char *type,
	const char *message,
	int sig,
	int late,
	char *const *running,
	size_t n_running)
{
	zenc__run_info info;
	settle st;
	json_error_t jerr;
	const char *stack_name;
	size_t i;
	int rc, marked = 0;

	memset(&st, 0, sizeof(st));
	memset(&info, 0, sizeof(info));
	st.spec = json_loads(spec_text ? spec_text : "{}", 0, &jerr);
	if (!st.spec)
		st.spec = json_object();
	if ((rc = store->run_show(store, run_id, &info)) < 0)
		goto done;
	if ((rc = store->run_fail(store, run_id, type, message, sig, &marked)) <
		    0 ||
	    !marked)
		goto done;
	zenc__log(
		ZENC_LOG_ERROR, "Run %s failed: %s: %s%s", info.rec.name, type,
		message, late ? " (found late)" : "");
	st.store = store;
	st.run_id = run_id;
	st.info = &info;
	st.type = type;
	st.message = message;
	st.sig = sig;
	st.late = late;
	stack_name = zenc__json_get_str(st.spec, "stack");
	if (zenc__stack_load(&st.stack, stack_name) < 0) {
		zenc__warn(
			"run %s: stack '%s': %s; no alert can be sent", run_id,
			stack_name ? stack_name : "", zenc_error_last());
		st.stack = NULL;
	}
	for (i = 0; i < info.n_steps; i++) {
		const zenc_step_record *s = &info.steps[i].rec;
		if (!s->status || strcmp(s->status, "running"))
			continue;
		settle_step(&st, s);
	}
	for (i = 0; i < n_running; i++) {
		zenc_step_record r;

		if (has_step(&info, running[i]))
			continue;
		memset(&r, 0, sizeof(r));
		r.run_id = run_id;
		r.name = running[i];
		r.status = "running";
		r.attempts = 1;
		r.started = zenc__now();
		settle_step(&st, &r);
	}
	{
		json_t *t = json_object_get(st.spec, "hook_timeout");
		run_list(
			&st, NULL, "on_run_failure",
			json_object_get(st.spec, "on_run_failure"),
			json_is_number(t) ? json_number_value(t)
					  : ZENC__DEFAULT_HOOK_TIMEOUT);
		/* Absent from the spec of a run of an older version. */
		run_list(
			&st, NULL, "on_run_end",
			json_object_get(st.spec, "on_run_end"),
			json_is_number(t) ? json_number_value(t)
					  : ZENC__DEFAULT_HOOK_TIMEOUT);
	}
	if (st.n_recs > st.n_put &&
	    store->hooks_put(store, st.recs + st.n_put, st.n_recs - st.n_put) <
		    0)
		zenc__warn(
			"could not record the hooks of run %s: %s", run_id,
			zenc_error_last());
done:
	if (rc < 0)
		zenc__warn(
			"could not settle run %s: %s", run_id,
			zenc_error_last());
	for (i = 0; i < st.n_texts; i++)
		zenc_buf_release(&st.texts[i]);
	free(st.texts);
	free(st.recs);
	zenc_alerter_free(st.alerter);
	zenc__stack_free(st.stack);
	json_decref(st.spec);
	zenc__run_info_free(&info);
	return rc;
}

void zenc__watcher_late(zenc__store *store, const char *run_id)
{
	char *spec = NULL;
	long pid = 0;

	if (!store->watch_get || !store->run_fail)
		return;
	if (store->watch_get(store, run_id, &pid, &spec) < 0) {
		zenc__warn("%s", zenc_error_last());
		return;
	}
	/* Whatever of the run survived its watcher. */
	zenc__watcher_kill_run(run_id, 2.0);
	zenc__watcher_settle(
		store, run_id, spec, "Interrupted",
		"the orchestrating process died", 0, 1, NULL, 0);
	free(spec);
}
