/*
 * common.c - what every part of privd-bench shares: the clock, latency
 * histograms, /proc figures of a process, and the made-up customers the
 * bench stores.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

volatile sig_atomic_t bench_interrupted;

uint64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A port of 127.0.0.1 that is free now (the kernel's pick). */
int
bench_free_tcp_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* Histogram layout: values below 2^SUB_BITS exact, then each power of two
 * split into 2^(SUB_BITS-1) buckets. */
#define SUB_BITS  10
#define SUB_HALF  (1u << (SUB_BITS - 1))
#define MAX_MSB   40
#define N_BUCKETS ((1u << SUB_BITS) + (MAX_MSB - SUB_BITS + 1) * SUB_HALF)

static size_t
bucket_of(uint64_t v)
{
	int msb;

	if (v < (1u << SUB_BITS))
		return (size_t)v;
	msb = 63 - __builtin_clzll(v);
	if (msb > MAX_MSB)
		return N_BUCKETS - 1;
	return (1u << SUB_BITS) + (size_t)(msb - SUB_BITS) * SUB_HALF +
	       (size_t)((v >> (msb - SUB_BITS + 1)) - SUB_HALF);
}

/* The middle of a bucket's range. */
static double
bucket_value(size_t i)
{
	size_t k, m, s;
	int shift;

	if (i < (1u << SUB_BITS))
		return (double)i;
	k = i - (1u << SUB_BITS);
	m = k / SUB_HALF;
	s = k % SUB_HALF;
	shift = (int)m + 1;
	return ((double)(s + SUB_HALF) + 0.5) * (double)(1ull << shift);
}

int
hist_init(hist *h)
{
	h->b = calloc(N_BUCKETS, sizeof(*h->b));
	h->n = 0;
	h->max = 0;
	return h->b != NULL ? 0 : -1;
}

void
hist_free(hist *h)
{
	free(h->b);
	h->b = NULL;
}

void
hist_reset(hist *h)
{
	memset(h->b, 0, N_BUCKETS * sizeof(*h->b));
	h->n = 0;
	h->max = 0;
}

void
hist_add(hist *h, uint64_t ns)
{
	h->b[bucket_of(ns)]++;
	h->n++;
	if (ns > h->max)
		h->max = ns;
}

void
hist_merge(hist *dst, const hist *src)
{
	for (size_t i = 0; i < N_BUCKETS; i++)
		dst->b[i] += src->b[i];
	dst->n += src->n;
	if (src->max > dst->max)
		dst->max = src->max;
}

double
hist_quantile_us(const hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (h->n == 0)
		return 0;
	rank = (uint64_t)(q * (double)h->n);
	if (rank >= h->n)
		rank = h->n - 1;
	for (size_t i = 0; i < N_BUCKETS; i++) {
		seen += h->b[i];
		if (seen > rank) {
			double v = bucket_value(i);
			/* never beyond what was seen */
			return (v > (double)h->max ? (double)h->max : v) /
			       1000.0;
		}
	}
	return (double)h->max / 1000.0;
}

/*
 * utime and stime are fields 14 and 15 of /proc/<pid>/stat, counted after
 * the command name, which is in parentheses and may hold spaces.
 */
void
proc_sample_take(pid_t pid, proc_sample *out)
{
	char path[64], buf[2048], *p;
	unsigned long long ut, st;
	FILE *f;
	size_t n;

	memset(out, 0, sizeof(*out));
	out->rss_anon_kb = out->rss_file_kb = -1;
	if (pid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1,
	        " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
	        &st) != 2)
		return;
	out->cpu_ticks = ut + st;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return;
	while (fgets(buf, sizeof(buf), f) != NULL) {
		sscanf(buf, "RssAnon: %ld", &out->rss_anon_kb);
		sscanf(buf, "RssFile: %ld", &out->rss_file_kb);
	}
	fclose(f);
	out->ok = true;
}

