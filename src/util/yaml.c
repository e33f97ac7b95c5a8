/*
 * The YAML document layer: libyaml's event parser feeds a small tree
 * builder, and the typed getters turn nodes into values or into located
 * error messages.  See yaml.h for what the loader accepts.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "util.h"
#include "yaml.h"
#include "banned.h"

/* How much of a scalar an error message quotes. */
#define DESCRIBE_MAX 40

struct zenc_yaml_doc {
	char *name;
	zenc_yaml_node *root;
	/* Every node, so that freeing never recurses and shared (aliased)
	 * nodes are freed once. */
	zenc_yaml_node **nodes;
	size_t nnodes;
	size_t cap;
};

/* A mapping or sequence whose end event has not come yet. */
typedef struct frame {
	zenc_yaml_node *node;
	zenc_yaml_node *key; /* a mapping's key waiting for its value */
	char *anchor;        /* registered when the node ends */
	size_t *slots;       /* a mapping's key hash: pair index + 1, or 0 */
	size_t nslots;       /* 0 or a power of two */
	size_t pcap;         /* capacity of pairs or items */
} frame;

typedef struct anchor {
	char *name;
	zenc_yaml_node *node;
} anchor;

typedef struct builder {
	zenc_yaml_doc *doc;
	const char *text;
	size_t len;
	zenc_buf *err;
	frame *stack;
	size_t depth;
	size_t scap;
	anchor *anchors;
	size_t nanchors;
	size_t acap;
	zenc_yaml_node *root;
	int ndocs;
	bool finished;
} builder;

static void verror_at(
	zenc_buf *err,
	const char *file,
	size_t line,
	size_t column,
	const char *fmt,
	va_list ap)
{
	if (!err)
		return;
	zenc_buf_clear(err);
	zenc_buf_printf(err, "%s:%zu:%zu: ", file, line, column);
	zenc_buf_vprintf(err, fmt, ap);
}

static int error_at(
	zenc_buf *err,
	const char *file,
	size_t line,
	size_t column,
	const char *fmt,
	...) ZENC__PRINTF(5, 6);

static int error_at(
	zenc_buf *err,
	const char *file,
	size_t line,
	size_t column,
	const char *fmt,
	...)
{
	va_list ap;

	va_start(ap, fmt);
	verror_at(err, file, line, column, fmt, ap);
	va_end(ap);
	return -1;
}

int zenc_yaml_error(
	zenc_buf *err, const zenc_yaml_node *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror_at(err, n->file, n->line, n->column, fmt, ap);
	va_end(ap);
	return -1;
}

void zenc_yaml_where(zenc_buf *b, const zenc_yaml_node *n)
{
	zenc_buf_printf(b, "%s:%u:%u", n->file, n->line, n->column);
}

/* Loading. */

static zenc_yaml_node *node_new(
	zenc_yaml_doc *doc, zenc_yaml_kind kind, const yaml_mark_t *mark)
{
	zenc_yaml_node *n = zenc__calloc(1, sizeof(*n));

	n->kind = kind;
	n->line = (unsigned int)mark->line + 1;
	n->column = (unsigned int)mark->column + 1;
	n->file = doc->name;
	n->doc = doc;
	zenc__array_grow(
		(void **)&doc->nodes, &doc->cap, doc->nnodes + 1,
		sizeof(*doc->nodes));
	doc->nodes[doc->nnodes++] = n;
	return n;
}

static void set_text(zenc_yaml_node *n, const void *text, size_t len)
{
	n->text = zenc__malloc(len + 1);
	memcpy(n->text, text, len);
	n->text[len] = '\0';
	n->len = len;
}

