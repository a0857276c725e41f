"""The apps stand on each other in one order (ARCHITECTURE §1): a lower app never imports a
higher one. audit is cross-cutting (every app registers its evidence-pack sections with it) and
portal sits on top."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "almportal"
ORDER = ["core", "accounts", "inventory", "risk", "releases", "operations", "enforcement",
         "standards", "retirement", "reviews", "portal"]
CROSS_CUTTING = {"audit"}


def imported_apps(path: Path, app: str) -> set[str]:
    """The almportal apps a module imports, absolute or relative."""
    found = set()
    to_package = len(path.relative_to(PACKAGE).parts)  # the dots that lead back to almportal
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0 and (node.module or "").startswith("almportal."):
                found.add(node.module.split(".")[1])
            elif node.level == to_package and node.module:
                # e.g. "from ..risk import x" inside almportal/<app>/module.py
                found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names
                      if a.name.startswith("almportal.")}
    return found - {app}


@pytest.mark.parametrize("app", ORDER)
def test_a_lower_app_never_imports_a_higher_one(app):
    higher = set(ORDER[ORDER.index(app) + 1:])
    offenders = []
    for path in (PACKAGE / app).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        wrong = imported_apps(path, app) & higher
        if wrong:
            offenders.append(f"{path.relative_to(PACKAGE)} imports {', '.join(sorted(wrong))}")
    assert not offenders, offenders


def test_the_check_sees_relative_imports():
    assert imported_apps(PACKAGE / "reviews" / "finders.py", "reviews") >= {"releases",
                                                                            "operations"}


# --- Module graph: every import between almportal modules, function-level ones included -----

MODULES = {".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]
                    if p.name == "__init__.py" else
                    p.relative_to(PACKAGE.parent).with_suffix("").parts): p
           for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts}


def imported_modules(path: Path) -> set[str]:
    """The almportal modules a module imports anywhere in it (in functions too), absolute or
    relative, each named by its dotted path (`from .services import x` names the module
    `services` or, when x is itself a module, `services.x`)."""
    name = next(m for m, p in MODULES.items() if p == path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {_known(m) for m in found if m.startswith("almportal")} - {name, None}


def _known(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def module_graph() -> dict[str, set[str]]:
    return {name: imported_modules(path) for name, path in MODULES.items()}


def is_decision_or_query(name: str) -> bool:
    """selectors and rules modules (or packages, and the modules inside them) of any area."""
    return bool({"selectors", "rules"} & set(name.split(".")[2:]))


def services_imported(graph: dict[str, set[str]], name: str) -> set[str]:
    return {m for m in graph[name] if "services" in m.split(".")[2:]}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each group of modules that import each other, directly or round a loop (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while not group or group[-1] != node:
                group.append(stack.pop())
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_selectors_or_rules_module_imports_a_services_module():
    graph = module_graph()
    offenders = [f"{name} imports {', '.join(sorted(services_imported(graph, name)))}"
                 for name in sorted(graph)
                 if is_decision_or_query(name) and services_imported(graph, name)]
    assert not offenders, offenders


def test_no_modules_import_each_other():
    assert not cycles(module_graph())


def test_the_checks_see_function_level_imports_and_loops(tmp_path):
    # operations.services.ingest asks for its task inside a function.
    assert "almportal.operations.tasks" in imported_modules(
        PACKAGE / "operations" / "services" / "ingest.py")
    graph = {"almportal.a.selectors": {"almportal.a.services.writes"},
             "almportal.a.services.writes": {"almportal.b.rules"},
             "almportal.b.rules": {"almportal.a.selectors"}}
    assert services_imported(graph, "almportal.a.selectors") == {"almportal.a.services.writes"}
    assert cycles(graph) == [sorted(graph)]