double
proc_cpu_us(const proc_sample *a, const proc_sample *b)
{
	long hz = sysconf(_SC_CLK_TCK);

	if (!a->ok || !b->ok || hz <= 0 || b->cpu_ticks < a->cpu_ticks)
		return -1;
	return (double)(b->cpu_ticks - a->cpu_ticks) * 1e6 / (double)hz;
}

/* ---- the customers ----------------------------------------------------- */

const char *const bench_field_names[FLD_N] = {
    "name", "email", "phone", "organisation", "position"};

static const char *const first_names[] = {"Aino", "Eino", "Helmi", "Juhani",
    "Kaarina", "Lauri", "Maija", "Matti", "Olavi", "Pirjo", "Riikka", "Sanna",
    "Tapio", "Tuula", "Veikko", "Ville"};
static const char *const last_names[] = {"Heikkinen", "Hämäläinen", "Järvinen",
    "Korhonen", "Koskinen", "Laine", "Lehtonen", "Mäkelä", "Mäkinen",
    "Nieminen", "Rantanen", "Salminen", "Virtanen", "Väisänen"};
/* the same names without diacritics, for email addresses */
static const char *const last_ascii[] = {"heikkinen", "hamalainen", "jarvinen",
    "korhonen", "koskinen", "laine", "lehtonen", "makela", "makinen",
    "nieminen", "rantanen", "salminen", "virtanen", "vaisanen"};
static const char *const orgs[][2] = {
    {"Pohjolan Kone Oy", "Järvenpään Sähkö Oy"},
    {"Saimaan Puu Oy", "Kalevan Rakennus Oy"},
    {"Lapin Matkat Oy", "Etelä-Suomen Logistiikka Oy"},
    {"Tampereen Ohjelmisto Oy", "Vaasan Energia Oy"},
    {"Oulun Elektroniikka Oy", "Kuopion Tilitoimisto Oy"}};
static const char *const positions[][2] = {
    {"myyntipäällikkö", "toimitusjohtaja"},
    {"ostopäällikkö", "hankinta-asiantuntija"},
    {"talouspäällikkö", "kirjanpitäjä"},
    {"projektipäällikkö", "tuotepäällikkö"}};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

int
bench_field_index(const char *name)
{
	for (int f = 0; f < FLD_N; f++)
		if (strcmp(name, bench_field_names[f]) == 0)
			return f;
	return -1;
}

bool
bench_field_varies(int f)
{
	return f == FLD_PHONE || f == FLD_ORG || f == FLD_POSITION;
}

size_t
bench_value(int f, uint64_t i, int v, char *buf, size_t cap)
{
	size_t fi = (size_t)(i % N_OF(first_names));
	size_t li = (size_t)((i / N_OF(first_names)) % N_OF(last_names));
	char first_lc[16];
	int n = 0;

	v &= 1;
	switch (f) {
	case FLD_NAME:
		n = snprintf(
		    buf, cap, "%s %s", first_names[fi], last_names[li]);
		break;
	case FLD_EMAIL:
		snprintf(first_lc, sizeof(first_lc), "%s", first_names[fi]);
		first_lc[0] = (char)(first_lc[0] - 'A' + 'a');
		n = snprintf(buf, cap, "%s.%s.%llu@example.fi", first_lc,
		    last_ascii[li], (unsigned long long)i);
		break;
	case FLD_PHONE:
		/* never six digits and a separator: not a HETU lookalike */
		n = snprintf(buf, cap, "+358 %d %03u %04u", v ? 50 : 40,
		    (unsigned)(i / 10000 % 1000), (unsigned)(i % 10000));
		break;
	case FLD_ORG:
		n = snprintf(buf, cap, "%s", orgs[i % N_OF(orgs)][v]);
		break;
	case FLD_POSITION:
		n = snprintf(buf, cap, "%s", positions[i % N_OF(positions)][v]);
		break;
	}
	if (n < 0)
		n = 0;
	return (size_t)n < cap ? (size_t)n : cap - 1;
}

size_t
bench_subject(uint64_t i, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "asiakas-%07llu", (unsigned long long)i);

	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}
