/* The signer's handler threads and its ordered outbox (pool.h). */
#include "pool.h"

#include "../common/config.h"
#include "../common/error.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One message from its arrival until its reply is sent. Slots stay in
 * arrival order in one list: handlers take them from next_task on, the
 * sender sends from head while the head's reply is done. */
struct slot {
	struct rombsr_channel_request m;
	struct rombsr_channel_reply reply;
	bool needs_sync, done;
	struct slot *next;
};

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t work;     /* a slot to answer, or closing */
	pthread_cond_t answered; /* the head may be done, or closing */
	struct slot *head, *tail, *next_task;
	bool closing;
	int fd;
	struct rombsr_sign_cache *cache;
	signer_handler handler;
	void *ctx;
};

static void *handler_run(void *arg)
{
	struct pool *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct slot *it;

		while (p->next_task == NULL && !p->closing)
			pthread_cond_wait(&p->work, &p->lock);
		if (p->next_task == NULL)
			break;
		it = p->next_task;
		p->next_task = it->next;
		pthread_mutex_unlock(&p->lock);
		p->handler(p->ctx, &it->m, &it->reply, &it->needs_sync);
		pthread_mutex_lock(&p->lock);
		it->done = true;
		pthread_cond_broadcast(&p->answered);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Sends the replies [batch, end), in order. One sync covers every cache
 * entry put before their handlers finished (group commit: the HSM keeps
 * signing on the other sessions meanwhile). A signature whose entry may not
 * be durable is not handed out. */
static void send_batch(struct pool *p, struct slot *batch, const struct slot *end)
{
	bool sync = false;
	int r = 0;

	for (const struct slot *it = batch; it != end; it = it->next)
		sync = sync || it->needs_sync;
	if (sync)
		r = rombsr_sign_cache_sync(p->cache);
	while (batch != end) {
		struct slot *next = batch->next;

		if (r < 0 && batch->needs_sync) {
			memset(batch->reply.sig, 0, sizeof(batch->reply.sig));
			batch->reply.sig_len = 0;
			batch->reply.status = r;
			snprintf(batch->reply.message, sizeof(batch->reply.message), "%s", rombsr_error_message(r));
		}
		rombsr_channel_send(p->fd, &batch->reply, sizeof(batch->reply));
		free(batch);
		batch = next;
	}
}

static void *sender_run(void *arg)
{
	struct pool *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct slot *batch, *end;

		while ((p->head == NULL || !p->head->done) && !(p->closing && p->head == NULL))
			pthread_cond_wait(&p->answered, &p->lock);
		if (p->head == NULL)
			break;
		batch = end = p->head;
		while (end != NULL && end->done)
			end = end->next;
		/* Handlers only ever hold slots that are not done: none of these. */
		p->head = end;
		if (end == NULL)
			p->tail = NULL;
		pthread_mutex_unlock(&p->lock);
		send_batch(p, batch, end);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static void pool_put(struct pool *p, struct slot *it)
{
	pthread_mutex_lock(&p->lock);
	if (p->tail != NULL)
		p->tail->next = it;
	else
		p->head = it;
	p->tail = it;
	if (p->next_task == NULL)
		p->next_task = it;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
}

int signer_pool_serve(int fd, size_t nthreads, struct rombsr_sign_cache *cache, signer_handler handler, void *ctx)
{
	struct pool p = {.lock = PTHREAD_MUTEX_INITIALIZER, .work = PTHREAD_COND_INITIALIZER,
			 .answered = PTHREAD_COND_INITIALIZER, .fd = fd, .cache = cache, .handler = handler, .ctx = ctx};
	pthread_t threads[ROMBSR_CONFIG_MAX_SIGNER_SESSIONS], sender;
	size_t started = 0;
	int r = 0;

	if (nthreads == 0 || nthreads > ROMBSR_CONFIG_MAX_SIGNER_SESSIONS)
		return rombsr_error(ROMBSR_EINTERNAL, "%zu signer sessions", nthreads);
	if (pthread_create(&sender, NULL, sender_run, &p) != 0)
		return rombsr_error(ROMBSR_EINTERNAL, "cannot start the signer's outbox");
	while (started < nthreads && pthread_create(&threads[started], NULL, handler_run, &p) == 0)
		started++;
	if (started < nthreads)
		r = rombsr_error(ROMBSR_EINTERNAL, "cannot start the signer's threads");
	while (r == 0) {
		struct slot *it = calloc(1, sizeof(*it));

		if (it == NULL) {
			r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
			break;
		}
		if (rombsr_channel_recv(fd, &it->m, sizeof(it->m)) != 0) {
			free(it);
			break; /* the worker hung up */
		}
		pool_put(&p, it);
	}
	/* What was received is still answered: a signature made for it reaches
	 * the cache whatever the worker does. */
	pthread_mutex_lock(&p.lock);
	p.closing = true;
	pthread_cond_broadcast(&p.work);
	pthread_cond_broadcast(&p.answered);
	pthread_mutex_unlock(&p.lock);
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	pthread_join(sender, NULL);
	return r;
}
