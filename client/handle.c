/*
 * handle.c - libprivd's handle: made, set and closed (privd_connect,
 * privd_close, the privd_set_* calls), and the calls that are only the
 * handle's (privd_ping, privd_last_request_id, privd_free). Its socket
 * and calls are conn.c's.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "internal.h"
#include "serverkey.h"

int
privd_connect(privd_client **out, const char *endpoint, const char *server_key,
    const char *public_key, const char *secret_key)
{
	privd_client *c;
	struct cl_node *nodes;
	char derived[PRIVD_KEY_Z85_LEN];
	uint8_t skeys[PRIVD_SERVER_KEYS_MAX][KEY_BYTES];
	size_t n, nskeys;
	int rc, mismatch;

	if (out == NULL)
		return PRIVD_EINVAL;
	*out = NULL;
	/* one endpoint, or a list of nodes (endpoints.c) */
	if ((rc = cl_ep_parse(endpoint, &nodes, &n, NULL, 0)) != PRIVD_OK)
		return rc;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		while (n-- > 0)
			free(nodes[n].endpoint);
		free(nodes);
		return PRIVD_ENOMEM;
	}
	c->pid = getpid();
	c->nodes = nodes;
	c->nnodes = n;
	c->endpoint = nodes[0].endpoint;
	if (cl_server_keys_parse(server_key, skeys, &nskeys) != 0 ||
	    cl_z85_key_decode(c->public_key, public_key) != 0 ||
	    cl_z85_key_decode(c->secret_key, secret_key) != 0) {
		rc = PRIVD_EKEY;
		goto bad;
	}
	cl_server_keys_use(c, skeys, nskeys);
	/* a key pair that does not match would only show as "refused" */
	mismatch = zmq_curve_public(derived, secret_key) != 0 ||
	           strcmp(derived, public_key) != 0;
	cl_wipe(derived, sizeof(derived));
	if (mismatch) {
		rc = PRIVD_EKEY;
		goto bad;
	}
	if ((c->ctx = zmq_ctx_new()) == NULL) {
		rc = errno == ENOMEM ? PRIVD_ENOMEM : PRIVD_EINTERNAL;
		goto bad;
	}
	zmq_ctx_set(c->ctx, ZMQ_BLOCKY, 0);
	c->timeout_ms = PRIVD_DEFAULT_TIMEOUT_MS;
	c->max_request = PRIVD_DEFAULT_MAX_REQUEST;
	c->next_id = cl_random_id();
	if (c->next_id == 0)
		c->next_id = 1;
	/* start the handshake now so that the first call finds it done */
	if ((rc = cl_sock_open(c)) != PRIVD_OK)
		goto bad;
	*out = c;
	return PRIVD_OK;

bad:
	privd_close(&c);
	return rc;
}

/*
 * Close a handle. In a child after fork() the handle's libzmq context is a
 * copy without its I/O thread, whose locks another thread of the parent
 * may have held at the fork: closing it there could hang, so a child only
 * wipes and frees the handle's own memory and leaves libzmq's alone (the
 * child's copy of it goes with the child; the parent's handle is not
 * touched).
 */
void
privd_close(privd_client **cp)
{
	privd_client *c;

	if (cp == NULL || (c = *cp) == NULL)
		return;
	cl_ep_free(c); /* (its probe socket first: before the context) */
	if (cl_same_process(c)) {
		cl_sock_close(c);
		if (c->ctx != NULL)
			while (zmq_ctx_term(c->ctx) != 0 && errno == EINTR)
				;
	}
	free(c->fbuf);
	free(c->fptr);
	cl_wipe(c, sizeof(*c));
	free(c);
	*cp = NULL;
}

int
privd_set_timeout(privd_client *c, int timeout_ms)
{
	if (c == NULL)
		return PRIVD_EINVAL;
	if (!cl_same_process(c))
		return cl_fail(c, PRIVD_EINVAL, "%s", cl_other_process);
	if (timeout_ms <= 0)
		return cl_fail(c, PRIVD_EINVAL,
		    "a timeout must be at least 1 ms (was %d)", timeout_ms);
	c->timeout_ms = timeout_ms;
	return PRIVD_OK;
}

int
privd_set_max_request(privd_client *c, size_t bytes)
{
	if (c == NULL)
		return PRIVD_EINVAL;
	if (!cl_same_process(c))
		return cl_fail(c, PRIVD_EINVAL, "%s", cl_other_process);
	if (bytes == 0)
		return cl_fail(
		    c, PRIVD_EINVAL, "a request size limit must be at least 1");
	c->max_request = bytes;
	return PRIVD_OK;
}

/*
 * A new server key takes effect at the next call: the socket made with the
 * old one is closed now (nothing is in flight between calls), so that no
 * later request goes out under the old key, and the next call opens a
 * fresh one, with the handshake diagnostics of a new socket.
 */
int
privd_set_server_key(privd_client *c, const char *server_key)
{
	uint8_t raw[PRIVD_SERVER_KEYS_MAX][KEY_BYTES];
	size_t n;

	if (c == NULL)
		return PRIVD_EINVAL;
	if (!cl_same_process(c))
		return cl_fail(c, PRIVD_EINVAL, "%s", cl_other_process);
	if (cl_server_keys_parse(server_key, raw, &n) != 0)
		return cl_fail(c, PRIVD_EKEY,
		    "the server key is not a 40-character Z85 key (or two "
		    "separated by a comma)");
	cl_sock_close(c);
	cl_server_keys_use(c, raw, n);
	return PRIVD_OK;
}

int
privd_ping(privd_client *c, privd_pong *pong)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__PingRequest ping = PRIVD__V1__PING_REQUEST__INIT;
	Privd__V1__Response *r;
	int rc;

	if (c == NULL)
		return PRIVD_EINVAL;
	cl_reset_error(c);
	req.op_case = PRIVD__V1__REQUEST__OP_PING;
	req.ping = &ping;
	rc = cl_call(c, &req, PRIVD__V1__RESPONSE__PAYLOAD_PING, &r);
	if (rc != PRIVD_OK)
		return rc;
	if (pong != NULL) {
		cl_copy_str(pong->server_version, sizeof(pong->server_version),
		    r->ping->server_version);
		cl_copy_str(pong->principal, sizeof(pong->principal),
		    r->ping->principal);
		pong->policy_version = r->ping->policy_version;
	}
	cl_response_free(r);
	return PRIVD_OK;
}

uint64_t
privd_last_request_id(const privd_client *c)
{
	return c != NULL ? c->last_id : 0;
}

void
privd_free(void *p)
{
	free(p);
}
