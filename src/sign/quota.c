#define _GNU_SOURCE
#include "quota.h"

#include "../common/error.h"
#include "../common/fsutil.h"
#include "../queue/gpg.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NO_SLOT SIZE_MAX

struct entry {
	time_t time;
	char request[ROMBSR_REQUEST_ID_LEN + 1];
	char node[41];
	uint64_t total;
	struct rombsr_quota_use *uses;
	size_t nuses;
};

struct rombsr_quota_ledger {
	char *path;                  /* NULL: in memory only */
	int fd;
	struct entry *entries;
	size_t n, alloc;
	/* Request ID → entry, open addressing: recording is idempotent, and
	 * that check must not cost a walk over a month of requests. */
	size_t *slots;
	size_t nslots;
	bool defer_sync, unsynced; /* rombsr_quota_ledger_defer_sync() */
};

static size_t id_hash(const char *id, size_t nslots)
{
	size_t h = 0;

	/* Request IDs are 128 random bits: their first hex digits are a hash. */
	for (int i = 0; i < 12 && id[i] != '\0'; i++)
		h = h * 16 + (size_t)(id[i] <= '9' ? id[i] - '0' : id[i] - 'a' + 10);
	return h % nslots;
}

static size_t *find_slot(const struct rombsr_quota_ledger *l, const char *id)
{
	size_t i = id_hash(id, l->nslots);

	while (l->slots[i] != NO_SLOT && strcmp(l->entries[l->slots[i]].request, id) != 0)
		i = (i + 1) % l->nslots;
	return &l->slots[i];
}

static size_t *new_index(size_t nslots)
{
	size_t *slots = malloc(nslots * sizeof(*slots));

	if (slots == NULL) {
		rombsr_error(ROMBSR_ENOMEM, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < nslots; i++)
		slots[i] = NO_SLOT;
	return slots;
}

/* Installs a fresh index (from new_index) and fills it from the entries. */
static void use_index(struct rombsr_quota_ledger *l, size_t *slots, size_t nslots)
{
	free(l->slots);
	l->slots = slots;
	l->nslots = nslots;
	for (size_t i = 0; i < l->n; i++)
		*find_slot(l, l->entries[i].request) = i;
}

static int reindex(struct rombsr_quota_ledger *l, size_t nslots)
{
	size_t *slots = new_index(nslots);

	if (slots == NULL)
		return ROMBSR_ENOMEM;
	use_index(l, slots, nslots);
	return 0;
}

static void entry_free(struct entry *e)
{
	free(e->uses);
	e->uses = NULL;
}

/* A key-set label ('/' for per-device namespaces, '@' for a retired key:
 * hsm-rotate-keys); upper case is still
 * read, as ledgers written before the key set was data may hold it. */
static bool label_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > ROMBSR_QUOTA_LABEL_MAX)
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '.' ||
		      *s == '_' || *s == '-' || *s == '/' || *s == '@'))
			return false;
	return true;
}

/* Takes ownership of e->uses, also on failure. */
static int insert(struct rombsr_quota_ledger *l, struct entry *e)
{
	int r = 0;

	if ((l->n + 1) * 2 > l->nslots)
		r = reindex(l, l->nslots ? l->nslots * 2 : 1024);
	if (r == 0 && l->n == l->alloc) {
		size_t want = l->alloc ? l->alloc * 2 : 256;
		struct entry *grown = realloc(l->entries, want * sizeof(*grown));

		if (grown == NULL)
			r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
		else {
			l->entries = grown;
			l->alloc = want;
		}
	}
	if (r < 0) {
		entry_free(e);
		return r;
	}
	l->entries[l->n] = *e;
	*find_slot(l, e->request) = l->n;
	l->n++;
	return 0;
}

/* "<time> <request-id> <node> <key>=<count>[ <key>=<count>...]\n" */
static void encode_line(const struct entry *e, struct rombsr_buf *out)
{
	rombsr_buf_printf(out, "%lld %s %s", (long long)e->time, e->request, e->node);
	for (size_t i = 0; i < e->nuses; i++)
		rombsr_buf_printf(out, " %s=%" PRIu32, e->uses[i].key, e->uses[i].count);
	rombsr_buf_append(out, "\n", 1);
}

