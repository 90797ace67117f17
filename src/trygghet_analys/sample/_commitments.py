"""Sample medborgarlöfte registers and activity data for the synthetic data set.

For Älmhult the 2022 register is the one the kommun and the police signed on
23 February 2022, as the kommun's article of 25 February 2022 gives it (texts verbatim,
including the article's wording). The indicator links are our choice; the article sets
no numeric targets, so the 2022 activities have none. Later registers and every register
of another kommun are examples, marked ``exempel: true``. Activity values are synthetic.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ..files.registers import dump_register

__all__ = ["ALMHULT_2022", "write_sample_commitments"]

_ALMHULT_TATORT = "Älmhults tätort"
_WASTEWATER = ("amfetamin", "metamfetamin", "kokain", "mdma", "cannabis")


def _link(id_: str, direction: str, group: str | None = None) -> dict:
    out = {"id": id_, "direction": direction}
    if group:
        out.update(group_var="stratum", group=group)
    return out


def _act(measure: str, unit: str, target: float | None = None) -> dict:
    return {"measure": measure, "unit": unit, "target": target}


#: Älmhult's 2022 medborgarlöfte, as signed (texts verbatim from the kommun's article).
ALMHULT_2022: dict = {
    "kommun": "Älmhult",
    "year": 2022,
    "signed": dt.date(2022, 2, 23),
    "signatories": [
        {"name": "Gusten Mårtensson (C)", "role": "kommunstyrelsens ordförande"},
        {"name": "Roger Olsson", "role": "lokalpolisområdeschef, lokalpolisområde Ljungby"},
    ],
    "focus_areas": ["Samverkan", "Synlighet", "Trygghet"],
    "commitments": [
        {
            "id": "SA1",
            "focus_area": "Samverkan",
            "text": "Kommunen ska under året kartlägga förekomsten av narkotika genom analys "
            "av tätortens avloppsvatten.",
            "responsible": "kommun",
            "activities": [_act("avloppsvatten_kampanjer", "antal")],
            "indicators": [_link(s, "minska") for s in _WASTEWATER]
            + [_link("avloppsvatten_kampanjer", "öka")],
        },
        {
            "id": "SA2",
            "focus_area": "Samverkan",
            "text": "Kommunen och polisen skall starta ett gemensamt operativt "
            "brottsförebyggande råd för att dela lägesbild, utbyta erfarenheter och "
            "identifiera områden där brottsförebyggande åtgärder behöver sättas in.",
            "responsible": "båda",
            "activities": [_act("bra_rad_moten", "antal")],
            "indicators": [_link("bra_rad_moten", "öka"), _link("utsatt_brott", "minska")],
        },
        {
            "id": "SA3",
            "focus_area": "Samverkan",
            "text": "Kommunen och polisen ska i samverkan med lokalt näringsliv samverka "
            "gemensamt brottsförebyggande nätverk för att dela lägesbild, utbyta "
            "erfarenheter och identifiera områden där brottsförebyggande åtgärder behöver "
            "sättas in.",
            "responsible": "båda",
            "activities": [_act("natverk_moten", "antal")],
            "indicators": [
                _link("natverk_moten", "öka"),
                _link("problem_skadegorelse", "minska"),
            ],
        },
        {
            "id": "SY1",
            "focus_area": "Synlighet",
            "text": "Polisen ska under året i förebyggande syfte genomföra sök med "
            "narkotikahund i kommunens gymnasieskola.",
            "responsible": "polis",
            "activities": [_act("narkotikahund_sok", "antal")],
            "indicators": [
                _link("narkotikahund_sok", "öka"),
                _link("problem_narkotikahandel", "minska"),
                _link("problem_narkotikapaverkade", "minska"),
            ],
        },
        {
            "id": "SY2",
            "focus_area": "Synlighet",
            "text": "Polisen ska i samverkan med kommunens utbildningsförvaltning genomföra "
            "riktade informationsinsatser till elever inom skola och fritidsverksamhet samt "
            "besöka kommunens skolor.",
            "responsible": "båda",
            "activities": [_act("skolbesok", "antal"), _act("informationsinsatser", "antal")],
            "indicators": [
                _link("skolbesok", "öka"),
                _link("problem_narkotikahandel", "minska"),
                _link("problem_narkotikapaverkade", "minska"),
                _link("problem_ungdomsgang", "minska"),
            ],
        },
        {
            "id": "SY3",
            "focus_area": "Synlighet",
            "text": "Polisen ska som trygghetsskapande metod öka insatsen med uniformerad "
            "fotpatrullering i Älmhults centrala delar.",
            "responsible": "polis",
            "activities": [_act("fotpatrull_timmar", "timmar")],
            "indicators": [
                _link("fotpatrull_timmar", "öka"),
                _link("ser_polis_fots", "öka", _ALMHULT_TATORT),
                _link("otrygghet_ute_sent", "minska", _ALMHULT_TATORT),
            ],
        },
        {
            "id": "TR1",
            "focus_area": "Trygghet",
            "text": "Polisen ska i samverkan med kommunen aktivt arbeta för att öka antalet "
            "aktiva hushåll/områden inom Grannsamverkan.",
            "responsible": "båda",
            "activities": [
                _act("grannsamverkan_hushall", "hushåll"),
                _act("grannsamverkan_omraden", "områden"),
            ],
            "indicators": [
                _link("grannsamverkan_hushall", "öka"),
                _link("grannsamverkan_omraden", "öka"),
                _link("grannsamverkan", "öka"),
                _link("oro_bostadsinbrott", "minska"),
            ],
        },
        {
            "id": "TR2",
            "focus_area": "Trygghet",
            "text": "Kommunen och polisen ska i samverkan genomföra digitala medborgardialoger.",
            "responsible": "båda",
            "activities": [_act("medborgardialoger", "antal")],
            "indicators": [
                _link("medborgardialoger", "öka"),
                _link("fortroende_polisen", "öka"),
            ],
        },
    ],
}

#: Example targets for the example registers after 2022 (synthetic).
_EXAMPLE_TARGETS = {
    "avloppsvatten_kampanjer": 2,
    "bra_rad_moten": 10,
    "natverk_moten": 4,
    "narkotikahund_sok": 4,
    "skolbesok": 20,
    "informationsinsatser": 6,
    "fotpatrull_timmar": 300,
    "grannsamverkan_hushall": 1500,
    "grannsamverkan_omraden": 60,
    "medborgardialoger": 4,
}

# (first year, level in 2021, yearly growth, noise sd, scale with population?)
_ACTIVITY_MODEL = {
    "fotpatrull_timmar": ("timmar", 2021, 160.0, 35.0, 20.0),
    "narkotikahund_sok": ("antal", 2022, 3.0, 0.5, 1.0),
    "skolbesok": ("antal", 2021, 10.0, 3.0, 2.0),
    "informationsinsatser": ("antal", 2022, 3.0, 1.0, 1.0),
    "grannsamverkan_hushall": ("hushåll", 2021, 950.0, 110.0, 30.0),
    "grannsamverkan_omraden": ("områden", 2021, 42.0, 4.0, 1.5),
    "medborgardialoger": ("antal", 2022, 2.0, 0.5, 0.7),
    "bra_rad_moten": ("antal", 2022, 8.0, 0.5, 1.0),
    "natverk_moten": ("antal", 2022, 3.0, 0.3, 0.7),
    "avloppsvatten_kampanjer": ("antal", 2022, 1.0, 0.3, 0.3),
}


def _example_register(kommun: str, year: int, base: dict) -> dict:
    doc = {
        "kommun": kommun,
        "year": year,
        "exempel": True,
        "signed": dt.date(year, 2, 20),
        "signatories": [
            {"name": "(exempel)", "role": "kommunstyrelsens ordförande"},
            {"name": "(exempel)", "role": "lokalpolisområdeschef"},
        ],
        "focus_areas": list(base["focus_areas"]),
        "commitments": [],
    }
    for c in base["commitments"]:
        c = {
            **c,
            "activities": [
                {**a, "target": _EXAMPLE_TARGETS.get(a["measure"])} for a in c["activities"]
            ],
        }
        doc["commitments"].append(c)
    return doc


def _generic_2022(kommun: str) -> dict:
    """An example register for a kommun without a real one: the Älmhult commitments
    rephrased without place names."""
    doc = _example_register(kommun, 2022, ALMHULT_2022)
    for c in doc["commitments"]:
        c["text"] = c["text"].replace("i Älmhults centrala delar", "i tätortens centrala delar")
        c["indicators"] = [
            {k: v for k, v in link.items() if k not in ("group_var", "group")}
            for link in c["indicators"]
        ]
    return doc


def write_sample_commitments(
    raw: Path,
    *,
    kommun: str,
    rng: np.random.Generator,
    years: Iterable[int] = range(2022, 2026),
) -> None:
    """Write ``raw/medborgarloften/<year>.yml`` and ``aktiviteter.csv`` for one kommun.

    Parameters
    ----------
    raw
        The kommun's raw folder (``medborgarloften/`` is created in it).
    kommun
        The kommun's name. "Älmhult" gets the real 2022 register; any other name an
        example register.
    rng
        Seeded generator: the same seed gives byte-identical files.
    years
        Register years; activities are written from the year before the first.
    """
    years = sorted(years)
    folder = Path(raw) / "medborgarloften"
    folder.mkdir(parents=True, exist_ok=True)
    real = kommun == "Älmhult"
    first = ALMHULT_2022 if real else _generic_2022(kommun)
    for year in years:
        if year == 2022 and real:
            doc = first
            header = (
                "Medborgarlöfte Älmhult 2022, undertecknat 23 februari 2022.\n"
                "Löftestexterna är ordagranna ur kommunens artikel 25 februari 2022;\n"
                "kopplingarna till indikatorer är gjorda i efterhand. Artikeln anger inga\n"
                "sifferbundna mål, därför saknar aktiviteterna target.\n"
                "Nycklarna beskrivs i docs/medborgarloften.md."
            )
        else:
            doc = _example_register(kommun, year, first)
            header = (
                f"EXEMPEL – påhittat medborgarlöfte för {kommun} {year} i exempeldata.\n"
                "Inte ett verkligt löfte. Nycklarna beskrivs i docs/medborgarloften.md."
            )
        (folder / f"{year}.yml").write_text(dump_register(doc, header=header), encoding="utf-8")
    lines = ["period,measure,value,unit"]
    for year in range(years[0] - 1, years[-1] + 1):
        for measure, (unit, start, level, growth, sd) in _ACTIVITY_MODEL.items():
            if year < start:
                value = 0.0
            else:
                value = level + growth * (year - 2021) + rng.normal(0.0, sd)
            lines.append(f"{year},{measure},{max(0, round(value))},{unit}")
    (folder / "aktiviteter.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
