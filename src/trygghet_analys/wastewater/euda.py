"""A kommun's wastewater campaigns beside EUDA's European cities (pure).

The EUDA file is read by :mod:`trygghet_analys.files.euda`; the day rules that give a
campaign's means are in :mod:`trygghet_analys.wastewater.days` (re-exported here as
``campaign_means`` for the notebooks). Site ids are renumbered between releases: join on
city and year, never on site id.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .days import DAYS, WEEKDAY_DAYS, WEEKEND_DAYS, campaign_means

__all__ = [
    "COMPARISON_COLUMNS",
    "DAYS",
    "WEEKDAY_DAYS",
    "WEEKEND_DAYS",
    "campaign_means",
    "compare_with_euda",
]


#: Columns of ``compare_with_euda``'s table (the chart's input).
COMPARISON_COLUMNS = [
    "year",
    "metabolite",
    "city",
    "country",
    "daily_mean",
    "kind",
    "campaign",
    "n_sites",
]


def compare_with_euda(
    campaigns: pd.DataFrame,
    euda: pd.DataFrame,
    *,
    country: str = "SE",
) -> pd.DataFrame:
    """A kommun's campaigns beside the Swedish EUDA sites and the European median.

    Parameters
    ----------
    campaigns
        The ``wastewater_campaigns`` table (``kommun, year, campaign, metabolite,
        daily_mean`` at least; loads in mg/day/1000 inhabitants under the ``zero`` policy
        for a like-for-like comparison).
    euda
        ``read_euda`` output.
    country
        EUDA country code whose sites are shown one by one (default Sweden).

    Returns
    -------
    DataFrame
        ``year, metabolite, city, country, daily_mean, kind, campaign, n_sites``:

        - ``kind`` "kommun": one row per campaign; ``city`` is the kommun ("Älmhult", or
          "Älmhult (plant)" when the kommun has several plants), ``country`` is
          ``country``;
        - ``kind`` "Sverige": one row per EUDA site in ``country`` (city as EUDA spells
          it, e.g. "Växjö");
        - ``kind`` "Europa (median)": the median of every EUDA site's daily mean that
          year, ``city`` "Europa (median)", ``country`` NaN, ``n_sites`` the number of sites.

        Only years and metabolites in ``campaigns`` (substances without an EUDA
        metabolite, such as tramadol, are left out). Sorted by metabolite, year, kind.

    Notes
    -----
    EUDA's daily means are recomputed from its daily values with :func:`campaign_means`,
    so both sides follow the same day rules; sites are matched on city and year because
    EUDA renumbers site ids between releases. "cocaine" is benzoylecgonine and
    "cannabis" THC-COOH on both sides.
    """
    cols = COMPARISON_COLUMNS
    own = campaigns[campaigns["metabolite"].notna()]
    if own.empty:
        return _empty(list(cols))
    own_rows = pd.DataFrame(
        {
            "year": own["year"].astype("int64").to_numpy(),
            "metabolite": own["metabolite"].astype(str).to_numpy(),
            "city": _own_names(own),
            "country": country,
            "daily_mean": own["daily_mean"].astype("float64").to_numpy(),
            "kind": "kommun",
            "campaign": own["campaign"].astype(str).to_numpy(),
            "n_sites": 1,
        }
    )
    wanted = own_rows[["year", "metabolite"]].drop_duplicates()
    means = campaign_means(euda, by=["year", "metabolite", "city", "country"])
    means = means.merge(wanted, on=["year", "metabolite"], how="inner")
    swedish = means[means["country"] == country]
    se_rows = pd.DataFrame(
        {
            "year": swedish["year"].to_numpy(),
            "metabolite": swedish["metabolite"].to_numpy(),
            "city": swedish["city"].to_numpy(),
            "country": swedish["country"].to_numpy(),
            "daily_mean": swedish["daily_mean"].to_numpy(),
            "kind": "Sverige",
            "campaign": None,
            "n_sites": 1,
        }
    )
    med = (
        means.groupby(["year", "metabolite"], sort=True)["daily_mean"]
        .agg(["median", "count"])
        .reset_index()
    )
    eu_rows = pd.DataFrame(
        {
            "year": med["year"].to_numpy(),
            "metabolite": med["metabolite"].to_numpy(),
            "city": "Europa (median)",
            "country": None,
            "daily_mean": med["median"].to_numpy(),
            "kind": "Europa (median)",
            "campaign": None,
            "n_sites": med["count"].to_numpy(),
        }
    )
    out = pd.concat([r for r in (own_rows, se_rows, eu_rows) if not r.empty], ignore_index=True)
    order = {"kommun": 0, "Sverige": 1, "Europa (median)": 2}
    out["_k"] = out["kind"].map(order)
    out = out.sort_values(["metabolite", "year", "_k", "city", "campaign"], kind="stable")
    out = out.drop(columns="_k").reset_index(drop=True)
    out["year"] = out["year"].astype("int64")
    out["n_sites"] = out["n_sites"].astype("int64")
    out["daily_mean"] = out["daily_mean"].astype("float64")
    for c in ("metabolite", "city", "country", "kind", "campaign"):
        out[c] = out[c].astype("str").where(out[c].notna())
    return out[cols]


def _own_names(own: pd.DataFrame) -> np.ndarray:
    """The kommun's name, or "kommun (plant)" when the kommun has several plants."""
    names = own["kommun"].astype(str)
    if "plant" in own.columns:
        plants = own.groupby("kommun")["plant"].transform("nunique")
        several = plants > 1
        names = names.where(~several, names + " (" + own["plant"].astype(str) + ")")
    return names.to_numpy()


def _empty(cols: list[str]) -> pd.DataFrame:
    types = {"year": "int64", "daily_mean": "float64", "n_sites": "int64"}
    return pd.DataFrame({c: pd.Series(dtype=types.get(c, "str")) for c in cols})


# --------------------------------------------------------------------------- files
