"""Tests for euda.py.

The independent reference is EUDA's own published means ("Weekday mean", "Weekend mean",
"Daily mean") in ww2025-all-data.csv; the fixture rows are copied from that file
(see tests/fixtures/README.md).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import reference_file, serve_folder
from trygghet_analys.errors import ConfigError, DataError
from trygghet_analys.files import euda as euda_files
from trygghet_analys.wastewater import euda

FIXTURE = Path(__file__).parent / "fixtures" / "euda_small.csv"
REPO = Path(__file__).resolve().parents[1]
FULL_CANDIDATES = [
    REPO.parent / "shared" / "reference" / "euda" / "ww2025-all-data.csv",
    REPO / "data" / "external" / "ww2025-all-data.csv",
]
COMPARE = Path(__file__).parent / "fixtures" / "euda_jamforelse.csv"


@pytest.fixture(scope="module")
def full_euda() -> Path:
    """The shared EUDA file (CI copies it to data/external; it fails there when absent)."""
    return reference_file(*FULL_CANDIDATES, what="EUDA-filen ww2025-all-data.csv")


KEYS = ["year", "metabolite", "site_id", "country", "city"]
# Values are rounded to 2 decimals both as daily values and as published means, so a
# mean recomputed from rounded days may differ from the published one by up to 0.005 +
# 0.005.
TOL = 0.0101


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    return euda_files.read_euda(FIXTURE)


# --------------------------------------------------------------------------- read_euda
def test_read_euda_shape_and_columns(small: pd.DataFrame) -> None:
    assert list(small.columns) == [
        "year",
        "metabolite",
        "site_id",
        "country",
        "city",
        "weekday",
        "value",
    ]
    assert len(small) == 17 * 7
    assert small["year"].dtype == "int64" and small["value"].dtype == "float64"
    assert small["weekday"].iloc[:7].tolist() == [
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
        "Monday",
        "Tuesday",
    ]
    assert {"Växjö", "Stockholm (2)", "Huittinen"} <= set(small["city"])
    assert {"cocaine", "MDMA"} == set(small["metabolite"])


@pytest.mark.parametrize(
    ("year", "metabolite", "city", "day", "expected"),
    [
        (2024, "cocaine", "Växjö", "Wednesday", 60.85),  # file line 540
        (2023, "cocaine", "Växjö", "Sunday", 241.84),  # file line 1172
        (2024, "MDMA", "Växjö", "Monday", 0.0),  # 0 = below LOQ, stays 0
        (2022, "MDMA", "Sandviken", "Wednesday", math.nan),  # blank = no sample
        (2024, "MDMA", "Huittinen", "Friday", math.nan),
    ],
)
def test_read_euda_values(
    small: pd.DataFrame, year: int, metabolite: str, city: str, day: str, expected: float
) -> None:
    hit = small[
        (small["year"] == year)
        & (small["metabolite"] == metabolite)
        & (small["city"] == city)
        & (small["weekday"] == day)
    ]
    assert len(hit) == 1
    np.testing.assert_equal(hit["value"].iloc[0], expected)


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8-sig"])
def test_encodings_give_identical_frames(small: pd.DataFrame, tmp_path: Path, encoding) -> None:
    # the 2026 release is CP1252 (shared/reference/euda/README.md)
    path = tmp_path / "ww2026-all-data_en.csv"
    path.write_bytes(FIXTURE.read_text(encoding="utf-8").encode(encoding))
    pd.testing.assert_frame_equal(euda_files.read_euda(path), small)


@pytest.mark.parametrize(
    ("content", "column"),
    [
        ('"Year","Metabolite","City"\n2024,"MDMA","Graz"\n', "Site ID"),
        (None, "Friday"),
    ],
)
def test_read_euda_refuses_bad_files(tmp_path: Path, content: str | None, column: str) -> None:
    path = tmp_path / "ww.csv"
    if content is None:
        text = FIXTURE.read_text(encoding="utf-8").replace("12.45", "tolv", 1)
        path.write_text(text, encoding="utf-8")
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError) as info:
        euda_files.read_euda(path)
    assert info.value.column == column
    if content is None:
        assert info.value.row == 2 and "'tolv'" in str(info.value)


# --------------------------------------------------------------------------- campaign_means
# (year, metabolite, city, published daily, weekday, weekend) from ww2025-all-data.csv
PUBLISHED = [
    (2024, "MDMA", "Graz", 15.53, 10.27, 19.47),
    (2024, "MDMA", "Växjö", 0.0, 0.0, 0.0),
    (2024, "cocaine", "Växjö", 82.45, 68.09, 93.21),
    (2023, "cocaine", "Växjö", 140.57, 96.55, 173.59),
    (2022, "cocaine", "Växjö", 59.92, 32.79, 80.27),
    (2022, "MDMA", "Sandviken", 1.92, 0.87, 2.45),  # Wednesday missing: days present
    (2024, "cocaine", "Stockholm (2)", 374.23, 307.1, 424.58),
]


@pytest.mark.parametrize(("year", "metabolite", "city", "daily", "wd", "we"), PUBLISHED)
def test_campaign_means_reproduce_published(
    small: pd.DataFrame, year, metabolite, city, daily, wd, we
) -> None:
    means = euda.campaign_means(small, by=KEYS)
    row = means[
        (means["year"] == year) & (means["metabolite"] == metabolite) & (means["city"] == city)
    ].iloc[0]
    assert row["daily_mean"] == pytest.approx(daily, abs=TOL)
    assert row["weekday_mean"] == pytest.approx(wd, abs=TOL)
    assert row["weekend_mean"] == pytest.approx(we, abs=TOL)


def test_2021_used_tuesday_to_friday(small: pd.DataFrame) -> None:
    sthlm = small[(small["year"] == 2021) & (small["city"] == "Stockholm (2)")]
    standard = euda.campaign_means(sthlm, by="city").iloc[0]
    # EUDA 2021 Stockholm (2) cocaine: Weekday mean 121.44, Weekend mean 209.53
    assert standard["weekday_mean"] != pytest.approx(121.44, abs=TOL)
    shifted = sthlm.assign(weekday=sthlm["weekday"].replace({"Friday": "Tuesday"}))
    rule_2021 = euda.campaign_means(shifted, by="city").iloc[0]
    assert rule_2021["weekday_mean"] == pytest.approx(121.44, abs=TOL)
    assert rule_2021["weekend_mean"] == pytest.approx(209.53, abs=TOL)
    assert rule_2021["daily_mean"] == pytest.approx(159.19, abs=TOL)


def test_missing_day_is_not_imputed(small: pd.DataFrame) -> None:
    h = small[(small["city"] == "Huittinen")]
    got = euda.campaign_means(h, by="city").iloc[0]
    # our rule: mean of the 6 days present; EUDA published 2.75 (docs/euda.md)
    assert got["daily_mean"] == pytest.approx(statistics.mean([5.08, 0.7, 0.44, 5.45, 5.77, 1.14]))
    assert got["n_days"] == 6


@pytest.mark.parametrize(
    ("days", "values", "daily", "weekday", "weekend", "n"),
    [
        (["tisdag", "onsdag", "lördag"], [1.0, 3.0, 8.0], 4.0, 2.0, 8.0, 3),
        ([1, 2, 4], [1.0, 3.0, 8.0], 4.0, 2.0, 8.0, 3),  # Python weekday numbers
        (["MONDAY", "Friday"], [2.0, 4.0], 3.0, math.nan, 3.0, 2),
        (["Tuesday", "Saturday"], [0.0, math.nan], 0.0, 0.0, math.nan, 1),
    ],
)
def test_campaign_means_day_names(days, values, daily, weekday, weekend, n) -> None:
    d = pd.DataFrame({"c": "x", "weekday": days, "value": values})
    got = euda.campaign_means(d, by=["c"]).iloc[0]
    np.testing.assert_allclose(
        [got["daily_mean"], got["weekday_mean"], got["weekend_mean"]],
        [daily, weekday, weekend],
    )
    assert got["n_days"] == n


def test_campaign_means_unknown_day() -> None:
    d = pd.DataFrame({"c": "x", "weekday": ["Funday"], "value": [1.0]})
    with pytest.raises(DataError, match="Funday"):
        euda.campaign_means(d, by="c")


@pytest.mark.needs_euda
def test_reproduces_published_means_over_whole_file(full_euda: Path) -> None:
    data = euda_files.read_euda(full_euda)
    published = euda_files.read_euda_means(full_euda)
    ours = euda.campaign_means(data, by=KEYS)
    j = ours.merge(published, on=KEYS, suffixes=("", "_pub"), validate="one_to_one")
    assert len(j) == len(published) == 4376

    def close(a: pd.Series, b: pd.Series) -> pd.Series:
        return pd.Series(np.isclose(a, b, atol=TOL, rtol=0) | (a.isna() & b.isna()))

    ok = (
        close(j["daily_mean"], j["daily_mean_pub"])
        & close(j["weekday_mean"], j["weekday_mean_pub"])
        & close(j["weekend_mean"], j["weekend_mean_pub"])
    )
    not_2021 = j["year"] != 2021
    # measured 2025-11: 3907 of 4036 rows outside 2021 match (96.8 %); 16 of 340 in 2021
    assert ok[not_2021].sum() >= 3900
    assert ok[not_2021].mean() > 0.96
    assert ok[~not_2021].mean() < 0.1  # 2021 used another rule
    # every complete single-plant campaign from 2017 on matches exactly
    simple = not_2021 & (j["year"] >= 2017) & (j["n_days"] == 7) & ~j["city"].str.contains(r"\(")
    assert ok[simple].all()


# --------------------------------------------------------------------------- comparison
def _loads(rows: list[tuple[str, str, float, bool]], *, kommun: str = "Testby") -> pd.DataFrame:
    """A wastewater_loads table: (campaign, date, load, below LOQ) for cocaine."""
    frame = pd.DataFrame(rows, columns=["campaign", "date", "load_mg_day_1000", "below_loq"])
    frame["date"] = pd.to_datetime(frame["date"])
    sv = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")
    return frame.assign(
        kommun=kommun,
        plant="Testby ARV",
        weekday=frame["date"].dt.day_of_week.map(dict(enumerate(sv))),
        substance="kokain",
        metabolite="cocaine",
        population=12_000,
    )


def _week(campaign: str, first: str, values: list[float], below: list[bool] | None = None):
    days = pd.date_range(first, periods=len(values), freq="D").strftime("%Y-%m-%d")
    flags = below or [False] * len(values)
    return [(campaign, d, v, b) for d, v, b in zip(days, values, flags, strict=True)]


@pytest.fixture(scope="module")
def compare_ref() -> pd.DataFrame:
    return euda_files.read_euda(COMPARE)


VAXJO = euda.ComparisonCity(city="Växjö", population=75_410, plant="Sundets ARV")


def test_compare_european_balanced_panel_with_site_counts(compare_ref: pd.DataFrame) -> None:
    loads = _loads(
        _week("2022 vår", "2022-04-06", [10.0] * 7) + _week("2023 vår", "2023-04-05", [20.0] * 7)
    )
    out = euda.compare_with_euda(euda.euda_rule_campaigns(loads), compare_ref, cities=[VAXJO])
    eu = out[out["kind"] == "Europa (median)"].set_index("year")
    # European sites present in both 2022 and 2023: Växjö, Göteborg, Helsinki, Graz (Espoo
    # only 2022, Brasilia is not European). statistics.median([50, 100, 200, 150]) = 125;
    # statistics.median([60, 110, 210, 160]) = 135. Växjö 2022 = (40+60+50+0+100+50)/6.
    assert eu["daily_mean"].tolist() == [125.0, 135.0]
    assert eu["n_sites"].tolist() == [4, 4]
    assert statistics.median([50, 100, 200, 300, 150, 900]) == 125 + 50  # the unbalanced mix
    nordic = out[out["kind"] == "Norden (median)"].set_index("year")
    # Växjö, Göteborg, Helsinki: median(50, 100, 200) = 100; median(60, 110, 210) = 110
    assert nordic["daily_mean"].tolist() == [100.0, 110.0]
    assert nordic["n_sites"].tolist() == [3, 3]
    assert "Brasilia" not in set(out["city"]) and "Espoo" not in set(out["city"])
    city = out[out["kind"] == "jämförelsestad"]
    assert city["city"].tolist() == ["Växjö", "Växjö"]
    assert city["daily_mean"].tolist() == [50.0, 60.0]
    assert city["population"].tolist() == [75_410.0, 75_410.0]
    se = out[out["kind"] == "Sverige"]
    assert se["city"].tolist() == ["Göteborg", "Göteborg"]  # Växjö only as comparison city
    own = out[out["kind"] == "kommun"]
    assert own["population"].tolist() == [12_000.0, 12_000.0]
    assert own["season_matched"].all()
    assert out["rules"].iloc[0] == (
        "EUDA:s regler 2022: under LOQ räknas som 0; vardag tis–tor, helg fre–mån"
    )
    assert list(out.columns) == euda.COMPARISON_COLUMNS


def test_compare_panel_drops_site_missing_a_year(compare_ref: pd.DataFrame) -> None:
    # Only 2022 shown: Espoo is then in the panel (5 European sites, Brasilia still out).
    loads = _loads(_week("2022 vår", "2022-04-06", [10.0] * 7))
    out = euda.compare_with_euda(euda.euda_rule_campaigns(loads), compare_ref)
    eu = out[out["kind"] == "Europa (median)"].iloc[0]
    # statistics.median([50, 100, 200, 300, 150]) = 150
    assert (eu["daily_mean"], eu["n_sites"]) == (150.0, 5)


def test_compare_season_matching(compare_ref: pd.DataFrame) -> None:
    loads = _loads(
        _week("2022 höst", "2022-10-05", [30.0] * 7)
        + _week("2023 vår", "2023-04-05", [20.0] * 7)
        + _week("2023 höst", "2023-10-04", [40.0] * 7)
    )
    out = euda.compare_with_euda(euda.euda_rule_campaigns(loads), compare_ref)
    own = out[out["kind"] == "kommun"]
    # 2023: the spring campaign only; 2022: only an autumn campaign exists, kept and marked
    assert own["campaign"].tolist() == ["2022 höst", "2023 vår"]
    assert own["season"].tolist() == ["höst", "vår"]
    assert own["season_matched"].tolist() == [False, True]
    assert (out.loc[out["kind"] != "kommun", "season"] == "vår").all()


@pytest.mark.parametrize(
    ("first", "last", "season"),
    [
        ("2023-02-27", "2023-03-05", "vår"),  # middle day 2 March
        ("2023-02-20", "2023-02-26", "vinter"),
        ("2023-05-25", "2023-05-31", "vår"),
        ("2023-06-01", "2023-06-07", "sommar"),
        ("2023-08-30", "2023-09-05", "höst"),
        ("2023-11-30", "2023-12-06", "vinter"),
    ],
)
def test_campaign_season_boundaries(first: str, last: str, season: str) -> None:
    assert euda.campaign_season(first, last) == season


def test_euda_rules_whatever_the_kommuns_loq_policy(compare_ref: pd.DataFrame) -> None:
    # Under half_loq the kommun's loads on below-LOQ days are LOQ/2-based (here 4.0);
    # EUDA counts them as 0. Days Wed..Tue 2023-04-05..11.
    values = [4.0, 10.0, 4.0, 20.0, 30.0, 4.0, 12.0]
    below = [True, False, True, False, False, True, False]
    loads = _loads(_week("2023 vår", "2023-04-05", values, below))
    own = euda.euda_rule_campaigns(loads).iloc[0]
    # daily (0+10+0+20+30+0+12)/7 = 72/7; weekday Tue–Thu: Wed 0, Thu 10, Tue 12 → 22/3;
    # weekend Fri–Mon: 0, 20, 30, 0 → 12.5
    assert own["daily_mean"] == pytest.approx(72 / 7, rel=1e-12)
    assert own["weekday_mean"] == pytest.approx(22 / 3, rel=1e-12)
    assert own["weekend_mean"] == pytest.approx(12.5, rel=1e-12)
    assert own["n_days"] == 7 and own["season"] == "vår"
    out = euda.compare_with_euda(euda.euda_rule_campaigns(loads), compare_ref)
    assert out.loc[out["kind"] == "kommun", "daily_mean"].iloc[0] == pytest.approx(72 / 7)
    # the kommun's own mean under half_loq would be sum(values)/7 = 88/7: not what EUDA sees
    assert sum(values) / 7 != pytest.approx(72 / 7)


def test_euda_day_rules_of_2021(compare_ref: pd.DataFrame) -> None:
    vx = compare_ref[(compare_ref["year"] == 2021)]
    got = euda.campaign_means(vx, by="city", year="year").iloc[0]
    # 2021: weekday Tue–Fri (70+10+20+30)/4 = 32.5, weekend Sat–Mon (40+50+60)/3 = 50
    assert (got["weekday_mean"], got["weekend_mean"]) == (32.5, 50.0)
    usual = euda.campaign_means(vx, by="city").iloc[0]
    # other years: Tue–Thu (70+10+20)/3, Fri–Mon (30+40+50+60)/4 = 45
    assert usual["weekday_mean"] == pytest.approx(100 / 3) and usual["weekend_mean"] == 45.0
    assert euda.euda_rules_text(2021).endswith("vardag tis–fre, helg lör–mån")
    assert euda.euda_rules_text(2022).endswith("vardag tis–tor, helg fre–mån")


def test_unknown_country_code_stops(compare_ref: pd.DataFrame) -> None:
    odd = compare_ref.assign(country=compare_ref["country"].replace({"BR": "XX"}))
    loads = _loads(_week("2022 vår", "2022-04-06", [10.0] * 7))
    with pytest.raises(DataError) as info:
        euda.compare_with_euda(euda.euda_rule_campaigns(loads), odd)
    assert "'XX'" in str(info.value) and "euda_lander.csv" in str(info.value)


def test_country_list_is_data_with_source() -> None:
    countries = euda.euda_countries().set_index("kod")
    assert countries.loc[["SE", "NO", "DK", "FI", "IS"], "norden"].all()
    assert countries["norden"].sum() == 5
    for code in ("BR", "CL", "CA", "US", "NZ", "AU", "KR"):
        assert not countries.loc[code, "europa"], code
    for code in ("TR", "CY", "GB", "CH", "RS", "H"):
        assert countries.loc[code, "europa"], code
    assert (countries["kalla"].str.len() > 0).all()


@pytest.mark.needs_euda
def test_every_country_in_euda_file_is_listed(full_euda: Path) -> None:
    codes = set(euda_files.read_euda_means(full_euda)["country"])
    assert codes <= set(euda.euda_countries()["kod"])


@pytest.mark.needs_euda
def test_europe_only_and_balanced_panel_on_whole_file(full_euda: Path) -> None:
    ref = euda_files.read_euda(full_euda)
    loads = _loads(
        _week("2022 vår", "2022-04-06", [1.0] * 7)
        + _week("2023 vår", "2023-04-05", [1.0] * 7)
        + _week("2024 vår", "2024-04-03", [1.0] * 7)
    )
    out = euda.compare_with_euda(euda.euda_rule_campaigns(loads), ref)
    eu = out[out["kind"] == "Europa (median)"].set_index("year")
    means = euda_files.read_euda_means(full_euda)
    coc = means[means["metabolite"] == "cocaine"]
    european = set(euda.euda_countries().query("europa")["kod"])
    # independent: sites (country, city) with a published daily mean in all three years
    by_site = coc[coc["year"].isin([2022, 2023, 2024])].dropna(subset=["daily_mean"])
    by_site = by_site[by_site["country"].isin(european)]
    counts = by_site.groupby(["country", "city"])["year"].nunique()
    panel = counts[counts == 3].index
    for year in (2022, 2023, 2024):
        part = by_site[by_site["year"] == year].set_index(["country", "city"])
        expected = statistics.median(part.loc[part.index.isin(panel), "daily_mean"])
        assert eu.loc[year, "daily_mean"] == pytest.approx(expected, abs=TOL)
        assert eu.loc[year, "n_sites"] == len(panel)
    # measured 2026-11 on ww2025-all-data.csv: all sites 2024 median 272.7; European 233.0
    all_2024 = coc[coc["year"] == 2024]["daily_mean"].median()
    eu_2024 = coc[(coc["year"] == 2024) & coc["country"].isin(european)]["daily_mean"].median()
    assert all_2024 == pytest.approx(272.7, abs=0.05)
    assert eu_2024 == pytest.approx(233.0, abs=0.05)


def test_compare_without_euda_metabolites(small: pd.DataFrame) -> None:
    campaigns = pd.DataFrame(
        {
            "kommun": "K",
            "year": [2024],
            "campaign": ["2024 vår"],
            "metabolite": [None],
            "daily_mean": [1.0],
        }
    )
    assert euda.compare_with_euda(campaigns, small).empty


@pytest.mark.parametrize(
    ("entry", "column"),
    [
        ({"stad": "Växjö"}, "jamforelsestader[1].anslutna"),
        ({"stad": "Växjö", "anslutna": "många"}, "jamforelsestader[1].anslutna"),
        ({"stad": "Växjö", "anslutna": 0}, "jamforelsestader[1].anslutna"),
        ({"anslutna": 75410}, "jamforelsestader[1]"),
    ],
)
def test_comparison_cities_need_a_plant_size(entry: dict, column: str) -> None:
    with pytest.raises(DataError) as info:
        euda.comparison_cities({"jamforelsestader": [entry]}, file="kommun.yml")
    assert f"kolumn '{column}'" in str(info.value)


def test_comparison_cities_read() -> None:
    cfg = {"jamforelsestader": [{"stad": "Växjö", "anslutna": 75410, "reningsverk": "Sundets"}]}
    assert euda.comparison_cities(cfg) == [
        euda.ComparisonCity(city="Växjö", population=75410, plant="Sundets")
    ]
    assert euda.comparison_cities({}) == []


# --------------------------------------------------------------------------- files
@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A local HTTP server on 127.0.0.1 (random port) serving tmp_path/www."""
    www = tmp_path / "www"
    www.mkdir()
    (www / "ww2026-all-data_en.csv").write_bytes(
        FIXTURE.read_text(encoding="utf-8").encode("cp1252")
    )
    (www / "page.html").write_text(
        '<html><body><a href="files/ww2026-all-data_en.csv">CSV</a></body></html>',
        encoding="utf-8",
    )
    (www / "files").mkdir()
    (www / "files" / "ww2026-all-data_en.csv").write_bytes(FIXTURE.read_bytes())
    (www / "wrong.csv").write_text("a,b,c\n1,2,3\n", encoding="utf-8")

    with serve_folder(www) as url:
        yield url


