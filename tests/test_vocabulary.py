"""Vocabulary as data: a substance, an indicator, an age group, a column header or a recurring
text is added or changed by editing resource files only; labels are enums, not bare words.

The package's resource files are patched in memory (one extra row), every cache that holds
a parsed resource is cleared, and the new entry must then show up everywhere it belongs:
the lab file reader, the wastewater tables of the build, the known register ids, the chart
registry and the chart itself (substance); the estimates of the build and the chart labels
(indicator). ``new_rows_report`` goes all the way: the sample data built and reported with
a new substance (6-MAM rows added to its lab files) and a new indicator, which must appear
in the chart facts, ``rapport.html`` and ``tabeller.xlsx``.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from trygghet_analys import pipeline, vocabulary
from trygghet_analys.commitments.followup import known_indicator_ids
from trygghet_analys.files import wastewater as wwf
from trygghet_analys.report import charts, plotting, render
from trygghet_analys.stats.estimation import estimate_indicators
from trygghet_analys.stats.findings import COMPARISONS, SOURCES
from trygghet_analys.survey import indicators as ind

SMALL = Path(__file__).parent / "data" / "wastewater" / "liten"
HEROIN = "heroin,Heroin,heroin|6-MAM|6-monoacetylmorfin,,6-monoacetylmorfin,,Heroin\n"
MYCKET_OTRYGG = (
    'mycket_otrygg,Mycket otrygg ute sent,"Andel mycket otrygga.",proportion,'
    "otrygg_ute_sent,Mycket otrygg,higher_is_worse,Trygghet,andel,\n"
)


def _clear_caches() -> None:
    wwf._substance_lookup.cache_clear()
    charts._charts.cache_clear()
    ind._read_definitions.cache_clear()
    render._indicator_kinds.cache_clear()


@pytest.fixture
def extra_rows(monkeypatch):
    """Patch resource files with extra rows: ``extra_rows({"substanser.csv": row})``."""
    original = vocabulary.resource_text

    def patch(rows: dict[str, str]) -> None:
        def text(name: str) -> str:
            return original(name) + rows.get(name, "")

        monkeypatch.setattr(vocabulary, "resource_text", text)
        _clear_caches()

    yield patch
    monkeypatch.undo()
    _clear_caches()


def test_without_the_row_heroin_is_unknown():
    assert "heroin" not in vocabulary.substance_ids()
    assert "avloppsvatten_heroin" not in charts.chart_names()


def test_a_new_substance_is_one_resource_row(extra_rows, tmp_path):
    extra_rows({"substanser.csv": HEROIN})
    assert vocabulary.substance_ids()[-1] == "heroin"
    assert known_indicator_ids()["heroin"] == "avloppsvatten"  # registers may link to it
    # build: a lab file naming the residue is read as the new substance and gets loads
    raw = tmp_path / "raw"
    shutil.copytree(SMALL, raw)
    lab = raw / "avloppsvatten" / "labb" / "prov.csv"
    rows = "".join(f"Testverket;2023-04-0{d};6-MAM;{10 + d};1;ng/L\r\n" for d in (4, 5, 8))
    lab.write_bytes(lab.read_bytes() + rows.encode("cp1252"))
    tables = pipeline.build_wastewater(raw, "Testby")
    campaigns = tables["wastewater_campaigns"]
    assert campaigns.loc[campaigns["substance"] == "heroin", "n_days"].tolist() == [3]
    # charts and report: one chart per substance, titled from the resource
    assert "avloppsvatten_heroin" in charts.chart_names()
    chart = charts.get_chart("avloppsvatten_heroin")
    assert chart.title == "Heroin i avloppsvatten"
    ax = plotting.wastewater_chart(campaigns, substance="heroin")
    assert ax.get_title() == "Heroin (mätt som 6-monoacetylmorfin)"
    plt.close(ax.figure)


def test_a_new_indicator_is_one_resource_row_over_a_mapped_question(extra_rows, sample_data_dir):
    # the question otrygg_ute_sent is already mapped by the codebook: the row is all it takes
    extra_rows({"indikatorer.csv": MYCKET_OTRYGG})
    table = ind.load_indicators()
    assert table["id"].iloc[-1] == "mycket_otrygg"
    tables = pipeline.compute_tables(
        sample_data_dir, stages=[pipeline.survey_stage, pipeline.statistics_stage]
    )
    est = tables["survey_estimates"]
    mine = est[(est["indicator"] == "mycket_otrygg") & (est["group_var"] == "total")]
    broad = est[(est["indicator"] == "otrygghet_ute_sent") & (est["group_var"] == "total")]
    assert len(mine) == len(broad) > 0
    # "Mycket otrygg" is one of the three categories of the NTU indicator: never larger
    assert (mine["estimate"].to_numpy() <= broad["estimate"].to_numpy()).all()
    again = estimate_indicators(
        tables["survey_responses"], tables["survey_strata"], indicators=table.tail(1)
    )
    assert set(again["indicator"]) == {"mycket_otrygg"}


KAMERA = (
    "kamerabevakning,Vill ha kamerabevakning i området,"
    '"Andel som vill ha kamerabevakning i sitt bostadsområde.",proportion,'
    "kamerabevakning,Ja,higher_is_worse,Trygghet,andel,\n"
)


def _add_a_question_to_2025(raw: Path) -> None:
    """Next year's delivery holds a new question: column ``q09_kamera`` in ``2025.csv``
    (the answers copied from ``q08_grannsamverkan``, so the new indicator's estimates must
    equal grannsamverkan's), mapped in ``kodbok.yml`` like any question of one year on."""
    path = raw / "trygghetsmatning" / "2025.csv"
    lines = path.read_bytes().decode("utf-8-sig").splitlines()
    header = lines[0].split(";")
    source = header.index("q08_grannsamverkan")
    rows = [line.split(";") for line in lines]
    text = "\n".join(
        ";".join([*r, "q09_kamera" if i == 0 else r[source]]) for i, r in enumerate(rows)
    )
    path.write_bytes((text + "\n").encode("utf-8-sig"))
    book = raw / "trygghetsmatning" / "kodbok.yml"
    text = book.read_text(encoding="utf-8")
    for old, new in [
        (
            "  grannsamverkan: [Nej, Ja, Vet ej]\n",
            "  grannsamverkan: [Nej, Ja, Vet ej]\n  kamerabevakning: [Nej, Ja, Vet ej]\n",
        ),
        (
            "    q08_grannsamverkan: grannsamverkan\n  svar:\n    stratum:\n      '01'",
            "    q08_grannsamverkan: grannsamverkan\n"
            "    q09_kamera:\n      variabel: kamerabevakning\n      fran_ar: 2025\n"
            "  svar:\n    kamerabevakning: webb_nej_ja\n    stratum:\n      '01'",
        ),
    ]:
        assert text.count(old) == 1
        text = text.replace(old, new)
    book.write_text(text, encoding="utf-8")


def test_a_new_question_is_one_codebook_mapping_and_its_indicator_one_row(extra_rows, data_copy):
    """A question the survey did not ask before: its column mapped in ``kodbok.yml`` and
    one row in ``indikatorer.csv`` – no code. The answers are grannsamverkan's, so the
    estimates must be grannsamverkan's in 2025 (every group), and absent before."""
    _add_a_question_to_2025(data_copy / "raw")
    extra_rows({"indikatorer.csv": KAMERA})
    tables = pipeline.compute_tables(
        data_copy,
        stages=[pipeline.survey_stage, pipeline.statistics_stage, pipeline.indicators_stage],
    )
    est = tables["survey_estimates"]
    new = est[est["indicator"] == "kamerabevakning"].reset_index(drop=True)
    assert set(new["year"]) == {2025}
    same = est[(est["indicator"] == "grannsamverkan") & (est["year"] == 2025)]
    assert len(new) == len(same) > 1
    pd.testing.assert_frame_equal(
        new.drop(columns="indicator"), same.drop(columns="indicator").reset_index(drop=True)
    )
    labels = tables["survey_indicators"].set_index("indicator")["label"]
    assert labels["kamerabevakning"] == "Vill ha kamerabevakning i området"


def _processed(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.*")) if p.suffix in {
        ".parquet", ".csv"}}  # fmt: skip


