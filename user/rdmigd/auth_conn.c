// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The challenge-response on a connection (protocol.md, "Authentication"):
 *   request  (source):      private data + Ns
 *   accept   (destination): private data + Nd + HMAC(K, "rdmig-auth-v1 dst" || T)
 *   AUTH     (source):      HMAC(K, "rdmig-auth-v1 src" || T)
 * T binds both nonces, both private data blocks (version, capabilities,
 * chunk size, credits, budgets) and both ends' addresses, ports and QP
 * numbers, as each side sees them. Nothing else moves before the check:
 * the source sends no RAM and no state before it verified the
 * destination's proof, the destination handles no message (so hands out
 * no rkey) before it verified the source's.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "conn.h"
#include "log.h"
#include "rdmigd.h"

int conn_auth_accept(struct conn *c, const struct conn_request *r,
		     uint8_t *acc_pd)
{
	uint8_t mac[AUTH_MAC_LEN];

	memcpy(c->at.req_pd, r->pd, WIRE_PD_LEN);
	memcpy(c->at.ns, r->pd + WIRE_PD_LEN, WIRE_NONCE_LEN);
	memcpy(c->at.acc_pd, acc_pd, WIRE_PD_LEN);
	if (auth_nonce(c->at.nd))
		return conn_fail(c, "cannot draw a random nonce (RAND_bytes failed)");
	if (auth_endpoint_set(&c->at.src, rdma_get_peer_addr(r->id), r->qpn) ||
	    auth_endpoint_set(&c->at.dst, rdma_get_local_addr(r->id),
			      r->id->qp->qp_num))
		return conn_fail(c, "authentication: the connection's addresses are neither IPv4 nor IPv6");
	if (auth_mac(&c->key, AUTH_ROLE_DST, &c->at, mac))
		return conn_fail(c, "authentication: HMAC-SHA256 failed");
	memcpy(acc_pd + WIRE_PD_LEN, c->at.nd, WIRE_NONCE_LEN);
	memcpy(acc_pd + WIRE_PD_LEN + WIRE_NONCE_LEN, mac, WIRE_MAC_LEN);
	OPENSSL_cleanse(mac, sizeof(mac));
	log_dbg("auth: source port %u qpn %u, destination port %u qpn %u",
		c->at.src.port, c->at.src.qpn, c->at.dst.port, c->at.dst.qpn);
	return 0;
}

int conn_auth_source(struct conn *c)
{
	uint8_t mac[AUTH_MAC_LEN];
	int rc;

	if (!c->key.set)
		return 0;
	if (!c->auth)
		return conn_fail(c, "authentication failed: the destination does not authenticate (no secret configured there?); refusing to send guest memory to it");
	log_dbg("auth: source port %u qpn %u, destination port %u qpn %u",
		c->at.src.port, c->at.src.qpn, c->at.dst.port, c->at.dst.qpn);
	if (auth_verify(&c->key, AUTH_ROLE_DST, &c->at, c->peer_mac))
		return conn_fail(c, "authentication failed: the destination's proof does not match this source's secret (different secrets, or not the intended destination)");
	if (auth_mac(&c->key, AUTH_ROLE_SRC, &c->at, mac))
		return conn_fail(c, "authentication: HMAC-SHA256 failed");
	rc = conn_send(c, WIRE_AUTH, 1, mac, sizeof(mac));
	OPENSSL_cleanse(mac, sizeof(mac));
	if (rc)
		return -1;
	c->authed = true;
	log_info("destination authenticated");
	return 0;
}

int conn_auth_check(struct conn *c, const uint8_t *mac)
{
	if (auth_verify(&c->key, AUTH_ROLE_SRC, &c->at, mac))
		return -1;
	c->authed = true;
	return 0;
}

int agent_set_secret(struct agent *a, const void *buf, size_t len, char *err,
		     size_t errlen)
{
	int rc;

	pthread_mutex_lock(&a->lock);
	rc = auth_secret_set(&a->secret, buf, len, err, errlen);
	pthread_mutex_unlock(&a->lock);
	return rc;
}
