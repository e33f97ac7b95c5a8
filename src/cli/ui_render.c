/*
 * The dashboard's pages: the runs list, a run's page and its DAG as SVG
 * or dot.  Pages are built into a zenc_buf; all recorded text (names,
 * errors, parameters, logs) is user data and goes through cli_ui_escape().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "ui.h"
#include "dag_layout.h"

/* A node's label is cut to this many characters (the full name is in the
 * node's tooltip). */
#define LABEL_MAX 30

void cli_ui_escape(zenc_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!s)
		return;
	for (; *p; p++) {
		switch (*p) {
		case '&':
			zenc_buf_puts(b, "&amp;");
			break;
		case '<':
			zenc_buf_puts(b, "&lt;");
			break;
		case '>':
			zenc_buf_puts(b, "&gt;");
			break;
		case '"':
			zenc_buf_puts(b, "&quot;");
			break;
		case '\'':
			zenc_buf_puts(b, "&#39;");
			break;
		default:
			/* Control characters are not allowed in XML. */
			if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
				zenc_buf_putc(b, '?');
			else
				zenc_buf_putc(b, (char)*p);
		}
	}
}

void cli_ui_url_escape(zenc_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;

	if (!s)
		return;
	for (; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-_.~", *p)) {
			zenc_buf_putc(b, (char)*p);
		} else {
			zenc_buf_putc(b, '%');
			zenc_buf_putc(b, hex[*p >> 4]);
			zenc_buf_putc(b, hex[*p & 15]);
		}
	}
}

const char *cli_ui_status_fill(const char *status)
{
	if (!status)
		return "#ffffff";
	if (!strcmp(status, "completed"))
		return "#2e9d4f";
	if (!strcmp(status, "cached"))
		return "#1e6e8c";
	if (!strcmp(status, "failed"))
		return "#d93025";
	if (!strcmp(status, "running"))
		return "#1a73e8";
	if (!strcmp(status, "skipped"))
		return "#9aa0a6";
	if (!strcmp(status, "cancelled"))
		return "#e37400";
	return "#ffffff";
}

const char *cli_ui_status_ink(const char *status)
{
	return !strcmp(cli_ui_status_fill(status), "#ffffff") ? "#202124"
							      : "#ffffff";
}

/* "ValueError: My exception (exit code 3)", as `zenc runs show` says it;
 * nothing when there is no error. */
static void error_text(
	zenc_buf *b, const char *type, const char *msg, int exit_code, int sig)
{
	if (type || msg) {
		zenc_buf_puts(b, type ? type : "Error");
		if (msg && *msg) {
			zenc_buf_puts(b, ": ");
			zenc_buf_puts(b, msg);
		}
	}
	if (exit_code)
		zenc_buf_printf(
			b, "%sexit code %d%s", type || msg ? " (" : "",
			exit_code, type || msg ? ")" : "");
	else if (sig)
		zenc_buf_printf(
			b, "%ssignal %d%s", type || msg ? " (" : "", sig,
			type || msg ? ")" : "");
}

static void badge(zenc_buf *b, const char *status)
{
	zenc_buf_puts(b, "<span class=\"badge\" data-status=\"");
	cli_ui_escape(b, status ? status : "unknown");
	zenc_buf_printf(
		b, "\" style=\"background:%s;color:%s\">",
		cli_ui_status_fill(status), cli_ui_status_ink(status));
	cli_ui_escape(b, status ? status : "unknown");
	zenc_buf_puts(b, "</span>");
}

/*
 * The upstream steps recorded for a step: a JSON array of strings.
 * Calls `fn` with each name (unescaped; \u escapes become UTF-8).  Input
 * that is not such an array ends the walk quietly: a drawing with an edge
 * missing beats no page.
 */
static void each_upstream(
	const char *json,
	void (*fn)(const char *name, void *payload),
	void *payload)
{
	zenc_buf name = ZENC_BUF_INIT;
	const char *p = json;

	if (!p)
		return;
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	if (*p++ != '[')
		return;
	for (;;) {
		while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r' ||
		       *p == ',')
			p++;
		if (*p != '"')
			break;
		p++;
		zenc_buf_clear(&name);
		while (*p && *p != '"') {
			if (*p != '\\') {
				zenc_buf_putc(&name, *p++);
				continue;
			}
			p++;
			switch (*p) {
			case 'n':
				zenc_buf_putc(&name, '\n');
				break;
			case 't':
				zenc_buf_putc(&name, '\t');
				break;
			case 'r':
				zenc_buf_putc(&name, '\r');
				break;
			case 'b':
				zenc_buf_putc(&name, '\b');
				break;
			case 'f':
				zenc_buf_putc(&name, '\f');
				break;
			case 'u': {
				unsigned int c = 0;
				int k;

				for (k = 1; k <= 4; k++) {
					char h = p[k];

					c <<= 4;
					if (h >= '0' && h <= '9')
						c |= (unsigned)(h - '0');
					else if (h >= 'a' && h <= 'f')
						c |= (unsigned)(h - 'a' + 10);
					else if (h >= 'A' && h <= 'F')
						c |= (unsigned)(h - 'A' + 10);
					else
						goto done;
				}
				p += 4;
				if (c < 0x80) {
					zenc_buf_putc(&name, (char)c);
				} else if (c < 0x800) {
					zenc_buf_putc(
						&name, (char)(0xc0 | c >> 6));
					zenc_buf_putc(
						&name, (char)(0x80 | (c & 63)));
				} else {
					zenc_buf_putc(
						&name, (char)(0xe0 | c >> 12));
					zenc_buf_putc(
						&name,
						(char)(0x80 | (c >> 6 & 63)));
					zenc_buf_putc(
						&name, (char)(0x80 | (c & 63)));
				}
				break;
			}
			case '\0':
				goto done;
			default:
				zenc_buf_putc(&name, *p);
			}
			p++;
		}
		if (*p != '"')
			break;
		p++;
		fn(zenc_buf_cstr(&name), payload);
	}
