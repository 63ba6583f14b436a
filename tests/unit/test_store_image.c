/*
 * test_store_image.c - store_image.h on LMDB stores (the PostgreSQL side
 * runs in the integration tests backup, restore and restore_pg on the
 * "pg" setup):
 *   - an image holds every table's records exactly, large values too,
 *     as of the read transaction it was made from (a write after it is
 *     not in it); the file is 0600 and the work directory is gone;
 *   - store_image_replace makes every table of another store equal to
 *     the image's, records that were only there gone;
 *   - a cancel stops the copy with ECANCELED, leaving no file and no
 *     work directory; a work directory an earlier copy left is removed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "store.h"
#include "store_image.h"

#define NREC 300 /* per table: past the copy's look at cancel */
#define BIG  20000

typedef struct fx {
	char root[64];
	char src[128], dst[128], img[128], path[160], imgdir[192];
	store *s;
} fx;

static void
mkdir_ok(const char *p)
{
	assert_int_equal(mkdir(p, 0700), 0);
}

static store *
open_dir(const char *dir, bool create)
{
	char err[256];
	store *s = NULL;

	if (store_open(dir, 1u << 26, create, &s, err, sizeof(err)) != 0)
		fail_msg("store_open: %s", err);
	return s;
}

/* Records k = table byte, be32 i; v = i's pattern, a few large. */
static void
fill(store *s, const char *tag)
{
	store_txn *t;
	uint8_t kb[5], *vb = malloc(BIG);
	int tb, i;

	assert_non_null(vb);
	assert_int_equal(store_txn_begin(s, 0, &t), 0);
	for (tb = 0; tb < STORE_NTABLES; tb++)
		for (i = 0; i < NREC; i++) {
			size_t n = i % 97 == 0 ? BIG : 16 + i % 50;
			store_val k = {sizeof(kb), kb}, v = {n, vb};

			kb[0] = (uint8_t)tb;
			kb[1] = (uint8_t)(i >> 24);
			kb[2] = (uint8_t)(i >> 16);
			kb[3] = (uint8_t)(i >> 8);
			kb[4] = (uint8_t)i;
			memset(vb, 'a' + (i + tb) % 26, n);
			memcpy(vb, tag, strlen(tag));
			assert_int_equal(
			    store_put(t, (store_tbl)tb, &k, &v, 0), 0);
		}
	assert_int_equal(store_txn_commit(t), 0);
	free(vb);
}

/* Every table of a and b holds the same records. */
static void
expect_same(store *a, store *b)
{
	store_txn *ta, *tbx;
	store_cur *ca, *cb;
	store_val ka, va, kb, vb;
	int tb, ra, rb;

	assert_int_equal(store_txn_begin(a, STORE_RDONLY, &ta), 0);
	assert_int_equal(store_txn_begin(b, STORE_RDONLY, &tbx), 0);
	for (tb = 0; tb < STORE_NTABLES; tb++) {
		assert_int_equal(store_cur_open(ta, (store_tbl)tb, &ca), 0);
		assert_int_equal(store_cur_open(tbx, (store_tbl)tb, &cb), 0);
		ra = store_cur_get(ca, &ka, &va, STORE_FIRST);
		rb = store_cur_get(cb, &kb, &vb, STORE_FIRST);
		while (ra == 0 && rb == 0) {
			assert_int_equal(ka.size, kb.size);
			assert_memory_equal(ka.data, kb.data, ka.size);
			assert_int_equal(va.size, vb.size);
			assert_memory_equal(va.data, vb.data, va.size);
			ra = store_cur_get(ca, &ka, &va, STORE_NEXT);
			rb = store_cur_get(cb, &kb, &vb, STORE_NEXT);
		}
		assert_int_equal(ra, STORE_NOTFOUND);
		assert_int_equal(rb, STORE_NOTFOUND);
		store_cur_close(ca);
		store_cur_close(cb);
	}
	store_txn_abort(ta);
	store_txn_abort(tbx);
}

static int
setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->root, sizeof(f->root), "/tmp/privd-image-XXXXXX");
	if (mkdtemp(f->root) == NULL)
		return -1;
	snprintf(f->src, sizeof(f->src), "%s/src", f->root);
	snprintf(f->dst, sizeof(f->dst), "%s/dst", f->root);
	snprintf(f->img, sizeof(f->img), "%s/img", f->root);
	snprintf(f->path, sizeof(f->path), "%s/image.mdb", f->root);
	snprintf(f->imgdir, sizeof(f->imgdir), "%s.d", f->path);
	mkdir_ok(f->src);
	mkdir_ok(f->dst);
	mkdir_ok(f->img);
	f->s = open_dir(f->src, true);
	fill(f->s, "src");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fx *f = *state;
	char cmd[128];

	store_close(&f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->root);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* The image, as a store of its own (its file is a data.mdb). */
