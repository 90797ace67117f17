"""Charts checked through their matplotlib objects (lines, bands, texts), not pixels."""

from __future__ import annotations

from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.ticker import MaxNLocator

from trygghet_analys.report import plotting
from trygghet_analys.report.plotting import (
    WASTEWATER_UNIT,
    commitment_panel,
    finish_figure,
    format_number_axis,
    format_percent_axis,
    group_chart,
    problem_ranking,
    response_rate_chart,
    small_multiples,
    trend_chart,
    use_style,
    wastewater_chart,
)

NBSP = "\u00a0"
LABELS = {
    "otrygghet_ute_sent": "Otrygg ute sent",
    "problemindex": "Problemindex",
    "problem_klotter": "Klotter",
    "problem_nedskrapning": "Nedskräpning",
    "problem_narkotikahandel": "Öppen narkotikahandel",
}
YEARS = [2019, 2020, 2021, 2022, 2023]
EST_COLUMNS = [
    "kommun", "year", "indicator", "group_var", "group",
    "estimate", "se", "ci_low", "ci_high", "n", "suppressed",
]  # fmt: skip


# --------------------------------------------------------------------------- tiny frames


def _est_rows(indicator, group_var, group, values, kommun="Älmhult", half=0.04):
    rows = []
    for year, value in zip(YEARS, values, strict=True):
        missing = value is None or np.isnan(value)
        rows.append(
            {
                "kommun": kommun,
                "year": year,
                "indicator": indicator,
                "group_var": group_var,
                "group": group,
                "estimate": np.nan if missing else value,
                "se": np.nan if missing else half / 1.96,
                "ci_low": np.nan if missing else value - half,
                "ci_high": np.nan if missing else value + half,
                "n": 12 if missing else 300,
                "suppressed": missing,
            }
        )
    return rows


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def estimates() -> pd.DataFrame:
    rows = []
    rows += _est_rows(
        "otrygghet_ute_sent", "total", "Hela kommunen", [0.20, 0.22, np.nan, 0.30, 0.26]
    )
    rows += _est_rows("otrygghet_ute_sent", "stratum", "Tätorten", [0.25, 0.27, 0.28, 0.33, 0.30])
    rows += _est_rows(
        "otrygghet_ute_sent", "stratum", "Landsbygd", [0.10, np.nan, 0.12, 0.15, 0.14]
    )
    rows += _est_rows("otrygghet_ute_sent", "sex", "Kvinna", [0.28, 0.30, 0.31, 0.38, 0.35])
    rows += _est_rows("otrygghet_ute_sent", "sex", "Man", [0.12, 0.14, 0.15, 0.20, 0.17])
    rows += _est_rows("problemindex", "total", "Hela kommunen", [1.2, 1.4, 1.3, 1.5, 1.6], half=0.1)
    rows += _est_rows("problem_klotter", "total", "Hela kommunen", [0.10, 0.11, 0.12, 0.13, 0.15])
    rows += _est_rows(
        "problem_nedskrapning", "total", "Hela kommunen", [0.30, 0.28, 0.27, 0.25, 0.20]
    )
    rows += _est_rows(
        "problem_narkotikahandel", "total", "Hela kommunen", [np.nan, np.nan, 0.05, 0.07, 0.09]
    )
    return pd.DataFrame(rows, columns=EST_COLUMNS)


@pytest.fixture
def changes() -> pd.DataFrame:
    base = {
        "kommun": "Älmhult",
        "indicator": "otrygghet_ute_sent",
        "group_var": "total",
        "group": "Hela kommunen",
    }
    rows = [
        # significant year-to-year change: marked
        {**base, "comparison": "föregående år", "year_from": 2019, "year_to": 2020,
         "estimate_from": 0.20, "estimate_to": 0.22, "significant": True},
        # not significant: not marked
        {**base, "comparison": "föregående år", "year_from": 2022, "year_to": 2023,
         "estimate_from": 0.30, "estimate_to": 0.26, "significant": False},
        # significant, but against the base year: not marked
        {**base, "comparison": "basår", "year_from": 2019, "year_to": 2022,
         "estimate_from": 0.20, "estimate_to": 0.30, "significant": True},
        # another group: not marked on the total
        {**base, "group_var": "sex", "group": "Kvinna", "comparison": "föregående år",
         "year_from": 2021, "year_to": 2022, "estimate_from": 0.31, "estimate_to": 0.38,
         "significant": True},
    ]  # fmt: skip
    frame = pd.DataFrame(rows)
    frame["change"] = frame["estimate_to"] - frame["estimate_from"]
    frame["se_change"] = 0.02
    frame["z"] = frame["change"] / 0.02
    frame["p_value"] = 0.01
    return frame[
        ["kommun", "indicator", "group_var", "group", "comparison", "year_from", "year_to",
         "estimate_from", "estimate_to", "change", "se_change", "z", "p_value", "significant"]
    ]  # fmt: skip


def _breaks(variable: str, year: int = 2021, kommun: str = "Älmhult") -> pd.DataFrame:
    return pd.DataFrame(
        {"kommun": [kommun], "variable": [variable], "year": [year], "reason": ["ny enkät"]}
    )


@pytest.fixture
def loads() -> pd.DataFrame:
    dates = pd.date_range("2022-05-03", periods=7)
    values = [10.0, 12.0, 0.0, 11.0, 13.0, 0.0, 14.0]
    below = [False, False, True, False, False, True, False]
    return pd.DataFrame(
        {
            "kommun": "Älmhult",
            "plant": "Älmhult ARV",
            "campaign": "2022-1",
            "date": dates,
            "weekday": dates.day_name(),
            "substance": "amfetamin",
            "metabolite": "amphetamine",
            "concentration_ng_l": 100.0,
            "loq_ng_l": 5.0,
            "below_loq": below,
            "flow_m3_day": 4000.0,
            "population": 12000,
            "load_mg_day": np.array(values) * 12,
            "load_mg_day_1000": values,
        }
    )


@pytest.fixture
def campaigns() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "kommun": "Älmhult",
            "plant": "Älmhult ARV",
            "year": [2022, 2023, 2022],
            "campaign": ["2022-1", "2023-1", "2022-1"],
            "substance": ["amfetamin", "amfetamin", "kokain"],
            "metabolite": ["amphetamine", "amphetamine", "cocaine"],
            "daily_mean": [60 / 7, 9.5, 30.0],
            "weekday_mean": 9.0,
            "weekend_mean": 8.0,
            "n_days": 7,
            "n_below_loq": [2, 0, 0],
        }
    )


@pytest.fixture
def euda() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "year": [2022, 2022, 2022, 2023, 2022, 2023, 2022, 2022],
            "metabolite": ["amphetamine"] * 7 + ["cocaine"],
            "city": ["Växjö", "Göteborg", "Stockholm", "Växjö", "Europa (median)",
                     "Europa (median)", "Norden (median)", "Växjö"],
            "country": ["SE", "SE", "SE", "SE", None, None, None, "SE"],
            "daily_mean": [12.0, 30.0, 25.0, 14.0, 20.0, 22.0, 18.0, 99.0],
            "kind": ["jämförelsestad", "Sverige", "Sverige", "jämförelsestad",
                     "Europa (median)", "Europa (median)", "Norden (median)", "jämförelsestad"],
            "n_sites": [1, 1, 1, 1, 73, 73, 7, 1],
            "population": [75410.0, None, None, 75410.0, None, None, None, 75410.0],
        }
    )  # fmt: skip


@pytest.fixture
def followup() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "commitment_id": ["2022-synlighet-3", "2022-synlighet-3", "2022-trygghet-1", "2022-trygghet-2"],
            "focus_area": ["Synlighet", "Synlighet", "Trygghet", "Trygghet"],
            "text": [
                "Polisen ska öka insatsen med uniformerad fotpatrullering i centrala delar.",
                "Polisen ska öka insatsen med uniformerad fotpatrullering i centrala delar.",
                "Öka antalet aktiva hushåll inom Grannsamverkan.",
                "Genomföra digitala medborgardialoger.",
            ],
            "indicator": ["ser_polis_fots", "fotpatrull_timmar", "grannsamverkan", "otrygghet_ute_sent"],
            "label": ["Ser polis till fots", "Timmar fotpatrullering", "Grannsamverkan", "Otrygg ute sent"],
            "latest_value": [0.234, 412.0, 0.31, np.nan],
            "status": ["förbättrad", "oförändrad", "försämrad", "otillräckligt underlag"],
        }
    )  # fmt: skip


@pytest.fixture
def rates() -> pd.DataFrame:
    rows = []
    for year in (2021, 2022):
        for stratum, sampled, resp in (("Tätorten", 300, 200), ("Landsbygd", 300, 150)):
            rows.append(
                {
                    "kommun": "Älmhult",
                    "year": year,
                    "stratum": stratum,
                    "sampled": sampled,
                    "respondents": resp + (year - 2021) * 30,
                }
            )
    frame = pd.DataFrame(rows)
    frame["response_rate"] = frame["respondents"] / frame["sampled"]
    return frame


# --------------------------------------------------------------------------- helpers


def _gid(ax, gid):
    return [a for a in ax.get_children() if a.get_gid() == gid]


def _line(ax, gid):
    (line,) = [ln for ln in ax.get_lines() if ln.get_gid() == gid]
    return line


def _legend_texts(ax):
    legend = ax.get_legend()
    return [] if legend is None else [t.get_text() for t in legend.get_texts()]


