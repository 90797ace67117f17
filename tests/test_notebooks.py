"""The notebooks: committed without outputs, a tagged parameters cell, no logic, and they run."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from trygghet_analys.report import charts
from trygghet_analys.report import render as report

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
PARAMETERS = {"year", "data_dir", "out_dir", "kommun"}


def _load(name: str) -> dict:
    return json.loads((NOTEBOOK_DIR / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", report.NOTEBOOKS)
def test_notebook_has_no_outputs(name: str) -> None:
    nb = _load(name)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == []
            assert cell["execution_count"] is None


@pytest.mark.parametrize("name", report.NOTEBOOKS)
def test_parameters_cell(name: str) -> None:
    nb = _load(name)
    tagged = [c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1
    tree = ast.parse("".join(tagged[0]["source"]))
    names = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets}
    assert names == PARAMETERS
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


_ALLOWED = (ast.Import, ast.ImportFrom, ast.Assign, ast.Expr)


@pytest.mark.parametrize("name", report.NOTEBOOKS)
def test_code_cells_only_call_the_package(name: str) -> None:
    nb = _load(name)
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    for cell in code:
        tree = ast.parse("".join(cell["source"]))
        for node in tree.body:
            assert isinstance(node, _ALLOWED), ast.dump(node)[:80]
            for sub in ast.walk(node):
                assert not isinstance(
                    sub, (ast.For, ast.While, ast.If, ast.IfExp, ast.FunctionDef, ast.Lambda)
                ), ast.dump(sub)[:80]
            if isinstance(node, ast.ImportFrom):
                assert node.module == "trygghet_analys"


@pytest.mark.parametrize("name", report.NOTEBOOKS)
def test_shown_charts_exist(name: str) -> None:
    nb = _load(name)
    known = set(charts.chart_names())
    shown = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        for node in ast.walk(ast.parse("".join(cell["source"]))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "show":
                shown.append(node.args[0].value)
    assert shown and set(shown) <= known
    # every chart shown is explained in a Swedish markdown cell right before it
    cells = nb["cells"]
    for i, cell in enumerate(cells):
        if cell["cell_type"] == "code" and "charts.show(" in "".join(cell["source"]):
            assert cells[i - 1]["cell_type"] == "markdown"


@pytest.mark.slow
def test_report_executes_notebooks(tmp_path: Path) -> None:
    from test_report import make_fake_data

    data = make_fake_data(tmp_path / "data")
    out = report.run(data=data, out=tmp_path / "ut", notebooks=True)
    for name in report.NOTEBOOKS:
        nb = json.loads((out / "notebooks" / name).read_text(encoding="utf-8"))
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(c["execution_count"] is not None for c in code)
        errors = [o for c in code for o in c["outputs"] if o["output_type"] == "error"]
        assert errors == []
        images = [o for c in code for o in c["outputs"] if "image/png" in o.get("data", {})]
        assert images, name


def test_notebooks_pass_nbstripout_verify() -> None:
    import shutil
    import subprocess
    import sys

    tool = Path(sys.executable).with_name("nbstripout")
    if not tool.exists():
        found = shutil.which("nbstripout")
        if found is None:
            pytest.skip("nbstripout finns inte i miljön")
        tool = Path(found)
    books = [str(NOTEBOOK_DIR / n) for n in report.NOTEBOOKS]
    result = subprocess.run([str(tool), "--verify", *books], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
