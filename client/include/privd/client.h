/*
 * <privd/client.h> - the privd client library (libprivd).
 *
 * A service stores and reads personal data in privd through this library.
 * privd decides every request against its policy, audits it, and answers;
 * this library carries requests over ZeroMQ with CURVE encryption and
 * authentication (privd knows the caller by its CURVE public key).
 *
 * Conventions
 * - Every function that can fail returns int: PRIVD_OK (0) or a PRIVD_E*
 *   status (a positive number); privd_strerror() names it. After a failure,
 *   privd_errmsg() gives privd's explanation, if any.
 * - Results are owned by the caller and freed with the matching *_free()
 *   function, which also sets the caller's pointer to NULL.
 * - No global state: everything lives in the handle.
 * - Each function's comment lists every status it can return ("Errors:"),
 *   and says what a status means for that call where it means more than
 *   the rule below. A status privd answers that a list does not name (a
 *   privd of another version may) is returned as it is.
 * - Every call that talks to privd lists PRIVD_EINVAL, PRIVD_EDENIED,
 *   PRIVD_ETOOBIG, PRIVD_EHANDSHAKE, PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT,
 *   PRIVD_EPROTO, PRIVD_ENOMEM and PRIVD_EINTERNAL, which mean for each:
 *   PRIVD_EINVAL also for a handle inherited across fork() (see "fork()")
 *   and for a request privd finds malformed (a string that is not UTF-8);
 *   PRIVD_EDENIED also with reason PRIVD_REASON_UNKNOWN_PRINCIPAL, a client
 *   key privd does not know (see "Deadlines"); PRIVD_ETOOBIG for a request
 *   larger than privd_set_max_request()'s limit (not sent) or privd's;
 *   PRIVD_EHANDSHAKE, PRIVD_EUNAVAILABLE (also: privd is stopping, or its
 *   disk is full) and PRIVD_ETIMEOUT as "Deadlines" says (after
 *   PRIVD_ETIMEOUT a request that changes something may or may not have
 *   been carried out); PRIVD_EPROTO for an answer that breaks the protocol
 *   (see "Answers") or has a status this library does not know;
 *   PRIVD_ENOMEM for memory in the client; PRIVD_EINTERNAL when privd
 *   failed (the request had no effect) or the client's ZeroMQ did.
 * - A handle with several endpoints (see "Several endpoints") may also end
 *   any call that changes something with PRIVD_EINDOUBT; the lists do
 *   not repeat it.
 * - Every pointer a function takes is read during the call only (the
 *   library keeps no reference to it) unless its comment says otherwise;
 *   every pointer it hands out says how long it is valid and how it is
 *   freed.
 * - Constants are stable: a value is never renumbered nor reused.
 *
 * Versions
 * - PRIVD_VERSION_MAJOR, _MINOR and _PATCH are the version of this header;
 *   privd_version() is that of the library a program runs with, which may
 *   be newer. The major version is the shared object's (libprivd.so.2):
 *   within it, later versions only add functions and constants, so a
 *   program built against 2.x runs with any 2.y, y >= x. A program that
 *   uses what a minor version added can test for it at build time, e.g.
 *   #if PRIVD_VERSION_FULL >= PRIVD_MAKE_VERSION(2, 2, 0). The version is the
 *   library's, not privd's (privd_ping() tells privd's).
 *
 * Thread safety
 * - A privd_client handle must be used by one thread at a time (like a ZeroMQ
 *   socket). Use one handle per thread; handles are independent of each other
 *   and may be used concurrently from different threads.
 * - Results (privd_record, privd_audit_page, arrays) are plain memory and may
 *   be passed between threads.
 *
 * Deadlines
 * - Every call waits at most the handle's timeout (default 5000 ms,
 *   privd_set_timeout()). If privd cannot be reached the call returns
 *   PRIVD_EUNAVAILABLE; if it was reached but did not answer in time,
 *   PRIVD_ETIMEOUT. In the second case the request may or may not have been
 *   carried out. The handle reconnects by itself: the next call works again
 *   once privd is back.
 * - Some failures are clear before the deadline, and every call that needs a
 *   connection can end with them early (none of them sent the request):
 *   PRIVD_EDENIED (reason PRIVD_REASON_UNKNOWN_PRINCIPAL) as soon as privd
 *   refuses the client key during the CURVE handshake; PRIVD_EHANDSHAKE when
 *   privd's endpoint accepts the connection but the CURVE handshake fails three
 *   times in a row, with none succeeding between (within about half a second:
 *   libzmq retries every 100-200 ms). That is what a wrong server key looks
 *   like; privd_errmsg() names the endpoint. A single failed handshake can be
 *   transient (privd stopping meanwhile), so fewer failures before the deadline
 *   give PRIVD_EUNAVAILABLE, whose message then says that a handshake failed. A
 *   stopped privd accepts no connection: PRIVD_EUNAVAILABLE at the deadline.
 * - Every request carries its attempt's deadline as wall-clock time
 *   (privd.proto's Request.deadline_ms: now, by the system clock, plus what
 *   is left of the attempt's time). privd never carries out a request after
 *   it: a change that reaches privd late, or whose transaction would begin
 *   late (a node that hung and woke up, say), has no effect and is answered
 *   PRIVD_EEXPIRED (audited as status "expired"). So a change that ended
 *   PRIVD_ETIMEOUT or PRIVD_EINDOUBT is not carried out afterwards by a node
 *   that wakes up after its deadline, except for a commit that privd began
 *   before it (which lands within moments) - read back before repeating it
 *   all the same. This needs the client's and privd's clocks in step (NTP):
 *   privd's clock running behind by S lets such a change land up to S (plus
 *   privd's --deadline-grace, default 0) after the deadline; running ahead,
 *   it answers PRIVD_EEXPIRED that much early. PRIVD_EEXPIRED in an answer
 *   means the clocks differ by about the timeout or more. A privd too old
 *   to know deadlines ignores them.
 * - A handle given two server keys (privd's key and its next key, see
 *   privd_set_server_keys()) tries the other key on a fresh connection at
 *   once whenever a handshake fails, and keeps the key that worked; it
 *   fails with PRIVD_EHANDSHAKE once each key has failed three times in a
 *   row. So when privd restarts onto its next key, a call waiting for it
 *   goes through one failed handshake after privd is back, a few
 *   milliseconds.
 *
 * Several endpoints
 * - privd_connect() and privd_connect_keyfile() take one endpoint or a
 *   comma-separated list of up to PRIVD_ENDPOINTS_MAX (16) privd nodes
 *   that serve the same store, e.g. "tcp://a:7700,tcp://b:7700" (blanks
 *   around each ignored; no empty item, no endpoint twice;
 *   privd_endpoints_check() says what is wrong with a list). All of them
 *   have the same server key (the nodes of a cluster share the store, and
 *   with it privd's CURVE key). A handle with one endpoint behaves as
 *   "Deadlines" says; the rest of this section is about several.
 * - A call goes to one node, the node in use (privd_endpoint() names it).
 *   It moves on to the next node when that node fails: the connection is
 *   refused, the CURVE handshake fails (PRIVD_EHANDSHAKE), no connection
 *   is made in time, the node takes the request and does not answer in
 *   time or drops the connection, or it answers PRIVD_EUNAVAILABLE
 *   (stopping or overloaded; or, on a PostgreSQL store, a commit the
 *   database did not confirm, which may have landed). Any other answer
 *   ends the call as it is. A request that was never sent goes to the
 *   next node whatever it is. A request that was sent and not answered,
 *   or answered PRIVD_EUNAVAILABLE, goes to the next node only if it is
 *   safe to repeat - it only reads: ping, get, policy get (any version),
 *   policy history, audit query, audit checkpoints, audit pubkey, audit
 *   prune without confirm, hold list, retention run with preview,
 *   aggregate, subject lookup, subject export and erasures export (a read
 *   repeated on another node is audited there too, with the same request
 *   id). Every other request (put, delete, policy apply, audit prune with
 *   confirm, relationship end, contract end, hold set and lift, retention
 *   run, subject restrict, object and erase, backup start) then fails
 *   with PRIVD_EINDOUBT: the node may or may not have carried it out
 *   before it stopped answering, so read back (get, policy get, hold list,
 *   ...) before repeating it. The reads of a backup (privd_backup()) are
 *   bound to the node that makes the backup and never move: they fail
 *   with the attempt's own status. The table is in client/endpoints.c.
 * - Time: a call still waits at most the handle's timeout in all. Each
 *   attempt gets the time left divided by the number of nodes still worth
 *   trying in the call (this one, and those neither tried yet nor set
 *   aside, see "Node order"): with two endpoints and the default 5000 ms,
 *   a node that does not answer is given up after 2500 ms, and the other
 *   node has the rest; while one of them is set aside, the other has the
 *   whole timeout. A refused connection (a node whose privd is not
 *   running) or a dropped one (a node dying with the request in flight)
 *   is given up at once. Each node is tried at most once per
 *   call; when all fail, the call returns the last one's status.
 * - Node order: calls go to the first node of the list that works. A node
 *   that fails is set aside for a back-off (1 s, doubling with each
 *   failure in a row up to 32 s) and later calls go to the next node in
 *   list order. Once the back-off of a node earlier in the list has
 *   passed, the handle reconnects to it in the background, and the first
 *   call after its CURVE handshake has completed goes to it again: a node
 *   that comes back takes its calls back within about a second, and a
 *   node that hangs costs one attempt's time once, not at every call.
 *
 * fork()
 * - A handle belongs to the process that made it. libzmq's context (each
 *   handle has its own, with an I/O thread) does not survive fork(): in a
 *   child, every function given a handle inherited from the parent fails
 *   with PRIVD_EINVAL ("this handle was made by another process"), but for
 *   privd_errmsg(), privd_reason() and privd_last_request_id(), which only
 *   read it, and privd_close(), which there wipes and frees the handle's
 *   own memory only, not touching libzmq's. The parent's handle goes on
 *   working. A child that needs privd connects anew (a pre-forking server
 *   connects in each worker, after the fork). libzmq opens its
 *   descriptors close-on-exec, so a program the child execs inherits none
 *   of them.
 * - POSIX lets the child of a multithreaded process (and a process with a
 *   handle has libzmq's threads) call only async-signal-safe functions
 *   until it execs; no privd_* function is one. On glibc, whose malloc
 *   stays usable after fork(), a child can close an inherited handle and
 *   connect anew as above; the portable ways are to fork before the first
 *   privd_connect(), or to exec.
 *
 * Memory that held personal data
 * - The library wipes (overwrites with zeros) every buffer of its own that
 *   held a subject id or a value before freeing it: the packed request
 *   (once libzmq is done sending it), every frame received, privd's
 *   unpacked answer, and a record at privd_record_free(). It cannot wipe
 *   the caller's own buffers, nor the copies libzmq's CURVE code makes
 *   internally while encrypting and decrypting.
 *
 * Answers
 * - The library trusts privd's answers no further than it must: a reply
 *   larger than 64 MiB (ZMQ_MAXMSGSIZE; a legitimate one is at most about
 *   17 MiB) is never taken in, libzmq drops the connection instead and the
 *   call ends with PRIVD_ETIMEOUT; an answer that breaks the protocol's
 *   limits (more fields, records, checkpoints or versions than privd sends,
 *   a hash, signature, key or pseudonym of the wrong length, a paged
 *   answer that does not make progress) fails with PRIVD_EPROTO.
 */
