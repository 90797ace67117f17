"""Write the three test deliveries (2026.xlsx, 2027.csv, 2028.xlsx) and their answer keys.

Three invented vendors, none of them a bundled layout, written from docs/kodbok.md:

* ``2026.xlsx`` – "Enkätfabriken": data on the second sheet, two title rows and a blank
  row above the header, birth year, headers with ": ", web answers in capitals and paper
  answers not, Kvinna/Man/Annat/Vill ej uppge, area names spelled differently, a Totalt row.
* ``2027.csv`` – "Panelbolaget": comma separated, CP1252, quoted fields, short column
  names, age bands (10-year bands inside the canonical groups), lower-case labels.
* ``2028.xlsx`` – "Kommunenkäten": first sheet, no title rows, question texts reworded,
  labels with no-break spaces and en dashes, age in years, K/M.

``facit_<år>.yml`` is the layout an analyst writes by hand (the answer key for the
measurement in tests/test_kodbok_draft.py and the fourth and fifth layouts of
tests/test_next_delivery.py). Run: ``python tests/data/leveranser/skapa_leveranser.py``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import yaml
from openpyxl import Workbook

HERE = Path(__file__).parent
STRATA = ("Älmhults tätort", "Övriga tätorter", "Landsbygd")
Q = {
    "otrygg_ute_sent": ("Mycket trygg", "Ganska trygg", "Ganska otrygg", "Mycket otrygg",
                        "Går inte ut av oro", "Går inte ut av andra skäl", "Vet ej"),
    "avstatt_aktivitet": ("Nej", "Ja", "Vet ej"),
    "oro_inbrott": ("Inte alls orolig", "Inte särskilt orolig", "Ganska orolig", "Mycket orolig", "Vet ej"),
    "oro_vald": ("Inte alls orolig", "Inte särskilt orolig", "Ganska orolig", "Mycket orolig", "Vet ej"),
    "utsatt_brott": ("Nej", "Ja", "Vet ej"),
    **{f"problem_{i}": ("Inget problem", "Litet problem", "Ganska stort problem",
                        "Mycket stort problem", "Vet ej")
       for i in ("nedskrapning", "skadegorelse", "klotter", "vardslos_biltrafik", "buskorning",
                 "ungdomsgang", "berusade", "narkotikapaverkade", "narkotikahandel",
                 "bostadsinbrott", "cykelstolder")},
    "fortroende_polisen": ("Mycket litet", "Ganska litet", "Ganska stort", "Mycket stort", "Vet ej"),
    "ser_polis_fots": ("Aldrig", "Mer sällan än varje månad", "Varje månad",
                       "Varje vecka eller oftare", "Vet ej"),
    "grannsamverkan": ("Nej", "Ja", "Vet ej"),
}  # fmt: skip
PROBLEM_ITEMS = {
    "nedskrapning": "Nedskräpning", "skadegorelse": "Skadegörelse", "klotter": "Klotter",
    "vardslos_biltrafik": "Vårdslös biltrafik", "buskorning": "Buskörning med moped eller motorcykel",
    "ungdomsgang": "Ungdomsgäng som stör ordningen", "berusade": "Berusade personer som stör",
    "narkotikapaverkade": "Narkotikapåverkade personer", "narkotikahandel": "Öppen narkotikahandel",
    "bostadsinbrott": "Inbrott i bostäder", "cykelstolder": "Cykelstölder",
}  # fmt: skip


def _layout(name, year, fil, columns, answers, ignore, extra=None):
    doc = {"namn": name, "ar": year, "fil": fil, "kolumner": columns}
    doc.update(extra or {})
    doc["svar"] = answers
    doc["ignorera"] = ignore
    doc["inget_seriebrott"] = "Testleverans: samma frågor och skalor"
    return doc


# --- vendor A: Enkätfabriken, 2026.xlsx ----------------------------------------------------
A_HEADERS = {
    "otrygg_ute_sent": "Fråga 1: Hur trygg känner du dig när du går ut ensam sent en kväll i ditt bostadsområde?",
    "avstatt_aktivitet": "Fråga 2: Har du avstått från någon aktivitet för att du varit orolig att utsättas för brott?",
    "oro_inbrott": "Fråga 3a: Hur orolig är du för inbrott i din bostad?",
    "oro_vald": "Fråga 3b: Hur orolig är du för att utsättas för våld eller misshandel?",
    "utsatt_brott": "Fråga 4: Har du själv utsatts för brott i kommunen det senaste året?",
    **{f"problem_{k}": f"Fråga 5: Problem i ditt bostadsområde – {v}" for k, v in PROBLEM_ITEMS.items()},
    "fortroende_polisen": "Fråga 6: Hur stort förtroende har du för polisens arbete där du bor?",
    "ser_polis_fots": "Fråga 7: Hur ofta ser du poliser till fots i ditt område?",
    "grannsamverkan": "Fråga 8: Finns Grannsamverkan mot brott där du bor?",
}  # fmt: skip
A_LABELS = {  # canonical → label as vendor A writes it
    "Går inte ut av oro": "Går inte ut pga oro för brott",
    "Går inte ut av andra skäl": "Går inte ut av andra skäl",
    "Vet ej": "Vet inte",
    "Mycket litet": "Mycket litet förtroende", "Ganska litet": "Ganska litet förtroende",
    "Ganska stort": "Ganska stort förtroende", "Mycket stort": "Mycket stort förtroende",
}  # fmt: skip
A_AREAS = {"Älmhults tätort": "Älmhult tätort", "Övriga tätorter": "Övriga tätorter",
           "Landsbygd": "Landsbygden"}  # fmt: skip


def vendor_a(rng, n=150):
    year = 2026
    header = ["Respondentnr", "Delområde", "Kön", "Födelseår", "Insamlingssätt",
              *A_HEADERS.values(), "Övriga synpunkter"]  # fmt: skip
    rows = []
    for i in range(n):
        web = i % 3 != 0
        area = STRATA[i % 3]
        sex = {3: "Annat", 7: "Vill ej uppge"}.get(i % 10, ("Kvinna", "Man")[i % 2])
        born = int(year - rng.integers(16, 86))
        answers = []
        for cats in Q.values():
            label = A_LABELS.get(c := cats[rng.integers(len(cats))], c)
            answers.append(label.upper() if web else label)
        rows.append([f"E{i:04d}", A_AREAS[area], sex, born, "Webb" if web else "Papper",
                     *answers, "Bra kommun" if i % 11 == 0 else None])  # fmt: skip
    wb = Workbook()
    info = wb.active
    info.title = "Information"
    info.append(["Trygghetsmätning 2026 – leveransinformation"])
    info.append(["Svarsfrekvens", "61 %"])
    ws = wb.create_sheet("Data")
    ws.append(["Trygghetsmätning Älmhults kommun 2026"])
    ws.append(["Leverantör: Enkätfabriken AB"])
    ws.append([])
    ws.append(header)
    for r in rows:
        ws.append(r)
    ws.append(["Totalt", None, None, None, None, *[n] * len(Q), None])
    wb.save(HERE / f"{year}.xlsx")
    labels_for = {q: {A_LABELS.get(c, c): c for c in cats} for q, cats in Q.items()}
    answers = {
        "stratum": {v: k for k, v in A_AREAS.items()},
        "sex": {"Kvinna": "Kvinna", "Man": "Man", "Annat": None, "Vill ej uppge": None},
        **labels_for,
    }
    columns = {"Respondentnr": "respondent_id", "Delområde": "stratum", "Kön": "sex",
               "Födelseår": "age", **{h: q for q, h in A_HEADERS.items()}}  # fmt: skip
    return rows, _layout(
        "Enkätfabriken 2026", year,
        {"format": "xlsx", "blad": "Data", "rader_ovanfor_rubrik": 3},
        columns, answers, ["Insamlingssätt", "Övriga synpunkter"], {"alder": "fodelsear"},
    )  # fmt: skip


# --- vendor B: Panelbolaget, 2027.csv ------------------------------------------------------
B_HEADERS = {
    "otrygg_ute_sent": "fr1_trygghet_ute_kvall", "avstatt_aktivitet": "fr2_avstatt_aktivitet",
    "oro_inbrott": "fr3_oro_inbrott_bostad", "oro_vald": "fr4_oro_vald_misshandel",
    "utsatt_brott": "fr5_utsatt_for_brott",
    **{f"problem_{k}": f"fr6_{k}" for k in PROBLEM_ITEMS},
    "fortroende_polisen": "fr7_fortroende_polis", "ser_polis_fots": "fr8_polis_till_fots",
    "grannsamverkan": "fr9_grannsamverkan",
}  # fmt: skip
B_LABELS = {
    "Går inte ut av oro": "går ej ut – rädd för brott", "Går inte ut av andra skäl": "går ej ut – annat skäl",
    "Vet ej": "vet ej", "Inget problem": "inget problem", "Litet problem": "litet problem",
    "Ganska stort problem": "ganska stort problem", "Mycket stort problem": "mycket stort problem",
}  # fmt: skip
B_BANDS = {"16-24 år": "16–24", "25-34 år": "25–44", "35-44 år": "25–44", "45-54 år": "45–64",
           "55-64 år": "45–64", "65-74 år": "65–85", "75-85 år": "65–85"}  # fmt: skip


def vendor_b(rng, n=140):
    year = 2027
    header = ["resp_id", "omr", "kon", "aldersgrupp", *B_HEADERS.values(), "kommentar"]
    rows = []
    bands = list(B_BANDS)
    for i in range(n):
        answers = []
        for cats in Q.values():
            c = cats[rng.integers(len(cats))]
            answers.append(B_LABELS.get(c, c.lower()))
        rows.append([str(7000 + i), STRATA[i % 3].lower(), ("kvinna", "man", "uppgift saknas")[i % 3 if i % 9 == 0 else i % 2],
                     bands[rng.integers(len(bands))], *answers, "tack, bra enkät" if i % 13 == 0 else ""])  # fmt: skip
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=",", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    (HERE / f"{year}.csv").write_bytes(buf.getvalue().encode("cp1252"))
    answers = {
        "stratum": {s.lower(): s for s in STRATA},
        "sex": {"kvinna": "Kvinna", "man": "Man", "uppgift saknas": None},
        **{q: {B_LABELS.get(c, c.lower()): c for c in cats} for q, cats in Q.items()},
    }
    columns = {"resp_id": "respondent_id", "omr": "stratum", "kon": "sex", "aldersgrupp": "age",
               **{h: q for q, h in B_HEADERS.items()}}  # fmt: skip
    return rows, _layout(
        "Panelbolaget 2027", year,
        {"format": "csv", "avgransare": ",", "kodning": "cp1252"},
        columns, answers, ["kommentar"], {"aldersgrupper": B_BANDS},
    )  # fmt: skip


# --- vendor C: Kommunenkäten, 2028.xlsx ----------------------------------------------------
C_HEADERS = {
    "otrygg_ute_sent": "Hur trygg eller otrygg känner du dig om du går ut ensam sent en kväll?",
    "avstatt_aktivitet": "Har du avstått från aktiviteter på grund av oro för brott under det senaste året?",
    "oro_inbrott": "Oroar du dig för att någon ska bryta sig in i din bostad?",
    "oro_vald": "Oroar du dig för att bli utsatt för våld eller misshandel?",
    "utsatt_brott": "Har du blivit utsatt för brott i kommunen under de senaste tolv månaderna?",
    **{f"problem_{k}": f"Hur stort problem är {v.lower()} där du bor?" for k, v in PROBLEM_ITEMS.items()},
    "fortroende_polisen": "Vilket förtroende har du för polisens arbete i ditt område?",
    "ser_polis_fots": "Hur ofta ser du polis till fots där du bor?",
    "grannsamverkan": "Bor du i ett område med grannsamverkan?",
}  # fmt: skip
C_LABELS = {
    "Går inte ut av oro": "Går inte ut\u00a0– oro för brott", "Går inte ut av andra skäl": "Går inte ut\u00a0– andra skäl",
    "Vet ej": "Vet\u00a0ej", "Mer sällan än varje månad": "Mer sällan än en gång i månaden",
    "Varje vecka eller oftare": "Minst en gång i veckan", "Varje månad": "Någon gång i månaden",
}  # fmt: skip


def vendor_c(rng, n=130):
    year = 2028
    header = ["Löpnummer", "År", "Område", "Kön", "Ålder", *C_HEADERS.values(), "Postnummer"]
    rows = []
    for i in range(n):
        answers = []
        for cats in Q.values():
            c = cats[rng.integers(len(cats))]
            answers.append(C_LABELS.get(c, c))
        rows.append([i + 1, year, STRATA[i % 3], "KM"[i % 2], int(rng.integers(16, 86)),
                     *answers, f"343 {30 + i % 9}"])  # fmt: skip
    wb = Workbook()
    ws = wb.active
    ws.title = "Svar 2028"
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(HERE / f"{year}.xlsx")
    answers = {
        "sex": {"K": "Kvinna", "M": "Man"},
        **{q: {C_LABELS.get(c, c): c for c in cats} for q, cats in Q.items()},
    }
    columns = {"Löpnummer": "respondent_id", "År": "year", "Område": "stratum", "Kön": "sex",
               "Ålder": "age", **{h: q for q, h in C_HEADERS.items()}}  # fmt: skip
    return rows, _layout(
        "Kommunenkäten 2028", year, {"format": "xlsx"}, columns, answers, ["Postnummer"]
    )


def main() -> None:
    rng = np.random.default_rng(20260101)
    for make in (vendor_a, vendor_b, vendor_c):
        rows, layout = make(rng)
        (HERE / f"facit_{layout['ar']}.yml").write_text(
            yaml.safe_dump(layout, allow_unicode=True, sort_keys=False, width=200), encoding="utf-8"
        )


if __name__ == "__main__":
    main()
