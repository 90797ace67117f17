"""``trygghet-analys granska``: read a finished report folder as a reader meets it.

Every defect is one Swedish line naming the file (and sheet, table, column or chart)
and what is wrong. The checks:

- **Tables** (every ``<table>`` of every HTML page, every sheet of ``tabeller.xlsx``):
  all rows of the source table (or a note "visar N av M" with a link to the full
  table), Swedish headers, numbers in the report's format (percent, decimal comma,
  digit groups; no "0,165", no "4,000", no "−0"), no column without a value, no English
  code word or pandas leftover ("nan", "True").
- **Charts** (``figurer/<name>.json`` from :mod:`.chartfacts`): every text inside the
  figure, every legend entry drawn and visible, every element the caption or the alt
  text mentions drawn (by ``gid``), and the alt text's claims (significant changes,
  their direction, the last value, group values) equal to the data in ``tabeller.xlsx``.
- **Workbook**: a number format set for every numeric column, no formulas, the
  "Exempeldata" marking on every sheet when the report is made from synthetic data.
- **Everywhere** (notebooks, SVG, PDF, JSON, YAML, xlsx included): no absolute path of
  the machine that made the report.
- **Chart book** ``diagram.pdf`` and ``figurer/*.pdf``: vector pages, fonts embedded,
  no page-sized raster image.

Byte-reproducibility needs two builds and is checked by the tests, not here.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from ..errors import ConfigError
from ..formatting import fmt_number, fmt_percent
from ..vocabulary import Comparison, Source, standard_text

__all__ = ["ENGLISH_WORDS", "check_report", "receipt"]

SYNTHETIC_MARK = standard_text("exempeldata_kort")

#: Code words that must not reach a reader: column names, codes and pandas leftovers.
ENGLISH_WORDS: frozenset[str] = frozenset(
    {
        "proportion",
        "mean",
        "estimate",
        "stratum",
        "age_group",
        "group_var",
        "group",
        "indicator",
        "date_from",
        "date_to",
        "higher_is_worse",
        "higher_is_better",
        "significant",
        "increasing",
        "decreasing",
        "nan",
        "NaN",
        "None",
        "True",
        "False",
        "<NA>",
        "NaT",
    }
)

#: Pages a council member reads (the notebooks are for analysts).
_COUNCIL_PAGES = ("rapport.html", "underlag_medborgarlofte.html")

_MINUS = "\u2212"
_NUMBER_CELL = re.compile(r"^[+\-\u2212]?[\d\u202f\u00a0 ]+(?:[,.]\d+)?(?:\u00a0?%)?$")
_THREE_DECIMALS = re.compile(r"^[+\-\u2212]?\d{1,3},\d{3}$")
_DECIMAL_POINT = re.compile(r"^[+\-\u2212]?\d+\.\d+$")
_UNGROUPED = re.compile(r"(?<![\d\u202f])\d{5,}(?![\d])")
_MINUS_ZERO = re.compile(r"[\u2212-]0(?:[,.]0+)?(?![\d,.])")
_HYPHEN_MINUS = re.compile(r"^-\d")
_SHOWN_OF = re.compile(r"visar\s+(\d+)\s+av\s+(\d+)", re.IGNORECASE)
_ABSOLUTE_PATH = re.compile(
    r"(?<![\w.:/~-])(/(?:home|Users|tmp|work|root|var|opt|mnt|srv|private|media|run)/"
    r"[^\s\"'<>)\]}]*)|(?<![\w])([A-Za-z]:\\\\?[^\s\"'<>]+)"
)
_TEXT_SUFFIXES = {".html", ".json", ".yml", ".yaml", ".ipynb", ".svg", ".csv", ".md", ".txt"}
#: A raster image bigger than this many pixels on a chart-book page is a chart drawn as
#: a picture (a vector chart has none).
RASTER_PIXELS = 40_000


# --------------------------------------------------------------------------- HTML


@dataclass
class _Table:
    caption: str = ""
    sheet: str | None = None
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    note: str = ""
    links: list[str] = field(default_factory=list)


@dataclass
class _Page:
    tables: list[_Table] = field(default_factory=list)
    images: list[dict[str, str]] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    figures: dict[str, str] = field(default_factory=dict)  # chart name -> caption paragraph


class _Reader(HTMLParser):
    """Tables, images (alt), the paragraph after each table and the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = _Page()
        self._skip = 0
        self._table: _Table | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._in_head = False
        self._caption: list[str] | None = None
        self._after: _Table | None = None
        self._after_text: list[str] = []
        self._section: str | None = None
        self._explain: list[str] | None = None
        self._depth_p = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("style", "script", "head", "title"):
            self._skip += 1
        elif tag == "section" and a.get("aria-labelledby"):
            self._section = a["aria-labelledby"]
        elif tag == "table":
            self._close_after()
            self._table = _Table(sheet=a.get("data-blad"))
        elif tag == "caption":
            self._caption = []
        elif tag == "thead":
            self._in_head = True
        elif tag == "tbody":
            self._in_head = False
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "img":
            self.page.images.append(
                {
                    "alt": a.get("alt") or "",
                    "section": self._section or "",
                    "src": a.get("src") or "",
                }
            )
            self.page.text.append(a.get("alt") or "")
        elif tag == "a" and self._after is not None:
            self._after.links.append(a.get("href") or "")
        elif tag == "p" and self._section and self._section not in self.page.figures:
            self._explain = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "head", "title"):
            self._skip = max(0, self._skip - 1)
        elif tag == "caption" and self._caption is not None and self._table is not None:
            self._table.caption = " ".join("".join(self._caption).split())
            self._caption = None
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            if self._in_head:
                self._table.header = self._row
            else:
                self._table.rows.append(self._row)
            self._row = None
        elif tag == "table" and self._table is not None:
            self.page.tables.append(self._table)
            self._after, self._after_text = self._table, []
            self._table = None
        elif tag == "p" and self._explain is not None:
            if self._section:
                self.page.figures[self._section] = " ".join("".join(self._explain).split())
            self._explain = None
        elif tag in ("details", "section"):
            self._close_after()

    def _close_after(self) -> None:
        if self._after is not None:
            self._after.note = " ".join("".join(self._after_text).split())
        self._after, self._after_text = None, []

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.page.text.append(data)
        if self._caption is not None:
            self._caption.append(data)
        elif self._cell is not None:
            self._cell.append(data)
        elif self._after is not None:
            self._after_text.append(data)
        if self._explain is not None:
            self._explain.append(data)

    def close(self) -> None:
        super().close()
        self._close_after()


