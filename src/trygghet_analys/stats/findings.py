"""One findings table: every comparison the report, follow-up, underlag and draft speak of.

Pure: DataFrames in, one DataFrame out. Each row is one comparison of one indicator in
one domain, with its test, its Benjamini–Hochberg q-value over every test of the same
kommun and report year, a direction word against the indicator's desired direction and
the one Swedish sentence every output uses. Nothing downstream recomputes a test.

The comparison policy (written once for analysts in ``docs/statistik.md``):

- ``föregående år``: the report year against the previous survey year;
- ``basår``: the report year against the base year (the year before the current
  commitment period);
- ``trend``: Mann–Kendall/Theil–Sen over the current commitment period (base year to
  report year) and, separately labelled, since the series began (its latest unbroken
  segment);
- ``effekt``: difference-in-differences estimates for place-based commitments.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np
import pandas as pd

from .._lazy import lazy
from ..formatting import (
    fmt_number,
    fmt_signed_points,
    fmt_value,
    points_unit,
    value_pair,
    where_phrase,
)
from ..vocabulary import Comparison, Source, substance_name
from ._dist import bh_adjust, norm_ppf
from ._values import row_tuples
from .estimation import TOTAL_GROUP
from .trends import _segments, _usable, mann_kendall

# scipy.stats on first use: a report imports this module but computes nothing with it
stats = lazy("scipy.stats")

__all__ = [
    "ALPHA",
    "COMPARISONS",
    "DIRECTIONS",
    "FINDINGS_COLUMNS",
    "SOURCES",
    "activity_findings",
    "adjust_q_values",
    "build_findings",
    "build_findings_of",
    "chance_text",
    "claims_significance",
    "direction_word",
    "effect_findings",
    "policy_text",
    "survey_findings",
    "wastewater_findings",
]

#: Level of the false discovery rate: ``significant`` is ``q_value < ALPHA``.
ALPHA = 0.05
SOURCES = tuple(s.value for s in Source)
COMPARISONS = tuple(c.value for c in Comparison)
DIRECTIONS = ("bättre", "sämre", "oförändrad")
FINDINGS_COLUMNS = [
    "kommun",
    "year",
    "source",
    "indicator",
    "group_var",
    "group",
    "comparison",
    "from_year",
    "to_year",
    "value_from",
    "value_to",
    "change",
    "ci_low",
    "ci_high",
    "p_value",
    "q_value",
    "significant",
    "direction",
    "reliable",
    "sentence",
]
#: Domains the findings cover: the whole kommun and each area (what the report, the
#: underlag and the follow-up speak of). More domains would only dilute the tests.
GROUP_VARS = ("total", "stratum")
#: Fewest yearly estimates for a trend since the series began (as ``trend_tests``).
MIN_TREND_YEARS = 5
#: Fewest years for a trend over the commitment period (with 3 points Mann–Kendall can
#: never reach p < 0.05; with 4 it cannot either, but the row says so honestly).
MIN_PERIOD_YEARS = 4

#: Sentence subjects per survey indicator ("Andelen som ..."), for plain Swedish.
SUBJECTS = {
    "otrygghet_ute_sent": "Andelen som känner sig otrygga ute sent en kväll",
    "avstatt_aktivitet": "Andelen som avstått från en aktivitet av oro för brott",
    "oro_bostadsinbrott": "Andelen som oroar sig för bostadsinbrott",
    "oro_vald": "Andelen som oroar sig för att utsättas för våld",
    "utsatt_brott": "Andelen som utsatts för brott de senaste tolv månaderna",
    "problem_nedskrapning": "Andelen som ser nedskräpning som ett stort problem",
    "problem_skadegorelse": "Andelen som ser skadegörelse som ett stort problem",
    "problem_klotter": "Andelen som ser klotter som ett stort problem",
    "problem_vardslos_biltrafik": "Andelen som ser vårdslös biltrafik som ett stort problem",
    "problem_buskorning": "Andelen som ser buskörning med moped eller MC som ett stort problem",
    "problem_ungdomsgang": "Andelen som ser störande ungdomsgäng som ett stort problem",
    "problem_berusade": "Andelen som ser berusade personer som ett stort problem",
    "problem_narkotikapaverkade": "Andelen som ser narkotikapåverkade personer som ett stort problem",
    "problem_narkotikahandel": "Andelen som ser öppen narkotikahandel som ett stort problem",
    "problem_bostadsinbrott": "Andelen som ser bostadsinbrott som ett stort problem",
    "problem_cykelstolder": "Andelen som ser cykelstölder som ett stort problem",
    "problemindex": "Problemindex",
    "fortroende_polisen": "Andelen med stort förtroende för polisen i sitt område",
    "ser_polis_fots": "Andelen som ser polis till fots i sitt område varje månad eller oftare",
    "grannsamverkan": "Andelen som bor i ett område med Grannsamverkan",
}


# --------------------------------------------------------------------------- rules
def direction_word(change: float, significant: bool, *, higher_is_worse: bool) -> str:
    """``bättre``, ``sämre`` or ``oförändrad`` for one comparison.

    A comparison moves only when it is significant (q < 0.05) and its change is not
    zero; then it is ``bättre`` when it moved in the indicator's desired direction.

    Examples
    --------
    >>> direction_word(-0.05, True, higher_is_worse=True)
    'bättre'
    >>> direction_word(-0.05, False, higher_is_worse=True)
    'oförändrad'
    """
    if not significant or change is None or pd.isna(change) or change == 0:
        return "oförändrad"
    return "sämre" if (change > 0) == higher_is_worse else "bättre"


def adjust_q_values(findings: pd.DataFrame) -> pd.DataFrame:
    """Benjamini–Hochberg q-values over every test of one kommun and report year.

    Parameters
    ----------
    findings
        Rows with ``kommun, year, p_value`` (NaN: no test, e.g. an activity count).

    Returns
    -------
    DataFrame
        A copy with ``q_value`` (NaN where ``p_value`` is NaN) and ``significant``
        (``q_value < ALPHA``; False without a test).

    Notes
    -----
    ``scipy.stats.false_discovery_control(p, method="bh")`` within each
    ``(kommun, year)`` (Benjamini & Hochberg 1995): :math:`q_{(i)} = \\min_{j \\ge i}
    \\min(1, m\\,p_{(j)}/j)` over the *m* tests of that kommun and year.
    """
    out = findings.copy()
    q = np.full(len(out), np.nan)
    p = out["p_value"].to_numpy(dtype=float)
    for _, idx in out.groupby(["kommun", "year"], sort=False).indices.items():
        idx = np.asarray(idx)
        tested = idx[~np.isnan(p[idx])]
        if len(tested):
            q[tested] = bh_adjust(p[tested])
    out["q_value"] = q
    out["significant"] = np.where(np.isnan(q), False, q < ALPHA).astype(bool)
    return out


def claims_significance(text: str) -> bool:
    """True when a Swedish text claims a finding "statistiskt säkerställd".

    Negations ("inte statistiskt säkerställd", "ingen statistiskt säkerställd") are not
    claims.

    Examples
    --------
    >>> claims_significance("en statistiskt säkerställd ökning")
    True
    >>> claims_significance("skillnaden är inte statistiskt säkerställd")
    False
    """
    import re

    return bool(re.search(r"(?<![Ii]nte )(?<![Ii]ngen )statistiskt säkerställ[dt]", text))


def policy_text(base_year: int | None) -> str:
    """The comparison policy in one Swedish paragraph, for every page that uses it."""
    base = (
        f"basåret {base_year} (året före den nuvarande löftesperioden)"
        if base_year is not None
        else "basåret (året före den nuvarande löftesperioden)"
    )
    return (
        f"Jämförelserna är alltid desamma: rapportåret mot föregående mätning, mot {base}, "
        "trenden under löftesperioden och, för sig, trenden sedan mätningarna började. "
        "En jämförelse kallas statistiskt säkerställd när dess q-värde är under 0,05, det "
        "vill säga efter justering för att många jämförelser görs samtidigt "
        "(Benjamini–Hochberg)."
    )


def chance_text(findings: pd.DataFrame, *, year: int) -> str:
    """How many comparisons were tested in ``year`` and how many chance alone would give."""
    f = findings[(findings["year"] == year) & findings["p_value"].notna()]
    n = len(f)
    sig = int(f["significant"].sum())
    by_chance = fmt_number(ALPHA * n, 0)
    return (
        f"{n} jämförelser testades för {year}. Utan justering skulle omkring {by_chance} av "
        f"dem se ut som säkerställda förändringar av ren slump även om ingenting hänt; "
        f"efter justeringen är {sig} statistiskt säkerställda."
    )


# --------------------------------------------------------------------------- formatting
def _amount(change: float, kind: str) -> str:
    """A signed change in the indicator's unit ("+6 procentenheter", "−0,12 enheter")."""
    sign = "+" if change > 0 else ""
    if kind == "proportion":
        digits = 0 if round(abs(100 * change)) >= 1 else 1
        text = fmt_number(100 * change, digits)
        return f"{sign}{text} {points_unit(text)}"
    if kind == "mean":
        return f"{sign}{fmt_number(change, 2)} enheter"
    return f"{sign}{fmt_number(change, 0)}"


