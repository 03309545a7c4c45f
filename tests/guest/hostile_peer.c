// SPDX-License-Identifier: GPL-2.0
/*
 * hostile_peer: a programmable hostile rdmig peer (tests/guest/45-hostile.sh).
 *
 *   hostile_peer --agent PATH [--only NAME[,NAME...]] [--wire-version N]
 *                [--list] [--log-dir DIR]
 *
 * Runs a table of cases, each against a fresh rdmigd (PATH, normally the
 * ASan/UBSan build) that this program drives over QMP as its VMM would:
 *
 *  - role "dst" (d-*): a fake source connects to a listening rdmigd
 *    destination and misbehaves (lying lengths, unknown types, wrong
 *    order, out-of-range indices, floods, silence, vanishing, ...);
 *  - role "src" (s-*): a fake destination accepts an rdmigd source and
 *    misbehaves (malformed accepts, short or forged results, early or
 *    forged completion acknowledgements, ...).
 *
 * Every case must end with: the agent's MIGRATION "failed" event whose
 * error-desc holds the case's expected text (never "completed"); the
 * peer seeing the agent's ERROR with its expected text, or the expected
 * rejection or disconnect; the agent exiting with status 1 and no
 * sanitizer report in its log; no page pinned in its regions when it
 * reported and after it exited; on a destination, its regions and a
 * canary region (never given to the agent) byte-identical to before; on a
 * source, tracking off, its region unchanged and still writable.
 *
 * One TAP line per case (ok/not ok NAME: what happened); exit 0 when
 * every case passed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <infiniband/verbs.h>
#include <json-c/json.h>
#include <rdma/rdma_cma.h>
#include <rdmig/librdmig.h>

#include "../../user/rdmigd/wire.h"

#define PAGE		4096u
#define CHUNK		(1u << 20)
#define NRECV		16
#define NSEND		4
#define BUFSZ		(128u << 10)	/* >= WIRE_MAX_MSG */
#define DST_ADDR	"198.18.0.2"
#define SRC_ADDR	"198.18.0.1"
#define NDREG		2
#define CONN_CREDITS_AGENT 32	/* rdmigd's CONN_RECV_DEPTH */
#define FLOOD		600	/* more than any credits the agent could return */
static const uint64_t dlens[NDREG] = { 4u << 20, (2u << 20) + PAGE };
#define SLEN		(4u << 20)

static const char *agent_path;
static const char *log_dir = "/tmp";
static uint32_t wire_version = WIRE_VERSION;
static int next_port = 18600;

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static uint32_t fin_len(void)
{
	return wire_version == 1 ? 16 : WIRE_FINISHED_LEN;
}

/* ---- what went wrong in the current case ------------------------------ */

static char why[2048];
static bool timing;
static uint64_t t_case;

/* With HOSTILE_TIMING set: where a case's time goes. */
static void mark(const char *what)
{
	if (timing)
		printf("#   %6llu ms %s\n", (unsigned long long)(now_ms() - t_case), what);
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	size_t n = strlen(why);
	va_list ap;

	if (n + 4 >= sizeof(why))
		return;
	if (n)
		why[n++] = ';', why[n++] = ' ', why[n] = 0;
	va_start(ap, fmt);
	vsnprintf(why + n, sizeof(why) - n, fmt, ap);
	va_end(ap);
}

/* ---- regions ----------------------------------------------------------- */

static int devfd;
static struct rdmig_region dreg[NDREG], canary, sreg;
static uint8_t *dsaved[NDREG], *csaved, *ssaved;

static uint64_t pinned(const struct rdmig_region *r)
{
	struct rdmig_region_info i;

	if (rdmig_region_info(r->fd, &i))
		return ~0ull;
	return i.pinned_pages;
}

static bool tracking(const struct rdmig_region *r)
{
	struct rdmig_region_info i;

	return rdmig_region_info(r->fd, &i) || (i.flags & RDMIG_INFO_F_TRACKING);
}

static void fill(struct rdmig_region *r, uint64_t len, uint32_t seed, uint8_t **saved)
{
	uint64_t p;

	for (p = 0; p < len / PAGE; p++) {
		uint64_t *q = (uint64_t *)((uint8_t *)r->mem + p * PAGE);

		/* half the pages written, the rest never touched */
		if (p % 2)
			continue;
		q[0] = 0x686f7374696c6500ull ^ ((uint64_t)seed << 32 | p);
		q[PAGE / 8 - 1] = ~p;
	}
	*saved = malloc(len);
	memcpy(*saved, r->mem, len);
}

static void make_regions(void)
{
	int i;

	devfd = rdmig_dev_open();
	if (devfd < 0) {
		fprintf(stderr, "hostile_peer: cannot open /dev/rdmig\n");
		exit(2);
	}
	for (i = 0; i < NDREG; i++) {
		if (rdmig_region_create(devfd, "hostile-dst", dlens[i], 0, true, &dreg[i]))
			exit(2);
		fill(&dreg[i], dlens[i], 1 + i, &dsaved[i]);
	}
	if (rdmig_region_create(devfd, "hostile-canary", 1u << 20, 0, true, &canary) ||
	    rdmig_region_create(devfd, "hostile-src", SLEN, 0, true, &sreg))
		exit(2);
	fill(&canary, 1u << 20, 9, &csaved);
	fill(&sreg, SLEN, 5, &ssaved);
}

/* ---- the agent, driven over QMP --------------------------------------- */

struct agent {
	pid_t pid;
	int ctl;
	int state_w;
	char buf[1 << 16];
	size_t len;
	bool completed, failed, eof, exited, source;
	int status;
	char reason[1024];
	char log[256];
	uint64_t pinned_at_report;
	bool tracking_at_report;
};

static struct agent *cur;

static void agent_cmd(struct agent *a, const char *s)
{
	if (write(a->ctl, s, strlen(s)) < 0 || write(a->ctl, "\n", 1) < 0)
		note("control write: %s", strerror(errno));
}

static void on_event(struct agent *a, json_object *o)
{
	json_object *e, *d, *st, *ed;
	const char *name, *status = NULL;
	int i;

	if (!json_object_object_get_ex(o, "event", &e))
		return;
	name = json_object_get_string(e);
	if (strcmp(name, "MIGRATION") || !json_object_object_get_ex(o, "data", &d) ||
	    !json_object_object_get_ex(d, "status", &st))
		return;
	status = json_object_get_string(st);
	if (!strcmp(status, "pre-switchover")) {
		static uint8_t state[6000];

		for (i = 0; i < (int)sizeof(state); i++)
			state[i] = (uint8_t)(i * 7 + 3);
		if (a->state_w >= 0) {
			if (write(a->state_w, state, sizeof(state)) < 0)
				note("state write: %s", strerror(errno));
			close(a->state_w);
			a->state_w = -1;
		}
		agent_cmd(a, "{\"execute\":\"migrate-continue\",\"arguments\":{\"state\":\"pre-switchover\"}}");
	} else if (!strcmp(status, "completed")) {
		a->completed = true;
	} else if (!strcmp(status, "failed") || !strcmp(status, "cancelled")) {
		a->failed = true;
		if (json_object_object_get_ex(d, "error-desc", &ed))
			snprintf(a->reason, sizeof(a->reason), "%s", json_object_get_string(ed));
		/* What the agent left pinned when it said it was done. */
		if (a->source) {
			a->pinned_at_report = pinned(&sreg);
			a->tracking_at_report = tracking(&sreg);
		} else {
			a->pinned_at_report = pinned(&dreg[0]) + pinned(&dreg[1]);
		}
	}
}

/* Reads and handles what the agent wrote; waits up to @ms. */
static void agent_poll(struct agent *a, int ms)
{
	struct pollfd p = { .fd = a->ctl, .events = POLLIN };
	ssize_t k;
	char *nl;

	if (!a || a->eof)
		return;
	if (poll(&p, 1, ms) <= 0)
		return;
	k = read(a->ctl, a->buf + a->len, sizeof(a->buf) - 1 - a->len);
	if (k <= 0) {
		a->eof = true;
		return;
	}
	a->len += (size_t)k;
	a->buf[a->len] = 0;
	while ((nl = memchr(a->buf, '\n', a->len))) {
		json_object *o;

		*nl = 0;
		o = json_tokener_parse(a->buf);
		if (o) {
			on_event(a, o);
			json_object_put(o);
		}
		a->len -= (size_t)(nl + 1 - a->buf);
		memmove(a->buf, nl + 1, a->len);
	}
}

/*
 * LeakSanitizer's scan at exit costs an ASan agent a few hundred ms in a
 * TCG guest: every LEAK_EVERY-th case (and every case with HOSTILE_LEAKS)
 * has it, so each kind of failure path is scanned somewhere.
 */
#define LEAK_EVERY	3
static unsigned int started;

static void agent_start(struct agent *a, const char *name, bool source, int port,
			int timeout_ms, const char *extra)
{
	bool leaks = getenv("HOSTILE_LEAKS") || started++ % LEAK_EVERY == 0;

	char portarg[64], fds[4][16], ctlarg[16], starg[16], tmo[16];
	char *argv[40];
	int sv[2], pp[2], n = 0, i, lf;
	pid_t pid;

	memset(a, 0, sizeof(*a));
	a->source = source;
	a->state_w = -1;
	snprintf(a->log, sizeof(a->log), "%s/%s.agent.log", log_dir, name);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) || pipe2(pp, O_CLOEXEC)) {
		note("socketpair: %s", strerror(errno));
		return;
	}
	snprintf(portarg, sizeof(portarg), DST_ADDR ":%d", port);
	snprintf(ctlarg, sizeof(ctlarg), "%d", sv[1]);
	snprintf(tmo, sizeof(tmo), "%d", timeout_ms);
	argv[n++] = (char *)agent_path;
	argv[n++] = source ? "--connect" : "--listen";
	argv[n++] = portarg;
	if (source) {
		argv[n++] = "--bind";
		argv[n++] = SRC_ADDR;
		snprintf(fds[0], 16, "%d", rdmig_transfer_fd(sreg.fd));
		argv[n++] = "--region";
		argv[n++] = fds[0];
		snprintf(starg, sizeof(starg), "%d", pp[0]);
	} else {
		for (i = 0; i < NDREG; i++) {
			snprintf(fds[i], 16, "%d", rdmig_transfer_fd(dreg[i].fd));
			argv[n++] = "--region";
			argv[n++] = fds[i];
		}
		snprintf(starg, sizeof(starg), "%d", pp[1]);
	}
	argv[n++] = "--control";
	argv[n++] = ctlarg;
	argv[n++] = "--state-fd";
	argv[n++] = starg;
	argv[n++] = "--timeout-ms";
	argv[n++] = tmo;
	argv[n++] = "-v";
	if (extra)
		argv[n++] = (char *)extra;
	argv[n] = NULL;
	lf = open(a->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	pid = fork();
	if (pid == 0) {
		dup2(lf, 2);
		fcntl(sv[1], F_SETFD, 0);
		fcntl(source ? pp[0] : pp[1], F_SETFD, 0);
		for (i = 0; argv[i]; i++)
			if (!strcmp(argv[i], "--region"))
				fcntl(atoi(argv[i + 1]), F_SETFD, 0);
		setenv("ASAN_OPTIONS", leaks ? "detect_leaks=1:exitcode=99" : "detect_leaks=0:exitcode=99", 1);
		setenv("UBSAN_OPTIONS", "print_stacktrace=1:exitcode=98", 1);
		execv(argv[0], argv);
		_exit(127);
	}
	close(lf);
	for (i = 0; argv[i]; i++)
		if (!strcmp(argv[i], "--region"))
			close(atoi(argv[i + 1]));
	close(sv[1]);
	a->pid = pid;
	a->ctl = sv[0];
	if (source) {
		close(pp[0]);
		a->state_w = pp[1];
	} else {
		close(pp[1]);
		close(pp[0]);	/* the destination's state goes nowhere */
	}
	agent_cmd(a, "{\"execute\":\"qmp_capabilities\"}");
}


