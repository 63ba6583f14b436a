/*
 * test_rights_lookup.c - finding a person (issue 10: SubjectLookup) under
 * the example policy (policy/examples/aktiivitieto.json), whose customers
 * and acis registers both mark email and phone `lookup`:
 *   - an email address finds the person in both registers, whatever its
 *     case; a phone number in any of the ways people write it; an unknown
 *     value finds nobody (OK, no matches); another person is not found;
 *   - the index follows the data: a rectified email is found under the
 *     new value only, a deleted field or subject is not found, nor an
 *     erased person;
 *   - no lookup value is in any file of the data directory, nor an
 *     unkeyed hash of its normalised form (BLAKE2b, SHA-256);
 *   - refusals: a principal without subject_rights (DENIED,
 *     role_required), a field no register marks lookup, an empty value, a
 *     phone number without digits (INVALID); each is audited, as is every
 *     lookup (op subject_lookup, the field's name, never the value);
 *   - privctl subject lookup --email / --phone / --field, the value from
 *     stdin with "-";
 *   - a store made before the index (no blind databases, no
 *     "blind_index" mark; made from a new one with privd stopped) is
 *     indexed when privd starts on it, once.
 *
 * A real privd over CURVE on a real LMDB store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lmdb.h>
#include <sodium.h>

#include <privd/rights.h>

#include "rights_common.h"

#define MAIJA_EMAIL "Maija.Meikalainen@Example.fi"
#define MAIJA_PHONE "040 123 4567"

/* Maija in customers as p-1 and in acis as a-77; Kaisa (put_cust) as
 * p-2. */
static void
put_people(harness *h)
{
	privd_client *crm = client(h, "crm"), *acis = client(h, "acis");
	privd_field cf[] = {h_field("name", "Maija Meikäläinen"),
	    h_field("email", MAIJA_EMAIL), h_field("phone", MAIJA_PHONE)};
	privd_field af[] = {h_field("name", "Maija Meikäläinen"),
	    h_field("email", "maija.meikalainen@example.fi"),
	    h_field("phone", "+358-40-123 4567")};

	expect_rc(crm, privd_put(crm, CUST, "p-1", CR, cf, 3), PRIVD_OK,
	    "crm put p-1");
	expect_rc(acis, privd_put(acis, ACIS, "a-77", ST_P, af, 3), PRIVD_OK,
	    "acis put a-77");
	privd_close(&crm);
	privd_close(&acis);
	put_cust(h, "p-2", false);
}

/* Look field = value up as RIGHTS; the matches as "reg/subject,..." in
 * want ("" none). */
static void
expect_lookup(
    harness *h, const char *field, const char *value, const char *want)
{
	privd_client *c = client(h, RIGHTS);
	privd_match *m = NULL;
	char got[1024] = "";
	size_t i, n = 0;

	expect_rc(c,
	    privd_subject_lookup(c, field, value, strlen(value), &m, &n),
	    PRIVD_OK, "lookup");
	for (i = 0; i < n; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got),
		    "%s%s/%s", i ? "," : "", m[i].reg, m[i].subject);
	privd_matches_free(&m, n);
	assert_null(m);
	privd_close(&c);
	if (strcmp(got, want) != 0)
		fail_msg(
		    "lookup %s: expected [%s], got [%s]", field, want, got);
}

/* The subject_lookup events in the log, as the auditor reads them: n of
 * them, their decisions in order into dec (at most 16). */
static size_t
lookup_events(harness *h, int *dec, size_t max)
{
	privd_client *a = client(h, "auditor");
	privd_audit_filter f = {0};
	privd_audit_page *pg = NULL;
	const char *ops[] = {"subject_lookup"};
	size_t i, n;

	f.ops = ops;
	f.nops = 1;
	expect_rc(
	    a, privd_audit_query(a, &f, NULL, 0, &pg), PRIVD_OK, "audit query");
	n = pg->n;
	for (i = 0; i < n; i++) {
		assert_string_equal(pg->events[i].principal,
		    pg->events[i].decision == PRIVD_DECISION_REFUSED ? "crm"
		                                                     : RIGHTS);
		/* the field's name, never the value */
		if (pg->events[i].decision == PRIVD_DECISION_ALLOWED) {
			assert_int_equal(pg->events[i].nfields, 1);
		}
		if (i < max)
			dec[i] = pg->events[i].decision;
	}
	privd_audit_page_free(&pg);
	privd_close(&a);
	return n;
}

