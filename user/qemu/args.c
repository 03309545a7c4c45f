// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Rewriting a QEMU command line onto regions (args.h). QEMU's option
 * values are comma-separated key=value lists in which ",," stands for a
 * comma; only the options that decide where guest RAM lives are read
 * (-object memory-backend-*, -m, -machine memory-backend=, -numa, the
 * legacy -mem-path), everything else goes through untouched.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

#define PAGE 4096ULL

static int refuse(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int refuse(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

int qargs_parse_size(const char *s, unsigned int dflt_shift, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = dflt_shift;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	if (*end) {
		switch (toupper((unsigned char)*end)) {
		case 'B': shift = 0; break;
		case 'K': shift = 10; break;
		case 'M': shift = 20; break;
		case 'G': shift = 30; break;
		case 'T': shift = 40; break;
		default: return -1;
		}
		end++;
		if (shift && toupper((unsigned char)*end) == 'B')
			end++;
		if (*end)
			return -1;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

/* One element of a key=value list: [*p, next) unescaped into @buf. */
static const char *next_elem(const char *p, char *buf, size_t len)
{
	size_t n = 0;

	while (*p) {
		if (*p == ',') {
			if (p[1] != ',')
				break;
			p++;	/* ",," is a comma inside a value */
		}
		if (n + 1 < len)
			buf[n++] = *p;
		p++;
	}
	buf[n] = '\0';
	return *p == ',' ? p + 1 : p;
}

/* The value of @key in a key=value list (first element may be bare). */
static bool find_key(const char *list, const char *key, char *val, size_t len)
{
	char e[512];
	size_t kl = strlen(key);

	while (*list) {
		list = next_elem(list, e, sizeof(e));
		if (!strncmp(e, key, kl) && e[kl] == '=') {
			snprintf(val, len, "%s", e + kl + 1);
			return true;
		}
	}
	return false;
}

static bool is_on(const char *v)
{
	return !strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true") ||
	       !strcmp(v, "y");
}

/* Appends @s to the malloc'd string *@acc, re-escaping commas. */
static int append_prop(char **acc, const char *s)
{
	size_t old = strlen(*acc), add = strlen(s), i, k;
	char *n = realloc(*acc, old + 2 * add + 2);

	if (!n)
		return -1;
	k = old;
	if (old)
		n[k++] = ',';
	for (i = 0; i < add; i++) {
		n[k++] = s[i];
		if (s[i] == ',')
			n[k++] = ',';
	}
	n[k] = '\0';
	*acc = n;
	return 0;
}

static const char *const backend_types[] = {
	"memory-backend-ram", "memory-backend-file", "memory-backend-memfd", NULL,
};

/* An -object value: a memory backend (1), anything else (0), refused (-1). */
static int parse_backend(struct qargs *q, int argi, const char *val,
			 char *err, size_t errlen)
{
	char e[512], type[512] = "", id[QARGS_ID_MAX] = "";
	const char *p = val;
	struct qbackend *b;
	bool first = true, have_size = false;
	uint64_t size = 0;
	char *props;
	int i;

	if (*val == '{')
		return refuse(err, errlen, "-object %s: the JSON form is not supported; use the key=value form", val);
	/* The type comes first, bare or as qom-type=. */
	p = next_elem(p, e, sizeof(e));
	snprintf(type, sizeof(type), "%s", !strncmp(e, "qom-type=", 9) ? e + 9 : e);
	if (strncmp(type, "memory-backend-", 15))
		return 0;
	for (i = 0; backend_types[i]; i++)
		if (!strcmp(type, backend_types[i]))
			break;
	if (!backend_types[i])
		return refuse(err, errlen, "-object %s: rdmig-qemu can carry only memory-backend-ram, -file and -memfd (%s has memory rdmig cannot track)",
			      val, type);
	if (q->n == QARGS_MAX_BACKENDS)
		return refuse(err, errlen, "more than %d memory backends", QARGS_MAX_BACKENDS);
	props = strdup("");
	if (!props)
		return refuse(err, errlen, "out of memory");
	while (*p) {
		char *eq;

		p = next_elem(p, e, sizeof(e));
		first = false;
		eq = strchr(e, '=');
		if (!eq) {
			free(props);
			return refuse(err, errlen, "-object %s: property '%s' has no value", val, e);
		}
		*eq = '\0';
		if (!strcmp(e, "id")) {
			if (strlen(eq + 1) >= sizeof(id)) {
				free(props);
				return refuse(err, errlen, "-object %s: id too long", val);
			}
			snprintf(id, sizeof(id), "%s", eq + 1);
		} else if (!strcmp(e, "size")) {
			if (qargs_parse_size(eq + 1, 0, &size)) {
				free(props);
				return refuse(err, errlen, "-object %s: bad size '%s'", val, eq + 1);
			}
			have_size = true;
		} else if (!strcmp(e, "mem-path")) {
			free(props);
			return refuse(err, errlen, "-object %s: mem-path names the backend's own file; rdmig-qemu provides it (a region), drop mem-path", val);
		} else if (!strcmp(e, "share")) {
			if (!is_on(eq + 1)) {
				free(props);
				return refuse(err, errlen, "-object %s: share=%s: the RAM must be shared so that x-ignore-shared leaves it to rdmig", val, eq + 1);
			}
		} else if (!strcmp(e, "prealloc") || !strcmp(e, "hugetlb") ||
			   !strcmp(e, "pmem") || !strcmp(e, "readonly")) {
			if (is_on(eq + 1)) {
				free(props);
				if (!strcmp(e, "prealloc"))
					return refuse(err, errlen, "-object %s: prealloc=on writes every page, so none is known zero and all of them are sent; regions allocate on first touch", val);
				if (!strcmp(e, "hugetlb"))
					return refuse(err, errlen, "-object %s: hugetlb=on: regions are made of 4 KiB pages (dirty tracking is per page)", val);
				return refuse(err, errlen, "-object %s: %s=on is not supported on a region", val, e);
			}
		} else if (!strcmp(e, "hugetlbsize") || !strcmp(e, "seal")) {
			/* memfd-only properties, meaningless on a region: dropped. */
		} else {
			*eq = '=';
			if (append_prop(&props, e)) {
				free(props);
				return refuse(err, errlen, "out of memory");
			}
		}
	}
	(void)first;
	if (!*id || !have_size) {
		free(props);
		return refuse(err, errlen, "-object %s: a memory backend needs id= and size=", val);
	}
	if (!size || size % PAGE) {
		free(props);
		return refuse(err, errlen, "-object %s: size must be a non-zero multiple of 4096", val);
	}
	for (i = 0; i < (int)q->n; i++)
		if (!strcmp(q->b[i].id, id)) {
			free(props);
			return refuse(err, errlen, "-object %s: duplicate id '%s'", val, id);
		}
	b = &q->b[q->n++];
	snprintf(b->id, sizeof(b->id), "%s", id);
	b->size = size;
	b->argi = argi;
	b->props = props;
	return 1;
}

/* QEMU options that take a value (which may itself start with '-'). */
static const char *const with_value[] = {
	"accel", "action", "add-fd", "append", "audiodev", "bios", "blockdev",
	"boot", "cdrom", "chardev", "chroot", "cpu", "d", "D", "debugcon",
	"device", "display", "drive", "dtb", "fda", "fdb", "fsdev", "fw_cfg",
	"global", "hda", "hdb", "hdc", "hdd", "icount", "initrd", "iscsi", "k",
	"kernel", "L", "loadvm", "machine", "M", "m", "mon", "monitor", "msg",
	"mtdblock", "name", "net", "netdev", "nic", "numa", "object", "option-rom",
	"overcommit", "parallel", "pflash", "pidfile", "plugin", "qmp",
	"qmp-pretty", "rtc", "runas", "sandbox", "sd", "serial", "smbios", "smp",
	"spice", "tpmdev", "trace", "usbdevice", "uuid", "vga", "virtfs", "vnc",
	"watchdog-action", "incoming", "mem-path", "semihosting-config", NULL,
};

static const char *opt_name(const char *a)
{
	if (a[0] != '-' || !a[1])
		return NULL;
	return a[1] == '-' ? a + 2 : a + 1;
}

static bool takes_value(const char *name)
{
	int i;

	for (i = 0; with_value[i]; i++)
		if (!strcmp(with_value[i], name))
			return true;
	return false;
}

int qargs_parse(int argc, char **argv, struct qargs *q, char *err, size_t errlen)
{
	bool ram_placed = false;
	char v[512];
	int i;

	memset(q, 0, sizeof(*q));
	q->argc = argc;
	q->argv = argv;
	q->ram_size = 128ULL << 20;	/* QEMU's default */
	if (argc < 1 || !argv[0] || argv[0][0] == '-')
		return refuse(err, errlen, "no QEMU binary: the QEMU command line starts with the program (e.g. qemu-system-x86_64)");
	for (i = 1; i < argc; i++) {
		const char *name = opt_name(argv[i]), *val;
		int r;

		if (!name)
			continue;	/* a disk image */
		if (!strcmp(name, "mem-path") || !strcmp(name, "mem-prealloc"))
			return refuse(err, errlen, "-%s: guest RAM must be a memory backend rdmig-qemu places on a region; use -m or -object memory-backend-ram", name);
		if (!strcmp(name, "incoming"))
			return refuse(err, errlen, "-incoming: rdmig-qemu starts the destination itself (rdmig-qemu incoming)");
		if (!takes_value(name))
			continue;
		if (i + 1 >= argc)
			return refuse(err, errlen, "-%s needs a value", name);
		val = argv[++i];
		if (!strcmp(name, "object")) {
			r = parse_backend(q, i, val, err, errlen);
			if (r < 0)
				return -1;
		} else if (!strcmp(name, "m")) {
			const char *sz = val;

			if (strchr(val, '=')) {
				if (!find_key(val, "size", v, sizeof(v)))
					continue;	/* only slots/maxmem */
				sz = v;
			} else {
				next_elem(val, v, sizeof(v));
				sz = v;
			}
			if (qargs_parse_size(sz, 20, &q->ram_size) || !q->ram_size ||
			    q->ram_size % PAGE)
				return refuse(err, errlen, "-m %s: not a size rdmig-qemu understands (e.g. 128M, 1G)", val);
			q->has_m = true;
		} else if (!strcmp(name, "machine") || !strcmp(name, "M")) {
			if (find_key(val, "memory-backend", v, sizeof(v)))
				ram_placed = true;
		} else if (!strcmp(name, "numa")) {
			if (find_key(val, "memdev", v, sizeof(v)))
				ram_placed = true;
			else if (find_key(val, "mem", v, sizeof(v)))
				return refuse(err, errlen, "-numa %s: mem= allocates RAM outside any backend; use memdev= with a memory backend", val);
		}
	}
	if (!ram_placed) {
		/* -m alone: its RAM becomes a backend of its own, on a region. */
		struct qbackend *b;

		if (q->n == QARGS_MAX_BACKENDS)
			return refuse(err, errlen, "more than %d memory backends", QARGS_MAX_BACKENDS);
		for (i = 0; i < (int)q->n; i++)
			if (!strcmp(q->b[i].id, QARGS_MAIN_ID))
				return refuse(err, errlen, "the id '%s' is rdmig-qemu's own", QARGS_MAIN_ID);
		b = &q->b[q->n++];
		snprintf(b->id, sizeof(b->id), "%s", QARGS_MAIN_ID);
		b->size = q->ram_size;
		b->argi = -1;
		b->props = strdup("");
		if (!b->props)
			return refuse(err, errlen, "out of memory");
		q->add_machine = true;
	}
	return 0;
}

void qargs_free(struct qargs *q)
{
	unsigned int i;

	for (i = 0; i < q->n; i++) {
		free(q->b[i].props);
		q->b[i].props = NULL;
	}
	q->n = 0;
}

void qargs_argv_free(char **v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

static char *backend_arg(const struct qbackend *b, int fd)
{
	char *s = NULL;

	if (asprintf(&s, "memory-backend-file,id=%s,size=%llu,mem-path=/proc/self/fd/%d,share=on%s%s",
		     b->id, (unsigned long long)b->size, fd, *b->props ? "," : "",
		     b->props) < 0)
		return NULL;
	return s;
}

char **qargs_build(const struct qargs *q, const int *fds, const char *const *extra)
{
	size_t nextra = 0, cap, k = 0;
	char **v;
	unsigned int j;
	int i;

	while (extra && extra[nextra])
		nextra++;
	cap = (size_t)q->argc + 2 * q->n + 4 + nextra + 1;
	v = calloc(cap, sizeof(*v));
	if (!v)
		return NULL;
	for (i = 0; i < q->argc; i++) {
		char *s = NULL;

		for (j = 0; j < q->n; j++)
			if (q->b[j].argi == i)
				break;
		s = j < q->n ? backend_arg(&q->b[j], fds[j]) : strdup(q->argv[i]);
		if (!s)
			goto fail;
		v[k++] = s;
	}
	for (j = 0; j < q->n; j++) {
		if (q->b[j].argi >= 0)
			continue;
		if (!(v[k++] = strdup("-object")) ||
		    !(v[k++] = backend_arg(&q->b[j], fds[j])))
			goto fail;
	}
	if (q->add_machine) {
		if (!(v[k++] = strdup("-machine")) ||
		    !(v[k++] = strdup("memory-backend=" QARGS_MAIN_ID)))
			goto fail;
	}
	for (j = 0; j < nextra; j++)
		if (!(v[k++] = strdup(extra[j])))
			goto fail;
	v[k] = NULL;
	return v;
fail:
	qargs_argv_free(v);
	return NULL;
}
