/*
 * zenc: the command.  A table of builtins after git's, each in its own
 * cmd_<verb>.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "util/util.h"
#include "util/yaml.h"

struct builtin {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static int cmd_orchestrator(int argc, char **argv)
{
	return cmd_component("orchestrator", argc, argv);
}

static int cmd_artifact_store(int argc, char **argv)
{
	return cmd_component("artifact-store", argc, argv);
}

static int cmd_metadata_store(int argc, char **argv)
{
	return cmd_component("metadata-store", argc, argv);
}

static int cmd_alerter(int argc, char **argv)
{
	return cmd_component("alerter", argc, argv);
}

static const struct builtin builtins[] = {
	{"run", cmd_run, "run a YAML pipeline of shell commands"},
	{"runs", cmd_runs,
	 "list, show, logs, report, draw, cancel, delete and prune runs"},
	{"pipelines", cmd_pipelines, "list the pipelines that have runs"},
	{"stack", cmd_stack, "register, list, describe, set and delete stacks"},
	{"orchestrator", cmd_orchestrator, "manage orchestrator components"},
	{"artifact-store", cmd_artifact_store,
	 "manage artifact store components"},
	{"metadata-store", cmd_metadata_store,
	 "manage metadata store components"},
	{"alerter", cmd_alerter, "manage alerter components"},
	{"secret", cmd_secret, "set, list and delete secrets"},
	{"alerts", cmd_alerts, "list and flush the alert outbox"},
	{"ui", cmd_ui, "serve a local dashboard of recorded runs"},
	{"version", cmd_version, "print the version"},
};

#define NBUILTINS (sizeof(builtins) / sizeof(builtins[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: zenc <command> [<args>]\n\ncommands:\n");
	for (i = 0; i < NBUILTINS; i++)
		fprintf(f, "  %-16s %s\n", builtins[i].name, builtins[i].help);
	fprintf(f, "\n'zenc <command> --help' tells more about a command; "
		   "'zenc --version' and\n'zenc <command> --version' print "
		   "zenc's version.\n"
		   "Pipeline programs built with zenc_main() take 'run', "
		   "'validate', '--help'\nand '--version'.\n\n"
		   "Environment: ZENC_HOME (configuration, default "
		   "~/.config/zenc), ZENC_DATA\n"
		   "(records and artifacts, default ~/.local/share/zenc).\n"
		   "Exit status: 0 ok, 1 a run failed, 2 usage error, 3 "
		   "environment or stack error.\n");
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("zenc: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_is_help(const char *arg)
{
	return arg && (!strcmp(arg, "-h") || !strcmp(arg, "--help"));
}

int cli_unknown_command(
	const char *cmd, const char *typed, const char *const *names)
{
	const char *near = zenc__did_you_mean(typed, names);

	fprintf(stderr, "zenc: '%s' is not a %s command.", typed, cmd);
	if (near)
		fprintf(stderr, " Did you mean '%s'?\n", near);
	else
		fputc('\n', stderr);
	return near != NULL;
}

int cli_usage_error(const char *usage, const char *fmt, ...)
{
	zenc_buf b = ZENC_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	zenc_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	cli_error("%s", zenc_buf_cstr(&b));
	zenc_buf_release(&b);
	fputs(usage, stderr);
	return ZENC_EXIT_USAGE;
}

int cmd_version(int argc, char **argv)
{
	if (argc > 1 && cli_is_help(argv[1])) {
		printf("usage: zenc version\n   or: zenc --version\n   or: "
		       "zenc <command> --version\n\nPrints zenc's version.\n");
		return 0;
	}
	printf("zenc %s\n", zenc_version());
	return 0;
}

int main(int argc, char **argv)
{
	const char *names[NBUILTINS + 2];
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return ZENC_EXIT_USAGE;
	}
	if (cli_is_help(argv[1]) || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version"))
		return cmd_version(1, argv + 1);
	for (i = 0; i < NBUILTINS; i++) {
		if (strcmp(argv[1], builtins[i].name))
			continue;
		/* `zenc VERB --version`, as the verb's first argument. */
		if (argc > 2 && !strcmp(argv[2], "--version"))
			return cmd_version(1, argv + 2);
		return builtins[i].fn(argc - 1, argv + 1);
	}
	if (argv[1][0] == '-') {
		cli_error("unknown option '%s'", argv[1]);
		fputs("See 'zenc --help'.\n", stderr);
		return ZENC_EXIT_USAGE;
	}
	for (i = 0; i < NBUILTINS; i++)
		names[i] = builtins[i].name;
	names[NBUILTINS] = "help";
	names[NBUILTINS + 1] = NULL;
	if (!cli_unknown_command("zenc", argv[1], names))
		fputs("See 'zenc --help'.\n", stderr);
	return ZENC_EXIT_USAGE;
}
