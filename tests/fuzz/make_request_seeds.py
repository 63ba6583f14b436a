#!/usr/bin/python3
"""Write the seed corpus of fuzz_request into tests/fuzz/corpus/request/.

Each seed is one byte choosing the principal (0 svc, 1 auditor, 2 admin)
followed by a serialised privd.v1.Request, one of every operation, valid
and not. Run from the repository root with Debian's python3 and protoc:
    /usr/bin/python3 tests/fuzz/make_request_seeds.py
"""
import hashlib
import os
import subprocess
import sys
import tempfile

out = os.path.join("tests", "fuzz", "corpus", "request")
tmp = tempfile.mkdtemp()
subprocess.run(["protoc", "--proto_path=proto", f"--python_out={tmp}",
                "privd.proto"], check=True)
sys.path.insert(0, tmp)
import privd_pb2 as pb  # noqa: E402

SVC, AUDITOR, ADMIN = 0, 1, 2
seeds = []


def req(who, **kw):
    r = pb.Request(request_id=kw.pop("rid", 42), purpose=kw.pop("purpose", ""))
    for k, v in kw.items():
        getattr(r, k).CopyFrom(v)
    seeds.append(bytes([who]) + r.SerializeToString())


def fields(**kw):
    return [pb.Field(name=k, value=v.encode() if isinstance(v, str) else v)
            for k, v in kw.items()]


req(SVC, ping=pb.PingRequest())
req(SVC, purpose="invoicing", put=pb.PutRequest(
    register="customers", subject="c-1",
    fields=fields(name="Maija", email="maija@example.fi", score="7",
                  notes="hello\nworld", blob=b"\x00\xff")))
req(SVC, purpose="invoicing", put=pb.PutRequest(
    register="customers", subject="c-1", fields=fields(phone="+358 40 123")))
req(SVC, purpose="invoicing", put=pb.PutRequest(
    register="customers", subject="c-2", fields=fields(notes="131052-308T")))
req(SVC, purpose="marketing", put=pb.PutRequest(
    register="customers", subject="c-1", fields=fields(name="x")))
req(SVC, purpose="invoicing", get=pb.GetRequest(
    register="customers", subject="c-1", fields=["name", "email"]))
req(SVC, purpose="invoicing", get=pb.GetRequest(
    register="customers", subject="c-1"))
req(SVC, purpose="invoicing", delete=pb.DeleteRequest(
    register="customers", subject="c-1", fields=["phone"]))
req(SVC, purpose="invoicing", delete=pb.DeleteRequest(
    register="customers", subject="c-1"))
req(ADMIN, policy_get=pb.PolicyGetRequest())
req(ADMIN, policy_get=pb.PolicyGetRequest(version=1))
req(ADMIN, policy_history=pb.PolicyHistoryRequest())
req(ADMIN, policy_apply=pb.PolicyApplyRequest(
    replaces_version=1, policy_json='{"controller": {}}'))
req(ADMIN, audit_prune=pb.AuditPruneRequest(confirm=True))
req(AUDITOR, audit_query=pb.AuditQueryRequest(limit=10))
req(AUDITOR, audit_query=pb.AuditQueryRequest(
    subject="c-1", newest_first=True, ops=["get", "put"]))
req(AUDITOR, audit_query=pb.AuditQueryRequest(
    principal="svc", since_us=1, until_us=2**62, not_ops=["audit_query"]))
req(AUDITOR, audit_query=pb.AuditQueryRequest(
    from_seq=2, follow=True, limit=5))
req(AUDITOR, audit_checkpoints=pb.AuditCheckpointsRequest(from_seq=1))
req(AUDITOR, audit_pubkey=pb.AuditPubkeyRequest())
seeds.append(bytes([SVC]) + b"\xff")
seeds.append(bytes([SVC]) + b"\x08")

os.makedirs(out, exist_ok=True)
for s in seeds:
    name = hashlib.sha1(s).hexdigest()
    with open(os.path.join(out, name), "wb") as f:
        f.write(s)
print(f"{len(seeds)} seeds in {out}")
