/*
 * Tests for the YAML document layer: locations, scalar styles, typed
 * getters and their exact messages, schema checks.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/util.h"
#include "util/yaml.h"
#include "util/banned.h"

static zenc_yaml_doc *load(const char *text)
{
	zenc_buf err = ZENC_BUF_INIT;
	zenc_yaml_doc *doc = NULL;
	int rc =
		zenc_yaml_load_string(&doc, "t.yaml", text, strlen(text), &err);

	if (rc)
		fail_msg("load failed: %s", zenc_buf_cstr(&err));
	assert_non_null(doc);
	zenc_buf_release(&err);
	return doc;
}

static void assert_load_error(const char *text, const char *msg)
{
	zenc_buf err = ZENC_BUF_INIT;
	zenc_yaml_doc *doc = (zenc_yaml_doc *)&err; /* must be reset */

	assert_int_equal(
		zenc_yaml_load_string(&doc, "t.yaml", text, strlen(text), &err),
		-1);
	assert_null(doc);
	assert_string_equal(zenc_buf_cstr(&err), msg);
	zenc_buf_release(&err);
}

static void assert_at(const zenc_yaml_node *n, unsigned line, unsigned col)
{
	assert_non_null(n);
	assert_int_equal(n->line, line);
	assert_int_equal(n->column, col);
}

static void assert_where(const zenc_yaml_node *n, const char *where)
{
	zenc_buf b = ZENC_BUF_INIT;

	zenc_yaml_where(&b, n);
	assert_string_equal(zenc_buf_cstr(&b), where);
	zenc_buf_release(&b);
}

static void test_nested_locations(void **state)
{
	zenc_yaml_doc *doc = load("name: nightly\n"
				  "steps:\n"
				  "  - name: load\n"
				  "    run: ./load.sh\n"
				  "  - name: train\n"
				  "    retry: {max_retries: 2, delay: 1s}\n"
				  "    tags: [a, b]\n");
	zenc_yaml_node *root = zenc_yaml_root(doc), *steps, *s0, *s1, *retry;
	zenc_yaml_node *tags;

	(void)state;
	assert_int_equal(root->kind, ZENC_YAML_MAP);
	assert_at(root, 1, 1);
	assert_int_equal(root->npairs, 2);
	assert_string_equal(root->pairs[0].key->text, "name");
	assert_at(root->pairs[0].key, 1, 1);
	assert_string_equal(root->pairs[0].value->text, "nightly");
	assert_at(root->pairs[0].value, 1, 7);
	assert_string_equal(root->pairs[1].key->text, "steps");
	assert_at(root->pairs[1].key, 2, 1);

	steps = zenc_yaml_map_get(root, "steps");
	assert_int_equal(steps->kind, ZENC_YAML_SEQ);
	assert_at(steps, 3, 3);
	assert_int_equal(steps->nitems, 2);

	s0 = steps->items[0];
	assert_int_equal(s0->kind, ZENC_YAML_MAP);
	assert_at(s0, 3, 5);
	assert_at(s0->pairs[1].key, 4, 5);
	assert_string_equal(s0->pairs[1].key->text, "run");
	assert_at(zenc_yaml_map_get(s0, "run"), 4, 10);
	assert_string_equal(zenc_yaml_map_get(s0, "run")->text, "./load.sh");
	assert_where(zenc_yaml_map_get(s0, "run"), "t.yaml:4:10");

	s1 = steps->items[1];
	assert_at(s1, 5, 5);
	retry = zenc_yaml_map_get(s1, "retry");
	assert_int_equal(retry->kind, ZENC_YAML_MAP);
	assert_at(retry, 6, 12);
	assert_int_equal(retry->npairs, 2);
	assert_at(retry->pairs[0].key, 6, 13);
	assert_at(zenc_yaml_map_get(retry, "max_retries"), 6, 26);
	assert_at(retry->pairs[1].key, 6, 29);
	assert_at(zenc_yaml_map_get(retry, "delay"), 6, 36);

	tags = zenc_yaml_map_get(s1, "tags");
	assert_int_equal(tags->kind, ZENC_YAML_SEQ);
	assert_at(tags, 7, 11);
	assert_int_equal(tags->nitems, 2);
	assert_string_equal(tags->items[0]->text, "a");
	assert_at(tags->items[0], 7, 12);
	assert_string_equal(tags->items[1]->text, "b");
	assert_at(tags->items[1], 7, 15);

	assert_null(zenc_yaml_map_get(root, "nope"));
	assert_null(zenc_yaml_map_get(steps, "name")); /* not a mapping */
	assert_null(zenc_yaml_map_get(NULL, "name"));
	assert_string_equal(zenc_yaml_doc_name(doc), "t.yaml");
	assert_string_equal(root->file, "t.yaml");
	assert_ptr_equal(root->doc, doc);
	zenc_yaml_free(doc);
}