static void
test_finds_both_registers(void **state)
{
	harness *h = *state;

	put_people(h);
	expect_lookup(h, "email", "MAIJA.MEIKALAINEN@EXAMPLE.FI",
	    "acis/a-77,customers/p-1");
	expect_lookup(h, "email", MAIJA_EMAIL, "acis/a-77,customers/p-1");
	expect_lookup(h, "email", "kaisa.asiakas@example.fi", "customers/p-2");
	expect_lookup(h, "email", "nobody@example.fi", "");
	/* the same number, written as people write it */
	expect_lookup(h, "phone", "+358401234567", "acis/a-77,customers/p-1");
	expect_lookup(
	    h, "phone", "00358 40 123 4567", "acis/a-77,customers/p-1");
	expect_lookup(h, "phone", "(040) 123-4567", "acis/a-77,customers/p-1");
	expect_lookup(h, "phone", "+358 40 765 4321", "customers/p-2");
	expect_lookup(h, "phone", "+46 40 123 4567", "");
	/* every lookup is audited, by field name */
	{
		int dec[16];

		assert_int_equal(lookup_events(h, dec, 16), 9);
	}
}

static void
test_follows_changes(void **state)
{
	harness *h = *state;
	privd_client *crm;
	privd_field nf[] = {h_field("email", "maija@uusi.example.fi")};
	const char *email[] = {"email"};
	Privd__V1__Response *r;

	put_people(h);
	/* rectified: the old address finds only acis, the new one p-1 */
	crm = client(h, "crm");
	expect_rc(
	    crm, privd_put(crm, CUST, "p-1", CR, nf, 1), PRIVD_OK, "rectify");
	expect_lookup(h, "email", MAIJA_EMAIL, "acis/a-77");
	expect_lookup(h, "email", "MAIJA@uusi.example.fi", "customers/p-1");
	/* the same value again changes nothing */
	expect_rc(
	    crm, privd_put(crm, CUST, "p-1", CR, nf, 1), PRIVD_OK, "put again");
	expect_lookup(h, "email", "maija@uusi.example.fi", "customers/p-1");
	/* a deleted field is not found; the phone still is */
	expect_rc(crm, privd_delete(crm, CUST, "p-1", CR, email, 1, NULL),
	    PRIVD_OK, "delete email");
	expect_lookup(h, "email", "maija@uusi.example.fi", "");
	expect_lookup(h, "phone", MAIJA_PHONE, "acis/a-77,customers/p-1");
	/* a whole-subject delete: gone */
	expect_rc(crm, privd_delete(crm, CUST, "p-2", CR, NULL, 0, NULL),
	    PRIVD_OK, "delete p-2");
	expect_lookup(h, "email", "kaisa.asiakas@example.fi", "");
	privd_close(&crm);
	/* an erasure of a-77 in acis: nothing left there, not found */
	{
		static const char *const only_acis[] = {ACIS};

		r = erase_raw(h, RIGHTS, "a-77", only_acis, 1);
		expect_status(r, ST(OK), 0, "erase a-77");
		privd__v1__response__free_unpacked(r, NULL);
	}
	expect_lookup(h, "phone", MAIJA_PHONE, "customers/p-1");
	/* restarted, the index is what was committed */
	assert_int_equal(h_restart(h), 0);
	expect_lookup(h, "phone", MAIJA_PHONE, "customers/p-1");
	expect_lookup(h, "email", MAIJA_EMAIL, "");
}

