"""kommun.yml read again in one process (config._kommun_config, an lru_cache): the
same settings, an edit seen at once, a broken file refused every time."""

from __future__ import annotations

import pytest

from trygghet_analys import config
from trygghet_analys.config import load_kommuner
from trygghet_analys.errors import DataError

TEXT = """kommun: Ankeby
min_n: 30
omraden:
- Norr
- Söder
exempeldata: true
"""


def _raw(tmp_path, text: str):
    folder = tmp_path / "raw" / "kommuner" / "ankeby"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kommun.yml").write_text(text, encoding="utf-8")
    return tmp_path / "raw"


def test_a_kommun_file_read_again_gives_the_same_settings_and_sees_an_edit(tmp_path):
    raw = _raw(tmp_path, TEXT)
    config._kommun_config.cache_clear()
    (first,) = load_kommuner(raw)
    assert config._kommun_config.cache_info().currsize == 1
    (again,) = load_kommuner(raw)
    assert (
        again is first and config._kommun_config.cache_info().currsize == 1
    )  # not parsed a second time
    assert (first.name, first.min_n, first.strata) == ("Ankeby", 30, ("Norr", "Söder"))
    _raw(tmp_path, TEXT.replace("min_n: 30", "min_n: 50"))
    (edited,) = load_kommuner(raw)
    assert edited.min_n == 50


def test_a_broken_kommun_file_is_refused_every_time(tmp_path):
    raw = _raw(tmp_path, TEXT.replace("min_n: 30", "min_n: trettio"))
    config._kommun_config.cache_clear()
    for _ in range(2):
        with pytest.raises(DataError, match="min_n"):
            load_kommuner(raw)
    assert config._kommun_config.cache_info().currsize == 0
