"""The hand-written mutant list (``make mutants``) stays current with the code.

The mutation run itself is too slow for CI; this only checks that every mutant still
applies exactly once and yields valid Python, so a refactoring cannot silently turn the
list into mutants of code that no longer exists.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

RUN = Path(__file__).parent / "mutants" / "run.py"


@pytest.fixture(scope="module")
def runner():
    spec = importlib.util.spec_from_file_location("mutants_run", RUN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_mutant_applies_once_and_compiles(runner):
    mutants = runner.load()
    assert len(mutants) >= 20
    for m in mutants:
        source = (runner.REPO / m["file"]).read_text(encoding="utf-8")
        mutated = source.replace(m["old"], m["new"], 1)
        assert mutated != source, m["id"]
        compile(mutated, m["file"], "exec")
        for test in m["tests"]:
            assert (runner.REPO / test.split("::")[0]).is_file(), (m["id"], test)


def test_a_stale_mutant_is_reported(runner, tmp_path):
    stale = tmp_path / "m.toml"
    stale.write_text(
        '[[mutant]]\nid = "x"\nfile = "src/trygghet_analys/stats/trends.py"\n'
        'old = "this text is not in the file"\nnew = "y"\ntests = ["tests/test_trends.py"]\n',
        encoding="utf-8",
    )
    with pytest.raises(SystemExit, match="finns 0 gånger"):
        runner.load(stale)
