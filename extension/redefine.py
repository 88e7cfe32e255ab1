#!/usr/bin/env python3
"""Upgrade scripts without a second copy of any function.

An upgrade script lms--A--B.sql is assembled from the hand-written steps in
extension/upgrade/A--B/NN_*.sql, in name order.  A step named NN_redefine.sql is a
placeholder: in its place this script writes every statement of the current install
script that can safely run again over an older install -- functions (as CREATE OR
REPLACE), views (CREATE OR REPLACE VIEW), triggers (CREATE OR REPLACE TRIGGER),
comments, grants and revokes.  Tables, indexes, types, rows and roles are never
re-run: the hand-written steps before the placeholder add or change them, and steps
after it may use the redefined functions (backfills).

tests/upgrade/run.sh compares an updated install with a fresh one object by object,
so anything a step forgot is caught there.

    redefine.py STEP_DIR [--whole PART]... INSTALL_PARTS...   > lms--A--B.sql

A part given with --whole (the privileges file, written to be applied again after every
object exists) is re-run as it is, all of it, after the other parts' statements.
"""
import os
import re
import sys

REDEFINE = re.compile(r"^\d+_redefine\.sql$")


def statements(sql):
    """Split SQL text into statements at top-level semicolons (quotes, dollar quotes,
    quoted identifiers, comments and BEGIN ATOMIC bodies respected).  Comment-only text between statements
    is dropped."""
    out, buf, i, n = [], [], 0, len(sql)
    while i < n:
        c = sql[i]
        if sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j + 1
            buf.append(sql[i:j])
            i = j
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            j = n if j < 0 else j + 2
            buf.append(sql[i:j])
            i = j
        elif c in ("'", '"'):
            j = i + 1
            while j < n:
                if sql[j] == c:
                    if j + 1 < n and sql[j + 1] == c:
                        j += 2
                        continue
                    break
                j += 1
            buf.append(sql[i:j + 1])
            i = j + 1
        elif c == "$":
            m = re.match(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$", sql[i:])
            if m:
                tag = m.group(0)
                j = sql.find(tag, i + len(tag))
                j = n if j < 0 else j + len(tag)
                buf.append(sql[i:j])
                i = j
            else:
                buf.append(c)
                i += 1
        elif c == ";" and inside_atomic_body("".join(buf)):
            buf.append(c)
            i += 1
        elif c == ";":
            buf.append(";")
            out.append("".join(buf))
            buf = []
            i += 1
        else:
            buf.append(c)
            i += 1
    rest = "".join(buf)
    if strip_comments(rest).strip():
        sys.exit("redefine.py: text after the last statement: %r" % rest.strip()[:80])
    return out


def inside_atomic_body(text):
    """True while a BEGIN ATOMIC body is open: its statements end with semicolons too, the
    body itself ends with END."""
    text = strip_comments(text)
    return (re.search(r"\bBEGIN\s+ATOMIC\b", text, re.I) is not None
            and re.search(r"\bEND\s*$", text, re.I) is None)


def strip_comments(stmt):
    """Text without its comments and psql \\echo lines: only for checking that nothing but
    comments is left, never for rewriting a statement."""
    stmt = re.sub(r"(?m)^\\echo.*$", "", stmt)
    stmt = re.sub(r"--[^\n]*", "", stmt)
    return re.sub(r"/\*.*?\*/", "", stmt, flags=re.S)


def strip_leading_comments(stmt):
    """The statement from its first keyword on (comments and \\echo lines before it dropped)."""
    while True:
        stmt = stmt.lstrip()
        if stmt.startswith("--") or stmt.startswith("\\echo"):
            nl = stmt.find("\n")
            stmt = "" if nl < 0 else stmt[nl + 1:]
        elif stmt.startswith("/*"):
            stmt = stmt[stmt.find("*/") + 2:]
        else:
            return stmt


# (pattern of a statement's head, replacement or None to keep it as it is)
RERUNNABLE = [
    (re.compile(r"CREATE\s+(OR\s+REPLACE\s+)?FUNCTION\b", re.I), "CREATE OR REPLACE FUNCTION"),
    (re.compile(r"CREATE\s+(OR\s+REPLACE\s+)?PROCEDURE\b", re.I), "CREATE OR REPLACE PROCEDURE"),
    (re.compile(r"CREATE\s+(OR\s+REPLACE\s+)?VIEW\b", re.I), "CREATE OR REPLACE VIEW"),
    (re.compile(r"CREATE\s+(OR\s+REPLACE\s+)?TRIGGER\b", re.I), "CREATE OR REPLACE TRIGGER"),
    (re.compile(r"COMMENT\s+ON\b", re.I), None),
    (re.compile(r"GRANT\b", re.I), None),
    (re.compile(r"REVOKE\b", re.I), None),
]


def rerunnable(stmt):
    """The statement rewritten to run again over an older install, or None."""
    body = strip_leading_comments(stmt).rstrip()
    for head, replacement in RERUNNABLE:
        m = head.match(body)
        if m:
            return body if replacement is None else replacement + body[m.end():]
    return None


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    step_dir, args, parts, whole = sys.argv[1], sys.argv[2:], [], []
    while args:
        if args[0] == "--whole" and len(args) > 1:
            whole.append(args[1])
            args = args[2:]
        else:
            parts.append(args.pop(0))
    steps = sorted(f for f in os.listdir(step_dir) if f.endswith(".sql"))
    if sum(1 for f in steps if REDEFINE.match(f)) != 1:
        sys.exit("redefine.py: %s needs exactly one NN_redefine.sql step" % step_dir)
    w = sys.stdout.write
    w("-- Generated by extension/redefine.py from %s and the install script parts: do not edit.\n"
      % step_dir)
    w("\\echo Use \"ALTER EXTENSION lms UPDATE\" to load this file. \\quit\n")
    for f in steps:
        w("\n-- ==== %s\n" % f)
        if REDEFINE.match(f):
            for part in parts:
                if part in whole:
                    continue
                with open(part) as fh:
                    for stmt in statements(fh.read()):
                        again = rerunnable(stmt)
                        if again is not None:
                            w("\n-- from %s\n%s\n" % (os.path.basename(part), again))
            for part in whole:
                with open(part) as fh:
                    w("\n-- all of %s\n%s" % (os.path.basename(part), fh.read()))
        else:
            with open(os.path.join(step_dir, f)) as fh:
                w(fh.read())


if __name__ == "__main__":
    main()
