/* SPDX-License-Identifier: GPL-2.0 */
/* rdmigctl: the operator's view of rdmig over netlink. */
#ifndef RDMIGCTL_H
#define RDMIGCTL_H

#include <stdbool.h>

#include <json-c/json.h>

#include <rdmig/librdmig.h>

struct ctl {
	bool json;
	bool pretty;
	struct rdmig_nl *nl;
};

/* Exit codes: 0 success, 1 bad arguments or a failed request. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Reports a failed request: the kernel's extack message or strerror. */
int nl_error(struct ctl *c, const char *what, int err);
/* Prints @o as one JSON document (pretty with -p) and drops it. */
void json_print(struct ctl *c, struct json_object *o);
int ctl_open_nl(struct ctl *c);

int do_region(struct ctl *c, int argc, char **argv);
int do_monitor(struct ctl *c, int argc, char **argv);

#endif /* RDMIGCTL_H */