def _contrast(colour_a: str, colour_b: str = "#FFFFFF") -> float:
    """WCAG 2.1 contrast ratio (relative luminance, sRGB)."""

    def lum(colour):
        rgb = np.array(mcolors.to_rgb(colour))
        lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
        return float(lin @ [0.2126, 0.7152, 0.0722])

    hi, lo = sorted((lum(colour_a), lum(colour_b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


# --------------------------------------------------------------------------- style


def test_use_style_applies_palette_and_restores():
    before = plt.rcParams["axes.prop_cycle"]
    with use_style():
        colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        assert colours[0].lstrip("#").upper() == "0072B2"
        assert plt.rcParams["svg.hashsalt"] == "trygghet-analys"
    assert plt.rcParams["axes.prop_cycle"] == before


@pytest.mark.parametrize("key", ["text.color", "axes.labelcolor", "xtick.labelcolor"])
def test_text_colours_meet_wcag_aa(key):
    with use_style():
        colour = plt.rcParams[key]
    colour = (
        colour if str(colour).startswith("#") or colour in mcolors.CSS4_COLORS else f"#{colour}"
    )
    assert _contrast(colour) >= 4.5


@pytest.mark.parametrize("colour", plotting.PALETTE[:2] + ("#007A5A", "#C24E00"))
def test_graphic_colours_reach_three_to_one(colour):
    # WCAG 1.4.11: graphical objects need 3:1 against the background
    assert _contrast(colour) >= 3.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.25, f"25{NBSP}%"), (0.025, f"2,5{NBSP}%"), (0.0, f"0{NBSP}%"), (1.0, f"100{NBSP}%")],
)
def test_percent_axis_ticks(value, expected):
    _fig, ax = plt.subplots()
    format_percent_axis(ax)
    assert ax.yaxis.get_major_formatter()(value) == expected


@pytest.mark.parametrize(("value", "expected"), [(1.5, "1,5"), (2.0, "2"), (0.25, "0,25")])
def test_number_axis_ticks_use_decimal_comma(value, expected):
    _fig, ax = plt.subplots()
    format_number_axis(ax, "x")
    assert ax.xaxis.get_major_formatter()(value) == expected


# --------------------------------------------------------------------------- trend


def test_trend_line_has_gap_for_suppressed_year(estimates):
    ax = trend_chart(estimates, indicator="otrygghet_ute_sent", labels=LABELS)
    line = _line(ax, "skattning")
    np.testing.assert_array_equal(line.get_xdata(), YEARS)
    np.testing.assert_allclose(line.get_ydata(), [0.20, 0.22, np.nan, 0.30, 0.26])
    assert [t.get_text() for t in _gid(ax, "undertryckt")] == ["för få svar"]
    assert ax.get_title() == "Otrygg ute sent"


def test_trend_missing_year_is_a_gap(estimates):
    thinned = estimates[~((estimates["year"] == 2021) & (estimates["group_var"] == "total"))]
    line = _line(trend_chart(thinned, indicator="problemindex", labels=LABELS), "skattning")
    np.testing.assert_array_equal(line.get_xdata(), YEARS)
    assert np.isnan(line.get_ydata()[2])


def test_trend_band_vertices_equal_ci(estimates):
    ax = trend_chart(estimates, indicator="otrygghet_ute_sent", labels=LABELS)
    (band,) = _gid(ax, "konfidensintervall")
    vertices = np.vstack([p.vertices for p in band.get_paths()])
    rows = estimates.query("indicator == 'otrygghet_ute_sent' and group_var == 'total'")
    for row in rows.itertuples():
        ys = vertices[np.isclose(vertices[:, 0], row.year), 1]
        if row.suppressed:
            assert ys.size == 0  # the band is cut at the gap
            continue
        assert np.isclose(ys.min(), row.ci_low)
        assert np.isclose(ys.max(), row.ci_high)


def test_trend_marks_only_significant_year_to_year_changes(estimates, changes):
    ax = trend_chart(estimates, indicator="otrygghet_ute_sent", changes=changes, labels=LABELS)
    marker = _line(ax, "sakerstalld")
    np.testing.assert_array_equal(marker.get_xdata(), [2020])
    np.testing.assert_allclose(marker.get_ydata(), [0.22])
    assert marker.get_marker() != _line(ax, "skattning").get_marker()
    assert "Statistiskt säkerställd förändring" in _legend_texts(ax)


def test_trend_without_significant_changes_has_no_marker(estimates, changes):
    ax = trend_chart(
        estimates, indicator="otrygghet_ute_sent", changes=changes.iloc[[1, 2]], labels=LABELS
    )
    assert _gid(ax, "sakerstalld") == []
    assert "Statistiskt säkerställd förändring" not in _legend_texts(ax)


@pytest.mark.parametrize(
    ("indicator", "variable", "drawn"),
    [
        ("otrygghet_ute_sent", "otrygg_ute_sent", True),
        ("otrygghet_ute_sent", "otrygghet_ute_sent", True),
        ("otrygghet_ute_sent", "oro_inbrott", False),
        ("problemindex", "problem_klotter", True),
        ("problem_klotter", "problem_klotter", True),
        ("problem_klotter", "problem_nedskrapning", False),
    ],
)
def test_trend_series_break_position(estimates, indicator, variable, drawn):
    ax = trend_chart(estimates, indicator=indicator, breaks=_breaks(variable), labels=LABELS)
    lines = _gid(ax, "seriebrott")
    if drawn:
        (line,) = lines
        np.testing.assert_allclose(line.get_xdata(), [2020.5, 2020.5])
        assert "Seriebrott" in _legend_texts(ax)
    else:
        assert lines == []


def test_oro_inbrott_break_maps_to_oro_bostadsinbrott(estimates):
    est = estimates.query("indicator == 'problem_klotter'").assign(indicator="oro_bostadsinbrott")
    ax = trend_chart(est, indicator="oro_bostadsinbrott", breaks=_breaks("oro_inbrott", 2022))
    np.testing.assert_allclose(_gid(ax, "seriebrott")[0].get_xdata(), [2021.5, 2021.5])


@pytest.mark.parametrize(
    ("breaks", "break_years", "expected"),
    [
        (_breaks("otrygg_ute_sent", 2021, kommun="Ljungby"), None, []),  # other kommun
        (_breaks("otrygg_ute_sent", 2019), None, []),  # first year: nothing to separate
        (None, [2020, 2022], [2019.5, 2021.5]),  # explicit override
        (_breaks("otrygg_ute_sent", 2021), [2023], [2022.5]),  # override wins
    ],
)
def test_trend_break_years_filters_and_override(estimates, breaks, break_years, expected):
    ax = trend_chart(
        estimates,
        indicator="otrygghet_ute_sent",
        breaks=breaks,
        break_years=break_years,
        labels=LABELS,
    )
    assert [line.get_xdata()[0] for line in _gid(ax, "seriebrott")] == expected


def test_trend_shades_commitment_period(estimates):
    ax = trend_chart(
        estimates,
        indicator="otrygghet_ute_sent",
        periods=[(2022, 2023, "Medborgarlöfte 2022–2023")],
        labels=LABELS,
    )
    (span,) = _gid(ax, "medborgarlofte")
    assert span.get_x() == pytest.approx(2021.5)
    assert span.get_x() + span.get_width() == pytest.approx(2023.5)
    assert "Medborgarlöfte 2022–2023" in _legend_texts(ax)


def test_trend_national_points_in_fractions(estimates):
    national = pd.DataFrame(
        {"indicator": ["otrygg_ute_sent", "otrygg_ute_sent", "annat"], "year": [2021, 2022, 2022],
         "percent": [28, 27, 50], "source": "Brå"}
    )  # fmt: skip
    ax = trend_chart(estimates, indicator="otrygghet_ute_sent", national=national, labels=LABELS)
    points = _line(ax, "riket")
    np.testing.assert_array_equal(points.get_xdata(), [2021, 2022])
    np.testing.assert_allclose(points.get_ydata(), [0.28, 0.27])
    assert "Riket (NTU)" in _legend_texts(ax)


def test_trend_percent_axis_starts_at_zero(estimates):
    ax = trend_chart(estimates, indicator="otrygghet_ute_sent", labels=LABELS)
    ax.figure.canvas.draw()
    assert ax.get_ylim()[0] == 0
    ticks = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert ticks and all(t.endswith(f"{NBSP}%") for t in ticks)
    years = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert "2020" in years  # years without digit grouping


def test_trend_problemindex_axis_zero_to_six(estimates):
    ax = trend_chart(estimates, indicator="problemindex", labels=LABELS)
    ax.figure.canvas.draw()
    assert ax.get_ylim() == (0, 6)
    ticks = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert "%" not in "".join(ticks)
    assert ax.yaxis.get_major_formatter()(1.5) == "1,5"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"indicator": "finns_inte"}, "no estimates"), ({"indicator": "otrygghet_ute_sent",
      "group_var": "sex", "group": "Annat"}, "no estimates")],
)  # fmt: skip
def test_trend_unknown_series_raises(estimates, kwargs, message):
    with pytest.raises(ValueError, match=message):
        trend_chart(estimates, **kwargs)


def test_trend_several_kommuner_raise(estimates):
    other = estimates.assign(kommun="Ljungby")
    with pytest.raises(ValueError, match="several kommuner"):
        trend_chart(pd.concat([estimates, other]), indicator="otrygghet_ute_sent")


def test_labels_fall_back_to_id(estimates, monkeypatch):
    monkeypatch.setattr(plotting, "_indicator_table", lambda: None)
    ax = trend_chart(estimates, indicator="otrygghet_ute_sent")
    assert ax.get_title() == "otrygghet_ute_sent"


def test_indicator_attributes_are_the_tables_first_rows() -> None:
    table = plotting._indicator_table()
    assert len(table) > 10
    for column in [*table.columns, "no_such_column"]:
        for indicator in [*table["id"], "no_such_indicator"]:
            if column in table.columns:
                hit = table.loc[table["id"] == indicator, column]
                expected = str(hit.iloc[0]) if len(hit) else ""
            else:
                expected = ""
            assert plotting._indicator_attr(indicator, column) == expected, (indicator, column)


def test_trend_draws_on_given_axes(estimates):
    fig, (left, right) = plt.subplots(1, 2)
    out = trend_chart(estimates, indicator="problemindex", labels=LABELS, ax=right)
    assert out is right
    assert left.get_lines() == []


