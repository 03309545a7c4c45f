// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family "rdmig" through librdmig: every command,
 * authority, strict validation with extack messages, and agreement of
 * netlink dirty bitmaps with the ioctl path.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/attr.h>

#include <rdmig/librdmig.h>

#define PAGE 4096UL

static int devfd = -1;
static struct rdmig_nl *nl;

static int setup(void **state)
{
	(void)state;
	devfd = rdmig_dev_open();
	if (devfd < 0 || rdmig_nl_open(&nl))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rdmig_nl_close(nl);
	close(devfd);
	return 0;
}

static void new_region(const char *name, uint64_t pages, uint32_t flags,
		       bool map, struct rdmig_region *r)
{
	assert_int_equal(rdmig_region_create(devfd, name, pages * PAGE, flags,
					     map, r), 0);
}

static void test_version(void **state)
{
	char mod[32];
	uint32_t api = 0;

	(void)state;
	assert_int_equal(rdmig_nl_version(nl, &api, mod, sizeof(mod)), 0);
	assert_int_equal(api, RDMIG_API_VERSION);
	assert_true(strlen(mod) > 0);
}

static void test_region_get_matches_ioctl(void **state)
{
	struct rdmig_region_info info;
	struct rdmig_nl_region nr;
	struct rdmig_region r;

	(void)state;
	new_region("get-me", 64, RDMIG_REGION_F_TRACK, true, &r);
	memset(r.mem, 1, 3 * PAGE);
	assert_int_equal(rdmig_region_info(r.fd, &info), 0);
	assert_int_equal(rdmig_nl_region_get(nl, r.id, &nr), 0);
	assert_int_equal(nr.id, r.id);
	assert_string_equal(nr.name, "get-me");
	assert_true(nr.length == 64 * PAGE);
	assert_int_equal(nr.owner_pid, getpid());
	assert_true(nr.tracking);
	assert_true(nr.present_pages == info.present_pages);
	assert_true(nr.written_pages == 3 && info.written_pages == 3);
	assert_true(nr.dirty_pages == info.dirty_pages);
	rdmig_region_close(&r);
	/* Gone with its last fd and mapping. */
	assert_int_equal(rdmig_nl_region_get(nl, r.id, &nr), -ENOENT);
	assert_non_null(strstr(rdmig_nl_errmsg(nl), "no region"));
}

struct seen {
	uint32_t want;
	int found;
	uint32_t last;
	bool ordered;
};

static int see(const struct rdmig_nl_region *r, void *arg)
{
	struct seen *s = arg;

	if (r->id <= s->last)
		s->ordered = false;
	s->last = r->id;
	if (r->id == s->want)
		s->found++;
	return 0;
}

static void test_dump_lists_region_once(void **state)
{
	struct rdmig_region r;
	struct seen s = { .ordered = true };

	(void)state;
	new_region("dump-me", 1, 0, false, &r);
	s.want = r.id;
	assert_int_equal(rdmig_nl_region_dump(nl, see, &s), 0);
	assert_int_equal(s.found, 1);
	assert_true(s.ordered);
	rdmig_region_close(&r);
}

static void test_set_tracking_and_watermark(void **state)
{
	struct rdmig_nl_region nr;
	struct rdmig_region r;

	(void)state;
	new_region("set-me", 8, 0, false, &r);
	assert_int_equal(rdmig_nl_region_set(nl, r.id, 1, 5), 0);
	assert_int_equal(rdmig_nl_region_get(nl, r.id, &nr), 0);
	assert_true(nr.tracking);
	assert_true(nr.watermark == 5);
	assert_int_equal(rdmig_nl_region_set(nl, r.id, 0, -1), 0);
	assert_int_equal(rdmig_nl_region_get(nl, r.id, &nr), 0);
	assert_false(nr.tracking);
	assert_true(nr.watermark == 5);
	/* Nothing to set is an error with a message. */
	assert_int_equal(rdmig_nl_region_set(nl, r.id, -1, -1), -EINVAL);
	assert_non_null(strstr(rdmig_nl_errmsg(nl), "nothing to set"));
	rdmig_region_close(&r);
}