static void test_flow_style(void **state)
{
	zenc_yaml_doc *doc = load("on_run_failure: {run: ./page.sh}\n"
				  "argv: [a, 'b c', \"d\"]\n"
				  "empty_map: {}\n"
				  "empty_seq: []\n");
	zenc_yaml_node *root = zenc_yaml_root(doc), *hook, *argv;
	const char *s = NULL;

	(void)state;
	hook = zenc_yaml_map_get(root, "on_run_failure");
	assert_int_equal(zenc_yaml_expect_map(hook, NULL), 0);
	assert_at(hook, 1, 17);
	assert_int_equal(
		zenc_yaml_get_string(zenc_yaml_map_get(hook, "run"), &s, NULL),
		0);
	assert_string_equal(s, "./page.sh");
	assert_at(zenc_yaml_map_get(hook, "run"), 1, 23);

	argv = zenc_yaml_map_get(root, "argv");
	assert_int_equal(zenc_yaml_expect_seq(argv, NULL), 0);
	assert_int_equal(argv->nitems, 3);
	assert_string_equal(argv->items[1]->text, "b c");
	assert_true(argv->items[1]->quoted);
	assert_at(argv->items[1], 2, 11);
	assert_true(argv->items[2]->quoted);
	assert_false(argv->items[0]->quoted);

	assert_int_equal(zenc_yaml_map_get(root, "empty_map")->npairs, 0);
	assert_int_equal(
		zenc_yaml_map_get(root, "empty_map")->kind, ZENC_YAML_MAP);
	assert_int_equal(zenc_yaml_map_get(root, "empty_seq")->nitems, 0);
	assert_int_equal(
		zenc_yaml_map_get(root, "empty_seq")->kind, ZENC_YAML_SEQ);
	zenc_yaml_free(doc);
}

static void test_quoted_vs_plain(void **state)
{
	zenc_yaml_doc *doc = load("a: 1\n"
				  "b: \"1\"\n"
				  "c: '1'\n"
				  "d: !!str 1\n"
				  "e: ''\n"
				  "f:\n"
				  "g: ~\n"
				  "h: \"a\\0b\"\n");
	zenc_yaml_node *root = zenc_yaml_root(doc);
	zenc_buf err = ZENC_BUF_INIT;
	const char *s = NULL;
	int64_t i = 0;

	(void)state;
	assert_false(zenc_yaml_map_get(root, "a")->quoted);
	assert_true(zenc_yaml_map_get(root, "b")->quoted);
	assert_true(zenc_yaml_map_get(root, "c")->quoted);
	assert_true(zenc_yaml_map_get(root, "d")->quoted);

	assert_int_equal(
		zenc_yaml_get_int(zenc_yaml_map_get(root, "a"), &i, &err), 0);
	assert_int_equal(i, 1);
	assert_int_equal(
		zenc_yaml_get_int(zenc_yaml_map_get(root, "b"), &i, &err), -1);
	assert_string_equal(
		err.ptr,
		"t.yaml:2:4: expected an integer, found the string '1'");
	assert_int_equal(
		zenc_yaml_get_string(zenc_yaml_map_get(root, "b"), &s, &err),
		0);
	assert_string_equal(s, "1");
	assert_int_equal(
		zenc_yaml_get_string(zenc_yaml_map_get(root, "a"), &s, &err),
		0);
	assert_string_equal(s, "1");

	/* An empty quoted string is a string; an empty value is null. */
	assert_int_equal(
		zenc_yaml_get_string(zenc_yaml_map_get(root, "e"), &s, &err),
		0);
	assert_string_equal(s, "");
	assert_true(zenc_yaml_is_null(zenc_yaml_map_get(root, "f")));
	assert_true(zenc_yaml_is_null(zenc_yaml_map_get(root, "g")));
	assert_false(zenc_yaml_is_null(zenc_yaml_map_get(root, "e")));
	assert_int_equal(
		zenc_yaml_get_string(zenc_yaml_map_get(root, "f"), &s, &err),
		-1);
	assert_string_equal(
		err.ptr, "t.yaml:6:3: expected a string, found null");
	assert_int_equal(
		zenc_yaml_get_string(zenc_yaml_map_get(root, "g"), &s, &err),
		-1);
	assert_string_equal(
		err.ptr, "t.yaml:7:4: expected a string, found null");

	/* "\0" makes a string that C cannot hold. */
	assert_int_equal(zenc_yaml_map_get(root, "h")->len, 3);
	assert_int_equal(
		zenc_yaml_get_string(zenc_yaml_map_get(root, "h"), &s, &err),
		-1);
	assert_string_equal(
		err.ptr, "t.yaml:8:4: string contains a NUL character");
	zenc_buf_release(&err);
	zenc_yaml_free(doc);
}

static void test_block_scalars(void **state)
{
	zenc_yaml_doc *doc = load("literal: |\n"
				  "  line one\n"
				  "    indented\n"
				  "  line three\n"
				  "folded: >\n"
				  "  a\n"
				  "  b\n"
				  "\n"
				  "  c\n"
				  "strip: |-\n"
				  "  no newline\n"
				  "keep: |+\n"
				  "  two\n"
				  "\n"
				  "last: x\n");
	zenc_yaml_node *root = zenc_yaml_root(doc), *lit;
	const char *s = NULL;

	(void)state;
	lit = zenc_yaml_map_get(root, "literal");
	assert_at(lit, 1, 10);
	assert_true(lit->quoted);
	assert_int_equal(zenc_yaml_get_string(lit, &s, NULL), 0);
	assert_string_equal(s, "line one\n  indented\nline three\n");
	assert_string_equal(
		zenc_yaml_map_get(root, "folded")->text, "a b\nc\n");
	assert_string_equal(
		zenc_yaml_map_get(root, "strip")->text, "no newline");
	assert_string_equal(zenc_yaml_map_get(root, "keep")->text, "two\n\n");
	assert_at(zenc_yaml_map_get(root, "last"), 15, 7);
	zenc_yaml_free(doc);
}