done:
	zenc_buf_release(&name);
}

/* Step names to indices, for turning recorded names into edges. */
struct name_index {
	const char *name;
	size_t i;
};

static int name_index_cmp(const void *a, const void *b)
{
	const struct name_index *x = a, *y = b;

	return strcmp(x->name, y->name);
}

struct edge_walk {
	const struct name_index *index;
	size_t n;
	size_t to;
	cli_dag_edge *edges;
	size_t n_edges;
	size_t cap;
};

static void add_edge(const char *name, void *payload)
{
	struct edge_walk *w = payload;
	struct name_index key = {name, 0};
	const struct name_index *hit;

	hit = bsearch(&key, w->index, w->n, sizeof(key), name_index_cmp);
	if (!hit)
		return;
	zenc__array_grow(
		(void **)&w->edges, &w->cap, w->n_edges + 1, sizeof(*w->edges));
	w->edges[w->n_edges].from = hit->i;
	w->edges[w->n_edges].to = w->to;
	w->n_edges++;
}

/* The edges of a run's DAG; the caller frees *out. */
static size_t run_edges(const zenc_run_info *info, cli_dag_edge **out)
{
	struct edge_walk w = {0};
	struct name_index *index;
	size_t i;

	index = zenc__calloc(info->n_steps ? info->n_steps : 1, sizeof(*index));
	for (i = 0; i < info->n_steps; i++) {
		index[i].name =
			info->steps[i].rec.name ? info->steps[i].rec.name : "";
		index[i].i = i;
	}
	qsort(index, info->n_steps, sizeof(*index), name_index_cmp);
	w.index = index;
	w.n = info->n_steps;
	for (i = 0; i < info->n_steps; i++) {
		w.to = i;
		each_upstream(info->steps[i].rec.upstream_json, add_edge, &w);
	}
	free(index);
	*out = w.edges;
	return w.n_edges;
}

/* The first `max` characters of `s` (UTF-8 aware), and "..." if cut. */
static void put_label(zenc_buf *b, const char *s, size_t max)
{
	zenc_buf cut = ZENC_BUF_INIT;
	const unsigned char *p = (const unsigned char *)s;
	size_t chars = 0;

	for (; *p; p++) {
		if ((*p & 0xc0) != 0x80 && ++chars > max)
			break;
		zenc_buf_putc(&cut, (char)*p);
	}
	if (*p) {
		zenc_buf_puts(&cut, "\xe2\x80\xa6");
	}
	cli_ui_escape(b, zenc_buf_cstr(&cut));
	zenc_buf_release(&cut);
}

static size_t utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

