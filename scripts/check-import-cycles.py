#!/usr/bin/env python3
"""Finds import cycles between the modules of a Rust crate, from its `use` paths.

A module imports another when its source names it through `crate::...` or `super::...`
(in a `use` or inline). Test modules (`tests.rs`, `#[cfg(test)] mod tests { ... }` bodies)
are left out: tests may reach anywhere. Cycles are strongly connected components of more
than one module; a module importing its own children is not a cycle by itself.

    scripts/check-import-cycles.py crates/app/src gateway/src

Exits 1 if a crate has a cycle, printing each with the imports that close it. Before that it
checks itself on a made-up crate (a cycle through `use crate::`, one through an inline
`super::` path, and a parent using its child, which is no cycle), so a checker that stopped
seeing imports fails instead of passing everything.
"""
from __future__ import annotations

import argparse
import pathlib
import re
import sys


def module_of(src: pathlib.Path, path: pathlib.Path) -> str:
    rel = path.relative_to(src).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return "::".join(parts)


def strip_tests_and_comments(text: str) -> str:
    text = re.sub(r"(?m)//.*$", "", text)
    m = re.search(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{", text)
    if m:
        text = text[: m.start()]
    return text


def expand_use(tree: str) -> list[str]:
    """`a::{b, c::{d, self}}` -> ["a::b", "a::c::d", "a::c"]."""
    tree = tree.strip()
    m = re.match(r"^(.*?)\{(.*)\}$", tree, re.S)
    if not m:
        tree = re.sub(r"\s+as\s+\w+$", "", tree)
        return [tree.removesuffix("::self")]
    prefix, body = m.group(1), m.group(2)
    items, depth, cur = [], 0, ""
    for ch in body:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
        else:
            cur += ch
    items.append(cur)
    out = []
    for item in items:
        item = item.strip()
        if not item:
            continue
        if re.match(r"^self(\s+as\s+\w+)?$", item):
            out.append(prefix.rstrip(":"))
        else:
            out.extend(expand_use(prefix + item))
    return out


def references(module: str, text: str) -> set[str]:
    """Absolute module paths (crate-relative, `::`-joined) named in `text`."""
    paths = []
    for m in re.finditer(r"\buse\s+((?:crate|super|self)::[^;]*);", text, re.S):
        paths.extend(expand_use(m.group(1)))
    paths.extend(re.findall(r"(?<![\w:])((?:crate|super)(?:::\w+)+)", text))
    out = set()
    here = module.split("::") if module else []
    for p in paths:
        parts = p.split("::")
        if parts[0] == "crate":
            parts = parts[1:]
        elif parts[0] in ("super", "self"):
            base = list(here)
            while parts and parts[0] in ("super", "self"):
                if parts[0] == "super":
                    base = base[:-1]
                parts = parts[1:]
            parts = base + parts
        out.add("::".join(p for p in parts if p))
    return out


def resolve(name: str, modules: set[str]) -> str | None:
    parts = name.split("::")
    while parts:
        candidate = "::".join(parts)
        if candidate in modules:
            return candidate
        parts = parts[:-1]
    return None


def graph(src: pathlib.Path) -> dict[str, dict[str, None]]:
    files = {
        module_of(src, p): p
        for p in sorted(src.rglob("*.rs"))
        if p.name != "tests.rs" and "tests" not in p.relative_to(src).parts[:-1]
    }
    modules = set(files)
    edges: dict[str, dict[str, None]] = {m: {} for m in modules}
    for module, path in files.items():
        text = strip_tests_and_comments(path.read_text(encoding="utf-8"))
        for ref in references(module, text):
            target = resolve(ref, modules)
            # A parent naming its own child (`mod x; use x::...`) or a module naming itself
            # is structure, not an import.
            if target is None or target == module or target.startswith(module + "::") or not target:
                continue
            edges[module][target] = None
    return edges


def cycles(edges: dict[str, dict[str, None]]) -> list[list[str]]:
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(out)


def self_test() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        src = pathlib.Path(tmp)
        (src / "lib.rs").write_text("pub mod a;\npub mod b;\npub mod c;\npub mod d;\n")
        (src / "a.rs").write_text("use crate::{b::{self, X}, c};\n")
        (src / "b.rs").write_text("pub struct X;\nfn f() { crate::a::g(); }\n")
        (src / "c").mkdir()
        (src / "c" / "mod.rs").write_text("mod inner;\nuse inner::Y;\n")
        (src / "c" / "inner.rs").write_text("pub fn y() { super::super::d::z(); }\n")
        (src / "d.rs").write_text("// use crate::c;\npub fn z() {}\n#[cfg(test)]\nmod tests { use crate::c; }\n")
        found = cycles(graph(src))
        if found != [["a", "b"]]:
            sys.exit(f"check-import-cycles self-test: expected the cycle a <-> b only, found {found}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("src", nargs="+", help="a crate's src directory")
    args = ap.parse_args()
    self_test()
    status = 0
    for src in args.src:
        edges = graph(pathlib.Path(src))
        found = cycles(edges)
        for comp in found:
            status = 1
            print(f"IMPORT CYCLE in {src}: {' '.join(comp)}")
            for a in comp:
                for b in edges[a]:
                    if b in comp:
                        print(f"    {a} -> {b}")
        print(f"{src}: {len(edges)} modules, {len(found) or 'no'} import cycle(s)")
    return status


if __name__ == "__main__":
    sys.exit(main())
