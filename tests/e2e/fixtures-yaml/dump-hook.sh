#!/bin/sh
# A command hook that records what it was given: its environment (the
# ZENC_* variables), its standard input and its working folder.
out=${DUMP_DIR:-.}
env | grep '^ZENC_' | sort >"$out/hook-env.$ZENC_HOOK_EVENT.$ZENC_STEP_NAME"
cat >"$out/hook-stdin.$ZENC_HOOK_EVENT.$ZENC_STEP_NAME"
pwd >"$out/hook-pwd.$ZENC_HOOK_EVENT.$ZENC_STEP_NAME"
