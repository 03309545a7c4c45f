// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The guest as rdmig-qemu holds it: one region per memory backend, QEMU
 * started on them (each region's fd inherited, opened again by QEMU as
 * /proc/self/fd/N), and QEMU's monitor over librdmig's QMP client, which
 * speaks to QEMU as well as to rdmigd.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "qemu.h"

uint64_t wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t qmp_event_us(json_object *msg)
{
	json_object *t, *s, *u;

	if (!json_object_object_get_ex(msg, "timestamp", &t) ||
	    !json_object_object_get_ex(t, "seconds", &s) ||
	    !json_object_object_get_ex(t, "microseconds", &u))
		return 0;
	return (uint64_t)json_object_get_int64(s) * 1000000ULL +
	       (uint64_t)json_object_get_int64(u);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int create_regions(struct vm *vm, char *err, size_t len)
{
	int dev = rdmig_dev_open();
	unsigned int i;

	if (dev < 0) {
		snprintf(err, len, "cannot open /dev/rdmig: %s (is rdmig.ko loaded, are you in group rdmig?)",
			 strerror(-dev));
		return dev;
	}
	for (i = 0; i < vm->qa.n; i++) {
		char name[RDMIG_NAME_LEN];
		int ret;

		snprintf(name, sizeof(name), "%s:%s", vm->o->name ? vm->o->name : "qemu",
			 vm->qa.b[i].id);
		ret = rdmig_region_create(dev, name, vm->qa.b[i].size, 0, false, &vm->r[i]);
		if (ret) {
			snprintf(err, len, "cannot create a region of %llu bytes for backend %s: %s",
				 (unsigned long long)vm->qa.b[i].size, vm->qa.b[i].id,
				 strerror(-ret));
			close(dev);
			return ret;
		}
		vm->nr++;
	}
	close(dev);
	return 0;
}

int transfer_fds(const struct vm *vm, int *fds)
{
	int rfds[QARGS_MAX_BACKENDS];
	unsigned int i;

	for (i = 0; i < vm->nr; i++)
		rfds[i] = vm->r[i].fd;
	return rdmig_transfer_fds(rfds, vm->nr, fds);
}

static int spawn_qemu(struct vm *vm, char **argv, char *err, size_t len)
{
	pid_t pid;
	unsigned int i;

	pid = fork();
	if (pid < 0) {
		snprintf(err, len, "fork: %s", strerror(errno));
		return -errno;
	}
	if (pid == 0) {
		sigset_t none;

		/* The guest belongs to this rdmig-qemu, as a VM to libvirt's. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		for (i = 0; i < vm->nr; i++)
			fcntl(vm->r[i].fd, F_SETFD, 0);
		execvp(argv[0], argv);
		fprintf(stderr, "rdmig-qemu: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	vm->qemu_pid = pid;
	return 0;
}

bool vm_reap(struct vm *vm)
{
	int st;

	if (vm->qemu_gone)
		return true;
	if (vm->qemu_pid <= 0)
		return true;
	if (waitpid(vm->qemu_pid, &st, WNOHANG) == vm->qemu_pid) {
		vm->qemu_status = st;
		vm->qemu_gone = true;
	}
	return vm->qemu_gone;
}

int vm_boot(struct vm *vm, const struct opts *o, bool incoming, char *err, size_t len)
{
	int fds[QARGS_MAX_BACKENDS];
	const char *extra[8];
	char qmparg[128], sock[96];
	uint64_t end;
	char **argv;
	unsigned int i, k = 0;
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->o = o;
	vm->qemu_pid = -1;
	if (qargs_parse(o->qemu_argc, (char **)o->qemu_argv, &vm->qa, err, len))
		return -EINVAL;
	ret = create_regions(vm, err, len);
	if (ret)
		return ret;
	snprintf(vm->dir, sizeof(vm->dir), "/tmp/rdmig-qemu.XXXXXX");
	if (!mkdtemp(vm->dir)) {
		snprintf(err, len, "mkdtemp: %s", strerror(errno));
		vm->dir[0] = '\0';
		return -errno;
	}
	snprintf(sock, sizeof(sock), "%s/qmp.sock", vm->dir);
	snprintf(qmparg, sizeof(qmparg), "unix:%s,server=on,wait=off", sock);
	extra[k++] = "-qmp";
	extra[k++] = qmparg;
	if (incoming) {
		/* Paused until both streams are in; device state by migrate-incoming. */
		extra[k++] = "-S";
		extra[k++] = "-incoming";
		extra[k++] = "defer";
	}
	extra[k] = NULL;
	for (i = 0; i < vm->nr; i++)
		fds[i] = vm->r[i].fd;
	argv = qargs_build(&vm->qa, fds, extra);
	if (!argv) {
		snprintf(err, len, "out of memory");
		return -ENOMEM;
	}
	if (o->verbose) {
		fprintf(stderr, "rdmig-qemu: starting");
		for (i = 0; argv[i]; i++)
			fprintf(stderr, " %s", argv[i]);
		fputc('\n', stderr);
	}
	ret = spawn_qemu(vm, argv, err, len);
	qargs_argv_free(argv);
	if (ret)
		return ret;
	if (o->pidfile) {
		FILE *f = fopen(o->pidfile, "w");

		if (f) {
			fprintf(f, "%d\n", (int)vm->qemu_pid);
			fclose(f);
		}
	}
	/* QEMU creates its monitor socket early; wait for it (or its death). */
	end = rdmig_now_us() + QEMU_QMP_MS * 1000ULL;
	for (;;) {
		char e2[256];

		if (access(sock, F_OK) == 0 &&
		    rdmig_ctl_connect(sock, QMP_CMD_MS, &vm->qmp, e2, sizeof(e2)) == 0)
			break;
		if (vm_reap(vm)) {
			snprintf(err, len, "QEMU exited before its monitor was up (status %d; see its messages above)",
				 WIFEXITED(vm->qemu_status) ? WEXITSTATUS(vm->qemu_status) :
				 128 + WTERMSIG(vm->qemu_status));
			return -ECHILD;
		}
		if (rdmig_now_us() > end) {
			snprintf(err, len, "QEMU's monitor did not come up within %d s", QEMU_QMP_MS / 1000);
			return -ETIMEDOUT;
		}
		sleep_ms(50);
	}
	return 0;
}

void vm_destroy(struct vm *vm)
{
	unsigned int i;
	char path[128];
	int n;

	if (vm->qmp) {
		rdmig_ctl_close(vm->qmp);
		vm->qmp = NULL;
	}
	if (vm->qemu_pid > 0 && !vm_reap(vm)) {
		kill(vm->qemu_pid, SIGTERM);
		for (n = 0; n < 500 && !vm_reap(vm); n++)
			sleep_ms(10);
		if (!vm_reap(vm)) {
			kill(vm->qemu_pid, SIGKILL);
			waitpid(vm->qemu_pid, &vm->qemu_status, 0);
			vm->qemu_gone = true;
		}
	}
	for (i = 0; i < vm->nr; i++)
		rdmig_region_close(&vm->r[i]);
	vm->nr = 0;
	if (vm->dir[0]) {
		snprintf(path, sizeof(path), "%s/qmp.sock", vm->dir);
		unlink(path);
		rmdir(vm->dir);
		vm->dir[0] = '\0';
	}
	qargs_free(&vm->qa);
}

int vm_qmp(struct vm *vm, const char *cmd, json_object *args, json_object **ret,
	   char *err, size_t len)
{
	json_object *r = NULL;
	int rc;

	if (!vm->qmp) {
		json_object_put(args);
		snprintf(err, len, "%s: QEMU's monitor is closed", cmd);
		return -ENOTCONN;
	}
	rc = rdmig_ctl_execute(vm->qmp, cmd, args, &r, err, len, QMP_CMD_MS);
	if (ret)
		*ret = r;
	else
		json_object_put(r);
	return rc;
}

int vm_status(struct vm *vm, char *buf, size_t len)
{
	json_object *r = NULL;
	char err[256];
	int rc = vm_qmp(vm, "query-status", NULL, &r, err, sizeof(err));

	if (rc)
		return rc;
	snprintf(buf, len, "%s", jget_str(r, "status"));
	json_object_put(r);
	return 0;
}

int vm_vcpu_tids(struct vm *vm, pid_t *tids, unsigned int max)
{
	json_object *r = NULL;
	char err[256];
	unsigned int n = 0;
	size_t i;
	int rc = vm_qmp(vm, "query-cpus-fast", NULL, &r, err, sizeof(err));

	if (rc)
		return rc;
	for (i = 0; json_object_is_type(r, json_type_array) &&
		    i < json_object_array_length(r) && n < max; i++) {
		int64_t t = jget_i64(json_object_array_get_idx(r, i), "thread-id");

		if (t > 0)
			tids[n++] = (pid_t)t;
	}
	json_object_put(r);
	return (int)n;
}

json_object *qemu_caps(bool pause)
{
	json_object *a = json_object_new_object(), *l = json_object_new_array();
	const char *names[] = { "x-ignore-shared", "events", "pause-before-switchover" };
	unsigned int i;

	for (i = 0; i < (pause ? 3U : 2U); i++) {
		json_object *c = json_object_new_object();

		json_object_object_add(c, "capability", json_object_new_string(names[i]));
		json_object_object_add(c, "state", json_object_new_boolean(true));
		json_object_array_add(l, c);
	}
	json_object_object_add(a, "capabilities", l);
	return a;
}
