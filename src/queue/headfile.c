#include "headfile.h"

#include "../common/error.h"
#include "../common/fsutil.h"

#include <string.h>

int rombsr_head_file_read(const char *path, git_oid *head, bool *exists)
{
	struct rombsr_buf text;
	int r = rombsr_file_read(path, 128, &text);

	*exists = false;
	if (r == ROMBSR_ENOTFOUND)
		return 0;
	if (r < 0)
		return r;
	if (text.len < GIT_OID_HEXSZ || git_oid_fromstrn(head, (const char *)text.data, GIT_OID_HEXSZ) < 0)
		r = rombsr_error(ROMBSR_EINVAL, "%s does not hold a commit ID", path);
	else
		*exists = true;
	rombsr_buf_free(&text);
	return r;
}

int rombsr_head_file_write(const char *path, const git_oid *head)
{
	char line[GIT_OID_HEXSZ + 2];

	rombsr_oid_hex(head, line);
	strcat(line, "\n");
	return rombsr_file_write_atomic(path, line, strlen(line), 0600, false);
}

int rombsr_head_file_check(struct rombsr_repo *repo, const char *path, const git_oid *head)
{
	char was[GIT_OID_HEXSZ + 1], now[GIT_OID_HEXSZ + 1];
	git_oid remembered;
	bool exists, descends = false;
	int r = rombsr_head_file_read(path, &remembered, &exists);

	if (r < 0 || !exists)
		return r;
	if (rombsr_repo_descends(repo, head, &remembered, &descends) < 0)
		descends = false;
	if (descends)
		return 0;
	rombsr_oid_hex(&remembered, was);
	rombsr_oid_hex(head, now);
	return rombsr_error(ROMBSR_ESECURITY,
			    "history rewritten: the queue's head %.12s does not descend from %.12s, seen before", now,
			    was);
}
