// SPDX-License-Identifier: GPL-2.0
/*
 * agent_mig: drives a pair of rdmigd agents in one guest, the way a VMM
 * does, and checks the result byte for byte.
 *
 *   agent_mig [--mib N] [--regions N] [--written PCT] [--writer]
 *             [--pin-all] [--budget BYTES] [--dest-budget BYTES]
 *             [--chunk BYTES] [--dest-chunk BYTES] [--cancel-after-ms MS]
 *             [--expect-fail] [--state BYTES] [--port P] [--timeout-ms MS]
 *
 * Source and destination regions are created with librdmig; the source's
 * first PCT % of pages get a pattern (the rest stay never-written, so they
 * must cost nothing), a writer thread optionally keeps dirtying pages
 * until the pause. Prints the source's "completed" data as one JSON line.
 * Exits 0 when the outcome is the expected one and, on success, memory and
 * device state match and no page stays pinned on either side.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <rdmig/librdmig.h>

#define PAGE 4096u
#define MAXR 8

static struct rdmig_region src[MAXR], dst[MAXR];
static int nreg = 1;
static uint64_t len;
static atomic_bool stop_writer;
static atomic_ullong writes;

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "agent_mig: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(1);
}

static void *writer(void *arg)
{
	uint64_t n = 0, pages = len / PAGE / 4;	/* a quarter of region 0 */

	(void)arg;
	while (!atomic_load(&stop_writer)) {
		uint8_t *p = (uint8_t *)src[0].mem + (n % pages) * PAGE;

		p[0]++;
		n++;
		if (n % 64 == 0)
			usleep(200);
	}
	atomic_store(&writes, n);
	return NULL;
}

/* Every fd is O_CLOEXEC; the child keeps only the ones it is given. */
static atomic_bool dst_listening;

/*
 * Copies the destination agent's log (-v) to our stderr and notes when
 * it listens: the source starts then, not after a fixed wait that a
 * loaded TCG guest overran (the source then found nobody listening).
 */
static void *dst_log(void *arg)
{
	FILE *f = fdopen(*(int *)arg, "r");
	char *line = NULL;
	size_t cap = 0;

	if (!f)
		return NULL;
	while (getline(&line, &cap, f) >= 0) {
		fputs(line, stderr);
		if (strstr(line, "listening on "))
			atomic_store(&dst_listening, true);
	}
	free(line);
	fclose(f);
	return NULL;
}

