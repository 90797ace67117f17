"""Tests for wastewater.py and _sample_wastewater.py.

Expected loads are computed by hand from the architecture's formula
load [mg/day] = C [ng/L] × Q [m³/day] × 10⁻³, normalised by population/1000; the
arithmetic is written beside each value.
"""

from __future__ import annotations

import hashlib
import math
import shutil
import statistics
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trygghet_analys import pipeline
from trygghet_analys.errors import DataError
from trygghet_analys.files import wastewater as wwf
from trygghet_analys.sample._wastewater import default_plant_name, write_sample_wastewater
from trygghet_analys.schemas import processed_schemas
from trygghet_analys.wastewater import loads as ww

SMALL = Path(__file__).parent / "data" / "wastewater" / "liten"


# --------------------------------------------------------------------------- fixtures
@pytest.fixture
def small_raw(tmp_path: Path) -> Path:
    """A writable copy of the small Testby raw folder."""
    dest = tmp_path / "raw"
    shutil.copytree(SMALL, dest)
    return dest


@pytest.fixture(scope="module")
def sample_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("sample") / "raw"
    write_sample_wastewater(
        raw,
        kommun="Älmhult",
        plant="Älmhults reningsverk",
        population=10_000,
        rng=np.random.default_rng(20220223),
    )
    return raw


@pytest.fixture(scope="module")
def sample_tables(sample_raw: Path) -> dict[str, pd.DataFrame]:
    return pipeline.build_wastewater(sample_raw, "Älmhult")


def _edit(path: Path, old: str, new: str, encoding: str = "utf-8") -> None:
    text = path.read_text(encoding=encoding)
    assert old in text, f"fixture line {old!r} not found"  # guards the test itself
    path.write_text(text.replace(old, new), encoding=encoding, newline="")


# --------------------------------------------------------------------------- parsers
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 234,5", 1234.5),
        ("1\u00a0234,5", 1234.5),
        ("1\u202f234,5", 1234.5),
        ("12.5", 12.5),
        ("12,5", 12.5),
        ("1.234,5", 1234.5),
        ("1,234.5", 1234.5),
        ("-3", -3.0),
        ("\u22123,5", -3.5),
        ("0", 0.0),
        (7, 7.0),
        (2.25, 2.25),
        ("1e3", 1000.0),
    ],
)
def test_parse_number(text: object, expected: float) -> None:
    assert wwf.parse_number(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "abc", "12,5,3", "1..2", "nan", "inf", True, "12 ng"])
def test_parse_number_refuses(text: object) -> None:
    with pytest.raises(ValueError):
        wwf.parse_number(text)


@given(st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False))
def test_parse_number_round_trips_swedish_format(value) -> None:
    text = f"{value:,.2f}".replace(",", " ").replace(".", ",")
    assert wwf.parse_number(text) == pytest.approx(float(value), abs=1e-9)


@pytest.mark.parametrize(
    ("cell", "value", "below", "loq"),
    [
        ("12,5", 12.5, False, math.nan),
        (12.5, 12.5, False, math.nan),
        ("<0,5", math.nan, True, 0.5),
        ("< 1 000", math.nan, True, 1000.0),
        ("<LOQ", math.nan, True, math.nan),
        ("<loq", math.nan, True, math.nan),
        ("n.d.", math.nan, True, math.nan),
        ("N.D.", math.nan, True, math.nan),
        ("0", 0.0, False, math.nan),
    ],
)
def test_parse_concentration(cell: object, value: float, below: bool, loq: float) -> None:
    got = wwf.parse_concentration(cell)
    np.testing.assert_equal(got, (value, below, loq))


@pytest.mark.parametrize("cell", ["-5", "<-1", "hög", "", "ca 5"])
def test_parse_concentration_refuses(cell: str) -> None:
    with pytest.raises(ValueError):
        wwf.parse_concentration(cell)


@pytest.mark.parametrize(
    ("unit", "factor"),
    [
        ("ng/L", 1.0),
        ("ng/l", 1.0),
        ("µg/m³", 1.0),
        ("ug/m3", 1.0),
        ("μg/m3", 1.0),  # Greek mu
        ("µg/L", 1e3),
        ("ng/mL", 1e3),
        ("mg/L", 1e6),
        ("g/m³", 1e6),
        ("pg/mL", 1.0),
        ("ng/m3", 1e-3),
    ],
)
def test_unit_factor(unit: str, factor: float) -> None:
    assert wwf.unit_factor(unit) == factor


