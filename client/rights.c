/*
 * rights.c - the data subject rights calls (<privd/rights.h>): restrict
 * and lift, object and withdraw, and erasure with its report of what was
 * deleted, what was kept and whether the key was destroyed.
 */
#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/*
 * The target of a restriction or an objection: a register and a subject,
 * as privd takes them. Saying so here costs no round trip (privd would
 * still audit the refusal).
 */
static int
check_target(privd_client *c, const char *reg, const char *subject)
{
	if (cl_empty(reg))
		return cl_fail(c, PRIVD_EINVAL, "register name is empty");
	if (strlen(reg) > MAX_NAME)
		return cl_fail(c, PRIVD_EINVAL,
		    "register name is longer than %d bytes", MAX_NAME);
	if (cl_empty(subject))
		return cl_fail(c, PRIVD_EINVAL, "subject id is empty");
	if (strlen(subject) > MAX_SUBJECT)
		return cl_fail(c, PRIVD_EINVAL,
		    "subject id is longer than %d bytes", MAX_SUBJECT);
	return PRIVD_OK;
}

int
privd_subject_restrict(
    privd_client *c, const char *reg, const char *subject, int on, int *changed)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__SubjectRestrictRequest sr =
	    PRIVD__V1__SUBJECT_RESTRICT_REQUEST__INIT;
	Privd__V1__Response *r;
	int rc;

	if (changed != NULL)
		*changed = 0;
	if (c == NULL)
		return PRIVD_EINVAL;
	cl_reset_error(c);
	if ((rc = check_target(c, reg, subject)) != PRIVD_OK)
		return rc;
	sr.register_ = (char *)reg;
	sr.subject = (char *)subject;
	sr.on = on != 0;
	req.op_case = PRIVD__V1__REQUEST__OP_SUBJECT_RESTRICT;
	req.subject_restrict = &sr;
	rc =
	    cl_call(c, &req, PRIVD__V1__RESPONSE__PAYLOAD_SUBJECT_RESTRICT, &r);
	if (rc != PRIVD_OK)
		return rc;
	if (changed != NULL)
		*changed = r->subject_restrict->changed;
	cl_response_free(r);
	return PRIVD_OK;
}

int
privd_subject_object(privd_client *c, const char *reg, const char *subject,
    const char *purpose, int on, int *changed)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__SubjectObjectRequest so =
	    PRIVD__V1__SUBJECT_OBJECT_REQUEST__INIT;
	Privd__V1__Response *r;
	int rc;

	if (changed != NULL)
		*changed = 0;
	if (c == NULL)
		return PRIVD_EINVAL;
	cl_reset_error(c);
	if ((rc = check_target(c, reg, subject)) != PRIVD_OK)
		return rc;
	if (cl_empty(purpose))
		return cl_fail(c, PRIVD_EINVAL, "purpose is empty");
	if (strlen(purpose) > MAX_NAME)
		return cl_fail(c, PRIVD_EINVAL,
		    "purpose is longer than %d bytes", MAX_NAME);
	so.register_ = (char *)reg;
	so.subject = (char *)subject;
	/* the purpose objected to is the operation's, not the request's:
	 * the request itself is made for none */
	so.purpose = (char *)purpose;
	so.on = on != 0;
	req.op_case = PRIVD__V1__REQUEST__OP_SUBJECT_OBJECT;
	req.subject_object = &so;
	rc = cl_call(c, &req, PRIVD__V1__RESPONSE__PAYLOAD_SUBJECT_OBJECT, &r);
	if (rc != PRIVD_OK)
		return rc;
	if (changed != NULL)
		*changed = r->subject_object->changed;
	cl_response_free(r);
	return PRIVD_OK;
}

/*
 * An erasure report in one allocation, so that it is freed with one
 * free() and can be handed to another thread as plain memory: the
 * report, its registers, then every register's kept fields, then every
 * register's array of deleted names, then the names.
 */
struct erasure_block {
	privd_erasure e;
	privd_erased_register r[];
};

/* n rounded up to a multiple of a (a power of two). */
static size_t
align_up(size_t n, size_t a)
{
	return (n + a - 1) & ~(a - 1);
}

