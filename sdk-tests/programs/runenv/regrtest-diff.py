#!/usr/bin/python3
"""Compare two runs of CPython's regression tests, test case by test case.

  regrtest-diff.py NATIVE.xml IMAGE.xml EXPLAINED

NATIVE.xml and IMAGE.xml are regrtest's --junit-xml reports of the same
tests. Prints each module's counts on both sides, then every test case whose
outcome differs, with its explanation from EXPLAINED (lines "test-case-id
reason"; # starts a comment). Exits 1 if a difference is not explained, or an
explanation names a test case that no longer differs.
"""

import collections
import sys
import xml.etree.ElementTree as ET


def outcomes(report):
    """{test case id: ok | skipped | failure | error, with the reason given}"""
    found = {}
    for case in ET.parse(report).iter("testcase"):
        kinds = [child for child in case if child.tag in ("skipped", "failure", "error")]
        if not kinds:
            found[case.get("name")] = "ok"
        else:
            why = (kinds[0].get("message") or "").strip().splitlines()
            found[case.get("name")] = kinds[0].tag + (f" ({why[-1][:100]})" if why else "")
    return found


def module(case):
    parts = case.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "test" else parts[0]


def counts(found, name):
    c = collections.Counter(kind.split()[0] for case, kind in found.items() if module(case) == name)
    return f"{sum(c.values())} run, {c['ok']} ok, {c['skipped']} skipped, {c['failure']} failed, {c['error']} errors"


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: regrtest-diff.py NATIVE.xml IMAGE.xml EXPLAINED")
    native, image = outcomes(sys.argv[1]), outcomes(sys.argv[2])
    explained = {}
    with open(sys.argv[3]) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                case, _, reason = line.strip().partition(" ")
                explained[case] = reason.strip()
    for name in sorted({module(case) for case in native} | {module(case) for case in image}):
        print(f"{name}: natively {counts(native, name)}; in the image {counts(image, name)}")
    bad = 0
    for case in sorted(set(native) | set(image)):
        was, now = native.get(case, "absent"), image.get(case, "absent")
        if was.split()[0] == now.split()[0]:
            continue
        reason = explained.get(case)
        print(f"  {case}: natively {was}, in the image {now}: {reason or 'NOT EXPLAINED'}")
        bad += reason is None
    for case in sorted(explained):
        was, now = native.get(case, "absent"), image.get(case, "absent")
        if was.split()[0] == now.split()[0]:
            print(f"  {case}: explained, but no longer differs ({was} natively, {now} in the image)")
            bad += 1
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
