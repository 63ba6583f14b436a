/*
 * fuzz_request.c - libFuzzer target for a request's whole way through
 * privd: frame -> job -> worker (decode, decide, read, seal) -> writer
 * (commit with its audit event) -> reply.
 *
 * The daemon's own code runs in this process on a real LMDB store in a
 * temporary directory, with a real policy (three principals: a service with
 * data grants, an auditor and a policy admin; retention rules that make
 * fields due at once, so that a RetentionRun deletes and anonymises, and a
 * statistical purpose for Aggregate); only the threads and the
 * sockets are left out. The first input byte chooses the principal, the
 * rest is the request frame. Besides not crashing, every input must get
 * exactly one reply that decodes as a privd.v1.Response, whose request id
 * is the request's own or 0, and whose status is one the protocol defines;
 * a get's fields come sorted by name.
 *
 * The store is opened without fsync (MDB_NOSYNC) for speed and replaced by
 * a fresh one now and then, so that a long run does not fill the disk.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit_retain.h"
#include "server.h"

#define RESET_EVERY 20000 /* inputs per store */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Three principals with fixed keys (any valid keys: there is no
 * handshake here). */
static const char *const names[] = {"svc", "auditor", "admin"};
static const char *const zkeys[] = {
    "?Db=}actS?@#IL=fm?ipEd87!avP-NeeepTjNG<v",
    ".>2$?aeALcF2oDpyjhAVzfUKj^TCaHrl-UC}HmP]",
    "DTI6!R.vU>{I9dymSQMHx1Gro.+H[.W2-O.A3)OF",
};

static const char policy_fmt[] =
    "{\"controller\": {\"name\": \"Fuzz Oy\", \"business_id\": "
    "\"1234567-8\"},"
    " \"registers\": {\"customers\": {"
    "   \"transfer\": {\"allowed_regions\": [\"EEA\"]},"
    "   \"purposes\": {\"invoicing\": {\"legal_basis\": \"contract\"},"
    "     \"stats\": {\"legal_basis\": \"legitimate_interest\","
    "       \"statistical\": true},"
    "     \"marketing\": {\"legal_basis\": \"consent\", \"objectable\": "
    "true}},"
    "   \"fields\": {"
    "     \"name\": {\"category\": \"identity\", \"type\": \"string\"},"
    "     \"email\": {\"category\": \"contact\", \"type\": \"email\","
    "       \"lookup\": true},"
    "     \"phone\": {\"category\": \"contact\", \"type\": \"phone\","
    "       \"lookup\": true},"
    "     \"score\": {\"category\": \"feedback\", \"type\": \"integer\"},"
    "     \"notes\": {\"category\": \"feedback\", \"type\": \"text\"},"
    "     \"blob\": {\"category\": \"other\", \"type\": \"bytes\"}},"
    "   \"retention\": ["
    "     {\"id\": \"min\", \"categories\": [\"contact\"], \"from\": "
    "\"relationship_end\", \"keep_at_least\": \"1 year\"},"
    "     {\"id\": \"end\", \"categories\": [\"*\"], \"from\": "
    "\"relationship_end\", \"after\": \"0 days\", \"action\": \"delete\"},"
    "     {\"id\": \"anon\", \"categories\": [\"feedback\"], \"from\": "
    "\"collected\", \"after\": \"0 days\", \"action\": \"anonymize\"},"
    "     {\"id\": \"contract\", \"categories\": [\"*\"], \"from\": "
    "\"contract_end\", \"after\": \"0 days\", \"action\": \"delete\"}]}},"
    " \"principals\": {"
    "   \"svc\": {\"key\": \"%s\", \"region\": \"FI\", \"grants\": ["
    "     {\"register\": \"customers\", \"purposes\": [\"invoicing\", "
    "\"stats\"],"
    "      \"fields\": [\"*\"], \"ops\": [\"read\", \"write\", "
    "\"delete\"]}]},"
    "   \"auditor\": {\"key\": \"%s\", \"roles\": [\"auditor\"]},"
    "   \"admin\": {\"key\": \"%s\", \"roles\": [\"policy_admin\", "
    "\"subject_rights\"]}}}";

static server srv;
static worker *wk;
static writer *wr;
static job *jb;
static char dir[64];
static char policy[4096];
static unsigned long inputs;

static void
die(const char *what)
{
	fprintf(stderr, "fuzz_request: %s\n", what);
	abort();
}

