/*
 * The asking test's pipeline (t0610): one step, "ask", that asks a
 * yes/no question through the active stack's alerter with
 * zenc_alerter_ask() and prints one line on standard output:
 *   ask: approved|rejected|timeout|error rc=N (NAME) elapsed=S
 * Parameters:
 *   question  the question's text
 *   timeout   the deadline in seconds
 *   channel   the Slack channel to ask in, or "" for the alerter's
 * The step succeeds whatever the answer: the line says what it was.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <time.h>

#include <zenc.h>
#include <zenc/sys/alerter.h>

typedef struct {
	const char *question;
	double timeout;
	const char *channel;
} ask_params;

static const zenc_param ask_fields[] = {
	ZENC_PARAM_STRING(ask_params, question, "Deploy the model?"),
	ZENC_PARAM_DOUBLE(ask_params, timeout, 10.0),
	ZENC_PARAM_STRING(ask_params, channel, ""),
	ZENC_PARAM_END,
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int ask(zenc_step_context *ctx)
{
	const ask_params *p = zenc_ctx_params(ctx);
	zenc_stack *stack = zenc_ctx_active_stack(ctx);
	zenc_alerter *a = stack ? zenc_stack_alerter(stack) : NULL;
	zenc_alert al = ZENC_ALERT_INIT;
	const char *what;
	double t0;
	int approved = -1, rc;

	al.title = "Approval needed";
	al.message = p->question;
	al.pipeline = "ask_pipeline";
	al.step = "ask";
	al.event = "ask";
	al.channel = *p->channel ? p->channel : NULL;
	t0 = now();
	rc = zenc_alerter_ask(a, &al, p->timeout, &approved);
	if (rc == 0)
		what = approved ? "approved" : "rejected";
	else if (rc == ZENC_ETIMEOUT)
		what = "timeout";
	else
		what = "error";
	printf("ask: %s rc=%d (%s) elapsed=%.1f\n", what, rc,
	       zenc_error_name(rc), now() - t0);
	if (rc < 0)
		printf("ask error: %s\n", zenc_error_last());
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	zenc_pipeline *p;
	zenc_step *s;
	int rc;

	zenc_pipeline_new(&p, "ask_pipeline");
	zenc_pipeline_add_step(&s, p, "ask", ask);
	zenc_step_set_params(
		s, "AskParameters", ask_fields, sizeof(ask_params));
	rc = zenc_main(p, argc, argv);
	zenc_pipeline_free(p);
	return rc;
}
