#!/usr/bin/env python3
"""Import circles of the C code: which .c file depends on which, and the circles among them.

    devenv/import-circles.py [REPO] [--edges]

A file depends on another when it includes the other's header (x.h of x.c) or names a function
or variable the other defines without `static` (a call, or a setting read).  Read from the
sources as text (comments and string literals removed), so the same count can be taken on any
checkout without building it.  Prints, for extension/ and gateway/ each, every circle (an
elementary cycle of the dependency graph, each once) and a last line
`import circles: extension N (...), gateway M (...)`; a tangle is a group of files that all
reach each other (N circles may run through one tangle).  --edges also lists every dependency.
"""
import os
import re
import sys

IDENT = re.compile(r"[A-Za-z_]\w*")
KEYWORDS = {"static", "extern", "typedef", "struct", "enum", "union", "const", "volatile",
            "inline", "unsigned", "signed", "register"}


def strip(text):
    """C text without comments, string or character literals (kept as empty quotes)."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
            out.append(" ")
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text[i] in "\"'":
            q, j = text[i], i + 1
            while j < n and text[j] != q:
                j += 2 if text[j] == "\\" else 1
            out.append(q + q)
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def without_preprocessor(text):
    lines, keep, cont = text.split("\n"), [], False
    for line in lines:
        directive = cont or line.lstrip().startswith("#")
        cont = directive and line.rstrip().endswith("\\")
        keep.append("" if directive else line)
    return "\n".join(keep)


def top_level_statements(text):
    """(statement text, has a body) at brace depth 0."""
    stmts, buf, depth, i = [], [], 0, 0
    for c in text:
        if c == "{":
            if depth == 0:
                buf.append("{")
            depth += 1
            continue
        if c == "}":
            depth -= 1
            if depth == 0:
                s = "".join(buf).strip()
                # a function body ends the statement; an initializer waits for its ';'
                if not re.search(r"=\s*\{$", s):
                    stmts.append((s, True))
                    buf = []
            continue
        if depth > 0:
            continue
        if c == ";":
            stmts.append(("".join(buf).strip(), False))
            buf = []
        else:
            buf.append(c)
    return stmts


def definitions(text):
    """Names of the functions and variables a file defines without static."""
    names = set()
    for stmt, body in top_level_statements(without_preprocessor(strip(text))):
        words = IDENT.findall(stmt)
        if not words or words[0] in ("typedef", "extern") or "static" in words:
            continue
        if body and "(" in stmt and not re.search(r"=\s*\{$", stmt):
            m = re.search(r"([A-Za-z_]\w*)\s*\(", stmt)
            if m:
                names.add(m.group(1))
            continue
        head = stmt.split("=", 1)[0]
        if "(" in head:
            continue            # a prototype or a macro call
        ids = [w for w in IDENT.findall(head) if w not in KEYWORDS]
        if len(ids) >= 2:
            names.add(ids[-1])
    return names


def graph(folder):
    files = sorted(f for f in os.listdir(folder) if f.endswith(".c"))
    texts = {f: open(os.path.join(folder, f), encoding="utf-8", errors="replace").read() for f in files}
    owner = {}
    for f in files:
        for name in definitions(texts[f]):
            owner.setdefault(name, f)
    edges = {f: {} for f in files}
    for f in files:
        for h in re.findall(r'^\s*#\s*include\s+"([^"]+)\.h"', texts[f], re.M):
            target = os.path.basename(h) + ".c"
            if target in texts and target != f:
                edges[f].setdefault(target, set()).add("#include \"%s.h\"" % h)
        used = set(IDENT.findall(without_preprocessor(strip(texts[f]))))
        for name in used:
            target = owner.get(name)
            if target and target != f:
                edges[f].setdefault(target, set()).add(name)
    return edges


def cycles(edges):
    """Every elementary cycle once, each starting at its smallest node."""
    found = []
    nodes = sorted(edges)
    for start in nodes:
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in sorted(edges[node]):
                if nxt == start:
                    found.append(path[:])
                elif nxt > start and nxt not in path:
                    stack.append((nxt, path + [nxt]))
    return found


def tangles(edges):
    """Groups of files that reach each other (strongly connected, more than one file)."""
    reach = {f: set() for f in edges}
    for f in edges:
        todo = list(edges[f])
        while todo:
            t = todo.pop()
            if t not in reach[f]:
                reach[f].add(t)
                todo.extend(edges[t])
    groups = []
    for f in sorted(edges):
        g = sorted({f} | {t for t in reach[f] if f in reach[t]})
        if len(g) > 1 and g not in groups:
            groups.append(g)
    return groups


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    repo = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    counts = []
    for part in ("extension", "gateway"):
        folder = os.path.join(repo, part)
        edges = graph(folder)
        found = cycles(edges)
        print("== %s: %d files, %d dependencies" % (part, len(edges), sum(len(v) for v in edges.values())))
        if "--edges" in sys.argv:
            for f in sorted(edges):
                for t in sorted(edges[f]):
                    print("   %s -> %s  (%s)" % (f, t, ", ".join(sorted(edges[f][t]))))
        for c in found:
            steps = []
            for a, b in zip(c, c[1:] + c[:1]):
                steps.append("%s -(%s)-> " % (a, ", ".join(sorted(edges[a][b])[:3])))
            print("   circle: " + "".join(steps) + c[0])
        groups = tangles(edges)
        for g in groups:
            print("   tangle: " + " ".join(g))
        counts.append("%s %d (%d tangle%s of %s files)" % (part, len(found), len(groups), "" if len(groups) == 1 else "s",
                                                         "+".join(str(len(g)) for g in groups) or "0"))
    print("import circles: " + ", ".join(counts))


if __name__ == "__main__":
    main()
