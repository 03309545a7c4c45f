// SPDX-License-Identifier: GPL-2.0
/*
 * rdmigd's peer authentication (user/rdmigd/auth.c): the HMAC primitive
 * against RFC 4231, the transcript's MAC against an independent
 * computation (the openssl command line, run at test time), and the
 * properties the exchange relies on: a wrong key, swapped roles, a proof
 * replayed with another nonce and any change to the bound connection
 * parameters all fail. Secret files with loose modes are refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "../../user/rdmigd/auth.h"

static void hex(const uint8_t *b, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	out[2 * n] = '\0';
}

/* RFC 4231 test cases 1, 2 and 6 (HMAC-SHA-256). */
static void test_rfc4231(void **st)
{
	uint8_t key1[20], key6[131], mac[AUTH_MAC_LEN];
	char h[2 * AUTH_MAC_LEN + 1];
	const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";

	(void)st;
	memset(key1, 0x0b, sizeof(key1));
	assert_int_equal(auth_hmac(key1, sizeof(key1), "Hi There", 8, mac), 0);
	hex(mac, sizeof(mac), h);
	assert_string_equal(h, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	assert_int_equal(auth_hmac("Jefe", 4, "what do ya want for nothing?", 28, mac), 0);
	hex(mac, sizeof(mac), h);
	assert_string_equal(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	memset(key6, 0xaa, sizeof(key6));
	assert_int_equal(auth_hmac(key6, sizeof(key6), m6, strlen(m6), mac), 0);
	hex(mac, sizeof(mac), h);
	assert_string_equal(h, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void make_transcript(struct auth_transcript *t)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(40001) };
	struct sockaddr_in d = { .sin_family = AF_INET, .sin_port = htons(18515) };
	unsigned int i;

	for (i = 0; i < AUTH_NONCE_LEN; i++) {
		t->ns[i] = (uint8_t)(i * 7 + 1);
		t->nd[i] = (uint8_t)(0xf0 ^ i);
	}
	for (i = 0; i < AUTH_PD_LEN; i++) {
		t->req_pd[i] = (uint8_t)i;
		t->acc_pd[i] = (uint8_t)(100 + i);
	}
	inet_pton(AF_INET, "198.18.0.1", &s.sin_addr);
	inet_pton(AF_INET, "198.18.0.2", &d.sin_addr);
	assert_int_equal(auth_endpoint_set(&t->src, (struct sockaddr *)&s, 0x11), 0);
	assert_int_equal(auth_endpoint_set(&t->dst, (struct sockaddr *)&d, 0x22), 0);
}

static void set_key(struct auth_secret *k, const char *s)
{
	char err[128];

	assert_int_equal(auth_secret_set(k, s, strlen(s), err, sizeof(err)), 0);
}

/* The transcript layout, byte for byte, as protocol.md documents it. */
static void test_transcript_layout(void **st)
{
	struct auth_transcript t;
	uint8_t b[AUTH_TRANSCRIPT_LEN];
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	(void)st;
	assert_int_equal(AUTH_TRANSCRIPT_LEN, 17 + 32 + 32 + 24 + 24 + 22 + 22);
	make_transcript(&t);
	auth_transcript_encode(&t, AUTH_ROLE_DST, b);
	assert_memory_equal(b, "rdmig-auth-v1 dst", 17);
	assert_memory_equal(b + 17, t.ns, 32);
	assert_memory_equal(b + 49, t.nd, 32);
	assert_memory_equal(b + 81, t.req_pd, 24);
	assert_memory_equal(b + 105, t.acc_pd, 24);
	assert_memory_equal(b + 129, v4mapped, 12);
	assert_memory_equal(b + 141, "\xc6\x12\x00\x01", 4);	/* 198.18.0.1 */
	assert_memory_equal(b + 145, "\x9c\x41", 2);		/* port 40001 */
	assert_memory_equal(b + 147, "\x00\x00\x00\x11", 4);	/* QPN */
	assert_memory_equal(b + 151 + 12, "\xc6\x12\x00\x02", 4);
	assert_memory_equal(b + 151 + 16, "\x48\x53", 2);	/* port 18515 */
	assert_memory_equal(b + 151 + 18, "\x00\x00\x00\x22", 4);
	auth_transcript_encode(&t, AUTH_ROLE_SRC, b);
	assert_memory_equal(b, "rdmig-auth-v1 src", 17);
}

/*
 * Known answer from an independent implementation: the openssl command
 * line computes the HMAC of the same transcript bytes with the same key.
 */
static void test_against_openssl_cli(void **st)
{
	char path[] = "/tmp/rdmig-test-auth-XXXXXX", cmd[512], line[256], want[80];
	struct auth_transcript t;
	struct auth_secret k;
	uint8_t b[AUTH_TRANSCRIPT_LEN], mac[AUTH_MAC_LEN];
	const char *key = "correct horse battery staple";
	char keyhex[2 * 64 + 1];
	enum auth_role roles[2] = { AUTH_ROLE_DST, AUTH_ROLE_SRC };
	int fd, i;
	FILE *p;

	(void)st;
	if (system("openssl version >/dev/null 2>&1") != 0) {
		/* No independent implementation: do not count this as passed. */
		fail_msg("the openssl command is needed for this known-answer test");
	}
	make_transcript(&t);
	set_key(&k, key);
	hex((const uint8_t *)key, strlen(key), keyhex);
	for (i = 0; i < 2; i++) {
		auth_transcript_encode(&t, roles[i], b);
		fd = mkstemp(path);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, b, sizeof(b)), (ssize_t)sizeof(b));
		close(fd);
		snprintf(cmd, sizeof(cmd),
			 "openssl dgst -sha256 -mac HMAC -macopt hexkey:%s -r %s", keyhex, path);
		p = popen(cmd, "r");
		assert_non_null(p);
		assert_non_null(fgets(line, sizeof(line), p));
		assert_int_equal(pclose(p), 0);
		unlink(path);
		strcpy(path, "/tmp/rdmig-test-auth-XXXXXX");
		assert_int_equal(auth_mac(&k, roles[i], &t, mac), 0);
		hex(mac, sizeof(mac), want);
		/* "-r" prints "<hex> *<file>" */
		assert_memory_equal(line, want, 64);
		assert_int_equal(auth_verify(&k, roles[i], &t, mac), 0);
	}
}

