/*
 * Stacks, components, flavors and secrets, against a real $ZENC_HOME in a
 * temporary folder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/config/stack.h"
#include "zenc/sys/alerter.h"
#include "zenc/sys/flavor.h"

static char *home;

/* ZENC_HOME and ZENC_DATA are read once per process: set them before any
 * test, and start each test from an empty home. */
static int group_setup(void **state)
{
	const char *base = getenv("ZENC_TEST_TMP");
	char *tmpl, *data;

	(void)state;
	if (!base || !*base)
		base = "/tmp";
	if (zenc__mkdir_p(base, 0755) < 0)
		return -1;
	tmpl = zenc__asprintf("%s/test_stack.XXXXXX", base);
	if (!mkdtemp(tmpl))
		return -1;
	home = zenc__asprintf("%s/home", tmpl);
	data = zenc__asprintf("%s/data", tmpl);
	setenv("ZENC_HOME", home, 1);
	setenv("ZENC_DATA", data, 1);
	free(data);
	free(tmpl);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	free(home);
	return 0;
}

static void remove_file(const char *name)
{
	char *path = zenc__asprintf("%s/%s", home, name);

	unlink(path);
	free(path);
}

static int setup(void **state)
{
	(void)state;
	remove_file("config");
	remove_file("secrets");
	return 0;
}

static const char *data_path(const char *rel)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s/%s", zenc__data_home(), rel);
	return buf;
}

static void test_builtin_default(void **state)
{
	zenc_stack *s = zenc__stack_builtin_default();
	const char *flavor;
	const char *const *keys, *const *values;
	size_t n = 7;

	(void)state;
	assert_string_equal(zenc_stack_name(s), "default");
	assert_string_equal(zenc__stack_orchestrator_flavor(s), "local");
	assert_string_equal(zenc__stack_store_flavor(s), "sqlite");
	assert_string_equal(
		zenc__stack_store_location(s), data_path("zenc.db"));
	assert_string_equal(
		zenc__stack_artifact_path(s), data_path("artifacts"));
	assert_null(zenc_stack_alerter(s));
	assert_int_equal(
		zenc__stack_alerter_config(s, &flavor, &keys, &values, &n),
		ZENC_ENOTFOUND);
	assert_null(flavor);
	assert_int_equal(n, 0);
	assert_null(zenc__stack_component_name(s, "alerter"));
	assert_string_equal(
		zenc__stack_component_name(s, "orchestrator"), "default");
	zenc__stack_free(s);
	zenc__stack_free(NULL);
}

static void test_load_fresh_home(void **state)
{
	zenc_stack *s = NULL;

	(void)state;
	assert_int_equal(zenc__stack_load(&s, NULL), 0);
	assert_string_equal(zenc_stack_name(s), "default");
	assert_string_equal(
		zenc__stack_store_location(s), data_path("zenc.db"));
	zenc__stack_free(s);
	assert_int_equal(zenc__stack_load(&s, "nope"), ZENC_ENOTFOUND);
	assert_null(s);
	assert_string_equal(zenc_error_last(), "unknown stack 'nope'");
}

