/*
 * clock.c - privd's wall and monotonic clocks; see clock.h.
 */
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEST_RECHECK_US 10000 /* the test clock file is looked at 100/s */

static const char *test_file;
static pthread_mutex_t test_mu = PTHREAD_MUTEX_INITIALIZER;
static int64_t test_offset_us;
static uint64_t test_checked_us;
static struct timespec test_mtime;

uint64_t
clock_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t
clock_boot_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

struct timespec
clock_mono_ts(uint64_t mono_us)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(mono_us / 1000000u);
	ts.tv_nsec = (long)(mono_us % 1000000u) * 1000;
	return ts;
}

/* Re-read the test clock's offset if its file changed; test_mu held. */
static void
test_reread(void)
{
	struct stat st;
	char buf[32];
	ssize_t n;
	long long v;
	char *end;
	int fd;

	if (stat(test_file, &st) != 0 ||
	    (st.st_mtim.tv_sec == test_mtime.tv_sec &&
	        st.st_mtim.tv_nsec == test_mtime.tv_nsec))
		return;
	if ((fd = open(test_file, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno != 0 || end == buf || v < -(1LL << 40) || v > (1LL << 40))
		return; /* half written: keep the last offset */
	test_offset_us = (int64_t)v * 1000000;
	test_mtime = st.st_mtim;
}

bool
clock_init(void)
{
	const char *f = getenv("PRIVD_TEST_CLOCK_FILE");

	if (f == NULL || *f == '\0')
		return false;
	test_file = f;
	pthread_mutex_lock(&test_mu);
	test_reread();
	pthread_mutex_unlock(&test_mu);
	return true;
}

uint64_t
clock_wall_us(void)
{
	struct timespec ts;
	uint64_t t, mono;
	int64_t off;

	clock_gettime(CLOCK_REALTIME, &ts);
	t = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	if (test_file == NULL)
		return t;
	mono = clock_mono_us();
	pthread_mutex_lock(&test_mu);
	if (mono - test_checked_us >= TEST_RECHECK_US) {
		test_checked_us = mono;
		test_reread();
	}
	off = test_offset_us;
	pthread_mutex_unlock(&test_mu);
	if (off < 0 && (uint64_t)-off > t)
		return 0;
	return t + (uint64_t)off;
}
