"""Incremental build: parsed inputs come from ``processed/.cache`` when unchanged, and the
result is byte-identical to a build from scratch."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from trygghet_analys import pipeline


def _tables(folder: Path) -> dict[str, bytes]:
    """Every processed table (parquet and csv), by name; the cache itself left out."""
    return {
        p.name: p.read_bytes()
        for p in sorted(folder.glob("*.*"))
        if p.suffix in {".parquet", ".csv"}
    }


@pytest.fixture
def data(tmp_path, sample_data_dir) -> Path:
    out = tmp_path / "data"
    shutil.copytree(sample_data_dir, out)
    return out


def _count_parses(monkeypatch) -> list[str]:
    """Every survey file read by ``build``: single pass (``read_survey_cells``) or, after a
    problem, file by file (``read_raw_file``)."""
    parsed: list[str] = []
    for name in ("read_survey_cells", "read_raw_file"):
        real = getattr(pipeline, name)

        def counting(path, layout, real=real):
            parsed.append(Path(path).name)
            return real(path, layout)

        monkeypatch.setattr(pipeline, name, counting)
    return parsed


def test_changed_file_is_parsed_again_and_result_equals_a_full_build(data, tmp_path, monkeypatch):
    pipeline.build(data)  # warms the cache: 21 survey files, one wastewater folder
    cache = data / "processed" / ".cache"
    manifest = json.loads((cache / "manifest.json").read_text(encoding="utf-8"))
    assert (
        len([k for k in manifest["kommuner"]["Älmhult"] if k.startswith("trygghetsmatning/")]) == 21
    )

    # next year's delivery, in miniature: one answer in 2025 changes
    f = data / "raw" / "trygghetsmatning" / "2025.csv"
    text = f.read_text(encoding="utf-8-sig")
    assert ";ganska otrygg;" in text
    f.write_text(text.replace(";ganska otrygg;", ";mycket otrygg;", 1), encoding="utf-8-sig")

    parsed = _count_parses(monkeypatch)
    pipeline.build(data)
    assert parsed == ["2025.csv"]  # the other 20 years come from the cache

    fresh = tmp_path / "fresh"
    shutil.copytree(data / "raw", fresh / "raw")
    pipeline.build(fresh)  # no cache at all
    got, want = _tables(data / "processed"), _tables(fresh / "processed")
    assert sorted(got) == sorted(want) and "survey_responses.parquet" in got
    assert [name for name in got if got[name] != want[name]] == []


def test_unchanged_inputs_parse_nothing_and_a_new_codebook_parses_everything(data, monkeypatch):
    pipeline.build(data)
    first = _tables(data / "processed")
    parsed = _count_parses(monkeypatch)
    pipeline.build(data)
    assert parsed == []
    assert _tables(data / "processed") == first

    book = data / "raw" / "trygghetsmatning" / "kodbok.yml"
    book.write_text(book.read_text(encoding="utf-8") + "\n# en kommentar\n", encoding="utf-8")
    pipeline.build(data)
    assert len(parsed) == 21  # the codebook is part of every file's key
    assert _tables(data / "processed") == first


def test_a_damaged_cache_entry_is_parsed_again(data, monkeypatch):
    pipeline.build(data)
    first = _tables(data / "processed")
    for entry in (data / "processed" / ".cache" / "enkat").glob("*.responses.parquet"):
        entry.write_bytes(b"not parquet")
        break
    parsed = _count_parses(monkeypatch)
    pipeline.build(data)
    assert len(parsed) == 1
    assert _tables(data / "processed") == first


def test_validate_writes_no_cache(data):
    pipeline.validate(data)
    assert not (data / "processed" / ".cache").exists()


def test_build_without_cache_reads_everything(data, monkeypatch):
    pipeline.build(data)
    parsed = _count_parses(monkeypatch)
    pipeline.build(data, cache=False)
    assert len(parsed) == 21


def test_a_failing_build_leaves_processed_exactly_as_it_was(data):
    """The cache is written only after the tables: a build that stops on bad input writes
    nothing at all under processed/, not even parsed files."""
    from trygghet_analys.errors import TrygghetError

    before = sorted(p.relative_to(data).as_posix() for p in (data / "processed").rglob("*"))
    pop = data / "raw" / "trygghetsmatning" / "population.csv"
    pop.write_text(pop.read_text(encoding="utf-8").replace("\n", "\nx;y;z;w\n", 1), "utf-8")
    with pytest.raises(TrygghetError):
        pipeline.build(data)
    after = sorted(p.relative_to(data).as_posix() for p in (data / "processed").rglob("*"))
    assert after == before
