"""The underlag page: the year's findings for next year's medborgarlöfte as HTML."""

from __future__ import annotations

import pandas as pd

from ..formatting import fmt_number, fmt_percent, fmt_signed_points, fmt_value, points_unit
from ..stats._values import row_tuples
from ..stats.findings import chance_text, policy_text
from ..vocabulary import Source, medicine_note
from . import pages

__all__ = ["outcome_shown", "render_underlag_html"]

#: How a commitment's outcome (``commitment_status``) reads in a sentence: "oförändrad"
#: in the table means that no change is statistically established, not that the values
#: stood still ("utfall: ingen säkerställd förändring").
_OUTCOME_SHOWN = {
    "förbättrad": "förbättrat",
    "försämrad": "försämrat",
    "oförändrad": "ingen säkerställd förändring",
}

#: An indicator's status in the follow-up tables: as the table has it, but "oförändrad"
#: (no statistically established change) said so.
_STATUS_SHOWN = {"oförändrad": _OUTCOME_SHOWN["oförändrad"]}

#: Who is responsible (the register's ``ansvar``), as a reader says it.
_RESPONSIBLE_SHOWN = {"kommun": "kommunen", "polis": "polisen", "båda": "kommun och polis"}


def outcome_shown(status: str) -> str:
    """A commitment's outcome word as prose (``"oförändrad"`` → ``"ingen säkerställd
    förändring"``); other words (``"otillräckligt underlag"``) as they are.

    Examples
    --------
    >>> outcome_shown("oförändrad"), outcome_shown("förbättrad")
    ('ingen säkerställd förändring', 'förbättrat')
    """
    return _OUTCOME_SHOWN.get(status, status)


#: Findings listed in the underlag before "och N till".
UNDERLAG_CAP = 10


def medicine_notes(*tables: pd.DataFrame) -> list[str]:
    """Caveats for the substances on a page that are also prescribed medicines
    (``resources/substanser.csv``, column ``lakemedel``), in register order."""
    from ..vocabulary import load_substances

    shown: set[str] = set()
    for t in tables:
        if "indicator" in t.columns:
            shown |= set(t["indicator"].dropna().astype(str))
    ids = [s for s in load_substances()["id"] if s in shown]
    return [n for n in (medicine_note(s) for s in ids) if n]


