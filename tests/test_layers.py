"""The apps stand on each other in one order (ARCHITECTURE §1): a lower app never imports a
higher one. audit is cross-cutting (every app registers its evidence-pack sections with it) and
portal sits on top."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "almportal"
ORDER = ["core", "accounts", "inventory", "risk", "releases", "operations", "retirement",
         "reviews", "portal"]
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