/* A decimal number in its one canonical spelling, min..max. */
static bool parse_decimal(const char *s, long long min, long long max, long long *out)
{
	char back[32];
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return false;
	snprintf(back, sizeof(back), "%lld", v);
	if (strcmp(back, s) != 0)
		return false;
	*out = v;
	return true;
}

/* Splits at single spaces: no empty field, no leading or trailing space. */
static size_t split(char *line, char **fields, size_t max)
{
	size_t n = 0;
	char *p = line;

	for (;;) {
		char *space = strchr(p, ' ');

		if (n == max || *p == '\0' || space == p)
			return SIZE_MAX;
		fields[n++] = p;
		if (space == NULL)
			return n;
		*space = '\0';
		p = space + 1;
	}
}

static int parse_fields(struct rombsr_quota_ledger *l, char **fields, size_t n, const char *where)
{
	struct entry e = {0};
	long long v;

	if (n == SIZE_MAX || n < 4)
		return rombsr_error(ROMBSR_EINVAL, "%s: not a ledger line", where);
	if (!parse_decimal(fields[0], 0, INT64_MAX, &v))
		return rombsr_error(ROMBSR_EINVAL, "%s: bad time '%.32s'", where, fields[0]);
	e.time = (time_t)v;
	if (!rombsr_request_id_valid(fields[1]))
		return rombsr_error(ROMBSR_EINVAL, "%s: bad request ID", where);
	if (!rombsr_fpr_valid(fields[2]))
		return rombsr_error(ROMBSR_EINVAL, "%s: bad build node fingerprint", where);
	memcpy(e.request, fields[1], sizeof(e.request));
	memcpy(e.node, fields[2], sizeof(e.node));
	if (find_slot(l, e.request)[0] != NO_SLOT)
		return rombsr_error(ROMBSR_EINVAL, "%s: request %s recorded twice", where, e.request);
	e.uses = calloc(n - 3, sizeof(*e.uses));
	if (e.uses == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	for (size_t i = 3; i < n; i++) {
		char *eq = strrchr(fields[i], '=');
		struct rombsr_quota_use *u = &e.uses[e.nuses];

		if (eq != NULL)
			*eq = '\0';
		if (eq == NULL || !label_ok(fields[i]) || !parse_decimal(eq + 1, 1, UINT32_MAX, &v)) {
			entry_free(&e);
			return rombsr_error(ROMBSR_EINVAL, "%s: bad key count (want KEY=COUNT)", where);
		}
		for (size_t j = 0; j < e.nuses; j++) {
			if (strcmp(e.uses[j].key, fields[i]) == 0) {
				entry_free(&e);
				return rombsr_error(ROMBSR_EINVAL, "%s: key '%s' twice", where, fields[i]);
			}
		}
		snprintf(u->key, sizeof(u->key), "%s", fields[i]);
		u->count = (uint32_t)v;
		e.total += u->count;
		e.nuses++;
	}
	return insert(l, &e);
}

static int parse_line(struct rombsr_quota_ledger *l, char *line, const char *where)
{
	char **fields = calloc(3 + ROMBSR_QUOTA_MAX_KEYS, sizeof(*fields));
	int r;

	if (fields == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	r = parse_fields(l, fields, split(line, fields, 3 + ROMBSR_QUOTA_MAX_KEYS), where);
	free(fields);
	return r;
}

/* Reads every complete line; *good_end is the offset after the last one.
 * Only the last line can be torn (one write per line, appended), so a
 * line without its newline ends the file. */
static int load(struct rombsr_quota_ledger *l, off_t *good_end)
{
	FILE *f;
	char *line = NULL, where[4200];
	size_t cap = 0;
	ssize_t len;
	off_t pos = 0;
	int r = 0, fd = dup(l->fd), line_no = 0;

	*good_end = 0;
	if (fd < 0 || (f = fdopen(fd, "r")) == NULL) {
		if (fd >= 0)
			close(fd);
		return rombsr_error(ROMBSR_EIO, "cannot read %s: %s", l->path, strerror(errno));
	}
	while (r == 0 && (len = getline(&line, &cap, f)) > 0) {
		line_no++;
		if (line[len - 1] != '\n')
			break;
		line[len - 1] = '\0';
		if ((size_t)len - 1 != strlen(line)) {
			r = rombsr_error(ROMBSR_EINVAL, "%s:%d: NUL byte in a line", l->path, line_no);
			break;
		}
		snprintf(where, sizeof(where), "%s:%d", l->path, line_no);
		if (line_no == 1 && strcmp(line, ROMBSR_QUOTA_HEADER) != 0)
			r = rombsr_error(ROMBSR_EINVAL, "%s: not a quota ledger (first line is not '%s')", where,
					 ROMBSR_QUOTA_HEADER);
		else if (line_no > 1)
			r = parse_line(l, line, where);
		pos += len;
	}
	if (r == 0 && ferror(f))
		r = rombsr_error(ROMBSR_EIO, "cannot read %s", l->path);
	free(line);
	fclose(f);
	*good_end = pos;
	return r;
}

static int append(struct rombsr_quota_ledger *l, const void *data, size_t len)
{
	/* One write per line: with O_APPEND a crash leaves at most a torn
	 * last line, which load() cuts. */
	int r = rombsr_append_whole(l->fd, data, len, l->path);

	if (r < 0)
		return r;
	l->unsynced = l->defer_sync;
	if (!l->defer_sync && fdatasync(l->fd) != 0)
		return rombsr_error(ROMBSR_EIO, "cannot sync %s: %s", l->path, strerror(errno));
	return 0;
}

void rombsr_quota_ledger_defer_sync(struct rombsr_quota_ledger *l, bool defer)
{
	l->defer_sync = defer;
}

int rombsr_quota_ledger_sync(struct rombsr_quota_ledger *l)
{
	if (l->path == NULL || !l->unsynced)
		return 0;
	if (fdatasync(l->fd) != 0)
		return rombsr_error(ROMBSR_EIO, "cannot sync %s: %s", l->path, strerror(errno));
	l->unsynced = false;
	return 0;
}

static int reopen(struct rombsr_quota_ledger *l)
{
	int fd = open(l->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

	if (fd < 0)
		return rombsr_error(ROMBSR_EIO, "cannot open the quota ledger %s: %s", l->path, strerror(errno));
	if (l->fd >= 0)
		close(l->fd);
	l->fd = fd;
	return 0;
}

int rombsr_quota_ledger_new(struct rombsr_quota_ledger **out)
{
	struct rombsr_quota_ledger *l = calloc(1, sizeof(*l));
	int r;

	*out = NULL;
	if (l == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	l->fd = -1;
	r = reindex(l, 1024);
	if (r < 0) {
		free(l);
		return r;
	}
	*out = l;
	return 0;
}

int rombsr_quota_ledger_open(const char *dir, time_t now, struct rombsr_quota_ledger **out)
{
	struct rombsr_quota_ledger *l;
	struct stat st;
	off_t good_end;
	bool existed;
	int r;

	*out = NULL;
	r = rombsr_mkdir_p(dir, 0700);
	if (r == 0)
		r = rombsr_quota_ledger_new(&l);
	if (r < 0)
		return r;
	if (asprintf(&l->path, "%s/%s", dir, ROMBSR_QUOTA_FILE) < 0) {
		l->path = NULL;
		rombsr_quota_ledger_close(l);
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	}
	existed = rombsr_path_exists(l->path);
	r = reopen(l);
	if (r == 0)
		r = load(l, &good_end);
	if (r == 0 && fstat(l->fd, &st) != 0)
		r = rombsr_error(ROMBSR_EIO, "cannot stat %s: %s", l->path, strerror(errno));
	if (r == 0 && st.st_size != good_end &&
	    (ftruncate(l->fd, good_end) != 0 || fdatasync(l->fd) != 0))
		r = rombsr_error(ROMBSR_EIO, "cannot cut the torn last line of %s: %s", l->path, strerror(errno));
	if (r == 0 && good_end == 0)
		r = append(l, ROMBSR_QUOTA_HEADER "\n", strlen(ROMBSR_QUOTA_HEADER) + 1);
	/* A new file's name must survive a crash as well as its content. */
	if (r == 0 && !existed)
		r = rombsr_fsync_dir(dir);
	if (r == 0)
		r = rombsr_quota_ledger_prune(l, now);
	if (r < 0) {
		rombsr_quota_ledger_close(l);
		return r;
	}
	*out = l;
	return 0;
}

int rombsr_quota_ledger_read(const char *dir, struct rombsr_quota_ledger **out)
{
	struct rombsr_quota_ledger *l;
	char *path = NULL;
	off_t good_end;
	int r = rombsr_quota_ledger_new(&l);

	*out = NULL;
	if (r < 0)
		return r;
	if (asprintf(&path, "%s/%s", dir, ROMBSR_QUOTA_FILE) < 0) {
		rombsr_quota_ledger_close(l);
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	}
	l->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (l->fd < 0 && errno != ENOENT)
		r = rombsr_error(ROMBSR_EIO, "cannot open the quota ledger %s: %s", path, strerror(errno));
	/* load() names the file in its messages; the ledger stays in memory. */
	l->path = path;
	if (r == 0 && l->fd >= 0)
		r = load(l, &good_end);
	l->path = NULL;
	free(path);
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	if (r < 0) {
		rombsr_quota_ledger_close(l);
		return r;
	}
	*out = l;
	return 0;
}

void rombsr_quota_ledger_close(struct rombsr_quota_ledger *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		entry_free(&l->entries[i]);
	free(l->entries);
	free(l->slots);
	if (l->fd >= 0)
		close(l->fd);
	free(l->path);
	free(l);
}

bool rombsr_quota_ledger_has(const struct rombsr_quota_ledger *l, const char *request_id)
{
	return *find_slot(l, request_id) != NO_SLOT;
}

bool rombsr_quota_ledger_recorded(const struct rombsr_quota_ledger *l, const char *request_id, time_t *when)
{
	size_t slot = *find_slot(l, request_id);

	if (slot == NO_SLOT)
		return false;
	*when = l->entries[slot].time;
	return true;
}

int rombsr_quota_ledger_add(struct rombsr_quota_ledger *l, time_t when, const char *request_id, const char *node,
			    const struct rombsr_quota_use *uses, size_t n)
{
	struct entry e = {.time = when};
	struct rombsr_buf line;
	int r;

	if (!rombsr_request_id_valid(request_id))
		return rombsr_error(ROMBSR_EINVAL, "quota ledger: '%.40s' is not a request ID", request_id);
	if (!rombsr_fpr_valid(node))
		return rombsr_error(ROMBSR_EINVAL, "quota ledger: '%.48s' is not a build node fingerprint", node);
	if (when < 0)
		return rombsr_error(ROMBSR_EINVAL, "quota ledger: time before 1970");
	if (n == 0 || n > ROMBSR_QUOTA_MAX_KEYS)
		return rombsr_error(ROMBSR_EINVAL, "quota ledger: request %s uses %zu keys (1 to %d)", request_id, n,
				    ROMBSR_QUOTA_MAX_KEYS);
	for (size_t i = 0; i < n; i++) {
		if (!label_ok(uses[i].key) || uses[i].count == 0)
			return rombsr_error(ROMBSR_EINVAL, "quota ledger: key '%.64s' × %" PRIu32 " cannot be recorded",
					    uses[i].key, uses[i].count);
		for (size_t j = 0; j < i; j++)
			if (strcmp(uses[i].key, uses[j].key) == 0)
				return rombsr_error(ROMBSR_EINVAL, "quota ledger: key '%s' listed twice", uses[i].key);
	}
	if (rombsr_quota_ledger_has(l, request_id))
		return 0;
	memcpy(e.request, request_id, sizeof(e.request));
	memcpy(e.node, node, sizeof(e.node));
	e.uses = calloc(n, sizeof(*e.uses));
	if (e.uses == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	memcpy(e.uses, uses, n * sizeof(*uses));
	e.nuses = n;
	for (size_t i = 0; i < n; i++)
		e.total += uses[i].count;
	if (l->path != NULL) {
		rombsr_buf_init(&line, ROMBSR_QUOTA_MAX_KEYS * (ROMBSR_QUOTA_LABEL_MAX + 12) + 256);
		encode_line(&e, &line);
		r = rombsr_buf_check(&line, "quota ledger line");
		if (r == 0)
			r = append(l, line.data, line.len);
		rombsr_buf_free(&line);
		if (r < 0) {
			entry_free(&e);
			return r;
		}
	}
	return insert(l, &e);
}

int rombsr_quota_ledger_record(struct rombsr_quota_ledger *l, const struct rombsr_request *req, time_t when)
{
	struct rombsr_quota_use *uses = calloc(ROMBSR_QUOTA_MAX_KEYS, sizeof(*uses));
	size_t n = 0;
	int r;

	if (uses == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	for (size_t i = 0; i < req->nops; i++) {
		const char *key = req->ops[i].op.label;
		size_t j = 0;

		while (j < n && strcmp(uses[j].key, key) != 0)
			j++;
		if (j == n) {
			if (n == ROMBSR_QUOTA_MAX_KEYS) {
				free(uses);
				return rombsr_error(ROMBSR_EINVAL, "quota ledger: request %s uses more than %d keys",
						    req->id, ROMBSR_QUOTA_MAX_KEYS);
			}
			snprintf(uses[n].key, sizeof(uses[n].key), "%s", key);
			uses[n++].count = 0;
		}
		uses[j].count++;
	}
	r = rombsr_quota_ledger_add(l, when, req->id, req->build_node, uses, n);
	free(uses);
	return r;
}

static bool in_window(const struct entry *e, time_t now, int64_t window, const char *exclude)
{
	if (exclude != NULL && strcmp(e->request, exclude) == 0)
		return false;
	/* Compared as now - time < window, which cannot overflow for the
	 * times a ledger holds. */
	return (int64_t)now - (int64_t)e->time < window;
}

uint64_t rombsr_quota_ledger_count_key(const struct rombsr_quota_ledger *l, const char *key, time_t now,
				       int64_t window, const char *exclude)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < l->n; i++) {
		if (!in_window(&l->entries[i], now, window, exclude))
			continue;
		for (size_t j = 0; j < l->entries[i].nuses; j++)
			if (strcmp(l->entries[i].uses[j].key, key) == 0)
				sum += l->entries[i].uses[j].count;
	}
	return sum;
}

uint64_t rombsr_quota_ledger_count_node(const struct rombsr_quota_ledger *l, const char *node, time_t now,
					int64_t window, const char *exclude)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < l->n; i++)
		if (in_window(&l->entries[i], now, window, exclude) && strcmp(l->entries[i].node, node) == 0)
			sum += l->entries[i].total;
	return sum;
}

/* The whole ledger as a new file, replacing the old one atomically. */
static int rewrite(struct rombsr_quota_ledger *l)
{
	struct rombsr_buf text;
	int r;

	rombsr_buf_init(&text, SIZE_MAX);
	rombsr_buf_append_str(&text, ROMBSR_QUOTA_HEADER "\n");
	for (size_t i = 0; i < l->n; i++)
		encode_line(&l->entries[i], &text);
	r = rombsr_buf_check(&text, "quota ledger");
	if (r == 0)
		r = rombsr_file_write_atomic(l->path, text.data, text.len, 0600, false);
	rombsr_buf_free(&text);
	/* The old descriptor still names the replaced file. */
	if (r == 0)
		r = reopen(l);
	return r;
}

int rombsr_quota_ledger_prune(struct rombsr_quota_ledger *l, time_t now)
{
	size_t kept = 0, *slots;

	for (size_t i = 0; i < l->n && kept == i; i++)
		kept += in_window(&l->entries[i], now, ROMBSR_QUOTA_MAX_WINDOW, NULL);
	if (kept == l->n)
		return 0;
	/* Allocated before anything is dropped, so a failure leaves the
	 * ledger as it was. */
	slots = new_index(l->nslots);
	if (slots == NULL)
		return ROMBSR_ENOMEM;
	kept = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (in_window(&l->entries[i], now, ROMBSR_QUOTA_MAX_WINDOW, NULL))
			l->entries[kept++] = l->entries[i];
		else
			entry_free(&l->entries[i]);
	}
	l->n = kept;
	use_index(l, slots, l->nslots);
	return l->path != NULL ? rewrite(l) : 0;
}

size_t rombsr_quota_ledger_size(const struct rombsr_quota_ledger *l)
{
	return l->n;
}