static void test_flavors(void **state)
{
	static const char *const keys[] = {"url", "api_key", NULL};
	static const char *const secret[] = {"api_key", NULL};
	static const char *const bad_secret[] = {"password", NULL};
	zenc_flavor f = {ZENC_FLAVOR_VERSION, "alerter", "pager", keys, secret,
			 "pages someone",     NULL};
	const zenc_flavor *found;
	char name[] = "pager";

	(void)state;
	found = zenc_flavor_find("alerter", "slack");
	assert_non_null(found);
	assert_true(zenc__flavor_is_secret_key(found, "token"));
	assert_true(zenc__flavor_is_secret_key(found, "webhook_url"));
	assert_false(zenc__flavor_is_secret_key(found, "channel"));
	assert_non_null(zenc_flavor_find("metadata-store", "sqlite"));
	assert_null(zenc_flavor_find("alerter", "sqlite"));
	assert_null(zenc_flavor_find("alerter", NULL));

	/* Registration copies: changing the caller's strings changes
	 * nothing. */
	f.name = name;
	assert_int_equal(zenc_flavor_register(&f), 0);
	name[0] = 'X';
	found = zenc_flavor_find("alerter", "pager");
	assert_non_null(found);
	assert_string_equal(found->name, "pager");
	assert_true(zenc__flavor_is_secret_key(found, "api_key"));
	f.name = "pager";
	assert_int_equal(zenc_flavor_register(&f), ZENC_EEXISTS);
	f.name = "slack";
	assert_int_equal(zenc_flavor_register(&f), ZENC_EEXISTS);

	f.name = "other";
	f.secret_keys = bad_secret;
	assert_int_equal(zenc_flavor_register(&f), ZENC_EINVALID);
	f.secret_keys = secret;
	f.kind = "teleporter";
	assert_int_equal(zenc_flavor_register(&f), ZENC_EINVALID);
	f.kind = "alerter";
	f.version = 99;
	assert_int_equal(zenc_flavor_register(&f), ZENC_EINVALID);
	assert_int_equal(zenc_flavor_register(NULL), ZENC_EINVALID);
}

static void test_flavor_messages(void **state)
{
	const zenc_flavor *f;

	(void)state;
	assert_int_equal(
		zenc__flavor_lookup(&f, "alerter", "slak"), ZENC_ENOTFOUND);
	assert_null(f);
	/* "pager" is there when test_flavors ran first. */
	assert_non_null(strstr(
		zenc_error_last(), "unknown alerter flavor 'slak' (known: "
				   "command, discord, email, log, "));
	assert_non_null(strstr(zenc_error_last(), "did you mean 'slack'?"));
	assert_int_equal(
		zenc__flavor_lookup(&f, "orchestrator", "kubernetes"),
		ZENC_ENOTFOUND);
	assert_string_equal(
		zenc_error_last(), "unknown orchestrator flavor 'kubernetes' "
				   "(known: local, slurm)");

	assert_int_equal(zenc__flavor_lookup(&f, "artifact-store", "local"), 0);
	assert_int_equal(zenc__flavor_check_key(f, "path"), 0);
	assert_int_equal(zenc__flavor_check_key(f, "pth"), ZENC_EINVALID);
	assert_string_equal(
		zenc_error_last(),
		"unknown config key 'pth' for artifact-store "
		"flavor 'local' (known: path); did you mean "
		"'path'?");
	f = zenc_flavor_find("orchestrator", "local");
	assert_int_equal(zenc__flavor_check_key(f, "x"), ZENC_EINVALID);
	assert_string_equal(
		zenc_error_last(),
		"unknown config key 'x' for orchestrator flavor "
		"'local' (known: none)");
}

static void test_escape_roundtrip(void **state)
{
	const char *in = "a\\b\nc\rd\te\x01"
			 "f {{x}} \x7f";
	zenc_buf esc = ZENC_BUF_INIT, out = ZENC_BUF_INIT;
	size_t bad = 0;

	(void)state;
	zenc__stacks_escape(&esc, in);
	assert_null(strchr(zenc_buf_cstr(&esc), '\n'));
	assert_string_equal(
		zenc_buf_cstr(&esc), "a\\\\b\\nc\\rd\\te\\x01f {{x}} \\x7f");
	assert_int_equal(
		zenc__stacks_unescape(&out, esc.ptr, esc.len, &bad), 0);
	assert_string_equal(zenc_buf_cstr(&out), in);
	zenc_buf_clear(&out);
	assert_int_equal(zenc__stacks_unescape(&out, "ab\\q", 4, &bad), -1);
	assert_int_equal(bad, 2);
	assert_int_equal(zenc__stacks_unescape(&out, "\\x00", 4, &bad), -1);
	assert_int_equal(zenc__stacks_unescape(&out, "a\\", 2, &bad), -1);
	zenc_buf_release(&esc);
	zenc_buf_release(&out);
}