/* Is name one of the n registers asked for? (n 0: every one was.) */
static int
asked_for(const char *name, const char *const *regs, size_t n)
{
	size_t i;

	if (n == 0)
		return 1;
	for (i = 0; i < n; i++)
		if (strcmp(regs[i], name) == 0)
			return 1;
	return 0;
}

/*
 * Check one register of an erasure answer against the protocol's limits
 * and the request (regs, nregs), and add its size to *names (the bytes
 * of its deleted names). status is the answer's: an OK erasure kept
 * nothing. Returns PRIVD_OK or PRIVD_EPROTO, with the handle's message.
 */
static int
erased_check(privd_client *c, const Privd__V1__ErasedRegister *er, int status,
    const char *const *regs, size_t nregs, size_t *names)
{
	size_t i, len;

	if (er == NULL || cl_empty(er->register_) ||
	    strlen(er->register_) > MAX_NAME)
		return cl_fail(c, PRIVD_EPROTO,
		    "privd's erasure report has a register without a name");
	if (!asked_for(er->register_, regs, nregs))
		return cl_fail(c, PRIVD_EPROTO,
		    "privd's erasure report names a register not asked for");
	if (er->n_deleted > MAX_FIELDS || er->n_kept > MAX_FIELDS)
		return cl_fail(c, PRIVD_EPROTO,
		    "privd's erasure report has more than %d fields in a "
		    "register",
		    MAX_FIELDS);
	if (er->n_kept > 0 && er->key_destroyed)
		return cl_fail(c, PRIVD_EPROTO,
		    "privd's erasure report destroys a key that still "
		    "encrypts fields kept");
	if (er->n_kept > 0 && status == PRIVD_OK)
		return cl_fail(c, PRIVD_EPROTO,
		    "privd's erasure report keeps fields but its status is OK");
	for (i = 0; i < er->n_deleted; i++) {
		len = er->deleted[i] != NULL ? strlen(er->deleted[i]) : 0;
		if (len == 0 || len > MAX_NAME)
			return cl_fail(c, PRIVD_EPROTO,
			    "privd's erasure report has a malformed field "
			    "name");
		*names += len + 1;
	}
	for (i = 0; i < er->n_kept; i++)
		if (er->kept[i] == NULL || cl_empty(er->kept[i]->field))
			return cl_fail(c, PRIVD_EPROTO,
			    "privd's erasure report has a field kept without "
			    "a name");
	return PRIVD_OK;
}

/*
 * Copy a SubjectEraseResponse (NULL: none came with a RETAINED status)
 * into one caller-owned block, after checking all of it: a register
 * twice, or one not asked for, would leave the caller unsure of what
 * happened where.
 */
