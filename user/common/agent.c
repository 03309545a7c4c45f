// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rdmigd is started by the VMM, one per migration, like a vhost-user
 * backend: it inherits exactly the fds it needs (regions' transfer views,
 * the control socket, the device-state pipe) and nothing else, because
 * everything else is O_CLOEXEC.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "../lib/util.h"

#define ARGV_MAX (2 * 16 + 2 * AGENT_MAX_ARGS + 24)

int agent_spawn(const struct agent_cfg *cfg, const int *tfds, unsigned int nr,
		struct agent *a)
{
	char nums[16 + 4][16], sizes[2][24];
	const char *argv[ARGV_MAX];
	int sv[2], pp[2], keep[16 + 2], child_state, nkeep = 0, argc = 0;
	unsigned int i;
	pid_t pid;

	if (nr > 16)
		return -EINVAL;
	memset(a, 0, sizeof(*a));
	a->pid = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	if (pipe2(pp, O_CLOEXEC)) {
		int e = errno;

		close(sv[0]);
		close(sv[1]);
		return -e;
	}
	/*
	 * Device state is small, but the source writes it before rdmigd
	 * reads it: make room so that write never waits for the reader.
	 */
	fcntl(pp[1], F_SETPIPE_SZ, 1 << 20);
	a->ctl = sv[0];
	a->state = cfg->source ? pp[1] : pp[0];
	child_state = cfg->source ? pp[0] : pp[1];

	argv[argc++] = cfg->path;
	if (cfg->source) {
		argv[argc++] = "--connect";
		argv[argc++] = cfg->addr;
		if (cfg->bind) {
			argv[argc++] = "--bind";
			argv[argc++] = cfg->bind;
		}
	} else {
		argv[argc++] = "--listen";
		argv[argc++] = cfg->addr;
	}
	for (i = 0; i < nr; i++) {
		snprintf(nums[i], sizeof(nums[i]), "%d", tfds[i]);
		argv[argc++] = "--region";
		argv[argc++] = nums[i];
		keep[nkeep++] = tfds[i];
	}
	snprintf(nums[16], sizeof(nums[16]), "%d", sv[1]);
	argv[argc++] = "--control";
	argv[argc++] = nums[16];
	keep[nkeep++] = sv[1];
	snprintf(nums[17], sizeof(nums[17]), "%d", child_state);
	argv[argc++] = "--state-fd";
	argv[argc++] = nums[17];
	keep[nkeep++] = child_state;
	if (cfg->chunk_size) {
		snprintf(sizes[0], sizeof(sizes[0]), "%llu",
			 (unsigned long long)cfg->chunk_size);
		argv[argc++] = "--chunk-size";
		argv[argc++] = sizes[0];
	}
	if (cfg->pin_budget) {
		snprintf(sizes[1], sizeof(sizes[1]), "%llu",
			 (unsigned long long)cfg->pin_budget);
		argv[argc++] = "--pin-budget";
		argv[argc++] = sizes[1];
	}
	if (cfg->pin_all)
		argv[argc++] = "--pin-all";
	if (cfg->verbose)
		argv[argc++] = "--verbose";
	for (i = 0; i < cfg->nr_extra; i++)
		argv[argc++] = cfg->extra[i];
	argv[argc] = NULL;

	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(sv[0]);
		close(sv[1]);
		close(pp[0]);
		close(pp[1]);
		return -e;
	}
	if (pid == 0) {
		/* Only async-signal-safe calls from here: we may have threads. */
		sigset_t none;
		int k;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(127);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (k = 0; k < nkeep; k++)
			fcntl(keep[k], F_SETFD, 0);
		execv(cfg->path, (char *const *)argv);
		_exit(127);
	}
	close(sv[1]);
	close(child_state);
	a->pid = pid;
	return 0;
}

int agent_reap(struct agent *a, int timeout_ms, int *status)
{
	uint64_t end = rdmig_now_ns() + (uint64_t)timeout_ms * 1000000ULL;
	int st = 0;
	pid_t r;

	if (a->pid <= 0)
		return -ECHILD;
	for (;;) {
		r = waitpid(a->pid, &st, WNOHANG);
		if (r == a->pid)
			break;
		if (r < 0)
			return -errno;
		if (rdmig_now_ns() >= end) {
			kill(a->pid, SIGKILL);
			if (waitpid(a->pid, &st, 0) < 0)
				return -errno;
			break;
		}
		usleep(10000);
	}
	a->pid = -1;
	if (status)
		*status = st;
	return 0;
}

int agent_open(struct agent *a, int timeout_ms, char *err, size_t errlen)
{
	int ret = rdmig_ctl_open(a->ctl, timeout_ms, &a->qmp, err, errlen);

	if (ret)
		a->ctl = -1;	/* closed by rdmig_ctl_open() */
	return ret;
}

void agent_close(struct agent *a)
{
	if (a->qmp)
		rdmig_ctl_close(a->qmp);	/* closes a->ctl */
	else if (a->ctl >= 0)
		close(a->ctl);
	a->qmp = NULL;
	a->ctl = -1;
}

int agent_send(struct agent *a, const char *cmd, json_object *args)
{
	if (!a->qmp) {
		json_object_put(args);
		return -ENOTCONN;
	}
	return rdmig_ctl_send(a->qmp, cmd, args);
}

int agent_recv(struct agent *a, json_object **msg)
{
	*msg = NULL;
	if (!a->qmp)
		return -ENOTCONN;
	return rdmig_ctl_recv(a->qmp, msg, 0);
}
