// SPDX-License-Identifier: GPL-2.0
/*
 * qmp_pair: the "VMM" of tests/guest/31-qmp.sh, with no vCPUs. It owns a
 * source region of static content and an empty destination region,
 * starts a destination and a source rdmigd, each with --control-path,
 * and leaves their control channels to a QMP client it did not write
 * (QEMU's python QMP library, tests/guest/qmp_drive.py). The device state
 * is written to the source's state pipe up front, so the pause step is
 * an immediate acknowledgement. When both agents have exited it checks
 * the destination byte for byte against the source.
 *
 *   qmp_pair --src-ctl PATH --dst-ctl PATH [--mib N] [--port P]
 *            [--state BYTES] [--timeout S] [--listen ADDR:PORT] [--only-dest]
 *
 * Exits 0 when both agents exited 0 and memory and device state match.
 * With --only-dest only the destination is started (listening on
 * --listen, default 198.18.0.2:PORT) and its exit status is printed; the
 * program then exits 0 when the agent exited non-zero (a test of how a
 * destination fails before any client connects).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rdmig/librdmig.h>

#define PAGE 4096u

static void die(const char *what)
{
	fprintf(stderr, "qmp_pair: %s: %s\n", what, strerror(errno));
	exit(1);
}

static pid_t spawn(char **argv, const int *keep, int nkeep)
{
	pid_t pid = fork();

	if (pid == 0) {
		int i;

		for (i = 0; i < nkeep; i++)
			fcntl(keep[i], F_SETFD, 0);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Waits for @pid up to @deadline (monotonic s); kills it after. */
