/*
 * auditlog.h - privd's audit log as a test reads it through libprivd
 * (auditlog.c): every event of a query, an event checked field by field,
 * the newest seq. These fail the running test.
 */
#ifndef PRIVD_TEST_AUDITLOG_H
#define PRIVD_TEST_AUDITLOG_H

#include <stddef.h>
#include <stdint.h>

#include <privd/client.h>

/* Every event of a query, all pages; the pages own the events. */
typedef struct evlist {
	privd_audit_page **pages;
	size_t npages;
	const privd_audit_event **ev;
	size_t n;
	size_t npagesread; /* pages privd answered, empty ones included */
} evlist;

/* Free what l holds and zero it. */
void evlist_free(evlist *l);

/* Run a query (f NULL: every event) to the end, following cursors, into
 * l, which it overwrites: free what l held first. */
void collect(privd_client *a, const privd_audit_filter *f, evlist *l);

/* A description of an event for failure messages (a static buffer). */
const char *ev_str(const privd_audit_event *e);

/*
 * Check one event. reg and purpose "" mean none; fields is a
 * NULL-terminated list in the order privd records them. The event was
 * decided under policy version 1.
 */
void expect_event(const privd_audit_event *e, const char *principal,
    const char *op, const char *reg, const char *purpose,
    const char *const *fields, int decision, int status, int reason);

/* The newest seq in the log right now (a query, so an event of its own). */
uint64_t head(privd_client *a);

/*
 * The whole log verifies against pk (NULL: the key privd gives); fails
 * the test with where and why if not. *checked (may be NULL) receives how
 * many events were checked.
 */
void audit_verify_ok(privd_client *a, const uint8_t *pk, uint64_t *checked);

/*
 * Poll until a signed checkpoint covers event seq (privd signs the head
 * within about a second): the milliseconds that took, or -1 after
 * timeout_ms. Each poll is an audit_checkpoints event.
 */
int64_t audit_wait_signed(privd_client *a, uint64_t seq, int timeout_ms);

#endif /* PRIVD_TEST_AUDITLOG_H */
