/*
 * zenc runs logs RUN [STEP] [--attempt N] [--follow]: what the steps of a
 * run printed, attempt by attempt.  Each attempt's log is a file of the
 * artifact store, RUN_DIR/STEP/log.N: a command step's output, or a C
 * step's standard output and error.  The store records it when the
 * attempt ends; while it runs, the file is where zenc_store_run_dir()
 * says, and --follow reads it as it grows.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char usage_logs[] =
	"usage: zenc runs logs RUN [STEP] [--attempt N] [--follow]"
	" [--stack NAME]\n"
	"\n"
	"Prints what the steps of a run printed: a command step's output, a\n"
	"C step's standard output and error, one log per attempt.  Without\n"
	"STEP, every step's; each log is headed \"==> STEP, attempt N <==\"\n"
	"unless --attempt picks one.  RUN is a run id, a run name, or a\n"
	"unique prefix of a run id.\n"
	"\n"
	"    --attempt N        only attempt N of STEP (1 is the first)\n"
	"    --follow, -f       keep printing what running steps print until\n"
	"                       they end (with STEP: that step; else the run)\n"
	"    --stack NAME       read the metadata store of stack NAME"
	" (default: the\n"
	"                       active stack)\n";

/* How often --follow looks again, in microseconds. */
#define FOLLOW_POLL_US 200000

/* One attempt's log, and how much of it was printed. */
struct source {
	char *step;
	int attempt;
	long long printed;
};

struct logs {
	const char *step; /* NULL: every step */
	int attempt;      /* 0: every attempt */
	int headers;
	char *run_dir;
	struct source *src;
	size_t n_src;
	int printed_any;
};

static struct source *source_for(struct logs *l, const char *step, int n)
{
	size_t i;

	for (i = 0; i < l->n_src; i++)
		if (l->src[i].attempt == n && !strcmp(l->src[i].step, step))
			return &l->src[i];
	l->src = realloc(l->src, (l->n_src + 1) * sizeof(*l->src));
	if (!l->src) {
		cli_error("out of memory");
		exit(ZENC_EXIT_ENV);
	}
	l->src[l->n_src].step = zenc__strdup(step);
	l->src[l->n_src].attempt = n;
	l->src[l->n_src].printed = 0;
	return &l->src[l->n_src++];
}

/* The log of attempt `n` of step `si`: recorded, or where an attempt
 * that runs writes it; NULL when there is none. */
static char *log_path(const struct logs *l, const zenc_step_info *si, int n)
{
	const zenc_step_record *s = &si->rec;
	char suffix[32];
	size_t i, len, sl;

	for (i = 0; i < si->n_attempts; i++)
		if (si->attempts[i].attempt == n)
			return si->attempts[i].log_uri
				       ? zenc__strdup(si->attempts[i].log_uri)
				       : NULL;
	/* The step's own log, when it is this attempt's (a record made
	 * before attempts kept theirs). */
	snprintf(suffix, sizeof(suffix), "/log.%d", n);
	if (s->log_uri && (len = strlen(s->log_uri)) > (sl = strlen(suffix)) &&
	    !strcmp(s->log_uri + len - sl, suffix))
		return zenc__strdup(s->log_uri);
	if (n == s->attempts && s->status && !strcmp(s->status, "running") &&
	    l->run_dir)
		return zenc__asprintf("%s/%s/log.%d", l->run_dir, s->name, n);
	return NULL;
}

