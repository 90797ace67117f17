"""A lookup done once per distinct value of a column instead of once per row.

The region's estimates have hundreds of thousands of rows but only one value of
``kommun`` per kommun and a few dozen indicators; ``Series.map`` with a function (or a
dict, on text columns) calls Python for every row. :func:`per_value` factorizes the
column, looks each distinct value up once and spreads the answers back by code.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

__all__ = ["per_value"]


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