def _per_year(slope: float, kind: str) -> str:
    """A Theil–Sen slope in the indicator's unit per year, with enough decimals."""
    sign = "+" if slope > 0 else ""
    if kind == "proportion":
        return f"{sign}{fmt_number(100 * slope, 1)} procentenheter per år"
    return f"{sign}{fmt_number(slope, 3)} enheter per år"


def _interval(lo: float, hi: float, kind: str) -> str:
    if kind == "proportion":
        return f"{fmt_number(100 * lo, 1)} till {fmt_number(100 * hi, 1)} procentenheter"
    return f"{fmt_number(lo, 2)} till {fmt_number(hi, 2)} enheter"


def _verdict(direction: str) -> str:
    return {"bättre": "en förbättring", "sämre": "en försämring"}.get(direction, "")


# --------------------------------------------------------------------------- survey
def _indicator_info(indicators: pd.DataFrame) -> dict[str, dict]:
    return indicators.set_index("id")[["label", "kind", "direction"]].to_dict("index")


def _change_rows(changes: pd.DataFrame, base_year: int | None) -> pd.DataFrame:
    c = changes[changes["group_var"].isin(GROUP_VARS)]
    prev = c["comparison"] == Comparison.PREVIOUS_YEAR
    base = (c["comparison"] == Comparison.BASE_YEAR) & (c["year_from"] == base_year)
    c = c[prev | (base & (c["year_to"] > c["year_from"]))]
    # the base year may be the previous year too: one pair is one test, kept once
    pair = c["kommun"].astype(str) + c["indicator"] + c["group_var"] + c["group"].astype(str)
    pair = pair + c["year_from"].astype(str) + "-" + c["year_to"].astype(str)
    c = c[~(pair.duplicated(keep="first") & (c["comparison"] == Comparison.BASE_YEAR))]
    half = float(norm_ppf(0.975)) * c["se_change"]
    return _survey_rows(
        c,
        year=c["year_to"],
        comparison=c["comparison"].astype(str),
        years=(c["year_from"], c["year_to"]),
        values=(c["estimate_from"], c["estimate_to"]),
        change=c["change"],
        ci=(c["change"] - half, c["change"] + half),
        p_value=c["p_value"],
    )


def _survey_rows(
    d: pd.DataFrame,
    *,
    year: pd.Series,
    comparison: pd.Series | str,
    years: tuple[pd.Series, pd.Series],
    values: tuple[pd.Series, pd.Series],
    change: pd.Series,
    ci: tuple[pd.Series, pd.Series],
    p_value: pd.Series,
) -> pd.DataFrame:
    """Survey findings (the first 15 columns) of the series in ``d``."""
    return pd.DataFrame(
        {
            "kommun": d["kommun"].astype(str),
            "year": year.astype("int64"),
            "source": Source.SURVEY,
            "indicator": d["indicator"].astype(str),
            "group_var": d["group_var"].astype(str),
            "group": d["group"].astype(str),
            "comparison": comparison,
            "from_year": years[0].astype("int64"),
            "to_year": years[1].astype("int64"),
            "value_from": values[0].astype(float),
            "value_to": values[1].astype(float),
            "change": change.astype(float),
            "ci_low": ci[0].astype(float),
            "ci_high": ci[1].astype(float),
            "p_value": p_value.astype(float),
        }
    )


