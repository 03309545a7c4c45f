// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Peer authentication primitives. The crypto is OpenSSL's: HMAC-SHA256
 * (HMAC()), RAND_bytes() for nonces, CRYPTO_memcmp() for comparing
 * proofs, OPENSSL_cleanse() for wiping keys. What is signed, and why it
 * stops a relay or a replay, is in Documentation/protocol.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "auth.h"

static const char label_src[AUTH_LABEL_LEN + 1] = "rdmig-auth-v1 src";
static const char label_dst[AUTH_LABEL_LEN + 1] = "rdmig-auth-v1 dst";

int auth_secret_set(struct auth_secret *s, const void *buf, size_t len,
		    char *err, size_t errlen)
{
	if (len < AUTH_SECRET_MIN) {
		snprintf(err, errlen, "the secret is %zu bytes, at least %d are needed",
			 len, AUTH_SECRET_MIN);
		return -1;
	}
	if (len > AUTH_SECRET_MAX) {
		snprintf(err, errlen, "the secret is %zu bytes, at most %d are allowed",
			 len, AUTH_SECRET_MAX);
		return -1;
	}
	auth_secret_clear(s);
	memcpy(s->key, buf, len);
	s->len = len;
	s->set = true;
	return 0;
}

void auth_secret_clear(struct auth_secret *s)
{
	OPENSSL_cleanse(s->key, sizeof(s->key));
	s->len = 0;
	s->set = false;
}

int auth_secret_load(struct auth_secret *s, const char *path, char *err,
		     size_t errlen)
{
	uint8_t buf[AUTH_SECRET_MAX + 2];
	struct stat st;
	size_t n = 0;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errlen, "secret file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st)) {
		snprintf(err, errlen, "secret file %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "secret file %s is not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errlen,
			 "secret file %s has mode %04o: it must not be accessible by group or others (chmod 600 %s)",
			 path, (unsigned int)(st.st_mode & 07777), path);
		close(fd);
		return -1;
	}
	while (n < sizeof(buf)) {
		ssize_t k = read(fd, buf + n, sizeof(buf) - n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			snprintf(err, errlen, "reading secret file %s: %s", path,
				 strerror(errno));
			close(fd);
			OPENSSL_cleanse(buf, sizeof(buf));
			return -1;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	close(fd);
	if (n && buf[n - 1] == '\n')
		n--;
	rc = auth_secret_set(s, buf, n, err, errlen);
	OPENSSL_cleanse(buf, sizeof(buf));
	if (rc) {
		char why[128];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "secret file %s: %s", path, why);
	}
	return rc;
}

int auth_nonce(uint8_t n[AUTH_NONCE_LEN])
{
	return RAND_bytes(n, AUTH_NONCE_LEN) == 1 ? 0 : -1;
}

int auth_hmac(const void *key, size_t klen, const void *msg, size_t mlen,
	      uint8_t out[AUTH_MAC_LEN])
{
	unsigned int olen = 0;

	if (klen > INT32_MAX)
		return -1;
	if (!HMAC(EVP_sha256(), key, (int)klen, msg, mlen, out, &olen) ||
	    olen != AUTH_MAC_LEN)
		return -1;
	return 0;
}

int auth_join_token(const uint8_t key[AUTH_JOIN_KEY_LEN], uint32_t index,
		    uint32_t n, uint8_t out[AUTH_MAC_LEN])
{
	static const char label[] = "rdmig-join-v1";
	uint8_t msg[sizeof(label) - 1 + 8], *p = msg + sizeof(label) - 1;

	memcpy(msg, label, sizeof(label) - 1);
	p[0] = index >> 24;
	p[1] = index >> 16;
	p[2] = index >> 8;
	p[3] = index;
	p[4] = n >> 24;
	p[5] = n >> 16;
	p[6] = n >> 8;
	p[7] = n;
	return auth_hmac(key, AUTH_JOIN_KEY_LEN, msg, sizeof(msg), out);
}

static uint8_t *put_ep(uint8_t *p, const struct auth_endpoint *ep)
{
	memcpy(p, ep->addr, 16);
	p[16] = (uint8_t)(ep->port >> 8);
	p[17] = (uint8_t)ep->port;
	p[18] = (uint8_t)(ep->qpn >> 24);
	p[19] = (uint8_t)(ep->qpn >> 16);
	p[20] = (uint8_t)(ep->qpn >> 8);
	p[21] = (uint8_t)ep->qpn;
	return p + AUTH_EP_LEN;
}