# --------------------------------------------------------------------------- small multiples


@pytest.mark.parametrize(
    ("group_var", "groups"),
    [("stratum", ["Tätorten", "Landsbygd"]), ("sex", ["Kvinna", "Man"])],
)
def test_small_multiples_one_panel_per_group(estimates, group_var, groups):
    axes = small_multiples(
        estimates, indicator="otrygghet_ute_sent", group_var=group_var, labels=LABELS
    )
    assert [ax.get_title() for ax in axes] == groups
    assert len({ax.get_ylim() for ax in axes}) == 1  # shared y
    for ax, group in zip(axes, groups, strict=True):
        rows = estimates[
            (estimates["indicator"] == "otrygghet_ute_sent")
            & (estimates["group_var"] == group_var)
            & (estimates["group"] == group)
        ]
        expected = rows["estimate"]
        np.testing.assert_allclose(_line(ax, "skattning").get_ydata(), expected.to_numpy())


def test_small_multiples_follow_categorical_order(estimates):
    est = estimates.copy()
    est["group"] = pd.Categorical(est["group"], categories=["Man", "Kvinna", "Tätorten",
                                                          "Landsbygd", "Hela kommunen"])  # fmt: skip
    axes = small_multiples(est, indicator="otrygghet_ute_sent", group_var="sex", labels=LABELS)
    assert [ax.get_title() for ax in axes] == ["Man", "Kvinna"]


def test_small_multiples_on_given_axes_with_periods_and_breaks(estimates):
    _fig, given = plt.subplots(1, 3)
    axes = small_multiples(
        estimates,
        indicator="otrygghet_ute_sent",
        group_var="stratum",
        periods=[(2022, 2022, "Medborgarlöfte")],
        breaks=_breaks("otrygg_ute_sent"),
        labels=LABELS,
        axes=given,
    )
    assert list(axes) == list(given[:2])
    for ax in axes:
        assert len(_gid(ax, "medborgarlofte")) == 1
        assert _gid(ax, "seriebrott")[0].get_xdata()[0] == 2020.5


def test_small_multiples_too_few_axes_raise(estimates):
    _fig, one = plt.subplots()
    with pytest.raises(ValueError, match="groups"):
        small_multiples(estimates, indicator="otrygghet_ute_sent", group_var="sex", axes=[one])


# --------------------------------------------------------------------------- groups


def test_group_chart_points_and_whiskers(estimates):
    ax = group_chart(estimates, indicator="otrygghet_ute_sent", year=2020, labels=LABELS)
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == ["Område", "Tätorten", "Landsbygd", "Kön", "Kvinna", "Man"]
    points = _line(ax, "skattning")
    np.testing.assert_allclose(points.get_xdata(), [0.27, 0.30, 0.14])
    np.testing.assert_array_equal(points.get_ydata(), [1, 4, 5])
    (whiskers,) = _gid(ax, "konfidensintervall")
    segments = np.array(whiskers.get_segments())
    np.testing.assert_allclose(segments[:, :, 0], [[0.23, 0.31], [0.26, 0.34], [0.10, 0.18]])
    # the suppressed area is named, not silently dropped
    assert [t.get_text() for t in _gid(ax, "undertryckt")] == ["för få svar"]
    (total,) = _gid(ax, "hela_kommunen")
    assert total.get_xdata()[0] == pytest.approx(0.22)
    assert ax.xaxis.get_major_formatter()(0.3) == f"30{NBSP}%"


@pytest.mark.parametrize("group_vars", [("sex",), ("age_group", "sex")])
def test_group_chart_selected_group_vars(estimates, group_vars):
    ax = group_chart(estimates, indicator="otrygghet_ute_sent", year=2022, group_vars=group_vars)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Kön", "Kvinna", "Man"]


def test_group_chart_missing_year_raises(estimates):
    with pytest.raises(ValueError, match="year 1999"):
        group_chart(estimates, indicator="otrygghet_ute_sent", year=1999)


# --------------------------------------------------------------------------- problems


def test_problem_ranking_order_and_base_year(estimates):
    ax = problem_ranking(estimates, year=2023, base_year=2020, labels=LABELS)
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == ["Nedskräpning", "Klotter", "Öppen narkotikahandel"]  # 20 %, 15 %, 9 %
    latest, base = ax.containers
    np.testing.assert_allclose([b.get_width() for b in latest], [0.20, 0.15, 0.09])
    widths = [b.get_width() for b in base]
    np.testing.assert_allclose(widths[:2], [0.28, 0.11])
    assert np.isnan(widths[2])  # narkotikahandel not asked in 2020
    assert "Problemindex" not in ticks
    assert _legend_texts(ax) == ["2023", "2020", "95 % konfidensintervall"]
    assert f"20{NBSP}%" in " ".join(t.get_text() for t in ax.texts)
    # every drawn bar has its interval: the fixture's ci_low/ci_high, bar by bar
    whiskers = [c for c in ax.collections if c.get_gid() == "konfidensintervall"]
    segments = [seg for c in whiskers for seg in c.get_segments()]
    assert len(segments) == 5  # 3 bars 2023 + 2 bars 2020 (narkotikahandel not asked)
    est = estimates[estimates["indicator"] == "problem_nedskrapning"].set_index("year")
    first = segments[0]
    np.testing.assert_allclose(first[:, 0], [est.loc[2023, "ci_low"], est.loc[2023, "ci_high"]])
    # the comparison year is written out in the title, on its own line
    assert ax.get_title() == "Problem i bostadsområdet\n2023 jämfört med 2020"


def test_problem_ranking_unknown_year_raises(estimates):
    with pytest.raises(ValueError, match="2030"):
        problem_ranking(estimates, year=2030, base_year=2027)


# --------------------------------------------------------------------------- wastewater


def test_wastewater_marks_below_loq(campaigns, loads, euda):
    ax = wastewater_chart(campaigns, substance="amfetamin", loads=loads, euda=euda)
    hollow = _line(ax, "under_loq")
    assert len(hollow.get_xdata()) == 2
    assert hollow.get_markerfacecolor() == "none"
    np.testing.assert_allclose(hollow.get_ydata(), [0.0, 0.0])
    assert len(_line(ax, "dygn").get_xdata()) == 5
    assert "Under kvantifieringsgränsen (LOQ)" in _legend_texts(ax)
    assert ax.get_ylabel() == WASTEWATER_UNIT
    assert "1\u202f000 invånare" in WASTEWATER_UNIT


def test_wastewater_campaign_means_and_positions(campaigns, loads):
    ax = wastewater_chart(campaigns, substance="amfetamin", loads=loads)
    means = _line(ax, "skattning")
    np.testing.assert_allclose(means.get_ydata(), [60 / 7, 9.5])
    x = pd.to_datetime(means.get_xdata())
    # middle of the campaign's days; without daily data, 1 July of the campaign year
    assert list(x) == [pd.Timestamp("2022-05-06"), pd.Timestamp("2023-07-01")]
    assert ax.get_ylim()[0] == 0


def test_wastewater_euda_comparison_city_panel_and_sizes(campaigns, euda):
    ax = wastewater_chart(campaigns, substance="amfetamin", euda=euda)
    np.testing.assert_allclose(_line(ax, "euda_jamforelsestad").get_ydata(), [12.0, 14.0])
    np.testing.assert_allclose(_line(ax, "euda_sverige").get_ydata(), [30.0, 25.0])
    np.testing.assert_allclose(_line(ax, "euda_europa").get_ydata(), [20.0, 22.0])
    np.testing.assert_allclose(_line(ax, "euda_norden").get_ydata(), [18.0])
    # EUDA samples one spring week: drawn at 1 April
    x = pd.to_datetime(_line(ax, "euda_europa").get_xdata())
    assert list(x) == [pd.Timestamp("2022-04-01"), pd.Timestamp("2023-04-01")]
    legend = set(_legend_texts(ax))
    assert "Växjö (EUDA, 75\u202f410 anslutna)" in legend
    assert "Europa, median (EUDA, 73 städer med mätning alla år)" in legend
    assert "Norden, median (EUDA, 7 städer med mätning alla år)" in legend
    assert "Andra svenska städer (EUDA)" in legend
    assert "Växjö (EUDA, 75\u202f410 anslutna) 2023: 14,0." in plotting.alt_text(ax)


def test_wastewater_euda_rules_note_and_own_values(campaigns, euda):
    # The kommun's 2022 campaign under EUDA's rules (below LOQ = 0) differs from its own
    # mean: drawn as an open star; a note names the rules; 2023 only an autumn campaign.
    own = pd.DataFrame(
        {
            "year": [2022, 2023],
            "metabolite": "amphetamine",
            "city": "Älmhult",
            "country": "SE",
            "daily_mean": [7.5, 9.5],
            "kind": "kommun",
            "campaign": ["2022-1", "2023-1"],
            "season": ["vår", "höst"],
            "season_matched": [True, False],
        }
    )
    ax = wastewater_chart(
        campaigns, substance="amfetamin", euda=pd.concat([euda, own], ignore_index=True)
    )
    np.testing.assert_allclose(_line(ax, "euda_kommun").get_ydata(), [7.5, 9.5])
    (note,) = [t for t in ax.texts if t.get_gid() == "euda_regler"]
    text = " ".join(note.get_text().split())
    assert "dygn under LOQ = 0" in text and "vårkampanj mot EUDA:s vårvecka" in text
    assert "2023 finns bara en höstkampanj" in text
    assert "samma städer alla år 2022–2023" in text


def test_wastewater_euda_own_values_not_drawn_when_equal(campaigns, euda):
    own = pd.DataFrame(
        {
            "year": [2022],
            "metabolite": "amphetamine",
            "city": "Älmhult",
            "daily_mean": [60 / 7],
            "kind": "kommun",
            "campaign": ["2022-1"],
            "season_matched": [True],
        }
    )
    ax = wastewater_chart(
        campaigns, substance="amfetamin", euda=pd.concat([euda, own], ignore_index=True)
    )
    assert not [ln for ln in ax.get_lines() if ln.get_gid() == "euda_kommun"]