static void test_parse_errors(void **state)
{
	zenc__stacks cfg;

	(void)state;
	assert_int_equal(
		zenc__stacks_parse(&cfg, "version 1\nbogus x\n", "cfg"),
		ZENC_ECONFIG);
	assert_string_equal(
		zenc_error_last(), "cfg:2:1: unknown keyword "
				   "'bogus'");
	assert_int_equal(
		zenc__stacks_parse(&cfg, "version 2\n", "cfg"), ZENC_ECONFIG);
	assert_string_equal(
		zenc_error_last(), "cfg:1:9: unsupported config version '2'");
	assert_int_equal(
		zenc__stacks_parse(
			&cfg,
			"component alerter a\n"
			"\tflavor log\n\turl x\\q\n",
			"cfg"),
		ZENC_ECONFIG);
	assert_string_equal(
		zenc_error_last(), "cfg:3:7: bad escape in value of 'url'");
	assert_int_equal(
		zenc__stacks_parse(
			&cfg,
			"active s\nstack s\n"
			"\torchestrator o\n",
			"cfg"),
		ZENC_ECONFIG);
	assert_string_equal(
		zenc_error_last(),
		"cfg: stack 's' uses unknown orchestrator 'o'");
	assert_int_equal(
		zenc__stacks_parse(
			&cfg,
			"active s\n"
			"component orchestrator o\n"
			"\tflavor local\n"
			"stack s\n\torchestrator o\n",
			"cfg"),
		ZENC_ECONFIG);
	assert_string_equal(
		zenc_error_last(), "cfg: stack 's' has no artifact-store");
	assert_int_equal(
		zenc__stacks_parse(&cfg, "\tflavor x\n", "cfg"), ZENC_ECONFIG);
	/* Nothing at all is a fresh home. */
	assert_int_equal(zenc__stacks_parse(&cfg, "# empty\n\n", "cfg"), 0);
	assert_non_null(zenc__stacks_stack(&cfg, "default"));
	zenc__stacks_release(&cfg);
}

static void test_format_parse_roundtrip(void **state)
{
	zenc__stacks cfg, back;
	zenc_buf a = ZENC_BUF_INIT, b = ZENC_BUF_INIT;
	const char *keys[] = {"body_template", "url"};
	const char *values[] = {"line 1\nline \\2 ", "http://x/"};
	const char *comps[ZENC__KIND_COUNT] = {NULL, NULL, NULL, "hook"};

	(void)state;
	zenc__stacks_default(&cfg);
	assert_int_equal(
		zenc__stacks_component_add(
			&cfg, ZENC__KIND_ALERTER, "hook", "webhook", keys,
			values, 2),
		0);
	assert_int_equal(zenc__stacks_stack_add(&cfg, "prod", comps), 0);
	zenc__stacks_format(&a, &cfg);
	assert_int_equal(zenc__stacks_parse(&back, zenc_buf_cstr(&a), "t"), 0);
	zenc__stacks_format(&b, &back);
	assert_string_equal(zenc_buf_cstr(&a), zenc_buf_cstr(&b));
	assert_string_equal(
		zenc__component_get(
			zenc__stacks_component(
				&back, ZENC__KIND_ALERTER, "hook"),
			"body_template"),
		"line 1\nline \\2 ");
	zenc__stacks_release(&cfg);
	zenc__stacks_release(&back);
	zenc_buf_release(&a);
	zenc_buf_release(&b);
}

