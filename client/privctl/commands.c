/*
 * commands.c - what privctl offers: the table of commands, each with its
 * usage text, the options it takes and what it runs, the text around
 * them in --help, and the table of options. main.c finds a command here
 * and runs it; complete.c offers them to bash.
 */
#include <stddef.h>

#include "privctl.h"

/* cmd_export.c (not in privctl.h, which another change owns) */

#define AUDIT_FILTER_OPTS                                                      \
	(O_SUBJECT | O_REGISTER | O_PRINCIPAL | O_SINCE | O_UNTIL | O_OP |     \
	    O_NOT_OP | O_REQUEST_ID | O_DENIED | O_NEWEST | O_LIMIT)

const struct command commands[] = {
    {NULL, "keygen", "[--out FILE]",
        "Generate a new CURVE key pair for a client. With --out, write the\n"
        "key pair file FILE (mode 0600; an existing FILE is never\n"
        "overwritten) and print the public key, which is what the policy\n"
        "names. Without --out, print the key pair file to stdout. Needs no\n"
        "connection to privd.\n"
        "--json: {\"public_key\", \"secret_key\" (null with --out),\n"
        "\"file\" (null without --out)}\n",
        O_OUT, 0, 0, NULL, cmd_keygen, NULL},
    {NULL, "config", "",
        "Show the settings in force - endpoint, key, server-key, timeout\n"
        "and format - and where each comes from: an option, else the\n"
        "environment (PRIVD_ENDPOINT, PRIVD_KEY, PRIVD_SERVER_KEY,\n"
        "PRIVCTL_FORMAT), else the config file (--config FILE, else\n"
        "$PRIVCTL_CONFIG, else ~/.config/privctl/config: 'name = value'\n"
        "lines, '#' comment lines; a relative file name is from the\n"
        "file's directory), else the default. Needs no connection.\n"
        "--json: {\"file\" (null: none), \"settings\": [{\"name\",\n"
        "\"value\" (null: not set), \"source\": \"option\"|\n"
        "\"environment\"|\"file\"|\"default\"|null, \"line\"}]}\n",
        0, 0, 0, NULL, cmd_config, NULL},
    {NULL, "ping", "",
        "Check that privd answers and knows this key: prints the server\n"
        "version, the principal name the policy gives this key and the\n"
        "policy version in force.\n"
        "--json: {\"server_version\", \"principal\", \"policy_version\"}\n",
        0, 0, 0, NULL, NULL, cmd_ping},
    {NULL, "put",
        "REGISTER SUBJECT --purpose P FIELD=VALUE|FIELD=@FILE|FIELD=-... "
        "[--from-json FILE]",
        "Store fields of a subject, all or none. FIELD=VALUE takes VALUE\n"
        "literally (everything after the first '='; may be empty), but\n"
        "FIELD=@FILE takes the bytes of FILE exactly, FIELD=- all of stdin\n"
        "less one final newline (refused if empty), and FIELD=@@TEXT the\n"
        "text @TEXT. --from-json FILE ('-': stdin) adds the fields of a\n"
        "record {\"fields\": {\"name\": \"value\" or {\"base64\":\n"
        "\"...\"}}} (what get --json prints), and with \"subject\": \"ID\"\n"
        "in it, the subject too (then no SUBJECT argument). Values and\n"
        "subject ids on the command line are visible to every local user\n"
        "(ps) and stay in the shell's history: read them from files or\n"
        "stdin instead.\n"
        "--json: {\"written\": N}\n",
        O_PURPOSE | O_FROM_JSON, 1, -1, put_check, NULL, cmd_put},
    {NULL, "get", "REGISTER SUBJECT --purpose P [FIELD...]",
        "Read the named fields, or every stored field this key may read.\n"
        "Prints 'name: value' lines; a value that is not printable UTF-8\n"
        "text is shown as 'base64:...'. Fields not stored are omitted.\n"
        "--json: {\"fields\": {\"name\": \"value\" or {\"base64\":\n"
        "\"...\"}}}\n",
        O_PURPOSE, 2, -1, data_check, NULL, cmd_get},
    {NULL, "delete", "REGISTER SUBJECT --purpose P [FIELD...]",
        "Delete the named fields; with no FIELD, delete the whole subject\n"
        "and its data key. Prints the number of stored fields removed. A\n"
        "field under a retention minimum that has not passed, or under a\n"
        "legal hold, is kept and everything else deleted: then one line per\n"
        "field kept says why and until when ('kept F: rule R, until T',\n"
        "'kept F: legal hold \"REASON\", until lifted'), and the exit status\n"
        "is 6. A whole-subject delete that keeps a field keeps the subject\n"
        "with just those fields.\n"
        "--json: {\"deleted\": N, \"retained\": [{\"field\", \"rule\" (null\n"
        "for a hold), \"until\" (null: until a hold is lifted or the\n"
        "rule's period starts), \"until_us\" (null as until is),\n"
        "\"hold_reason\" (null for a rule)}]}\n",
        O_PURPOSE, 2, -1, data_check, NULL, cmd_delete},
    {"policy", "show", "[N]",
        "Print policy version N (default: the version in force), who\n"
        "applied it and when (UTC), then its JSON document exactly as\n"
        "applied. Needs role policy_admin, like every policy command but\n"
        "check.\n"
        "--json: {\"version\", \"applied_by\", \"applied_at\", \"policy\":\n"
        "{...}}\n",
        0, 0, 1, policy_show_check, NULL, cmd_policy_show},
    {"policy", "check", "FILE",
        "Validate a policy file offline, with the same code as privd:\n"
        "prints 'FILE: ok (N registers, M principals)' or 'FILE: <JSON\n"
        "path>: <reason>' (exit 5). Needs no connection.\n"
        "--json: {\"file\", \"registers\", \"principals\"}\n",
        0, 1, 1, NULL, cmd_policy_check, NULL},
    {"policy", "apply", "FILE --replaces N [--force]",
        "Validate FILE as 'policy check' does (nothing is sent if it is\n"
        "invalid), then make it the policy in force in place of version N,\n"
        "the version 'privctl policy show' prints. If another version is in\n"
        "force by then, nothing changes and the exit status is 6: show the\n"
        "policy again, merge, and retry. A document equal to the one in\n"
        "force (as JSON: order and spacing aside) makes no new version:\n"
        "prints 'policy unchanged: version N stays in force'. privd refuses\n"
        "(exit 5) a policy that leaves no principal with the role\n"
        "policy_admin, and one that takes that role from you, unless\n"
        "--force. A policy that changes a register's retention rules or a\n"
        "field's category makes privd re-plan when the stored subjects'\n"
        "fields fall due, in the background: then it prints '; M subjects\n"
        "re-planned in the background' after the version.\n"
        "--json: {\"version\": N, \"unchanged\": true|false,\n"
        "\"replan_subjects\": M}\n",
        O_REPLACES | O_FORCE, 1, 1, policy_apply_check, NULL, cmd_policy_apply},
    {"policy", "history", "",
        "List every policy version, oldest first: version, time applied\n"
        "(UTC) and who applied it.\n"
        "--json: {\"versions\": [{\"version\", \"applied_by\",\n"
        "\"applied_at\"}]}\n",
        0, 0, 0, NULL, NULL, cmd_policy_history},
    {"policy", "diff", "[A] [B|FILE]",
        "What changes from one policy to another, in the policy's own\n"
        "terms, one line per difference: '+' added, '-' removed, '~'\n"
        "changed, then what (register, field, purpose, retention rule,\n"
        "transfer, principal, grant, ...) and how, e.g. '~ field\n"
        "customers.email: type string -> email'; then the number of\n"
        "differences, or 'no differences'. With no argument: the version\n"
        "before the one in force -> the version in force (what the last\n"
        "apply changed). 'diff A': version A -> the version in force. 'diff\n"
        "FILE': the version in force -> FILE (what applying FILE would\n"
        "change; FILE is validated first). 'diff A B', 'diff A FILE': A ->\n"
        "B or FILE. An argument of digits only is a version number,\n"
        "anything else a file (./3 for a file named 3). The exit status is\n"
        "0 whether or not they differ.\n"
        "--json: {\"from\": {\"version\", \"applied_by\", \"applied_at\",\n"
        "\"file\"} (a version: file null; a file: the others null),\n"
        "\"to\": the same, \"differences\": [{\"change\":\n"
        "\"added\"|\"removed\"|\"changed\", \"what\", \"detail\"}],\n"
        "\"count\": N}\n",
        0, 0, 2, policy_diff_check, NULL, cmd_policy_diff},
    {"audit", "query",
        "[--subject [R/]S] [--register R] [--principal P] [--since T] "
        "[--until T] [--op OP]... [--not-op OP]... [--request-id ID] "
        "[--denied] [--newest] [--limit N]",
        "List the audit events that match every criterion given, oldest\n"
        "first (--newest: newest first), walking every page; --limit N\n"
        "stops after N events. --subject takes a subject id (privd finds\n"
        "its pseudonym), in every register, or REGISTER/SUBJECT for one\n"
        "register (with --register, the id is taken as it is, '/' and all);\n"
        "T is a date (2026-11-27: midnight UTC), an RFC 3339 time\n"
        "(2026-11-27T10:00:00Z, 2026-11-27T12:00:00+02:00) or Unix seconds,\n"
        "--since including it and --until not;\n"
        "--op OP: only these operations, --not-op OP: not these (both\n"
        "repeatable; e.g. --not-op audit_query leaves out the auditors' own\n"
        "queries); OP is an operation as the log names it (get, put,\n"
        "hold_set, subject_erase, retention_delete, ...): a name privctl\n"
        "does not know is a usage error that lists them all;\n"
        "--request-id ID: only the events of that request (a client's\n"
        "request id, 'request_id' in --json); --denied: only requests the\n"
        "policy refused.\n"
        "One line per event: seq, time (UTC), principal, operation,\n"
        "register, subject pseudonym (first 12 hex digits), fields,\n"
        "purpose, decision, status[/reason], '-' for none, and for a\n"
        "retention action 'rule=ID', the rule that made it. An event privd\n"
        "cannot decode is the line 'SEQ damaged: ...', and the exit status\n"
        "is then 7 (run 'audit verify'). Needs role auditor, like every\n"
        "audit command but prune.\n"
        "--json: one object per line: {\"seq\", \"time\", \"time_us\",\n"
        "\"principal\", \"op\", \"register\", \"subject\" (hex),\n"
        "\"fields\", \"purpose\", \"decision\", \"reason\", \"status\",\n"
        "\"policy_version\", \"request_id\" (a string), \"rule\" (a\n"
        "retention action's), \"hash\"}, null for what the event has not\n"
        "(no register, subject, purpose, reason or rule), or for a damaged\n"
        "event {\"seq\", \"damaged\": true}\n",
        AUDIT_FILTER_OPTS, 0, 0, audit_check, NULL, cmd_audit_query},
    {"audit", "tail", "[-f] [-n N] [--not-op OP]...",
        "The last N events (default 20), oldest first. With -f, go on\n"
        "printing new events as they come (polling every 500 ms) until\n"
        "interrupted; its own polls are not shown (privd audits them as one\n"
        "audit_follow event a minute at most). --not-op leaves operations\n"
        "out, as in 'audit query'; damaged events too are shown as there\n"
        "(exit 7 at the end).\n"
        "--json: the objects of 'audit query --json'\n",
        O_FOLLOW | O_COUNT | O_NOT_OP, 0, 0, audit_check, NULL, cmd_audit_tail},
    {"audit", "verify", "[--from N] [--to N] [--pubkey HEX|FILE]",
        "Verify, here on the client, the hash chain of the events from\n"
        "--from to --to (default: every event kept) and privd's signed\n"
        "checkpoints: prints 'audit log verifies: events A..B, K signed\n"
        "checkpoints', or 'audit log does NOT verify at event N: <why>' and\n"
        "exits 7 (why: an event changed, missing, out of place, or damaged:\n"
        "privd cannot decode it). --pubkey is the signing key as 64 hex\n"
        "digits or a file holding them, as exported once with 'audit pubkey\n"
        "--out'; without it the key is asked from privd, which proves much\n"
        "less.\n"
        "On a terminal, stderr shows how long it has been at it.\n"
        "--json: {\"verified\": true|false, \"from\", \"to\" (null: no\n"
        "events in the range), \"events\", \"checkpoints\", \"bad_seq\",\n"
        "\"why\" (null when it verifies)}\n",
        O_FROM | O_TO | O_PUBKEY, 0, 0, audit_check, NULL, cmd_audit_verify},
    {"audit", "export", "[--from N] [--to N]",
        "Every event of the range (default: all, up to the newest when the\n"
        "export starts) as JSON lines, the objects of 'audit query --json',\n"
        "streamed page by page. A damaged event is {\"seq\", \"damaged\":\n"
        "true}, and the exit status is then 7.\n",
        O_FROM | O_TO, 0, 0, audit_check, NULL, cmd_audit_export},
    {"audit", "pubkey", "[--out FILE]",
        "Print privd's audit signing key (Ed25519) as 64 hex digits; with\n"
        "--out, also write it to FILE (never overwriting).\n"
        "--json: {\"public_key\", \"file\" (null without --out)}\n",
        O_OUT, 0, 0, audit_check, NULL, cmd_audit_pubkey},
    {"audit", "prune", "[--confirm]",
        "Show the state of audit pruning. privd deletes events older than\n"
        "the audit retention, but pauses when its clock jumps forward by\n"
        "more than a day, so that a wrong clock cannot erase evidence.\n"
        "Prints whether pruning is paused (since when, by what clock jump),\n"
        "the retention in force and its floor, the oldest event kept, and\n"
        "privd's clock. --confirm says that privd's clock is right: pruning\n"
        "resumes. Needs role policy_admin.\n"
        "--json: {\"paused\", \"paused_at\" (null if never paused; after\n"
        "--confirm, when the pause it lifted began), \"clock_jump_s\",\n"
        "\"retention_s\", \"floor_s\", \"now\", \"oldest_seq\" (null if "
        "none),\n"
        "\"oldest_time\" (null if none), \"confirmed\"}\n",
        O_CONFIRM, 0, 0, NULL, NULL, cmd_audit_prune},
    {NULL, "relationship-end", "REGISTER SUBJECT [--at DATE] [--undo]",
        "The customer relationship with SUBJECT ended at DATE (default:\n"
        "now, by privd's clock): the retention rules that count from\n"
        "relationship_end count from then. DATE is a date (2026-11-27:\n"
        "midnight UTC), an RFC 3339 time (2026-11-27T10:00:00Z,\n"
        "2026-11-27T12:00:00+02:00) or Unix seconds; privd refuses (exit 5)\n"
        "one before 2000 or more than a year past its clock. --undo takes a\n"
        "recorded end back, refused (exit 6) once something was deleted\n"
        "because of it. Prints the end recorded and how many stored fields\n"
        "of the subject were re-planned. Needs a write grant on the\n"
        "register, for any purpose (no --purpose). A subject not stored\n"
        "exits 4.\n"
        "--json: {\"at\" (null: undone), \"at_us\" (null as at is),\n"
        "\"fields\"}\n",
        O_AT | O_UNDO, 2, 2, end_check, NULL, cmd_relationship_end},
    {"register", "contract-end", "REGISTER [--at DATE] [--undo]",
        "The processing contract behind REGISTER ended at DATE (default:\n"
        "now, by privd's clock; DATE as for relationship-end): from then on\n"
        "privd refuses writes to the register (exit 6), and the retention\n"
        "rules that count from contract_end destroy its data when they fall\n"
        "due (a whole-register hold stops that). --undo takes the end back,\n"
        "refused (exit 6) once a purge has begun. Needs role policy_admin.\n"
        "--json: {\"register\", \"at\" (null: undone), \"at_us\" (null\n"
        "as at is)}\n",
        O_AT | O_UNDO, 1, 1, end_check, NULL, cmd_contract_end},
    {"hold", "set", "REGISTER [SUBJECT] --reason TEXT [--until DATE]",
        "Set a legal hold on SUBJECT, or with no SUBJECT on the whole\n"
        "register: nothing it covers is deleted or anonymised - not by a\n"
        "retention rule, not by a delete request (which exits 6 naming the\n"
        "hold), not by a contract end - until it is lifted or DATE passes\n"
        "(default: until lifted; DATE as for relationship-end). TEXT (1 to\n"
        "256 bytes) is shown to whoever lists holds and in the answers of\n"
        "the deletes it blocks: keep personal data out of it. A hold already\n"
        "on the same target is replaced. Needs role subject_rights or\n"
        "policy_admin, like every hold command.\n"
        "--json: {\"replaced\": true|false}\n",
        O_REASON | O_UNTIL, 1, 2, hold_set_check, NULL, cmd_hold_set},
    {"hold", "lift", "REGISTER [SUBJECT]",
        "Lift the hold on SUBJECT, or with no SUBJECT the register's own\n"
        "hold (the holds on its subjects stay). What it kept falls under the\n"
        "retention rules again. No such hold in force: exit 4.\n"
        "--json: {\"lifted\": true}\n",
        0, 1, 2, hold_lift_check, NULL, cmd_hold_lift},
    {"hold", "list", "[REGISTER]",
        "List the holds in force, in REGISTER or in every register, by\n"
        "register then time set, one per line: register, subject ('*' for\n"
        "the whole register, 'base64:...' if not printable), until (UTC, or\n"
        "'-' until lifted), when it was set (UTC), by whom, then the reason\n"
        "to the end of the line; or 'no holds in force'.\n"
        "--json: {\"holds\": [{\"register\", \"subject\" (null: the whole\n"
        "register), \"reason\", \"until\" (null: until lifted),\n"
        "\"until_us\" (null as until is), \"set_at\", \"set_at_us\",\n"
        "\"set_by\"}]}\n",
        0, 0, 1, NULL, NULL, cmd_hold_list},
    {"retention", "preview", "[--as-of DATE] [--register R]",
        "Say what a retention sweep as of DATE (default: now, by privd's\n"
        "clock; DATE as for relationship-end) would do, changing nothing:\n"
        "one line per register and rule with the action (delete, anonymize,\n"
        "contract_end_purge), the fields and the subjects it would act on,\n"
        "the fields due but kept by a legal hold, and the anonymous records\n"
        "a contract-end purge would destroy ('-' for the other actions);\n"
        "then 'examined N due-index entries'. What it says for DATE is what\n"
        "a sweep at DATE does, unless data, holds or the policy change in\n"
        "between. --register: that register only. Needs role policy_admin,\n"
        "like retention run.\n"
        "--json: {\"preview\": true, \"as_of\", \"as_of_us\", \"examined\",\n"
        "\"more\", \"counts\": [{\"register\", \"rule\", \"action\",\n"
        "\"fields\", \"subjects\", \"held\", \"anonymous_records\"}]}\n",
        O_AS_OF | O_REGISTER, 0, 0, sweep_check, NULL, cmd_retention_preview},
    {"retention", "run", "[--register R] [--limit N]",
        "Run privd's retention sweep now (privd also runs it by itself every\n"
        "--retention-interval): delete or anonymise what is due by privd's\n"
        "clock, each action an audit event of principal 'retention'. Prints\n"
        "what it did as 'retention preview' does. --limit N stops after N\n"
        "field actions and says whether more is due (run it again). A sweep\n"
        "that outlasts --timeout goes on in privd.\n"
        "--json: as 'retention preview', with \"preview\": false\n",
        O_REGISTER | O_LIMIT, 0, 0, sweep_check, NULL, cmd_retention_run},
    {NULL, "report", "REGISTER FIELD [--group-by FIELD] --purpose P",
        "Count FIELD, and for an integer field its sum, mean, minimum and\n"
        "maximum, over the register's live subjects and its anonymous\n"
        "records together (what retention anonymised still counts),\n"
        "optionally per value of a non-identifying field (--group-by). P\n"
        "must be a purpose the policy marks statistical. A group of fewer\n"
        "subjects than the policy's reporting.min_group (default 5) is\n"
        "never shown, only counted as suppressed. One line per group: its\n"
        "value ('(all)' without --group-by, '(none)' for the records\n"
        "without one, 'base64:...' if not printable), count, and for an\n"
        "integer field sum, mean, min and max; then the groups and records\n"
        "suppressed.\n"
        "--json: {\"register\", \"field\", \"group_by\" (or null),\n"
        "\"integer\", \"min_group\", \"groups\": [{\"key\" (a string,\n"
        "{\"base64\"}, or null without --group-by and for the records\n"
        "without a value), \"missing\", \"count\", and if \"integer\" is\n"
        "true \"sum\", \"mean\", \"min\", \"max\"}], \"suppressed_groups\",\n"
        "\"suppressed_records\"}\n",
        O_PURPOSE | O_GROUP_BY, 2, 2, report_check, NULL, cmd_report},
    {"subject", "restrict", "REGISTER SUBJECT [--lift]",
        "Restrict processing of the subject's data in the register (the\n"
        "right to restriction), or with --lift lift the restriction. While\n"
        "it is restricted, privd denies every get, put and delete of the\n"
        "subject in that register (exit 3, reason restricted), except for\n"
        "purposes the policy marks allowed_when_restricted. Says whether\n"
        "this changed anything ('was already restricted', 'was not\n"
        "restricted'). A subject not stored in the register exits 4. Needs\n"
        "role subject_rights, like every subject command.\n"
        "--json: {\"register\", \"restricted\", \"changed\"}\n",
        O_LIFT, 2, 2, NULL, NULL, cmd_subject_restrict},
    {"subject", "object", "REGISTER SUBJECT PURPOSE [--withdraw]",
        "Record the subject's objection to PURPOSE in the register (the\n"
        "right to object), or with --withdraw withdraw it. From then on\n"
        "privd denies every get, put and delete of the subject for that\n"
        "purpose (exit 3, reason objected); its other purposes are not\n"
        "affected. PURPOSE must be one the policy marks objectable (else\n"
        "exit 5, naming it). Says whether this changed anything.\n"
        "--json: {\"register\", \"purpose\", \"objected\", \"changed\"}\n",
        O_WITHDRAW, 3, 3, NULL, NULL, cmd_subject_object},
    {"subject", "erase", "SUBJECT [--register R]...",
        "Erase the subject (the right to erasure) from the registers named\n"
        "by --register (repeatable), or from every register: every stored\n"
        "field is deleted except those a retention minimum or a legal hold\n"
        "keeps; where nothing is kept, the subject's data key is destroyed.\n"
        "Prints, per register where the subject was stored, 'register R:\n"
        "deleted N field(s): F, ...', then one line per field kept and why,\n"
        "as delete says it ('  kept F: rule R, until T'), then '  data key\n"
        "destroyed: nothing of the subject is left' or '  data key kept:\n"
        "the subject stays with the fields kept'. Exit 6 when something was\n"
        "kept, 4 when the subject is stored in none of the registers.\n"
        "--json: {\"registers\": [{\"register\", \"deleted\": [names],\n"
        "\"retained\": [as delete], \"key_destroyed\"}]}\n",
        O_REGISTER, 1, 1, erase_check, NULL, cmd_subject_erase},
    {"subject", "lookup", "--email ADDRESS | --phone NUMBER | --field F VALUE",
        "Find a person by email address, phone number or another field the\n"
        "policy marks lookup, in every register: prints one line per match,\n"
        "'REGISTER SUBJECT', by register, then subject; nothing (exit 0)\n"
        "when nobody matches. Email addresses match whatever their case;\n"
        "phone numbers match in E.164 form (+358 40 123 4567, 040-123 4567\n"
        "and 00358401234567 are the same number). A value of - is read\n"
        "from the first line of stdin, to keep it out of the process list\n"
        "and the shell's history. privd searches a keyed blind index and\n"
        "audits the field's name, never the value.\n"
        "--json: {\"matches\": [{\"register\", \"subject\"}]}\n",
        O_EMAIL | O_PHONE | O_FIELD, 0, 1, lookup_check, NULL,
        cmd_subject_lookup},
    {"subject", "export", "SUBJECT [--register R] [--out FILE]",
        "Everything privd holds about the subject, and who used it, as one\n"
        "JSON document (the rights of access and data portability; schema\n"
        "docs/subject-export.schema.json): per register where the subject is\n"
        "stored (or only R), its restriction, objections, relationship end\n"
        "and legal holds, and every stored field with its value, purpose,\n"
        "legal basis, times and retention; then, from the audit log, who\n"
        "read, wrote or deleted the data, when and for what purpose, what\n"
        "retention did to it, and the rights requests made about it. The\n"
        "document holds the subject id and values: with --out it goes to\n"
        "FILE (mode 0600, written whole or not at all, replacing FILE) and\n"
        "privctl prints its size; without, to stdout. A subject stored in\n"
        "no register exits 4; a document over 32 MiB exits 5 naming the\n"
        "register to export alone. Use a longer --timeout for a person with\n"
        "much data or a long history.\n"
        "--json: with --out {\"file\", \"bytes\"}; without, the document\n",
        O_REGISTER | O_OUT, 1, 1, export_check, NULL, cmd_subject_export},
    {NULL, "backup", "FILE [--force]",
        "Make a backup of privd's store into FILE while privd runs: privd\n"
        "copies its store (compacted; values stay sealed, and the master\n"
        "key is never in it) without stopping other requests, then privctl\n"
        "fetches the copy into FILE.part (mode 0600), checks the digest and\n"
        "trailer it ends with, syncs it and renames it to FILE. On a\n"
        "terminal, stderr shows the progress (bytes, rate, time left). At\n"
        "the end it prints the size, how long it took, when the snapshot\n"
        "was taken and its erasure journal and audit heads. An existing\n"
        "FILE is refused unless --force; a FILE.part left over is refused\n"
        "(exit 5): remove it. On any failure, or an interrupt, nothing is\n"
        "left behind and privd is told to drop its copy (it drops one not\n"
        "read for 10 minutes anyway). privd makes one backup at a time\n"
        "(exit 6 while another runs). Keep FILE as safe as the store: it\n"
        "holds the personal data, sealed under the master key. Restore it\n"
        "with 'privd restore'. Needs role operator or policy_admin, like\n"
        "erasures export.\n"
        "--json: {\"file\", \"size\", \"time\", \"time_us\",\n"
        "\"journal_head\", \"audit_head\", \"audit_hash\",\n"
        "\"store_format\", \"milliseconds\"}\n",
        O_FORCE, 1, 1, backup_check, NULL, cmd_backup},
    {"erasures", "export", "[--after SEQ] [--out FILE]",
        "Write privd's erasure journal - every deletion of personal data,\n"
        "by an erasure, a delete request or retention, naming the subject\n"
        "by privd's keyed hash only - as the journal file 'privd restore\n"
        "--journal' reads: JSON lines, first {\"privd_erasure_journal\":\n"
        "1, \"head\", \"after\", \"exported_at\"}, then one\n"
        "{\"seq\", \"time_us\", \"kind\", \"subject_hash\",\n"
        "\"register\", \"fields\"} per entry, oldest first. --after SEQ:\n"
        "only the entries after SEQ (a backup's journal head: what a\n"
        "restore of that backup needs); default all. The file ends at the\n"
        "journal's head when the export began. To stdout, or with --out to\n"
        "FILE (mode 0600, written whole or not at all, replacing FILE),\n"
        "then a line saying how many entries up to which head.\n"
        "--json: with --out, {\"file\", \"after\", \"head\",\n"
        "\"entries\"}\n",
        O_AFTER | O_OUT, 0, 0, erasures_check, NULL, cmd_erasures_export},
    /* for bash completion (complete.c): not in --help */
    {NULL, "__complete", "CWORD WORD...", "", 0, 1, -1, NULL, cmd_complete,
        NULL},
    {NULL, "__complete-policy", "", "", 0, 0, 0, NULL, NULL,
        cmd_complete_policy},
};