static uint64_t hash_key(const zenc_yaml_node *key)
{
	const unsigned char *p = (const unsigned char *)key->text;
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < key->len; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static bool same_key(const zenc_yaml_node *a, const zenc_yaml_node *b)
{
	return a->len == b->len && !memcmp(a->text, b->text, a->len);
}

/* The slot for `key` in the frame's hash: empty, or holding an equal
 * key. */
static size_t *hash_slot(frame *f, const zenc_yaml_node *key)
{
	size_t mask = f->nslots - 1;
	size_t i = (size_t)hash_key(key) & mask;

	for (;; i = (i + 1) & mask) {
		size_t *s = &f->slots[i];

		if (!*s || same_key(f->node->pairs[*s - 1].key, key))
			return s;
	}
}

static void hash_add(frame *f, size_t index)
{
	zenc_yaml_node *map = f->node;
	size_t i;

	if ((map->npairs + 1) * 2 > f->nslots) {
		free(f->slots);
		f->nslots = f->nslots ? f->nslots * 2 : 16;
		f->slots = zenc__calloc(f->nslots, sizeof(*f->slots));
		for (i = 0; i < map->npairs; i++)
			if (i != index)
				*hash_slot(f, map->pairs[i].key) = i + 1;
	}
	*hash_slot(f, map->pairs[index].key) = index + 1;
}

static const zenc_yaml_node *hash_find(frame *f, const zenc_yaml_node *key)
{
	size_t *s;

	if (!f->nslots)
		return NULL;
	s = hash_slot(f, key);
	return *s ? f->node->pairs[*s - 1].key : NULL;
}

/* Puts a finished (or just started) node where it belongs: the root, the
 * next item of a sequence, or a mapping's key or value. */
static int attach(builder *b, zenc_yaml_node *n)
{
	frame *f;
	zenc_yaml_node *parent;
	const zenc_yaml_node *prev;

	if (!b->depth) {
		b->root = n;
		return 0;
	}
	f = &b->stack[b->depth - 1];
	parent = f->node;
	if (parent->kind == ZENC_YAML_SEQ) {
		zenc__array_grow(
			(void **)&parent->items, &f->pcap, parent->nitems + 1,
			sizeof(*parent->items));
		parent->items[parent->nitems++] = n;
		return 0;
	}
	if (!f->key) {
		if (n->kind != ZENC_YAML_SCALAR)
			return zenc_yaml_error(
				b->err, n, "a mapping key must be a scalar");
		prev = hash_find(f, n);
		if (prev)
			return zenc_yaml_error(
				b->err, n,
				"duplicate key '%s' (first at line %u, "
				"column %u)",
				n->text, prev->line, prev->column);
		f->key = n;
		return 0;
	}
	zenc__array_grow(
		(void **)&parent->pairs, &f->pcap, parent->npairs + 1,
		sizeof(*parent->pairs));
	parent->pairs[parent->npairs].key = f->key;
	parent->pairs[parent->npairs].value = n;
	parent->npairs++;
	f->key = NULL;
	hash_add(f, parent->npairs - 1);
	return 0;
}

static void add_anchor(builder *b, char *name, zenc_yaml_node *n)
{
	zenc__array_grow(
		(void **)&b->anchors, &b->acap, b->nanchors + 1,
		sizeof(*b->anchors));
	b->anchors[b->nanchors].name = name;
	b->anchors[b->nanchors].node = n;
	b->nanchors++;
}

static zenc_yaml_node *find_anchor(builder *b, const char *name)
{
	size_t i;

	/* A later anchor of the same name replaces an earlier one. */
	for (i = b->nanchors; i-- > 0;)
		if (!strcmp(b->anchors[i].name, name))
			return b->anchors[i].node;
	return NULL;
}

static bool is_str_tag(const yaml_char_t *tag)
{
	const char *t = (const char *)tag;

	return t && (!strcmp(t, "!") || !strcmp(t, YAML_STR_TAG));
}

static int on_scalar(builder *b, const yaml_event_t *ev)
{
	zenc_yaml_node *n = node_new(b->doc, ZENC_YAML_SCALAR, &ev->start_mark);

	set_text(n, ev->data.scalar.value, ev->data.scalar.length);
	n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
		    is_str_tag(ev->data.scalar.tag);
	if (attach(b, n) < 0)
		return -1;
	if (ev->data.scalar.anchor)
		add_anchor(
			b, zenc__strdup((const char *)ev->data.scalar.anchor),
			n);
	return 0;
}

static int on_alias(builder *b, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	zenc_yaml_node *target = find_anchor(b, name);
	zenc_yaml_node *n;

	if (!target)
		return error_at(
			b->err, b->doc->name, ev->start_mark.line + 1,
			ev->start_mark.column + 1, "undefined alias '%s'",
			name);
	if (target->kind != ZENC_YAML_SCALAR)
		return attach(b, target);
	/* A scalar is cheap to copy, and the copy can say where the alias
	 * is, which matters most for keys (duplicates, unknown keys). */
	n = node_new(b->doc, ZENC_YAML_SCALAR, &ev->start_mark);
	set_text(n, target->text, target->len);
	n->quoted = target->quoted;
	return attach(b, n);
}

static int on_start(builder *b, const yaml_event_t *ev, zenc_yaml_kind kind)
{
	const yaml_char_t *anchor_name =
		kind == ZENC_YAML_MAP ? ev->data.mapping_start.anchor
				      : ev->data.sequence_start.anchor;
	zenc_yaml_node *n = node_new(b->doc, kind, &ev->start_mark);
	frame *f;

	if (attach(b, n) < 0)
		return -1;
	zenc__array_grow(
		(void **)&b->stack, &b->scap, b->depth + 1, sizeof(*b->stack));
	f = &b->stack[b->depth++];
	memset(f, 0, sizeof(*f));
	f->node = n;
	f->anchor = zenc__strdup((const char *)anchor_name);
	return 0;
}

static void on_end(builder *b)
{
	frame *f = &b->stack[--b->depth];

	/* Registered only now, so an alias inside its own anchored node is
	 * undefined and the tree never has a cycle. */
	if (f->anchor)
		add_anchor(b, f->anchor, f->node);
	f->anchor = NULL;
	free(f->slots);
	f->slots = NULL;
}

static int on_event(builder *b, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++b->ndocs > 1)
			return error_at(
				b->err, b->doc->name, ev->start_mark.line + 1,
				ev->start_mark.column + 1,
				"more than one document in the file");
		return 0;
	case YAML_SCALAR_EVENT:
		return on_scalar(b, ev);
	case YAML_ALIAS_EVENT:
		return on_alias(b, ev);
	case YAML_MAPPING_START_EVENT:
		return on_start(b, ev, ZENC_YAML_MAP);
	case YAML_SEQUENCE_START_EVENT:
		return on_start(b, ev, ZENC_YAML_SEQ);
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		on_end(b);
		return 0;
	case YAML_STREAM_END_EVENT:
		b->finished = true;
		return 0;
	default:
		return 0;
	}
}

