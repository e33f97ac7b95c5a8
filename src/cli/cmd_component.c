/*
 * zenc orchestrator|artifact-store|metadata-store|alerter VERB ...: the
 * components of stacks, in ZenML's shape.
 *
 *   zenc KIND register NAME --flavor FLAVOR [--KEY=VALUE]...
 *   zenc KIND list [--json]
 *   zenc KIND describe NAME [--json]
 *   zenc KIND update NAME --KEY=VALUE...
 *   zenc KIND delete NAME
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "zenc/sys/flavor.h"

/* One verb.  `only` limits it to one kind (NULL: every kind); `fn` gets
 * the kind and argv with argv[0] the verb. */
typedef struct verb {
	const char *name;
	int (*fn)(const char *kind, int argc, char **argv);
	const char *args;
	const char *only;
} verb;

static int do_register(const char *kind, int argc, char **argv);
static int do_list(const char *kind, int argc, char **argv);
static int do_describe(const char *kind, int argc, char **argv);
static int do_update(const char *kind, int argc, char **argv);
static int do_delete(const char *kind, int argc, char **argv);

static const verb verbs[] = {
	{"register", do_register,
	 "register NAME --flavor FLAVOR [--KEY=VALUE]...", NULL},
	{"list", do_list, "list [--json]", NULL},
	{"describe", do_describe, "describe NAME [--json]", NULL},
	{"update", do_update, "update NAME --KEY=VALUE...", NULL},
	{"delete", do_delete, "delete NAME", NULL},
	/* Verbs of one kind. */
	{"test", cmd_alerter_test, "test NAME", "alerter"},
};

#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

static bool verb_applies(const verb *v, const char *kind)
{
	return !v->only || strcmp(v->only, kind) == 0;
}

/* The names of `kind`'s flavors, sorted, joined by ", ". */
static void flavor_names(zenc_buf *b, const char *kind)
{
	const zenc_flavor **list;
	size_t i, n;

	if (zenc_flavor_list(&list, &n, kind) < 0)
		return;
	for (i = 0; i < n; i++)
		zenc_buf_printf(b, "%s%s", i ? ", " : "", list[i]->name);
	free(list);
}

static void usage(FILE *out, const char *kind, const verb *only)
{
	const char *lead = "usage:";
	size_t i;

	for (i = 0; i < NVERBS; i++) {
		if (!verb_applies(&verbs[i], kind) ||
		    (only && only != &verbs[i]))
			continue;
		fprintf(out, "%s zenc %s %s\n", lead, kind, verbs[i].args);
		lead = "   or:";
	}
	if (!only || strcmp(only->name, "register") == 0) {
		zenc_buf b = ZENC_BUF_INIT;

		flavor_names(&b, kind);
		fprintf(out, "\n%s flavors: %s\n", kind, zenc_buf_cstr(&b));
		zenc_buf_release(&b);
	}
	if (only && strcmp(only->name, "update") == 0)
		fprintf(out, "\nAn empty value (--KEY=) removes the key.\n");
	if (!only)
		fprintf(out, "\nzenc %s VERB --help describes one verb.\n",
			kind);
}

/* With `--help` for a flavor: its keys.  Printed by `register --help`. */
static void flavor_help(FILE *out, const char *kind)
{
	const zenc_flavor **list, *f;
	const char **k;
	size_t i, j, n, nk;

	if (zenc_flavor_list(&list, &n, kind) < 0)
		return;
	for (i = 0; i < n; i++) {
		f = list[i];
		k = zenc_flavor_keys(f, &nk);
		fprintf(out, "  %-10s %s\n", f->name,
			f->description ? f->description : "");
		fprintf(out, "  %-10s keys:", "");
		if (!nk)
			fprintf(out, " none");
		for (j = 0; j < nk; j++)
			fprintf(out, " %s%s", k[j],
				zenc_flavor_is_secret_key(f, k[j]) ? " (secret)"
								   : "");
		fputc('\n', out);
		free(k);
	}
	free(list);
}

/*
 * Arguments: NAME, --flavor/-f FLAVOR (or --flavor=FLAVOR), --json, and
 * config keys as --KEY=VALUE or --KEY VALUE ("-" in KEY reads as "_").
 */
typedef struct args {
	const char *name;
	const char *flavor;
	bool json;
	bool help;
	char **keys;
	const char **values;
	size_t n;
} args;

