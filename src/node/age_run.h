/* Debian's age (/usr/bin/age), run with execve and no shell: encrypting a
 * share to one custodian's recipient, and decrypting it with identities
 * the custodians bring. What age reads or writes in plaintext passes
 * through pipes into locked memory, never a file (docs/custody.md). */
#ifndef ROMBSR_NODE_AGE_RUN_H
#define ROMBSR_NODE_AGE_RUN_H

#include <stddef.h>

#define AGE_PATH "/usr/bin/age"

/* Refuses a recipient that is neither an X25519 recipient (age1…) nor an
 * ssh-ed25519 public key, or that age itself does not accept. */
int age_check_recipient(const char *recipient);

/* Encrypts data to recipient into out_path (created, mode 0600). */
int age_encrypt(const char *recipient, const unsigned char *data, size_t len, const char *out_path);

/* Decrypts path with identity files ids[0..nids-1] into out (max bytes);
 * more than max is an error naming path. */
int age_decrypt(const char *path, const char *const *ids, size_t nids, unsigned char *out, size_t max,
		size_t *len);

#endif