void cli_ui_dag_svg(zenc_buf *b, const zenc_run_info *info, int standalone)
{
	cli_dag_opts o = CLI_DAG_OPTS_INIT;
	cli_dag_layout l = CLI_DAG_LAYOUT_INIT;
	cli_dag_edge *edges = NULL;
	size_t n_edges, i, j, longest = 4;
	zenc_buf tip = ZENC_BUF_INIT;

	for (i = 0; i < info->n_steps; i++) {
		const char *name = info->steps[i].rec.name;
		size_t len = name ? utf8_len(name) : 0;

		if (len > longest)
			longest = len;
	}
	if (longest > LABEL_MAX)
		longest = LABEL_MAX + 1;
	/* About 7 pixels a character at the 12px font, and some padding. */
	o.node_w = (double)longest * 7.2 + 24;
	if (o.node_w < 96)
		o.node_w = 96;
	n_edges = run_edges(info, &edges);
	cli_dag_layout_compute(&l, info->n_steps, edges, n_edges, &o);

	if (standalone)
		zenc_buf_puts(
			b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	zenc_buf_printf(
		b,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"dag\" "
		"width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
		"font-family=\"system-ui, sans-serif\" font-size=\"12\" "
		"role=\"img\" aria-label=\"",
		l.width, l.height, l.width, l.height);
	cli_ui_escape(b, info->rec.pipeline);
	zenc_buf_printf(
		b,
		" pipeline graph\" data-crossings=\"%zu\">\n"
		"<defs><marker id=\"zenc-arrow\" viewBox=\"0 0 10 10\" "
		"refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" "
		"orient=\"auto-start-reverse\"><path d=\"M0,0L10,5L0,10z\" "
		"fill=\"#5f6368\"/></marker></defs>\n"
		"<g class=\"edges\" fill=\"none\" stroke=\"#5f6368\" "
		"stroke-width=\"1.4\">\n",
		l.crossings);
	for (i = 0; i < l.n_paths; i++) {
		const cli_dag_path *p = &l.paths[i];

		zenc_buf_puts(b, "<path data-from=\"");
		cli_ui_escape(b, info->steps[p->from].rec.name);
		zenc_buf_puts(b, "\" data-to=\"");
		cli_ui_escape(b, info->steps[p->to].rec.name);
		zenc_buf_printf(b, "\" d=\"M%.1f,%.1f", p->xy[0], p->xy[1]);
		/* Each stretch as a vertical S-curve between its ends. */
		for (j = 1; j < p->n_points; j++) {
			double x0 = p->xy[2 * j - 2], y0 = p->xy[2 * j - 1];
			double x1 = p->xy[2 * j], y1 = p->xy[2 * j + 1];
			double my = (y0 + y1) / 2;

			if (y0 == y1)
				zenc_buf_printf(b, "L%.1f,%.1f", x1, y1);
			else
				zenc_buf_printf(
					b, "C%.1f,%.1f %.1f,%.1f %.1f,%.1f", x0,
					my, x1, my, x1, y1);
		}
		zenc_buf_puts(b, "\" marker-end=\"url(#zenc-arrow)\"/>\n");
	}
	zenc_buf_puts(b, "</g>\n<g class=\"nodes\">\n");
	for (i = 0; i < info->n_steps; i++) {
		const zenc_step_record *s = &info->steps[i].rec;
		const char *name = s->name ? s->name : "";
		const char *status = s->status ? s->status : "pending";
		const char *fill = cli_ui_status_fill(status);

		zenc_buf_clear(&tip);
		zenc_buf_printf(b, "<g class=\"node\" data-step=\"");
		cli_ui_escape(b, name);
		zenc_buf_puts(b, "\" data-status=\"");
		cli_ui_escape(b, status);
		zenc_buf_puts(b, "\">");
		if (!standalone)
			zenc_buf_printf(b, "<a href=\"#step-%zu\">", i);
		/* The tooltip: name, status and, for a failure, the error. */
		zenc_buf_printf(&tip, "%s \xe2\x80\x94 %s", name, status);
		if (s->cached_from)
			zenc_buf_printf(&tip, " from run %s", s->cached_from);
		if (s->error_type || s->error_message || s->exit_code ||
		    s->signal) {
			zenc_buf_putc(&tip, '\n');
			error_text(
				&tip, s->error_type, s->error_message,
				s->exit_code, s->signal);
		}
		zenc_buf_puts(b, "<title>");
		cli_ui_escape(b, zenc_buf_cstr(&tip));
		zenc_buf_puts(b, "</title>");
		zenc_buf_printf(
			b,
			"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			"height=\"%.1f\" rx=\"6\" fill=\"%s\" stroke=\"%s\" "
			"stroke-width=\"1.2\"/>",
			l.x[i], l.y[i], o.node_w, o.node_h, fill,
			!strcmp(fill, "#ffffff") ? "#5f6368" : fill);
		zenc_buf_printf(
			b,
			"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
			"dominant-baseline=\"central\" fill=\"%s\">",
			l.x[i] + o.node_w / 2, l.y[i] + o.node_h / 2,
			cli_ui_status_ink(status));
		put_label(b, name, LABEL_MAX);
		zenc_buf_puts(b, "</text>");
		if (!standalone)
			zenc_buf_puts(b, "</a>");
		zenc_buf_puts(b, "</g>\n");
	}
	zenc_buf_puts(b, "</g>\n</svg>\n");
	zenc_buf_release(&tip);
	cli_dag_layout_release(&l);
	free(edges);
}

/* A dot string: quoted, with quotes, backslashes and newlines escaped. */
static void dot_str(zenc_buf *b, const char *s)
{
	zenc_buf_putc(b, '"');
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			zenc_buf_putc(b, '\\');
		if (*s == '\n')
			zenc_buf_puts(b, "\\n");
		else if (*s != '\r')
			zenc_buf_putc(b, *s);
	}
	zenc_buf_putc(b, '"');
}

