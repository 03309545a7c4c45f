// SPDX-License-Identifier: GPL-2.0
/*
 * test_nl_hold NAME SECONDS: creates a 1 MiB region NAME, writes two of
 * its pages, and keeps it for SECONDS, so that shell tests can look at it
 * with rdmigctl.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rdmig/librdmig.h>

int main(int argc, char **argv)
{
	struct rdmig_region r;
	int devfd;

	if (argc != 3) {
		fprintf(stderr, "usage: test_nl_hold NAME SECONDS\n");
		return 1;
	}
	devfd = rdmig_dev_open();
	if (devfd < 0 ||
	    rdmig_region_create(devfd, argv[1], 1 << 20, 0, true, &r)) {
		perror("test_nl_hold");
		return 1;
	}
	((char *)r.mem)[0] = 1;
	((char *)r.mem)[4096] = 1;
	sleep((unsigned int)atoi(argv[2]));
	rdmig_region_close(&r);
	close(devfd);
	return 0;
}