/* The full exchange, and the attacks it must stop. */
static void test_exchange(void **st)
{
	struct auth_transcript t, t2;
	struct auth_secret k, wrong;
	uint8_t dmac[AUTH_MAC_LEN], smac[AUTH_MAC_LEN], mac2[AUTH_MAC_LEN];

	(void)st;
	make_transcript(&t);
	set_key(&k, "the per-migration secret 0123456789");
	set_key(&wrong, "the per-migration secret 0123456788");
	/* destination proves, source checks; source proves, destination checks */
	assert_int_equal(auth_mac(&k, AUTH_ROLE_DST, &t, dmac), 0);
	assert_int_equal(auth_verify(&k, AUTH_ROLE_DST, &t, dmac), 0);
	assert_int_equal(auth_mac(&k, AUTH_ROLE_SRC, &t, smac), 0);
	assert_int_equal(auth_verify(&k, AUTH_ROLE_SRC, &t, smac), 0);
	assert_memory_not_equal(dmac, smac, AUTH_MAC_LEN);
	/* wrong key: neither proof verifies, nor does one made with it */
	assert_int_equal(auth_verify(&wrong, AUTH_ROLE_DST, &t, dmac), -1);
	assert_int_equal(auth_verify(&wrong, AUTH_ROLE_SRC, &t, smac), -1);
	assert_int_equal(auth_mac(&wrong, AUTH_ROLE_SRC, &t, mac2), 0);
	assert_int_equal(auth_verify(&k, AUTH_ROLE_SRC, &t, mac2), -1);
	/* swapped roles: a reflected destination proof is no source proof */
	assert_int_equal(auth_verify(&k, AUTH_ROLE_SRC, &t, dmac), -1);
	assert_int_equal(auth_verify(&k, AUTH_ROLE_DST, &t, smac), -1);
	/* replay: the source proof of this connection, another Nd */
	t2 = t;
	t2.nd[5] ^= 1;
	assert_int_equal(auth_verify(&k, AUTH_ROLE_SRC, &t2, smac), -1);
	/* replay towards a source: another Ns */
	t2 = t;
	t2.ns[31] ^= 0x80;
	assert_int_equal(auth_verify(&k, AUTH_ROLE_DST, &t2, dmac), -1);
	/* downgraded capabilities (accept private data) */
	t2 = t;
	t2.acc_pd[7] ^= 4;
	assert_int_equal(auth_verify(&k, AUTH_ROLE_SRC, &t2, smac), -1);
	t2 = t;
	t2.req_pd[4] ^= 1;
	assert_int_equal(auth_verify(&k, AUTH_ROLE_DST, &t2, dmac), -1);
	/* relayed: another source address, port or QP */
	t2 = t;
	t2.src.addr[15] ^= 1;
	assert_int_equal(auth_verify(&k, AUTH_ROLE_SRC, &t2, smac), -1);
	t2 = t;
	t2.dst.port++;
	assert_int_equal(auth_verify(&k, AUTH_ROLE_SRC, &t2, smac), -1);
	t2 = t;
	t2.dst.qpn ^= 0x100;
	assert_int_equal(auth_verify(&k, AUTH_ROLE_DST, &t2, dmac), -1);
	/* a single flipped bit of the proof */
	memcpy(mac2, smac, sizeof(mac2));
	mac2[AUTH_MAC_LEN - 1] ^= 1;
	assert_int_equal(auth_verify(&k, AUTH_ROLE_SRC, &t, mac2), -1);
	/* no key: nothing verifies */
	auth_secret_clear(&k);
	assert_int_equal(auth_verify(&k, AUTH_ROLE_SRC, &t, smac), -1);
}

