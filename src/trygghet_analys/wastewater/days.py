"""Campaign day rules: daily, weekday and weekend means of a sampling campaign.

EUDA's rules (weekday = Tue–Thu, weekend = Fri–Mon, no day imputed) are the Swedish
practice too, so one function gives a kommun's own campaign means and reproduces EUDA's
published ones. Pure: no file is read here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import DataError

__all__ = ["DAYS", "WEEKDAY_DAYS", "WEEKEND_DAYS", "campaign_means", "euda_day_rules"]


#: English day names in Monday-first order, as EUDA's header spells them.
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
#: EUDA's "weekday" days (Tue–Thu) and "weekend" days (Fri–Mon).
WEEKDAY_DAYS = ("Tuesday", "Wednesday", "Thursday")
WEEKEND_DAYS = ("Friday", "Saturday", "Sunday", "Monday")

# Day names a caller may use in the ``day`` column: English (any case), Swedish, or
# Python's weekday numbers (Monday = 0).
_SWEDISH_DAYS = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")
_DAY_LOOKUP: dict[object, str] = {}
for _i, (_en, _sv) in enumerate(zip(DAYS, _SWEDISH_DAYS, strict=True)):
    _DAY_LOOKUP[_en.lower()] = _en
    _DAY_LOOKUP[_sv] = _en
    _DAY_LOOKUP[_i] = _en


def _day_names(values: pd.Series, column: str) -> pd.Series:
    def norm(v: object) -> object:
        key = v.lower().strip() if isinstance(v, str) else v
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            key = int(key)
        return _DAY_LOOKUP.get(key, None)

    names = values.map(norm)
    bad = names.isna() & values.notna()
    if bad.any() or values.isna().any():
        v = values[bad | values.isna()].iloc[0]
        raise DataError(
            "en veckodag (Monday–Sunday, måndag–söndag eller 0–6)", column=column, value=v
        )
    return names.astype(str)


def euda_day_rules(year: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """EUDA's weekday and weekend days for one year.

    Parameters
    ----------
    year
        The campaign year.

    Returns
    -------
    (weekday days, weekend days)
        Tue–Thu and Fri–Mon; in 2021 Tue–Fri and Sat–Mon (EUDA's 2021 release, checked
        against its published means in ``tests/test_euda.py``).
    """
    if int(year) == 2021:
        return ("Tuesday", "Wednesday", "Thursday", "Friday"), ("Saturday", "Sunday", "Monday")
    return WEEKDAY_DAYS, WEEKEND_DAYS


def campaign_means(
    data: pd.DataFrame,
    *,
    by: Sequence[str] | str,
    day: str = "weekday",
    value: str = "value",
    year: str | None = None,
) -> pd.DataFrame:
    """Daily, weekday and weekend means of a campaign by EUDA's day rules.

    Parameters
    ----------
    data
        Long table: one row per campaign day (``read_euda`` output, or wastewater loads).
    by
        Columns identifying a campaign, e.g. ``["year", "metabolite", "city"]``.
    day
        Column with the day of the week: English names ("Tuesday"), Swedish names
        ("tisdag") or Python weekday numbers (Monday = 0).
    value
        Column with the daily value. NaN means no sample and is not a day present;
        0 (below LOQ under EUDA's convention) is a day present.
    year
        Column with the campaign's year. When given, each row follows EUDA's day rules
        of its year (:func:`euda_day_rules`: Tue–Fri and Sat–Mon in 2021); when None,
        the usual Tue–Thu and Fri–Mon for every row.

    Returns
    -------
    DataFrame
        The ``by`` columns, then ``daily_mean``, ``weekday_mean``, ``weekend_mean``
        (float64, NaN when no day of that kind is present) and ``n_days`` (int64, the
        number of days present), one row per group in order of first appearance.

    Notes
    -----
    With :math:`x_d` the values present and :math:`D` the days present,

    .. math::
        \\text{daily} = \\frac{1}{|D|}\\sum_{d\\in D} x_d,\\quad
        \\text{weekday} = \\text{mean}\\{x_d : d \\in \\{\\text{Tue, Wed, Thu}\\}\\},\\quad
        \\text{weekend} = \\text{mean}\\{x_d : d \\in \\{\\text{Fri, Sat, Sun, Mon}\\}\\}.

    No day is imputed. These are EUDA's rules for every year except 2021, when EUDA
    used Tue–Fri and Sat–Mon (see ``docs/euda.md``).

    Examples
    --------
    >>> d = pd.DataFrame({"c": "x", "weekday": ["Monday", "Tuesday", "Saturday"],
    ...                   "value": [1.0, 2.0, 3.0]})
    >>> campaign_means(d, by="c").iloc[0].to_dict()
    {'c': 'x', 'daily_mean': 2.0, 'weekday_mean': 2.0, 'weekend_mean': 2.0, 'n_days': 3}
    """
    keys = [by] if isinstance(by, str) else list(by)
    missing = [c for c in [*keys, day, value] if c not in data.columns]
    if missing:
        raise DataError(
            "kolumnerna " + ", ".join([*keys, day, value]),
            column=missing[0],
        )
    work = data[keys].copy()
    work["_day"] = _day_names(data[day], day).to_numpy()
    work["_v"] = pd.to_numeric(data[value], errors="raise").astype("float64").to_numpy()
    present = work["_v"].notna()
    is_wd = work["_day"].isin(WEEKDAY_DAYS).to_numpy().copy()
    is_we = work["_day"].isin(WEEKEND_DAYS).to_numpy().copy()
    if year is not None:
        if year not in data.columns:
            raise DataError("kolumnerna " + ", ".join([*keys, day, value, year]), column=year)
        years = pd.to_numeric(data[year], errors="raise").to_numpy()
        for y in pd.unique(years):
            wd_days, we_days = euda_day_rules(int(y))
            rows = years == y
            is_wd[rows] = work["_day"][rows].isin(wd_days).to_numpy()
            is_we[rows] = work["_day"][rows].isin(we_days).to_numpy()
    work["_wd"] = work["_v"].where(is_wd & present)
    work["_we"] = work["_v"].where(is_we & present)
    g = work.groupby(keys, sort=False, dropna=False)
    out = pd.DataFrame(
        {
            "daily_mean": g["_v"].mean(),
            "weekday_mean": g["_wd"].mean(),
            "weekend_mean": g["_we"].mean(),
            "n_days": g["_v"].count().astype("int64"),
        }
    ).reset_index()
    return out[[*keys, "daily_mean", "weekday_mean", "weekend_mean", "n_days"]]