@pytest.mark.parametrize("unit", ["", "ppm", "mmol/L", "ng", "mg/kg"])
def test_unknown_unit_is_refused_not_taken_as_ng_l(unit: str) -> None:
    with pytest.raises(ValueError):
        wwf.unit_factor(unit)


# --------------------------------------------------------------------------- readers
def test_read_lab_file_cp1252_with_title_line() -> None:
    lab = wwf.read_lab_file(SMALL / "avloppsvatten" / "labb" / "prov.csv")
    assert len(lab) == 7
    assert set(lab["substance"]) == {"amfetamin", "kokain", "cannabis"}
    cannabis = lab[lab["substance"] == "cannabis"].iloc[0]
    assert cannabis["value_ng_l"] == pytest.approx(120.0)  # 0,12 µg/L × 1000
    assert cannabis["loq_ng_l"] == pytest.approx(10.0)  # 0,01 µg/L × 1000
    assert cannabis["source_row"] == 5  # title line, header, then the third data row
    nd = lab[lab["date"] == pd.Timestamp("2023-04-08")].iloc[0]
    assert bool(nd["below_loq"]) and math.isnan(nd["value_ng_l"])
    assert nd["loq_ng_l"] == pytest.approx(5.0)  # 5 µg/m³ = 5 ng/L


# --------------------------------------------------------------------------- loads
# Hand computation for the Testby file (population 10 000 in 2023, 12 500 in 2024):
#   2023-04-04 amfetamin 250 ng/L × 4000 m³ × 1e-3 = 1000 mg/day   → /10   = 100
#   2023-04-04 cannabis 0,12 µg/L = 120 ng/L × 4000 × 1e-3 = 480     → /10   = 48
#   2023-04-05 amfetamin 1200,5 × 5000 × 1e-3 = 6002,5               → /10   = 600,25
#   2024-04-02 amfetamin 100 × 4000 × 1e-3 = 400                     → /12,5 = 32
#   below LOQ (kokain <2,0 on 04-04, Q 4000): zero → 0; half_loq 1 × 4 = 4 → 0,4; loq → 0,8
#   below LOQ (kokain <LOQ, LOQ 2,0 on 04-05, Q 5000): half_loq 1 × 5 = 5 → 0,5
#   below LOQ (amfetamin n.d., LOQ 5 µg/m³ on 04-08, Q 2500,5): half 2,5 × 2,5005 = 6,25125
@pytest.mark.parametrize(
    ("policy", "date", "substance", "load", "load_1000"),
    [
        ("zero", "2023-04-04", "amfetamin", 1000.0, 100.0),
        ("zero", "2023-04-04", "cannabis", 480.0, 48.0),
        ("zero", "2023-04-05", "amfetamin", 6002.5, 600.25),
        ("zero", "2024-04-02", "amfetamin", 400.0, 32.0),
        ("zero", "2023-04-04", "kokain", 0.0, 0.0),
        ("half_loq", "2023-04-04", "kokain", 4.0, 0.4),
        ("loq", "2023-04-04", "kokain", 8.0, 0.8),
        ("half_loq", "2023-04-05", "kokain", 5.0, 0.5),
        ("half_loq", "2023-04-08", "amfetamin", 6.25125, 0.625125),
        ("half_loq", "2023-04-04", "amfetamin", 1000.0, 100.0),
    ],
)
def test_hand_computed_loads(
    small_raw: Path, policy: str, date: str, substance: str, load: float, load_1000: float
) -> None:
    loads = pipeline.build_wastewater(small_raw, "Testby", loq_policy=policy)["wastewater_loads"]
    row = loads[(loads["date"] == pd.Timestamp(date)) & (loads["substance"] == substance)]
    assert len(row) == 1
    assert row["load_mg_day"].iloc[0] == pytest.approx(load)
    assert row["load_mg_day_1000"].iloc[0] == pytest.approx(load_1000)


def test_loads_contract(small_raw: Path) -> None:
    loads = pipeline.build_wastewater(small_raw, "Testby")["wastewater_loads"]
    assert list(loads.columns) == ww.LOAD_COLUMNS
    assert loads["below_loq"].sum() == 3
    assert set(loads["campaign"]) == {"2023 vår", "2024 vår"}
    assert loads.loc[loads["date"] == pd.Timestamp("2023-04-08"), "weekday"].iloc[0] == "lördag"
    coke = loads[loads["substance"] == "kokain"]
    assert set(coke["metabolite"]) == {"cocaine"}


