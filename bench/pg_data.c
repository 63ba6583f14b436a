/*
 * pg_data.c - the customers register as a careful team would keep it in
 * PostgreSQL: every value encrypted with pgcrypto under a key the client
 * sends with each call (never stored), subjects known only by a keyed
 * hash, access only through two PL/pgSQL functions that check a grant
 * and write one audit row per call in the caller's transaction. Also the
 * synthetic values (the same generator checks every reply) and the bulk
 * load.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pg.h"

const char *const pgb_field[PGB_NFIELDS] = {
    "name", "email", "phone", "organisation", "customer_type"};

/* Display form and the ASCII form used in e-mail addresses. */
static const char *const first[][2] = {{"Maija", "maija"}, {"Matti", "matti"},
    {"Aino", "aino"}, {"Eino", "eino"}, {"Helmi", "helmi"}, {"Väinö", "vaino"},
    {"Sofia", "sofia"}, {"Juhani", "juhani"}, {"Elli", "elli"},
    {"Mikael", "mikael"}, {"Anna-Liisa", "anna-liisa"}, {"Pekka", "pekka"},
    {"Ingrid", "ingrid"}, {"Lars", "lars"}, {"Søren", "soren"},
    {"Zofia", "zofia"}, {"Ana", "ana"}, {"João", "joao"}, {"Émilie", "emilie"},
    {"Jürgen", "jurgen"}, {"Giulia", "giulia"}, {"Niamh", "niamh"},
    {"Katarzyna", "katarzyna"}, {"Oskari", "oskari"}};
static const char *const last[][2] = {{"Meikäläinen", "meikalainen"},
    {"Virtanen", "virtanen"}, {"Korhonen", "korhonen"}, {"Mäkinen", "makinen"},
    {"Nieminen", "nieminen"}, {"Hämäläinen", "hamalainen"}, {"Laine", "laine"},
    {"Heikkinen", "heikkinen"}, {"Järvinen", "jarvinen"},
    {"Lehtonen", "lehtonen"}, {"Andersson", "andersson"},
    {"Nørgaard", "norgaard"}, {"Kowalski", "kowalski"},
    {"García López", "garcia.lopez"}, {"O'Brien", "obrien"},
    {"Müller", "muller"}, {"Rossi", "rossi"}, {"Dubois", "dubois"},
    {"van der Berg", "vanderberg"}, {"Salo", "salo"}};
static const char *const domains[] = {"example.fi", "example.com",
    "posti.example", "yritys.example.fi", "mail.example.org"};
static const char *const orgs[] = {"Suomen Aktiivitieto Oy", "Pohjolan Puu Oy",
    "Järvi & Koski Ky", "Tampereen Tilitoimisto Oy", "Nordic Freight AB",
    "Helsingin kaupunki", "Oulun Ohjelmisto Oy", "Kahvila Kulma",
    "Lapin Matkat Oy", "Itä-Suomen yliopisto", "Baltic Components SIA",
    "Vaasan Sähkö Oy"};
static const char *const types[] = {
    "private", "business", "public sector", "reseller"};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

void
pgb_subject_id(uint32_t subject, char *buf, size_t len)
{
	snprintf(buf, len, "customer-%08u", subject);
}

/*
 * The value of field for subject as loaded (gen 0) or as a put rewrites
 * it (gen 1). Only the put fields (name, email, phone) depend on gen.
 */
void
pgb_value(int field, uint32_t subject, int gen, char *buf, size_t len)
{
	uint32_t h = (subject + 0x9e3779b9u * (uint32_t)gen) * 2654435761u;
	uint32_t f = (h >> 7) % NELEM(first), l = (h >> 15) % NELEM(last);

	switch (field) {
	case 0:
		snprintf(buf, len, "%s %s", first[f][0], last[l][0]);
		break;
	case 1:
		snprintf(buf, len, "%s.%s%u@%s", first[f][1], last[l][1],
		    subject % 1000, domains[(h >> 3) % NELEM(domains)]);
		break;
	case 2:
		snprintf(buf, len, "+358 4%u %03u %04u", (h >> 28) % 10,
		    (h >> 10) % 1000, h % 10000);
		break;
	case 3:
		snprintf(buf, len, "%s", orgs[subject % NELEM(orgs)]);
		break;
	default:
		snprintf(buf, len, "%s", types[(subject / 7) % NELEM(types)]);
		break;
	}
}

/* Whether got is what the register may hold for field of subject now:
 * the loaded value, or for a put field the value a put writes. */