def _trend_rows(est: pd.DataFrame, *, years: Sequence[int], base_year: int | None) -> pd.DataFrame:
    """Mann–Kendall/Theil–Sen over the commitment period and since the series began,
    for every report year, within the latest unbroken segment up to that year.

    Every window of every report year is one series of a single Mann–Kendall and Theil–Sen
    computation (the window's number is part of the series key), not a call per year.
    """
    keys = ["kommun", "indicator", "group_var", "group"]
    windows, window_year = [], []
    for y in years:
        upto = est[est["year"] <= y]
        if upto.empty:
            continue
        last_seg = upto.groupby(keys, sort=False)["_seg"].transform("max")
        upto = upto[upto["_seg"] == last_seg]
        has_y = upto.groupby(keys, sort=False)["year"].transform("max") == y
        upto = upto[has_y]
        chosen = []
        if base_year is not None and y > base_year:
            period = upto[upto["year"] >= base_year]
            starts = period.groupby(keys, sort=False)["year"].transform("min")
            period = period[starts == base_year]  # the base year itself must be there
            n = period.groupby(keys, sort=False)["year"].transform("size")
            chosen.append(period[n >= MIN_PERIOD_YEARS])
        n = upto.groupby(keys, sort=False)["year"].transform("size")
        start = upto.groupby(keys, sort=False)["year"].transform("min")
        since = upto[(n >= MIN_TREND_YEARS) & ((base_year is None) | (start < (base_year or 0)))]
        chosen.append(since)
        for w in chosen:
            if not w.empty:
                windows.append(w.assign(_w=len(windows)))
                window_year.append(y)
    if not windows:
        return pd.DataFrame(columns=FINDINGS_COLUMNS[:15])
    w = pd.concat(windows, ignore_index=True)
    wkeys = [*keys, "_w"]
    mk = mann_kendall(w, by=wkeys, time="year", value="estimate")
    ends = w.sort_values("year").groupby(wkeys, sort=False)["estimate"].agg(["first", "last"])
    mk = mk.merge(ends.reset_index(), on=wkeys, how="left")
    mk = mk.merge(_theil_sen_ci(w, wkeys), on=wkeys, how="left")
    mk["year"] = np.asarray(window_year)[mk["_w"].to_numpy()]
    mk = mk.sort_values("_w", kind="stable", ignore_index=True)
    return _survey_rows(
        mk,
        year=mk["year"],
        comparison=Comparison.TREND,
        years=(mk["year_from"], mk["year_to"]),
        values=(mk["first"], mk["last"]),
        change=mk["slope"],
        ci=(mk["slope_low"], mk["slope_high"]),
        p_value=mk["p_value"],
    )


def _theil_sen_ci(
    data: pd.DataFrame, keys: list[str], *, time: str = "year", value: str = "estimate"
) -> pd.DataFrame:
    """95 % interval of the Theil–Sen slope per series, vectorised over the series.

    The same numbers as ``scipy.stats.theilslopes(y, x, alpha=0.95)`` per series: the
    pairwise slopes with ``x_j > x_i`` sorted, and the interval's ends at ranks
    ``R_l = round((N + z·σ)/2) − 1`` and ``R_u = round((N − z·σ)/2)`` with ``z`` the 2,5 %
    normal quantile and ``σ² = [n(n−1)(2n+5) − Σ_x t(t−1)(2t+5) − Σ_y t(t−1)(2t+5)]/18``
    over tied groups (Sen 1968, eq. 2.6).
    """
    d = data[[*keys, time, value]].reset_index(drop=True)
    sid, uniq = pd.MultiIndex.from_frame(d[keys]).factorize()
    x = d[time].to_numpy(float)
    y = d[value].to_numpy(float)
    order = np.lexsort((x, sid))
    sid, x, y = sid[order], x[order], y[order]
    n_series = len(uniq)
    counts = np.bincount(sid, minlength=n_series)
    ends = np.cumsum(counts)
    idx = np.arange(len(sid))
    after = ends[sid] - 1 - idx  # rows after each row within its series
    i = np.repeat(idx, after)
    offset = np.arange(len(i)) - np.repeat(np.cumsum(after) - after, after)
    j = i + 1 + offset
    dx = x[j] - x[i]
    keep = dx > 0
    psid = sid[i][keep]
    slopes = (y[j] - y[i])[keep] / dx[keep]
    order = np.lexsort((slopes, psid))
    slopes, psid = slopes[order], psid[order]
    nt = np.bincount(psid, minlength=n_series)
    first = np.cumsum(nt) - nt

    def tie_term(values: np.ndarray) -> np.ndarray:
        t = pd.DataFrame({"s": sid, "v": values}).groupby(["s", "v"]).size()
        k = t.to_numpy(float)
        s_of = t.index.get_level_values("s").to_numpy()
        return np.bincount(s_of, weights=k * (k - 1) * (2 * k + 5), minlength=n_series)

    ny = counts.astype(float)
    sigsq = (ny * (ny - 1) * (2 * ny + 5) - tie_term(x) - tie_term(y)) / 18.0
    z = norm_ppf(0.025)
    with np.errstate(invalid="ignore"):
        sigma = np.sqrt(sigsq)
        ru = np.minimum(np.round((nt - z * sigma) / 2.0), nt - 1)
        rl = np.maximum(np.round((nt + z * sigma) / 2.0) - 1, 0)
    ok = (nt > 0) & np.isfinite(sigma)
    low = np.full(n_series, np.nan)
    high = np.full(n_series, np.nan)
    low[ok] = slopes[first[ok] + rl[ok].astype(np.int64)]
    high[ok] = slopes[first[ok] + ru[ok].astype(np.int64)]
    out = uniq.to_frame(index=False)
    out.columns = keys
    out["slope_low"] = low
    out["slope_high"] = high
    return out


