/*
 * bench.c - how fast is privd on this machine? Prints figures; asserts
 * nothing (benchmarks are not tests).
 *
 * Starts a real privd in a temporary directory (the integration tests'
 * harness), then for 1 and 8 concurrent clients runs puts and gets of
 * one small record for a fixed time each, and prints requests per second
 * and latency percentiles. Every request is audited and group-committed,
 * reads included, so this measures the whole request path.
 *
 *   build/bench/privd-bench [seconds-per-run]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define MAX_CLIENTS 8
#define MAX_SAMPLES 2000000

typedef struct run {
	harness *h;
	int op; /* 0 put, 1 get */
	int id;
	int64_t until_ms;
	uint32_t *lat_us; /* this client's samples */
	size_t n;
	size_t errors;
} run;

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void *
client(void *arg)
{
	run *r = arg;
	privd_client *c = NULL;
	privd_record *rec = NULL;
	privd_field f[2];
	char subject[32];
	int64_t t0;
	size_t i = 0;
	int rc;

	if (h_connect(r->h, "svc", &c) != 0) {
		r->errors++;
		return NULL;
	}
	f[0] = h_field("name", "Maija Meikäläinen");
	f[1] = h_field("email", "maija.meikalainen@example.fi");
	while (h_now_ms() < r->until_ms && r->n < MAX_SAMPLES / MAX_CLIENTS) {
		snprintf(subject, sizeof(subject), "bench-%d-%zu", r->id,
		    r->op == 0 ? i++ : (i++ % 100));
		t0 = now_us();
		if (r->op == 0)
			rc = privd_put(
			    c, "customers", subject, "invoicing", f, 2);
		else
			rc = privd_get(c, "customers", subject, "invoicing",
			    NULL, 0, &rec);
		r->lat_us[r->n++] = (uint32_t)(now_us() - t0);
		privd_record_free(&rec);
		if (rc != PRIVD_OK)
			r->errors++;
	}
	privd_close(&c);
	return NULL;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void
measure(harness *h, int op, int nclients, int seconds)
{
	pthread_t t[MAX_CLIENTS];
	run r[MAX_CLIENTS];
	uint32_t *all;
	size_t total = 0, errors = 0, k = 0;
	int64_t start, end;
	int i;

	memset(r, 0, sizeof(r));
	start = h_now_ms();
	for (i = 0; i < nclients; i++) {
		r[i].h = h;
		r[i].op = op;
		r[i].id = i;
		r[i].until_ms = start + seconds * 1000;
		r[i].lat_us =
		    malloc(MAX_SAMPLES / MAX_CLIENTS * sizeof(uint32_t));
		pthread_create(&t[i], NULL, client, &r[i]);
	}
	for (i = 0; i < nclients; i++) {
		pthread_join(t[i], NULL);
		total += r[i].n;
		errors += r[i].errors;
	}
	end = h_now_ms();
	all = malloc((total ? total : 1) * sizeof(uint32_t));
	for (i = 0; i < nclients; i++) {
		memcpy(all + k, r[i].lat_us, r[i].n * sizeof(uint32_t));
		k += r[i].n;
		free(r[i].lat_us);
	}
	qsort(all, total, sizeof(uint32_t), cmp_u32);
	printf("%-4s %d client%s  %8.0f req/s   p50 %6u us   p99 %6u us   "
	       "max %6u us   (%zu requests, %zu errors)\n",
	    op == 0 ? "put" : "get", nclients, nclients == 1 ? " " : "s",
	    total * 1000.0 / (double)(end - start), total ? all[total / 2] : 0,
	    total ? all[total * 99 / 100] : 0, total ? all[total - 1] : 0,
	    total, errors);
	free(all);
}

int
main(int argc, char **argv)
{
	int seconds = argc > 1 ? atoi(argv[1]) : 3;
	harness *h;

	if (seconds < 1)
		seconds = 1;
	if ((h = h_new()) == NULL || h_key_new(h, "svc") == NULL ||
	    h_policy_write(h, h_policy_default) != 0 || h_init(h, NULL) != 0 ||
	    h_start(h, NULL) != 0) {
		fprintf(stderr, "bench: cannot start privd\n");
		h_destroy(&h);
		return 1;
	}
	printf("privd bench: %d s per run, one privd with default settings\n",
	    seconds);
	measure(h, 0, 1, seconds);
	measure(h, 0, MAX_CLIENTS, seconds);
	measure(h, 1, 1, seconds);
	measure(h, 1, MAX_CLIENTS, seconds);
	h_destroy(&h);
	return 0;
}
