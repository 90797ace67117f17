"""Wastewater tested at the right unit: the campaign, never the day.

The days of one sampling week share that week's events (a festival, a holiday, the
weather, a batch of lab standards), so they are not independent samples of the year:
a test over pooled days mistakes week-to-week variation for change. Every test here
works on campaign means (``wastewater_campaigns.daily_mean``), on the log scale because
loads vary multiplicatively. Pure functions: campaign table in, small table out.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from .._lazy import lazy
from ..schemas import DETECTABLE_COLUMNS, wastewater_dtypes
from ..stats._dist import t_ppf, t_sf

# scipy.stats (the noncentral t) and scipy.optimize on first use: only the power of a
# campaign comparison needs them, and a build that adds a survey year computes none
stats = lazy("scipy.stats")
optimize = lazy("scipy.optimize")

__all__ = [
    "CAMPAIGN_CHANGE_COLUMNS",
    "CAMPAIGN_TREND_COLUMNS",
    "INSUFFICIENT",
    "MIN_CAMPAIGNS_CHANGE",
    "MIN_CAMPAIGNS_TREND",
    "between_campaign_cv",
    "campaign_change",
    "campaign_trend",
    "detectable_change",
    "detectable_changes",
]

ALPHA = 0.05
INSUFFICIENT = "otillräckligt underlag"
#: Mann–Kendall over fewer campaigns cannot be trusted: with 5 only a perfectly monotone
#: series reaches p < 0.05 (p = 0.03), with 4 none can. Six = three years of two campaigns.
MIN_CAMPAIGNS_TREND = 6
#: Welch's test needs a variance in both periods: at least two campaigns in each.
MIN_CAMPAIGNS_CHANGE = 2
_KEYS = ["kommun", "plant", "substance", "metabolite"]

CAMPAIGN_TREND_COLUMNS = [
    *_KEYS,
    "year_from",
    "year_to",
    "n_campaigns",
    "n_days",
    "n_below_loq",
    "value_first",
    "value_last",
    "slope_log",
    "change_per_year",
    "tau",
    "p_value",
    "significant",
    "direction",
    "sufficient",
]
CAMPAIGN_CHANGE_COLUMNS = [
    *_KEYS,
    "from_years",
    "to_years",
    "n_from",
    "n_to",
    "n_below_loq_from",
    "n_below_loq_to",
    "geomean_from",
    "geomean_to",
    "change",
    "ci_low",
    "ci_high",
    "t",
    "df",
    "p_value",
    "significant",
    "direction",
    "sufficient",
]


def _prepare(campaigns: pd.DataFrame, value: str) -> pd.DataFrame:
    need = {"kommun", "plant", "substance", "year", "date_from", "date_to", value}
    missing = need - set(campaigns.columns)
    if missing:
        raise ValueError(f"campaigns lacks the columns {sorted(missing)}; has {list(campaigns)}")
    d = campaigns.copy()
    if "metabolite" not in d.columns:
        d["metabolite"] = ""
    d["metabolite"] = d["metabolite"].fillna("")  # tramadol has no EUDA name
    for col in ("n_days", "n_below_loq"):
        if col not in d.columns:
            d[col] = 0
    v = pd.to_numeric(d[value], errors="coerce").to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        # a mean of 0 (every day below LOQ, counted as 0) has no logarithm
        d["_log"] = np.where(v > 0, np.log(v), np.nan)
    d["_value"] = v
    mid = d["date_from"] + (d["date_to"] - d["date_from"]) / 2
    d["_t"] = mid.dt.year + (mid.dt.day_of_year - 1) / 365.25
    return d


def _years(years: int | Iterable[int]) -> list[int]:
    return [int(years)] if isinstance(years, (int, np.integer)) else sorted(int(y) for y in years)


def _label(years: list[int]) -> str:
    return str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"


def campaign_trend(
    campaigns: pd.DataFrame,
    *,
    years: Iterable[int] | None = None,
    value: str = "daily_mean",
    min_campaigns: int = MIN_CAMPAIGNS_TREND,
    alpha: float = ALPHA,
) -> pd.DataFrame:
    r"""Trend over campaigns per kommun, plant and substance, on log campaign means.

    Parameters
    ----------
    campaigns : DataFrame
        ``wastewater_campaigns`` rows (``kommun, plant, year, campaign, substance,
        metabolite, daily_mean, n_days, n_below_loq, date_from, date_to``).
    years : iterable of int, optional
        Only campaigns of these years (e.g. the commitment period); default all.
    value : str
        Campaign statistic (default ``daily_mean``, mg/dygn/1000 invånare).
    min_campaigns : int
        Fewer campaigns give ``direction = "otillräckligt underlag"`` and no test
        (default 6: three years of spring and autumn campaigns).
    alpha : float
        Significance level.

    Returns
    -------
    DataFrame
        One row per series: ``kommun, plant, substance, metabolite, year_from, year_to,
        n_campaigns`` (campaigns with a positive mean), ``n_days, n_below_loq`` (sample
        days and days below LOQ over those campaigns), ``value_first, value_last``
        (first and last campaign mean), ``slope_log`` (Theil–Sen slope of the log mean
        per year), ``change_per_year`` (:math:`e^{\mathrm{slope}} - 1`, relative),
        ``tau, p_value`` (Mann–Kendall), ``significant``, ``direction`` ("ökande",
        "minskande", "ingen säkerställd trend" or "otillräckligt underlag"),
        ``sufficient`` (bool).

    Notes
    -----
    Time is the campaign's mid-point in decimal years. The Mann–Kendall test (S with
    tie-corrected variance and continuity correction, two-sided normal p, as R's
    ``cor.test(t, log(x), method = "kendall", exact = FALSE, continuity = TRUE)``) and the
    Theil–Sen slope are :func:`trygghet_analys.stats.trends.mann_kendall`. The campaign
    is the unit: its mean over the sampling week is one observation. Mann–Kendall
    assumes independent campaigns; two campaigns a year, half a year apart, are far
    enough apart for that to hold approximately. A campaign mean of 0 (every day below
    LOQ) has no logarithm and is not counted (``n_campaigns`` says how many were used).

    Examples
    --------
    >>> c = pd.DataFrame({"kommun": "K", "plant": "V", "substance": "kokain",
    ...     "year": [2022, 2022, 2023, 2023, 2024, 2024],
    ...     "date_from": pd.to_datetime(["2022-04-06", "2022-10-05", "2023-04-05",
    ...                                  "2023-10-04", "2024-04-03", "2024-10-02"]),
    ...     "daily_mean": [50.0, 55, 60, 66, 70, 80]})
    >>> c["date_to"] = c["date_from"] + pd.Timedelta(days=6)
    >>> r = campaign_trend(c).iloc[0]
    >>> r["direction"], round(float(r["p_value"]), 4)
    ('ökande', 0.0085)
    """
    from ..stats.trends import mann_kendall  # sibling package; imported lazily

    d = _prepare(campaigns, value)
    if years is not None:
        d = d[d["year"].isin(_years(years))]
    d = d.dropna(subset=["_log"])
    if d.empty:
        return pd.DataFrame(columns=CAMPAIGN_TREND_COLUMNS)
    d = d.sort_values([*_KEYS, "_t"], kind="stable")
    g = d.groupby(_KEYS, sort=True)
    out = g.agg(
        year_from=("year", "min"),
        year_to=("year", "max"),
        n_campaigns=("_log", "size"),
        n_days=("n_days", "sum"),
        n_below_loq=("n_below_loq", "sum"),
        value_first=("_value", "first"),
        value_last=("_value", "last"),
    ).reset_index()
    enough = d[g["_log"].transform("size") >= min_campaigns]
    if enough.empty:
        mk = pd.DataFrame(columns=[*_KEYS, "slope", "tau", "p_value"])
    else:
        mk = mann_kendall(enough, by=_KEYS, time="_t", value="_log")
    out = out.merge(mk[[*_KEYS, "slope", "tau", "p_value"]], on=_KEYS, how="left")
    out["sufficient"] = out["n_campaigns"] >= min_campaigns
    out["slope_log"] = out["slope"].astype(float)
    out["change_per_year"] = np.expm1(out["slope_log"])
    out["p_value"] = out["p_value"].astype(float)
    out["tau"] = out["tau"].astype(float)
    out["significant"] = (out["p_value"] < alpha).fillna(False).astype(bool)
    out["direction"] = np.select(
        [
            ~out["sufficient"],
            out["significant"] & (out["slope_log"] > 0),
            out["significant"] & (out["slope_log"] < 0),
        ],
        [INSUFFICIENT, "ökande", "minskande"],
        default="ingen säkerställd trend",
    )
    out["metabolite"] = out["metabolite"].where(out["metabolite"] != "")
    out = out.astype({"n_campaigns": "int64", "n_days": "int64", "n_below_loq": "int64"})
    return out[CAMPAIGN_TREND_COLUMNS].reset_index(drop=True)


def campaign_change(
    campaigns: pd.DataFrame,
    *,
    from_years: int | Iterable[int],
    to_years: int | Iterable[int],
    value: str = "daily_mean",
    min_campaigns: int = MIN_CAMPAIGNS_CHANGE,
    alpha: float = ALPHA,
) -> pd.DataFrame:
    r"""Change between two periods on campaign means: Welch's t test on log means.

    Parameters
    ----------
    campaigns : DataFrame
        ``wastewater_campaigns`` rows.
    from_years, to_years : int or iterable of int
        The years of the earlier and the later period (e.g. 2024 and 2025, or the
        base period and the commitment period).
    value : str
        Campaign statistic (default ``daily_mean``).
    min_campaigns : int
        Campaigns needed in each period (default 2); fewer give
        ``direction = "otillräckligt underlag"`` and no test.
    alpha : float
        Significance level and 1 − confidence level.

    Returns
    -------
    DataFrame
        One row per series: ``kommun, plant, substance, metabolite, from_years,
        to_years`` (labels such as "2022–2024"), ``n_from, n_to`` (campaigns),
        ``n_below_loq_from, n_below_loq_to`` (days below LOQ), ``geomean_from,
        geomean_to`` (geometric means of the campaign means), ``change`` (relative:
        ``geomean_to / geomean_from - 1``), ``ci_low, ci_high`` (its interval),
        ``t, df, p_value, significant``, ``direction`` ("ökning", "minskning",
        "ingen säkerställd förändring" or "otillräckligt underlag"), ``sufficient``.

    Notes
    -----
    With :math:`x = \log` campaign mean, :math:`\hat\Delta = \bar x_2 - \bar x_1`,
    :math:`\mathrm{se} = \sqrt{s_1^2/n_1 + s_2^2/n_2}`, Welch–Satterthwaite degrees of
    freedom, two-sided *t* test (``scipy.stats.ttest_ind(x2, x1, equal_var=False)``,
    R ``t.test(x2, x1)``); ``change`` :math:`= e^{\hat\Delta} - 1` with interval
    :math:`e^{\hat\Delta \pm t_{1-\alpha/2,\,df}\,\mathrm{se}} - 1`. Each campaign is one
    observation: with two campaigns a year, one year against the next rests on 2 + 2
    observations, and only very large changes can be told from week-to-week variation
    (see :func:`detectable_change`).

    Examples
    --------
    >>> c = pd.DataFrame({"kommun": "K", "plant": "V", "substance": "kokain",
    ...     "year": [2022, 2022, 2025, 2025],
    ...     "date_from": pd.to_datetime(["2022-04-06", "2022-10-05", "2025-04-02",
    ...                                  "2025-10-01"]), "daily_mean": [50.0, 60, 90, 100]})
    >>> c["date_to"] = c["date_from"] + pd.Timedelta(days=6)
    >>> r = campaign_change(c, from_years=2022, to_years=2025).iloc[0]
    >>> round(float(r["change"]), 3), r["direction"]
    (0.732, 'ingen säkerställd förändring')
    """
    y1, y2 = _years(from_years), _years(to_years)
    d = _prepare(campaigns, value).dropna(subset=["_log"])
    d["_period"] = np.select([d["year"].isin(y1), d["year"].isin(y2)], [1, 2], default=0)
    d = d[d["_period"] > 0]
    rows = []
    for key, s in d.groupby(_KEYS, sort=True):
        a = s.loc[s["_period"] == 1, "_log"].to_numpy()
        b = s.loc[s["_period"] == 2, "_log"].to_numpy()
        row = dict(zip(_KEYS, key, strict=True))
        row.update(
            from_years=_label(y1),
            to_years=_label(y2),
            n_from=len(a),
            n_to=len(b),
            n_below_loq_from=int(s.loc[s["_period"] == 1, "n_below_loq"].sum()),
            n_below_loq_to=int(s.loc[s["_period"] == 2, "n_below_loq"].sum()),
            geomean_from=float(np.exp(a.mean())) if len(a) else np.nan,
            geomean_to=float(np.exp(b.mean())) if len(b) else np.nan,
        )
        ok = len(a) >= max(min_campaigns, 2) and len(b) >= max(min_campaigns, 2)
        diff = b.mean() - a.mean() if len(a) and len(b) else np.nan
        t = df = p = lo = hi = np.nan
        if ok:
            v1, v2 = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
            se = np.sqrt(v1 + v2)
            if se > 0:
                t = diff / se
                df = (v1 + v2) ** 2 / (v1**2 / (len(a) - 1) + v2**2 / (len(b) - 1))
                p = 2 * t_sf(abs(t), df)
                q = t_ppf(1 - alpha / 2, df)
                lo, hi = np.expm1(diff - q * se), np.expm1(diff + q * se)
        row.update(
            change=float(np.expm1(diff)),
            ci_low=lo,
            ci_high=hi,
            t=t,
            df=df,
            p_value=p,
            sufficient=ok,
        )
        rows.append(row)
    out = pd.DataFrame(rows, columns=[c for c in CAMPAIGN_CHANGE_COLUMNS if c != "significant"])
    if out.empty:
        return pd.DataFrame(columns=CAMPAIGN_CHANGE_COLUMNS)
    out["significant"] = (out["p_value"] < alpha).fillna(False).astype(bool)
    out["direction"] = np.select(
        [
            ~out["sufficient"].astype(bool),
            out["significant"] & (out["change"] > 0),
            out["significant"] & (out["change"] < 0),
        ],
        [INSUFFICIENT, "ökning", "minskning"],
        default="ingen säkerställd förändring",
    )
    out["metabolite"] = out["metabolite"].where(out["metabolite"] != "")
    out["sufficient"] = out["sufficient"].astype(bool)
    return out[CAMPAIGN_CHANGE_COLUMNS]


def between_campaign_cv(campaigns: pd.DataFrame, *, value: str = "daily_mean") -> pd.DataFrame:
    r"""Campaign-to-campaign variation within a year, per series.

    Returns
    -------
    DataFrame
        ``kommun, plant, substance, metabolite, n_campaigns, df, sd_log, cv``:
        the pooled within-year standard deviation of log campaign means
        :math:`s^2 = \sum_y \sum_i (x_{yi} - \bar x_y)^2 / \sum_y (n_y - 1)` and the
        coefficient of variation :math:`\sqrt{e^{s^2} - 1}`. Years with one campaign add
        nothing (``df = 0`` gives NaN). Within a year the spring and autumn campaigns
        differ by week-to-week and seasonal variation and by the day noise left in a
        7-day mean; a trend within the year is ignored (it is small beside them).
    """
    d = _prepare(campaigns, value).dropna(subset=["_log"])
    d["_dev2"] = (d["_log"] - d.groupby([*_KEYS, "year"])["_log"].transform("mean")) ** 2
    g = d.groupby(_KEYS, sort=True)
    out = pd.DataFrame(
        {
            "n_campaigns": g.size(),
            "df": g.size() - d.groupby(_KEYS, sort=True)["year"].nunique(),
            "ss": g["_dev2"].sum(),
        }
    ).reset_index()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["sd_log"] = np.where(out["df"] > 0, np.sqrt(out["ss"] / out["df"]), np.nan)
    out["cv"] = np.sqrt(np.expm1(out["sd_log"] ** 2))
    out["metabolite"] = out["metabolite"].where(out["metabolite"] != "")
    return out.drop(columns="ss")


def detectable_change(
    n_campaigns_per_year: int,
    cv_between_campaigns: float,
    years: int,
    alpha: float = ALPHA,
    power: float = 0.8,
) -> pd.DataFrame:
    r"""Smallest change between two periods the sampling plan detects with ``power``.

    Parameters
    ----------
    n_campaigns_per_year : int
        Campaigns a year (e.g. 2: spring and autumn).
    cv_between_campaigns : float
        Coefficient of variation of campaign means (e.g. 0.3 from
        :func:`between_campaign_cv`).
    years : int
        Years in each of the two compared periods (1: one year against the next).
    alpha, power : float
        Two-sided significance level and power.

    Returns
    -------
    DataFrame
        One row: ``n_campaigns_per_year, cv_between_campaigns, years, n_per_period,
        sd_log, delta_log, increase, decrease``: the smallest detectable rise
        (:math:`e^{\delta} - 1`) and fall (:math:`1 - e^{-\delta}`), relative.
        "Med två kampanjer per år kan en förändring på +X % eller −Y % upptäckas."

    Notes
    -----
    The test of :func:`campaign_change` on log campaign means, planned with equal
    variances: :math:`\sigma = \sqrt{\log(1 + \mathrm{cv}^2)}`, :math:`n` = years ×
    campaigns per year in each period, two-sample *t* test with :math:`2n - 2` degrees
    of freedom; :math:`\delta` solves
    :math:`P(|T'| > t_{1-\alpha/2}) = \text{power}` for the noncentral
    :math:`T' \sim t_{2n-2}(\delta / (\sigma\sqrt{2/n}))`, both tails counted. Equals R's
    ``power.t.test(n, sd = sigma, power = 0.8, strict = TRUE)$delta``.

    Examples
    --------
    >>> r = detectable_change(2, 0.3, 3).iloc[0]
    >>> round(float(r["increase"]), 2), round(float(r["decrease"]), 2)
    (0.69, 0.41)
    """
    n = int(n_campaigns_per_year) * int(years)
    if n < 2:
        raise ValueError(f"need at least two campaigns per period, got {n}")
    if not cv_between_campaigns > 0:
        raise ValueError(f"cv_between_campaigns must be positive, got {cv_between_campaigns!r}")
    sd = float(np.sqrt(np.log1p(cv_between_campaigns**2)))
    df = 2 * n - 2
    q = t_ppf(1 - alpha / 2, df)

    def miss(ncp: float) -> float:
        # the far tail is ~0; scipy returns NaN there for a large ncp
        lower = np.nan_to_num(stats.nct.cdf(-q, df, ncp), nan=0.0)
        return float(stats.nct.sf(q, df, ncp) + lower) - power

    ncp = optimize.brentq(miss, 1e-9, 40.0, xtol=1e-13, rtol=1e-13)
    delta = ncp * sd * np.sqrt(2 / n)
    return pd.DataFrame(
        [
            {
                "n_campaigns_per_year": int(n_campaigns_per_year),
                "cv_between_campaigns": float(cv_between_campaigns),
                "years": int(years),
                "n_per_period": n,
                "sd_log": sd,
                "delta_log": delta,
                "increase": float(np.expm1(delta)),
                "decrease": float(-np.expm1(-delta)),
            }
        ]
    )


def detectable_changes(campaigns: pd.DataFrame, *, power: float = 0.8) -> pd.DataFrame:
    """Per kommun and campaign year: the year-to-year change the sampling plan detects.

    For each year ``Y`` with a campaign, the campaigns up to ``Y`` give the typical
    number of campaigns a year (the median over plant × substance × year, as an integer)
    and the typical campaign-to-campaign variation (the median of
    :func:`between_campaign_cv` over the series); :func:`detectable_change` of the two
    with ``years=1`` is the smallest rise and fall between one year and the next that a
    two-sided test at 5 % finds with ``power``.

    Parameters
    ----------
    campaigns
        ``wastewater_campaigns`` (one or several kommuner).
    power
        The power asked for (0.8).

    Returns
    -------
    DataFrame
        :data:`DETECTABLE_COLUMNS`. A year gets no row when no series has two campaigns
        in one year (no variation to speak of), when fewer than two campaigns a year is
        typical, or when the typical variation is zero.

    Examples
    --------
    >>> camp = pd.DataFrame({
    ...     "kommun": "K", "plant": "V", "substance": "kokain", "metabolite": "BE",
    ...     "year": [2024, 2024, 2025, 2025],
    ...     "date_from": pd.to_datetime(["2024-04-01", "2024-10-01", "2025-04-01", "2025-10-01"]),
    ...     "date_to": pd.to_datetime(["2024-04-07", "2024-10-07", "2025-04-07", "2025-10-07"]),
    ...     "daily_mean": [100.0, 130.0, 110.0, 150.0]})
    >>> d = detectable_changes(camp)
    >>> d[["year", "n_campaigns_per_year"]].values.tolist()
    [[2024, 2], [2025, 2]]
    """
    rows = []
    if campaigns.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype=t) for c, t in wastewater_dtypes(DETECTABLE_COLUMNS).items()}
        )
    for kommun, own in campaigns.groupby("kommun", sort=True):
        for year in sorted({int(y) for y in own["year"]}):
            camp = own[own["year"].astype(int) <= year]
            per_year = camp.groupby(["plant", "substance", "year"]).size()
            cv = between_campaign_cv(camp)["cv"].dropna()
            if per_year.empty or cv.empty:
                continue
            n = int(per_year.median())
            typical = float(cv.median())
            if n < 2 or typical <= 0:
                continue
            d = detectable_change(n, typical, 1, power=power).iloc[0]
            rows.append(
                {
                    "kommun": str(kommun),
                    "year": year,
                    "n_campaigns_per_year": n,
                    "cv_between_campaigns": typical,
                    "increase": float(d["increase"]),
                    "decrease": float(d["decrease"]),
                }
            )
    out = pd.DataFrame(rows, columns=DETECTABLE_COLUMNS)
    return out.astype(wastewater_dtypes(DETECTABLE_COLUMNS))
