"""``stats._values``: ``per_value`` gives the same answers as ``Series.map`` row by row;
``row_tuples`` and ``records`` the same rows as ``itertuples`` and ``to_dict("records")``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trygghet_analys.stats._values import per_value, records, row_tuples

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


def _mixed_table() -> pd.DataFrame:
    """Every kind of column the processed tables hold, with missing values where the
    kind has them, and a column name that is not an identifier."""
    return pd.DataFrame(
        {
            "kommun": pd.Series(["Lund", None, "Ystad"], dtype="str"),
            "text": pd.Series(["a", "b", None], dtype="string"),
            "year": np.array([2019, 2020, 2021], dtype="int64"),
            "estimate": [0.25, np.nan, 1.0],
            "suppressed": [True, False, True],
            "note": pd.Series([np.int64(3), "x", None], dtype=object),
            "area": pd.Series(["Norr", "Söder", None], dtype="category"),
            "n": pd.array([1, None, 3], dtype="Int64"),
            "day": pd.to_datetime(["2020-01-01", None, "2021-06-30"]),
            "group var": ["x", "y", "z"],
        },
        index=[5, 7, 9],
    )


@pytest.mark.parametrize("index", [False, True])
@pytest.mark.parametrize("name", ["Pandas", "Row", None])
def test_row_tuples_are_itertuples(index, name):
    table = _mixed_table()
    expected = list(table.itertuples(index=index, name=name))
    got = list(row_tuples(table, index=index, name=name))
    assert repr(got) == repr(expected)  # NaN != NaN: the reprs show every value
    for g, e in zip(got, expected, strict=True):
        assert [type(v) for v in g] == [type(v) for v in e]
        if name is not None:
            assert g._fields == e._fields


def test_row_tuples_of_an_empty_table_and_of_no_columns():
    empty = _mixed_table().iloc[0:0]
    assert list(row_tuples(empty)) == list(empty.itertuples(index=False))
    bare = pd.DataFrame(index=range(3))
    assert list(row_tuples(bare, name=None)) == list(bare.itertuples(index=False, name=None))


def test_records_are_to_dict_records():
    table = _mixed_table()
    expected = table.to_dict("records")
    got = records(table)
    assert repr(got) == repr(expected)
    for g, e in zip(got, expected, strict=True):
        assert list(g) == list(e)
        assert [type(v) for v in g.values()] == [type(v) for v in e.values()]


def test_row_tuples_reuse_one_row_type_per_columns_and_name():
    """The namedtuple class is made once per (name, columns) and kept: rows of tables
    with other columns, names or renamed fields still get their own fields."""
    a = pd.DataFrame({"x": [1], "y": ["s"]})
    b = pd.DataFrame({"x": [2], "class": ["t"], "_z": [3.0]})
    first, again = next(row_tuples(a)), next(row_tuples(a.copy()))
    assert type(first) is type(again) and first._fields == ("x", "y")
    other = next(row_tuples(b))
    assert other._fields == next(b.itertuples(index=False))._fields == ("x", "_1", "_2")
    assert next(row_tuples(a, name="Row")).__class__.__name__ == "Row"
    assert next(row_tuples(a, index=True))._fields == ("Index", "x", "y")
