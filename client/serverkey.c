/*
 * serverkey.c - a handle's server keys: privd's key and, while privd's key
 * is being rotated, its next one (`privd server-key next`).
 *
 * privd serves one CURVE key at a time and restarts onto the next one
 * (daemon/server_key.c). A client that holds both needs nothing done at
 * the restart: when a handshake fails (the one failure a wrong server key
 * causes, conn.c) it opens a fresh socket with the other key at once, so
 * the switch costs one failed handshake, a few milliseconds after privd
 * is back. The key that completed a handshake stays in use. A failure
 * that was transient (privd stopping in the middle of a handshake) only
 * makes the handle try the other key, fail once more and come back.
 * With every key failing three times in a row the call gives up
 * with PRIVD_EHANDSHAKE, as with one key.
 *
 * Also here: privd_set_server_keys() and reading a server key file with
 * two keys (privd_server_keys_load()); keyfile.c reads the other files.
 */
#include <string.h>

#include "serverkey.h"

/* Failed handshakes per key, in a row, before a call gives up: conn.c's
 * HS_FAILS_MAX for one key. */
#define FAILS_PER_KEY 3

int
cl_server_keys_parse(
    const char *text, uint8_t keys[PRIVD_SERVER_KEYS_MAX][KEY_BYTES], size_t *n)
{
	char one[Z85_CHARS + 1];
	const char *comma;
	size_t len;

	*n = 0;
	if (text == NULL)
		return -1;
	for (;;) {
		comma = strchr(text, ',');
		len = comma != NULL ? (size_t)(comma - text) : strlen(text);
		if (len != Z85_CHARS || *n == PRIVD_SERVER_KEYS_MAX)
			return -1;
		memcpy(one, text, len);
		one[len] = '\0';
		if (cl_z85_key_decode(keys[*n], one) != 0)
			return -1;
		(*n)++;
		if (comma == NULL)
			return 0;
		text = comma + 1;
	}
}

void
cl_server_keys_use(privd_client *c,
    const uint8_t keys[PRIVD_SERVER_KEYS_MAX][KEY_BYTES], size_t n)
{
	memcpy(c->server_keys, keys, n * KEY_BYTES);
	c->nserver_keys = (unsigned)n;
	c->server_key_in_use = 0;
	c->key_fails = 0;
	memcpy(c->server_key, keys[0], KEY_BYTES);
}

int
cl_server_key_switch(privd_client *c)
{
	if (c->nserver_keys < 2)
		return 0;
	if (++c->key_fails >= FAILS_PER_KEY * c->nserver_keys) {
		c->key_fails = 0;
		cl_fail(c, PRIVD_EHANDSHAKE,
		    "connected to %s but the CURVE handshake failed with each "
		    "server key: they are probably wrong",
		    c->endpoint);
		return -1;
	}
	c->server_key_in_use = (c->server_key_in_use + 1) % c->nserver_keys;
	memcpy(c->server_key, c->server_keys[c->server_key_in_use], KEY_BYTES);
	return 1;
}

void
cl_server_key_ok(privd_client *c)
{
	c->key_fails = 0;
}

int
privd_set_server_keys(privd_client *c, const char *const *keys, size_t n)
{
	char text[PRIVD_SERVER_KEYS_LEN];
	uint8_t raw[KEY_BYTES];
	size_t i;

	if (c == NULL)
		return PRIVD_EINVAL;
	if (!cl_same_process(c))
		return cl_fail(c, PRIVD_EINVAL, "%s", cl_other_process);
	if (keys == NULL || n == 0 || n > PRIVD_SERVER_KEYS_MAX)
		return cl_fail(c, PRIVD_EINVAL,
		    "give one or two server keys (privd's key, then its "
		    "next key), not %zu",
		    keys == NULL ? (size_t)0 : n);
	for (i = 0; i < n; i++)
		if (cl_z85_key_decode(raw, keys[i]) != 0)
			return cl_fail(c, PRIVD_EKEY,
			    "server key %zu of %zu is not a 40-character Z85 "
			    "key",
			    i + 1, n);
	snprintf(text, sizeof(text), "%s%s%s", keys[0], n > 1 ? "," : "",
	    n > 1 ? keys[1] : "");
	return privd_set_server_key(c, text);
}