static void test_stats(void **state)
{
	struct rdmig_nl_stats st;
	struct rdmig_region r;
	uint64_t bm[1];

	(void)state;
	new_region("stats", 64, RDMIG_REGION_F_TRACK, true, &r);
	for (int i = 0; i < 4; i++)
		((char *)r.mem)[i * PAGE] = 1;
	assert_int_equal(rdmig_nl_dirty_get(nl, r.id, 0, 64, true, bm), 4);
	((char *)r.mem)[0] = 2;
	assert_int_equal(rdmig_nl_stats_get(nl, r.id, &st), 0);
	assert_true(st.present_pages == 4);
	assert_true(st.written_pages == 4);
	assert_true(st.dirty_pages == 1);
	assert_true(st.write_faults == 5);
	assert_true(st.rearms >= 4);
	assert_true(st.dirty_gets >= 1);
	assert_true(st.zero_pages == 60);
	rdmig_region_close(&r);
}

static void test_zero_scan(void **state)
{
	struct rdmig_region r;
	uint64_t zero = 0, rec = 0;

	(void)state;
	new_region("zero", 16, 0, true, &r);
	/* Written, but written zeroes: found zero, and given back. */
	memset(r.mem, 0, 4 * PAGE);
	((char *)r.mem)[5 * PAGE] = 7;
	assert_int_equal(rdmig_nl_zero_scan(nl, r.id, 0, 16, false, &zero, &rec), 0);
	assert_true(zero == 4 && rec == 0);
	assert_int_equal(rdmig_nl_zero_scan(nl, r.id, 0, 16, true, &zero, &rec), 0);
	assert_true(zero == 4 && rec == 4);
	assert_int_equal(((char *)r.mem)[5 * PAGE], 7);
	assert_int_equal(rdmig_nl_zero_scan(nl, r.id, 8, 9, false, &zero, &rec),
			 -EINVAL);
	assert_true(strlen(rdmig_nl_errmsg(nl)) > 0);
	rdmig_region_close(&r);
}

/* Same workload, both paths: bitmaps equal, and CLEAR clears those pages. */
static void dirty_agree(uint64_t pages, unsigned int nwrites)
{
	uint64_t words = (pages + 63) / 64, n1, n2;
	uint64_t *a = calloc(words, 8), *b = calloc(words, 8);
	struct rdmig_region r;

	assert_non_null(a);
	assert_non_null(b);
	new_region("agree", pages, RDMIG_REGION_F_TRACK, true, &r);
	srand(42);
	for (unsigned int i = 0; i < nwrites; i++)
		((volatile char *)r.mem)[(uint64_t)rand() % pages * PAGE] = 1;
	((volatile char *)r.mem)[(pages - 1) * PAGE] = 1;

	n1 = (uint64_t)rdmig_dirty_get(r.fd, 0, pages, false, a);
	n2 = (uint64_t)rdmig_nl_dirty_get(nl, r.id, 0, pages, false, b);
	assert_true(n1 > 0 && n1 == n2);
	assert_memory_equal(a, b, words * 8);
	/* Get-and-clear over netlink reports the same pages ... */
	memset(b, 0xff, words * 8);
	assert_int_equal(rdmig_nl_dirty_get(nl, r.id, 0, pages, true, b), n1);
	assert_memory_equal(a, b, words * 8);
	/* ... and afterwards the ioctl sees none. */
	assert_int_equal(rdmig_dirty_get(r.fd, 0, pages, false, a), 0);
	/* A write after the clear is reported again. */
	((volatile char *)r.mem)[3 * PAGE] = 2;
	assert_int_equal(rdmig_nl_dirty_get(nl, r.id, 0, pages, false, b), 1);
	assert_true(b[0] == 1U << 3);
	rdmig_region_close(&r);
	free(a);
	free(b);
}

static void test_dirty_small_agrees_with_ioctl(void **state)
{
	(void)state;
	dirty_agree(4096, 500);		/* one message */
}

