#include "cli.h"

#include "../common/error.h"
#include "../common/secret.h"
#include "../common/fsutil.h"
#include "../hsm/hsm.h"
#include "../hsm/provision.h"

#include <stdarg.h>
#include <stdio.h>

void cli_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_config(struct cli_context *ctx, const struct rombsr_config **cfg)
{
	if (!ctx->cfg_loaded) {
		int r = rombsr_config_load(ctx->config_path, &ctx->cfg);

		if (r < 0)
			return r;
		ctx->cfg_loaded = true;
	}
	*cfg = &ctx->cfg;
	return 0;
}

static int read_pin(struct cli_context *ctx, const struct rombsr_authority_config *a, struct rombsr_buf *pin)
{
	char prompt[96];

	if (ctx->pin_fd >= 0)
		return rombsr_secret_from_fd(ctx->pin_fd, pin);
	if (ctx->pin_file != NULL)
		return rombsr_secret_from_file(ctx->pin_file, pin);
	if (rombsr_path_exists(a->pin_file))
		return rombsr_secret_from_file(a->pin_file, pin);
	snprintf(prompt, sizeof(prompt), "PIN for the %s authority's token: ", a->name);
	return rombsr_secret_prompt(prompt, pin);
}

int cli_open_authority(struct cli_context *ctx, enum rombsr_authority_id id, struct rombsr_hsm **out)
{
	const struct rombsr_config *cfg;
	const struct rombsr_authority_config *a;
	struct rombsr_hsm *hsm = NULL;
	struct rombsr_buf pin = {0};
	int r;

	*out = NULL;
	r = cli_config(ctx, &cfg);
	if (r < 0)
		return r;
	a = &cfg->authority[id];
	r = rombsr_softhsm_prepare(cfg);
	if (r == 0)
		r = rombsr_hsm_open(a->module, a->token_uri, &hsm);
	if (r == 0)
		r = read_pin(ctx, a, &pin);
	if (r == 0)
		r = rombsr_hsm_login(hsm, (const char *)pin.data);
	rombsr_buf_free(&pin);
	if (r < 0) {
		rombsr_hsm_close(hsm);
		return rombsr_error_wrap(r, "%s authority", a->name);
	}
	*out = hsm;
	return 0;
}
