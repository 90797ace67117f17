"""Swedish number formatting shared by charts, tables, sentences and the report.

Swedish style: decimal comma, a narrow no-break space as thousands separator, a space
before the percent sign ("24 %", "18,5 %").
"""

from __future__ import annotations

import math

__all__ = ["file_name", "fmt_number", "fmt_percent", "fmt_signed_points"]

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


def fmt_signed_points(diff: float, decimals: int = 0) -> str:
    """A difference of fractions as signed percentage points: ``0.06`` → ``"+6 procentenheter"``.

    A difference that rounds to zero has no sign: ``-0.001`` → ``"0 procentenheter"``.
    """
    if diff is None or (isinstance(diff, float) and math.isnan(diff)):
        return "–"
    shown = fmt_number(100 * diff, decimals)
    sign = "+" if diff > 0 and shown.strip("0,") else ""
    return f"{sign}{shown} procentenheter"


def file_name(path: object) -> str:
    """The last part of a path, as text shown to the analyst (no file-system access).

    Examples
    --------
    >>> file_name("raw/trygghetsmatning/2022.xlsx")
    '2022.xlsx'
    """
    return str(path).replace("\\", "/").rsplit("/", 1)[-1]