/* The refusals leave the configuration exactly as it was. */
static void test_refusals(void **state)
{
	zenc__stacks cfg;
	zenc_buf before = ZENC_BUF_INIT, after = ZENC_BUF_INIT;
	const char *k[] = {"token"}, *v[] = {"x"};
	const char *bad_k[] = {"channel", "tokn"}, *bad_v[] = {"#a", "x"};
	const char *with_alerter[ZENC__KIND_COUNT] = {NULL, NULL, NULL, "ops"};
	const char *none[ZENC__KIND_COUNT] = {NULL, NULL, NULL, NULL};
	const char *no_orch[ZENC__KIND_COUNT] = {"", NULL, NULL, NULL};

	(void)state;
	zenc__stacks_default(&cfg);
	assert_int_equal(
		zenc__stacks_component_add(
			&cfg, ZENC__KIND_ALERTER, "ops", "slack", k, v, 1),
		0);
	assert_int_equal(zenc__stacks_stack_add(&cfg, "prod", with_alerter), 0);
	zenc__stacks_format(&before, &cfg);

	assert_int_equal(
		zenc__stacks_component_add(
			&cfg, ZENC__KIND_ALERTER, "x", "slak", NULL, NULL, 0),
		ZENC_ENOTFOUND);
	assert_int_equal(
		zenc__stacks_component_add(
			&cfg, ZENC__KIND_ALERTER, "x", "slack", bad_k, bad_v,
			2),
		ZENC_EINVALID);
	assert_int_equal(
		zenc__stacks_component_add(
			&cfg, ZENC__KIND_ALERTER, "ops", "log", NULL, NULL, 0),
		ZENC_EEXISTS);
	assert_int_equal(
		zenc__stacks_component_add(
			&cfg, ZENC__KIND_ALERTER, "-x", "log", NULL, NULL, 0),
		ZENC_EINVALID);
	assert_int_equal(
		zenc__stacks_component_update(
			&cfg, ZENC__KIND_ALERTER, "ops", bad_k, bad_v, 2),
		ZENC_EINVALID);
	assert_int_equal(
		zenc__stacks_component_delete(&cfg, ZENC__KIND_ALERTER, "ops"),
		ZENC_EINUSE);
	assert_string_equal(
		zenc_error_last(),
		"alerter 'ops' is still used by stack 'prod'");
	assert_int_equal(
		zenc__stacks_stack_add(&cfg, "prod", none), ZENC_EEXISTS);
	assert_int_equal(
		zenc__stacks_stack_update(&cfg, "prod", no_orch),
		ZENC_EINVALID);
	assert_int_equal(
		zenc__stacks_stack_delete(&cfg, "default"), ZENC_ESTATE);
	assert_int_equal(zenc__stacks_stack_activate(&cfg, "prod"), 0);
	assert_int_equal(zenc__stacks_stack_delete(&cfg, "prod"), ZENC_ESTATE);
	assert_int_equal(zenc__stacks_stack_activate(&cfg, "default"), 0);
	assert_int_equal(
		zenc__stacks_stack_activate(&cfg, "prd"), ZENC_ENOTFOUND);
	assert_string_equal(
		zenc_error_last(),
		"unknown stack 'prd' (known: default, prod); "
		"did you mean 'prod'?");

	zenc__stacks_format(&after, &cfg);
	assert_string_equal(zenc_buf_cstr(&before), zenc_buf_cstr(&after));
	zenc__stacks_release(&cfg);
	zenc_buf_release(&before);
	zenc_buf_release(&after);
}

static void test_default_alerter_rule(void **state)
{
	zenc__stacks cfg;
	const char *none[ZENC__KIND_COUNT] = {NULL, NULL, NULL, NULL};
	const char *drop[ZENC__KIND_COUNT] = {NULL, NULL, NULL, ""};

	(void)state;
	zenc__stacks_default(&cfg);
	assert_int_equal(zenc__stacks_stack_add(&cfg, "a", none), 0);
	assert_null(
		zenc__stacks_stack(&cfg, "a")->components[ZENC__KIND_ALERTER]);
	assert_int_equal(
		zenc__stacks_component_add(
			&cfg, ZENC__KIND_ALERTER, "default", "log", NULL, NULL,
			0),
		0);
	assert_int_equal(zenc__stacks_stack_add(&cfg, "b", none), 0);
	assert_string_equal(
		zenc__stacks_stack(&cfg, "b")->components[ZENC__KIND_ALERTER],
		"default");
	assert_int_equal(zenc__stacks_stack_update(&cfg, "b", drop), 0);
	assert_null(
		zenc__stacks_stack(&cfg, "b")->components[ZENC__KIND_ALERTER]);
	assert_int_equal(
		zenc__stacks_component_delete(
			&cfg, ZENC__KIND_ALERTER, "default"),
		0);
	zenc__stacks_release(&cfg);
}

