"""Synthetic wastewater raw files for the bundled example data (``sample_data``).

Writes ``raw/avloppsvatten/`` as a small Swedish town's labs would deliver it: two
7-day campaigns a year (spring and autumn) at one treatment plant, lab results as
semicolon CSV with decimal comma from "lab A" and, once, an xlsx in another layout with
µg/m³ from "lab B", daily inflows, the plant register and the campaign list. Levels are
of the order of Växjö's EUDA values 2022–2024 (mg/day/1000 inhabitants). Output is
byte-identical for the same random generator state.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ..files._io import deterministic_zip

__all__ = ["default_plant_name", "write_sample_wastewater"]

# substance: (lab A name, lab B name, level mg/day/1000 inh. in the first year,
#             yearly change factor, weekend factor, LOQ ng/L)
_PROFILE = {
    "amfetamin": ("Amfetamin", "Amphetamine", 95.0, 1.00, 1.05, 5.0),
    "metamfetamin": ("Metamfetamin", "Methamphetamine", 0.35, 1.00, 1.0, 1.0),
    "kokain": ("Bensoylekgonin", "Kokain (som bensoylekgonin)", 45.0, 1.15, 1.6, 2.0),
    "mdma": ("MDMA", "MDMA", 3.0, 1.05, 3.0, 2.0),
    "cannabis": ("THC-COOH", "THC-COOH (cannabis)", 28.0, 1.04, 1.1, 10.0),
    "ketamin": ("Ketamin", "Ketamine", 0.9, 1.10, 1.5, 1.0),
    "tramadol": ("Tramadol", "Tramadol", 150.0, 0.98, 1.0, 5.0),
}
_FIXED_TIME = (2022, 1, 1, 0, 0, 0)
#: Scenario "oforandrad": week-to-week variation of a campaign's true mean (log-scale SD;
#: a CV of about 25 %, as between the campaigns of one plant and year in EUDA's data).
_CAMPAIGN_SD = 0.25


def default_plant_name(kommun: str) -> str:
    """A plant name in Swedish genitive: "Älmhult" → "Älmhults reningsverk".

    Examples
    --------
    >>> default_plant_name("Älmhult"), default_plant_name("Vännäs")
    ('Älmhults reningsverk', 'Vännäs reningsverk')
    """
    name = kommun.strip()
    genitive = name if name[-1:].lower() in ("s", "x", "z") else name + "s"
    return f"{genitive} reningsverk"


def _first_wednesday(year: int, month: int, day: int) -> dt.date:
    d = dt.date(year, month, day)
    return d + dt.timedelta(days=(2 - d.weekday()) % 7)


def _sv_number(value: float, decimals: int = 1) -> str:
    text = f"{value:,.{decimals}f}"
    return text.replace(",", " ").replace(".", ",")


def _csv(rows: Iterable[Iterable[object]]) -> str:
    return "".join(";".join(str(c) for c in r) + "\r\n" for r in rows)


def _xlsx_bytes(rows: list[list[object]], sheet: str) -> bytes:
    """An xlsx with fixed document properties and zip entry times (byte-deterministic)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    for r in rows:
        ws.append(r)
    fixed = dt.datetime(*_FIXED_TIME)
    wb.properties.creator = "trygghet-analys exempeldata"
    wb.properties.lastModifiedBy = "trygghet-analys exempeldata"
    wb.properties.created = fixed
    wb.properties.modified = fixed
    buf = io.BytesIO()
    wb.save(buf)
    return deterministic_zip(buf.getvalue(), when=fixed)