static int reap(pid_t pid, time_t deadline, const char *who)
{
	struct timespec t;
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (r < 0 || t.tv_sec >= deadline) {
			fprintf(stderr, "qmp_pair: %s agent still running, killing it\n", who);
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return 128 + SIGKILL;
		}
		usleep(20000);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "src-ctl", 1, 0, 's' }, { "dst-ctl", 1, 0, 'd' }, { "mib", 1, 0, 'm' },
		{ "port", 1, 0, 'p' }, { "state", 1, 0, 'S' }, { "timeout", 1, 0, 't' },
		{ "bin", 1, 0, 'b' }, { "listen", 1, 0, 'l' }, { "only-dest", 0, 0, 'D' }, { 0 },
	};
	const char *sctl = NULL, *dctl = NULL, *port = "18630", *bin = "build/rdmigd", *listen = NULL;
	bool only_dest = false;
	uint64_t mib = 16, state_len = 4096, len, p;
	struct rdmig_region src, dst;
	char sfd[16], dfd[16], sst[16], dstf[16], addr[64];
	int devfd, o, spipe[2], dpipe[2], skeep[2], dkeep[2], timeout = 120, rc = 0;
	int sx, dx;
	uint8_t *state, *got;
	ssize_t k, n = 0;
	struct timespec t;
	pid_t sp, dp;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 's': sctl = optarg; break;
		case 'd': dctl = optarg; break;
		case 'm': mib = strtoull(optarg, NULL, 0); break;
		case 'p': port = optarg; break;
		case 'S': state_len = strtoull(optarg, NULL, 0); break;
		case 't': timeout = atoi(optarg); break;
		case 'b': bin = optarg; break;
		case 'l': listen = optarg; break;
		case 'D': only_dest = true; break;
		default:
			fprintf(stderr, "usage: qmp_pair --src-ctl PATH --dst-ctl PATH [--mib N] [--port P] [--state BYTES]\n");
			return 2;
		}
	}
	if ((!sctl && !only_dest) || !dctl || !mib || state_len > 65536) {
		fprintf(stderr, "qmp_pair: --src-ctl and --dst-ctl are required; --state at most 65536\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	len = mib << 20;
	devfd = rdmig_dev_open();
	if (devfd < 0)
		die("cannot open /dev/rdmig");
	if (rdmig_region_create(devfd, "qmp-src", len, 0, true, &src) ||
	    rdmig_region_create(devfd, "qmp-dst", len, 0, true, &dst))
		die("region create");
	/* Static content: half the pages carry a pattern, the rest stay never written. */
	for (p = 0; p < len / PAGE / 2; p++) {
		uint64_t *q = (uint64_t *)((uint8_t *)src.mem + p * PAGE);

		q[0] = p * 2654435761u + 1;
		q[PAGE / 8 - 1] = ~p;
	}
	if (pipe2(spipe, O_CLOEXEC) || pipe2(dpipe, O_CLOEXEC))
		die("pipe");
	state = malloc(state_len + 1);
	got = malloc(state_len + 1);
	if (!state || !got)
		die("malloc");
	for (p = 0; p < state_len; p++)
		state[p] = (uint8_t)(p * 13 + 5);
	/* The "paused VM's" device state, in the pipe before the agent reads it. */
	if (write(spipe[1], state, state_len) != (ssize_t)state_len)
		die("state write");
	close(spipe[1]);

	snprintf(addr, sizeof(addr), "198.18.0.2:%s", port);
	dkeep[0] = rdmig_transfer_fd(dst.fd);
	dkeep[1] = dpipe[1];
	snprintf(dfd, sizeof(dfd), "%d", dkeep[0]);
	snprintf(dstf, sizeof(dstf), "%d", dkeep[1]);
	{
		char *dargv[] = { (char *)bin, "--listen", listen ? (char *)listen : addr, "--region", dfd,
				  "--control-path", (char *)dctl, "--state-fd", dstf, NULL };

		dp = spawn(dargv, dkeep, 2);
	}
	close(dpipe[1]);
	if (only_dest) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		dx = reap(dp, t.tv_sec + timeout, "destination");
		printf("destination exit %d\n", dx);
		return dx ? 0 : 1;
	}
	usleep(500000);	/* let it listen */
	skeep[0] = rdmig_transfer_fd(src.fd);
	skeep[1] = spipe[0];
	snprintf(sfd, sizeof(sfd), "%d", skeep[0]);
	snprintf(sst, sizeof(sst), "%d", skeep[1]);
	{
		char *sargv[] = { (char *)bin, "--connect", addr, "--bind", "198.18.0.1",
				  "--region", sfd, "--control-path", (char *)sctl,
				  "--state-fd", sst, NULL };

		sp = spawn(sargv, skeep, 2);
	}
	close(spipe[0]);
	printf("agents started: source pid %d, destination pid %d\n", (int)sp, (int)dp);

	clock_gettime(CLOCK_MONOTONIC, &t);
	sx = reap(sp, t.tv_sec + timeout, "source");
	/* As a VMM would: a failed source means the destination gives up. */
	if (sx) {
		printf("source failed: stopping the destination agent\n");
		kill(dp, SIGTERM);
	}
	/* The destination's state, read to EOF (it closes it before completed). */
	while ((k = read(dpipe[0], got + n, state_len + 1 - (size_t)n)) > 0)
		n += k;
	dx = reap(dp, t.tv_sec + timeout, "destination");
	printf("source exit %d, destination %s %d\n", sx, dx > 128 ? "signal" : "exit",
	       dx > 128 ? dx - 128 : dx);
	if (sx || dx)
		rc = 1;
	if (memcmp(src.mem, dst.mem, len)) {
		for (p = 0; p < len / PAGE; p++)
			if (memcmp((uint8_t *)src.mem + p * PAGE, (uint8_t *)dst.mem + p * PAGE, PAGE))
				break;
		printf("memory differs first at page %llu\n", (unsigned long long)p);
		rc = 1;
	} else {
		printf("memory equal (%llu bytes)\n", (unsigned long long)len);
	}
	if ((uint64_t)n != state_len || memcmp(got, state, state_len)) {
		printf("device state differs (%zd bytes of %llu)\n", n, (unsigned long long)state_len);
		rc = 1;
	} else {
		printf("device state equal (%zd bytes)\n", n);
	}
	return rc;
}
