"""Property tests (hypothesis): number, concentration and date parsers, answer labels,
and the ledger invariant rows in = rows kept + rows in the ledger."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from trygghet_analys.errors import DataError
from trygghet_analys.files import wastewater
from trygghet_analys.files.codebook import load_codebook
from trygghet_analys.files.wastewater import parse_concentration, parse_number
from trygghet_analys.survey.codebook import QUESTIONS, normalise_header, normalise_value
from trygghet_analys.survey.ingest import apply_layout

SPACES = [" ", "\u00a0", "\u202f"]  # space, no-break space, narrow no-break space

digits = st.text("0123456789", min_size=1, max_size=4)


def _group(n: int, sep: str) -> str:
    """1234567 → '1 234 567' with ``sep`` between groups of three digits."""
    s = str(n)
    parts = []
    while s:
        parts.insert(0, s[-3:])
        s = s[:-3]
    return sep.join(parts)


@st.composite
def numbers(draw):
    """(value, decimals text) of a non-negative number with up to four decimals."""
    whole = draw(st.integers(0, 10**9))
    dec = draw(st.one_of(st.just(""), digits))
    value = float(f"{whole}.{dec}") if dec else float(whole)
    return whole, dec, value


# --- numbers ------------------------------------------------------------------------------------
@given(numbers(), st.sampled_from(SPACES), st.booleans())
def test_swedish_number(num, space, negative):
    """'1 234,5' (any space as thousands separator, decimal comma) reads as 1234.5."""
    whole, dec, value = num
    text = _group(whole, space) + ("," + dec if dec else "")
    if negative:
        text, value = "-" + text, -value
    assert parse_number(text) == value


@given(numbers())
def test_point_decimal_and_international_grouping(num):
    """'1234.5', '1,234.5' and '1.234,5' read alike: the last separator is the decimal."""
    whole, dec, value = num
    assume(dec)
    assert parse_number(f"{whole}.{dec}") == value
    assert parse_number(_group(whole, ",") + "." + dec) == value
    assert parse_number(_group(whole, ".") + "," + dec) == value


@given(st.floats(allow_nan=False, allow_infinity=False, width=64))
def test_numbers_pass_through(x):
    assert parse_number(x) == x
    assert parse_number(repr(x)) == x


@given(st.text(max_size=12))
def test_any_text_is_a_finite_number_or_valueerror(text):
    """Never another exception, never inf or nan."""
    try:
        value = parse_number(text)
    except ValueError:
        return
    assert math.isfinite(value)


@given(st.text(alphabet=st.characters(categories=["L"]), min_size=1, max_size=8))
def test_words_are_not_numbers(word):
    assume(word.lower() not in ("e",))
    with pytest.raises(ValueError):
        parse_number(word)


@pytest.mark.parametrize("bad", ["", " ", "nan", "inf", "-inf", "1e999", "1,2,3", "12..5", "--3"])
def test_not_numbers(bad):
    with pytest.raises(ValueError):
        parse_number(bad)


# --- concentrations -----------------------------------------------------------------------------
@given(numbers(), st.sampled_from(["", " "]))
def test_below_loq_with_limit(num, gap):
    """'<0,5' → below LOQ, limit 0.5, value NaN."""
    whole, dec, value = num
    text = "<" + gap + str(whole) + ("," + dec if dec else "")
    got, below, loq = parse_concentration(text)
    assert math.isnan(got) and below and loq == value


@given(st.sampled_from(["<LOQ", "<loq", "< LOQ", "n.d.", "N.D.", "nd", "ej detekterad", "<LOD"]))
def test_below_loq_words(word):
    got, below, loq = parse_concentration(word)
    assert math.isnan(got) and below and math.isnan(loq)


@given(numbers())
def test_concentration_values(num):
    whole, dec, value = num
    text = _group(whole, " ") + ("," + dec if dec else "")
    assert parse_concentration(text) == (value, False, pytest.approx(math.nan, nan_ok=True))


@given(st.floats(min_value=1e-9, max_value=1e9))
def test_negative_concentration_refused(x):
    with pytest.raises(ValueError):
        parse_concentration(-x)
    with pytest.raises(ValueError):
        parse_concentration(f"-{x}")


# --- dates --------------------------------------------------------------------------------------
dates = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31))


@given(dates)
def test_dates_in_the_accepted_formats(d):
    """ÅÅÅÅ-MM-DD, ÅÅÅÅMMDD, with a time, and Excel's own date cells all read the same day."""
    parse = wastewater._parse_date
    assert parse(d.isoformat()) == d
    assert parse(d.strftime("%Y%m%d")) == d
    assert parse(d.isoformat() + " 00:00:00") == d
    assert parse(dt.datetime.combine(d, dt.time(13, 5))) == d
    assert parse(d) == d


@given(dates)
def test_ambiguous_dates_refused(d):
    """Day-first or month-first ('03/04/2025', '3.4.2025') is never guessed."""
    assume(d.day <= 12)
    for text in (d.strftime("%d/%m/%Y"), d.strftime("%m/%d/%Y"), f"{d.day}.{d.month}.{d.year}"):
        with pytest.raises(ValueError):
            wastewater._parse_date(text)


# --- answer labels (codebook) -------------------------------------------------------------------
@given(st.text(max_size=30))
def test_normalise_header_is_idempotent(text):
    once = normalise_header(text)
    assert normalise_header(once) == once
    assert normalise_header("  " + text.upper() + "\n") == normalise_header(text.upper())


