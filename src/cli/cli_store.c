/* Opening a stack's metadata store, for the commands that read it. */
#include "cli.h"
#include "lib/stack.h"
#include "lib/store.h"

int cli_open_store(zenc__store **out, const char *stack_name,
		   zenc_stack **stack_out)
{
	zenc_stack *stack = NULL;
	int rc;

	*out = NULL;
	if (stack_out)
		*stack_out = NULL;
	if ((rc = zenc__stack_load(&stack, stack_name)) < 0) {
		cli_error("%s", zenc_error_last());
		return rc == ZENC_ENOTFOUND ? ZENC_EXIT_USAGE : ZENC_EXIT_ENV;
	}
	if (zenc__store_open(out, zenc__stack_store_flavor(stack),
			     zenc__stack_store_location(stack)) < 0) {
		cli_error("%s", zenc_error_last());
		zenc__stack_free(stack);
		return ZENC_EXIT_ENV;
	}
	if (stack_out)
		*stack_out = stack;
	else
		zenc__stack_free(stack);
	return 0;
}