def test_wastewater_flagged_days_open_markers(campaigns, loads):
    flagged = loads.assign(
        flags=["regn", "", "under_loq", "helgdag", "provtagningsfel", "under_loq", ""],
        excluded=[False, False, False, False, True, False, False],
    )
    ax = wastewater_chart(campaigns, substance="amfetamin", loads=flagged)
    np.testing.assert_allclose(_line(ax, "flaggat").get_ydata(), [10.0, 11.0])
    np.testing.assert_allclose(_line(ax, "utelamnat").get_ydata(), [13.0])
    np.testing.assert_allclose(_line(ax, "under_loq").get_ydata(), [0.0, 0.0])
    np.testing.assert_allclose(_line(ax, "dygn").get_ydata(), [12.0, 14.0])
    for gid in ("flaggat", "utelamnat", "under_loq"):
        assert _line(ax, gid).get_markerfacecolor() == "none", gid
    text = plotting.alt_text(ax)
    assert "2 flaggade dygn medräknade" in text and "1 flaggade dygn ej medräknade" in text


def test_wastewater_interval_and_medicine_note(campaigns):
    with_ci = campaigns.assign(daily_mean_low=[-1.0, 8.0, 20.0], daily_mean_high=[15.0, 11.0, 40.0])
    note = "Amfetamin kommer också från förskrivna ADHD-läkemedel."
    ax = wastewater_chart(with_ci, substance="amfetamin", note=note)
    (bars,) = [c for c in ax.collections if c.get_gid() == "spridning"]
    segments = [np.asarray(seg)[:, 1].tolist() for seg in bars.get_segments()]
    assert segments == [[0.0, 15.0], [8.0, 11.0]]  # lower end floored at 0 on the chart
    assert "Spridning mellan kampanjens dygn (95 %)" in _legend_texts(ax)
    (shown,) = [t for t in ax.texts if t.get_gid() == "lakemedel"]
    assert " ".join(shown.get_text().split()) == note
    assert plotting.alt_text(ax).endswith(note)


def test_wastewater_date_ticks_are_swedish(campaigns, loads):
    ax = wastewater_chart(campaigns.query("year == 2022"), substance="amfetamin", loads=loads)
    ax.figure.canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert any(t.startswith("maj") for t in ticks)
    assert not any(t.startswith(("May", "Jun")) for t in ticks)


def test_wastewater_unknown_substance_raises(campaigns):
    with pytest.raises(ValueError, match="heroin"):
        wastewater_chart(campaigns, substance="heroin")


# --------------------------------------------------------------------------- commitments


def test_commitment_panel_status_symbol_and_text(followup):
    ax = commitment_panel(followup)
    statuses = [t.get_text() for t in _gid(ax, "status")]
    assert statuses == ["Förbättrad", "Oförändrad", "Försämrad", "Otillräckligt underlag"]
    symbols = [t.get_text() for t in _gid(ax, "status_symbol")]
    assert len(set(symbols)) == 4  # shape differs, not only colour
    texts = [t.get_text() for t in ax.texts]
    assert f"23{NBSP}%" in texts  # proportion as percent
    assert "412" in texts  # activity count as a number
    assert {"Synlighet", "Trygghet"} <= set(texts)


def test_commitment_panel_unknown_status_raises(followup):
    bad = followup.assign(status=["förbättrad", "bra", "försämrad", "oförändrad"])
    with pytest.raises(ValueError, match="bra"):
        commitment_panel(bad)


# --------------------------------------------------------------------------- response rates


def test_response_rate_lines(rates):
    ax = response_rate_chart(rates)
    by_label = {line.get_label(): line for line in ax.get_lines()}
    np.testing.assert_allclose(by_label["Tätorten"].get_ydata(), [200 / 300, 230 / 300])
    np.testing.assert_allclose(by_label["Hela kommunen"].get_ydata(), [350 / 600, 410 / 600])
    assert ax.get_ylim() == (0, 1)


# --------------------------------------------------------------------------- figure


@pytest.mark.parametrize("synthetic", [True, False])
def test_finish_figure_source_and_example_label(estimates, synthetic):
    ax = trend_chart(estimates, indicator="otrygghet_ute_sent", labels=LABELS)
    fig = finish_figure(ax.figure, source="Polisens trygghetsmätning", synthetic=synthetic)
    texts = {t.get_gid(): t.get_text() for t in fig.texts}
    assert texts["kalla"] == "Källa: Polisens trygghetsmätning"
    if synthetic:
        assert texts["exempeldata"] == "Exempeldata – inte verkliga resultat"
        assert fig.texts[-1].get_visible()
    else:
        assert "exempeldata" not in texts


def test_finish_figure_does_not_repeat_kalla():
    fig, _ax = plt.subplots()
    finish_figure(fig, source="Källa: EUDA", synthetic=False)
    assert [t.get_text() for t in fig.texts] == ["Källa: EUDA"]


@pytest.mark.parametrize(
    ("unit", "value", "expected"),
    [
        ("andel", 0.234, f"23{NBSP}%"),
        ("index 0–6", 1.26, "1,3"),
        ("timmar", 412.0, "412 timmar"),
        ("mg/dag/1000 inv", 12.5, "12,5 mg/dag/1000 inv"),
    ],
)
def test_commitment_panel_formats_by_unit(followup, unit, value, expected):
    frame = followup.iloc[[0]].assign(unit=unit, latest_value=value)
    texts = [t.get_text() for t in commitment_panel(frame).texts]
    assert expected in texts


def test_commitment_panel_groups_areas_and_names_groups(followup):
    frame = followup.iloc[[0, 2, 1, 3]].assign(group_var="total", group="Hela kommunen")
    frame.loc[frame.index[0], ["group_var", "group"]] = ["stratum", "Tätorten"]
    texts = [t.get_text() for t in commitment_panel(frame).texts]
    assert texts.count("Synlighet") == 1 and texts.count("Trygghet") == 1
    assert "Ser polis till fots – Tätorten" in texts
    statuses = [t for t in texts if t in {"Förbättrad", "Oförändrad", "Försämrad"}]
    assert statuses == ["Förbättrad", "Oförändrad", "Försämrad"]  # register order kept


def test_wastewater_campaign_dates_without_loads(campaigns):
    dated = campaigns.assign(
        date_from=pd.to_datetime(["2022-04-06", "2023-10-04", "2022-04-06"]),
        date_to=pd.to_datetime(["2022-04-12", "2023-10-10", "2022-04-12"]),
    )
    ax = wastewater_chart(dated, substance="amfetamin")
    x = pd.to_datetime(_line(ax, "skattning").get_xdata())
    assert list(x) == [pd.Timestamp("2022-04-09"), pd.Timestamp("2023-10-07")]
    ax.figure.canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert ticks == ["2022", "2023"]  # long spans: years, ticked mid-year


# --------------------------------------------------------------------------- alt text


def test_alt_text_trend_states_key_numbers(estimates, changes):
    ax = trend_chart(
        estimates,
        indicator="otrygghet_ute_sent",
        changes=changes,
        breaks=_breaks("otrygg_ute_sent"),
        periods=[(2022, 2022, "Medborgarlöfte")],
        labels=LABELS,
    )
    text = plotting.alt_text(ax)
    assert text.startswith("Linjediagram: Otrygg ute sent, Hela kommunen, 2019–2023.")
    assert f"2023: 26{NBSP}% (95 % konfidensintervall 22{NBSP}%–30{NBSP}%)" in text
    assert "förändring från föregående år: 2020 (ökning)." in text
    assert "Seriebrott före 2021." in text
    assert "För få svar för att redovisa: 2021." in text
    assert "Medborgarlöfte (2022)" in text


@pytest.mark.parametrize(
    ("draw", "expected"),
    [
        (
            lambda d: group_chart(d["est"], indicator="otrygghet_ute_sent", year=2020),
            ["Hela kommunen 22", "Tätorten 27", "För få svar: Landsbygd."],
        ),
        (
            lambda d: problem_ranking(d["est"], year=2023, base_year=2020, labels=LABELS),
            [
                f"Nedskräpning 20{NBSP}% (2020: 28{NBSP}%)",
                f"Öppen narkotikahandel 9{NBSP}% (2020: för få svar)",
            ],
        ),
        (
            lambda d: wastewater_chart(d["camp"], substance="amfetamin", loads=d["loads"]),
            ["2022-1: 8,6", "2 dygn under kvantifieringsgränsen"],
        ),
        (lambda d: commitment_panel(d["fu"]), ["4 indikatorer", "Grannsamverkan: försämrad"]),
        (lambda d: response_rate_chart(d["rates"]), [f"Hela kommunen 2022: 68{NBSP}%"]),
    ],
)
def test_alt_text_other_charts(estimates, campaigns, loads, followup, rates, draw, expected):
    ax = draw({"est": estimates, "camp": campaigns, "loads": loads, "fu": followup, "rates": rates})
    text = plotting.alt_text(ax.figure)
    for part in expected:
        assert part in text


def test_alt_text_small_multiples_and_foreign_axes(estimates):
    axes = small_multiples(estimates, indicator="otrygghet_ute_sent", group_var="sex")
    text = plotting.alt_text(axes)
    assert "Kvinna, 2019–2023" in text and "Man, 2019–2023" in text
    _fig, other = plt.subplots()
    other.set_title("Eget diagram")
    assert plotting.alt_text(other) == "Eget diagram"