/* libyaml's reader errors carry a byte offset, not a mark. */
static void offset_to_mark(
	const builder *b, size_t offset, size_t *line, size_t *column)
{
	const unsigned char *p = (const unsigned char *)b->text;
	size_t i;

	*line = 1;
	*column = 1;
	for (i = 0; i < offset && i < b->len; i++) {
		if (p[i] == '\n' ||
		    (p[i] == '\r' && (i + 1 == b->len || p[i + 1] != '\n'))) {
			++*line;
			*column = 1;
		} else if ((p[i] & 0xC0) != 0x80 && p[i] != '\r') {
			++*column;
		}
	}
}

static void parser_error(builder *b, const yaml_parser_t *parser)
{
	const char *problem =
		parser->problem ? parser->problem : "malformed YAML";
	size_t line, column;

	if (parser->error == YAML_MEMORY_ERROR)
		abort(); /* Memory exhaustion is fatal everywhere. */
	if (parser->error == YAML_READER_ERROR) {
		offset_to_mark(b, parser->problem_offset, &line, &column);
	} else {
		line = parser->problem_mark.line + 1;
		column = parser->problem_mark.column + 1;
	}
	error_at(b->err, b->doc->name, line, column, "%s", problem);
}

int zenc_yaml_load_string(
	zenc_yaml_doc **out,
	const char *name,
	const char *text,
	size_t len,
	zenc_buf *err)
{
	builder b;
	yaml_parser_t parser;
	yaml_event_t ev;
	yaml_mark_t start = {0, 0, 0};
	size_t i;
	int rc = -1;

	*out = NULL;
	memset(&b, 0, sizeof(b));
	b.doc = zenc__calloc(1, sizeof(*b.doc));
	b.doc->name = zenc__strdup(name ? name : "<string>");
	b.text = text ? text : "";
	b.len = text ? len : 0;
	b.err = err;
	if (!yaml_parser_initialize(&parser))
		abort();
	yaml_parser_set_input_string(
		&parser, (const unsigned char *)b.text, b.len);
	while (!b.finished) {
		int r;

		if (!yaml_parser_parse(&parser, &ev)) {
			parser_error(&b, &parser);
			goto done;
		}
		r = on_event(&b, &ev);
		yaml_event_delete(&ev);
		if (r < 0)
			goto done;
	}
	if (b.root && b.root->kind == ZENC_YAML_SCALAR && !b.root->quoted &&
	    !b.root->len) {
		start.line = b.root->line - 1;
		start.column = b.root->column - 1;
		b.root = NULL;
	}
	if (!b.root)
		b.root = node_new(b.doc, ZENC_YAML_MAP, &start);
	b.doc->root = b.root;
	*out = b.doc;
	b.doc = NULL;
	rc = 0;
done:
	yaml_parser_delete(&parser);
	for (i = 0; i < b.depth; i++) {
		free(b.stack[i].anchor);
		free(b.stack[i].slots);
	}
	free(b.stack);
	for (i = 0; i < b.nanchors; i++)
		free(b.anchors[i].name);
	free(b.anchors);
	zenc_yaml_free(b.doc);
	return rc;
}

