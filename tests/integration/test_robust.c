/*
 * test_robust.c - privd answers malformed requests with INVALID, drops peers
 * that send oversize frames, and keeps serving through all of it.
 *
 * The tests speak the wire protocol over a raw ZeroMQ DEALER with CURVE (the
 * authorised key "svc"), without libprivd, so they can send what a correct
 * client never would. They share one privd (group setup), in order: the last
 * test checks that privd survived everything before it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zmq.h>

#include "harness.h"
#include "privd.pb-c.h"

#define REG              "customers"
#define PURPOSE          "invoicing"
#define REPLY_TIMEOUT_MS 5000

static uint8_t *
pack_request(const Privd__V1__Request *req, size_t *len)
{
	uint8_t *buf;

	*len = privd__v1__request__get_packed_size(req);
	buf = malloc(*len > 0 ? *len : 1);
	assert_non_null(buf);
	assert_int_equal(privd__v1__request__pack(req, buf), *len);
	return buf;
}

static void
send_frame(h_dealer *d, const void *buf, size_t len)
{
	const void *parts[] = {buf};
	size_t lens[] = {len};

	assert_int_equal(h_dealer_send(d, parts, lens, 1), 0);
}

/* Receive one reply: a single frame holding a Response. */
static Privd__V1__Response *
recv_response(h_dealer *d, int timeout_ms)
{
	Privd__V1__Response *resp;
	uint8_t *buf;
	size_t len, nframes;

	if (h_dealer_recv(d, timeout_ms, &buf, &len, &nframes) != 0)
		fail_msg("no reply from privd within %d ms", timeout_ms);
	assert_int_equal(nframes, 1);
	resp = privd__v1__response__unpack(NULL, len, buf);
	free(buf);
	if (resp == NULL)
		fail_msg("privd's reply is not a Response");
	return resp;
}

/*
 * Receive replies until the one for request id; every other reply must be
 * INVALID (it can only answer a malformed message sent earlier).
 */
static Privd__V1__Response *
recv_response_for(h_dealer *d, uint64_t id)
{
	int64_t deadline = h_now_ms() + REPLY_TIMEOUT_MS;

	for (int i = 0; i < 16; i++) {
		int64_t left = deadline - h_now_ms();
		Privd__V1__Response *resp =
		    recv_response(d, left > 0 ? (int)left : 0);
		if (resp->request_id == id)
			return resp;
		assert_int_equal(resp->status, PRIVD__V1__STATUS__INVALID);
		privd__v1__response__free_unpacked(resp, NULL);
	}
	fail_msg("too many unexpected replies");
	return NULL;
}

/* Send req and return privd's answer to it. */
static Privd__V1__Response *
call(h_dealer *d, const Privd__V1__Request *req)
{
	uint8_t *buf;
	size_t len;

	buf = pack_request(req, &len);
	send_frame(d, buf, len);
	free(buf);
	return recv_response_for(d, req->request_id);
}

static void
expect_invalid(h_dealer *d, const Privd__V1__Request *req)
{
	Privd__V1__Response *resp = call(d, req);

	if (resp->status != PRIVD__V1__STATUS__INVALID)
		fail_msg("expected INVALID, got status %d (%s)",
		    (int)resp->status, resp->message);
	privd__v1__response__free_unpacked(resp, NULL);
}

static void
open_dealer(harness *h, h_dealer *d)
{
	assert_int_equal(h_dealer_open(h, "svc", NULL, false, d), 0);
}

/* The same DEALER still gets answers: ping must be OK. */
static void
assert_dealer_served(h_dealer *d, uint64_t id)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__PingRequest ping = PRIVD__V1__PING_REQUEST__INIT;
	Privd__V1__Response *resp;

	req.request_id = id;
	req.op_case = PRIVD__V1__REQUEST__OP_PING;
	req.ping = &ping;
	resp = call(d, &req);
	assert_int_equal(resp->status, PRIVD__V1__STATUS__OK);
	privd__v1__response__free_unpacked(resp, NULL);
}

/* privd is alive and answers a new connection. */
static void
assert_still_serving(harness *h)
{
	privd_client *c = NULL;

	assert_true(h_running(h));
	assert_int_equal(h_connect(h, "svc", &c), PRIVD_OK);
	assert_int_equal(privd_ping(c, NULL), PRIVD_OK);
	privd_close(&c);
}