def _read_html(path: Path) -> _Page:
    reader = _Reader()
    reader.feed(path.read_text(encoding="utf-8"))
    reader.close()
    return reader.page


def _english_header(header: str) -> bool:
    text = header.strip()
    if not text:
        return False
    return "_" in text or text in ENGLISH_WORDS or text.lower() in ENGLISH_WORDS


def _number_defect(text: str) -> str | None:
    """Why a table cell's number is not in the report's format, or None."""
    t = text.strip()
    if not t or not _NUMBER_CELL.match(t):
        return None
    if _MINUS_ZERO.fullmatch(t.removesuffix("%").strip().removesuffix("\u00a0")):
        return "'−0' (ett tal som avrundats till noll ska skrivas utan minustecken)"
    if _THREE_DECIMALS.match(t):
        return (
            "tre decimaler efter kommatecken (läses som tusental eller är en andel som "
            "inte visas i procent)"
        )
    if _DECIMAL_POINT.match(t):
        return "decimalpunkt i stället för decimalkomma"
    if _HYPHEN_MINUS.match(t):
        return "bindestreck i stället för minustecken"
    if _UNGROUPED.search(t):
        return "tal utan tusentalsavgränsare"
    return None


def _check_table(where: str, table: _Table, sheets: dict[str, int], issues: list[str]) -> None:
    name = f"{where}, tabellen '{table.caption or 'utan rubrik'}'"
    for h in table.header:
        if _english_header(h):
            issues.append(f"{name}: kolumnrubriken '{h}' är inte på svenska")
    width = max([len(table.header), *(len(r) for r in table.rows)], default=0)
    if table.rows:
        for i in range(width):
            values = [r[i] if i < len(r) else "" for r in table.rows]
            if all(v.strip() in ("", "–", "-") for v in values):
                head = table.header[i] if i < len(table.header) else f"nr {i + 1}"
                issues.append(f"{name}: kolumnen '{head}' är tom i alla {len(values)} rader")
    seen: set[tuple[str, str]] = set()
    for row_no, row in enumerate(table.rows, start=1):
        for i, cell in enumerate(row):
            head = table.header[i] if i < len(table.header) else f"nr {i + 1}"
            why = None if head.startswith(("p-värde", "q-värde")) else _number_defect(cell)
            if why and (head, why) not in seen:
                seen.add((head, why))
                issues.append(f"{name}, rad {row_no}, kolumn '{head}': '{cell}' har {why}")
            if cell in ENGLISH_WORDS and (head, cell) not in seen:
                seen.add((head, cell))
                issues.append(f"{name}, rad {row_no}, kolumn '{head}': '{cell}' är inte svenska")
    if table.sheet is not None:
        total = sheets.get(table.sheet)
        if total is None:
            issues.append(
                f"{name}: bladet '{table.sheet}' som tabellen visar finns inte i tabeller.xlsx"
            )
            return
        shown = len(table.rows)
        if shown == total:
            return
        note = _SHOWN_OF.search(table.note)
        linked = any(link.split("#")[0].endswith("tabeller.xlsx") for link in table.links)
        if note and int(note.group(1)) == shown and int(note.group(2)) == total and linked:
            return
        issues.append(
            f"{name}: visar {shown} av {total} rader i bladet '{table.sheet}' utan att säga "
            f"det ('visar {shown} av {total}') och länka till hela tabellen"
        )


