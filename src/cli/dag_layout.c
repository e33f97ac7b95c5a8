/*
 * A layered layout of a DAG (see dag_layout.h).  The steps are the
 * classic ones (Sugiyama et al.; Gansner et al., "A technique for drawing
 * directed graphs"), kept simple: the graphs are pipelines of tens to a
 * few thousand steps, drawn once per page view.
 */
#include <stdlib.h>
#include <string.h>

#include "dag_layout.h"
#include "util/util.h"

/* The working graph: the nodes given, then one dummy node for each layer
 * a long edge crosses, and the "proper" edges that join consecutive
 * layers only. */
struct graph {
	size_t n_real;
	size_t n; /* real and dummy nodes */
	size_t cap;
	int *layer;
	double *w; /* box width */
	size_t n_layers;
	size_t *layer_len;
	size_t **order; /* order[l][i]: the node at position i of layer l */
	size_t *pos;    /* a node's position within its layer */
	/* Proper edges, and each node's up and down neighbours (CSR). */
	cli_dag_edge *pe;
	size_t n_pe;
	size_t cap_pe;
	size_t *up_start, *up;
	size_t *down_start, *down;
	double *x; /* box left edge */
};

/* A cursor-based adjacency (compressed rows) of `n_e` edges over `n`
 * nodes: for node v, adj[start[v] .. start[v+1]) are its neighbours. */
static void csr_build(
	size_t **start_out,
	size_t **adj_out,
	size_t n,
	const cli_dag_edge *e,
	size_t n_e,
	int reverse)
{
	size_t *start = zenc__calloc(n + 1, sizeof(*start));
	size_t *adj = zenc__calloc(n_e ? n_e : 1, sizeof(*adj));
	size_t *fill = zenc__calloc(n + 1, sizeof(*fill));
	size_t i;

	for (i = 0; i < n_e; i++)
		start[(reverse ? e[i].to : e[i].from) + 1]++;
	for (i = 0; i < n; i++)
		start[i + 1] += start[i];
	memcpy(fill, start, (n + 1) * sizeof(*fill));
	for (i = 0; i < n_e; i++) {
		size_t a = reverse ? e[i].to : e[i].from;
		size_t b = reverse ? e[i].from : e[i].to;

		adj[fill[a]++] = b;
	}
	free(fill);
	*start_out = start;
	*adj_out = adj;
}

/*
 * Longest-path layering: a node sits one layer below its lowest upstream
 * node, sources at the top.  Kahn's algorithm; when it stalls on a cycle
 * (the engine refuses cycles, but records are data), the first node left
 * is placed below what has been placed of its upstream nodes and the
 * walk goes on.
 */
static void assign_layers(
	int *layer, size_t n, const cli_dag_edge *e, size_t n_e)
{
	size_t *up_start, *up, *down_start, *down, *queue, *indeg;
	size_t head = 0, tail = 0, done = 0, next = 0, i, j;
	unsigned char *placed = zenc__calloc(n ? n : 1, 1);

	csr_build(&up_start, &up, n, e, n_e, 1);
	csr_build(&down_start, &down, n, e, n_e, 0);
	queue = zenc__calloc(n ? n : 1, sizeof(*queue));
	indeg = zenc__calloc(n ? n : 1, sizeof(*indeg));
	for (i = 0; i < n; i++)
		indeg[i] = up_start[i + 1] - up_start[i];
	for (i = 0; i < n; i++)
		if (!indeg[i])
			queue[tail++] = i;
	while (done < n) {
		size_t v;
		int l = 0;

		if (head == tail) {
			while (placed[next])
				next++;
			queue[tail++] = next;
		}
		v = queue[head++];
		if (placed[v])
			continue;
		for (j = up_start[v]; j < up_start[v + 1]; j++)
			if (placed[up[j]] && layer[up[j]] + 1 > l)
				l = layer[up[j]] + 1;
		layer[v] = l;
		placed[v] = 1;
		done++;
		for (j = down_start[v]; j < down_start[v + 1]; j++) {
			size_t d = down[j];

			if (!placed[d] && indeg[d] && --indeg[d] == 0)
				queue[tail++] = d;
		}
	}
	free(placed);
	free(queue);
	free(indeg);
	free(up_start);
	free(up);
	free(down_start);
	free(down);
}

