// SPDX-License-Identifier: GPL-2.0
/*
 * The sparse get-and-clear result (tests/guest/16-dirty-words.sh):
 * RDMIG_GET_DIRTY_WORDS and netlink DIRTY_GET with RDMIG_DIRTY_F_WORDS
 * report exactly the pages the bitmap ioctl reports, resume where the
 * room ran out without splitting or losing a word, refuse bad input,
 * and set the pages dirty again when the words cannot be delivered.
 * And a get-and-clear of a dense run of dirty pages write-protects them
 * with one TLB flush (the module's tlb_flushes counter), with and without
 * a writer thread of the same mm on the other CPU.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "region_util.h"

#define PG 4096UL
#define NPAGES 100000UL		/* not a multiple of 64: a short last word */

static const uint64_t pages[] = { 0, 63, 64, 4095, 4096, 50000, 50001,
				  99968, 99999 };
#define NP (sizeof(pages) / sizeof(pages[0]))

struct fix {
	int fd;
	char *mem;
	uint64_t bm[(NPAGES + 63) / 64];
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	int dev = open("/dev/rdmig", O_RDWR | O_CLOEXEC);

	assert_non_null(f);
	assert_true(dev >= 0);
	f->fd = ru_create(dev, NPAGES * PG, RDMIG_REGION_F_TRACK, "words",
			  NULL);
	close(dev);
	assert_true(f->fd >= 0);
	f->mem = mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
		      f->fd, 0);
	assert_true(f->mem != MAP_FAILED);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	munmap(f->mem, NPAGES * PG);
	close(f->fd);
	free(f);
	return 0;
}

static void dirty_all(struct fix *f)
{
	for (size_t i = 0; i < NP; i++)
		f->mem[pages[i] * PG]++;
}

/* Collects words of the whole range, @max at a time, into f->bm. */
static uint64_t collect(struct fix *f, bool clear, uint32_t max, int *calls)
{
	struct rdmig_dirty_word w[8];
	uint64_t pos = 0, next, total = 0, prev_end = 0;
	uint32_t n, i;
	int64_t got;

	memset(f->bm, 0, sizeof(f->bm));
	*calls = 0;
	while (pos < NPAGES) {
		got = rdmig_dirty_get_words(f->fd, pos, NPAGES - pos, clear, w,
					    max, &n, &next);
		assert_true(got >= 0);
		assert_true(n <= max);
		assert_true(next > pos && next <= NPAGES);
		assert_true(next == NPAGES || next % 64 == 0);
		for (i = 0; i < n; i++) {
			uint64_t word = pos / 64 + w[i].index;

			assert_true(w[i].bits != 0);
			assert_true(word * 64 >= prev_end);	/* increasing */
			prev_end = word * 64 + 64;
			f->bm[word] |= w[i].bits;
			total += (uint64_t)__builtin_popcountll(w[i].bits);
		}
		pos = next;
		(*calls)++;
	}
	return total;
}

static void assert_bm_is_pages(const uint64_t *bm)
{
	uint64_t want[(NPAGES + 63) / 64] = { 0 };

	for (size_t i = 0; i < NP; i++)
		want[pages[i] / 64] |= 1ULL << (pages[i] % 64);
	assert_memory_equal(bm, want, sizeof(want));
}

static void test_ioctl_words_match_and_resume(void **state)
{
	struct fix *f = *state;
	int calls;

	dirty_all(f);
	/* Peek, one word per call: every word, nothing cleared. */
	assert_int_equal(collect(f, false, 1, &calls), NP);
	assert_bm_is_pages(f->bm);
	assert_int_equal(calls, 6);	/* 6 distinct words, one a call */
	/* The bitmap ioctl agrees, and get-and-clear by words clears. */
	assert_int_equal(collect(f, true, 2, &calls), NP);
	assert_bm_is_pages(f->bm);
	assert_int_equal(collect(f, true, 8, &calls), 0);
	assert_int_equal(calls, 1);
	/* Written again after the clear: reported again. */
	dirty_all(f);
	assert_int_equal(collect(f, true, 8, &calls), NP);
	assert_bm_is_pages(f->bm);
}

