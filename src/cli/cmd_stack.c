/*
 * zenc stack VERB ...: stacks of components, in ZenML's shape.
 *
 *   zenc stack register NAME [-o ORCH] [-a ART] [-m META] [-al ALERTER]
 *   zenc stack list [--json]
 *   zenc stack describe [NAME] [--json]
 *   zenc stack set NAME
 *   zenc stack update NAME [-o ORCH] [-a ART] [-m META] [-al ALERTER]
 *   zenc stack delete NAME
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage_register[] =
	"zenc stack register NAME [-o ORCHESTRATOR] [-a ARTIFACT_STORE]\n"
	"                           [-m METADATA_STORE] [-al ALERTER] [--set]";
static const char usage_list[] = "zenc stack list [--json]";
static const char usage_describe[] = "zenc stack describe [NAME] [--json]";
static const char usage_set[] = "zenc stack set NAME";
static const char usage_update[] =
	"zenc stack update NAME [-o ORCHESTRATOR] [-a ARTIFACT_STORE]\n"
	"                         [-m METADATA_STORE] [-al ALERTER]";
static const char usage_delete[] = "zenc stack delete NAME";

static const char usage_components[] =
	"\n"
	"  -o, --orchestrator NAME     the orchestrator\n"
	"  -a, --artifact-store NAME   the artifact store\n"
	"  -m, --metadata-store NAME   the metadata store\n"
	"  -al, --alerter NAME         the alerter (optional)\n";

static void usage(FILE *out, const char *verb)
{
	const char *all[] = {usage_register, usage_list,   usage_describe,
			     usage_set,      usage_update, usage_delete};
	const char *names[] = {"register", "list",   "describe",
			       "set",      "update", "delete"};
	const char *lead = "usage:";
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (verb && strcmp(verb, names[i]) != 0)
			continue;
		fprintf(out, "%s %s\n", lead, all[i]);
		lead = "   or:";
	}
	if (!verb || strcmp(verb, "register") == 0) {
		fputs(usage_components, out);
		fputs("  --set                       make it the active stack"
		      "\n\nAn omitted component is the one named 'default' (the"
		      " alerter: none,\nunless an alerter 'default' exists).\n",
		      out);
	} else if (strcmp(verb, "update") == 0) {
		fputs(usage_components, out);
		fputs("\n-al '' removes the alerter.\n", out);
	} else if (strcmp(verb, "describe") == 0) {
		fputs("\nWith no NAME: the active stack.\n", out);
	}
}

typedef struct args {
	const char *name;
	const char *comps[ZENC_COMPONENT_KINDS];
	bool set;
	bool json;
	bool help;
} args;

/* A component option at argv[*i] ("-o NAME", "--orchestrator NAME",
 * "--orchestrator=NAME"): its kind with *value set, -1 when it is none,
 * -2 when its value is missing. */
static int component_option(int argc, char **argv, int *i, const char **value)
{
	static const char *const shorts[ZENC_COMPONENT_KINDS] = {
		"-o", "-a", "-m", "-al"};
	char name[32];
	int k, m;

	for (k = 0; k < ZENC_COMPONENT_KINDS; k++) {
		snprintf(
			name, sizeof(name), "--%s",
			zenc_component_kind_name((zenc_component_kind)k));
		if ((m = zenc__opt_value(argc, argv, i, shorts[k], value)) ||
		    (m = zenc__opt_value(argc, argv, i, name, value)))
			return m < 0 ? -2 : k;
	}
	return -1;
}

/* `flags`: which of "components", "set", "json" the verb takes. */
static int parse_args(args *a, int argc, char **argv, const char *flags)
{
	const char *arg, *value;
	int i, k;

	memset(a, 0, sizeof(*a));
	for (i = 1; i < argc; i++) {
		arg = argv[i];
		if (arg[0] != '-' || !arg[1]) {
			if (a->name) {
				cli_error("unexpected argument '%s'", arg);
				return -1;
			}
			a->name = arg;
		} else if (cli_is_help(arg)) {
			a->help = true;
		} else if (
			strstr(flags, "json") && strcmp(arg, "--json") == 0) {
			a->json = true;
		} else if (strstr(flags, "set") && strcmp(arg, "--set") == 0) {
			a->set = true;
		} else if (
			strstr(flags, "components") &&
			(k = component_option(argc, argv, &i, &value)) != -1) {
			if (k < 0) {
				cli_error("option '%s' needs a value", arg);
				return -1;
			}
			a->comps[k] = value;
		} else {
			cli_error("unknown option '%s'", arg);
			return -1;
		}
	}
	return 0;
}

