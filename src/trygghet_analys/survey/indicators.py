"""Indicator definitions (data, not code) and their per-respondent values.

The definitions live in ``resources/indikatorer.csv`` with the columns
``id, label, definition, kind, variables, categories, direction, focus_area, unit, ntu_id``:

- ``kind`` is ``proportion`` (share of valid answers in ``categories``) or ``mean``
  (a score averaged per respondent over the answered ``variables``);
- ``variables`` are canonical question columns, separated by ``|``;
- ``categories`` are the canonical answers that count, separated by ``|`` (proportion), or
  ``answer=score`` pairs separated by ``|`` (mean);
- "Vet ej" and missing answers are never valid: they leave the denominator.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from ..errors import DataError
from ..vocabulary import read_resource_csv

__all__ = ["DONT_KNOW", "indicator_values", "load_indicators", "indicator_variables"]

DONT_KNOW = "Vet ej"
_FILE = "indikatorer.csv"
_COLUMNS = [
    "id",
    "label",
    "definition",
    "kind",
    "variables",
    "categories",
    "direction",
    "focus_area",
    "unit",
    "ntu_id",
]
_ALLOWED = {
    "kind": {"proportion", "mean"},
    "direction": {"higher_is_worse", "higher_is_better"},
    "focus_area": {"Samverkan", "Synlighet", "Trygghet"},
}


@lru_cache(maxsize=1)
def _read_definitions() -> pd.DataFrame:
    return read_resource_csv(_FILE, dtype=str, keep_default_na=False)


def load_indicators() -> pd.DataFrame:
    """The indicator definitions shipped with the package.

    Returns
    -------
    DataFrame
        One row per indicator, in display order, with columns ``id`` (fixed id used by
        registers and charts), ``label`` (Swedish), ``definition`` (Swedish text),
        ``kind`` (``proportion`` | ``mean``), ``variables`` (canonical columns, ``|``
        separated), ``categories`` (counted answers, or ``answer=score`` pairs),
        ``direction`` (``higher_is_worse`` | ``higher_is_better``), ``focus_area``
        (Samverkan | Synlighet | Trygghet), ``unit`` and ``ntu_id`` (Brå NTU indicator
        with the same definition, empty when none).

    Raises
    ------
    DataError
        The file lacks a column, repeats an id, or holds an unknown kind, direction or
        focus area.

    Examples
    --------
    >>> load_indicators().set_index("id").loc["otrygghet_ute_sent", "ntu_id"]
    'otrygg_ute_sent'
    """
    table = _read_definitions().copy()
    missing = [c for c in _COLUMNS if c not in table.columns]
    if missing:
        raise DataError(f"kolumnerna {', '.join(_COLUMNS)}", file=_FILE, column=missing[0])
    dup = table["id"].duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise DataError("unika id", file=_FILE, row=i + 2, column="id", value=table["id"][i])
    for col, allowed in _ALLOWED.items():
        bad = ~table[col].isin(allowed)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                "ett av: " + ", ".join(sorted(allowed)),
                file=_FILE,
                row=i + 2,
                column=col,
                value=table[col][i],
            )
    return table[_COLUMNS]


def indicator_variables(indicator: pd.Series | str) -> list[str]:
    """The canonical question columns an indicator reads (``variables`` split on ``|``)."""
    row = _indicator_row(indicator)
    return [v.strip() for v in row["variables"].split("|") if v.strip()]


def _indicator_row(indicator: pd.Series | str) -> pd.Series:
    if isinstance(indicator, pd.Series):
        return indicator
    table = load_indicators()
    hit = table[table["id"] == indicator]
    if hit.empty:
        raise ValueError(f"indicator={indicator!r} is unknown; known ids: {list(table['id'])}")
    return hit.iloc[0]


def _lookup(column: pd.Series, mapping: dict[str, float], *, name: str) -> np.ndarray:
    """Map answers to numbers; missing, "Vet ej" and unmapped answers become NaN.

    Categorical columns go through their integer codes (fast at a million rows).
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        cats = [str(c) for c in column.cat.categories]
        unknown = [k for k in mapping if k not in cats]
        if unknown:
            raise DataError(
                "svarsalternativ som finns i frågan (" + ", ".join(cats) + ")",
                file=_FILE,
                column=name,
                value=unknown[0],
            )
        table = np.array([mapping.get(c, np.nan) for c in cats] + [np.nan])
        return table[column.cat.codes.to_numpy()]
    return column.map(mapping).to_numpy(dtype=float, na_value=np.nan)


def indicator_values(responses: pd.DataFrame, indicator: pd.Series | str) -> pd.Series:
    """Per-respondent value of one indicator.

    Parameters
    ----------
    responses : DataFrame
        Canonical respondent table (ordered categorical answer columns; plain strings
        also work).
    indicator : Series or str
        A row of :func:`load_indicators` or an indicator id.

    Returns
    -------
    Series
        Float, indexed like ``responses`` and named by the indicator id. Proportions:
        1.0 if the answer is one of ``categories``, 0.0 for another valid answer, NaN for
        a missing answer or "Vet ej". Means: the respondent's average score over the
        answered items (NaN when none is answered).

    Raises
    ------
    DataError
        A variable is not a column of ``responses``, or a counted answer is not one of
        the question's categories.
    ValueError
        An unknown indicator id.

    Notes
    -----
    Proportion: :math:`y_i = 1[a_i \\in C]` over valid answers :math:`a_i \\notin
    \\{\\text{NA}, \\text{Vet ej}\\}`. Mean score (our problemindex): with item scores
    :math:`s(a) \\in \\{0, 2, 4, 6\\}`, :math:`y_i = \\sum_{j \\in J_i} s(a_{ij}) / |J_i|`,
    :math:`J_i` the items respondent *i* answered validly.

    Examples
    --------
    >>> cats = ["Nej", "Ja", "Vet ej"]
    >>> r = pd.DataFrame({"grannsamverkan": pd.Categorical(["Ja", "Nej", "Vet ej", None],
    ...                                                   categories=cats, ordered=True)})
    >>> indicator_values(r, "grannsamverkan").tolist()
    [1.0, 0.0, nan, nan]
    """
    row = _indicator_row(indicator)
    variables = indicator_variables(row)
    for var in variables:
        if var not in responses.columns:
            raise DataError(
                f"kolumnen '{var}' i svarstabellen (indikatorn {row['id']})", column=var
            )
    parts = [p.strip() for p in row["categories"].split("|") if p.strip()]
    if row["kind"] == "proportion":
        col = responses[variables[0]]
        if isinstance(col.dtype, pd.CategoricalDtype):
            valid = [str(c) for c in col.cat.categories if str(c) != DONT_KNOW]
        else:
            valid = [str(v) for v in pd.unique(col.dropna()) if str(v) != DONT_KNOW]
        mapping = {c: 0.0 for c in valid} | {c: 1.0 for c in parts}
        values = _lookup(col, mapping, name=variables[0])
    else:
        mapping = {}
        for part in parts:
            answer, _, score = part.partition("=")
            try:
                mapping[answer.strip()] = float(score)
            except ValueError:
                raise DataError(
                    "par på formen svar=poäng", file=_FILE, column="categories", value=part
                ) from None
        scores = np.column_stack([_lookup(responses[v], mapping, name=v) for v in variables])
        answered = ~np.isnan(scores)
        count = answered.sum(axis=1)
        total = np.where(answered, scores, 0.0).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.where(count > 0, total / count, np.nan)
    return pd.Series(values, index=responses.index, name=row["id"], dtype=float)