static void test_ioctl_words_bad_input(void **state)
{
	struct fix *f = *state;
	struct rdmig_dirty_word w[8];
	struct rdmig_dirty_words d = { .size = sizeof(d), .npages = 64,
				       .words = (uintptr_t)w, .max_words = 8 };
	uint64_t n;

	d.max_words = 0;
	assert_int_equal(ioctl(f->fd, RDMIG_GET_DIRTY_WORDS, &d), -1);
	assert_int_equal(errno, EINVAL);
	d.max_words = 8;
	d.first_page = 1;
	assert_int_equal(ioctl(f->fd, RDMIG_GET_DIRTY_WORDS, &d), -1);
	assert_int_equal(errno, EINVAL);
	d.first_page = 0;
	d.flags = RDMIG_DIRTY_F_WORDS;	/* netlink only */
	assert_int_equal(ioctl(f->fd, RDMIG_GET_DIRTY_WORDS, &d), -1);
	assert_int_equal(errno, EINVAL);
	d.flags = 0;
	d.npages = NPAGES + 64;
	assert_int_equal(ioctl(f->fd, RDMIG_GET_DIRTY_WORDS, &d), -1);
	assert_int_equal(errno, EINVAL);
	/* Undeliverable: EFAULT, and the pages are still dirty. */
	dirty_all(f);
	d.flags = RDMIG_DIRTY_F_CLEAR;
	d.npages = NPAGES;
	d.words = 8;	/* unmapped */
	assert_int_equal(ioctl(f->fd, RDMIG_GET_DIRTY_WORDS, &d), -1);
	assert_int_equal(errno, EFAULT);
	assert_int_equal(ru_get_dirty(f->fd, 0, NPAGES, RDMIG_DIRTY_F_CLEAR,
				      f->bm, &n), 0);
	assert_int_equal(n, NP);
	assert_bm_is_pages(f->bm);
}

static void test_netlink_words(void **state)
{
	static struct rdmig_dirty_word w[RDMIG_NL_DIRTY_WORDS_MAX];
	struct fix *f = *state;
	struct rdmig_region_info info;
	struct rdmig_nl *nl;
	uint64_t next, total = 0;
	uint32_t n, i;
	int64_t got;

	assert_int_equal(ru_info(f->fd, &info), 0);
	assert_int_equal(rdmig_nl_open(&nl), 0);
	/* Too little room is refused before anything is asked. */
	assert_int_equal(rdmig_nl_dirty_get_words(nl, info.region_id, 0,
						  NPAGES, true, w, 8, &n,
						  &next), -EINVAL);
	dirty_all(f);
	memset(f->bm, 0, sizeof(f->bm));
	got = rdmig_nl_dirty_get_words(nl, info.region_id, 0, NPAGES, true, w,
				       RDMIG_NL_DIRTY_WORDS_MAX, &n, &next);
	assert_int_equal(got, NP);
	assert_int_equal(next, NPAGES);
	for (i = 0; i < n; i++) {
		f->bm[w[i].index] |= w[i].bits;
		total += (uint64_t)__builtin_popcountll(w[i].bits);
	}
	assert_int_equal(total, NP);
	assert_bm_is_pages(f->bm);
	/* A range from the middle, indexes relative to its first page. */
	f->mem[50001 * PG]++;
	got = rdmig_nl_dirty_get_words(nl, info.region_id, 49984, 128, true,
				       w, RDMIG_NL_DIRTY_WORDS_MAX, &n, &next);
	assert_int_equal(got, 1);
	assert_int_equal(n, 1);
	assert_int_equal(w[0].index, 0);
	assert_true(w[0].bits == 1ULL << 17);
	assert_int_equal(next, 49984 + 128);
	rdmig_nl_close(nl);
}

#define PARAMS "/sys/module/rdmig/parameters/"
#define DENSE_FIRST 1024UL
#define DENSE_N 1000UL

/* A counter, or a bool parameter (Y/N) as 1/0. */
static uint64_t read_param(const char *name)
{
	char path[128], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), PARAMS "%s", name);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	if (buf[0] == 'Y' || buf[0] == 'N')
		return buf[0] == 'Y';
	return strtoull(buf, NULL, 10);
}