int zenc_yaml_load_file(zenc_yaml_doc **out, const char *path, zenc_buf *err)
{
	zenc_buf text = ZENC_BUF_INIT;
	int rc = -1;

	*out = NULL;
	if (zenc__read_file(&text, path) < 0) {
		int e = errno;

		if (err) {
			zenc_buf_clear(err);
			zenc_buf_printf(err, "%s: %s", path, strerror(e));
		}
		goto done;
	}
	rc = zenc_yaml_load_string(out, path, text.ptr, text.len, err);
done:
	zenc_buf_release(&text);
	return rc;
}

zenc_yaml_node *zenc_yaml_root(const zenc_yaml_doc *doc)
{
	return doc->root;
}

const char *zenc_yaml_doc_name(const zenc_yaml_doc *doc)
{
	return doc->name;
}

void zenc_yaml_free(zenc_yaml_doc *doc)
{
	size_t i;

	if (!doc)
		return;
	for (i = 0; i < doc->nnodes; i++) {
		zenc_yaml_node *n = doc->nodes[i];

		free(n->text);
		free(n->pairs);
		free(n->items);
		free(n);
	}
	free(doc->nodes);
	free(doc->name);
	free(doc);
}

/* Access. */

bool zenc_yaml_is_null(const zenc_yaml_node *n)
{
	if (!n || n->kind != ZENC_YAML_SCALAR || n->quoted)
		return false;
	return !n->len || !strcmp(n->text, "~") || !strcmp(n->text, "null") ||
	       !strcmp(n->text, "Null") || !strcmp(n->text, "NULL");
}