def survey_findings(
    estimates: pd.DataFrame,
    changes: pd.DataFrame,
    *,
    indicators: pd.DataFrame,
    breaks: pd.DataFrame | None = None,
    base_year: int | None = None,
    reliable: pd.DataFrame | None = None,
    years: Collection[int] | None = None,
) -> pd.DataFrame:
    """Survey comparisons of one kommun: previous year, base year and trends.

    Parameters
    ----------
    estimates, changes
        ``survey_estimates`` and ``survey_changes`` (CONTRIBUTING.md) of one kommun.
    indicators
        ``indikatorer.csv`` (``id, label, kind, direction``).
    breaks
        ``survey_breaks``: no comparison spans a break.
    base_year
        The year before the current commitment period (None: no base-year rows and no
        commitment-period trend).
    reliable
        Optional ``kommun, year, indicator, group_var, group, reliable``: a row is
        reliable when both of its end-point estimates are (default: every published
        estimate is).
    years
        Only these report years (default: every year of ``estimates``); each year's rows
        are the same as in the table of every year.

    Returns
    -------
    DataFrame with the first 15 columns of :data:`FINDINGS_COLUMNS` plus ``reliable``;
    ``year`` is the report year (= ``to_year``). Change rows carry the change and its
    normal 95 % interval (change ± 1,96·se); trend rows the Theil–Sen slope per year and
    its 95 % interval, with the estimates at the window's end points.
    """
    est = _usable(estimates)
    est = est[est["group_var"].isin(GROUP_VARS)].reset_index(drop=True)
    known = set(indicators["id"])
    est = est[est["indicator"].isin(known)].reset_index(drop=True)
    est["_seg"] = _segments(est, breaks, indicators)
    every = sorted(est["year"].unique().tolist())
    wanted = None if years is None else {int(y) for y in years}
    chosen = every if wanted is None else [y for y in every if y in wanted]
    chg = changes[changes["indicator"].isin(known)] if len(changes) else changes
    if wanted is not None and len(chg):
        chg = chg[chg["year_to"].isin(sorted(wanted))]
    rows = pd.concat(
        [
            _change_rows(chg, base_year) if len(chg) else None,
            _trend_rows(est, years=chosen, base_year=base_year),
        ],
        ignore_index=True,
    )
    rows = rows.astype({"from_year": "int64", "to_year": "int64", "year": "int64"})
    if reliable is None:
        rows["reliable"] = True
    else:
        key = ["kommun", "year", "indicator", "group_var", "group"]
        flag = reliable[[*key, "reliable"]].astype({"year": "int64"})
        ends = rows[["kommun", "from_year", "to_year", "indicator", "group_var", "group"]]
        a = ends.rename(columns={"from_year": "year"}).merge(flag, on=key, how="left")["reliable"]
        b = ends.rename(columns={"to_year": "year"}).merge(flag, on=key, how="left")["reliable"]
        rows["reliable"] = (a.fillna(True).astype(bool) & b.fillna(True).astype(bool)).to_numpy()
    return rows


# --------------------------------------------------------------------------- wastewater
def wastewater_findings(
    campaigns: pd.DataFrame, *, years: Collection[int] | None = None
) -> pd.DataFrame:
    """Wastewater trend per substance and plant, the campaign being the unit.

    Parameters
    ----------
    campaigns
        ``wastewater_campaigns`` of one kommun (``daily_mean`` per campaign, ``date_from``
        and ``date_to``).
    years
        Only these report years (default: every year with campaigns).

    Returns
    -------
    DataFrame like :func:`survey_findings` (``source = "avloppsvatten"``,
    ``group_var = "reningsverk"``, ``group`` the plant), one ``trend`` row per substance,
    plant and report year (the years with campaigns), over every campaign up to that
    year: :func:`trygghet_analys.wastewater.campaigns.campaign_trend` (Mann–Kendall and
    Theil–Sen on log campaign means; days are never the unit). ``value_from`` and
    ``value_to`` are the first and the last campaign mean (mg/dygn/1000 inv);
    ``change`` is the relative change per year (``exp(slope) − 1``) with the 95 %
    interval of the Theil–Sen slope (``scipy.stats.theilslopes``) on the same scale.
    Too few campaigns give no test (``p_value`` NaN: otillräckligt underlag). Extra
    columns ``n_campaigns``, ``n_days`` and ``n_below_loq`` say what a row rests on.
    """
    from ..wastewater.campaigns import campaign_trend

    if campaigns is None or campaigns.empty:
        return pd.DataFrame(columns=FINDINGS_COLUMNS[:15])
    c = campaigns.dropna(subset=["daily_mean"])
    c = c[c["daily_mean"] > 0]
    rows = []
    for y in sorted(c["year"].unique().tolist()):
        if years is not None and y not in years:
            continue
        upto = c[c["year"] <= y]
        trend = campaign_trend(upto)
        trend = trend[trend["year_to"] == y]
        for r in trend.itertuples(index=False):
            low = high = np.nan
            if r.sufficient:
                low, high = _log_slope_ci(upto, r.plant, r.substance)
            rows.append(
                {
                    "kommun": str(r.kommun),
                    "year": int(y),
                    "source": Source.WASTEWATER,
                    "indicator": str(r.substance),
                    "group_var": "reningsverk",
                    "group": str(r.plant),
                    "comparison": Comparison.TREND,
                    "from_year": int(r.year_from),
                    "to_year": int(y),
                    "value_from": float(r.value_first),
                    "value_to": float(r.value_last),
                    "change": float(r.change_per_year) if r.sufficient else np.nan,
                    "ci_low": low,
                    "ci_high": high,
                    "p_value": float(r.p_value) if r.sufficient else np.nan,
                    "n_campaigns": int(r.n_campaigns),
                    "n_days": int(r.n_days),
                    "n_below_loq": int(r.n_below_loq),
                    "reliable": bool(r.sufficient),
                }
            )
    return pd.DataFrame(rows)