static void write_param(const char *name, uint64_t v)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), PARAMS "%s", name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fprintf(f, "%llu\n", (unsigned long long)v) > 0);
	assert_int_equal(fclose(f), 0);
}

/*
 * Dirties DENSE_N pages in a row and gets-and-clears them, through the
 * bitmap ioctl (@words false) or the sparse result: the TLB flushes that
 * took, which the caller compares.
 */
static uint64_t dense_clear_flushes(struct fix *f, bool words)
{
	struct rdmig_dirty_word w[64];
	struct rdmig_dirty_words d = { .size = sizeof(d),
				       .flags = RDMIG_DIRTY_F_CLEAR,
				       .words = (uintptr_t)w,
				       .max_words = 64 };
	uint64_t before, n = 0, i;

	for (i = 0; i < DENSE_N; i++)
		f->mem[(DENSE_FIRST + i) * PG]++;
	before = read_param("tlb_flushes");
	if (words) {
		d.npages = NPAGES;
		assert_int_equal(ioctl(f->fd, RDMIG_GET_DIRTY_WORDS, &d), 0);
		assert_int_equal(d.out_next_page, NPAGES);
		n = d.out_dirty;
	} else {
		assert_int_equal(ru_get_dirty(f->fd, 0, NPAGES,
					      RDMIG_DIRTY_F_CLEAR, f->bm, &n),
				 0);
	}
	assert_int_equal(n, DENSE_N);
	return read_param("tlb_flushes") - before;
}

static atomic_bool wstop;

static void pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	assert_int_equal(sched_setaffinity(0, sizeof(set), &set), 0);
}

/* A thread of the same mm storing without pause on the other CPU. */
static void *writer(void *arg)
{
	volatile char *mem = arg;
	uint64_t i = 0;

	pin_cpu(1);
	while (!atomic_load_explicit(&wstop, memory_order_relaxed))
		mem[(i++ % 64) * PG]++;
	return NULL;
}

/*
 * Always by range (rearm_adapt=0): exactly one flush per call, where the
 * old spans (256 folios, 512 pages wide at most) took four.
 */
static void test_dense_one_flush(void **state)
{
	struct fix *f = *state;
	uint64_t adapt = read_param("rearm_adapt"), fb, fw;

	write_param("rearm_adapt", 0);
	fb = dense_clear_flushes(f, false);
	fw = dense_clear_flushes(f, true);
	write_param("rearm_adapt", adapt);
	print_message("dense get-and-clear of %lu pages: bitmap %lu flushes, words %lu flushes\n",
		      DENSE_N, (unsigned long)fb, (unsigned long)fw);
	assert_int_equal(fb, 1);
	assert_int_equal(fw, 1);
}

/*
 * rearm_adapt=1 with a writer running, where every flush is an IPI: the
 * range is chosen, one flush a call; a probe (the first span, then one
 * in 64) takes up to 8 folios one by one. 8 calls: at most 8 + 8.
 */
static void test_dense_writer_flushes(void **state)
{
	struct fix *f = *state;
	uint64_t adapt = read_param("rearm_adapt"), total = 0;
	pthread_t th;
	char *wmem;
	int i;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		skip();
	wmem = mmap(NULL, 64 * PG, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(wmem != MAP_FAILED);
	write_param("rearm_adapt", 1);
	pin_cpu(0);
	atomic_store(&wstop, false);
	assert_int_equal(pthread_create(&th, NULL, writer, wmem), 0);
	usleep(20000);
	for (i = 0; i < 8; i++)
		total += dense_clear_flushes(f, i % 2);
	atomic_store(&wstop, true);
	pthread_join(th, NULL);
	write_param("rearm_adapt", adapt);
	munmap(wmem, 64 * PG);
	print_message("8 dense get-and-clears with a writer: %lu flushes\n",
		      (unsigned long)total);
	assert_true(total <= 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ioctl_words_match_and_resume,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioctl_words_bad_input,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_netlink_words, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dense_one_flush, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dense_writer_flushes,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
