// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rdmig-vmm: the reference VMM. Read this file top to bottom to see what
 * a VMM does to live-migrate with rdmig:
 *
 *  1. create guest RAM as rdmig regions and map them (ram.c);
 *  2. run vCPUs (vcpu.c, workload.c);
 *  3. source: spawn rdmigd --connect with the regions' transfer fds, a
 *     control socket and a device-state pipe (agent.c), send "migrate",
 *     follow events, and on "switchover-ready" pause the vCPUs, write the
 *     device state, and say "paused" (migrate.c);
 *  4. destination: spawn rdmigd --listen the same way, wait for
 *     "completed", load the device state and resume the vCPUs.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "migrate.h"

int main(int argc, char **argv)
{
	struct vmm_opts o;
	static struct vm vm;
	struct run r;
	int ret;

	if (opts_parse(argc, argv, &o))
		return 1;
	signal(SIGPIPE, SIG_IGN);
	memset(&r, 0, sizeof(r));
	pthread_mutex_init(&vm.lock, NULL);
	pthread_cond_init(&vm.cond, NULL);
	r.o = &o;
	r.vm = &vm;
	r.report = json_object_new_object();

	ret = ram_create(&vm.ram, o.region_bytes, o.nr_regions, o.name);
	if (ret < 0) {
		fprintf(stderr, "rdmig-vmm: cannot create guest RAM: %s%s\n",
			strerror(-ret),
			ret == -ENOENT ? " (is rdmig.ko loaded?)" : "");
		return 1;
	}
	if (o.touch_bytes > vm.ram.pages * VMM_PAGE_SIZE) {
		fprintf(stderr, "rdmig-vmm: --touch is larger than the RAM\n");
		ram_destroy(&vm.ram);
		return 1;
	}

	switch (o.role) {
	case ROLE_STANDALONE:
		ret = run_standalone(&r);
		break;
	case ROLE_SOURCE:
		ret = run_source(&r);
		break;
	case ROLE_DESTINATION:
		ret = run_destination(&r);
		break;
	}
	report_finish(&r);
	vm_stop(&vm);
	ram_destroy(&vm.ram);
	json_object_put(r.report);
	return ret;
}