def test_campaign_means_by_euda_day_rules(small_raw: Path) -> None:
    camp = pipeline.build_wastewater(small_raw, "Testby")["wastewater_campaigns"]
    assert list(camp.columns) == ww.CAMPAIGN_COLUMNS
    amf = camp[(camp["campaign"] == "2023 vår") & (camp["substance"] == "amfetamin")].iloc[0]
    # days present: Tue 100, Wed 600,25, Sat 0 (below LOQ under the zero policy)
    assert amf["daily_mean"] == pytest.approx(statistics.mean([100, 600.25, 0]))
    assert amf["weekday_mean"] == pytest.approx(statistics.mean([100, 600.25]))
    assert amf["weekend_mean"] == pytest.approx(0.0)
    assert (amf["n_days"], amf["n_below_loq"], amf["year"]) == (3, 1, 2023)
    coke = camp[(camp["campaign"] == "2023 vår") & (camp["substance"] == "kokain")].iloc[0]
    assert math.isnan(coke["weekend_mean"])  # no Fri–Mon sample: NaN, never imputed


PROV = "avloppsvatten/labb/prov.csv"
HEADER = "Reningsverk;Provtagningsdatum;Substans;Halt;LOQ;Enhet"


@pytest.mark.parametrize(
    ("policy", "halt", "below", "load_1000"),
    [
        # 0,8 ng/L with LOQ 1,0: below the LOQ → 0, 0,5 or 1,0 ng/L × 4 000 m³ × 1e-3 / 10
        ("zero", "0,8", True, 0.0),
        ("half_loq", "0,8", True, 0.5 * 4000 * 1e-3 / 10),
        ("loq", "0,8", True, 1.0 * 4000 * 1e-3 / 10),
        # exactly at the LOQ: a measured value, kept
        ("half_loq", "1,0", False, 1.0 * 4000 * 1e-3 / 10),
    ],
)
def test_number_below_its_own_loq_is_below_loq(
    small_raw: Path, policy: str, halt: str, below: bool, load_1000: float
) -> None:
    _edit(
        small_raw / PROV,
        "Testverket;2023-04-04;Amfetamin;250;5;ng/L",
        f"Testverket;2023-04-04;Amfetamin;{halt};1,0;ng/L",
        encoding="cp1252",
    )
    loads = pipeline.build_wastewater(small_raw, "Testby", loq_policy=policy)["wastewater_loads"]
    row = loads[(loads["date"] == "2023-04-04") & (loads["substance"] == "amfetamin")].iloc[0]
    assert bool(row["below_loq"]) is below
    assert ("under_loq" in row["flags"].split("|")) is below
    assert row["load_mg_day_1000"] == pytest.approx(load_1000, abs=1e-12)


def test_flagged_day_kept_or_excluded_by_rule(small_raw: Path) -> None:
    _edit(small_raw / PROV, HEADER, HEADER + ";Flagga", encoding="cp1252")
    _edit(
        small_raw / PROV,
        "Testverket;2023-04-05;Amfetamin;1 200,5;5;ng/L",
        "Testverket;2023-04-05;Amfetamin;1 200,5;5;ng/L;bräddning",
        encoding="cp1252",
    )
    _edit(
        small_raw / PROV,
        "Testverket;2023-04-04;Amfetamin;250;5;ng/L",
        "Testverket;2023-04-04;Amfetamin;250;5;ng/L;Regn",
        encoding="cp1252",
    )
    tables = pipeline.build_wastewater(small_raw, "Testby")
    loads = tables["wastewater_loads"].set_index(["date", "substance"])
    assert loads.loc[(pd.Timestamp("2023-04-04"), "amfetamin"), "flags"] == "regn"
    assert not loads.loc[(pd.Timestamp("2023-04-04"), "amfetamin"), "excluded"]
    assert loads.loc[(pd.Timestamp("2023-04-05"), "amfetamin"), "flags"] == "bräddning"
    assert loads.loc[(pd.Timestamp("2023-04-05"), "amfetamin"), "excluded"]
    camp = tables["wastewater_campaigns"]
    amf = camp[(camp["campaign"] == "2023 vår") & (camp["substance"] == "amfetamin")].iloc[0]
    # regn kept (Tue 100), bräddning out (Wed 600,25), Sat below LOQ 0 → mean(100, 0)
    assert amf["daily_mean"] == pytest.approx(50.0)
    assert (amf["n_days"], amf["n_excluded"], amf["n_below_loq"]) == (2, 1, 1)