bool
pgb_value_ok(int field, uint32_t subject, const char *got)
{
	char want[128];

	pgb_value(field, subject, 0, want, sizeof(want));
	if (strcmp(got, want) == 0)
		return true;
	if (field >= PGB_NPUT_FIELDS)
		return false;
	pgb_value(field, subject, 1, want, sizeof(want));
	return strcmp(got, want) == 0;
}

/* SQL errors during set-up come from our own statements: the primary
 * message names no value. */
static int
exec_ok(PGconn *c, const char *sql, const char *what)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);
	const char *msg;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		PQclear(r);
		return 0;
	}
	if (!pgb_interrupted) {
		msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
		fprintf(stderr, "privd-bench-pg: %s: %s\n", what,
		    msg ? msg : PQerrorMessage(c));
	}
	PQclear(r);
	return -1;
}

/*
 * The schema. customers holds one row per subject: the HMAC-SHA256 of
 * the subject id as key and each field as an OpenPGP message. Its primary
 * key is added after the load. audit is append-only, indexed by subject
 * (to answer a subject's access request) and by time (BRIN, nearly free
 * on an append-only table). The functions run as their owner (SECURITY
 * DEFINER, pinned search_path) and the login role PGB_ROLE may execute
 * them and nothing else, so no read escapes the grant check or the audit.
 */
/* ", the OpenPGP message of field f of a put", inside VALUES (...). */
#define ENC(f)                                                                 \
	",\n    pgp_sym_encrypt(p_values[array_position(p_fields, '" f "')], " \
	"p_key, '" PGB_PGP_OPTS "')"

static const char schema_sql[] =
    "CREATE TABLE customers (subject bytea NOT NULL, name bytea, "
    "  email bytea, phone bytea, organisation bytea, customer_type bytea);\n"
    "CREATE TABLE grants (principal text, register text, purpose text,"
    "  fields text[] NOT NULL, PRIMARY KEY (principal, register, purpose));\n"
    "INSERT INTO grants VALUES ('" PGB_PRINCIPAL "', 'customers', "
    "  '" PGB_PURPOSE "', '{name,email,phone,organisation,customer_type}');\n"
    "CREATE TABLE audit (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  at timestamptz NOT NULL DEFAULT clock_timestamp(),"
    "  principal text NOT NULL, op text NOT NULL, register text NOT NULL,"
    "  subject bytea NOT NULL, fields text[] NOT NULL,"
    "  purpose text NOT NULL);\n"
    "CREATE INDEX audit_subject ON audit (subject);\n"
    "CREATE INDEX audit_at ON audit USING brin (at);\n"

    "CREATE FUNCTION get_subject(p_key text, p_subject bytea,"
    "  p_principal text, p_purpose text, p_fields text[])\n"
    "RETURNS TABLE (field text, value text) LANGUAGE plpgsql\n"
    "SECURITY DEFINER SET search_path = public, pg_temp AS $$\n"
    "DECLARE\n"
    "  r customers%ROWTYPE;\n"
    "  f text;\n"
    "BEGIN\n"
    "  PERFORM 1 FROM grants g WHERE g.principal = p_principal\n"
    "    AND g.register = 'customers' AND g.purpose = p_purpose\n"
    "    AND g.fields @> p_fields;\n"
    "  IF NOT FOUND THEN\n"
    "    RAISE EXCEPTION 'not authorised' USING ERRCODE = "
    "'insufficient_privilege';\n"
    "  END IF;\n"
    "  INSERT INTO audit (principal, op, register, subject, fields, purpose)\n"
    "    VALUES (p_principal, 'get', 'customers', p_subject, p_fields,"
    "    p_purpose);\n"
    "  SELECT * INTO r FROM customers c WHERE c.subject = p_subject;\n"
    "  IF NOT FOUND THEN\n"
    "    RETURN;\n"
    "  END IF;\n"
    "  FOREACH f IN ARRAY p_fields LOOP\n"
    "    field := f;\n"
    "    value := pgp_sym_decrypt(CASE f WHEN 'name' THEN r.name\n"
    "      WHEN 'email' THEN r.email WHEN 'phone' THEN r.phone\n"
    "      WHEN 'organisation' THEN r.organisation\n"
    "      WHEN 'customer_type' THEN r.customer_type END, p_key);\n"
    "    RETURN NEXT;\n"
    "  END LOOP;\n"
    "END $$;\n"

    "CREATE FUNCTION put_subject(p_key text, p_subject bytea,"
    "  p_principal text, p_purpose text, p_fields text[], p_values text[])\n"
    "RETURNS integer LANGUAGE plpgsql\n"
    "SECURITY DEFINER SET search_path = public, pg_temp AS $$\n"
    "BEGIN\n"
    "  PERFORM 1 FROM grants g WHERE g.principal = p_principal\n"
    "    AND g.register = 'customers' AND g.purpose = p_purpose\n"
    "    AND g.fields @> p_fields;\n"
    "  IF NOT FOUND THEN\n"
    "    RAISE EXCEPTION 'not authorised' USING ERRCODE = "
    "'insufficient_privilege';\n"
    "  END IF;\n"
    "  IF cardinality(p_fields) <> cardinality(p_values) THEN\n"
    "    RAISE EXCEPTION 'fields and values differ in number';\n"
    "  END IF;\n"
    "  INSERT INTO customers AS c (subject, name, email, phone,"
    "    organisation, customer_type)\n"
    "  VALUES (p_subject" ENC("name") ENC("email") ENC("phone") ENC("organisati"
                                                                    "on")
        ENC("customer_type") ")\n"
                             "  ON CONFLICT (subject) DO UPDATE SET\n"
                             "    name = coalesce(excluded.name, c.name),\n"
                             "    email = coalesce(excluded.email, c.email),\n"
                             "    phone = coalesce(excluded.phone, c.phone),\n"
                             "    organisation = "
                             "coalesce(excluded.organisation, "
                             "c.organisation),\n"
                             "    customer_type = "
                             "coalesce(excluded.customer_type, "
                             "c.customer_type);\n"
                             "  INSERT INTO audit (principal, op, register, "
                             "subject, fields, purpose)\n"
                             "    VALUES (p_principal, 'put', 'customers', "
                             "p_subject, p_fields,"
                             "    p_purpose);\n"
                             "  RETURN cardinality(p_fields);\n"
                             "END $$;\n"

                             "REVOKE ALL ON FUNCTION get_subject, put_subject "
                             "FROM "
                             "PUBLIC;\n"
                             "CREATE ROLE " PGB_ROLE " LOGIN;\n"
                             "GRANT EXECUTE ON FUNCTION get_subject, "
                             "put_subject "
                             "TO " PGB_ROLE ";\n";

