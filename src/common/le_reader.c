#include "le_reader.h"

#include "error.h"

static int take(struct rombsr_le_reader *r, size_t n, uint64_t *v)
{
	if (r->left < n)
		return rombsr_error(ROMBSR_EINVAL, "%s: truncated", r->what);
	*v = 0;
	for (size_t i = n; i-- > 0;)
		*v = *v << 8 | r->p[i];
	r->p += n;
	r->left -= n;
	return 0;
}

int rombsr_le_u32(struct rombsr_le_reader *r, uint32_t *v)
{
	uint64_t x = 0;
	int e = take(r, 4, &x);

	*v = (uint32_t)x;
	return e;
}

int rombsr_le_u64(struct rombsr_le_reader *r, uint64_t *v)
{
	return take(r, 8, v);
}

int rombsr_le_sub(struct rombsr_le_reader *r, struct rombsr_le_reader *out)
{
	uint32_t n = 0;
	int e = rombsr_le_u32(r, &n);

	if (e < 0)
		return e;
	if (n > r->left)
		return rombsr_error(ROMBSR_EINVAL, "%s: a length of %u past the end", r->what, n);
	out->p = r->p;
	out->left = n;
	out->what = r->what;
	r->p += n;
	r->left -= n;
	return 0;
}