/* Starts argv[0] with the fds in keep inherited, its stderr on err (if >= 0). */
static pid_t spawn(char **argv, const int *keep, int nkeep, int err)
{
	pid_t pid = fork();

	if (pid == 0) {
		int i;

		if (err >= 0)
			dup2(err, 2);
		for (i = 0; i < nkeep; i++)
			fcntl(keep[i], F_SETFD, 0);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

struct chan {
	int fd;
	char buf[1 << 16];
	size_t len;
};

/* A complete buffered JSON line, or NULL when none is buffered yet. */
static json_object *buffered_msg(struct chan *c)
{
	char *nl = memchr(c->buf, '\n', c->len);
	json_object *o;

	if (!nl)
		return NULL;
	*nl = 0;
	o = json_tokener_parse(c->buf);
	c->len -= (size_t)(nl + 1 - c->buf);
	memmove(c->buf, nl + 1, c->len);
	return o ? o : json_object_new_object();
}

/*
 * Reads what the agent has written so far (the fd polled readable).
 * Returns -1 on EOF or error. Several events can arrive in one read:
 * every one of them must be handled before polling again, or an agent
 * that waits for our answer to the last one (switchover-ready waits for
 * "paused") waits forever.
 */
static int fill(struct chan *c)
{
	ssize_t k;

	if (c->len == sizeof(c->buf))
		return -1;	/* a line longer than the buffer */
	k = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
	if (k <= 0)
		return -1;
	c->len += (size_t)k;
	return 0;
}

static void send_cmd(struct chan *c, const char *s)
{
	if (write(c->fd, s, strlen(s)) < 0 || write(c->fd, "\n", 1) < 0)
		die("control write failed%s", "");
}

/*
 * The event's name; for QMP's MIGRATION event, its status instead
 * ("pre-switchover", "completed", "failed", ...).
 */
static const char *ev_name(json_object *o)
{
	json_object *e, *d, *st;

	if (!json_object_object_get_ex(o, "event", &e))
		return NULL;
	if (!strcmp(json_object_get_string(e), "MIGRATION") &&
	    json_object_object_get_ex(o, "data", &d) &&
	    json_object_object_get_ex(d, "status", &st))
		return json_object_get_string(st);
	return json_object_get_string(e);
}


int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mib", 1, 0, 'm' }, { "regions", 1, 0, 'r' }, { "written", 1, 0, 'w' },
		{ "writer", 0, 0, 'W' }, { "pin-all", 0, 0, 'P' }, { "budget", 1, 0, 'b' },
		{ "dest-budget", 1, 0, 'B' }, { "chunk", 1, 0, 'c' }, { "dest-chunk", 1, 0, 'C' },
		{ "cancel-after-ms", 1, 0, 'x' }, { "expect-fail", 0, 0, 'F' },
		{ "state", 1, 0, 's' }, { "port", 1, 0, 'p' }, { "downtime", 1, 0, 'd' },
		{ "max-iter", 1, 0, 'i' }, { "on-max", 1, 0, 'o' },
		{ "only-dest", 0, 0, 'D' }, { "only-source", 0, 0, 'S' },
		{ "timeout-ms", 1, 0, 'T' }, { "zero-later", 1, 0, 'z' }, { 0 },
	};
	uint64_t mib = 16, pct = 50, budget = 0, dbudget = 0, chunk = 1 << 20, dchunk = 0;
	uint64_t state_len = 4096, downtime = 300, maxiter = 30, zero_later = 0;
	long cancel_ms = -1;
	bool use_writer = false, pin_all = false, expect_fail = false;
	bool only_dest = false, only_source = false;
	const char *port = "18515", *on_max = "switchover", *bin = "build/rdmigd";
	char migrate[512], sfds[MAXR][16], dfds[MAXR][16], a1[16], a2[16], a3[16], a4[16];
	char cs[32], dcs[32], bs[32];
	char *sargv[64], *dargv[64];
	int skeep[MAXR + 2], dkeep[MAXR + 2];
	int devfd, i, o, sn = 0, dn = 0, sctl[2], dctl[2], spipe[2], dpipe[2], epipe[2];
	struct chan sc = { 0 }, dc = { 0 };
	pthread_t wt, lt;
	pid_t sp, dp;
	int sst, dstst, rc = 0;
	bool s_ok = false, d_ok = false, s_failed = false, d_failed = false;
	json_object *completed = NULL;
	const char *timeout_ms = NULL;
	uint8_t *state;
	struct timespec t0;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'm': mib = strtoull(optarg, 0, 0); break;
		case 'r': nreg = atoi(optarg); break;
		case 'w': pct = strtoull(optarg, 0, 0); break;
		case 'W': use_writer = true; break;
		case 'P': pin_all = true; break;
		case 'b': budget = strtoull(optarg, 0, 0); break;
		case 'B': dbudget = strtoull(optarg, 0, 0); break;
		case 'c': chunk = strtoull(optarg, 0, 0); break;
		case 'C': dchunk = strtoull(optarg, 0, 0); break;
		case 'x': cancel_ms = atol(optarg); break;
		case 'F': expect_fail = true; break;
		case 's': state_len = strtoull(optarg, 0, 0); break;
		case 'p': port = optarg; break;
		case 'd': downtime = strtoull(optarg, 0, 0); break;
		case 'i': maxiter = strtoull(optarg, 0, 0); break;
		case 'o': on_max = optarg; break;
		case 'D': only_dest = true; break;
		case 'S': only_source = true; break;
		case 'T': timeout_ms = optarg; break;
		case 'z': zero_later = strtoull(optarg, 0, 0); break;
		default: return 2;
		}
	}
	if (nreg < 1 || nreg > MAXR)
		die("bad --regions%s", "");
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	len = mib << 20;
	devfd = rdmig_dev_open();
	if (devfd < 0)
		die("cannot open /dev/rdmig%s", "");
	for (i = 0; i < nreg; i++) {
		uint64_t l = len + (uint64_t)i * 2 * PAGE;	/* sizes differ per block */
		uint64_t w = l / PAGE * pct / 100, p;

		if (rdmig_region_create(devfd, "mig-src", l, 0, true, &src[i]) ||
		    rdmig_region_create(devfd, "mig-dst", l, 0, true, &dst[i]))
			die("region create failed%s", "");
		for (p = 0; p < w; p++) {
			uint64_t *q = (uint64_t *)((uint8_t *)src[i].mem + p * PAGE);

			q[0] = p * 2654435761u + (uint64_t)i;
			q[PAGE / 8 - 1] = ~p;
		}
		/* Some written pages hold only zeroes: written, yet zero. */
		if (w > 4)
			memset((uint8_t *)src[i].mem + 3 * PAGE, 0, PAGE);
		skeep[i] = rdmig_transfer_fd(src[i].fd);
		dkeep[i] = rdmig_transfer_fd(dst[i].fd);
		snprintf(sfds[i], 16, "%d", skeep[i]);
		snprintf(dfds[i], 16, "%d", dkeep[i]);
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sctl) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, dctl) ||
	    pipe2(spipe, O_CLOEXEC) || pipe2(dpipe, O_CLOEXEC))
		die("socketpair%s", "");
	snprintf(cs, sizeof(cs), "%llu", (unsigned long long)chunk);
	snprintf(dcs, sizeof(dcs), "%llu", (unsigned long long)(dchunk ? dchunk : chunk));
	snprintf(bs, sizeof(bs), "%llu", (unsigned long long)dbudget);

	dargv[dn++] = (char *)bin;
	dargv[dn++] = "--listen";
	{
		static char l[64];

		snprintf(l, sizeof(l), "198.18.0.2:%s", port);
		dargv[dn++] = l;
	}
	for (i = 0; i < nreg; i++) {
		dargv[dn++] = "--region";
		dargv[dn++] = dfds[i];
	}
	snprintf(a1, 16, "%d", dctl[1]);
	snprintf(a2, 16, "%d", dpipe[1]);
	dargv[dn++] = "--control"; dargv[dn++] = a1;
	dargv[dn++] = "--state-fd"; dargv[dn++] = a2;
	dargv[dn++] = "--chunk-size"; dargv[dn++] = dcs;
	dargv[dn++] = "--pin-budget"; dargv[dn++] = bs;
	dargv[dn++] = "-v";	/* its "listening on" line (dst_log) */
	if (timeout_ms) {
		dargv[dn++] = "--timeout-ms";
		dargv[dn++] = (char *)timeout_ms;
	}
	dargv[dn] = NULL;
	dkeep[nreg] = dctl[1];
	dkeep[nreg + 1] = dpipe[1];
	if (pipe2(epipe, O_CLOEXEC))
		die("pipe%s", "");
	dp = only_source ? -1 : spawn(dargv, dkeep, nreg + 2, epipe[1]);
	if (only_source)
		d_failed = true;
	close(dctl[1]);
	close(dpipe[1]);
	close(epipe[1]);
	dc.fd = dctl[0];
	if (pthread_create(&lt, NULL, dst_log, &epipe[0]))
		die("pthread_create%s", "");
	/* Until it listens (or 60 s: then the source fails, saying so). */
	for (i = 0; !only_source && !atomic_load(&dst_listening) && i < 3000; i++)
		usleep(20000);

	sargv[sn++] = (char *)bin;
	sargv[sn++] = "--connect";
	{
		static char c[64];

		snprintf(c, sizeof(c), "198.18.0.2:%s", port);
		sargv[sn++] = c;
	}
	sargv[sn++] = "--bind"; sargv[sn++] = "198.18.0.1";
	for (i = 0; i < nreg; i++) {
		sargv[sn++] = "--region";
		sargv[sn++] = sfds[i];
	}
	snprintf(a3, 16, "%d", sctl[1]);
	snprintf(a4, 16, "%d", spipe[0]);
	sargv[sn++] = "--control"; sargv[sn++] = a3;
	sargv[sn++] = "--state-fd"; sargv[sn++] = a4;
	if (getenv("AGENT_VERBOSE"))
		sargv[sn++] = "-v";
	if (timeout_ms) {
		sargv[sn++] = "--timeout-ms";
		sargv[sn++] = (char *)timeout_ms;
	}
	sargv[sn] = NULL;
	skeep[nreg] = sctl[1];
	skeep[nreg + 1] = spipe[0];
	sp = only_dest ? -1 : spawn(sargv, skeep, nreg + 2, -1);
	if (only_dest)
		s_failed = true;
	close(sctl[1]);
	close(spipe[0]);
	sc.fd = sctl[0];

	state = malloc(state_len + 1);
	for (uint64_t k = 0; k < state_len; k++)
		state[k] = (uint8_t)(k * 7 + 3);
	if (use_writer)
		pthread_create(&wt, NULL, writer, NULL);
	/* QMP: capabilities negotiation first, the greeting is read with the rest. */
	if (!only_dest)
		send_cmd(&sc, "{\"execute\":\"qmp_capabilities\"}");
	if (!only_source)
		send_cmd(&dc, "{\"execute\":\"qmp_capabilities\"}");
	snprintf(migrate, sizeof(migrate),
		 "{\"execute\":\"migrate-set-parameters\",\"id\":1,\"arguments\":{\"chunk-size\":%s,"
		 "\"pin-budget\":%llu,\"pin-all\":%s,\"downtime-limit\":%llu,"
		 "\"max-iterations\":%llu,\"on-max-iterations\":\"%s\"}}",
		 cs, (unsigned long long)budget, pin_all ? "true" : "false",
		 (unsigned long long)downtime, (unsigned long long)maxiter, on_max);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!only_dest) {
		send_cmd(&sc, migrate);
		send_cmd(&sc, "{\"execute\":\"migrate\",\"id\":10}");
	}
	while (!(s_ok || s_failed) || !(d_ok || d_failed)) {
		struct pollfd p[2] = {
			{ .fd = (s_ok || s_failed) ? -1 : sc.fd, .events = POLLIN },
			{ .fd = (d_ok || d_failed) ? -1 : dc.fd, .events = POLLIN },
		};
		json_object *m, *zd, *zi;
		const char *e;

		if (poll(p, 2, 60000) <= 0) {
			/* Closing the control channels cancels both agents. */
			fprintf(stderr, "agent_mig: timeout, cancelling both agents\n");
			close(sc.fd);
			close(dc.fd);
			rc = 1;
			break;
		}
		if (cancel_ms >= 0) {
			struct timespec t;

			clock_gettime(CLOCK_MONOTONIC, &t);
			if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 >= cancel_ms) {
				send_cmd(&sc, "{\"execute\":\"migrate_cancel\",\"id\":9}");
				cancel_ms = -1;
			}
		}
		if (p[0].revents && fill(&sc))
			s_failed = true;
		while (!(s_ok || s_failed) && (m = buffered_msg(&sc))) {
			e = ev_name(m);
			if (getenv("AGENT_VERBOSE") || (e && strcmp(e, "RDMIG_PROGRESS")))
				printf("src: %s\n", json_object_to_json_string(m));
			if (zero_later && e && !strcmp(e, "RDMIG_PROGRESS") &&
			    json_object_object_get_ex(m, "data", &zd) &&
			    json_object_object_get_ex(zd, "iteration", &zi) &&
			    json_object_get_int64(zi) >= 1) {
				/*
				 * Iteration 0 has sent region 0's written pages:
				 * zero some of them (clear of the writer's quarter)
				 * so they must go again, as zero ranges.
				 */
				uint64_t w0 = len / PAGE * pct / 100;

				if (zero_later > w0 / 2)
					zero_later = w0 / 2;
				memset((uint8_t *)src[0].mem + w0 / 2 * PAGE, 0, zero_later * PAGE);
				printf("zeroed %llu sent pages from page %llu\n",
				       (unsigned long long)zero_later, (unsigned long long)(w0 / 2));
				zero_later = 0;
			}
			if (e && !strcmp(e, "pre-switchover")) {
				atomic_store(&stop_writer, true);
				if (use_writer)
					pthread_join(wt, NULL), use_writer = false;
				if (write(spipe[1], state, state_len) != (ssize_t)state_len)
					die("state write%s", "");
				close(spipe[1]);
				spipe[1] = -1;
				send_cmd(&sc, "{\"execute\":\"migrate-continue\",\"id\":2,"
					 "\"arguments\":{\"state\":\"pre-switchover\"}}");
			} else if (e && !strcmp(e, "completed")) {
				json_object *d, *st;

				s_ok = true;
				/* The agent's own figures are in data.rdmig. */
				json_object_object_get_ex(m, "data", &d);
				if (json_object_object_get_ex(d, "rdmig", &st))
					completed = json_object_get(st);
			} else if (e && (!strcmp(e, "failed") || !strcmp(e, "cancelled"))) {
				s_failed = true;
				/* As a VMM would: the destination is told to give up too. */
				if (!only_source && !(d_ok || d_failed))
					send_cmd(&dc, "{\"execute\":\"migrate_cancel\",\"id\":8}");
			}
			json_object_put(m);
		}
		if (p[1].revents && fill(&dc))
			d_failed = true;
		while (!(d_ok || d_failed) && (m = buffered_msg(&dc))) {
			e = ev_name(m);
			printf("dst: %s\n", json_object_to_json_string(m));
			if (e && !strcmp(e, "completed"))
				d_ok = true;
			else if (e && (!strcmp(e, "failed") || !strcmp(e, "cancelled")))
				d_failed = true;
			json_object_put(m);
		}
	}
	atomic_store(&stop_writer, true);
	if (use_writer)
		pthread_join(wt, NULL);
	sst = dstst = 1 << 8;
	if (sp > 0)
		waitpid(sp, &sst, 0);
	if (dp > 0)
		waitpid(dp, &dstst, 0);
	printf("source exit %d, destination exit %d\n", WEXITSTATUS(sst), WEXITSTATUS(dstst));
	for (i = 0; i < nreg; i++) {
		struct rdmig_region_info si, di;

		rdmig_region_info(src[i].fd, &si);
		rdmig_region_info(dst[i].fd, &di);
		if (si.pinned_pages || di.pinned_pages) {
			printf("region %d: pinned pages left: source %llu destination %llu\n", i,
			       (unsigned long long)si.pinned_pages, (unsigned long long)di.pinned_pages);
			rc = 1;
		}
		if (si.flags & RDMIG_INFO_F_TRACKING) {
			printf("region %d: source tracking left on\n", i);
			rc = 1;
		}
	}
	if (expect_fail) {
		if (s_ok || d_ok || WEXITSTATUS(sst) == 0 || WEXITSTATUS(dstst) == 0) {
			printf("expected a failure, the migration succeeded\n");
			rc = 1;
		}
		return rc;
	}
	if (!s_ok || !d_ok || WEXITSTATUS(sst) || WEXITSTATUS(dstst)) {
		printf("migration failed\n");
		return 1;
	}
	for (i = 0; i < nreg; i++) {
		uint64_t l = len + (uint64_t)i * 2 * PAGE;

		if (memcmp(src[i].mem, dst[i].mem, l)) {
			uint64_t p;

			for (p = 0; p < l / PAGE; p++)
				if (memcmp((uint8_t *)src[i].mem + p * PAGE, (uint8_t *)dst[i].mem + p * PAGE, PAGE))
					break;
			{
				uint64_t q, nd = 0;

				for (q = p; q < l / PAGE; q++)
					nd += !!memcmp((uint8_t *)src[i].mem + q * PAGE,
						       (uint8_t *)dst[i].mem + q * PAGE, PAGE);
				printf("region %d differs first at page %llu (%llu pages differ; src %02x dst %02x)\n",
				       i, (unsigned long long)p, (unsigned long long)nd,
				       ((uint8_t *)src[i].mem)[p * PAGE], ((uint8_t *)dst[i].mem)[p * PAGE]);
			}
			rc = 1;
		}
	}
	/*
	 * The destination marks what it received written and gives back the
	 * zero pages: its region says exactly what a migration onwards sends,
	 * the source's written pages that are not all zero.
	 */
	for (i = 0; i < nreg; i++) {
		uint64_t l = len + (uint64_t)i * 2 * PAGE, np = l / PAGE, p, want = 0;
		uint64_t *pm = calloc(np, 8);
		struct rdmig_region_info di;
		static const uint8_t zero[PAGE];

		if (!pm || rdmig_pagemap(src[i].fd, 0, np, pm))
			die("source pagemap read failed%s", "");
		for (p = 0; p < np; p++)
			if ((pm[p] & RDMIG_PM_WRITTEN) &&
			    memcmp((uint8_t *)src[i].mem + p * PAGE, zero, PAGE))
				want++;
		rdmig_region_info(dst[i].fd, &di);
		printf("region %d: destination written_pages %llu, source non-zero written pages %llu\n",
		       i, (unsigned long long)di.written_pages, (unsigned long long)want);
		if (di.written_pages != want)
			rc = 1;
		free(pm);
	}
	{
		uint8_t *got = malloc(state_len + 1);
		ssize_t k, n = 0;

		while ((k = read(dpipe[0], got + n, state_len + 1 - (size_t)n)) > 0)
			n += k;
		if ((uint64_t)n != state_len || memcmp(got, state, state_len)) {
			printf("device state differs (%zd bytes of %llu)\n", n, (unsigned long long)state_len);
			rc = 1;
		}
		free(got);
	}
	printf("writer wrote %llu times\n", (unsigned long long)atomic_load(&writes));
	printf("%s\n", json_object_to_json_string_ext(completed, JSON_C_TO_STRING_PLAIN));
	return rc;
}
