"""Wastewater analysis: lab results, inflows and plants → loads, campaign means, trends.

Raw files of one kommun live in ``raw/avloppsvatten/`` (see ``docs/avloppsvatten.md``)::

    labb/*.xlsx | *.csv   lab results, one row per sample and substance
    flode.csv             daily inflow per plant (m³/day)
    reningsverk.csv       plant register: plant, kommun, year, population served
    kampanjer.csv         campaigns: plant, campaign, first and last day

The readers are in :mod:`trygghet_analys.files.wastewater`; everything here is pure
(DataFrames in, DataFrames out). :func:`wastewater_tables` computes every table of one
kommun; :func:`trygghet_analys.pipeline.build_wastewater` reads and calls it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from ..errors import DataError
from ..formatting import file_name
from ..schemas import (
    CAMPAIGN_COLUMNS,
    CONSUMPTION_COLUMNS,
    LOAD_COLUMNS,
    WASTEWATER_TREND_COLUMNS,
    processed_schemas,
    wastewater_dtypes,
)
from ..stats._dist import t_ppf
from ..vocabulary import load_backcalculation_factors, load_sample_flags, load_substances
from .days import campaign_means

__all__ = [
    "CAMPAIGN_COLUMNS",
    "CONSUMPTION_COLUMNS",
    "LOAD_COLUMNS",
    "LOQ_POLICIES",
    "SAMPLE_FLAGS",
    "join_flags",
    "load_sample_flags",
    "swedish_holidays",
    "TREND_COLUMNS",
    "back_calculate",
    "campaign_statistics",
    "compute_loads",
    "load_backcalculation_factors",
    "load_substances",
    "substance_trends",
    "wastewater_tables",
]

LOQ_POLICIES = ("zero", "half_loq", "loq")
TREND_COLUMNS = WASTEWATER_TREND_COLUMNS

_WEEKDAYS_SV = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")

#: The known sample flags in display order (``resources/provflaggor.csv``).
SAMPLE_FLAGS = tuple(load_sample_flags()["flagga"])


def _excluding_flags() -> frozenset[str]:
    table = load_sample_flags()
    return frozenset(table.loc[~table["i_kampanjmedel"], "flagga"])


def join_flags(flags: set[str]) -> str:
    """Flags joined by ``|`` in :data:`SAMPLE_FLAGS` order ("" for none)."""
    return "|".join(f for f in SAMPLE_FLAGS if f in flags)


def swedish_holidays(dates: pd.Series) -> pd.Series:
    """Whether each date is a Swedish public holiday (``holidays.Sweden``; an ordinary
    Sunday is not counted, a holiday falling on a Sunday such as Easter Sunday is).

    Examples
    --------
    >>> swedish_holidays(pd.Series(pd.to_datetime(["2023-04-07", "2023-04-12"]))).tolist()
    [True, False]
    """
    import holidays

    stamps = pd.to_datetime(dates)
    if stamps.empty:
        return pd.Series(dtype=bool, index=dates.index)
    years = sorted({int(y) for y in stamps.dt.year.dropna()})
    calendar = holidays.Sweden(years=years, include_sundays=False)
    return stamps.dt.date.map(lambda d: d in calendar).astype(bool)


# --------------------------------------------------------------------------- computation
def _lab_error(lab_row: pd.Series, expected: str, column: str, value: object) -> DataError:
    sheet = lab_row.get("source_sheet")
    return DataError(
        expected,
        file=lab_row.get("source_file"),
        sheet=sheet if isinstance(sheet, str) else None,
        row=int(lab_row["source_row"]) if pd.notna(lab_row.get("source_row")) else None,
        column=column,
        value=value,
    )


def _date_column(lab_row: pd.Series) -> str:
    name = lab_row.get("source_date_column")
    return name if isinstance(name, str) and name else "Provtagningsdatum"


def compute_loads(
    lab: pd.DataFrame,
    flows: pd.DataFrame,
    plants: pd.DataFrame,
    campaigns: pd.DataFrame,
    *,
    kommun: str,
    loq_policy: str = "zero",
) -> pd.DataFrame:
    """Daily loads and population-normalised loads per sample.

    Parameters
    ----------
    lab
        ``read_lab_file`` output (one or more files concatenated).
    flows, plants, campaigns
        ``read_flows``, ``read_plants`` and ``read_campaigns`` output.
    kommun
        The kommun; only its plants in ``plants`` are used.
    loq_policy
        Value used for a result below LOQ: ``"zero"`` (EUDA's convention, default),
        ``"half_loq"`` (LOQ/2) or ``"loq"``.

    Returns
    -------
    DataFrame
        The ``wastewater_loads`` contract: ``kommun, plant, campaign, date, weekday``
        (Swedish lower-case day name, "tisdag"), ``substance, metabolite,
        concentration_ng_l`` (the value used, after the LOQ policy), ``loq_ng_l,
        below_loq, flow_m3_day, population, load_mg_day, load_mg_day_1000``, ``flags``
        (the day's sample flags joined by ``|`` in :data:`SAMPLE_FLAGS` order, "" when
        none; ``helgdag`` added for Swedish public holidays, ``under_loq`` for every
        value below the LOQ) and ``excluded`` (True when a flag keeps the day out of the
        campaign mean: ``bräddning``, ``provtagningsfel``; see
        ``resources/provflaggor.csv``); sorted by plant, date and substance.

    Raises
    ------
    DataError
        Naming the lab file and row for: a plant not in the register, a sample day with
        no flow, a date outside every campaign, no population for the year, or (policy
        ``half_loq``/``loq``) a result below LOQ whose LOQ is unknown.

    Notes
    -----
    .. math::
        L\\,[\\mathrm{mg/d}] = C\\,[\\mathrm{ng/L}] \\times Q\\,[\\mathrm{m^3/d}]
        \\times 10^{-3},\\qquad
        L_{1000} = L / (P / 1000)

    since 1 ng/L × 1 m³ = 1000 ng = 10⁻³ mg (ARCHITECTURE, "Wastewater"; EUDA/SCORE).
    """
    if loq_policy not in LOQ_POLICIES:
        raise DataError("en LOQ-princip: " + ", ".join(LOQ_POLICIES), value=loq_policy)
    own = plants[plants["kommun"] == kommun]
    if lab.empty:
        return _empty_frame(LOAD_COLUMNS)
    if own.empty:
        raise DataError(
            f"minst ett reningsverk för kommunen {kommun}",
            file=plants["source_file"].iloc[0] if len(plants) else "reningsverk.csv",
            column="kommun",
            value=kommun,
        )
    own_names = sorted(own["plant"].unique())
    work = lab.copy()
    no_plant = work["plant"].isna() | (work["plant"] == "")
    if no_plant.any():
        if len(own_names) != 1:
            raise _lab_error(
                work[no_plant].iloc[0],
                "en kolumn Reningsverk (kommunen har flera reningsverk: "
                + ", ".join(own_names)
                + ")",
                "Reningsverk",
                None,
            )
        work.loc[no_plant, "plant"] = own_names[0]
    unknown = ~work["plant"].isin(own_names)
    if unknown.any():
        r = work[unknown].iloc[0]
        raise _lab_error(
            r,
            "ett reningsverk i reningsverk.csv (" + ", ".join(own_names) + ")",
            "Reningsverk",
            r["plant"],
        )

    # campaign of each sample
    work["campaign"] = pd.Series(pd.NA, index=work.index, dtype="str")
    for c in campaigns.itertuples(index=False):
        hit = (work["plant"] == c.plant) & work["date"].between(c.start, c.end)
        work.loc[hit, "campaign"] = c.campaign
    _refuse_sample_day(
        work,
        work["campaign"].isna(),
        lambda r: f"ett provdatum inom en kampanj för {r['plant']} i kampanjer.csv",
    )

    # flows
    flow_cols = ["plant", "date", "flow_m3_day"]
    has_source = {"source_file", "source_row"} <= set(flows.columns)
    if has_source:
        flow_cols += ["source_file", "source_row"]
    work = work.merge(
        flows[flow_cols].rename(columns={"source_file": "_flow_file", "source_row": "_flow_row"}),
        on=["plant", "date"],
        how="left",
    )
    _refuse_sample_day(
        work,
        work["flow_m3_day"].isna(),
        lambda r: f"ett flöde i flode.csv för {r['plant']} detta provdygn",
    )
    zero_flow = work["flow_m3_day"] <= 0
    if zero_flow.any():  # a load of 0 would drag the campaign mean down without a word
        r = work[zero_flow].iloc[0]
        raise DataError(
            f"ett flöde > 0 på ett provdygn ({r['date'].date().isoformat()} har prov i "
            f"{file_name(r['source_file'])}; ett flöde på 0 skulle ge belastningen 0)",
            file=r["_flow_file"] if has_source else None,
            row=int(r["_flow_row"]) if has_source else None,
            column="Flöde",
            value=f"{r['flow_m3_day']:g}",
        )
    work = work.drop(columns=["_flow_file", "_flow_row"], errors="ignore")

    # population for the sample's year
    work["_year"] = work["date"].dt.year.astype("int64")
    pop = own[["plant", "year", "population"]].rename(columns={"year": "_year"})
    work = work.merge(pop, on=["plant", "_year"], how="left")
    _refuse_sample_day(
        work,
        work["population"].isna(),
        lambda r: f"befolkning för {r['plant']} år {r['_year']} i reningsverk.csv",
    )

    below = work["below_loq"].astype(bool)
    if loq_policy != "zero":
        unknown_loq = below & work["loq_ng_l"].isna()
        if unknown_loq.any():
            r = work[unknown_loq].iloc[0]
            raise _lab_error(
                r,
                f"en LOQ för värden under LOQ (krävs av principen '{loq_policy}')",
                "LOQ",
                None,
            )
    flags = work["flags"].fillna("") if "flags" in work.columns else pd.Series("", work.index)
    holiday = swedish_holidays(work["date"]).to_numpy()
    flags = pd.Series(
        [
            join_flags({*f.split("|"), "helgdag"} - {""} if h else set(f.split("|")) - {""})
            for f, h in zip(flags, holiday, strict=True)
        ],
        index=work.index,
    )
    excluding = _excluding_flags()
    excluded = flags.map(lambda f: bool(set(f.split("|")) & excluding)).astype(bool)
    substitute = {"zero": 0.0, "half_loq": 0.5, "loq": 1.0}[loq_policy]
    conc = work["value_ng_l"].where(~below, work["loq_ng_l"] * substitute)
    if loq_policy == "zero":
        conc = conc.where(~below, 0.0)
    load = conc * work["flow_m3_day"] * 1e-3
    out = pd.DataFrame(
        {
            "kommun": kommun,
            "plant": work["plant"].astype(str),
            "campaign": work["campaign"].astype(str),
            "date": work["date"].astype("datetime64[us]"),
            "weekday": work["date"].dt.day_of_week.map(dict(enumerate(_WEEKDAYS_SV))),
            "substance": work["substance"].astype(str),
            "metabolite": work["metabolite"],
            "concentration_ng_l": conc.astype("float64"),
            "loq_ng_l": work["loq_ng_l"].astype("float64"),
            "below_loq": below,
            "flow_m3_day": work["flow_m3_day"].astype("float64"),
            "population": work["population"].astype("int64"),
            "load_mg_day": load.astype("float64"),
            "load_mg_day_1000": (load / (work["population"] / 1000.0)).astype("float64"),
            "flags": flags.astype(str),
            "excluded": excluded.to_numpy(dtype=bool),
        }
    )
    out["weekday"] = out["weekday"].astype("str")
    out["metabolite"] = out["metabolite"].astype("str")
    out = out.sort_values(["plant", "date", "substance"], kind="stable").reset_index(drop=True)
    return out[LOAD_COLUMNS]


def campaign_statistics(loads: pd.DataFrame) -> pd.DataFrame:
    """Campaign means per plant and substance by EUDA's day rules.

    Parameters
    ----------
    loads
        ``compute_loads`` output.

    Returns
    -------
    DataFrame
        The ``wastewater_campaigns`` contract: ``kommun, plant, year, campaign, substance,
        metabolite, daily_mean, weekday_mean, weekend_mean, n_days, n_below_loq``
        (means in mg/day/1000 inhabitants), then ``date_from, date_to`` (first and last
        sample day, used for trends), ``n_excluded`` (days kept out by a flag,
        :func:`load_sample_flags`) and ``daily_mean_low, daily_mean_high``: a 95 %
        t-interval of the daily mean over the campaign's days,
        mean ± t(0.975, n−1)·s/√n (NaN with fewer than 2 days). The interval describes
        the variation between days *within* the campaign, not the uncertainty from year
        to year or of the back-calculation. ``year`` is the year of the first sample day.

    Notes
    -----
    Uses :func:`trygghet_analys.euda.campaign_means`: daily mean over the days present,
    weekday mean over the Tue–Thu days present, weekend mean over the Fri–Mon days
    present; no imputation of missing days.
    """
    if loads.empty:
        return _empty_frame(CAMPAIGN_COLUMNS)
    keys = ["kommun", "plant", "campaign", "substance", "metabolite"]
    excluded = (
        loads["excluded"].astype(bool).to_numpy()
        if "excluded" in loads.columns
        else np.zeros(len(loads), dtype=bool)
    )
    used = loads.assign(
        load_mg_day_1000=loads["load_mg_day_1000"].where(~excluded),
        below_loq=loads["below_loq"].astype(bool) & ~excluded,
        _excluded=excluded,
    )
    means = campaign_means(used, by=keys, day="weekday", value="load_mg_day_1000")
    g = used.groupby(keys, sort=False, dropna=False)
    extra = pd.DataFrame(
        {
            "n_below_loq": g["below_loq"].sum().astype("int64"),
            "date_from": g["date"].min(),
            "date_to": g["date"].max(),
            "n_excluded": g["_excluded"].sum().astype("int64"),
            "_sd": g["load_mg_day_1000"].std(ddof=1),
        }
    ).reset_index()
    out = means.merge(extra, on=keys, how="left")
    out = out[out["n_days"] > 0]  # a campaign whose every day is excluded has no mean
    n = out["n_days"].astype(float)
    half = t_ppf(0.975, n - 1) * out["_sd"] / np.sqrt(n)
    half = half.where(n >= 2)
    out["daily_mean_low"] = out["daily_mean"] - half
    out["daily_mean_high"] = out["daily_mean"] + half
    out["year"] = out["date_from"].dt.year.astype("int64")
    out = out.sort_values(["plant", "date_from", "substance"], kind="stable")
    return out[CAMPAIGN_COLUMNS].reset_index(drop=True)


def substance_trends(
    campaigns: pd.DataFrame,
    *,
    value: str = "daily_mean",
    min_campaigns: int = 5,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Trend over campaigns per plant and substance: Theil–Sen slope and Mann–Kendall test.

    Parameters
    ----------
    campaigns
        ``campaign_statistics`` output (needs ``date_from`` and ``date_to``).
    value
        The campaign statistic to follow (default ``daily_mean``).
    min_campaigns
        Fewer campaigns than this give no row (default 5, as for the survey trends).
    alpha
        Significance level.

    Returns
    -------
    DataFrame
        ``kommun, plant, substance, metabolite, year_from, year_to, n_campaigns, slope``
        (Theil–Sen, mg/day/1000 inhabitants per year), ``tau, p_value, significant,
        direction`` ("ökande", "minskande" or "ingen säkerställd trend").

    Notes
    -----
    Time is each campaign's mid-point in decimal years, so two campaigns a year and
    uneven intervals count correctly. The test and slope are
    :func:`trygghet_analys.trends.mann_kendall`, the same as for the survey trends:
    Mann–Kendall S with tie-corrected variance and continuity correction, two-sided
    normal p (R ``cor.test(t, x, method="kendall", exact=FALSE, continuity=TRUE)``),
    and the Theil–Sen slope (median of pairwise slopes, Sen 1968).
    """
    from ..stats.trends import mann_kendall  # trends is a sibling module; imported lazily

    keys = ["kommun", "plant", "substance", "metabolite"]
    if campaigns.empty:
        return _empty_frame(TREND_COLUMNS)
    data = campaigns.dropna(subset=[value]).copy()
    mid = data["date_from"] + (data["date_to"] - data["date_from"]) / 2
    data["_t"] = mid.dt.year + (mid.dt.day_of_year - 1) / 365.25
    data["metabolite"] = data["metabolite"].fillna("")  # tramadol has no EUDA name
    size = data.groupby(keys, sort=True)["_t"].transform("size")
    data = data[size >= min_campaigns]
    if data.empty:
        return _empty_frame(TREND_COLUMNS)
    mk = mann_kendall(data, by=keys, time="_t", value=value)
    years = data.groupby(keys, sort=True)["year"].agg(["min", "max", "size"]).reset_index()
    out = mk.drop(columns=["year_from", "year_to"]).merge(years, on=keys, how="left")
    out = out.rename(columns={"min": "year_from", "max": "year_to", "size": "n_campaigns"})
    out["significant"] = (out["p_value"] < alpha).fillna(False).astype(bool)
    out["direction"] = np.select(
        [out["significant"] & (out["slope"] > 0), out["significant"] & (out["slope"] < 0)],
        ["ökande", "minskande"],
        default="ingen säkerställd trend",
    )
    out["metabolite"] = out["metabolite"].where(out["metabolite"] != "")
    out = out.sort_values(keys, kind="stable").reset_index(drop=True)
    return out.astype(wastewater_dtypes(TREND_COLUMNS))[TREND_COLUMNS]


def back_calculate(campaigns: pd.DataFrame, factors: pd.DataFrame | None = None) -> pd.DataFrame:
    """Back-calculated consumption and doses per 1000 inhabitants per campaign.

    Only **verified** factor rows are used (``status`` "verifierad" in
    ``resources/aterberakning.csv``: the value checked against the original and printed
    in ``varde_tryckt``); an unverified row (``overifierad``) never reaches any output.

    Parameters
    ----------
    campaigns
        ``campaign_statistics`` output.
    factors
        Correction factors and doses (default ``load_backcalculation_factors()``).

    Returns
    -------
    DataFrame
        ``kommun, plant, year, campaign, substance, metabolite, daily_mean,
        correction_factor, consumption_mg_day_1000, dose_mg, doses_day_1000, source``,
        then ``consumption_low, consumption_high``: daily mean × the published range of
        the factor (``cf_lag``, ``cf_hog``; NaN when the source gives none). Substances
        without a verified factor are left out.

    Notes
    -----
    consumption = daily mean load × CF, with CF = (M_parent / M_residue) / excretion
    fraction; doses per day per 1000 inhabitants = consumption / typical dose
    (Zuccato et al. 2008). The factors carry large uncertainty and are best used for
    changes over time, not absolute levels.
    """
    if factors is None:
        factors = load_backcalculation_factors()
    if campaigns.empty:
        return _empty_frame(CONSUMPTION_COLUMNS)
    verified = factors[factors["status"].astype(str).str.strip() == "verifierad"]
    f = verified.rename(
        columns={
            "substans": "substance",
            "korrektionsfaktor": "correction_factor",
            "typisk_dos_mg": "dose_mg",
        }
    )
    f = f.assign(
        source=f["referens"].astype(str)
        + " ("
        + f["tabell_sida"].astype(str)
        + "); dos: "
        + f["kalla_dos"].astype(str),
        _low=pd.to_numeric(f["cf_lag"], errors="coerce"),
        _high=pd.to_numeric(f["cf_hog"], errors="coerce"),
    )
    out = campaigns.merge(
        f[["substance", "correction_factor", "dose_mg", "source", "_low", "_high"]],
        on="substance",
        how="inner",
    )
    if out.empty:
        return _empty_frame(CONSUMPTION_COLUMNS)
    out["consumption_mg_day_1000"] = out["daily_mean"] * out["correction_factor"]
    out["doses_day_1000"] = out["consumption_mg_day_1000"] / out["dose_mg"]
    out["consumption_low"] = out["daily_mean"] * out["_low"]
    out["consumption_high"] = out["daily_mean"] * out["_high"]
    return out[CONSUMPTION_COLUMNS].reset_index(drop=True)


# --------------------------------------------------------------------------- schemas
def _refuse_sample_day(
    work: pd.DataFrame, bad: pd.Series, expected: Callable[[pd.Series], str]
) -> None:
    """Refuse the first sample in ``bad``, naming its date cell (``expected(row)``)."""
    if bad.any():
        r = work[bad].iloc[0]
        raise _lab_error(r, expected(r), _date_column(r), r["date"].date().isoformat())


def _empty_frame(cols: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in wastewater_dtypes(cols).items()})


