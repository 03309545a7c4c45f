/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The destination's pin workers: ibv_reg_mr() of requested chunks on a
 * few threads, so the engine thread keeps serving the connection and can
 * answer each chunk as soon as it is pinned instead of once per request
 * after all its pins (Documentation/protocol.md, "Registration").
 *
 * Each job is named by its chunk's global index; the caller submits a
 * chunk at most once until it has harvested its result, so @njobs (the
 * number of chunks) bounds every queue and nothing here ever blocks the
 * submitter. Only the engine thread calls these functions.
 */
#ifndef RDMIGD_PINPOOL_H
#define RDMIGD_PINPOOL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <infiniband/verbs.h>

#define PIN_THREADS_DEFAULT	2
#define PIN_THREADS_MAX		16

struct pin_done {
	uint32_t g;
	struct ibv_mr *mr;	/* NULL: failed with @err */
	uint64_t us;		/* how long ibv_reg_mr() took */
	int err;
};

struct pin_req {
	uint32_t g;
	struct ibv_pd *pd;
	void *addr;
	size_t len;
	int access;
};

struct pin_pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;	/* work queued, or stop */
	pthread_cond_t idle;	/* a job finished (for pin_pool_cancel) */
	pthread_t th[PIN_THREADS_MAX];
	uint32_t nthreads;
	uint32_t cap;
	struct pin_req *q;	/* ring: submitted, not yet taken */
	uint32_t qhead, qlen;
	struct pin_done *d;	/* ring: finished, not yet harvested */
	uint32_t dhead, dlen;
	uint32_t running;
	bool stop;
	int efd;		/* eventfd written when a job finishes */
};

/* Starts @nthreads (1..PIN_THREADS_MAX) workers. 0, or -errno. */
int pin_pool_init(struct pin_pool *p, uint32_t nthreads, uint32_t njobs);
/* Queues one registration. 0, or -ENOSPC (the caller broke the rule). */
int pin_pool_submit(struct pin_pool *p, const struct pin_req *r);
/* Moves up to @max finished jobs to @out; returns how many. */
uint32_t pin_pool_harvest(struct pin_pool *p, struct pin_done *out, uint32_t max);
/* Jobs submitted and not yet harvested (queued, running or finished). */
uint32_t pin_pool_outstanding(struct pin_pool *p);
/*
 * Drops the queued jobs (their chunks are returned in @dropped, up to
 * @max, count in the return value) and waits for the running ones, whose
 * results stay to be harvested: after it no worker touches any memory.
 */
uint32_t pin_pool_cancel(struct pin_pool *p, uint32_t *dropped, uint32_t max);
/* Stops the workers; the caller has harvested or cancelled everything. */
void pin_pool_destroy(struct pin_pool *p);

#endif
