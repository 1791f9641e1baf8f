"""The project's modules form no import cycle, none reaches into another module's private names, and none of
surveys/ and reports/ runs past ~450 lines without saying why it is one file.

Static, over the source of backend/, surveys/ and reports/ (migrations aside). Every import counts,
also those inside functions: a deferred import hides a cycle from Python, not from the reader.

One convention: a module whose own name starts with an underscore (``reports/stats/_core.py``) is
private to its package as a whole; its siblings share its helpers, nothing outside the package may
import it at all.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("backend", "surveys", "reports", "diagnosis")


def _modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _owner(name: str) -> str | None:
    """The project module that ``name`` (a module or a name inside one) lives in."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _package(module: str) -> str:
    return module.rpartition(".")[0]


def _imports(module: str) -> list[tuple[str, str | None, int]]:
    """(imported module, imported name or None, line) for every import of the module, at any depth."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((owner, None, node.lineno) for alias in node.names if (owner := _owner(alias.name)))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                if f"{source}.{alias.name}" in MODULES:  # a submodule
                    out.append((f"{source}.{alias.name}", None, node.lineno))
                elif owner := _owner(source):
                    out.append((owner, alias.name, node.lineno))
    return out


def _attribute_uses(module: str) -> list[tuple[str, str, int]]:
    """(project module, attribute, line) for every ``alias._name`` where ``alias`` is an imported project module."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                if f"{node.module}.{alias.name}" in MODULES:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in MODULES and alias.asname:
                    aliases[alias.asname] = alias.name
    return [(aliases[node.value.id], node.attr, node.lineno) for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
            and _is_private(node.attr)]


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_analysis_sees_the_whole_project():
    assert {"reports.counts", "reports.counts.pgcopy", "surveys.disclosure", "backend.settings"} <= set(MODULES)
    assert ("reports.counts.tables", "CHANNEL_KEY") in {(m, n) for m, n, _ in _imports("reports.counts")}


def test_no_import_cycle():
    graph = {module: {target for target, _, _ in _imports(module) if target != module} for module in MODULES}
    graph = {module: {t for t in targets if not module.startswith(t + ".")} for module, targets in graph.items()}
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_imports_or_reads_another_modules_private_names():
    offences = []
    for module in MODULES:
        uses = [(t, n, line) for t, n, line in _imports(module) if n is not None] + _attribute_uses(module)
        for target, name, line in uses:
            if target == module or not _is_private(name):
                continue
            shared = _is_private(target.rpartition(".")[2]) and _package(target) == _package(module)
            if not shared:
                offences.append(f"{module}:{line} uses {target}.{name}")
    assert offences == []


def test_a_package_private_module_is_imported_from_its_own_package_only():
    offences = []
    for module in MODULES:
        for target, _, line in _imports(module):
            last = target.rpartition(".")[2]
            if _is_private(last) and not (_package(module) == _package(target) or module == _package(target)):
                offences.append(f"{module}:{line} imports {target}")
    assert offences == []


def test_serving_urls_and_queueing_a_report_load_no_numpy():
    """The URLconf and the report request path stay light: a freshly started worker that only queues a report
    (or checks a filter) must not import numpy, pandas or scipy first. Under load after a restart that import
    took a report request past its 30 s timeout (tests/security/test_crash_safety.py)."""
    import os
    import subprocess
    import sys

    code = ("import sys, django; django.setup(); import backend.urls, reports.jobs, reports.filters, reports.views; "
            "heavy = sorted(m for m in ('numpy', 'pandas', 'scipy', 'reports.services') if m in sys.modules); "
            "print(','.join(heavy))")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "backend.settings_test",
           "DATABASE_URL": os.environ.get("DATABASE_URL", "sqlite:////tmp/kagami-structure.sqlite3")}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_a_serving_process_loads_the_gap_engine_before_its_first_request():
    """Loading the WSGI application (gunicorn's workers, runserver) imports the engine, so that no analyst's first
    view pays for it (8.5 s of a 15.9 s first mirror view on the demo); ``django.setup()`` alone, as every
    ``manage.py`` command and test process does, still does not."""
    import os
    import subprocess
    import sys

    heavy = "sorted(m for m in ('numpy', 'pandas', 'scipy.stats', 'reports.services') if m in sys.modules)"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "backend.settings_test",
           "DATABASE_URL": os.environ.get("DATABASE_URL", "sqlite:////tmp/kagami-structure.sqlite3")}

    def loaded(code: str) -> str:
        out = subprocess.run([sys.executable, "-c", f"import sys; {code}; print(','.join({heavy}))"], cwd=ROOT,
                             env=env, capture_output=True, text=True, check=True)
        return out.stdout.strip()

    assert loaded("import backend.wsgi") == "numpy,pandas,reports.services,scipy.stats"
    assert loaded("import django; django.setup()") == ""


def test_the_report_request_views_never_import_the_gap_engine():
    """Queueing a report, or opening the report pages' forms, must not load the engine (numpy, scipy) in a web
    worker: only the job (reports.jobs.build_report, in the worker that renders) and the analyses do."""
    for module in ("reports.api.views", "reports.views", "reports.filters"):
        imported = {target for target, _, _ in _imports(module)}
        assert "reports.services" not in imported, module


LONG_MODULE = 450  # lines; a module this long is read as one job only if it says why it is one file
WHY_ONE_FILE = "Why one file:"


def _long_without_a_reason(text: str) -> bool:
    """Over LONG_MODULE lines, and its module docstring gives no "Why one file:" reason."""
    return len(text.splitlines()) > LONG_MODULE and WHY_ONE_FILE not in (ast.get_docstring(ast.parse(text)) or "")


def test_a_long_module_says_why_it_is_one_file():
    """A newcomer reads a module as one job: past ~450 lines it is split into modules with one job each, or
    its docstring says (in a sentence starting "Why one file:") why the length belongs together."""
    offences = []
    for package in ("surveys", "reports"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            if _long_without_a_reason(text):
                offences.append(f"{path.relative_to(ROOT).as_posix()}: {len(text.splitlines())} lines")
    assert offences == []


def test_the_long_module_check_tells_a_reason_from_none():
    long_body = "x = 1\n" * (LONG_MODULE + 1)
    assert _long_without_a_reason('"""A module."""\n' + long_body)
    assert _long_without_a_reason(f"# {WHY_ONE_FILE} in a comment, not in the docstring\n" + long_body)
    assert not _long_without_a_reason(f'"""A module.\n\n{WHY_ONE_FILE} a reason.\n"""\n' + long_body)
    assert not _long_without_a_reason('"""A module."""\n' + "x = 1\n" * (LONG_MODULE - 1))