@pytest.mark.parametrize(
    ("period", "span"),
    [
        ((2021, 2021, "Löfte"), (2020.5, 2021.5)),
        ((2017, 2019, "Löfte"), (2018.5, 2019.5)),  # clipped to the data's first year
        ((2023, 2026, "Löfte"), (2022.5, 2023.5)),  # clipped to the data's last year
        ((2010, 2012, "Löfte"), None),  # outside the data: not drawn
    ],
)
def test_trend_period_clipped_to_data(estimates, period, span):
    ax = trend_chart(estimates, indicator="problemindex", periods=[period], labels=LABELS)
    rects = _gid(ax, "medborgarlofte")
    if span is None:
        assert rects == []
    else:
        (rect,) = rects
        assert (rect.get_x(), rect.get_x() + rect.get_width()) == pytest.approx(span)


def test_trend_axis_keeps_national_level_visible(estimates):
    # the kommun's CIs end below 40 %; a national level of 60 % must not be clipped
    national = pd.DataFrame({"year": [2021], "percent": [60], "source": "Brå"})
    ax = trend_chart(estimates, indicator="otrygghet_ute_sent", national=national, labels=LABELS)
    assert ax.get_ylim()[1] >= 0.60


def test_small_multiples_shared_axis_fits_every_panel(estimates):
    # panels share y; the highest CI of any group (Kvinna 2024: 0.38 + 0.04) must be inside
    axes = small_multiples(
        estimates, indicator="otrygghet_ute_sent", group_var="sex", labels=LABELS
    )
    top = estimates.query("indicator == 'otrygghet_ute_sent' and group_var == 'sex'")["ci_high"]
    for panel in axes:
        assert panel.get_ylim()[1] >= top.max()


# --------------------------------------------------------------------------- medicine caveat
@pytest.mark.parametrize(
    ("substance", "words"),
    [("amfetamin", "ADHD-läkemedel"), ("tramadol", "receptbelagt"), ("kokain", None)],
)
def test_medicine_caveat_on_every_wastewater_page(substance, words):
    from trygghet_analys.report import charts

    chart = charts.get_chart(f"avloppsvatten_{substance}")
    note = charts.medicine_note(substance)
    if words is None:
        assert note == "" and "läkemedel" not in chart.explanation
    else:
        assert words in note and note in chart.explanation


def test_medicine_caveat_on_commitment_pages(followup):
    from trygghet_analys.report import charts
    from trygghet_analys.report.underlag import medicine_notes, render_underlag_html

    with_amf = followup.assign(indicator=["amfetamin", *followup["indicator"].iloc[1:]])
    page = render_underlag_html(
        pd.DataFrame(columns=["focus_area", "rank", "sentence"]),
        with_amf.iloc[0:0],
        kommun="K",
        year=2025,
        synthetic=False,
    )
    assert "ADHD" not in page  # no substance on the page: no caveat
    notes = medicine_notes(pd.DataFrame({"indicator": ["amfetamin", "kokain", "tramadol"]}))
    assert [n.split()[0] for n in notes] == ["Amfetamin", "Tramadol"]
    ax = commitment_panel(with_amf)
    plotting.add_note(ax, charts.medicine_note("amfetamin"))
    assert "ADHD-läkemedel" in plotting.alt_text(ax)


def _tick_figure(reuse: bool, *, laid_out: bool = True) -> plt.Figure:
    with plotting.use_style():
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(7, 3))
        ax1.plot(pd.to_datetime(["2019-03-01", "2021-06-01", "2025-11-30"]), [0.1, 0.25, 0.2])
        plotting.format_percent_axis(ax1)
        ax2.plot([1, 2, 3], [1200.0, 34500.0, 2.0e6])
        ax2.minorticks_on()
        if laid_out:
            fig.tight_layout()
    return plotting.reuse_ticks(fig) if reuse else fig


def _saved(fig: plt.Figure) -> list[bytes]:
    import io

    from trygghet_analys.files import export

    out = []
    with export.deterministic():
        for fmt in ("png", "svg", "pdf", "png"):
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, metadata=export._METADATA[fmt])
            out.append(buf.getvalue())
    return out


def test_reused_ticks_give_the_same_files_as_ticks_placed_anew() -> None:
    plain, reused = _tick_figure(False), _tick_figure(True)
    assert _saved(reused) == _saved(plain)
    # the same after the Axes are moved keeping their size (as on a chart-book page)
    for fig in (plain, reused):
        fig.set_size_inches(8.27, 11.69)
        for ax in fig.get_axes():
            box = ax.get_position()
            ax.set_position((box.x0 * 7 / 8.27, 0.4, box.width * 7 / 8.27, box.height * 3 / 11.69))
    assert _saved(reused) == _saved(plain)
    plt.close(plain)
    plt.close(reused)


def _ticks(fig: plt.Figure) -> list[tuple[str, ...]]:
    fig.canvas.draw()
    return [
        tuple(f"{t.get_loc():g}:{t.label1.get_text()}" for t in axis._update_ticks())
        for ax in fig.get_axes()
        for axis in (ax.xaxis, ax.yaxis)
    ]


def test_ticks_are_placed_anew_when_what_they_depend_on_changes() -> None:
    """Each change: the reused ticks equal a figure's that never reuses, and differ from
    before the change (so a stale reuse would be caught)."""
    plain, reused = _tick_figure(False), _tick_figure(True)
    changes = [
        lambda f: f.get_axes()[1].set_ylim(0, 30000),  # a new view
        lambda f: f.set_size_inches(7, 1.2),  # a smaller Axes: fewer ticks fit
        lambda f: plotting.format_number_axis(f.get_axes()[1]),  # a new formatter
        lambda f: f.get_axes()[1].set_yscale("log"),  # a new scale
        lambda f: f.get_axes()[1].set_yscale("linear"),
        lambda f: f.get_axes()[1].yaxis.set_major_locator(MaxNLocator(2)),  # a new locator
    ]
    before = _ticks(reused)
    assert before == _ticks(plain)
    for change in changes:
        change(plain)
        change(reused)
        after = _ticks(reused)
        assert after == _ticks(plain)
        assert after != before, change
        before = after
    plt.close(plain)
    plt.close(reused)


def _panels() -> plt.Figure:
    with use_style():
        fig, axes = plt.subplots(2, 2, figsize=(7, 5))
        for i, ax in enumerate(axes.flat):
            ax.plot(YEARS, [0.1 * i + 0.01 * y for y in range(5)], label=f"Område {i}")
            ax.set_title(f"Panel {i}")
            ax.set_ylabel("Andel (procent)" if i % 2 == 0 else "")
            format_percent_axis(ax)
        axes[0, 0].legend(loc="upper left")
    return fig


def test_finish_figure_measures_each_axes_once_with_tight_layouts_result(monkeypatch):
    from matplotlib import artist as martist

    measured: list[object] = []
    measure = martist._get_tightbbox_for_layout_only

    def counting(obj, *args, **kwargs):
        if isinstance(obj, matplotlib.axes.Axes):
            measured.append(obj)
        return measure(obj, *args, **kwargs)

    monkeypatch.setattr(martist, "_get_tightbbox_for_layout_only", counting)
    # matplotlib's own tight_layout with the same rect: each Axes measured twice
    plain = _panels()
    height = plain.get_figheight()
    plain.tight_layout(rect=(0, min(0.25, 0.42 / height), 1, 1 - min(0.2, 0.34 / height)))
    assert len(measured) == 2 * 4
    measured.clear()
    fig = finish_figure(_panels(), source="Polisens trygghetsmätning", synthetic=True)
    assert len(measured) == 4 and len(set(map(id, measured))) == 4
    params = ("left", "right", "bottom", "top", "wspace", "hspace")
    assert [getattr(fig.subplotpars, p) for p in params] == [
        getattr(plain.subplotpars, p) for p in params
    ]
    assert [ax.get_position().bounds for ax in fig.axes] == [
        ax.get_position().bounds for ax in plain.axes
    ]
    from matplotlib import _tight_layout

    assert _tight_layout.martist is martist  # put back
    plt.close("all")


def test_finish_figure_places_each_axiss_ticks_once_with_the_same_layout_and_files(
    monkeypatch,
):
    """In its ``tight_layout`` an axis's ticks are placed once (matplotlib asks about five
    times per Axes); the layout, and every file drawn after it, are the same as with
    ticks placed at every ask, and no axis keeps the once-only placing."""
    from matplotlib.axis import Axis

    placed: list[object] = []
    place = Axis._update_ticks

    def counting(axis):
        placed.append(axis)
        return place(axis)

    monkeypatch.setattr(Axis, "_update_ticks", counting)
    # dates, percent, minor ticks: laid out by matplotlib's tight_layout
    plain = _tick_figure(False, laid_out=False)
    height = plain.get_figheight()
    placed.clear()
    plain.tight_layout(rect=(0, min(0.25, 0.42 / height), 1, 1 - min(0.2, 0.34 / height)))
    asked = len(placed)
    fig = _tick_figure(False, laid_out=False)
    placed.clear()
    finish_figure(fig, source="Polisens trygghetsmätning", synthetic=True)
    axes = [axis for ax in fig.get_axes() for axis in (ax.xaxis, ax.yaxis)]
    assert len(placed) == len(axes) < asked
    assert sorted(map(id, placed)) == sorted(map(id, axes))
    assert not any("_update_ticks" in vars(axis) for axis in axes)  # placing anew again
    assert not any("_get_ticklabel_bboxes" in vars(axis) for axis in axes)  # measuring too
    params = ("left", "right", "bottom", "top", "wspace", "hspace")
    assert [getattr(fig.subplotpars, p) for p in params] == [
        getattr(plain.subplotpars, p) for p in params
    ]
    # the same texts on both (the layout is done), then the same bytes in every format
    finish_figure(plain, source="Polisens trygghetsmätning", synthetic=True)
    assert _saved(fig) == _saved(plain)
    plt.close(fig)
    plt.close(plain)


