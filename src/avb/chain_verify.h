/* Verifying a whole AVB chain from the top vbmeta image, as a device's
 * bootloader would and more: every signature against the key expected for
 * it (the given root key for the top, each chain partition descriptor's key
 * for its partition), every hash recomputed, every hash tree rebuilt and
 * compared with its root digest and with the tree stored in the image.
 * Partition images are found as <folder>/<partition>.img. */
#ifndef ROMBSR_AVB_CHAIN_VERIFY_H
#define ROMBSR_AVB_CHAIN_VERIFY_H

#include <openssl/evp.h>

/* One line per check passed ("vbmeta: SHA256_RSA4096 signature …"), for
 * the command to print; may be NULL. */
typedef void (*rombsr_avb_report_fn)(void *ctx, const char *line);

/* ROMBSR_ESECURITY naming the first partition and descriptor that fails;
 * ROMBSR_EINVAL / ROMBSR_ENOTFOUND for an image that cannot be read. */
int rombsr_avb_verify_chain(const char *top_image, const char *folder, EVP_PKEY *root_key,
	rombsr_avb_report_fn report, void *ctx);

#endif
