/*
 * zenc_main(): the command line of every pipeline program.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "orchestrators/orchestrator.h"
#include "termlog.h"

static void print_usage(FILE *f, const char *prog, const zenc_pipeline *p)
{
	fprintf(f,
		"usage: %s run [options]     run the pipeline '%s'\n"
		"       %s validate          check the pipeline and print "
		"its steps\n"
		"       %s --help\n"
		"       %s --version         print the version of zenc it "
		"was built with\n"
		"\n"
		"options of run:\n"
		"  --config FILE            a run configuration (YAML)\n"
		"  --run-name NAME          the run's name (default "
		"PIPELINE-DATE-TIME)\n"
		"  --param STEP.FIELD=VALUE override a step parameter "
		"(repeatable)\n"
		"  --stack NAME             run on this stack (default: the "
		"active one)\n"
		"  -j, --jobs N             steps run in parallel (default: "
		"the number of cores)\n"
		"  --isolation process|none each step in a child process "
		"(default) or all in\n"
		"                           this one (faster; a crash ends "
		"the run)\n"
		"  --keep-going             after a failure, still run what "
		"does not depend on it\n"
		"  --retries N              retries of every step that sets "
		"none itself\n"
		"  --hook-failure warn|fail what a failing success hook "
		"does (default warn)\n"
		"  -q, --quiet              print only warnings and errors\n"
		"  --detach                 on a Slurm stack: return once "
		"the jobs are submitted\n"
		"  --no-cache               execute every step, none from "
		"the step cache (their\n"
		"                           keys are still recorded for "
		"later runs)\n"
		"  --resume RUN             a new run that reuses the steps "
		"RUN completed\n"
		"                           unchanged and executes the "
		"rest\n"
		"\n"
		"exit status: 0 the run completed, 1 it failed, 2 usage or "
		"validation error,\n"
		"3 the environment is broken (store or stack unusable), 130 "
		"the run was\n"
		"cancelled (SIGINT, SIGTERM, zenc runs cancel).\n"
		"Environment: ZENC_HOME (config, default ~/.config/zenc), "
		"ZENC_DATA (records\n"
		"and artifacts, default ~/.local/share/zenc), NO_COLOR, "
		"ZENC_CACHE=off (as\n"
		"--no-cache), ZENC_NO_CODE_COPY=1 (the steps' processes "
		"run the code mapped\n"
		"from its files, for a profiler).\n",
		prog, p ? p->name : "?", prog, prog, prog);
}

/* "quickstart (zenc 0.1.0)": the program's own name, and zenc's version. */
static void print_version(const char *prog)
{
	const char *slash = strrchr(prog, '/');

	printf("%s (zenc %s)\n", slash ? slash + 1 : prog, zenc_version());
}

static void on_signal(int sig)
{
	(void)sig;
	zenc__interrupted = 1;
}

/* The exit status of a failed run: zenc_exit_status(), except that the
 * errors of the run configuration file given with --config are usage
 * errors whatever their code.  Such errors all start with the file's name
 * ("run.yaml:3:5: ..."), and a step may well be named "stack_x", so the
 * name is what tells them apart from the ZENC_ECONFIG of setting up the
 * environment (stack, store, artifact folder). */
static int exit_code_of(int rc, const char *config_path)
{
	const char *msg = zenc_error_last();
	size_t n = config_path ? strlen(config_path) : 0;

	if (rc == ZENC_ECONFIG && n && !strncmp(msg, config_path, n) &&
	    msg[n] == ':')
		return ZENC_EXIT_USAGE;
	return zenc_exit_status(rc);
}

/* The value of option `opt` at argv[*i], or NULL (zenc__opt_value(), the
 * matcher the zenc command uses too); an option given last without its
 * value is left in *missing, for the error. */
static const char *arg_value(
	int argc, char **argv, int *i, const char *opt, const char **missing)
{
	const char *v = NULL;
	int m = zenc__opt_value(argc, argv, i, opt, &v);

	if (m < 0)
		*missing = opt;
	return m > 0 ? v : NULL;
}