static void
test_garbage_frame_gets_invalid(void **state)
{
	harness *h = *state;
	/* 0xff... is a field tag whose varint never ends: cannot unpack. */
	static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x13, 0x37};
	Privd__V1__Request *check;
	Privd__V1__Response *resp;
	h_dealer d;

	check = privd__v1__request__unpack(NULL, sizeof(garbage), garbage);
	assert_null(check); /* the frame really is garbage */

	open_dealer(h, &d);
	send_frame(&d, garbage, sizeof(garbage));
	resp = recv_response(&d, REPLY_TIMEOUT_MS);
	assert_int_equal(resp->status, PRIVD__V1__STATUS__INVALID);
	privd__v1__response__free_unpacked(resp, NULL);
	assert_dealer_served(&d, 1001);
	h_dealer_close(&d);
	assert_still_serving(h);
}

static void
test_empty_frame_gets_invalid(void **state)
{
	harness *h = *state;
	Privd__V1__Response *resp;
	h_dealer d;

	open_dealer(h, &d);
	send_frame(&d, "", 0);
	resp = recv_response(&d, REPLY_TIMEOUT_MS);
	assert_int_equal(resp->status, PRIVD__V1__STATUS__INVALID);
	privd__v1__response__free_unpacked(resp, NULL);
	assert_dealer_served(&d, 1002);
	h_dealer_close(&d);
	assert_still_serving(h);
}

static void
test_request_without_op_gets_invalid(void **state)
{
	harness *h = *state;
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__Response *resp;
	h_dealer d;

	req.request_id = 77;
	req.purpose = PURPOSE;
	open_dealer(h, &d);
	resp = call(&d, &req);
	assert_int_equal(resp->request_id, 77);
	assert_int_equal(resp->status, PRIVD__V1__STATUS__INVALID);
	privd__v1__response__free_unpacked(resp, NULL);
	h_dealer_close(&d);
	assert_still_serving(h);
}

static void
test_multi_frame_gets_invalid_or_nothing(void **state)
{
	harness *h = *state;
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__PingRequest ping = PRIVD__V1__PING_REQUEST__INIT;
	uint8_t *buf;
	size_t len;
	h_dealer d;

	/* Two well-formed pings in one two-frame message: privd must not
	 * answer either as a ping. */
	req.request_id = 41;
	req.op_case = PRIVD__V1__REQUEST__OP_PING;
	req.ping = &ping;
	buf = pack_request(&req, &len);
	open_dealer(h, &d);
	{
		const void *parts[] = {buf, buf};
		size_t lens[] = {len, len};
		assert_int_equal(h_dealer_send(&d, parts, lens, 2), 0);
	}
	free(buf);
	/* The next ping is answered OK; any reply before it (to request 41)
	 * must be INVALID (recv_response_for checks). */
	assert_dealer_served(&d, 43);
	h_dealer_close(&d);
	assert_still_serving(h);
}

/* A put request for "customers"/"invoicing" with the given subject and
 * fields, to be spoiled by each test. */
static void
make_put(Privd__V1__Request *req, Privd__V1__PutRequest *put, uint64_t id,
    const char *subject, Privd__V1__Field **fields, size_t n)
{
	req->request_id = id;
	req->purpose = PURPOSE;
	req->op_case = PRIVD__V1__REQUEST__OP_PUT;
	req->put = put;
	put->register_ = REG;
	put->subject = (char *)subject;
	put->fields = fields;
	put->n_fields = n;
}

static void
test_put_too_many_fields_invalid(void **state)
{
	harness *h = *state;
	enum { N = 1000 };
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__PutRequest put = PRIVD__V1__PUT_REQUEST__INIT;
	Privd__V1__Field *fields = calloc(N, sizeof(*fields));
	Privd__V1__Field **ptrs = calloc(N, sizeof(*ptrs));
	privd_client *c = NULL;
	privd_record *rec = NULL;
	h_dealer d;

	assert_non_null(fields);
	assert_non_null(ptrs);
	for (size_t i = 0; i < N; i++) {
		Privd__V1__Field init = PRIVD__V1__FIELD__INIT;
		fields[i] = init;
		fields[i].name = "notes";
		fields[i].value.data = (uint8_t *)"x";
		fields[i].value.len = 1;
		ptrs[i] = &fields[i];
	}
	make_put(&req, &put, 200, "many-fields", ptrs, N);
	open_dealer(h, &d);
	expect_invalid(&d, &req);
	h_dealer_close(&d);
	free(ptrs);
	free(fields);

	assert_int_equal(h_connect(h, "svc", &c), PRIVD_OK);
	assert_int_equal(
	    privd_get(c, REG, "many-fields", PURPOSE, NULL, 0, &rec),
	    PRIVD_ENOTFOUND);
	privd_close(&c);
	assert_still_serving(h);
}