def _log_slope_ci(c: pd.DataFrame, plant: str, substance: str) -> tuple[float, float]:
    """95 % interval of the Theil–Sen slope of log campaign means, as exp(·) − 1."""
    g = c[(c["plant"] == plant) & (c["substance"] == substance)]
    mid = (
        pd.to_datetime(g["date_from"])
        + (pd.to_datetime(g["date_to"]) - pd.to_datetime(g["date_from"])) / 2
    )
    t = (mid.dt.year + (mid.dt.day_of_year - 1) / 365.25).to_numpy(float)
    r = stats.theilslopes(np.log(g["daily_mean"].to_numpy(float)), t, alpha=0.95)
    return float(np.expm1(r.low_slope)), float(np.expm1(r.high_slope))


# --------------------------------------------------------------------------- effects
def effect_findings(
    estimates: pd.DataFrame,
    *,
    links: Sequence[tuple[str, str, str]],
    start_year: int,
    strata: pd.DataFrame | None = None,
    pre_years: int = 3,
    years: Collection[int] | None = None,
) -> pd.DataFrame:
    """Difference-in-differences rows for place-based commitments, every report year.

    Parameters
    ----------
    estimates
        ``survey_estimates`` of one kommun (the area rows are used).
    links
        ``(commitment_id, indicator, area)`` of every survey indicator a commitment
        follows in one area (``group_var: stratum`` in the register).
    start_year
        First year of the commitment period.
    strata
        ``survey_strata`` (population weights of the other areas).
    pre_years
        Survey years before ``start_year`` in the pre-period.
    years
        Only these report years (default: every year from ``start_year``); a report
        year's rows use the estimates and strata up to that year only.

    Returns
    -------
    DataFrame like :func:`survey_findings` with ``comparison = "effekt"``,
    ``group_var = "stratum"``, ``group`` the area; ``from_year`` the first pre-period
    year, ``to_year`` the report year; ``value_from``/``value_to`` the area's mean over
    the pre-period and over the commitment years; ``change`` the effect (the area's
    change minus the other areas' change) with its 95 % interval and p-value from
    :func:`trygghet_analys.stats.effects.did_effect`; plus ``commitment_id``,
    ``change_area``, ``change_others``, ``parallel_ok``, ``pre_to``.
    """
    from .effects import did_effect

    rows = []
    if estimates is None or estimates.empty:
        return pd.DataFrame(columns=FINDINGS_COLUMNS[:15])
    wanted = None if years is None else {int(y) for y in years}
    years = sorted(
        int(y)
        for y in estimates["year"].unique()
        if int(y) >= start_year and (wanted is None or int(y) in wanted)
    )
    for cid, indicator, area in links:
        for y in years:
            try:
                r = did_effect(
                    estimates, indicator=indicator, area=area, start_year=start_year,
                    end_year=y, pre_years=pre_years, strata=strata,
                ).iloc[0]  # fmt: skip
            except ValueError:
                continue  # no area estimates, or no year in one of the periods
            if int(r["post_to"]) != y:
                continue
            rows.append(
                {
                    "kommun": str(r["kommun"]),
                    "year": y,
                    "source": Source.SURVEY,
                    "indicator": indicator,
                    "group_var": "stratum",
                    "group": area,
                    "comparison": Comparison.EFFECT,
                    "from_year": int(r["pre_from"]),
                    "to_year": y,
                    "value_from": float(r["area_pre"]),
                    "value_to": float(r["area_post"]),
                    "change": float(r["effect"]),
                    "ci_low": float(r["ci_low"]),
                    "ci_high": float(r["ci_high"]),
                    "p_value": float(r["p_value"]),
                    "commitment_id": cid,
                    "change_area": float(r["change_area"]),
                    "change_others": float(r["change_others"]),
                    "parallel_ok": bool(r["parallel_ok"]),
                    "pre_to": int(r["pre_to"]),
                    "post_from": int(r["post_from"]),
                }
            )
    return pd.DataFrame(rows)


def _effect_sentence(r, info: Mapping[str, dict]) -> str:
    meta = info.get(r.indicator, {})
    kind = "mean" if meta.get("kind") == "mean" else "proportion"
    subject = SUBJECTS.get(r.indicator, f"Indikatorn ”{meta.get('label', r.indicator)}”")
    pre_to, post_from = int(r.pre_to), int(r.post_from)
    pre = f"{r.from_year}–{pre_to}" if pre_to != r.from_year else str(r.from_year)
    post = f"{post_from}–{r.to_year}" if post_from != r.to_year else str(r.to_year)
    # one decimal for all three amounts, so that the two changes visibly give the third
    lead = (
        f"Effektskattning för löfte {r.commitment_id}: {subject[0].lower()}{subject[1:]} "
        f"i {r.group} ändrades med {_effect_amount(r.change_area, kind)} från {pre} till "
        f"{post}, i kommunens övriga områden med {_effect_amount(r.change_others, kind)}. "
        f"Skillnaden är {_effect_amount(r.change, kind)} (95 % konfidensintervall "
        f"{_interval(r.ci_low, r.ci_high, kind)})"
    )
    if not r.significant:
        parallel = (
            " Före löftet följde området och de övriga områdena varandra."
            if r.parallel_ok
            else " Före löftet utvecklades området och de övriga områdena olika."
        )
        return (
            lead + ", inte statistiskt säkerställd." + parallel + " Det är ett samband i tid "
            "och plats, inget bevis för att löftet var orsaken."
        )
    if not r.parallel_ok:  # no verdict: the comparison's assumption failed (_direction)
        return (
            lead + ", statistiskt säkerställd, men området och de övriga områdena "
            "utvecklades olika redan före löftet. Skillnaden kan vara en fortsättning av "
            "den utvecklingen och går inte att läsa som en förändring i området efter "
            "löftet; den är inget bevis för att löftet var orsaken."
        )
    return (
        lead + f", statistiskt säkerställd: {_verdict(r.direction)} i området. Före löftet "
        "följde området och de övriga områdena varandra. Det är ett samband i tid och "
        "plats, inget bevis för att löftet var orsaken."
    )