static void args_release(args *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->keys[i]);
	free(a->keys);
	free(a->values);
}

static void add_kv(args *a, const char *key, size_t klen, const char *value)
{
	char *k = zenc__strndup(key, klen), *p;

	for (p = k; *p; p++)
		if (*p == '-')
			*p = '_';
	a->keys = zenc__realloc(a->keys, (a->n + 1) * sizeof(*a->keys));
	a->values = zenc__realloc(a->values, (a->n + 1) * sizeof(*a->values));
	a->keys[a->n] = k;
	a->values[a->n] = value;
	a->n++;
}

/* Fills `a`; `flags` says which of "flavor", "json", "kv" the verb takes.
 * Returns 0 or prints the error and returns -1. */
static int parse_args(args *a, int argc, char **argv, const char *flags)
{
	bool dashdash = false;
	const char *arg, *eq;
	int i, m;

	memset(a, 0, sizeof(*a));
	for (i = 1; i < argc; i++) {
		arg = argv[i];
		if (dashdash || arg[0] != '-' || !arg[1]) {
			if (a->name) {
				cli_error("unexpected argument '%s'", arg);
				return -1;
			}
			a->name = arg;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			dashdash = true;
		} else if (cli_is_help(arg)) {
			a->help = true;
		} else if (
			strstr(flags, "json") && strcmp(arg, "--json") == 0) {
			a->json = true;
		} else if (
			strstr(flags, "flavor") &&
			((m = zenc__opt_value(
				  argc, argv, &i, "--flavor", &a->flavor)) ||
			 (m = zenc__opt_value(
				  argc, argv, &i, "-f", &a->flavor)))) {
			if (m < 0) {
				cli_error("option '%s' needs a value", arg);
				return -1;
			}
		} else if (
			strstr(flags, "kv") && arg[1] == '-' && arg[2] &&
			arg[2] != '=') {
			eq = strchr(arg, '=');
			if (eq) {
				add_kv(a, arg + 2, (size_t)(eq - arg - 2),
				       eq + 1);
			} else if (i + 1 < argc) {
				add_kv(a, arg + 2, strlen(arg + 2), argv[++i]);
			} else {
				cli_error("option '%s' needs a value", arg);
				return -1;
			}
		} else {
			cli_error("unknown option '%s'", arg);
			return -1;
		}
	}
	return 0;
}

static int run_change(const char *kind, const char *verb_name, args *a)
{
	const char *const *keys = (const char *const *)a->keys;
	zenc_component_kind k = ZENC_COMPONENT_ALERTER;
	int rc;

	zenc_component_kind_parse(&k, kind);
	if (strcmp(verb_name, "register") == 0)
		rc = zenc_component_register(
			k, a->name, a->flavor, keys, a->values, a->n);
	else if (strcmp(verb_name, "update") == 0)
		rc = zenc_component_update(k, a->name, keys, a->values, a->n);
	else
		rc = zenc_component_delete(k, a->name);
	if (rc < 0) {
		cli_error("%s", zenc_error_last());
		return zenc_exit_status(rc);
	}
	printf("%s %s '%s'\n",
	       strcmp(verb_name, "register") == 0 ? "registered"
	       : strcmp(verb_name, "update") == 0 ? "updated"
						  : "deleted",
	       kind, a->name);
	return ZENC_EXIT_OK;
}

