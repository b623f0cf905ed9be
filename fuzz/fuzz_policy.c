/* The sign node's policy (policy/policy.json, docs/formats/policy.md):
 * parsed from the queue at every pass, then evaluated on every request.
 * A parsed policy is evaluated against one fixed request twice, the second
 * time with the first signing in the quota ledger, so the fuzzer reaches
 * the rule matching and the quota arithmetic too. */
#include "util.h"

#include "../src/sign/policy.h"
#include "../src/sign/quota.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* docs/formats/request.md's example, compact. */
static const char request_text[] =
	"{\"artifacts\":[{\"name\":\"out/artifact1.bin\",\"sha256\":"
	"\"24e1e4fc63ffe3eff5d479dc0a335d3b1c273559e33efb88538783c9efbed408\",\"size\":13}],"
	"\"authority\":\"release\",\"build\":{\"build_id\":\"TEST.1\",\"build_node\":"
	"\"766B1D0EE6E9502434D46C14812FCB67F39F41A6\",\"build_type\":\"user\",\"product\":\"sample_phone\","
	"\"source_commit\":\"0000000000000000000000000000000000000007\"},\"created\":\"2026-11-22T08:41:36Z\","
	"\"expires\":\"2026-11-23T08:41:36Z\",\"format\":\"rombsr.request\",\"id\":\"20261122759c27578659907878747ba9\","
	"\"operations\":[{\"key\":\"platform\",\"mechanism\":\"CKM_SHA256_RSA_PKCS\",\"program\":\"/usr/bin/pkcs11-tool\","
	"\"spki_sha256\":\"20e71eaab32b5562395bab36691eb48224f8fdf4ff1bc2d9d74cb448593947a8\",\"tbs\":"
	"\"24e1e4fc63ffe3eff5d479dc0a335d3b1c273559e33efb88538783c9efbed408\"},{\"key\":\"avb_root\",\"mechanism\":"
	"\"CKM_SHA256_RSA_PKCS_PSS\",\"program\":\"avbtool\",\"pss\":{\"hash\":\"CKM_SHA256\",\"mgf\":\"CKG_MGF1_SHA256\","
	"\"salt_len\":32},\"spki_sha256\":\"20e71eaab32b5562395bab36691eb48224f8fdf4ff1bc2d9d74cb448593947a8\","
	"\"tbs\":\"eb139061cf3685b87a8bdf73a2df42c4e7b89d8849d858d719db4d8e5784c444\"}],\"round\":1,\"version\":1}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rombsr_request req;
	static int have_req;
	struct rombsr_policy p;
	struct rombsr_quota_ledger *ledger = NULL;
	struct rombsr_policy_verdict v;

	if (!have_req) {
		fuzz_check(rombsr_request_parse(request_text, strlen(request_text), &req) == 0,
			   "policy: the fixed request does not parse");
		have_req = 1;
	}
	if (rombsr_policy_parse((const char *)data, size, &p) < 0)
		return 0;
	fuzz_check(rombsr_quota_ledger_new(&ledger) == 0, "policy: no ledger");
	if (rombsr_policy_evaluate(&p, &req, req.created + 60, ledger, &v) == 0 && v.allowed &&
	    rombsr_quota_ledger_record(ledger, &req, req.created + 60) == 0)
		rombsr_policy_evaluate(&p, &req, req.created + 120, ledger, &v);
	rombsr_quota_ledger_close(ledger);
	rombsr_policy_free(&p);
	return 0;
}