def test_a_new_question_built_on_a_cache_equals_a_build_from_scratch(data_copy):
    """The new question arrives after a build: the cached build's tables are the bytes of
    ``build --utan-cache``; the question's column comes after the known ones, empty before
    2025, and every known column and row is as before (nothing dropped)."""
    pipeline.build(data_copy)
    before = pd.read_parquet(data_copy / "processed" / "survey_responses.parquet")
    _add_a_question_to_2025(data_copy / "raw")
    own = data_copy / "raw" / "indikatorer_egna.csv"
    own.write_text(
        "id;label;kind;variables;categories;direction\n"
        "kamerabevakning;Vill ha kamerabevakning;proportion;kamerabevakning;Ja;higher_is_worse\n",
        encoding="utf-8",
    )
    pipeline.build(data_copy)
    cached = _processed(data_copy / "processed")
    pipeline.build(data_copy, cache=False)
    scratch = _processed(data_copy / "processed")
    assert sorted(cached) == sorted(scratch)
    assert [name for name in cached if cached[name] != scratch[name]] == []
    after = pd.read_parquet(data_copy / "processed" / "survey_responses.parquet")
    assert list(after.columns) == [*before.columns, "kamerabevakning"]
    pd.testing.assert_frame_equal(after[list(before.columns)], before)
    asked = after["year"] == 2025
    assert after.loc[~asked, "kamerabevakning"].isna().all()
    pd.testing.assert_series_equal(
        after.loc[asked, "kamerabevakning"].astype(str),
        after.loc[asked, "grannsamverkan"].astype(str),
        check_names=False,
    )
    est = pd.read_parquet(data_copy / "processed" / "survey_estimates.parquet")
    assert set(est.loc[est["indicator"] == "kamerabevakning", "year"]) == {2025}