def _check_text(where: str, text: str, issues: list[str], *, english: bool) -> None:
    for m in re.finditer(r"[\u2212-]0(?:[,.]0+)?(?=[\s\u00a0]|$|[%)])", text):
        start = max(0, m.start() - 30)
        if m.start() > 0 and (text[m.start() - 1].isdigit() or text[m.start() - 1] in "–"):
            continue
        issues.append(f"{where}: '−0' i texten '…{text[start : m.end() + 20].strip()}…'")
        break
    if english:
        for word in sorted(ENGLISH_WORDS):
            if re.search(rf"(?<![\w<]){re.escape(word)}(?![\w>])", text):
                if word in ("group", "mean", "estimate", "indicator") and not re.search(
                    rf"(?<![\w-]){word}(?![\w-])", text
                ):
                    continue
                issues.append(f"{where}: det engelska ordet '{word}' står i texten")


# --------------------------------------------------------------------------- xlsx


def _xlsx_kind(header: str) -> str:
    h = header.lower()
    if h in ("år", "från år", "till år") or h.endswith(" år"):
        return "year"
    return "number"


def _check_xlsx(path: Path, synthetic: bool, issues: list[str]) -> dict[str, list[dict]]:
    """Check the workbook; return each sheet as a list of row dicts (for claims)."""
    from openpyxl import load_workbook

    where = path.name
    try:
        wb = load_workbook(path)
    except Exception as exc:  # any unreadable workbook is a defect
        issues.append(f"{where}: kan inte öppnas ({type(exc).__name__})")
        return {}
    sheets: dict[str, list[dict]] = {}
    for ws in wb.worksheets:
        name = f"{where}, blad '{ws.title}'"
        rows = list(ws.iter_rows())
        first = rows[0][0].value if rows and rows[0] else None
        marked = isinstance(first, str) and SYNTHETIC_MARK in first
        if synthetic and not marked:
            issues.append(f"{name}: saknar markeringen '{SYNTHETIC_MARK}' överst (syntetiska data)")
        head_at = 1 if marked else 0
        if len(rows) <= head_at:
            issues.append(f"{name}: bladet är tomt")
            continue
        header = [c.value for c in rows[head_at]]
        for h in header:
            if h is not None and _english_header(str(h)):
                issues.append(f"{name}: kolumnrubriken '{h}' är inte på svenska")
        body = rows[head_at + 1 :]
        records = []
        general: dict[int, int] = {}
        for r in body:
            record = {}
            for i, c in enumerate(r):
                value = c.value
                if c.data_type == "f" or (isinstance(value, str) and value.startswith("=")):
                    issues.append(
                        f"{name}, cell {c.coordinate}: formel '{value}' (tabellerna ska bara ha värden)"
                    )
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    if c.number_format in ("General", "", None):
                        general[i] = general.get(i, 0) + 1
                if i < len(header) and header[i] is not None:
                    record[str(header[i])] = value
            records.append(record)
        for i, count in sorted(general.items()):
            head = header[i] if i < len(header) else f"nr {i + 1}"
            issues.append(
                f"{name}, kolumn '{head}': {count} tal i formatet General (talformat ska "
                f"sättas per kolumntyp: procent, antal, decimaltal, år)"
            )
        for h in header:
            if h is None:
                continue
            if records and all(rec.get(str(h)) in (None, "") for rec in records):
                issues.append(f"{name}: kolumnen '{h}' är tom i alla {len(records)} rader")
        sheets[ws.title] = records
    return sheets