/* Prints what is new in attempt `n`'s log of step `si`. */
static int print_new(struct logs *l, const zenc_step_info *si, int n)
{
	struct source *src;
	char buf[65536], *path = log_path(l, si, n);
	FILE *f;
	size_t r;

	if (!path)
		return 0;
	f = fopen(path, "rb");
	free(path);
	if (!f)
		return 0;
	src = source_for(l, si->rec.name, n);
	if (fseeko(f, (off_t)src->printed, SEEK_SET) < 0) {
		fclose(f);
		return 0;
	}
	while ((r = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (src->printed == 0 && l->headers)
			printf("%s==> %s, attempt %d <==\n",
			       l->printed_any ? "\n" : "", si->rec.name, n);
		fwrite(buf, 1, r, stdout);
		src->printed += (long long)r;
		l->printed_any = 1;
	}
	fclose(f);
	fflush(stdout);
	return 0;
}

/* One pass over the run: what each selected log has that was not yet
 * printed. */
static void print_pass(struct logs *l, const zenc_run_info *info)
{
	size_t i;
	int n;

	for (i = 0; i < info->n_steps; i++) {
		const zenc_step_info *si = &info->steps[i];
		int last = si->rec.attempts;

		if (l->step && strcmp(l->step, si->rec.name))
			continue;
		if (si->n_attempts &&
		    si->attempts[si->n_attempts - 1].attempt > last)
			last = si->attempts[si->n_attempts - 1].attempt;
		for (n = 1; n <= last; n++)
			if (!l->attempt || l->attempt == n)
				print_new(l, si, n);
	}
}

static const zenc_step_info *find_step(const zenc_run_info *info, const char *n)
{
	size_t i;

	for (i = 0; i < info->n_steps; i++)
		if (!strcmp(info->steps[i].rec.name, n))
			return &info->steps[i];
	return NULL;
}

/* Whether --follow is done: what it follows ended. */
static int follow_done(const struct logs *l, const zenc_run_info *info)
{
	const zenc_step_info *si;
	size_t i;
	char host[256] = "";

	if (!info->rec.status || strcmp(info->rec.status, "running"))
		return 1;
	/* A run whose process is gone on this host will not go on. */
	gethostname(host, sizeof(host) - 1);
	if (info->rec.host && !strcmp(info->rec.host, host) &&
	    info->rec.pid > 0 && kill((pid_t)info->rec.pid, 0) < 0 &&
	    errno == ESRCH)
		return 1;
	if (!l->step)
		return 0;
	if (!(si = find_step(info, l->step)))
		return 0;
	if (l->attempt)
		for (i = 0; i < si->n_attempts; i++)
			if (si->attempts[i].attempt == l->attempt)
				return 1;
	return si->rec.status && strcmp(si->rec.status, "running") &&
	       strcmp(si->rec.status, "pending");
}

/* Checks STEP and --attempt against the run; an exit code, or -1. */
static int check_selection(
	const struct logs *l, const zenc_run_info *info, int follow)
{
	const zenc_step_info *si;

	if (!l->step)
		return -1;
	if (!(si = find_step(info, l->step))) {
		if (follow && info->rec.status &&
		    !strcmp(info->rec.status, "running"))
			return -1; /* not recorded yet: it may come */
		cli_error("run '%s' has no step '%s'", info->rec.name, l->step);
		return zenc_exit_status(ZENC_ENOTFOUND);
	}
	if (l->attempt && l->attempt > si->rec.attempts && !follow) {
		cli_error(
			"step '%s' of run '%s' made %d attempt%s; there is no "
			"attempt %d",
			l->step, info->rec.name, si->rec.attempts,
			si->rec.attempts == 1 ? "" : "s", l->attempt);
		return zenc_exit_status(ZENC_ENOTFOUND);
	}
	return -1;
}

int cmd_runs_logs(int argc, char **argv)
{
	struct logs l;
	zenc_run_info info = {0};
	zenc_store *store = NULL;
	const char *run = NULL, *stack_name = NULL, *attempt_s = NULL;
	int i, m, rc, follow = 0, dashdash = 0;
	size_t k;

	memset(&l, 0, sizeof(l));
	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (cli_is_help(argv[i])) {
			fputs(usage_logs, stdout);
			return ZENC_EXIT_OK;
		}
	}
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!dashdash && !strcmp(a, "--")) {
			dashdash = 1;
		} else if (
			!dashdash &&
			(!strcmp(a, "--follow") || !strcmp(a, "-f"))) {
			follow = 1;
		} else if (
			!dashdash &&
			((m = zenc__opt_value(
				  argc, argv, &i, "--stack", &stack_name)) ||
			 (m = zenc__opt_value(
				  argc, argv, &i, "--attempt", &attempt_s)))) {
			if (m < 0)
				return cli_usage_error(
					usage_logs, "option '%s' needs a value",
					a);
		} else if (!dashdash && a[0] == '-' && a[1]) {
			return cli_usage_error(
				usage_logs, "unknown option '%s'", a);
		} else if (!run) {
			run = a;
		} else if (!l.step) {
			l.step = a;
		} else {
			return cli_usage_error(
				usage_logs, "unexpected argument '%s'", a);
		}
	}
	if (!run)
		return cli_usage_error(
			usage_logs, "which run? (zenc runs logs RUN [STEP])");
	if (attempt_s) {
		char *end;
		long v;

		errno = 0;
		v = strtol(attempt_s, &end, 10);
		if (errno || end == attempt_s || *end || v < 1 || v > INT_MAX)
			return cli_usage_error(
				usage_logs,
				"invalid value '%s' for '--attempt' (1, 2, "
				"...)",
				attempt_s);
		if (!l.step)
			return cli_usage_error(
				usage_logs, "'--attempt' needs a STEP");
		l.attempt = (int)v;
	}
	l.headers = !l.attempt;
	if ((rc = cli_open_store(&store, stack_name)) != 0)
		return rc;
	if ((rc = zenc_store_run_show(store, run, &info)) < 0) {
		cli_error("%s", zenc_error_last());
		rc = zenc_exit_status(rc);
		goto done;
	}
	if ((rc = check_selection(&l, &info, follow)) >= 0)
		goto done;
	/* Only an attempt that runs needs it; a store without the run's
	 * stack still shows the logs it recorded. */
	if (zenc_store_run_dir(store, info.rec.id, &l.run_dir) < 0)
		l.run_dir = NULL;
	print_pass(&l, &info);
	while (follow && !follow_done(&l, &info)) {
		zenc_run_info next = {0};

		usleep(FOLLOW_POLL_US);
		if ((rc = zenc_store_run_show(store, info.rec.id, &next)) < 0) {
			cli_error("%s", zenc_error_last());
			rc = zenc_exit_status(rc);
			zenc_run_info_free(&next);
			goto done;
		}
		zenc_run_info_free(&info);
		info = next;
		print_pass(&l, &info);
	}
	/* What the last attempts wrote before their end was recorded. */
	if (follow)
		print_pass(&l, &info);
	if (!l.printed_any)
		fprintf(stderr, "zenc: %s printed nothing.\n",
			l.step ? "that step" : "no step of that run");
	rc = ZENC_EXIT_OK;
done:
	for (k = 0; k < l.n_src; k++)
		free(l.src[k].step);
	free(l.src);
	free(l.run_dir);
	zenc_run_info_free(&info);
	zenc_store_free(store);
	return rc;
}
