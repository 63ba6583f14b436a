/*
 * keys_common.h - what the key rotation tests (test_keys_*.c) share: a
 * load of clients kept connected across privd's restart onto new keys,
 * and the window in which their requests may fail.
 *
 * A rotation that runs with privd stopped (audit rotate-key, rekey) is a
 * restart for the clients: libprivd handles made before it are used again
 * after it without the application doing anything, and a request may fail
 * (PRIVD_EUNAVAILABLE or PRIVD_ETIMEOUT, privd being away) only if it was
 * under way between the moment the test began stopping privd and the
 * moment the new privd answered (the switch-over); everything else must
 * succeed.
 */
#ifndef PRIVD_TEST_KEYS_COMMON_H
#define PRIVD_TEST_KEYS_COMMON_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "harness.h"

/* One client's requests in a thread of its own, until stopped. */
typedef struct k_load {
	harness *h;
	privd_client *c; /* made by k_load_start, used by the thread only */
	pthread_t t;
	const char *key, *reg, *purpose, *field, *subject_prefix;
	atomic_bool stop;
	/* the switch-over window, h_now_ms(); 0: not begun / not ended */
	atomic_llong down_ms, up_ms;
	/* when the new privd was started (k_load_starting), and when the
	 * first request answered OK after that ended; 0: not yet */
	atomic_llong start_ms, first_ok_ms;
	/* results */
	atomic_uint ok;        /* requests answered OK */
	atomic_uint ok_after;  /* of those, begun after up_ms */
	atomic_uint in_window; /* failed while privd was away */
	atomic_uint outside;   /* failed outside the window: a test failure */
	atomic_int first_bad;  /* the first such failure's status, 0: none */
	char why[256];         /* privd_errmsg of the first such failure */
} k_load;

/* Start a load of puts (of one text field) and gets of subjects
 * "<prefix>N" in reg for purpose as key, with a deadline of timeout_ms
 * per call. */
void k_load_start(k_load *l, harness *h, const char *key, const char *reg,
    const char *purpose, const char *field, const char *prefix, int timeout_ms);

/* k_load_start() trusting server_keys as privd_connect() takes them
 * (one key, or "CURRENT,NEXT"), not h's key. */
void k_load_start_keys(k_load *l, harness *h, const char *server_keys,
    const char *key, const char *reg, const char *purpose, const char *field,
    const char *prefix, int timeout_ms);

/* Wait until n more requests were answered OK since the call (fails the
 * test after deadline_ms). */
void k_load_wait(k_load *l, unsigned n, int deadline_ms);

/* Mark the start and the end of the switch-over. */
void k_load_down(k_load *l);
void k_load_up(k_load *l);
/* Mark the moment the new privd is started (the old one has stopped):
 * the first request answered OK after it was answered by the new privd;
 * first_ok_ms - start_ms is the switch-over as the client sees it. */
void k_load_starting(k_load *l);

/* Stop the thread, close its client, and check: no request failed outside
 * the window, and some succeeded after it. */
void k_load_finish(k_load *l);

#endif