/*
 * Creates pgcrypto and the schema. Returns 0 or -1; *no_pgcrypto is set
 * when the extension itself is missing (the run is then skipped).
 */
int
pgb_schema(PGconn *c, bool *no_pgcrypto)
{
	*no_pgcrypto = false;
	if (exec_ok(c, "CREATE EXTENSION pgcrypto", "CREATE EXTENSION") != 0) {
		*no_pgcrypto = true;
		return -1;
	}
	/* pgcrypto's functions stay executable by PUBLIC: harmless, they
	 * touch no table. */
	return exec_ok(c, schema_sql, "schema");
}

/* COPY text format: the generated values hold no tab, newline or
 * backslash, but escape them anyway. */
static size_t
copy_field(char *dst, const char *src)
{
	size_t n = 0;

	for (; *src != '\0'; src++) {
		if (*src == '\t' || *src == '\n' || *src == '\\' ||
		    *src == '\r')
			dst[n++] = '\\';
		dst[n++] = *src == '\t'   ? 't'
		           : *src == '\n' ? 'n'
		           : *src == '\r' ? 'r'
		                          : *src;
	}
	return n;
}

typedef struct loader {
	const pgb_server *s;
	const pgb_keys *k;
	uint32_t lo, hi; /* subjects [lo, hi) */
	int rc;
} loader;

/*
 * One loader connection: COPY the plaintext of its range into a
 * temporary table of its own session, then encrypt and hash it into
 * customers in one INSERT ... SELECT. The plaintext never reaches a
 * durable table.
 */
