/*
 * fake_privd.h - a fake privd for libprivd's unit tests: a ROUTER with
 * CURVE on a thread of the test, which keeps the last request it decoded
 * and answers each with what the test set, and a client handle connected
 * to it. What a call puts into its request, and what it makes of an
 * answer, without a real privd and whatever the daemon implements yet.
 */
#ifndef FAKE_PRIVD_H
#define FAKE_PRIVD_H

#include <pthread.h>

#include "privd.pb-c.h"
#include <privd/client.h>

/* The fake privd and a client handle connected to it. */
struct fake {
	void *ctx, *router;
	pthread_t thread;
	char endpoint[256];
	privd_client *c;
	/* set by the test before a call: the answer (request_id is filled
	 * in by the fake); read after it: the request, as decoded */
	Privd__V1__Response *answer;
	Privd__V1__Request *last;
	/* if set, called on the fake's thread for each request instead of
	 * answer: what it returns is the answer (request_id filled in), and
	 * NULL sends none, as a privd that does not answer in time.
	 * respond_arg is the test's. A conversation of several requests
	 * (a backup: start, reads, end) is answered this way. */
	Privd__V1__Response *(*respond)(
	    struct fake *f, const Privd__V1__Request *req);
	void *respond_arg;
};

/* cmocka setup and teardown: *state is a struct fake. */
int fake_setup(void **state);
int fake_teardown(void **state);

/* An OK answer with one payload. */
#define ANSWER(r, kase, member, value)                                         \
	do {                                                                   \
		(r).status = PRIVD__V1__STATUS__OK;                            \
		(r).payload_case = PRIVD__V1__RESPONSE__PAYLOAD_##kase;        \
		(r).member = (value);                                          \
	} while (0)

#endif
