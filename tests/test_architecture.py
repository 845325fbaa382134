"""The house keeps its shape: the stages import only from themselves and from the stages below them, nothing imports
the command line, and there is no import cycle (docs/design.md, "Shape of the code").

Read from the code's own import statements (ast), so a new module is checked the day it is written; a new package
must be given its floor here.
"""

from __future__ import annotations

import ast

from tests.conftest import ROOT

PACKAGE = ROOT / "ci_carbon"
# Floor of each part of the package, bottom up: a module may import its own part and any lower floor.
FLOORS = {
    "__init__": 0, "_version": 0, "errors": 0, "redact": 0, "resources": 0,  # _version: hatch_build.py
    "core": 1,
    "sources": 2,
    "advice": 3,
    "assemble": 4,
    "compare": 5,
    "render": 6,
    "publish": 7,
    "summary": 8,
    "cli": 9, "__main__": 9,
}


def _part(module: str) -> str:
    return module.split(".")[1] if "." in module else "__init__"


def _imports() -> dict[str, set[str]]:
    """module → the ci_carbon modules it imports (at any depth of the file, lazy imports included)."""
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(ROOT).with_suffix("")
        name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ci_carbon"):
                found.add(node.module)
                found.update(f"{node.module}.{a.name}" for a in node.names
                             if (PACKAGE / node.module.replace("ci_carbon.", "").replace(".", "/") / a.name).exists()
                             or (PACKAGE / f"{node.module.replace('ci_carbon.', '').replace('.', '/')}/{a.name}.py"
                                 ).exists())
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith("ci_carbon"))
        graph[name] = found - {name}
    return graph


GRAPH = _imports()


def test_every_part_has_a_floor():
    parts = {_part(m) for m in GRAPH}
    assert parts <= set(FLOORS), f"give these parts a floor in FLOORS: {sorted(parts - set(FLOORS))}"


def test_no_stage_imports_a_later_one():
    wrong = sorted(f"{m} -> {i}" for m, imported in GRAPH.items() for i in imported
                   if _part(i) != _part(m) and FLOORS.get(_part(i), 99) > FLOORS.get(_part(m), 99))
    assert wrong == []


def test_nothing_imports_the_command_line():
    assert sorted(f"{m} -> {i}" for m, imported in GRAPH.items() for i in imported
                  if _part(i) == "cli" and _part(m) not in ("cli", "__main__")) == []


def test_no_import_cycle():
    modules = {m: {i for i in imported if i in GRAPH} for m, imported in GRAPH.items()}
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        if module in path:
            raise AssertionError("import cycle: " + " -> ".join((*path[path.index(module):], module)))
        if module in done:
            return
        for nxt in modules[module]:
            if nxt != module.rsplit(".", 1)[0]:  # a module importing its own package's face is not a cycle
                visit(nxt, (*path, module))
        done.add(module)

    for module in sorted(modules):
        visit(module, ())
