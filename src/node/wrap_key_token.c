/* The release token's side of the wrap-key ceremony (wrap_key_token.h). */
#include "wrap_key_token.h"

#include "../common/error.h"
#include "../common/secret.h"
#include "../hsm/hsm.h"
#include "../hsm/provision.h"
#include "../hsm/wrap.h"

/* Both PINs of the release authority: the SO's from its so-pin-file, the
 * user's from --pin-file, --pin-fd, the pin-file or a prompt. */
static int read_pins(struct cli_context *ctx, struct rombsr_buf *so_pin, struct rombsr_buf *user_pin)
{
	const struct rombsr_config *cfg;
	const struct rombsr_authority_config *a;
	int r = cli_config(ctx, &cfg);

	if (r < 0)
		return r;
	a = &cfg->authority[ROMBSR_AUTHORITY_RELEASE];
	r = cli_read_pin(ctx, a, user_pin);
	if (r == 0 && so_pin != NULL)
		r = rombsr_secret_from_file(a->so_pin_file, so_pin);
	return r;
}

int wrap_key_token_open(struct cli_context *ctx, struct rombsr_hsm **hsm)
{
	const struct rombsr_authority_config *a;
	const struct rombsr_config *cfg;
	struct rombsr_buf pin = {0};
	CK_OBJECT_HANDLE handle;
	int r;

	*hsm = NULL;
	r = cli_config(ctx, &cfg);
	if (r < 0)
		return r;
	a = &cfg->authority[ROMBSR_AUTHORITY_RELEASE];
	r = rombsr_softhsm_prepare(cfg);
	if (r == 0)
		r = rombsr_hsm_open_for(a, hsm);
	/* The wrap key is a private object: only a user sees it. */
	if (r == 0)
		r = read_pins(ctx, NULL, &pin);
	if (r == 0)
		r = rombsr_hsm_login(*hsm, (const char *)pin.data);
	rombsr_buf_free(&pin);
	if (r == 0) {
		r = rombsr_hsm_wrap_key_find(*hsm, &handle, NULL, NULL);
		if (r == 0)
			r = rombsr_error(ROMBSR_EEXISTS, "token '%s' holds a wrap key already; a ceremony never "
					 "replaces one", rombsr_hsm_token_label(*hsm));
		else if (r == ROMBSR_ENOTFOUND)
			r = 0;
	}
	if (r < 0) {
		rombsr_hsm_close(*hsm);
		*hsm = NULL;
		return rombsr_error_wrap(r, "release authority");
	}
	/* The import starts with the SO's login, which a user's excludes. */
	rombsr_hsm_logout(*hsm);
	return 0;
}

int wrap_key_token_import(struct cli_context *ctx, struct rombsr_hsm *hsm, const unsigned char *key,
			  size_t key_len, const unsigned char *id, size_t id_len)
{
	struct rombsr_buf so_pin = {0}, user_pin = {0};
	int r = read_pins(ctx, &so_pin, &user_pin);

	if (r == 0)
		r = rombsr_hsm_wrap_key_import(hsm, (const char *)so_pin.data, (const char *)user_pin.data, key,
					       key_len, id, id_len);
	rombsr_buf_free(&so_pin);
	rombsr_buf_free(&user_pin);
	return r;
}

int wrap_key_token_remove(struct rombsr_hsm *hsm)
{
	CK_OBJECT_HANDLE handle;
	int r = rombsr_hsm_wrap_key_find(hsm, &handle, NULL, NULL);

	return r == 0 ? rombsr_hsm_destroy_object(hsm, handle) : r;
}

void wrap_key_token_close(struct rombsr_hsm *hsm)
{
	rombsr_hsm_close(hsm);
}