# --------------------------------------------------------------------------- seen in the report
#: A new indicator of the problem family: the ranking chart shows every ``problem_`` share.
MYCKET_STORT_GANG = (
    "problem_ungdomsgang_mycket,Mycket stort problem med störande ungdomsgäng,"
    '"Andel som ser störande ungdomsgäng som ett mycket stort problem.",proportion,'
    "problem_ungdomsgang,Mycket stort problem,higher_is_worse,Trygghet,andel,\n"
)


def _add_heroin_to_the_lab_files(folder: Path) -> int:
    """Beside every amphetamine row of the csv lab files, a 6-MAM row (a twentieth of the
    amphetamine concentration); returns the number of lab files changed."""
    changed = 0
    for path in sorted(folder.glob("*.csv")):
        text = path.read_bytes().decode("utf-8-sig")
        rows = []
        for line in text.splitlines():
            plant, day, substance, value, loq, unit = line.split(";")
            if substance == "Amfetamin":
                heroin = f"{float(value.replace(',', '.')) / 20:.1f}".replace(".", ",")
                rows.append(";".join([plant, day, "6-MAM", heroin, loq, unit]))
        if rows:
            path.write_bytes(
                (text.rstrip("\r\n") + "\r\n" + "\r\n".join(rows) + "\r\n").encode("utf-8-sig")
            )
            changed += 1
    return changed


@pytest.fixture(scope="module")
def new_rows_report(tmp_path_factory, sample_data_dir) -> Path:
    """The sample data with 6-MAM in its lab files, built and reported with one extra row in
    ``resources/substanser.csv`` (heroin) and one in ``resources/indikatorer.csv``."""
    root = tmp_path_factory.mktemp("nya_rader") / "data"
    shutil.copytree(sample_data_dir, root)
    assert _add_heroin_to_the_lab_files(root / "raw" / "avloppsvatten" / "labb") == 7
    original = vocabulary.resource_text
    rows = {"substanser.csv": HEROIN, "indikatorer.csv": MYCKET_STORT_GANG}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(vocabulary, "resource_text", lambda name: original(name) + rows.get(name, ""))
        _clear_caches()
        try:
            pipeline.build(root)
            out = render.run(data=root, out=tmp_path_factory.mktemp("rapport"), build=False)
        finally:
            mp.undo()
            _clear_caches()
    return out


def _facts(report: Path, chart: str) -> dict:
    import json

    return json.loads((report / "figurer" / f"{chart}.json").read_text(encoding="utf-8"))


