"""The package layout as a contract: computation modules do no I/O and no plotting.

Every module under ``survey/``, ``stats/``, ``wastewater/`` and ``commitments/`` is parsed
(AST, nothing imported) and its imports resolved; none may import a reader or writer
(``files``), the presentation layer (``report``), the wiring (``pipeline``, ``cli``,
``config``), file-system or network modules, or matplotlib, and none may call ``open``
or a ``Path``/pandas file method. Imports under ``if TYPE_CHECKING:`` are type hints
only and allowed. The one door to packaged data files is ``trygghet_analys.vocabulary``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "trygghet_analys"
COMPUTATION = ("survey", "stats", "wastewater", "commitments")

#: Module prefixes a computation module must not import.
FORBIDDEN_IMPORTS = (
    "trygghet_analys.files",
    "trygghet_analys.report",
    "trygghet_analys.pipeline",
    "trygghet_analys.cli",
    "trygghet_analys.config",
    "trygghet_analys.sample",
    "pathlib",
    "os",
    "shutil",
    "tempfile",
    "glob",
    "urllib",
    "http",
    "socket",
    "importlib.resources",
    "matplotlib",
    "seaborn",
    "yaml",
    "openpyxl",
    "python_calamine",
    "pyarrow.csv",
    "pyarrow.parquet",
)
#: Calls that touch files: builtins and methods (``Path``, pandas readers and writers).
FORBIDDEN_CALLS = {"open"}
FORBIDDEN_METHODS = {
    "read_text", "read_bytes", "write_text", "write_bytes", "iterdir", "glob", "rglob",
    "exists", "is_file", "is_dir", "mkdir", "unlink", "rmdir", "touch",
    "read_csv", "read_parquet", "read_excel", "to_csv", "to_parquet", "to_excel", "savefig",
}  # fmt: skip


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST):
    """Every node except those inside ``if TYPE_CHECKING:`` blocks."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                stack.extend(child.orelse)
                continue
            stack.append(child)


def imports_of(source: str, module: str, *, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, absolute module name) of every runtime import in ``source``.

    ``from x import y`` yields both ``x`` and ``x.y`` (``y`` may be a submodule).
    """
    package = module if is_package else module.rpartition(".")[0]
    out = []
    for node in _runtime_nodes(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            out.append((node.lineno, name))
            out += [(node.lineno, f"{name}.{a.name}") for a in node.names]
    return out


def violations(source: str, module: str, *, is_package: bool = False) -> list[str]:
    """Forbidden imports and file calls of one computation module, as readable lines."""
    found = []
    for line, name in imports_of(source, module, is_package=is_package):
        for prefix in FORBIDDEN_IMPORTS:
            if name == prefix or name.startswith(prefix + "."):
                found.append(f"{module}:{line} imports {name}")
    for node in _runtime_nodes(ast.parse(source)):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id in FORBIDDEN_CALLS:
                found.append(f"{module}:{node.lineno} calls {f.id}()")
            if isinstance(f, ast.Attribute) and f.attr in FORBIDDEN_METHODS:
                found.append(f"{module}:{node.lineno} calls .{f.attr}()")
    return found


def _computation_modules() -> list[Path]:
    return sorted(p for folder in COMPUTATION for p in (PACKAGE / folder).rglob("*.py"))


def test_the_computation_folders_exist_and_hold_modules():
    modules = _computation_modules()
    assert {p.parent.name for p in modules} == set(COMPUTATION)
    assert len(modules) >= 2 * len(COMPUTATION)


@pytest.mark.parametrize("path", _computation_modules(), ids=lambda p: _module_name(p))
def test_computation_module_does_no_io_and_no_plotting(path):
    source = path.read_text(encoding="utf-8")
    module = _module_name(path)
    assert violations(source, module, is_package=path.name == "__init__.py") == []


@pytest.mark.parametrize(
    "source",
    [
        "from ..files import survey\n",
        "from ..files.registers import load_register\n",
        "from .. import files\n",
        "from ..report.plotting import trend_chart\n",
        "from ..config import DEFAULT_MIN_N\n",
        "import pathlib\n",
        "from pathlib import Path\n",
        "import urllib.request\n",
        "from importlib import resources\n",
        "import matplotlib.pyplot as plt\n",
        "def f():\n    import matplotlib\n",
        "def f(p):\n    return open(p).read()\n",
        "def f(p):\n    return p.read_text()\n",
        "def f(df, p):\n    df.to_parquet(p)\n",
    ],
)
def test_the_checker_catches_each_kind_of_violation(source):
    assert violations(source, "trygghet_analys.stats.example") != []


@pytest.mark.parametrize(
    "source",
    [
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pathlib import Path\n",
        "from ..errors import DataError\n",
        "from ..vocabulary import load_substances\n",
        "from .days import campaign_means\n",
        "import pandas as pd\nx = pd.DataFrame().to_dict()\n",
    ],
)
def test_the_checker_allows_type_hints_errors_vocabulary_and_siblings(source):
    assert violations(source, "trygghet_analys.stats.example") == []


def test_relative_imports_resolve_like_python():
    # in trygghet_analys/stats/__init__.py ``..`` is trygghet_analys; in stats/trends.py too
    assert (1, "trygghet_analys.files") in imports_of(
        "from ..files import x\n", "trygghet_analys.stats", is_package=True
    )
    assert (1, "trygghet_analys.files.x") in imports_of(
        "from ..files import x\n", "trygghet_analys.stats.trends"
    )
    assert (1, "trygghet_analys.stats.disclosure") in imports_of(
        "from .disclosure import x\n", "trygghet_analys.stats.estimation"
    )


def test_the_report_path_does_not_import_the_build():
    """``report`` starts without the build's modules (issue 16: they cost 0,5–1 s of every
    report's start, and ``report --alla`` forks after that start; pandera, 0,1–0,2 s, is
    needed only to build a schema; ``scipy.special``, 0,15 s, computes distributions
    that the report reads finished). The command is run up to the report itself, the
    base year (which the report shows) is read, and the statistics modules the report
    imports for their sentences are imported."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    code = f"""