def test_fetch_euda(server: str, tmp_path: Path, small: pd.DataFrame) -> None:
    data = tmp_path / "data"
    path = euda_files.fetch_euda(data, url=f"{server}/ww2026-all-data_en.csv")
    assert path == data / "external" / "ww2026-all-data_en.csv"
    pd.testing.assert_frame_equal(euda_files.read_euda(path), small)
    assert euda_files.find_euda_file(data) == path
    assert [p.name for p in (data / "external").iterdir()] == [path.name]  # no temp files


def test_fetch_euda_follows_link_on_data_page(server: str, tmp_path: Path) -> None:
    path = euda_files.fetch_euda(tmp_path, url=f"{server}/page.html")
    assert path.name == "ww2026-all-data_en.csv"
    assert len(euda_files.read_euda(path)) == 17 * 7


def test_fetch_euda_404(server: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="HTTP 404"):
        euda_files.fetch_euda(tmp_path, url=f"{server}/saknas.csv")
    assert not (tmp_path / "external").exists() or not any((tmp_path / "external").iterdir())


def test_fetch_euda_wrong_header_keeps_existing_file(server: str, tmp_path: Path) -> None:
    existing = tmp_path / "external" / "ww2026-all-data_en.csv"
    existing.parent.mkdir(parents=True)
    existing.write_text("gammal fil", encoding="utf-8")
    with pytest.raises(DataError) as info:
        euda_files.fetch_euda(tmp_path, url=f"{server}/wrong.csv")
    assert "'a,b,c'" in str(info.value)
    assert existing.read_text(encoding="utf-8") == "gammal fil"
    assert [p.name for p in existing.parent.iterdir()] == [existing.name]