#ifndef PRIVD_CLIENT_H
#define PRIVD_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes. Stable: values are never renumbered. */
#define PRIVD_OK           0  /* success */
#define PRIVD_EINVAL       1  /* invalid argument or value (privd: INVALID) */
#define PRIVD_EDENIED      2  /* the policy denies it; see privd_reason() */
#define PRIVD_ENOTFOUND    3  /* no such subject or field */
#define PRIVD_ECONFLICT    4  /* a version or state precondition failed */
#define PRIVD_ERETAINED    5  /* data kept by a legal minimum or hold */
#define PRIVD_ETOOBIG      6  /* request larger than the size limit */
#define PRIVD_EUNAVAILABLE 7  /* privd could not be reached or is stopping */
#define PRIVD_ETIMEOUT     8  /* no answer before the deadline */
#define PRIVD_EPROTO       9  /* privd's answer could not be understood */
#define PRIVD_EINTERNAL    10 /* privd failed; the request had no effect */
#define PRIVD_ENOMEM       11 /* out of memory in the client */
#define PRIVD_EKEY         12 /* a key or key file is malformed or unreadable */
#define PRIVD_ETAMPERED    13 /* the audit log does not verify */
#define PRIVD_EHANDSHAKE   14 /* connected, but the CURVE handshake failed */
#define PRIVD_EINDOUBT     15 /* failed-unknown: read back before repeating */
#define PRIVD_EEXPIRED     16 /* privd got it after its deadline: no effect */

