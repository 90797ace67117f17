"""The synthetic data generator: layout, determinism, truth and story."""

from __future__ import annotations

import pandas as pd
import pytest

from trygghet_analys.config import load_kommuner
from trygghet_analys.errors import ConfigError
from trygghet_analys.sample.generator import (
    KOMMUNER,
    YEARS,
    simulate_responses,
    true_population_values,
    write_sample_data,
)
from trygghet_analys.survey.codebook import QUESTIONS
from trygghet_analys.survey.ingest import RESPONSE_COLUMNS


def _files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_one_kommun_folder_is_complete(sample_data_dir):
    raw = sample_data_dir / "raw"
    survey = raw / "trygghetsmatning"
    names = {p.name for p in survey.iterdir()}
    expected = {f"{y}.xlsx" for y in range(2005, 2020)} | {f"{y}.csv" for y in range(2020, 2026)}
    assert expected | {"kodbok.yml", "population.csv", "polisens_problemindex.csv"} == names
    for sub in ("avloppsvatten/reningsverk.csv", "medborgarloften/2022.yml", "kommun.yml"):
        assert (raw / sub).is_file(), sub
    assert (sample_data_dir / "processed").is_dir()
    (kommun,) = load_kommuner(raw)
    assert (kommun.name, kommun.min_n, kommun.synthetic) == ("Älmhult", 30, True)
    assert kommun.strata == ("Älmhults tätort", "Övriga tätorter", "Landsbygd")


def test_web_layout_is_bom_csv_with_decimal_comma(sample_data_dir):
    raw = (sample_data_dir / "raw/trygghetsmatning/2021.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header, first = raw.decode("utf-8-sig").splitlines()[:2]
    age = first.split(";")[header.split(";").index("alder_ar")]
    assert "," in age and float(age.replace(",", ".")) >= 15


def test_generator_is_byte_deterministic(sample_data_dir, tmp_path):
    again = tmp_path / "again"
    write_sample_data(again)
    assert _files(again) == _files(sample_data_dir)


def test_other_seed_gives_other_truth():
    a = true_population_values(years=[2022])
    b = true_population_values(years=[2022], seed=1)
    assert a[["stratum", "variable", "category"]].equals(b[["stratum", "variable", "category"]])
    assert not a["share"].equals(b["share"])


def test_several_kommuner_each_in_own_folder(region_data_dir):
    kommuner = load_kommuner(region_data_dir / "raw")
    assert sorted(k.name for k in kommuner) == sorted(n for n, _ in KOMMUNER[:3])
    assert not (region_data_dir / "raw/kommun.yml").exists()
    for k in kommuner:
        assert k.raw.parent == region_data_dir / "raw/kommuner"
        assert (k.survey_dir / "kodbok.yml").is_file()
        assert len(list(k.survey_dir.glob("20*.*"))) == len(YEARS)
    # the big city has four areas, the others three
    assert {len(k.strata) for k in kommuner} == {3, 4}


@pytest.mark.parametrize("n", [0, len(KOMMUNER) + 1])
def test_kommuner_out_of_range(tmp_path, n):
    with pytest.raises(ConfigError, match="Antalet kommuner"):
        write_sample_data(tmp_path, kommuner=n)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("kommun.yml", "kommun: Älmhult\n"),
        ("kommun.yml", "kommun: Älmhult\nexempeldata: false\n"),
        ("trygghetsmatning/2024.csv", "id;ar\n1;2024\n"),
        ("kommuner/vaxjo/kommun.yml", "kommun: Växjö\n"),
        ("kommuner/vaxjo/trygghetsmatning/2024.csv", "id;ar\n1;2024\n"),
    ],
)
def test_refuses_to_overwrite_real_data(tmp_path, path, text):
    target = tmp_path / "raw" / path
    target.parent.mkdir(parents=True)
    target.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="riktiga data"):
        write_sample_data(tmp_path)
    assert target.read_text(encoding="utf-8") == text


def test_regenerating_replaces_earlier_example_data(tmp_path):
    write_sample_data(tmp_path, kommuner=2)
    (tmp_path / "raw/anteckningar.txt").write_text("egen fil", encoding="utf-8")
    write_sample_data(tmp_path, kommuner=1)
    assert not (tmp_path / "raw/kommuner").exists()
    assert (tmp_path / "raw/kommun.yml").is_file()
    assert (tmp_path / "raw/anteckningar.txt").read_text(encoding="utf-8") == "egen fil"


def test_police_problemindex_holds_the_published_values(sample_data_dir):
    table = pd.read_csv(
        sample_data_dir / "raw/trygghetsmatning/polisens_problemindex.csv", sep=";", dtype=str
    )
    pairs = list(zip(table["ar"].astype(int), table["problemindex"], strict=True))
    assert pairs == [
        (2020, "1,28"), (2021, "1,22"), (2021, "1,41"), (2022, "1,78"), (2022, "1,73"),
        (2023, "1,51"),
    ]  # fmt: skip
    assert table["kalla"].str.contains("almhult.se").all()
    assert table["typ"].str.contains("verklig").all()


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    return true_population_values()


@pytest.mark.parametrize("year", [2005, 2016, 2017, 2025])
def test_truth_shares_sum_to_one(truth, year):
    t = truth[truth["year"] == year]
    sums = t.groupby(["stratum", "variable"])["share"].sum()
    assert sums.between(1 - 1e-12, 1 + 1e-12).all()
    asked = set(t["variable"])
    assert ("problem_narkotikahandel" in asked) == (year >= 2017)
    assert asked | {"problem_narkotikahandel"} == set(QUESTIONS)


def _share(truth, variable, categories, stratum="Älmhults tätort"):
    t = truth[(truth["variable"] == variable) & (truth["stratum"] == stratum)]
    return t[t["category"].isin(categories)].groupby("year")["share"].sum()


def test_story_drug_problems_rise_after_2018(truth):
    s = _share(
        truth, "problem_narkotikapaverkade", ["Ganska stort problem", "Mycket stort problem"]
    )
    assert s[2025] > s[2018] + 0.05
    assert abs(s[2018] - s[2012]) < 0.05


def test_story_fewer_unsafe_in_centre_after_foot_patrols(truth):
    unsafe = ["Ganska otrygg", "Mycket otrygg", "Går inte ut av oro"]
    centre = _share(truth, "otrygg_ute_sent", unsafe)
    rural = _share(truth, "otrygg_ute_sent", unsafe, stratum="Landsbygd")
    assert centre[2022] < centre[2021] - 0.02
    assert abs(rural[2022] - rural[2021]) < 0.02
    seen = _share(truth, "ser_polis_fots", ["Varje månad", "Varje vecka eller oftare"])
    assert seen[2022] > seen[2021] + 0.1


def test_simulate_responses_is_canonical(rng):
    d = simulate_responses(rng, year=2022, n_per_stratum=40)
    assert list(d.columns) == [*RESPONSE_COLUMNS, "population"]
    assert len(d) == 120
    for q, cats in QUESTIONS.items():
        assert list(d[q].cat.categories) == list(cats) and d[q].cat.ordered
    # weights sum to each stratum's population
    sums = d.groupby("stratum")["weight"].sum()
    assert (sums - d.groupby("stratum")["population"].first()).abs().max() < 1e-6


def test_simulate_responses_unknown_kommun(rng):
    with pytest.raises(ConfigError, match="Malmö"):
        simulate_responses(rng, year=2022, kommun="Malmö")