import sys
from trygghet_analys import cli
from trygghet_analys.config import DataFolder
from trygghet_analys.report import charts, render
render.run = lambda **kw: None
cli.main(["report", "--data", {str(root / "data")!r}])
charts._kommun_base_year(DataFolder.at({str(root / "data")!r}).kommun())
import trygghet_analys.commitments.followup  # the report's draft page (render.run) uses it
import trygghet_analys.stats.findings, trygghet_analys.stats.trends  # its summary does
names = ("trygghet_analys.pipeline", "scipy.stats", "scipy.special", "pandera")
print(sorted(m for m in names if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_the_command_freezes_its_heap_only_when_the_process_exits():
    """``main`` has the interpreter freeze the heap at exit (issue 16: the last
    collections over a report's objects cost 0,35–0,45 s CPU after the last file is
    written), once per process however often ``main`` runs, and never while the process
    goes on (a test process calling ``main`` keeps collecting). The handler registered
    before ``cli`` runs after ``cli``'s (atexit is last in, first out) and sees the frozen
    heap; what it prints still reaches stdout."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    code = f"""
import atexit, gc
atexit.register(lambda: print("vid slutet", gc.get_freeze_count() > 0))
from trygghet_analys import cli
from trygghet_analys.report import render
render.run = lambda **kw: None
before = atexit._ncallbacks()
cli.main(["report", "--data", {str(root / "data")!r}])
cli.main(["report", "--data", {str(root / "data")!r}])
print("efter main", gc.get_freeze_count(), atexit._ncallbacks() - before)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = out.stdout.strip().splitlines()
    assert lines[-2:] == ["efter main 0 1", "vid slutet True"]


def test_a_lone_report_draws_with_its_heap_frozen_and_a_worker_keeps_its_own(
    built_data_dir, tmp_path, monkeypatch
):
    """A lone ``report`` freezes what it holds once its tables are read, so that the
    collections while drawing skip it (issue 16), and thaws afterwards; inside a
    ``report --alla`` worker (its parent's heap already frozen) it freezes nothing more
    and thaws nothing, so the shared pages stay shared."""
    import gc

    from trygghet_analys.report import render

    seen: list[int] = []

    def drawing(*args, **kwargs):
        seen.append(gc.get_freeze_count())
        return tmp_path

    monkeypatch.setattr(render, "_render", drawing)
    assert gc.get_freeze_count() == 0
    render.run(data=built_data_dir, out=tmp_path, build=False, quiet=True)
    assert seen[-1] > 0 and gc.get_freeze_count() == 0
    gc.freeze()  # as a worker of ``report --alla`` starts
    try:
        shared = gc.get_freeze_count()
        render.run(data=built_data_dir, out=tmp_path, build=False, quiet=True)
        assert seen[-1] == shared and gc.get_freeze_count() == shared
    finally:
        gc.unfreeze()


# --- the report reads processed/ only (issue 13) -------------------------------------------
#: What ``report/`` may import from ``files/``: writers, and ``find_euda_file`` (which only
#: names the EUDA file a note speaks of). Every reader of a kommun's raw files is refused:
#: the build writes what the report shows (``survey_indicators``, the registers, …).
REPORT_MAY_IMPORT = {
    "trygghet_analys.files",  # ``from ..files import export``: the submodule is checked
    "trygghet_analys.files.export",
    "trygghet_analys.files.euda",
    "trygghet_analys.files.euda.find_euda_file",
    "trygghet_analys.files.registers",
    "trygghet_analys.files.registers.dump_register",
    "trygghet_analys.files._io",
    "trygghet_analys.files._io.atomic_write_text",  # the formning store's segments
}


def report_raw_imports(source: str, module: str) -> list[str]:
    """Imports of ``files/`` by a report module other than :data:`REPORT_MAY_IMPORT`."""
    return [
        f"{module}:{line} imports {name}"
        for line, name in imports_of(source, module)
        if name.startswith("trygghet_analys.files") and name not in REPORT_MAY_IMPORT
    ]


def test_no_report_module_imports_a_raw_reader():
    found = []
    for path in sorted((PACKAGE / "report").rglob("*.py")):
        found += report_raw_imports(path.read_text(encoding="utf-8"), _module_name(path))
    assert found == []


@pytest.mark.parametrize(
    "source",
    [
        "from ..files.indicators import kommun_indicators\n",
        "from ..files import indicators\n",
        "from ..files.registers import load_registers\n",
        "from ..files._open import read_raw\n",
    ],
)
def test_the_report_import_check_sees_a_raw_reader(source):
    assert report_raw_imports(source, "trygghet_analys.report.charts") != []


def test_frozen_while_running_freezes_once_and_thaws():
    """The build and a lone report freeze what they hold while they run and thaw after;
    inside something frozen (a ``report --alla`` worker) it leaves the freeze alone."""
    import gc

    from trygghet_analys._gc import frozen_while_running

    assert gc.get_freeze_count() == 0
    with frozen_while_running():
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with frozen_while_running():
            assert gc.get_freeze_count() == frozen
        assert gc.get_freeze_count() == frozen
    assert gc.get_freeze_count() == 0


def test_collecting_rarely_raises_the_youngest_threshold_and_puts_it_back():
    """A report draws with the youngest generation collected once per
    ``DRAWING_THRESHOLD`` new objects; the thresholds are as before afterwards, also
    when the drawing fails."""
    import gc

    from trygghet_analys._gc import DRAWING_THRESHOLD, collecting_rarely

    before = gc.get_threshold()
    assert DRAWING_THRESHOLD > before[0]
    with collecting_rarely():
        assert gc.get_threshold() == (DRAWING_THRESHOLD, *before[1:])
    assert gc.get_threshold() == before
    with pytest.raises(RuntimeError), collecting_rarely(1234):
        assert gc.get_threshold()[0] == 1234
        raise RuntimeError("ritningen misslyckades")
    assert gc.get_threshold() == before


def test_frozen_for_workers_tells_without_walking_the_frozen_heap(monkeypatch):
    """``report --alla`` freezes its parent's heap for its workers through
    ``frozen_for_workers``; a report inside (a worker's, one per kommun) then learns that
    the heap is frozen without ``gc.get_freeze_count`` (which walks every frozen object)
    and leaves the freeze alone. Whether the heap is frozen reads the same as
    ``gc.get_freeze_count() > 0`` before, inside both blocks, under a bare ``gc.freeze``
    and after."""
    import gc

    from trygghet_analys import _gc

    own = gc.get_freeze_count
    assert _gc._frozen() is (own() > 0) is False
    with _gc.frozen_while_running():
        assert _gc._frozen() is (own() > 0) is True
    with _gc.frozen_for_workers():
        frozen = own()
        assert _gc._frozen() is (frozen > 0) is True

        def walked() -> int:
            raise AssertionError("gc.get_freeze_count walked the frozen heap")

        monkeypatch.setattr(gc, "get_freeze_count", walked)
        with _gc.frozen_while_running():
            pass
        monkeypatch.setattr(gc, "get_freeze_count", own)
        assert own() == frozen
    assert _gc._frozen() is (own() > 0) is False
    gc.freeze()
    try:
        assert _gc._frozen() is (own() > 0) is True
    finally:
        gc.unfreeze()
    assert own() == 0
