"""Incremental build: parsed inputs come from ``processed/.cache`` when unchanged, and the
result is byte-identical to a build from scratch."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
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


@pytest.mark.parametrize("damage", ["responses", "index", "rows"])
def test_a_damaged_cache_is_parsed_again(data, monkeypatch, damage):
    """A pack file that is not parquet, an index that is not JSON, or a pack whose row
    count does not match its index: the survey files are parsed again, never trusted."""
    pipeline.build(data)
    first = _tables(data / "processed")
    pack = data / "processed" / ".cache" / "enkat"
    if damage == "index":
        (pack / "pack.json").write_text("{not json", encoding="utf-8")
    else:
        (target,) = pack.glob("pack-*.responses.parquet")
        if damage == "responses":
            target.write_bytes(b"not parquet")
        else:
            import pandas as pd

            pd.read_parquet(target).iloc[:-1].to_parquet(target, index=False)
    parsed = _count_parses(monkeypatch)
    pipeline.build(data)
    assert len(parsed) == 21
    assert _tables(data / "processed") == first
    parsed.clear()
    pipeline.build(data)  # the pack written again is whole
    assert parsed == []


def test_the_cache_keeps_one_pack_per_kind(data):
    """A region's 1 218 survey files are read from a few pack files, not one file each."""
    pipeline.build(data)
    cache = data / "processed" / ".cache"
    enkat = sorted(p.name for p in (cache / "enkat").iterdir())
    # the index, and one file per table name and column layout (an empty ledger has
    # untyped columns, so the ledgers may take two)
    assert "pack.json" in enkat and len(enkat) <= 4
    assert len([n for n in enkat if n.endswith(".responses.parquet")]) == 1
    index = json.loads((cache / "enkat" / "pack.json").read_text(encoding="utf-8"))
    assert len(index["entries"]) == 21


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


# --- next year's delivery: only what changed is computed (issue 16) -------------------------
def _record_findings_years(monkeypatch) -> list[list[int] | None]:
    """The report years computed for each kommun (None: every year), one entry per kommun
    of each ``build_findings_of`` call (the build computes all kommuner together)."""
    calls: list[list[int] | None] = []
    real = pipeline.build_findings_of

    def recording(kommuner, **kwargs):
        years = kwargs.get("years")
        for _ in kommuner:
            calls.append(None if years is None else sorted(int(y) for y in years))
        return real(kommuner, **kwargs)

    monkeypatch.setattr(pipeline, "build_findings_of", recording)
    return calls


def _equals_a_build_without_cache(data: Path) -> dict[str, bytes]:
    """The tables of the cached build just made; asserts a build from scratch (``build
    --utan-cache``, which leaves the cache alone) writes the same bytes."""
    got = _tables(data / "processed")
    pipeline.build(data, cache=False)
    want = _tables(data / "processed")
    assert sorted(got) == sorted(want) and {"findings.parquet", "findings.csv"} <= set(got)
    assert [name for name in got if got[name] != want[name]] == []
    return got


def _build_last_year(data: Path, tmp_path: Path) -> dict:
    """Last year's build (the newest survey file set aside), then this year's delivery
    put back in place; returns last year's processed tables."""
    newest = data / "raw" / "trygghetsmatning" / "2025.csv"
    aside = tmp_path / "2025.csv"
    shutil.move(newest, aside)
    pipeline.build(data)
    before = _tables(data / "processed")
    shutil.move(aside, newest)
    return before


def test_a_new_year_computes_that_report_year_only_and_equals_a_full_build(
    data, tmp_path, monkeypatch
):
    before = _build_last_year(data, tmp_path)  # 2005–2024, cache warm

    parsed = _count_parses(monkeypatch)
    calls = _record_findings_years(monkeypatch)
    underlag = _record_underlag_years(monkeypatch)
    renders = _record_csv_renders(monkeypatch)
    pipeline.build(data)
    assert parsed == ["2025.csv"]
    assert calls == [[2025]]  # 2005–2024's findings come from the cache
    assert underlag == [[2025]]  # and so does their underlag
    # the csv rows of 2005–2024 too: one block rendered per csv file (2025's rows)
    assert len([n for n in renders if n]) == len(pipeline.CSV_TABLES)
    monkeypatch.undo()
    after = _equals_a_build_without_cache(data)
    assert after["findings.parquet"] != before["findings.parquet"]


def _set_min_n(data: Path) -> None:
    path = data / "raw" / "kommun.yml"
    text = path.read_text(encoding="utf-8")
    assert "min_n: 30\n" in text
    path.write_text(text.replace("min_n: 30\n", "min_n: 200\n"), encoding="utf-8")


def _set_base_year(data: Path) -> None:
    path = data / "raw" / "kommun.yml"
    path.write_text(path.read_text(encoding="utf-8") + "basar: 2015\n", encoding="utf-8")


def _add_a_series_break(data: Path) -> None:
    path = data / "raw" / "trygghetsmatning" / "kodbok.yml"
    text = path.read_text(encoding="utf-8")
    old = "seriebrott:\n"
    assert text.count(old) == 1
    new = old + "- variabel: utsatt_brott\n  ar: 2016\n  orsak: Ny fråga i provet\n"
    path.write_text(text.replace(old, new), encoding="utf-8")


def _change_a_population(data: Path) -> None:
    path = data / "raw" / "trygghetsmatning" / "population.csv"
    text = path.read_text(encoding="utf-8")
    old = "\n2012;Landsbygd;"
    assert text.count(old) == 1
    start = text.index(old) + len(old)
    value = text[start : text.index(";", start)]
    new = str(int(value) * 3)
    path.write_text(text.replace(old + value + ";", old + new + ";"), encoding="utf-8")


def _change_a_past_year(data: Path) -> None:
    path = data / "raw" / "trygghetsmatning" / "2020.csv"
    text = path.read_text(encoding="utf-8-sig")
    n = text.count(";ganska otrygg;")
    assert n >= 20
    path.write_text(text.replace(";ganska otrygg;", ";mycket trygg;", 20), encoding="utf-8-sig")


@pytest.mark.parametrize(
    ("change", "first_year"),
    [
        (_set_min_n, 2005),  # every year's suppression moves
        (_set_base_year, 2005),  # every sentence on the commitment period moves
        (_add_a_series_break, 2005),  # the breaks bound every year's comparisons
        (_change_a_population, 2012),  # weights of 2012: report years 2012 onwards
        (_change_a_past_year, 2020),  # answers of 2020: report years 2020 onwards
    ],
    ids=["min_n", "basar", "kodbok", "population", "tidigare-ar"],
)
def test_a_changed_input_recomputes_what_depends_on_it(data, monkeypatch, change, first_year):
    """A cached result is never served stale: each input a report year's findings rest on
    gives that year a new key, and the result equals a build from scratch."""
    pipeline.build(data)
    before = _tables(data / "processed")
    change(data)
    calls = _record_findings_years(monkeypatch)
    pipeline.build(data)
    (years,) = calls  # one kommun, one call, with the report years computed again
    after = _equals_a_build_without_cache(data)
    assert after["findings.parquet"] != before["findings.parquet"]  # the change shows
    assert years is not None and years == list(range(first_year, years[-1] + 1))
    assert years[-1] >= 2025


def test_an_own_indicator_file_that_changes_changes_the_indicator_table(data):
    """``raw/indikatorer_egna.csv`` arrives, then its label is edited: the definitions the
    report labels with (``survey_indicators``) follow each time, and every table equals a
    build from scratch (no cached finding keeps the old label)."""
    pipeline.build(data)
    before = _tables(data / "processed")
    own = data / "raw" / "indikatorer_egna.csv"
    head = "id;label;kind;variables;categories;direction\n"
    row = "mycket_otrygg;Mycket otrygg ute sent;proportion;otrygg_ute_sent;Mycket otrygg;"
    own.write_text(head + row + "higher_is_worse\n", encoding="utf-8")
    pipeline.build(data)
    added = _equals_a_build_without_cache(data)
    assert added["survey_indicators.parquet"] != before["survey_indicators.parquet"]
    assert added["survey_estimates.parquet"] != before["survey_estimates.parquet"]
    table = pd.read_parquet(data / "processed" / "survey_indicators.parquet")
    assert table.loc[table["own"], "label"].tolist() == ["Mycket otrygg ute sent"]

    own.write_text(head + row.replace("ute sent", "ute på kvällen") + "higher_is_worse\n")
    pipeline.build(data)
    edited = _equals_a_build_without_cache(data)
    assert edited["survey_indicators.parquet"] != added["survey_indicators.parquet"]
    table = pd.read_parquet(data / "processed" / "survey_indicators.parquet")
    assert table.loc[table["own"], "label"].tolist() == ["Mycket otrygg ute på kvällen"]
    # the estimates do not depend on a label
    assert edited["survey_estimates.parquet"] == added["survey_estimates.parquet"]