@given(st.integers(-1000, 1000))
def test_normalise_value_whole_numbers(i):
    """A code read as 3, 3.0 or '3.0' (xlsx and csv) is the same key '3'."""
    assert normalise_value(i) == normalise_value(float(i)) == normalise_value(f"{i}.0") == str(i)


@pytest.fixture(scope="module")
def codebook(sample_data_dir):
    return load_codebook(sample_data_dir / "raw" / "trygghetsmatning" / "kodbok.yml")


@pytest.fixture(scope="module")
def web(codebook):
    """The csv layout (2020–) and its columns for the latest year."""
    year = max(y for layout in codebook.layouts for y in layout.years)
    layout = codebook.layout_for(year)
    return layout, year


_KINDS = ["svar", "svar", "svar", "svar", "tom", "totalt", "utan_omrade", "ung", "gammal"]
_RULE = {"tom": "tom_rad", "totalt": "summeringsrad", "utan_omrade": "saknar_omrade",
         "ung": "alder_utanfor_urvalet", "gammal": "alder_utanfor_urvalet"}  # fmt: skip


def _cells(layout, year, kinds, data) -> pd.DataFrame:
    """One file's text cells: a respondent row per 'svar', and the other kinds of rows."""
    specs = layout.columns_for(year)
    var_of = {s.variable: s.source for s in specs}
    header = [s.source for s in specs] + list(layout.ignore)
    rows = []
    for i, kind in enumerate(kinds):
        row = dict.fromkeys(header, "")
        if kind == "tom":
            rows.append(row)
            continue
        for s in specs:
            mapping = layout.answers.get(s.variable)
            if mapping is not None:
                row[s.source] = data.draw(st.sampled_from(sorted(mapping)))
        row[var_of["respondent_id"]] = f"r{i}"
        row[var_of["year"]] = str(year)
        row[var_of["age"]] = data.draw(st.sampled_from(["16", "24,9", "45", "85", ""]))
        if kind == "totalt":
            row[var_of["respondent_id"]] = "Totalt"
        elif kind == "utan_omrade":
            row[var_of["stratum"]] = ""
        elif kind == "ung":
            row[var_of["age"]] = "15"
        elif kind == "gammal":
            row[var_of["age"]] = "86,5"
        rows.append(row)
    return pd.DataFrame(rows, columns=header, dtype=object)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), kinds=st.lists(st.sampled_from(_KINDS), min_size=1, max_size=40))
def test_ledger_invariant(web, codebook, data, kinds):
    """Rows in = rows kept + rows in the ledger; each rejected row has its rule; order kept."""
    assume("svar" in kinds)  # a file without one respondent row stops the run
    layout, year = web
    cells = _cells(layout, year, kinds, data)
    strata = tuple(v for v in layout.answers["stratum"].values() if v)
    responses, ledger = apply_layout(
        cells, codebook=codebook, layout=layout, year=year, kommun="K", strata=strata,
        file=f"{year}.csv", first_row=2,
    )  # fmt: skip
    assert len(responses) + len(ledger) == len(cells)
    assert list(ledger["row"]) == [i + 2 for i, k in enumerate(kinds) if k != "svar"]
    assert list(ledger["rule"]) == [_RULE[k] for k in kinds if k != "svar"]
    assert list(responses["respondent_id"]) == [f"r{i}" for i, k in enumerate(kinds) if k == "svar"]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), n=st.integers(1, 30))
def test_answer_labels_map_through_the_codebook(web, codebook, data, n):
    """Each answer becomes the canonical category its codebook entry names (None → missing)."""
    layout, year = web
    cells = _cells(layout, year, ["svar"] * n, data)
    strata = tuple(v for v in layout.answers["stratum"].values() if v)
    responses, _ = apply_layout(
        cells, codebook=codebook, layout=layout, year=year, kommun="K", strata=strata,
        file=f"{year}.csv",
    )  # fmt: skip
    for spec in layout.columns_for(year):
        if spec.variable not in QUESTIONS:
            continue
        mapping = layout.answers[spec.variable]
        col = responses[spec.variable]
        assert list(col.cat.categories) == list(QUESTIONS[spec.variable])
        assert col.cat.ordered
        want = [mapping.get(v) for v in cells[spec.source]]
        got = [None if pd.isna(v) else v for v in col]
        assert got == want


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), n=st.integers(1, 20), junk=st.text(min_size=1, max_size=10))
def test_unknown_answer_names_row_column_value(web, codebook, data, n, junk):
    layout, year = web
    cells = _cells(layout, year, ["svar"] * n, data)
    q = next(s for s in layout.columns_for(year) if s.variable in QUESTIONS)
    mapping = layout.answers[q.variable]
    value = " ".join(junk.split())
    assume(value and value not in mapping)
    i = data.draw(st.integers(0, n - 1))
    cells.loc[i, q.source] = value
    strata = tuple(v for v in layout.answers["stratum"].values() if v)
    with pytest.raises(DataError) as info:
        apply_layout(
            cells, codebook=codebook, layout=layout, year=year, kommun="K", strata=strata,
            file=f"{year}.csv", first_row=2,
        )  # fmt: skip
    err = info.value
    assert (err.row, err.column) == (i + 2, q.source)
    assert err.value == value
    assert "\n" not in err.swedish()
    assert np.isfinite(err.row)
