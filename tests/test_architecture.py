"""The import rules of docs/architecture.md, checked by reading the source with ``ast`` (nothing is imported).

(a) Nothing above the estimates contract (cohorts/, scorecard/uncertainty.py, scorecard/estimates.py,
    scorecard/scoring/, scorecard/charts/, scorecard/report/, scorecard/card.py, scorecard/impact.py)
    imports ``scorecard.estimation`` or ``scorecard.sources``.
(b) The modules of ``scorecard.estimation`` import each other without a circle.

Every import counts, also one inside a function (a lazy import is still a dependency). The checker
runs on the repository and on small fabricated trees, to show that it fails when it should.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Files and folders above the estimates contract (those that do not exist yet are skipped).
UPPER_FLOORS = (
    "cohorts",
    "scorecard/uncertainty.py",
    "scorecard/estimates.py",
    "scorecard/scoring",
    "scorecard/charts",
    "scorecard/report",
    "scorecard/card.py",
    "scorecard/impact.py",
)
#: What the upper floors must not import.
LOWER_ONLY = ("scorecard.estimation", "scorecard.sources")
PACKAGES = ("scorecard", "cohorts", "indicators")


@dataclass(frozen=True)
class Import:
    """One module's import of another: where it is written and what it says."""

    importer: str
    target: str
    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} ({self.importer}) imports {self.target}: {self.text}"


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _lazy_exports(root: Path, package: str) -> dict[str, str]:
    """A package's ``_EXPORTS = {name: module}`` (lazily loaded public names), read from its ``__init__``."""
    init = root.joinpath(*package.split("."), "__init__.py")
    if not init.exists():
        return {}
    for node in ast.walk(ast.parse(init.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "_EXPORTS" for t in node.targets):
            try:
                exports = ast.literal_eval(node.value)
            except ValueError:
                return {}
            return {str(k): str(v) for k, v in exports.items()}
    return {}


def imports(root: Path, packages=PACKAGES) -> list[Import]:
    """Every import written in the packages' modules, resolved to the module it loads.

    ``from pkg import name`` resolves to ``pkg.name`` when that is a module, to the module a lazily
    exported name comes from (``from scorecard import estimate`` is ``scorecard.estimation``), else ``pkg``.
    """
    files = sorted(p for package in packages if (root / package).exists() for p in (root / package).rglob("*.py"))
    modules = {module_name(root, p) for p in files}
    exports: dict[str, dict[str, str]] = {}
    found = []
    for path in files:
        importer = module_name(root, path)
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
        for node in ast.walk(ast.parse(source, filename=str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join([*anchor, *([base] if base else [])])
                if base not in exports:
                    exports[base] = _lazy_exports(root, base)
                targets = []
                for alias in node.names:
                    candidate = f"{base}.{alias.name}"
                    targets.append(candidate if candidate in modules else exports[base].get(alias.name, base))
            else:
                continue
            text = lines[node.lineno - 1].strip()
            rel = path.relative_to(root).as_posix()
            found += [Import(importer, t, rel, node.lineno, text) for t in dict.fromkeys(targets)]
    return found


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def upward_imports(root: Path, floors=UPPER_FLOORS, forbidden=LOWER_ONLY) -> list[Import]:
    """Imports of ``forbidden`` packages written in the modules of ``floors``."""
    upper = [module_name(root, root / f) if f.endswith(".py") else f.replace("/", ".") for f in floors]
    return [
        imp for imp in imports(root)
        if any(_within(imp.importer, u) for u in upper) and any(_within(imp.target, f) for f in forbidden)
    ]


def import_cycles(root: Path, package: str = "scorecard.estimation") -> list[list[Import]]:
    """Circles of imports among the modules of ``package``, each as the chain of imports that closes it."""
    edges: dict[str, list[Import]] = {}
    for imp in imports(root):
        if _within(imp.importer, package) and _within(imp.target, package) and imp.importer != imp.target:
            edges.setdefault(imp.importer, []).append(imp)
    cycles, seen_sets = [], set()
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished

    def visit(module: str, path: list[Import]) -> None:  # a few dozen modules: recursion is fine
        state[module] = 1
        for imp in edges.get(module, []):
            if state.get(imp.target) == 1:
                start = next(i for i, step in enumerate(path) if step.importer == imp.target)
                chain = [*path[start:], imp]
                key = frozenset(step.importer for step in chain)
                if key not in seen_sets:
                    seen_sets.add(key)
                    cycles.append(chain)
            elif imp.target not in state:
                visit(imp.target, [*path, imp])
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [])
    return cycles


def _report(problems) -> str:
    return "\n".join(str(p) if isinstance(p, Import) else "circle: " + " -> ".join(str(s) for s in p) for p in problems)


# ---------------------------------------------------------------------------------------------- the repository
def test_upper_floors_do_not_import_estimation_or_sources():
    assert (ROOT / "cohorts").exists() and (ROOT / "scorecard/estimates.py").exists()
    offending = upward_imports(ROOT)
    assert not offending, "Nothing above scorecard/estimates.py may import these (see docs/architecture.md):\n" + _report(
        offending)


def test_estimation_modules_import_each_other_without_a_circle():
    found = imports(ROOT)
    inside = [i for i in found if _within(i.importer, "scorecard.estimation") and _within(i.target, "scorecard.estimation")]
    assert len(inside) >= 10  # the checker sees the package's own imports (spec, partials, reduction, ...)
    cycles = import_cycles(ROOT)
    assert not cycles, _report(cycles)


# ---------------------------------------------------------------------------------------------- the checker fails
def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path


_CLEAN = {
    "scorecard/__init__.py": '_EXPORTS = {"estimate": "scorecard.estimation", "Places": "scorecard.places"}\n',
    "scorecard/places.py": "",
    "scorecard/estimates.py": "from scorecard.places import Places\n",
    "scorecard/estimation/__init__.py": "from scorecard.estimation.core import estimate\n",
    "scorecard/estimation/core.py": "from scorecard.estimation.spec import Spec\nfrom .reduction import combine\n",
    "scorecard/estimation/reduction.py": "from scorecard.estimation.spec import Spec\n",
    "scorecard/estimation/spec.py": "import numpy as np\nfrom scorecard.estimates import finish\n",
    "scorecard/sources/__init__.py": "",
    "scorecard/sources/acs.py": "from scorecard.estimation import estimate\n",  # below the contract: allowed
    "cohorts/__init__.py": "from cohorts.schemes import Scheme\n",
    "cohorts/schemes.py": "from scorecard.places import Places\n",
}


def test_checker_passes_a_clean_tree(tmp_path):
    root = _tree(tmp_path, _CLEAN)
    assert upward_imports(root) == []
    assert import_cycles(root) == []
    # relative imports are resolved: core -> reduction is seen
    assert any(i.importer == "scorecard.estimation.core" and i.target == "scorecard.estimation.reduction"
               for i in imports(root))


@pytest.mark.parametrize(
    ("path", "line", "target"),
    [
        ("cohorts/trajectories.py", "from scorecard.estimation.core import estimate", "scorecard.estimation.core"),
        ("cohorts/trajectories.py", "import scorecard.sources.acs", "scorecard.sources.acs"),
        ("scorecard/charts/line.py", "from scorecard import estimate", "scorecard.estimation"),
        ("scorecard/report/html.py", "from scorecard import sources", "scorecard.sources"),
        ("scorecard/card.py", "def f():\n    from .estimation import spec\n", "scorecard.estimation.spec"),
        ("scorecard/estimates.py", "from scorecard.sources.acs import x", "scorecard.sources.acs"),
    ],
)
def test_checker_names_an_upward_import(tmp_path, path, line, target):
    root = _tree(tmp_path, {**_CLEAN, path: line + "\n"})
    offending = upward_imports(root)
    assert [(i.path, i.target) for i in offending] == [(path, target)]
    assert f"{path}:{len(line.rstrip().splitlines())}" in _report(offending)  # the message names file and line
    assert line.splitlines()[-1].strip() in _report(offending)  # and quotes the import


@pytest.mark.parametrize(
    ("path", "line", "members"),
    [
        # spec -> core -> spec: the circle core.py <-> distributed.py had before the split
        ("scorecard/estimation/spec.py", "def lazy():\n    from scorecard.estimation.core import estimate\n",
         {"scorecard.estimation.spec", "scorecard.estimation.core"}),
        # spec -> package __init__ -> core -> spec
        ("scorecard/estimation/spec.py", "from scorecard.estimation import estimate\n",
         {"scorecard.estimation", "scorecard.estimation.core", "scorecard.estimation.spec"}),
        ("scorecard/estimation/reduction.py", "from . import core\nfrom .spec import Spec\n",
         {"scorecard.estimation.core", "scorecard.estimation.reduction"}),
    ],
)
def test_checker_finds_a_circle(tmp_path, path, line, members):
    root = _tree(tmp_path, {**_CLEAN, path: _CLEAN[path] + line})
    cycles = import_cycles(root)
    assert len(cycles) == 1
    chain = cycles[0]
    assert {step.importer for step in chain} == members
    assert chain[-1].target == chain[0].importer  # the chain closes
    assert path in _report(cycles)