def test_unknown_flag_is_refused(small_raw: Path) -> None:
    _edit(small_raw / PROV, HEADER, HEADER + ";Flagga", encoding="cp1252")
    _edit(
        small_raw / PROV,
        "Testverket;2024-04-02;Amfetamin;100;5;ng/L",
        "Testverket;2024-04-02;Amfetamin;100;5;ng/L;dimma",
        encoding="cp1252",
    )
    with pytest.raises(DataError) as info:
        pipeline.build_wastewater(small_raw, "Testby")
    text = str(info.value)
    assert "rad 9" in text and "kolumn 'Flagga'" in text and "'dimma'" in text


def test_flag_vocabulary_is_documented() -> None:
    flags = ww.load_sample_flags().set_index("flagga")
    assert ww.SAMPLE_FLAGS == ("under_loq", "regn", "bräddning", "helgdag", "provtagningsfel")
    assert set(flags.index[~flags["i_kampanjmedel"]]) == {"bräddning", "provtagningsfel"}
    assert (flags["betydelse"].str.len() > 40).all()
    doc = (Path(__file__).resolve().parents[1] / "docs" / "avloppsvatten.md").read_text("utf-8")
    for flag in ww.SAMPLE_FLAGS:
        assert f"`{flag}`" in doc, flag


@pytest.mark.parametrize(
    ("day", "holiday"),
    [
        ("2023-04-06", False),  # skärtorsdag: not a public holiday
        ("2023-04-07", True),  # långfredagen
        ("2023-04-08", False),  # påskafton: not a public holiday
        ("2023-04-09", True),  # påskdagen (a Sunday, but a holiday by name)
        ("2023-04-10", True),  # annandag påsk
        ("2023-04-16", False),  # an ordinary Sunday is not flagged
        ("2023-06-06", True),  # nationaldagen
        ("2023-06-23", False),  # midsommarafton
        ("2023-06-24", True),  # midsommardagen
    ],
)
def test_swedish_holidays(day: str, holiday: bool) -> None:
    assert ww.swedish_holidays(pd.Series(pd.to_datetime([day]))).tolist() == [holiday]


def test_campaign_over_easter_flags_holidays_and_keeps_them(small_raw: Path) -> None:
    loads = pipeline.build_wastewater(small_raw, "Testby")["wastewater_loads"]
    # the Testby 2023 campaign is 4–10 April 2023 and has samples on 4, 5 and 8 April:
    # none is a holiday (8 April is påskafton)
    assert (loads["flags"].str.contains("helgdag") == False).all()  # noqa: E712
    _edit(
        small_raw / PROV,
        "Testverket;2023-04-05;Amfetamin;1 200,5;5;ng/L",
        "Testverket;2023-04-07;Amfetamin;1 200,5;5;ng/L",
        encoding="cp1252",
    )
    _edit(
        small_raw / "avloppsvatten/flode.csv",
        "2023-04-05;5000",
        "2023-04-05;5000\nTestverket;2023-04-07;5000",
    )
    tables = pipeline.build_wastewater(small_raw, "Testby")
    loads = tables["wastewater_loads"]
    good_friday = loads[(loads["date"] == "2023-04-07")].iloc[0]
    assert good_friday["flags"] == "helgdag" and not good_friday["excluded"]
    camp = tables["wastewater_campaigns"]
    amf = camp[(camp["campaign"] == "2023 vår") & (camp["substance"] == "amfetamin")].iloc[0]
    assert amf["n_days"] == 3 and amf["n_excluded"] == 0


def test_flow_without_unit_is_refused(small_raw: Path) -> None:
    _edit(small_raw / "avloppsvatten/flode.csv", "Flöde (m³/dygn)", "Flöde")
    with pytest.raises(DataError) as info:
        pipeline.build_wastewater(small_raw, "Testby")
    assert str(info.value).count("\n") == 0
    assert "kolumn 'Flöde'" in str(info.value) and "m3/dygn" in str(info.value)


def test_campaign_interval_is_within_campaign_t_interval(small_raw: Path) -> None:
    from scipy import stats

    camp = pipeline.build_wastewater(small_raw, "Testby")["wastewater_campaigns"]
    amf = camp[(camp["campaign"] == "2023 vår") & (camp["substance"] == "amfetamin")].iloc[0]
    days = [100.0, 600.25, 0.0]
    # scipy.stats.t.interval(0.95, df=2, loc=mean(days), scale=scipy.stats.sem(days))
    low, high = stats.t.interval(0.95, df=2, loc=statistics.mean(days), scale=stats.sem(days))
    assert amf["daily_mean_low"] == pytest.approx(low, rel=1e-12)
    assert amf["daily_mean_high"] == pytest.approx(high, rel=1e-12)
    one = camp[(camp["campaign"] == "2024 vår") & (camp["substance"] == "amfetamin")].iloc[0]
    assert one["n_days"] == 1 and math.isnan(one["daily_mean_low"])  # one day: no interval