static void test_dirty_dump_agrees_with_ioctl(void **state)
{
	(void)state;
	dirty_agree(100000, 3000);	/* a dump of several parts */
}

static void test_dirty_bad_ranges(void **state)
{
	struct rdmig_region r;
	uint64_t bm[4];

	(void)state;
	new_region("ranges", 100, RDMIG_REGION_F_TRACK, false, &r);
	assert_int_equal(rdmig_nl_dirty_get(nl, r.id, 1, 64, false, bm), -EINVAL);
	assert_true(strlen(rdmig_nl_errmsg(nl)) > 0);
	assert_int_equal(rdmig_nl_dirty_get(nl, r.id, 64, 64, false, bm), -EINVAL);
	assert_int_equal(rdmig_nl_dirty_get(nl, r.id, 0, 100, false, bm), 0);
	assert_int_equal(rdmig_nl_dirty_get(nl, r.id, 64, 36, true, bm), 0);
	/* The dump checks the whole range before clearing anything. */
	assert_int_equal(rdmig_nl_dirty_get(nl, r.id, 0, 40000, true, bm),
			 -EINVAL);
	assert_non_null(strstr(rdmig_nl_errmsg(nl), "range"));
	/* CLEAR needs tracking on. */
	assert_int_equal(rdmig_region_set_tracking(r.fd, false), 0);
	assert_int_equal(rdmig_nl_dirty_get(nl, r.id, 0, 100, true, bm), -EINVAL);
	rdmig_region_close(&r);
}

/* ---- malformed requests, sent raw ---------------------------------------- */

static struct nl_msg *raw(uint8_t cmd)
{
	struct nl_msg *msg = nlmsg_alloc();

	assert_non_null(msg);
	assert_non_null(genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ,
				    rdmig_nl_family_id(nl), 0, 0, cmd,
				    RDMIG_GENL_VERSION));
	return msg;
}

static void expect_rejected(struct nl_msg *msg, int err, const char *text)
{
	assert_int_equal(rdmig_nl_request_raw(nl, msg), err);
	if (text) {
		if (!strstr(rdmig_nl_errmsg(nl), text))
			fail_msg("extack \"%s\" lacks \"%s\"",
				 rdmig_nl_errmsg(nl), text);
	}
}

