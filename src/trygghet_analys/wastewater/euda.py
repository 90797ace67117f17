"""A kommun's wastewater campaigns beside its comparison cities, Sweden, the Nordic and
Europe, under EUDA's conventions (pure).

The EUDA file is read by :mod:`trygghet_analys.files.euda`; the day rules that give a
campaign's means are in :mod:`trygghet_analys.wastewater.days` (re-exported here as
``campaign_means`` for the notebooks). Site ids are renumbered between releases: join on
country, city and year, never on site id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError
from ..schemas import CAMPAIGN_COLUMNS
from ..vocabulary import read_resource_csv
from .days import DAYS, WEEKDAY_DAYS, WEEKEND_DAYS, campaign_means, euda_day_rules

__all__ = [
    "COMPARISON_COLUMNS",
    "DAYS",
    "KINDS",
    "WEEKDAY_DAYS",
    "WEEKEND_DAYS",
    "ComparisonCity",
    "campaign_means",
    "campaign_season",
    "compare_kommuner_with_euda",
    "compare_with_euda",
    "comparison_cities",
    "euda_countries",
    "euda_day_rules",
    "euda_rule_campaigns",
    "euda_rules_text",
]


# --------------------------------------------------------------------------- rules
#: EUDA's sampling weeks: the SCORE protocol samples one week in spring (March–April, a
#: few sites into May–June), so EUDA's values are compared with the kommun's spring.
EUDA_SEASON = "vår"

#: The season of a campaign by the month of its middle day (meteorological seasons).
_SEASONS = {12: "vinter", 1: "vinter", 2: "vinter", 3: "vår", 4: "vår", 5: "vår"}
_SEASONS |= {6: "sommar", 7: "sommar", 8: "sommar", 9: "höst", 10: "höst", 11: "höst"}


def euda_rules_text(year: int) -> str:
    """The EUDA rules used for a year's comparison, as one Swedish phrase."""
    wd, _we = euda_day_rules(year)
    days = "tis–fre, helg lör–mån" if len(wd) == 4 else "tis–tor, helg fre–mån"
    return f"EUDA:s regler {int(year)}: under LOQ räknas som 0; vardag {days}"


def campaign_season(date_from: object, date_to: object) -> str | None:
    """Season of a campaign ("vår", "sommar", "höst", "vinter") by its middle day.

    Examples
    --------
    >>> campaign_season("2023-04-05", "2023-04-11"), campaign_season("2023-10-04", "2023-10-10")
    ('vår', 'höst')
    """
    if pd.isna(date_from) or pd.isna(date_to):
        return None
    first, last = pd.Timestamp(date_from), pd.Timestamp(date_to)
    return _SEASONS[(first + (last - first) / 2).month]


_OWN_RULES_ONLY = ("n_below_loq", "n_excluded", "daily_mean_low", "daily_mean_high")