# --------------------------------------------------------------------------- charts

#: Words of a caption or alt text → the gid that must be drawn for them to be true.
MENTIONS: tuple[tuple[str, str, str], ...] = (
    (r"grå romber|andra svenska städer", "euda_sverige", "andra svenska städer (grå romber)"),
    (r"\(EUDA, [^)]*anslutna\)", "euda_jamforelsestad", "jämförelsestad (EUDA)"),
    (r"europeisk[a]? median|Europa, median", "euda_europa", "Europas median"),
    (
        r"(?<![Gg]rå )\bromb(?:en)?\b|säkerställd förändring från föregående år: \d",
        "sakerstalld",
        "markering för statistiskt säkerställd förändring",
    ),
    (r"svarta fyrkanter|Riket \(NTU\) \d", "riket", "rikets nivå (NTU)"),
    (
        r"[Oo]fyllda ringar|under kvantifieringsgränsen \(LOQ\) markerade",
        "under_loq",
        "dygn under kvantifieringsgränsen",
    ),
    (r"\b[Bb]andet\b|\b[Bb]anden\b|[Ss]trecken visar", "konfidensintervall", "konfidensintervall"),
    (r"Seriebrott före", "seriebrott", "seriebrott"),
    (r"[Oo]fyllda fyrkanter|öppna fyrkanter", "flaggat", "flaggade dygn (fyrkanter)"),
    (r"[Oo]fyllda trianglar|öppna trianglar", "utelamnat", "uteslutna dygn (trianglar)"),
    (r"[Ss]trecket vid kampanjmedlet", "spridning", "spridningen mellan dygnen"),
    (r"Markerad period", "medborgarlofte", "medborgarlöftets period"),
    (r"För få svar för att redovisa|För få svar:", "undertryckt", "'för få svar'"),
)


def _load_facts(folder: Path, issues: list[str]) -> dict[str, dict]:
    out = {}
    for path in sorted((folder / "figurer").glob("*.json")):
        try:
            out[path.stem] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            issues.append(f"figurer/{path.name}: kan inte läsas")
    return out


def _check_chart(name: str, facts: dict, issues: list[str]) -> None:
    where = f"diagrammet '{facts.get('title') or name}' (figurer/{name})"
    for t in facts.get("texts", []):
        if not t.get("inside", True):
            fig = facts.get("figure", {})
            sides = []
            if t["x0"] < 0:
                sides.append("vänster")
            if t["x1"] > fig.get("width", 0):
                sides.append("höger")
            if t["y0"] < 0:
                sides.append("nederkant")
            if t["y1"] > fig.get("height", 0):
                sides.append("överkant")
            issues.append(
                f"{where}: {t['role']} '{t['text']}' skärs av i bildens {'/'.join(sides) or 'kant'}"
            )
    for lap in facts.get("overlaps", [])[:1]:
        issues.append(
            f"{where}: axeltexterna '{lap['texts'][0]}' och '{lap['texts'][1]}' skriver över "
            f"varandra ({len(facts['overlaps'])} gånger)"
        )
    for entry in facts.get("legend", []):
        if not entry.get("shown"):
            issues.append(
                f"{where}: teckenförklaringen '{entry['label']}' har inget ritat element i diagrammet"
            )
        elif not entry.get("seen", True):
            issues.append(
                f"{where}: teckenförklaringen '{entry['label']}' syns inte i diagrammet "
                "(dess element ligger helt under andra)"
            )
    gids = facts.get("gids", {})
    for source, text in (
        ("bildtexten", facts.get("explanation") or ""),
        ("alt-texten", facts.get("alt") or ""),
    ):
        for pattern, gid, what in MENTIONS:
            if re.search(pattern, text) and not gids.get(gid, {}).get("shown"):
                issues.append(f"{where}: {source} nämner {what}, men diagrammet ritar inga")