/* privd's resident memory in KiB, from /proc. */
static long
rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/*
 * A frame under the size limit that decodes into a huge message (400,000
 * empty field names: ~12 times its size once decoded) is refused as INVALID,
 * and a burst of them leaves privd's memory where it was: decoding is
 * bounded per request and nothing of it is kept afterwards.
 */
static void
test_decode_bomb_refused_memory_not_kept(void **state)
{
	harness *h = *state;
	enum { NAMES = 400000, BURST = 32 };
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__GetRequest get = PRIVD__V1__GET_REQUEST__INIT;
	Privd__V1__Response *resp;
	char **names = calloc(NAMES, sizeof(*names));
	long before, after;
	uint8_t *buf;
	size_t len;
	h_dealer d;
	int i;

	assert_non_null(names);
	for (i = 0; i < NAMES; i++)
		names[i] = "";
	get.register_ = REG;
	get.subject = "bomb";
	get.n_fields = NAMES;
	get.fields = names;
	req.purpose = PURPOSE;
	req.op_case = PRIVD__V1__REQUEST__OP_GET;
	req.get = &get;
	req.request_id = 1;
	buf = pack_request(&req, &len);
	assert_true(len < 1024 * 1024); /* under privd's frame limit */

	before = rss_kib(h->pid);
	assert_true(before > 0);
	open_dealer(h, &d);
	for (i = 0; i < BURST; i++)
		send_frame(&d, buf, len);
	for (i = 0; i < BURST; i++) {
		resp = recv_response(&d, REPLY_TIMEOUT_MS * 4);
		assert_int_equal(resp->status, PRIVD__V1__STATUS__INVALID);
		privd__v1__response__free_unpacked(resp, NULL);
	}
	h_dealer_close(&d);
	after = rss_kib(h->pid);
	free(buf);
	free(names);
	/* unbounded decoding took ~20 MiB per request and kept most of it */
#if defined(__SANITIZE_ADDRESS__)
	/* ASan keeps freed memory in quarantine, so RSS says nothing here;
	 * the memory bound is checked in the plain build. */
	(void)after;
	print_message("privd RSS %ld -> %ld KiB (not checked under ASan)\n",
	    before, after);
#else
	if (after - before > 128 * 1024)
		fail_msg("privd grew from %ld to %ld KiB", before, after);
#endif
	assert_still_serving(h);
}

static void
test_put_duplicate_field_invalid(void **state)
{
	harness *h = *state;
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__PutRequest put = PRIVD__V1__PUT_REQUEST__INIT;
	Privd__V1__Field f1 = PRIVD__V1__FIELD__INIT;
	Privd__V1__Field f2 = PRIVD__V1__FIELD__INIT;
	Privd__V1__Field *fields[] = {&f1, &f2};
	h_dealer d;

	f1.name = "notes";
	f1.value.data = (uint8_t *)"first";
	f1.value.len = 5;
	f2.name = "notes";
	f2.value.data = (uint8_t *)"second";
	f2.value.len = 6;
	make_put(&req, &put, 201, "dup-fields", fields, 2);
	open_dealer(h, &d);
	expect_invalid(&d, &req);
	h_dealer_close(&d);
	assert_still_serving(h);
}

static void
test_put_without_fields_invalid(void **state)
{
	harness *h = *state;
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__PutRequest put = PRIVD__V1__PUT_REQUEST__INIT;
	h_dealer d;

	make_put(&req, &put, 202, "no-fields", NULL, 0);
	open_dealer(h, &d);
	expect_invalid(&d, &req);
	h_dealer_close(&d);
	assert_still_serving(h);
}