static void test_malformed_attributes(void **state)
{
	struct rdmig_region r;
	struct nl_msg *m;

	(void)state;
	new_region("malformed", 64, RDMIG_REGION_F_TRACK, false, &r);

	/* A u32 sent as a u64. */
	m = raw(RDMIG_CMD_REGION_GET);
	nla_put_u64(m, RDMIG_A_REGION_ID, r.id);
	expect_rejected(m, -EINVAL, "length");

	/* An attribute number beyond the family's. */
	m = raw(RDMIG_CMD_REGION_GET);
	nla_put_u32(m, RDMIG_A_REGION_ID, r.id);
	nla_put_u32(m, RDMIG_A_MAX + 1, 0);
	expect_rejected(m, -EINVAL, "Unknown attribute");

	/* A known attribute this command does not take. */
	m = raw(RDMIG_CMD_REGION_SET);
	nla_put_u32(m, RDMIG_A_REGION_ID, r.id);
	nla_put_u32(m, RDMIG_A_API_VERSION, 1);
	expect_rejected(m, -EINVAL, "Unsupported");

	/* VERSION_GET takes no attribute at all. */
	m = raw(RDMIG_CMD_VERSION_GET);
	nla_put_u32(m, RDMIG_A_REGION_ID, r.id);
	assert_true(rdmig_nl_request_raw(nl, m) < 0);

	/* Missing required attributes. */
	m = raw(RDMIG_CMD_REGION_SET);
	nla_put_u8(m, RDMIG_A_REGION_TRACKING, 1);
	expect_rejected(m, -EINVAL, "region id is required");
	m = raw(RDMIG_CMD_DIRTY_GET);
	nla_put_u32(m, RDMIG_A_REGION_ID, r.id);
	nla_put_u64(m, RDMIG_A_FIRST_PAGE, 0);
	expect_rejected(m, -EINVAL, "number of pages is required");
	m = raw(RDMIG_CMD_ZERO_SCAN);
	nla_put_u32(m, RDMIG_A_REGION_ID, r.id);
	nla_put_u64(m, RDMIG_A_NPAGES, 1);
	expect_rejected(m, -EINVAL, "first page is required");

	/* Values out of the policy's range. */
	m = raw(RDMIG_CMD_REGION_SET);
	nla_put_u32(m, RDMIG_A_REGION_ID, r.id);
	nla_put_u8(m, RDMIG_A_REGION_TRACKING, 2);
	expect_rejected(m, -ERANGE, NULL);
	m = raw(RDMIG_CMD_DIRTY_GET);
	nla_put_u32(m, RDMIG_A_REGION_ID, r.id);
	nla_put_u64(m, RDMIG_A_FIRST_PAGE, 0);
	nla_put_u64(m, RDMIG_A_NPAGES, 64);
	nla_put_u32(m, RDMIG_A_FLAGS, 0x80);
	expect_rejected(m, -EINVAL, NULL);
	m = raw(RDMIG_CMD_DIRTY_GET);
	nla_put_u32(m, RDMIG_A_REGION_ID, r.id);
	nla_put_u64(m, RDMIG_A_FIRST_PAGE, 0);
	nla_put_u64(m, RDMIG_A_NPAGES, 0);
	expect_rejected(m, -ERANGE, NULL);

	/* A bitmap request too large for one message must be a dump. */
	m = raw(RDMIG_CMD_DIRTY_GET);
	nla_put_u32(m, RDMIG_A_REGION_ID, r.id);
	nla_put_u64(m, RDMIG_A_FIRST_PAGE, 0);
	nla_put_u64(m, RDMIG_A_NPAGES, RDMIG_NL_DIRTY_DOIT_MAX_PAGES + 64);
	expect_rejected(m, -EMSGSIZE, "NLM_F_DUMP");

	/* No such command. */
	m = raw(RDMIG_CMD_MAX + 1);
	assert_true(rdmig_nl_request_raw(nl, m) < 0);

	/* After all that, the region is untouched and the socket usable. */
	{
		struct rdmig_nl_region nr;

		assert_int_equal(rdmig_nl_region_get(nl, r.id, &nr), 0);
		assert_true(nr.tracking);
	}
	rdmig_region_close(&r);
}

/* ---- authority --------------------------------------------------------------- */

static void become_nobody(void)
{
	if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
		_exit(90);
}

/* Child: an unprivileged process with no bound port, then bound. */
static int nobody_checks(uint32_t id, int tfd)
{
	struct rdmig_nl *mine;
	struct rdmig_nl_region nr;
	uint64_t bm[1];

	become_nobody();
	if (rdmig_nl_open(&mine))
		return 1;
	/* Someone else's region: invisible without CAP_NET_ADMIN. */
	if (rdmig_nl_region_get(mine, id, &nr) != -EPERM ||
	    !strstr(rdmig_nl_errmsg(mine), "CAP_NET_ADMIN"))
		return 2;
	if (rdmig_nl_region_set(mine, id, 0, -1) != -EPERM ||
	    !strstr(rdmig_nl_errmsg(mine), "not bound"))
		return 3;
	if (rdmig_nl_dirty_get(mine, id, 0, 64, true, bm) != -EPERM)
		return 4;
	if (rdmig_nl_dirty_get(mine, id, 0, 64, false, bm) != -EPERM)
		return 5;
	if (rdmig_nl_zero_scan(mine, id, 0, 64, true, NULL, NULL) != -EPERM)
		return 6;
	/* Holding the transfer fd gives the authority to bind. */
	if (rdmig_bind_netlink(tfd, rdmig_nl_fd(mine)))
		return 7;
	if (rdmig_nl_region_get(mine, id, &nr) || !nr.tracking ||
	    nr.bound_portid != rdmig_nl_portid(mine))
		return 8;
	if (rdmig_nl_dirty_get(mine, id, 0, 64, true, bm) != 1)
		return 9;
	if (rdmig_nl_region_set(mine, id, 1, 3))
		return 10;
	rdmig_nl_close(mine);
	return 0;
}