def _truthy(value: object) -> bool:
    return value is True or (
        isinstance(value, str) and value.strip().lower() in ("ja", "sant", "true")
    )


def _series_claims(alt: str) -> list[dict]:
    """Parse "Linjediagram: NAME, GROUP, A–B. ..." segments of a trend alt text."""
    out = []
    parts = re.split(r"(?=Linjediagram: )", alt)
    for part in parts:
        m = re.match(r"Linjediagram: (.+?), ([^,]+?), (\d{4})–(\d{4})\.", part)
        if not m:
            continue
        claim: dict[str, object] = {"group": m.group(2), "text": part}
        last = re.search(r"\. (\d{4}): ([^(.]+?)(?: \(95|\.)", part[m.end() - 1 :])
        if last:
            claim["last_year"] = int(last.group(1))
            claim["last_value"] = last.group(2).strip()
        sig = re.search(
            r"Statistiskt säkerställda? förändringa?r? från föregående år: ([^.]+)\.", part
        )
        claim["significant"] = {}
        if sig:
            for y, way in re.findall(r"(\d{4})(?: \((ökning|minskning)\))?", sig.group(1)):
                claim["significant"][int(y)] = way or None
        out.append(claim)
    return out


def _value_text(value: float, indicator: str) -> str:
    return fmt_number(value, 1) if indicator == "problemindex" else fmt_percent(value)


def _check_claims(name: str, facts: dict, sheets: dict[str, list[dict]], issues: list[str]) -> None:
    kind = facts.get("kind")
    indicator = facts.get("indicator")
    if kind not in ("trend", "small_multiples") or not indicator:
        return
    where = f"diagrammet '{facts.get('title') or name}' (figurer/{name}): alt-texten"
    group_var = {"total": "Totalt", "stratum": "Område", "sex": "Kön", "age_group": "Ålder"}.get(
        str(facts.get("group_var") or "total"), "Totalt"
    )
    year = int(facts.get("year") or 0)
    # "statistiskt säkerställd" is decided once, in the findings ("Fynd", q < 0.05);
    # reports without findings mark the changes table's significant changes
    source = "Fynd" if sheets.get("Fynd") else "Förändringar"
    changes = [
        r
        for r in sheets.get(source, [])
        if r.get("Indikator-id") == indicator
        and r.get("Indelning") == group_var
        and r.get("Jämförelse") == Comparison.PREVIOUS_YEAR
        and r.get("Källa", Source.SURVEY) == Source.SURVEY
        and (not year or int(r.get("Till år") or 0) <= year)
    ]
    estimates = [
        r
        for r in sheets.get("Skattningar", [])
        if r.get("Indikator-id") == indicator and r.get("Indelning") == group_var
    ]
    if not sheets.get(source) and not sheets.get("Skattningar"):
        return
    claims = _series_claims(str(facts.get("alt") or ""))
    if not claims:
        issues.append(f"{where} beskriver ingen serie")
        return
    for claim in claims:
        group = claim["group"]
        truth = {
            int(r["Till år"]): ("ökning" if float(r.get("Förändring") or 0) > 0 else "minskning")
            for r in changes
            if str(r.get("Grupp")) == group and _truthy(r.get("Statistiskt säkerställd"))
        }
        said = claim["significant"]
        if set(said) != set(truth):
            issues.append(
                f"{where} för {group} anger {len(said)} statistiskt säkerställda förändringar "
                f"({', '.join(map(str, sorted(said))) or 'inga'}), bladet {source} har {len(truth)} "
                f"({', '.join(map(str, sorted(truth))) or 'inga'})"
            )
        for y, way in said.items():
            if way and y in truth and truth[y] != way:
                issues.append(f"{where} för {group} säger {way} {y}, tabellen säger {truth[y]}")
        if "last_year" in claim:
            rows = [
                r
                for r in estimates
                if str(r.get("Grupp")) == group and int(r.get("År") or 0) == claim["last_year"]
            ]
            if rows and isinstance(rows[0].get("Skattning"), (int, float)):
                expected = _value_text(float(rows[0]["Skattning"]), indicator)
                if expected != claim["last_value"]:
                    issues.append(
                        f"{where} för {group} säger {claim['last_year']}: {claim['last_value']}, "
                        f"tabellen säger {expected}"
                    )


