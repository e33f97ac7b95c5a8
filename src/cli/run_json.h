/* The JSON of runs: what `zenc runs list|show --json` and /api/runs print. */
#ifndef ZENC_CLI_RUN_JSON_H
#define ZENC_CLI_RUN_JSON_H

#include "zenc.h"
#include "util/util.h"

/* A JSON array of runs, newest first, and a newline. */
void cli_run_list_json(zenc_buf *b, const zenc_run_list *l);
/* A JSON object of a run: its steps, attempts, outputs and hook runs. */
void cli_run_json(zenc_buf *b, const zenc_run_info *info);

#endif
