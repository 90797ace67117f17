"""Swedish number formatting shared by charts, tables, sentences and the report.

Swedish style: decimal comma, a narrow no-break space as thousands separator, a space
before the percent sign ("24 %", "18,5 %").
"""

from __future__ import annotations

import math

__all__ = [
    "file_name",
    "fmt_number",
    "fmt_percent",
    "fmt_signed_points",
    "fmt_value",
    "points_unit",
    "value_pair",
    "where_phrase",
]

THOUSANDS = "\u202f"  # narrow no-break space, as Språkrådet recommends for digit groups


def fmt_number(value: float, decimals: int = 1) -> str:
    """``1234.5`` → ``"1 234,5"``; NaN → ``"–"``.

    Examples
    --------
    >>> fmt_number(1.2345, 2)
    '1,23'
    >>> fmt_number(-0.004, 1)
    '0,0'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if round(value, decimals) == 0:
        value = 0.0  # "−0" and "−0,0" read as a negative number; rounded to zero is zero
    text = f"{value:,.{decimals}f}"
    return text.replace(",", THOUSANDS).replace(".", ",").replace("-", "−")


def fmt_percent(fraction: float, decimals: int = 0) -> str:
    """A fraction as Swedish percent: ``0.243`` → ``"24 %"`` (a no-break space before %).

    Examples
    --------
    >>> fmt_percent(0.185, 1)
    '18,5\\xa0%'
    >>> fmt_percent(0.243) == "24\\u00a0%"
    True
    """
    if fraction is None or (isinstance(fraction, float) and math.isnan(fraction)):
        return "–"
    return f"{fmt_number(100 * fraction, decimals)}\u00a0%"


def fmt_signed_points(diff: float, decimals: int = 0, unit: str = " procentenheter") -> str:
    """A difference of fractions as signed percentage points: ``0.06`` → ``"+6 procentenheter"``.

    A difference that rounds to zero has no sign: ``-0.001`` → ``"0 procentenheter"``.
    ``unit`` follows the number (a table cell writes ``"\u00a0p.e."``).

    Examples
    --------
    >>> fmt_signed_points(-0.0104, 1, unit="\u00a0p.e.")
    '−1,0\xa0p.e.'
    """
    if diff is None or (isinstance(diff, float) and math.isnan(diff)):
        return "–"
    shown = fmt_number(100 * diff, decimals)
    sign = "+" if diff > 0 and shown.strip("0,") else ""
    return f"{sign}{shown}{unit}"


def points_unit(shown: str) -> str:
    """The word after a number of percentage points as printed: singular after one.

    Examples
    --------
    >>> points_unit("−1"), points_unit("+1"), points_unit("2"), points_unit("1,0")
    ('procentenhet', 'procentenhet', 'procentenheter', 'procentenheter')
    """
    return "procentenhet" if shown.lstrip("+−-") == "1" else "procentenheter"


def fmt_value(value: float, kind: str, decimals: int | None = None) -> str:
    """A value in its indicator's unit, as a sentence shows it.

    ``kind`` is ``proportion`` (percent, 0 decimals), ``mean`` (1 decimal), ``mg``
    (mg/dygn per 1 000 invånare, 1 decimal) or ``count`` (0 decimals); ``decimals``
    overrides the default.

    Examples
    --------
    >>> fmt_value(0.243, "proportion") == "24\u00a0%"
    True
    >>> fmt_value(2.25, "mean"), fmt_value(1234, "count")
    ('2,2', '1\u202f234')
    """
    if kind == "mean":
        return fmt_number(value, 1 if decimals is None else decimals)
    if kind == "mg":
        return f"{fmt_number(value, 1 if decimals is None else decimals)} mg/dygn per 1\u202f000 invånare"
    if kind == "count":
        return fmt_number(value, 0 if decimals is None else decimals)
    return fmt_percent(value, 0 if decimals is None else decimals)


def value_pair(v1: float, v2: float, kind: str) -> tuple[str, str]:
    """Two values formatted so that different values never print alike.

    Examples
    --------
    >>> value_pair(0.241, 0.239, "proportion") == ("24,1\u00a0%", "23,9\u00a0%")
    True
    """
    a = b = ""
    for extra in (0, 1, 2):
        base = 1 if kind in ("mean", "mg") else 0
        a, b = fmt_value(v1, kind, base + extra), fmt_value(v2, kind, base + extra)
        if a != b:
            return a, b
    return a, b


def where_phrase(group_var: str, group: str) -> str:
    """Where a value was measured, as a sentence says it ("bland kvinnor", "i Centrum").

    Examples
    --------
    >>> where_phrase("total", "Hela kommunen"), where_phrase("age_group", "16–24")
    ('i hela kommunen', 'bland 16–24-åringar')
    """
    if group_var == "total":
        return "i hela kommunen"
    if group_var == "sex":
        return {"Kvinna": "bland kvinnor", "Man": "bland män"}.get(group, f"bland {group}")
    if group_var == "age_group":
        return f"bland {group}-åringar"
    if group_var == "reningsverk":
        return f"vid {group}"
    return f"i {group}"


def file_name(path: object) -> str:
    """The last part of a path, as text shown to the analyst (no file-system access).

    Examples
    --------
    >>> file_name("raw/trygghetsmatning/2022.xlsx")
    '2022.xlsx'
    """
    return str(path).replace("\\", "/").rsplit("/", 1)[-1]