def test_a_drawing_measures_each_axiss_tick_labels_once(monkeypatch) -> None:
    """matplotlib measures an axis's tick labels four to six times per drawing; a figure
    after ``reuse_ticks`` once, and still the same files after its labels are rotated
    (between drawings, where nothing is kept)."""
    from matplotlib.axis import Axis

    measured: list[object] = []
    measure = Axis._get_ticklabel_bboxes

    def counting(axis, *args):
        measured.append(axis)
        return measure(axis, *args)

    monkeypatch.setattr(Axis, "_get_ticklabel_bboxes", counting)
    plain, reused = _tick_figure(False), _tick_figure(True)
    plain.canvas.draw()
    asked = len(measured)
    measured.clear()
    reused.canvas.draw()
    axes = [axis for ax in reused.get_axes() for axis in (ax.xaxis, ax.yaxis)]
    assert sorted(map(id, measured)) == sorted(map(id, axes)) and len(measured) < asked
    for fig in (plain, reused):
        plt.setp(fig.get_axes()[0].get_xticklabels(), rotation=40, ha="right")
    assert _saved(reused) == _saved(plain)
    plt.close(plain)
    plt.close(reused)


def test_campaign_spans_are_each_campaigns_selected_days() -> None:
    days = pd.DataFrame(
        {
            "campaign": ["v1", "v1", "v1", "v2", None, "v2"],
            "plant": ["A", "A", "B", "A", "A", None],
            "date": pd.to_datetime(
                ["2024-03-04", "2024-03-01", "2024-03-09", "2025-03-02", "2025-03-05", "2025-03-09"]
            ),
        }
    )
    for by_plant in (True, False):
        spans = plotting._campaign_spans(days, by_plant)
        keys = ["campaign", "plant"] if by_plant else ["campaign"]
        for key in (("v1", "A"), ("v1", "B"), ("v2", "A"), ("v2", "B"), ("v3", "A")):
            chosen = days
            for column, value in zip(keys, key, strict=False):
                chosen = chosen[chosen[column] == value]
            found = spans.get(key if by_plant else key[0])
            expected = (chosen["date"].min(), chosen["date"].max()) if len(chosen) else None
            assert found == expected, (by_plant, key)


def _shared_tick_figure(share: bool) -> plt.Figure:
    with plotting.use_style():
        fig, ax = plt.subplots(figsize=(7, 3))
        if share:
            plotting.share_tick_markers(fig)
        ax.plot([1, 2, 3], [1200.0, 34500.0, 2.0e6])
        ax.minorticks_on()
        ax.tick_params(axis="x", direction="inout", length=6)
        ax.grid(True)
        fig.tight_layout()
    return fig


def test_ticks_sharing_their_first_ticks_markers_draw_the_same_files() -> None:
    plain, shared = _shared_tick_figure(False), _shared_tick_figure(True)
    assert _saved(shared) == _saved(plain)
    for fig_p, fig_s in ((plain, shared),):
        for axis_p, axis_s in zip(
            (fig_p.axes[0].xaxis, fig_p.axes[0].yaxis),
            (fig_s.axes[0].xaxis, fig_s.axes[0].yaxis),
            strict=True,
        ):
            ticks_p = axis_p.get_major_ticks() + axis_p.get_minor_ticks()
            ticks_s = axis_s.get_major_ticks() + axis_s.get_minor_ticks()
            assert len(ticks_s) == len(ticks_p) > 2
            for tp, ts in zip(ticks_p, ticks_s, strict=True):
                for name in ("tick1line", "tick2line", "gridline"):
                    mp, ms = getattr(tp, name)._marker, getattr(ts, name)._marker
                    assert ms.get_marker() == mp.get_marker()
                    assert ms.get_fillstyle() == mp.get_fillstyle()
                    assert np.array_equal(ms.get_path().vertices, mp.get_path().vertices)
                    assert ms.get_transform() == mp.get_transform()
    # a new tick's lines hold its first tick's markers, and the first tick keeps its own
    axis = shared.axes[0].yaxis
    first, later = axis.get_major_ticks()[0], axis.get_major_ticks()[-1]
    assert later.tick1line._marker is first.tick1line._marker
    assert first.tick1line._marker.get_marker() != ""
    plt.close(plain)
    plt.close(shared)


def _copied_tick_figure(copy: bool) -> plt.Figure:
    with plotting.use_style():
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8, 3))
        if copy:
            plotting.copy_new_ticks(fig)
            plotting.share_tick_markers(fig)
        ax1.plot([1, 2, 3], [1200.0, 34500.0, 2.0e6])
        ax1.minorticks_on()
        ax1.tick_params(axis="x", direction="inout", length=6, labelrotation=30)
        ax1.grid(True)
        plotting.format_number_axis(ax1)
        # as group_chart: labels set, one made bold, then more ticks asked for
        ax2.set_yticks(range(3), ["Totalt", "Kvinnor", "Män"])
        ax2.get_yticklabels()[0].set_fontweight("bold")
        ax2.tick_params(axis="y", length=0)
        ax2.set_yticks(range(5), ["Totalt", "Kvinnor", "Män", "16–29 år", "30–49 år"])
        ax2.set_xlim(0, 0.8)
        plotting.format_percent_axis(ax2, "x")
        fig.tight_layout()
    return fig


def _tick_state(artist: object) -> dict[str, object]:
    """What a tick or one of its artists holds, comparable across two figures: plain
    values as they are, fonts by their properties, arrays by their numbers, other
    objects by their type."""
    state = {}
    for key, value in vars(artist).items():
        if isinstance(value, (bool, int, float, str, tuple, type(None))):
            state[key] = value
        elif isinstance(value, matplotlib.font_manager.FontProperties):
            state[key] = hash(value)
        elif isinstance(value, (list, np.ndarray)):
            state[key] = np.asarray(value, dtype=object).tolist()
        else:
            state[key] = type(value)
    return state


def test_ticks_copied_from_the_first_tick_equal_ticks_made_anew() -> None:
    plain, copied = _copied_tick_figure(False), _copied_tick_figure(True)
    assert _saved(copied) == _saved(plain)
    for ax_p, ax_c in zip(plain.axes, copied.axes, strict=True):
        for axis_p, axis_c in ((ax_p.xaxis, ax_c.xaxis), (ax_p.yaxis, ax_c.yaxis)):
            for minor in (False, True):
                ticks_p = axis_p.get_minor_ticks() if minor else axis_p.get_major_ticks()
                ticks_c = axis_c.get_minor_ticks() if minor else axis_c.get_major_ticks()
                assert len(ticks_c) == len(ticks_p)
                for tp, tc in zip(ticks_p, ticks_c, strict=True):
                    assert type(tc) is type(tp)
                    # the markers are shared in ``copied`` only (share_tick_markers)
                    for name in ("", "label1", "label2"):
                        part_p = getattr(tp, name) if name else tp
                        part_c = getattr(tc, name) if name else tc
                        assert _tick_state(part_c) == _tick_state(part_p), (name, minor)
    # the later ticks are copies with parts of their own: changing one changes no other
    axis = copied.axes[1].yaxis
    first, later = axis.get_major_ticks()[0], axis.get_major_ticks()[-1]
    assert later is not first and later.label1 is not first.label1
    assert later.label1.get_fontproperties() is not first.label1.get_fontproperties()
    assert later.label1._callbacks is not first.label1._callbacks
    later.label1.set_fontsize(20)
    later.tick1line.set_markersize(11)
    assert first.label1.get_fontsize() != 20 and first.tick1line.get_markersize() != 11
    plt.close(plain)
    plt.close(copied)


def test_an_axis_without_ticks_makes_its_first_tick_itself() -> None:
    fig, ax = plt.subplots()
    plotting.copy_new_ticks(fig)
    made = [ax.xaxis._get_tick(major=True) for _ in range(2)]
    assert all(type(t).__name__ == "XTick" for t in made)
    assert made[0] is not made[1]
    first = ax.xaxis.majorTicks[0]  # the class attribute makes a first tick
    copied = ax.xaxis._get_tick(major=True)
    assert type(copied) is type(first) and copied.label1 is not first.label1
    plt.close(fig)


@pytest.mark.parametrize(("month", "day"), [(7, 1), (1, 1)])
def test_year_ticks_are_yearlocators_days(month: int, day: int) -> None:
    import matplotlib.dates as mdates

    rng = np.random.default_rng(7)
    starts = mdates.date2num(pd.Timestamp("1990-01-01")) + rng.uniform(0, 40 * 365, 200)
    spans = rng.uniform(1, 30 * 365, 200)
    ours, theirs = (
        plotting._YearTicks(month=month, day=day),
        mdates.YearLocator(month=month, day=day),
    )
    # whole days (no fraction of a second) and views within one year as well
    starts = np.concatenate([starts, np.floor(starts[:50]), np.floor(starts[:20])])
    spans = np.concatenate([spans, np.floor(spans[:50]), rng.uniform(0.5, 200, 20)])
    for lo, span in zip(starts, spans, strict=True):
        vmin, vmax = mdates.num2date(lo), mdates.num2date(lo + span)
        assert np.array_equal(ours.tick_values(vmin, vmax), theirs.tick_values(vmin, vmax))
    # in a drawn chart too
    with plotting.use_style():
        fig, ax = plt.subplots()
        ax.plot(pd.to_datetime(["2016-05-03", "2025-10-20"]), [1.0, 2.0])
        ax.xaxis.set_major_locator(ours)
        fig.canvas.draw()
        mine = ax.get_xticks()
        ax.xaxis.set_major_locator(theirs)
        fig.canvas.draw()
        assert np.array_equal(mine, ax.get_xticks())
    plt.close(fig)


