/*
 * keys_common.c - the client load of the key rotation tests; see
 * keys_common.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "checks.h"
#include "keys_common.h"

/* Did a request that ran from t0 to t1 overlap the switch-over? */
static bool
in_window(k_load *l, long long t0, long long t1)
{
	long long down = atomic_load(&l->down_ms), up = atomic_load(&l->up_ms);

	return down != 0 && t1 >= down && (up == 0 || t0 <= up);
}

static void
note(k_load *l, int rc, long long t0, long long t1)
{
	if (rc == PRIVD_OK) {
		long long up = atomic_load(&l->up_ms), none = 0;

		if (atomic_load(&l->start_ms) != 0 &&
		    t1 >= atomic_load(&l->start_ms))
			atomic_compare_exchange_strong(
			    &l->first_ok_ms, &none, t1);

		atomic_fetch_add(&l->ok, 1);
		if (up != 0 && t0 > up)
			atomic_fetch_add(&l->ok_after, 1);
		return;
	}
	if ((rc == PRIVD_EUNAVAILABLE || rc == PRIVD_ETIMEOUT) &&
	    in_window(l, t0, t1)) {
		atomic_fetch_add(&l->in_window, 1);
		return;
	}
	atomic_fetch_add(&l->outside, 1);
	if (atomic_load(&l->first_bad) == 0) {
		snprintf(l->why, sizeof(l->why), "%s", privd_errmsg(l->c));
		atomic_store(&l->first_bad, rc);
	}
}

static void *
load_main(void *arg)
{
	k_load *l = arg;
	char subject[64], value[32];
	privd_record *rec;
	privd_field f;
	unsigned i = 0;
	long long t0;
	int rc;

	while (!atomic_load(&l->stop)) {
		snprintf(subject, sizeof(subject), "%s%u", l->subject_prefix,
		    i % 16);
		snprintf(value, sizeof(value), "v%u", i);
		f = h_field(l->field, value);
		t0 = h_now_ms();
		rc = privd_put(l->c, l->reg, subject, l->purpose, &f, 1);
		note(l, rc, t0, h_now_ms());
		t0 = h_now_ms();
		rec = NULL;
		rc =
		    privd_get(l->c, l->reg, subject, l->purpose, NULL, 0, &rec);
		note(l, rc, t0, h_now_ms());
		privd_record_free(&rec);
		i++;
	}
	return NULL;
}

void
k_load_start(k_load *l, harness *h, const char *key, const char *reg,
    const char *purpose, const char *field, const char *prefix, int timeout_ms)
{
	k_load_start_keys(
	    l, h, h->server_key, key, reg, purpose, field, prefix, timeout_ms);
}

void
k_load_start_keys(k_load *l, harness *h, const char *server_keys,
    const char *key, const char *reg, const char *purpose, const char *field,
    const char *prefix, int timeout_ms)
{
	memset(l, 0, sizeof(*l));
	l->h = h;
	l->key = key;
	l->reg = reg;
	l->purpose = purpose;
	l->field = field;
	l->subject_prefix = prefix;
	l->c = client_as(h, key, server_keys, timeout_ms);
	assert_int_equal(pthread_create(&l->t, NULL, load_main, l), 0);
}

void
k_load_wait(k_load *l, unsigned n, int deadline_ms)
{
	unsigned from = atomic_load(&l->ok);
	int64_t end = h_now_ms() + deadline_ms;

	while (atomic_load(&l->ok) - from < n) {
		if (h_now_ms() > end)
			fail_msg("the clients' requests did not go through "
			         "(%u of %u answered OK, %u failed outside the "
			         "switch-over)",
			    atomic_load(&l->ok) - from, n,
			    atomic_load(&l->outside));
		h_sleep_ms(5);
	}
}

void
k_load_down(k_load *l)
{
	atomic_store(&l->down_ms, h_now_ms());
}

void
k_load_up(k_load *l)
{
	atomic_store(&l->up_ms, h_now_ms());
}

void
k_load_starting(k_load *l)
{
	atomic_store(&l->start_ms, h_now_ms());
}

void
k_load_finish(k_load *l)
{
	atomic_store(&l->stop, true);
	pthread_join(l->t, NULL);
	privd_close(&l->c);
	if (atomic_load(&l->outside) != 0)
		fail_msg("%u request(s) failed outside the switch-over; the "
		         "first with status %d: %s",
		    atomic_load(&l->outside), atomic_load(&l->first_bad),
		    l->why);
	assert_true(atomic_load(&l->ok_after) > 0);
	fprintf(stderr,
	    "clients: %u requests OK (%u after the switch-over), %u failed "
	    "during it\n",
	    atomic_load(&l->ok), atomic_load(&l->ok_after),
	    atomic_load(&l->in_window));
}
