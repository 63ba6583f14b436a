/*
 * capgen.c - build large, valid policy documents with given counts; see
 * capgen.h.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capgen.h"
#include "policy.h"

/* A growing string; on allocation failure it stays failed. */
struct buf {
	char *s;
	size_t len, cap;
	int failed;
};

static void put(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = 1;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		char *t = realloc(b->s, b->cap * 2 + (size_t)n);

		if (t == NULL) {
			b->failed = 1;
			return;
		}
		b->s = t;
		b->cap = b->cap * 2 + (size_t)n;
	}
}

void
capgen_at_caps(capgen *g)
{
	memset(g, 0, sizeof(*g));
	g->registers = POL_MAX_REGISTERS;
	g->purposes = POL_MAX_PURPOSES;
	g->fields = POL_MAX_FIELDS;
	g->categories = 16;
	g->retention = POL_MAX_RETENTION;
	g->rule_categories = POL_MAX_RULE_CATEGORIES;
	g->allowed_regions = POL_MAX_ALLOWED_REGIONS;
	g->regions = POL_MAX_REGIONS;
	g->countries = POL_MAX_REGION_COUNTRIES;
	g->principals = POL_MAX_PRINCIPALS;
	g->grants = POL_MAX_GRANTS;
	g->total_grants = POL_MAX_GRANTS_TOTAL;
	g->grant_purposes = 4;
	g->grant_fields = 8;
}

/* Country code number k of the 676 two-letter codes. */
static void
code(char out[3], size_t k)
{
	k %= 26 * 26;
	out[0] = (char)('A' + k / 26);
	out[1] = (char)('A' + k % 26);
	out[2] = '\0';
}

/* A distinct, valid Z85 key per i < 85^5: 35 zeros, then i in base 85. */
static void
key(char out[41], size_t i)
{
	static const char z85[] =
	    "0123456789abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
	int k;

	memset(out, '0', 40);
	out[40] = '\0';
	for (k = 39; k >= 35; k--) {
		out[k] = z85[i % 85];
		i /= 85;
	}
}

static const char *const types[] = {
    "string", "text", "email", "phone", "integer", "date", "bytes"};
static const char *const bases[] = {"consent", "contract", "legal_obligation",
    "vital_interests", "public_task", "legitimate_interest"};
static const char *const froms[] = {
    "collected", "updated", "relationship_end", "contract_end"};

static void
register_doc(struct buf *b, const capgen *g, size_t i)
{
	char cc[3];
	size_t k, m;

	put(b, "%s\"reg%zu\":{\"description\":\"register %zu\"", i ? "," : "",
	    i, i);
	if (g->allowed_regions > 0) {
		put(b, ",\"transfer\":{\"allowed_regions\":[");
		for (k = 0; k < g->allowed_regions; k++) {
			if (k < g->regions) {
				put(b, "%s\"area%zu\"", k ? "," : "",
				    (i + k) % g->regions);
			} else {
				code(cc, i + k);
				put(b, "%s\"%s\"", k ? "," : "", cc);
			}
		}
		put(b, "]}");
	}
	put(b, ",\"purposes\":{");
	for (k = 0; k < g->purposes; k++)
		put(b,
		    "%s\"p%zu\":{\"legal_basis\":\"%s\",\"objectable\":%s,"
		    "\"allowed_when_restricted\":%s}",
		    k ? "," : "", k, bases[k % 6], k % 2 ? "true" : "false",
		    k % 5 == 0 ? "true" : "false");
	put(b, "},\"fields\":{");
	for (k = 0; k < g->fields; k++) {
		const char *t = types[k % 7];

		put(b,
		    "%s\"f%zu\":{\"category\":\"c%zu\",\"type\":\"%s\","
		    "\"identifying\":%s,\"lookup\":%s,\"source\":\"subject\"}",
		    k ? "," : "", k, k % (g->categories ? g->categories : 1), t,
		    k % 3 == 0 ? "true" : "false",
		    k % 7 == 2 || k % 7 == 3 ? "true" : "false");
	}
	put(b, "}");
	if (g->retention > 0) {
		put(b, ",\"retention\":[");
		for (k = 0; k < g->retention; k++) {
			put(b, "%s{\"id\":\"r%zu\",\"categories\":[",
			    k ? "," : "", k);
			for (m = 0; m < (k == 0 ? g->rule_categories : 2); m++)
				put(b, "%s\"c%zu\"", m ? "," : "",
				    (k + m) %
				        (g->categories ? g->categories : 1));
			put(b, "],\"from\":\"%s\",", froms[k % 4]);
			if (k % 2)
				put(b,
				    "\"after\":\"%zu days\",\"action\":\"%s\"}",
				    k + 1, k % 4 == 1 ? "delete" : "anonymize");
			else
				put(b, "\"keep_at_least\":\"%zu years\"}",
				    k + 1);
		}
		put(b, "]");
	}
	put(b, "}");
}

static void
principal_doc(struct buf *b, const capgen *g, size_t i, size_t *left)
{
	char k40[41];
	size_t j, m, n = g->grants < *left ? g->grants : *left;

	key(k40, i);
	put(b, "%s\"u%zu\":{\"key\":\"%s\",\"region\":\"FI\"", i ? "," : "", i,
	    k40);
	if (i == 0)
		put(b, ",\"roles\":[\"policy_admin\",\"auditor\"]");
	*left -= n;
	if (n > 0) {
		put(b, ",\"grants\":[");
		for (j = 0; j < n; j++) {
			put(b, "%s{\"register\":\"reg%zu\",\"purposes\":[",
			    j ? "," : "", (i + j) % g->registers);
			for (m = 0; m < g->grant_purposes; m++)
				put(b, "%s\"p%zu\"", m ? "," : "",
				    (j + m) % g->purposes);
			put(b, "],\"fields\":[");
			if (g->grant_fields == 0)
				put(b, "\"*\"");
			for (m = 0; m < g->grant_fields; m++)
				put(b, "%s\"f%zu\"", m ? "," : "",
				    (j * 7 + m) % g->fields);
			put(b, "],\"ops\":[\"read\",\"write\"%s]}",
			    j % 4 == 0 ? ",\"delete\"" : "");
		}
		put(b, "]");
	}
	put(b, "}");
}

char *
capgen_build(const capgen *g, size_t *len)
{
	struct buf b = {.s = malloc(65536), .cap = 65536};
	size_t i, k, left = g->total_grants ? g->total_grants : SIZE_MAX;
	char cc[3];

	if (b.s == NULL)
		return NULL;
	put(&b, "{\"controller\":{\"name\":\"Caps Oy\",\"business_id\":"
	        "\"1234567-8\"},\"audit\":{\"retention\":\"6 years\"}");
	if (g->regions > 0) {
		put(&b, ",\"regions\":{");
		for (i = 0; i < g->regions; i++) {
			put(&b, "%s\"area%zu\":[", i ? "," : "", i);
			for (k = 0; k < g->countries; k++) {
				code(cc, i * 11 + k);
				put(&b, "%s\"%s\"", k ? "," : "", cc);
			}
			put(&b, "]");
		}
		put(&b, "}");
	}
	put(&b, ",\"registers\":{");
	for (i = 0; i < g->registers; i++)
		register_doc(&b, g, i);
	put(&b, "},\"principals\":{");
	for (i = 0; i < g->principals; i++)
		principal_doc(&b, g, i, &left);
	put(&b, "}}");
	if (b.failed) {
		free(b.s);
		return NULL;
	}
	*len = b.len;
	return b.s;
}