static int add_prod(zenc__stacks *cfg, void *payload)
{
	const char *k[] = {"webhook_url", "channel"};
	const char *v[] = {"{{secret.HOOK}}", "#ops"};
	const char *comps[ZENC__KIND_COUNT] = {NULL, NULL, NULL, "ops"};
	int rc;

	(void)payload;
	rc = zenc__stacks_component_add(
		cfg, ZENC__KIND_ALERTER, "ops", "slack", k, v, 2);
	if (rc == 0)
		rc = zenc__stacks_stack_add(cfg, "prod", comps);
	if (rc == 0)
		rc = zenc__stacks_stack_activate(cfg, "prod");
	return rc;
}

static void test_edit_and_load(void **state)
{
	const char *flavor;
	const char *const *keys, *const *values;
	zenc_stack *s = NULL;
	struct stat st;
	char *path;
	size_t n;

	(void)state;
	assert_int_equal(zenc__stacks_edit(add_prod, NULL), 0);
	path = zenc__asprintf("%s/config", home);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	free(path);
	/* Doing it again is refused and changes nothing. */
	assert_int_equal(zenc__stacks_edit(add_prod, NULL), ZENC_EEXISTS);

	assert_int_equal(zenc__stack_load(&s, NULL), 0);
	assert_string_equal(zenc_stack_name(s), "prod");
	/* The stack now has an alerter object, made from that config. */
	assert_non_null(zenc_stack_alerter(s));
	assert_int_equal(
		zenc__stack_alerter_config(s, &flavor, &keys, &values, &n), 0);
	assert_string_equal(flavor, "slack");
	assert_int_equal(n, 2);
	assert_string_equal(keys[0], "webhook_url");
	assert_string_equal(values[0], "{{secret.HOOK}}");
	assert_string_equal(zenc__stack_component_name(s, "alerter"), "ops");
	zenc__stack_free(s);
}

static void test_mask(void **state)
{
	const zenc_flavor *slack = zenc_flavor_find("alerter", "slack");

	(void)state;
	assert_string_equal(
		zenc__stacks_mask(slack, "token", "xoxb-1"), "****");
	assert_string_equal(
		zenc__stacks_mask(slack, "token", "{{secret.T}}"),
		"{{secret.T}}");
	assert_string_equal(
		zenc__stacks_mask(slack, "token", "x {{secret.T}}"), "****");
	assert_string_equal(
		zenc__stacks_mask(slack, "channel", "#ops"), "#ops");
	assert_string_equal(zenc__stacks_mask(NULL, "channel", "#ops"), "****");
}