def _titled_figure(light: bool) -> plt.Figure:
    """Titles over a y axis with an offset text ("1e6", which the left title must clear),
    a twin, an Axes without axes and sibling y labels, laid out and ready to draw."""
    with plotting.use_style():
        fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(9, 3))
        ax1.plot([1, 2, 3], [1.2e6, 3.45e6, 2.0e6])
        ax1.set_title("Vänster", loc="left")
        ax1.set_title("Mitten")
        ax1.set_ylabel("Antal")
        twin = ax1.twinx()
        twin.plot([1, 2, 3], [0.1, 0.3, 0.2])
        twin.set_ylabel("Andel")
        ax2.plot([1, 2, 3], [1, 5, 2])
        ax2.set_title("Utan förskjutning", loc="left")
        ax2.set_ylabel("Värde")
        ax3.plot([1, 2, 3], [4, 5, 6])
        ax3.set_title("Utan axlar")
        ax3.set_ylabel("Dold")
        ax3.set_axis_off()
        fig.align_ylabels([ax1, ax2])
        if light:
            plotting.place_titles_lightly(fig)
        fig.tight_layout()
    return plotting.reuse_ticks(fig) if light else fig


def _title_places(fig: plt.Figure, dpi: float, fmt: str) -> list[tuple]:
    """Where the titles, axis labels and offset texts are after one drawing."""
    import io

    fig.savefig(io.BytesIO(), format=fmt, dpi=dpi)
    return [
        (
            tuple(t.get_position() for t in (ax.title, ax._left_title, ax._right_title)),
            ax.yaxis.label.get_position(),
            ax.yaxis.offsetText.get_position(),
            ax.yaxis.offsetText.get_text(),
        )
        for ax in fig.get_axes()
    ]


def test_titles_placed_lightly_give_the_same_layout_places_and_files() -> None:
    plain, light = _titled_figure(False), _titled_figure(True)
    params = ("left", "right", "bottom", "top", "wspace", "hspace")
    assert [getattr(light.subplotpars, p) for p in params] == [
        getattr(plain.subplotpars, p) for p in params
    ]
    assert _saved(light) == _saved(plain)
    # at another dpi and for every renderer kind, the places are matplotlib's own
    for dpi, fmt in ((150, "png"), (72, "svg"), (72, "pdf"), (60, "png")):
        assert _title_places(light, dpi, fmt) == _title_places(plain, dpi, fmt)
    # the offset text is shown: the left title was moved above it, on both
    ax1 = light.get_axes()[0]
    assert ax1.yaxis.offsetText.get_text() and ax1._left_title.get_position()[1] > 1.0
    plt.close(plain)
    plt.close(light)


def test_titles_placed_lightly_follow_changes_of_the_figure() -> None:
    """Each change moves a title or an axis label; the light figure's places and files
    equal those of a figure drawn by matplotlib alone, and differ from before."""
    plain, light = _titled_figure(False), _titled_figure(True)
    changes = [
        lambda f: f.get_axes()[0].set_ylim(0, 4),  # the offset text goes: the title drops
        lambda f: f.get_axes()[0].set_ylim(0, 4.0e6),  # and comes back
        lambda f: f.get_axes()[1].tick_params(axis="y", labelsize=14),  # aligned labels move
        lambda f: f.get_axes()[1].set_ylim(0, 123456.0),  # wider tick labels
        lambda f: f.set_size_inches(6, 2.5),
    ]
    _assert_follows_changes(plain, light, changes, _title_places)


def _assert_follows_changes(
    plain: plt.Figure, changed: plt.Figure, changes: list, places: Callable
) -> None:
    """After each change, applied to both figures, ``changed`` is placed (``places`` at
    100 dpi, png) and saved as ``plain`` is, and the change moved something."""
    before = places(changed, 100, "png")
    for change in changes:
        change(plain)
        change(changed)
        after = places(changed, 100, "png")
        assert after == places(plain, 100, "png")
        assert after != before, change
        assert _saved(changed) == _saved(plain)
        before = after
    plt.close(plain)
    plt.close(changed)


def _calls_on(monkeypatch, cls: type, name: str) -> list[object]:
    """The objects whose ``cls.name(self, renderer)`` is called, in call order (the
    method still does its work)."""
    calls: list[object] = []
    method = getattr(cls, name)

    def counting(obj, renderer):
        calls.append(obj)
        return method(obj, renderer)

    monkeypatch.setattr(cls, name, counting)
    return calls


def test_titles_placed_lightly_skip_the_y_axis_measurement(monkeypatch) -> None:
    """Placing a title measures a y axis whole only when its offset text is shown."""
    from matplotlib.axis import YAxis

    placed = _calls_on(monkeypatch, YAxis, "_update_label_position")
    counts = []
    for light in (False, True):
        fig = _titled_figure(light)
        fig.canvas.draw()
        placed.clear()
        fig.canvas.draw()
        counts.append([sum(p is ax.yaxis for p in placed) for ax in fig.get_axes()])
        plt.close(fig)
    (ax1, ax2, ax3, twin), (light1, light2, light3, light_twin) = counts
    assert light2 < ax2  # no offset text: the title placing does not measure it
    assert light_twin < twin  # nor the twin's (placing the first Axes' titles)
    assert light1 == ax1  # offset text shown: measured as by matplotlib
    assert light3 == ax3  # an axis not drawn afterwards (no axes): as by matplotlib


def _legend_figure(once: bool) -> plt.Figure:
    """Two legends of several rows (one with a title, one over two columns)."""
    with plotting.use_style():
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8, 3))
        for i in range(4):
            ax1.plot([1, 2, 3], [i, i + 1, i * 2], label=f"Område {i}" + "\nandra rad" * (i == 2))
            ax2.bar([i], [i + 1], label=f"Grupp {i}")
        ax1.legend(title="Områden", loc="best")
        ax2.legend(ncols=2, loc="upper left")
        fig.tight_layout()
    return plotting.pack_legends_once(fig) if once else fig


def _legend_places(fig: plt.Figure, dpi: float, fmt: str) -> list[tuple]:
    import io

    fig.savefig(io.BytesIO(), format=fmt, dpi=dpi)
    return [
        (
            ax.get_legend().legendPatch.get_bbox().bounds,
            [tuple(t.get_transform().get_matrix().ravel()) for t in ax.get_legend().get_texts()],
        )
        for ax in fig.get_axes()
    ]


def test_legends_packed_once_give_the_same_files_and_follow_changes() -> None:
    """The same bytes in every format and the same legend places at other dpis; after
    each change (which moves or resizes a legend) the same as matplotlib's again."""
    plain, once = _legend_figure(False), _legend_figure(True)
    assert _saved(once) == _saved(plain)
    for dpi, fmt in ((150, "png"), (72, "svg"), (72, "pdf"), (60, "png")):
        assert _legend_places(once, dpi, fmt) == _legend_places(plain, dpi, fmt)
    changes = [
        lambda f: f.get_axes()[0].get_legend().get_texts()[0].set_text("Ett mycket längre namn"),
        lambda f: f.get_axes()[0].get_legend().set_title("Andra områden\npå två rader"),
        lambda f: f.get_axes()[1].get_legend().get_texts()[1].set_fontsize(16),
        lambda f: f.set_size_inches(6, 2.5),
    ]
    _assert_follows_changes(plain, once, changes, _legend_places)


def test_a_legend_drawing_measures_each_text_once(monkeypatch) -> None:
    """matplotlib measures a legend row's text several times per drawing; a legend
    after ``pack_legends_once`` once per drawing, and anew in the next drawing."""
    from matplotlib.offsetbox import TextArea

    measured = _calls_on(monkeypatch, TextArea, "get_bbox")
    counts = []
    for once in (False, True):
        fig = _legend_figure(once)
        texts = [t for ax in fig.get_axes() for t in ax.get_legend()._legend_box.findobj(TextArea)]
        counts.append([])
        for _ in range(2):
            measured.clear()
            fig.canvas.draw()
            counts[-1].append(sorted(sum(m is t for m in measured) for t in texts))
        plt.close(fig)
    plain, once = counts
    assert all(n > 1 for n in plain[0] if n) and plain[0] == plain[1]
    assert once[0] == once[1] == [1 if n else 0 for n in plain[0]]
    # outside a drawing (a layout, the chart facts) every ask measures
    fig = _legend_figure(True)
    legend = fig.get_axes()[0].get_legend()
    measured.clear()
    legend.get_window_extent(fig.canvas.get_renderer())
    legend.get_window_extent(fig.canvas.get_renderer())
    assert len(measured) == 2 * len(legend._legend_box.findobj(TextArea))
    plt.close(fig)


def test_campaign_bars_are_the_artists_hlines_draws():
    """The campaign bars made directly equal one ``ax.hlines`` per campaign: same
    segments, colour, width and data limits (the SVG and PDF keep one group per bar)."""
    start = [pd.Timestamp("2024-03-01"), pd.NaT, pd.Timestamp("2025-03-03")]
    end = [pd.Timestamp("2024-03-08"), pd.NaT, pd.Timestamp("2025-03-10 12:00")]
    means = np.array([1.5, 2.0, 3.25])
    fig, (old, new) = plt.subplots(1, 2)
    for ax in (old, new):
        ax.plot([pd.Timestamp("2024-01-01")], [0.5])
    for s, e, m in zip(start, end, means, strict=True):
        if not pd.isna(s):
            old.hlines(m, s, e, color=plotting.PALETTE[0], lw=2.5)
    plotting._campaign_bars(new, start, end, means)
    for a, b in zip(old.collections, new.collections, strict=True):
        assert [p.vertices.tolist() for p in a.get_paths()] == [
            p.vertices.tolist() for p in b.get_paths()
        ]
        assert a.get_edgecolor().tolist() == b.get_edgecolor().tolist()
        assert a.get_linewidth().tolist() == b.get_linewidth().tolist()
        assert a.get_label() == b.get_label()
    assert len(old.collections) == len(new.collections) == 2
    assert old.dataLim.bounds == new.dataLim.bounds
    assert old.get_xlim() == new.get_xlim() and old.get_ylim() == new.get_ylim()