static store *
open_image(fx *f)
{
	char to[160];

	snprintf(to, sizeof(to), "%s/data.mdb", f->img);
	assert_int_equal(rename(f->path, to), 0);
	return open_dir(f->img, false);
}

static void
test_image_whole(void **state)
{
	fx *f = *state;
	atomic_uint_fast64_t copied = 0;
	store_txn *t;
	store *img;
	struct stat sb;
	char err[256];

	assert_int_equal(store_txn_begin(f->s, STORE_RDONLY, &t), 0);
	/* a write after the snapshot is not in the image */
	fill(f->s, "later");
	assert_int_equal(
	    store_image_write(t, f->path, 0, NULL, &copied, err, sizeof(err)),
	    0);
	store_txn_abort(t);
	assert_true(atomic_load(&copied) > (uint64_t)STORE_NTABLES * NREC);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_not_equal(stat(f->imgdir, &sb), 0);
	/* the read-only opening a backup's heads use */
	assert_int_equal(store_open_image(f->path, true, &img), 0);
	store_close(&img);
	img = open_image(f);
	{
		store *ref;
		char refdir[160];

		/* src as the snapshot saw it: "src" everywhere */
		snprintf(refdir, sizeof(refdir), "%s/ref", f->root);
		mkdir_ok(refdir);
		ref = open_dir(refdir, true);
		fill(ref, "src");
		expect_same(img, ref);
		store_close(&ref);
	}
	store_close(&img);
}

static void
test_replace(void **state)
{
	fx *f = *state;
	store_txn *t, *w;
	store *img, *dst;
	uint64_t n;
	char err[256];
	uint8_t kb[] = {0xff, 0xff};
	store_val k = {sizeof(kb), kb}, v = {3, "old"};

	assert_int_equal(store_txn_begin(f->s, STORE_RDONLY, &t), 0);
	assert_int_equal(
	    store_image_write(t, f->path, 1u << 20, NULL, NULL, err, 256), 0);
	store_txn_abort(t);
	img = open_image(f);
	dst = open_dir(f->dst, true);
	fill(dst, "dst");
	assert_int_equal(store_txn_begin(dst, 0, &w), 0);
	assert_int_equal(store_put(w, STORE_AUDIT, &k, &v, 0), 0);
	assert_int_equal(store_txn_commit(w), 0);

	assert_int_equal(store_txn_begin(img, STORE_RDONLY, &t), 0);
	assert_int_equal(store_txn_begin(dst, 0, &w), 0);
	assert_int_equal(store_image_replace(t, w, &n), 0);
	assert_int_equal(store_txn_commit(w), 0);
	store_txn_abort(t);
	assert_int_equal(n, (uint64_t)STORE_NTABLES * NREC);
	expect_same(img, dst);
	expect_same(f->s, dst);
	store_close(&img);
	store_close(&dst);
}

static void
test_cancel_and_leftovers(void **state)
{
	fx *f = *state;
	atomic_bool cancel = true;
	store_txn *t;
	struct stat sb;
	char err[256], junk[256];
	FILE *fp;

	assert_int_equal(store_txn_begin(f->s, STORE_RDONLY, &t), 0);
	assert_int_equal(
	    store_image_write(t, f->path, 0, &cancel, NULL, err, sizeof(err)),
	    ECANCELED);
	assert_int_not_equal(stat(f->path, &sb), 0);
	assert_int_not_equal(stat(f->imgdir, &sb), 0);

	/* an earlier copy's work directory, with a file in it */
	mkdir_ok(f->imgdir);
	snprintf(junk, sizeof(junk), "%s/data.mdb", f->imgdir);
	assert_non_null(fp = fopen(junk, "w"));
	fputs("not lmdb", fp);
	fclose(fp);
	cancel = false;
	assert_int_equal(
	    store_image_write(t, f->path, 0, &cancel, NULL, err, sizeof(err)),
	    0);
	store_txn_abort(t);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_not_equal(stat(f->imgdir, &sb), 0);
	/* store_image_clean of nothing is fine */
	assert_int_equal(store_image_clean(f->imgdir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_image_whole, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_cancel_and_leftovers, setup, teardown),
	};

	return cmocka_run_group_tests_name(
	    "unit/store_image", tests, NULL, NULL);
}