# --------------------------------------------------------------------------- files


def _check_paths(folder: Path, issues: list[str]) -> None:
    own = {str(folder.resolve()), str(folder.resolve().parent)}
    own = {p for p in own if p.count("/") > 1}
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(folder).as_posix()
        if path.suffix in _TEXT_SUFFIXES:
            texts = [path.read_text(encoding="utf-8", errors="replace")]
        elif path.suffix == ".xlsx":
            try:
                with zipfile.ZipFile(path) as z:
                    texts = [z.read(n).decode("utf-8", "replace") for n in z.namelist()]
            except zipfile.BadZipFile:
                continue
        elif path.suffix == ".pdf":
            # dictionaries and metadata only: compressed streams are binary noise
            texts = [b"\n".join(_pdf_objects(path.read_bytes())).decode("latin-1")]
        else:
            continue
        for text in texts:
            hit = next((p for p in own if p in text), None)
            m = None if hit else _ABSOLUTE_PATH.search(text)
            if hit or m:
                shown = hit or (m.group(1) or m.group(2) if m else "")
                issues.append(
                    f"{rel}: innehåller sökvägen '{shown[:80]}' från datorn som gjorde rapporten"
                )
                break


def _pdf_numbered(data: bytes) -> Iterable[tuple[int, bytes]]:
    """(object number, dictionary part) of every object of a PDF written by matplotlib."""
    for m in re.finditer(rb"(\d+) 0 obj(.*?)endobj", data, re.DOTALL):
        body = m.group(2)
        cut = body.find(b"stream")
        yield int(m.group(1)), body if cut < 0 else body[:cut]


def _pdf_objects(data: bytes) -> Iterable[bytes]:
    for _number, body in _pdf_numbered(data):
        yield body


def _check_pdf(path: Path, rel: str, issues: list[str]) -> None:
    data = path.read_bytes()
    big = []
    described: list[tuple[str, int]] = []
    embedded: set[int] = set()
    for number, obj in _pdf_numbered(data):
        if b"/Subtype /Image" in obj:
            w = re.search(rb"/Width (\d+)", obj)
            h = re.search(rb"/Height (\d+)", obj)
            if w and h and int(w.group(1)) * int(h.group(1)) >= RASTER_PIXELS:
                big.append(f"{int(w.group(1))}×{int(h.group(1))}")
        if re.search(rb"/Type\s*/Font\b", obj):
            sub = re.search(rb"/Subtype\s*/(\w+)", obj)
            kind = sub.group(1).decode() if sub else "?"
            base = re.search(rb"/BaseFont\s*/([^\s/]+)", obj)
            font = base.group(1).decode() if base else "?"
            if kind == "Type3":
                if b"/CharProcs" not in obj:
                    issues.append(f"{rel}: typsnittet {font} saknar sina tecken")
            elif kind != "Type0":  # a Type0 font's glyphs live in its descendant
                ref = re.search(rb"/FontDescriptor (\d+) 0 R", obj)
                if ref is None:
                    issues.append(f"{rel}: typsnittet {font} är inte inbäddat")
                else:
                    described.append((font, int(ref.group(1))))
        if b"/FontFile" in obj:
            embedded.add(number)
    for font in sorted({f for f, ref in described if ref not in embedded}):
        issues.append(f"{rel}: typsnittet {font} är inte inbäddat")
    if big:
        issues.append(
            f"{rel}: {len(big)} rasterbild(er) ({', '.join(big[:3])} px) – diagrammen ska vara "
            "vektorgrafik"
        )
    if not data.startswith(b"%PDF"):
        issues.append(f"{rel}: är ingen PDF-fil")


def _check_notebooks(folder: Path, issues: list[str]) -> None:
    for path in sorted((folder / "notebooks").glob("*.ipynb")):
        rel = path.relative_to(folder).as_posix()
        try:
            book = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            issues.append(f"{rel}: är ingen läsbar notebook")
            continue
        for cell in book.get("cells", []):
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    issues.append(f"{rel}: en cell slutade med felet {out.get('ename')}")