/* A fresh store in dir: format, floor, policy version 1; its snapshot. */
static void
store_make(void)
{
	char err[256], path[128];
	pol_policy *pol;
	pol_error perr;
	store_txn *txn;

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	unlink(path);
	if (store_open(
	        dir, STORE_MIN_MAPSIZE, true, &srv.st, err, sizeof(err)) != 0)
		die(err);
	/* LMDB's own flag: this target always runs on LMDB (store_lmdb.h's
	 * struct, visible here as the target is built without
	 * PRIVD_STORE_NEUTRAL) */
	mdb_env_set_flags(srv.st->env, MDB_NOSYNC, 1);
	if (store_txn_begin(srv.st, 0, &txn) != 0 ||
	    store_format_put(srv.st, txn) != 0 ||
	    retain_floor_put(srv.st, txn, 1) != 0 ||
	    store_policy_put(
	        srv.st, txn, 1, 1, "privd init", policy, strlen(policy)) != 0 ||
	    store_txn_commit(txn) != 0)
		die("cannot initialise the store");
	if (pol_parse(policy, strlen(policy), &pol, &perr) != 0)
		die(perr.reason);
	snapshot_cell_init(&srv.policy, snapshot_new(pol, 1));
	srv.audit_floor_s = 1;
	if ((wk = worker_new(&srv)) == NULL || (wr = writer_new(&srv)) == NULL)
		die("cannot make the worker or the writer");
}

static void store_discard(void);

/* At exit: leave no store behind in /tmp. */
static void
cleanup(void)
{
	char path[128];

	store_discard();
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	unlink(path);
	rmdir(dir);
}

static void
store_discard(void)
{
	worker_free(&wk);
	writer_free(&wr);
	snapshot_cell_destroy(&srv.policy);
	store_close(&srv.st);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t master[CRYPTO_KEYBYTES] = {7};

	if (sodium_init() < 0)
		die("sodium_init");
	snprintf(dir, sizeof(dir), "/tmp/privd-fuzz-XXXXXX");
	if (mkdtemp(dir) == NULL)
		die("mkdtemp");
	snprintf(
	    policy, sizeof(policy), policy_fmt, zkeys[0], zkeys[1], zkeys[2]);
	srv.cfg.max_request = 64 * 1024;
	srv.cfg.ckpt_every = 100;
	srv.keys = crypto_keys_derive(master);
	srv.sign_sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
	srv.curve_secret = sodium_malloc(32);
	if (srv.keys == NULL || srv.sign_sk == NULL || srv.curve_secret == NULL)
		die("out of secure memory");
	crypto_sign_keypair(srv.sign_pk, srv.sign_sk);
	if (jobq_init(&srv.replies, false) != 0 || (jb = job_new()) == NULL)
		die("cannot make the reply queue or a job");
	store_make();
	atexit(cleanup);
	return 0;
}

/* The reply's contract, whatever the input was. */
static void
check_reply(job *j)
{
	Privd__V1__Response *r;
	size_t i;

	if (!j->has_reply)
		die("a request got no reply");
	r = privd__v1__response__unpack(
	    NULL, zmq_msg_size(&j->reply), zmq_msg_data(&j->reply));
	if (r == NULL)
		die("a reply does not decode");
	if (r->request_id != 0 &&
	    (j->req == NULL || r->request_id != j->req->request_id))
		die("a reply carries another request's id");
	if (r->status < PRIVD__V1__STATUS__OK ||
	    r->status > PRIVD__V1__STATUS__EXPIRED)
		die("a reply's status is not one of the protocol's");
	if (r->payload_case == PRIVD__V1__RESPONSE__PAYLOAD_GET)
		for (i = 1; i < r->get->n_fields; i++)
			if (strcmp(r->get->fields[i - 1]->name,
			        r->get->fields[i]->name) >= 0)
				die("a get's fields are not sorted");
	privd__v1__response__free_unpacked(r, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	job *back;
	size_t who;

	if (size < 1)
		return 0;
	if (++inputs % RESET_EVERY == 0) {
		store_discard();
		store_make();
	}
	who = data[0] % 3;
	snprintf(jb->principal, sizeof(jb->principal), "%s", names[who]);
	jb->has_key = zmq_z85_decode(jb->key, zkeys[who]) != NULL;
	jb->multipart = data[0] >= 0xf0; /* now and then: a second frame */
	zmq_msg_close(&jb->frame);
	if (zmq_msg_init_size(&jb->frame, size - 1) != 0)
		die("out of memory");
	memcpy(zmq_msg_data(&jb->frame), data + 1, size - 1);
	worker_handle(wk, jb);
	writer_commit(wr, jb);
	if ((back = jobq_take_nowait(&srv.replies)) != jb)
		die("the writer did not hand the job back");
	check_reply(jb);
	job_clear(jb);
	return 0;
}
