/*
 * zenc run: run a YAML pipeline of shell commands (docs/yaml.md).  The
 * file becomes an ordinary pipeline (lib/yamlpipe.c) that runs through
 * zenc_pipeline_run(), so its records are those of any other run.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lib/yamlpipe.h"
#include "lib/orchestrator.h"
#include "lib/termlog.h"

static const char usage_text[] =
	"usage: zenc run FILE [options]\n"
	"\n"
	"Runs the pipeline of shell commands in the YAML file FILE.\n"
	"\n"
	"options:\n"
	"  --run-name NAME            the run's name (default "
	"PIPELINE-DATE-TIME)\n"
	"  --param STEP.KEY=VALUE     override a step parameter "
	"(repeatable)\n"
	"  -j, --jobs N               steps run in parallel (default: the "
	"number of cores)\n"
	"  --stack NAME               run on this stack (default: the "
	"active one)\n"
	"  --isolation process|none   each step in a child process "
	"(default) or not\n"
	"  -k, --keep-going           after a failure, still run what does "
	"not depend on it\n"
	"  --hook-failure warn|fail   what a failing success hook does "
	"(default warn)\n"
	"  --retries N                retries of every step that sets none "
	"itself\n"
	"  --dry-run                  check the file, print the plan, run "
	"nothing\n"
	"  -q, --quiet                print only warnings and errors\n"
	"  --detach                   on a Slurm stack: return once the "
	"jobs are submitted\n"
	"\n"
	"Exit status: 0 the run completed, 1 it failed, 2 usage or errors "
	"in the file,\n"
	"3 the environment is broken (store or stack unusable).\n";

static void on_signal(int sig)
{
	(void)sig;
	zenc__interrupted = 1;
}

/* "--opt VALUE" or "--opt=VALUE"; NULL when argv[*i] is not `opt`. */
static const char *opt_value(
	int argc, char **argv, int *i, const char *opt, int *missing)
{
	size_t n = strlen(opt);

	if (!strncmp(argv[*i], opt, n) && argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (strcmp(argv[*i], opt))
		return NULL;
	if (*i + 1 >= argc) {
		*missing = 1;
		return NULL;
	}
	return argv[++*i];
}

static int parse_count(const char *s, int *out, int min)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > 100000)
		return -1;
	*out = (int)v;
	return 0;
}

