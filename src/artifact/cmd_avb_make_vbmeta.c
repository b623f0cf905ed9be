/* avb make-vbmeta: a vbmeta image (the top of a chain, or a chained
 * partition's own vbmeta such as vbmeta_system), signed through the key. */
#include "avb_commands.h"
#include "vbmeta_args.h"

#include "../common/error.h"
#include "../common/fsutil.h"

#include <stdlib.h>
#include <string.h>

enum { OPT_OUTPUT = 1, OPT_PADDING };

static const struct cli_option options[] = {
	VBMETA_OPTIONS,
	{"padding-size", "N", "pad the output with zeros to a multiple of N bytes", OPT_PADDING},
	{"output", "FILE", "the vbmeta image to write (required)", OPT_OUTPUT},
	{NULL, NULL, NULL, 0},
};

static const char usage[] = "avb make-vbmeta --output FILE [--key URI] [options]";

int cmd_avb_make_vbmeta(struct cli_context *ctx, int argc, char **argv)
{
	struct vbmeta_args args = {0};
	const char *output = NULL;
	unsigned long padding = 0;
	struct rombsr_buf image;
	unsigned char *file;
	size_t padded;
	struct cli_parser p;
	int id, r;

	cli_parser_init(&p, options, argc, argv);
	while ((id = cli_next(&p, usage)) > 0) {
		r = vbmeta_take_option(ctx, &args, id, p.value);
		if (r < 0)
			return r;
		if (r == 1)
			continue;
		if (id == OPT_OUTPUT)
			output = p.value;
		else if (id == OPT_PADDING && (r = cli_parse_uint(p.value, 1 << 20, &padding, "--padding-size")) < 0)
			return r;
	}
	if (id < 0)
		return id;
	if (output == NULL || p.index != argc)
		return rombsr_error(ROMBSR_EINVAL, "usage: %s", usage);
	r = vbmeta_build(ctx, &args, NULL, 0, &image);
	if (r < 0)
		return r;
	padded = padding > 1 ? (image.len + padding - 1) / padding * padding : image.len;
	file = calloc(1, padded);
	if (file == NULL) {
		rombsr_buf_free(&image);
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	}
	memcpy(file, image.data, image.len);
	r = rombsr_file_write_atomic(output, file, padded, 0644, false);
	free(file);
	rombsr_buf_free(&image);
	return r;
}