def test_invalid_policy(small_raw: Path) -> None:
    with pytest.raises(DataError, match="LOQ-princip"):
        pipeline.build_wastewater(small_raw, "Testby", loq_policy="median")


def test_schemas_accept_built_tables_and_refuse_negative_loads(sample_tables: dict) -> None:
    import pandera.errors

    schemas = processed_schemas()
    for name, table in sample_tables.items():
        schemas[name].validate(table)
    bad = sample_tables["wastewater_loads"].copy()
    bad.loc[0, "load_mg_day"] = -1.0
    with pytest.raises(pandera.errors.SchemaError):
        schemas["wastewater_loads"].validate(bad)
    with pytest.raises(pandera.errors.SchemaError):
        schemas["wastewater_loads"].validate(bad.drop(columns="weekday"))


def test_no_wastewater_folder_gives_empty_tables(tmp_path: Path) -> None:
    out = pipeline.build_wastewater(tmp_path, "Ingenstans")
    expected = {
        "wastewater_loads": ww.LOAD_COLUMNS,
        "wastewater_campaigns": ww.CAMPAIGN_COLUMNS,
        "wastewater_trends": ww.TREND_COLUMNS,
        "wastewater_consumption": ww.CONSUMPTION_COLUMNS,
    }
    assert {k: list(v.columns) for k, v in out.items()} == expected
    assert all(v.empty for v in out.values())
    assert out["wastewater_loads"]["load_mg_day"].dtype == "float64"
    schemas = processed_schemas()
    for name, table in out.items():
        schemas[name].validate(table)


# --------------------------------------------------------------------------- bad files
LAB = "labb/prov.csv"


@pytest.mark.parametrize(
    ("file", "old", "new", "row", "column", "value"),
    [
        # negative concentration
        (LAB, "2023-04-04;Amfetamin;250;", "2023-04-04;Amfetamin;-250;", 3, "Halt", "-250"),
        # text in a numeric cell
        (LAB, "2023-04-04;Amfetamin;250;", "2023-04-04;Amfetamin;hög;", 3, "Halt", "hög"),
        # unknown substance
        (LAB, "2023-04-04;Amfetamin;", "2023-04-04;Heroin;", 3, "Substans", "Heroin"),
        # wrong unit
        (LAB, "250;5;ng/L", "250;5;mmol/L", 3, "Enhet", "mmol/L"),
        # duplicate sample (the cannabis row reported as amphetamine on the same day)
        (LAB, "2023-04-04;THC-COOH", "2023-04-04;Amfetamin", 5, "Substans", "Amfetamin"),
        # a date outside every campaign
        (LAB, "2024-04-02;Amfetamin", "2024-05-02;Amfetamin", 9, "Provtagningsdatum", "2024-05-02"),
        # missing flow for a sample day
        ("flode.csv", "Testverket;2023-04-05;5000\n", "", 6, "Provtagningsdatum", "2023-04-05"),
        # negative flow
        ("flode.csv", "2023-04-05;5000", "2023-04-05;-5000", 3, "Flöde (m³/dygn)", "-5000"),
        # text in the flow column
        ("flode.csv", "2023-04-05;5000", "2023-04-05;okänt", 3, "Flöde (m³/dygn)", "okänt"),
        # a bad date in the lab file
        (LAB, "2023-04-05;Amfetamin", "5 april;Amfetamin", 6, "Provtagningsdatum", "5 april"),
        # unknown plant
        (LAB, "Testverket;2024-04-02", "Annatverk;2024-04-02", 9, "Reningsverk", "Annatverk"),
        # no population for the sample's year
        (
            "reningsverk.csv",
            "Testverket;Testby;2024",
            "Testverket;Testby;2022",
            9,
            "Provtagningsdatum",
            None,
        ),
    ],
)
def test_bad_files_name_file_row_column_value(
    small_raw: Path,
    file: str,
    old: str,
    new: str,
    row: int,
    column: str,
    value: str | None,
) -> None:
    path = small_raw / "avloppsvatten" / file
    _edit(path, old, new, encoding="cp1252" if file == LAB else "utf-8")
    with pytest.raises(DataError) as info:
        pipeline.build_wastewater(small_raw, "Testby")
    err = info.value
    message = str(err)
    assert err.row == row and f"rad {row}" in message
    assert err.column == column and f"kolumn '{column}'" in message
    if value is not None:
        assert f"'{value}'" in message
    assert Path(str(err.file)).name in message
    assert "\n" not in message and "förväntade" in message