void zenc_yaml_describe(zenc_buf *b, const zenc_yaml_node *n)
{
	size_t cut;

	if (!n) {
		zenc_buf_puts(b, "nothing");
		return;
	}
	if (n->kind == ZENC_YAML_MAP) {
		zenc_buf_puts(b, "a mapping");
		return;
	}
	if (n->kind == ZENC_YAML_SEQ) {
		zenc_buf_puts(b, "a sequence");
		return;
	}
	if (zenc_yaml_is_null(n)) {
		zenc_buf_puts(b, "null");
		return;
	}
	for (cut = 0; cut < n->len && cut < DESCRIBE_MAX; cut++)
		if (n->text[cut] == '\n' || n->text[cut] == '\0')
			break;
	/* Never cut a UTF-8 character in two. */
	if (cut < n->len)
		while (cut > 0 && ((unsigned char)n->text[cut] & 0xC0) == 0x80)
			cut--;
	zenc_buf_puts(b, n->quoted ? "the string '" : "'");
	zenc_buf_put(b, n->text, cut);
	zenc_buf_puts(b, cut < n->len ? "...'" : "'");
}

/* "expected <what>, found <n>" at `n`. */
static int expected(zenc_buf *err, const zenc_yaml_node *n, const char *what)
{
	zenc_buf found = ZENC_BUF_INIT;

	zenc_yaml_describe(&found, n);
	zenc_yaml_error(err, n, "expected %s, found %s", what, found.ptr);
	zenc_buf_release(&found);
	return -1;
}

zenc_yaml_node *zenc_yaml_map_get(const zenc_yaml_node *map, const char *key)
{
	size_t i, len;

	if (!map || map->kind != ZENC_YAML_MAP)
		return NULL;
	len = strlen(key);
	for (i = 0; i < map->npairs; i++) {
		const zenc_yaml_node *k = map->pairs[i].key;

		if (k->len == len && !memcmp(k->text, key, len))
			return map->pairs[i].value;
	}
	return NULL;
}

zenc_yaml_node *zenc_yaml_require(
	const zenc_yaml_node *map,
	const char *key,
	const char *what,
	zenc_buf *err)
{
	zenc_yaml_node *v;

	if (zenc_yaml_expect_map(map, err))
		return NULL;
	v = zenc_yaml_map_get(map, key);
	if (!v)
		zenc_yaml_error(
			err, map, "missing key '%s'%s%s", key,
			what ? " in " : "", what ? what : "");
	return v;
}

int zenc_yaml_expect_map(const zenc_yaml_node *n, zenc_buf *err)
{
	if (!n)
		return 1;
	return n->kind == ZENC_YAML_MAP ? 0 : expected(err, n, "a mapping");
}

int zenc_yaml_expect_seq(const zenc_yaml_node *n, zenc_buf *err)
{
	if (!n)
		return 1;
	return n->kind == ZENC_YAML_SEQ ? 0 : expected(err, n, "a sequence");
}

/* Typed getters. */

/* A non-null scalar, and a plain one when `plain` is set. */
static bool is_value(const zenc_yaml_node *n, bool plain)
{
	return n->kind == ZENC_YAML_SCALAR && !zenc_yaml_is_null(n) &&
	       (!plain || !n->quoted);
}

int zenc_yaml_get_string(
	const zenc_yaml_node *n, const char **out, zenc_buf *err)
{
	if (!n)
		return 1;
	if (!is_value(n, false))
		return expected(err, n, "a string");
	if (memchr(n->text, '\0', n->len))
		return zenc_yaml_error(
			err, n, "string contains a NUL character");
	*out = n->text;
	return 0;
}

static bool all_digits(const char *s, const char *digits)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!strchr(digits, *s))
			return false;
	return true;
}

