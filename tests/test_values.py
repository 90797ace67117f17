"""``stats._values.per_value``: the same answers as ``Series.map`` row by row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trygghet_analys.stats._values import per_value

LOOKUP = {"Lund": 25, "Ystad": 40}


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(["Lund", "Ystad", "Lund", "Malmö"], dtype="str"),
        pd.Series(["Lund", "Ystad", "Lund", "Malmö"], dtype=object),
        pd.Series(["Ystad", "Lund", "Ystad"], dtype="category"),
        pd.Series(["Lund", None, "Ystad"], dtype="str"),
        pd.Series([], dtype="str"),
    ],
)
def test_per_value_is_the_row_by_row_map(values):
    def lookup(k):
        return LOOKUP.get(k, 30)

    expected = values.map(lookup).to_numpy(dtype=np.int64)
    got = per_value(values, lookup, dtype=np.int64)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, expected)


def test_per_value_none_is_nan_in_a_float_column():
    values = pd.Series(["Lund", "Malmö", "Ystad", "Lund"], dtype="str")
    expected = values.map(LOOKUP.get).astype("float64").to_numpy()
    np.testing.assert_array_equal(per_value(values, LOOKUP.get, dtype="float64"), expected)


def test_per_value_calls_the_lookup_once_per_distinct_value():
    calls = []

    def lookup(k):
        calls.append(k)
        return len(k)

    values = pd.Series(["Lund", "Ystad"] * 1000, dtype="str")
    assert per_value(values, lookup, dtype=np.int64).tolist() == [4, 5] * 1000
    assert sorted(calls) == ["Lund", "Ystad"]
