/* rombsr keys: the key set as the HSM holds it. */
#include "node.h"
#include "inventory.h"

#include "../common/error.h"

#include <stdio.h>
#include <string.h>

enum { OPT_AUTHORITY = 1, OPT_KEY };

static const struct cli_option options[] = {
	{"authority", "NAME", "only this authority's keys (release, manifest, audit; default all)", OPT_AUTHORITY},
	{"key", "LABEL|URI", "only this key (a label or pkcs11:token=...;object=LABEL)", OPT_KEY},
	CLI_PIN_OPTIONS,
	{NULL, NULL, NULL, 0},
};

/* width: of the label column, the longest label shown (17 at least, the
 * built-in set's table as it always was). */
static int print_key(const struct inventory_key *k, int width)
{
	char algorithm[16], from[32] = "-", until[32] = "-";
	int r;

	if (!k->present) {
		printf("%-*s %-9s %-9s %-64s %s\n", width, k->label, rombsr_authority_name(k->entry->authority),
		       "-", "(missing: run 'rombsr-sign keygen')", "-");
		return 0;
	}
	rombsr_key_algorithm_name(k->entry->kind, k->bits, algorithm);
	if (k->certificate != NULL) {
		r = inventory_time(X509_get0_notBefore(k->certificate), from);
		if (r == 0)
			r = inventory_time(X509_get0_notAfter(k->certificate), until);
		if (r < 0)
			return r;
	}
	printf("%-*s %-9s %-9s %s %s..%s%s\n", width, k->label, rombsr_authority_name(k->entry->authority),
	       algorithm, k->spki_sha256, k->certificate ? from : "(no certificate)", k->certificate ? until : "",
	       k->stored_only ? " (wrapped on disk)" : "");
	return 0;
}

int cmd_keys(struct cli_context *ctx, int argc, char **argv)
{
	bool selected[ROMBSR_AUTHORITY_COUNT];
	const char *authority = NULL, *label = NULL;
	const struct rombsr_keyset_entry *only = NULL;
	struct inventory inv;
	struct cli_parser p;
	int id, r = 0, width = 17;

	cli_parser_init(&p, options, argc, argv);
	while ((id = cli_next(&p, "[--authority NAME] [--key LABEL|URI] [--pin-file FILE | --pin-fd N]")) > 0) {
		if (id == OPT_AUTHORITY)
			authority = p.value;
		else if (id == OPT_KEY)
			label = p.value;
		else if ((r = cli_take_pin_option(ctx, id, p.value)) < 0)
			return r;
	}
	if (id < 0)
		return id;
	if (p.index != argc)
		return rombsr_error(ROMBSR_EINVAL, "unexpected argument '%s'", argv[p.index]);
	if (label != NULL) {
		r = cli_key_name(ctx, label, &only);
		if (r < 0)
			return r;
		if (authority == NULL)
			authority = rombsr_authority_name(only->authority);
	}
	r = cli_authority_filter(authority, selected);
	if (r < 0)
		return r;
	if ((ctx->pin_file != NULL || ctx->pin_fd >= 0) && authority == NULL)
		return rombsr_error(ROMBSR_EINVAL, "--pin-file/--pin-fd need --authority: each authority has its own PIN");
	r = inventory_load(ctx, selected, &inv);
	if (r < 0)
		return r;
	for (size_t i = 0; i < inv.len; i++)
		if ((only == NULL || inv.keys[i].entry == only) && (int)strlen(inv.keys[i].label) > width)
			width = (int)strlen(inv.keys[i].label);
	printf("%-*s %-9s %-9s %-64s %s\n", width, "LABEL", "AUTHORITY", "ALGORITHM", "SPKI-SHA256", "VALIDITY");
	for (size_t i = 0; i < inv.len && r == 0; i++)
		if (only == NULL || inv.keys[i].entry == only)
			r = print_key(&inv.keys[i], width);
	inventory_free(&inv);
	return r;
}
