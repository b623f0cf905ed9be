#include "cli.h"

#include "../common/error.h"

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