static int
erasure_build(privd_client *c, const Privd__V1__SubjectEraseResponse *a,
    int status, const char *const *regs, size_t nregs, privd_erasure **out)
{
	const Privd__V1__ErasedRegister *er;
	size_t i, j, n = a != NULL ? a->n_registers : 0;
	size_t nkept = 0, nnames = 0, names = 0, kept_at, ptrs_at, str_at;
	privd_erased_register *dst;
	const Privd__V1__Retained *k;
	struct erasure_block *b;
	privd_retained *kp;
	char **np, *sp;
	int rc;

	if (n > ERASE_REGISTERS_MAX)
		return cl_fail(c, PRIVD_EPROTO,
		    "privd's erasure report has more than %d registers",
		    ERASE_REGISTERS_MAX);
	for (i = 0; i < n; i++) {
		er = a->registers[i];
		rc = erased_check(c, er, status, regs, nregs, &names);
		if (rc != PRIVD_OK)
			return rc;
		for (j = 0; j < i; j++)
			if (strcmp(a->registers[j]->register_, er->register_) ==
			    0)
				return cl_fail(c, PRIVD_EPROTO,
				    "privd's erasure report names a register "
				    "twice");
		nkept += er->n_kept;
		nnames += er->n_deleted;
	}
	/* each part starts where its type may start: the sizes are small
	 * (bounded above), so nothing here can overflow */
	kept_at =
	    align_up(sizeof(*b) + n * sizeof(b->r[0]), alignof(privd_retained));
	ptrs_at =
	    align_up(kept_at + nkept * sizeof(privd_retained), alignof(char *));
	str_at = ptrs_at + nnames * sizeof(char *);
	if ((b = calloc(1, str_at + names)) == NULL)
		return cl_fail(c, PRIVD_ENOMEM, "out of memory");
	b->e.registers = n > 0 ? b->r : NULL;
	b->e.nregisters = n;
	kp = (privd_retained *)((char *)b + kept_at);
	np = (char **)((char *)b + ptrs_at);
	sp = (char *)b + str_at;
	for (i = 0; i < n; i++) {
		er = a->registers[i];
		dst = &b->r[i];
		cl_copy_str(dst->reg, sizeof(dst->reg), er->register_);
		dst->key_destroyed = er->key_destroyed;
		dst->deleted = er->n_deleted > 0 ? np : NULL;
		dst->ndeleted = er->n_deleted;
		for (j = 0; j < er->n_deleted; j++) {
			*np++ = sp;
			memcpy(sp, er->deleted[j], strlen(er->deleted[j]) + 1);
			sp += strlen(er->deleted[j]) + 1;
		}
		dst->kept = er->n_kept > 0 ? kp : NULL;
		dst->nkept = er->n_kept;
		for (j = 0; j < er->n_kept; j++, kp++) {
			k = er->kept[j];
			cl_copy_str(kp->field, sizeof(kp->field), k->field);
			cl_copy_str(kp->rule, sizeof(kp->rule), k->rule);
			kp->until_us = k->until_us;
			cl_copy_str(kp->hold_reason, sizeof(kp->hold_reason),
			    k->hold_reason);
		}
	}
	*out = &b->e;
	return PRIVD_OK;
}

int
privd_subject_erase(privd_client *c, const char *subject,
    const char *const *registers, size_t nregisters, privd_erasure **out)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__SubjectEraseRequest se =
	    PRIVD__V1__SUBJECT_ERASE_REQUEST__INIT;
	Privd__V1__Response *r;
	size_t i;
	int rc, rc2;

	if (out != NULL)
		*out = NULL;
	if (c == NULL || out == NULL)
		return PRIVD_EINVAL;
	cl_reset_error(c);
	if (cl_empty(subject))
		return cl_fail(c, PRIVD_EINVAL, "subject id is empty");
	if (strlen(subject) > MAX_SUBJECT)
		return cl_fail(c, PRIVD_EINVAL,
		    "subject id is longer than %d bytes", MAX_SUBJECT);
	if (nregisters > 0 && registers == NULL)
		return cl_fail(c, PRIVD_EINVAL, "register list is NULL");
	for (i = 0; i < nregisters; i++) {
		if (cl_empty(registers[i]))
			return cl_fail(c, PRIVD_EINVAL,
			    "register name %zu is empty", i + 1);
		if (strlen(registers[i]) > MAX_NAME)
			return cl_fail(c, PRIVD_EINVAL,
			    "register name %zu is longer than %d bytes", i + 1,
			    MAX_NAME);
	}
	se.subject = (char *)subject;
	se.n_registers = nregisters;
	se.registers = (char **)registers;
	req.op_case = PRIVD__V1__REQUEST__OP_SUBJECT_ERASE;
	req.subject_erase = &se;
	/* a RETAINED answer erased what it could and says what it kept */
	rc = cl_call_keep(c, &req, PRIVD__V1__RESPONSE__PAYLOAD_SUBJECT_ERASE,
	    PRIVD_ERETAINED, &r);
	if (rc != PRIVD_OK && rc != PRIVD_ERETAINED)
		return rc;
	rc2 = erasure_build(c, r != NULL ? r->subject_erase : NULL, rc,
	    registers, nregisters, out);
	cl_response_free(r);
	return rc2 != PRIVD_OK ? rc2 : rc;
}

void
privd_erasure_free(privd_erasure **e)
{
	if (e == NULL || *e == NULL)
		return;
	/* the report is the start of its block (erasure_build) */
	free(*e);
	*e = NULL;
}