static void *
load_range(void *arg)
{
	loader *ld = arg;
	PGconn *c;
	PGresult *r;
	char *buf, val[128];
	const char *params[2] = {ld->k->enc, ld->k->mac};
	size_t cap = 1 << 18, n = 0;
	uint32_t i;
	int f;

	ld->rc = -1;
	if ((c = pgb_connect(ld->s, "postgres")) == NULL)
		return NULL;
	if ((buf = malloc(cap)) == NULL)
		goto out;
	if (exec_ok(c,
	        "CREATE TEMP TABLE plain (id text, name text, email text, "
	        "phone text, organisation text, customer_type text)",
	        "CREATE TEMP TABLE") != 0)
		goto out;
	r = PQexec(c, "COPY plain FROM STDIN");
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		PQclear(r);
		goto out;
	}
	PQclear(r);
	for (i = ld->lo; i < ld->hi && !pgb_interrupted; i++) {
		if (cap - n < 1024) {
			if (PQputCopyData(c, buf, (int)n) != 1)
				goto out;
			n = 0;
		}
		pgb_subject_id(i, val, sizeof(val));
		n += copy_field(buf + n, val);
		for (f = 0; f < PGB_NFIELDS; f++) {
			buf[n++] = '\t';
			pgb_value(f, i, 0, val, sizeof(val));
			n += copy_field(buf + n, val);
		}
		buf[n++] = '\n';
	}
	if ((n > 0 && PQputCopyData(c, buf, (int)n) != 1) ||
	    PQputCopyEnd(c, pgb_interrupted ? "interrupted" : NULL) != 1)
		goto out;
	r = PQgetResult(c);
	f = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	while ((r = PQgetResult(c)) != NULL)
		PQclear(r);
	if (!f)
		goto out;
	r = PQexecParams(c,
	    "INSERT INTO customers SELECT hmac(id, $2, 'sha256'),"
	    " pgp_sym_encrypt(name, $1, '" PGB_PGP_OPTS "'),"
	    " pgp_sym_encrypt(email, $1, '" PGB_PGP_OPTS "'),"
	    " pgp_sym_encrypt(phone, $1, '" PGB_PGP_OPTS "'),"
	    " pgp_sym_encrypt(organisation, $1, '" PGB_PGP_OPTS "'),"
	    " pgp_sym_encrypt(customer_type, $1, '" PGB_PGP_OPTS "')"
	    " FROM plain",
	    2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_COMMAND_OK)
		ld->rc = 0;
	else if (!pgb_interrupted)
		fprintf(stderr, "privd-bench-pg: load: %s\n",
		    PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
	PQclear(r);
out:
	free(buf);
	PQfinish(c);
	return NULL;
}

/*
 * Loads subjects 0..n-1, one loader per CPU (at most 4), then adds the
 * primary key, vacuums (hint bits and visibility map set now, not by the
 * first timed reads), analyzes and checkpoints, so the phases start from
 * a settled store as an operator's would be after a bulk import.
 */
int
pgb_load(const pgb_server *s, const pgb_keys *k, uint32_t n)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int nl = ncpu < 1 ? 1 : ncpu > 4 ? 4 : (int)ncpu, i, rc = 0;
	pthread_t t[4];
	loader ld[4];
	PGconn *c;

	for (i = 0; i < nl; i++) {
		ld[i].s = s;
		ld[i].k = k;
		ld[i].lo = (uint32_t)((uint64_t)n * i / nl);
		ld[i].hi = (uint32_t)((uint64_t)n * (i + 1) / nl);
		if (pthread_create(&t[i], NULL, load_range, &ld[i]) != 0) {
			ld[i].rc = -1;
			nl = i;
			rc = -1;
		}
	}
	for (i = 0; i < nl; i++) {
		pthread_join(t[i], NULL);
		if (ld[i].rc != 0)
			rc = -1;
	}
	if (rc != 0 || (c = pgb_connect(s, "postgres")) == NULL)
		return -1;
	if (exec_ok(c, "ALTER TABLE customers ADD PRIMARY KEY (subject)",
	        "primary key") != 0 ||
	    exec_ok(c, "VACUUM (ANALYZE) customers", "VACUUM") != 0 ||
	    exec_ok(c, "ANALYZE grants", "ANALYZE") != 0 ||
	    exec_ok(c, "CHECKPOINT", "CHECKPOINT") != 0)
		rc = -1;
	PQfinish(c);
	return rc;
}

/*
 * After a phase with puts: reads back the put fields of the given
 * subjects (directly, as the superuser, not through the audited path)
 * and checks they hold what a put writes. Returns the number that do not.
 */
int
pgb_check_puts(PGconn *c, const pgb_keys *k, const uint32_t *subjects, size_t n)
{
	char id[32], want[128];
	const char *params[3] = {k->enc, id, k->mac};
	PGresult *r;
	size_t i;
	int f, bad = 0;

	for (i = 0; i < n; i++) {
		pgb_subject_id(subjects[i], id, sizeof(id));
		r = PQexecParams(c,
		    "SELECT pgp_sym_decrypt(name, $1), "
		    "pgp_sym_decrypt(email, $1), pgp_sym_decrypt(phone, $1) "
		    "FROM customers WHERE subject = hmac($2, $3, 'sha256')",
		    3, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
			bad++;
			PQclear(r);
			continue;
		}
		for (f = 0; f < PGB_NPUT_FIELDS; f++) {
			pgb_value(f, subjects[i], 1, want, sizeof(want));
			if (strcmp(PQgetvalue(r, 0, f), want) != 0) {
				bad++;
				break;
			}
		}
		PQclear(r);
	}
	return bad;
}
