/* The YubiHSM's log into ROMbsr's (device_log.h). Seed 001's lesson: the
 * device's log is unsigned and says nothing of what was signed, so alone it
 * proves little; bound entry by entry to the requests in a log that is
 * signed and published, a signature the device made that no request asked
 * for stands out. */
#define _GNU_SOURCE
#include "device_log.h"
#include "worker_internal.h"

#include "sign_log.h"

#include "../audit/log.h"
#include "../common/device_chain.h"
#include "../common/error.h"
#include "../common/hex.h"
#include "../yubihsm/yh_proto.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

/* The signature entries logged since the last drain, each matched once. */
struct logged_sig {
	char request_id[ROMBSR_AUDIT_ID_MAX + 1];
	char key_label[ROMBSR_AUDIT_ID_MAX + 1];
	bool used;
};

struct drain {
	struct rombsr_sign_node *node;
	const char *token;
	struct logged_sig *sigs;
	size_t nsigs;
	uint16_t generated[ROMBSR_CHANNEL_DEVICE_LOG_MAX]; /* keys generated in this batch, not yet certified */
	size_t ngenerated;
	struct rombsr_audit_entry *entries;
	size_t n;
};

static int read_entry(const struct rombsr_sign_node *node, uint64_t i, struct rombsr_audit_entry *e)
{
	struct rombsr_buf line;
	int r = rombsr_audit_log_entry(rombsr_audit_writer_log(node->audit), i, &line);

	if (r == 0)
		r = rombsr_audit_entry_decode((const char *)line.data, line.len, e);
	rombsr_buf_free(&line);
	return r;
}

int rombsr_device_log_open(struct rombsr_sign_node *node)
{
	struct rombsr_device_log_state *st = &node->device_log;
	struct rombsr_audit_entry *e = malloc(sizeof(*e));
	uint64_t size = rombsr_audit_log_size(rombsr_audit_writer_log(node->audit));
	int r = e ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	st->enabled = false;
	for (int i = 0; i < ROMBSR_AUTHORITY_COUNT; i++)
		st->enabled |= node->cfg->authority[i].backend == ROMBSR_HSM_BACKEND_YUBIHSM;
	st->match_from = size;
	for (uint64_t i = size; st->enabled && r == 0 && i > 0; i--) {
		unsigned char raw[YH_LOG_ENTRY_LEN];

		r = read_entry(node, i - 1, e);
		/* Another device's chain is not this one's to go on from. */
		if (r < 0 || e->type != ROMBSR_AUDIT_DEVICE_LOG ||
		    strcmp(e->token, node->signers[ROMBSR_AUTHORITY_AUDIT].token_label) != 0)
			continue;
		r = rombsr_hex_decode(e->digest, raw, sizeof(raw), "device-log entry");
		if (r == 0) {
			st->have_last = true;
			st->last_number = (uint16_t)(raw[0] << 8 | raw[1]);
			memcpy(st->last_digest, raw + 16, 16);
		}
		break;
	}
	free(e);
	return r;
}

