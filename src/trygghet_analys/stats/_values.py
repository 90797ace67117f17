"""A lookup done once per distinct value of a column instead of once per row, and a
table's rows read as Python values column by column instead of value by value.

The region's estimates have hundreds of thousands of rows but only one value of
``kommun`` per kommun and a few dozen indicators; ``Series.map`` with a function (or a
dict, on text columns) calls Python for every row. :func:`per_value` factorizes the
column, looks each distinct value up once and spreads the answers back by code.

Iterating a text column of pandas 3 (Arrow-backed ``str``) makes a pyarrow scalar and
converts it for every value (about 2 µs each): ``itertuples`` and ``to_dict("records")``
over the findings of a region cost seconds. :func:`row_tuples` and :func:`records` give
the same rows with each such column converted in one call.
"""

from __future__ import annotations

import collections
import functools
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
from pandas.core.dtypes.cast import maybe_box_native  # what to_dict boxes values with

__all__ = ["per_value", "records", "row_tuples"]


def per_value(values: pd.Series, lookup: Callable[[object], object], *, dtype=None) -> np.ndarray:
    """``values.map(lookup).to_numpy(dtype=dtype)`` with ``lookup`` called once per
    distinct value (a missing value is looked up as it is in the column).

    Parameters
    ----------
    values
        The column (any dtype ``pd.factorize`` takes).
    lookup
        The answer for one value.
    dtype
        The dtype of the answers (None: as NumPy infers it from them).

    Examples
    --------
    >>> per_value(pd.Series(["a", "b", "a"]), {"a": 1}.get, dtype=float).tolist()
    [1.0, nan, 1.0]
    """
    codes, distinct = pd.factorize(values, use_na_sentinel=False)
    answers = np.array([_none_as_nan(lookup(v), dtype) for v in distinct], dtype=dtype)
    return answers[codes]


def _none_as_nan(answer: object, dtype) -> object:
    """None in a float column is NaN, as ``Series.map`` then ``astype(float)`` gives it."""
    if answer is None and dtype is not None and np.dtype(dtype).kind == "f":
        return np.nan
    return answer


def row_tuples(
    frame: pd.DataFrame, *, index: bool = False, name: str | None = "Pandas"
) -> Iterator[tuple]:
    """``frame.itertuples(index=index, name=name)``: the same tuples with the same values.

    A column held in a NumPy array or as text is read out with ``tolist`` (one call
    giving exactly the values iterating it gives: Python scalars, and the column's
    missing-value marker for a missing text); any other column (categorical, nullable
    integer, dates) is iterated as ``itertuples`` iterates it.

    Examples
    --------
    >>> t = pd.DataFrame({"a": ["x", None], "n": [1, 2]})
    >>> list(row_tuples(t)) == list(t.itertuples(index=False))
    True
    """
    fields = [str(c) for c in frame.columns]
    columns: list = [frame.index] if index else []
    if index:
        fields.insert(0, "Index")
    for _, column in frame.items():  # by position, as itertuples; cheaper than iloc[:, k]
        plain = isinstance(column.array, pd.arrays.NumpyExtensionArray)
        text = isinstance(column.dtype, pd.StringDtype)
        columns.append(column.tolist() if plain or text else column)
    rows = zip(*columns, strict=True) if columns else iter([()] * len(frame))
    if name is None:
        return rows
    return map(_row_type(name, tuple(fields))._make, rows)


@functools.cache
def _row_type(name: str, fields: tuple[str, ...]) -> type:
    """The namedtuple class of rows with these fields, made once: making one costs about
    as much as reading a small table's rows, and a report reads the same tables' rows
    for every kommun."""
    return collections.namedtuple(name, fields, rename=True)


def records(frame: pd.DataFrame) -> list[dict]:
    """``frame.to_dict("records")`` (one dict per row, column → value) read through
    :func:`row_tuples`; the values of ``object`` and extension-type columns boxed as
    ``to_dict`` boxes them (a NumPy scalar as the Python one, ``pd.NA`` as None).

    Examples
    --------
    >>> t = pd.DataFrame({"a": ["x", None], "n": [1, 2]})
    >>> records(t) == t.to_dict("records")
    True
    """
    names = list(frame.columns)
    boxed = [
        c
        for c, d in zip(names, frame.dtypes, strict=True)
        if d == np.dtype(object) or isinstance(d, pd.api.extensions.ExtensionDtype)
    ]
    out = [dict(zip(names, row, strict=True)) for row in row_tuples(frame, name=None)]
    for row in out if boxed else ():
        for c in boxed:
            row[c] = maybe_box_native(row[c])
    return out