def test_campaign_spans_match_a_grouping():
    """First and last day per campaign (and plant) as a pandas grouping with dropna
    gives them: days without a campaign or plant belong to none."""
    day = pd.DataFrame(
        {
            "campaign": pd.array(["v24", "v24", "h24", None, "v24"], dtype="string"),
            "plant": pd.array(["A", "A", "A", "A", None], dtype="string"),
            "date": pd.to_datetime(
                ["2024-03-05", "2024-03-01", "2024-10-02", "2024-05-05", "2024-02-01"]
            ),
        }
    )
    for by_plant in (False, True):
        keys = ["campaign", "plant"] if by_plant else ["campaign"]
        grouped = day.groupby(keys, observed=True, sort=False, dropna=True)["date"]
        first, last = grouped.min(), grouped.max()
        names = first.index if by_plant else first.index.get_level_values(0)
        want = dict(zip(names, zip(first, last, strict=True), strict=True))
        assert plotting._campaign_spans(day, by_plant) == want


def _series_the_long_way(
    estimates: pd.DataFrame, indicator: str, group_var: str, group: str
) -> pd.DataFrame:
    """``plotting._series`` as it was before it was built from arrays: the rows selected
    by comparing every group as text, the series made from them by pandas
    (``_series_by_pandas``, the old code, which repeated years still take)."""
    rows = estimates[
        (estimates["indicator"] == indicator)
        & (estimates["group_var"] == group_var)
        & (estimates["group"].astype("string") == str(group))
    ]
    if rows.empty:
        raise ValueError(f"no estimates of indicator {indicator!r}, {group_var}={group!r}")
    return plotting._series_by_pandas(rows)


def _assert_same_series(found: pd.DataFrame, expected: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        found, expected, check_exact=True, check_index_type=True, check_column_type=True
    )
    assert found.index.name == expected.index.name == "year"
    assert list(found.dtypes) == list(expected.dtypes)


def test_series_equal_the_long_way_on_the_built_data(built_data_dir) -> None:
    from trygghet_analys.report import charts

    tables = charts.load_tables(built_data_dir)
    estimates = tables.estimates
    assert isinstance(estimates["group"].dtype, pd.CategoricalDtype)
    keys = estimates[["indicator", "group_var", "group"]].drop_duplicates()
    assert len(keys) > 50
    for year in (tables.years[0], tables.years[-1]):
        upto = charts._upto(estimates, year)
        for indicator, group_var, group in (
            upto[["indicator", "group_var", "group"]].drop_duplicates().itertuples(index=False)
        ):
            found = plotting._series(upto, indicator, group_var, group)
            _assert_same_series(found, _series_the_long_way(upto, indicator, group_var, group))


def _edge_estimates(group_dtype: str, suppressed: object) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "year": [2024, 2019, 2021, 2024, 2020, 2022, 2020],
            "indicator": ["a", "a", "a", "a", "b", "a", "a"],
            "group_var": ["total", "total", "total", "sex", "total", "total", "sex"],
            "group": ["Hela", "Hela", "Hela", "Kvinna", "Hela", None, "Kvinna"],
            "estimate": [0.3, 0.1, np.nan, 0.5, 0.2, 0.4, 0.45],
            "ci_low": [0.2, 0.05, np.nan, 0.4, 0.1, 0.3, 0.35],
            "ci_high": [0.4, 0.15, np.nan, 0.6, 0.3, 0.5, 0.55],
        }
    )
    if group_dtype == "category":
        frame["group"] = pd.Categorical(frame["group"], categories=["Kvinna", "Hela", "Tom"])
    elif group_dtype == "int_category":
        frame["group"] = pd.Categorical([1, 1, 1, 2, 1, None, 2])
    else:
        frame["group"] = frame["group"].astype(group_dtype)
    if suppressed == "none":
        return frame
    frame["suppressed"] = pd.array(
        [False, suppressed, True, False, False, False, False],
        dtype=object if suppressed is None else "boolean",
    )
    return frame


@pytest.mark.parametrize("group_dtype", ["category", "object", "string", "int_category"])
@pytest.mark.parametrize("suppressed", [False, True, None, "none"])
def test_series_equal_the_long_way_at_the_edges(group_dtype: str, suppressed: object) -> None:
    """Unsorted years with gaps, equally spaced years, one year, a missing group, NA and
    missing suppression."""
    est = _edge_estimates(group_dtype, suppressed)
    # pandas writes an integer category with a missing value as "1.0"
    group, other = ("1.0", "2.0") if group_dtype == "int_category" else ("Hela", "Kvinna")
    for key in (("a", "total", group), ("b", "total", group), ("a", "sex", other)):
        _assert_same_series(plotting._series(est, *key), _series_the_long_way(est, *key))
    # a category nobody has, and an empty table, raise as before
    for frame in (est, est.iloc[0:0]):
        with pytest.raises(ValueError, match="no estimates"):
            plotting._series(frame, "a", "total", "Tom")
    # a repeated year: the pandas way, which reindex refuses
    twice = pd.concat([est, est.iloc[[0]]], ignore_index=True)
    with pytest.raises(ValueError, match="duplicate"):
        plotting._series(twice, "a", "total", group)


def _marked_the_long_way(
    changes: pd.DataFrame, kommun: str | None, indicator: str, group_var: str, group: str
) -> pd.DataFrame:
    """The changes ``_draw_trend`` marked before ``plotting._marked_rows``."""
    sig = plotting._same_kommun(changes, kommun)
    return sig[
        (sig["indicator"] == indicator)
        & (sig["group_var"] == group_var)
        & (sig["group"].astype("string") == str(group))
        & (sig["comparison"] == "föregående år")
        & sig["significant"].astype("boolean").fillna(False)
    ]


def test_marked_rows_equal_the_long_way_on_the_built_data(built_data_dir) -> None:
    from trygghet_analys.report import charts

    tables = charts.load_tables(built_data_dir)
    changes = charts._marked_changes(tables, tables.years[-1])
    assert changes["significant"].any()
    kommun = tables.kommun.name
    keys = changes[["indicator", "group_var", "group"]].drop_duplicates()
    marked = 0
    for indicator, group_var, group in keys.itertuples(index=False):
        for who in (kommun, None, "Annan kommun"):
            found = plotting._marked_rows(changes, who, indicator, group_var, group)
            expected = _marked_the_long_way(changes, who, indicator, group_var, group)
            pd.testing.assert_frame_equal(found, expected, check_exact=True)
            marked += len(found)
    assert marked > 0


@pytest.mark.parametrize("significant", ["bool", "boolean", "object"])
@pytest.mark.parametrize("group_dtype", ["str", "object", "category"])
def test_marked_rows_equal_the_long_way_at_the_edges(significant: str, group_dtype: str) -> None:
    """Another kommun, another comparison, missing values and other column types."""
    changes = pd.DataFrame(
        {
            "kommun": ["A", "A", "B", "A", None, "A"],
            "indicator": ["x", "x", "x", "x", "x", None],
            "group_var": ["total"] * 6,
            "group": ["Hela", "Hela", "Hela", None, "Hela", "Hela"],
            "comparison": ["föregående år", "basår", "föregående år"] + ["föregående år"] * 3,
            "year_to": [2024, 2024, 2024, 2023, 2022, 2021],
            "estimate_to": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
            "significant": [True, True, True, True, True, True],
        }
    )
    changes["group"] = changes["group"].astype(group_dtype)
    if significant == "boolean":
        changes["significant"] = pd.array([True, True, None, True, True, False], dtype="boolean")
    elif significant == "object":
        changes["significant"] = pd.Series([True, None, True, True, True, False], dtype=object)
    for kommun in ("A", "B", None):
        for group in ("Hela", "Kvinna"):
            found = plotting._marked_rows(changes, kommun, "x", "total", group)
            expected = _marked_the_long_way(changes, kommun, "x", "total", group)
            pd.testing.assert_frame_equal(found, expected, check_exact=True)
    assert len(plotting._marked_rows(changes, "A", "x", "total", "Hela")) == 1
    # without a kommun column every row counts
    alone = changes.drop(columns="kommun")
    pd.testing.assert_frame_equal(
        plotting._marked_rows(alone, "A", "x", "total", "Hela"),
        _marked_the_long_way(alone, "A", "x", "total", "Hela"),
    )


@pytest.mark.parametrize("group_dtype", ["category", "object", "str"])
def test_first_row_of_a_group_is_the_long_ways_row(group_dtype: str) -> None:
    """As ``group_chart`` took each group's row: repeated and missing groups, mixed
    column types (the row is a Series of objects)."""
    rows = pd.DataFrame(
        {
            "group_var": ["sex", "sex", "sex", "sex"],
            "group": ["Man", None, "Kvinna", "Man"],
            "estimate": [0.2, 0.3, np.nan, 0.4],
            "n": [10, 20, 30, 40],
            "suppressed": [False, False, True, False],
        },
        index=[7, 3, 5, 1],
    )
    if group_dtype == "category":
        rows["group"] = pd.Categorical(rows["group"], categories=["Kvinna", "Man", "Annat"])
    else:
        rows["group"] = rows["group"].astype(group_dtype)
    for group in ("Man", "Kvinna"):
        expected = rows[rows["group"].astype("string") == group].iloc[0]
        pd.testing.assert_series_equal(plotting._first_row(rows, group), expected)
    with pytest.raises(IndexError):
        plotting._first_row(rows, "Annat")


def test_group_chart_rows_equal_the_long_way_on_the_built_data(built_data_dir) -> None:
    from trygghet_analys.report import charts

    tables = charts.load_tables(built_data_dir)
    est = tables.estimates
    rows = est[(est["indicator"] == "otrygghet_ute_sent") & (est["year"] == tables.years[-1])]
    for gv in ("stratum", "sex", "age_group"):
        part = rows[rows["group_var"] == gv]
        groups = plotting._groups_in_order(part)
        assert groups
        for group in groups:
            expected = part[part["group"].astype("string") == group].iloc[0]
            pd.testing.assert_series_equal(plotting._first_row(part, group), expected)