static void test_authority_and_unbind_on_close(void **state)
{
	struct rdmig_nl_region nr;
	struct rdmig_region r;
	int tfd, status;
	pid_t pid;

	(void)state;
	new_region("authority", 64, RDMIG_REGION_F_TRACK, true, &r);
	((char *)r.mem)[0] = 1;
	tfd = rdmig_transfer_fd(r.fd);
	assert_true(tfd >= 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(nobody_checks(r.id, tfd));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* The child's socket is closed: its port is unbound. */
	assert_int_equal(rdmig_nl_region_get(nl, r.id, &nr), 0);
	assert_int_equal(nr.bound_portid, 0);
	assert_true(nr.watermark == 3);
	close(tfd);
	rdmig_region_close(&r);
}

/* ---- events --------------------------------------------------------------- */

static int next_event(struct rdmig_nl_events *ev, struct rdmig_nl_event *e,
		      enum rdmig_nl_event_type type, uint32_t id)
{
	for (int i = 0; i < 50; i++) {
		int n = rdmig_nl_events_recv(ev, e, 2000);

		if (n <= 0)
			return n;
		if (e->type == type && e->region_id == id)
			return 1;
	}
	return 0;
}

static void test_events(void **state)
{
	struct rdmig_nl_events *ev;
	struct rdmig_nl_event e;
	struct rdmig_region r;
	uint64_t bm[2];
	uint32_t id;

	(void)state;
	assert_int_equal(rdmig_nl_events_open(&ev), 0);
	new_region("events", 128, RDMIG_REGION_F_TRACK, true, &r);
	id = r.id;
	assert_int_equal(next_event(ev, &e, RDMIG_EV_REGION_NEW, id), 1);
	assert_string_equal(e.name, "events");
	assert_true(e.length == 128 * PAGE);

	assert_int_equal(rdmig_nl_region_set(nl, id, -1, 10), 0);
	for (int i = 0; i < 9; i++)
		((char *)r.mem)[i * PAGE] = 1;
	assert_int_equal(rdmig_nl_events_recv(ev, &e, 300), 0);
	((char *)r.mem)[9 * PAGE] = 1;
	assert_int_equal(next_event(ev, &e, RDMIG_EV_DIRTY_WATERMARK, id), 1);
	assert_true(e.dirty_pages == 10);
	/* Once per crossing: more writes do not repeat it ... */
	((char *)r.mem)[10 * PAGE] = 1;
	assert_int_equal(rdmig_nl_events_recv(ev, &e, 300), 0);
	/* ... until a get-and-clear brings the count below again. */
	assert_int_equal(rdmig_nl_dirty_get(nl, id, 0, 128, true, bm), 11);
	for (int i = 20; i < 30; i++)
		((char *)r.mem)[i * PAGE] = 1;
	assert_int_equal(next_event(ev, &e, RDMIG_EV_DIRTY_WATERMARK, id), 1);

	rdmig_region_close(&r);
	assert_int_equal(next_event(ev, &e, RDMIG_EV_REGION_DEL, id), 1);
	assert_string_equal(e.name, "events");
	rdmig_nl_events_close(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_region_get_matches_ioctl),
		cmocka_unit_test(test_dump_lists_region_once),
		cmocka_unit_test(test_set_tracking_and_watermark),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_zero_scan),
		cmocka_unit_test(test_dirty_small_agrees_with_ioctl),
		cmocka_unit_test(test_dirty_dump_agrees_with_ioctl),
		cmocka_unit_test(test_dirty_bad_ranges),
		cmocka_unit_test(test_malformed_attributes),
		cmocka_unit_test(test_authority_and_unbind_on_close),
		cmocka_unit_test(test_events),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