def euda_rule_campaigns(loads: pd.DataFrame) -> pd.DataFrame:
    """A kommun's campaign means recomputed under EUDA's conventions.

    Whatever ``loq_policy`` the kommun uses for its own charts, a comparison with EUDA
    must count a day below the LOQ as 0 (EUDA's convention) and apply EUDA's day rules of
    the campaign's year.

    Parameters
    ----------
    loads
        The ``wastewater_loads`` table (``kommun, plant, campaign, date, weekday,
        substance, metabolite, below_loq, population, load_mg_day_1000``, optionally
        ``excluded``: days kept out by a sample flag are no day present here either).

    Returns
    -------
    DataFrame
        ``kommun, plant, year, campaign, substance, metabolite, daily_mean, weekday_mean,
        weekend_mean, n_days, date_from, date_to, season, population`` (means in
        mg/day/1000 inhabitants; ``population`` the plant's population served, the mean
        over the campaign's days; ``season`` by :func:`campaign_season`).
    """
    # the campaign table's columns, less those defined by the kommun's own rules (LOQ
    # counts, flagged days, the within-campaign interval), plus season and plant size
    cols = [c for c in CAMPAIGN_COLUMNS if c not in _OWN_RULES_ONLY] + ["season", "population"]
    if loads.empty:
        return _empty(cols)
    keys = ["kommun", "plant", "campaign", "substance", "metabolite"]
    work = loads[[*keys, "date", "weekday", "population"]].copy()
    below = loads["below_loq"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    work["value"] = loads["load_mg_day_1000"].astype("float64").where(~below, 0.0)
    if "excluded" in loads.columns:  # a failed or overflowed sample is no EUDA day either
        work["value"] = work["value"].where(~loads["excluded"].astype(bool).to_numpy())
    work["date"] = pd.to_datetime(work["date"])
    g = work.groupby(keys, sort=False, dropna=False)
    extra = pd.DataFrame(
        {
            "date_from": g["date"].min(),
            "date_to": g["date"].max(),
            "population": g["population"].mean(),
        }
    ).reset_index()
    work = work.merge(extra[[*keys, "date_from"]], on=keys, how="left")
    work["year"] = work["date_from"].dt.year.astype("int64")
    means = campaign_means(work, by=[*keys, "year"], day="weekday", value="value", year="year")
    out = means.merge(extra, on=keys, how="left")
    out["season"] = [
        campaign_season(a, b) for a, b in zip(out["date_from"], out["date_to"], strict=True)
    ]
    out = out.sort_values(["plant", "date_from", "substance"], kind="stable")
    return out[cols].reset_index(drop=True)


@dataclass(frozen=True)
class ComparisonCity:
    """A city the kommun compares itself with (``jamforelsestader`` in ``kommun.yml``).

    Attributes
    ----------
    city : the city as EUDA spells it ("Växjö").
    population : population served by the city's plant(s) in EUDA's campaign.
    plant : the plant's name, for the chart's legend (optional).
    source : where the population comes from (optional).
    """

    city: str
    population: int
    plant: str | None = None
    source: str | None = None


def comparison_cities(config: Mapping[str, object], *, file: object = None) -> list[ComparisonCity]:
    """The kommun's comparison cities from ``kommun.yml`` (key ``jamforelsestader``).

    Parameters
    ----------
    config
        The parsed ``kommun.yml`` (or ``KommunConfig.extra``); ``jamforelsestader`` is a
        list of ``{stad: Växjö, anslutna: 75410, reningsverk: Sundets ARV, kalla: ...}``.
    file
        The ``kommun.yml`` path, for error messages.

    Returns
    -------
    list of ComparisonCity
        Empty when the key is absent.

    Raises
    ------
    DataError
        When an entry has no ``stad`` or no positive whole ``anslutna`` (the plant size is
        printed beside every comparison city).
    """
    entries = config.get("jamforelsestader") or []
    if not isinstance(entries, list):
        raise DataError(
            "en lista med {stad, anslutna}", file=file, column="jamforelsestader", value=entries
        )
    out = []
    for i, e in enumerate(entries, start=1):
        where = f"jamforelsestader[{i}]"
        if not isinstance(e, Mapping) or not str(e.get("stad") or "").strip():
            raise DataError(
                "en post med 'stad' (stadens namn som i EUDA:s fil)",
                file=file,
                column=where,
                value=e,
            )
        pop = e.get("anslutna")
        if not isinstance(pop, int) or isinstance(pop, bool) or pop <= 0:
            expected = "ett positivt heltal (anslutna personer vid stadens reningsverk)"
            raise DataError(expected, file=file, column=f"{where}.anslutna", value=pop)
        plant = e.get("reningsverk")
        source = e.get("kalla")
        out.append(
            ComparisonCity(
                city=str(e["stad"]).strip(),
                population=pop,
                plant=None if plant is None else str(plant),
                source=None if source is None else str(source),
            )
        )
    return out


def euda_countries() -> pd.DataFrame:
    """EUDA's country codes with whether each is European and Nordic.

    Returns
    -------
    DataFrame
        ``resources/euda_lander.csv``: ``kod, land, europa, norden`` (bool), ``kalla,
        anmarkning``. Europe is the Council of Europe's 46 member states (so Turkey and
        Cyprus count, Brazil, Chile, Canada, the US, Australia, New Zealand and South Korea
        do not); the Nordic countries are the Nordic Council's five. ``H`` is how EUDA's
        2025 file writes Hungary (Debrecen 2023).
    """
    out = read_resource_csv("euda_lander.csv", dtype=str, keep_default_na=False)
    for c in ("europa", "norden"):
        out[c] = out[c].eq("ja")
    return out


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
    "season",
    "season_matched",
    "population",
    "rules",
]

#: Kinds of rows in the comparison, in display order.
KINDS = ("kommun", "jämförelsestad", "Sverige", "Norden (median)", "Europa (median)")