@pytest.mark.parametrize("name", ["flode.csv", "reningsverk.csv", "kampanjer.csv"])
def test_missing_support_file(small_raw: Path, name: str) -> None:
    (small_raw / "avloppsvatten" / name).unlink()
    with pytest.raises(DataError) as info:
        pipeline.build_wastewater(small_raw, "Testby")
    assert Path(str(info.value.file)).name == name


def test_unit_missing_is_refused(small_raw: Path) -> None:
    path = small_raw / "avloppsvatten" / LAB
    text = path.read_text(encoding="cp1252").replace(";Enhet", "").replace(";ng/L", "")
    text = text.replace(";µg/L", "").replace(";µg/m³", "")
    path.write_text(text, encoding="cp1252", newline="")
    with pytest.raises(DataError, match="enhet"):
        pipeline.build_wastewater(small_raw, "Testby")


def test_duplicate_sample_across_files(small_raw: Path) -> None:
    lab = small_raw / "avloppsvatten" / "labb"
    (lab / "extra.csv").write_text(
        "Reningsverk;Provtagningsdatum;Substans;Halt;Enhet\n"
        "Testverket;2023-04-04;Amfetamin;260;ng/L\n",
        encoding="utf-8",
    )
    with pytest.raises(DataError) as info:
        pipeline.build_wastewater(small_raw, "Testby")
    # files are read in name order: extra.csv first, so prov.csv row 3 is the duplicate
    err = info.value
    assert (Path(str(err.file)).name, err.row, err.column) == ("prov.csv", 3, "Substans")
    assert "extra.csv rad 2" in str(err)


