/*
 * zenc run: run a YAML pipeline of shell commands (docs/yaml.md).  The
 * file becomes an ordinary pipeline (zenc_yaml_pipeline_load()) that runs
 * through zenc_main_ext(), so its command line, records and exit codes
 * are those of any pipeline program.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

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
	"  --no-cache                 execute every step, none from the "
	"step cache\n"
	"                             (their keys are still recorded)\n"
	"  --resume RUN               a new run that reuses the steps RUN "
	"completed\n"
	"                             unchanged and executes the rest\n"
	"\n"
	"Exit status: 0 the run completed, 1 it failed, 2 usage or errors "
	"in the file,\n"
	"3 the environment is broken (store or stack unusable), 130 the "
	"run was\n"
	"cancelled (SIGINT, SIGTERM, zenc runs cancel).\n";

/* The options of the run that take a value, as zenc_main() reads them:
 * their values are not the FILE. */
static const char *const value_opts[] = {
	"--run-name",  "--param",        "--stack",      "--jobs",   "-j",
	"--isolation", "--hook-failure", "--retries",    "--config", "--run-id",
	"--step",      "--attempt",      "--slurm-jobs", "--resume", NULL};

static int takes_value(const char *a)
{
	size_t k;

	for (k = 0; value_opts[k]; k++)
		if (!strcmp(a, value_opts[k]))
			return 1;
	return 0;
}

/*
 * `zenc run FILE [options]`: the FILE and --dry-run are this command's;
 * everything else is the command line of a pipeline program, served by
 * zenc_main_ext() for the pipeline the file makes.  The jobs of a Slurm
 * run come back as `zenc run FILE __step ...`.
 */
int cmd_run(int argc, char **argv)
{
	zenc_main_options mo = ZENC_MAIN_OPTIONS_INIT;
	const char *entry[4] = {"/proc/self/exe", "run", NULL, NULL};
	const char **params = NULL;
	const char *file = NULL, *mode = NULL;
	char **args = NULL, *abs_file = NULL;
	zenc_yaml_pipeline *yp = NULL;
	size_t n_params = 0;
	int i, n_args = 0, code = ZENC_EXIT_USAGE, dry_run = 0;

	for (i = 1; i < argc; i++)
		if (cli_is_help(argv[i])) {
			fputs(usage_text, stdout);
			return ZENC_EXIT_OK;
		}
	params = calloc((size_t)argc + 1, sizeof(*params));
	args = calloc((size_t)argc + 2, sizeof(*args));
	if (!params || !args) {
		code = ZENC_EXIT_ENV;
		goto done;
	}
	args[n_args++] = "zenc";
	args[n_args++] = "run";
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--dry-run") || !strcmp(a, "-n")) {
			dry_run = 1;
		} else if (a[0] == '-' && a[1]) {
			args[n_args++] = argv[i];
			if (!strncmp(a, "--param=", 8))
				params[n_params++] = a + 8;
			if (takes_value(a) && i + 1 < argc) {
				if (!strcmp(a, "--param"))
					params[n_params++] = argv[i + 1];
				args[n_args++] = argv[++i];
			}
		} else if (
			file && !mode &&
			(!strcmp(a, "__step") || !strcmp(a, "__finish"))) {
			/* Hidden: what the jobs of a Slurm run execute. */
			mode = a;
			args[1] = argv[i];
		} else if (file) {
			cli_error(
				"one pipeline file at a time ('%s' and "
				"'%s')",
				file, a);
			goto usage;
		} else {
			file = a;
		}
	}
	if (!file) {
		cli_error("no pipeline file");
		goto usage;
	}
	/* Jobs of a Slurm run re-read the same file, wherever they start. */
	abs_file = realpath(file, NULL);
	entry[2] = abs_file ? abs_file : file;

	if (zenc_yaml_pipeline_load(&yp, file) < 0 ||
	    zenc_yaml_pipeline_check_params(yp, params) < 0) {
		cli_error("%s", zenc_error_last());
		goto done;
	}
	if (dry_run) {
		zenc_yaml_pipeline_print_plan(yp, stdout);
		printf("dry run: nothing was run\n");
		code = ZENC_EXIT_OK;
		goto done;
	}
	mo.prog = "zenc";
	mo.help_command = "zenc run";
	mo.entry = entry;
	code = zenc_main_ext(zenc_yaml_pipeline_get(yp), n_args, args, &mo);
	goto done;
usage:
	fputs("Try 'zenc run --help'.\n", stderr);
	code = ZENC_EXIT_USAGE;
done:
	free(abs_file);
	zenc_yaml_pipeline_free(yp);
	free(args);
	free(params);
	fflush(NULL);
	return code;
}