def test_a_new_substance_is_seen_in_the_build_the_chart_and_the_report(new_rows_report):
    # build → report: the chart of the new substance, drawn from its campaigns (seven csv
    # lab files carry 6-MAM; the eighth campaign's lab file is an xlsx left as it was)
    facts = _facts(new_rows_report, "avloppsvatten_heroin")
    assert facts["kind"] == "wastewater" and facts["data_rows"] == 7
    assert facts["alt"].startswith("Diagram: Heroin (mätt som 6-monoacetylmorfin) i avloppsvatten")
    page = (new_rows_report / "rapport.html").read_text(encoding="utf-8")
    assert "Heroin i avloppsvatten" in page  # its section and its line in the chart list
    sheets = pd.read_excel(new_rows_report / "tabeller.xlsx", sheet_name=None, engine="calamine")
    assert any(name.endswith("avloppsvatten_heroin") for name in sheets)
    campaigns = sheets["Avloppsvatten kampanjer"].astype(str)
    assert (campaigns == "heroin").to_numpy().sum() == 7


def test_a_new_indicator_is_seen_in_the_build_the_chart_and_the_report(new_rows_report):
    label = "Mycket stort problem med störande ungdomsgäng"
    # the ranking chart shows every problem share: the new one among them, in its facts
    # (what the drawn figure shows) and in the table behind the chart in rapport.html
    facts = _facts(new_rows_report, "problem_rangordning")
    assert facts["data_rows"] == 12 and f"{label} " in facts["alt"]
    page = (new_rows_report / "rapport.html").read_text(encoding="utf-8")
    assert f"<td>{label}</td>" in page
    sheets = pd.read_excel(new_rows_report / "tabeller.xlsx", sheet_name=None, engine="calamine")
    estimates = sheets["Skattningar"].astype(str)
    assert (estimates == label).to_numpy().sum() > 0


# --------------------------------------------------------------------------- labels as data
SRC = Path(__file__).resolve().parents[1] / "src" / "trygghet_analys"


def _code_strings(tree: ast.AST) -> list[ast.Constant]:
    """String constants of a module that are not docstrings."""
    docs = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            if isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                docs.add(id(body[0].value))
    return [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs
    ]


def _modules(*, skip: tuple[str, ...] = ()) -> list[tuple[Path, ast.AST]]:
    return [
        (p, ast.parse(p.read_text(encoding="utf-8")))
        for p in sorted(SRC.rglob("*.py"))
        if not any(part in skip for part in p.relative_to(SRC).parts)
    ]


def test_comparison_kinds_and_sources_are_enums_labelled_by_the_resource():
    labels = vocabulary.read_resource_csv("etiketter.csv", dtype=str)
    by_key = dict(zip(labels["grupp"] + "/" + labels["id"], labels["etikett"], strict=True))
    assert [c.value for c in vocabulary.Comparison] == [
        by_key[f"jamforelse/{k}"] for k in ("previous_year", "base_year", "trend", "effect")
    ]
    assert [s.value for s in vocabulary.Source] == [
        by_key[f"kalla/{k}"] for k in ("survey", "wastewater", "activity")
    ]
    # the tables hold the labels: the findings contract accepts exactly these values
    assert COMPARISONS == tuple(by_key[k] for k in by_key if k.startswith("jamforelse/"))
    assert SOURCES == tuple(by_key[k] for k in by_key if k.startswith("kalla/"))


def test_no_module_compares_with_a_bare_swedish_label():
    """``x == "basår"`` breaks silently when the label is edited in the resource: code
    compares with the enum member (``Comparison.BASE_YEAR``)."""
    labels = {m.value for m in (*vocabulary.Comparison, *vocabulary.Source)}
    found = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            operands = []
            if isinstance(node, ast.Compare):
                operands = [node.left, *node.comparators]
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "isin":
                operands = [
                    e for a in node.args if isinstance(a, ast.List | ast.Tuple) for e in a.elts
                ]
            for op in operands:
                if isinstance(op, ast.Constant) and op.value in labels:
                    found.append(f"{path.relative_to(SRC)}:{node.lineno} {op.value!r}")
    assert found == []