static void test_secrets(void **state)
{
	zenc_buf out = ZENC_BUF_INIT;
	char **names;
	size_t n, i;
	struct stat st;
	char *path;

	(void)state;
	assert_int_equal(zenc__secret_names(&names, &n), 0);
	assert_int_equal(n, 0);
	free(names);

	assert_int_equal(zenc__secret_set("TOKEN", "t0k\nen"), 0);
	assert_int_equal(zenc__secret_set("A", "first"), 0);
	assert_int_equal(zenc__secret_set("A", "alpha"), 0);
	assert_int_equal(zenc__secret_set("bad name", "x"), ZENC_EINVALID);
	path = zenc__asprintf("%s/secrets", home);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	free(path);
	assert_int_equal(stat(home, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	assert_int_equal(zenc__secret_names(&names, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "A");
	assert_string_equal(names[1], "TOKEN");
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);

	assert_int_equal(
		zenc__secret_resolve(
			&out, "Bearer {{secret.TOKEN}}/"
			      "{{secret.A}}{{secret.}}"),
		0);
	assert_string_equal(
		zenc_buf_cstr(&out), "Bearer t0k\nen/alpha{{secret.}}");
	zenc_buf_clear(&out);
	assert_int_equal(zenc__secret_resolve(&out, "no refs"), 0);
	assert_string_equal(zenc_buf_cstr(&out), "no refs");
	zenc_buf_clear(&out);
	assert_int_equal(
		zenc__secret_resolve(&out, "{{secret.NOPE}}"), ZENC_ECONFIG);
	assert_string_equal(zenc_error_last(), "unknown secret 'NOPE'");

	assert_true(zenc__secret_is_ref("{{secret.A}}"));
	assert_false(zenc__secret_is_ref("{{secret.A}} "));
	assert_false(zenc__secret_is_ref("{{secret.}}"));

	assert_int_equal(zenc__secret_delete("A"), 0);
	assert_int_equal(zenc__secret_delete("A"), ZENC_ENOTFOUND);
	assert_string_equal(zenc_error_last(), "unknown secret 'A'");
	zenc_buf_release(&out);
}

/* What a version-1 caller's struct holds: nothing past `description`. */
struct flavor_v1 {
	unsigned int version;
	const char *kind;
	const char *name;
	const char *const *keys;
	const char *const *secret_keys;
	const char *description;
};

/* A flavor with code, registered from outside: what its constructor was
 * given, and the alerter it makes. */
static char seen[256];

static int fake_post(zenc_alerter *self, const zenc_alert *alert)
{
	(void)self;
	(void)alert;
	return 0;
}

static void fake_free(zenc_alerter *self)
{
	free(self);
}

static int fake_new(
	zenc_alerter **out,
	const char *const *keys,
	const char *const *values,
	size_t n)
{
	zenc_alerter *a;
	size_t i;

	seen[0] = '\0';
	for (i = 0; i < n; i++) {
		strncat(seen, keys[i], sizeof(seen) - strlen(seen) - 1);
		strncat(seen, "=", sizeof(seen) - strlen(seen) - 1);
		strncat(seen, values[i], sizeof(seen) - strlen(seen) - 1);
		strncat(seen, ";", sizeof(seen) - strlen(seen) - 1);
	}
	for (i = 0; i < n; i++)
		if (!strcmp(keys[i], "mode") && !strcmp(values[i], "bad"))
			return zenc_alerter_error(
				ZENC_EINVALID, "fake: bad mode");
	a = calloc(1, sizeof(*a));
	a->version = ZENC_ALERTER_VERSION;
	a->post = fake_post;
	a->free = fake_free;
	*out = a;
	return 0;
}

static void test_flavor_code(void **state)
{
	static const char *const keys[] = {"mode", "pw", NULL};
	static const char *const secret[] = {"pw", NULL};
	struct flavor_v1 v1 = {1,          "alerter",
			       "oldstyle", keys,
			       secret,     "registered by a version-1 program"};
	zenc_flavor f = {ZENC_FLAVOR_VERSION, "alerter", "fake", keys, secret,
			 "has code",          fake_new};
	const char *ck[] = {"mode", "timeout", "pw", "dedup_window"};
	const char *cv[] = {"loud", "5s", "{{secret.FAKE_PW}}", "1m"};
	const zenc_flavor *found;
	zenc_alerter *a = NULL;

	(void)state;
	/* A version-1 struct registers a flavor without code; nothing past
	 * its fields is read (AddressSanitizer would tell). */
	assert_int_equal(zenc_flavor_register((const zenc_flavor *)&v1), 0);
	found = zenc_flavor_find("alerter", "oldstyle");
	assert_non_null(found);
	assert_int_equal(found->version, ZENC_FLAVOR_VERSION);
	assert_null(found->new_alerter);
	assert_int_equal(
		zenc_alerter_new(&a, "oldstyle", ck, cv, 1), ZENC_ENOTFOUND);
	assert_null(a);
	assert_string_equal(
		zenc_error_last(),
		"alerter flavor 'oldstyle' has no implementation "
		"in this program");

	/* The built-in flavors carry their code in the table. */
	found = zenc_flavor_find("alerter", "log");
	assert_non_null(found);
	assert_non_null(zenc__flavor_row_of(found)->create_alerter);
	assert_non_null(zenc__flavor_row_of(
				zenc_flavor_find("metadata-store", "sqlite"))
				->open_store);

	/* A constructor only for alerters. */
	f.kind = "orchestrator";
	assert_int_equal(zenc_flavor_register(&f), ZENC_EINVALID);
	f.kind = "alerter";
	assert_int_equal(zenc_flavor_register(&f), 0);
	found = zenc_flavor_find("alerter", "fake");
	assert_ptr_equal(found->new_alerter, fake_new);

	/* Its own keys, secrets resolved; the shared delivery keys are
	 * accepted but never passed. */
	assert_int_equal(zenc__secret_set("FAKE_PW", "s3cret"), 0);
	assert_int_equal(zenc_alerter_new(&a, "fake", ck, cv, 4), 0);
	assert_non_null(a);
	assert_string_equal(seen, "mode=loud;pw=s3cret;");
	assert_string_equal(a->flavor, "fake");
	zenc_alerter_free(a);
	a = NULL;

	/* Its refusal and message come back as they are. */
	cv[0] = "bad";
	assert_int_equal(
		zenc_alerter_new(&a, "fake", ck, cv, 1), ZENC_EINVALID);
	assert_null(a);
	assert_string_equal(zenc_error_last(), "fake: bad mode");
	/* An unknown secret: the constructor is not called. */
	seen[0] = '\0';
	cv[2] = "{{secret.NOPE}}";
	cv[0] = "loud";
	assert_int_equal(zenc_alerter_new(&a, "fake", ck, cv, 3), ZENC_ECONFIG);
	assert_null(a);
	assert_string_equal(seen, "");
}

/* The public calls of <zenc/stack.h> that `zenc stack` and `zenc KIND`
 * are made of: snapshots sorted and masked, changes checked and kept. */
static void test_public_api(void **state)
{
	const char *keys[] = {"url", "headers"};
	const char *values[] = {"http://x/", "Authorization: Bearer abc"};
	const char *comps[ZENC_COMPONENT_KINDS] = {NULL, NULL, NULL, "ops"};
	const char *const *flavor_keys;
	const zenc_flavor **flavors;
	const zenc_component_info *c;
	const zenc_stack_info *s;
	zenc_stack_config *cfg;
	zenc_component_kind k;
	size_t n, i;

	(void)state;
	assert_string_equal(
		zenc_component_kind_name(ZENC_COMPONENT_ARTIFACT_STORE),
		"artifact-store");
	assert_null(zenc_component_kind_name((zenc_component_kind)9));
	assert_int_equal(zenc_component_kind_parse(&k, "alerter"), 0);
	assert_int_equal(k, ZENC_COMPONENT_ALERTER);
	assert_int_equal(
		zenc_component_kind_parse(&k, "alerters"), ZENC_EINVALID);

	/* A fresh home: the stack "default". */
	assert_int_equal(zenc_stack_config_read(&cfg), 0);
	assert_string_equal(cfg->active, "default");
	assert_int_equal(cfg->n_stacks, 1);
	assert_true(cfg->stacks[0].active);
	assert_null(cfg->stacks[0].components[ZENC_COMPONENT_ALERTER]);
	assert_int_equal(cfg->n_components, 3);
	zenc_stack_config_free(cfg);

	assert_int_equal(
		zenc_component_register(
			ZENC_COMPONENT_ALERTER, "ops", "webhook", keys, values,
			2),
		0);
	assert_int_equal(
		zenc_component_register(
			ZENC_COMPONENT_ALERTER, "ops", "webhook", NULL, NULL,
			0),
		ZENC_EEXISTS);
	assert_int_equal(
		zenc_component_register(
			ZENC_COMPONENT_ALERTER, "x", "webhok", NULL, NULL, 0),
		ZENC_ENOTFOUND);
	assert_non_null(strstr(zenc_error_last(), "did you mean 'webhook'"));
	assert_int_equal(zenc_stack_register("b", comps, false), 0);
	assert_int_equal(zenc_stack_register("a", NULL, true), 0);
	assert_int_equal(zenc_stack_delete("a"), ZENC_ESTATE);
	assert_int_equal(
		zenc_component_delete(ZENC_COMPONENT_ALERTER, "ops"),
		ZENC_EINUSE);

	assert_int_equal(zenc_stack_config_read(&cfg), 0);
	assert_string_equal(cfg->active, "a");
	assert_int_equal(cfg->n_stacks, 3);
	assert_string_equal(cfg->stacks[0].name, "a");
	assert_true(cfg->stacks[0].active);
	assert_string_equal(cfg->stacks[1].name, "b");
	assert_false(cfg->stacks[1].active);
	assert_string_equal(
		cfg->stacks[1].components[ZENC_COMPONENT_ALERTER], "ops");
	assert_string_equal(cfg->stacks[2].name, "default");
	/* Sorted by kind: the alerter last. */
	assert_int_equal(cfg->n_components, 4);
	assert_int_equal(cfg->components[3].kind, ZENC_COMPONENT_ALERTER);
	assert_int_equal(
		zenc_stack_config_component(
			cfg, ZENC_COMPONENT_ALERTER, "ops", &c),
		0);
	assert_ptr_equal(c, &cfg->components[3]);
	assert_string_equal(c->flavor, "webhook");
	assert_int_equal(c->n, 2);
	assert_string_equal(c->values[0], "http://x/");
	/* A secret key's value is never handed out. */
	assert_string_equal(c->keys[1], "headers");
	assert_string_equal(c->values[1], "****");
	assert_int_equal(
		zenc_stack_config_component(
			cfg, ZENC_COMPONENT_ALERTER, "opz", &c),
		ZENC_ENOTFOUND);
	assert_null(c);
	assert_non_null(strstr(zenc_error_last(), "did you mean 'ops'"));
	assert_int_equal(zenc_stack_config_stack(cfg, NULL, &s), 0);
	assert_string_equal(s->name, "a");
	assert_int_equal(zenc_stack_config_stack(cfg, "c", &s), ZENC_ENOTFOUND);
	zenc_stack_config_free(cfg);

	/* Removing the alerter, then the alerter itself. */
	comps[ZENC_COMPONENT_ALERTER] = "";
	assert_int_equal(zenc_stack_update("b", comps), 0);
	assert_int_equal(
		zenc_component_delete(ZENC_COMPONENT_ALERTER, "ops"), 0);
	assert_int_equal(zenc_stack_activate("default"), 0);
	assert_int_equal(zenc_stack_delete("a"), 0);
	assert_int_equal(zenc_stack_config_read(&cfg), 0);
	assert_int_equal(cfg->n_stacks, 2);
	assert_int_equal(cfg->n_components, 3);
	assert_null(cfg->stacks[0].components[ZENC_COMPONENT_ALERTER]);
	zenc_stack_config_free(cfg);

	/* Flavors: sorted, with every key an alerter takes. */
	assert_int_equal(zenc_flavor_list(&flavors, &n, "alerter"), 0);
	assert_true(n >= 6);
	for (i = 1; i < n; i++)
		assert_true(strcmp(flavors[i - 1]->name, flavors[i]->name) < 0);
	free(flavors);
	assert_int_equal(
		zenc_flavor_list(&flavors, &n, "alerters"), ZENC_EINVALID);
	assert_null(flavors);
	flavor_keys =
		zenc_flavor_keys(zenc_flavor_find("alerter", "webhook"), &n);
	for (i = 0; i < n && strcmp(flavor_keys[i], "dedup_window"); i++)
		;
	assert_true(i < n);
	assert_null(flavor_keys[n]);
	free((void *)flavor_keys);
	assert_true(zenc_flavor_is_secret_key(
		zenc_flavor_find("alerter", "webhook"), "headers"));
	assert_false(zenc_flavor_is_secret_key(
		zenc_flavor_find("alerter", "webhook"), "url"));
	assert_false(zenc_flavor_is_secret_key(NULL, "url"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_builtin_default, setup),
		cmocka_unit_test_setup(test_load_fresh_home, setup),
		cmocka_unit_test_setup(test_flavors, setup),
		cmocka_unit_test_setup(test_flavor_messages, setup),
		cmocka_unit_test_setup(test_escape_roundtrip, setup),
		cmocka_unit_test_setup(test_parse_errors, setup),
		cmocka_unit_test_setup(test_format_parse_roundtrip, setup),
		cmocka_unit_test_setup(test_refusals, setup),
		cmocka_unit_test_setup(test_default_alerter_rule, setup),
		cmocka_unit_test_setup(test_edit_and_load, setup),
		cmocka_unit_test_setup(test_mask, setup),
		cmocka_unit_test_setup(test_secrets, setup),
		cmocka_unit_test_setup(test_flavor_code, setup),
		cmocka_unit_test_setup(test_public_api, setup),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
