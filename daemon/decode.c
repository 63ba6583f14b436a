/*
 * decode.c - request decoding for the workers; see decode.h.
 */
#include "decode.h"

#include <string.h>

#define ST(x) PRIVD__V1__STATUS__##x

/* A frame of repeated empty strings decodes into ~12 times its size; no
 * honest request needs more than a few times. */
#define DECODE_EXPANSION 8
#define DECODE_SLACK     (128 * 1024)
/* Messages nest at most three deep (Request > PutRequest > Field). */
#define DECODE_MAX_DEPTH 8

bool
decode_utf8_ok(const uint8_t *s, size_t len)
{
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		if ((n = pol_utf8_char(s + i, len - i, &cp)) == 0 || cp == 0)
			return false;
		i += n;
	}
	return true;
}

/* Read a varint at *off; -1 if it runs past len or past 64 bits. */
static int
varint(const uint8_t *p, size_t len, size_t *off, uint64_t *v)
{
	unsigned shift = 0;

	*v = 0;
	while (*off < len && shift < 64) {
		uint8_t b = p[(*off)++];

		*v |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0)
			return 0;
		shift += 7;
	}
	return -1;
}

/*
 * Walk the wire bytes of one message with its descriptor and check every
 * string field (in this message and the messages inside it): the bytes
 * protobuf-c copied into a C string, without their length. Runs after a
 * successful unpack, so malformed bytes are not expected, but it stays
 * defensive. Returns NULL if every string is fine, else the descriptor of
 * the first bad field.
 */
static const ProtobufCFieldDescriptor *
bad_string(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t len,
    int depth)
{
	static const ProtobufCFieldDescriptor malformed = {.name = "?"};
	const ProtobufCFieldDescriptor *f, *bad;
	size_t off = 0;
	uint64_t key, n;

	if (depth > DECODE_MAX_DEPTH)
		return &malformed;
	while (off < len) {
		if (varint(p, len, &off, &key) != 0)
			return &malformed;
		f = key >> 3 <= UINT32_MAX
		        ? protobuf_c_message_descriptor_get_field(
		              d, (unsigned)(key >> 3))
		        : NULL;
		switch (key & 7) {
		case 0: /* varint */
			if (varint(p, len, &off, &n) != 0)
				return &malformed;
			break;
		case 1: /* 64-bit */
			if (len - off < 8)
				return &malformed;
			off += 8;
			break;
		case 5: /* 32-bit */
			if (len - off < 4)
				return &malformed;
			off += 4;
			break;
		case 2: /* length-delimited */
			if (varint(p, len, &off, &n) != 0 || n > len - off)
				return &malformed;
			if (f != NULL && f->type == PROTOBUF_C_TYPE_STRING &&
			    !decode_utf8_ok(p + off, (size_t)n))
				return f;
			if (f != NULL && f->type == PROTOBUF_C_TYPE_MESSAGE &&
			    (bad = bad_string(f->descriptor, p + off, (size_t)n,
			         depth + 1)) != NULL)
				return bad;
			off += (size_t)n;
			break;
		default: /* groups: not in proto3 */
			return &malformed;
		}
	}
	return NULL;
}

int
decode_request(job *j, size_t max_request)
{
	ProtobufCAllocator alloc = arena_pb_allocator;
	const ProtobufCFieldDescriptor *bad;
	const uint8_t *p = zmq_msg_data(&j->frame);
	size_t len = zmq_msg_size(&j->frame);
	Privd__V1__Request *req;

	if (j->multipart) {
		job_fail(
		    j, ST(INVALID), 0, "a request must be exactly one frame");
		return -1;
	}
	if (len > max_request) {
		job_fail(j, ST(TOO_LARGE), 0,
		    "request of %zu bytes exceeds the limit of %zu bytes", len,
		    max_request);
		return -1;
	}
	alloc.allocator_data = &j->ar;
	j->ar.limit = DECODE_EXPANSION * len + DECODE_SLACK;
	req = privd__v1__request__unpack(&alloc, len, p);
	j->ar.limit = 0;
	if (req == NULL) {
		job_fail(j, ST(INVALID), 0,
		    "not a privd.v1.Request message, or too complex");
		return -1;
	}
	j->req = req;
	j->request_id = req->request_id;
	j->ev.request_id = req->request_id;
	if ((bad = bad_string(&privd__v1__request__descriptor, p, len, 0)) !=
	    NULL) {
		job_fail(j, ST(INVALID), 0,
		    "string field %s holds a NUL byte or is not valid UTF-8",
		    bad->name);
		return -1;
	}
	/* The deadline, with the grace for clock skew; one too far to
	 * represent (UINT64_MAX, say: half a million years) is none. A
	 * request already late on arrival is answered at once: its client
	 * has stopped waiting, and a change must not happen after that. */
	if (req->deadline_ms != 0 &&
	    req->deadline_ms <= (UINT64_MAX - j->grace_us) / 1000)
		j->deadline_us = req->deadline_ms * 1000 + j->grace_us;
	if (job_expired(j))
		return -1;
	return 0;
}