/* The version of this header (see "Versions"). */
#define PRIVD_VERSION_MAJOR 2
#define PRIVD_VERSION_MINOR 3
#define PRIVD_VERSION_PATCH 0
/* One number for comparisons (as LMDB's MDB_VERSION_FULL): 2.3.0 is
 * 20300. */
#define PRIVD_MAKE_VERSION(major, minor, patch)                                \
	((major)*10000 + (minor)*100 + (patch))
#define PRIVD_VERSION_FULL                                                     \
	PRIVD_MAKE_VERSION(                                                    \
	    PRIVD_VERSION_MAJOR, PRIVD_VERSION_MINOR, PRIVD_VERSION_PATCH)

/*
 * Why privd denied a request (PRIVD_EDENIED): privd_reason() after a call,
 * privd_audit_event.reason in the audit log; privd_reason_name() names
 * them. The numbers are privd.v1.DenyReason's. privd may add reasons: a
 * number not listed here is to be treated as PRIVD_REASON_OTHER.
 */
#define PRIVD_REASON_NONE              0 /* not a denial */
#define PRIVD_REASON_OTHER             1 /* a reason not listed here */
#define PRIVD_REASON_UNKNOWN_PRINCIPAL 2 /* the key is not in the policy */
#define PRIVD_REASON_UNKNOWN_REGISTER  3 /* no such register */
#define PRIVD_REASON_UNKNOWN_FIELD     4 /* the register has no such field */
#define PRIVD_REASON_UNKNOWN_PURPOSE   5 /* the register has no such purpose */
#define PRIVD_REASON_NO_GRANT          6 /* no grant for the operation */
#define PRIVD_REASON_FIELD_NOT_GRANTED 7 /* a field is outside the grant */
#define PRIVD_REASON_REGION            8 /* the caller's region is refused */
#define PRIVD_REASON_RESTRICTED        9 /* the subject restricted processing */
#define PRIVD_REASON_OBJECTED          10 /* the subject objected to it */
#define PRIVD_REASON_ROLE_REQUIRED     11 /* needs a role the caller lacks */

/* Z85 text of a 32-byte CURVE key: 40 characters plus NUL. */
#define PRIVD_KEY_Z85_LEN 41
/* Server keys a handle holds at most: privd's key and its next key. */
#define PRIVD_SERVER_KEYS_MAX 2
/* Text of the server keys, "CURRENT,NEXT", plus NUL. */
#define PRIVD_SERVER_KEYS_LEN (PRIVD_SERVER_KEYS_MAX * PRIVD_KEY_Z85_LEN)

/* The most endpoints a handle takes (see "Several endpoints"). */
#define PRIVD_ENDPOINTS_MAX 16

/* Default deadline of a call, in milliseconds. */
#define PRIVD_DEFAULT_TIMEOUT_MS 5000
/* Default largest request the client sends (privd's default limit). */
#define PRIVD_DEFAULT_MAX_REQUEST (1024 * 1024)

typedef struct privd_client privd_client;

