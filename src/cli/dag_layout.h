/*
 * A layered ("Sugiyama") layout of a run's DAG, computed by zenc itself so
 * that the dashboard, `zenc runs report` and `zenc runs dag --format svg`
 * need nothing else: longest-path layering, dummy nodes on long edges,
 * barycentric ordering within layers (a few down and up sweeps, keeping
 * the ordering with the fewest crossings), and x coordinates pulled
 * towards the neighbours' barycentres.  Layers run from top to bottom;
 * a wide layer makes a wide drawing (the page scrolls).
 */
#ifndef ZENC_CLI_DAG_LAYOUT_H
#define ZENC_CLI_DAG_LAYOUT_H

#include <stddef.h>

/* An edge from an upstream node to the node that runs after it. */
typedef struct cli_dag_edge {
	size_t from;
	size_t to;
} cli_dag_edge;

typedef struct cli_dag_opts {
	double node_w; /* a node's box */
	double node_h;
	double gap_x;   /* between neighbours in a layer */
	double gap_y;   /* between layers */
	double dummy_w; /* the room a long edge takes where it crosses a layer
			 */
	double margin;
	int sweeps; /* ordering iterations, each a down and an up sweep */
} cli_dag_opts;

#define CLI_DAG_OPTS_INIT                                                      \
	{                                                                      \
		160, 36, 24, 44, 12, 16, 4                                     \
	}

/* An edge as drawn: a polyline from the bottom of `from` through the
 * layers it crosses to the top of `to`. */
typedef struct cli_dag_path {
	size_t from;
	size_t to;
	size_t n_points;
	double *xy; /* n_points (x, y) pairs */
} cli_dag_path;

typedef struct cli_dag_layout {
	size_t n;   /* nodes, as given */
	int *layer; /* each node's layer, 0 at the top */
	int n_layers;
	double *x; /* each node's box: top-left corner */
	double *y;
	cli_dag_path *paths; /* one per edge kept (no self-loops) */
	size_t n_paths;
	double width; /* of the whole drawing, margins included */
	double height;
	size_t crossings; /* edge crossings of the ordering chosen */
} cli_dag_layout;

#define CLI_DAG_LAYOUT_INIT                                                    \
	{                                                                      \
		0, NULL, 0, NULL, NULL, NULL, 0, 0, 0, 0                       \
	}

/*
 * Lays out `n` nodes and `n_edges` edges (indices below `n`; self-loops
 * and out-of-range edges are ignored; a cycle is broken, never looped
 * on).  `opts` NULL means CLI_DAG_OPTS_INIT.  Fills `out`, released with
 * cli_dag_layout_release().  Allocation failure aborts, so this cannot
 * fail.
 */
void cli_dag_layout_compute(
	cli_dag_layout *out,
	size_t n,
	const cli_dag_edge *edges,
	size_t n_edges,
	const cli_dag_opts *opts);
void cli_dag_layout_release(cli_dag_layout *l);

#endif
