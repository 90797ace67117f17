"""The package's vocabulary as data: every file under ``resources/`` is read here.

Computation modules (``survey/``, ``stats/``, ``wastewater/``, ``commitments/``) do no file
I/O of their own; the tables that name things — substances, indicators, activity measures,
national levels, back-calculation factors — come from this one module, read once per
process.
"""

from __future__ import annotations

import io
from functools import cache
from importlib import resources

import pandas as pd

__all__ = [
    "load_activity_measures",
    "load_backcalculation_factors",
    "load_ntu",
    "load_substances",
    "read_resource_csv",
    "resource_text",
]


@cache
def resource_text(name: str) -> str:
    """The text of ``resources/<name>`` (UTF-8), read once per process."""
    return resources.files("trygghet_analys").joinpath("resources", name).read_text("utf-8")


def read_resource_csv(name: str, **kwargs) -> pd.DataFrame:
    """``resources/<name>`` as a DataFrame (a fresh copy; ``kwargs`` go to ``read_csv``)."""
    return pd.read_csv(io.StringIO(resource_text(name)), **kwargs)


def load_substances() -> pd.DataFrame:
    """The substance register ``resources/substanser.csv``.

    Returns
    -------
    DataFrame
        ``id`` (substance id, e.g. "kokain"), ``namn`` (Swedish display name),
        ``labbnamn`` (lab aliases separated by ``|``), ``euda_metabolit`` (EUDA's name,
        NaN when EUDA does not report it), ``matt_restprodukt`` (the residue measured).
    """
    return read_resource_csv("substanser.csv", dtype=str)


def load_backcalculation_factors() -> pd.DataFrame:
    """Correction factors and typical doses with sources (``resources/aterberakning.csv``).

    Returns
    -------
    DataFrame
        ``substans, matt_restprodukt, utsondring_andel, korrektionsfaktor, typisk_dos_mg,
        kalla_korrektionsfaktor, kalla_dos, anmarkning``.
    """
    out = read_resource_csv("aterberakning.csv", dtype=str)
    for c in ("utsondring_andel", "korrektionsfaktor", "typisk_dos_mg"):
        out[c] = out[c].astype("float64")
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