/* One field of a subject: a name and an opaque value of len bytes. */
typedef struct privd_field {
	const char *name;
	const uint8_t *value;
	size_t len;
} privd_field;

/* Fields read from privd. The record owns every name and value; they are
 * valid until privd_record_free(). Each value is also NUL-terminated (not
 * counted in len), so text values can be printed directly. */
typedef struct privd_record {
	size_t nfields;
	privd_field *fields;
} privd_record;

/* What privd says about itself and the caller (privd_ping). */
typedef struct privd_pong {
	char server_version[32];
	char principal[65]; /* the policy's name for the caller's key */
	uint64_t policy_version;
} privd_pong;

/*
 * The version of the library that runs: major, minor and patch (each may
 * be NULL) receive its numbers, and the result is the same as text
 * ("2.1.0"), static. Cannot fail.
 */
const char *privd_version(int *major, int *minor, int *patch);

/*
 * Generate a new CURVE key pair as Z85 text.
 * public_key, secret_key: buffers of PRIVD_KEY_Z85_LEN bytes.
 * Errors: PRIVD_EINVAL (public_key or secret_key NULL), PRIVD_EINTERNAL
 * (the libzmq the library runs with has no CURVE support).
 */
int privd_keygen(
    char public_key[PRIVD_KEY_Z85_LEN], char secret_key[PRIVD_KEY_Z85_LEN]);

/*
 * Read a key pair file as written by `privctl keygen`:
 *   public-key = <Z85>
 *   secret-key = <Z85>
 * ('#' starts a comment line; each key once; the public key must be the
 * secret key's). On success public_key and secret_key (buffers of
 * PRIVD_KEY_Z85_LEN bytes) receive the keys; the caller should wipe
 * secret_key once it has connected. On failure they are unchanged.
 * Errors: PRIVD_EKEY (path, public_key or secret_key NULL; the file
 * missing, unreadable, not a regular file, accessible by group or other,
 * larger than 4096 bytes, holding a NUL byte, or malformed).
 */
int privd_keypair_load(const char *path, char public_key[PRIVD_KEY_Z85_LEN],
    char secret_key[PRIVD_KEY_Z85_LEN]);

/*
 * Like privd_keypair_load(), and on failure also says why in why (a buffer of
 * whylen bytes, always NUL-terminated; may be NULL), e.g. "file is accessible
 * by group or other (chmod 600)". The text never contains key material.
 * Errors: those of privd_keypair_load().
 */
int privd_keypair_load_err(const char *path, char public_key[PRIVD_KEY_Z85_LEN],
    char secret_key[PRIVD_KEY_Z85_LEN], char *why, size_t whylen);

/*
 * Read privd's public keys from a file. Lines that are blank or start
 * with '#' are skipped. The first other line holds privd's key, bare (as
 * `privd init` writes DIR/server.pub) or as "public-key = <Z85>" (a key
 * pair file's public half, of which nothing more is read as keys). After
 * a bare key, a second bare key line is privd's next key (`privd
 * server-key next` writes it to DIR/server.next.pub): so a client that is
 * to follow a rotation of privd's key is given
 *   <privd's key>
 *   <its next key>
 * (cat server.pub server.next.pub). The keys are public, so the file's
 * mode is not checked. On success keys[0] and, with a next key, keys[1]
 * receive them and *n how many (1 or 2); on failure they are unchanged
 * and why (whylen bytes, always NUL-terminated; may be NULL) says what is
 * wrong, naming the line but never quoting it.
 * Errors: PRIVD_EKEY (path, keys or n NULL; the file missing,
 * unreadable, not a regular file, larger than 4096 bytes, holding a NUL
 * byte, without a key line, with a first line that is not a key, with a
 * later line that is neither a key nor blank nor a comment, or with a
 * third key).
 */
int privd_server_keys_load(const char *path,
    char keys[PRIVD_SERVER_KEYS_MAX][PRIVD_KEY_Z85_LEN], size_t *n, char *why,
    size_t whylen);

/*
 * The first key of a server key file (privd's key): its first line that
 * is neither blank nor a comment, read as privd_server_keys_load() reads
 * it; the rest of the file is not read (a next key is not looked for).
 * On success server_key (PRIVD_KEY_Z85_LEN bytes) receives it; on failure
 * it is unchanged and why (whylen bytes, always NUL-terminated; may be
 * NULL) says what is wrong, without quoting the file.
 * Errors: PRIVD_EKEY (path or server_key NULL; the file missing,
 * unreadable, not a regular file, larger than 4096 bytes, holding a NUL
 * byte, without a key line, or with one that is not a Z85 key).
 */
int privd_server_key_load(const char *path, char server_key[PRIVD_KEY_Z85_LEN],
    char *why, size_t whylen);

/*
 * Create a handle that talks to privd at endpoint ("ipc:///path" or
 * "tcp://host:port"), or at a comma-separated list of them, the nodes of
 * one privd cluster (see "Several endpoints"). server_key is privd's
 * public key, public_key and secret_key the caller's key pair, all Z85;
 * server_key may also be privd's key and its next key separated by a
 * comma ("CURRENT,NEXT", as privd_set_server_keys() takes them).
 * Connecting is lazy: this call does not wait for privd, so it succeeds
 * while privd is down. On success *out is the new handle (free with
 * privd_close).
 * Errors: PRIVD_EINVAL (out NULL, or a NULL or bad endpoint or endpoint
 * list: privd_endpoints_check() says what is wrong), PRIVD_EKEY (a
 * key NULL or malformed, or public_key not the one of secret_key),
 * PRIVD_ENOMEM, PRIVD_EINTERNAL (the ZeroMQ context or socket cannot be
 * made).
 */
