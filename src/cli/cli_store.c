/* Opening a stack's metadata store, for the commands that read it. */
#include "cli.h"

int cli_open_store(zenc_store **out, const char *stack_name)
{
	int rc;

	if ((rc = zenc_store_open(out, stack_name)) < 0) {
		cli_error("%s", zenc_error_last());
		return zenc_exit_status(rc);
	}
	/* Every command that opens a store delivers what is due: it hands
	 * pending alerts to the store's courier, at once. */
	zenc_store_deliver_pending(*out);
	return 0;
}
