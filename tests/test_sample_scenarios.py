"""Sample-data scenarios and the generator's true values (issue 11).

``oforandrad`` is a world where nothing truly changes; ``standard`` is the bundled data
with its foot-patrol story. The truth the generator exposes is checked here, and the
difference-in-differences estimate is checked against it (fast version of
``benchmarks/did_coverage.py``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trygghet_analys import pipeline
from trygghet_analys.cli import main
from trygghet_analys.errors import ConfigError
from trygghet_analys.sample._wastewater import write_sample_wastewater
from trygghet_analys.sample.generator import (
    true_indicator_values,
    true_patrol_effect,
    true_population_values,
    write_sample_data,
)
from trygghet_analys.wastewater.campaigns import between_campaign_cv, campaign_trend

ROOT = Path(__file__).resolve().parents[1]


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_standard_scenario_is_the_bundled_data(tmp_path):
    write_sample_data(tmp_path, scenario="standard")
    assert _files(tmp_path / "raw") == _files(ROOT / "data" / "raw")


def test_unknown_scenario_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="scenario 'ny'"):
        write_sample_data(tmp_path, scenario="ny")


def test_cli_writes_the_oforandrad_world(tmp_path):
    assert main(["sample-data", "--out", str(tmp_path), "--scenario", "oforandrad"]) == 0
    head = (tmp_path / "raw" / "kommun.yml").read_text(encoding="utf-8").splitlines()[0]
    assert "oforandrad" in head
    # same files as standard, other contents
    std = tmp_path / "std"
    write_sample_data(std)
    assert _files(tmp_path / "raw").keys() == _files(std / "raw").keys()
    assert _files(tmp_path / "raw") != _files(std / "raw")


@pytest.mark.parametrize(("scenario", "constant"), [("oforandrad", True), ("standard", False)])
def test_oforandrad_truth_is_constant_over_years_and_areas(scenario, constant):
    t = true_indicator_values(scenario=scenario)
    spread = t.groupby("indicator")["value"].agg(lambda v: v.max() - v.min())
    if constant:
        assert (spread < 1e-12).all(), spread[spread >= 1e-12]
    else:
        assert spread["otrygghet_ute_sent"] > 0.05


def test_true_indicator_value_is_share_of_valid_answers():
    shares = (
        true_population_values(years=[2023])
        .query("stratum == 'Landsbygd' and variable == 'otrygg_ute_sent'")
        .set_index("category")["share"]
    )
    # NTU definition: (Ganska otrygg + Mycket otrygg + Går inte ut av oro) / (1 - Vet ej)
    hand = (shares["Ganska otrygg"] + shares["Mycket otrygg"] + shares["Går inte ut av oro"]) / (
        1 - shares["Vet ej"]
    )
    t = true_indicator_values(years=[2023], indicators=["otrygghet_ute_sent"])
    got = t.loc[t["stratum"] == "Landsbygd", "value"].item()
    assert got == pytest.approx(hand, rel=1e-12)
    assert t["population"].gt(0).all()


def test_true_patrol_effect_is_centre_with_minus_without_patrols():
    r = true_patrol_effect().iloc[0]
    assert (r["area"], r["start_year"], r["end_year"]) == ("Älmhults tätort", 2022, 2025)
    with_p = true_indicator_values(indicators=["otrygghet_ute_sent"], years=range(2022, 2026))
    without = true_indicator_values(
        indicators=["otrygghet_ute_sent"], years=range(2022, 2026), without_patrol=True
    )
    centre = with_p["stratum"] == "Älmhults tätort"
    hand = (with_p.loc[centre, "value"].to_numpy() - without.loc[centre, "value"].to_numpy()).mean()
    assert r["effect"] == pytest.approx(hand, rel=1e-12)
    assert -0.15 < r["effect"] < -0.02  # fewer feel unsafe where the patrols walk
    # without patrols the other areas are untouched: the counterfactual differs only there
    other = ~centre
    assert np.allclose(with_p.loc[other, "value"], without.loc[other, "value"])
    assert true_patrol_effect(scenario="oforandrad").iloc[0]["effect"] == 0.0


def test_bundled_cocaine_rises_over_campaigns():
    c = pipeline.build_wastewater(ROOT / "data" / "raw", "Älmhult")["wastewater_campaigns"]
    r = campaign_trend(c).set_index("substance").loc["kokain"]
    assert r["direction"] == "ökande" and r["n_campaigns"] == 8


def test_oforandrad_wastewater_has_week_to_week_variation_and_no_trend(tmp_path):
    found = []
    for seed in range(1, 7):
        raw = tmp_path / str(seed)
        write_sample_wastewater(
            raw, kommun="K", plant="K reningsverk", population=10_000,
            rng=np.random.default_rng(seed), scenario="oforandrad",
        )  # fmt: skip
        c = pipeline.build_wastewater(raw, "K")["wastewater_campaigns"]
        tr = campaign_trend(c)
        cv = between_campaign_cv(c).set_index("substance")["cv"]
        found.append(tr.assign(cv=tr["substance"].map(cv)))
    r = pd.concat(found)
    # 6 seeds x 7 substances at 5 %: about 2 false alarms expected; the old day-based
    # Welch test called 21-34 % of years significant in such a world
    assert r["significant"].mean() <= 0.10
    # realistic campaign-to-campaign variation (log SD 0.25 plus day noise)
    cocaine = r[r["substance"] == "kokain"]
    assert 0.1 < cocaine["cv"].median() < 0.5
    # cocaine rises 15 % a year in standard (slope log 1.15 = 0.14); here its mean
    # Theil-Sen slope over the six seeds stays within about two standard errors of 0
    # (slope SE with 8 campaigns over 3.5 years ~ 0.27 / sqrt(10.5) / sqrt(6) = 0.034)
    assert abs(cocaine["slope_log"].mean()) < 0.08


def _did_coverage():
    path = ROOT / "benchmarks" / "did_coverage.py"
    spec = importlib.util.spec_from_file_location("did_coverage", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_did_interval_covers_the_true_patrol_effect():
    # fast version of `python benchmarks/did_coverage.py --seeds 50` (docs/statistik.md)
    out = _did_coverage().coverage(range(1, 6))
    assert out["covers_effect"].sum() >= 4
    assert out["true_effect"].lt(0).all()
    # the estimate is centred on the truth: mean error within 2 standard errors of a mean
    err = out["effect"] - out["true_effect"]
    assert abs(err.mean()) < 2 * out["se"].mean() / np.sqrt(len(out))
