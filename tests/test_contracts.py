"""Contracts as code, and orientation text that stays true.

- every processed table has one pandera schema (``schemas.py``) and ``build`` validates it,
  keeping pandera's failing rows in the error;
- ``CONTRIBUTING.md``'s contract section lists exactly the schemas' columns, in order;
- ``CONTRIBUTING.md``'s module map lists every module, and its I/O column says whether the
  module touches files itself (checked over the AST);
- ``make test`` runs the docstring examples.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from test_architecture import FORBIDDEN_METHODS, PACKAGE, _module_name, _runtime_nodes, imports_of
from trygghet_analys import pipeline
from trygghet_analys.errors import DataError
from trygghet_analys.schemas import PROCESSED_TABLES, processed_schemas, validate_table

ROOT = PACKAGE.parents[1]
CONTRIBUTING = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")

#: Imports that mean a module reads or writes files, the network or figures itself.
IO_IMPORTS = (
    "os", "shutil", "tempfile", "glob", "urllib", "http", "socket", "importlib.resources",
    "matplotlib", "papermill", "nbformat", "nbconvert", "yaml", "openpyxl", "python_calamine",
    "pyarrow.parquet", "pyarrow.csv", "zipfile", "subprocess", "tqdm",
)  # fmt: skip


# --------------------------------------------------------------------------- schemas
@pytest.fixture(scope="module")
def built(sample_data_dir):
    return pipeline.compute_tables(sample_data_dir)


def test_every_table_build_writes_has_a_schema_and_passes_it(built):
    assert set(built) == set(PROCESSED_TABLES)
    for name, table in built.items():
        validate_table(name, table)


def test_a_table_without_schema_is_a_programming_error():
    with pytest.raises(ValueError, match="no schema"):
        validate_table("survey_something_new", pd.DataFrame())


def _estimates(**change) -> pd.DataFrame:
    row = {"kommun": "K", "year": 2024, "indicator": "x", "group_var": "total",
           "group": "Hela kommunen", "estimate": 0.2, "se": 0.01, "ci_low": 0.18,
           "ci_high": 0.22, "n": 50, "suppressed": False}  # fmt: skip
    frame = pd.DataFrame([row, {**row, "year": 2025, **change}])
    return frame.astype({"kommun": "str", "indicator": "str", "group_var": "str", "group": "str"})


def test_an_empty_table_passes_whatever_pandas_typed_it_but_needs_its_columns():
    empty = _estimates().iloc[0:0].astype(object)
    validate_table("survey_estimates", empty)
    with pytest.raises(DataError) as info:
        validate_table("survey_estimates", empty.drop(columns="se"))
    assert info.value.file == "processed/survey_estimates.parquet"


def test_schema_passes_a_suppressed_row_without_estimate():
    validate_table("survey_estimates", _estimates(suppressed=True, n=10, estimate=np.nan))


@pytest.mark.parametrize(
    ("change", "column"),
    [
        ({"suppressed": True, "n": 10}, None),  # suppressed, but the estimate is still shown
        ({"group_var": "kommundel"}, "group_var"),
        ({"se": -0.01}, "se"),
    ],
)
def test_broken_table_raises_data_error_with_failure_cases(change, column):
    with pytest.raises(DataError) as info:
        validate_table("survey_estimates", _estimates(**change))
    err = info.value
    assert err.file == "processed/survey_estimates.parquet"
    assert err.column == column
    cases = err.failure_cases
    assert isinstance(cases, pd.DataFrame) and len(cases) >= 1
    assert {"column", "check", "failure_case", "index"} <= set(cases.columns)


def test_build_refuses_a_table_that_breaks_its_contract(sample_data_dir):
    def broken_statistics(folder, kommuner, tables):
        out = pipeline.statistics_stage(folder, kommuner, tables)
        out["survey_estimates"].loc[0, "se"] = -1.0
        return out

    with pytest.raises(DataError) as info:
        pipeline.compute_tables(sample_data_dir, stages=[pipeline.survey_stage, broken_statistics])
    assert info.value.column == "se"
    assert info.value.failure_cases["failure_case"].tolist() == [-1.0]

    def unknown(folder, kommuner, tables):
        return {"survey_something_new": pd.DataFrame({"a": [1]})}

    with pytest.raises(ValueError, match="no schema"):
        pipeline.compute_tables(sample_data_dir, stages=[unknown])


# --------------------------------------------------------------------------- CONTRIBUTING
def _contract_columns() -> dict[str, list[str]]:
    """Table name → the ``Columns:`` line under its ``processed/<name>.parquet`` heading."""
    out: dict[str, list[str]] = {}
    sections = re.split(r"^### ", CONTRIBUTING, flags=re.M)[1:]
    for section in sections:
        heading, _, body = section.partition("\n")
        m = re.search(r"`processed/(\w+)\.parquet`", heading)
        if not m:
            continue
        line = re.search(r"^Columns: (.*)$", body, flags=re.M)
        assert line, f"no 'Columns:' line under {heading!r}"
        out[m.group(1)] = re.findall(r"`([^`]+)`", line.group(1))
    return out


def test_contributing_contracts_match_the_schemas():
    documented = _contract_columns()
    schemas = processed_schemas()
    assert sorted(documented) == sorted(PROCESSED_TABLES)
    for name, schema in schemas.items():
        assert documented[name] == list(schema.columns), name


def test_contract_parser_sees_a_wrong_column():
    text = CONTRIBUTING.replace("Columns: `kommun`, `variable`", "Columns: `kommun`, `variabel`")
    assert text != CONTRIBUTING
    sections = {
        re.search(r"`processed/(\w+)\.parquet`", s.partition("\n")[0]).group(1): s
        for s in re.split(r"^### ", text, flags=re.M)[1:]
        if re.search(r"`processed/(\w+)\.parquet`", s.partition("\n")[0])
    }
    line = re.search(r"^Columns: (.*)$", sections["survey_breaks"], flags=re.M).group(1)
    assert re.findall(r"`([^`]+)`", line) != list(processed_schemas()["survey_breaks"].columns)


def _module_map() -> dict[str, str]:
    rows = re.findall(r"^\| `([\w/]+\.py)` \| .+ \| (yes|no) \|$", CONTRIBUTING, flags=re.M)
    return dict(rows)


def _modules() -> list[Path]:
    return sorted(
        p
        for p in PACKAGE.rglob("*.py")
        if not (p.name == "__init__.py" and p.parent != PACKAGE)  # package markers
    )


def io_markers(source: str, module: str) -> list[str]:
    """What in a module touches files itself: I/O imports or file calls (AST, not run)."""
    found = [
        name
        for _, name in imports_of(source, module)
        if any(name == p or name.startswith(p + ".") for p in IO_IMPORTS)
    ]
    for node in _runtime_nodes(ast.parse(source)):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id == "open":
                found.append("open()")
            if isinstance(f, ast.Attribute) and f.attr in FORBIDDEN_METHODS:
                found.append(f".{f.attr}()")
    return found


def test_module_map_lists_every_module():
    listed = set(_module_map())
    present = {p.relative_to(PACKAGE).as_posix() for p in _modules()}
    assert present - listed == set(), "modules missing from CONTRIBUTING.md's module map"
    assert listed - present == set(), "CONTRIBUTING.md lists modules that do not exist"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_module_map_says_whether_the_module_does_io(path):
    said = _module_map().get(path.relative_to(PACKAGE).as_posix())
    module = _module_name(path) + (".__init__" if path.name == "__init__.py" else "")
    markers = io_markers(path.read_text(encoding="utf-8"), module)
    assert said == ("yes" if markers else "no"), markers


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import pandas as pd\n\ndef f(d):\n    return d.to_dict()\n", []),
        ("from pathlib import Path\n\ndef f(p: Path) -> str:\n    return p.name\n", []),
        ("def f(p):\n    return p.read_text()\n", [".read_text()"]),
        ("def f(p):\n    return open(p)\n", ["open()"]),
        ("import matplotlib.pyplot as plt\n", ["matplotlib.pyplot"]),
        ("from importlib import resources\n", ["importlib.resources"]),
    ],
)
def test_io_markers_see_both_sides(source, expected):
    assert io_markers(source, "trygghet_analys.example") == expected


# --------------------------------------------------------------------------- doctests
def test_make_test_runs_the_docstring_examples():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    test_rule = makefile[makefile.index("\ntest:") :].split("\n\n")[0]
    assert "--doctest-modules src tests" in test_rule