void cli_ui_dag_dot(zenc_buf *b, const zenc_run_info *info)
{
	cli_dag_edge *edges = NULL;
	zenc_buf tip = ZENC_BUF_INIT;
	size_t n_edges, i;

	n_edges = run_edges(info, &edges);
	zenc_buf_puts(b, "digraph ");
	dot_str(b, info->rec.pipeline);
	zenc_buf_puts(b, " {\n\trankdir=TB;\n\tlabel=");
	dot_str(b, info->rec.name);
	zenc_buf_puts(
		b, ";\n\tnode [shape=box, style=\"rounded,filled\", "
		   "fontname=\"Helvetica\"];\n");
	for (i = 0; i < info->n_steps; i++) {
		const zenc_step_record *s = &info->steps[i].rec;
		const char *status = s->status ? s->status : "pending";

		zenc_buf_clear(&tip);
		zenc_buf_puts(&tip, status);
		if (s->error_type || s->error_message || s->exit_code ||
		    s->signal) {
			zenc_buf_puts(&tip, ": ");
			error_text(
				&tip, s->error_type, s->error_message,
				s->exit_code, s->signal);
		}
		zenc_buf_putc(b, '\t');
		dot_str(b, s->name);
		zenc_buf_printf(
			b, " [fillcolor=\"%s\", fontcolor=\"%s\", tooltip=",
			cli_ui_status_fill(status), cli_ui_status_ink(status));
		dot_str(b, zenc_buf_cstr(&tip));
		zenc_buf_puts(b, "];\n");
	}
	for (i = 0; i < n_edges; i++) {
		zenc_buf_putc(b, '\t');
		dot_str(b, info->steps[edges[i].from].rec.name);
		zenc_buf_puts(b, " -> ");
		dot_str(b, info->steps[edges[i].to].rec.name);
		zenc_buf_puts(b, ";\n");
	}
	zenc_buf_puts(b, "}\n");
	zenc_buf_release(&tip);
	free(edges);
}

/* Pages. */

static const char page_css[] =
	"body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#202124;"
	"background:#f8f9fa}"
	"header{background:#202124;color:#fff;padding:10px 24px}"
	"header a{color:#fff;text-decoration:none;font-weight:600}"
	"main{padding:16px 24px;max-width:1400px}"
	"h1{font-size:22px;margin:8px 0}h2{font-size:17px;margin:24px 0 8px}"
	"h3{font-size:15px;margin:4px 0 8px}"
	"table{border-collapse:collapse;background:#fff;margin:4px 0 8px}"
	"th,td{border:1px solid #dadce0;padding:4px 8px;text-align:left;"
	"vertical-align:top}"
	"th{background:#f1f3f4;font-weight:600}"
	"code,pre{font:12px/1.4 ui-monospace,monospace}"
	"pre{background:#fff;border:1px solid #dadce0;padding:8px;"
	"overflow:auto;max-height:24em;white-space:pre-wrap;margin:4px 0}"
	".badge{display:inline-block;border-radius:10px;padding:0 8px;"
	"font-size:12px;border:1px solid #5f6368}"
	".dagbox{background:#fff;border:1px solid #dadce0;overflow:auto;"
	"max-height:80vh}"
	".step{background:#fff;border:1px solid #dadce0;padding:8px 12px;"
	"margin:10px 0}"
	".step:target{outline:2px solid #1a73e8}"
	".err{color:#b3261e;white-space:pre-wrap}"
	".muted{color:#5f6368}"
	"dl.summary{display:grid;grid-template-columns:max-content auto;"
	"gap:2px 16px;margin:8px 0}dl.summary dt{color:#5f6368}"
	"dl.summary dd{margin:0}"
	"form.filter{margin:8px 0}form.filter *{margin-right:6px}"
	".pager a{margin-right:12px}"
	".legend span{margin-right:10px}";

static void page_head(
	zenc_buf *b, const char *title, unsigned flags, int refresh)
{
	zenc_buf_puts(
		b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
		   "<meta charset=\"utf-8\">\n"
		   "<meta name=\"viewport\" content=\"width=device-width\">\n"
		   "<link rel=\"icon\" href=\"data:,\">\n");
	if (refresh)
		zenc_buf_printf(
			b, "<meta http-equiv=\"refresh\" content=\"%d\">\n",
			refresh);
	zenc_buf_puts(b, "<title>");
	cli_ui_escape(b, title);
	zenc_buf_puts(b, "</title>\n<style>");
	zenc_buf_puts(b, page_css);
	zenc_buf_puts(b, "</style>\n</head>\n<body>\n<header>");
	if (flags & CLI_UI_REPORT)
		zenc_buf_puts(b, "<span>zenc run report</span>");
	else
		zenc_buf_puts(b, "<a href=\"/\">zenc runs</a>");
	zenc_buf_puts(b, "</header>\n<main>\n");
}

static void page_foot(zenc_buf *b)
{
	zenc_buf_printf(
		b,
		"<p class=\"muted\">zenc %s</p>\n</main>\n</body>\n</html>\n",
		zenc_version());
}

void cli_ui_error_page(
	zenc_buf *b, int code, const char *reason, const char *detail)
{
	zenc_buf title = ZENC_BUF_INIT;

	zenc_buf_printf(&title, "%d %s", code, reason);
	page_head(b, zenc_buf_cstr(&title), 0, 0);
	zenc_buf_puts(b, "<h1>");
	cli_ui_escape(b, zenc_buf_cstr(&title));
	zenc_buf_puts(b, "</h1>\n<p>");
	cli_ui_escape(b, detail);
	zenc_buf_puts(b, "</p>\n");
	page_foot(b);
	zenc_buf_release(&title);
}

