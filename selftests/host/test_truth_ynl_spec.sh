#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Host test of Documentation/netlink/specs/truth.yaml, the YNL description
# of the "truth" family:
#   1. it validates against the kernel's genetlink.yaml JSON schema (from
#      linux-source-6.12, extracted by scripts/deps.sh), with Debian's
#      python3-yaml and python3-jsonschema under /usr/bin/python3;
#   2. every operation's attributes exist in its attribute set;
#   3. every name the spec implies (commands, attributes, enums, flags,
#      constants, the family and multicast group names) exists in
#      include/uapi/linux/truth.h with the value the spec implies, and
#      every attribute of the header's enums is in the spec.
# Each check is its own TAP line.
set -u
cd "$(dirname "$0")/../.."

schema=.cache/linux-src/Documentation/netlink/genetlink.yaml
py=/usr/bin/python3
if [ ! -f "$schema" ] || ! "$py" -c 'import yaml, jsonschema' 2>/dev/null; then
	echo "TAP version 13"
	echo "1..1"
	echo "ok 1 ynl spec # SKIP genetlink.yaml or python3-yaml/jsonschema missing (run scripts/deps.sh)"
	exit 0
fi

exec "$py" - "$schema" Documentation/netlink/specs/truth.yaml include/uapi/linux/truth.h <<'PYEOF'
import re
import sys

import jsonschema
import yaml

schema_path, spec_path, header_path = sys.argv[1:4]
results = []


def check(name, problems):
    results.append((name, problems))


schema = yaml.safe_load(open(schema_path))
spec = yaml.safe_load(open(spec_path))

# 1. the schema
errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(spec), key=str)
check("spec validates against genetlink.yaml",
      ["%s: %s" % ("/".join(map(str, e.path)), e.message) for e in errors])

# 2. operations name attributes of their set
sets = {s["name"]: s for s in spec["attribute-sets"]}
problems = []
for op in spec["operations"]["list"]:
    aset = sets.get(op.get("attribute-set"))
    if aset is None:
        problems.append("%s: unknown attribute set %s" % (op["name"], op.get("attribute-set")))
        continue
    names = {a["name"] for a in aset["attributes"]}
    lists = []
    for kind in ("do", "dump"):
        for part in ("request", "reply"):
            lists += op.get(kind, {}).get(part, {}).get("attributes", [])
    lists += op.get("event", {}).get("attributes", [])
    problems += ["%s: no attribute %s in set %s" % (op["name"], a, aset["name"])
                 for a in lists if a not in names]
    for a in aset["attributes"]:
        if a.get("nested-attributes") and a["nested-attributes"] not in sets:
            problems.append("%s.%s: unknown nested set" % (aset["name"], a["name"]))
check("operations only use attributes of their set", problems)

# 3. the header
text = open(header_path).read()
text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
defines = {}
for m in re.finditer(r"^#define\s+(\w+)\s+(.+)$", text, flags=re.M):
    defines[m.group(1)] = m.group(2).strip()
enums = {}
for m in re.finditer(r"enum\s+(\w+)\s*\{(.*?)\}", text, flags=re.S):
    values, nxt = {}, 0
    for item in m.group(2).split(","):
        item = item.strip()
        if not item:
            continue
        if "=" in item:
            k, v = [x.strip() for x in item.split("=", 1)]
            v = v.replace("1U << ", "1 << ")
            try:
                nxt = eval(v, {}, dict(values))
            except Exception:
                nxt = v
        else:
            k = item
        values[k] = nxt
        if isinstance(nxt, int):
            nxt += 1
    enums[m.group(1)] = values


def c(name):
    return name.upper().replace("-", "_")


fam = c(spec["name"])
problems = []
if defines.get("TRUTH_GENL_NAME") != '"%s"' % spec["name"]:
    problems.append("TRUTH_GENL_NAME is %s" % defines.get("TRUTH_GENL_NAME"))
for g in spec["mcast-groups"]["list"]:
    d = "%s_MCGRP_%s" % (fam, c(g["name"]))
    if defines.get(d) != '"%s"' % g["name"]:
        problems.append("%s is %s" % (d, defines.get(d)))
check("family and multicast group names", problems)

problems = []
ops = spec["operations"]
cmd_enum = enums.get(ops["enum-name"], {})
prefix = c(ops["name-prefix"])
for i, op in enumerate(ops["list"], start=1):
    want = op.get("value", i)
    got = cmd_enum.get(prefix + c(op["name"]))
    if got != want:
        problems.append("%s%s = %s, spec says %s" % (prefix, c(op["name"]), got, want))
if len([k for k in cmd_enum if not k.startswith("__") and not k.endswith("UNSPEC")]) != len(ops["list"]):
    problems.append("header has commands the spec does not")
check("commands match enum truth_cmd", problems)

for aset in spec["attribute-sets"]:
    problems = []
    prefix = c(aset["name-prefix"])
    values = enums.get(aset["enum-name"])
    if values is None:
        check("attribute set %s" % aset["name"], ["no enum %s in the header" % aset["enum-name"]])
        continue
    for i, a in enumerate(aset["attributes"], start=1):
        want = a.get("value", i)
        got = values.get(prefix + c(a["name"]))
        if got != want:
            problems.append("%s%s = %s, spec says %s" % (prefix, c(a["name"]), got, want))
    spec_names = {prefix + c(a["name"]) for a in aset["attributes"]}
    extra = [k for k in values if k not in spec_names and not k.startswith("__")
             and not k.endswith("_UNSPEC")]
    if extra:
        problems.append("in the header but not the spec: %s" % ", ".join(extra))
    if "__%sMAX" % prefix not in values:
        problems.append("no __%sMAX" % prefix)
    check("attribute set %s matches enum %s" % (aset["name"], aset["enum-name"]), problems)

problems = []
for d in spec.get("definitions", []):
    name = "%s_%s" % (fam, c(d["name"]))
    if d["type"] == "const":
        got = defines.get(name, "").rstrip("ULL").rstrip("U")
        if got != str(d["value"]):
            problems.append("%s = %s, spec says %s" % (name, defines.get(name), d["value"]))
    else:
        members = {}
        for e in enums.values():
            members.update(e)
        for i, e in enumerate(d["entries"]):
            ename = e["name"] if isinstance(e, dict) else e
            want = (1 << i) if d["type"] == "flags" else i
            got = members.get("%s_%s" % (name, c(ename)))
            if got != want:
                problems.append("%s_%s = %s, spec says %s" % (name, c(ename), got, want))
        if d.get("render-max") and "__%s_MAX" % name not in members:
            problems.append("no __%s_MAX" % name)
check("definitions match the header's constants, enums and flags", problems)

print("TAP version 13")
print("1..%d" % len(results))
failed = 0
for i, (name, problems) in enumerate(results, start=1):
    for p in problems:
        print("#   %s" % p)
    if problems:
        failed += 1
        print("not ok %d %s" % (i, name))
    else:
        print("ok %d %s" % (i, name))
sys.exit(1 if failed else 0)
PYEOF