static void
hex(const uint8_t *p, size_t n, char *out)
{
	static const char x[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = x[p[i] >> 4];
		out[2 * i + 1] = x[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static void
test_no_plaintext(void **state)
{
	harness *h = *state;
	const char *plain[] = {MAIJA_EMAIL, "maija.meikalainen@example.fi",
	    "Meikalainen", MAIJA_PHONE, "+358401234567", "401234567"};
	h_needle nd[6 * 5];
	uint8_t digests[6][2][32];
	char hexes[6][2][65];
	size_t i, n = 0;

	put_people(h);
	expect_lookup(h, "email", MAIJA_EMAIL, "acis/a-77,customers/p-1");
	for (i = 0; i < 6; i++) {
		nd[n++] = (h_needle){plain[i], strlen(plain[i]), plain[i]};
		crypto_generichash(digests[i][0], 32, (const uint8_t *)plain[i],
		    strlen(plain[i]), NULL, 0);
		crypto_hash_sha256(
		    digests[i][1], (const uint8_t *)plain[i], strlen(plain[i]));
		nd[n++] = (h_needle){digests[i][0], 32, "unkeyed BLAKE2b"};
		nd[n++] = (h_needle){digests[i][1], 32, "SHA-256"};
		hex(digests[i][0], 32, hexes[i][0]);
		hex(digests[i][1], 32, hexes[i][1]);
		nd[n++] = (h_needle){hexes[i][0], 64, "unkeyed BLAKE2b, hex"};
		nd[n++] = (h_needle){hexes[i][1], 64, "SHA-256, hex"};
	}
	assert_int_equal(h_stop(h, H_STOP_TIMEOUT_MS, NULL), 0);
	assert_int_equal(h_scan_dir(h->data_dir, nd, n), 0);
	assert_int_equal(h_scan_file(h->log, nd, n), 0);
}

static void
test_refusals(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "crm"), *d = client(h, RIGHTS);
	privd_match *m = NULL;
	size_t n = 7;
	int rc;

	put_people(h);
	rc = privd_subject_lookup(
	    c, "email", MAIJA_EMAIL, strlen(MAIJA_EMAIL), &m, &n);
	expect_denied(c, rc, R_ROLE_REQUIRED, "lookup as crm");
	assert_null(m);
	assert_int_equal(n, 0);
	/* name is not marked lookup; no register has "shoe_size" */
	expect_rc(d, privd_subject_lookup(d, "name", "Maija", 5, &m, &n),
	    PRIVD_EINVAL, "lookup by name");
	assert_non_null(strstr(privd_errmsg(d), "not a lookup field"));
	assert_null(strstr(privd_errmsg(d), "Maija"));
	expect_rc(d, privd_subject_lookup(d, "shoe_size", "42", 2, &m, &n),
	    PRIVD_EINVAL, "lookup by an unknown field");
	expect_rc(d, privd_subject_lookup(d, "phone", "--", 2, &m, &n),
	    PRIVD_EINVAL, "a phone number without digits");
	expect_rc(d, privd_subject_lookup(d, "email", "x", 0, &m, &n),
	    PRIVD_EINVAL, "an empty value");
	assert_null(m);
	privd_close(&c);
	privd_close(&d);
	/* privd is still serving, and still finds her */
	expect_lookup(h, "email", MAIJA_EMAIL, "acis/a-77,customers/p-1");
	{
		int dec[16];
		size_t i;

		/* crm's refusal and three INVALID (the empty value is
		 * refused by libprivd before any request), then the last */
		assert_int_equal(lookup_events(h, dec, 16), 5);
		assert_int_equal(dec[0], PRIVD_DECISION_REFUSED);
		for (i = 1; i < 4; i++)
			assert_int_equal(dec[i], PRIVD_DECISION_REJECTED);
		assert_int_equal(dec[4], PRIVD_DECISION_ALLOWED);
	}
}

static void
test_privctl(void **state)
{
	harness *h = *state;
	h_result r;
	char cmd[4096];
	const char *email[] = {"subject", "lookup", "--email",
	    "MAIJA.MEIKALAINEN@example.fi", NULL};
	const char *phone[] = {
	    "--json", "subject", "lookup", "--phone", "040-1234567", NULL};
	const char *none[] = {
	    "subject", "lookup", "--email", "nobody@example.fi", NULL};
	const char *two[] = {
	    "subject", "lookup", "--email", "a@b.fi", "--phone", "0401", NULL};
	const char *sh[] = {"/bin/sh", "-c", cmd, NULL};

	put_people(h);
	privctl_expect(h, RIGHTS, email, &r, 0, "lookup --email");
	assert_string_equal(r.out, "acis a-77\ncustomers p-1\n");
	privctl_expect(h, RIGHTS, phone, &r, 0, "lookup --phone --json");
	assert_non_null(strstr(r.out, "\"matches\""));
	assert_non_null(strstr(r.out, "\"a-77\""));
	assert_non_null(strstr(r.out, "\"p-1\""));
	privctl_expect(h, RIGHTS, none, &r, 0, "lookup, nobody");
	assert_string_equal(r.out, "");
	privctl_expect(h, RIGHTS, two, &r, 2, "two kinds of value");
	/* the value from stdin, kept off the command line */
	snprintf(cmd, sizeof(cmd),
	    "printf 'maija.meikalainen@example.fi\\n' | '%s' --endpoint '%s' "
	    "--key '%s/%s.key' --server-key '%s' subject lookup --field "
	    "email -",
	    h->privctl_bin, h->endpoint, h->root, RIGHTS, h->server_key);
	run_expect(h, sh, &r, 0, "lookup --field email -");
	assert_string_equal(r.out, "acis a-77\ncustomers p-1\n");
}

/* Make the stopped privd's store look like one from before the index. */
static void
make_unindexed(harness *h)
{
	static const char *const dbs[] = {"blind", "blind_of"};
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {strlen("blind_index"), "blind_index"};
	size_t i;

	assert_int_equal(h_stop(h, H_STOP_TIMEOUT_MS, NULL), 0);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
	assert_int_equal(mdb_env_open(env, h->data_dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(mdb_dbi_open(txn, dbs[i], 0, &dbi), 0);
		assert_int_equal(mdb_drop(txn, dbi, 1), 0);
	}
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	assert_int_equal(mdb_del(txn, dbi, &k, NULL), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void
test_old_store_indexed(void **state)
{
	harness *h = *state;
	size_t from;

	put_people(h);
	make_unindexed(h);
	from = h_log_size(h);
	assert_int_equal(h_start(h, ret_serve_args), 0);
	assert_int_equal(
	    h_log_wait(h, from, "lookup index: built, 3 subjects indexed", 1,
	        H_READY_TIMEOUT_MS),
	    1);
	expect_lookup(h, "email", MAIJA_EMAIL, "acis/a-77,customers/p-1");
	expect_lookup(h, "phone", "+358 40 765 4321", "customers/p-2");
	/* once: the next start has nothing to do */
	from = h_log_size(h);
	assert_int_equal(h_restart(h), 0);
	expect_lookup(h, "email", MAIJA_EMAIL, "acis/a-77,customers/p-1");
	assert_int_equal(h_log_count(h, from, "lookup index:"), 0);
}

/* The policy in force with text old replaced by new (once at least). */
static char *
policy_edit(harness *h, const char *old, const char *new, uint64_t *version)
{
	privd_client *c = client(h, RIGHTS);
	privd_policy_version v;
	char *json = NULL, *out, *p;
	size_t ol = strlen(old), nl = strlen(new), n = 0;

	expect_rc(c, privd_policy_get(c, &v, &json), PRIVD_OK, "policy get");
	*version = v.version;
	privd_close(&c);
	out = calloc(1, strlen(json) * 2 + 1);
	assert_non_null(out);
	for (p = json; *p != '\0';) {
		if (strncmp(p, old, ol) == 0) {
			memcpy(out + strlen(out), new, nl);
			p += ol;
			n++;
		} else {
			out[strlen(out)] = *p++;
		}
	}
	assert_true(n > 0);
	free(json);
	return out;
}

static void
apply(harness *h, const char *json, uint64_t replaces)
{
	privd_client *c = client(h, RIGHTS);

	expect_rc(c, privd_policy_apply(c, replaces, json, NULL), PRIVD_OK,
	    "policy apply");
	privd_close(&c);
}

/*
 * A policy change to lookup fields rebuilds the index from the values:
 * customers' email and phone no longer lookup, then lookup again; a value
 * rectified in between is found under its new value only, and the old
 * one nowhere.
 */
static void
test_policy_change_rebuilds(void **state)
{
	harness *h = *state;
	privd_client *crm;
	privd_field nf[] = {h_field("email", "maija@uusi.example.fi")};
	char *off, *on;
	uint64_t v;
	size_t from;

	put_people(h);
	off = policy_edit(h, "\"lookup\": true, \"source\": \"subject\"",
	    "\"lookup\": false, \"source\": \"subject\"", &v);
	from = h_log_size(h);
	apply(h, off, v);
	assert_int_equal(
	    h_log_wait(h, from, "lookup index: built", 1, H_READY_TIMEOUT_MS),
	    1);
	expect_lookup(h, "email", MAIJA_EMAIL, "acis/a-77");
	crm = client(h, "crm");
	expect_rc(crm, privd_put(crm, CUST, "p-1", CR, nf, 1), PRIVD_OK,
	    "rectify while email is not a lookup field");
	privd_close(&crm);
	on = policy_edit(h, "\"lookup\": false, \"source\": \"subject\"",
	    "\"lookup\": true, \"source\": \"subject\"", &v);
	from = h_log_size(h);
	apply(h, on, v);
	assert_int_equal(
	    h_log_wait(h, from, "lookup index: built", 1, H_READY_TIMEOUT_MS),
	    1);
	expect_lookup(h, "email", MAIJA_EMAIL, "acis/a-77");
	expect_lookup(h, "email", "maija@uusi.example.fi", "customers/p-1");
	expect_lookup(h, "phone", MAIJA_PHONE, "acis/a-77,customers/p-1");
	free(off);
	free(on);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_finds_both_registers, ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_follows_changes, ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_no_plaintext, ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_refusals, ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_privctl, ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_old_store_indexed, ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_policy_change_rebuilds, ret_setup_example, h_teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name(
	    "integration/rights_lookup", tests, NULL, NULL);
}