def test_an_age_group_is_one_resource_row(extra_rows):
    from trygghet_analys.survey.codebook import AGE_GROUPS

    assert AGE_GROUPS == vocabulary.load_age_groups()  # derived, not written out again
    extra_rows({"aldersgrupper.csv": "86–99,86,99\n"})
    assert vocabulary.load_age_groups()[-1] == ("86–99", 86, 99)
    # no module spells an age group itself (docstrings may show one as an example)
    ages = {label for label, _, _ in AGE_GROUPS}
    spelled = [
        f"{p.relative_to(SRC)}:{n.lineno}"
        for p, tree in _modules(skip=("sample",))
        for n in _code_strings(tree)
        if n.value in ages
    ]
    assert spelled == []


def test_a_column_header_is_one_resource_row(extra_rows):
    frame = pd.DataFrame({"kind": ["x"], "reason": ["y"], "ny_kolumn": [1]})
    before = charts.swedish_headers(frame)
    # one dictionary: a key has one Swedish header in every table
    assert list(before.columns) == ["Slag", "Skäl", "ny_kolumn"]
    extra_rows({"rubriker.csv": "ny_kolumn,Ny kolumn\n"})
    assert list(charts.swedish_headers(frame).columns) == ["Slag", "Skäl", "Ny kolumn"]


def test_a_recurring_text_is_one_resource_edit(monkeypatch):
    original = vocabulary.resource_text

    def edited(name: str) -> str:
        text = original(name)
        return text.replace("Exempeldata – inte verkliga resultat", "Påhittade siffror")

    fig, ax = plt.subplots()
    plotting.finish_figure(fig, source="Källa: test", synthetic=True)
    assert "Exempeldata – inte verkliga resultat" in [t.get_text() for t in fig.texts]
    plt.close(fig)
    monkeypatch.setattr(vocabulary, "resource_text", edited)
    fig, ax = plt.subplots()
    plotting.finish_figure(fig, source="Källa: test", synthetic=True)
    assert "Påhittade siffror" in [t.get_text() for t in fig.texts]
    plt.close(fig)


def test_no_comparison_city_is_written_into_the_code():
    """A kommun's comparison cities come from its kommun.yml (``jamforelsestader``)."""
    named = [
        f"{p.relative_to(SRC)}:{n.lineno}"
        for p, tree in _modules(skip=("sample",))
        for n in _code_strings(tree)
        if "Växjö" in n.value or "vaxjo" in n.value.casefold()
    ]
    assert named == []


def test_the_underlag_kind_of_measure_still_decides_its_value_format():
    """ "Slag" names the underlag's kind of measure and the EUDA rows' kind: only values that
    are kinds of measure decide the number format (both sides of the rule)."""
    from trygghet_analys.report.tableformat import column_kinds

    underlag = pd.DataFrame({"Slag": ["andel", "medelvärde"], "Senaste värde": [0.2, 1.5]})
    assert column_kinds(underlag)["Senaste värde"] == ["share", "index"]
    euda = pd.DataFrame({"Slag": ["kommun", "Sverige"], "Senaste värde": [0.2, 1.5]})
    assert column_kinds(euda)["Senaste värde"] == ["number", "number"]


def test_a_resource_csv_is_parsed_once_but_every_caller_gets_its_own_copy(monkeypatch):
    """``read_resource_csv`` keeps the parsed table (issue 16: a build asked for the
    substances 226 times); a caller changing its copy changes nobody else's, and an
    edited resource text is parsed anew, not served from the kept table."""
    first = vocabulary.read_resource_csv("substanser.csv", dtype=str)
    first.loc[0, "kort_namn"] = "Ändrad"
    again = vocabulary.read_resource_csv("substanser.csv", dtype=str)
    assert again.loc[0, "kort_namn"] != "Ändrad"
    assert again.equals(pd.read_csv(__import__("io").StringIO(
        vocabulary.resource_text("substanser.csv")), dtype=str))  # fmt: skip

    original = vocabulary.resource_text

    def edited(name: str) -> str:
        text = original(name)
        return text.replace(",,Kokain\n", ",,Kokainet\n") if name == "substanser.csv" else text

    assert ",,Kokain\n" in original("substanser.csv")
    monkeypatch.setattr(vocabulary, "resource_text", edited)
    assert vocabulary.substance_name("kokain") == "Kokainet"