# --------------------------------------------------------------------------- entry


def _is_synthetic(folder: Path, facts: dict[str, dict]) -> bool:
    if any(f.get("synthetic") for f in facts.values()):
        return True
    page = folder / "rapport.html"
    return (
        page.is_file()
        and 'class="banner"' in page.read_text(encoding="utf-8")
        and (SYNTHETIC_MARK in page.read_text(encoding="utf-8"))
    )


def check_report(folder: str | Path) -> list[str]:
    """Every defect of a finished report folder, one Swedish line each.

    Parameters
    ----------
    folder
        ``OUT/YEAR`` as written by ``trygghet-analys report``.

    Returns
    -------
    list of str
        Empty when the report passes.

    Raises
    ------
    ConfigError
        When ``folder`` is not a report folder (no ``rapport.html``).
    """
    folder = Path(folder)
    if not (folder / "rapport.html").is_file():
        raise ConfigError(
            f"'{folder}' är ingen rapportmapp: rapport.html saknas (ange mappen OUT/ÅR som "
            "trygghet-analys report skrev)"
        )
    issues: list[str] = []
    facts = _load_facts(folder, issues)
    synthetic = _is_synthetic(folder, facts)
    sheets: dict[str, list[dict]] = {}
    book = folder / "tabeller.xlsx"
    if book.is_file():
        sheets = _check_xlsx(book, synthetic, issues)
    else:
        issues.append("tabeller.xlsx saknas")
    counts = {name: len(rows) for name, rows in sheets.items()}
    by_title = {str(f.get("title")): f.get("sheet") for f in facts.values() if f.get("sheet")}
    for page_path in sorted(folder.glob("*.html")):
        page = _read_html(page_path)
        council = page_path.name in _COUNCIL_PAGES
        for table in page.tables:
            if table.sheet is None:  # a chart's table found by its caption
                table.sheet = next(
                    (sh for t, sh in by_title.items() if table.caption.endswith(f": {t}")), None
                )
            _check_table(page_path.name, table, counts, issues)
        for img in page.images:
            f = facts.get(img["section"])
            if f is not None and img["alt"] != f.get("alt"):
                issues.append(
                    f"{page_path.name}: alt-texten till diagrammet '{f.get('title')}' är inte "
                    f"den som granskades (figurer/{img['section']}.json)"
                )
        _check_text(page_path.name, " ".join(page.text), issues, english=council)
        if synthetic and SYNTHETIC_MARK not in " ".join(page.text):
            issues.append(
                f"{page_path.name}: saknar markeringen '{SYNTHETIC_MARK}' (syntetiska data)"
            )
        for img in page.images:
            if not img["alt"].strip():
                issues.append(f"{page_path.name}: en bild saknar alt-text")
    for name, f in facts.items():
        _check_chart(name, f, issues)
        _check_claims(name, f, sheets, issues)
        rows = f.get("data_rows")
        sheet = f.get("sheet")
        if sheet and rows is not None and counts.get(sheet) not in (None, rows):
            issues.append(
                f"tabeller.xlsx, blad '{sheet}': {counts[sheet]} rader, diagrammets tabell har {rows}"
            )
    for png in sorted((folder / "figurer").glob("*.png")):
        if png.stem not in facts:
            issues.append(f"figurer/{png.name}: saknar figurer/{png.stem}.json (kan inte granskas)")
    _check_paths(folder, issues)
    for pdf in [folder / "diagram.pdf", *sorted((folder / "figurer").glob("*.pdf"))]:
        if pdf.is_file():
            _check_pdf(pdf, pdf.relative_to(folder).as_posix(), issues)
    _check_notebooks(folder, issues)
    return list(dict.fromkeys(issues))


def receipt(folder: str | Path) -> str:
    """A short Swedish receipt of what a clean check covered."""
    folder = Path(folder)
    n_charts = len(list((folder / "figurer").glob("*.json")))
    n_pages = len(list(folder.glob("*.html")))
    n_books = len(list((folder / "notebooks").glob("*.ipynb")))
    return (
        f"Granskat {folder.name}: {n_pages} HTML-sidor, {n_charts} diagram, tabeller.xlsx, "
        f"diagram.pdf och {n_books} notebooks – inga fel."
    )