static size_t graph_add_node(struct graph *g, int layer, double w)
{
	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 64;
		g->layer = zenc__realloc(g->layer, g->cap * sizeof(*g->layer));
		g->w = zenc__realloc(g->w, g->cap * sizeof(*g->w));
	}
	g->layer[g->n] = layer;
	g->w[g->n] = w;
	return g->n++;
}

static void graph_add_edge(struct graph *g, size_t from, size_t to)
{
	zenc__array_grow(
		(void **)&g->pe, &g->cap_pe, g->n_pe + 1, sizeof(*g->pe));
	g->pe[g->n_pe].from = from;
	g->pe[g->n_pe].to = to;
	g->n_pe++;
}

struct keyed {
	double key;
	size_t pos;
	size_t node;
};

static int keyed_cmp(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Reorders layer `l` by the barycentre of each node's neighbours' positions
 * in the layer above (`down` 1) or below; a node without neighbours there
 * keeps its place. */
static void order_layer(struct graph *g, size_t l, int down, struct keyed *k)
{
	size_t len = g->layer_len[l], i, j;

	for (i = 0; i < len; i++) {
		size_t v = g->order[l][i];
		const size_t *start = down ? g->up_start : g->down_start;
		const size_t *adj = down ? g->up : g->down;
		double sum = 0;
		size_t cnt = start[v + 1] - start[v];

		for (j = start[v]; j < start[v + 1]; j++)
			sum += (double)g->pos[adj[j]];
		k[i].key = cnt ? sum / (double)cnt : (double)i;
		k[i].pos = i;
		k[i].node = v;
	}
	qsort(k, len, sizeof(*k), keyed_cmp);
	for (i = 0; i < len; i++) {
		g->order[l][i] = k[i].node;
		g->pos[k[i].node] = i;
	}
}

struct pair {
	size_t a;
	size_t b;
};

static int pair_cmp(const void *x, const void *y)
{
	const struct pair *p = x, *q = y;

	if (p->a != q->a)
		return p->a < q->a ? -1 : 1;
	return p->b < q->b ? -1 : p->b > q->b;
}

/* Edge crossings between every two consecutive layers: the inversions
 * among edges sorted by their upper end, counted with a Fenwick tree. */
static size_t count_crossings(struct graph *g, struct pair *pairs, size_t *bit)
{
	size_t total = 0, l, i, j, np;

	for (l = 0; l + 1 < g->n_layers; l++) {
		size_t m = g->layer_len[l + 1];

		np = 0;
		for (i = 0; i < g->layer_len[l]; i++) {
			size_t v = g->order[l][i];

			for (j = g->down_start[v]; j < g->down_start[v + 1];
			     j++) {
				pairs[np].a = i;
				pairs[np].b = g->pos[g->down[j]];
				np++;
			}
		}
		qsort(pairs, np, sizeof(*pairs), pair_cmp);
		memset(bit, 0, (m + 1) * sizeof(*bit));
		for (i = 0; i < np; i++) {
			size_t below = 0, p;

			/* Edges seen so far ending at or left of this one. */
			for (p = pairs[i].b + 1; p > 0; p -= p & (~p + 1))
				below += bit[p];
			total += i - below;
			for (p = pairs[i].b + 1; p <= m; p += p & (~p + 1))
				bit[p]++;
		}
	}
	return total;
}

static void save_order(struct graph *g, size_t *saved)
{
	size_t l, off = 0;

	for (l = 0; l < g->n_layers; l++) {
		memcpy(saved + off, g->order[l],
		       g->layer_len[l] * sizeof(*saved));
		off += g->layer_len[l];
	}
}

static void load_order(struct graph *g, const size_t *saved)
{
	size_t l, i, off = 0;

	for (l = 0; l < g->n_layers; l++) {
		memcpy(g->order[l], saved + off,
		       g->layer_len[l] * sizeof(*saved));
		off += g->layer_len[l];
		for (i = 0; i < g->layer_len[l]; i++)
			g->pos[g->order[l][i]] = i;
	}
}

/* Down and up sweeps; the ordering with the fewest crossings wins. */
static size_t order_layers(struct graph *g, int sweeps)
{
	struct keyed *k = zenc__calloc(g->n ? g->n : 1, sizeof(*k));
	struct pair *pairs =
		zenc__calloc(g->n_pe ? g->n_pe : 1, sizeof(*pairs));
	size_t *bit = zenc__calloc(g->n + 1, sizeof(*bit));
	size_t *best = zenc__calloc(g->n ? g->n : 1, sizeof(*best));
	size_t best_c, c, l;
	int s;

	best_c = count_crossings(g, pairs, bit);
	save_order(g, best);
	for (s = 0; s < sweeps && best_c > 0; s++) {
		for (l = 1; l < g->n_layers; l++)
			order_layer(g, l, 1, k);
		for (l = g->n_layers - 1; l-- > 0;)
			order_layer(g, l, 0, k);
		c = count_crossings(g, pairs, bit);
		if (c < best_c) {
			best_c = c;
			save_order(g, best);
		}
	}
	load_order(g, best);
	free(k);
	free(pairs);
	free(bit);
	free(best);
	return best_c;
}

/*
 * Places layer `l`'s boxes as near as they may to the barycentre of their
 * neighbours in the layer above (`down` 1) or below, keeping their order
 * and a gap: the leftmost placement that honours the gaps and the
 * rightmost one are each feasible, and so is their average.
 */
static void place_layer(
	struct graph *g,
	size_t l,
	int down,
	double gap,
	double *want,
	double *lo,
	double *hi)
{
	const size_t *start = down ? g->up_start : g->down_start;
	const size_t *adj = down ? g->up : g->down;
	size_t len = g->layer_len[l], i, j;

	if (!len)
		return;
	for (i = 0; i < len; i++) {
		size_t v = g->order[l][i], cnt = start[v + 1] - start[v];
		double sum = 0;

		for (j = start[v]; j < start[v + 1]; j++)
			sum += g->x[adj[j]] + g->w[adj[j]] / 2;
		/* `want` is the left edge that centres the box there. */
		want[i] = cnt ? sum / (double)cnt - g->w[v] / 2 : g->x[v];
	}
	for (i = 0; i < len; i++) {
		lo[i] = want[i];
		if (i) {
			size_t u = g->order[l][i - 1];

			if (lo[i] < lo[i - 1] + g->w[u] + gap)
				lo[i] = lo[i - 1] + g->w[u] + gap;
		}
	}
	for (i = len; i-- > 0;) {
		size_t v = g->order[l][i];

		hi[i] = want[i];
		if (i + 1 < len && hi[i] > hi[i + 1] - g->w[v] - gap)
			hi[i] = hi[i + 1] - g->w[v] - gap;
	}
	for (i = 0; i < len; i++)
		g->x[g->order[l][i]] = (lo[i] + hi[i]) / 2;
}

static void assign_x(struct graph *g, const cli_dag_opts *o)
{
	double *want = zenc__calloc(g->n ? g->n : 1, sizeof(double));
	double *lo = zenc__calloc(g->n ? g->n : 1, sizeof(double));
	double *hi = zenc__calloc(g->n ? g->n : 1, sizeof(double));
	double widest = 0, minx = 0;
	size_t l, i;
	int pass;

	/* Start from each layer packed and centred under the widest. */
	for (l = 0; l < g->n_layers; l++) {
		double w = 0;

		for (i = 0; i < g->layer_len[l]; i++)
			w += g->w[g->order[l][i]] + (i ? o->gap_x : 0);
		if (w > widest)
			widest = w;
	}
	for (l = 0; l < g->n_layers; l++) {
		double w = 0, at;

		for (i = 0; i < g->layer_len[l]; i++)
			w += g->w[g->order[l][i]] + (i ? o->gap_x : 0);
		at = (widest - w) / 2;
		for (i = 0; i < g->layer_len[l]; i++) {
			size_t v = g->order[l][i];

			g->x[v] = at;
			at += g->w[v] + o->gap_x;
		}
	}
	/* Then pull towards the neighbours: down, up, down. */
	for (pass = 0; pass < 3; pass++) {
		if (pass % 2 == 0)
			for (l = 1; l < g->n_layers; l++)
				place_layer(g, l, 1, o->gap_x, want, lo, hi);
		else
			for (l = g->n_layers - 1; l-- > 0;)
				place_layer(g, l, 0, o->gap_x, want, lo, hi);
	}
	for (i = 0; i < g->n; i++)
		if (i == 0 || g->x[i] < minx)
			minx = g->x[i];
	for (i = 0; i < g->n; i++)
		g->x[i] += o->margin - minx;
	free(want);
	free(lo);
	free(hi);
}

static void path_point(cli_dag_path *p, size_t *cap, double x, double y)
{
	zenc__array_grow(
		(void **)&p->xy, cap, 2 * (p->n_points + 1), sizeof(double));
	p->xy[2 * p->n_points] = x;
	p->xy[2 * p->n_points + 1] = y;
	p->n_points++;
}

void cli_dag_layout_compute(
	cli_dag_layout *out,
	size_t n,
	const cli_dag_edge *edges,
	size_t n_edges,
	const cli_dag_opts *opts)
{
	static const cli_dag_opts defaults = CLI_DAG_OPTS_INIT;
	const cli_dag_opts *o = opts ? opts : &defaults;
	struct graph g = {0};
	cli_dag_edge *kept = zenc__calloc(n_edges ? n_edges : 1, sizeof(*kept));
	/* For each kept edge: its chain of nodes, top to bottom. */
	size_t *chain_start = zenc__calloc(n_edges + 1, sizeof(size_t));
	size_t *chain = NULL, n_chain = 0, cap_chain = 0;
	unsigned char *reversed = zenc__calloc(n_edges ? n_edges : 1, 1);
	size_t n_kept = 0, i, j, l, *fill;
	double maxx = 0, maxy = 0;

	memset(out, 0, sizeof(*out));
	out->n = n;
	for (i = 0; i < n_edges; i++)
		if (edges[i].from < n && edges[i].to < n &&
		    edges[i].from != edges[i].to)
			kept[n_kept++] = edges[i];

	g.n_real = n;
	for (i = 0; i < n; i++)
		graph_add_node(&g, 0, o->node_w);
	assign_layers(g.layer, n, kept, n_kept);

	/* Chains: an edge against the layering (a broken cycle) is laid out
	 * reversed; one within a layer gets no dummies. */
	for (i = 0; i < n_kept; i++) {
		size_t top = kept[i].from, bottom = kept[i].to, prev;
		int t;

		if (g.layer[top] > g.layer[bottom]) {
			top = kept[i].to;
			bottom = kept[i].from;
			reversed[i] = 1;
		}
		chain_start[i] = n_chain;
		zenc__array_grow(
			(void **)&chain, &cap_chain, n_chain + 1,
			sizeof(*chain));
		chain[n_chain++] = top;
		prev = top;
		for (t = g.layer[top] + 1; t < g.layer[bottom]; t++) {
			size_t d = graph_add_node(&g, t, o->dummy_w);

			graph_add_edge(&g, prev, d);
			zenc__array_grow(
				(void **)&chain, &cap_chain, n_chain + 1,
				sizeof(*chain));
			chain[n_chain++] = d;
			prev = d;
		}
		if (g.layer[top] != g.layer[bottom])
			graph_add_edge(&g, prev, bottom);
		zenc__array_grow(
			(void **)&chain, &cap_chain, n_chain + 1,
			sizeof(*chain));
		chain[n_chain++] = bottom;
	}
	chain_start[n_kept] = n_chain;

	/* Layers, in the order given (real nodes first, then dummies). */
	for (i = 0; i < g.n; i++)
		if ((size_t)g.layer[i] + 1 > g.n_layers)
			g.n_layers = (size_t)g.layer[i] + 1;
	g.layer_len = zenc__calloc(g.n_layers + 1, sizeof(size_t));
	g.order = zenc__calloc(g.n_layers + 1, sizeof(size_t *));
	g.pos = zenc__calloc(g.n ? g.n : 1, sizeof(size_t));
	g.x = zenc__calloc(g.n ? g.n : 1, sizeof(double));
	for (i = 0; i < g.n; i++)
		g.layer_len[g.layer[i]]++;
	for (l = 0; l < g.n_layers; l++)
		g.order[l] = zenc__calloc(g.layer_len[l] + 1, sizeof(size_t));
	fill = zenc__calloc(g.n_layers + 1, sizeof(size_t));
	for (i = 0; i < g.n; i++) {
		l = (size_t)g.layer[i];
		g.pos[i] = fill[l];
		g.order[l][fill[l]++] = i;
	}
	free(fill);
	csr_build(&g.up_start, &g.up, g.n, g.pe, g.n_pe, 1);
	csr_build(&g.down_start, &g.down, g.n, g.pe, g.n_pe, 0);

	out->crossings = order_layers(&g, o->sweeps);
	assign_x(&g, o);

	out->n_layers = (int)g.n_layers;
	out->layer = zenc__calloc(n ? n : 1, sizeof(int));
	out->x = zenc__calloc(n ? n : 1, sizeof(double));
	out->y = zenc__calloc(n ? n : 1, sizeof(double));
	for (i = 0; i < n; i++) {
		out->layer[i] = g.layer[i];
		out->x[i] = g.x[i];
		out->y[i] = o->margin + g.layer[i] * (o->node_h + o->gap_y);
	}
	for (i = 0; i < g.n; i++) {
		if (g.x[i] + g.w[i] > maxx)
			maxx = g.x[i] + g.w[i];
	}
	if (g.n_layers)
		maxy = o->margin + (double)g.n_layers * (o->node_h + o->gap_y) -
		       o->gap_y;
	out->width = maxx + o->margin;
	out->height = maxy + o->margin;

	/* Paths, each from its edge's `from` to its `to`. */
	out->paths = zenc__calloc(n_kept ? n_kept : 1, sizeof(*out->paths));
	out->n_paths = n_kept;
	for (i = 0; i < n_kept; i++) {
		cli_dag_path *p = &out->paths[i];
		size_t a = chain_start[i], b = chain_start[i + 1], cap = 0;
		size_t top = chain[a], bottom = chain[b - 1];

		p->from = kept[i].from;
		p->to = kept[i].to;
		if (g.layer[top] == g.layer[bottom]) {
			/* Side to side, within a layer. */
			int left = g.x[top] < g.x[bottom];
			double y = o->margin +
				   g.layer[top] * (o->node_h + o->gap_y) +
				   o->node_h / 2;

			path_point(
				p, &cap, g.x[top] + (left ? g.w[top] : 0), y);
			path_point(
				p, &cap, g.x[bottom] + (left ? 0 : g.w[bottom]),
				y);
			continue;
		}
		for (j = a; j < b; j++) {
			size_t v = chain[j];
			double cx = g.x[v] + g.w[v] / 2;
			double ty =
				o->margin + g.layer[v] * (o->node_h + o->gap_y);

			if (j == a)
				path_point(p, &cap, cx, ty + o->node_h);
			else if (j + 1 == b)
				path_point(p, &cap, cx, ty);
			else
				path_point(p, &cap, cx, ty + o->node_h / 2);
		}
		if (reversed[i]) {
			for (j = 0; j < p->n_points / 2; j++) {
				size_t k = p->n_points - 1 - j;
				double tx = p->xy[2 * j], ty = p->xy[2 * j + 1];

				p->xy[2 * j] = p->xy[2 * k];
				p->xy[2 * j + 1] = p->xy[2 * k + 1];
				p->xy[2 * k] = tx;
				p->xy[2 * k + 1] = ty;
			}
		}
	}

	for (l = 0; l < g.n_layers; l++)
		free(g.order[l]);
	free(g.order);
	free(g.layer_len);
	free(g.layer);
	free(g.w);
	free(g.pos);
	free(g.x);
	free(g.pe);
	free(g.up_start);
	free(g.up);
	free(g.down_start);
	free(g.down);
	free(kept);
	free(chain_start);
	free(chain);
	free(reversed);
}

void cli_dag_layout_release(cli_dag_layout *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->n_paths; i++)
		free(l->paths[i].xy);
	free(l->paths);
	free(l->layer);
	free(l->x);
	free(l->y);
	memset(l, 0, sizeof(*l));
}
