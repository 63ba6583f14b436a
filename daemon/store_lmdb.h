/*
 * store_lmdb.h - the LMDB backend's store (store_lmdb.c).
 *
 * Private to store_lmdb.c, with one transitional exception: the store
 * floor of the benchmark (bench/floor_store.c) measures LMDB itself under
 * privd's layout and reaches the environment through this struct. store.h
 * includes this header only where PRIVD_STORE_NEUTRAL is not defined,
 * that is outside the daemon and its unit tests, which are built with it
 * and so cannot name an LMDB type.
 */
#ifndef PRIVD_STORE_LMDB_H
#define PRIVD_STORE_LMDB_H

#include <lmdb.h>
#include <pthread.h>

#include "store.h"

/* The head of store_backend.h, then LMDB's. ops must stay first. */
#define PRIVD_STORE_STRUCT
struct store_ops;
struct store {
	const struct store_ops *ops;
	MDB_env *env;
	MDB_dbi dbi[STORE_NTABLES]; /* the named databases, by store_tbl */
	/* the same by name: the benchmark's store floor uses them */
	MDB_dbi meta;
	MDB_dbi policy;
	MDB_dbi subjects;
	MDB_dbi values;
	MDB_dbi audit;
	MDB_dbi audit_ckpt;
	MDB_dbi audit_ix;
	MDB_dbi ret_sub;
	MDB_dbi ret_plan;
	MDB_dbi ret_due;
	MDB_dbi ret_reg;
	MDB_dbi holds;
	MDB_dbi anon;
	MDB_dbi subj_state;
	MDB_dbi erasures;
	MDB_dbi blind;
	MDB_dbi blind_of;
	/*
	 * Any thread may run read transactions (the environment is opened
	 * with MDB_NOTLS); a worker's read handle holds maplock shared. Only
	 * the writer thread runs write transactions, and only it grows the
	 * map, holding maplock exclusive. maplock prefers the writer: once
	 * store_grow waits, new readers queue behind it, so a steady stream
	 * of reads cannot starve the growth.
	 */
	pthread_rwlock_t maplock;
	size_t mapsize;
	size_t map_wanted; /* asked for by store_want_map (atomic) */
	char *dir;         /* the data directory */
};

#endif