static int anomaly(struct drain *d, const char *reason, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int anomaly(struct drain *d, const char *reason, const char *fmt, ...)
{
	struct rombsr_audit_entry *e = &d->entries[d->n++];
	const struct rombsr_sign_log_fields fields = {.outcome = "device-log-anomaly", .reason = reason};
	va_list ap;

	memset(e, 0, sizeof(*e));
	e->type = ROMBSR_AUDIT_DEVICE_LOG_ANOMALY;
	snprintf(e->token, sizeof(e->token), "%s", d->token);
	snprintf(e->reason, sizeof(e->reason), "%s", reason);
	va_start(ap, fmt);
	vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
	va_end(ap);
	d->node->device_log.anomalies++;
	rombsr_sign_log(LOG_ERR, &fields, "YubiHSM %s: device log %s: %s", d->token, reason, e->detail);
	return 0;
}

static const char *key_label_of(const struct rombsr_sign_node *node, uint16_t id)
{
	for (int i = 0; i < ROMBSR_AUTHORITY_COUNT; i++)
		for (size_t k = 0; k < node->signers[i].nkeys; k++)
			if (node->signers[i].keys[k].device_id == id)
				return node->signers[i].keys[k].label;
	return NULL;
}

static bool is_signature(uint8_t command, uint8_t result)
{
	return (command == YH_CMD_SIGN_PKCS1 || command == YH_CMD_SIGN_PSS || command == YH_CMD_SIGN_ECDSA) &&
	       result == (command | YH_RESPONSE_FLAG);
}

/* Which request a device signature was for: the first signature entry
 * with its key not matched yet. The audit key signs checkpoints; a key's
 * first signature after its generation in the same batch is keygen's
 * self-signed certificate. */
static const char *match(struct drain *d, const unsigned char *raw, const char *label)
{
	const uint16_t target = (uint16_t)(raw[7] << 8 | raw[8]);
	const uint8_t command = raw[2];

	if (command == YH_CMD_GENERATE_ASYMMETRIC_KEY && raw[11] == (command | YH_RESPONSE_FLAG) &&
	    d->ngenerated < ROMBSR_CHANNEL_DEVICE_LOG_MAX)
		d->generated[d->ngenerated++] = target;
	if (!is_signature(command, raw[11]))
		return "-";
	for (size_t i = 0; i < d->ngenerated; i++) {
		if (d->generated[i] == target) {
			d->generated[i] = d->generated[--d->ngenerated];
			return "certificate";
		}
	}
	if (label != NULL && strcmp(label, "audit") == 0)
		return "checkpoint";
	for (size_t i = 0; label != NULL && i < d->nsigs; i++) {
		if (!d->sigs[i].used && strcmp(d->sigs[i].key_label, label) == 0) {
			d->sigs[i].used = true;
			return d->sigs[i].request_id;
		}
	}
	return NULL;
}

static int add_entry(struct drain *d, const unsigned char *raw)
{
	struct rombsr_device_log_state *st = &d->node->device_log;
	const uint16_t number = (uint16_t)(raw[0] << 8 | raw[1]);
	const uint16_t target = (uint16_t)(raw[7] << 8 | raw[8]);
	const char *label = key_label_of(d->node, target), *request;
	struct rombsr_audit_entry *e;

	if (st->have_last && number != (uint16_t)(st->last_number + 1))
		anomaly(d, "gap", "entry %u follows %u: %u entries are missing", number, st->last_number,
			(unsigned)(uint16_t)(number - st->last_number - 1));
	else if (st->have_last && !rombsr_device_entry_chains(raw, st->last_digest))
		anomaly(d, "broken-chain", "entry %u does not chain from entry %u's digest: the device's log was "
					   "altered or replaced", number, st->last_number);
	request = match(d, raw, label);
	if (request == NULL) {
		anomaly(d, "unmatched-signature", "entry %u: a signature with key 0x%04x (%s) that no logged request "
						  "asked for", number, target, label ? label : "unknown");
		request = "unmatched";
	}
	e = &d->entries[d->n++];
	memset(e, 0, sizeof(*e));
	e->type = ROMBSR_AUDIT_DEVICE_LOG;
	snprintf(e->token, sizeof(e->token), "%s", d->token);
	rombsr_hex_encode(raw, YH_LOG_ENTRY_LEN, e->digest);
	snprintf(e->request_id, sizeof(e->request_id), "%s", request);
	snprintf(e->key_label, sizeof(e->key_label), "%s", label ? label : "-");
	snprintf(e->detail, sizeof(e->detail), "number %u command 0x%02x length %u session key 0x%04x target 0x%04x "
					      "second 0x%04x result 0x%02x",
		 number, raw[2], (unsigned)(raw[3] << 8 | raw[4]), (unsigned)(raw[5] << 8 | raw[6]), target,
		 (unsigned)(raw[9] << 8 | raw[10]), raw[11]);
	st->have_last = true;
	st->last_number = number;
	memcpy(st->last_digest, raw + 16, 16);
	return 0;
}

static int load_signatures(struct drain *d, uint64_t to)
{
	struct rombsr_audit_entry *e = malloc(sizeof(*e));
	uint64_t from = d->node->device_log.match_from;
	int r = e ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	d->sigs = r == 0 ? calloc(to - from + 1, sizeof(*d->sigs)) : NULL;
	if (r == 0 && d->sigs == NULL)
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	for (uint64_t i = from; i < to && r == 0; i++) {
		r = read_entry(d->node, i, e);
		if (r < 0 || e->type != ROMBSR_AUDIT_SIGNATURE)
			continue;
		snprintf(d->sigs[d->nsigs].request_id, sizeof(d->sigs[0].request_id), "%s", e->request_id);
		snprintf(d->sigs[d->nsigs].key_label, sizeof(d->sigs[0].key_label), "%s", e->key_label);
		d->nsigs++;
	}
	free(e);
	return r;
}

static int ask(struct rombsr_sign_node *node, uint32_t op, uint32_t index, struct rombsr_channel_reply *reply)
{
	struct rombsr_channel_request *m = calloc(1, sizeof(*m));
	int r = m ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	if (r == 0) {
		*m = (struct rombsr_channel_request){.magic = ROMBSR_CHANNEL_MAGIC, .version = ROMBSR_CHANNEL_VERSION,
						    .op = op, .index = index};
		r = rombsr_channel_call(node->signers[ROMBSR_AUTHORITY_AUDIT].fd, m, reply);
	}
	if (r == 0 && reply->status != 0)
		r = rombsr_error(reply->status, "the audit signer: %s", reply->message);
	free(m);
	return r;
}

/* The entry a device logs first after a reset: every field but its
 * number and digest all ones. */
static bool restart_marker(const unsigned char *raw)
{
	for (int i = 2; i < 16; i++)
		if (raw[i] != 0xff)
			return false;
	return true;
}

/* One batch: at most what one reply holds. Duplicates (entries the spool
 * held when ROMbsr's log had them already, after a crash between the two)
 * are skipped by number. */
static int drain_batch(struct drain *d, const struct rombsr_channel_reply *reply)
{
	struct rombsr_device_log_state *st = &d->node->device_log;
	/* Where the chain stood: taken back if the batch does not reach the
	 * log, or the next drain would skip its entries as logged already. */
	const struct rombsr_device_log_state before = *st;
	int r = 0;

	d->n = 0;
	for (uint32_t i = 0; i < reply->device_log_n && i < ROMBSR_CHANNEL_DEVICE_LOG_MAX && r == 0; i++) {
		const unsigned char *raw = reply->device_log[i];
		const uint16_t number = (uint16_t)(raw[0] << 8 | raw[1]);
		const uint16_t ahead = (uint16_t)(number - st->last_number);

		if (st->have_last && ahead >= 0x8000 && restart_marker(raw)) {
			/* A reset device numbers its log from 1 again, the first
			 * entry all ones: a new chain, said as such. */
			anomaly(d, "device-restarted", "entry %u after %u: the device's log starts again (a reset)",
				number, st->last_number);
			st->have_last = false;
		} else if (st->have_last && (ahead == 0 || ahead >= 0x8000)) {
			if (ahead == 0 && memcmp(raw + 16, st->last_digest, 16) != 0)
				anomaly(d, "broken-chain", "entry %u differs from the entry %u already logged", number,
					number);
			continue;
		}
		r = add_entry(d, raw);
	}
	if (r == 0 && d->n > 0)
		r = rombsr_audit_writer_append_batch(d->node->audit, d->entries, d->n);
	if (r == 0 && d->n > 0)
		r = rombsr_audit_writer_sync(d->node->audit);
	if (r < 0) {
		const uint64_t anomalies = st->anomalies;

		*st = before;
		st->anomalies = anomalies;
	}
	return r;
}

int rombsr_device_log_drain(struct rombsr_sign_node *node)
{
	struct rombsr_channel_reply *reply = calloc(1, sizeof(*reply));
	struct drain d = {.node = node, .token = node->signers[ROMBSR_AUTHORITY_AUDIT].token_label};
	uint64_t size;
	int r = reply ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	if (!node->device_log.enabled) {
		free(reply);
		return 0;
	}
	size = rombsr_audit_log_size(rombsr_audit_writer_log(node->audit));
	if (r == 0)
		r = load_signatures(&d, size);
	/* Each device entry may bring an anomaly with it. */
	if (r == 0 && (d.entries = calloc(2 * ROMBSR_CHANNEL_DEVICE_LOG_MAX + 4, sizeof(*d.entries))) == NULL)
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	for (bool more = true; r == 0 && more;) {
		r = ask(node, ROMBSR_CH_DEVICE_LOG, 0, reply);
		more = r == 0 && reply->more;
		if (r == 0 && reply->device_log_n > 0)
			r = drain_batch(&d, reply);
		/* Only what is durably in our log leaves the spool. */
		if (r == 0 && reply->device_log_n > 0 && node->device_log.have_last)
			r = ask(node, ROMBSR_CH_DEVICE_LOG_ACK, node->device_log.last_number, reply);
	}
	if (r == 0)
		node->device_log.match_from = rombsr_audit_log_size(rombsr_audit_writer_log(node->audit));
	free(d.sigs);
	free(d.entries);
	free(reply);
	return r < 0 ? rombsr_error_wrap(r, "the YubiHSM's log") : 0;
}