static void
test_subject_of_300_bytes_invalid(void **state)
{
	harness *h = *state;
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__PutRequest put = PRIVD__V1__PUT_REQUEST__INIT;
	Privd__V1__GetRequest get = PRIVD__V1__GET_REQUEST__INIT;
	Privd__V1__DeleteRequest del = PRIVD__V1__DELETE_REQUEST__INIT;
	Privd__V1__Field f = PRIVD__V1__FIELD__INIT;
	Privd__V1__Field *fields[] = {&f};
	char subject[301];
	h_dealer d;

	memset(subject, 's', 300);
	subject[300] = '\0';
	f.name = "notes";
	f.value.data = (uint8_t *)"x";
	f.value.len = 1;
	open_dealer(h, &d);

	make_put(&req, &put, 203, subject, fields, 1);
	expect_invalid(&d, &req);

	req.request_id = 204;
	req.op_case = PRIVD__V1__REQUEST__OP_GET;
	req.get = &get;
	get.register_ = REG;
	get.subject = subject;
	expect_invalid(&d, &req);

	req.request_id = 205;
	req.op_case = PRIVD__V1__REQUEST__OP_DELETE;
	req.delete_ = &del;
	del.register_ = REG;
	del.subject = subject;
	expect_invalid(&d, &req);

	h_dealer_close(&d);
	assert_still_serving(h);
}

static void
test_subject_of_256_bytes_accepted(void **state)
{
	harness *h = *state;
	char subject[257];
	privd_field f[] = {h_field("notes", "at the limit")};
	privd_client *c = NULL;
	privd_record *rec = NULL;

	/* The limit is 1..256 bytes: the longest legal subject works. */
	memset(subject, 'L', 256);
	subject[256] = '\0';
	assert_int_equal(h_connect(h, "svc", &c), PRIVD_OK);
	assert_int_equal(privd_put(c, REG, subject, PURPOSE, f, 1), PRIVD_OK);
	assert_int_equal(
	    privd_get(c, REG, subject, PURPOSE, NULL, 0, &rec), PRIVD_OK);
	assert_int_equal(rec->nfields, 1);
	assert_string_equal(
	    (const char *)privd_record_field(rec, "notes")->value,
	    "at the limit");
	privd_record_free(&rec);
	privd_close(&c);
}

static void
test_empty_subject_invalid(void **state)
{
	harness *h = *state;
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__PutRequest put = PRIVD__V1__PUT_REQUEST__INIT;
	Privd__V1__Field f = PRIVD__V1__FIELD__INIT;
	Privd__V1__Field *fields[] = {&f};
	h_dealer d;

	f.name = "notes";
	f.value.data = (uint8_t *)"x";
	f.value.len = 1;
	make_put(&req, &put, 206, "", fields, 1);
	open_dealer(h, &d);
	expect_invalid(&d, &req);
	h_dealer_close(&d);
	assert_still_serving(h);
}

static void
test_empty_register_invalid(void **state)
{
	harness *h = *state;
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__PutRequest put = PRIVD__V1__PUT_REQUEST__INIT;
	Privd__V1__GetRequest get = PRIVD__V1__GET_REQUEST__INIT;
	Privd__V1__Field f = PRIVD__V1__FIELD__INIT;
	Privd__V1__Field *fields[] = {&f};
	h_dealer d;

	f.name = "notes";
	f.value.data = (uint8_t *)"x";
	f.value.len = 1;
	make_put(&req, &put, 207, "empty-reg", fields, 1);
	put.register_ = "";
	open_dealer(h, &d);
	expect_invalid(&d, &req);

	req.request_id = 208;
	req.op_case = PRIVD__V1__REQUEST__OP_GET;
	req.get = &get;
	get.register_ = "";
	get.subject = "empty-reg";
	expect_invalid(&d, &req);
	h_dealer_close(&d);
	assert_still_serving(h);
}