/* Waits for the agent's verdict and exit; records every deviation. */
static void agent_finish(struct agent *a, const char *expect, int ms)
{
	uint64_t t0 = now_ms();
	char line[512];
	FILE *f;

	while (!a->failed && !a->completed && now_ms() - t0 < (uint64_t)ms && !a->eof)
		agent_poll(a, 100);
	mark("agent reported");
	if (a->completed)
		note("the agent reported completed");
	else if (!a->failed)
		note("no failed event from the agent within %d ms", ms);
	else if (expect && !strstr(a->reason, expect))
		note("agent's reason \"%s\" lacks \"%s\"", a->reason, expect);
	if (a->failed && a->pinned_at_report)
		note("%llu pages still pinned when the agent reported",
		     (unsigned long long)a->pinned_at_report);
	if (a->failed && a->source && a->tracking_at_report)
		note("tracking still on when the agent reported");
	/* It exits once its last event is out. */
	while (now_ms() - t0 < (uint64_t)ms + 10000) {
		pid_t r = waitpid(a->pid, &a->status, WNOHANG);

		if (r == a->pid) {
			a->exited = true;
			break;
		}
		agent_poll(a, 50);
	}
	mark("agent exited");
	if (!a->exited) {
		note("agent did not exit; killed");
		kill(a->pid, SIGKILL);
		waitpid(a->pid, &a->status, 0);
	} else if (!WIFEXITED(a->status) || WEXITSTATUS(a->status) != 1) {
		note("agent exit status %d (signal %d), expected 1",
		     WIFEXITED(a->status) ? WEXITSTATUS(a->status) : -1,
		     WIFSIGNALED(a->status) ? WTERMSIG(a->status) : 0);
	}
	close(a->ctl);
	if (a->state_w >= 0)
		close(a->state_w);
	f = fopen(a->log, "r");
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "Sanitizer") || strstr(line, "runtime error")) {
			line[strcspn(line, "\n")] = 0;
			note("sanitizer: %s", line);
			break;
		}
	if (f)
		fclose(f);
	cur = NULL;
}

/* ---- the fake peer's RDMA side ---------------------------------------- */

struct msg {
	uint32_t type, repeat, len;	/* len: data bytes */
	uint8_t *d;
	uint8_t raw[BUFSZ];
};

struct peer {
	struct rdma_event_channel *ec;
	struct rdma_cm_id *lid, *id;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_mr *mr, *tmr;
	uint8_t *buf;
	uint8_t *tmap, *tgt;	/* fake destination memory between guard pages */
	bool gone, auto_ready, nowait;
	uint32_t rej_reason, acc_caps;
	uint32_t owed;		/* receives reposted, not announced */
	uint32_t credits;	/* what the agent can still take from us */
	uint32_t sends_posted, sends_done;
	uint64_t last_tx;	/* ms */
	struct msg *q[64];
	int nq;
	char rej[128];
	bool saw_error;
	char err_text[1100];
	uint32_t got[16];	/* messages received by type */
};

static void peer_cm(struct peer *p)
{
	struct rdma_cm_event *ev;

	while (p->ec && rdma_get_cm_event(p->ec, &ev) == 0) {
		if (ev->event == RDMA_CM_EVENT_DISCONNECTED ||
		    ev->event == RDMA_CM_EVENT_TIMEWAIT_EXIT)
			p->gone = true;
		if (ev->event == RDMA_CM_EVENT_CONNECT_REQUEST && ev->id != p->id) {
			/* Not ours to serve. */
			rdma_reject(ev->id, NULL, 0);
			rdma_ack_cm_event(ev);
			continue;
		}
		rdma_ack_cm_event(ev);
	}
}

static int post_recv(struct peer *p, int i)
{
	struct ibv_sge s = { (uintptr_t)(p->buf + (size_t)i * BUFSZ), BUFSZ, p->mr->lkey };
	struct ibv_recv_wr wr = { .wr_id = (uint64_t)i, .sg_list = &s, .num_sge = 1 }, *bad;

	return ibv_post_recv(p->id->qp, &wr, &bad);
}