static void runs_link(
	zenc_buf *b,
	const cli_ui_list_view *v,
	const char *pipeline,
	const char *status,
	size_t page)
{
	const char *sep = "?";

	zenc_buf_puts(b, "/");
	if (pipeline && *pipeline) {
		zenc_buf_puts(b, "?pipeline=");
		cli_ui_url_escape(b, pipeline);
		sep = "&amp;";
	}
	if (status && *status) {
		zenc_buf_printf(b, "%sstatus=", sep);
		cli_ui_url_escape(b, status);
		sep = "&amp;";
	}
	if (page > 1)
		zenc_buf_printf(b, "%spage=%zu", sep, page);
	(void)v;
}

void cli_ui_runs_page(
	zenc_buf *b, const zenc_run_list *l, const cli_ui_list_view *v)
{
	static const char *const statuses[] = {
		"running", "completed", "failed", "cancelled"};
	size_t i;

	page_head(b, "zenc runs", 0, 0);
	zenc_buf_puts(b, "<h1>Runs</h1>\n");
	zenc_buf_puts(
		b, "<form class=\"filter\" method=\"get\" action=\"/\">"
		   "<label>Pipeline <input name=\"pipeline\" value=\"");
	cli_ui_escape(b, v->pipeline);
	zenc_buf_puts(
		b, "\"></label><label>Status <select name=\"status\">"
		   "<option value=\"\">any</option>");
	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		zenc_buf_printf(
			b, "<option%s>%s</option>",
			v->status && !strcmp(v->status, statuses[i])
				? " selected"
				: "",
			statuses[i]);
	zenc_buf_puts(
		b, "</select></label><button type=\"submit\">Filter</button>"
		   "<a href=\"/\">clear</a></form>\n");
	if (!l->n) {
		zenc_buf_puts(b, "<p id=\"no-runs\">No runs.</p>\n");
	} else {
		zenc_buf_puts(
			b, "<table id=\"runs\">\n<tr><th>Name</th>"
			   "<th>Pipeline</th><th>Status</th><th>Started</th>"
			   "<th>Duration</th><th>Id</th></tr>\n");
	}
	for (i = 0; i < l->n; i++) {
		const zenc_run_record *r = &l->runs[i];

		zenc_buf_puts(b, "<tr class=\"run\" data-run=\"");
		cli_ui_escape(b, r->id);
		zenc_buf_puts(b, "\" data-status=\"");
		cli_ui_escape(b, r->status);
		zenc_buf_puts(b, "\"><td><a href=\"/runs/");
		cli_ui_url_escape(b, r->id);
		zenc_buf_puts(b, "\">");
		cli_ui_escape(b, r->name);
		zenc_buf_puts(b, "</a></td><td><a href=\"");
		runs_link(b, v, r->pipeline, v->status, 1);
		zenc_buf_puts(b, "\">");
		cli_ui_escape(b, r->pipeline);
		zenc_buf_puts(b, "</a></td><td>");
		badge(b, r->status);
		zenc_buf_puts(b, "</td><td>");
		cli_put_local_time(b, r->started);
		zenc_buf_puts(b, "</td><td>");
		if (r->status && !strcmp(r->status, "running") && r->started)
			zenc_buf_puts(b, "running");
		else
			cli_put_span(b, r->started, r->ended);
		zenc_buf_puts(b, "</td><td><code>");
		if (r->id)
			zenc_buf_put(
				b, r->id,
				strlen(r->id) > 8 ? 8 : strlen(r->id));
		zenc_buf_puts(b, "</code></td></tr>\n");
	}
	if (l->n)
		zenc_buf_puts(b, "</table>\n");
	zenc_buf_puts(b, "<p class=\"pager\">");
	if (v->page > 1) {
		zenc_buf_puts(b, "<a rel=\"prev\" href=\"");
		runs_link(b, v, v->pipeline, v->status, v->page - 1);
		zenc_buf_puts(b, "\">&larr; newer</a>");
	}
	zenc_buf_printf(b, "<span class=\"muted\">page %zu</span>", v->page);
	if (v->has_next) {
		zenc_buf_puts(b, " <a rel=\"next\" href=\"");
		runs_link(b, v, v->pipeline, v->status, v->page + 1);
		zenc_buf_puts(b, "\">older &rarr;</a>");
	}
	zenc_buf_puts(b, "</p>\n");
	page_foot(b);
}

static void hooks_table(
	zenc_buf *b, const zenc_hook_record *h, size_t n, int with_attempt)
{
	size_t i;

	zenc_buf_puts(
		b, "<table class=\"hooks\">\n<tr><th>Event</th><th>Hook</th>");
	if (with_attempt)
		zenc_buf_puts(b, "<th>Attempt</th>");
	zenc_buf_puts(
		b, "<th>Status</th><th>Duration</th><th>Error</th></tr>\n");
	for (i = 0; i < n; i++) {
		zenc_buf_puts(b, "<tr class=\"hook\"><td>");
		cli_ui_escape(b, h[i].event);
		zenc_buf_puts(b, "</td><td><code>");
		cli_ui_escape(b, h[i].hook);
		zenc_buf_puts(b, "</code></td>");
		if (with_attempt)
			zenc_buf_printf(b, "<td>%d</td>", h[i].attempt);
		zenc_buf_puts(b, "<td>");
		badge(b, h[i].status);
		zenc_buf_puts(b, "</td><td>");
		cli_put_duration(b, h[i].duration);
		zenc_buf_puts(b, "</td><td class=\"err\">");
		cli_ui_escape(b, h[i].error);
		zenc_buf_puts(b, "</td></tr>\n");
	}
	zenc_buf_puts(b, "</table>\n");
}