def test_swedish_csv_floats_are_written_as_pandas_writes_them(tmp_path):
    """The float columns are formatted in one pass (``_decimal_comma``); the reference is
    pandas' own ``to_csv(sep=";", decimal=",")`` of the same table, byte for byte."""
    import numpy as np
    import pandas as pd

    values = [0.1 + 0.2, 1e-05, 1e16, -0.0, np.nan, 123456789.125, -2.5, 5e-324, 1.0]
    frame = pd.DataFrame(
        {
            "kommun": ["Ort"] * len(values),
            "x": values,
            "n": range(len(values)),
            "ok": [True, False] * 4 + [True],
            "tom": [np.nan] * len(values),
        }
    )
    pipeline.write_swedish_csv(frame, tmp_path / "ours.csv")
    frame.to_csv(
        tmp_path / "pandas.csv",
        sep=";", decimal=",", index=False, encoding="utf-8-sig", lineterminator="\n",
    )  # fmt: skip
    ours = (tmp_path / "ours.csv").read_bytes()
    assert ours == (tmp_path / "pandas.csv").read_bytes()
    assert "0,30000000000000004;" in ours.decode("utf-8-sig")  # the check can fail


def test_swedish_csv_neutralises_a_formula_among_repeated_names(tmp_path):
    """Text columns are looked at once per distinct value; a formula still gets its
    apostrophe, in every row where it stands, and a plain name does not."""
    import pandas as pd

    frame = pd.DataFrame({"namn": ["Ort", "=1+1", "Ort", "=1+1"], "v": [1.5, 2.0, 3.0, 4.0]})
    pipeline.write_swedish_csv(frame, tmp_path / "t.csv")
    lines = (tmp_path / "t.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines == ["namn;v", "Ort;1,5", "'=1+1;2,0", "Ort;3,0", "'=1+1;4,0"]


# --- the follow-up of the medborgarlöften: per kommun from the cache ---------------------------
def _record_follow_ups(monkeypatch) -> list[int]:
    """The year of each kommun's follow-up made by ``build``: of each ``follow_up`` call,
    and of each kommun of a ``follow_up_of`` call (all kommuner at once)."""
    calls: list[int] = []
    real = pipeline._commitments.follow_up
    real_of = pipeline._commitments.follow_up_of

    def recording(registers, **kwargs):
        calls.append(kwargs["year"])
        return real(registers, **kwargs)

    def recording_of(jobs, **kwargs):
        calls.extend(kwargs["year"] for _ in jobs)
        return real_of(jobs, **kwargs)

    monkeypatch.setattr(pipeline._commitments, "follow_up", recording)
    monkeypatch.setattr(pipeline._commitments, "follow_up_of", recording_of)
    return calls


def _change_an_activity_count(data: Path) -> None:
    """Every count of 2025 (``period,measure,value,unit``) seven higher."""
    path = data / "raw" / "medborgarloften" / "aktiviteter.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    out = []
    for line in lines:
        period, measure, value, unit = line.split(",")
        if period == "2025":
            value = str(int(value) + 7)
        out.append(",".join([period, measure, value, unit]))
    assert out != lines
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def _change_a_commitment_text(data: Path) -> None:
    path = sorted((data / "raw" / "medborgarloften").glob("20*.yml"))[-1]
    text = path.read_text(encoding="utf-8")
    assert "text: " in text
    path.write_text(text.replace("text: ", "text: Ändrat. ", 1), encoding="utf-8")


def _record_drafts(monkeypatch) -> list[int]:
    """The number of registers of each ``draft_table`` call made by ``build``."""
    calls: list[int] = []
    real = pipeline._commitments.draft_table

    def recording(registers, underlag, **kwargs):
        calls.append(len(registers))
        return real(registers, underlag, **kwargs)

    monkeypatch.setattr(pipeline._commitments, "draft_table", recording)
    return calls


@pytest.mark.parametrize(
    "record",
    [_record_findings_years, _record_follow_ups, _record_drafts],
    ids=["fynd", "uppfoljning", "utkast"],
)
def test_an_unchanged_build_computes_nothing_again(data, monkeypatch, record):
    """A second build of unchanged inputs computes no findings, follows no kommun up
    again and drafts no register again; its tables equal a build without cache."""
    pipeline.build(data)
    calls = record(monkeypatch)
    pipeline.build(data)
    assert calls == []
    monkeypatch.undo()
    _equals_a_build_without_cache(data)


@pytest.mark.parametrize(
    "change",
    [_change_an_activity_count, _change_a_commitment_text, _set_min_n, _set_base_year],
    ids=["aktivitet", "register", "min_n", "basar"],
)
def test_a_changed_input_of_the_follow_up_follows_up_again(data, monkeypatch, change):
    """Each thing the follow-up reads (activities, the register, the findings of the year
    through ``min_n``, the base year) gives a new key; the result equals a full build."""
    pipeline.build(data)
    before = _tables(data / "processed")
    change(data)
    calls = _record_follow_ups(monkeypatch)
    pipeline.build(data)
    assert calls == [2025]
    monkeypatch.undo()
    after = _equals_a_build_without_cache(data)
    assert after["commitment_followup.parquet"] != before["commitment_followup.parquet"]


# --- next year's draft register: made by build from the registers ----------------------------
def test_a_changed_register_changes_the_draft_and_equals_a_full_build(data, monkeypatch):
    """The draft (``commitment_draft``, cache kind ``utkast``) follows the registers: a
    commitment's text changed in the latest register is drafted again and is in the draft
    after an incremental build, which equals a build without cache."""
    pipeline.build(data)
    before = _tables(data / "processed")
    _change_a_commitment_text(data)
    calls = _record_drafts(monkeypatch)
    pipeline.build(data)
    assert calls == [4]  # the kommun's four registers, read again
    monkeypatch.undo()
    after = _equals_a_build_without_cache(data)
    assert after["commitment_draft.parquet"] != before["commitment_draft.parquet"]
    drafts = pd.read_parquet(data / "processed" / "commitment_draft.parquet")
    assert drafts["text"].str.startswith("Ändrat. ").any()


# --- the detectable change of the wastewater sampling plan: with the kommun's tables ----------
def _record_detectable(monkeypatch) -> list[int]:
    """The number of campaign rows of each ``detectable_changes`` call made by ``build``."""
    calls: list[int] = []
    real = pipeline.detectable_changes

    def recording(campaigns, **kwargs):
        calls.append(len(campaigns))
        return real(campaigns, **kwargs)

    monkeypatch.setattr(pipeline, "detectable_changes", recording)
    return calls


def test_the_detectable_change_comes_from_the_cache_until_a_wastewater_file_changes(
    data, monkeypatch
):
    pipeline.build(data)
    before = _tables(data / "processed")
    calls = _record_detectable(monkeypatch)
    pipeline.build(data)
    assert calls == []  # kept with the kommun's wastewater tables
    assert _tables(data / "processed") == before

    flow = data / "raw" / "avloppsvatten" / "flode.csv"
    text = flow.read_text(encoding="utf-8")
    assert text.count(";2022-04-06;4 003\n") == 1
    flow.write_text(text.replace(";2022-04-06;4 003\n", ";2022-04-06;9 003\n"), "utf-8")
    pipeline.build(data)
    assert len(calls) == 1 and calls[0] > 0  # the kommun's campaigns, computed again
    monkeypatch.undo()
    after = _equals_a_build_without_cache(data)
    assert after["wastewater_detectable.parquet"] != before["wastewater_detectable.parquet"]


def test_the_detectable_change_per_kommun_equals_the_whole_region_call(region_data_dir):
    """Computed per kommun (to be cached with its tables), the table is exactly
    ``detectable_changes`` of the whole region's campaigns: same rows, order and types."""
    import pandas as pd

    from trygghet_analys.wastewater.campaigns import detectable_changes

    tables = pipeline.compute_tables(region_data_dir, stages=[pipeline.wastewater_stage])
    got = tables["wastewater_detectable"]
    assert got["kommun"].nunique() >= 2  # several kommuner, so the order is tested
    pd.testing.assert_frame_equal(got, detectable_changes(tables["wastewater_campaigns"]))


# --- the csv files: rendered rows per kommun and year from the cache ---------------------------
def _csv_table():
    """Three kommuner × two years, with what the csv writer treats specially: floats
    (decimal comma, NaN), a formula, a text with ``;``, quotes and a line break, bools."""
    import numpy as np
    import pandas as pd

    n = 12
    return pd.DataFrame(
        {
            "kommun": ["A"] * 4 + ["B"] * 4 + ["C"] * 4,
            "year": [2024, 2024, 2025, 2025] * 3,
            "text": ["=1+1", 'sa "hej"; då', "rad ett\nrad två", None] * 3,
            "x": [0.1 + 0.2, np.nan, -0.0, 1e16] * 3,
            "n": np.arange(n, dtype="int64"),
            "ok": [True, False] * 6,
        }
    ).astype({"text": "str"})


def _record_csv_renders(monkeypatch) -> list[int]:
    """The number of rows of each csv text rendered (header line calls included, as 0)."""
    calls: list[int] = []
    real = pipeline._swedish_csv_text

    def recording(table, *, header):
        calls.append(len(table))
        return real(table, header=header)

    monkeypatch.setattr(pipeline, "_swedish_csv_text", recording)
    return calls


def _a_new_year(table):
    """``table`` with a year 2026 for every kommun (a copy of its 2025 rows)."""
    import pandas as pd

    more = table[table["year"] == 2025].assign(year=2026)
    return pd.concat([table, more], ignore_index=True).sort_values(
        ["kommun", "year"], kind="stable", ignore_index=True
    )


def _write_from_blocks_as_whole(table, tmp_path, calls):
    """Write ``table`` from the kept csv blocks (``calls`` cleared first) and check the
    bytes equal a whole write."""
    from trygghet_analys.files.cache import BuildCache

    pipeline.write_swedish_csv(table, tmp_path / "whole2.csv")
    calls.clear()
    store = BuildCache(tmp_path / ".cache")
    pipeline._write_csv_from_blocks(table, tmp_path / "b.csv", "t", store)
    store.finish()
    assert (tmp_path / "b.csv").read_bytes() == (tmp_path / "whole2.csv").read_bytes()


def test_csv_from_kept_blocks_equals_a_whole_write_and_renders_only_changed_blocks(
    tmp_path, monkeypatch
):
    from trygghet_analys.files.cache import BuildCache

    table = _csv_table()
    pipeline.write_swedish_csv(table, tmp_path / "whole.csv")
    whole = (tmp_path / "whole.csv").read_bytes()
    assert whole.startswith(b"\xef\xbb\xbfkommun;year;text;x;n;ok\n")  # the reference
    assert "'=1+1;0,30000000000000004;" in whole.decode("utf-8-sig")

    store = BuildCache(tmp_path / ".cache")
    calls = _record_csv_renders(monkeypatch)
    pipeline._write_csv_from_blocks(table, tmp_path / "a.csv", "t", store)
    store.finish()
    assert (tmp_path / "a.csv").read_bytes() == whole
    assert sorted(c for c in calls if c) == [2] * 6  # six blocks (kommun × year)

    # a new year for every kommun and one changed value in B 2024: only those rendered

    grown = _a_new_year(table)
    grown.loc[(grown["kommun"] == "B") & (grown["year"] == 2024), "n"] += 100
    _write_from_blocks_as_whole(grown, tmp_path, calls)
    assert sorted(c for c in calls if c) == [2] * 4  # B 2024, and 2026 of A, B and C

    # another type for a column: every block rendered again
    retyped = grown.astype({"n": "float64"})
    pipeline.write_swedish_csv(retyped, tmp_path / "whole3.csv")
    calls.clear()
    pipeline._write_csv_from_blocks(
        retyped, tmp_path / "c.csv", "t", BuildCache(tmp_path / ".cache")
    )
    assert (tmp_path / "c.csv").read_bytes() == (tmp_path / "whole3.csv").read_bytes()
    assert sorted(c for c in calls if c) == [2] * 9


@pytest.mark.parametrize("damage", ["bytes", "index", "length"])
def test_damaged_csv_texts_are_rendered_again(tmp_path, monkeypatch, damage):
    from trygghet_analys.files.cache import BuildCache

    table = _csv_table()
    store = BuildCache(tmp_path / ".cache")
    pipeline._write_csv_from_blocks(table, tmp_path / "a.csv", "t", store)
    store.finish()
    (blob,) = (tmp_path / ".cache" / "texts").glob("t-*.bin")
    data = blob.read_bytes()
    if damage == "bytes":  # same length, one byte changed: the SHA-256 differs
        blob.write_bytes(data.replace(b"0,30000000000000004", b"0,30000000000000005", 1))
    elif damage == "index":
        (tmp_path / ".cache" / "texts" / "t.json").write_text("{not json", encoding="utf-8")
    else:
        blob.write_bytes(data[:-1])
    calls = _record_csv_renders(monkeypatch)
    pipeline._write_csv_from_blocks(table, tmp_path / "b.csv", "t", BuildCache(tmp_path / ".cache"))
    assert (tmp_path / "b.csv").read_bytes() == (tmp_path / "a.csv").read_bytes()
    assert sorted(c for c in calls if c) == [2] * 6


# --- the changes of every kommun in one call -------------------------------------------------
def test_changes_of_all_kommuner_at_once_equal_one_call_per_kommun(region_data_dir, monkeypatch):
    """The reference is the loop ``statistics_stage`` had: one ``compare_estimates`` per
    kommun with its own base year, concatenated in the order of the kommuner. Three base
    years (one of them none) and one kommun with indicators of its own (its own call)."""
    import pandas as pd

    from trygghet_analys.config import DataFolder
    from trygghet_analys.stats.trends import compare_estimates
    from trygghet_analys.survey.indicators import load_indicators
    from trygghet_analys.vocabulary import Comparison

    tables = pipeline.compute_tables(
        region_data_dir, stages=[pipeline.survey_stage, pipeline.statistics_stage]
    )
    kommuner = DataFolder.at(region_data_dir).kommuner()
    assert len(kommuner) == 3
    bases = dict(zip([k.name for k in kommuner], [2012, None, 2016], strict=True))
    monkeypatch.setattr(pipeline, "base_year", lambda k: bases[k.name])
    estimates, breaks = tables["survey_estimates"], tables["survey_breaks"]
    indicators = load_indicators()
    for own in ({}, {kommuner[1].name: indicators}, {kommuner[0].name: indicators}):
        want = pd.concat(
            [
                compare_estimates(
                    estimates[estimates["kommun"] == k.name],
                    breaks=breaks[breaks["kommun"] == k.name],
                    base_year=bases[k.name],
                    indicators=own.get(k.name, indicators),
                )
                for k in kommuner
            ],
            ignore_index=True,
        )
        got = pipeline._changes(kommuner, estimates, breaks, indicators, own)
        pd.testing.assert_frame_equal(got, want)
    years = want.loc[want["comparison"] == Comparison.BASE_YEAR].groupby("kommun")["year_from"]
    assert years.unique().to_dict() == {kommuner[0].name: [2012], kommuner[2].name: [2016]}


# --- the packs: a new year adds a file instead of writing the region's survey again ------------
def test_a_new_year_keeps_the_survey_pack_files_and_adds_one(data, tmp_path, monkeypatch):
    from trygghet_analys.files import cache as cache_module

    enkat = data / "processed" / ".cache" / "enkat"
    aside = tmp_path / "aside"
    aside.mkdir()
    for year in (2024, 2025):
        shutil.move(data / "raw" / "trygghetsmatning" / f"{year}.csv", aside / f"{year}.csv")
    pipeline.build(data)  # 2005–2023
    first = {p.name: p.read_bytes() for p in enkat.glob("pack-*.responses.parquet")}
    assert len(first) == 1

    shutil.move(aside / "2024.csv", data / "raw" / "trygghetsmatning" / "2024.csv")
    pipeline.build(data)
    second = {p.name: p.read_bytes() for p in enkat.glob("pack-*.responses.parquet")}
    assert len(second) == 2 and first.items() <= second.items()  # kept as it was, one more

    # a pack that would grow past the bound is written afresh, as one file per table
    monkeypatch.setattr(cache_module, "_MAX_PACK_FILES", 2)
    shutil.move(aside / "2025.csv", data / "raw" / "trygghetsmatning" / "2025.csv")
    pipeline.build(data)
    assert len(list(enkat.glob("pack-*.responses.parquet"))) == 1
    index = json.loads((enkat / "pack.json").read_text(encoding="utf-8"))
    assert len(index["entries"]) == 21

    parsed = _count_parses(monkeypatch)
    pipeline.build(data)
    assert parsed == []  # every year read back from the packs
    monkeypatch.undo()
    _equals_a_build_without_cache(data)


def test_a_changed_past_year_drops_its_pack_file_and_keeps_the_others(data, tmp_path, monkeypatch):
    """The old year's rows are not kept beside the new ones: the file that held them is
    written again without them (the cache does not grow with each change)."""
    aside = tmp_path / "2025.csv"
    shutil.move(data / "raw" / "trygghetsmatning" / "2025.csv", aside)
    pipeline.build(data)
    shutil.move(aside, data / "raw" / "trygghetsmatning" / "2025.csv")
    pipeline.build(data)  # two survey pack files: 2005–2024, and 2025
    enkat = data / "processed" / ".cache" / "enkat"
    before = {p.name for p in enkat.glob("pack-*.responses.parquet")}
    assert len(before) == 2
    _change_a_past_year(data)  # 2020: in the first file
    parsed = _count_parses(monkeypatch)
    pipeline.build(data)
    assert parsed == ["2020.csv"]
    after = {p.name for p in enkat.glob("pack-*.responses.parquet")}
    index = json.loads((enkat / "pack.json").read_text(encoding="utf-8"))
    rows = sum(n for f, n in index["files"].items() if f.endswith(".responses.parquet"))
    spans = [s for names in index["entries"].values() for s in [names["responses"]]]
    assert rows == sum(stop - start for _, start, stop in spans)  # no rows of dropped keys
    assert len(index["entries"]) == 21 and len(after & before) == 1  # 2025's file kept
    parsed.clear()
    pipeline.build(data)
    assert parsed == []
    monkeypatch.undo()
    _equals_a_build_without_cache(data)


# --- the draft register per underlag year (issue 16) ------------------------------------------
def _record_underlag_years(monkeypatch) -> list:
    """The ``years`` computed for each kommun by ``build``: of each ``underlag_by_year``
    call, and of each kommun of an ``underlag_of`` call (all kommuner at once)."""
    calls: list = []
    real = pipeline._commitments.underlag_by_year
    real_of = pipeline._commitments.underlag_of

    def recording(*args, years=None, **kwargs):
        calls.append(years)
        return real(*args, years=years, **kwargs)

    def recording_of(*args, jobs, **kwargs):
        calls.extend(list(years) for _, years in jobs)
        return real_of(*args, jobs=jobs, **kwargs)

    monkeypatch.setattr(pipeline._commitments, "underlag_by_year", recording)
    monkeypatch.setattr(pipeline._commitments, "underlag_of", recording_of)
    return calls


def _record_draft_years(monkeypatch) -> list[list[int]]:
    """The underlag years of each ``draft_table`` call made by ``build``."""
    calls: list[list[int]] = []
    real = pipeline._commitments.draft_table

    def recording(registers, underlag, **kwargs):
        calls.append(sorted({int(y) for y in underlag["year"]}))
        return real(registers, underlag, **kwargs)

    monkeypatch.setattr(pipeline._commitments, "draft_table", recording)
    return calls


def _first_register_year(data: Path) -> int:
    return min(int(p.stem) for p in (data / "raw" / "medborgarloften").glob("20*.yml"))


def _years_changed(before: pd.DataFrame, after: pd.DataFrame, years, *, upto: bool) -> set[int]:
    """The years whose rows (up to the year, or of the year) differ between two tables."""

    def rows(t, y):
        part = t[t["year"] <= y] if upto else t[t["year"] == y]
        return part.reset_index(drop=True)

    return {y for y in years if not rows(before, y).equals(rows(after, y))}


def test_a_changed_register_drafts_only_the_years_it_is_in_force(data, monkeypatch):
    """The latest register (2025) changed: only the draft of 2025 (for 2026) is made again;
    the years before it, under the registers of 2022–2024 or none, come from the cache."""
    pipeline.build(data)
    _change_a_commitment_text(data)
    calls = _record_draft_years(monkeypatch)
    pipeline.build(data)
    assert calls == [[2025]]
    monkeypatch.undo()
    _equals_a_build_without_cache(data)


@pytest.mark.parametrize(
    ("change", "first_year"),
    [(_change_a_population, 2012), (_change_a_past_year, 2020)],
    ids=["population", "tidigare-ar"],
)
def test_a_changed_past_year_recomputes_the_underlag_and_drafts_from_that_year(
    data, monkeypatch, change, first_year
):
    """The underlag of a year rests on the estimates up to it and the findings of the year:
    exactly the years where those changed are computed again (read off the tables before
    and after), none before ``first_year``. The drafts of years before it come from the
    cache; every year with a changed underlag is drafted again. Equal to a full build."""
    pipeline.build(data)
    processed = data / "processed"
    est0 = pd.read_parquet(processed / "survey_estimates.parquet")
    fnd0 = pd.read_parquet(processed / "findings.parquet")
    und0 = pd.read_parquet(processed / "underlag.parquet")
    change(data)
    underlag = _record_underlag_years(monkeypatch)
    drafts = _record_draft_years(monkeypatch)
    pipeline.build(data)
    monkeypatch.undo()
    est1 = pd.read_parquet(processed / "survey_estimates.parquet")
    fnd1 = pd.read_parquet(processed / "findings.parquet")
    und1 = pd.read_parquet(processed / "underlag.parquet")
    years = sorted(int(y) for y in est1["year"].unique())
    want = _years_changed(est0, est1, years, upto=True) | _years_changed(
        fnd0, fnd1, years, upto=False
    )
    (got,) = underlag
    assert sorted(got) == sorted(want) and min(want) == first_year
    (drafted,) = drafts
    first_register = _first_register_year(data)
    assert min(drafted) >= max(first_year, first_register)
    changed = _years_changed(und0, und1, years, upto=False)
    assert {y for y in changed if y >= first_register} <= set(drafted)
    _equals_a_build_without_cache(data)


def test_a_new_year_drafts_the_years_under_a_register_only(data, tmp_path, monkeypatch):
    """Next year's delivery: the draft of the new year is made, and of the earlier years
    only those whose register's follow-up changed (the follow-up is of the latest year);
    the years before the first register (2022), refused the same way, come from the cache."""
    _build_last_year(data, tmp_path)
    calls = _record_draft_years(monkeypatch)
    pipeline.build(data)
    (drafted,) = calls
    assert _first_register_year(data) == 2022
    assert 2025 in drafted and min(drafted) >= 2022
    monkeypatch.undo()
    _equals_a_build_without_cache(data)


def test_digests_from_a_region_tables_row_hashes_equal_the_kommuns_own():
    """A kommun's cache keys made from the region table hashed once (``hashes=``) are
    the keys of its own rows hashed alone: text (with a missing value), integer, float
    (NaN), bool, nullable and categorical columns, rows of two kommuner interleaved."""
    from trygghet_analys.files.cache import frame_digest, row_hashes, year_digests

    table = pd.DataFrame(
        {
            "kommun": pd.Series(["A", "B", "A", "B", "A", "A"], dtype="str"),
            "year": [2020, 2020, 2021, 2021, 2022, 2022],
            "x": [0.5, float("nan"), 1.5, 2.0, -0.0, 3.25],
            "ok": [True, False, True, True, False, True],
            "n": pd.array([1, None, 3, 4, None, 6], dtype="Int64"),
            "text": pd.Series(["a", "b", None, "d", "e", "a"], dtype="str"),
            "cat": pd.Categorical(["p", "q", "p", "q", "r", "p"]),
        }
    )
    hashes = row_hashes(table)
    years = [2020, 2021, 2022]
    for kommun in ("A", "B"):
        at = (table["kommun"] == kommun).to_numpy().nonzero()[0]
        own = table.take(at).reset_index(drop=True)
        for upto in (True, False):
            assert year_digests(own, years, upto=upto, hashes=hashes[at]) == year_digests(
                own, years, upto=upto
            )
        assert frame_digest(own, hashes=hashes[at]) == frame_digest(own)
    # the check can fail: another kommun's hashes give other digests
    b = (table["kommun"] == "B").to_numpy().nonzero()[0]
    a_rows = table[table["kommun"] == "A"].reset_index(drop=True)
    assert frame_digest(a_rows.iloc[:2], hashes=hashes[b]) != frame_digest(a_rows.iloc[:2])


@pytest.mark.parametrize("in_year_order", [True, False])
@pytest.mark.parametrize("upto", [True, False])
def test_year_digests_equal_the_rows_of_each_year_filtered_and_hashed(upto, in_year_order):
    """``year_digests`` feeds the rows year by year (a running digest for the rows up to a
    year, a run of a stable sort for the rows of one) instead of a filter per year: the
    digests are those of each year's rows filtered out in table order and hashed, years
    asked twice, before, between and after the table's years included."""
    import hashlib

    import numpy as np

    from trygghet_analys.files.cache import row_hashes, table_layout, year_digests

    rng = np.random.default_rng(7)
    year = rng.integers(2018, 2024, size=60)
    if in_year_order:
        year = np.sort(year)
    table = pd.DataFrame({"year": year, "x": rng.random(60), "t": rng.choice(["a", "b"], 60)})
    years = [2021, 2017, 2019, 2023, 2025, 2019, 2020]
    rows = row_hashes(table)
    expected = {}
    for y in years:
        h = hashlib.sha256(table_layout(table).encode())
        h.update(rows[(year <= y) if upto else (year == y)].tobytes())
        expected[y] = h.hexdigest()
    got = year_digests(table, years, upto=upto)
    assert got == expected
    assert list(got) == list(dict.fromkeys(years))


# --- estimates per kommun and year from the cache (issue 16) ---------------------------------
def _record_estimated_years(monkeypatch) -> list[list[tuple[str, int]]]:
    """The (kommun, year) designs of each ``estimate_indicators`` call of the build."""
    calls: list[list[tuple[str, int]]] = []
    real = pipeline.estimate_indicators

    def recording(responses, strata, **kwargs):
        designs = responses[["kommun", "year"]].drop_duplicates()
        calls.append(sorted((str(k), int(y)) for k, y in designs.itertuples(index=False)))
        return real(responses, strata, **kwargs)

    monkeypatch.setattr(pipeline, "estimate_indicators", recording)
    return calls


def test_a_new_year_estimates_that_year_only(data, tmp_path, monkeypatch):
    _build_last_year(data, tmp_path)
    calls = _record_estimated_years(monkeypatch)
    pipeline.build(data)
    assert calls == [[("Älmhult", 2025)]]  # 2005–2024 come from the cache
    calls.clear()
    pipeline.build(data)  # nothing changed: nothing estimated
    assert calls == []
    monkeypatch.undo()
    _equals_a_build_without_cache(data)


@pytest.mark.parametrize(
    ("change", "years"),
    [
        (_set_min_n, list(range(2005, 2026))),  # min_n suppresses rows in every year
        (_set_base_year, []),  # the base year moves comparisons, not estimates
        (_add_a_series_break, []),  # a break moves comparisons; the answers are the same
        (_change_a_population, [2012]),  # the weights and N_h of 2012 only
        (_change_a_past_year, [2020]),  # the answers of 2020 only
    ],
    ids=["min_n", "basar", "kodbok", "population", "tidigare-ar"],
)
def test_a_changed_input_estimates_the_years_that_rest_on_it(data, monkeypatch, change, years):
    """Each kommun × year's estimates rest on its own rows, strata and min_n: a change
    estimates exactly the years it touches, and the result equals a build from scratch."""
    pipeline.build(data)
    change(data)
    calls = _record_estimated_years(monkeypatch)
    pipeline.build(data)
    assert calls == ([[("Älmhult", y) for y in years]] if years else [])
    monkeypatch.undo()
    _equals_a_build_without_cache(data)


def test_estimates_from_the_cache_of_a_region_equal_a_full_build(
    region_data_dir, tmp_path, monkeypatch
):
    """Three kommuner, the newest year of one of them new and a kommun.yml setting of
    another changed: only those designs are estimated, and the rows (sorted by kommun and
    year, as one call sorts them) equal a build from scratch."""
    data = tmp_path / "data"
    shutil.copytree(region_data_dir, data)
    folders = sorted((data / "raw" / "kommuner").iterdir())
    survey = folders[0] / "trygghetsmatning"
    newest = max(p for p in survey.iterdir() if p.stem.isdigit())
    shutil.move(newest, tmp_path / newest.name)
    pipeline.build(data)
    shutil.move(tmp_path / newest.name, newest)
    yml = folders[1] / "kommun.yml"
    text = yml.read_text(encoding="utf-8")
    assert "min_n: 30\n" in text
    yml.write_text(text.replace("min_n: 30\n", "min_n: 31\n"), encoding="utf-8")
    calls = _record_estimated_years(monkeypatch)
    pipeline.build(data)
    (designs,) = calls
    names = {k.raw.name: k.name for k in pipeline.DataFolder.at(data).kommuner()}
    second = sorted(y for k, y in designs if k == names[folders[1].name])
    assert (names[folders[0].name], int(newest.stem)) in designs
    assert len(second) > 1 and second == list(range(second[0], second[-1] + 1))
    assert {k for k, _ in designs} == {names[folders[0].name], names[folders[1].name]}
    monkeypatch.undo()
    _equals_a_build_without_cache(data)


def test_get_rows_stacks_entries_in_the_order_asked(tmp_path):
    from trygghet_analys.files.cache import BuildCache

    store = BuildCache(tmp_path / ".cache")
    for i in range(3):
        store.put("k", f"e{i}", {"rows": pd.DataFrame({"x": [i] * (i + 1), "s": f"t{i}"})})
    store.finish()
    store = BuildCache(tmp_path / ".cache")
    store.put("k", "e3", {"rows": pd.DataFrame({"x": [3], "s": "t3"})})
    store.get("k", "e0")
    store.finish()  # e0 and e3 kept: the pack holds its files for e0, e3 anew
    store = BuildCache(tmp_path / ".cache")
    found, rows = store.get_rows("k", ["e3", "e1", "e0"], "rows")
    assert found == ["e3", "e0"]  # e1 was not used by the build before: dropped
    assert rows["x"].tolist() == [3, 0] and rows["s"].tolist() == ["t3", "t0"]
    assert rows.index.tolist() == [0, 1]
    store.finish()
    found, rows = BuildCache(tmp_path / ".cache").get_rows("k", ["e1", "e0", "e3"], "rows")
    assert found == ["e0", "e3"] and rows["x"].tolist() == [0, 3]
    assert BuildCache(tmp_path / ".cache").get_rows("k", ["nope"], "rows")[0] == []


def test_a_new_year_keeps_the_csv_text_file_and_adds_one(tmp_path):
    from trygghet_analys.files.cache import BuildCache

    table = _csv_table()
    store = BuildCache(tmp_path / ".cache")
    pipeline._write_csv_from_blocks(table, tmp_path / "a.csv", "t", store)
    store.finish()
    (first,) = (tmp_path / ".cache" / "texts").glob("t-*.bin")
    more = table[table["year"] == 2025].assign(year=2026)
    grown = pd.concat([table, more], ignore_index=True).sort_values(
        ["kommun", "year"], kind="stable", ignore_index=True
    )
    store = BuildCache(tmp_path / ".cache")
    pipeline._write_csv_from_blocks(grown, tmp_path / "b.csv", "t", store)
    store.finish()
    files = sorted((tmp_path / ".cache" / "texts").glob("t-*.bin"))
    assert first in files and len(files) == 2  # the old rows are not written again
    pipeline.write_swedish_csv(grown, tmp_path / "whole.csv")
    again = tmp_path / "c.csv"
    pipeline._write_csv_from_blocks(grown, again, "t", BuildCache(tmp_path / ".cache"))
    assert again.read_bytes() == (tmp_path / "whole.csv").read_bytes()
    # fewer than half of the first file's bytes still wanted: it is written afresh
    only_new = grown[grown["year"] == 2026].reset_index(drop=True)
    store = BuildCache(tmp_path / ".cache")
    pipeline._write_csv_from_blocks(only_new, tmp_path / "d.csv", "t", store)
    store.finish()
    assert first not in sorted((tmp_path / ".cache" / "texts").glob("t-*.bin"))


def test_the_receipt_counts_every_kommun_and_file_from_the_ledger(region_data_dir):
    """The reference is the per-file filtering the receipt did before (issue 16)."""
    tables = pipeline.compute_tables(region_data_dir, stages=[pipeline.survey_stage])
    lines = pipeline.survey_receipt(region_data_dir, tables)
    ledger = tables["ledger"]
    kommuner = pipeline.DataFolder.at(region_data_dir).kommuner()
    want = []
    for k in kommuner:
        for year, path in pipeline.survey_files(k.survey_dir).items():
            name = path.relative_to(k.raw).as_posix()
            own = ledger[(ledger["kommun"] == k.name) & (ledger["file"] == name)]
            kept = tables["survey_responses"]
            n = int(((kept["kommun"] == k.name) & (kept["year"] == year)).sum())
            want.append((k.name, year, n + len(own), n, len(own)))
    assert len(lines) == len(want) > 20
    for line, (kommun, year, read, n, out) in zip(lines, want, strict=True):
        assert line.startswith(f"{kommun} {year}: ")
        assert f": {read} rader lästa, {n} behållna, {out} i liggaren" in line


def test_row_hashes_of_a_stacked_table_sliced_per_kommun_give_the_same_keys(region_data_dir):
    """The findings' keys hash each stacked table once and slice it per kommun; the digests
    are those of hashing each kommun's own table (so the cache's keys did not move)."""
    from trygghet_analys.files.cache import frame_digest, year_digests

    tables = pipeline.compute_tables(
        region_data_dir, stages=[pipeline.survey_stage, pipeline.statistics_stage]
    )
    for name, column in [
        ("survey_estimates", "year"),
        ("survey_changes", "year_to"),
        ("survey_strata", "year"),
        ("survey_breaks", "year"),
    ]:
        table = tables[name]
        rows = pipeline._per_kommun(table)
        for kommun in [*table["kommun"].unique(), "Ingen sådan"]:
            own = rows(kommun)
            years = sorted(int(y) for y in table[column].unique())
            for upto in (True, False):
                assert year_digests(own, years, column=column, upto=upto) == year_digests(
                    own, years, column=column, upto=upto, hashes=rows.hashes(kommun)
                )
            assert frame_digest(own) == frame_digest(own, hashes=rows.hashes(kommun))


def test_a_kommuns_rows_sliced_or_taken_equal_a_filter():
    """``_per_kommun`` slices a kommun whose rows stand together and takes those that do
    not; either way the rows are those of a plain filter (values, types, index 0..n-1)."""
    table = pd.DataFrame(
        {
            "kommun": pd.Series(["A", "A", "B", "B", "A", "C"], dtype="str"),
            "year": [2024, 2025, 2024, 2025, 2026, 2024],
            "x": [0.5, None, 1.5, 2.5, 3.5, 4.5],
        }
    )
    rows = pipeline._per_kommun(table)
    for kommun in ["A", "B", "C", "D"]:  # A apart, B and C together, D absent
        want = table[table["kommun"] == kommun].reset_index(drop=True)
        pd.testing.assert_frame_equal(rows(kommun), want)


def test_get_blocks_takes_entries_per_pack_file_with_each_ones_span(tmp_path):
    """Entries written together share a pack file and come back as one block; an entry
    written later (another pack file) is a block of its own; each key's span in its block
    holds exactly its rows (the reference: :meth:`BuildCache.get` of the same key)."""
    from trygghet_analys.files.cache import BuildCache

    def entry(i: int) -> dict[str, pd.DataFrame]:
        return {
            "responses": pd.DataFrame({"x": list(range(i, 2 * i + 1)), "s": f"t{i}"}),
            "ledger": pd.DataFrame(  # none for even i, of the same types
                {
                    "rule": pd.Series(["r"] * (i % 2), dtype="str"),
                    "n": pd.Series([i] * (i % 2), dtype="int64"),
                }
            ),
        }

    store = BuildCache(tmp_path / ".cache")
    for i in range(4):
        store.put("enkat", f"e{i}", entry(i))
    store.finish()
    store = BuildCache(tmp_path / ".cache")
    for i in range(4):
        store.get("enkat", f"e{i}")
    store.put("enkat", "e4", entry(4))  # a new year: a pack file of its own
    store.finish()

    store = BuildCache(tmp_path / ".cache")
    keys = ["e3", "e4", "nope", "e0", "e2"]
    blocks, found = store.get_blocks("enkat", keys, ("responses", "ledger"))
    assert set(found) == {"e0", "e2", "e3", "e4"} and len(blocks) == 2
    assert found["e3"][0] == found["e0"][0] == found["e2"][0] == 0 and found["e4"][0] == 1
    reference = BuildCache(tmp_path / ".cache")
    for key, (b, spans) in found.items():
        for name in ("responses", "ledger"):
            start, stop = spans[name]
            got = blocks[b][name].iloc[start:stop].reset_index(drop=True)
            pd.testing.assert_frame_equal(got, reference.get("enkat", key)[name])
    assert store.used["enkat"] == set(keys)
    store.finish()  # every key found is kept, "e1" (not asked for) is dropped
    again = BuildCache(tmp_path / ".cache")
    assert again.get_blocks("enkat", ["e1", "e4"], ("responses", "ledger"))[1].keys() == {"e4"}


def test_csv_blocks_rendered_together_equal_a_whole_write(tmp_path, monkeypatch):
    """Without a line break in any value the blocks left to render are rendered in one
    call and split at the line ends; the bytes are those of a whole write."""
    from trygghet_analys.files.cache import BuildCache

    table = _csv_table().assign(text=lambda t: t["text"].str.replace("\n", " ", regex=False))
    pipeline.write_swedish_csv(table, tmp_path / "whole.csv")
    calls = _record_csv_renders(monkeypatch)
    store = BuildCache(tmp_path / ".cache")
    pipeline._write_csv_from_blocks(table, tmp_path / "a.csv", "t", store)
    store.finish()
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    assert [c for c in calls if c] == [12]  # six blocks, one call
    # a new year for every kommun: the three new blocks in one call, the rest kept
    grown = _a_new_year(table)
    _write_from_blocks_as_whole(grown, tmp_path, calls)
    assert [c for c in calls if c] == [6]
    # the kept texts are each block's own: a build from them alone gives the same bytes
    calls.clear()
    pipeline._write_csv_from_blocks(grown, tmp_path / "c.csv", "t", BuildCache(tmp_path / ".cache"))
    assert (tmp_path / "c.csv").read_bytes() == (tmp_path / "whole2.csv").read_bytes()
    assert [c for c in calls if c] == []


# --- parsed registers kept in the build cache (texts ``parsed_registers``) -------------------
def _record_register_reads(monkeypatch) -> list[str]:
    """The register files ``build`` parses (``load_register``), by name."""
    reads: list[str] = []
    real = pipeline.load_register

    def recording(path, **checks):
        reads.append(Path(path).name)
        return real(path, **checks)

    monkeypatch.setattr(pipeline, "load_register", recording)
    return reads


def _built_twice(data: Path, reads: list[str], n: int) -> dict[str, bytes]:
    """Two builds: the first reads ``n`` files (``reads``), the second none and writes the
    same tables, which it returns."""
    pipeline.build(data)
    assert len(reads) == n
    before = _tables(data / "processed")
    reads.clear()
    pipeline.build(data)
    assert reads == []
    assert _tables(data / "processed") == before
    return before


def test_registers_come_from_the_cache_until_a_register_file_changes(data, monkeypatch):
    """An unchanged build parses no register; a changed register file is parsed again (that
    one only) and its change reaches the tables, which equal a build without cache."""
    reads = _record_register_reads(monkeypatch)
    before = _built_twice(data, reads, 4)
    _change_a_commitment_text(data)
    changed = sorted((data / "raw" / "medborgarloften").glob("20*.yml"))[-1].name
    pipeline.build(data)
    assert reads == [changed]
    monkeypatch.undo()
    after = _equals_a_build_without_cache(data)
    assert after["commitment_draft.parquet"] != before["commitment_draft.parquet"]


def test_damaged_parsed_registers_are_parsed_again(data, monkeypatch):
    pipeline.build(data)
    before = _tables(data / "processed")
    texts = data / "processed" / ".cache" / "texts"
    (texts / "parsed_registers.json").write_text("{not json", encoding="utf-8")
    reads = _record_register_reads(monkeypatch)
    pipeline.build(data)
    assert len(reads) == 4
    assert _tables(data / "processed") == before


def test_a_register_read_back_from_json_equals_the_register(sample_data_dir):
    import dataclasses
    import datetime as dt

    from trygghet_analys.files.registers import (
        load_registers,
        register_from_json,
        register_to_json,
    )

    registers = load_registers(sample_data_dir / "raw" / "medborgarloften")
    assert registers
    signed = [dt.datetime(2024, 5, 2, 10, 30), None, dt.date(2024, 5, 2)]
    for register in registers:
        for when in signed:
            r = dataclasses.replace(register, signed=when)
            back = register_from_json(register_to_json(r), source=r.source)
            assert back == r
            assert repr(back) == repr(r)
            assert type(back.signed) is type(r.signed)
            assert back.source == r.source
            assert [c.activities for c in back.commitments] == [c.activities for c in r.commitments]


# --- parsed codebooks kept in the build cache (texts ``parsed_codebooks``) -------------------
def _record_codebook_reads(monkeypatch) -> list[str]:
    """The codebooks ``build`` reads from their YAML (``load_codebook``), by kommun folder."""
    reads: list[str] = []
    real = pipeline.load_codebook

    def recording(path, **kwargs):
        reads.append(Path(path).parent.parent.name)
        return real(path, **kwargs)

    monkeypatch.setattr(pipeline, "load_codebook", recording)
    return reads


def test_codebooks_come_from_the_cache_until_the_codebook_changes(data, monkeypatch):
    """An unchanged build reads no codebook from YAML; a changed codebook is read again, and
    the tables equal a build without cache either way."""
    reads = _record_codebook_reads(monkeypatch)
    before = _built_twice(data, reads, 1)
    book = data / "raw" / "trygghetsmatning" / "kodbok.yml"
    book.write_text(book.read_text(encoding="utf-8") + "\n# en kommentar\n", encoding="utf-8")
    pipeline.build(data)
    assert len(reads) == 1
    reads.clear()
    pipeline.build(data)
    assert reads == []
    monkeypatch.undo()
    assert _equals_a_build_without_cache(data) == before


@pytest.mark.parametrize(
    "damage",
    ["index", "not json", "not a codebook", "unknown class", "unknown field", "other path"],
)
def test_a_damaged_or_stale_parsed_codebook_is_read_again(data, monkeypatch, damage):
    """A text that is not a codebook (or one of another file) is never used: the codebook
    is read from its YAML again and the tables are those of the first build."""
    from trygghet_analys.files import cache as cache_module

    reads = _record_codebook_reads(monkeypatch)
    before = _built_twice(data, reads, 1)
    texts = data / "processed" / ".cache" / "texts"
    if damage == "index":
        (texts / "parsed_codebooks.json").write_text("{not json", encoding="utf-8")
    else:
        kept = pipeline.BuildCache(data / "processed" / ".cache").texts("parsed_codebooks")
        assert len(kept) == 1
        (key,) = kept
        doc = json.loads(kept[key])
        if damage == "not json":
            text = b"{not json"
        elif damage == "not a codebook":
            text = json.dumps({"dict": []}).encode()
        elif damage == "unknown class":
            text = json.dumps({"class": "Path", "fields": {}}).encode()
        elif damage == "unknown field":
            doc["fields"]["extra"] = 1
            text = json.dumps(doc).encode()
        else:
            doc["fields"]["path"] = {"path": "/någon/annan/kodbok.yml"}
            text = json.dumps(doc).encode()
        cache_module._write_texts(texts, "parsed_codebooks", {key: text})
    pipeline.build(data)
    assert len(reads) == 1
    assert _tables(data / "processed") == before
    reads.clear()
    pipeline.build(data)
    # an unreadable index is written again whole; a text kept under its key with bytes
    # matching the index (only a damaged program writes one) stays, and is read again
    assert reads == ([] if damage == "index" else ["raw"])
    assert _tables(data / "processed") == before


def test_a_cached_codebook_equals_the_one_read_and_areas_are_part_of_its_key(
    sample_data_dir, tmp_path, monkeypatch
):
    from trygghet_analys.config import load_kommuner
    from trygghet_analys.files.cache import BuildCache
    from trygghet_analys.files.codebook import load_codebook

    path = sample_data_dir / "raw" / "trygghetsmatning" / "kodbok.yml"
    (kommun,) = load_kommuner(sample_data_dir / "raw")
    areas = kommun.strata
    store = BuildCache(tmp_path / "cache")
    first = pipeline._cached_codebook(store, {}, path, areas)
    store.finish()
    reads = _record_codebook_reads(monkeypatch)
    again = BuildCache(tmp_path / "cache")
    memo: dict = {}
    kept = pipeline._cached_codebook(again, memo, path, areas)
    assert reads == []
    expected = load_codebook(path, areas=areas)
    assert kept == expected == first
    assert repr(kept) == repr(expected)
    assert [layout.answers for layout in kept.layouts] == [
        layout.answers for layout in expected.layouts
    ]
    pipeline._cached_codebook(again, memo, path, (*areas, "Nytt område"))  # read again
    assert len(reads) == 1


def test_a_codebook_read_back_from_json_equals_the_codebook(sample_data_dir, region_data_dir):
    """Every codebook of the sample and region data, and one with every kind of value a
    codebook holds (non-ASCII, None, empty containers, a new question, rules with lists):
    read back equal, with the same ``repr`` and the same types of values."""
    import dataclasses

    from trygghet_analys.files.codebook import codebook_from_json, codebook_to_json, load_codebook
    from trygghet_analys.survey.codebook import ColumnSpec, SeriesBreak

    books = [
        load_codebook(p)
        for folder in (sample_data_dir, region_data_dir)
        for p in sorted((folder / "raw").rglob("kodbok.yml"))
    ]
    assert len(books) >= 4
    book = books[0]
    layout = dataclasses.replace(
        book.layouts[0],
        name="Enkät 2024 – ny leverantör",
        years=frozenset({2031, 2024, 2030}),
        columns=(*book.layouts[0].columns, ColumnSpec("Fråga ÅÄÖ", "ny_fråga", 2024, None)),
        answers={**book.layouts[0].answers, "ny_fråga": {"1": "Ja", "2": None, "": "Vet ej"}},
        ignore=(),
        age_bands={"16–24 år": "16–24", "okänd": None},
        breaks=(SeriesBreak("ny_fråga", 2030, "Ny ordalydelse – ”trygg”"),),
        no_break={"oro_vald": "samma fråga"},
    )
    books.append(
        dataclasses.replace(
            book,
            path=Path("/data/Malmö kommun/kodbok.yml"),
            variables={**book.variables, "ny_fråga": ("Ja", "Nej", "Vet ej")},
            rules={"summeringsrad": {"ord": ["Totalt", "Summa å"]}, "tom_rad": {}},
            layouts=(layout,),
        )
    )
    for b in books:
        back = codebook_from_json(codebook_to_json(b))
        assert back == b
        assert repr(back) == repr(b)
        for mine, theirs in zip(back.layouts, b.layouts, strict=True):
            assert type(mine.years) is frozenset
            assert mine.answers == theirs.answers and mine.no_break == theirs.no_break
            assert mine.age_bands == theirs.age_bands
        assert back.variables == b.variables and back.rules == b.rules
        assert type(back.path) is type(b.path)


def test_a_runs_row_hashes_are_kept_per_table_and_a_changed_table_is_hashed_again():
    """``_row_hashes`` gives a table of the run the hashes made the first time, and any
    other table — a changed copy, the same values in a new object — its own, so a changed
    input never gets the keys of the table it replaced."""
    from trygghet_analys.files.cache import row_hashes

    table = pd.DataFrame({"kommun": pd.Series(["A", "B"], dtype="str"), "x": [0.5, 1.5]})
    token = pipeline._MEMO.set({})
    try:
        first = pipeline._row_hashes(table)
        assert pipeline._row_hashes(table) is first  # made once
        changed = table.copy()
        changed.loc[1, "x"] = 2.5
        again = pipeline._row_hashes(changed)
        assert (again == row_hashes(changed)).all() and (again != first).any()
        assert pipeline._per_kommun(table) is pipeline._per_kommun(table)
        assert pipeline._per_kommun(changed) is not pipeline._per_kommun(table)
    finally:
        pipeline._MEMO.reset(token)
    # without a run's memo nothing is kept
    assert pipeline._row_hashes(table) is not pipeline._row_hashes(table)


def test_table_layouts_differ_with_their_types_also_when_types_compare_equal():
    """The layout (a part of every cache key) keeps each type's own text: unordered
    categoricals with their categories in another order compare equal but are not the
    same type for a parquet file, nor are the two kinds of missing text."""
    from trygghet_analys.files.cache import table_layout

    ab = pd.DataFrame({"c": pd.Categorical(["a"], categories=["a", "b"])})
    ba = pd.DataFrame({"c": pd.Categorical(["a"], categories=["b", "a"])})
    assert ab["c"].dtype == ba["c"].dtype
    assert table_layout(ab) != table_layout(ba)
    nan_text = pd.DataFrame({"c": pd.Series(["a"], dtype=pd.StringDtype(na_value=float("nan")))})
    na_text = pd.DataFrame({"c": pd.Series(["a"], dtype=pd.StringDtype())})
    assert table_layout(nan_text) != table_layout(na_text)
    assert table_layout(nan_text) == table_layout(nan_text.copy())


def test_activities_are_read_once_per_build_and_a_changed_file_changes_the_findings(
    data, monkeypatch
):
    """The findings and the follow-up share one read of ``aktiviteter.csv`` per build; the
    next build reads it again, so a changed count changes the findings."""
    reads: list[str] = []
    real = pipeline.load_activities

    def counting(path):
        reads.append(str(path))
        return real(path)

    monkeypatch.setattr(pipeline, "load_activities", counting)
    pipeline.build(data)
    assert reads and len(reads) == len(set(reads))
    before = pd.read_parquet(data / "processed" / "findings.parquet")
    _change_an_activity_count(data)
    reads.clear()
    pipeline.build(data)
    assert reads and len(reads) == len(set(reads))
    after = pd.read_parquet(data / "processed" / "findings.parquet")

    def counts(table: pd.DataFrame) -> pd.DataFrame:
        return table[table["source"] == "aktivitet"].reset_index(drop=True)

    assert not counts(after).equals(counts(before))


def _estimates_rows() -> pd.DataFrame:
    """Three ``survey_estimates`` rows: two reliable proportions and a mean."""
    return pd.DataFrame(
        {
            "kommun": ["Lund", "Lund", "Ystad"],
            "year": [2023, 2024, 2024],
            "indicator": ["otrygghet_ute_sent", "otrygghet_ute_sent", "problemindex"],
            "group_var": ["total"] * 3,
            "group": ["Alla"] * 3,
            "estimate": [0.30, 0.28, 2.1],
            "se": [0.02, 0.02, 0.1],
            "ci_low": [0.26, 0.24, 1.9],
            "ci_high": [0.34, 0.32, 2.3],
            "n": [500, 480, 400],
            "suppressed": [False, False, False],
        }
    ).astype({"kommun": "str", "indicator": "str", "group_var": "str", "group": "str"})


def _reliable_with_cache(cache: Path, estimates: pd.DataFrame, calls: list[int]):
    """``pipeline._reliable`` as ``build`` runs it with the build cache at ``cache``."""
    from trygghet_analys.files.cache import BuildCache

    store = BuildCache(cache)
    token = pipeline._CACHE.set(store)
    try:
        flags = pipeline._reliable(estimates)
    finally:
        pipeline._CACHE.reset(token)
    store.finish()
    return flags


def test_reliability_flags_come_from_the_cache_until_an_estimate_changes(tmp_path, monkeypatch):
    from trygghet_analys.stats.reliability import reliability

    calls: list[int] = []

    def counted(estimates, **kw):
        calls.append(len(estimates))
        return reliability(estimates, **kw)

    monkeypatch.setattr(pipeline, "reliability", counted)
    cache = tmp_path / ".cache"
    est = _estimates_rows()
    first = _reliable_with_cache(cache, est, calls)
    assert first.tolist() == reliability(est).tolist() == [True, True, True]
    assert _reliable_with_cache(cache, est, calls).tolist() == first.tolist()
    assert calls == [3]  # the second build computed nothing
    wider = est.copy()
    wider.loc[1, "se"] = 0.2  # the interval of the 2024 row is now far too wide
    again = _reliable_with_cache(cache, wider, calls)
    assert again.tolist() == reliability(wider).tolist() == [True, False, True]
    assert calls == [3, 1]  # the changed row only
    a_new_year = pd.concat([wider, est.iloc[[1]].assign(year=2025)], ignore_index=True)
    assert _reliable_with_cache(cache, a_new_year, calls).tolist() == [True, False, True, True]
    assert calls == [3, 1, 1]


def test_activities_come_from_the_cache_until_the_file_changes(data, monkeypatch):
    """``aktiviteter.csv`` is read again only when its bytes change, and the new counts
    reach the tables: the result equals a full build."""
    real, read = pipeline.load_activities, []

    def counting(path):
        read.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(pipeline, "load_activities", counting)
    pipeline.build(data)
    assert read == ["aktiviteter.csv"]
    before = _tables(data / "processed")
    pipeline.build(data)
    assert read == ["aktiviteter.csv"]  # unchanged: from the cache
    _change_an_activity_count(data)
    pipeline.build(data)
    assert read == ["aktiviteter.csv"] * 2
    monkeypatch.undo()
    after = _equals_a_build_without_cache(data)
    assert after["commitment_followup.parquet"] != before["commitment_followup.parquet"]


def test_activities_from_the_cache_are_the_table_as_read(data, tmp_path):
    """The cached table has the columns, types, index and values of a fresh read."""
    from trygghet_analys.files.cache import BuildCache
    from trygghet_analys.files.registers import load_activities

    path = data / "raw" / "medborgarloften" / "aktiviteter.csv"
    for _ in range(2):  # the first run reads and keeps it, the second takes it from the cache
        store = BuildCache(tmp_path / ".cache")
        token = pipeline._CACHE.set(store)
        try:
            table = pipeline._cached_activities(path)
        finally:
            pipeline._CACHE.reset(token)
        store.finish()
        pd.testing.assert_frame_equal(table, load_activities(path), check_index_type=True)


def test_kept_csv_texts_as_views_equal_the_copies(tmp_path):
    """The texts read as views of the cache file (``views=True``, what the csv writer
    takes) hold the bytes of the copies, and texts kept as views are written again as
    the same bytes when their file is written afresh."""
    from trygghet_analys.files.cache import BuildCache

    store = BuildCache(tmp_path / ".cache")
    texts = {"a": b"x;1,5\n" * 1000, "b": b"", "c": "Åstorp;2025;ö\n".encode()}
    store.put_texts("t", texts)
    store.finish()
    views = BuildCache(tmp_path / ".cache").texts("t", views=True)
    copies = BuildCache(tmp_path / ".cache").texts("t")
    assert all(isinstance(v, memoryview) for v in views.values())
    assert {k: bytes(v) for k, v in views.items()} == copies == texts
    store = BuildCache(tmp_path / ".cache")
    kept = store.texts("t", views=True)
    store.put_texts("t", {"c": kept["c"], "d": b"ny\n"})  # "a" gone: the file written afresh
    store.finish()
    assert len(list((tmp_path / ".cache" / "texts").glob("t-*.bin"))) == 1
    assert BuildCache(tmp_path / ".cache").texts("t") == {"c": texts["c"], "d": b"ny\n"}


def _write_with_noted_keys(table, path, store, keys):
    """``_write_csv_from_blocks`` in a run whose stage noted ``keys`` for ``table``."""
    token = pipeline._MEMO.set({})
    try:
        if keys is not None:
            pipeline._note_year_keys(table, keys)
        pipeline._write_csv_from_blocks(table, path, "t", store)
    finally:
        pipeline._MEMO.reset(token)


def _noted(table):
    """A made-up key per kommun and year of ``table``."""
    pairs = zip(table["kommun"], table["year"], strict=True)
    return {(k, int(y)): f"key-{k}-{y}" for k, y in pairs}


@pytest.mark.parametrize(
    "shape", ["varied", "one-row", "all-nan", "non-ascii", "a-block-twice", "object-column"]
)
def test_csv_blocks_keyed_by_noted_keys_equal_a_whole_write(tmp_path, monkeypatch, shape):
    """Blocks keyed by the keys a stage noted (:func:`pipeline._block_digests`) give the
    bytes of a whole write, on the first write and from the kept texts; a block whose
    noted key changed is rendered again, an unchanged one is not. A table the noted keys
    cannot stand for (a kommun and year in two runs, an ``object`` column) is keyed by
    its rows, with the same bytes."""
    import numpy as np

    from trygghet_analys.files.cache import BuildCache

    table = _csv_table()
    if shape == "one-row":
        table = table.iloc[:1].reset_index(drop=True)
    elif shape == "all-nan":
        table = table.assign(x=np.nan, text=pd.Series([None] * len(table), dtype="str"))
    elif shape == "non-ascii":
        table = table.assign(kommun=table["kommun"].map({"A": "Åre", "B": "Öckerö", "C": "Ö"}))
        table["kommun"] = table["kommun"].astype("str")
        table["text"] = ["Går inte ut av oro", "16–24 år", "ä;ö", "€"] * 3
    elif shape == "a-block-twice":  # A 2024 in two runs
        table = pd.concat([table, table.iloc[:1]], ignore_index=True)
    elif shape == "object-column":
        table = table.assign(mixed=pd.Series([1, 2.5, "x", None] * 3, dtype=object))
    keyed = shape not in {"a-block-twice", "object-column"}
    keys = _noted(table)
    pipeline.write_swedish_csv(table, tmp_path / "whole.csv")
    whole = (tmp_path / "whole.csv").read_bytes()

    store = BuildCache(tmp_path / ".cache")
    hashed = []
    real = pipeline.row_hashes
    monkeypatch.setattr(pipeline, "row_hashes", lambda t: hashed.append(len(t)) or real(t))
    _write_with_noted_keys(table, tmp_path / "a.csv", store, keys)
    store.finish()
    assert (tmp_path / "a.csv").read_bytes() == whole
    assert hashed == ([] if keyed else [len(table)])  # noted keys: no row hashed

    # from the kept texts, one block's key changed (its rows the same): only it rendered
    calls = _record_csv_renders(monkeypatch)
    first = (table["kommun"].iloc[0], int(table["year"].iloc[0]))
    _write_with_noted_keys(
        table, tmp_path / "b.csv", BuildCache(tmp_path / ".cache"), {**keys, first: "changed"}
    )
    assert (tmp_path / "b.csv").read_bytes() == whole
    blocks = table.groupby(["kommun", "year"], sort=False).size()
    rendered = sorted(c for c in calls if c)
    assert rendered == ([int(blocks[first])] if keyed else [])


def test_noted_keys_stand_for_a_changed_table_only_when_noted_for_it():
    """A table's noted keys belong to that table object: a copy, or a table made again
    with other values, is keyed by its rows (hashed), never by keys noted for another."""
    table = _csv_table()
    token = pipeline._MEMO.set({})
    try:
        pipeline._note_year_keys(table, _noted(table))
        blocks = [("A", 2024), ("B", 2025)]
        got = pipeline._block_digests(table, blocks, lambda: ["hashed"] * 2)
        assert got != ["hashed"] * 2 and len(set(got)) == 2
        changed = table.copy()
        assert pipeline._block_digests(changed, blocks, lambda: ["hashed"] * 2) == ["hashed"] * 2
        # a block without a noted key: every block keyed by its rows
        assert (
            pipeline._block_digests(table, [*blocks, ("D", 2024)], lambda: ["h"] * 3) == ["h"] * 3
        )
        # another layout, the same keys: other digests
        retyped = table.astype({"n": "float64"})
        pipeline._note_year_keys(retyped, _noted(table))
        assert pipeline._block_digests(retyped, blocks, lambda: []) != got
    finally:
        pipeline._MEMO.reset(token)
    assert pipeline._block_digests(table, [("A", 2024)], lambda: ["hashed"]) == ["hashed"]


def test_a_new_year_hashes_no_finding_and_equals_a_full_build(data, tmp_path, monkeypatch):
    """In a new year's build the findings and underlag are keyed (underlag, csv blocks,
    drafts aside) by the findings cache's and underlag cache's per-year keys instead of
    hashing their rows; the files are those of a build from scratch."""
    from trygghet_analys.files.cache import row_hashes

    _build_last_year(data, tmp_path)
    hashed: list[list[str]] = []
    monkeypatch.setattr(
        pipeline, "row_hashes", lambda t: hashed.append(list(t.columns)) or row_hashes(t)
    )
    pipeline.build(data)
    assert [c for c in hashed if "sentence" in c and "q_value" in c and "source" in c] == []
    monkeypatch.undo()
    _equals_a_build_without_cache(data)


@pytest.mark.parametrize("rows", [0, 1, 9])
def test_a_pack_without_float_dictionaries_gives_back_the_tables_put(tmp_path, rows):
    """The cache's packs are written with dictionaries for all but the float columns
    (``dictionary_columns``): every table comes back as put (floats with NaN, -0.0 and
    extremes, non-ASCII texts, nullable integers, an ordered categorical)."""
    import numpy as np
    import pyarrow.parquet as pq

    from trygghet_analys.files.cache import BuildCache

    def table(i: int) -> pd.DataFrame:
        x = np.array([0.1 + 0.2, np.nan, -0.0, 1e308, 5e-324, 2.5, -1.0, 7.0, 1e-9])[:rows]
        return pd.DataFrame(
            {
                "kommun": pd.Series((["Åre", "Ö", None] * 3)[:rows], dtype="str"),
                "year": np.arange(rows, dtype="int64") + 2000 + i,
                "x": x + i,
                "n": pd.array(([1, None, 3] * 3)[:rows], dtype="Int64"),
                "ok": np.arange(rows) % 2 == 0,
                "sex": pd.Categorical(
                    (["Man", None, "Kvinna"] * 3)[:rows], categories=["Kvinna", "Man"], ordered=True
                ),
            }
        )

    store = BuildCache(tmp_path / ".cache")
    for i in range(2):
        store.put("k", f"e{i}", {"rows": table(i)})
    store.finish()
    store = BuildCache(tmp_path / ".cache")
    for i in range(2):
        got = store.get("k", f"e{i}")["rows"]
        pd.testing.assert_frame_equal(got, table(i), check_categorical=rows > 0)
    if rows:
        (pack,) = (tmp_path / ".cache" / "k").glob("*.parquet")
        meta = pq.ParquetFile(pack).metadata.row_group(0)
        encoded = {
            meta.column(i).path_in_schema: meta.column(i).dictionary_page_offset is not None
            for i in range(meta.num_columns)
        }
        assert not encoded["x"] and encoded["kommun"] and encoded["year"]


@pytest.mark.parametrize(
    "years",
    [
        [2005, 2006, 2007, 2008],  # every year: the table itself
        [2005, 2006, 2007],  # the latest dropped: a slice
        [2006, 2007, 2008],  # the first dropped
        [2006],  # one year in the middle
        [2005, 2008],  # a gap: a filter
        [],  # none
        [1999],  # a year the table lacks
    ],
)
@pytest.mark.parametrize("shape", ["in-order", "one-row", "unordered", "nan"])
def test_rows_of_years_equal_a_filter(years, shape):
    """``_rows_of_years`` (the table itself, a slice of a run of rows, or a filter) gives
    exactly the rows, index and types of the plain filter ``table[table.year.isin(years)]``."""
    import numpy as np

    table = pd.DataFrame(
        {
            "year": np.repeat([2005, 2006, 2007, 2008], 3),
            "kommun": pd.Series(["Åre", "Öckerö", "Malmö"] * 4, dtype="str"),
            "value": [0.1, np.nan, -0.0] * 4,
        }
    )
    if shape == "one-row":
        table = table.iloc[3:4]
    elif shape == "unordered":
        table = table.iloc[[4, 0, 9, 5, 1, 10]]
    elif shape == "nan":
        table = table.assign(value=np.nan)
    got = pipeline._rows_of_years(table, years)
    want = table[table["year"].isin(years)]
    pd.testing.assert_frame_equal(got, want)


@pytest.mark.parametrize("rows", [0, 1, 3])
def test_stored_keys_equal_the_rows_read_one_by_one(rows):
    keys = pd.DataFrame(
        {
            "year": pd.Series([2024, 2005, 2025][:rows], dtype="int64"),
            "key": pd.Series(["a" * 40, "b" * 40, "ö"][:rows], dtype="str"),
        }
    )
    want = {int(y): str(k) for y, k in keys.itertuples(index=False)}
    got = pipeline._stored_keys(keys)
    assert got == want and all(type(y) is int and type(k) is str for y, k in got.items())