def _check_duplicates_across_files(lab: pd.DataFrame, plants: pd.DataFrame, kommun: str) -> None:
    own = sorted(plants.loc[plants["kommun"] == kommun, "plant"].unique())
    plant = lab["plant"].fillna(own[0] if len(own) == 1 else "")
    key = pd.DataFrame({"p": plant, "d": lab["date"], "s": lab["substance"]})
    dup = key.duplicated(keep="first")
    if dup.any():
        r = lab[dup].iloc[0]
        first = lab[(key == key[dup].iloc[0]).all(axis=1)].iloc[0]
        raise _lab_error(
            r,
            "ett prov per reningsverk, dag och substans (samma prov finns i "
            f"{file_name(first['source_file'])} rad {first['source_row']})",
            "Substans",
            r["substance"],
        )


def wastewater_tables(
    raw: Mapping[str, pd.DataFrame] | None, *, kommun: str, loq_policy: str = "zero"
) -> dict[str, pd.DataFrame]:
    """All wastewater tables of one kommun from its read raw tables.

    Parameters
    ----------
    raw
        :func:`trygghet_analys.files.wastewater.read_wastewater`'s tables ``lab``,
        ``plants``, ``flows`` and ``campaigns``; ``None`` when the kommun has no lab files.
    kommun
        The kommun's name as in ``reningsverk.csv``.
    loq_policy
        ``"zero"`` (default, as EUDA), ``"half_loq"`` or ``"loq"``.

    Returns
    -------
    dict of DataFrame
        ``wastewater_loads``, ``wastewater_campaigns``, ``wastewater_trends`` and
        ``wastewater_consumption`` (columns: ``LOAD_COLUMNS``, ``CAMPAIGN_COLUMNS``,
        ``TREND_COLUMNS``, ``CONSUMPTION_COLUMNS``), validated; empty tables with these
        columns when ``raw`` is ``None``.

    Raises
    ------
    DataError
        From :func:`compute_loads`; also when a lab sample is reported twice across files.
    """
    if raw is None:
        return {
            "wastewater_loads": _empty_frame(LOAD_COLUMNS),
            "wastewater_campaigns": _empty_frame(CAMPAIGN_COLUMNS),
            "wastewater_trends": _empty_frame(TREND_COLUMNS),
            "wastewater_consumption": _empty_frame(CONSUMPTION_COLUMNS),
        }
    lab, plants = raw["lab"], raw["plants"]
    _check_duplicates_across_files(lab, plants, kommun)
    loads = compute_loads(
        lab, raw["flows"], plants, raw["campaigns"], kommun=kommun, loq_policy=loq_policy
    )
    stats_ = campaign_statistics(loads)
    tables = {
        "wastewater_loads": loads,
        "wastewater_campaigns": stats_,
        "wastewater_trends": substance_trends(stats_),
        "wastewater_consumption": back_calculate(stats_),
    }
    schemas = processed_schemas()
    return {name: schemas[name].validate(table) for name, table in tables.items()}
