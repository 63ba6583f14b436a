/*
 * audit_index_common.h - what the audit index tests (test_audit_index.c
 * under write load, test_audit_index_crash.c after kill -9 and pruning)
 * share: their policy and keys, lists of request ids, queries read page by
 * page and checked against such a list, and the writers: a principal whose
 * client makes requests on subjects of its own from a thread and keeps the
 * request id of each, by subject and in all.
 *
 * Every request a writer makes is one event of its subject and its
 * principal, and a writer's handle sends one request at a time, so the
 * request ids it saw, in order, are those events in seq order.
 *
 * Worker threads never call cmocka assertions: they record what happened,
 * and the main thread asserts.
 */
#ifndef PRIVD_TEST_AUDIT_INDEX_COMMON_H
#define PRIVD_TEST_AUDIT_INDEX_COMMON_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auditlog.h"
#include "harness.h"

#define REG "customers"
#define INV "invoicing"

/* Register customers (name, email) and principals w0 to w3 and noise, each
 * granted all of it for invoicing, and an auditor: to put together with
 * H_POL_CONTROLLER and maybe an "audit" section. */
#define WGRANT                                                                 \
	"\"region\": \"FI\", \"grants\": [{\"register\": \"customers\", "      \
	"\"purposes\": [\"invoicing\"], \"fields\": [\"*\"], \"ops\": "        \
	"[\"read\", \"write\", \"delete\"]}]}"
#define WRITER(n) "  \"" n "\": {\"key\": \"@KEY:" n "@\", " WGRANT ",\n"
#define POL_REGS                                                               \
	" \"registers\": {\"customers\": {\n"                                  \
	"   \"purposes\": {\"invoicing\": {\"legal_basis\": \"contract\"}},\n" \
	"   \"fields\": {\n"                                                   \
	"     \"name\": {\"category\": \"identity\", \"type\": \"string\"},\n" \
	"     \"email\": {\"category\": \"contact\", \"type\": "               \
	"\"email\"}}}},\n"
#define POL_PRINCIPALS                                                         \
	H_POL_PRINCIPALS WRITER("w0") WRITER("w1") WRITER("w2") WRITER("w3")   \
	    WRITER("noise") H_POL_AUDITOR H_POL_END

/* H_POL_CONTROLLER POL_REGS POL_PRINCIPALS */
extern const char POLICY[];

/* The keys, in h_setup's order: auditor (the first, so the harness's
 * readiness pings are its own, not a writer's), w0 to w3, noise. */
#define NKEYS 6
extern const char *const keys[NKEYS];

#define NWRITERS 4
#define NSUBJ    8     /* subjects per writer */
#define CALL_MS  10000 /* a client's deadline per call */
#define WAIT_MS  120000

/* not_ops of a query that leaves the auditor's queries out */
extern const char *const not_queries[];

/* The integer in environment variable name, at least min; def if unset. */
int env_int(const char *name, int def, int min);

/* A privd with keys and POLICY. */
int setup(void **state);

/* ---- request ids ------------------------------------------------------ */

typedef struct idlist {
	uint64_t *v;
	size_t n, cap;
} idlist;

/* Append id (aborts if out of memory: threads cannot fail the test). */
void id_add(idlist *l, uint64_t id);
void id_free(idlist *l);

/*
 * Every page of a query, as collect() does, into l; the request id of each
 * page (an event itself) is added to pages (may be NULL).
 */
void collect_pages(
    privd_client *a, const privd_audit_filter *f, evlist *l, idlist *pages);

/*
 * l holds exactly the events of the request ids want[0..n) (in reverse
 * order if desc), each once, in strictly rising seq order (falling if
 * desc), and of principal (unless NULL); with a subject, all share one
 * pseudonym. Fails the test, saying what, if not.
 */
void expect_ids(const evlist *l, const uint64_t *want, size_t n, bool desc,
    const char *principal, bool subject, const char *what);

/* Run f, all pages, and expect exactly want[0..n) (expect_ids, in the
 * order f asks for); the pages' request ids go to pages (may be NULL). */
void query_expect(privd_client *a, const privd_audit_filter *f,
    const uint64_t *want, size_t n, const char *principal, idlist *pages,
    const char *what);

/* ---- writers ---------------------------------------------------------- */

/* The id of subject s of writer w: "prefix-w-s". */
void subject_of(char *buf, size_t len, const char *prefix, int w, int s);

typedef struct writer {
	int id;
	char key[8];        /* its principal */
	const char *prefix; /* of its subjects' ids */
	privd_client *c;
	uint64_t rng;
	idlist subj[NSUBJ]; /* its requests, by subject */
	idlist full[NSUBJ]; /* and the auditor's queries of the subject */
	idlist all;         /* all its requests */
	int rounds, batch, nsubj;
	size_t kept[NSUBJ + 1]; /* what pruning keeps: subj[s] from kept[s],
	                           all from kept[NSUBJ] */
	/* under mu */
	bool paused; /* waits for the auditor to let it go on */
	bool done;
	int fail_rc; /* what privd answered that it should not have */
	/* the request that failed, on subject pending_s */
	uint64_t pending;
	int pending_s;
	bool failed_before_kill;
} writer;

/* What writer_run's pauses wait on. */
extern pthread_mutex_t mu;
extern pthread_cond_t cv;

/* w as principal key (connected), its subjects prefix-id-s. */
void writer_init(
    writer *w, harness *h, const char *key, int id, const char *prefix);
void writer_free(writer *w);

/* n requests of w on its subjects 0..nsubj-1; 0, or what privd answered
 * wrongly. */
int writer_batch(writer *w, int n, int nsubj);

/* A thread: w->rounds rounds of w->batch requests, pausing after each
 * until the auditor has looked (wait_paused, then paused = false). */
void *writer_run(void *arg);

/* Wait until w pauses (its lists are still while it waits on mu's
 * condition); fails the test if it failed or does not. */
void wait_paused(writer *w);

/* n requests of the NWRITERS writers w, together, on their subjects
 * 0..nsubj-1; fails the test if privd answered one wrongly. */
void run_batches(writer *w, int n, int nsubj);

#endif /* PRIVD_TEST_AUDIT_INDEX_COMMON_H */