def test_fetch_euda_no_server(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Kunde inte hämta"):
        euda_files.fetch_euda(tmp_path, url="http://127.0.0.1:9/ww2026-all-data_en.csv", timeout=2)


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["ww2025-all-data.csv", "ww2026-all-data_en.csv", "annat.csv"], "ww2026-all-data_en.csv"),
        (["ww2025-all-data.csv"], "ww2025-all-data.csv"),
        (["annat.csv"], None),
        ([], None),
    ],
)
def test_find_euda_file(tmp_path: Path, names: list[str], expected: str | None) -> None:
    (tmp_path / "external").mkdir()
    for n in names:
        (tmp_path / "external" / n).write_text("x", encoding="utf-8")
    found = euda_files.find_euda_file(tmp_path)
    assert (found.name if found else None) == expected


def test_default_url_is_documented() -> None:
    assert euda_files.EUDA_URL.startswith("https://")
    assert (
        "wastewater" in euda_files.EUDA_PAGE_URL
        and euda_files.EUDA_FILE_NAME == "ww2026-all-data_en.csv"
    )


def test_compare_names_plants_when_kommun_has_several(small: pd.DataFrame) -> None:
    campaigns = pd.DataFrame(
        {
            "kommun": "K",
            "plant": ["Norra", "Södra"],
            "year": 2024,
            "campaign": "2024 vår",
            "metabolite": "cocaine",
            "daily_mean": [1.0, 2.0],
        }
    )
    out = euda.compare_with_euda(campaigns, small)
    assert out.loc[out["kind"] == "kommun", "city"].tolist() == ["K (Norra)", "K (Södra)"]


