// SPDX-License-Identifier: GPL-2.0
/*
 * rdmigctl: the operator's view of rdmig regions, in the manner of
 * iproute2's rdma tool: rdmigctl [OPTIONS] OBJECT COMMAND [ARGS].
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "rdmigctl.h"

#define RDMIGCTL_VERSION "0.1.0"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: rdmigctl [OPTIONS] OBJECT { COMMAND | help }\n"
		"       rdmigctl [OPTIONS] region show [ID]\n"
		"       rdmigctl [OPTIONS] region set ID tracking { on | off }\n"
		"       rdmigctl [OPTIONS] region set ID watermark PAGES\n"
		"       rdmigctl [OPTIONS] region stats ID\n"
		"       rdmigctl [OPTIONS] monitor [count N]\n"
		"       rdmigctl [OPTIONS] version\n"
		"where  OPTIONS := { -j[son] | -p[retty] | -h[elp] | -V[ersion] }\n");
}

int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("rdmigctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(stderr);
	return 1;
}

int nl_error(struct ctl *c, const char *what, int err)
{
	const char *msg = c->nl ? rdmig_nl_errmsg(c->nl) : "";

	if (err == -ENOENT && !c->nl)
		fprintf(stderr, "Error: %s: rdmig module not loaded\n", what);
	else if (msg[0])
		fprintf(stderr, "Error: %s: %s (%s)\n", what, msg,
			strerror(-err));
	else
		fprintf(stderr, "Error: %s: %s\n", what, strerror(-err));
	return 1;
}

void json_print(struct ctl *c, struct json_object *o)
{
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE |
		    (c->pretty ? JSON_C_TO_STRING_PRETTY |
				 JSON_C_TO_STRING_SPACED :
				 JSON_C_TO_STRING_PLAIN);

	puts(json_object_to_json_string_ext(o, flags));
	json_object_put(o);
}

int ctl_open_nl(struct ctl *c)
{
	int err = rdmig_nl_open(&c->nl);

	if (err) {
		c->nl = NULL;
		return nl_error(c, "netlink", err);
	}
	return 0;
}

static int do_version(struct ctl *c, int argc, char **argv)
{
	char mod[64] = "";
	uint32_t api = 0;
	int err;

	(void)argv;
	if (argc > 0)
		return usage_error("version takes no arguments");
	if (ctl_open_nl(c))
		return 1;
	err = rdmig_nl_version(c->nl, &api, mod, sizeof(mod));
	if (err)
		return nl_error(c, "version", err);
	if (c->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "rdmigctl_version",
				       json_object_new_string(RDMIGCTL_VERSION));
		json_object_object_add(o, "module_version",
				       json_object_new_string(mod));
		json_object_object_add(o, "api_version",
				       json_object_new_int64(api));
		json_print(c, o);
	} else {
		printf("rdmigctl %s, module %s, api %u\n", RDMIGCTL_VERSION,
		       mod, api);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ "Version", no_argument, NULL, 'V' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl c = { 0 };
	const char *obj;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "+jphV", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			c.json = true;
			break;
		case 'p':
			c.pretty = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("rdmigctl %s\n", RDMIGCTL_VERSION);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return usage_error("missing OBJECT");
	obj = argv[0];
	if (matches(obj, "help")) {
		usage(stdout);
		return 0;
	}
	if (matches(obj, "region"))
		ret = do_region(&c, argc - 1, argv + 1);
	else if (matches(obj, "monitor"))
		ret = do_monitor(&c, argc - 1, argv + 1);
	else if (matches(obj, "version"))
		ret = do_version(&c, argc - 1, argv + 1);
	else
		ret = usage_error("unknown object \"%s\"", obj);
	rdmig_nl_close(c.nl);
	return ret;
}