const size_t ncommands = sizeof(commands) / sizeof(commands[0]);

const char help_head[] =
    "usage: privctl [options] COMMAND [ARGS...]\n"
    "\n"
    "privctl talks to privd, the privacy-enforcing storage daemon, over\n"
    "ZeroMQ with CURVE. privd knows the caller by its key pair and decides\n"
    "every request against its policy; every request is audited.\n"
    "'privctl COMMAND --help' shows one command (or a group's commands).\n"
    "\n"
    "Commands:\n";

const char help_tail[] =
    "\n"
    "Options (before or after the command; the options of one command\n"
    "are described with it):\n"
    "  --endpoint EP      privd's endpoint, ipc:///path or tcp://host:port,\n"
    "                     or the nodes of a cluster, comma-separated\n"
    "                     (tcp://a:7700,tcp://b:7700): reads move on to\n"
    "                     the next node when one fails (default:\n"
    "                     $PRIVD_ENDPOINT, else the config file)\n"
    "  --key FILE         this client's key pair file, as written by\n"
    "                     'privctl keygen --out' (default: $PRIVD_KEY,\n"
    "                     else the config file)\n"
    "  --server-key KEY   privd's public key: 40-character Z85 text, or a\n"
    "                     file whose first line holds it, e.g.\n"
    "                     DATA_DIR/server.pub (default: $PRIVD_SERVER_KEY,\n"
    "                     else the config file). While privd's key is\n"
    "                     rotated: CURRENT,NEXT, or a file holding the\n"
    "                     two keys on two lines (server.pub, then\n"
    "                     server.next.pub); privctl uses whichever works\n"
    "  --config FILE      the config file (default: $PRIVCTL_CONFIG, else\n"
    "                     ~/.config/privctl/config; 'privctl config' shows\n"
    "                     what is in force and where it comes from)\n"
    "  --purpose P        the purpose of processing; required by put, get,\n"
    "                     delete and report, and checked against the policy\n"
    "  DATE, T            a date (2026-11-27: midnight UTC), an RFC 3339\n"
    "                     time (2026-11-27T10:00:00Z,\n"
    "                     2026-11-27T12:00:00+02:00) or Unix seconds\n"
    "  --out FILE, -o FILE\n"
    "                     keygen: the key pair file to create; audit\n"
    "                     pubkey: the file to write the key to; subject\n"
    "                     export, erasures export: the file to write\n"
    "                     (0600, whole or not at all)\n"
    "  --replaces N       policy apply: the version in force being replaced\n"
    "  --force            policy apply: even if it takes the role\n"
    "                     policy_admin from this key; backup: replace FILE\n"
    "  --timeout MS       give up after MS milliseconds (default 5000)\n"
    "  --format json|table\n"
    "                     table (the default): lines for people; json: one\n"
    "                     JSON object on stdout (its shape is given with\n"
    "                     each command; what a value has not is null),\n"
    "                     errors included, usage errors too:\n"
    "                     {\"error\": {\"status\", \"reason\", \"message\"}}\n"
    "                     (default: $PRIVCTL_FORMAT, else the config file)\n"
    "  --json             --format json\n"
    "  --from-json FILE   put: the record to store, as get --json prints it\n"
    "  -h, --help         show this help; after a command, that command's\n"
    "                     (privctl audit query --help), after a group\n"
    "                     its commands' (privctl policy --help)\n"
    "  --version          show privctl's version\n"
    "  --                 end of options (for a SUBJECT starting with '-')\n"
    "\n"
    "Exit status:\n"
    "  0 success            4 not found\n"
    "  1 any other failure  5 invalid input or policy, request too large\n"
    "  2 usage error          or bad key\n"
    "  3 denied by policy   6 data retained (legal minimum or hold) or a\n"
    "                         conflict (a stale --replaces, a write after\n"
    "                         a contract end, an end undone too late, a\n"
    "                         backup while another runs)\n"
    "                       7 the audit log does not verify, or an\n"
    "                         audit command printed a damaged event\n"
    "                       8 privd's endpoint answers, but the CURVE\n"
    "                         handshake fails: the server key is\n"
    "                         probably wrong\n"
    "                       9 in doubt (several endpoints): a node took\n"
    "                         the change and failed before answering; it\n"
    "                         may or may not have been carried out: read\n"
    "                         back before repeating it\n"
    "\n"
    "Errors go to stderr as 'privctl: <error>: <privd's message>', or to\n"
    "stdout as JSON with --format json. They never show subject ids or\n"
    "values. Long work (audit verify and export, subject export, backup)\n"
    "shows its progress on stderr when that is a terminal.\n";