int zenc_yaml_get_int(const zenc_yaml_node *n, int64_t *out, zenc_buf *err)
{
	const char *s, *digits;
	char *end;
	long long v;
	int base = 10;

	if (!n)
		return 1;
	if (!is_value(n, true))
		return expected(err, n, "an integer");
	s = n->text;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		digits = s + 2;
		if (!all_digits(digits, "0123456789abcdefABCDEF"))
			return expected(err, n, "an integer");
	} else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) {
		base = 8;
		digits = s + 2;
		if (!all_digits(digits, "01234567"))
			return expected(err, n, "an integer");
	} else {
		digits = s;
		if (*s == '-' || *s == '+')
			s++;
		if (!all_digits(s, "0123456789"))
			return expected(err, n, "an integer");
	}
	errno = 0;
	v = strtoll(digits, &end, base);
	if (errno == ERANGE)
		return zenc_yaml_error(
			err, n, "integer '%s' is out of range", n->text);
	*out = (int64_t)v;
	return 0;
}

/* YAML 1.2's core schema: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
 * Checked by hand because strtod() also takes "inf", "nan" and hex. */
static bool is_float_text(const char *s)
{
	size_t ndigits = 0;

	if (*s == '-' || *s == '+')
		s++;
	for (; isdigit((unsigned char)*s); s++)
		ndigits++;
	if (*s == '.')
		for (s++; isdigit((unsigned char)*s); s++)
			ndigits++;
	if (!ndigits)
		return false;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '-' || *s == '+')
			s++;
		if (!isdigit((unsigned char)*s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
	}
	return !*s;
}

static bool special_float(const char *s, double *out)
{
	const char *p = s;
	double sign = 1;

	if (*p == '-' || *p == '+')
		sign = *p++ == '-' ? -1 : 1;
	if (!strcmp(p, ".inf") || !strcmp(p, ".Inf") || !strcmp(p, ".INF")) {
		*out = sign * INFINITY;
		return true;
	}
	if (p == s &&
	    (!strcmp(p, ".nan") || !strcmp(p, ".NaN") || !strcmp(p, ".NAN"))) {
		*out = NAN;
		return true;
	}
	return false;
}

int zenc_yaml_get_double(const zenc_yaml_node *n, double *out, zenc_buf *err)
{
	double v;

	if (!n)
		return 1;
	if (!is_value(n, true))
		return expected(err, n, "a number");
	if (special_float(n->text, out))
		return 0;
	if (!is_float_text(n->text))
		return expected(err, n, "a number");
	errno = 0;
	v = strtod(n->text, NULL);
	if (errno == ERANGE && isinf(v))
		return zenc_yaml_error(
			err, n, "number '%s' is out of range", n->text);
	*out = v;
	return 0;
}

int zenc_yaml_get_bool(const zenc_yaml_node *n, bool *out, zenc_buf *err)
{
	static const char *const yes[] = {"true", "yes", "on"};
	static const char *const no[] = {"false", "no", "off"};
	size_t i;

	if (!n)
		return 1;
	if (is_value(n, true)) {
		for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
			if (!strcasecmp(n->text, yes[i])) {
				*out = true;
				return 0;
			}
			if (!strcasecmp(n->text, no[i])) {
				*out = false;
				return 0;
			}
		}
	}
	return expected(err, n, "true or false");
}

/* Durations and sizes start with a digit or a point: this keeps out what
 * strtod() takes but a person would not write ("inf", "0x10", "-1"). */
static bool is_amount_text(const zenc_yaml_node *n)
{
	const char *s = n->text;

	if (!isdigit((unsigned char)s[0]) && s[0] != '.')
		return false;
	return !strchr(s, 'x') && !strchr(s, 'X') && strlen(s) == n->len;
}

int zenc_yaml_get_duration(const zenc_yaml_node *n, double *out, zenc_buf *err)
{
	static const char what[] = "a duration (like 30s, 10m or 500ms)";
	double v;

	if (!n)
		return 1;
	if (!is_value(n, false) || !is_amount_text(n) ||
	    zenc__parse_duration(n->text, &v) < 0 || !isfinite(v))
		return expected(err, n, what);
	*out = v;
	return 0;
}