void auth_transcript_encode(const struct auth_transcript *t,
			    enum auth_role role,
			    uint8_t out[AUTH_TRANSCRIPT_LEN])
{
	uint8_t *p = out;

	memcpy(p, role == AUTH_ROLE_SRC ? label_src : label_dst, AUTH_LABEL_LEN);
	p += AUTH_LABEL_LEN;
	memcpy(p, t->ns, AUTH_NONCE_LEN);
	p += AUTH_NONCE_LEN;
	memcpy(p, t->nd, AUTH_NONCE_LEN);
	p += AUTH_NONCE_LEN;
	memcpy(p, t->req_pd, AUTH_PD_LEN);
	p += AUTH_PD_LEN;
	memcpy(p, t->acc_pd, AUTH_PD_LEN);
	p += AUTH_PD_LEN;
	p = put_ep(p, &t->src);
	put_ep(p, &t->dst);
}

int auth_mac(const struct auth_secret *k, enum auth_role role,
	     const struct auth_transcript *t, uint8_t mac[AUTH_MAC_LEN])
{
	uint8_t msg[AUTH_TRANSCRIPT_LEN];

	if (!k->set)
		return -1;
	auth_transcript_encode(t, role, msg);
	return auth_hmac(k->key, k->len, msg, sizeof(msg), mac);
}

int auth_verify(const struct auth_secret *k, enum auth_role role,
		const struct auth_transcript *t, const uint8_t mac[AUTH_MAC_LEN])
{
	uint8_t want[AUTH_MAC_LEN];
	int rc;

	if (auth_mac(k, role, t, want))
		return -1;
	rc = CRYPTO_memcmp(want, mac, AUTH_MAC_LEN) ? -1 : 0;
	OPENSSL_cleanse(want, sizeof(want));
	return rc;
}

static int to_v6(const struct sockaddr *sa, uint8_t a[16], uint16_t *port)
{
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		memset(a, 0, 10);
		a[10] = a[11] = 0xff;
		memcpy(a + 12, &in->sin_addr, 4);
		if (port)
			*port = ntohs(in->sin_port);
		return 0;
	}
	if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		memcpy(a, &in6->sin6_addr, 16);
		if (port)
			*port = ntohs(in6->sin6_port);
		return 0;
	}
	return -1;
}

int auth_endpoint_set(struct auth_endpoint *ep, const struct sockaddr *sa,
		      uint32_t qpn)
{
	memset(ep, 0, sizeof(*ep));
	ep->qpn = qpn;
	return to_v6(sa, ep->addr, &ep->port);
}

int auth_allow_parse(const char *s, struct auth_allow *a, char *err,
		     size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t hl = slash ? (size_t)(slash - s) : strlen(s);
	struct in_addr v4;
	unsigned int max;

	memset(a, 0, sizeof(*a));
	if (!hl || hl >= sizeof(host))
		goto bad;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, &v4) == 1) {
		a->addr[10] = a->addr[11] = 0xff;
		memcpy(a->addr + 12, &v4, 4);
		max = 32;
	} else if (inet_pton(AF_INET6, host, a->addr) == 1) {
		max = 128;
	} else {
		goto bad;
	}
	a->prefix = max;
	if (slash) {
		char *end;
		unsigned long p;

		if (!slash[1] || slash[1] == '-' || slash[1] == '+')
			goto bad;
		errno = 0;
		p = strtoul(slash + 1, &end, 10);
		if (errno || *end || p > max)
			goto bad;
		a->prefix = (unsigned int)p;
	}
	if (max == 32)
		a->prefix += 96;	/* the ::ffff: part always matches */
	return 0;
bad:
	snprintf(err, errlen, "--allow: '%s' is not ADDR[/PREFIX] (IPv4 or IPv6)", s);
	return -1;
}

bool auth_allow_match(const struct auth_allow *list, size_t n,
		      const struct sockaddr *sa)
{
	uint8_t a[16];
	size_t i;

	if (!n)
		return true;
	if (to_v6(sa, a, NULL))
		return false;
	for (i = 0; i < n; i++) {
		unsigned int bits = list[i].prefix, full = bits / 8, rest = bits % 8;

		if (memcmp(a, list[i].addr, full))
			continue;
		if (rest) {
			uint8_t m = (uint8_t)(0xff << (8 - rest));

			if ((a[full] & m) != (list[i].addr[full] & m))
				continue;
		}
		return true;
	}
	return false;
}