def test_xlsx_lab_file_with_unit_in_header(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Blad1"
    ws.append(["Rapport"])
    ws.append(["Provdatum", "Analys", "Resultat (mg/L)", "Rapporteringsgräns (mg/L)"])
    ws.append(["2023-04-04", "Ketamin", "0,000002", 0.000001])
    ws.append(["2023-04-05", "Okänd drog", 1, 1])
    path = tmp_path / "b.xlsx"
    wb.save(path)
    with pytest.raises(DataError) as info:
        wwf.read_lab_file(path)
    # the ketamine row was read first; the unknown substance is Excel row 4 on sheet Blad1
    assert (info.value.row, info.value.sheet, info.value.column) == (4, "Blad1", "Analys")
    ws.delete_rows(4)
    wb.save(path)
    lab = wwf.read_lab_file(path)
    assert lab["value_ng_l"].iloc[0] == pytest.approx(2.0)  # 2e-6 mg/L × 1e6 = 2 ng/L
    assert lab["loq_ng_l"].iloc[0] == pytest.approx(1.0)


# --------------------------------------------------------------------------- trends, back-calc
def _campaigns(values: list[float], years: list[int] | None = None) -> pd.DataFrame:
    years = years or [2020 + i for i in range(len(values))]
    starts = pd.to_datetime([f"{y}-04-01" for y in years])
    return pd.DataFrame(
        {
            "kommun": "K",
            "plant": "V",
            "year": years,
            "campaign": [f"{y} vår" for y in years],
            "substance": "kokain",
            "metabolite": "cocaine",
            "daily_mean": values,
            "date_from": starts,
            "date_to": starts + pd.Timedelta(days=6),
        }
    )


def test_trend_strictly_increasing_five_campaigns() -> None:
    out = ww.substance_trends(_campaigns([10.0, 12.0, 14.0, 16.0, 18.0]))
    row = out.iloc[0]
    assert row["slope"] == pytest.approx(2.0, rel=1e-3)  # linear data: Theil–Sen = 2/yr
    assert row["tau"] == pytest.approx(1.0)
    # R: cor.test(1:5, c(10, 12, 14, 16, 18), method = "kendall", exact = FALSE,
    #    continuity = TRUE)$p.value = 0.02752 (S = 10, Var S = 50/3, z = 9/sqrt(50/3));
    # scipy.stats.norm.sf(9 / (50 / 3) ** 0.5) * 2 = 0.027486
    assert row["p_value"] == pytest.approx(0.027486, abs=1e-6)
    assert row["direction"] == "ökande" and bool(row["significant"])
    assert list(out.columns) == ww.TREND_COLUMNS


@pytest.mark.parametrize(
    ("values", "direction"),
    [
        ([18.0, 16.0, 14.0, 12.0, 10.0], "minskande"),
        ([10.0, 14.0, 9.0, 15.0, 11.0], "ingen säkerställd trend"),
    ],
)
def test_trend_direction(values: list[float], direction: str) -> None:
    assert ww.substance_trends(_campaigns(values))["direction"].iloc[0] == direction


def test_trend_needs_min_campaigns() -> None:
    out = ww.substance_trends(_campaigns([1.0, 2.0, 3.0, 4.0]))
    assert out.empty and list(out.columns) == ww.TREND_COLUMNS


def _verified(factors: pd.DataFrame, substance: str, low: float, high: float) -> pd.DataFrame:
    """The factor table with one row marked verified (as a reviewer would after reading
    the original), with a published range."""
    out = factors.copy()
    row = out["substans"] == substance
    out.loc[row, ["status", "varde_tryckt", "tabell_sida"]] = ["verifierad", "3,59", "tab. 2"]
    out.loc[row, ["cf_lag", "cf_hog"]] = [low, high]
    return out


def test_back_calculation_uses_only_verified_rows() -> None:
    factors = ww.load_backcalculation_factors()
    assert set(ww.load_substances()["id"]) >= set(factors["substans"])
    # the shipped table: nothing verified, so nothing is back-calculated
    assert ww.back_calculate(_campaigns([100.0, 50.0])).empty
    table = _verified(factors, "kokain", 2.8, 4.4)
    out = ww.back_calculate(_campaigns([100.0, 50.0]), table)
    cf = table.set_index("substans").loc["kokain"]
    # consumption = load × CF; doses = consumption / typical dose (Zuccato et al. 2008)
    assert out["consumption_mg_day_1000"].tolist() == pytest.approx(
        [100.0 * cf["korrektionsfaktor"], 50.0 * cf["korrektionsfaktor"]]
    )
    assert out["doses_day_1000"].iloc[0] == pytest.approx(
        100.0 * cf["korrektionsfaktor"] / cf["typisk_dos_mg"]
    )
    # the range from the published uncertainty of the factor: 100 × 2.8 and 100 × 4.4
    assert (out["consumption_low"].iloc[0], out["consumption_high"].iloc[0]) == pytest.approx(
        (280.0, 440.0)
    )
    assert list(out.columns) == ww.CONSUMPTION_COLUMNS


def test_no_unverified_factor_in_any_output(sample_tables: dict) -> None:
    """Every factor row that reaches an output is verified (fails the day someone uses an
    unverified row)."""
    factors = ww.load_backcalculation_factors().set_index("substans")
    used = set(sample_tables["wastewater_consumption"]["substance"])
    for substance in used:
        assert factors.loc[substance, "status"] == "verifierad", substance
        assert factors.loc[substance, "varde_tryckt"], substance
        assert factors.loc[substance, "tabell_sida"], substance
    assert set(factors["status"]) <= {"verifierad", "overifierad"}
    # consumption stays off the council's pages: no chart or report text reads it
    root = Path(__file__).resolve().parents[1] / "src" / "trygghet_analys" / "report"
    for module in root.glob("*.py"):
        assert "wastewater_consumption" not in module.read_text(encoding="utf-8"), module


def test_factor_table_review_is_recorded() -> None:
    factors = ww.load_backcalculation_factors().set_index("substans")
    assert (factors["referens"].str.len() > 40).all()
    assert (factors["granskning"].str.len() > 10).all()
    unverified = factors[factors["status"] == "overifierad"]
    assert (unverified["varde_tryckt"] == "").all()  # no printed value claimed
    # CF = (M_parent / M_residue) / excretion fraction, as written in each row; the
    # cocaine row does not follow from its own parts: 1.0485 / 0.29 = 3.6155, table 3.59
    implied = factors["molvikt_kvot"] / factors["utsondring_andel"]
    off = (implied - factors["korrektionsfaktor"]).abs() / factors["korrektionsfaktor"]
    assert set(off[off > 0.005].index) == {"kokain"}
    assert "3,62" in factors.loc["kokain", "granskning"]
    # 303.35 / 289.33 (g/mol, cocaine C17H21NO4 / benzoylecgonine C16H19NO4)
    assert factors.loc["kokain", "molvikt_kvot"] == pytest.approx(303.35 / 289.33, abs=5e-5)


def test_substance_register_matches_contract() -> None:
    reg = ww.load_substances().set_index("id")
    expected = {
        "amfetamin": "amphetamine",
        "metamfetamin": "methamphetamine",
        "kokain": "cocaine",
        "mdma": "MDMA",
        "cannabis": "cannabis",
        "ketamin": "ketamine",
    }
    for sid, metabolite in expected.items():
        assert reg.loc[sid, "euda_metabolit"] == metabolite
    assert pd.isna(reg.loc["tramadol", "euda_metabolit"])


# --------------------------------------------------------------------------- sample data
def _digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_sample_is_byte_deterministic(sample_raw: Path, tmp_path: Path) -> None:
    again = tmp_path / "raw"
    write_sample_wastewater(
        again,
        kommun="Älmhult",
        plant="Älmhults reningsverk",
        population=10_000,
        rng=np.random.default_rng(20220223),
    )
    assert _digest(again) == _digest(sample_raw)
    files = _digest(sample_raw)
    assert any(f.endswith(".xlsx") for f in files)
    assert sum(f.endswith(".csv") and "/labb/" in f for f in files) == 7


def test_sample_builds_with_believable_magnitudes(sample_tables: dict) -> None:
    camp = sample_tables["wastewater_campaigns"]
    assert sorted(camp["year"].unique()) == [2022, 2023, 2024, 2025]
    assert camp["campaign"].nunique() == 8
    # exactly one campaign lost a day
    days = camp.groupby("campaign")["n_days"].max()
    assert (days == 6).sum() == 1 and (days == 7).sum() == 7
    assert camp["n_below_loq"].sum() > 0
    means = camp.groupby("substance")["daily_mean"].mean()
    # Växjö 2022–2024 (EUDA ww2025-all-data.csv, Daily mean): amphetamine 154, 143.31,
    # 120.1; cocaine 59.92, 140.57, 82.45; cannabis 23.55, 31.2, 46.85 — same order here
    assert 50 < means["amfetamin"] < 200
    assert 30 < means["kokain"] < 150
    assert 10 < means["cannabis"] < 60
    assert means["metamfetamin"] < 2


def test_sample_other_kommun(tmp_path: Path) -> None:
    write_sample_wastewater(
        tmp_path,
        kommun="Småby",
        plant="Småby avloppsreningsverk",
        population=2_500,
        rng=np.random.default_rng(1),
        years=[2023],
    )
    out = pipeline.build_wastewater(tmp_path, "Småby")
    assert set(out["wastewater_loads"]["plant"]) == {"Småby avloppsreningsverk"}
    assert out["wastewater_campaigns"]["campaign"].nunique() == 2


@given(st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False))
def test_parse_concentration_below_loq_round_trips(loq) -> None:
    text = "<" + f"{loq:,.3f}".replace(",", " ").replace(".", ",")
    value, below, parsed = wwf.parse_concentration(text)
    assert below and math.isnan(value)
    assert parsed == pytest.approx(float(loq), abs=1e-9)