/* A failed run's page opens with what failed: each failed step, its
 * error, and links to its section and its log. */
static void failures_section(zenc_buf *b, const zenc_run_info *info)
{
	zenc_buf err = ZENC_BUF_INIT;
	size_t i, n = 0;

	for (i = 0; i < info->n_steps; i++) {
		const zenc_step_record *s = &info->steps[i].rec;

		if (!s->status || strcmp(s->status, "failed"))
			continue;
		if (!n++)
			zenc_buf_puts(
				b, "<section id=\"failures\">\n<h2>Failed "
				   "steps</h2>\n<ul class=\"failures\">\n");
		zenc_buf_printf(b, "<li><a href=\"#step-%zu\">", i);
		cli_ui_escape(b, s->name);
		zenc_buf_puts(b, "</a> ");
		zenc_buf_clear(&err);
		error_text(
			&err, s->error_type, s->error_message, s->exit_code,
			s->signal);
		zenc_buf_puts(b, "<pre class=\"err\">");
		cli_ui_escape(b, zenc_buf_cstr(&err));
		zenc_buf_puts(b, "</pre>");
		if (s->log_uri && *s->log_uri)
			zenc_buf_printf(
				b, "<a href=\"#step-%zu-log\">log</a> <code>",
				i);
		if (s->log_uri && *s->log_uri) {
			cli_ui_escape(b, s->log_uri);
			zenc_buf_puts(b, "</code>");
		}
		zenc_buf_puts(b, "</li>\n");
	}
	if (n)
		zenc_buf_puts(b, "</ul>\n</section>\n");
	zenc_buf_release(&err);
}

static void step_section(
	zenc_buf *b,
	const zenc_run_info *info,
	const zenc_step_info *si,
	size_t i,
	const zenc_run_record *run,
	const char *run_dir,
	unsigned flags)
{
	const zenc_step_record *s = &si->rec;
	zenc_buf err = ZENC_BUF_INIT;
	size_t k;

	zenc_buf_printf(b, "<section class=\"step\" id=\"step-%zu\" ", i);
	zenc_buf_puts(b, "data-step=\"");
	cli_ui_escape(b, s->name);
	zenc_buf_puts(b, "\">\n<h3>");
	cli_ui_escape(b, s->name);
	zenc_buf_puts(b, " ");
	badge(b, s->status);
	zenc_buf_puts(b, "</h3>\n");
	cli_ui_cached_from(b, run, s, flags);
	zenc_buf_puts(b, "<p>started ");
	cli_put_local_time(b, s->started);
	zenc_buf_puts(b, ", ended ");
	cli_put_local_time(b, s->ended);
	zenc_buf_puts(b, ", took ");
	cli_put_span(b, s->started, s->ended);
	zenc_buf_printf(
		b, ", %d attempt%s</p>\n", s->attempts,
		s->attempts == 1 ? "" : "s");
	error_text(
		&err, s->error_type, s->error_message, s->exit_code, s->signal);
	if (err.len) {
		zenc_buf_puts(b, "<pre class=\"err step-error\">");
		cli_ui_escape(b, zenc_buf_cstr(&err));
		zenc_buf_puts(b, "</pre>\n");
	}
	if (si->n_attempts) {
		zenc_buf_puts(
			b, "<table class=\"attempts\">\n<tr><th>Attempt</th>"
			   "<th>Status</th><th>Started</th><th>Duration</th>"
			   "<th>Error</th></tr>\n");
		for (k = 0; k < si->n_attempts; k++) {
			const zenc_attempt_record *a = &si->attempts[k];

			zenc_buf_printf(b, "<tr><td>%d</td><td>", a->attempt);
			badge(b, a->status);
			zenc_buf_puts(b, "</td><td>");
			cli_put_local_time(b, a->started);
			zenc_buf_puts(b, "</td><td>");
			cli_put_span(b, a->started, a->ended);
			zenc_buf_puts(b, "</td><td class=\"err\">");
			zenc_buf_clear(&err);
			error_text(
				&err, a->error_type, a->error_message,
				a->exit_code, a->signal);
			cli_ui_escape(b, zenc_buf_cstr(&err));
			zenc_buf_puts(b, "</td></tr>\n");
		}
		zenc_buf_puts(b, "</table>\n");
	}
	if (s->params_json && *s->params_json && strcmp(s->params_json, "{}")) {
		zenc_buf_puts(b, "<h4>Parameters</h4>\n<pre class=\"params\">");
		cli_ui_escape(b, s->params_json);
		zenc_buf_puts(b, "</pre>\n");
	}
	if (si->n_artifacts) {
		zenc_buf_puts(
			b, "<h4>Outputs</h4>\n<table class=\"outputs\">\n"
			   "<tr><th>Name</th><th>Type</th><th>Size</th>"
			   "<th>Checksum</th><th>URI</th></tr>\n");
		for (k = 0; k < si->n_artifacts; k++) {
			const zenc_artifact_record *a = &si->artifacts[k];

			zenc_buf_puts(b, "<tr><td>");
			cli_ui_escape(b, a->name);
			zenc_buf_puts(b, "</td><td>");
			cli_ui_escape(b, a->type);
			zenc_buf_printf(
				b, "</td><td>%lld</td><td><code>",
				(long long)a->size);
			cli_ui_escape(b, a->checksum);
			zenc_buf_puts(b, "</code></td><td><code>");
			cli_ui_escape(b, a->uri);
			zenc_buf_puts(b, "</code></td></tr>\n");
		}
		zenc_buf_puts(b, "</table>\n");
	}
	cli_ui_step_logs(b, info, si, i, run_dir, flags);
	if (si->n_hooks) {
		zenc_buf_puts(b, "<h4>Hook runs</h4>\n");
		hooks_table(b, si->hooks, si->n_hooks, 1);
	}
	zenc_buf_puts(b, "</section>\n");
	zenc_buf_release(&err);
}

