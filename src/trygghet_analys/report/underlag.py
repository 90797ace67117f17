"""The underlag page: the year's findings for next year's medborgarlöfte as HTML."""

from __future__ import annotations

import html

import pandas as pd

from ..formatting import fmt_number, fmt_percent, fmt_value
from ..stats.findings import chance_text, policy_text
from ..vocabulary import medicine_note

__all__ = ["render_underlag_html"]


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;
background:#fff;max-width:62rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
h1,h2,h3{color:#0b3a5b}
.banner{background:#fff3cd;color:#3d2c00;border:2px solid #8a6d00;padding:.6rem 1rem;
font-weight:bold}
table{border-collapse:collapse;margin:1rem 0;width:100%}
caption{text-align:left;font-weight:bold;padding:.3rem 0}
th,td{border:1px solid #6b6b6b;padding:.3rem .5rem;vertical-align:top;text-align:left}
th{background:#e8eef3}
td.num{text-align:right;white-space:nowrap}
.status-försämrad{color:#8b0000;font-weight:bold}
.status-förbättrad{color:#0a5c2b;font-weight:bold}
footer{margin-top:2rem;font-size:.9rem;color:#333}
"""


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
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="sv">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Underlag för medborgarlöfte {year + 1} – {e(kommun)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
    ]
    if synthetic:
        out.append('<p class="banner" role="note">Exempeldata – inte verkliga resultat</p>')
    out += [
        "<main>",
        f"<h1>Underlag för medborgarlöfte {year + 1} – {e(kommun)}</h1>",
        f"<p>Uppföljning av medborgarlöftet och resultat från trygghetsmätningen {year}. "
        f"{e(policy_text(base_year))} Utfallet för ett löfte ändras bara av statistiskt "
        "säkerställda förändringar; genomförda aktiviteter mäts mot målet, inte som utfall."
        + (
            f" {e(chance_text(findings, year=year))}"
            if findings is not None and len(findings)
            else ""
        )
        + "</p>",
        "<h2>Indikatorer som försämrats eller ligger högt</h2>",
    ]
    if underlag.empty:
        out.append(
            "<p>Inga indikatorer har försämrats statistiskt säkerställt eller ligger "
            "på en hög nivå.</p>"
        )
    more = 0
    if "evidence_rank" in underlag.columns and len(underlag) > UNDERLAG_CAP:
        more = len(underlag) - UNDERLAG_CAP
        underlag = underlag[underlag["evidence_rank"] <= UNDERLAG_CAP]
        out.append(
            f"<p>De {UNDERLAG_CAP} starkaste fynden, ordnade efter hur säkra de är "
            "(q-värde, sedan förändringens storlek) och grupperade per fokusområde.</p>"
        )
    for area, g in underlag.groupby("focus_area", sort=False):
        out.append(f"<h3>{e(str(area))}</h3>")
        out.append("<ol>")
        out += [f"<li>{e(s)}</li>" for s in g.sort_values("rank")["sentence"]]
        out.append("</ol>")
        rows = []
        for r in g.sort_values("rank").itertuples():
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
        out.append(
            _html_table(
                f"{area}: indikatorer i underlaget",
                ("Rang", "Indikator", "Område", "Värde", "Skäl", "Riket (NTU)", "Källa"),
                rows,
            )
        )
    if more:
        out.append(f"<p>Och {more} till: alla finns i tabeller.xlsx, bladet Underlag nästa år.</p>")
    out.append("<h2>Uppföljning av löftena</h2>")
    if followup.empty:
        out.append("<p>Inget medborgarlöfte att följa upp.</p>")
    for cid, g in followup.groupby("commitment_id", sort=False):
        first = g.iloc[0]
        out.append(f"<h3>{e(str(first['focus_area']))}: {e(str(cid))}</h3>")
        out.append(f"<p>{e(str(first['text']))}</p>")
        out.append(
            f"<p>Genomförande: <strong>{e(str(first['implementation']))}</strong>. "
            f"Utfall: <strong>{e(str(first['commitment_status']))}</strong>. "
            f"Ansvar: {e(str(first['responsible']))}.</p>"
        )
        if first["activities_delivered"]:
            out.append(f"<p>Genomfört {year}: {e(str(first['activities_delivered']))}.</p>")
        if isinstance(first.get("effect"), str) and first["effect"]:
            out.append(f"<p>Effektskattning: {e(first['effect'])}</p>")
        if g["indicator"].isna().all():
            continue
        rows = []
        for r in g.itertuples():
            if pd.isna(r.indicator):
                continue
            rows.append(
                [
                    ("th", "", str(r.label)),
                    ("td", "", str(r.group) if r.indicator_kind == "enkät" else ""),
                    ("td", "", str(r.desired_direction)),
                    ("td", "num", _followup_value(r.latest_value, r.unit, r.latest_year)),
                    ("td", "num", _followup_change(r)),
                    ("td", "", "" if pd.isna(r.trend) else str(r.trend)),
                    ("td", f"status-{str(r.status).replace(' ', '-')}", str(r.status)),
                ]
            )
        out.append(
            _html_table(
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
            )
        )
    for note in medicine_notes(underlag, followup):
        out.append(f'<p class="note" role="note">{e(note)}</p>')
    sources = sorted({s for s in underlag.get("ntu_source", pd.Series(dtype=str)).dropna()})
    out.append("</main><footer>")
    if sources:
        out.append("<p>Riksnivåer: " + "; ".join(e(s) for s in sources) + ".</p>")
    out.append(
        f"<p>Källa: trygghetsmätningen i {e(kommun)}, kommunens aktivitetsuppföljning"
        " och avloppsvattenanalys. Sammanställt med trygghet-analys.</p>"
    )
    out.append("</footer></body></html>")
    return "\n".join(out) + "\n"


def _html_table(
    caption: str, headers: tuple[str, ...], rows: list[list[tuple[str, str, str]]]
) -> str:
    """An HTML table without the columns that are empty in every row.

    ``rows`` hold ``(tag, css class, text)`` per cell; a column whose every text is
    empty or "–" says nothing to the council and is left out.
    """
    e = html.escape
    keep = [
        i
        for i in range(len(headers))
        if not rows or any(row[i][2].strip() not in ("", "–") for row in rows)
    ]
    parts = [f"<table><caption>{e(caption)}</caption><thead><tr>"]
    parts.append("".join(f'<th scope="col">{e(headers[i])}</th>' for i in keep))
    parts.append("</tr></thead><tbody>")
    for row in rows:
        cells = []
        for i in keep:
            tag, cls, text = row[i]
            attrs = ' scope="row"' if tag == "th" else ""
            attrs += f' class="{e(cls, quote=True)}"' if cls else ""
            cells.append(f"<{tag}{attrs}>{e(text)}</{tag}>")
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


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
        text = f"{fmt_number(value, 0)} {unit}"
    return f"{text} ({int(year)})" if year is not None and not pd.isna(year) else text


def _followup_change(r) -> str:
    if pd.isna(r.change_base):
        return "–"
    if r.unit == "andel":
        text = f"{_signed(100 * r.change_base, 0)} procentenheter"
    elif r.unit in ("index 0–6", "mg/dag/1000 inv"):
        text = _signed(r.change_base, 1)
    else:  # activity counts: complete, no sampling error
        return f"{_signed(r.change_base, 0)} {r.unit}"
    sig = r.significant_base
    if pd.isna(sig):
        return text
    return text + (" (statistiskt säkerställd)" if sig else " (inte säkerställd)")