def render_underlag_html(
    underlag: pd.DataFrame,
    followup: pd.DataFrame,
    *,
    kommun: str,
    year: int,
    synthetic: bool,
    findings: pd.DataFrame | None = None,
    base_year: int | None = None,
) -> str:
    """A self-contained Swedish HTML page: follow-up and underlag for next year.

    Parameters
    ----------
    underlag
        From :func:`underlag`.
    followup
        From :func:`follow_up`.
    kommun, year
        Shown in the title.
    synthetic
        True for the bundled example data: a banner says "Exempeldata – inte verkliga
        resultat".
    findings, base_year
        The findings table and base year: the page states the comparison policy and how
        many comparisons were tested.

    Returns
    -------
    str: the HTML document (no external resources).
    """
    more = 0
    cap = None
    if "evidence_rank" in underlag.columns and len(underlag) > UNDERLAG_CAP:
        more = len(underlag) - UNDERLAG_CAP
        underlag = underlag[underlag["evidence_rank"] <= UNDERLAG_CAP]
        cap = UNDERLAG_CAP
    areas = []
    for area, g in underlag.groupby("focus_area", sort=False) if len(underlag) else ():
        g = g.sort_values("rank")
        rows = []
        for r in row_tuples(g):  # itertuples' rows, each text column read in one call
            ntu_txt = (
                ""
                if pd.isna(r.ntu_percent)
                else f"{fmt_number(r.ntu_percent, 0)}\u00a0% ({int(r.ntu_year)})"
            )
            rows.append(
                [
                    ("td", "num", str(r.rank)),
                    ("th", "", str(r.label)),
                    ("td", "", str(r.group)),
                    ("td", "num", fmt_value(r.latest_value, r.kind)),
                    ("td", "", str(r.reasons)),
                    ("td", "num", ntu_txt),
                    ("td", "", "" if pd.isna(r.ntu_source) else str(r.ntu_source)),
                ]
            )
        areas.append(
            {
                "name": str(area),
                "sentences": g["sentence"].tolist(),
                "table": pages.table(
                    f"{area}: indikatorer i underlaget",
                    ("Rang", "Indikator", "Område", "Värde", "Skäl", "Riket (NTU)", "Källa"),
                    rows,
                    drop_empty=True,
                ),
            }
        )
    commitments = []
    for cid, g in followup.groupby("commitment_id", sort=False) if len(followup) else ():
        first = g.iloc[0]
        effect = first.get("effect")
        rows = []
        for r in row_tuples(g):  # itertuples' rows, each text column read in one call
            if pd.isna(r.indicator):
                continue
            rows.append(
                [
                    ("th", "", str(r.label)),
                    ("td", "", str(r.group) if r.indicator_kind == Source.SURVEY else ""),
                    ("td", "", str(r.desired_direction)),
                    ("td", "num", _followup_value(r.latest_value, r.unit, r.latest_year)),
                    ("td", "num", _followup_change(r)),
                    ("td", "", "" if pd.isna(r.trend) else str(r.trend)),
                    (
                        "td",
                        f"status-{str(r.status).replace(' ', '-')}",
                        _STATUS_SHOWN.get(str(r.status), str(r.status)),
                    ),
                ]
            )
        commitments.append(
            {
                "id": str(cid),
                "focus_area": str(first["focus_area"]),
                "text": str(first["text"]),
                "implementation": str(first["implementation"]),
                "status": outcome_shown(str(first["commitment_status"])),
                "responsible": _RESPONSIBLE_SHOWN.get(
                    str(first["responsible"]), str(first["responsible"])
                ),
                "delivered": str(first["activities_delivered"] or ""),
                "effect": effect if isinstance(effect, str) else "",
                "table": None
                if g["indicator"].isna().all()
                else pages.table(
                    f"Indikatorer för löfte {cid}",
                    (
                        "Indikator",
                        "Område",
                        "Önskad riktning",
                        "Senaste värde",
                        "Förändring mot året före löftet",
                        "Trend under löftesperioden",
                        "Status",
                    ),
                    rows,
                    drop_empty=True,
                ),
            }
        )
    sources = sorted({s for s in underlag.get("ntu_source", pd.Series(dtype=str)).dropna()})
    intro = (
        f"Uppföljning av medborgarlöftet och resultat från trygghetsmätningen {year}. "
        f"{policy_text(base_year)} Utfallet för ett löfte ändras bara av statistiskt "
        "säkerställda förändringar; genomförda aktiviteter mäts mot målet, inte som utfall."
    )
    if findings is not None and len(findings):
        intro += f" {chance_text(findings, year=year)}"
    return pages.render_page(
        "underlag.html",
        title=f"Underlag för medborgarlöfte {year + 1} – {kommun}",
        banner=pages.SYNTHETIC_BANNER if synthetic else "",
        kommun=kommun,
        year=year,
        intro=intro,
        areas=areas,
        cap=cap,
        more=more,
        commitments=commitments,
        notes=medicine_notes(underlag, followup),
        sources=sources,
    )


def _html_table(
    caption: str, headers: tuple[str, ...], rows: list[list[tuple[str, str, str]]]
) -> str:
    """An HTML table without the columns that are empty in every row.

    ``rows`` hold ``(tag, css class, text)`` per cell; a column whose every text is
    empty or "–" says nothing to the council and is left out.
    """
    return pages.render_table(pages.table(caption, headers, rows, drop_empty=True))


def _signed(value: float, decimals: int) -> str:
    """A signed number; one that rounds to zero has no sign ("0", never "+0" or "−0")."""
    text = fmt_number(value, decimals)
    return f"+{text}" if value > 0 and round(value, decimals) != 0 else text


def _followup_value(value: float, unit: str, year: object) -> str:
    if value is None or pd.isna(value):
        return "–"
    if unit == "andel":
        text = fmt_percent(value)
    elif unit == "index 0–6":
        text = fmt_number(value, 1)
    elif unit == "mg/dag/1000 inv":
        text = f"{fmt_number(value, 1)} mg/dag/1000 inv"
    else:
        text = _count(fmt_number(value, 0), unit)
    return f"{text} ({int(year)})" if year is not None and not pd.isna(year) else text


def _count(number: str, unit: str) -> str:
    """A count with its unit, but a bare number for the unit "antal" ("2", not "2 antal").

    Examples
    --------
    >>> _count("2", "antal"), _count("250", "timmar")
    ('2', '250 timmar')
    """
    return number if unit == "antal" or not unit else f"{number} {unit}"


def _followup_change(r) -> str:
    if pd.isna(r.change_base):
        return "–"
    if r.unit == "andel":
        points = fmt_signed_points(r.change_base, 0, unit="")
        text = f"{points} {points_unit(points)}"
    elif r.unit in ("index 0–6", "mg/dag/1000 inv"):
        text = _signed(r.change_base, 1)
    else:  # activity counts: complete, no sampling error
        return _count(_signed(r.change_base, 0), str(r.unit))
    sig = r.significant_base
    if pd.isna(sig):
        return text
    return text + (" (statistiskt säkerställd)" if sig else " (inte säkerställd)")