/* Parses, answers --help, checks NAME (need: 1 required, 0 refused, -1
 * optional).  Returns an exit code, or -1 to go on. */
static int start(args *a, int argc, char **argv, const char *flags, int need)
{
	if (parse_args(a, argc, argv, flags) < 0) {
		usage(stderr, argv[0]);
		return ZENC_EXIT_USAGE;
	}
	if (a->help) {
		usage(stdout, argv[0]);
		return ZENC_EXIT_OK;
	}
	if (need == 1 && !a->name) {
		cli_error("missing stack name");
		usage(stderr, argv[0]);
		return ZENC_EXIT_USAGE;
	}
	if (need == 0 && a->name) {
		cli_error("unexpected argument '%s'", a->name);
		usage(stderr, argv[0]);
		return ZENC_EXIT_USAGE;
	}
	return -1;
}

static int run_change(const char *verb, const args *a)
{
	int rc;

	if (strcmp(verb, "register") == 0)
		rc = zenc_stack_register(a->name, a->comps, a->set);
	else if (strcmp(verb, "update") == 0)
		rc = zenc_stack_update(a->name, a->comps);
	else if (strcmp(verb, "set") == 0)
		rc = zenc_stack_activate(a->name);
	else
		rc = zenc_stack_delete(a->name);
	if (rc < 0) {
		cli_error("%s", zenc_error_last());
		return zenc_exit_status(rc);
	}
	if (strcmp(verb, "set") == 0)
		printf("active stack: '%s'\n", a->name);
	else
		printf("%s stack '%s'%s\n",
		       strcmp(verb, "register") == 0 ? "registered"
		       : strcmp(verb, "update") == 0 ? "updated"
						     : "deleted",
		       a->name, a->set ? " (active)" : "");
	return ZENC_EXIT_OK;
}

static int do_register(int argc, char **argv)
{
	args a;
	int rc;

	if ((rc = start(&a, argc, argv, "components set", 1)) >= 0)
		return rc;
	return run_change("register", &a);
}

static int do_update(int argc, char **argv)
{
	args a;
	int rc, k;

	if ((rc = start(&a, argc, argv, "components", 1)) >= 0)
		return rc;
	for (k = 0; k < ZENC_COMPONENT_KINDS && !a.comps[k]; k++)
		;
	if (k == ZENC_COMPONENT_KINDS) {
		cli_error("nothing to update (give -o, -a, -m or -al)");
		usage(stderr, argv[0]);
		return ZENC_EXIT_USAGE;
	}
	return run_change("update", &a);
}

static int do_set(int argc, char **argv)
{
	args a;
	int rc;

	if ((rc = start(&a, argc, argv, "", 1)) >= 0)
		return rc;
	return run_change("set", &a);
}

static int do_delete(int argc, char **argv)
{
	args a;
	int rc;

	if ((rc = start(&a, argc, argv, "", 1)) >= 0)
		return rc;
	return run_change("delete", &a);
}

static void stack_json(zenc_buf *b, const zenc_stack_info *s)
{
	json_t *o = json_object(), *comps = json_object();
	int k;

	json_object_set_new(o, "name", cli_json_str(s->name));
	json_object_set_new(o, "active", json_boolean(s->active));
	for (k = 0; k < ZENC_COMPONENT_KINDS; k++)
		if (s->components[k])
			json_object_set_new(
				comps,
				zenc_component_kind_name(
					(zenc_component_kind)k),
				cli_json_str(s->components[k]));
	json_object_set_new(o, "components", comps);
	cli_json_put(b, o, 1);
	json_decref(o);
}

static int read_config(zenc_stack_config **cfg)
{
	int rc = zenc_stack_config_read(cfg);

	if (rc < 0) {
		cli_error("%s", zenc_error_last());
		return zenc_exit_status(rc);
	}
	return -1;
}