int zenc_yaml_get_size(const zenc_yaml_node *n, size_t *out, zenc_buf *err)
{
	static const char what[] = "a size (like 512M or 2G)";
	char *end;
	double v, mul = 1;
	size_t size;

	if (!n)
		return 1;
	if (!is_value(n, false) || !is_amount_text(n))
		return expected(err, n, what);
	/* zenc__parse_size() does not check that the product fits. */
	v = strtod(n->text, &end);
	switch (toupper((unsigned char)*end)) {
	case 'T':
		mul *= 1024;
		/* fall through */
	case 'G':
		mul *= 1024;
		/* fall through */
	case 'M':
		mul *= 1024;
		/* fall through */
	case 'K':
		mul *= 1024;
		break;
	default:
		break;
	}
	if (!(v * mul < (double)SIZE_MAX))
		return zenc_yaml_error(
			err, n, "size '%s' is out of range", n->text);
	if (zenc__parse_size(n->text, &size) < 0)
		return expected(err, n, what);
	*out = size;
	return 0;
}

/* Schema checks. */

size_t zenc__edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, d;
	size_t *rows = zenc__calloc(3 * (lb + 1), sizeof(*rows));
	size_t *prev2 = rows, *prev = rows + lb + 1, *cur = rows + 2 * (lb + 1);
	size_t *tmp;

	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];

			d = prev[j - 1] + cost;
			if (prev[j] + 1 < d)
				d = prev[j] + 1;
			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < d)
				d = prev2[j - 2] + 1;
			cur[j] = d;
		}
		tmp = prev2;
		prev2 = prev;
		prev = cur;
		cur = tmp;
	}
	d = prev[lb];
	free(rows);
	return d;
}

const char *zenc__did_you_mean(const char *word, const char *const *candidates)
{
	size_t wl = strlen(word);
	size_t limit = (wl + 2) / 3 > 2 ? (wl + 2) / 3 : 2;
	size_t best_d = SIZE_MAX, d, i;
	const char *best = NULL;

	for (i = 0; candidates && candidates[i]; i++) {
		d = zenc__edit_distance(word, candidates[i]);
		if (d > limit || d >= wl || d >= strlen(candidates[i]))
			continue;
		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	return best;
}

static bool in_list(const zenc_yaml_node *key, const char *const *allowed)
{
	size_t i;

	for (i = 0; allowed && allowed[i]; i++)
		if (strlen(allowed[i]) == key->len &&
		    !memcmp(allowed[i], key->text, key->len))
			return true;
	return false;
}

int zenc_yaml_check_keys(
	const zenc_yaml_node *map,
	const char *const *allowed,
	const char *what,
	zenc_buf *err)
{
	zenc_buf msg = ZENC_BUF_INIT;
	const zenc_yaml_node *key = NULL;
	const char *near;
	size_t i;
	int rc;

	rc = zenc_yaml_expect_map(map, err);
	if (rc)
		return rc < 0 ? -1 : 0;
	for (i = 0; i < map->npairs && !key; i++)
		if (!in_list(map->pairs[i].key, allowed))
			key = map->pairs[i].key;
	if (!key)
		return 0;
	zenc_buf_printf(&msg, "unknown key '%s'", key->text);
	if (what)
		zenc_buf_printf(&msg, " in %s", what);
	near = zenc__did_you_mean(key->text, allowed);
	if (near) {
		zenc_buf_printf(&msg, " (did you mean '%s'?)", near);
	} else if (allowed && allowed[0]) {
		zenc_buf_puts(&msg, " (known: ");
		for (i = 0; allowed[i]; i++)
			zenc_buf_printf(
				&msg, "%s%s", i ? ", " : "", allowed[i]);
		zenc_buf_putc(&msg, ')');
	}
	zenc_yaml_error(err, key, "%s", msg.ptr);
	zenc_buf_release(&msg);
	return -1;
}
