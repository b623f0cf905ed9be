#include "audit_anomalies.h"
#include "audit_filter.h"

#include "../common/error.h"
#include "../common/json_strict.h"
#include "../queue/layout.h"
#include "../queue/request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One name seen in the log (a build node or a key): when first, and how
 * many signatures before and inside the window. */
struct seen {
	char name[65];
	char label[ROMBSR_AUDIT_ID_MAX + 1];
	bool before;            /* seen before the window */
	uint64_t first_index;   /* first time in the window */
	uint64_t baseline, window; /* signatures in the baseline period, in the window */
};

struct seen_set {
	struct seen *items;
	size_t n, alloc;
};

static int seen_get(struct seen_set *s, const char *name, struct seen **out)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->items[i].name, name) == 0) {
			*out = &s->items[i];
			return 0;
		}
	if (s->n == s->alloc) {
		size_t want = s->alloc ? 2 * s->alloc : 32;
		struct seen *grown = realloc(s->items, want * sizeof(*grown));

		if (grown == NULL)
			return rombsr_error(ROMBSR_ENOMEM, "out of memory");
		s->items = grown;
		s->alloc = want;
	}
	*out = memset(&s->items[s->n++], 0, sizeof(s->items[0]));
	snprintf((*out)->name, sizeof((*out)->name), "%s", name);
	(*out)->first_index = UINT64_MAX;
	return 0;
}

/* The build node of the request a decision entry names, as the request
 * file in the commit it names says: "" when it cannot be read (a
 * malformed request, rejected: nobody's signature). */
static int build_node_of(const struct audit_clone *ac, const struct rombsr_audit_entry *e, char node[41])
{
	struct rombsr_request req;
	struct rombsr_buf text;
	char path[160];
	git_oid commit;
	int r;

	node[0] = '\0';
	if (git_oid_fromstr(&commit, e->request_commit) < 0 || rombsr_queue_request_path(e->request_id, path, sizeof(path)) < 0) {
		rombsr_error_clear();
		return 0;
	}
	r = rombsr_repo_read(ac->qc.repo, &commit, path, ROMBSR_REQUEST_MAX_BYTES, &text);
	if (r == ROMBSR_ENOTFOUND || r == ROMBSR_EINVAL) {
		rombsr_error_clear();
		return 0;
	}
	if (r < 0)
		return r;
	if (rombsr_request_parse((const char *)text.data, text.len, &req) == 0) {
		memcpy(node, req.build_node, 41);
		rombsr_request_free(&req);
	} else {
		rombsr_error_clear();
	}
	rombsr_buf_free(&text);
	return 0;
}

struct scan {
	const struct anomaly_rules *rules;
	uint64_t baseline_from;
	struct seen_set nodes, keys;
	char node[41];          /* the build node of the request being read */
	char request[ROMBSR_AUDIT_ID_MAX + 1];
	size_t found;
};

static bool off_hours(const struct anomaly_rules *rules, uint64_t t)
{
	unsigned hour = (unsigned)((t / 3600) % 24);

	if (rules->hour_from <= rules->hour_to)
		return hour < rules->hour_from || hour >= rules->hour_to;
	/* A window across midnight (22-06). */
	return hour < rules->hour_from && hour >= rules->hour_to;
}

static int note_decision(struct scan *s, const struct audit_clone *ac, const struct rombsr_audit_entry *e, bool in)
{
	struct seen *n;
	int r = build_node_of(ac, e, s->node);

	snprintf(s->request, sizeof(s->request), "%s", e->request_id);
	if (r < 0 || s->node[0] == '\0')
		return r;
	r = seen_get(&s->nodes, s->node, &n);
	if (r == 0 && !in)
		n->before = true;
	if (r == 0 && in && !n->before && n->first_index == UINT64_MAX) {
		n->first_index = e->index;
		printf("new-build-node build_node=%s first request at ", s->node);
		audit_print_entry(e);
		s->found++;
	}
	return r;
}