def _effect_amount(change: float, kind: str) -> str:
    """A signed change with one decimal ("+12,5 procentenheter", "−0,12 enheter")."""
    return fmt_signed_points(change, 1) if kind == "proportion" else _amount(change, kind)


# --------------------------------------------------------------------------- activities
def activity_findings(
    yearly: pd.DataFrame,
    *,
    kommun: str,
    targets: Mapping[str, float] | None = None,
    base_year: int | None = None,
    years: Collection[int] | None = None,
) -> pd.DataFrame:
    """Activity counts year on year (and against the base year): complete counts, no test.

    Parameters
    ----------
    yearly
        ``year, measure, value`` (activities summed per year).
    kommun
        Whose activities.
    targets
        Measure → this year's target, stated in the sentence (genomförande).
    base_year
        Also compare with this year.
    years
        Only the rows of these report years (default: every year); each the same as in
        the table of every year.

    Returns
    -------
    DataFrame like :func:`survey_findings` with ``source = "aktivitet"``,
    ``group_var = "total"``, no p-value (a count has no sampling error, and a count is
    never an outcome: its ``direction`` is always ``oförändrad``, genomförande is judged
    against the target in the follow-up).
    """
    rows = []
    targets = dict(targets or {})
    wanted = None if years is None else {int(y) for y in years}
    if yearly is None or yearly.empty:
        return pd.DataFrame(columns=FINDINGS_COLUMNS[:15])
    for measure, g in yearly.groupby("measure", sort=True):
        v = _by_year(g)
        every = v.index.tolist() if isinstance(v, pd.Series) else list(v)
        for i, y in enumerate(every):
            if wanted is not None and int(y) not in wanted:
                continue
            pairs = []
            if i > 0:
                pairs.append((Comparison.PREVIOUS_YEAR, every[i - 1]))
            if (
                base_year is not None
                and y > base_year
                and base_year in v
                and (i == 0 or every[i - 1] != base_year)
            ):
                pairs.append((Comparison.BASE_YEAR, base_year))
            for comparison, y0 in pairs:
                rows.append(
                    {
                        "kommun": kommun,
                        "year": int(y),
                        "source": Source.ACTIVITY,
                        "indicator": str(measure),
                        "group_var": "total",
                        "group": TOTAL_GROUP,
                        "comparison": comparison,
                        "from_year": int(y0),
                        "to_year": int(y),
                        "value_from": float(v[y0]),
                        "value_to": float(v[y]),
                        "change": float(v[y] - v[y0]),
                        "ci_low": np.nan,
                        "ci_high": np.nan,
                        "p_value": np.nan,
                        "target": targets.get(measure, np.nan),
                    }
                )
    out = pd.DataFrame(rows)
    if len(out):
        out["reliable"] = True
    return out


def _by_year(g: pd.DataFrame) -> dict | pd.Series:
    """One measure's ``year → value`` (float), by year: a dict of NumPy values instead of
    an indexed Series per measure and kommun (58 × 10 for a region, most of
    :func:`activity_findings`' time). With a year twice the Series, as before."""
    years = g["year"].to_numpy()
    if len(np.unique(years)) != len(years):
        return g.set_index("year")["value"].astype(float).sort_index()
    values = g["value"].to_numpy(dtype=float)
    order = np.argsort(years, kind="stable")
    return dict(zip(years[order].tolist(), values[order], strict=True))


# --------------------------------------------------------------------------- sentences
#: Told after a comparison whose end-point estimate fails the NCHS presentation standards
#: (:func:`~trygghet_analys.stats.reliability.nchs_reliable`): too few effective
#: respondents, or a Korn–Graubard interval too wide for the share, which for a small
#: share happens with hundreds of answers.
UNRELIABLE_NOTE = (
    "En av skattningarna är osäker: den bygger på för få svar eller har ett intervall "
    "som är brett i förhållande till andelen."
)


def _survey_sentence(r, info: Mapping[str, dict], base_year: int | None) -> str:
    meta = info.get(r.indicator, {})
    kind = "mean" if meta.get("kind") == "mean" else "proportion"
    subject = SUBJECTS.get(r.indicator, f"Indikatorn ”{meta.get('label', r.indicator)}”")
    where = where_phrase(r.group_var, r.group)
    v1, v2 = value_pair(r.value_from, r.value_to, kind)
    flag = "" if r.reliable else f" {UNRELIABLE_NOTE}"
    if r.comparison == Comparison.TREND:
        label = (
            f"under löftesperioden {r.from_year}–{r.to_year}"
            if base_year is not None and r.from_year == base_year
            else f"sedan mätningarna började {r.from_year}"
        )
        ends = f"{v1} år {r.from_year}, {v2} år {r.to_year}"
        per_year = _per_year(r.change, kind)
        if r.direction == "oförändrad":
            if r.significant:
                # a significant Mann–Kendall test, but a zero slope or end points that
                # point the other way: no direction word
                return (
                    f"{subject} {where} visar ingen entydig trend {label} ({ends}): "
                    f"Mann–Kendall-testet är statistiskt säkerställt "
                    f"(q = {fmt_number(r.q_value, 3)}), men lutningen och ändpunkterna "
                    f"pekar inte åt samma håll.{flag}"
                )
            return (
                f"{subject} {where} visar ingen statistiskt säkerställd trend {label} "
                f"({ends}).{flag}"
            )
        word = "ökande" if r.change > 0 else "minskande"
        return (
            f"{subject} {where} visar en statistiskt säkerställd {word} trend {label} "
            f"({ends}; i genomsnitt {per_year}), {_verdict(r.direction)}.{flag}"
        )
    against = "föregående mätning" if r.comparison == Comparison.PREVIOUS_YEAR else "basåret"
    if r.direction == "oförändrad":
        return (
            f"{subject} {where} var {v2} år {r.to_year} och {v1} år {r.from_year} "
            f"({against}); skillnaden ({_amount(r.change, kind)}) är inte statistiskt "
            f"säkerställd.{flag}"
        )
    verb = "ökade" if r.change > 0 else "minskade"
    return (
        f"{subject} {where} {verb} från {v1} år {r.from_year} ({against}) till {v2} år "
        f"{r.to_year} ({_amount(r.change, kind)}, 95 % konfidensintervall "
        f"{_interval(r.ci_low, r.ci_high, kind)}), en statistiskt säkerställd "
        f"{'ökning' if r.change > 0 else 'minskning'} och {_verdict(r.direction)}.{flag}"
    )