static int do_list(int argc, char **argv)
{
	static const char *const heads[ZENC_COMPONENT_KINDS] = {
		"ORCHESTRATOR", "ARTIFACT-STORE", "METADATA-STORE", "ALERTER"};
	zenc_stack_config *cfg = NULL;
	const zenc_stack_info *ss;
	zenc_buf b = ZENC_BUF_INIT;
	size_t i, w[ZENC_COMPONENT_KINDS + 1];
	args a;
	int rc, k;

	if ((rc = start(&a, argc, argv, "json", 0)) >= 0)
		return rc;
	if ((rc = read_config(&cfg)) >= 0)
		goto done;
	/* Sorted by name. */
	ss = cfg->stacks;
	if (a.json) {
		zenc_buf_putc(&b, '[');
		for (i = 0; i < cfg->n_stacks; i++) {
			if (i)
				zenc_buf_putc(&b, ',');
			stack_json(&b, &ss[i]);
		}
		zenc_buf_puts(&b, "]\n");
		fputs(zenc_buf_cstr(&b), stdout);
		rc = ZENC_EXIT_OK;
		goto done;
	}
	/* Columns: the name, then one per kind. */
	w[0] = 4;
	for (k = 0; k < ZENC_COMPONENT_KINDS; k++)
		w[k + 1] = strlen(heads[k]);
	for (i = 0; i < cfg->n_stacks; i++) {
		if (strlen(ss[i].name) > w[0])
			w[0] = strlen(ss[i].name);
		for (k = 0; k < ZENC_COMPONENT_KINDS; k++)
			if (ss[i].components[k] &&
			    strlen(ss[i].components[k]) > w[k + 1])
				w[k + 1] = strlen(ss[i].components[k]);
	}
	printf("  %-*s", (int)w[0], "NAME");
	for (k = 0; k < ZENC_COMPONENT_KINDS; k++)
		printf("  %-*s",
		       k + 1 < ZENC_COMPONENT_KINDS ? (int)w[k + 1] : 0,
		       heads[k]);
	putchar('\n');
	for (i = 0; i < cfg->n_stacks; i++) {
		printf("%c %-*s", ss[i].active ? '*' : ' ', (int)w[0],
		       ss[i].name);
		for (k = 0; k < ZENC_COMPONENT_KINDS; k++)
			printf("  %-*s",
			       k + 1 < ZENC_COMPONENT_KINDS ? (int)w[k + 1] : 0,
			       ss[i].components[k] ? ss[i].components[k] : "-");
		putchar('\n');
	}
	rc = ZENC_EXIT_OK;
done:
	zenc_buf_release(&b);
	zenc_stack_config_free(cfg);
	return rc;
}

static int do_describe(int argc, char **argv)
{
	zenc_stack_config *cfg = NULL;
	zenc_buf b = ZENC_BUF_INIT;
	const zenc_stack_info *s;
	const zenc_component_info *c;
	const char *kind;
	args a;
	int rc, k;

	if ((rc = start(&a, argc, argv, "json", -1)) >= 0)
		return rc;
	if ((rc = read_config(&cfg)) >= 0)
		goto done;
	if ((rc = zenc_stack_config_stack(cfg, a.name, &s)) < 0) {
		cli_error("%s", zenc_error_last());
		rc = zenc_exit_status(rc);
		goto done;
	}
	if (a.json) {
		stack_json(&b, s);
		zenc_buf_putc(&b, '\n');
		fputs(zenc_buf_cstr(&b), stdout);
		rc = ZENC_EXIT_OK;
		goto done;
	}
	printf("stack '%s'%s\n", s->name, s->active ? " (active)" : "");
	for (k = 0; k < ZENC_COMPONENT_KINDS; k++) {
		kind = zenc_component_kind_name((zenc_component_kind)k);
		if (s->components[k] && zenc_stack_config_component(
						cfg, (zenc_component_kind)k,
						s->components[k], &c) == 0)
			printf("  %-16s %s (%s)\n", kind, c->name, c->flavor);
		else
			printf("  %-16s -\n", kind);
	}
	rc = ZENC_EXIT_OK;
done:
	zenc_buf_release(&b);
	zenc_stack_config_free(cfg);
	return rc;
}

typedef struct verb {
	const char *name;
	int (*fn)(int argc, char **argv);
} verb;

static const verb verbs[] = {
	{"register", do_register}, {"list", do_list},
	{"describe", do_describe}, {"set", do_set},
	{"update", do_update},     {"delete", do_delete},
};

#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

int cmd_stack(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr, NULL);
		return ZENC_EXIT_USAGE;
	}
	if (cli_is_help(argv[1])) {
		usage(stdout, NULL);
		return ZENC_EXIT_OK;
	}
	for (i = 0; i < NVERBS; i++)
		if (strcmp(argv[1], verbs[i].name) == 0)
			return verbs[i].fn(argc - 1, argv + 1);
	{
		const char *names[NVERBS + 1];

		for (i = 0; i < NVERBS; i++)
			names[i] = verbs[i].name;
		names[NVERBS] = NULL;
		if (!cli_unknown_command("zenc stack", argv[1], names))
			usage(stderr, NULL);
	}
	return ZENC_EXIT_USAGE;
}
