#!/bin/sh
# A command hook: the context is in ZENC_* variables, and the same as
# JSON on standard input.
json=$(cat)
case $ZENC_HOOK_EVENT in
on_success) echo "notify: $ZENC_STEP_NAME succeeded (attempt $ZENC_ATTEMPT)" ;;
*) echo "notify: $ZENC_STEP_NAME failed: $ZENC_ERROR_TYPE (exit code $ZENC_EXIT_CODE)"
   echo "notify: context: $json" ;;
esac