static int parse_int(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 100000)
		return -1;
	*out = (int)v;
	return 0;
}

static void print_plan(zenc_pipeline *p)
{
	size_t i, j;

	printf("pipeline %s: %zu step%s\n", p->name, p->n_steps,
	       p->n_steps == 1 ? "" : "s");
	for (i = 0; i < p->n_steps; i++) {
		zenc_step *s = p->steps[i];
		printf("  %s", s->name);
		for (j = 0; j < s->n_deps; j++)
			printf("%s%s", j ? ", " : " after ", s->deps[j]->name);
		printf("\n");
	}
}

int zenc_main(zenc_pipeline *p, int argc, char **argv)
{
	return zenc_main_ext(p, argc, argv, NULL);
}

int zenc_main_ext(
	zenc_pipeline *p, int argc, char **argv, const zenc_main_options *opts)
{
	zenc_run_options o = ZENC_RUN_OPTIONS_INIT;
	zenc__run_mode m;
	const char *prog = opts && opts->prog ? opts->prog
			   : argc > 0         ? argv[0]
					      : "pipeline";
	const char *help =
		opts && opts->help_command ? opts->help_command : prog;
	const char **params = NULL;
	struct sigaction sa, old_int, old_term;
	size_t n_params = 0;
	zenc_run *run = NULL;
	const char *v;
	int i = 1, rc, code;

	if (!p) {
		fprintf(stderr, "%s: error: no pipeline\n", prog);
		return ZENC_EXIT_USAGE;
	}
	if (opts && opts->version != ZENC_MAIN_OPTIONS_VERSION) {
		fprintf(stderr,
			"%s: error: unknown zenc_main_options version "
			"%u\n",
			prog, opts->version);
		return ZENC_EXIT_USAGE;
	}
	zenc__termlog_install(0, 0);
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
			 !strcmp(argv[1], "help"))) {
		print_usage(stdout, prog, p);
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "--version")) {
		print_version(prog);
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "validate")) {
		if (zenc_pipeline_validate(p) < 0) {
			fprintf(stderr, "%s: error: %s\n", prog,
				zenc_error_last());
			return ZENC_EXIT_USAGE;
		}
		print_plan(p);
		return 0;
	}
	memset(&m, 0, sizeof(m));
	m.entry = opts ? opts->entry : NULL;
	if (argc > 1 && !strcmp(argv[1], "run")) {
		i = 2;
	} else if (
		argc > 1 &&
		(!strcmp(argv[1], "__step") || !strcmp(argv[1], "__finish"))) {
		/* Hidden: what the jobs of a Slurm run execute. */
		m.finish = !strcmp(argv[1], "__finish");
		m.step = "";
		i = 2;
	} else if (argc > 1 && argv[1][0] != '-') {
		fprintf(stderr, "%s: error: unknown command '%s'\n", prog,
			argv[1]);
		print_usage(stderr, prog, p);
		return ZENC_EXIT_USAGE;
	}
	params = calloc((size_t)argc + 1, sizeof(*params));
	for (; i < argc; i++) {
		const char *a = argv[i], *missing = NULL;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			print_usage(stdout, prog, p);
			code = 0;
			goto done;
		} else if (!strcmp(a, "--version")) {
			print_version(prog);
			code = 0;
			goto done;
		} else if ((v = arg_value(
				    argc, argv, &i, "--config", &missing))) {
			o.config_path = v;
		} else if ((v = arg_value(
				    argc, argv, &i, "--run-name", &missing))) {
			o.run_name = v;
		} else if ((v = arg_value(
				    argc, argv, &i, "--param", &missing))) {
			params[n_params++] = v;
		} else if ((v = arg_value(
				    argc, argv, &i, "--stack", &missing))) {
			o.stack = v;
		} else if (
			(v = arg_value(argc, argv, &i, "--jobs", &missing)) ||
			(v = arg_value(argc, argv, &i, "-j", &missing))) {
			if (parse_int(v, &o.jobs) < 0 || o.jobs < 1)
				goto bad_value;
		} else if (!strncmp(a, "-j", 2) && a[2]) {
			v = a + 2;
			if (parse_int(v, &o.jobs) < 0 || o.jobs < 1)
				goto bad_value;
		} else if ((v = arg_value(
				    argc, argv, &i, "--isolation", &missing))) {
			if (!strcmp(v, "process"))
				o.isolation = ZENC_ISOLATION_PROCESS;
			else if (!strcmp(v, "none"))
				o.isolation = ZENC_ISOLATION_NONE;
			else
				goto bad_value;
		} else if (!strcmp(a, "--keep-going") || !strcmp(a, "-k")) {
			o.keep_going = 1;
		} else if ((v = arg_value(
				    argc, argv, &i, "--retries", &missing))) {
			if (parse_int(v, &o.retries) < 0)
				goto bad_value;
		} else if ((v = arg_value(
				    argc, argv, &i, "--hook-failure",
				    &missing))) {
			if (!strcmp(v, "warn"))
				o.hook_failure = ZENC_HOOK_FAILURE_WARN;
			else if (!strcmp(v, "fail"))
				o.hook_failure = ZENC_HOOK_FAILURE_FAIL;
			else
				goto bad_value;
		} else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
			o.quiet = 1;
		} else if (!strcmp(a, "--detach")) {
			m.detach = 1;
		} else if (!strcmp(a, "--no-cache")) {
			m.no_cache = 1;
		} else if ((v = arg_value(
				    argc, argv, &i, "--resume", &missing))) {
			if (!*v)
				goto bad_value;
			m.resume = v;
		} else if (
			m.step &&
			(v = arg_value(argc, argv, &i, "--run-id", &missing))) {
			m.run_id = v;
		} else if (
			m.step &&
			(v = arg_value(argc, argv, &i, "--step", &missing))) {
			m.step = v;
		} else if (
			m.step &&
			(v = arg_value(
				 argc, argv, &i, "--attempt", &missing))) {
			if (parse_int(v, &m.attempt) < 0 || m.attempt < 1)
				goto bad_value;
		} else if (
			m.step &&
			(v = arg_value(
				 argc, argv, &i, "--slurm-jobs", &missing))) {
			m.jobs = v;
		} else {
			if (missing)
				fprintf(stderr,
					"%s: error: option '%s' needs "
					"a value\n",
					prog, a);
			else
				fprintf(stderr,
					"%s: error: unknown option "
					"'%s'\n",
					prog, a);
			fprintf(stderr, "Try '%s --help'.\n", help);
			code = ZENC_EXIT_USAGE;
			goto done;
		}
		continue;
	bad_value:
		fprintf(stderr, "%s: error: invalid value '%s' for '%s'\n",
			prog, v, a);
		code = ZENC_EXIT_USAGE;
		goto done;
	}
	o.params = params;
	zenc__termlog_install(m.step ? 0 : p->n_steps, o.quiet);
	if (m.step && (!m.run_id || (!m.finish && !*m.step))) {
		fprintf(stderr, "%s: error: %s needs --run-id%s\n", prog,
			argv[1], m.finish ? "" : " and --step");
		code = ZENC_EXIT_USAGE;
		goto done;
	}

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
	rc = zenc__pipeline_run_mode(&run, p, &o, &m);
	zenc__termlog_done();
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (rc < 0) {
		fprintf(stderr, "%s: error: %s\n", prog, zenc_error_last());
		code = exit_code_of(rc, o.config_path);
		goto done;
	}
	code = zenc_run_cancelled(run) ? ZENC_EXIT_CANCELLED
	       : zenc_run_failed(run)  ? ZENC_EXIT_FAILED
				       : ZENC_EXIT_OK;
done:
	zenc_run_free(run);
	free(params);
	fflush(NULL);
	return code;
}
