// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vCPU threads. Each runs its workload in small batches and looks at the
 * pause request between batches, so a paused vCPU always stops between
 * two pages and its position in struct wl_vcpu is exact: that position is
 * the device state the destination resumes from.
 */
#include <errno.h>
#include <time.h>

#include "vcpu.h"

#define UNLIMITED_BATCH	256

struct vcpu_arg {
	struct vm *vm;
	unsigned int idx;
};

static struct vcpu_arg args[VMM_MAX_VCPUS];

/*
 * Sleeps until @t unless a pause or shutdown is requested first: a vCPU
 * throttled to 99 % must still stop at once when the switchover comes.
 */
static void vcpu_sleep_until(struct vm *vm, uint64_t t)
{
	struct timespec ts;
	uint64_t now = now_ns(), rt;

	if (t <= now)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	rt = (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec + (t - now);
	ts.tv_sec = rt / 1000000000ULL;
	ts.tv_nsec = rt % 1000000000ULL;
	pthread_mutex_lock(&vm->lock);
	while (!vm->pause_req && !vm->quit &&
	       pthread_cond_timedwait(&vm->cond, &vm->lock, &ts) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&vm->lock);
}

static uint8_t *page_of(void *ctx, uint64_t g)
{
	return ram_page(ctx, g);
}

/*
 * Parks while a pause is requested; also where an idle vCPU waits.
 * Returns false when the VM is shutting down.
 */
static bool park(struct vm *vm, bool idle)
{
	bool counted = false, quit;

	pthread_mutex_lock(&vm->lock);
	while (!vm->quit) {
		if (vm->pause_req) {
			if (!counted) {
				vm->parked++;
				counted = true;
				pthread_cond_broadcast(&vm->cond);
			}
		} else if (counted || !idle) {
			break;
		}
		pthread_cond_wait(&vm->cond, &vm->lock);
	}
	if (counted)
		vm->parked--;
	quit = vm->quit;
	pthread_mutex_unlock(&vm->lock);
	return !quit;
}

static void mark_warm(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->warm++;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
}

static void *vcpu_main(void *p)
{
	struct vcpu_arg *a = p;
	struct vm *vm = a->vm;
	struct wl_vcpu *v = &vm->wl.vcpu[a->idx];
	uint64_t rate = vm->wl.rate / vm->wl.nr_vcpus, batch, deadline;
	bool warm = false;

	if (vm->wl.rate && !rate)
		rate = 1;
	batch = rate ? (rate / 1000 ? rate / 1000 : 1) : UNLIMITED_BATCH;

	if (vm->fill && vm->wl.kind != WL_ABTEST)
		wl_fill(page_of, &vm->ram, vm->wl.seed, v->start, v->end);
	if (vm->wl.kind != WL_ABTEST || !vm->fill) {
		mark_warm(vm);
		warm = true;
	}
	deadline = now_ns();
	for (;;) {
		uint64_t t0, t1, pct, passes = v->passes;
		bool pause;

		pthread_mutex_lock(&vm->lock);
		pause = vm->pause_req || vm->quit;
		pthread_mutex_unlock(&vm->lock);
		if (pause || vm->wl.kind == WL_IDLE || v->start == v->end) {
			if (!park(vm, vm->wl.kind == WL_IDLE || v->start == v->end))
				break;
			deadline = now_ns();
			continue;
		}
		/*
		 * abtest's first pass is the boot that writes the initial
		 * content: it runs flat out, the rate applies from then on.
		 */
		t0 = now_ns();
		wl_step(&vm->wl, v, page_of, &vm->ram, warm ? batch : UNLIMITED_BATCH);
		t1 = now_ns();
		if (!warm) {
			if (v->passes != passes) {
				mark_warm(vm);
				warm = true;
			}
			deadline = t1;
			continue;
		}
		/*
		 * Auto-converge as QEMU does it: a throttled vCPU sleeps
		 * pct/(100-pct) of the time it ran, so it runs (100-pct)%.
		 */
		pct = atomic_load(&vm->throttle_pct);
		if (pct)
			vcpu_sleep_until(vm, t1 + (t1 - t0) * pct / (100 - pct));
		if (rate) {
			deadline += batch * 1000000000ULL / rate;
			/* Never catch up on time spent paused or throttled. */
			if (deadline + 100000000ULL < now_ns())
				deadline = now_ns();
			vcpu_sleep_until(vm, deadline);
		}
	}
	return NULL;
}

int vm_start(struct vm *vm, bool fill)
{
	unsigned int i;
	int ret;

	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->cond, NULL);
	vm->pause_req = vm->quit = false;
	vm->parked = vm->warm = vm->started = 0;
	vm->fill = fill;
	atomic_store(&vm->throttle_pct, 0);
	for (i = 0; i < vm->wl.nr_vcpus; i++) {
		args[i].vm = vm;
		args[i].idx = i;
		ret = pthread_create(&vm->thread[i], NULL, vcpu_main, &args[i]);
		if (ret) {
			vm_stop(vm);
			return -ret;
		}
		vm->started++;
	}
	return 0;
}

void vm_pause(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->pause_req = true;
	pthread_cond_broadcast(&vm->cond);
	while (vm->parked < vm->started)
		pthread_cond_wait(&vm->cond, &vm->lock);
	pthread_mutex_unlock(&vm->lock);
}

void vm_resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->pause_req = false;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
}

void vm_stop(struct vm *vm)
{
	unsigned int i;

	pthread_mutex_lock(&vm->lock);
	vm->quit = true;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	for (i = 0; i < vm->started; i++)
		pthread_join(vm->thread[i], NULL);
	vm->started = 0;
}

bool vm_wait_warm(struct vm *vm, int timeout_ms)
{
	struct timespec ts;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&vm->lock);
	while (vm->warm < vm->started &&
	       pthread_cond_timedwait(&vm->cond, &vm->lock, &ts) != ETIMEDOUT)
		;
	ok = vm->warm >= vm->started;
	pthread_mutex_unlock(&vm->lock);
	return ok;
}

unsigned int vm_throttle_up(struct vm *vm)
{
	unsigned int p = atomic_load(&vm->throttle_pct);

	p = p ? p + 10 : 20;
	if (p > 99)
		p = 99;
	atomic_store(&vm->throttle_pct, p);
	return p;
}

uint64_t vm_writes(const struct vm *vm)
{
	uint64_t sum = 0;
	unsigned int i;

	for (i = 0; i < vm->wl.nr_vcpus; i++)
		sum += vm->wl.vcpu[i].writes;
	return sum;
}