int privd_connect(privd_client **out, const char *endpoint,
    const char *server_key, const char *public_key, const char *secret_key);

/*
 * privd_connect() with the keys taken from files, as privctl takes them
 * (so a service can pass privctl's PRIVD_ENDPOINT, PRIVD_SERVER_KEY and
 * PRIVD_KEY through as they are): server_key names a file holding privd's
 * public key, or its key and its next key (read with
 * privd_server_keys_load()), or, when no such file exists, is the Z85 key
 * itself (or "CURRENT,NEXT"); key_file is the caller's key pair file
 * (read with privd_keypair_load()). The secret key is wiped from the
 * library's buffers once the handle holds it. On success *out is the new
 * handle (free with privd_close()); on failure *out is NULL (if out is not
 * NULL) and why (whylen bytes, always NUL-terminated; may be NULL) says
 * what is wrong: the file and the problem, e.g. "key pair file
 * /etc/svc/privd.key: file is accessible by group or other (chmod 600)";
 * never a key.
 * Errors: PRIVD_EINVAL (out NULL; endpoint NULL or not an endpoint list
 * privd_connect() takes), PRIVD_EKEY (server_key or key_file NULL or
 * empty; a server key that is neither an existing file nor one or two Z85
 * keys; any failure of privd_server_keys_load() or privd_keypair_load() on
 * the files),
 * PRIVD_ENOMEM, PRIVD_EINTERNAL (the ZeroMQ context or socket cannot be
 * made).
 */
int privd_connect_keyfile(privd_client **out, const char *endpoint,
    const char *server_key, const char *key_file, char *why, size_t whylen);

/*
 * Check an endpoint or a comma-separated endpoint list as privd_connect()
 * takes it: each item ipc://PATH or tcp://HOST:PORT (PORT 1..65535),
 * blanks around items ignored, no empty item, no endpoint twice, at most
 * PRIVD_ENDPOINTS_MAX items. Whether a node answers there is not checked.
 * On failure why (whylen bytes, always NUL-terminated; may be NULL) says
 * what is wrong, naming positions in the list ("endpoint 2 of 3 is
 * empty"), never quoting it.
 * Errors: PRIVD_EINVAL (list NULL, empty or malformed), PRIVD_ENOMEM.
 */
int privd_endpoints_check(const char *list, char *why, size_t whylen);

/*
 * The endpoint of the node the handle's next call goes to first: the
 * only one for a handle with one endpoint; with several, the node in use
 * (see "Several endpoints"). Valid until the next call on the handle or
 * privd_close(); "" if c is NULL. Cannot fail.
 */
const char *privd_endpoint(const privd_client *c);

/*
 * Close a handle, drop unsent requests, wipe the keys it held, and set *c
 * to NULL. NULL-safe. In a child after fork() it frees only the handle's
 * own memory (see "fork()"). Cannot fail.
 */
void privd_close(privd_client **c);

/*
 * Set the deadline of every later call, in milliseconds (at least 1;
 * PRIVD_DEFAULT_TIMEOUT_MS until set). On failure the deadline in force
 * stays.
 * Errors: PRIVD_EINVAL (c NULL, or timeout_ms 0 or negative: then
 * privd_errmsg() says so).
 */
int privd_set_timeout(privd_client *c, int timeout_ms);

/*
 * Set the largest request the client will send (at least 1 byte;
 * PRIVD_DEFAULT_MAX_REQUEST until set); bigger ones fail with
 * PRIVD_ETOOBIG without being sent. Match privd's --max-request. On
 * failure the limit in force stays.
 * Errors: PRIVD_EINVAL (c NULL, or bytes 0: then privd_errmsg() says so).
 */
int privd_set_max_request(privd_client *c, size_t bytes);

/*
 * Replace the server key a handle authenticates privd with (Z85), or
 * give it privd's key and its next key as "CURRENT,NEXT" (see
 * privd_set_server_keys()). The connection made with the old key is
 * closed now, and the next call connects with the new one; nothing is in
 * flight between calls, so no request is lost. On failure the old keys
 * stay in force and the connection is kept.
 * Errors: PRIVD_EINVAL (c NULL, or a handle inherited across fork()),
 * PRIVD_EKEY (server_key NULL, not a Z85 key, or not two of them
 * separated by a comma; privd_errmsg() says so).
 */
int privd_set_server_key(privd_client *c, const char *server_key);

/*
 * Give a handle the server keys it accepts privd by: keys[0] privd's key
 * and, with n == 2, keys[1] its next key (`privd server-key next`), each
 * Z85. This is how a client follows a rotation of privd's key without an
 * outage: once every client holds both keys, privd restarts onto the next
 * key (`privd server-key rotate`) and each handle switches to it at its
 * first failed handshake (see "Deadlines"), keeping the key that works;
 * afterwards give the clients the new key alone. The first key is tried
 * first. As privd_set_server_key(): the connection is made anew at the
 * next call. On failure the old keys stay in force and privd_errmsg()
 * says which key is wrong.
 * Errors: PRIVD_EINVAL (c NULL, keys NULL, n 0 or more than
 * PRIVD_SERVER_KEYS_MAX, or a handle inherited across fork()), PRIVD_EKEY
 * (a key NULL or not a Z85 key).
 */