@pytest.mark.parametrize(
    ("header", "unit", "factor"),
    [
        ("Halt (µg/L)", None, 1000.0),
        ("Halt ng/L", None, 1.0),
        ("Resultat, µg/m³", None, 1.0),
        ("Halt", "mg/L", 1e6),
    ],
)
def test_unit_from_header_or_column(tmp_path: Path, header: str, unit: str | None, factor) -> None:
    cols = ["Datum", "Substans", header] + (["Enhet"] if unit else [])
    # 0,5 (not 2,5): 2,5 mg/L is beyond the plausible bound of 1 mg/L (issue 17)
    row = ["2023-04-04", "MDMA", "0,5"] + ([unit] if unit else [])
    path = tmp_path / "lab.csv"
    path.write_text(";".join(cols) + "\n" + ";".join(row) + "\n", encoding="utf-8")
    lab = wwf.read_lab_file(path)
    assert lab["value_ng_l"].iloc[0] == pytest.approx(0.5 * factor)


@pytest.mark.parametrize(
    ("kommun", "plant"),
    [
        ("Älmhult", "Älmhults reningsverk"),
        ("Vännäs", "Vännäs reningsverk"),
        ("Ljungby", "Ljungbys reningsverk"),
    ],
)
def test_default_plant_name(kommun: str, plant: str) -> None:
    assert default_plant_name(kommun) == plant