static int peer_qp(struct peer *p, struct rdma_cm_id *id)
{
	struct ibv_qp_init_attr qa = {
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 64, .max_recv_wr = NRECV, .max_send_sge = 1,
			 .max_recv_sge = 1 },
	};
	int i;

	p->pd = ibv_alloc_pd(id->verbs);
	p->cq = ibv_create_cq(id->verbs, 128, NULL, NULL, 0);
	qa.send_cq = qa.recv_cq = p->cq;
	if (!p->pd || !p->cq || rdma_create_qp(id, p->pd, &qa)) {
		note("peer QP: %s", strerror(errno));
		return -1;
	}
	p->id = id;
	p->buf = calloc(NRECV + NSEND, BUFSZ);
	p->mr = ibv_reg_mr(p->pd, p->buf, (size_t)(NRECV + NSEND) * BUFSZ, IBV_ACCESS_LOCAL_WRITE);
	/* What a fake destination lets the source write: guard pages around it. */
	p->tmap = mmap(NULL, SLEN + 2 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p->tgt = p->tmap + PAGE;
	mprotect(p->tgt, SLEN, PROT_READ | PROT_WRITE);
	p->tmr = ibv_reg_mr(p->pd, p->tgt, SLEN, IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE);
	if (!p->mr || !p->tmr) {
		note("peer MR: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < NRECV; i++)
		if (post_recv(p, i))
			return -1;
	p->auto_ready = true;
	return 0;
}

static void peer_free(struct peer *p)
{
	int i;

	for (i = 0; i < p->nq; i++)
		free(p->q[i]);
	if (p->id && p->id->qp) {
		rdma_disconnect(p->id);
		rdma_destroy_qp(p->id);
	}
	if (p->mr)
		ibv_dereg_mr(p->mr);
	if (p->tmr)
		ibv_dereg_mr(p->tmr);
	if (p->cq)
		ibv_destroy_cq(p->cq);
	if (p->pd)
		ibv_dealloc_pd(p->pd);
	if (p->id)
		rdma_destroy_id(p->id);
	if (p->lid)
		rdma_destroy_id(p->lid);
	if (p->ec)
		rdma_destroy_event_channel(p->ec);
	if (p->tmap)
		munmap(p->tmap, SLEN + 2 * PAGE);
	free(p->buf);
	memset(p, 0, sizeof(*p));
}

/* Next CM event within @ms, or NULL. */
static struct rdma_cm_event *cm_wait(struct peer *p, int ms)
{
	struct rdma_cm_event *ev;
	uint64_t t0 = now_ms();

	while (now_ms() - t0 < (uint64_t)ms) {
		struct pollfd f = { .fd = p->ec->fd, .events = POLLIN };

		if (rdma_get_cm_event(p->ec, &ev) == 0)
			return ev;
		agent_poll(cur, 0);
		poll(&f, 1, 20);
	}
	return NULL;
}

static struct rdma_cm_event *cm_expect(struct peer *p, int want, int ms)
{
	struct rdma_cm_event *ev = cm_wait(p, ms);

	if (!ev)
		return NULL;
	if ((int)ev->event != want) {
		note("CM event %s, expected %s", rdma_event_str(ev->event),
		     rdma_event_str((enum rdma_cm_event_type)want));
		rdma_ack_cm_event(ev);
		return NULL;
	}
	return ev;
}

static void peer_new(struct peer *p)
{
	memset(p, 0, sizeof(*p));
	p->ec = rdma_create_event_channel();
	fcntl(p->ec->fd, F_SETFL, fcntl(p->ec->fd, F_GETFL) | O_NONBLOCK);
}

/*
 * Fake source: connects with @pd. 0 = established, 1 = rejected by rdmigd
 * (p->rej holds its text), -1 = failure. Retries while nobody listens.
 */
static int peer_connect(struct peer *p, int port, const uint8_t *pd, uint8_t pdlen)
{
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct sockaddr_in src = { .sin_family = AF_INET };
	struct rdma_conn_param cp = { .responder_resources = 1, .initiator_depth = 1,
				      .retry_count = 7, .rnr_retry_count = 7 };
	uint64_t t0 = now_ms();

	inet_pton(AF_INET, DST_ADDR, &dst.sin_addr);
	inet_pton(AF_INET, SRC_ADDR, &src.sin_addr);
	cp.private_data = pd;
	cp.private_data_len = pdlen;
	for (;;) {
		struct rdma_cm_event *ev;
		struct rdma_cm_id *id;
		struct wire_rej r;
		int e;

		if (rdma_create_id(p->ec, &id, NULL, RDMA_PS_TCP) ||
		    rdma_resolve_addr(id, (struct sockaddr *)&src, (struct sockaddr *)&dst, 2000)) {
			note("resolve: %s", strerror(errno));
			return -1;
		}
		ev = cm_expect(p, RDMA_CM_EVENT_ADDR_RESOLVED, 5000);
		if (!ev)
			return -1;
		rdma_ack_cm_event(ev);
		if (rdma_resolve_route(id, 2000))
			return -1;
		ev = cm_expect(p, RDMA_CM_EVENT_ROUTE_RESOLVED, 5000);
		if (!ev)
			return -1;
		rdma_ack_cm_event(ev);
		if (peer_qp(p, id) || rdma_connect(id, &cp)) {
			note("connect: %s", strerror(errno));
			return -1;
		}
		ev = cm_wait(p, 10000);
		if (!ev) {
			note("no answer to the connect request");
			return -1;
		}
		e = ev->event;
		if (e == RDMA_CM_EVENT_ESTABLISHED) {
			mark("connected");
			if (ev->param.conn.private_data_len >= 8)
				p->acc_caps = wire_get32((const uint8_t *)ev->param.conn.private_data + 4);
			rdma_ack_cm_event(ev);
			p->credits = CONN_CREDITS_AGENT;
			return 0;
		}
		if (e == RDMA_CM_EVENT_REJECTED &&
		    wire_rej_decode(ev->param.conn.private_data, ev->param.conn.private_data_len,
				    &r, p->rej, sizeof(p->rej)) == 0) {
			p->rej_reason = r.reason;
			rdma_ack_cm_event(ev);
			return 1;
		}
		rdma_ack_cm_event(ev);
		/* Nobody listening yet: the agent is still starting. */
		if (now_ms() - t0 > 20000 || (cur && cur->eof)) {
			note("could not connect: %s", rdma_event_str((enum rdma_cm_event_type)e));
			return -1;
		}
		rdma_destroy_qp(id);
		ibv_dereg_mr(p->mr);
		ibv_dereg_mr(p->tmr);
		ibv_destroy_cq(p->cq);
		ibv_dealloc_pd(p->pd);
		munmap(p->tmap, SLEN + 2 * PAGE);
		free(p->buf);
		p->mr = p->tmr = NULL;
		p->cq = NULL;
		p->pd = NULL;
		p->tmap = NULL;
		p->buf = NULL;
		rdma_destroy_id(id);
		p->id = NULL;
		usleep(50000);
	}
}

static int peer_listen(struct peer *p, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	inet_pton(AF_INET, DST_ADDR, &a.sin_addr);
	if (rdma_create_id(p->ec, &p->lid, NULL, RDMA_PS_TCP) ||
	    rdma_bind_addr(p->lid, (struct sockaddr *)&a) || rdma_listen(p->lid, 4)) {
		note("listen: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Fake destination: accepts the next connect request with @pd. */
static int peer_accept(struct peer *p, const uint8_t *pd, uint8_t pdlen)
{
	struct rdma_conn_param cp = { .responder_resources = 1, .initiator_depth = 1,
				      .rnr_retry_count = 7 };
	struct rdma_cm_event *ev = cm_expect(p, RDMA_CM_EVENT_CONNECT_REQUEST, 20000);
	struct rdma_cm_id *id;

	if (!ev) {
		note("no connect request from the source");
		return -1;
	}
	id = ev->id;
	rdma_ack_cm_event(ev);
	if (peer_qp(p, id))
		return -1;
	cp.private_data = pd;
	cp.private_data_len = pdlen;
	if (rdma_accept(id, &cp)) {
		note("accept: %s", strerror(errno));
		return -1;
	}
	ev = cm_wait(p, 10000);
	if (!ev || ev->event != RDMA_CM_EVENT_ESTABLISHED) {
		if (ev)
			rdma_ack_cm_event(ev);
		/* a source refusing the accept may disconnect at once */
		p->gone = true;
		return 0;
	}
	rdma_ack_cm_event(ev);
	p->credits = CONN_CREDITS_AGENT;
	return 0;
}

static void peer_poll(struct peer *p);

/* Posts @len bytes as one SEND; waits for it to leave (unless flooding). */
static int psend_raw(struct peer *p, const void *b, uint32_t len)
{
	static uint32_t slot;
	uint8_t *sb = p->buf + (size_t)(NRECV + slot) * BUFSZ;
	struct ibv_sge s = { (uintptr_t)sb, len, p->mr->lkey };
	struct ibv_send_wr wr = { .wr_id = 1000 + slot, .sg_list = &s, .num_sge = 1,
				  .opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED }, *bad;

	uint64_t t0 = now_ms();

	if (p->gone || !p->id || !p->id->qp)
		return -1;
	/* A flood keeps the send queue from overflowing, nothing more. */
	while (p->nowait && p->sends_posted - p->sends_done >= 48 && !p->gone &&
	       now_ms() - t0 < 3000)
		peer_poll(p);
	slot = (slot + 1) % NSEND;
	memcpy(sb, b, len);
	if (ibv_post_send(p->id->qp, &wr, &bad))
		return -1;
	p->sends_posted++;
	p->last_tx = now_ms();
	if (p->credits)
		p->credits--;
	/* rxe reads the buffer when it transmits: wait before reusing it. */
	while (!p->nowait && p->sends_done < p->sends_posted && !p->gone &&
	       now_ms() - t0 < 3000) {
		peer_poll(p);
		agent_poll(cur, 0);
	}
	return 0;
}

static int psend(struct peer *p, uint32_t type, uint32_t repeat, const void *d, uint32_t len)
{
	static uint8_t b[BUFSZ];

	wire_hdr_encode(b, type, repeat, len);
	if (len)
		memcpy(b + WIRE_HDR_LEN, d, len);
	return psend_raw(p, b, WIRE_HDR_LEN + len);
}

static void pready(struct peer *p, uint32_t n)
{
	uint8_t d[4];

	wire_put32(d, n);
	psend(p, WIRE_READY, 1, d, 4);
}

/* Polls completions: receives are queued (READY taken as credits). */
static void peer_poll(struct peer *p)
{
	struct ibv_wc wc[16];
	int n, i;

	peer_cm(p);
	if (!p->cq)
		return;
	while ((n = ibv_poll_cq(p->cq, 16, wc)) > 0) {
		for (i = 0; i < n; i++) {
			struct msg *m;
			uint8_t *b;

			if (wc[i].status != IBV_WC_SUCCESS) {
				p->gone = true;
				continue;
			}
			if (wc[i].opcode != IBV_WC_RECV) {
				p->sends_done++;
				continue;
			}
			b = p->buf + wc[i].wr_id * BUFSZ;
			if (wc[i].byte_len < WIRE_HDR_LEN) {
				note("agent sent a %u-byte message", wc[i].byte_len);
				post_recv(p, (int)wc[i].wr_id);
				continue;
			}
			m = malloc(sizeof(*m));
			m->len = wire_get32(b);
			m->type = wire_get32(b + 4);
			m->repeat = wire_get32(b + 8);
			if (m->len != wc[i].byte_len - WIRE_HDR_LEN)
				note("agent sent a message whose length lies");
			memcpy(m->raw, b, wc[i].byte_len < BUFSZ ? wc[i].byte_len : BUFSZ);
			m->d = m->raw + WIRE_HDR_LEN;
			post_recv(p, (int)wc[i].wr_id);
			p->owed++;
			if (m->type < 16)
				p->got[m->type]++;
			if (m->type == WIRE_READY) {
				p->credits += wire_get32(m->d);
				free(m);
				continue;
			}
			if (m->type == WIRE_ERROR) {
				uint32_t k, tl = m->len > 4 ? m->len - 4 : 0;

				p->saw_error = true;
				for (k = 0; k < tl && k + 1 < sizeof(p->err_text); k++)
					p->err_text[k] = (char)m->d[4 + k];
				p->err_text[k] = 0;
			}
			if (p->nq < 64)
				p->q[p->nq++] = m;
			else
				free(m);
		}
	}
}

/* Next message other than READY within @ms: 1, 0 on timeout, -1 gone. */
static int precv(struct peer *p, struct msg **out, int ms)
{
	uint64_t t0 = now_ms();

	for (;;) {
		peer_poll(p);
		/* Credits back, and a keepalive as a live peer sends one. */
		if (p->auto_ready && !p->gone &&
		    (p->owed >= 4 || now_ms() - p->last_tx >= 500)) {
			uint32_t n = p->owed;

			p->owed = 0;
			pready(p, n);
		}
		if (p->nq) {
			*out = p->q[0];
			memmove(p->q, p->q + 1, (size_t)--p->nq * sizeof(p->q[0]));
			return 1;
		}
		if (p->gone)
			return -1;
		if (now_ms() - t0 >= (uint64_t)ms)
			return 0;
		agent_poll(cur, 5);
	}
}

/* Waits for a message of @type (others dropped). */
static struct msg *pwait(struct peer *p, uint32_t type, int ms)
{
	uint64_t t0 = now_ms();
	struct msg *m;

	while (now_ms() - t0 < (uint64_t)ms) {
		int r = precv(p, &m, 100);

		if (r < 0)
			break;
		if (r == 0)
			continue;
		if (m->type == type)
			return m;
		if (m->type == WIRE_ERROR) {
			note("agent sent ERROR \"%s\" while we waited for %s", p->err_text,
			     wire_type_name(type));
			free(m);
			return NULL;
		}
		free(m);
	}
	note("no %s from the agent", wire_type_name(type));
	return NULL;
}

/*
 * The peer's side of the verdict: an ERROR from the agent whose text holds
 * @expect, or (expect "DISCONNECT") a disconnect with no ERROR and nothing
 * else. Messages meanwhile are dropped.
 */
static void peer_verdict(struct peer *p, const char *expect, int ms)
{
	uint64_t t0 = now_ms();
	struct msg *m;

	if (!expect)
		return;
	mark("verdict wait");
	while (!p->saw_error && now_ms() - t0 < (uint64_t)ms) {
		int r = precv(p, &m, 100);

		if (r > 0) {
			if (!strcmp(expect, "DISCONNECT") && m->type == WIRE_RAM_BLOCKS_REQ)
				note("the agent went on with RAM blocks after refusing the accept");
			free(m);
		}
		if (r < 0)
			break;
	}
	if (!strcmp(expect, "ERROR_OR_DISCONNECT")) {
		if (p->saw_error && !strstr(p->err_text, "without a credit"))
			note("agent's ERROR \"%s\" lacks \"without a credit\"", p->err_text);
		while (!p->saw_error && !p->gone && now_ms() - t0 < (uint64_t)ms) {
			peer_poll(p);
			agent_poll(cur, 20);
		}
		if (!p->saw_error && !p->gone)
			note("agent neither sent ERROR nor disconnected");
		return;
	}
	if (!strcmp(expect, "DISCONNECT")) {
		if (p->saw_error)
			note("agent sent ERROR \"%s\" where it must only disconnect", p->err_text);
		while (!p->gone && now_ms() - t0 < (uint64_t)ms) {
			peer_poll(p);
			agent_poll(cur, 20);
		}
		if (!p->gone)
			note("agent did not disconnect");
		return;
	}
	if (!p->saw_error)
		note("no ERROR from the agent (%s)", p->gone ? "it disconnected" : "timeout");
	else if (!strstr(p->err_text, expect))
		note("agent's ERROR \"%s\" lacks \"%s\"", p->err_text, expect);
}

/* ---- the cases ---------------------------------------------------------- */

enum fill {
	F_NONE,		/* data zero */
	F_BLOCKS,	/* RAM blocks request: p0 index to alter, p1 new length (0 = keep),
			   p2 flags, p3 reserved; count = repeat */
	F_CHUNKS,	/* chunk entries: block p0, chunk p1 (entry i: chunk p1 + i*p2) */
	F_RANGE,	/* zero range: block p0, offset p1, length p2, reserved p3 */
	F_FIN,		/* REGISTER_FINISHED: iteration p0, flags p1, state p2, nonce p3 */
	F_READY,	/* READY p0 */
	F_ERROR,	/* ERROR code p0, text of p1 bytes 0x01..0xff */
	F_BYTES,	/* every byte p0 */
	F_REGRES,	/* register result entries: block p0, chunk p1, reserved p2 */
	F_BLKRES,	/* RAM blocks result: repeat entries, reserved p0, rkey p1 */
	F_ACK_ECHO,	/* (source role, at LAST) the ACK with fields altered: p0
			   iteration delta, p1 flags, p2 state delta, p3 nonce xor */
};

enum pdk {	/* private data variants */
	PD_OK, PD_VER1, PD_VER3, PD_CHUNK2M, PD_CHUNKBAD, PD_CRED0, PD_CRED1,
	PD_CRED5000, PD_SHORT, PD_UNKCAP, PD_NONE, PD_PINALL, PD_AUTHCAP,
	PD_VER0,
};

/* When a source-role (fake destination) case strikes. */
/*
 * AT_REG2: the second REGISTER_REQUEST (the source ramps its requests up,
 * 1 chunk then 2: a result of one entry is short only for the second).
 */
enum at { AT_EST = 1, AT_BLOCKS, AT_REG, AT_LAST, AT_UNREG_NEVER, AT_REG2 };

/* Special behaviours. */
enum spec {
	S_MSG,		/* send the message described */
	S_SILENT,	/* say nothing more */
	S_VANISH,	/* disconnect */
	S_FLOOD,	/* p0 copies of the message, without waiting for credits */
	S_SECOND,	/* a second connect request while this one is served */
	S_WRITE_OOB,	/* RDMA WRITE past the registered chunk */
	S_NONE,		/* nothing: only the private data matters */
	S_CONTROL,	/* a faithful peer: the migration must complete */
	S_KEEP,		/* dst --require-auth: sources refused, it keeps listening */
};

#define PRE_BLOCKS	1u	/* dst: RAM blocks exchanged first */
#define PRE_REG		2u	/* dst: chunk 0/0 registered first */
#define PRE_STATE	4u	/* dst: one QEMU_FILE sent first */
#define X_ANSWER	8u	/* src: answer the message normally first */
#define X_CONTINUE	16u	/* src: go on as a destination after the act (LAST never acked) */
#define X_RAW_HDR	32u	/* header from the case (hlen, rsvd) as given */
#define X_NOREADY	64u	/* dst: never return the agent's credits */

struct hcase {
	const char *name;
	char role;		/* 'd' fake source vs destination, 's' fake destination vs source */
	enum pdk pd;
	unsigned flags;		/* PRE_*, X_* */
	enum at at;		/* role 's' */
	enum spec spec;
	uint32_t type, repeat;
	int64_t hlen;		/* header length (X_RAW_HDR), else data length */
	int64_t dlen;		/* data bytes sent (-1: as the type needs) */
	uint32_t rsvd;		/* header reserved (X_RAW_HDR) */
	enum fill fill;
	uint64_t p[4];
	const char *agent;	/* in the agent's failed reason */
	const char *peer;	/* in the agent's ERROR (NULL: not checked; "DISCONNECT") */
	int timeout_ms;		/* agent inactivity limit (0: 6000) */
	const char *opt;	/* one more agent option */
};

#define RSN_PROTO	"malformed message from peer"

/* Unnamed trailing fields are zero: the table reads better without them. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct hcase cases[] = {
/* ---- fake source against a listening destination ---- */
/* connect-time */
{ "d-pd-version1", 'd', PD_VER1, 0, 0, S_NONE, .agent = "protocol version 1, this agent speaks 3", .peer = "version" },
{ "d-pd-version-next", 'd', PD_VER3, 0, 0, S_NONE, .agent = "protocol version 4", .peer = "version" },
{ "d-pd-version0", 'd', PD_VER0, 0, 0, S_NONE, .agent = "protocol version 0", .peer = "version" },
{ "d-pd-chunk-2M", 'd', PD_CHUNK2M, 0, 0, S_NONE, .agent = "chunk size 2097152 differs", .peer = "chunk size" },
{ "d-pd-chunk-not-pow2", 'd', PD_CHUNKBAD, 0, 0, S_NONE, .agent = "not a power of two", .peer = "power of two" },
{ "d-pd-credits-0", 'd', PD_CRED0, 0, 0, S_NONE, .agent = "credits outside", .peer = "credits" },
{ "d-pd-credits-1", 'd', PD_CRED1, 0, 0, S_NONE, .agent = "credits outside", .peer = "credits" },
{ "d-pd-credits-5000", 'd', PD_CRED5000, 0, 0, S_NONE, .agent = "credits outside", .peer = "credits" },
{ "d-pd-short", 'd', PD_SHORT, 0, 0, S_NONE, .agent = "not a power of two", .peer = "power of two" },
{ "d-pd-none", 'd', PD_NONE, 0, 0, S_NONE, .agent = "refused 198.18.0.1", .peer = NULL },
/* unknown capability bits in a request are not granted (the intersection); then a lie */
{ "d-pd-unknown-cap-then-bad", 'd', PD_UNKCAP, 0, 0, S_MSG, WIRE_REG_REQ, 1, 100, 8, .agent = "length does not match", .peer = "length does not match" },
/* header lies */
{ "d-len-longer", 'd', PD_OK, X_RAW_HDR, 0, S_MSG, WIRE_REG_REQ, 1, 100, 8, .agent = "header length does not match", .peer = "header length" },
{ "d-len-shorter", 'd', PD_OK, X_RAW_HDR, 0, S_MSG, WIRE_REG_REQ, 2, 8, 16, .agent = "header length does not match", .peer = "header length" },
{ "d-len-huge", 'd', PD_OK, X_RAW_HDR, 0, S_MSG, WIRE_QEMU_FILE, 1, 0xffffffffll, 64, .agent = "header length does not match", .peer = "header length" },
{ "d-truncated-8", 'd', PD_OK, X_RAW_HDR, 0, S_MSG, WIRE_REG_REQ, 1, 0, -8, .agent = "shorter than its 16-byte header", .peer = "shorter" },
{ "d-truncated-0", 'd', PD_OK, X_RAW_HDR, 0, S_MSG, WIRE_REG_REQ, 1, 0, -16, .agent = "shorter than its 16-byte header", .peer = "shorter" },
{ "d-repeat-0", 'd', PD_OK, X_RAW_HDR, 0, S_MSG, WIRE_REG_REQ, 0, 0, 0, .agent = "repeat outside", .peer = "repeat" },
{ "d-repeat-4097", 'd', PD_OK, X_RAW_HDR, 0, S_MSG, WIRE_REG_REQ, 4097, 4097 * 8, 4097 * 8, .agent = "repeat outside", .peer = "repeat" },
/* (bigger than a receive buffer: the agent's QP breaks, it cannot answer) */
{ "d-too-long", 'd', PD_OK, X_RAW_HDR, 0, S_MSG, WIRE_QEMU_FILE, 1, 100000, 100000, .agent = "longer than the largest allowed (98320 bytes)", .peer = NULL },
{ "d-repeat-lies", 'd', PD_OK, X_RAW_HDR, 0, S_MSG, WIRE_REG_REQ, 3, 16, 16, .agent = "does not match repeat", .peer = "repeat" },
{ "d-repeat-nonarray", 'd', PD_OK, X_RAW_HDR, 0, S_MSG, WIRE_READY, 2, 8, 8, .agent = "repeat must be 1", .peer = "repeat" },
{ "d-hdr-reserved", 'd', PD_OK, X_RAW_HDR, 0, S_MSG, WIRE_READY, 1, 4, 4, 1, .agent = "reserved header field", .peer = "reserved" },
{ "d-hdr-reserved-high", 'd', PD_OK, X_RAW_HDR | PRE_BLOCKS, 0, S_MSG, WIRE_REG_REQ, 1, 8, 8, 0x80000000u, .agent = "reserved header field", .peer = "reserved" },
/* types */
{ "d-type-0", 'd', PD_OK, 0, 0, S_MSG, 0, 1, 4, 4, .agent = "unknown message type", .peer = "unknown message type" },
{ "d-type-unused", 'd', PD_OK, 0, 0, S_MSG, WIRE_UNUSED, 1, 4, 4, .agent = "unknown message type", .peer = "unknown" },
{ "d-type-18", 'd', PD_OK, 0, 0, S_MSG, 18, 1, 4, 4, .agent = "unknown message type", .peer = "unknown" },
/* several QPs: nothing of it without the QPS capability (protocol.md) */
{ "d-qps-uncapped", 'd', PD_OK, 0, 0, S_MSG, WIRE_QPS_REQ, 1, 4, 4, .agent = "unexpected QPS_REQUEST", .peer = "unexpected" },
{ "d-barrier-one-qp", 'd', PD_OK, 0, 0, S_MSG, WIRE_BARRIER, 1, 8, 8, .agent = "BARRIER without data QPs", .peer = "BARRIER" },
{ "d-type-huge", 'd', PD_OK, 0, 0, S_MSG, 0xffffffffu, 1, 4, 4, .agent = "unknown message type", .peer = "unknown" },
{ "d-type-blocks-result", 'd', PD_OK, 0, 0, S_MSG, WIRE_RAM_BLOCKS_RES, 1, 16, 16, .agent = "unexpected RAM_BLOCKS_RESULT", .peer = "unexpected" },
{ "d-type-reg-result", 'd', PD_OK, PRE_BLOCKS, 0, S_MSG, WIRE_REG_RES, 1, 24, 24, .agent = "unexpected REGISTER_RESULT", .peer = "unexpected" },
{ "d-type-unreg-finished", 'd', PD_OK, PRE_BLOCKS, 0, S_MSG, WIRE_UNREG_FINISHED, 1, 8, 8, .agent = "unexpected UNREGISTER_FINISHED", .peer = "unexpected" },
{ "d-type-auth-unnegotiated", 'd', PD_OK, 0, 0, S_MSG, WIRE_AUTH, 1, 32, 32, .agent = "unexpected AUTH", .peer = "AUTH" },
{ "d-error-from-source", 'd', PD_OK, PRE_BLOCKS, 0, S_MSG, WIRE_ERROR, 1, 40, 40, .fill = F_ERROR, .p = { 6, 36 }, .agent = "peer aborted (error 6)", .peer = NULL },
{ "d-error-long-garbage", 'd', PD_OK, 0, 0, S_MSG, WIRE_ERROR, 1, 1028, 1028, .fill = F_ERROR, .p = { 0xffffffff, 1024 }, .agent = "peer aborted (error 4294967295)", .peer = NULL },
{ "d-error-too-long", 'd', PD_OK, 0, 0, S_MSG, WIRE_ERROR, 1, 1029, 1029, .fill = F_ERROR, .p = { 1, 1025 }, .agent = "bad ERROR length", .peer = "ERROR length" },
{ "d-ready-bad-len", 'd', PD_OK, 0, 0, S_MSG, WIRE_READY, 1, 8, 8, .agent = "bad READY length", .peer = "READY" },
{ "d-ready-too-many", 'd', PD_OK, 0, 0, S_MSG, WIRE_READY, 1, 4, 4, .fill = F_READY, .p = { 1000 }, .agent = "more than it could owe", .peer = "more than it could owe" },
{ "d-finished-v1-len", 'd', PD_OK, PRE_BLOCKS, 0, S_MSG, WIRE_REG_FINISHED, 1, 16, 16, .agent = "bad REGISTER_FINISHED length", .peer = "REGISTER_FINISHED" },
{ "d-qemufile-empty", 'd', PD_OK, PRE_BLOCKS, 0, S_MSG, WIRE_QEMU_FILE, 1, 0, 0, .agent = "empty QEMU_FILE", .peer = "QEMU_FILE" },
/* order */
{ "d-order-state-first", 'd', PD_OK, 0, 0, S_MSG, WIRE_QEMU_FILE, 1, 100, 100, .fill = F_BYTES, .p = { 0x5a }, .agent = "device state before RAM blocks", .peer = "device state before" },
{ "d-order-reg-first", 'd', PD_OK, 0, 0, S_MSG, WIRE_REG_REQ, 1, 8, 8, .fill = F_CHUNKS, .agent = "register request before RAM blocks", .peer = "before RAM blocks" },
{ "d-order-zero-first", 'd', PD_OK, 0, 0, S_MSG, WIRE_COMPRESS, 1, 24, 24, .fill = F_RANGE, .p = { 0, 0, PAGE }, .agent = "zero range before RAM blocks", .peer = "before RAM blocks" },
{ "d-order-unreg-first", 'd', PD_OK, 0, 0, S_MSG, WIRE_UNREG_REQ, 1, 8, 8, .fill = F_CHUNKS, .agent = "which is not registered", .peer = "not registered" },
{ "d-order-finished-first", 'd', PD_OK, 0, 0, S_MSG, WIRE_REG_FINISHED, 1, 24, 24, .fill = F_FIN, .p = { 0, WIRE_FIN_LAST }, .agent = "unexpected REGISTER_FINISHED", .peer = "REGISTER_FINISHED" },
{ "d-order-blocks-twice", 'd', PD_OK, PRE_BLOCKS, 0, S_MSG, WIRE_RAM_BLOCKS_REQ, 2, 32, 32, .fill = F_BLOCKS, .p = { 9 }, .agent = "second RAM blocks request", .peer = "second" },
{ "d-order-reg-after-state", 'd', PD_OK, PRE_BLOCKS | PRE_STATE, 0, S_MSG, WIRE_REG_REQ, 1, 8, 8, .fill = F_CHUNKS, .agent = "REGISTER_REQUEST after the device state", .peer = "after the device state" },
{ "d-order-zero-after-state", 'd', PD_OK, PRE_BLOCKS | PRE_STATE, 0, S_MSG, WIRE_COMPRESS, 1, 24, 24, .fill = F_RANGE, .p = { 0, 0, PAGE }, .agent = "COMPRESS after the device state", .peer = "after the device state" },
{ "d-order-unreg-after-state", 'd', PD_OK, PRE_BLOCKS | PRE_REG | PRE_STATE, 0, S_MSG, WIRE_UNREG_REQ, 1, 8, 8, .fill = F_CHUNKS, .agent = "UNREGISTER_REQUEST after the device state", .peer = "after the device state" },
{ "d-finished-ack-flag", 'd', PD_OK, PRE_BLOCKS, 0, S_MSG, WIRE_REG_FINISHED, 1, 24, 24, .fill = F_FIN, .p = { 1, WIRE_FIN_ACK }, .agent = "unexpected REGISTER_FINISHED flags 0x2", .peer = "flags" },
{ "d-finished-unknown-flag", 'd', PD_OK, PRE_BLOCKS, 0, S_MSG, WIRE_REG_FINISHED, 1, 24, 24, .fill = F_FIN, .p = { 1, WIRE_FIN_LAST | 0x100 }, .agent = "unexpected REGISTER_FINISHED flags 0x101", .peer = "flags" },
{ "d-finished-state-lie", 'd', PD_OK, PRE_BLOCKS | PRE_STATE, 0, S_MSG, WIRE_REG_FINISHED, 1, 24, 24, .fill = F_FIN, .p = { 1, WIRE_FIN_LAST, 99999 }, .agent = "source announced 99999", .peer = "announced" },
/* RAM blocks */
{ "d-blocks-count", 'd', PD_OK, 0, 0, S_MSG, WIRE_RAM_BLOCKS_REQ, 1, 16, 16, .fill = F_BLOCKS, .p = { 9 }, .agent = "source has 1 RAM blocks, destination 2", .peer = "RAM blocks" },
{ "d-blocks-count-max", 'd', PD_OK, 0, 0, S_MSG, WIRE_RAM_BLOCKS_REQ, 4096, 4096 * 16, 4096 * 16, .fill = F_BLOCKS, .p = { 9 }, .agent = "source has 4096 RAM blocks", .peer = "RAM blocks" },
{ "d-blocks-length", 'd', PD_OK, 0, 0, S_MSG, WIRE_RAM_BLOCKS_REQ, 2, 32, 32, .fill = F_BLOCKS, .p = { 1, 8u << 20 }, .agent = "RAM block 1 is 8388608 bytes on the source", .peer = "RAM block 1" },
{ "d-blocks-length-huge", 'd', PD_OK, 0, 0, S_MSG, WIRE_RAM_BLOCKS_REQ, 2, 32, 32, .fill = F_BLOCKS, .p = { 0, ~0ull }, .agent = "RAM block 0 is 18446744073709551615", .peer = "RAM block 0" },
{ "d-blocks-flags", 'd', PD_OK, 0, 0, S_MSG, WIRE_RAM_BLOCKS_REQ, 2, 32, 32, .fill = F_BLOCKS, .p = { 1, 0, 4 }, .agent = "unknown flags 0x4", .peer = "flags" },
{ "d-blocks-reserved", 'd', PD_OK, 0, 0, S_MSG, WIRE_RAM_BLOCKS_REQ, 2, 32, 32, .fill = F_BLOCKS, .p = { 1, 0, 0, 1 }, .agent = "reserved field of an entry", .peer = "reserved" },
/* registration */
{ "d-reg-block-oob", 'd', PD_OK, PRE_BLOCKS, 0, S_MSG, WIRE_REG_REQ, 1, 8, 8, .fill = F_CHUNKS, .p = { 2, 0 }, .agent = "block index outside", .peer = "block index" },
{ "d-reg-block-max", 'd', PD_OK, PRE_BLOCKS, 0, S_MSG, WIRE_REG_REQ, 1, 8, 8, .fill = F_CHUNKS, .p = { 0xffffffff, 0 }, .agent = "block index outside", .peer = "block index" },
{ "d-reg-chunk-oob", 'd', PD_OK, PRE_BLOCKS, 0, S_MSG, WIRE_REG_REQ, 1, 8, 8, .fill = F_CHUNKS, .p = { 0, 4 }, .agent = "chunk index outside", .peer = "chunk index" },
{ "d-reg-chunk-partial-oob", 'd', PD_OK, PRE_BLOCKS, 0, S_MSG, WIRE_REG_REQ, 1, 8, 8, .fill = F_CHUNKS, .p = { 1, 3 }, .agent = "chunk index outside", .peer = "chunk index" },
{ "d-reg-chunk-max", 'd', PD_OK, PRE_BLOCKS, 0, S_MSG, WIRE_REG_REQ, 1, 8, 8, .fill = F_CHUNKS, .p = { 0, 0xffffffff }, .agent = "chunk index outside", .peer = "chunk index" },
{ "d-reg-later-entry-oob", 'd', PD_OK, PRE_BLOCKS, 0, S_MSG, WIRE_REG_REQ, 6, 48, 48, .fill = F_CHUNKS, .p = { 0, 0, 1 }, .agent = "chunk index outside", .peer = "chunk index" },
{ "d-reg-max-batch-oob", 'd', PD_OK, PRE_BLOCKS, 0, S_MSG, WIRE_REG_REQ, 4096, 4096 * 8, 4096 * 8, .fill = F_CHUNKS, .p = { 0, 0, 1 }, .agent = "chunk index outside", .peer = "chunk index" },
{ "d-unreg-never-registered", 'd', PD_OK, PRE_BLOCKS, 0, S_MSG, WIRE_UNREG_REQ, 1, 8, 8, .fill = F_CHUNKS, .p = { 0, 1 }, .agent = "which is not registered", .peer = "not registered" },
{ "d-unreg-twice", 'd', PD_OK, PRE_BLOCKS | PRE_REG, 0, S_MSG, WIRE_UNREG_REQ, 2, 16, 16, .fill = F_CHUNKS, .p = { 0, 0, 0 }, .agent = "which is not registered", .peer = "not registered" },
{ "d-unreg-oob", 'd', PD_OK, PRE_BLOCKS | PRE_REG, 0, S_MSG, WIRE_UNREG_REQ, 1, 8, 8, .fill = F_CHUNKS, .p = { 7, 0 }, .agent = "block index outside", .peer = "block index" },
/* zero ranges */
{ "d-zero-block-oob", 'd', PD_OK, PRE_BLOCKS, 0, S_MSG, WIRE_COMPRESS, 1, 24, 24, .fill = F_RANGE, .p = { 2, 0, PAGE }, .agent = "block index outside", .peer = "block index" },
{ "d-zero-offset-oob", 'd', PD_OK, PRE_BLOCKS, 0, S_MSG, WIRE_COMPRESS, 1, 24, 24, .fill = F_RANGE, .p = { 0, 4u << 20, PAGE }, .agent = "range outside its block", .peer = "outside its block" },
{ "d-zero-length-oob", 'd', PD_OK, PRE_BLOCKS, 0, S_MSG, WIRE_COMPRESS, 1, 24, 24, .fill = F_RANGE, .p = { 1, 2u << 20, 2 * PAGE }, .agent = "range outside its block", .peer = "outside its block" },
{ "d-zero-wrap", 'd', PD_OK, PRE_BLOCKS, 0, S_MSG, WIRE_COMPRESS, 1, 24, 24, .fill = F_RANGE, .p = { 0, PAGE, ~0ull - PAGE + 1 }, .agent = "range outside its block", .peer = "outside its block" },
{ "d-zero-unaligned", 'd', PD_OK, PRE_BLOCKS, 0, S_MSG, WIRE_COMPRESS, 1, 24, 24, .fill = F_RANGE, .p = { 0, 100, PAGE }, .agent = "not page aligned", .peer = "aligned" },
{ "d-zero-empty", 'd', PD_OK, PRE_BLOCKS, 0, S_MSG, WIRE_COMPRESS, 1, 24, 24, .fill = F_RANGE, .p = { 0, 0, 0 }, .agent = "not page aligned or empty", .peer = "empty" },
{ "d-zero-reserved", 'd', PD_OK, PRE_BLOCKS, 0, S_MSG, WIRE_COMPRESS, 1, 24, 24, .fill = F_RANGE, .p = { 0, 0, PAGE, 1 }, .agent = "reserved field of an entry", .peer = "reserved" },
/* floods, silence, vanishing */
/* (a flooder that returns no credits may leave the agent none for its ERROR: it disconnects) */
{ "d-flood-ready", 'd', PD_OK, 0, 0, S_FLOOD, WIRE_READY, 1, 4, 4, .fill = F_READY, .p = { 0 }, .agent = "without a credit", .peer = "ERROR_OR_DISCONNECT" },
{ "d-flood-requests", 'd', PD_OK, PRE_BLOCKS | X_NOREADY, 0, S_FLOOD, WIRE_REG_REQ, 1, 8, 8, .fill = F_CHUNKS, .agent = "without a credit", .peer = "ERROR_OR_DISCONNECT" },
{ "d-silent-after-connect", 'd', PD_OK, 0, 0, S_SILENT, .agent = "the peer sent nothing for 2000 ms", .peer = "nothing for 2000 ms", .timeout_ms = 2000 },
{ "d-silent-after-blocks", 'd', PD_OK, PRE_BLOCKS, 0, S_SILENT, .agent = "the peer sent nothing for 2000 ms", .peer = "nothing for 2000 ms", .timeout_ms = 2000 },
{ "d-vanish-after-connect", 'd', PD_OK, 0, 0, S_VANISH, .agent = "peer disconnected" },
{ "d-vanish-after-reg", 'd', PD_OK, PRE_BLOCKS | PRE_REG, 0, S_VANISH, .agent = "peer disconnected" },
{ "d-vanish-mid-state", 'd', PD_OK, PRE_BLOCKS | PRE_STATE, 0, S_VANISH, .agent = "peer disconnected" },
{ "d-second-connection-busy", 'd', PD_OK, PRE_BLOCKS, 0, S_SECOND, WIRE_REG_REQ, 1, 8, 8, .fill = F_CHUNKS, .p = { 5, 0 }, .agent = "block index outside", .peer = "block index" },
{ "d-write-past-chunk", 'd', PD_OK, PRE_BLOCKS | PRE_REG, 0, S_WRITE_OOB, .agent = NULL },
/* a destination that keeps listening (no source trusted yet) serves connection after connection */
{ "d-keeps-listening", 'd', PD_OK, 0, 0, S_KEEP, .agent = "cancelled", .opt = "--require-auth" },

/* ---- fake destination against a source ---- */
{ "s-acc-version1", 's', PD_VER1, 0, AT_EST, S_NONE, .agent = "destination speaks protocol version 1, this agent speaks 3", .peer = "DISCONNECT" },
{ "s-acc-version-next", 's', PD_VER3, 0, AT_EST, S_NONE, .agent = "protocol version 4", .peer = "DISCONNECT" },
{ "s-acc-chunk-2M", 's', PD_CHUNK2M, 0, AT_EST, S_NONE, .agent = "chunk size 2097152 differs", .peer = "DISCONNECT" },
{ "s-acc-chunk-not-pow2", 's', PD_CHUNKBAD, 0, AT_EST, S_NONE, .agent = "not a power of two", .peer = "DISCONNECT" },
{ "s-acc-credits-0", 's', PD_CRED0, 0, AT_EST, S_NONE, .agent = "credits outside", .peer = "DISCONNECT" },
{ "s-acc-credits-5000", 's', PD_CRED5000, 0, AT_EST, S_NONE, .agent = "credits outside", .peer = "DISCONNECT" },
{ "s-acc-unknown-cap", 's', PD_UNKCAP, 0, AT_EST, S_NONE, .agent = "we did not offer (unknown to this agent)", .peer = "DISCONNECT" },
{ "s-acc-pin-all-not-offered", 's', PD_PINALL, 0, AT_EST, S_NONE, .agent = "capabilities 0x1 we did not offer", .peer = "DISCONNECT" },
{ "s-acc-auth-not-offered", 's', PD_AUTHCAP, 0, AT_EST, S_NONE, .agent = "capabilities 0x4 we did not offer", .peer = "DISCONNECT" },
{ "s-acc-short", 's', PD_SHORT, 0, AT_EST, S_NONE, .agent = "accept is malformed", .peer = "DISCONNECT" },
/* RAM blocks result */
{ "s-blocks-silent", 's', PD_OK, 0, AT_BLOCKS, S_SILENT, .agent = "the peer sent nothing for 2000 ms", .peer = "nothing for 2000 ms", .timeout_ms = 2000 },
{ "s-blocks-vanish", 's', PD_OK, 0, AT_BLOCKS, S_VANISH, .agent = "peer disconnected" },
{ "s-blocks-count", 's', PD_OK, 0, AT_BLOCKS, S_MSG, WIRE_RAM_BLOCKS_RES, 2, 32, 32, .fill = F_BLKRES, .agent = "unexpected RAM blocks result (2 blocks)", .peer = "RAM blocks result" },
{ "s-blocks-reserved", 's', PD_OK, 0, AT_BLOCKS, S_MSG, WIRE_RAM_BLOCKS_RES, 1, 16, 16, .fill = F_BLKRES, .p = { 1 }, .agent = "reserved field of an entry", .peer = "reserved" },
{ "s-blocks-twice", 's', PD_OK, X_ANSWER, AT_BLOCKS, S_MSG, WIRE_RAM_BLOCKS_RES, 1, 16, 16, .fill = F_BLKRES, .agent = "unexpected RAM blocks result (1 blocks)", .peer = "RAM blocks result" },
{ "s-blocks-len-lie", 's', PD_OK, X_RAW_HDR, AT_BLOCKS, S_MSG, WIRE_RAM_BLOCKS_RES, 1, 16, 12, .agent = "header length does not match", .peer = "header length" },
{ "s-blocks-truncated", 's', PD_OK, X_RAW_HDR, AT_BLOCKS, S_MSG, WIRE_RAM_BLOCKS_RES, 1, 16, -10, .agent = "shorter than its 16-byte header", .peer = "shorter" },
{ "s-blocks-error", 's', PD_OK, 0, AT_BLOCKS, S_MSG, WIRE_ERROR, 1, 20, 20, .fill = F_ERROR, .p = { 3, 16 }, .agent = "peer aborted (error 3)", .peer = NULL },
{ "s-type-unknown", 's', PD_OK, 0, AT_BLOCKS, S_MSG, 99, 1, 4, 4, .agent = "unknown message type", .peer = "unknown" },
{ "s-type-reg-request", 's', PD_OK, X_ANSWER, AT_BLOCKS, S_MSG, WIRE_REG_REQ, 1, 8, 8, .fill = F_CHUNKS, .agent = "unexpected REGISTER_REQUEST from the destination", .peer = "unexpected" },
{ "s-type-qemu-file", 's', PD_OK, X_ANSWER, AT_BLOCKS, S_MSG, WIRE_QEMU_FILE, 1, 10, 10, .agent = "unexpected QEMU_FILE", .peer = "unexpected" },
{ "s-type-compress", 's', PD_OK, X_ANSWER, AT_BLOCKS, S_MSG, WIRE_COMPRESS, 1, 24, 24, .fill = F_RANGE, .p = { 0, 0, PAGE }, .agent = "unexpected COMPRESS", .peer = "unexpected" },
{ "s-type-auth", 's', PD_OK, X_ANSWER, AT_BLOCKS, S_MSG, WIRE_AUTH, 1, 32, 32, .agent = "unexpected AUTH", .peer = "unexpected" },
{ "s-ready-too-many", 's', PD_OK, X_ANSWER, AT_BLOCKS, S_MSG, WIRE_READY, 1, 4, 4, .fill = F_READY, .p = { 100000 }, .agent = "more than it could owe", .peer = "more than it could owe" },
{ "s-flood-ready", 's', PD_OK, X_ANSWER, AT_BLOCKS, S_FLOOD, WIRE_READY, 1, 4, 4, .fill = F_READY, .agent = "without a credit", .peer = "ERROR_OR_DISCONNECT" },
{ "s-unreg-unsolicited", 's', PD_OK, X_ANSWER, AT_BLOCKS, S_MSG, WIRE_UNREG_FINISHED, 1, 8, 8, .fill = F_CHUNKS, .agent = "unsolicited unregister result", .peer = "unsolicited" },
/*
 * Instead of the blocks result: the source has asked for no chunk yet.
 * After it, a result may meet a request legitimately outstanding, as the
 * source asks for its first chunks before tracking is on.
 */
{ "s-reg-unsolicited", 's', PD_OK, 0, AT_BLOCKS, S_MSG, WIRE_REG_RES, 1, 24, 24, .fill = F_REGRES, .agent = "with no register request outstanding", .peer = "no register request" },
/* issue 14: an early acknowledgement aborts at once, never completes */
{ "s-ack-early", 's', PD_OK, X_ANSWER, AT_BLOCKS, S_MSG, WIRE_REG_FINISHED, 1, 24, 24, .fill = F_FIN, .p = { 0, WIRE_FIN_ACK }, .agent = "before the source's final round", .peer = "before the source's final round" },
{ "s-ack-early-then-play", 's', PD_OK, X_ANSWER | X_CONTINUE, AT_BLOCKS, S_MSG, WIRE_REG_FINISHED, 1, 24, 24, .fill = F_FIN, .p = { 0, WIRE_FIN_ACK }, .agent = "before the source's final round", .peer = NULL },
{ "s-ack-early-at-reg", 's', PD_OK, X_ANSWER | X_CONTINUE, AT_REG, S_MSG, WIRE_REG_FINISHED, 1, 24, 24, .fill = F_FIN, .p = { 1, WIRE_FIN_ACK }, .agent = "before the source's final round", .peer = NULL },
/* register results */
/* Protocol 3 allows a result for part of a request, but only its next entries. */
{ "s-reg-part-skips", 's', PD_OK, 0, AT_REG2, S_MSG, WIRE_REG_RES, 1, 24, 24, .fill = F_REGRES, .p = { 0, 1 }, .agent = "the request asked for block 0 chunk", .peer = "the request asked for" },
{ "s-reg-long", 's', PD_OK, 0, AT_REG, S_MSG, WIRE_REG_RES, 8, 192, 192, .fill = F_REGRES, .p = { 0, 0 }, .agent = "register result has 8 entries", .peer = "asked for" },
{ "s-reg-wrong-chunk", 's', PD_OK, 0, AT_REG, S_MSG, WIRE_REG_RES, 0, 0, 0, .fill = F_REGRES, .p = { 0, 1 }, .agent = "the request asked for block 0 chunk 0", .peer = "the request asked for" },
{ "s-reg-block-oob", 's', PD_OK, 0, AT_REG, S_MSG, WIRE_REG_RES, 0, 0, 0, .fill = F_REGRES, .p = { 3, 0 }, .agent = "block index outside", .peer = "block index" },
{ "s-reg-chunk-oob", 's', PD_OK, 0, AT_REG, S_MSG, WIRE_REG_RES, 0, 0, 0, .fill = F_REGRES, .p = { 0, 99 }, .agent = "chunk index outside", .peer = "chunk index" },
{ "s-reg-reserved", 's', PD_OK, 0, AT_REG, S_MSG, WIRE_REG_RES, 0, 0, 0, .fill = F_REGRES, .p = { 0, 0, 7 }, .agent = "reserved field of an entry", .peer = "reserved" },
{ "s-reg-len-lie", 's', PD_OK, X_RAW_HDR, AT_REG, S_MSG, WIRE_REG_RES, 2, 48, 24, .agent = "header length does not match", .peer = "header length" },
{ "s-reg-twice", 's', PD_OK, X_ANSWER, AT_REG, S_MSG, WIRE_REG_RES, 0, 0, 0, .fill = F_REGRES, .p = { 0, 0 }, .agent = "register result", .peer = "register result" },
{ "s-reg-bad-rkey", 's', PD_OK, 0, AT_REG, S_MSG, WIRE_REG_RES, 0, 0, 0, .fill = F_REGRES, .p = { 0, 0, 0, 0x1234 }, .agent = "failed: remote", .peer = NULL },
{ "s-reg-silent", 's', PD_OK, 0, AT_REG, S_SILENT, .agent = "the peer sent nothing for 2000 ms", .peer = "nothing for 2000 ms", .timeout_ms = 2000 },
{ "s-reg-vanish", 's', PD_OK, 0, AT_REG, S_VANISH, .agent = "peer disconnected" },
{ "s-reg-error", 's', PD_OK, 0, AT_REG, S_MSG, WIRE_ERROR, 1, 8, 8, .fill = F_ERROR, .p = { 4, 4 }, .agent = "peer aborted (error 4)", .peer = NULL },
/* issue 14: only the answer to the final round completes */
{ "s-last-silent", 's', PD_OK, 0, AT_LAST, S_SILENT, .agent = "the peer sent nothing for 2000 ms", .peer = "nothing for 2000 ms", .timeout_ms = 2000 },
{ "s-last-vanish", 's', PD_OK, 0, AT_LAST, S_VANISH, .agent = "peer disconnected" },
{ "s-ack-wrong-nonce", 's', PD_OK, 0, AT_LAST, S_MSG, WIRE_REG_FINISHED, 1, 24, 24, .fill = F_ACK_ECHO, .p = { 0, WIRE_FIN_ACK, 0, 1 }, .agent = "does not answer the final round", .peer = "does not answer the final round" },
{ "s-ack-zero-nonce", 's', PD_OK, 0, AT_LAST, S_MSG, WIRE_REG_FINISHED, 1, 24, 24, .fill = F_FIN, .p = { 0, WIRE_FIN_ACK, 6000, 0 }, .agent = "does not answer the final round", .peer = "does not answer the final round" },
{ "s-ack-wrong-iteration", 's', PD_OK, 0, AT_LAST, S_MSG, WIRE_REG_FINISHED, 1, 24, 24, .fill = F_ACK_ECHO, .p = { 1, WIRE_FIN_ACK, 0, 0 }, .agent = "does not answer the final round", .peer = "does not answer the final round" },
{ "s-ack-wrong-state", 's', PD_OK, 0, AT_LAST, S_MSG, WIRE_REG_FINISHED, 1, 24, 24, .fill = F_ACK_ECHO, .p = { 0, WIRE_FIN_ACK, 1, 0 }, .agent = "does not answer the final round", .peer = "does not answer the final round" },
{ "s-ack-flags-last", 's', PD_OK, 0, AT_LAST, S_MSG, WIRE_REG_FINISHED, 1, 24, 24, .fill = F_ACK_ECHO, .p = { 0, WIRE_FIN_LAST, 0, 0 }, .agent = "unexpected completion flags 0x1", .peer = "flags" },
{ "s-ack-flags-both", 's', PD_OK, 0, AT_LAST, S_MSG, WIRE_REG_FINISHED, 1, 24, 24, .fill = F_ACK_ECHO, .p = { 0, WIRE_FIN_ACK | WIRE_FIN_LAST, 0, 0 }, .agent = "unexpected completion flags 0x3", .peer = "flags" },
{ "s-ack-v1-len", 's', PD_OK, 0, AT_LAST, S_MSG, WIRE_REG_FINISHED, 1, 16, 16, .fill = F_FIN, .p = { 0, WIRE_FIN_ACK }, .agent = "bad REGISTER_FINISHED length", .peer = "REGISTER_FINISHED" },
{ "s-ack-truncated", 's', PD_OK, X_RAW_HDR, AT_LAST, S_MSG, WIRE_REG_FINISHED, 1, 24, 12, .agent = "header length does not match", .peer = "header length" },
{ "s-last-error", 's', PD_OK, 0, AT_LAST, S_MSG, WIRE_ERROR, 1, 10, 10, .fill = F_ERROR, .p = { 6, 6 }, .agent = "peer aborted (error 6)", .peer = NULL },
/* a faithful fake destination: the harness itself is right */
{ "s-control-completes", 's', PD_OK, 0, 0, S_CONTROL },
};
#pragma GCC diagnostic pop

#define NCASES (sizeof(cases) / sizeof(cases[0]))

static void make_pd(enum pdk k, uint8_t *b, uint8_t *len, bool accept)
{
	struct wire_pd pd = { .version = wire_version, .chunk_size = CHUNK, .credits = NRECV,
			      .caps = accept ? WIRE_CAP_ZERO_RANGE : WIRE_CAP_ZERO_RANGE };

	*len = WIRE_PD_LEN;
	switch (k) {
	case PD_VER0: pd.version = 0; break;
	case PD_VER1: pd.version = 1; break;
	case PD_VER3: pd.version = WIRE_VERSION + 1; break;	/* a future version */
	case PD_CHUNK2M: pd.chunk_size = 2u << 20; break;
	case PD_CHUNKBAD: pd.chunk_size = 3u << 19; break;
	case PD_CRED0: pd.credits = 0; break;
	case PD_CRED1: pd.credits = 1; break;
	case PD_CRED5000: pd.credits = 5000; break;
	case PD_UNKCAP: pd.caps |= 1u << 17; break;
	case PD_PINALL: pd.caps |= WIRE_CAP_PIN_ALL; break;
	case PD_AUTHCAP: pd.caps |= WIRE_CAP_AUTH; break;
	default: break;
	}
	wire_pd_encode(b, &pd);
	if (k == PD_SHORT)
		*len = 8;
	if (k == PD_NONE)
		*len = 0;
}

/* The data of a case's message into @d; returns the data length. */
static uint32_t build(const struct hcase *c, uint8_t *d, uint32_t repeat, uint32_t cap)
{
	uint32_t i, len = c->dlen >= 0 ? (uint32_t)c->dlen : 0;

	memset(d, 0, cap);
	switch (c->fill) {
	case F_BLOCKS:
		for (i = 0; i < repeat; i++) {
			struct wire_block_req e = { .length = i < NDREG ? dlens[i] : PAGE };

			wire_put_block_req(d, i, &e);
		}
		if (c->p[0] < repeat) {
			struct wire_block_req e = { .length = c->p[1] ? c->p[1] : dlens[c->p[0] % NDREG],
						    .flags = (uint32_t)c->p[2] };

			wire_put_block_req(d, (uint32_t)c->p[0], &e);
			wire_put32(d + c->p[0] * WIRE_BLOCK_REQ_LEN + 12, (uint32_t)c->p[3]);
		}
		break;
	case F_CHUNKS:
		for (i = 0; i < repeat; i++) {
			struct wire_chunk e = { (uint32_t)c->p[0], (uint32_t)(c->p[1] + i * c->p[2]) };

			wire_put_chunk(d, i, &e);
		}
		break;
	case F_RANGE: {
		struct wire_range e = { (uint32_t)c->p[0], c->p[1], c->p[2] };

		wire_put_range(d, 0, &e);
		wire_put32(d + 4, (uint32_t)c->p[3]);
		break;
	}
	case F_FIN: {
		struct wire_finished f = { (uint32_t)c->p[0], (uint32_t)c->p[1], c->p[2], c->p[3] };

		wire_put_finished(d, &f);
		break;
	}
	case F_READY:
		wire_put32(d, (uint32_t)c->p[0]);
		break;
	case F_ERROR:
		wire_put32(d, (uint32_t)c->p[0]);
		for (i = 0; i < c->p[1] && 4 + i < cap; i++)
			d[4 + i] = (uint8_t)(1 + i % 255);
		break;
	case F_BYTES:
		memset(d, (int)c->p[0], len);
		break;
	case F_BLKRES:
		for (i = 0; i < repeat; i++) {
			struct wire_block_res e = { .addr = 0x1000, .rkey = (uint32_t)c->p[1] };

			wire_put_block_res(d, i, &e);
			wire_put32(d + i * WIRE_BLOCK_RES_LEN + 12, (uint32_t)c->p[0]);
		}
		break;
	default:
		break;
	}
	return len;
}

/* Sends the case's message (header as the case says). */
static int send_case_msg(struct peer *p, const struct hcase *c)
{
	static uint8_t b[WIRE_HDR_LEN + (4096 * 24) + 64];
	uint32_t n = c->dlen >= 0 ? (uint32_t)c->dlen : 0;

	int64_t hlen = c->hlen;

	/* Against a version 1 agent (--wire-version 1), its 16-byte size. */
	if (c->type == WIRE_REG_FINISHED && hlen == WIRE_FINISHED_LEN && c->dlen == hlen) {
		hlen = fin_len();
		n = fin_len();
	}
	build(c, b + WIRE_HDR_LEN, c->repeat, sizeof(b) - WIRE_HDR_LEN);
	wire_hdr_encode(b, c->type, c->repeat, (uint32_t)hlen);
	wire_put32(b + 12, c->rsvd);
	if (c->dlen < 0)	/* truncated: fewer bytes than the header */
		return psend_raw(p, b, (uint32_t)(WIRE_HDR_LEN + c->dlen));
	return psend_raw(p, b, WIRE_HDR_LEN + n);
}

/* ---- role d: fake source against a destination ------------------------ */

static int d_blocks(struct peer *p)
{
	uint8_t d[NDREG * WIRE_BLOCK_REQ_LEN];
	struct msg *m;
	int i;

	for (i = 0; i < NDREG; i++) {
		struct wire_block_req e = { .length = dlens[i] };

		wire_put_block_req(d, (uint32_t)i, &e);
	}
	if (psend(p, WIRE_RAM_BLOCKS_REQ, NDREG, d, sizeof(d)))
		return -1;
	m = pwait(p, WIRE_RAM_BLOCKS_RES, 10000);
	if (!m)
		return -1;
	free(m);
	return 0;
}

static int d_reg0(struct peer *p, uint32_t *rkey, uint64_t *addr)
{
	struct wire_chunk e = { 0, 0 };
	struct wire_reg_res r;
	uint8_t d[8];
	struct msg *m;

	wire_put_chunk(d, 0, &e);
	if (psend(p, WIRE_REG_REQ, 1, d, 8))
		return -1;
	m = pwait(p, WIRE_REG_RES, 10000);
	if (!m)
		return -1;
	wire_get_reg_res(m->d, 0, &r);
	*rkey = r.rkey;
	*addr = r.addr;
	free(m);
	return 0;
}

/* A second connect request while the first source is being served. */
static void d_second(int port)
{
	struct peer q;
	uint8_t pd[WIRE_PD_LEN], n;
	int r;

	peer_new(&q);
	make_pd(PD_OK, pd, &n, false);
	r = peer_connect(&q, port, pd, n);
	if (r != 1)
		note("a second source was %s, expected refused as busy",
		     r == 0 ? "accepted" : "not answered");
	else if (q.rej_reason != WIRE_REJ_BUSY)
		note("second source refused with reason %u \"%s\", expected busy (3)",
		     q.rej_reason, q.rej);
	peer_free(&q);
}

/*
 * --require-auth and no secret: every source is refused (reason 6) and
 * the destination listens on. Five hostile ones in a row, each answered;
 * then the VMM cancels.
 */
static void d_keep(struct agent *a, int port)
{
	int i;

	for (i = 0; i < 5; i++) {
		struct peer q;
		uint8_t pd[WIRE_PD_LEN], n;
		int r;

		peer_new(&q);
		make_pd(i % 2 ? PD_AUTHCAP : PD_OK, pd, &n, false);
		r = peer_connect(&q, port, pd, n);
		if (r != 1 || q.rej_reason != WIRE_REJ_AUTH)
			note("connection %d: %s (reason %u \"%s\"), expected refused for authentication",
			     i, r == 0 ? "accepted" : r == 1 ? "refused" : "no answer", q.rej_reason, q.rej);
		peer_free(&q);
		agent_poll(a, 0);
		if (a->eof || a->failed)
			note("the destination stopped listening after connection %d", i);
	}
	agent_cmd(a, "{\"execute\":\"migrate_cancel\"}");
}

static void run_d(const struct hcase *c, struct agent *a, int port)
{
	struct peer p;
	uint8_t pd[WIRE_PD_LEN];
	uint8_t n;
	int r, i;
	uint32_t rkey = 0;
	uint64_t addr = 0;

	cur = a;
	mark("case starts");
	peer_new(&p);
	make_pd(c->pd, pd, &n, false);
	r = c->spec == S_KEEP ? 0 : peer_connect(&p, port, pd, n);
	if (c->spec == S_KEEP) {
		d_keep(a, port);
		goto verdict;
	}
	if (r == 1) {
		if (c->spec != S_NONE)
			note("refused at connect: %s", p.rej);
		else if (c->peer && !strstr(p.rej, c->peer))
			note("rejection text \"%s\" lacks \"%s\"", p.rej, c->peer);
		goto verdict;
	}
	if (r < 0)
		goto verdict;
	if (c->spec == S_NONE) {
		note("the destination accepted the connection");
		goto verdict;
	}
	if (c->flags & X_NOREADY)
		p.auto_ready = false;
	if (c->pd == PD_UNKCAP && (p.acc_caps & ~WIRE_CAPS_KNOWN))
		note("the destination granted unknown capabilities 0x%x", p.acc_caps);
	if ((c->flags & PRE_BLOCKS) && d_blocks(&p))
		goto verdict;
	if ((c->flags & PRE_REG) && d_reg0(&p, &rkey, &addr))
		goto verdict;
	if (c->flags & PRE_STATE) {
		uint8_t s[64] = { 1, 2, 3 };

		psend(&p, WIRE_QEMU_FILE, 1, s, sizeof(s));
	}
	switch (c->spec) {
	case S_MSG:
		send_case_msg(&p, c);
		break;
	case S_SECOND:
		d_second(port);
		send_case_msg(&p, c);
		break;
	case S_FLOOD:
		/*
		 * Without waiting for credits (and returning none, so the agent
		 * can announce only so many): more than it could ever grant.
		 */
		p.auto_ready = false;
		p.nowait = true;
		for (i = 0; i < FLOOD && !p.gone && !p.saw_error; i++)
			send_case_msg(&p, c);
		p.nowait = false;
		break;
	case S_SILENT:
		p.auto_ready = false;
		break;
	case S_VANISH:
		rdma_disconnect(p.id);
		break;
	case S_WRITE_OOB: {
		/* The page right after the registered chunk (chunk 1's first). */
		static uint8_t junk[PAGE];
		struct ibv_mr *jm = ibv_reg_mr(p.pd, junk, sizeof(junk), IBV_ACCESS_LOCAL_WRITE);
		struct ibv_sge s = { (uintptr_t)junk, sizeof(junk), jm ? jm->lkey : 0 };
		struct ibv_send_wr wr = { .wr_id = 7, .sg_list = &s, .num_sge = 1,
					  .opcode = IBV_WR_RDMA_WRITE, .send_flags = IBV_SEND_SIGNALED,
					  .wr.rdma = { .remote_addr = addr + CHUNK, .rkey = rkey } }, *bad;

		memset(junk, 0xee, sizeof(junk));
		if (!jm || ibv_post_send(p.id->qp, &wr, &bad))
			note("cannot post the out-of-bounds WRITE");
		/* Our QP breaks; the agent sees the connection go. */
		for (i = 0; i < 100 && !p.gone; i++) {
			peer_poll(&p);
			agent_poll(cur, 20);
		}
		rdma_disconnect(p.id);
		if (jm)
			ibv_dereg_mr(jm);
		break;
	}
	default:
		break;
	}
	if (c->spec != S_VANISH && c->spec != S_WRITE_OOB)
		peer_verdict(&p, c->peer, (c->timeout_ms ? c->timeout_ms : 6000) + 6000);
verdict:
	agent_finish(a, c->agent, (c->timeout_ms ? c->timeout_ms : 6000) + 8000);
	peer_free(&p);
	for (i = 0; i < NDREG; i++) {
		if (pinned(&dreg[i]))
			note("region %d: %llu pages pinned after the agent exited", i,
			     (unsigned long long)pinned(&dreg[i]));
		if (memcmp(dreg[i].mem, dsaved[i], dlens[i]))
			note("destination region %d changed", i);
	}
	if (memcmp(canary.mem, csaved, 1u << 20))
		note("the canary region changed");
}

/* ---- role s: fake destination against a source ------------------------- */

static void answer_blocks(struct peer *p)
{
	struct wire_block_res e = { .addr = (uintptr_t)p->tgt, .rkey = 0 };
	uint8_t d[WIRE_BLOCK_RES_LEN];

	wire_put_block_res(d, 0, &e);
	psend(p, WIRE_RAM_BLOCKS_RES, 1, d, sizeof(d));
}

static void answer_reg(struct peer *p, const struct msg *m)
{
	static uint8_t d[4096 * WIRE_REG_RES_LEN];
	uint32_t i;

	for (i = 0; i < m->repeat; i++) {
		struct wire_chunk ch;
		struct wire_reg_res r;

		wire_get_chunk(m->d, i, &ch);
		r.block = ch.block;
		r.chunk = ch.chunk;
		r.rkey = p->tmr->rkey;
		r.addr = (uintptr_t)p->tgt + (uint64_t)ch.chunk * CHUNK;
		wire_put_reg_res(d, i, &r);
	}
	psend(p, WIRE_REG_RES, m->repeat, d, m->repeat * WIRE_REG_RES_LEN);
}

/* A register result built from the request @m, altered as the case says. */
static void bad_reg(struct peer *p, const struct hcase *c, const struct msg *m)
{
	static uint8_t d[4096 * WIRE_REG_RES_LEN];
	uint32_t i, n = c->repeat ? c->repeat : m->repeat;

	if (c->flags & X_RAW_HDR) {
		send_case_msg(p, c);
		return;
	}
	for (i = 0; i < n; i++) {
		struct wire_chunk ch = { 0, 0 };
		struct wire_reg_res r;

		if (i < m->repeat)
			wire_get_chunk(m->d, i, &ch);
		r.block = ch.block + (uint32_t)c->p[0];
		r.chunk = ch.chunk + (uint32_t)c->p[1];
		r.rkey = c->p[3] ? (uint32_t)c->p[3] : p->tmr->rkey;
		r.addr = (uintptr_t)p->tgt + (uint64_t)ch.chunk * CHUNK;
		wire_put_reg_res(d, i, &r);
		wire_put32(d + i * WIRE_REG_RES_LEN + 12, (uint32_t)c->p[2]);
	}
	psend(p, WIRE_REG_RES, n, d, n * WIRE_REG_RES_LEN);
}

static void send_ack(struct peer *p, const struct msg *last, const struct hcase *c)
{
	struct wire_finished f;
	uint8_t d[WIRE_FINISHED_LEN];

	memset(&f, 0, sizeof(f));
	f.iteration = wire_get32(last->d);
	f.state_bytes = wire_get64(last->d + 8);
	if (fin_len() > 16)
		f.nonce = wire_get64(last->d + 16);
	f.flags = WIRE_FIN_ACK;
	if (c) {
		f.iteration += (uint32_t)c->p[0];
		f.flags = (uint32_t)c->p[1];
		f.state_bytes += c->p[2];
		f.nonce ^= c->p[3];
	}
	wire_put_finished(d, &f);
	psend(p, WIRE_REG_FINISHED, 1, d, fin_len());
}

/* The act of a case, at its moment. */
static void s_act(struct peer *p, const struct hcase *c, const struct msg *m)
{
	int i;

	switch (c->spec) {
	case S_MSG:
		if (c->type == WIRE_REG_RES && c->fill == F_REGRES && m && m->type == WIRE_REG_REQ)
			bad_reg(p, c, m);
		else if (c->fill == F_ACK_ECHO && m)
			send_ack(p, m, c);
		else if (c->type == WIRE_REG_RES && c->fill == F_REGRES) {
			struct msg fake = { .repeat = 1 };

			memset(fake.raw, 0, 64);
			fake.d = fake.raw + WIRE_HDR_LEN;
			bad_reg(p, c, &fake);
		} else
			send_case_msg(p, c);
		break;
	case S_FLOOD:
		p->auto_ready = false;
		p->nowait = true;
		for (i = 0; i < FLOOD && !p->gone && !p->saw_error; i++)
			send_case_msg(p, c);
		p->nowait = false;
		break;
	case S_SILENT:
		p->auto_ready = false;
		break;
	case S_VANISH:
		rdma_disconnect(p->id);
		break;
	default:
		break;
	}
}

/*
 * Plays a destination: answers RAM blocks, registrations, unregistrations,
 * takes the state, acknowledges LAST; the case strikes at its moment.
 * Returns when it struck (or, with X_CONTINUE, when the source is done).
 */
static void fake_dest(struct peer *p, const struct hcase *c)
{
	bool struck = false;
	uint64_t t0 = now_ms();
	unsigned int nreg = 0;
	struct msg *m;

	if (c->at == AT_EST) {
		s_act(p, c, NULL);
		return;
	}
	while (now_ms() - t0 < 60000) {
		int r = precv(p, &m, 200);
		enum at here = 0;

		if (r < 0)
			return;
		if (r == 0) {
			if (cur && (cur->failed || cur->completed) && !p->nq)
				return;
			continue;
		}
		switch (m->type) {
		case WIRE_RAM_BLOCKS_REQ: here = AT_BLOCKS; break;
		case WIRE_REG_REQ: here = ++nreg == 2 && c->at == AT_REG2 ? AT_REG2 : AT_REG; break;
		case WIRE_REG_FINISHED: here = AT_LAST; break;
		case WIRE_ERROR:
			free(m);
			return;
		default: break;
		}
		if (here && here == c->at && !struck) {
			if (c->flags & X_ANSWER) {
				if (here == AT_BLOCKS)
					answer_blocks(p);
				else if (here == AT_REG || here == AT_REG2)
					answer_reg(p, m);
			}
			s_act(p, c, m);
			struck = true;
			free(m);
			if (!(c->flags & X_CONTINUE))
				return;
			continue;
		}
		if (here == AT_BLOCKS)
			answer_blocks(p);
		else if (here == AT_REG)
			answer_reg(p, m);
		else if (m->type == WIRE_UNREG_REQ)
			psend(p, WIRE_UNREG_FINISHED, m->repeat, m->d, m->len);
		else if (here == AT_LAST && !struck && c->spec == S_CONTROL)
			send_ack(p, m, NULL);
		/* (X_CONTINUE: LAST stays unanswered) */
		free(m);
	}
}

static void run_s(const struct hcase *c, struct agent *a, int port)
{
	struct peer p;
	uint8_t pd[WIRE_PD_LEN], n;
	int tmo = c->timeout_ms ? c->timeout_ms : 6000;
	char params[256];

	cur = a;
	peer_new(&p);
	if (peer_listen(&p, port)) {
		agent_finish(a, NULL, 1000);
		goto verdict;
	}
	mark("case starts");
	agent_cmd(a, "{\"execute\":\"migrate-set-parameters\",\"arguments\":{\"chunk-size\":1048576,"
		  "\"downtime-limit\":300,\"max-iterations\":5}}");
	snprintf(params, sizeof(params), "{\"execute\":\"migrate\"}");
	agent_cmd(a, params);
	make_pd(c->pd, pd, &n, true);
	if (peer_accept(&p, pd, n))
		goto finish;
	fake_dest(&p, c);
	if (c->spec != S_VANISH && c->spec != S_CONTROL)
		peer_verdict(&p, c->peer, tmo + 6000);
finish:
	if (c->spec == S_CONTROL) {
		uint64_t t0 = now_ms();

		while (!a->completed && !a->failed && now_ms() - t0 < 30000)
			agent_poll(a, 100);
		if (!a->completed)
			note("a faithful destination did not complete (%s)", a->reason);
		/* "completed" is the expected verdict here: take it as such. */
		a->completed = false;
		a->failed = true;
		waitpid(a->pid, &a->status, 0);
		a->exited = true;
		if (!WIFEXITED(a->status) || WEXITSTATUS(a->status))
			note("agent exit status %d", WEXITSTATUS(a->status));
		close(a->ctl);
		if (a->state_w >= 0)
			close(a->state_w);
		cur = NULL;
	} else {
		agent_finish(a, c->agent, tmo + 8000);
	}
verdict:
	peer_free(&p);
	if (pinned(&sreg))
		note("source region: %llu pages pinned after the agent exited",
		     (unsigned long long)pinned(&sreg));
	if (tracking(&sreg))
		note("source region: tracking left on");
	if (memcmp(sreg.mem, ssaved, SLEN))
		note("source region changed");
	/* The VM runs on: its memory is still there and writable. */
	((volatile uint8_t *)sreg.mem)[1] = 0x42;
	if (((volatile uint8_t *)sreg.mem)[1] != 0x42)
		note("source region no longer writable");
	((volatile uint8_t *)sreg.mem)[1] = ssaved[1];
}

static bool selected(const char *name, const char *only)
{
	char buf[4096], *t, *save;

	if (!only)
		return true;
	snprintf(buf, sizeof(buf), "%s", only);
	for (t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (!strcmp(t, name) || (t[strlen(t) - 1] == '*' && !strncmp(t, name, strlen(t) - 1)))
			return true;
	return false;
}

static const struct hcase *mine[NCASES];

/* Runs cases w, w + jobs, ...; returns the exit status. */
static int worker(int w, int jobs, const char *only)
{
	static struct agent ag[2];
	unsigned int i, n = 0, k, failed = 0;
	int base = next_port + w * 400;
	uint64_t t0;

	make_regions();
	for (i = 0; i < NCASES; i++)
		if (selected(cases[i].name, only) && (int)(i % (unsigned int)jobs) == w)
			mine[n++] = &cases[i];
	for (k = 0; k < n; k++) {
		const struct hcase *c = mine[k];
		struct agent *a = &ag[k % 2];

		if (k == 0)
			agent_start(a, c->name, c->role == 's', base,
				    c->timeout_ms ? c->timeout_ms : 6000, c->opt);
		if (k + 1 < n)
			agent_start(&ag[(k + 1) % 2], mine[k + 1]->name, mine[k + 1]->role == 's',
				    base + (int)k + 1,
				    mine[k + 1]->timeout_ms ? mine[k + 1]->timeout_ms : 6000,
				    mine[k + 1]->opt);
		why[0] = 0;
		t0 = t_case = now_ms();
		if (c->role == 'd')
			run_d(c, a, base + (int)k);
		else
			run_s(c, a, base + (int)k);
		if (why[0]) {
			failed++;
			printf("not ok - %s (%llu ms): %s\n", c->name,
			       (unsigned long long)(now_ms() - t0), why);
		} else {
			printf("ok - %s (%llu ms)\n", c->name, (unsigned long long)(now_ms() - t0));
		}
	}
	printf("# hostile_peer worker %d: %u cases, %u failed\n", w, n, failed);
	if (!n && w == 0 && jobs == 1) {
		fprintf(stderr, "hostile_peer: no case matched\n");
		return 1;
	}
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *only = NULL;
	unsigned int i, failed = 0;
	int o, w, jobs = 2;
	uint64_t t0 = now_ms();

	for (o = 1; o < argc; o++) {
		if (!strcmp(argv[o], "--agent") && o + 1 < argc)
			agent_path = argv[++o];
		else if (!strcmp(argv[o], "--only") && o + 1 < argc)
			only = argv[++o];
		else if (!strcmp(argv[o], "--wire-version") && o + 1 < argc)
			wire_version = (uint32_t)atoi(argv[++o]);
		else if (!strcmp(argv[o], "--log-dir") && o + 1 < argc)
			log_dir = argv[++o];
		else if (!strcmp(argv[o], "--port") && o + 1 < argc)
			next_port = atoi(argv[++o]);
		else if (!strcmp(argv[o], "--list")) {
			for (i = 0; i < NCASES; i++)
				printf("%s\n", cases[i].name);
			return 0;
		} else {
			fprintf(stderr, "usage: %s --agent PATH [--only NAMES] [--wire-version N] [--log-dir DIR] [--port P] [--list]\n",
				argv[0]);
			return 2;
		}
	}
	if (!agent_path) {
		fprintf(stderr, "hostile_peer: --agent PATH is required\n");
		return 2;
	}
	timing = getenv("HOSTILE_TIMING") != NULL;
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/*
	 * Workers run their share of the cases side by side, each with its
	 * own regions and ports; each starts the agent of its next case
	 * while the current one runs (an ASan agent takes a while to start
	 * in a TCG guest).
	 */
	if (getenv("HOSTILE_JOBS"))
		jobs = atoi(getenv("HOSTILE_JOBS"));
	if (jobs < 1)
		jobs = 1;
	for (w = 0; w < jobs; w++) {
		pid_t pid = jobs == 1 ? 0 : fork();

		if (pid < 0) {
			perror("fork");
			return 2;
		}
		if (pid == 0)
			return worker(w, jobs, only);
	}
	for (w = 0; w < jobs; w++) {
		int st;

		if (wait(&st) < 0)
			break;
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			failed++;
	}
	printf("# hostile_peer: %llu ms in all\n", (unsigned long long)(now_ms() - t0));
	return failed ? 1 : 0;
}