int privd_set_server_keys(privd_client *c, const char *const *keys, size_t n);

/*
 * privd_set_server_keys() with the keys read from the file path
 * (privd_server_keys_load(): privd's key, and its next key on a second
 * line if any). On failure the old keys stay in force and privd_errmsg()
 * names the file and the problem.
 * Errors: PRIVD_EINVAL (c NULL, path NULL or empty, or a handle inherited
 * across fork()), PRIVD_EKEY (any failure of privd_server_keys_load()).
 */
int privd_set_server_key_file(privd_client *c, const char *path);

/*
 * Check that privd answers and knows the caller. pong may be NULL; its
 * strings are privd's, cut to fit and NUL-terminated, and not checked to
 * be printable. Any principal the policy names may ping.
 * Errors: PRIVD_EINVAL (c NULL), PRIVD_EDENIED (privd refused this client
 * key: privd_reason() is PRIVD_REASON_UNKNOWN_PRINCIPAL), PRIVD_ETOOBIG,
 * PRIVD_EHANDSHAKE (the server key is probably wrong; see "Deadlines"),
 * PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT, PRIVD_EPROTO, PRIVD_ENOMEM,
 * PRIVD_EINTERNAL.
 */
int privd_ping(privd_client *c, privd_pong *pong);

/*
 * Store fields of a subject for a purpose: all of them or none.
 * reg: register name; subject: the caller's id for the person (1..256 bytes);
 * fields: n >= 1 fields, each name at most once.
 * Errors: PRIVD_EINVAL (bad argument: c NULL, an empty register, purpose or
 * field name, a subject id empty or longer than 256 bytes, no fields or
 * more than 256, a value larger than 64 KiB or NULL with a length; privd:
 * a field twice, or a value that fails its type check), PRIVD_EDENIED,
 * PRIVD_ECONFLICT (the register's processing contract has ended: no new
 * data may be written to it), PRIVD_ETOOBIG, PRIVD_EHANDSHAKE,
 * PRIVD_EUNAVAILABLE (also: privd's disk is full), PRIVD_ETIMEOUT (the put
 * may or may not have happened), PRIVD_EPROTO, PRIVD_ENOMEM,
 * PRIVD_EINTERNAL.
 */
int privd_put(privd_client *c, const char *reg, const char *subject,
    const char *purpose, const privd_field *fields, size_t n);

/*
 * Read fields of a subject for a purpose. names: n field names, or n == 0 for
 * every stored field the caller may read. On PRIVD_OK *out is a new record
 * (possibly with fewer fields than asked: fields not stored are absent); free
 * it with privd_record_free(); on failure *out is NULL.
 * Errors: PRIVD_EINVAL (c or out NULL, an empty register, purpose or field
 * name, a subject id empty or longer than 256 bytes, more than 256 names,
 * or names NULL with n > 0), PRIVD_ENOTFOUND (no such subject),
 * PRIVD_EDENIED, PRIVD_ETOOBIG, PRIVD_EHANDSHAKE, PRIVD_EUNAVAILABLE,
 * PRIVD_ETIMEOUT, PRIVD_EPROTO (privd's answer has more than 256 fields, a
 * field without a name, or a field twice), PRIVD_ENOMEM, PRIVD_EINTERNAL.
 */
int privd_get(privd_client *c, const char *reg, const char *subject,
    const char *purpose, const char *const *names, size_t n,
    privd_record **out);

/*
 * Delete named fields of a subject (n > 0), or the whole subject and its
 * data key (n == 0), for a purpose. deleted (may be NULL) receives the
 * number of stored fields removed. A field kept by a retention minimum or
 * a legal hold stays and everything else asked for is deleted: the call
 * then returns PRIVD_ERETAINED with *deleted set; privd_delete_ex() also
 * says which fields were kept and why.
 * Errors: PRIVD_EINVAL (c NULL, an empty register, purpose or field name,
 * a subject id empty or longer than 256 bytes, more than 256 names, or
 * names NULL with n > 0; privd: a malformed request), PRIVD_ENOTFOUND (no
 * such subject), PRIVD_EDENIED, PRIVD_ERETAINED (see above), PRIVD_ETOOBIG,
 * PRIVD_EHANDSHAKE, PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT (the delete may or
 * may not have happened), PRIVD_EPROTO, PRIVD_ENOMEM, PRIVD_EINTERNAL.
 */
int privd_delete(privd_client *c, const char *reg, const char *subject,
    const char *purpose, const char *const *names, size_t n, uint32_t *deleted);

/* A field that a delete request asked to go but privd kept (see
 * privd_delete_ex). Strings are NUL-terminated, cut to fit. */
typedef struct privd_retained {
	char field[65]; /* the field kept */
	/* the id of the retention rule whose keep_at_least minimum has not
	 * passed, or "" when a legal hold keeps it (then hold_reason) */
	char rule[65];
	/* kept at least until then (microseconds since the epoch, UTC); 0:
	 * until a hold is lifted, or, for a rule, while the event its period
	 * counts from (e.g. the end of the relationship) has not happened */
	uint64_t until_us;
	char hold_reason[257]; /* the hold's reason ("" for a rule) */
} privd_retained;

