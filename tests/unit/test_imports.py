"""Who may import whom (DESIGN.md), and no module-level import cycle.

A cycle only fails when its modules are imported in one particular order, so a
suite that happens to import them the other way round stays green while
gunicorn, importing ``dashapp`` first, cannot start (it happened: the backtest
and a model imported each other). The graph is read from the source, so every
order is checked at once.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.support.frames import ROOT

PACKAGES = ("dashapp", "pipeline", "forecasting", "storage")
#: DESIGN.md's folder rules: each package and the packages of ours it may import
ALLOWED = {
    "dashapp": {"dashapp", "pipeline", "storage", "forecasting"},
    "pipeline": {"pipeline", "forecasting", "storage"},
    "forecasting": {"forecasting"},
    "storage": {"storage"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def top_level_imports(path: Path, inside_functions: bool = False) -> set[str]:
    """Modules of ours imported when ``path`` is imported (with ``inside_functions``,
    also those a function imports when it runs)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree) if inside_functions else tree.body:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # ``from forecasting.models import total_scaled`` imports a submodule
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in PACKAGES}


def import_graph(inside_functions: bool = False) -> dict[str, set[str]]:
    files = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")]
    modules = {module_name(p): p for p in files}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges = set()
        for target in top_level_imports(path, inside_functions):
            if target in modules:
                edges.add(target)
            # importing a.b.c runs a/__init__ and a/b/__init__ first
            parts = target.split(".")
            parents = (".".join(parts[:i]) for i in range(1, len(parts)))
            edges.update(parent for parent in parents if parent in modules)
        edges.discard(name)
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


@pytest.mark.parametrize("inside_functions", [False, True], ids=["module level", "anywhere"])
def test_no_import_cycle_between_files(inside_functions):
    """Neither at module level (where a cycle breaks an import order) nor through an
    import inside a function (which only hides the circle from the interpreter)."""
    graph = import_graph(inside_functions)
    # a submodule "importing" its parent package is implied by Python, not a real edge back
    pruned = {a: {b for b in edges if not a.startswith(b + ".")} for a, edges in graph.items()}
    assert find_cycle(pruned) is None, f"import cycle: {' -> '.join(find_cycle(pruned))}"


def test_the_cycle_check_sees_a_cycle():
    graph = {"a.x": {"a.y"}, "a.y": {"a.z"}, "a.z": {"a.x"}}
    assert find_cycle(graph) == ["a.x", "a.y", "a.z", "a.x"]


def test_packages_import_only_what_design_allows():
    """Also what a function imports when it runs: a late import is still a dependency."""
    broken = [
        f"{a} imports {b}"
        for a, edges in import_graph(inside_functions=True).items()
        for b in edges
        if b.split(".")[0] not in ALLOWED[a.split(".")[0]]
    ]
    assert not broken, broken


def test_only_execution_imports_a_step():
    """A step is a stage of a run: what two rooms share lives outside ``pipeline/steps``."""
    reaching = [
        f"{a} imports {b}"
        for a, edges in import_graph(inside_functions=True).items()
        for b in edges
        if b.startswith("pipeline.steps.") and a != "pipeline.execution"
    ]
    assert not reaching, reaching


def test_the_graph_reads_imports_inside_functions(tmp_path):
    module = tmp_path / "late.py"
    module.write_text("def f():\n    from pipeline.steps.train import train\n")
    assert top_level_imports(module) == set()
    assert "pipeline.steps.train" in top_level_imports(module, inside_functions=True)


def test_the_readme_layout_names_every_module():
    """A newcomer finds each module's room from the README's layout."""
    text = (ROOT / "README.md").read_text()
    layout = text[text.index("## Layout") : text.index("## Accuracy")]
    words = set(re.findall(r"[a-z_]+", layout))
    missing = [
        module_name(p)
        for pkg in PACKAGES
        for p in (ROOT / pkg).rglob("*.py")
        if p.stem not in ("__init__",) and "migrations" not in p.parts and p.stem not in words
    ]
    assert not missing, missing
