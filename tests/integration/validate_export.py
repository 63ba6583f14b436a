#!/usr/bin/python3
"""Validate a privd subject export against docs/subject-export.schema.json.

usage: validate_export.py SCHEMA [DOC]    (DOC: a file; default stdin)

Exit 0 if the document is valid, 1 (with the reasons on stderr) if not,
2 if the schema itself is unusable: not JSON Schema draft 2020-12, or a
member of the document without a "description" (every member is
documented in the schema).

It validates with the jsonschema module (Debian: python3-jsonschema) when
that is installed, and always with the small validator below too, which
knows the keywords the schema uses and refuses a schema that uses any
other, so that the test means the same wherever it runs. Values are never
printed: a reason names the path in the document and the rule broken.
"""

import json
import re
import sys

DRAFT = "https://json-schema.org/draft/2020-12/schema"
KNOWN = {
    "$schema", "$id", "$defs", "$ref", "title", "description", "type",
    "properties", "required", "additionalProperties", "items", "minItems",
    "minLength", "maxLength", "minimum", "enum", "const", "anyOf", "oneOf",
    "not", "format", "pattern",
}
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?"
                  r"(Z|[+-]\d{2}:\d{2})$")


def is_type(v, t):
    if t == "object":
        return isinstance(v, dict)
    if t == "array":
        return isinstance(v, list)
    if t == "string":
        return isinstance(v, str)
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if t == "boolean":
        return isinstance(v, bool)
    if t == "null":
        return v is None
    raise ValueError("unknown type " + t)


def same(a, b):
    """JSON equality: true is not 1."""
    return type(a) is type(b) and a == b


class Mini:
    def __init__(self, root):
        self.root = root

    def resolve(self, ref):
        if not ref.startswith("#/"):
            raise ValueError("only local $ref: " + ref)
        node = self.root
        for part in ref[2:].split("/"):
            node = node[part]
        return node

    def errors(self, s, v, path):
        """The reasons v breaks schema s (a list; empty: valid)."""
        out = []
        for k in s:
            if k not in KNOWN:
                raise ValueError("keyword %s not supported" % k)
        if "$ref" in s:
            out += self.errors(self.resolve(s["$ref"]), v, path)
        if "type" in s:
            ts = s["type"] if isinstance(s["type"], list) else [s["type"]]
            if not any(is_type(v, t) for t in ts):
                return out + ["%s: not of type %s" % (path, s["type"])]
        if "const" in s and not same(v, s["const"]):
            out.append("%s: not the constant" % path)
        if "enum" in s and not any(same(v, e) for e in s["enum"]):
            out.append("%s: not one of the values allowed" % path)
        if isinstance(v, str):
            if "minLength" in s and len(v) < s["minLength"]:
                out.append("%s: too short" % path)
            if "maxLength" in s and len(v) > s["maxLength"]:
                out.append("%s: too long" % path)
            if "pattern" in s and not re.search(s["pattern"], v):
                out.append("%s: does not match its pattern" % path)
            if s.get("format") == "date-time" and not TIME.match(v):
                out.append("%s: not an RFC 3339 date-time" % path)
        if is_type(v, "number") and "minimum" in s and v < s["minimum"]:
            out.append("%s: below its minimum" % path)
        if isinstance(v, list):
            if "minItems" in s and len(v) < s["minItems"]:
                out.append("%s: too few items" % path)
            if "items" in s:
                for i, item in enumerate(v):
                    out += self.errors(s["items"], item, "%s[%d]" % (path, i))
        if isinstance(v, dict):
            for r in s.get("required", []):
                if r not in v:
                    out.append("%s: member %s missing" % (path, r))
            props = s.get("properties", {})
            for k, item in v.items():
                if k in props:
                    out += self.errors(props[k], item, path + "." + k)
                elif s.get("additionalProperties") is False:
                    out.append("%s: member %s not allowed" % (path, k))
        if "anyOf" in s:
            if not any(not self.errors(a, v, path) for a in s["anyOf"]):
                out.append("%s: matches none of anyOf" % path)
        if "oneOf" in s:
            n = sum(1 for a in s["oneOf"] if not self.errors(a, v, path))
            if n != 1:
                out.append("%s: matches %d of oneOf, not 1" % (path, n))
        if "not" in s and not self.errors(s["not"], v, path):
            out.append("%s: matches what it must not" % path)
        return out


def undocumented(s, path):
    """Members (properties) of the schema without a description."""
    out = []
    if isinstance(s, dict):
        for k, sub in s.get("properties", {}).items():
            if "description" not in sub:
                out.append(path + ".properties." + k)
        for k, sub in s.items():
            if isinstance(sub, (dict, list)):
                out += undocumented(sub, path + "." + k)
    elif isinstance(s, list):
        for i, sub in enumerate(s):
            out += undocumented(sub, "%s[%d]" % (path, i))
    return out


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__.split("\n")[2], file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    if schema.get("$schema") != DRAFT:
        print("the schema is not draft 2020-12", file=sys.stderr)
        return 2
    missing = undocumented(schema, "$")
    if missing:
        for m in missing:
            print("no description: " + m, file=sys.stderr)
        return 2
    if len(sys.argv) == 3:
        with open(sys.argv[2], encoding="utf-8") as f:
            text = f.read()
    else:
        text = sys.stdin.read()
    try:
        doc = json.loads(text)
    except ValueError as e:
        print("not JSON: line %d column %d" % (e.lineno, e.colno),
              file=sys.stderr)
        return 1
    reasons = Mini(schema).errors(schema, doc, "$")
    try:
        import jsonschema
    except ImportError:
        print("python3-jsonschema is not installed: validated with the "
              "built-in validator only", file=sys.stderr)
    else:
        cls = jsonschema.Draft202012Validator
        cls.check_schema(schema)
        for e in cls(schema, format_checker=cls.FORMAT_CHECKER).iter_errors(
                doc):
            where = "$" + "".join(
                "[%d]" % p if isinstance(p, int) else "." + p
                for p in e.absolute_path)
            reasons.append("%s: jsonschema: %s" % (where, e.validator))
    for r in reasons:
        print(r, file=sys.stderr)
    return 1 if reasons else 0


if __name__ == "__main__":
    sys.exit(main())
