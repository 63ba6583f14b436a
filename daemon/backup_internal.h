/*
 * backup_internal.h - the state of privd's backups, shared by backup.c
 * (the control: start, read, end, the timer) and backup_copy.c (the
 * thread's copy: the image, its digest and trailer). Private to them.
 */
#ifndef PRIVD_BACKUP_INTERNAL_H
#define PRIVD_BACKUP_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "backup.h"

typedef enum bstate {
	B_NONE,
	B_COPYING,
	B_READY,
	B_FAILED,
	B_CANCEL, /* ended while copying: the thread removes the file */
} bstate;

struct backup_ctl {
	store *st;
	char dir[PATH_MAX];      /* DATADIR/backup */
	char datadir[PATH_MAX];  /* DATADIR: its file system holds the copy */
	pthread_mutex_t startmu; /* one start at a time: it may join */
	pthread_mutex_t mu;      /* everything below */
	pthread_cond_t cv;       /* on CLOCK_MONOTONIC: the timer's */
	bstate state;
	uint8_t id[BACKUP_IDBYTES];
	char tag[9]; /* the id's first bytes in hex, for the log */
	char part[PATH_MAX], bak[PATH_MAX];
	int fd;    /* the file (READY), for reads; -1 if none */
	int trash; /* a removed file's fd, for the thread to release */
	atomic_bool cancel;
	bool stopping; /* backup_ctl_free */
	bool live;     /* thr has been started and not joined */
	pthread_t thr;
	atomic_uint_fast64_t copied;
	uint64_t estimate;
	backup_info info;
	uint64_t size;
	int err;
	char msg[160];
	uint64_t used_mono, used_wall; /* the last start or read */
};

/*
 * Make the backup's file: the image, its trailer, fsync, rename. 0 with
 * *bi, or an error (errno or a store code) with a message for the client
 * in msg. The file descriptor stays open in b->fd (the thread's until
 * READY). The backup's thread, holding no lock (it takes mu to swap fd).
 */
int backup_make(backup_ctl *b, backup_info *bi, char *msg, size_t msglen);

#endif
