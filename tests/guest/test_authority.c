// SPDX-License-Identifier: GPL-2.0
/*
 * Netlink authority and events (tests/guest/21-authority.sh): authority is
 * the bound socket itself, never its port number; the events group is for
 * privileged listeners in the init network namespace only.
 *
 * Unprivileged steps run in forked children that drop to nobody; they
 * report by exit status (0 = as expected, N = check N failed).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include <rdmig/librdmig.h>

#define PAGE 4096UL
#define NOBODY 65534

static int devfd = -1;
static struct rdmig_nl *nl;	/* root's, CAP_NET_ADMIN: for checking */

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

static void become_nobody(void)
{
	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		_exit(90);
}

static int wait_child(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/*
 * A generic netlink socket of the caller's own, bound to @port (0: the
 * kernel picks one), with the family resolved into *family.
 */
static struct nl_sock *port_sock(uint32_t port, int *family)
{
	struct nl_sock *sk = nl_socket_alloc();

	if (!sk)
		return NULL;
	if (port)
		nl_socket_set_local_port(sk, port);
	if (genl_connect(sk) < 0) {
		nl_socket_free(sk);
		return NULL;
	}
	*family = genl_ctrl_resolve(sk, RDMIG_GENL_NAME);
	if (*family < 0) {
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

/*
 * Acts on region @id over @sk: REGION_SET (tracking off) or DIRTY_GET with
 * CLEAR of the first 64 pages. Returns 0 or the kernel's -errno.
 */
static int act(struct nl_sock *sk, int family, uint8_t cmd, uint32_t id)
{
	struct nl_msg *msg = nlmsg_alloc();
	int err;

	if (!msg)
		return -ENOMEM;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0,
			 NLM_F_ACK, cmd, RDMIG_GENL_VERSION) ||
	    nla_put_u32(msg, RDMIG_A_REGION_ID, id)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	if (cmd == RDMIG_CMD_REGION_SET) {
		nla_put_u8(msg, RDMIG_A_REGION_TRACKING, 0);
	} else {
		nla_put_u64(msg, RDMIG_A_FIRST_PAGE, 0);
		nla_put_u64(msg, RDMIG_A_NPAGES, 64);
		nla_put_u32(msg, RDMIG_A_FLAGS, RDMIG_DIRTY_F_CLEAR);
	}
	err = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	if (err < 0)
		return -EIO;
	err = nl_wait_for_ack(sk);
	if (err == -NLE_PERM)
		return -EPERM;
	return err < 0 ? -EIO : 0;
}

/* Both ways of acting are refused on @sk. */
static bool refused(struct nl_sock *sk, int family, uint32_t id)
{
	return act(sk, family, RDMIG_CMD_REGION_SET, id) == -EPERM &&
	       act(sk, family, RDMIG_CMD_DIRTY_GET, id) == -EPERM;
}

static int bind_fd(int tfd, int sock_fd)
{
	struct rdmig_bind b = { .size = sizeof(b), .sock_fd = sock_fd };

	return ioctl(tfd, RDMIG_BIND_NETLINK, &b) ? -errno : 0;
}

/* A tracked region of 64 pages with page 0 dirty, and its transfer fd. */
static void dirty_region(const char *name, struct rdmig_region *r, int *tfd)
{
	assert_int_equal(rdmig_region_create(devfd, name, 64 * PAGE,
					     RDMIG_REGION_F_TRACK, true, r), 0);
	((char *)r->mem)[0] = 1;
	*tfd = rdmig_transfer_fd(r->fd);
	assert_true(*tfd >= 0);
}

/* Nothing was done to the region: tracking on, page 0 still dirty. */
static void assert_untouched(struct rdmig_region *r)
{
	struct rdmig_region_info info = { .size = sizeof(info) };

	assert_int_equal(rdmig_region_info(r->fd, &info), 0);
	assert_true(info.flags & RDMIG_INFO_F_TRACKING);
	assert_int_equal(info.dirty_pages, 1);
}

/* ---- authority ------------------------------------------------------------ */

/* Child: nobody takes port @port and tries to act on region @id. */
static int take_port_and_act(uint32_t port, uint32_t id)
{
	struct nl_sock *sk;
	int family;

	become_nobody();
	sk = port_sock(port, &family);
	if (!sk)
		return 1;
	if (!refused(sk, family, id)) {
		fprintf(stderr, "nobody's socket on port %u acted on region %u\n",
			nl_socket_get_local_port(sk), id);
		return 2;
	}
	nl_socket_free(sk);
	return 0;
}

/*
 * The exploit of issue 9: root bound a region to a port number nobody
 * held; an unprivileged user took that port and cleared the owner's
 * dirty bits. A port number is no longer something one can bind to.
 */
static void test_port_nobody_holds(void **state)
{
	const int unused = 4242;
	struct rdmig_region r;
	pid_t pid;
	int tfd, err;

	(void)state;
	dirty_region("auth-noport", &r, &tfd);
	assert_int_equal(fcntl(unused, F_GETFD), -1);
	/* The old uapi took this field as a port id. */
	err = bind_fd(tfd, unused);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(take_port_and_act(unused, r.id));
	assert_int_equal(wait_child(pid), 0);
	assert_untouched(&r);
	assert_int_equal(err, -EBADF);
	close(tfd);
	rdmig_region_close(&r);
}

/*
 * Root binds its own socket by fd. Another process has no authority, not
 * with a socket of its own, not with one whose port is the number root
 * passed, and not with the bound socket's port once that socket is closed.
 */
static void test_bound_socket_only(void **state)
{
	struct rdmig_nl_region nr;
	struct rdmig_region r;
	struct nl_sock *sk;
	int tfd, family;
	uint32_t port;
	pid_t pid;

	(void)state;
	dirty_region("auth-root", &r, &tfd);
	sk = port_sock(0, &family);
	assert_non_null(sk);
	port = nl_socket_get_local_port(sk);
	assert_int_equal(bind_fd(tfd, nl_socket_get_fd(sk)), 0);

	/* The fd number is not a port either. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(take_port_and_act((uint32_t)nl_socket_get_fd(sk), r.id));
	assert_int_equal(wait_child(pid), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(take_port_and_act(0, r.id));
	assert_int_equal(wait_child(pid), 0);
	assert_untouched(&r);
	assert_int_equal(rdmig_nl_region_get(nl, r.id, &nr), 0);
	assert_int_equal(nr.bound_portid, port);

	/* Closing the bound socket unbinds; its port gives nothing. */
	nl_socket_free(sk);
	assert_int_equal(rdmig_nl_region_get(nl, r.id, &nr), 0);
	assert_int_equal(nr.bound_portid, 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(take_port_and_act(port, r.id));
	assert_int_equal(wait_child(pid), 0);
	assert_untouched(&r);
	close(tfd);
	rdmig_region_close(&r);
}

/*
 * Child, unprivileged: the transfer fd is the authority to bind its own
 * socket; that socket may act, another may not; once it is closed, a new
 * socket that takes the same port may not either.
 */
static int nobody_bound(int tfd, uint32_t id)
{
	struct nl_sock *sk, *other;
	int family;
	uint32_t port;

	become_nobody();
	sk = port_sock(0, &family);
	other = port_sock(0, &family);
	if (!sk || !other)
		return 1;
	port = nl_socket_get_local_port(sk);
	if (bind_fd(tfd, nl_socket_get_fd(sk)))
		return 2;
	if (!refused(other, family, id))
		return 3;
	if (act(sk, family, RDMIG_CMD_DIRTY_GET, id))
		return 4;
	nl_socket_free(sk);
	/* The same port id, on a new socket: no authority. */
	sk = port_sock(port, &family);
	if (!sk)
		return 5;
	if (nl_socket_get_local_port(sk) != port)
		return 6;
	if (!refused(sk, family, id))
		return 7;
	/* Nor by binding its port's number as if it were a socket. */
	if (bind_fd(tfd, (int)port) == 0 && !refused(sk, family, id))
		return 8;
	nl_socket_free(sk);
	nl_socket_free(other);
	return 0;
}

static void test_unprivileged_port_reuse(void **state)
{
	struct rdmig_region_info info = { .size = sizeof(info) };
	struct rdmig_region r;
	pid_t pid;
	int tfd;

	(void)state;
	dirty_region("auth-reuse", &r, &tfd);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(nobody_bound(tfd, r.id));
	assert_int_equal(wait_child(pid), 0);
	/* The child's one allowed get-and-clear took page 0, nothing else. */
	assert_int_equal(rdmig_region_info(r.fd, &info), 0);
	assert_true(info.flags & RDMIG_INFO_F_TRACKING);
	assert_int_equal(info.dirty_pages, 0);
	close(tfd);
	rdmig_region_close(&r);
}

/* ---- events --------------------------------------------------------------- */

/* Waits up to @ms for an event of @type about region @id. */
static bool got_event(struct rdmig_nl_events *ev, enum rdmig_nl_event_type type,
		      uint32_t id, int ms)
{
	struct rdmig_nl_event e;

	for (int i = 0; i < 50; i++) {
		int n = rdmig_nl_events_recv(ev, &e, ms);

		if (n <= 0)
			return false;
		if (e.type == type && e.region_id == id)
			return true;
	}
	return false;
}

static void test_events_root(void **state)
{
	struct rdmig_nl_events *ev;
	struct rdmig_region r;
	uint32_t id;

	(void)state;
	assert_int_equal(rdmig_nl_events_open(&ev), 0);
	assert_int_equal(rdmig_region_create(devfd, "ev-root", 4 * PAGE, 0,
					     false, &r), 0);
	id = r.id;
	assert_true(got_event(ev, RDMIG_EV_REGION_NEW, id, 3000));
	rdmig_region_close(&r);
	assert_true(got_event(ev, RDMIG_EV_REGION_DEL, id, 3000));
	rdmig_nl_events_close(ev);
}

static int nobody_join(void)
{
	struct rdmig_nl_events *ev;
	int err;

	become_nobody();
	err = rdmig_nl_events_open(&ev);
	if (err == 0) {
		rdmig_nl_events_close(ev);
		return 1;
	}
	return err == -EPERM ? 0 : 2;
}

/* Joining the group in the init netns needs CAP_NET_ADMIN: EPERM. */
static void test_events_nobody_refused(void **state)
{
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(nobody_join());
	assert_int_equal(wait_child(pid), 0);
}

/*
 * The test guest runs chrooted into the host's root, and a chrooted
 * process may not create a user namespace (EPERM). The child (root, with
 * CAP_SYS_CHROOT) therefore makes the namespace's root its own again: a
 * chroot into a subdirectory with the working directory left outside it,
 * then up to the top. It needs no file afterwards: its code is mapped and
 * netlink needs no path.
 */
static int unchroot(void)
{
	char dir[] = "/tmp/rdmig-root.XXXXXX";
	int i, top;

	top = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (top < 0 || !mkdtemp(dir) || chroot(dir) || fchdir(top))
		return -1;
	for (i = 0; i < 64; i++)
		if (chdir(".."))
			return -1;
	close(top);
	return chroot(".");
}

/*
 * Child: nobody in a user and network namespace of its own, where it has
 * CAP_NET_ADMIN and so may join; it tells @ready, then must receive no
 * event in the 3 s during which the parent creates and destroys a region.
 */
static int netns_listener(int ready)
{
	struct rdmig_nl_events *ev;
	struct rdmig_nl_event e;
	int n;

	if (unchroot()) {
		perror("netns listener: leaving the chroot");
		return 6;
	}
	become_nobody();
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET)) {
		perror("netns listener: unshare");
		return 1;
	}
	n = rdmig_nl_events_open(&ev);
	if (n) {
		fprintf(stderr, "netns listener: join: %s\n", strerror(-n));
		return 2;
	}
	if (write(ready, "x", 1) != 1)
		return 3;
	n = rdmig_nl_events_recv(ev, &e, 3000);
	rdmig_nl_events_close(ev);
	if (n > 0) {
		fprintf(stderr, "netns listener saw event %d for region %u \"%s\"\n",
			e.type, e.region_id, e.name);
		return 4;
	}
	return n == 0 ? 0 : 5;
}

static void test_events_other_netns(void **state)
{
	struct rdmig_nl_events *ev;
	struct rdmig_region r;
	int fds[2];
	uint32_t id;
	char c;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		_exit(netns_listener(fds[1]));
	}
	close(fds[1]);
	if (read(fds[0], &c, 1) != 1)
		assert_int_equal(wait_child(pid), 0);	/* says why */
	close(fds[0]);
	/* Root in the init netns sees what the other listener must not. */
	assert_int_equal(rdmig_nl_events_open(&ev), 0);
	assert_int_equal(rdmig_region_create(devfd, "ev-secret", 4 * PAGE, 0,
					     false, &r), 0);
	id = r.id;
	assert_true(got_event(ev, RDMIG_EV_REGION_NEW, id, 3000));
	rdmig_region_close(&r);
	assert_true(got_event(ev, RDMIG_EV_REGION_DEL, id, 3000));
	rdmig_nl_events_close(ev);
	assert_int_equal(wait_child(pid), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port_nobody_holds),
		cmocka_unit_test(test_bound_socket_only),
		cmocka_unit_test(test_unprivileged_port_reuse),
		cmocka_unit_test(test_events_root),
		cmocka_unit_test(test_events_nobody_refused),
		cmocka_unit_test(test_events_other_netns),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
