"""A kommun's own indicators: ``raw/indikatorer_egna.csv``, read like the package's own.

The file has the columns of ``resources/indikatorer.csv`` (see
:func:`trygghet_analys.load_indicators`); ``definition``, ``focus_area``, ``unit`` and
``ntu_id`` may be left out. Written by the analyst (Excel: "CSV UTF-8" or semicolons),
read by ``trygghet-analys build``, which estimates each row for that kommun exactly like
the package's indicators.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from ..config import KommunConfig
from ..errors import DataError
from ..survey.indicators import add_indicators, load_indicators
from ._io import read_text_any
from ._limits import check_file

__all__ = ["OWN_INDICATORS_FILE", "kommun_indicators", "read_own_indicators"]

#: File name of a kommun's own indicators, in its raw folder (beside ``kommun.yml``).
OWN_INDICATORS_FILE = "indikatorer_egna.csv"

_REQUIRED = ("id", "label", "kind", "variables", "categories", "direction")
_DEFAULTS = {"definition": "", "focus_area": "Trygghet", "unit": "", "ntu_id": ""}


def read_own_indicators(path: str | Path) -> pd.DataFrame:
    """Read a kommun's own indicator definitions.

    Parameters
    ----------
    path
        ``raw/indikatorer_egna.csv`` (comma or semicolon separated; UTF-8, UTF-8 with BOM
        or CP1252).

    Returns
    -------
    DataFrame
        The definitions in the columns of :func:`~trygghet_analys.load_indicators`;
        a missing ``definition`` becomes the label, a missing ``unit`` ``andel`` or
        ``medelvärde`` by ``kind``.

    Raises
    ------
    DataError
        A required column (``id, label, kind, variables, categories, direction``) is
        missing, or a row is invalid (see :func:`~trygghet_analys.check_indicators`).
    """
    path = Path(path)
    check_file(path)
    text, _encoding = read_text_any(path)
    first = text.split("\n", 1)[0]
    sep = ";" if first.count(";") > first.count(",") else ","
    table = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in _REQUIRED if c not in table.columns]
    if missing:
        raise DataError(
            f"kolumnerna {', '.join(_REQUIRED)} (rubrikraden)",
            file=path,
            row=1,
            column=missing[0],
        )
    table = table.apply(lambda col: col.str.strip())
    for col, default in _DEFAULTS.items():
        if col not in table.columns:
            table[col] = default
    table["definition"] = table["definition"].where(table["definition"] != "", table["label"])
    unit = table["kind"].map({"proportion": "andel", "mean": "medelvärde"}).fillna("")
    table["unit"] = table["unit"].where(table["unit"] != "", unit)
    return table


def kommun_indicators(kommun: KommunConfig) -> pd.DataFrame:
    """The package's indicators followed by the kommun's own, when it has the file.

    Parameters
    ----------
    kommun
        The kommun (its raw folder may hold ``indikatorer_egna.csv``).

    Returns
    -------
    DataFrame
        :func:`~trygghet_analys.load_indicators` plus the rows of the kommun's file.

    Raises
    ------
    DataError
        The file is invalid or reuses an id of the package.
    """
    base = load_indicators()
    path = kommun.raw / OWN_INDICATORS_FILE
    if not path.is_file():
        return base
    return add_indicators(base, read_own_indicators(path), file=path)
