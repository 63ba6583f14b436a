/*
 * startwait.h - privd serve's start on a database store that is not
 * answering yet (issue 12): a bounded, logged wait before the store is
 * opened. See startwait.c.
 */
#ifndef PRIVD_STARTWAIT_H
#define PRIVD_STARTWAIT_H

/* The default of the setting store-wait (config.c), in seconds. */
#define STARTWAIT_DEFAULT_S 120
#define STARTWAIT_MAX_S     3600

/*
 * Run open(arg), which opens the data directory dir's store and reads
 * what privd serve needs from it (0, or -1 after logging why). On a
 * PostgreSQL store, first wait until a read-write server answers, at
 * most wait_s seconds (0: do not wait), and if open fails while the
 * database does not answer, undo(arg) (close what open left open) and
 * wait again within the same bound. 0 once open succeeded; -1 when it
 * failed for another reason or the database did not answer in time (the
 * log says which). An LMDB store: open(arg), once.
 */
int startwait_open(const char *dir, unsigned wait_s, int (*open)(void *),
    void (*undo)(void *), void *arg);

#endif
