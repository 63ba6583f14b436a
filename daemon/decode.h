/*
 * decode.h - turn a request frame from the wire into a checked message.
 *
 * Everything a client sends is untrusted. protobuf-c unpacks bytes safely,
 * but it reads strings as C strings (an embedded NUL cuts them short) and
 * does not check UTF-8; decode_request refuses both before any handler
 * sees the request, so every string a worker reads is exactly what the
 * client sent.
 */
#ifndef PRIVD_DECODE_H
#define PRIVD_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "job.h"

/*
 * Decode j->frame into j->req (in j->ar). Refuses, by failing the job, a
 * frame larger than max_request (TOO_LARGE), a frame that is not a
 * privd.v1.Request or decodes into too much memory (INVALID), and a
 * request with a string field that holds a NUL byte or is not valid UTF-8
 * (INVALID, naming the field by its name in the .proto), and a request
 * whose deadline_ms (plus j->grace_us) has passed already (EXPIRED). Sets
 * j->request_id as soon as it is known, and j->deadline_us. Returns 0, or
 * -1 if the job failed.
 */
int decode_request(job *j, size_t max_request);

/* True if s[0..len) is valid UTF-8 (no overlong forms, surrogates or code
 * points past U+10FFFF) without a NUL byte. */
bool decode_utf8_ok(const uint8_t *s, size_t len);

#endif