def test_the_one_euda_comparison_per_kommun(tmp_path: Path) -> None:
    loads = _loads(_week("2022 vår", "2022-04-06", [50.0] * 7), kommun="K")
    assert euda_files.find_euda_file(tmp_path) is None
    empty = euda.compare_kommuner_with_euda(loads, None)
    assert empty.empty and list(empty.columns) == ["kommun", *euda.COMPARISON_COLUMNS]
    (tmp_path / "external").mkdir()
    target = tmp_path / "external" / "ww2025-all-data.csv"
    target.write_bytes(FIXTURE.read_bytes())
    assert euda_files.find_euda_file(tmp_path) == target
    table = euda.compare_kommuner_with_euda(loads, euda_files.read_euda(target))
    assert table["kommun"].unique().tolist() == ["K"]
    assert table["city"].tolist() == ["K", "Växjö", "Norden (median)", "Europa (median)"]
    # 2022 cocaine: Växjö 59.92, Graz 180.62, Helsinki 118.93 → median 118.93 (EUDA Daily
    # mean); Nordic: Växjö and Helsinki → (59.92 + 118.93) / 2 = 89.425
    assert table["daily_mean"].iloc[3] == pytest.approx(118.93, abs=TOL)
    assert table["daily_mean"].iloc[2] == pytest.approx(89.425, abs=TOL)
    # two kommuner: each compared on its own, in order of appearance
    both = pd.concat([loads, loads.assign(kommun="L")], ignore_index=True)
    two = euda.compare_kommuner_with_euda(both, euda_files.read_euda(target))
    assert two["kommun"].tolist() == ["K"] * 4 + ["L"] * 4
    assert two.loc[two["kind"] == "kommun", "city"].tolist() == ["K", "L"]