static const verb *find_verb(const char *name)
{
	size_t i;

	for (i = 0; i < NVERBS; i++)
		if (strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	return NULL;
}

/* Common start of every verb: parse, answer --help, require NAME. */
static int start(
	args *a,
	const char *kind,
	int argc,
	char **argv,
	const char *flags,
	bool need_name)
{
	const verb *v = find_verb(argv[0]);

	if (parse_args(a, argc, argv, flags) < 0) {
		usage(stderr, kind, v);
		return ZENC_EXIT_USAGE;
	}
	if (a->help) {
		usage(stdout, kind, v);
		if (strcmp(v->name, "register") == 0)
			flavor_help(stdout, kind);
		return ZENC_EXIT_OK;
	}
	if (need_name && !a->name) {
		cli_error("missing %s name", kind);
		usage(stderr, kind, v);
		return ZENC_EXIT_USAGE;
	}
	if (!need_name && a->name) {
		cli_error("unexpected argument '%s'", a->name);
		usage(stderr, kind, v);
		return ZENC_EXIT_USAGE;
	}
	return -1;
}

static int do_register(const char *kind, int argc, char **argv)
{
	args a;
	int rc;

	if ((rc = start(&a, kind, argc, argv, "flavor kv", true)) >= 0)
		goto done;
	if (!a.flavor) {
		zenc_buf b = ZENC_BUF_INIT;

		flavor_names(&b, kind);
		cli_error(
			"missing --flavor (%s flavors: %s)", kind,
			zenc_buf_cstr(&b));
		zenc_buf_release(&b);
		rc = ZENC_EXIT_USAGE;
		goto done;
	}
	rc = run_change(kind, "register", &a);
done:
	args_release(&a);
	return rc;
}

static int do_update(const char *kind, int argc, char **argv)
{
	args a;
	int rc;

	/* "flavor" is parsed only to say clearly that it cannot change. */
	if ((rc = start(&a, kind, argc, argv, "flavor kv", true)) >= 0)
		goto done;
	if (a.flavor) {
		cli_error(
			"the flavor of %s '%s' cannot be changed (delete and "
			"register it again)",
			kind, a.name);
		rc = ZENC_EXIT_USAGE;
		goto done;
	}
	if (!a.n) {
		cli_error("nothing to update (give --KEY=VALUE)");
		rc = ZENC_EXIT_USAGE;
		goto done;
	}
	rc = run_change(kind, "update", &a);
done:
	args_release(&a);
	return rc;
}

static int do_delete(const char *kind, int argc, char **argv)
{
	args a;
	int rc;

	if ((rc = start(&a, kind, argc, argv, "", true)) >= 0)
		goto done;
	rc = run_change(kind, "delete", &a);
done:
	args_release(&a);
	return rc;
}

/* The names of the stacks that use component `c`, joined by ", ". */
static void users(
	zenc_buf *b, const zenc_stack_config *cfg, const zenc_component_info *c)
{
	size_t i;

	for (i = 0; i < cfg->n_stacks; i++) {
		const char *used = cfg->stacks[i].components[c->kind];

		if (!used || strcmp(used, c->name) != 0)
			continue;
		if (b->len)
			zenc_buf_puts(b, ", ");
		zenc_buf_puts(b, cfg->stacks[i].name);
	}
}

/* Values come masked from the snapshot. */
static void component_json(zenc_buf *b, const zenc_component_info *c)
{
	json_t *o = json_object(), *config = json_object();
	size_t i;

	json_object_set_new(o, "name", cli_json_str(c->name));
	json_object_set_new(o, "flavor", cli_json_str(c->flavor));
	for (i = 0; i < c->n; i++)
		json_object_set_new(
			config, c->keys[i], cli_json_str(c->values[i]));
	json_object_set_new(o, "config", config);
	cli_json_put(b, o, 1);
	json_decref(o);
}

/* As the config file writes a value: backslash, and control characters
 * as \n, \r, \t or \xHH. */
static void put_escaped(zenc_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '\\')
			zenc_buf_puts(b, "\\\\");
		else if (ch == '\n')
			zenc_buf_puts(b, "\\n");
		else if (ch == '\r')
			zenc_buf_puts(b, "\\r");
		else if (ch == '\t')
			zenc_buf_puts(b, "\\t");
		else if (ch < 0x20 || ch == 0x7f)
			zenc_buf_printf(b, "\\x%02x", ch);
		else
			zenc_buf_putc(b, (char)ch);
	}
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

