// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Pin workers (pinpool.h). ibv_reg_mr() is thread-safe on one PD; the
 * long part of it is pinning the pages (get_user_pages), which runs in
 * parallel for different chunks, so two threads halve the time a batch
 * of requests waits even on one core's worth of RDMA stack.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "../lib/util.h"
#include "log.h"
#include "pinpool.h"

static void *worker(void *arg)
{
	struct pin_pool *p = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct pin_req r;
		struct pin_done *o;
		struct ibv_mr *mr;
		uint64_t t0;
		int err;

		while (!p->stop && !p->qlen)
			pthread_cond_wait(&p->cond, &p->lock);
		if (p->stop)
			break;
		r = p->q[p->qhead];
		p->qhead = (p->qhead + 1) % p->cap;
		p->qlen--;
		p->running++;
		pthread_mutex_unlock(&p->lock);

		t0 = rdmig_now_us();
		mr = ibv_reg_mr(r.pd, r.addr, r.len, r.access);
		err = mr ? 0 : (errno ? errno : ENOMEM);
		t0 = rdmig_now_us() - t0;

		pthread_mutex_lock(&p->lock);
		o = &p->d[(p->dhead + p->dlen) % p->cap];
		o->g = r.g;
		o->mr = mr;
		o->err = err;
		o->us = t0;
		p->dlen++;
		p->running--;
		pthread_cond_broadcast(&p->idle);
		/* The engine may be asleep in poll(): end its wait. */
		if (write(p->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			log_dbg("pin pool eventfd: %d", errno);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int pin_pool_init(struct pin_pool *p, uint32_t nthreads, uint32_t njobs)
{
	uint32_t i;
	int rc;

	if (!nthreads || nthreads > PIN_THREADS_MAX || !njobs)
		return -EINVAL;
	*p = (struct pin_pool){ .cap = njobs, .efd = -1 };
	p->q = calloc(njobs, sizeof(*p->q));
	p->d = calloc(njobs, sizeof(*p->d));
	p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!p->q || !p->d || p->efd < 0) {
		rc = p->efd < 0 ? -errno : -ENOMEM;
		goto fail;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	pthread_cond_init(&p->idle, NULL);
	for (i = 0; i < nthreads; i++) {
		rc = -pthread_create(&p->th[i], NULL, worker, p);
		if (rc)
			break;
		p->nthreads++;
	}
	if (p->nthreads == nthreads)
		return 0;
	pin_pool_destroy(p);
	return rc;
fail:
	free(p->q);
	free(p->d);
	if (p->efd >= 0)
		close(p->efd);
	*p = (struct pin_pool){ .efd = -1 };
	return rc;
}

int pin_pool_submit(struct pin_pool *p, const struct pin_req *r)
{
	int rc = 0;

	pthread_mutex_lock(&p->lock);
	if (p->qlen + p->running + p->dlen >= p->cap) {
		rc = -ENOSPC;
	} else {
		p->q[(p->qhead + p->qlen) % p->cap] = *r;
		p->qlen++;
		pthread_cond_signal(&p->cond);
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

uint32_t pin_pool_harvest(struct pin_pool *p, struct pin_done *out, uint32_t max)
{
	uint32_t n = 0;
	uint64_t v;

	if (read(p->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_dbg("pin pool eventfd: %d", errno);
	pthread_mutex_lock(&p->lock);
	while (n < max && p->dlen) {
		out[n++] = p->d[p->dhead];
		p->dhead = (p->dhead + 1) % p->cap;
		p->dlen--;
	}
	pthread_mutex_unlock(&p->lock);
	return n;
}

uint32_t pin_pool_outstanding(struct pin_pool *p)
{
	uint32_t n;

	pthread_mutex_lock(&p->lock);
	n = p->qlen + p->running + p->dlen;
	pthread_mutex_unlock(&p->lock);
	return n;
}

uint32_t pin_pool_cancel(struct pin_pool *p, uint32_t *dropped, uint32_t max)
{
	uint32_t n = 0;

	pthread_mutex_lock(&p->lock);
	while (p->qlen) {
		if (n < max)
			dropped[n] = p->q[p->qhead].g;
		n++;
		p->qhead = (p->qhead + 1) % p->cap;
		p->qlen--;
	}
	while (p->running)
		pthread_cond_wait(&p->idle, &p->lock);
	pthread_mutex_unlock(&p->lock);
	return n;
}

void pin_pool_destroy(struct pin_pool *p)
{
	uint32_t i;

	if (!p->q)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->th[i], NULL);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	pthread_cond_destroy(&p->idle);
	free(p->q);
	free(p->d);
	close(p->efd);
	*p = (struct pin_pool){ .efd = -1 };
}
