#!/usr/bin/env python3
"""The failing tests of one lrs-conformance run log (the runner's JSON), one line each."""
import json
import sys

doc = json.load(open(sys.argv[1]))


def walk(node, path):
    kids = node.get("tests") or []
    if not kids and node.get("status") == "failed":
        print("  FAIL %s\n       %s" % (" > ".join(p for p in path if p)[-260:],
                                       str(node.get("error") or "").replace("\n", " ")[:240]))
    for k in kids:
        walk(k, path + [(k.get("title") or k.get("name") or "")[:90]])


walk(doc.get("log", {}), [])