/*
 * privd_delete(), saying what was kept. On PRIVD_OK *kept is NULL and
 * *nkept 0. On PRIVD_ERETAINED (some fields kept by a retention minimum
 * or a legal hold, everything else asked for deleted) *deleted (may be
 * NULL) is the number of fields removed and *kept an array of *nkept
 * entries, one per field kept, owned by the caller (free with
 * privd_free(); NULL with *nkept 0 if privd did not list them). A
 * whole-subject delete that keeps a field keeps the subject (and its data
 * key) with just the fields kept. On any other failure *kept is NULL and
 * *nkept 0. kept and nkept may both be NULL (then this is privd_delete()).
 * Errors: PRIVD_EINVAL (those of privd_delete(), and only one of kept and
 * nkept NULL), PRIVD_ENOTFOUND (no such subject), PRIVD_EDENIED,
 * PRIVD_ERETAINED (see above), PRIVD_ETOOBIG, PRIVD_EHANDSHAKE,
 * PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT (the delete may or may not have
 * happened), PRIVD_EPROTO (also for more than 256 fields kept),
 * PRIVD_ENOMEM, PRIVD_EINTERNAL.
 */
int privd_delete_ex(privd_client *c, const char *reg, const char *subject,
    const char *purpose, const char *const *names, size_t n, uint32_t *deleted,
    privd_retained **kept, size_t *nkept);

/* Free a record, wiping its names and values first, and set *r to NULL.
 * NULL-safe. */
void privd_record_free(privd_record **r);

/*
 * Policy administration. These calls need the role policy_admin in the
 * policy in force; without it they fail with PRIVD_EDENIED and
 * privd_reason() == PRIVD_REASON_ROLE_REQUIRED, or
 * PRIVD_REASON_UNKNOWN_PRINCIPAL for a key the policy does not name. They need
 * no purpose.
 */

/* One version of the policy: when it was applied and by whom. */
typedef struct privd_policy_version {
	uint64_t version;       /* 1 for the policy given to `privd init` */
	char applied_by[65];    /* principal name, or "privd init" */
	uint64_t applied_at_us; /* microseconds since the Unix epoch, UTC */
} privd_policy_version;

/*
 * Read the policy in force. version (may be NULL) receives its version,
 * who applied it and when. *json receives its document exactly as applied,
 * NUL-terminated, in memory owned by the caller (free with privd_free());
 * json may be NULL if only the version is wanted. On failure *json is NULL.
 * The same as privd_policy_get_version(c, 0, version, json).
 * Errors: PRIVD_EINVAL (c NULL), PRIVD_EDENIED (reason
 * PRIVD_REASON_ROLE_REQUIRED without policy_admin), PRIVD_ETOOBIG,
 * PRIVD_EHANDSHAKE, PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT, PRIVD_EPROTO (also
 * an answer without the version), PRIVD_ENOMEM, PRIVD_EINTERNAL.
 */
int privd_policy_get(
    privd_client *c, privd_policy_version *version, char **json);

/*
 * Read policy version `version` (0: the version in force), any version
 * ever applied (privd_policy_history() lists them). info and json as for
 * privd_policy_get(): info (may be NULL) receives the version, who applied
 * it and when; *json (json may be NULL) its document exactly as applied,
 * owned by the caller (free with privd_free()), NULL on failure.
 * Errors: PRIVD_EINVAL (c NULL), PRIVD_ENOTFOUND (no such version),
 * PRIVD_EDENIED (reason PRIVD_REASON_ROLE_REQUIRED without policy_admin),
 * PRIVD_ETOOBIG, PRIVD_EHANDSHAKE, PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT,
 * PRIVD_EPROTO (also an answer without the version, or about another
 * version than the one asked for), PRIVD_ENOMEM, PRIVD_EINTERNAL.
 */
int privd_policy_get_version(
    privd_client *c, uint64_t version, privd_policy_version *info, char **json);

/* Flags of privd_policy_apply_ex() and privd_policy_apply_flags(). */
#define PRIVD_APPLY_FORCE                                                      \
	0x1u /* apply even if the document takes the role                      \
	        policy_admin from the caller itself */

/* What privd_policy_apply_ex() answers. */
typedef struct privd_apply_result {
	uint64_t version; /* the version in force after the call */
	int unchanged;    /* see privd_policy_apply_ex() */
	/* stored subjects privd re-plans in the background because the new
	 * version changes a register's retention rules or a field's
	 * category: when each of their fields falls due (a shortened period
	 * applies to data stored before); 0 if nothing falls due
	 * differently, and whenever unchanged is set */
	uint64_t replan_subjects;
} privd_apply_result;