def compare_with_euda(
    campaigns: pd.DataFrame,
    euda: pd.DataFrame,
    *,
    country: str = "SE",
    cities: Sequence[ComparisonCity] = (),
) -> pd.DataFrame:
    """A kommun's campaigns beside its comparison cities, Sweden, the Nordic and Europe.

    Parameters
    ----------
    campaigns
        The kommun's campaigns under EUDA's rules (:func:`euda_rule_campaigns`; at least
        ``kommun, year, campaign, metabolite, daily_mean``, and ``season`` or
        ``date_from``/``date_to`` for season matching, ``population`` for the plant size).
        Do not pass campaign means computed with another ``loq_policy``.
    euda
        ``read_euda`` output.
    country
        EUDA country code whose sites are shown one by one (default Sweden).
    cities
        The kommun's comparison cities (``kommun.yml``), with their plant sizes.

    Returns
    -------
    DataFrame
        :data:`COMPARISON_COLUMNS`, one row per:

        - ``kind`` "kommun": the kommun's campaign (under EUDA's rules) compared that
          year: its spring campaign(s) when it has one (``season_matched`` True), else its
          other campaigns with ``season_matched`` False; ``city`` the kommun ("Älmhult",
          "Älmhult (plant)" with several plants), ``population`` its plant's;
        - ``kind`` "jämförelsestad": each comparison city's EUDA value, ``population``
          from ``kommun.yml``;
        - ``kind`` "Sverige": every other EUDA site in ``country``;
        - ``kind`` "Norden (median)" and "Europa (median)": the median over the Nordic /
          European sites (:func:`euda_countries`) present in *every* year shown for that
          metabolite (a balanced panel, so a change of line is not a change of sites);
          ``n_sites`` the number of sites.

        EUDA rows have ``season`` "vår" (EUDA samples one spring week) and
        ``season_matched`` True; ``rules`` says which EUDA rules the year follows. Only
        years and metabolites of ``campaigns`` (substances without an EUDA metabolite,
        such as tramadol, are left out). Sorted by metabolite, year, kind.

    Raises
    ------
    DataError
        When the EUDA file has a country code that ``resources/euda_lander.csv`` does not
        list (no site is dropped or counted as European silently).

    Notes
    -----
    EUDA's daily means are recomputed from its daily values with :func:`campaign_means`
    with each year's day rules; sites are matched on country, city and year because EUDA
    renumbers site ids between releases. "cocaine" is benzoylecgonine and "cannabis"
    THC-COOH on both sides.
    """
    cols = COMPARISON_COLUMNS
    own = campaigns[campaigns["metabolite"].notna()].copy()
    if own.empty:
        return _empty(list(cols))
    if "season" not in own.columns:
        if {"date_from", "date_to"} <= set(own.columns):
            own["season"] = [
                campaign_season(a, b) for a, b in zip(own["date_from"], own["date_to"], strict=True)
            ]
        else:
            own["season"] = None
    own["_city"] = _own_names(own)
    own["year"] = own["year"].astype("int64")
    own["_match"] = own["season"].eq(EUDA_SEASON)
    has_spring = own.groupby(["year", "metabolite", "_city"])["_match"].transform("any")
    own = own[own["_match"] | ~has_spring]
    own_rows = pd.DataFrame(
        {
            "year": own["year"].to_numpy(),
            "metabolite": own["metabolite"].astype(str).to_numpy(),
            "city": own["_city"].to_numpy(),
            "country": country,
            "daily_mean": own["daily_mean"].astype("float64").to_numpy(),
            "kind": "kommun",
            "campaign": own["campaign"].astype(str).to_numpy(),
            "n_sites": 1,
            "season": own["season"].to_numpy(),
            "season_matched": own["_match"].to_numpy(dtype=bool),
            "population": (
                own["population"].astype("float64").to_numpy()
                if "population" in own.columns
                else np.nan
            ),
        }
    )
    wanted = own_rows[["year", "metabolite"]].drop_duplicates()
    means = campaign_means(euda, by=["year", "metabolite", "city", "country"], year="year")
    means = means.merge(wanted, on=["year", "metabolite"], how="inner")
    means = means[means["n_days"] > 0]
    kinds = _country_kinds(means["country"])
    means = means.assign(_eu=kinds["europa"].to_numpy(), _nordic=kinds["norden"].to_numpy())

    def site_rows(frame: pd.DataFrame, kind: str, population: object) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "year": frame["year"].to_numpy(),
                "metabolite": frame["metabolite"].to_numpy(),
                "city": frame["city"].to_numpy(),
                "country": frame["country"].to_numpy(),
                "daily_mean": frame["daily_mean"].to_numpy(),
                "kind": kind,
                "campaign": None,
                "n_sites": 1,
                "season": EUDA_SEASON,
                "season_matched": True,
                "population": population,
            }
        )

    size = {_fold(c.city): float(c.population) for c in cities}
    folded = means["city"].map(_fold)
    chosen = means[folded.isin(size)]
    city_rows = site_rows(chosen, "jämförelsestad", chosen["city"].map(_fold).map(size).to_numpy())
    swedish = means[(means["country"] == country) & ~folded.isin(size)]
    se_rows = site_rows(swedish, "Sverige", np.nan)
    nordic = _balanced_median(means[means["_nordic"]], "Norden (median)")
    europe = _balanced_median(means[means["_eu"]], "Europa (median)")
    parts = [own_rows, city_rows, se_rows, nordic, europe]
    out = pd.concat([r for r in parts if not r.empty], ignore_index=True)
    out["rules"] = out["year"].map(euda_rules_text)
    out["_k"] = out["kind"].map({k: i for i, k in enumerate(KINDS)})
    out = out.sort_values(["metabolite", "year", "_k", "city", "campaign"], kind="stable")
    out = out.drop(columns="_k").reset_index(drop=True)
    out["year"] = out["year"].astype("int64")
    out["n_sites"] = out["n_sites"].astype("int64")
    out["daily_mean"] = out["daily_mean"].astype("float64")
    out["population"] = out["population"].astype("float64")
    out["season_matched"] = out["season_matched"].astype(bool)
    for c in ("metabolite", "city", "country", "kind", "campaign", "season", "rules"):
        out[c] = out[c].astype("object").where(out[c].notna()).astype("str").where(out[c].notna())
    return out[cols]


