/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Peer authentication: the per-migration secret, the transcript both
 * sides sign (HMAC-SHA256 from OpenSSL's libcrypto) and the source
 * address allow-list. Pure (no RDMA), so it is host-tested in
 * tests/unit/test_auth.c. Documentation/protocol.md ("Authentication")
 * describes every byte.
 */
#ifndef RDMIGD_AUTH_H
#define RDMIGD_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#define AUTH_NONCE_LEN		32
#define AUTH_MAC_LEN		32	/* HMAC-SHA256 */
#define AUTH_SECRET_MIN		16	/* bytes; shorter secrets are refused */
#define AUTH_SECRET_MAX		1024
#define AUTH_PD_LEN		24	/* = WIRE_PD_LEN, signed as sent */
#define AUTH_LABEL_LEN		17	/* "rdmig-auth-v1 dst" / "... src" */
#define AUTH_EP_LEN		22	/* 16 address, be16 port, be32 QPN */
/* label, Ns, Nd, request pd, accept pd, source, destination endpoint */
#define AUTH_TRANSCRIPT_LEN	(AUTH_LABEL_LEN + 2 * AUTH_NONCE_LEN + \
				 2 * AUTH_PD_LEN + 2 * AUTH_EP_LEN)
/* How long a connected but unauthenticated source may take to prove itself. */
#define AUTH_TIMEOUT_MS		5000

struct auth_secret {
	bool set;
	size_t len;
	uint8_t key[AUTH_SECRET_MAX];
};

/* One end of the connection as both sides see it. */
struct auth_endpoint {
	uint8_t addr[16];	/* IPv6, or IPv4-mapped ::ffff:a.b.c.d */
	uint16_t port;
	uint32_t qpn;
};

struct auth_transcript {
	uint8_t ns[AUTH_NONCE_LEN];	/* source's nonce (connect request) */
	uint8_t nd[AUTH_NONCE_LEN];	/* destination's nonce (accept) */
	uint8_t req_pd[AUTH_PD_LEN];	/* request private data, first 24 bytes */
	uint8_t acc_pd[AUTH_PD_LEN];	/* accept private data, first 24 bytes */
	struct auth_endpoint src, dst;
};

enum auth_role { AUTH_ROLE_SRC, AUTH_ROLE_DST };

/*
 * The internal API for giving the secret (--secret-file and the control
 * channel both end here). Copies @len bytes; refuses fewer than
 * AUTH_SECRET_MIN or more than AUTH_SECRET_MAX. Returns 0 or -1 with @err.
 */
int auth_secret_set(struct auth_secret *s, const void *buf, size_t len,
		    char *err, size_t errlen);
/*
 * Reads the secret from @path: a regular file readable by its owner only
 * (a group- or world-readable file is refused). Its bytes are the secret;
 * one trailing newline is dropped. Returns 0 or -1 with @err.
 */
int auth_secret_load(struct auth_secret *s, const char *path, char *err,
		     size_t errlen);
void auth_secret_clear(struct auth_secret *s);

/* A fresh random nonce (RAND_bytes). Returns 0 or -1. */
int auth_nonce(uint8_t n[AUTH_NONCE_LEN]);

/* HMAC-SHA256 of @msg under @key. Returns 0 or -1. */
int auth_hmac(const void *key, size_t klen, const void *msg, size_t mlen,
	      uint8_t out[AUTH_MAC_LEN]);
/*
 * A data QP's JOIN token (protocol.md, "Several QPs"): HMAC-SHA256 under
 * the destination's per-migration join key of "rdmig-join-v1" || be32
 * @index || be32 @n. Returns 0 or -1.
 */
#define AUTH_JOIN_KEY_LEN	32
int auth_join_token(const uint8_t key[AUTH_JOIN_KEY_LEN], uint32_t index,
		    uint32_t n, uint8_t out[AUTH_MAC_LEN]);
/* The exact bytes @role signs (AUTH_TRANSCRIPT_LEN of them). */
void auth_transcript_encode(const struct auth_transcript *t,
			    enum auth_role role,
			    uint8_t out[AUTH_TRANSCRIPT_LEN]);
/* @role's proof over @t. Returns 0 or -1. */
int auth_mac(const struct auth_secret *k, enum auth_role role,
	     const struct auth_transcript *t, uint8_t mac[AUTH_MAC_LEN]);
/* 0 when @mac is @role's proof over @t (constant-time compare), else -1. */
int auth_verify(const struct auth_secret *k, enum auth_role role,
		const struct auth_transcript *t, const uint8_t mac[AUTH_MAC_LEN]);

/* Fills @ep from a sockaddr (AF_INET/AF_INET6) and a QP number. */
int auth_endpoint_set(struct auth_endpoint *ep, const struct sockaddr *sa,
		      uint32_t qpn);

/* Source address allow-list: ADDR[/PREFIX], IPv4 or IPv6. */
struct auth_allow {
	uint8_t addr[16];	/* IPv4 as ::ffff:a.b.c.d */
	unsigned int prefix;	/* bits of addr[], 0..128 */
};
int auth_allow_parse(const char *s, struct auth_allow *a, char *err,
		     size_t errlen);
/* True when @n is 0 (no list) or @sa matches one of @list. */
bool auth_allow_match(const struct auth_allow *list, size_t n,
		      const struct sockaddr *sa);

#endif
