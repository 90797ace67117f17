"""The package's vocabulary as data: every file under ``resources/`` is read here.

Computation modules (``survey/``, ``stats/``, ``wastewater/``, ``commitments/``) do no file
I/O of their own; the tables that name things — substances, indicators, activity measures,
national levels, back-calculation factors, age groups, Swedish column headers, recurring
texts and the Swedish labels of the comparison kinds and sources — come from this one
module, read once per process.

Comparison kinds and sources are enums (:class:`Comparison`, :class:`Source`): code
compares with a member (``comparison == Comparison.BASE_YEAR``), never with a bare Swedish
word; the member's value is its Swedish label from ``resources/etiketter.csv``, which is
also what the tables hold.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import TypeVar

import pandas as pd

__all__ = [
    "Comparison",
    "Source",
    "column_headers",
    "header_keys",
    "load_age_groups",
    "load_activity_measures",
    "load_backcalculation_factors",
    "load_ntu",
    "load_sample_flags",
    "load_substances",
    "medicine_note",
    "read_resource_csv",
    "substance_ids",
    "substance_name",
    "substance_title",
    "resource_text",
    "standard_text",
]


T = TypeVar("T")


@cache
def resource_text(name: str) -> str:
    """The text of ``resources/<name>`` (UTF-8), read once per process."""
    return resources.files("trygghet_analys").joinpath("resources", name).read_text("utf-8")


def read_resource_csv(name: str, **kwargs) -> pd.DataFrame:
    """``resources/<name>`` as a DataFrame (a fresh copy; ``kwargs`` go to ``read_csv``).

    Parsed once per text and options (a build asks for the same resource hundreds of
    times: a substance's name, the activity measures, the indicators per kommun); every
    call gets its own copy, so a caller may change what it gets.
    """
    text = resource_text(name)
    try:
        options = tuple(sorted(kwargs.items()))
        hash(options)
    except TypeError:  # an option that cannot be a key (e.g. a dict of types): parse now
        return pd.read_csv(io.StringIO(text), **kwargs)
    return _parsed_csv(text, options).copy()


@cache
def _parsed_csv(text: str, options: tuple) -> pd.DataFrame:
    """A resource's text parsed (keyed by the text itself, so an edited text is parsed
    anew); only ever handed out as a copy (:func:`read_resource_csv`)."""
    return pd.read_csv(io.StringIO(text), **dict(options))


def _kept_per_text(resource: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """A lookup in ``resources/<resource>`` answered once per text of that resource and
    arguments (a report asks for the same few names and texts hundreds of times: titles,
    alt texts, notes, tables); an edited text is a new key, so it is looked up anew. A
    dict is handed out as a copy, so a caller may change what it gets."""

    def wrap(lookup: Callable[..., T]) -> Callable[..., T]:
        kept = cache(lambda _text, *args, **kwargs: lookup(*args, **kwargs))

        @functools.wraps(lookup)
        def answer(*args, **kwargs):
            found = kept(resource_text(resource), *args, **kwargs)
            return dict(found) if isinstance(found, dict) else found

        return answer

    return wrap


def load_substances() -> pd.DataFrame:
    """The substance register ``resources/substanser.csv``.

    Returns
    -------
    DataFrame
        ``id`` (substance id, e.g. "kokain"), ``namn`` (Swedish display name),
        ``labbnamn`` (lab aliases separated by ``|``), ``euda_metabolit`` (EUDA's name,
        NaN when EUDA does not report it), ``matt_restprodukt`` (the residue measured),
        ``kort_namn`` (the short name in sentences, tables and chart titles),
        ``lakemedel`` (for a substance that is also a prescribed medicine, the Swedish
        caveat printed wherever it appears; NaN for the others).
    """
    return read_resource_csv("substanser.csv", dtype=str)


def substance_ids() -> tuple[str, ...]:
    """Every substance id, in the order of ``resources/substanser.csv`` (the one list).

    Examples
    --------
    >>> substance_ids()[:3]
    ('amfetamin', 'metamfetamin', 'kokain')
    """
    return tuple(load_substances()["id"])


@_kept_per_text("substanser.csv")
def substance_name(substance: str) -> str:
    """The short Swedish name used in sentences and tables ("Kokain", "MDMA").

    Examples
    --------
    >>> substance_name("mdma"), substance_name("okänd")
    ('MDMA', 'Okänd')
    """
    table = load_substances().set_index("id")
    if substance in table.index and isinstance(table.loc[substance, "kort_namn"], str):
        return table.loc[substance, "kort_namn"]
    return substance.capitalize()


@_kept_per_text("substanser.csv")
def substance_title(substance: str) -> str:
    """A chart title: the short name, and the residue measured when it is another substance.

    Examples
    --------
    >>> substance_title("kokain"), substance_title("mdma"), substance_title("ketamin")
    ('Kokain (mätt som bensoylekgonin)', 'MDMA', 'Ketamin')
    """
    name = substance_name(substance)
    table = load_substances().set_index("id")
    if substance not in table.index:
        return name
    measured = table.loc[substance, "matt_restprodukt"]
    if not isinstance(measured, str) or measured.casefold() in (substance, name.casefold()):
        return name
    return f"{name} (mätt som {measured})"


@_kept_per_text("substanser.csv")
def medicine_note(substance: str) -> str:
    """The caveat for a substance that is also a prescribed medicine ("" for others).

    Examples
    --------
    >>> medicine_note("tramadol").split()[:4]
    ['Tramadol', 'är', 'ett', 'receptbelagt']
    >>> medicine_note("kokain")
    ''
    """
    table = load_substances().set_index("id")
    if substance not in table.index or "lakemedel" not in table.columns:
        return ""
    text = table.loc[substance, "lakemedel"]
    return text if isinstance(text, str) else ""


def load_sample_flags() -> pd.DataFrame:
    """The sample quality flags ``resources/provflaggor.csv``.

    Returns
    -------
    DataFrame
        ``flagga`` (``under_loq``, ``regn``, ``bräddning``, ``helgdag``,
        ``provtagningsfel``), ``betydelse`` (Swedish meaning), ``i_kampanjmedel`` (bool:
        whether a day with this flag counts in the campaign mean), ``satts_av`` (who sets
        it).
    """
    out = read_resource_csv("provflaggor.csv", dtype=str)
    out["i_kampanjmedel"] = out["i_kampanjmedel"].eq("ja")
    return out


def load_backcalculation_factors() -> pd.DataFrame:
    """Correction factors and typical doses with their review (``resources/aterberakning.csv``).

    Returns
    -------
    DataFrame
        ``substans, matt_restprodukt, molvikt_kvot`` (M_parent / M_residue),
        ``utsondring_andel, korrektionsfaktor, typisk_dos_mg`` (float), ``status``
        ("verifierad": checked against the original, or "overifierad": never used in any
        output), ``varde_tryckt`` (the value as printed in the original), ``cf_lag,
        cf_hog`` (the published range, float, NaN when none), ``referens`` (authors,
        year, title, journal, volume, pages), ``tabell_sida`` (table or page),
        ``kalla_dos``, ``granskning`` (what the review found).
    """
    out = read_resource_csv("aterberakning.csv", dtype=str, keep_default_na=False)
    for c in ("molvikt_kvot", "utsondring_andel", "korrektionsfaktor", "typisk_dos_mg"):
        out[c] = out[c].astype("float64")
    for c in ("cf_lag", "cf_hog"):
        out[c] = pd.to_numeric(out[c].replace("", None), errors="raise").astype("float64")
    return out


def load_activity_measures() -> pd.DataFrame:
    """The activity measures (``resources/aktivitetsmatt.csv``).

    Returns
    -------
    DataFrame with columns ``id, label, unit, aggregation`` (``summa``: the year's
    value is the sum of its periods; ``senaste``: the last period's value, for stocks
    such as households in Grannsamverkan).
    """
    return read_resource_csv("aktivitetsmatt.csv", dtype=str)


def load_ntu() -> pd.DataFrame:
    """National NTU levels published by Brå (``resources/ntu_riket.csv``).

    Returns
    -------
    DataFrame with columns ``indicator`` (the NTU id, matched by an indicator's
    ``ntu_id``), ``year``, ``percent`` (whole percent as Brå published it) and
    ``source``.

    Examples
    --------
    >>> ntu = load_ntu().set_index(["indicator", "year"])
    >>> float(ntu.loc[("otrygg_ute_sent", 2022), "percent"])
    27.0
    """
    out = read_resource_csv("ntu_riket.csv", dtype={"indicator": str, "source": str})
    return out.astype({"year": int, "percent": float})


def load_age_groups() -> tuple[tuple[str, int, int], ...]:
    """The age groups ``resources/aldersgrupper.csv``: (label, lowest age, highest age).

    Examples
    --------
    >>> load_age_groups()[0]
    ('16–24', 16, 24)
    """
    table = read_resource_csv("aldersgrupper.csv", dtype={"etikett": str})
    return tuple((str(r.etikett), int(r.fran), int(r.till)) for r in table.itertuples(index=False))


@_kept_per_text("rubriker.csv")
def column_headers(table: str | None = None) -> dict[str, str]:
    """Column name → Swedish header, the one dictionary of every table a person reads
    (``resources/rubriker.csv``).

    A row ``<table>.<column>`` gives ``column`` another header in that table only (the
    findings sheet says "Förändring, 95 % KI nedre" where other tables say
    "Konfidensintervall, nedre"); ``table`` picks those rows over the common ones.

    Examples
    --------
    >>> headers = column_headers()
    >>> headers["reason"], headers["kind"]
    ('Skäl', 'Slag')
    >>> column_headers("findings")["ci_low"]
    'Förändring, 95 % KI nedre'
    """
    table_ = read_resource_csv("rubriker.csv", dtype=str, keep_default_na=False)
    common: dict[str, str] = {}
    own: dict[str, str] = {}
    for key, header in zip(table_["kolumn"], table_["rubrik"], strict=True):
        where, _, column = key.rpartition(".")
        if not where:
            common[column] = header
        elif where == table:
            own[column] = header
    return {**common, **own}


def header_keys() -> dict[str, str]:
    """Swedish header → column name, over every row of ``resources/rubriker.csv``
    (table-specific rows included): how a table with Swedish headers finds its columns'
    keys. A header shared by two columns ("Slag": ``kind``, ``indicator_kind``) keeps the
    first.

    Examples
    --------
    >>> header_keys()["Förändring, 95 % KI nedre"], header_keys()["Skäl"]
    ('ci_low', 'reason')
    """
    table = read_resource_csv("rubriker.csv", dtype=str, keep_default_na=False)
    out: dict[str, str] = {}
    for key, header in zip(table["kolumn"], table["rubrik"], strict=True):
        out.setdefault(header, key.rpartition(".")[2])
    return out


@_kept_per_text("texter.csv")
def standard_text(key: str) -> str:
    """A recurring Swedish text (``resources/texter.csv``), e.g. the synthetic-data banner.

    Examples
    --------
    >>> standard_text("exempeldata")
    'Exempeldata – inte verkliga resultat'
    """
    table = read_resource_csv("texter.csv", dtype=str, keep_default_na=False)
    found = table.loc[table["id"] == key, "text"]
    if found.empty:
        raise KeyError(f"resources/texter.csv has no text {key!r}")
    return str(found.iloc[-1])


def _label(group: str, key: str) -> str:
    table = read_resource_csv("etiketter.csv", dtype=str, keep_default_na=False)
    found = table.loc[(table["grupp"] == group) & (table["id"] == key), "etikett"]
    if found.empty:
        raise KeyError(f"resources/etiketter.csv has no label {group}/{key}")
    return str(found.iloc[-1])


class Comparison(StrEnum):
    """What a finding compares (``comparison`` in the findings and changes tables)."""

    PREVIOUS_YEAR = _label("jamforelse", "previous_year")
    BASE_YEAR = _label("jamforelse", "base_year")
    TREND = _label("jamforelse", "trend")
    EFFECT = _label("jamforelse", "effect")


class Source(StrEnum):
    """Where a finding or a commitment's indicator comes from (``source``,
    ``indicator_kind``)."""

    SURVEY = _label("kalla", "survey")
    WASTEWATER = _label("kalla", "wastewater")
    ACTIVITY = _label("kalla", "activity")