def write_sample_wastewater(
    raw: Path,
    *,
    kommun: str,
    plant: str,
    population: int,
    rng: np.random.Generator,
    years: Iterable[int] = range(2022, 2026),
    scenario: str = "standard",
) -> None:
    """Write synthetic wastewater raw files into ``raw/avloppsvatten/``.

    Parameters
    ----------
    raw
        The kommun's raw folder (``avloppsvatten/`` is created in it).
    kommun
        The kommun's name, written into ``reningsverk.csv``.
    plant
        The treatment plant's name ("Älmhults reningsverk").
    population
        Population served in the first year (grows 0.5 % a year).
    rng
        Random generator; the same state gives byte-identical files.
    years
        Campaign years; two 7-day campaigns each (from the first Wednesday on or after
        1 April and 1 October).
    scenario
        ``"standard"``: levels change by the profile's yearly factor (cocaine +15 % a
        year), no week-to-week variation beyond the day noise (the bundled data).
        ``"oforandrad"``: the true level never changes; each campaign's mean varies from
        week to week (log-normal, SD 0.25 on the log scale) around it, plus the day noise.

    Notes
    -----
    Built in: values below LOQ (methamphetamine and some ketamine and MDMA days), one
    campaign with a lost sample (the Saturday of the second year's autumn campaign, or of
    the only campaign pair when there is one year), and one delivery from another lab
    (the spring campaign of the next-to-last year: xlsx with title rows, other column
    names, µg/m³, "n.d." below LOQ and no plant column). Concentration follows from
    C [ng/L] = L₁₀₀₀ × P / Q, so the loads come back as the profile's levels.
    """
    years = list(years)
    folder = Path(raw) / "avloppsvatten"
    (folder / "labb").mkdir(parents=True, exist_ok=True)
    if not years:
        return
    first = years[0]
    other_lab = (years[-2] if len(years) > 1 else years[0], "vår")
    lost = (years[1] if len(years) > 1 else years[0], "höst")

    plant_rows = [["Reningsverk", "Kommun", "År", "Anslutna personer"]]
    flow_rows = [["Reningsverk", "Datum", "Flöde (m³/dygn)"]]
    campaign_rows = [["Reningsverk", "Kampanj", "Första dag", "Sista dag"]]
    per_person_m3 = 0.33  # inflow per person and day incl. infiltration, typical for Sweden

    for year in years:
        pop = int(round(population * 1.005 ** (year - first), -1))
        plant_rows.append([plant, kommun, year, pop])
        for season, month in (("vår", 4), ("höst", 10)):
            start = _first_wednesday(year, month, 1)
            days = [start + dt.timedelta(days=i) for i in range(7)]
            name = f"{year} {season}"
            campaign_rows.append([plant, name, days[0].isoformat(), days[-1].isoformat()])
            flows = pop * per_person_m3 * rng.lognormal(0.0, 0.12, size=7)
            flows = np.round(flows, 0)
            for d, q in zip(days, flows, strict=True):
                flow_rows.append([plant, d.isoformat(), _sv_number(q, 0)])
            lab_b = (year, season) == other_lab
            rows = []
            if scenario == "oforandrad":
                week = rng.lognormal(0.0, _CAMPAIGN_SD, size=len(_PROFILE))
            for j, (substance, (name_a, name_b, level, change, wkend, loq)) in enumerate(
                _PROFILE.items()
            ):
                if scenario == "oforandrad":
                    base = level * week[j]
                else:
                    base = level * change ** (year - first + (0.5 if season == "höst" else 0.0))
                for d, q in zip(days, flows, strict=True):
                    if (year, season) == lost and d.weekday() == 5:
                        continue  # the Saturday sample was lost in transport
                    factor = wkend if d.weekday() in (4, 5, 6) else 1.0
                    load_1000 = base * factor * rng.lognormal(0.0, 0.18)
                    conc = load_1000 * pop / q  # ng/L, from L = C·Q·1e-3 and L/(P/1000)
                    rows.append((d, substance, name_a, name_b, conc, loq))
            stem = f"{year}-{'var' if season == 'vår' else 'host'}"
            if lab_b:
                _write_lab_b(folder / "labb" / f"{stem}-labb-b.xlsx", rows, name)
            else:
                _write_lab_a(folder / "labb" / f"{stem}.csv", rows, plant)

    (folder / "reningsverk.csv").write_text(_csv(plant_rows), encoding="utf-8", newline="")
    (folder / "flode.csv").write_text(_csv(flow_rows), encoding="utf-8", newline="")
    (folder / "kampanjer.csv").write_text(_csv(campaign_rows), encoding="utf-8", newline="")


def _write_lab_a(path: Path, rows: list[tuple], plant: str) -> None:
    out = [["Reningsverk", "Provtagningsdatum", "Substans", "Halt", "LOQ", "Enhet"]]
    for i, (d, _sub, name_a, _name_b, conc, loq) in enumerate(rows):
        if conc < loq:
            shown = "<LOQ" if i % 3 == 0 else f"<{_sv_number(loq, 1)}"
        else:
            shown = _sv_number(conc, 1)
        out.append([plant, d.isoformat(), name_a, shown, _sv_number(loq, 1), "ng/L"])
    # Lab A exports from Excel: UTF-8 with byte order mark.
    path.write_text(_csv(out), encoding="utf-8-sig", newline="")


def _write_lab_b(path: Path, rows: list[tuple], campaign: str) -> None:
    grid: list[list[object]] = [
        ["Analysrapport avloppsvatten, narkotika"],
        [f"Uppdrag: {campaign}"],
        [],
        ["Provdatum", "Analys", "Resultat (µg/m³)", "Rapporteringsgräns (µg/m³)", "Metod"],
    ]
    for d, _sub, _name_a, name_b, conc, loq in rows:
        value: object = "n.d." if conc < loq else round(float(conc), 2)
        grid.append([dt.datetime.combine(d, dt.time()), name_b, value, loq, "LC-MS/MS"])
    path.write_bytes(_xlsx_bytes(grid, "Resultat"))