static void
test_oversize_frame_drops_peer(void **state)
{
	harness *h = *state;
	enum { BIG = 2 * 1024 * 1024 }; /* over the 1 MiB default limit */
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__PutRequest put = PRIVD__V1__PUT_REQUEST__INIT;
	Privd__V1__Field f = PRIVD__V1__FIELD__INIT;
	Privd__V1__Field *fields[] = {&f};
	uint8_t *value = calloc(1, BIG), *buf, *reply = NULL;
	size_t len, reply_len, nframes;
	h_dealer d;
	int ev;

	assert_non_null(value);
	assert_int_equal(h_dealer_open(h, "svc", NULL, true, &d), 0);
	/* First prove this peer is connected and served. */
	assert_dealer_served(&d, 300);

	f.name = "blob";
	f.value.data = value;
	f.value.len = BIG;
	make_put(&req, &put, 301, "oversize", fields, 1);
	buf = pack_request(&req, &len);
	assert_true(len > BIG);
	send_frame(&d, buf, len);
	free(buf);
	free(value);

	ev = h_dealer_wait_event(&d, ZMQ_EVENT_DISCONNECTED, REPLY_TIMEOUT_MS);
	if (ev != ZMQ_EVENT_DISCONNECTED)
		fail_msg(
		    "privd did not drop the peer that sent %d bytes", (int)BIG);
	/* ...and sent no reply to it. */
	assert_int_equal(
	    h_dealer_recv(&d, 500, &reply, &reply_len, &nframes), -1);
	assert_null(reply);
	h_dealer_close(&d);
	assert_still_serving(h);
}

static void
test_client_refuses_too_big_put(void **state)
{
	harness *h = *state;
	enum { LIMIT = 4096, SIZE = 8192 };
	uint8_t *value = calloc(1, SIZE);
	privd_field f[] = {{"blob", value, SIZE}};
	privd_client *c = NULL;
	privd_record *rec = NULL;

	assert_non_null(value);
	assert_int_equal(h_connect(h, "svc", &c), PRIVD_OK);
	privd_set_max_request(c, LIMIT);
	assert_int_equal(
	    privd_put(c, REG, "too-big", PURPOSE, f, 1), PRIVD_ETOOBIG);
	privd_close(&c);
	free(value);

	/* It was not sent: privd never stored it. */
	assert_int_equal(h_connect(h, "svc", &c), PRIVD_OK);
	assert_int_equal(privd_get(c, REG, "too-big", PURPOSE, NULL, 0, &rec),
	    PRIVD_ENOTFOUND);
	assert_null(rec);
	privd_close(&c);
}

static void
test_still_serving_after_abuse(void **state)
{
	harness *h = *state;
	privd_field f[] = {h_field("name", "Normal Customer"),
	    h_field("email", "normal@example.fi")};
	privd_client *c = NULL;
	privd_record *rec = NULL;

	assert_true(h_running(h));
	assert_int_equal(h_connect(h, "svc", &c), PRIVD_OK);
	assert_int_equal(
	    privd_put(c, REG, "normal-1", PURPOSE, f, 2), PRIVD_OK);
	assert_int_equal(
	    privd_get(c, REG, "normal-1", PURPOSE, NULL, 0, &rec), PRIVD_OK);
	assert_int_equal(rec->nfields, 2);
	assert_string_equal(
	    (const char *)privd_record_field(rec, "name")->value,
	    "Normal Customer");
	assert_string_equal(
	    (const char *)privd_record_field(rec, "email")->value,
	    "normal@example.fi");
	privd_record_free(&rec);
	privd_close(&c);
	assert_true(h_running(h));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_garbage_frame_gets_invalid),
	    cmocka_unit_test(test_empty_frame_gets_invalid),
	    cmocka_unit_test(test_request_without_op_gets_invalid),
	    cmocka_unit_test(test_multi_frame_gets_invalid_or_nothing),
	    cmocka_unit_test(test_put_too_many_fields_invalid),
	    cmocka_unit_test(test_put_duplicate_field_invalid),
	    cmocka_unit_test(test_decode_bomb_refused_memory_not_kept),
	    cmocka_unit_test(test_put_without_fields_invalid),
	    cmocka_unit_test(test_subject_of_300_bytes_invalid),
	    cmocka_unit_test(test_subject_of_256_bytes_accepted),
	    cmocka_unit_test(test_empty_subject_invalid),
	    cmocka_unit_test(test_empty_register_invalid),
	    cmocka_unit_test(test_oversize_frame_drops_peer),
	    cmocka_unit_test(test_client_refuses_too_big_put),
	    cmocka_unit_test(test_still_serving_after_abuse),
	};

	return cmocka_run_group_tests_name(
	    "integration/robust", tests, h_setup_default, h_teardown);
}
