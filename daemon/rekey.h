/*
 * rekey.h - the key commands of the privd program, run with privd stopped:
 * `privd rekey` (a new master key) and `privd audit rotate-key` (a new
 * audit signing key). Both print what they did on stdout and errors on
 * stderr, prefixed "privd: ", and return an exit status.
 */
#ifndef PRIVD_REKEY_H
#define PRIVD_REKEY_H

/* `privd audit rotate-key --data-dir DIR` (audit_key.c has the rotation). */
int cmd_audit_rotate_key(int argc, char **argv);

/* `privd rekey --data-dir DIR` (rekey.c). */
int cmd_rekey(int argc, char **argv);

#endif