/*
 * Replace the policy in force by the document json (NUL-terminated), which
 * privd validates completely first. replaces_version is the version it
 * replaces: privd refuses the change if another version is in force by
 * then, so that two admins cannot silently overwrite each other. The
 * library keeps no reference to json.
 * privd refuses (PRIVD_EINVAL, nothing changed, privd_errmsg() says
 * "$.principals: ...") a document that leaves no principal with the role
 * policy_admin, since nobody could change the policy again; and one that
 * takes that role from the caller itself, unless flags has
 * PRIVD_APPLY_FORCE. flags: 0 or PRIVD_APPLY_FORCE.
 * On success *out (may be NULL) receives the version in force after the
 * call, how many subjects privd re-plans (privd_apply_result), and in
 * out->unchanged which case it was:
 * - 0: the new version (replaces_version + 1), in force for every later
 *   request and connection; requests already being decided finish under
 *   the old one. Until a subject is re-planned, privd's sweeper still
 *   acts on none of its fields before the new version's rules allow; only
 *   a due time the new version brings forward waits for the re-plan;
 * - 1: the document equals, as JSON (member order and whitespace aside),
 *   the one in force: nothing is stored, out->version is
 *   replaces_version, which stays in force.
 * On failure *out is zeroed.
 * Errors: PRIVD_EINVAL (c NULL, replaces_version 0, unknown flags, json
 * NULL or empty, or a document that is invalid or refused as above:
 * privd_errmsg() says "JSON path: reason"), PRIVD_ECONFLICT
 * (replaces_version is not the version in force; get the policy again,
 * merge and retry), PRIVD_ETOOBIG (larger than the request limit),
 * PRIVD_EDENIED (reason PRIVD_REASON_ROLE_REQUIRED without policy_admin),
 * PRIVD_EHANDSHAKE, PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT (the change may or
 * may not have happened: privd_policy_get() tells), PRIVD_EPROTO (an
 * answer with an impossible version, or subjects to re-plan for an
 * unchanged document), PRIVD_ENOMEM, PRIVD_EINTERNAL.
 */
int privd_policy_apply_ex(privd_client *c, uint64_t replaces_version,
    const char *json, unsigned flags, privd_apply_result *out);

/*
 * privd_policy_apply_ex() without the number of subjects re-planned:
 * *version and *unchanged (each may be NULL; 0 on failure) receive
 * out->version and out->unchanged.
 * Errors: those of privd_policy_apply_ex(): PRIVD_EINVAL, PRIVD_ECONFLICT,
 * PRIVD_ETOOBIG, PRIVD_EDENIED, PRIVD_EHANDSHAKE, PRIVD_EUNAVAILABLE,
 * PRIVD_ETIMEOUT, PRIVD_EPROTO, PRIVD_ENOMEM, PRIVD_EINTERNAL.
 */
int privd_policy_apply_flags(privd_client *c, uint64_t replaces_version,
    const char *json, unsigned flags, uint64_t *version, int *unchanged);

/*
 * privd_policy_apply_flags(c, replaces_version, json, 0, new_version,
 * NULL): without force, and without saying whether anything changed (an
 * unchanged document gives *new_version == replaces_version).
 * Errors: those of privd_policy_apply_ex(): PRIVD_EINVAL, PRIVD_ECONFLICT,
 * PRIVD_ETOOBIG, PRIVD_EDENIED, PRIVD_EHANDSHAKE, PRIVD_EUNAVAILABLE,
 * PRIVD_ETIMEOUT, PRIVD_EPROTO, PRIVD_ENOMEM, PRIVD_EINTERNAL.
 */
int privd_policy_apply(privd_client *c, uint64_t replaces_version,
    const char *json, uint64_t *new_version);

/*
 * List every policy version ever applied, oldest first. On PRIVD_OK
 * *versions is an array of *n entries owned by the caller (free with
 * privd_free()); on failure *versions is NULL and *n is 0.
 * Errors: PRIVD_EINVAL (c, versions or n NULL), PRIVD_EDENIED (reason
 * PRIVD_REASON_ROLE_REQUIRED without policy_admin), PRIVD_ETOOBIG,
 * PRIVD_EHANDSHAKE, PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT, PRIVD_EPROTO (also
 * for an answer of more than 1000000 versions, or a version missing),
 * PRIVD_ENOMEM, PRIVD_EINTERNAL.
 */
int privd_policy_history(
    privd_client *c, privd_policy_version **versions, size_t *n);

/* The request id of the last request this handle sent (0 if none): the
 * request_id of its audit event, to find one's own requests in the log. */
uint64_t privd_last_request_id(const privd_client *c);

/* Free memory that a privd_* call handed to the caller with the words
 * "free with privd_free()". NULL-safe. */
void privd_free(void *p);

/* Find a field in a record by name; NULL if absent. Valid as long as r. */
const privd_field *privd_record_field(const privd_record *r, const char *name);

/* A static, human-readable description of a status code. */
const char *privd_strerror(int status);

/* privd's message about the last failed call on this handle ("" if none).
 * Valid until the next call on the handle. Never contains personal data.
 * A message from privd is printable UTF-8: the library turns each byte of
 * it that is not part of a printable character into '?'. */
const char *privd_errmsg(const privd_client *c);

/* For PRIVD_EDENIED: the deny reason of the last call (a PRIVD_REASON_*;
 * PRIVD_REASON_NONE if it was not denied, or c is NULL). */
int privd_reason(const privd_client *c);

/* The name of a deny reason as privd.proto spells it, e.g.
 * "unknown_field" for PRIVD_REASON_UNKNOWN_FIELD; "other" for a number
 * this library does not know. Static. */
const char *privd_reason_name(int reason);

#ifdef __cplusplus
}
#endif

/* The audit log: queries, checkpoints, verification, pruning. */
#include <privd/audit.h>
/* Retention, legal holds and reporting. */
#include <privd/retention.h>
/* Data subject rights: restriction, objection, erasure, lookup, export. */
#include <privd/rights.h>
/* Backups and the erasure journal. */
#include <privd/backup.h>

#endif /* PRIVD_CLIENT_H */