static void test_nonces(void **st)
{
	uint8_t a[AUTH_NONCE_LEN], b[AUTH_NONCE_LEN];

	(void)st;
	assert_int_equal(auth_nonce(a), 0);
	assert_int_equal(auth_nonce(b), 0);
	assert_memory_not_equal(a, b, AUTH_NONCE_LEN);
}

/*
 * The JOIN token: HMAC-SHA256(key, "rdmig-join-v1" || be32 index ||
 * be32 n), checked against OpenSSL over the same bytes built by hand;
 * another index, count or key gives another token.
 */
static void test_join_token(void **st)
{
	uint8_t key[AUTH_JOIN_KEY_LEN], key2[AUTH_JOIN_KEY_LEN];
	uint8_t t[AUTH_MAC_LEN], u[AUTH_MAC_LEN], want[AUTH_MAC_LEN];
	const uint8_t m[] = { 'r', 'd', 'm', 'i', 'g', '-', 'j', 'o', 'i', 'n', '-',
			      'v', '1', 0, 0, 0, 2, 0, 0, 0, 4 };
	uint32_t i;

	(void)st;
	for (i = 0; i < AUTH_JOIN_KEY_LEN; i++) {
		key[i] = (uint8_t)i;
		key2[i] = (uint8_t)(i + 1);
	}
	assert_int_equal(auth_join_token(key, 2, 4, t), 0);
	assert_int_equal(auth_hmac(key, sizeof(key), m, sizeof(m), want), 0);
	assert_memory_equal(t, want, AUTH_MAC_LEN);
	assert_int_equal(auth_join_token(key, 3, 4, u), 0);
	assert_memory_not_equal(t, u, AUTH_MAC_LEN);
	assert_int_equal(auth_join_token(key, 2, 3, u), 0);
	assert_memory_not_equal(t, u, AUTH_MAC_LEN);
	assert_int_equal(auth_join_token(key2, 2, 4, u), 0);
	assert_memory_not_equal(t, u, AUTH_MAC_LEN);
}

