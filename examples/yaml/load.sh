#!/bin/sh
# Loads the day's rows and reports how many.
echo "loading rows for $ZENC_PARAM_DAY"
echo 1003 >"$ZENC_OUTPUT_DIR/rows"