def compare_kommuner_with_euda(
    loads: pd.DataFrame,
    euda: pd.DataFrame | None,
    *,
    cities: Mapping[str, Sequence[ComparisonCity]] | None = None,
    country: str = "SE",
) -> pd.DataFrame:
    """Every kommun's campaigns, recomputed under EUDA's rules, beside EUDA's cities.

    The one EUDA comparison of the package: ``build`` writes it as
    ``processed/wastewater_euda.parquet`` and the report reads that table.

    Parameters
    ----------
    loads
        ``wastewater_loads`` of any number of kommuner.
    euda
        ``read_euda`` output, or None when no EUDA file is present.
    cities
        Kommun name → its comparison cities (``kommun.yml``); kommuner not listed have none.
    country
        As in :func:`compare_with_euda`.

    Returns
    -------
    DataFrame
        ``kommun`` then :data:`COMPARISON_COLUMNS` (:func:`compare_with_euda` per kommun, in
        order of first appearance in ``loads``); empty with these columns when ``euda`` is
        None or there are no loads.
    """
    columns = ["kommun", *COMPARISON_COLUMNS]
    if euda is None or loads.empty:
        return _empty(columns)
    cities = cities or {}
    parts = []
    for name in pd.unique(loads["kommun"]):
        own = loads[loads["kommun"] == name]
        part = compare_with_euda(
            euda_rule_campaigns(own), euda, country=country, cities=cities.get(name, ())
        )
        parts.append(part.assign(kommun=name)[columns])
    return pd.concat(parts, ignore_index=True) if parts else _empty(columns)


def _balanced_median(means: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Median per year and metabolite over the sites present in every year shown."""
    rows = []
    for metabolite, part in means.groupby("metabolite", sort=True):
        years = sorted(part["year"].unique())
        per_site = part.groupby(["country", "city"])["year"].nunique()
        panel = per_site[per_site == len(years)].index
        if len(panel) == 0:
            continue
        keyed = part.set_index(["country", "city"])
        inside = part[keyed.index.isin(panel)]
        for year, vals in inside.groupby("year", sort=True):
            rows.append(
                {
                    "year": int(year),
                    "metabolite": metabolite,
                    "city": kind,
                    "country": None,
                    "daily_mean": float(vals["daily_mean"].median()),
                    "kind": kind,
                    "campaign": None,
                    "n_sites": int(len(vals)),
                    "season": EUDA_SEASON,
                    "season_matched": True,
                    "population": np.nan,
                }
            )
    return pd.DataFrame(rows)


def _country_kinds(codes: pd.Series) -> pd.DataFrame:
    table = euda_countries().set_index("kod")
    unknown = sorted(set(codes.astype(str)) - set(table.index))
    if unknown:
        raise DataError(
            "en landskod som finns i resources/euda_lander.csv (lägg till landet där, "
            "med om det är europeiskt och nordiskt)",
            column="Country",
            value=unknown[0],
        )
    return table.loc[codes.astype(str), ["europa", "norden"]].reset_index(drop=True)


def _fold(text: object) -> str:
    """Case- and accent-insensitive key: "Växjö", "VAXJO" → "vaxjo"."""
    import unicodedata

    plain = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return plain.casefold().strip()


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
    types |= {"population": "float64", "season_matched": "bool", "weekday_mean": "float64"}
    types |= {"weekend_mean": "float64", "n_days": "int64"}
    types |= {"date_from": "datetime64[us]", "date_to": "datetime64[us]"}
    return pd.DataFrame({c: pd.Series(dtype=types.get(c, "str")) for c in cols})


# --------------------------------------------------------------------------- files