static int do_list(const char *kind, int argc, char **argv)
{
	zenc_stack_config *cfg = NULL;
	const zenc_component_info **cs = NULL;
	zenc_buf b = ZENC_BUF_INIT;
	size_t i, n = 0, width = 4;
	zenc_component_kind k = ZENC_COMPONENT_ALERTER;
	args a;
	int rc;

	if ((rc = start(&a, kind, argc, argv, "json", false)) >= 0)
		goto done;
	zenc_component_kind_parse(&k, kind);
	if ((rc = read_config(&cfg)) >= 0)
		goto done;
	/* The snapshot's components are sorted by kind, then name. */
	cs = zenc__calloc(cfg->n_components + 1, sizeof(*cs));
	for (i = 0; i < cfg->n_components; i++) {
		if (cfg->components[i].kind != k)
			continue;
		cs[n++] = &cfg->components[i];
		if (strlen(cfg->components[i].name) > width)
			width = strlen(cfg->components[i].name);
	}
	if (a.json) {
		zenc_buf_putc(&b, '[');
		for (i = 0; i < n; i++) {
			if (i)
				zenc_buf_putc(&b, ',');
			component_json(&b, cs[i]);
		}
		zenc_buf_puts(&b, "]\n");
		fputs(zenc_buf_cstr(&b), stdout);
	} else if (!n) {
		printf("no %s registered (zenc %s register NAME --flavor "
		       "FLAVOR)\n",
		       kind, kind);
	} else {
		printf("%-*s  %-10s  %s\n", (int)width, "NAME", "FLAVOR",
		       "STACKS");
		for (i = 0; i < n; i++) {
			zenc_buf_clear(&b);
			users(&b, cfg, cs[i]);
			printf("%-*s  %-10s  %s\n", (int)width, cs[i]->name,
			       cs[i]->flavor, b.len ? zenc_buf_cstr(&b) : "-");
		}
	}
	rc = ZENC_EXIT_OK;
done:
	free(cs);
	zenc_buf_release(&b);
	zenc_stack_config_free(cfg);
	args_release(&a);
	return rc;
}

static int do_describe(const char *kind, int argc, char **argv)
{
	zenc_stack_config *cfg = NULL;
	zenc_buf b = ZENC_BUF_INIT, v = ZENC_BUF_INIT;
	const zenc_component_info *c;
	zenc_component_kind k = ZENC_COMPONENT_ALERTER;
	size_t i;
	args a;
	int rc;

	if ((rc = start(&a, kind, argc, argv, "json", true)) >= 0)
		goto done;
	zenc_component_kind_parse(&k, kind);
	if ((rc = read_config(&cfg)) >= 0)
		goto done;
	if ((rc = zenc_stack_config_component(cfg, k, a.name, &c)) < 0) {
		cli_error("%s", zenc_error_last());
		rc = zenc_exit_status(rc);
		goto done;
	}
	if (a.json) {
		component_json(&b, c);
		zenc_buf_puts(&b, "\n");
		fputs(zenc_buf_cstr(&b), stdout);
		rc = ZENC_EXIT_OK;
		goto done;
	}
	printf("%s '%s'\n", kind, c->name);
	printf("  %-16s %s\n", "flavor", c->flavor);
	for (i = 0; i < c->n; i++) {
		zenc_buf_clear(&v);
		put_escaped(&v, c->values[i]);
		printf("  %-16s %s\n", c->keys[i], zenc_buf_cstr(&v));
	}
	users(&b, cfg, c);
	printf("  %-16s %s\n", "used by", b.len ? zenc_buf_cstr(&b) : "-");
	rc = ZENC_EXIT_OK;
done:
	zenc_buf_release(&b);
	zenc_buf_release(&v);
	zenc_stack_config_free(cfg);
	args_release(&a);
	return rc;
}

int cmd_component(const char *kind, int argc, char **argv)
{
	const verb *v;
	zenc_component_kind k;

	if (zenc_component_kind_parse(&k, kind) < 0) {
		cli_error("unknown component kind '%s'", kind);
		return ZENC_EXIT_USAGE;
	}
	if (argc < 2) {
		usage(stderr, kind, NULL);
		return ZENC_EXIT_USAGE;
	}
	if (cli_is_help(argv[1])) {
		usage(stdout, kind, NULL);
		return ZENC_EXIT_OK;
	}
	v = find_verb(argv[1]);
	if (!v || !verb_applies(v, kind)) {
		const char *names[NVERBS + 1];
		zenc_buf cmd = ZENC_BUF_INIT;
		size_t i, n = 0;

		for (i = 0; i < NVERBS; i++)
			if (verb_applies(&verbs[i], kind))
				names[n++] = verbs[i].name;
		names[n] = NULL;
		zenc_buf_printf(&cmd, "zenc %s", kind);
		if (!cli_unknown_command(zenc_buf_cstr(&cmd), argv[1], names))
			usage(stderr, kind, NULL);
		zenc_buf_release(&cmd);
		return ZENC_EXIT_USAGE;
	}
	return v->fn(kind, argc - 1, argv + 1);
}
