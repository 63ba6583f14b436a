/*
 * serverkey.h - the server keys a handle holds (privd's key and its next
 * one) and the switch between them when a handshake fails; serverkey.c.
 * Not installed.
 */
#ifndef PRIVD_CLIENT_SERVERKEY_H
#define PRIVD_CLIENT_SERVERKEY_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/*
 * Decode text, one Z85 key or two separated by a comma ("CURRENT,NEXT",
 * as PRIVD_SERVER_KEY gives them; ',' is not a Z85 character), into keys;
 * *n receives how many. 0, or -1 for anything else.
 */
int cl_server_keys_parse(const char *text,
    uint8_t keys[PRIVD_SERVER_KEYS_MAX][KEY_BYTES], size_t *n);

/* Make keys (n of them, n >= 1) the handle's; the first is used first.
 * The caller has closed the socket made with the old ones. */
void cl_server_keys_use(privd_client *c,
    const uint8_t keys[PRIVD_SERVER_KEYS_MAX][KEY_BYTES], size_t n);

/*
 * A handshake of the socket failed (not an authentication failure). With
 * one key: 0, nothing to switch to (conn.c counts the failures). With
 * two: 1, c->server_key is now the other key and the caller opens a fresh
 * socket with it; or -1, with the handle's message set, once every key
 * has failed three times with no handshake succeeding between, and the
 * call gives up with PRIVD_EHANDSHAKE (the next call counts anew).
 */
int cl_server_key_switch(privd_client *c);

/* A handshake succeeded with c->server_key: it stays the one used. */
void cl_server_key_ok(privd_client *c);

#endif
