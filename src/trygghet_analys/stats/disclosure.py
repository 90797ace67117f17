"""Disclosure control: primary suppression below ``min_n`` and secondary suppression.

Primary suppression hides every estimate from fewer than ``min_n`` respondents. That is not
enough on its own: the total is a weighted mean of the groups of any one breakdown (areas,
sexes, age groups), so when exactly one group of a breakdown is hidden, it can be computed
back from the published total and the other groups. Secondary suppression hides one more
group there: the one with the fewest respondents.

:func:`suppress` applies both, exactly as ``trygghet-analys build`` does, to any estimates
table (also one made in a notebook); :func:`check_disclosure` refuses a table that still
shows what :func:`suppress` would hide, and is called by every ad-hoc export.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import DataError
from ._values import per_value

__all__ = [
    "DEFAULT_MIN_N",
    "check_disclosure",
    "suppress",
    "suppress_complements",
    "suppress_small",
]

#: Default disclosure threshold: estimates from fewer respondents are not shown.
DEFAULT_MIN_N = 30

_KEYS = ["kommun", "year", "indicator", "group_var"]
_HIDDEN = ["estimate", "se", "ci_low", "ci_high"]
#: how ``estimate_indicators`` joins crossed domains (``stats.estimation.CROSS_SEP`` etc.)
_CROSS_SEP = "+"
_GROUP_SEP = ", "


def _thresholds(table: pd.DataFrame, min_n: int | Mapping[str, int]) -> np.ndarray:
    if isinstance(min_n, Mapping):
        if "kommun" not in table.columns:
            raise ValueError("min_n per kommun needs a 'kommun' column in the table")
        return per_value(table["kommun"], lambda k: min_n.get(k, DEFAULT_MIN_N), dtype=np.int64)
    if isinstance(min_n, bool) or not isinstance(min_n, (int, np.integer)) or min_n < 0:
        raise ValueError(f"min_n must be a non-negative int or a mapping, got {min_n!r}")
    return np.full(len(table), int(min_n), dtype=np.int64)


def suppress(
    table: pd.DataFrame, *, min_n: int | Mapping[str, int] = DEFAULT_MIN_N
) -> pd.DataFrame:
    """Primary and secondary suppression, the same rules as ``trygghet-analys build``.

    Parameters
    ----------
    table
        An estimates table (``kommun, year, indicator, group_var, group, estimate, se,
        ci_low, ci_high, n``, ``suppressed`` optional), e.g. from
        :func:`~trygghet_analys.estimate_indicators`, also with crossed domains.
    min_n
        Fewest respondents an estimate may rest on (the kommun's ``min_n`` in
        ``kommun.yml``; default 30), or a mapping kommun → ``min_n``.

    Returns
    -------
    DataFrame
        A copy with ``suppressed`` set where ``n < min_n`` (primary) and where a hidden
        group could be computed back from the others (secondary, see
        :func:`suppress_complements`); suppressed rows keep ``n`` and have NaN
        ``estimate, se, ci_low, ci_high``. Rows already suppressed stay suppressed.

    Raises
    ------
    DataError
        The table lacks ``n`` or a key column.

    Examples
    --------
    >>> est = pd.DataFrame({
    ...     "kommun": "K", "year": 2025, "indicator": "x", "group_var": "sex",
    ...     "group": ["Kvinna", "Man"], "estimate": [0.2, 0.3], "se": 0.01,
    ...     "ci_low": 0.1, "ci_high": 0.4, "n": [12, 80]})
    >>> suppress(est, min_n=30)["suppressed"].tolist()
    [True, True]
    """
    for col in [*_KEYS, "group", "n"]:
        if col not in table.columns:
            raise DataError(f"kolumnen '{col}' i skattningstabellen", column=col)
    out = table.copy()
    primary = pd.to_numeric(out["n"], errors="coerce").to_numpy(dtype=float) < _thresholds(
        out, min_n
    )
    before = (
        out["suppressed"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        if "suppressed" in out.columns
        else np.zeros(len(out), dtype=bool)
    )
    out["suppressed"] = before | primary
    hidden = [c for c in _HIDDEN if c in out.columns]
    out.loc[out["suppressed"], hidden] = np.nan
    return suppress_complements(out)


def check_disclosure(
    table: pd.DataFrame, *, min_n: int | Mapping[str, int] = DEFAULT_MIN_N, file: object = None
) -> None:
    """Refuse a table that shows an estimate :func:`suppress` would hide.

    Parameters
    ----------
    table
        An estimates table with ``n`` (see :func:`suppress`). Tables without an
        ``estimate`` column (nothing to disclose) pass.
    min_n
        As in :func:`suppress`.
    file
        The file about to be written (named in the error).

    Raises
    ------
    DataError
        One Swedish line naming the first row (as in the xlsx: header counted), its
        group, ``n`` and ``min_n``, or saying that a complementary group must be hidden.
    """
    if "estimate" not in table.columns:
        return
    if "n" not in table.columns:
        raise DataError(
            "kolumnen 'n' (antal svar) så att små grupper kan döljas; "
            "exportera en tabell från estimate_indicators",
            file=file,
            column="n",
        )
    shown = table["estimate"].notna().to_numpy()
    n = pd.to_numeric(table["n"], errors="coerce").to_numpy(dtype=float)
    limit = _thresholds(table, min_n)
    small = shown & ~(n >= limit)
    if small.any():
        i = int(np.flatnonzero(small)[0])
        raise DataError(
            f"minst {limit[i]} svarande bakom varje visad skattning (gruppen "
            f"'{table['group'].iloc[i] if 'group' in table.columns else ''}' har {n[i]:.0f}); "
            f"kör suppress(tabell, min_n={limit[i]}) före exporten",
            file=file,
            row=i + 2,
            column="n",
            value=f"{n[i]:.0f}",
        )
    safe = suppress(table, min_n=min_n)["suppressed"].to_numpy(dtype=bool)
    leak = shown & safe
    if leak.any():
        i = int(np.flatnonzero(leak)[0])
        raise DataError(
            f"att gruppen '{table['group'].iloc[i]}' döljs också (sekundär röjandekontroll: "
            "annars kan en dold grupp räknas fram ur de andra); kör "
            f"suppress(tabell, min_n={limit[i]}) före exporten",
            file=file,
            row=i + 2,
            column="estimate",
            value=table["estimate"].iloc[i],
        )


def _components(group_var: str, groups: pd.Series) -> pd.DataFrame | None:
    """The values of a crossed domain's columns, one column each; None when the labels do
    not split into as many parts (only an area name may itself hold ", ")."""
    columns = group_var.split(_CROSS_SEP)
    k = len(columns)
    rows = []
    for label in groups.astype(str):
        parts = label.split(_GROUP_SEP)
        if len(parts) != k:
            if "stratum" not in columns or len(parts) < k:
                return None
            s = columns.index("stratum")
            after = k - s - 1
            parts = [
                *parts[:s],
                _GROUP_SEP.join(parts[s : len(parts) - after]),
                *parts[len(parts) - after :],
            ]
        rows.append(parts)
    return pd.DataFrame(rows, index=groups.index, columns=[f"_c{j}" for j in range(k)])


def _complement_picks(frame: pd.DataFrame, keys: list[str]) -> pd.Index:
    """Rows to hide: in every slice of ``keys`` with exactly one suppressed row, the shown
    row with the smallest ``n`` (ties: the first group name)."""
    hidden = frame.groupby(keys, sort=False)["suppressed"].transform("sum")
    candidates = frame[(hidden == 1) & ~frame["suppressed"].astype(bool)]
    if candidates.empty:
        return candidates.index
    return candidates.sort_values([*keys, "n", "group"]).groupby(keys, sort=False).head(1).index


def suppress_small(estimates: pd.DataFrame, min_n: int | Mapping[str, int]) -> pd.DataFrame:
    """Primary suppression: mark and hide every estimate from fewer than ``min_n`` respondents.

    Parameters
    ----------
    estimates
        Estimates with ``kommun``, ``n``, ``estimate``, ``se``, ``ci_low``, ``ci_high``.
    min_n
        The threshold, or kommun → threshold (kommuner missing from the mapping get
        :data:`DEFAULT_MIN_N`).

    Returns
    -------
    DataFrame
        ``estimates`` with a bool column ``suppressed`` (``n < min_n``) and NaN estimate,
        se and interval on suppressed rows (``n`` is kept).

    Examples
    --------
    >>> e = pd.DataFrame({"kommun": ["A", "A"], "n": [29, 30], "estimate": [0.5, 0.4],
    ...                   "se": 0.1, "ci_low": 0.2, "ci_high": 0.6})
    >>> suppress_small(e, 30)[["n", "estimate", "suppressed"]].to_dict("list")
    {'n': [29, 30], 'estimate': [nan, 0.4], 'suppressed': [True, False]}
    """
    out = estimates.copy()
    if isinstance(min_n, Mapping):
        thresholds = per_value(out["kommun"], lambda k: min_n.get(k, DEFAULT_MIN_N))
    else:
        if not isinstance(min_n, (int, np.integer)) or min_n < 0:
            raise ValueError(f"min_n must be a non-negative int or a mapping, got {min_n!r}")
        thresholds = np.full(len(out), int(min_n))
    out["suppressed"] = out["n"].to_numpy() < thresholds
    out.loc[out["suppressed"], _HIDDEN] = np.nan
    return out


def suppress_complements(estimates: pd.DataFrame) -> pd.DataFrame:
    """Hide a second group wherever exactly one group of a breakdown is suppressed.

    Parameters
    ----------
    estimates
        The estimates table (``kommun, year, indicator, group_var, group, estimate, se,
        ci_low, ci_high, n, suppressed``) after primary suppression.

    Returns
    -------
    DataFrame
        A copy in which, for every kommun × year × indicator × breakdown (``group_var``
        other than ``total``) with exactly one suppressed group, the shown group with the
        smallest ``n`` (ties: the first group name) is suppressed too: ``suppressed`` True,
        estimate, SE and CI missing, ``n`` kept. A crossed breakdown
        (``group_var`` like ``sex+age_group``) is treated in the same way, and so is each
        of its slices (the age groups of one sex, the sexes of one age group), since a
        published margin ("Kvinna") lets a single hidden cell of its slice be computed
        back; hiding is repeated until no slice has exactly one hidden cell.

    Notes
    -----
    For areas the total is p = Σ_h w_h p_h / Σ_h w_h with public weights, so one hidden
    area is exactly recoverable; for domains (sex, age group) it is recoverable up to the
    published counts. Two hidden groups leave one equation with two unknowns.

    Examples
    --------
    >>> est = pd.DataFrame({
    ...     "kommun": "K", "year": 2025, "indicator": "x", "group_var": "stratum",
    ...     "group": ["A", "B", "C"], "estimate": [np.nan, 0.2, 0.3], "se": 0.01,
    ...     "ci_low": 0.1, "ci_high": 0.4, "n": [12, 80, 95],
    ...     "suppressed": [True, False, False]})
    >>> suppress_complements(est)["suppressed"].tolist()
    [True, True, False]
    """
    out = estimates.copy()
    breakdown = out[out["group_var"] != "total"]
    if breakdown.empty:
        return out
    hidden = [c for c in _HIDDEN if c in out.columns]
    work = breakdown[[*_KEYS, "group", "n", "suppressed"]].copy()
    work["suppressed"] = work["suppressed"].astype(bool)
    slices: list[tuple[pd.DataFrame, list[str]]] = []
    crossed = work["group_var"].astype(str).str.contains(_CROSS_SEP, regex=False)
    for gv in pd.unique(work.loc[crossed, "group_var"].astype(str)):
        rows = work[work["group_var"].astype(str) == gv]
        parts = _components(gv, rows["group"])
        if parts is None:
            continue
        for j in range(parts.shape[1]):
            others = [c for c in parts.columns if c != f"_c{j}"]
            slices.append((parts[others], others))
    while True:  # hiding one cell may leave another slice with one hidden: repeat
        picks = _complement_picks(work, _KEYS)
        for parts, others in slices:
            sub = work.loc[parts.index].join(parts)
            picks = picks.union(_complement_picks(sub, [*_KEYS, *others]))
        if picks.empty:
            break
        work.loc[picks, "suppressed"] = True
    changed = work.index[
        work["suppressed"].to_numpy() & ~out.loc[work.index, "suppressed"].astype(bool).to_numpy()
    ]
    out.loc[changed, "suppressed"] = True
    out.loc[changed, hidden] = np.nan
    return out
