#!/bin/sh
# Fails on purpose: the accuracy is below the threshold.
acc=$(cat "$ZENC_INPUT_ACCURACY")
echo "accuracy $acc, threshold $ZENC_PARAM_THRESHOLD"
if awk -v a="$acc" -v t="$ZENC_PARAM_THRESHOLD" 'BEGIN { exit !(a < t) }'
then
	echo "accuracy below the threshold" >&2
	exit 3
fi
echo true >"$ZENC_OUTPUT_DIR/passed"