int cli_ui_run_alerts(
	zenc_store *store, const char *run_id, zenc_alert_list *out)
{
	size_t i, k = 0;
	int rc;

	/* The outbox is listed whole and filtered here: the store has no
	 * query by run. */
	if ((rc = zenc_store_alerts_list(store, NULL, 0, out)) < 0)
		return rc == ZENC_ESTATE ? 0 : rc;
	for (i = 0; i < out->n; i++)
		if (out->alerts[i].run_id && run_id &&
		    !strcmp(out->alerts[i].run_id, run_id))
			out->alerts[k++] = out->alerts[i];
	out->n = k;
	return 1;
}

/* An alert's status in the colours of a step's: delivered is done,
 * pending waits, failed failed, suppressed was skipped on purpose. */
static const char *alert_colour_status(const char *status)
{
	if (!status)
		return "pending";
	if (!strcmp(status, "delivered"))
		return "completed";
	if (!strcmp(status, "failed"))
		return "failed";
	if (!strcmp(status, "suppressed"))
		return "skipped";
	return "pending";
}

static void alerts_section(zenc_buf *b, const zenc_alert_list *l)
{
	size_t delivered = 0, pending = 0, other = 0, i;

	for (i = 0; i < l->n; i++) {
		const char *st = l->alerts[i].status;

		if (st && !strcmp(st, "delivered"))
			delivered++;
		else if (st && !strcmp(st, "pending"))
			pending++;
		else
			other++;
	}
	zenc_buf_printf(
		b,
		"<h2>Alerts</h2>\n<p id=\"alerts-summary\">%zu delivered, "
		"%zu pending, %zu failed or suppressed</p>\n",
		delivered, pending, other);
	if (!l->n)
		return;
	zenc_buf_puts(
		b, "<table id=\"alerts\">\n<tr><th>Created</th><th>Alerter</th>"
		   "<th>Event</th><th>Step</th><th>Title</th><th>Status</th>"
		   "<th>Attempts</th><th>Delivered</th><th>Last error</th>"
		   "</tr>\n");
	for (i = 0; i < l->n; i++) {
		const zenc_alert_record *a = &l->alerts[i];
		const char *cs = alert_colour_status(a->status);

		zenc_buf_puts(b, "<tr class=\"alert\"><td>");
		cli_put_local_time(b, a->created);
		zenc_buf_puts(b, "</td><td>");
		cli_ui_escape(b, a->alerter ? a->alerter : "-");
		if (a->flavor) {
			zenc_buf_puts(b, " <span class=\"muted\">(");
			cli_ui_escape(b, a->flavor);
			zenc_buf_puts(b, ")</span>");
		}
		zenc_buf_puts(b, "</td><td>");
		cli_ui_escape(b, a->event);
		zenc_buf_puts(b, "</td><td>");
		cli_ui_escape(b, a->step ? a->step : "-");
		zenc_buf_puts(b, "</td><td>");
		cli_ui_escape(b, a->title);
		zenc_buf_puts(b, "</td><td>");
		zenc_buf_puts(b, "<span class=\"badge\" data-status=\"");
		cli_ui_escape(b, a->status);
		zenc_buf_printf(
			b, "\" style=\"background:%s;color:%s\">",
			cli_ui_status_fill(cs), cli_ui_status_ink(cs));
		cli_ui_escape(b, a->status ? a->status : "unknown");
		zenc_buf_printf(b, "</span></td><td>%d</td><td>", a->attempts);
		cli_put_local_time(b, a->delivered);
		zenc_buf_puts(b, "</td><td class=\"err\">");
		cli_ui_escape(b, a->last_error);
		zenc_buf_puts(b, "</td></tr>\n");
	}
	zenc_buf_puts(b, "</table>\n");
}

