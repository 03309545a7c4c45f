// SPDX-License-Identifier: GPL-2.0
/*
 * Holds a region through a mapping only (its fd and /dev/rdmig closed)
 * until a line arrives on stdin, then checks the mapping still holds what
 * was written. Used to show that rmmod is refused meanwhile.
 */
#include <sys/mman.h>

#include "region_util.h"

int main(void)
{
	int dev = open("/dev/rdmig", O_RDWR | O_CLOEXEC);
	int fd = ru_create(dev, 1 << 20, RDMIG_REGION_F_TRACK, "hold", NULL);
	char *p, line[8];

	if (dev < 0 || fd < 0)
		return 2;
	p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 2;
	close(fd);
	close(dev);
	strcpy(p + 4096, "hello");
	printf("ready\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 2;
	return strcmp(p + 4096, "hello") ? 1 : 0;
}
