#!/bin/sh
# The run-level failure hook: once per run, however many steps failed.
echo "page-oncall: pipeline $ZENC_PIPELINE_NAME, run $ZENC_RUN_NAME failed"
