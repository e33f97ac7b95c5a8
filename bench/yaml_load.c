/*
 * Loads and validates a YAML pipeline, as `zenc run FILE` does before it
 * runs anything, and nothing else: the "load and validate" figure of the
 * YAML loading workload (bench.py times it with runner.c).
 *
 *   yaml_load FILE      exit 0 when the file loads and validates
 */
#include <stdio.h>

#include <zenc.h>

int main(int argc, char **argv)
{
	zenc_yaml_pipeline *yp = NULL;
	int rc;

	if (argc != 2) {
		fputs("usage: yaml_load FILE\n", stderr);
		return 2;
	}
	rc = zenc_yaml_pipeline_load(&yp, argv[1]);
	if (rc == 0)
		rc = zenc_pipeline_validate(zenc_yaml_pipeline_get(yp));
	if (rc != 0)
		fprintf(stderr, "yaml_load: %s\n", zenc_error_last());
	zenc_yaml_pipeline_free(yp);
	return rc == 0 ? 0 : 1;
}
