/*
 * Step parameters: a plain C struct described by a field table, filled
 * from the table's defaults, then configuration, then --param overrides.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/exec.h"

int zenc__params_init(zenc__stepstate *ss)
{
	const zenc_param *f;
	zenc_step *s = ss->step;

	if (!s->param_fields)
		return 0;
	ss->params = zenc__calloc(1, s->params_size);
	for (f = s->param_fields; f->name; f++) {
		char *at = (char *)ss->params + f->offset;
		switch (f->type) {
		case ZENC_INT:
			memcpy(at, &f->def_int, sizeof(int64_t));
			break;
		case ZENC_DOUBLE:
			memcpy(at, &f->def_double, sizeof(double));
			break;
		case ZENC_BOOL: {
			bool b = f->def_bool != 0;
			memcpy(at, &b, sizeof(bool));
			break;
		}
		case ZENC_STRING:
			memcpy(at, &f->def_string, sizeof(const char *));
			break;
		default:
			break;
		}
	}
	return 0;
}

void zenc__params_release(zenc__stepstate *ss)
{
	size_t i;

	for (i = 0; i < ss->n_param_strings; i++)
		free(ss->param_strings[i]);
	free(ss->param_strings);
	free(ss->params);
	free(ss->params_json);
	ss->param_strings = NULL;
	ss->n_param_strings = 0;
	ss->params = NULL;
	ss->params_json = NULL;
}

static const char *known_fields(zenc_buf *b, const zenc_param *fields)
{
	const zenc_param *f;

	for (f = fields; f && f->name; f++) {
		if (f != fields)
			zenc_buf_puts(b, ", ");
		zenc_buf_puts(b, f->name);
	}
	if (!b->len)
		zenc_buf_puts(b, "none");
	return zenc_buf_cstr(b);
}

int zenc__params_set(
	zenc__stepstate *ss,
	const char *field,
	const char *value,
	const char *origin)
{
	zenc_step *s = ss->step;
	zenc_buf known = ZENC_BUF_INIT;
	const zenc_param *f;
	char *end;
	char *at;
	int rc;

	for (f = s->param_fields; f && f->name; f++)
		if (!strcmp(f->name, field))
			break;
	if (!f || !f->name) {
		rc = zenc__error_set(
			ZENC_EINVALID,
			"%s: step '%s' has no parameter '%s' "
			"(known: %s)",
			origin, s->name, field,
			known_fields(&known, s->param_fields));
		zenc_buf_release(&known);
		return rc;
	}
	at = (char *)ss->params + f->offset;
	switch (f->type) {
	case ZENC_INT: {
		int64_t v;
		errno = 0;
		v = (int64_t)strtoll(value, &end, 0);
		if (errno || end == value || *end)
			goto bad;
		memcpy(at, &v, sizeof(v));
		break;
	}
	case ZENC_DOUBLE: {
		double v;
		errno = 0;
		v = strtod(value, &end);
		if (errno || end == value || *end || !isfinite(v))
			goto bad;
		memcpy(at, &v, sizeof(v));
		break;
	}
	case ZENC_BOOL: {
		bool v;
		if (!strcasecmp(value, "true") || !strcmp(value, "1") ||
		    !strcasecmp(value, "yes") || !strcasecmp(value, "on"))
			v = true;
		else if (
			!strcasecmp(value, "false") || !strcmp(value, "0") ||
			!strcasecmp(value, "no") || !strcasecmp(value, "off"))
			v = false;
		else
			goto bad;
		memcpy(at, &v, sizeof(v));
		break;
	}
	case ZENC_STRING: {
		char *copy = zenc__strdup(value);
		ss->param_strings = zenc__realloc(
			ss->param_strings,
			(ss->n_param_strings + 1) * sizeof(char *));
		ss->param_strings[ss->n_param_strings++] = copy;
		memcpy(at, &copy, sizeof(copy));
		break;
	}
	default:
		goto bad;
	}
	return 0;
bad:
	return zenc__error_set(
		ZENC_ETYPE, "%s: parameter '%s.%s' expects %s, got '%s'",
		origin, s->name, field,
		f->type == ZENC_INT      ? "an int"
		: f->type == ZENC_DOUBLE ? "a double"
		: f->type == ZENC_BOOL   ? "a bool (true/false)"
					 : "a string",
		value);
}

int zenc__params_apply(zenc__exec *x, const char *assignment)
{
	const char *dot = strchr(assignment, '.');
	const char *eq = strchr(assignment, '=');
	zenc_step *s;
	char *step = NULL, *field = NULL, *origin = NULL;
	int rc;

	if (!dot || !eq || dot > eq || dot == assignment || eq == dot + 1)
		return zenc__error_set(
			ZENC_EINVALID,
			"--param '%s': expected "
			"STEP.FIELD=VALUE",
			assignment);
	step = zenc__strndup(assignment, (size_t)(dot - assignment));
	field = zenc__strndup(dot + 1, (size_t)(eq - dot - 1));
	origin = zenc__asprintf("--param '%s'", assignment);
	s = zenc_pipeline_find_step(x->p, step);
	if (!s) {
		rc = zenc__error_set(
			ZENC_ENOTFOUND, "%s: unknown step '%s'", origin, step);
		goto done;
	}
	if (!s->param_fields) {
		rc = zenc__error_set(
			ZENC_EINVALID, "%s: step '%s' has no parameters",
			origin, step);
		goto done;
	}
	rc = zenc__params_set(&x->steps[s->index], field, eq + 1, origin);
done:
	free(step);
	free(field);
	free(origin);
	return rc;
}

void zenc__param_text(zenc_buf *b, const zenc_param *f, const void *params)
{
	const char *at = (const char *)params + f->offset;

	switch (f->type) {
	case ZENC_INT: {
		int64_t v;
		memcpy(&v, at, sizeof(v));
		zenc_buf_printf(b, "%" PRId64, v);
		break;
	}
	case ZENC_DOUBLE: {
		double v;
		memcpy(&v, at, sizeof(v));
		zenc__fmt_double(b, v);
		break;
	}
	case ZENC_BOOL: {
		bool v;
		memcpy(&v, at, sizeof(v));
		zenc_buf_puts(b, v ? "true" : "false");
		break;
	}
	case ZENC_STRING: {
		const char *v;
		memcpy(&v, at, sizeof(v));
		zenc_buf_puts(b, v ? v : "");
		break;
	}
	default:
		break;
	}
}

void zenc__params_json(zenc__stepstate *ss)
{
	zenc_buf b = ZENC_BUF_INIT, v = ZENC_BUF_INIT;
	const zenc_param *f;

	free(ss->params_json);
	ss->params_json = NULL;
	if (!ss->params)
		return;
	zenc_buf_putc(&b, '{');
	for (f = ss->step->param_fields; f->name; f++) {
		if (f != ss->step->param_fields)
			zenc_buf_putc(&b, ',');
		zenc_json_str(&b, f->name);
		zenc_buf_putc(&b, ':');
		zenc_buf_clear(&v);
		zenc__param_text(&v, f, ss->params);
		if (f->type == ZENC_STRING) {
			const char *sv;
			memcpy(&sv, (const char *)ss->params + f->offset,
			       sizeof(sv));
			zenc_json_str(&b, sv);
		} else if (f->type == ZENC_DOUBLE) {
			double d;
			memcpy(&d, (const char *)ss->params + f->offset,
			       sizeof(d));
			if (isfinite(d))
				zenc_buf_puts(&b, zenc_buf_cstr(&v));
			else
				zenc_buf_puts(&b, "null");
		} else {
			zenc_buf_puts(&b, zenc_buf_cstr(&v));
		}
	}
	zenc_buf_putc(&b, '}');
	zenc_buf_release(&v);
	ss->params_json = zenc_buf_detach(&b);
}

void zenc__params_env(
	const zenc__stepstate *ss, char ***env, size_t *n, size_t *cap)
{
	zenc_buf b = ZENC_BUF_INIT;
	const zenc_param *f;

	if (!ss || !ss->params)
		return;
	for (f = ss->step->param_fields; f->name; f++) {
		zenc_buf_clear(&b);
		zenc_buf_puts(&b, "ZENC_PARAM_");
		zenc__env_name(&b, f->name);
		zenc_buf_putc(&b, '=');
		zenc__param_text(&b, f, ss->params);
		zenc__array_grow((void **)env, cap, *n + 2, sizeof(char *));
		(*env)[(*n)++] = zenc__strdup(zenc_buf_cstr(&b));
		(*env)[*n] = NULL;
	}
	zenc_buf_release(&b);
}