void cli_ui_run_page(
	zenc_buf *b,
	const zenc_run_info *info,
	const zenc_alert_list *alerts,
	unsigned flags,
	const char *run_dir)
{
	static const char *const statuses[] = {"completed", "cached",
					       "failed",    "running",
					       "skipped",   "pending"};
	const zenc_run_record *r = &info->rec;
	int running = r->status && !strcmp(r->status, "running");
	zenc_buf title = ZENC_BUF_INIT, err = ZENC_BUF_INIT;
	size_t counts[6] = {0}, i, k;

	zenc_buf_printf(
		&title, "%s \xe2\x80\x94 %s", r->name ? r->name : "run",
		r->status ? r->status : "unknown");
	/* A running run's page follows it: every 2 s, until it ends. */
	page_head(
		b, zenc_buf_cstr(&title), flags,
		running && !(flags & CLI_UI_REPORT) ? 2 : 0);
	zenc_buf_puts(b, "<h1 id=\"run-title\">");
	cli_ui_escape(b, r->name);
	zenc_buf_puts(b, " ");
	badge(b, r->status);
	zenc_buf_puts(
		b, "</h1>\n<dl class=\"summary\">\n<dt>id</dt><dd><code>");
	cli_ui_escape(b, r->id);
	zenc_buf_puts(b, "</code></dd>\n<dt>pipeline</dt><dd>");
	if (!(flags & CLI_UI_REPORT)) {
		zenc_buf_puts(b, "<a href=\"/?pipeline=");
		cli_ui_url_escape(b, r->pipeline);
		zenc_buf_puts(b, "\">");
	}
	cli_ui_escape(b, r->pipeline);
	if (!(flags & CLI_UI_REPORT))
		zenc_buf_puts(b, "</a>");
	zenc_buf_puts(b, "</dd>\n<dt>stack</dt><dd>");
	cli_ui_escape(b, r->stack ? r->stack : "-");
	zenc_buf_puts(b, "</dd>\n");
	cli_ui_resumed_from(b, r, flags);
	zenc_buf_puts(b, "<dt>started</dt><dd>");
	cli_put_local_time(b, r->started);
	zenc_buf_puts(b, "</dd>\n<dt>ended</dt><dd>");
	cli_put_local_time(b, r->ended);
	zenc_buf_puts(b, "</dd>\n<dt>duration</dt><dd>");
	cli_put_span(b, r->started, r->ended);
	zenc_buf_puts(b, "</dd>\n<dt>steps</dt><dd>");
	for (i = 0; i < info->n_steps; i++) {
		const char *st = info->steps[i].rec.status;

		for (k = 0; k < 5; k++)
			if (st && !strcmp(st, statuses[k]))
				break;
		counts[k]++;
	}
	zenc_buf_printf(b, "%zu", info->n_steps);
	for (k = 0; k < 6; k++)
		if (counts[k])
			zenc_buf_printf(b, ", %zu %s", counts[k], statuses[k]);
	zenc_buf_puts(b, "</dd>\n</dl>\n");

	failures_section(b, info);

	zenc_buf_puts(b, "<h2>Graph</h2>\n<p class=\"legend\">");
	for (k = 0; k < 5; k++)
		badge(b, statuses[k]);
	zenc_buf_puts(b, "</p>\n<div class=\"dagbox\">\n");
	cli_ui_dag_svg(b, info, 0);
	zenc_buf_puts(b, "</div>\n");

	zenc_buf_puts(
		b, "<h2>Steps</h2>\n<table id=\"steps\">\n<tr><th>Step</th>"
		   "<th>Status</th><th>Attempts</th><th>Started</th>"
		   "<th>Duration</th><th>Hook runs</th><th>Error</th></tr>\n");
	for (i = 0; i < info->n_steps; i++) {
		const zenc_step_record *s = &info->steps[i].rec;

		zenc_buf_printf(b, "<tr><td><a href=\"#step-%zu\">", i);
		cli_ui_escape(b, s->name);
		zenc_buf_puts(b, "</a></td><td>");
		badge(b, s->status);
		zenc_buf_printf(b, "</td><td>%d</td><td>", s->attempts);
		cli_put_local_time(b, s->started);
		zenc_buf_puts(b, "</td><td>");
		cli_put_span(b, s->started, s->ended);
		zenc_buf_printf(
			b, "</td><td>%zu</td><td class=\"err\">",
			info->steps[i].n_hooks);
		zenc_buf_clear(&err);
		error_text(
			&err, s->error_type, s->error_message, s->exit_code,
			s->signal);
		cli_ui_escape(b, zenc_buf_cstr(&err));
		zenc_buf_puts(b, "</td></tr>\n");
	}
	zenc_buf_puts(b, "</table>\n");
	for (i = 0; i < info->n_steps; i++)
		step_section(b, info, &info->steps[i], i, r, run_dir, flags);

	if (info->n_run_hooks) {
		zenc_buf_puts(b, "<h2>Run hooks</h2>\n");
		hooks_table(b, info->run_hooks, info->n_run_hooks, 0);
	}
	if (alerts)
		alerts_section(b, alerts);
	page_foot(b);
	zenc_buf_release(&title);
	zenc_buf_release(&err);
}