def _wastewater_sentence(r, names: Mapping[str, str] | None = None) -> str:
    name = names[str(r.indicator)] if names else substance_name(str(r.indicator))
    base = (
        f"{name} i avloppsvattnet {where_phrase(r.group_var, r.group)}: "
        f"{fmt_value(r.value_from, 'mg')} i första kampanjen år {r.from_year} och "
        f"{fmt_value(r.value_to, 'mg')} i senaste kampanjen år {r.to_year} (kampanjens "
        "dygnsmedel)"
    )
    rests = f"{int(r.n_campaigns)} kampanjer"
    if pd.notna(r.n_days) and pd.notna(r.n_below_loq):
        rests += f", {int(r.n_below_loq)} av {int(r.n_days)} provdygn under kvantifieringsgränsen"
    if pd.isna(r.p_value):
        return f"{base}. Otillräckligt underlag för en trend ({rests})."
    pct = f"{'+' if r.change > 0 else ''}{fmt_number(100 * r.change, 0)} % per år"
    if r.direction == "oförändrad":
        return f"{base}. Ingen statistiskt säkerställd trend över kampanjerna ({pct}; {rests})."
    word = "ökande" if r.change > 0 else "minskande"
    return (
        f"{base}. En statistiskt säkerställd {word} trend över kampanjerna "
        f"(i genomsnitt {pct}; {rests}), {_verdict(r.direction)}."
    )


def _activity_sentence(r, labels: Mapping[str, str]) -> str:
    label = labels.get(r.indicator, r.indicator)
    against = "föregående år" if r.comparison == Comparison.PREVIOUS_YEAR else "basåret"
    v1, v2 = fmt_number(r.value_from, 0), fmt_number(r.value_to, 0)
    target = getattr(r, "target", np.nan)
    goal = "" if pd.isna(target) else f" (målet {fmt_number(target, 0)})"
    return (
        f"{label}: {v2} år {r.to_year}{goal} och {v1} år {r.from_year} ({against}). "
        "Ett genomfört antal, inte ett mått på effekt."
    )