static void test_utf8(void **state)
{
	/* Columns count characters: "名前" is two characters, six bytes. */
	zenc_yaml_doc *doc = load("名前: \"日本語 ✓\"\n"
				  "é: [ü, 😀x]\n"
				  "k: ça va\n");
	zenc_yaml_node *root = zenc_yaml_root(doc), *seq;
	zenc_buf err = ZENC_BUF_INIT;
	const char *s = NULL;
	int64_t i;

	(void)state;
	assert_int_equal(
		zenc_yaml_get_string(zenc_yaml_map_get(root, "名前"), &s, NULL),
		0);
	assert_string_equal(s, "日本語 ✓");
	assert_at(zenc_yaml_map_get(root, "名前"), 1, 5);
	seq = zenc_yaml_map_get(root, "é");
	assert_at(seq, 2, 4);
	assert_at(seq->items[1], 2, 8);
	assert_string_equal(seq->items[1]->text, "😀x");
	assert_int_equal(
		zenc_yaml_get_int(zenc_yaml_map_get(root, "k"), &i, &err), -1);
	assert_string_equal(
		err.ptr, "t.yaml:3:4: expected an integer, found 'ça va'");
	zenc_buf_release(&err);
	zenc_yaml_free(doc);
}

static void test_get_int(void **state)
{
	zenc_yaml_doc *doc = load("- 42\n"
				  "- -7\n"
				  "- +3\n"
				  "- 0x1F\n"
				  "- 0o17\n"
				  "- 9223372036854775807\n"
				  "- -9223372036854775808\n"
				  "- 1.5\n"
				  "- abc\n"
				  "- 9223372036854775808\n"
				  "- {a: 1}\n"
				  "- [1]\n"
				  "- 0x\n"
				  "- 1_000\n"
				  "- -0x10\n");
	zenc_yaml_node **it = zenc_yaml_root(doc)->items;
	zenc_buf err = ZENC_BUF_INIT;
	int64_t v = 0;

	(void)state;
	assert_int_equal(zenc_yaml_get_int(it[0], &v, &err), 0);
	assert_int_equal(v, 42);
	assert_int_equal(zenc_yaml_get_int(it[1], &v, &err), 0);
	assert_int_equal(v, -7);
	assert_int_equal(zenc_yaml_get_int(it[2], &v, &err), 0);
	assert_int_equal(v, 3);
	assert_int_equal(zenc_yaml_get_int(it[3], &v, &err), 0);
	assert_int_equal(v, 31);
	assert_int_equal(zenc_yaml_get_int(it[4], &v, &err), 0);
	assert_int_equal(v, 15);
	assert_int_equal(zenc_yaml_get_int(it[5], &v, &err), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(zenc_yaml_get_int(it[6], &v, &err), 0);
	assert_true(v == INT64_MIN);

	v = 99;
	assert_int_equal(zenc_yaml_get_int(it[7], &v, &err), -1);
	assert_string_equal(
		err.ptr, "t.yaml:8:3: expected an integer, found '1.5'");
	assert_int_equal(v, 99);
	assert_int_equal(zenc_yaml_get_int(it[8], &v, &err), -1);
	assert_string_equal(
		err.ptr, "t.yaml:9:3: expected an integer, found 'abc'");
	assert_int_equal(zenc_yaml_get_int(it[9], &v, &err), -1);
	assert_string_equal(
		err.ptr,
		"t.yaml:10:3: integer '9223372036854775808' is out of range");
	assert_int_equal(zenc_yaml_get_int(it[10], &v, &err), -1);
	assert_string_equal(
		err.ptr, "t.yaml:11:3: expected an integer, found a mapping");
	assert_int_equal(zenc_yaml_get_int(it[11], &v, &err), -1);
	assert_string_equal(
		err.ptr, "t.yaml:12:3: expected an integer, found a sequence");
	assert_int_equal(zenc_yaml_get_int(it[12], &v, &err), -1);
	assert_string_equal(
		err.ptr, "t.yaml:13:3: expected an integer, found '0x'");
	assert_int_equal(zenc_yaml_get_int(it[13], &v, &err), -1);
	assert_string_equal(
		err.ptr, "t.yaml:14:3: expected an integer, found '1_000'");
	assert_int_equal(zenc_yaml_get_int(it[14], &v, &err), -1);
	assert_string_equal(
		err.ptr, "t.yaml:15:3: expected an integer, found '-0x10'");
	assert_int_equal(v, 99);

	/* An absent key: 1, and the value is left alone. */
	assert_int_equal(zenc_yaml_get_int(NULL, &v, &err), 1);
	assert_int_equal(v, 99);
	zenc_buf_release(&err);
	zenc_yaml_free(doc);
}

static void test_get_double(void **state)
{
	zenc_yaml_doc *doc = load("[1.5, -2, 1e3, .5, .inf, -.Inf, .nan, "
				  "abc, 1e999, '1.5', inf, 0x10, 1.]\n");
	zenc_yaml_node **it = zenc_yaml_root(doc)->items;
	zenc_buf err = ZENC_BUF_INIT;
	double v = 0;

	(void)state;
	assert_int_equal(zenc_yaml_get_double(it[0], &v, &err), 0);
	assert_true(v == 1.5);
	assert_int_equal(zenc_yaml_get_double(it[1], &v, &err), 0);
	assert_true(v == -2);
	assert_int_equal(zenc_yaml_get_double(it[2], &v, &err), 0);
	assert_true(v == 1000);
	assert_int_equal(zenc_yaml_get_double(it[3], &v, &err), 0);
	assert_true(v == 0.5);
	assert_int_equal(zenc_yaml_get_double(it[4], &v, &err), 0);
	assert_true(isinf(v) && v > 0);
	assert_int_equal(zenc_yaml_get_double(it[5], &v, &err), 0);
	assert_true(isinf(v) && v < 0);
	assert_int_equal(zenc_yaml_get_double(it[6], &v, &err), 0);
	assert_true(isnan(v));
	assert_int_equal(zenc_yaml_get_double(it[12], &v, &err), 0);
	assert_true(v == 1);

	assert_int_equal(zenc_yaml_get_double(it[7], &v, &err), -1);
	assert_string_equal(
		err.ptr, "t.yaml:1:39: expected a number, found 'abc'");
	assert_int_equal(zenc_yaml_get_double(it[8], &v, &err), -1);
	assert_string_equal(
		err.ptr, "t.yaml:1:44: number '1e999' is out of range");
	assert_int_equal(zenc_yaml_get_double(it[9], &v, &err), -1);
	assert_string_equal(
		err.ptr, "t.yaml:1:51: expected a number, found the string "
			 "'1.5'");
	assert_int_equal(zenc_yaml_get_double(it[10], &v, &err), -1);
	assert_string_equal(
		err.ptr, "t.yaml:1:58: expected a number, found 'inf'");
	assert_int_equal(zenc_yaml_get_double(it[11], &v, &err), -1);
	assert_string_equal(
		err.ptr, "t.yaml:1:63: expected a number, found '0x10'");
	assert_int_equal(zenc_yaml_get_double(NULL, &v, &err), 1);
	zenc_buf_release(&err);
	zenc_yaml_free(doc);
}

static void test_get_bool(void **state)
{
	zenc_yaml_doc *doc = load("a: true\nb: False\nc: YES\nd: no\n"
				  "e: On\nf: off\ng: maybe\nh: \"true\"\n"
				  "i: 1\nj: [true]\n");
	zenc_yaml_node *root = zenc_yaml_root(doc);
	zenc_buf err = ZENC_BUF_INIT;
	bool v = false;

	(void)state;
	assert_int_equal(
		zenc_yaml_get_bool(zenc_yaml_map_get(root, "a"), &v, &err), 0);
	assert_true(v);
	assert_int_equal(
		zenc_yaml_get_bool(zenc_yaml_map_get(root, "b"), &v, &err), 0);
	assert_false(v);
	assert_int_equal(
		zenc_yaml_get_bool(zenc_yaml_map_get(root, "c"), &v, &err), 0);
	assert_true(v);
	assert_int_equal(
		zenc_yaml_get_bool(zenc_yaml_map_get(root, "d"), &v, &err), 0);
	assert_false(v);
	assert_int_equal(
		zenc_yaml_get_bool(zenc_yaml_map_get(root, "e"), &v, &err), 0);
	assert_true(v);
	assert_int_equal(
		zenc_yaml_get_bool(zenc_yaml_map_get(root, "f"), &v, &err), 0);
	assert_false(v);

	assert_int_equal(
		zenc_yaml_get_bool(zenc_yaml_map_get(root, "g"), &v, &err), -1);
	assert_string_equal(
		err.ptr, "t.yaml:7:4: expected true or false, found 'maybe'");
	assert_int_equal(
		zenc_yaml_get_bool(zenc_yaml_map_get(root, "h"), &v, &err), -1);
	assert_string_equal(
		err.ptr, "t.yaml:8:4: expected true or false, "
			 "found the string 'true'");
	assert_int_equal(
		zenc_yaml_get_bool(zenc_yaml_map_get(root, "i"), &v, &err), -1);
	assert_string_equal(
		err.ptr, "t.yaml:9:4: expected true or false, found '1'");
	assert_int_equal(
		zenc_yaml_get_bool(zenc_yaml_map_get(root, "j"), &v, &err), -1);
	assert_string_equal(
		err.ptr,
		"t.yaml:10:4: expected true or false, found a sequence");
	assert_int_equal(
		zenc_yaml_get_bool(zenc_yaml_map_get(root, "z"), &v, &err), 1);
	zenc_buf_release(&err);
	zenc_yaml_free(doc);
}

static void test_get_duration(void **state)
{
	zenc_yaml_doc *doc = load("[500ms, 2s, 10m, 1h, 30, '1.5', 0.25h, "
				  "soon, -1s, inf, 0x10, 10d, ~, {}]\n");
	zenc_yaml_node **it = zenc_yaml_root(doc)->items;
	zenc_buf err = ZENC_BUF_INIT;
	double v = 0;

	(void)state;
	assert_int_equal(zenc_yaml_get_duration(it[0], &v, &err), 0);
	assert_true(v == 0.5);
	assert_int_equal(zenc_yaml_get_duration(it[1], &v, &err), 0);
	assert_true(v == 2);
	assert_int_equal(zenc_yaml_get_duration(it[2], &v, &err), 0);
	assert_true(v == 600);
	assert_int_equal(zenc_yaml_get_duration(it[3], &v, &err), 0);
	assert_true(v == 3600);
	assert_int_equal(zenc_yaml_get_duration(it[4], &v, &err), 0);
	assert_true(v == 30);
	assert_int_equal(zenc_yaml_get_duration(it[5], &v, &err), 0);
	assert_true(v == 1.5);
	assert_int_equal(zenc_yaml_get_duration(it[6], &v, &err), 0);
	assert_true(v == 900);

	assert_int_equal(zenc_yaml_get_duration(it[7], &v, &err), -1);
	assert_string_equal(
		err.ptr, "t.yaml:1:40: expected a duration (like "
			 "30s, 10m or 500ms), found 'soon'");
	assert_int_equal(zenc_yaml_get_duration(it[8], &v, &err), -1);
	assert_string_equal(
		err.ptr, "t.yaml:1:46: expected a duration (like "
			 "30s, 10m or 500ms), found '-1s'");
	assert_int_equal(zenc_yaml_get_duration(it[9], &v, &err), -1);
	assert_string_equal(
		err.ptr, "t.yaml:1:51: expected a duration (like "
			 "30s, 10m or 500ms), found 'inf'");
	assert_int_equal(zenc_yaml_get_duration(it[10], &v, &err), -1);
	assert_string_equal(
		err.ptr, "t.yaml:1:56: expected a duration (like "
			 "30s, 10m or 500ms), found '0x10'");
	assert_int_equal(zenc_yaml_get_duration(it[11], &v, &err), -1);
	assert_string_equal(
		err.ptr, "t.yaml:1:62: expected a duration (like "
			 "30s, 10m or 500ms), found '10d'");
	assert_int_equal(zenc_yaml_get_duration(it[12], &v, &err), -1);
	assert_string_equal(
		err.ptr, "t.yaml:1:67: expected a duration (like "
			 "30s, 10m or 500ms), found null");
	assert_int_equal(zenc_yaml_get_duration(it[13], &v, &err), -1);
	assert_string_equal(
		err.ptr, "t.yaml:1:70: expected a duration (like "
			 "30s, 10m or 500ms), found a mapping");
	assert_true(v == 900);
	assert_int_equal(zenc_yaml_get_duration(NULL, &v, &err), 1);
	zenc_buf_release(&err);
	zenc_yaml_free(doc);
}

static void test_get_size(void **state)
{
	zenc_yaml_doc *doc = load("[512M, 2G, 100, 1K, \"1.5K\", 4KiB, big, "
				  "-1, 99999999T, 12Q]\n");
	zenc_yaml_node **it = zenc_yaml_root(doc)->items;
	zenc_buf err = ZENC_BUF_INIT;
	size_t v = 0;

	(void)state;
	assert_int_equal(zenc_yaml_get_size(it[0], &v, &err), 0);
	assert_true(v == 512u * 1024 * 1024);
	assert_int_equal(zenc_yaml_get_size(it[1], &v, &err), 0);
	assert_true(v == (size_t)2 * 1024 * 1024 * 1024);
	assert_int_equal(zenc_yaml_get_size(it[2], &v, &err), 0);
	assert_true(v == 100);
	assert_int_equal(zenc_yaml_get_size(it[3], &v, &err), 0);
	assert_true(v == 1024);
	assert_int_equal(zenc_yaml_get_size(it[4], &v, &err), 0);
	assert_true(v == 1536);
	assert_int_equal(zenc_yaml_get_size(it[5], &v, &err), 0);
	assert_true(v == 4096);

	assert_int_equal(zenc_yaml_get_size(it[6], &v, &err), -1);
	assert_string_equal(
		err.ptr, "t.yaml:1:35: expected a size (like 512M "
			 "or 2G), found 'big'");
	assert_int_equal(zenc_yaml_get_size(it[7], &v, &err), -1);
	assert_string_equal(
		err.ptr, "t.yaml:1:40: expected a size (like 512M "
			 "or 2G), found '-1'");
	assert_int_equal(zenc_yaml_get_size(it[8], &v, &err), -1);
	assert_string_equal(
		err.ptr, "t.yaml:1:44: size '99999999T' is out of range");
	assert_int_equal(zenc_yaml_get_size(it[9], &v, &err), -1);
	assert_string_equal(
		err.ptr, "t.yaml:1:55: expected a size (like 512M "
			 "or 2G), found '12Q'");
	assert_true(v == 4096);
	assert_int_equal(zenc_yaml_get_size(NULL, &v, &err), 1);
	zenc_buf_release(&err);
	zenc_yaml_free(doc);
}

static void test_get_string_and_expect(void **state)
{
	zenc_yaml_doc *doc = load("m: {a: 1}\n"
				  "s: [1]\n"
				  "x: plain text\n"
				  "long: "
				  "abcdefghijklmnopqrstuvwxyz0123456789"
				  "ABCDEFGHIJ\n"
				  "multi: \"one\\ntwo\"\n");
	zenc_yaml_node *root = zenc_yaml_root(doc);
	zenc_buf err = ZENC_BUF_INIT;
	const char *s = NULL;

	(void)state;
	assert_int_equal(
		zenc_yaml_get_string(zenc_yaml_map_get(root, "m"), &s, &err),
		-1);
	assert_string_equal(
		err.ptr, "t.yaml:1:4: expected a string, found a mapping");
	assert_int_equal(
		zenc_yaml_get_string(zenc_yaml_map_get(root, "s"), &s, &err),
		-1);
	assert_string_equal(
		err.ptr, "t.yaml:2:4: expected a string, found a sequence");
	assert_null(s);
	assert_int_equal(
		zenc_yaml_get_string(zenc_yaml_map_get(root, "x"), &s, &err),
		0);
	assert_string_equal(s, "plain text");
	assert_int_equal(zenc_yaml_get_string(NULL, &s, &err), 1);

	assert_int_equal(
		zenc_yaml_expect_map(zenc_yaml_map_get(root, "m"), &err), 0);
	assert_int_equal(
		zenc_yaml_expect_map(zenc_yaml_map_get(root, "s"), &err), -1);
	assert_string_equal(
		err.ptr, "t.yaml:2:4: expected a mapping, found a sequence");
	assert_int_equal(
		zenc_yaml_expect_seq(zenc_yaml_map_get(root, "s"), &err), 0);
	assert_int_equal(
		zenc_yaml_expect_seq(zenc_yaml_map_get(root, "x"), &err), -1);
	assert_string_equal(
		err.ptr, "t.yaml:3:4: expected a sequence, found 'plain text'");
	assert_int_equal(zenc_yaml_expect_seq(NULL, &err), 1);
	assert_int_equal(zenc_yaml_expect_map(NULL, &err), 1);

	/* Long and multi-line text is cut in messages. */
	assert_int_equal(
		zenc_yaml_expect_map(zenc_yaml_map_get(root, "long"), &err),
		-1);
	assert_string_equal(
		err.ptr, "t.yaml:4:7: expected a mapping, found "
			 "'abcdefghijklmnopqrstuvwxyz0123456789ABCD...'");
	assert_int_equal(
		zenc_yaml_expect_map(zenc_yaml_map_get(root, "multi"), &err),
		-1);
	assert_string_equal(
		err.ptr, "t.yaml:5:8: expected a mapping, found "
			 "the string 'one...'");

	/* A NULL err is allowed. */
	assert_int_equal(zenc_yaml_expect_seq(root, NULL), -1);
	zenc_buf_release(&err);
	zenc_yaml_free(doc);
}

static void test_require_and_error(void **state)
{
	zenc_yaml_doc *doc = load("steps:\n  - name: a\n    rn: x\n");
	zenc_yaml_node *step = zenc_yaml_root(doc)->pairs[0].value->items[0];
	zenc_buf err = ZENC_BUF_INIT;

	(void)state;
	assert_non_null(zenc_yaml_require(step, "name", "step", &err));
	assert_null(zenc_yaml_require(step, "run", "step", &err));
	assert_string_equal(err.ptr, "t.yaml:2:5: missing key 'run' in step");
	assert_null(zenc_yaml_require(step, "run", NULL, &err));
	assert_string_equal(err.ptr, "t.yaml:2:5: missing key 'run'");
	assert_null(
		zenc_yaml_require(step->pairs[0].value, "run", "step", &err));
	assert_string_equal(
		err.ptr, "t.yaml:2:11: expected a mapping, found 'a'");

	/* Messages replace what err held. */
	assert_int_equal(
		zenc_yaml_error(
			&err, step->pairs[1].key, "bad key '%s' (%d)", "rn", 7),
		-1);
	assert_string_equal(err.ptr, "t.yaml:3:5: bad key 'rn' (7)");
	zenc_buf_release(&err);
	zenc_yaml_free(doc);
}

static void test_malformed(void **state)
{
	(void)state;
	assert_load_error(
		"name: x\nsteps:\n  run: a: b\n",
		"t.yaml:3:9: mapping values are not allowed in this context");
	assert_load_error(
		"a: \"open\nb: 1\n",
		"t.yaml:3:1: found unexpected end of stream");
	assert_load_error(
		"a:\n\t- b\n",
		"t.yaml:2:1: found character that cannot start any "
		"token");
	assert_load_error(
		"a: [1, 2\nb: 3\n",
		"t.yaml:2:2: did not find expected ',' or ']'");
	assert_load_error(
		"a: 1\n b: 2\n",
		"t.yaml:2:3: mapping values are not allowed in this "
		"context");
	assert_load_error(
		"- a\nb: c\n",
		"t.yaml:2:1: did not find expected '-' indicator");
	/* Invalid UTF-8 is found by the reader, which gives an offset. */
	assert_load_error(
		"a: 1\nb: x\xff\n", "t.yaml:2:5: invalid leading UTF-8 octet");
	assert_load_error("a: *nope\n", "t.yaml:1:4: undefined alias 'nope'");
	assert_load_error(
		"a: 1\n---\nb: 2\n",
		"t.yaml:2:1: more than one document in the file");
	assert_load_error(
		"? [a, b]\n: c\n",
		"t.yaml:1:3: a mapping key must be a scalar");
}

static void test_duplicate_key(void **state)
{
	zenc_buf big = ZENC_BUF_INIT;
	int i;

	(void)state;
	assert_load_error(
		"name: a\nrun: x\nname: b\n",
		"t.yaml:3:1: duplicate key 'name' (first at line 1, "
		"column 1)");
	assert_load_error(
		"steps:\n  - {a: 1, b: 2, a: 3}\n",
		"t.yaml:2:18: duplicate key 'a' (first at line 2, "
		"column 6)");
	/* Equal values in different mappings are fine. */
	zenc_yaml_free(load("a: {x: 1}\nb: {x: 1}\nx: 2\n"));
	/* "1" and 1 are the same key. */
	assert_load_error(
		"1: a\n\"1\": b\n",
		"t.yaml:2:1: duplicate key '1' (first at line 1, "
		"column 1)");

	/* Enough keys to grow the key hash a few times. */
	for (i = 0; i < 200; i++)
		zenc_buf_printf(&big, "k%d: %d\n", i, i);
	zenc_yaml_free(load(big.ptr));
	zenc_buf_puts(&big, "k137: again\n");
	assert_load_error(
		big.ptr, "t.yaml:201:1: duplicate key 'k137' (first "
			 "at line 138, column 1)");
	zenc_buf_release(&big);
}

static void test_empty_document(void **state)
{
	const char *texts[] = {"", "# only a comment\n", "---\n", "\n\n"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		zenc_yaml_doc *doc = load(texts[i]);
		zenc_yaml_node *root = zenc_yaml_root(doc);

		assert_int_equal(root->kind, ZENC_YAML_MAP);
		assert_int_equal(root->npairs, 0);
		assert_int_equal(
			zenc_yaml_check_keys(root, NULL, "x", NULL), 0);
		zenc_yaml_free(doc);
	}
	/* A scalar document stays a scalar. */
	{
		zenc_yaml_doc *doc = load("hello\n");

		assert_int_equal(zenc_yaml_root(doc)->kind, ZENC_YAML_SCALAR);
		assert_string_equal(zenc_yaml_root(doc)->text, "hello");
		zenc_yaml_free(doc);
	}
	/* Explicit document markers around one document are fine. */
	zenc_yaml_free(load("---\na: 1\n...\n"));
}

static void test_aliases(void **state)
{
	zenc_yaml_doc *doc = load("defaults: &d {retries: 2}\n"
				  "name: &n train\n"
				  "a: *d\n"
				  "b: *n\n"
				  "*n : keyed\n");
	zenc_yaml_node *root = zenc_yaml_root(doc), *b, *k;

	(void)state;
	/* Collections are shared, located where the anchored node starts
	 * (at its anchor)... */
	assert_ptr_equal(
		zenc_yaml_map_get(root, "a"),
		zenc_yaml_map_get(root, "defaults"));
	assert_at(zenc_yaml_map_get(root, "a"), 1, 11);
	/* ...scalars are copied, located at the alias. */
	b = zenc_yaml_map_get(root, "b");
	assert_string_equal(b->text, "train");
	assert_at(b, 4, 4);
	k = root->pairs[4].key;
	assert_string_equal(k->text, "train");
	assert_at(k, 5, 1);
	assert_string_equal(zenc_yaml_map_get(root, "train")->text, "keyed");
	zenc_yaml_free(doc);

	/* No cycles: an alias inside its own anchor is undefined. */
	assert_load_error(
		"a: &x [1, *x]\n", "t.yaml:1:11: undefined alias 'x'");
	/* An alias to a key that already exists is a duplicate, at the
	 * alias. */
	assert_load_error(
		"&k a: 1\n*k : 2\n",
		"t.yaml:2:1: duplicate key 'a' (first at line 1, "
		"column 1)");
}

static void test_check_keys(void **state)
{
	static const char *const step_keys[] = {
		"name", "run", "retry", "timeout", "on_failure", NULL};
	zenc_yaml_doc *doc = load("steps:\n"
				  "  - name: a\n"
				  "    retires: 3\n"
				  "  - name: b\n"
				  "    zzz: 1\n"
				  "  - name: c\n"
				  "    timout: 1s\n"
				  "  - {name: d, run: x}\n");
	zenc_yaml_node *steps = zenc_yaml_map_get(zenc_yaml_root(doc), "steps");
	zenc_buf err = ZENC_BUF_INIT;

	(void)state;
	assert_int_equal(
		zenc_yaml_check_keys(steps->items[0], step_keys, "step", &err),
		-1);
	assert_string_equal(
		err.ptr, "t.yaml:3:5: unknown key 'retires' in "
			 "step (did you mean 'retry'?)");
	assert_int_equal(
		zenc_yaml_check_keys(steps->items[1], step_keys, "step", &err),
		-1);
	assert_string_equal(
		err.ptr, "t.yaml:5:5: unknown key 'zzz' in step (known: "
			 "name, run, retry, timeout, on_failure)");
	assert_int_equal(
		zenc_yaml_check_keys(steps->items[2], step_keys, NULL, &err),
		-1);
	assert_string_equal(
		err.ptr, "t.yaml:7:5: unknown key 'timout' (did "
			 "you mean 'timeout'?)");
	assert_int_equal(
		zenc_yaml_check_keys(steps->items[3], step_keys, "step", &err),
		0);
	assert_int_equal(
		zenc_yaml_check_keys(steps, step_keys, "step", &err), -1);
	assert_string_equal(
		err.ptr, "t.yaml:2:3: expected a mapping, found a sequence");
	assert_int_equal(
		zenc_yaml_check_keys(NULL, step_keys, "step", &err), 0);
	{
		static const char *const none[] = {NULL};

		assert_int_equal(
			zenc_yaml_check_keys(
				steps->items[3], none, "flavor config", &err),
			-1);
		assert_string_equal(
			err.ptr, "t.yaml:8:6: unknown key 'name' "
				 "in flavor config");
	}
	zenc_buf_release(&err);
	zenc_yaml_free(doc);
}

static void test_edit_distance(void **state)
{
	static const char *const flavors[] = {"local", "slurm", "webhook",
					      "slack", "log",   NULL};

	(void)state;
	assert_int_equal(zenc__edit_distance("", ""), 0);
	assert_int_equal(zenc__edit_distance("abc", ""), 3);
	assert_int_equal(zenc__edit_distance("", "abc"), 3);
	assert_int_equal(zenc__edit_distance("kitten", "sitting"), 3);
	assert_int_equal(zenc__edit_distance("retry", "retry"), 0);
	assert_int_equal(zenc__edit_distance("retires", "retry"), 3);
	/* A transposition costs one. */
	assert_int_equal(zenc__edit_distance("teh", "the"), 1);
	assert_int_equal(zenc__edit_distance("slak", "slack"), 1);
	assert_int_equal(zenc__edit_distance("ca", "abc"), 3);

	assert_string_equal(zenc__did_you_mean("slak", flavors), "slack");
	assert_string_equal(zenc__did_you_mean("locl", flavors), "local");
	assert_string_equal(zenc__did_you_mean("webhok", flavors), "webhook");
	assert_string_equal(zenc__did_you_mean("lgo", flavors), "log");
	assert_string_equal(zenc__did_you_mean("slurm", flavors), "slurm");
	assert_null(zenc__did_you_mean("kubernetes", flavors));
	assert_null(zenc__did_you_mean("x", flavors));
	assert_null(
		zenc__did_you_mean("ab", (const char *const[]){"cd", NULL}));
	assert_null(zenc__did_you_mean("abc", NULL));
	/* Ties go to the earlier candidate. */
	assert_string_equal(
		zenc__did_you_mean(
			"cat", (const char *const[]){"bat", "car", NULL}),
		"bat");
}

/* zenc__mkdir_p makes every missing folder of a path, whatever is there
 * already, and fails where a file is in the way. */
static void test_mkdir_p(void **state)
{
	const char *dir = getenv("ZENC_TEST_TMP");
	zenc_buf base = ZENC_BUF_INIT, path = ZENC_BUF_INIT;
	struct stat st;

	(void)state;
	if (!dir || !*dir)
		dir = "/tmp";
	zenc_buf_printf(&base, "%s/test_mkdir_%ld", dir, (long)getpid());
	zenc_buf_printf(&path, "%s/a/b/c/d", base.ptr);
	assert_int_equal(zenc__mkdir_p(path.ptr, 0755), 0);
	assert_int_equal(stat(path.ptr, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* Again: all there. */
	assert_int_equal(zenc__mkdir_p(path.ptr, 0755), 0);
	/* A sibling two levels down, and a trailing slash. */
	zenc_buf_clear(&path);
	zenc_buf_printf(&path, "%s/a/x/y/", base.ptr);
	assert_int_equal(zenc__mkdir_p(path.ptr, 0755), 0);
	assert_int_equal(stat(path.ptr, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* A file in the way. */
	zenc_buf_clear(&path);
	zenc_buf_printf(&path, "%s/a/file", base.ptr);
	assert_int_equal(zenc__write_file_atomic(path.ptr, "x", 1, 0644), 0);
	zenc_buf_puts(&path, "/sub/dir");
	assert_int_equal(zenc__mkdir_p(path.ptr, 0755), -1);
	zenc_buf_release(&path);
	zenc_buf_release(&base);
}

static void test_load_file(void **state)
{
	const char *dir = getenv("ZENC_TEST_TMP");
	zenc_buf path = ZENC_BUF_INIT, err = ZENC_BUF_INIT;
	zenc_yaml_doc *doc = NULL;
	const char text[] = "run_name: nightly\nsteps:\n  train: {x: 1}\n"
			    "bad: [\n";
	int64_t x = 0;

	(void)state;
	if (!dir || !*dir)
		dir = "/tmp";
	assert_int_equal(zenc__mkdir_p(dir, 0755), 0);
	zenc_buf_printf(&path, "%s/test_yaml_%ld.yaml", dir, (long)getpid());

	/* Good, up to the last line. */
	assert_int_equal(
		zenc__write_file_atomic(path.ptr, text, strlen(text) - 7, 0644),
		0);
	assert_int_equal(zenc_yaml_load_file(&doc, path.ptr, &err), 0);
	assert_int_equal(
		zenc_yaml_get_int(
			zenc_yaml_map_get(
				zenc_yaml_map_get(
					zenc_yaml_map_get(
						zenc_yaml_root(doc), "steps"),
					"train"),
				"x"),
			&x, &err),
		0);
	assert_int_equal(x, 1);
	assert_string_equal(zenc_yaml_root(doc)->file, path.ptr);
	zenc_yaml_free(doc);

	/* Malformed: the message carries the path. */
	assert_int_equal(
		zenc__write_file_atomic(path.ptr, text, strlen(text), 0644), 0);
	assert_int_equal(zenc_yaml_load_file(&doc, path.ptr, &err), -1);
	assert_null(doc);
	{
		zenc_buf want = ZENC_BUF_INIT;

		zenc_buf_printf(
			&want,
			"%s:5:1: did not find expected node "
			"content",
			path.ptr);
		assert_string_equal(err.ptr, want.ptr);
		zenc_buf_release(&want);
	}
	unlink(path.ptr);

	/* Missing. */
	assert_int_equal(zenc_yaml_load_file(&doc, path.ptr, &err), -1);
	assert_null(doc);
	{
		zenc_buf want = ZENC_BUF_INIT;

		zenc_buf_printf(
			&want, "%s: No such file or directory", path.ptr);
		assert_string_equal(err.ptr, want.ptr);
		zenc_buf_release(&want);
	}
	zenc_yaml_free(NULL);
	zenc_buf_release(&path);
	zenc_buf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested_locations),
		cmocka_unit_test(test_flow_style),
		cmocka_unit_test(test_quoted_vs_plain),
		cmocka_unit_test(test_block_scalars),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_get_int),
		cmocka_unit_test(test_get_double),
		cmocka_unit_test(test_get_bool),
		cmocka_unit_test(test_get_duration),
		cmocka_unit_test(test_get_size),
		cmocka_unit_test(test_get_string_and_expect),
		cmocka_unit_test(test_require_and_error),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_empty_document),
		cmocka_unit_test(test_aliases),
		cmocka_unit_test(test_check_keys),
		cmocka_unit_test(test_edit_distance),
		cmocka_unit_test(test_mkdir_p),
		cmocka_unit_test(test_load_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