int cmd_run(int argc, char **argv)
{
	zenc_run_options o = ZENC_RUN_OPTIONS_INIT;
	struct sigaction sa, old_int, old_term;
	const char **params = NULL;
	const char *file = NULL, *v;
	const char *entry[4] = {"/proc/self/exe", "run", NULL, NULL};
	char *abs_file = NULL;
	zenc__run_mode m;
	zenc__yamlpipe *yp = NULL;
	zenc_run *run = NULL;
	size_t n_params = 0;
	int i, rc, code = ZENC_EXIT_USAGE, dry_run = 0, missing = 0;

	memset(&m, 0, sizeof(m));
	params = calloc((size_t)argc + 1, sizeof(*params));
	if (!params)
		return ZENC_EXIT_ENV;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (cli_is_help(a)) {
			fputs(usage_text, stdout);
			code = ZENC_EXIT_OK;
			goto done;
		} else if ((v = opt_value(
				    argc, argv, &i, "--run-name", &missing))) {
			o.run_name = v;
		} else if ((v = opt_value(
				    argc, argv, &i, "--param", &missing))) {
			params[n_params++] = v;
		} else if ((v = opt_value(
				    argc, argv, &i, "--stack", &missing))) {
			o.stack = v;
		} else if (
			(v = opt_value(argc, argv, &i, "--jobs", &missing)) ||
			(v = opt_value(argc, argv, &i, "-j", &missing))) {
			if (parse_count(v, &o.jobs, 1) < 0)
				goto bad_value;
		} else if (!strncmp(a, "-j", 2) && a[2] && a[2] != '=') {
			v = a + 2;
			if (parse_count(v, &o.jobs, 1) < 0)
				goto bad_value;
		} else if ((v = opt_value(
				    argc, argv, &i, "--isolation", &missing))) {
			if (!strcmp(v, "process"))
				o.isolation = ZENC_ISOLATION_PROCESS;
			else if (!strcmp(v, "none"))
				o.isolation = ZENC_ISOLATION_NONE;
			else
				goto bad_value;
		} else if ((v = opt_value(
				    argc, argv, &i, "--hook-failure",
				    &missing))) {
			if (!strcmp(v, "warn"))
				o.hook_failure = ZENC_HOOK_FAILURE_WARN;
			else if (!strcmp(v, "fail"))
				o.hook_failure = ZENC_HOOK_FAILURE_FAIL;
			else
				goto bad_value;
		} else if ((v = opt_value(
				    argc, argv, &i, "--retries", &missing))) {
			if (parse_count(v, &o.retries, 0) < 0)
				goto bad_value;
		} else if (!strcmp(a, "--keep-going") || !strcmp(a, "-k")) {
			o.keep_going = 1;
		} else if (!strcmp(a, "--dry-run") || !strcmp(a, "-n")) {
			dry_run = 1;
		} else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
			o.quiet = 1;
		} else if (!strcmp(a, "--detach")) {
			m.detach = 1;
		} else if (file && !m.step && (!strcmp(a, "__step") ||
					       !strcmp(a, "__finish"))) {
			/* Hidden: what the jobs of a Slurm run execute. */
			m.finish = !strcmp(a, "__finish");
			m.step = "";
		} else if (m.step && (v = opt_value(argc, argv, &i,
						    "--run-id", &missing))) {
			m.run_id = v;
		} else if (m.step && (v = opt_value(argc, argv, &i, "--step",
						    &missing))) {
			m.step = v;
		} else if (m.step && (v = opt_value(argc, argv, &i,
						    "--attempt", &missing))) {
			if (parse_count(v, &m.attempt, 1) < 0)
				goto bad_value;
		} else if (m.step && (v = opt_value(argc, argv, &i,
						    "--slurm-jobs",
						    &missing))) {
			m.jobs = v;
		} else if (missing) {
			cli_error("option '%s' needs a value", a);
			goto usage;
		} else if (a[0] == '-' && a[1]) {
			cli_error("unknown option '%s'", a);
			goto usage;
		} else if (file) {
			cli_error(
				"one pipeline file at a time ('%s' and "
				"'%s')",
				file, a);
			goto usage;
		} else {
			file = a;
		}
		continue;
	bad_value:
		cli_error("invalid value '%s' for '%s'", v, a);
		goto done;
	}
	if (missing) {
		cli_error("option '%s' needs a value", argv[argc - 1]);
		goto usage;
	}
	if (!file) {
		cli_error("no pipeline file");
		goto usage;
	}
	if (m.step && (!m.run_id || (!m.finish && !*m.step))) {
		cli_error("%s needs --run-id%s",
			  m.finish ? "__finish" : "__step",
			  m.finish ? "" : " and --step");
		goto usage;
	}
	o.params = params;
	/* Jobs of a Slurm run re-read the same file, wherever they start. */
	abs_file = realpath(file, NULL);
	entry[2] = abs_file ? abs_file : file;
	m.entry = entry;

	if (zenc__yamlpipe_load(&yp, file) < 0 ||
	    zenc__yamlpipe_check_params(yp, params) < 0) {
		cli_error("%s", zenc_error_last());
		goto done;
	}
	if (dry_run) {
		zenc__yamlpipe_print_plan(yp, stdout);
		printf("dry run: nothing was run\n");
		code = ZENC_EXIT_OK;
		goto done;
	}

	zenc__termlog_install(
		m.step ? 0 : zenc__yamlpipe_pipeline(yp)->n_steps, o.quiet);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* A Slurm job that is cancelled or timed out dies at once, by
	 * default action: the client that follows the run settles it. */
	if (m.step)
		sa.sa_handler = SIG_DFL;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	signal(SIGPIPE, SIG_IGN);
	rc = zenc__pipeline_run_mode(&run, zenc__yamlpipe_pipeline(yp), &o,
				     &m);
	zenc__termlog_done();
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (rc < 0) {
		cli_error("%s", zenc_error_last());
		code = zenc_exit_status(rc);
		goto done;
	}
	code = zenc_run_failed(run) ? ZENC_EXIT_FAILED : ZENC_EXIT_OK;
	goto done;
usage:
	fputs("Try 'zenc run --help'.\n", stderr);
	code = ZENC_EXIT_USAGE;
done:
	zenc_run_free(run);
	free(abs_file);
	zenc__yamlpipe_free(yp);
	free(params);
	fflush(NULL);
	return code;
}