static void write_file(const char *path, const char *s, mode_t mode)
{
	FILE *f;

	unlink(path);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(s, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void test_secret_file(void **st)
{
	char dir[] = "/tmp/rdmig-test-secret-XXXXXX", path[128], err[512];
	struct auth_secret k, k2;
	struct auth_transcript t;
	uint8_t m1[AUTH_MAC_LEN], m2[AUTH_MAC_LEN];

	(void)st;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/secret", dir);
	memset(&k, 0, sizeof(k));

	write_file(path, "0123456789abcdef0123\n", 0644);
	err[0] = '\0';
	assert_int_equal(auth_secret_load(&k, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "0644"));
	assert_non_null(strstr(err, "group or others"));
	assert_false(k.set);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(auth_secret_load(&k, path, err, sizeof(err)), -1);
	assert_int_equal(chmod(path, 0604), 0);
	assert_int_equal(auth_secret_load(&k, path, err, sizeof(err)), -1);

	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(auth_secret_load(&k, path, err, sizeof(err)), 0);
	assert_true(k.set);
	assert_int_equal(k.len, 20);	/* the trailing newline is not part of it */
	set_key(&k2, "0123456789abcdef0123");
	make_transcript(&t);
	assert_int_equal(auth_mac(&k, AUTH_ROLE_SRC, &t, m1), 0);
	assert_int_equal(auth_mac(&k2, AUTH_ROLE_SRC, &t, m2), 0);
	assert_memory_equal(m1, m2, AUTH_MAC_LEN);

	write_file(path, "too short\n", 0400);
	assert_int_equal(auth_secret_load(&k, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "at least 16"));
	unlink(path);
	assert_int_equal(auth_secret_load(&k, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(auth_secret_load(&k, dir, err, sizeof(err)), -1);
	rmdir(dir);
	assert_int_equal(auth_secret_set(&k, "x", 1, err, sizeof(err)), -1);
}

static int match(const char *rule, const char *addr)
{
	struct auth_allow a;
	struct sockaddr_storage ss = { 0 };
	char err[128];

	if (auth_allow_parse(rule, &a, err, sizeof(err)))
		return -1;
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, addr, &s6->sin6_addr);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		inet_pton(AF_INET, addr, &s4->sin_addr);
	}
	return auth_allow_match(&a, 1, (struct sockaddr *)&ss);
}

static void test_allow_list(void **st)
{
	struct auth_allow a;
	char err[128];

	(void)st;
	assert_int_equal(match("198.18.0.1", "198.18.0.1"), 1);
	assert_int_equal(match("198.18.0.1", "198.18.0.2"), 0);
	assert_int_equal(match("198.18.0.1/32", "198.18.0.1"), 1);
	assert_int_equal(match("198.18.0.0/24", "198.18.0.200"), 1);
	assert_int_equal(match("198.18.0.0/24", "198.18.1.1"), 0);
	assert_int_equal(match("198.18.0.0/15", "198.19.255.1"), 1);
	assert_int_equal(match("198.18.0.0/15", "198.20.0.1"), 0);
	assert_int_equal(match("0.0.0.0/0", "10.1.2.3"), 1);
	assert_int_equal(match("0.0.0.0/0", "fe80::1"), 0);	/* v4 rule, v6 peer */
	assert_int_equal(match("fe80::/64", "fe80::1234"), 1);
	assert_int_equal(match("fe80::/64", "fe81::1"), 0);
	assert_int_equal(match("::ffff:198.18.0.1", "198.18.0.1"), 1);
	assert_int_equal(match("1.2.3.4/33", "1.2.3.4"), -1);
	assert_int_equal(match("1.2.3.4/", "1.2.3.4"), -1);
	assert_int_equal(match("1.2.3.4/-1", "1.2.3.4"), -1);
	assert_int_equal(match("host.example", "1.2.3.4"), -1);
	assert_int_equal(match("", "1.2.3.4"), -1);
	assert_int_equal(auth_allow_parse("fe80::/129", &a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "ADDR[/PREFIX]"));
	/* an empty list allows everyone */
	assert_true(auth_allow_match(NULL, 0, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4231),
		cmocka_unit_test(test_transcript_layout),
		cmocka_unit_test(test_against_openssl_cli),
		cmocka_unit_test(test_exchange),
		cmocka_unit_test(test_nonces),
		cmocka_unit_test(test_join_token),
		cmocka_unit_test(test_secret_file),
		cmocka_unit_test(test_allow_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
