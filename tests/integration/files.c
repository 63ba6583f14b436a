/*
 * files.c - files as the tests read and write them, byte strings looked for
 * in every file under a directory (h_scan_dir), and privd's log (see
 * harness.h).
 */
#define _GNU_SOURCE
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
h_write_file(const char *path, const void *buf, size_t len, int mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	const uint8_t *p = buf;

	if (fd < 0) {
		fprintf(
		    stderr, "harness: open %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "harness: write %s: %s\n", path,
			    strerror(errno));
			close(fd);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	if (close(fd) != 0)
		return -1;
	return 0;
}

int
h_read_file(const char *path, uint8_t **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 4096, n = 0;
	uint8_t *b;

	*buf = NULL;
	*len = 0;
	if (fd < 0)
		return -1;
	b = malloc(cap + 1);
	if (b == NULL) {
		close(fd);
		return -1;
	}
	for (;;) {
		if (n == cap) {
			uint8_t *nb = realloc(b, cap * 2 + 1);
			if (nb == NULL) {
				free(b);
				close(fd);
				return -1;
			}
			b = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(b);
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

void
h_dump_log(const harness *h, int max_lines)
{
	uint8_t *buf;
	size_t len;
	size_t start;
	int lines = 0;

	if (h_read_file(h->log, &buf, &len) != 0) {
		fprintf(stderr, "privd-log| (no log)\n");
		return;
	}
	start = len;
	while (start > 0) {
		if (buf[start - 1] == '\n' && start != len &&
		    ++lines >= max_lines)
			break;
		start--;
	}
	fprintf(stderr, "privd-log| --- last %d lines of %s ---\n", max_lines,
	    h->log);
	for (char *line = (char *)buf + start; *line != '\0';) {
		char *nl = strchr(line, '\n');
		int n = nl != NULL ? (int)(nl - line) : (int)strlen(line);
		fprintf(stderr, "privd-log| %.*s\n", n, line);
		line += n + (nl != NULL ? 1 : 0);
	}
	free(buf);
}

int
h_scan_file(const char *path, const h_needle *needles, size_t n)
{
	enum { CHUNK = 1 << 20 };
	size_t maxlen = 0, keep = 0;
	uint8_t *buf;
	bool *hit;
	int fd, hits = 0;

	for (size_t i = 0; i < n; i++) {
		if (needles[i].len > maxlen)
			maxlen = needles[i].len;
	}
	if (maxlen == 0)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(
		    stderr, "harness: open %s: %s\n", path, strerror(errno));
		return -1;
	}
	buf = malloc(CHUNK + maxlen);
	hit = calloc(n, sizeof(*hit));
	if (buf == NULL || hit == NULL) {
		free(buf);
		free(hit);
		close(fd);
		return -1;
	}
	/* Read in chunks (LMDB files may be large and sparse), carrying the
	 * last maxlen-1 bytes over so a needle across a boundary is found. */
	for (;;) {
		ssize_t r = read(fd, buf + keep, CHUNK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "harness: read %s: %s\n", path,
			    strerror(errno));
			hits = -1;
			break;
		}
		if (r == 0)
			break;
		size_t have = keep + (size_t)r;
		for (size_t i = 0; i < n; i++) {
			if (!hit[i] && needles[i].len > 0 &&
			    memmem(buf, have, needles[i].data,
			        needles[i].len) != NULL) {
				hit[i] = true;
				hits++;
				fprintf(stderr, "harness: %s found in %s\n",
				    needles[i].label, path);
			}
		}
		keep = have < maxlen - 1 ? have : maxlen - 1;
		memmove(buf, buf + have - keep, keep);
	}
	close(fd);
	free(buf);
	free(hit);
	return hits;
}

/* nftw has no user pointer: the scan's arguments live here. */
static const h_needle *scan_needles;
static size_t scan_n;
static int scan_hits;
static int scan_files;

static int
scan_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	int r;

	if (type != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	scan_files++;
	r = h_scan_file(path, scan_needles, scan_n);
	if (r < 0)
		return -1;
	scan_hits += r;
	return 0;
}

int
h_scan_dir(const char *dir, const h_needle *needles, size_t n)
{
	scan_needles = needles;
	scan_n = n;
	scan_hits = 0;
	scan_files = 0;
	if (nftw(dir, scan_entry, 16, FTW_PHYS) != 0)
		return -1;
	if (scan_files == 0) {
		fprintf(stderr, "harness: no files under %s\n", dir);
		return -1;
	}
	return scan_hits;
}

size_t
h_log_size(const harness *h)
{
	struct stat st;

	return stat(h->log, &st) == 0 ? (size_t)st.st_size : 0;
}

int
h_log_count(const harness *h, size_t from, const char *needle)
{
	uint8_t *buf;
	size_t len;
	int count = 0;

	if (h_read_file(h->log, &buf, &len) != 0)
		return 0;
	for (char *line = (char *)buf + (from < len ? from : len);
	     *line != '\0';) {
		char *nl = strchr(line, '\n');

		if (nl != NULL)
			*nl = '\0';
		if (strstr(line, needle) != NULL)
			count++;
		if (nl == NULL)
			break;
		line = nl + 1;
	}
	free(buf);
	return count;
}

int
h_log_wait(
    const harness *h, size_t from, const char *needle, int n, int timeout_ms)
{
	int64_t deadline = h_now_ms() + timeout_ms;
	int found;

	while (
	    (found = h_log_count(h, from, needle)) < n && h_now_ms() < deadline)
		h_sleep_ms(20);
	return found;
}