/*
 * Every option: its name as typed, whether it takes a value, its O_* bit,
 * and the string in struct opts that receives its value (NOVAL: none, or
 * handled in main.c's take_option()). Long options are handed to
 * getopt_long() from here, and bash completion lists them from here, so
 * this table is the only list of them.
 */
#define OFF(member) offsetof(struct opts, member)

const struct optdef optdefs[] = {
    {"--endpoint", 1, O_ENDPOINT, OFF(endpoint)},
    {"--key", 1, O_KEY, OFF(keyfile)},
    {"--server-key", 1, O_SERVER_KEY, OFF(server_key)},
    {"--timeout", 1, O_TIMEOUT, OFF(timeout)},
    {"--json", 0, O_JSON, NOVAL},
    {"--help", 0, O_HELP, NOVAL},
    {"-h", 0, O_HELP, NOVAL},
    {"--version", 0, O_VERSION, NOVAL},
    {"--purpose", 1, O_PURPOSE, OFF(purpose)},
    {"--out", 1, O_OUT, OFF(out)},
    {"-o", 1, O_OUT, OFF(out)},
    {"--after", 1, O_AFTER, OFF(after)},
    {"--replaces", 1, O_REPLACES, OFF(replaces)},
    {"--subject", 1, O_SUBJECT, OFF(subject)},
    {"--register", 1, O_REGISTER, OFF(reg)},
    {"--principal", 1, O_PRINCIPAL, OFF(principal)},
    {"--since", 1, O_SINCE, OFF(since)},
    {"--until", 1, O_UNTIL, OFF(until)},
    {"--op", 1, O_OP, NOVAL},
    {"--denied", 0, O_DENIED, NOVAL},
    {"--newest", 0, O_NEWEST, NOVAL},
    {"--limit", 1, O_LIMIT, OFF(limit)},
    {"--from", 1, O_FROM, OFF(from)},
    {"--to", 1, O_TO, OFF(to)},
    {"--pubkey", 1, O_PUBKEY, OFF(pubkey)},
    {"-f", 0, O_FOLLOW, NOVAL},
    {"-n", 1, O_COUNT, OFF(count)},
    {"--not-op", 1, O_NOT_OP, NOVAL},
    {"--request-id", 1, O_REQUEST_ID, OFF(request_id)},
    {"--confirm", 0, O_CONFIRM, NOVAL},
    {"--force", 0, O_FORCE, NOVAL},
    {"--at", 1, O_AT, OFF(at)},
    {"--undo", 0, O_UNDO, NOVAL},
    {"--reason", 1, O_REASON, OFF(reason)},
    {"--as-of", 1, O_AS_OF, OFF(as_of)},
    {"--group-by", 1, O_GROUP_BY, OFF(group_by)},
    {"--lift", 0, O_LIFT, NOVAL},
    {"--withdraw", 0, O_WITHDRAW, NOVAL},
    {"--email", 1, O_EMAIL, OFF(email)},
    {"--phone", 1, O_PHONE, OFF(phone)},
    {"--field", 1, O_FIELD, OFF(field)},
    {"--from-json", 1, O_FROM_JSON, OFF(from_json)},
    {"--format", 1, O_FORMAT, OFF(format)},
    {"--config", 1, O_CONFIG, OFF(config)},
};

_Static_assert(sizeof(optdefs) / sizeof(optdefs[0]) == NOPTDEFS,
    "NOPTDEFS is the number of options");

const char *
opt_name(optbits bit)
{
	size_t i;

	for (i = 0; i < NOPTDEFS; i++)
		if (optdefs[i].bit & bit)
			return optdefs[i].name;
	return "an option";
}
