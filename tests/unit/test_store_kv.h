/*
 * test_store_kv.h - what test_store_kv.c shares with the cases of one
 * backend (test_store_kv_pg.c): the store under test and small helpers
 * that assert as they go.
 */
#ifndef PRIVD_TEST_STORE_KV_H
#define PRIVD_TEST_STORE_KV_H

#include <stdbool.h>
#include <stdint.h>

#include "store_backend.h"

#ifdef HAVE_STORE_PG
#include "pgtmp.h"
extern pgtmp pg; /* the private server */
/* The PostgreSQL backend's own cases; the number that failed. */
int run_pg_own(void);
/* test_store_kv_nodes.c: the multi-node hooks (store_pg_node.c). The
 * failover case of test_store_kv_pg.c calls the others: _standby with a
 * store on the replica alone, _before and _after around its failover,
 * with two stores on the multi-host conninfo. */
int run_pg_nodes(void);
void failover_nodes_standby(store *s);
void failover_nodes_before(store *a, store *b);
void failover_nodes_after(store *a, store *b);
/* test_store_kv_pg.c's helpers. sql1: runs sql on a connection of its
 * own to database db; the first field of the first row, or "" (a static
 * buffer). put_on: one put on s in a write transaction of its own, which
 * must end with want. */
int64_t now_ms(void);
void sleep_ms(int ms);
const char *sql1(const char *db, const char *sql);
void put_on(store *s, const char *k, const char *v, int want);
/* Polls sql on the server whose socket is in dir until it answers want. */
void wait_for(const char *dir, const char *sql, const char *want);
#endif

/* store.h's (every backend's close, through the store's table); store.h
 * itself is the daemon's, with more than a test of store_kv.h needs. */
void store_close(store **s);

extern store *st; /* the store under test, opened by group_open */

int group_open(void **state);
int group_close(void **state);
int clear_all(void **state); /* every table emptied */

store_val sv(const char *s);
void put(store_txn *t, store_tbl tb, const char *k, const char *v);
/* want == NULL: expect STORE_NOTFOUND. */
void expect(store_txn *t, store_tbl tb, const char *k, const char *want);
void expect_val(const store_val *v, const char *want);
store_txn *wbegin(void);
store_txn *rbegin(void);
uint64_t count(store_tbl tb);
/* Records "k%04d" -> "v%d", 0 <= i < n, in one transaction. */
void fill(store_tbl tb, int n);

/* test_store_kv_cursor.c */
void test_key_order(void **state);
void test_cursors(void **state);
void test_cursor_del(void **state);
void test_cursor_put_current(void **state);
void test_cursor_sees_writes(void **state);
void test_prefetch(void **state);
void test_prefetch_snapshot(void **state);
void test_prefetch_many(void **state);
void test_del_any(void **state);
void test_get_then_del(void **state);
void test_cursor_stream(void **state);

#endif