static int note_signature(struct scan *s, const struct rombsr_audit_entry *e, bool in)
{
	const char *node = strcmp(e->request_id, s->request) == 0 ? s->node : "";
	struct seen *k, *n = NULL;
	int r = seen_get(&s->keys, e->key_fingerprint, &k);

	if (r == 0 && node[0] != '\0')
		r = seen_get(&s->nodes, node, &n);
	if (r < 0)
		return r;
	snprintf(k->label, sizeof(k->label), "%s", e->key_label);
	if (!in) {
		k->before = true;
		if (n != NULL && e->time >= s->baseline_from)
			n->baseline++;
		return 0;
	}
	if (n != NULL)
		n->window++;
	if (!k->before && k->first_index == UINT64_MAX) {
		k->first_index = e->index;
		printf("new-key key_label=%s key_fingerprint=%s first signature at ", e->key_label, e->key_fingerprint);
		audit_print_entry(e);
		s->found++;
	}
	if (off_hours(s->rules, e->time)) {
		printf("off-hours allowed=%02u-%02u UTC build_node=%s at ", s->rules->hour_from, s->rules->hour_to,
		       node[0] ? node : "unknown");
		audit_print_entry(e);
		s->found++;
	}
	return 0;
}

/* After the scan: each build node's signatures in the window against its
 * usual, the baseline scaled to the window's length. */
static void check_volume(struct scan *s)
{
	const struct anomaly_rules *rules = s->rules;
	double window = (double)(rules->until - rules->since), baseline = (double)(rules->since - s->baseline_from);

	for (size_t i = 0; i < s->nodes.n; i++) {
		const struct seen *n = &s->nodes.items[i];
		double usual = baseline > 0 ? (double)n->baseline * window / baseline : 0;
		double limit = (double)rules->volume_factor * usual;

		if (limit < (double)rules->volume_min)
			limit = (double)rules->volume_min;
		if ((double)n->window <= limit)
			continue;
		printf("volume build_node=%s signatures=%llu usual=%.1f limit=%.0f (x%lu of %llu in the %lu days before, at "
		       "least %lu)\n", n->name, (unsigned long long)n->window, usual, limit, rules->volume_factor,
		       (unsigned long long)n->baseline, rules->baseline_days, rules->volume_min);
		s->found++;
	}
}

int audit_anomalies(const struct audit_clone *ac, uint64_t vouched, const struct anomaly_rules *rules, size_t *found)
{
	struct rombsr_audit_entry *e = malloc(sizeof(*e));
	struct scan s = {.rules = rules};
	uint64_t span = (uint64_t)rules->baseline_days * 86400;
	int r = e ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	s.baseline_from = rules->since > span ? rules->since - span : 0;
	for (uint64_t i = 0; i < vouched && r == 0; i++) {
		struct rombsr_buf line;
		bool in;

		r = audit_clone_entry(ac, i, e, &line);
		if (r < 0)
			break;
		rombsr_buf_free(&line);
		if (e->time >= rules->until)
			break;
		in = e->time >= rules->since;
		if (e->type == ROMBSR_AUDIT_REQUEST_SIGNED || e->type == ROMBSR_AUDIT_REQUEST_REJECTED)
			r = note_decision(&s, ac, e, in);
		else if (e->type == ROMBSR_AUDIT_SIGNATURE)
			r = note_signature(&s, e, in);
		/* The sign node found it already (docs/yubihsm.md): an auditor
		 * must see it too. */
		else if (e->type == ROMBSR_AUDIT_DEVICE_LOG_ANOMALY && in) {
			printf("device-log reason=%s at ", e->reason);
			audit_print_entry(e);
			s.found++;
		}
	}
	if (r == 0)
		check_volume(&s);
	if (r == 0 && fflush(stdout) != 0)
		r = rombsr_error(ROMBSR_EIO, "cannot write the findings");
	*found = s.found;
	free(s.nodes.items);
	free(s.keys.items);
	free(e);
	return r;
}
