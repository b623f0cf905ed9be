/* avb info: what a vbmeta image or a partition's footer holds, in
 * avbtool's info_image layout so that existing scripts can read it. Bytes
 * from the image that are not printable are shown as \xNN: an image is
 * untrusted input and must not write to the terminal. */
#include "avb_commands.h"

#include "../avb/partition.h"
#include "../avb/vbmeta.h"
#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/hex.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

enum { OPT_IMAGE = 1 };

static const struct cli_option options[] = {
	{"image", "FILE", "a vbmeta image or a partition image with a footer (required)", OPT_IMAGE},
	{NULL, NULL, NULL, 0},
};

static const char usage[] = "avb info --image FILE";

static void print_text(const char *label, const struct rombsr_avb_bytes *b)
{
	printf("%s'", label);
	for (size_t i = 0; i < b->len; i++) {
		unsigned char c = b->data[i];

		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'')
			putchar(c);
		else
			printf("\\x%02x", c);
	}
	printf("'\n");
}

static void print_hex(const char *label, const struct rombsr_avb_bytes *b)
{
	printf("%s", label);
	for (size_t i = 0; i < b->len; i++)
		printf("%02x", b->data[i]);
	putchar('\n');
}

static void print_key_digest(const char *label, const struct rombsr_avb_bytes *blob)
{
	unsigned char md[32];

	if (blob->len == 0 || !EVP_Digest(blob->data, blob->len, md, NULL, EVP_sha256(), NULL)) {
		printf("%s(none)\n", label);
		return;
	}
	print_hex(label, &(struct rombsr_avb_bytes){md, sizeof(md)});
}

static void print_descriptor(const struct rombsr_avb_descriptor *d)
{
	switch (d->tag) {
	case ROMBSR_AVB_TAG_PROPERTY:
		print_text("    Prop: ", &d->u.property.key);
		print_text("      Value: ", &d->u.property.value);
		break;
	case ROMBSR_AVB_TAG_HASHTREE: {
		const struct rombsr_avb_hashtree *h = &d->u.hashtree;

		printf("    Hashtree descriptor:\n      Version of dm-verity:  %u\n      Image Size:            %llu bytes\n"
		       "      Tree Offset:           %llu\n      Tree Size:             %llu bytes\n"
		       "      Data Block Size:       %u bytes\n      Hash Block Size:       %u bytes\n"
		       "      FEC num roots:         %u\n      FEC offset:            %llu\n"
		       "      FEC size:              %llu bytes\n      Hash Algorithm:        %s\n",
		       h->dm_verity_version, (unsigned long long)h->image_size, (unsigned long long)h->tree_offset,
		       (unsigned long long)h->tree_size, h->data_block_size, h->hash_block_size, h->fec_num_roots,
		       (unsigned long long)h->fec_offset, (unsigned long long)h->fec_size, h->hash_algorithm);
		print_text("      Partition Name:        ", &h->partition_name);
		print_hex("      Salt:                  ", &h->salt);
		print_hex("      Root Digest:           ", &h->root_digest);
		printf("      Flags:                 %u\n", h->flags);
		break;
	}
	case ROMBSR_AVB_TAG_HASH:
		printf("    Hash descriptor:\n      Image Size:            %llu bytes\n      Hash Algorithm:        %s\n",
		       (unsigned long long)d->u.hash.image_size, d->u.hash.hash_algorithm);
		print_text("      Partition Name:        ", &d->u.hash.partition_name);
		print_hex("      Salt:                  ", &d->u.hash.salt);
		print_hex("      Digest:                ", &d->u.hash.digest);
		printf("      Flags:                 %u\n", d->u.hash.flags);
		break;
	case ROMBSR_AVB_TAG_KERNEL_CMDLINE:
		printf("    Kernel Cmdline descriptor:\n      Flags:                 %u\n", d->u.cmdline.flags);
		print_text("      Kernel Cmdline:        ", &d->u.cmdline.cmdline);
		break;
	case ROMBSR_AVB_TAG_CHAIN_PARTITION:
		printf("    Chain Partition descriptor:\n");
		print_text("      Partition Name:          ", &d->u.chain.partition_name);
		printf("      Rollback Index Location: %u\n", d->u.chain.rollback_index_location);
		print_key_digest("      Public key (sha256):     ", &d->u.chain.public_key);
		printf("      Flags:                   %u\n", d->u.chain.flags);
		break;
	default:
		printf("    Unknown descriptor (tag %llu, %zu bytes)\n", (unsigned long long)d->tag, d->u.opaque.len);
	}
}

static int print_image(const struct rombsr_avb_image *img)
{
	size_t offset = 0;
	int r = 0;

	printf("Minimum libavb version:   %u.%u\nHeader Block:             %d bytes\n"
	       "Authentication Block:     %llu bytes\nAuxiliary Block:          %llu bytes\n",
	       img->h.version_major, img->h.version_minor, ROMBSR_AVB_HEADER_SIZE,
	       (unsigned long long)img->h.auth_block_size, (unsigned long long)img->h.aux_block_size);
	print_key_digest("Public key (sha256):      ", &img->public_key);
	printf("Algorithm:                %s\nRollback Index:           %llu\nFlags:                    %u\n"
	       "Rollback Index Location:  %u\n",
	       img->alg->name, (unsigned long long)img->h.rollback_index, img->h.flags,
	       img->h.rollback_index_location);
	print_text("Release String:           ",
		   &(struct rombsr_avb_bytes){(const unsigned char *)img->h.release_string,
					      strnlen(img->h.release_string, sizeof(img->h.release_string))});
	printf("Descriptors:\n");
	while (r == 0 && offset < img->descriptors.len) {
		struct rombsr_avb_descriptor d;

		r = rombsr_avb_descriptor_next(img->descriptors.data, img->descriptors.len, &offset, &d);
		if (r > 0) {
			print_descriptor(&d);
			r = 0;
		}
	}
	return r;
}

int cmd_avb_info(struct cli_context *ctx, int argc, char **argv)
{
	struct rombsr_avb_partition part;
	struct rombsr_buf image = {0};
	struct rombsr_avb_image img;
	const char *path = NULL;
	struct cli_parser p;
	int id, r;

	(void)ctx;
	cli_parser_init(&p, options, argc, argv);
	while ((id = cli_next(&p, usage)) > 0)
		if (id == OPT_IMAGE)
			path = p.value;
	if (id < 0)
		return id;
	if (path == NULL || p.index != argc)
		return rombsr_error(ROMBSR_EINVAL, "usage: %s", usage);
	r = rombsr_avb_partition_open(path, false, &part);
	if (r < 0)
		return r;
	if (part.has_footer) {
		printf("Footer version:           %u.%u\nImage size:               %llu bytes\n"
		       "Original image size:      %llu bytes\nVBMeta offset:            %llu\n"
		       "VBMeta size:              %llu bytes\n--\n",
		       part.footer.version_major, part.footer.version_minor, (unsigned long long)part.file_size,
		       (unsigned long long)part.footer.original_image_size, (unsigned long long)part.footer.vbmeta_offset,
		       (unsigned long long)part.footer.vbmeta_size);
		r = rombsr_avb_partition_read_vbmeta(&part, &image);
	} else {
		r = rombsr_file_read(path, ROMBSR_AVB_MAX_VBMETA_SIZE * 16, &image);
	}
	rombsr_avb_partition_close(&part);
	if (r == 0)
		r = rombsr_avb_image_parse(image.data, image.len, &img);
	if (r == 0)
		r = print_image(&img);
	rombsr_buf_free(&image);
	return r;
}
