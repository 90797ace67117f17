"""Indicator definitions (data, not code) and their per-respondent values.

The definitions live in ``resources/indikatorer.csv`` with the columns
``id, label, definition, kind, variables, categories, direction, focus_area, unit, ntu_id``:

- ``kind`` is ``proportion`` (share of valid answers in ``categories``) or ``mean``
  (a score averaged per respondent over the answered ``variables``);
- ``variables`` are canonical question columns, separated by ``|``;
- ``categories`` are the canonical answers that count, separated by ``|`` (proportion), or
  ``answer=score`` pairs separated by ``|`` (mean);
- "Vet ej" and missing answers are never valid: they leave the denominator.

An analyst's own indicators use the same columns: :func:`define_indicator` makes one in
code (a notebook), a kommun's ``raw/indikatorer_egna.csv`` holds them as data
(:func:`trygghet_analys.files.indicators.read_own_indicators`), and :func:`add_indicators`
puts them after the package's own, refusing an id that is taken.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import DataError
from ..vocabulary import read_resource_csv

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "DONT_KNOW",
    "INDICATOR_COLUMNS",
    "add_indicators",
    "allowed_values",
    "check_indicator_answers",
    "check_indicators",
    "define_indicator",
    "indicator_values",
    "indicator_variables",
    "load_indicators",
]

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
INDICATOR_COLUMNS = tuple(_COLUMNS)
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_ALLOWED = {
    "kind": {"proportion", "mean"},
    "direction": {"higher_is_worse", "higher_is_better"},
    "focus_area": {"Samverkan", "Synlighet", "Trygghet"},
}


def allowed_values(column: str) -> frozenset[str]:
    """The values an indicator definition may hold in ``column`` (kind, direction, focus_area).

    Examples
    --------
    >>> sorted(allowed_values("kind"))
    ['mean', 'proportion']
    """
    return frozenset(_ALLOWED[column])


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
    return check_indicators(_read_definitions().copy(), file=_FILE)


def check_indicators(table: pd.DataFrame, *, file: str | Path | None = None) -> pd.DataFrame:
    """Check indicator definitions (the columns of :func:`load_indicators`).

    Parameters
    ----------
    table
        Definitions, one row each.
    file
        The file they were read from (named in errors).

    Returns
    -------
    DataFrame
        ``table`` with exactly the columns of :func:`load_indicators`, in order.

    Raises
    ------
    DataError
        A column is missing, an id repeats or is not lower-case ASCII (``a-z``, digits,
        ``_``), a label, variable or category is empty, or kind, direction or focus area
        is unknown; the row is named as in a spreadsheet (header = row 1).
    """
    file = _FILE if file is None else file
    missing = [c for c in _COLUMNS if c not in table.columns]
    if missing:
        raise DataError(f"kolumnerna {', '.join(_COLUMNS)}", file=file, column=missing[0])
    table = table.reset_index(drop=True)
    dup = table["id"].duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise DataError("unika id", file=file, row=i + 2, column="id", value=table["id"][i])
    for i, value in enumerate(table["id"]):
        if not _ID.match(str(value)):
            raise DataError(
                "ett id av små bokstäver a–z, siffror och _ (t.ex. mycket_otrygg)",
                file=file,
                row=i + 2,
                column="id",
                value=value,
            )
    for col in ("label", "variables", "categories"):
        empty = table[col].astype(str).str.strip().isin(["", "nan"])
        if empty.any():
            i = int(np.flatnonzero(empty.to_numpy())[0])
            raise DataError("en ifylld cell", file=file, row=i + 2, column=col, value="")
    for col, allowed in _ALLOWED.items():
        bad = ~table[col].isin(allowed)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                "ett av: " + ", ".join(sorted(allowed)),
                file=file,
                row=i + 2,
                column=col,
                value=table[col][i],
            )
    return table[_COLUMNS]


def define_indicator(
    id: str,
    *,
    variables: str | Sequence[str],
    categories: Sequence[str] | Mapping[str, float],
    label: str,
    direction: str = "higher_is_worse",
    definition: str = "",
    focus_area: str = "Trygghet",
    unit: str | None = None,
) -> pd.DataFrame:
    """An indicator of one's own, in the format of :func:`load_indicators`.

    Parameters
    ----------
    id
        A new id: lower-case ASCII letters, digits and ``_`` (``mycket_otrygg``).
    variables
        The canonical question (``"otrygg_ute_sent"``), or several for a mean score.
    categories
        The answers that count (a proportion: share of valid answers among them), or a
        mapping answer → score (a mean over the answered ``variables``, as the
        problemindex). "Vet ej" and missing answers never count.
    label
        Swedish label for charts and tables.
    direction
        ``higher_is_worse`` or ``higher_is_better`` (decides "förbättrad"/"försämrad").
    definition
        Swedish definition text; by default one made from the categories.
    focus_area
        Samverkan, Synlighet or Trygghet.
    unit
        Default ``andel`` (proportion) or ``medelvärde`` (mean).

    Returns
    -------
    DataFrame
        One row: ``id, label, definition, kind, variables, categories, direction,
        focus_area, unit, ntu_id``. Pass it (or ``pd.concat`` with others) as
        ``indicators=`` to :func:`~trygghet_analys.estimate_indicators`; the same row
        in the kommun's ``raw/indikatorer_egna.csv`` gives the same estimates in the
        build.

    Raises
    ------
    DataError
        As :func:`check_indicators`.

    Examples
    --------
    >>> d = define_indicator("mycket_otrygg", variables="otrygg_ute_sent",
    ...                      categories=["Mycket otrygg"], label="Mycket otrygg ute sent")
    >>> d.loc[0, ["kind", "categories", "direction"]].tolist()
    ['proportion', 'Mycket otrygg', 'higher_is_worse']
    """
    names = [variables] if isinstance(variables, str) else list(variables)
    if isinstance(categories, Mapping):
        kind = "mean"
        cats = "|".join(f"{k}={float(v):g}" for k, v in categories.items())
    else:
        if isinstance(categories, str):
            categories = [categories]
        kind = "proportion"
        cats = "|".join(str(c) for c in categories)
    if not definition:
        counted = ", ".join(str(c) for c in categories)
        definition = (
            f"Andel som svarat {counted} på frågan {names[0]}. Nämnare: giltiga svar utom Vet ej."
            if kind == "proportion"
            else f"Medelpoäng ({cats}) över besvarade frågor ({', '.join(names)}); Vet ej räknas inte."
        )
    row = {
        "id": id,
        "label": label,
        "definition": definition,
        "kind": kind,
        "variables": "|".join(names),
        "categories": cats,
        "direction": direction,
        "focus_area": focus_area,
        "unit": unit if unit is not None else ("andel" if kind == "proportion" else "medelvärde"),
        "ntu_id": "",
    }
    return check_indicators(pd.DataFrame([row]), file="define_indicator")


def add_indicators(
    base: pd.DataFrame, extra: pd.DataFrame, *, file: str | Path | None = None
) -> pd.DataFrame:
    """``base`` followed by ``extra``, refusing an id of ``extra`` that ``base`` has.

    Parameters
    ----------
    base
        Definitions, usually :func:`load_indicators`.
    extra
        One's own definitions (:func:`define_indicator`, ``raw/indikatorer_egna.csv``).
    file
        Where ``extra`` comes from (named in errors).

    Returns
    -------
    DataFrame
        The definitions, checked with :func:`check_indicators`.

    Raises
    ------
    DataError
        An id of ``extra`` is already taken, or a definition is invalid.
    """
    extra = check_indicators(extra, file=file if file is not None else "define_indicator")
    taken = set(base["id"])
    for i, value in enumerate(extra["id"]):
        if value in taken:
            raise DataError(
                "ett nytt id (det finns redan bland paketets indikatorer)",
                file=file,
                row=i + 2,
                column="id",
                value=value,
            )
    return check_indicators(pd.concat([base, extra], ignore_index=True), file=file)


def check_indicator_answers(
    definitions: pd.DataFrame, responses: pd.DataFrame, *, file: str | Path | None = None
) -> None:
    """Check that every definition reads existing questions and answer categories.

    Parameters
    ----------
    definitions
        Indicator definitions (e.g. a kommun's own).
    responses
        The canonical respondent table (only its columns and categories are used).
    file
        The file the definitions come from (named in the error, with the row).

    Raises
    ------
    DataError
        A variable is not a question of the respondent table, or a counted answer is not
        one of the question's answer categories.
    """
    empty = responses.iloc[:0]
    for i, row in enumerate(definitions.reset_index(drop=True).itertuples(index=False)):
        try:
            indicator_values(empty, pd.Series(row._asdict()))
        except DataError as exc:
            where = "variables" if "kolumnen" in exc.expected else "categories"
            raise DataError(
                exc.expected,
                file=file if file is not None else exc.file,
                row=i + 2 if file is not None else None,
                column=where,
                value=exc.value if exc.has_value else exc.column,
            ) from None


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
