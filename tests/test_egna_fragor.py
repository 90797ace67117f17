"""One's own questions in JupyterLab: ``make lab``, the project kernel and 4.0-egna-fragor."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from trygghet_analys import pipeline
from trygghet_analys.config import DataFolder

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
BOOK = "4.0-egna-fragor.ipynb"
KERNEL = "trygghet-analys"


def _load(name: str) -> dict:
    return json.loads((NOTEBOOK_DIR / name).read_text(encoding="utf-8"))


def _code(nb: dict) -> list[str]:
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


# ---- make lab and the kernel -----------------------------------------------------------


def test_make_lab_starts_jupyterlab_in_notebooks_with_the_project_kernel():
    if shutil.which("make") is None:
        pytest.fail("make saknas")
    dry = subprocess.run(
        ["make", "-n", "-s", "lab", "LAB_PORT=8899"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "jupyter lab" in dry
    assert "--ServerApp.root_dir=notebooks" in dry
    assert f"--MappingKernelManager.default_kernel_name={KERNEL}" in dry
    # the address printed is the one the server listens on: no silent move to another port
    assert "http://127.0.0.1:8899/lab?token=" in dry and "--ServerApp.port=8899" in dry
    assert "--ServerApp.port_retries=0" in dry
    helptext = subprocess.run(
        ["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert re.search(r"^\s+lab\s+\S", helptext, flags=re.M)


def test_install_step_registers_the_project_kernel():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    stamp = makefile.split("$(STAMP): pyproject.toml requirements.lock", 1)[1].split("\n\n")[0]
    assert "ipykernel install --sys-prefix --name $(KERNEL)" in stamp
    assert re.search(rf"^KERNEL := {KERNEL}$", makefile, flags=re.M)


def test_kernel_spec_runs_this_environments_python():
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL)
    except NoSuchKernel:
        pytest.fail(f"kärnan {KERNEL!r} saknas i .venv: kör make venv")
    assert spec.display_name == "Python (trygghet-analys)"
    assert Path(spec.argv[0]).resolve() == Path(sys.executable).resolve()
    assert spec.argv[-3:] == ["ipykernel_launcher", "-f", "{connection_file}"]


# ---- the notebook as committed ---------------------------------------------------------


def test_egna_fragor_is_committed_without_outputs_with_the_project_kernel():
    nb = _load(BOOK)
    assert nb["metadata"]["kernelspec"]["name"] == KERNEL
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
    tagged = [c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1
    tree = ast.parse("".join(tagged[0]["source"]))
    names = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets}
    assert names == {"data_dir", "kommun", "out_dir", "years"}


def test_egna_fragor_holds_no_logic():
    for source in _code(_load(BOOK)):
        for node in ast.walk(ast.parse(source)):
            assert not isinstance(
                node,
                (ast.For, ast.While, ast.If, ast.IfExp, ast.FunctionDef, ast.Lambda, ast.ClassDef),
            ), ast.dump(node)[:80]


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOK_DIR.glob("*.ipynb")))
def test_no_private_name_is_imported_in_any_notebook(name):
    for source in _code(_load(name)):
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom):
                parts = (node.module or "").split(".")
                assert not any(p.startswith("_") for p in parts), node.module
                assert not any(a.name.startswith("_") for a in node.names), ast.dump(node)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert not any(p.startswith("_") for p in alias.name.split(".")), alias.name
            elif isinstance(node, ast.Attribute):
                assert not node.attr.startswith("_"), node.attr


def test_egna_fragor_uses_only_public_package_names():
    import trygghet_analys as ta

    used = set()
    for source in _code(_load(BOOK)):
        for node in ast.walk(ast.parse(source)):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "ta"
            ):
                used.add(node.attr)
    assert used, "the notebook calls the package as ta.<name>"
    assert used <= set(ta.__all__), used - set(ta.__all__)
    for needed in ("load_tables", "estimate_indicators", "suppress", "define_indicator"):
        assert needed in used
    assert {"trend_chart", "group_chart", "finish_figure", "save_figure", "export_table"} <= used


# ---- the notebook run on a copy of the bundled data -------------------------------------


def _file_line(nb: dict) -> str:
    """The indikatorer_egna.csv lines the notebook tells the analyst to add."""
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and "indikatorer_egna.csv" in text and "```" in text:
            return text.split("```", 2)[1].strip() + "\n"
    raise AssertionError("no indikatorer_egna.csv block in the notebook")


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> dict:
    import papermill as pm
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    tmp = tmp_path_factory.mktemp("egna")
    data = tmp / "data"
    shutil.copytree(ROOT / "data" / "raw", data / "raw")  # the bundled data, untouched
    pipeline.build(data)
    env_before = os.environ.get("JUPYTER_PATH")
    try:
        KernelSpecManager().get_kernel_spec(KERNEL)
    except NoSuchKernel:  # an old .venv: the kernel test above says "kör make venv"
        prefix = tmp / "kernel"
        subprocess.run(
            [sys.executable, "-m", "ipykernel", "install", "--prefix", str(prefix)]
            + ["--name", KERNEL],
            check=True,
            capture_output=True,
        )
        os.environ["JUPYTER_PATH"] = str(prefix / "share" / "jupyter")
    out = tmp / "egna analyser"  # a folder of the analyst's choice, with a space
    try:
        nb = pm.execute_notebook(
            str(NOTEBOOK_DIR / BOOK),
            str(tmp / BOOK),
            parameters={"data_dir": str(data), "out_dir": str(out)},
            cwd=str(tmp),
            progress_bar=False,
            kernel_name=None,
        )
    finally:
        if env_before is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = env_before
    return {"nb": nb, "data": data, "out": out, "tmp": tmp}


@pytest.mark.slow
def test_notebook_runs_top_to_bottom_and_writes_charts_and_tables(executed):
    nb = executed["nb"]
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c["execution_count"] is not None for c in code)
    assert not [o for c in code for o in c["outputs"] if o["output_type"] == "error"]
    images = [o for c in code for o in c["outputs"] if "image/png" in o.get("data", {})]
    assert len(images) == 2
    written = sorted(p.name for p in executed["out"].iterdir())
    assert written == sorted(
        [f"mycket_otrygg_trend.{s}" for s in ("png", "svg", "pdf")]
        + [f"otrygghet_kon_alder.{s}" for s in ("png", "svg", "pdf")]
        + ["mycket_otrygg.xlsx", "otrygghet_kon_alder.xlsx"]
    )
    svg = (executed["out"] / "mycket_otrygg_trend.svg").read_text(encoding="utf-8")
    assert "Exempeldata" in svg  # the bundled data is synthetic and the chart says so


def _xlsx(path: Path) -> pd.DataFrame:
    ws = openpyxl.load_workbook(path, read_only=True).active
    rows = list(ws.iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


@pytest.mark.slow
def test_exported_tables_hide_every_small_group(executed):
    min_n = DataFolder.at(executed["data"]).kommun().min_n
    for name in ("mycket_otrygg.xlsx", "otrygghet_kon_alder.xlsx"):
        t = _xlsx(executed["out"] / name)
        small = t["Antal svar"] < min_n
        assert t.loc[small, "Skattning"].isna().all()
        assert t.loc[t["Undertryckt (för få svar)"], "Skattning"].isna().all()
    crossed = _xlsx(executed["out"] / "otrygghet_kon_alder.xlsx")
    assert {"Kön × ålder", "Område × kön × ålder"} <= set(crossed["Indelning"])
    assert "Kvinna, 16–24" in set(crossed["Grupp"])
    assert crossed["Undertryckt (för få svar)"].any()  # three-way cells are small


@pytest.mark.slow
def test_notebook_indicator_equals_the_same_row_in_the_kommuns_file(executed, tmp_path):
    # the build, with the line the notebook shows added to raw/indikatorer_egna.csv
    data = tmp_path / "data"
    shutil.copytree(executed["data"] / "raw", data / "raw")
    (data / "raw" / "indikatorer_egna.csv").write_text(_file_line(executed["nb"]), encoding="utf-8")
    pipeline.build(data)
    est = pd.read_parquet(data / "processed" / "survey_estimates.parquet")
    built = est[est["indicator"] == "mycket_otrygg"].reset_index(drop=True)
    adhoc = _xlsx(executed["out"] / "mycket_otrygg.xlsx")
    assert len(built) == len(adhoc) > 0
    assert (adhoc["Indikator"] == "Mycket otrygg ute sent en kväll").all()
    np.testing.assert_array_equal(adhoc["År"], built["year"])
    np.testing.assert_array_equal(adhoc["Grupp"], built["group"])
    np.testing.assert_array_equal(adhoc["Antal svar"], built["n"])
    np.testing.assert_array_equal(adhoc["Undertryckt (för få svar)"], built["suppressed"])
    for header, col in [
        ("Skattning", "estimate"),
        ("Standardfel", "se"),
        ("Konfidensintervall, nedre", "ci_low"),
        ("Konfidensintervall, övre", "ci_high"),
    ]:
        got = adhoc[header].astype(float).to_numpy()
        np.testing.assert_array_equal(np.isnan(got), built[col].isna().to_numpy())
        np.testing.assert_allclose(got, built[col].to_numpy(), rtol=1e-12)