def test_build_compares_under_euda_rules_for_a_half_loq_kommun(tmp_path: Path) -> None:
    """End to end: a kommun with loq_policy half_loq keeps LOQ/2 in its own campaigns,
    while the EUDA comparison written by build counts below-LOQ days as 0."""
    import shutil

    from trygghet_analys import pipeline
    from trygghet_analys.config import DataFolder

    raw = tmp_path / "raw"
    shutil.copytree(Path(__file__).parent / "data" / "wastewater" / "liten", raw)
    (raw / "kommun.yml").write_text(
        "kommun: Testby\nloq_policy: half_loq\n"
        "jamforelsestader:\n- stad: Växjö\n  anslutna: 75410\n",
        encoding="utf-8",
    )
    (tmp_path / "external").mkdir()
    (tmp_path / "external" / "ww2025-all-data.csv").write_bytes(COMPARE.read_bytes())
    folder = DataFolder.at(tmp_path)
    out = pipeline.wastewater_stage(folder, folder.kommuner(), {})
    camp = out["wastewater_campaigns"]
    own = camp[(camp["campaign"] == "2023 vår") & (camp["substance"] == "kokain")].iloc[0]
    # half_loq: both cocaine days below an LOQ of 2 ng/L → 1 ng/L × 4 000 and 5 000 m³
    # × 1e-3 / 10 (thousand inhabitants) = 0.4 and 0.5 → mean 0.45
    assert own["daily_mean"] == pytest.approx(0.45)
    comp = out["wastewater_euda"]
    kommun = comp[(comp["kind"] == "kommun") & (comp["metabolite"] == "cocaine")].iloc[0]
    assert kommun["daily_mean"] == 0.0  # EUDA's rule: below LOQ = 0
    assert kommun["rules"].startswith("EUDA:s regler 2023: under LOQ räknas som 0")
    city = comp[comp["kind"] == "jämförelsestad"].iloc[0]
    assert (city["city"], city["population"]) == ("Växjö", 75410.0)
    eu = comp[comp["kind"] == "Europa (median)"].iloc[0]
    # only 2023 shown: European sites with 2023 cocaine: Växjö 60, Göteborg 110,
    # Helsinki 210, Graz 160 → statistics.median = 135 (Brasilia 900 is not European)
    assert (eu["daily_mean"], eu["n_sites"]) == (135.0, 4)
