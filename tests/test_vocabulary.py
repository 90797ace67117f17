"""Vocabulary as data: a substance or an indicator is added by editing resource files only.

The package's resource files are patched in memory (one extra row), every cache that holds
a parsed resource is cleared, and the new entry must then show up everywhere it belongs:
the lab file reader, the wastewater tables of the build, the known register ids, the chart
registry and the chart itself (substance); the estimates of the build and the chart labels
(indicator).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from trygghet_analys import pipeline, vocabulary
from trygghet_analys.commitments.followup import known_indicator_ids
from trygghet_analys.files import wastewater as wwf
from trygghet_analys.report import charts, plotting
from trygghet_analys.stats.estimation import estimate_indicators
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