# --------------------------------------------------------------------------- all
def build_findings(
    *,
    kommun: str,
    estimates: pd.DataFrame,
    changes: pd.DataFrame,
    indicators: pd.DataFrame,
    breaks: pd.DataFrame | None = None,
    base_year: int | None = None,
    wastewater_campaigns: pd.DataFrame | None = None,
    activities: pd.DataFrame | None = None,
    activity_targets: Mapping[str, float] | None = None,
    activity_labels: Mapping[str, str] | None = None,
    effects: pd.DataFrame | None = None,
    reliable: pd.DataFrame | None = None,
    years: Collection[int] | None = None,
    wastewater_rows: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The findings table of one kommun, every report year (or the report years asked for).

    Parameters
    ----------
    kommun
        Whose findings (rows of other kommuner in the inputs are ignored).
    estimates, changes, breaks
        The survey tables (CONTRIBUTING.md).
    indicators
        ``indikatorer.csv``.
    base_year
        The year before the current commitment period.
    wastewater_campaigns
        ``wastewater_campaigns``.
    activities
        Activities per year: ``year, measure, value``.
    activity_targets, activity_labels
        Measure → target of the current register, measure → Swedish label.
    effects
        Optional :func:`effect_findings` rows; they join the tests.
    reliable
        Optional reliability flags per estimate (see :func:`survey_findings`).
    years
        Only these report years (default: every year). A report year's rows depend only on
        the inputs up to that year and are the same as in the table of every year, so a
        build can keep earlier years' rows and compute a new year alone
        (``pipeline.findings_stage``).
    wastewater_rows
        :func:`wastewater_findings` of ``wastewater_campaigns`` when already computed (a
        build keeps them per report year); default computed here.

    Returns
    -------
    DataFrame with exactly :data:`FINDINGS_COLUMNS`, sorted by year, source, comparison,
    indicator, group_var and group.

    Notes
    -----
    ``q_value`` is Benjamini–Hochberg over every test of the kommun and report year
    (:func:`adjust_q_values`); ``significant`` is ``q_value < 0.05``; ``direction`` is
    :func:`direction_word` against the indicator's desired direction; a trend moves
    only when its slope and its end points agree in sign as well. Activity counts are
    never tested and never move (``oförändrad``).
    """

    def own(frame: pd.DataFrame | None) -> pd.DataFrame | None:
        if frame is None or frame.empty or "kommun" not in frame:
            return frame
        return frame[frame["kommun"] == kommun].reset_index(drop=True)

    if wastewater_rows is None:
        wastewater_rows = wastewater_findings(own(wastewater_campaigns), years=years)
    own_rows = {
        "activities": activities,
        "activity_targets": activity_targets,
        "effects": own(effects),
        "wastewater_rows": wastewater_rows,
    }
    return build_findings_of(
        {kommun: own_rows},
        estimates=estimates,
        changes=changes,
        indicators=indicators,
        breaks=breaks,
        base_year=base_year,
        activity_labels=activity_labels,
        reliable=reliable,
        years=years,
    )[kommun]


def build_findings_of(
    kommuner: Mapping[str, Mapping],
    *,
    estimates: pd.DataFrame,
    changes: pd.DataFrame,
    indicators: pd.DataFrame,
    breaks: pd.DataFrame | None = None,
    base_year: int | None = None,
    activity_labels: Mapping[str, str] | None = None,
    reliable: pd.DataFrame | None = None,
    years: Collection[int] | None = None,
) -> dict[str, pd.DataFrame]:
    """:func:`build_findings` of several kommuner in one computation, per kommun exactly
    the table that :func:`build_findings` gives for that kommun alone.

    The survey comparisons (the most work) are computed once for all the kommuner's
    rows, the q-values per kommun and report year, the direction words and sentences
    row by row; what costs per call is paid once, not once per kommun. The kommuner must
    share what :func:`build_findings` takes as settings: ``indicators``, ``base_year``,
    ``activity_labels`` and ``years``.

    Parameters
    ----------
    kommuner
        Kommun → its own inputs: ``activities``, ``activity_targets``, ``effects``
        (:func:`effect_findings` rows or None) and ``wastewater_rows``
        (:func:`wastewater_findings` of its campaigns, for ``years``).
    estimates, changes, breaks, reliable
        As for :func:`build_findings`; rows of other kommuner are ignored.
    indicators, base_year, activity_labels, years
        As for :func:`build_findings`, the same for every kommun.

    Returns
    -------
    dict
        Kommun → its findings table (:data:`FINDINGS_COLUMNS`), in the order of
        ``kommuner``.
    """
    names = list(kommuner)

    def own(frame: pd.DataFrame | None) -> pd.DataFrame | None:
        if frame is None or frame.empty or "kommun" not in frame:
            return frame
        if len(names) == 1:
            return frame[frame["kommun"] == names[0]].reset_index(drop=True)
        return frame[frame["kommun"].isin(names)].reset_index(drop=True)

    info = _indicator_info(indicators)
    parts = [
        survey_findings(
            own(estimates),
            own(changes),
            indicators=indicators,
            breaks=own(breaks),
            base_year=base_year,
            reliable=own(reliable),
            years=years,
        )
    ]
    # each kind of row of every kommun after the survey rows, kommun by kommun: within a
    # kommun the rows keep the order build_findings gives them (the sort below is stable)
    parts += [kommuner[k]["wastewater_rows"] for k in names]
    for k in names:
        activities = kommuner[k]["activities"]
        if activities is not None and len(activities):
            parts.append(
                activity_findings(
                    activities,
                    kommun=k,
                    targets=kommuner[k]["activity_targets"],
                    base_year=base_year,
                    years=years,
                )
            )
    for k in names:
        effects = kommuner[k]["effects"]
        if effects is not None and len(effects):
            parts.append(effects)
    if years is not None:
        parts = [p[p["year"].isin(list(years))] if len(p) else p for p in parts]
    parts = [p for p in parts if p is not None and len(p)]
    if not parts:
        return {k: _no_findings() for k in names}
    rows = pd.concat(parts, ignore_index=True)
    rows = adjust_q_values(rows)
    worse_up = {
        k: v.get("direction") != "higher_is_better" for k, v in info.items()
    }  # wastewater substances: more is worse
    rows["direction"] = [_direction(r, worse_up.get(r.indicator, True)) for r in row_tuples(rows)]
    labels = dict(activity_labels or {})
    wastewater = rows.loc[rows["source"] == Source.WASTEWATER, "indicator"]
    substances = {str(s): substance_name(str(s)) for s in wastewater.unique()}
    sentences = []
    for r in row_tuples(rows):
        if r.comparison == Comparison.EFFECT:
            sentences.append(_effect_sentence(r, info))
        elif r.source == Source.SURVEY:
            sentences.append(_survey_sentence(r, info, base_year))
        elif r.source == Source.WASTEWATER:
            sentences.append(_wastewater_sentence(r, substances))
        elif r.source == Source.ACTIVITY:
            sentences.append(_activity_sentence(r, labels))
        else:
            raise ValueError(f"unknown source {r.source!r}")
    rows["sentence"] = sentences
    rows["reliable"] = rows["reliable"].fillna(True).astype(bool)
    order = {c: i for i, c in enumerate(COMPARISONS)}
    src = {s: i for i, s in enumerate(SOURCES)}
    rows = rows.assign(_c=rows["comparison"].map(order), _s=rows["source"].map(src))
    rows = rows.sort_values(
        ["kommun", "year", "_s", "_c", "indicator", "group_var", "group", "from_year"],
        kind="stable",
    )
    out = rows[FINDINGS_COLUMNS].reset_index(drop=True)
    out = out.astype(
        {
            "year": "int64",
            "from_year": "int64",
            "to_year": "int64",
            "value_from": "float64",
            "value_to": "float64",
            "change": "float64",
            "ci_low": "float64",
            "ci_high": "float64",
            "p_value": "float64",
            "q_value": "float64",
            "significant": "bool",
            "reliable": "bool",
        }
    )
    if len(names) == 1:
        return {names[0]: out if len(out) else _no_findings()}
    found = {
        k: out.take(idx).reset_index(drop=True)
        for k, idx in out.groupby("kommun", sort=False).indices.items()
    }
    # the empty table made only for a kommun without rows (one per kommun cost as much as
    # the sentences of a new year)
    return {k: found[k] if k in found else _no_findings() for k in names} | found


def _parallel(r) -> bool:
    """Whether an ``effekt`` row's parallel-trend check passed (a missing value: no)."""
    value = getattr(r, "parallel_ok", False)
    return bool(value) if isinstance(value, (bool, np.bool_)) else False


def _no_findings() -> pd.DataFrame:
    """The findings table of a kommun without findings (every column, no rows)."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in FINDINGS_COLUMNS})


def _direction(r, higher_is_worse: bool) -> str:
    if r.source == Source.ACTIVITY:
        return "oförändrad"
    if r.comparison == Comparison.EFFECT and not _parallel(r):
        # a difference-in-differences is read as a change in the area only when the area
        # and the other areas moved in parallel before the commitment; otherwise the
        # difference may continue what was already there: no verdict, whatever its q
        return "oförändrad"
    if r.comparison == Comparison.TREND and r.source == Source.SURVEY:
        ends = r.value_to - r.value_from
        if r.change == 0 or ends == 0 or (ends > 0) != (r.change > 0):
            return "oförändrad"
    if r.comparison == Comparison.TREND and r.source == Source.WASTEWATER:
        ends = r.value_to - r.value_from
        if pd.notna(r.change) and (ends == 0 or (ends > 0) != (r.change > 0)):
            return "oförändrad"
    return direction_word(r.change, bool(r.significant), higher_is_worse=higher_is_worse)
