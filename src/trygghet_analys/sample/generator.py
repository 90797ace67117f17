"""Deterministic synthetic data folders: survey 2005–2025, wastewater, commitments.

``write_sample_data(out)`` makes ``out`` a complete data folder (``out/raw/…`` and an
empty ``out/processed/``) for one kommun (Älmhult) or, with ``kommuner=N``, for the first
N kommuner of Polisregion Syd (Älmhult first). Everything except the police's published
problemindex for Älmhult is synthetic and labelled so (``exempeldata: true``).

The survey model
----------------
Each kommun, year, stratum and question has a true category distribution
``p = softmax(log(base) + shift · severity)``: ``base`` is a question's typical answer
profile, ``severity`` scores its ordered categories (0, 1, 2, 3; "Vet ej" 0) and ``shift``
is the kommun's story (level, area effects, slow trends, drug problems rising after a
start year, foot patrols from a start year in the centre, the 2020 rewording of the
violence item). Women have ``shift + 0.35`` and men ``shift − 0.35`` on the worry and
unsafety items; the population is half women, so the stratum's true share is the mean of
the two. Sampled persons respond with the year's response rate (60–67 %) independently of
their answers, so design weights N_h / r_h recover the truth.

:func:`true_population_values` returns that truth; :func:`simulate_responses` draws one
survey sample in canonical form. Files are byte-identical for the same seed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..errors import ConfigError
from ..files._io import deterministic_zip
from ..progress import Progress
from ..survey.codebook import AGE_GROUPS, QUESTIONS, SEX_CATEGORIES
from ._commitments import write_sample_commitments
from ._wastewater import default_plant_name, write_sample_wastewater

__all__ = [
    "DEFAULT_SEED",
    "KOMMUNER",
    "SCENARIOS",
    "YEARS",
    "simulate_responses",
    "true_indicator_values",
    "true_patrol_effect",
    "true_population_values",
    "write_sample_data",
]

#: ``standard``: the kommun's story (the bundled data). ``oforandrad``: no true value
#: changes between years or areas (survey and wastewater), only sampling noise and
#: week-to-week variation: a world where every "statistiskt säkerställd" is a false alarm.
SCENARIOS = ("standard", "oforandrad")

DEFAULT_SEED = 20220223
YEARS: tuple[int, ...] = tuple(range(2005, 2026))
HANDEL_FROM = 2017  # problem_narkotikahandel first asked
REWORDED = 2020  # oro_vald reworded in the web questionnaire

#: The 58 kommuner of Polisregion Syd (Skåne, Blekinge, Kronoberg, Kalmar län) with an
#: approximate total population; Älmhult first. Names are real, all survey data synthetic.
KOMMUNER: tuple[tuple[str, int], ...] = (
    ("Älmhult", 18000),
    ("Malmö", 357000), ("Helsingborg", 150000), ("Lund", 128000), ("Växjö", 97000),
    ("Kristianstad", 86000), ("Kalmar", 71000), ("Karlskrona", 67000), ("Hässleholm", 52000),
    ("Trelleborg", 46000), ("Landskrona", 46000), ("Ängelholm", 43000), ("Vellinge", 37000),
    ("Västervik", 36000), ("Eslöv", 34000), ("Kävlinge", 33000), ("Karlshamn", 32500),
    ("Ystad", 31000), ("Ronneby", 29600), ("Ljungby", 28500), ("Höganäs", 27000),
    ("Oskarshamn", 27000), ("Staffanstorp", 26000), ("Lomma", 25000), ("Svedala", 22800),
    ("Alvesta", 20500), ("Nybro", 20500), ("Sjöbo", 19500), ("Burlöv", 19000),
    ("Simrishamn", 19000), ("Klippan", 17900), ("Sölvesborg", 17600), ("Höör", 17000),
    ("Bjuv", 16000), ("Skurup", 16000), ("Åstorp", 16000), ("Hörby", 15600),
    ("Mörbylånga", 15500), ("Vimmerby", 15500), ("Båstad", 15000), ("Östra Göinge", 15000),
    ("Svalöv", 14500), ("Hultsfred", 14000), ("Tomelilla", 13800), ("Mönsterås", 13500),
    ("Osby", 13000), ("Olofström", 13000), ("Bromölla", 12700), ("Tingsryd", 12400),
    ("Borgholm", 10900), ("Örkelljunga", 10600), ("Markaryd", 10400), ("Uppvidinge", 9600),
    ("Emmaboda", 9300), ("Lessebo", 8900), ("Perstorp", 7500), ("Torsås", 7000),
    ("Högsby", 5700),
)  # fmt: skip

_SAMPLED = 900  # sampled per kommun and year, split equally over the areas
_SEX_EFFECT = 0.35
_FIXED_TIME = (2000, 1, 1, 0, 0, 0)
_Q = tuple(QUESTIONS)

# --- answer scales -----------------------------------------------------------------------
# A question's scale: its base profile at shift 0 and the severity of each category.
_SCALE_OF = {
    "otrygg_ute_sent": "otrygg",
    "avstatt_aktivitet": "nej_ja",
    "oro_inbrott": "oro",
    "oro_vald": "oro",
    "utsatt_brott": "nej_ja",
    **{q: "problem" for q in _Q if q.startswith("problem_")},
    "fortroende_polisen": "fortroende",
    "ser_polis_fots": "polis_fots",
    "grannsamverkan": "nej_ja",
}
_BASE = {
    "otrygg_ute_sent": [0.36, 0.36, 0.14, 0.05, 0.03, 0.03, 0.03],
    "avstatt_aktivitet": [0.82, 0.15, 0.03],
    "utsatt_brott": [0.80, 0.17, 0.03],
    "grannsamverkan": [0.60, 0.32, 0.08],
    "oro_inbrott": [0.30, 0.42, 0.18, 0.06, 0.04],
    "oro_vald": [0.38, 0.40, 0.13, 0.05, 0.04],
    "fortroende_polisen": [0.06, 0.18, 0.45, 0.18, 0.13],
    "ser_polis_fots": [0.45, 0.35, 0.10, 0.05, 0.05],
}
_PROBLEM_BASE = [0.45, 0.33, 0.12, 0.05, 0.05]
_SEVERITY = {
    "otrygg": [0, 1, 2, 3, 3, 0, 0],
    "nej_ja": [0, 1, 0],
    "oro": [0, 1, 2, 3, 0],
    "problem": [0, 1, 2, 3, 0],
    "fortroende": [0, 1, 2, 3, 0],
    "polis_fots": [0, 1, 2, 3, 0],
}
_SEX_ITEMS = ("otrygg_ute_sent", "oro_inbrott", "oro_vald", "avstatt_aktivitet")

# How each historical layout writes a scale: source values aligned to the canonical
# categories. The codebook the generator writes is built from the same tables.
_SOURCE_SCALES: dict[str, dict[str, list]] = {
    "kod": {
        "otrygg": [1, 2, 3, 4, 5, 6, 9],
        "nej_ja": [2, 1, 9],
        "oro": [1, 2, 3, 4, 9],
        "problem": [1, 2, 3, 4, 9],
        "fortroende": [1, 2, 3, 4, 9],
        "polis_fots": [1, 2, 3, 4, 9],
        "kon": [2, 1],
    },
    "text": {
        "otrygg": ["Mycket trygg", "Ganska trygg", "Ganska otrygg", "Mycket otrygg",
                   "Går inte ut pga oro för brott", "Går inte ut av andra skäl", "Vet inte"],
        "nej_ja": ["Nej", "Ja", "Vet inte"],
        "oro": ["Inte alls orolig", "Inte särskilt orolig", "Ganska orolig", "Mycket orolig",
                "Vet inte"],
        "problem": ["Inget problem", "Litet problem", "Ganska stort problem",
                    "Mycket stort problem", "Vet inte"],
        "fortroende": ["Mycket litet förtroende", "Ganska litet förtroende",
                       "Ganska stort förtroende", "Mycket stort förtroende", "Vet inte"],
        "polis_fots": ["Aldrig", "Mer sällan än varje månad", "Varje månad",
                       "Varje vecka eller oftare", "Vet inte"],
        "kon": ["Kvinna", "Man"],
    },
    "webb": {
        "otrygg": ["mycket trygg", "ganska trygg", "ganska otrygg", "mycket otrygg",
                   "går inte ut – oro för brott", "går inte ut – andra skäl", "vet ej"],
        "nej_ja": ["nej", "ja", "vet ej"],
        "oro": ["aldrig", "sällan", "ibland", "ofta", "vet ej"],
        "oro_inbrott": ["inte alls", "inte särskilt", "ganska", "mycket", "vet ej"],
        "problem": ["inget", "litet", "ganska stort", "mycket stort", "vet ej"],
        "fortroende": ["mycket litet", "ganska litet", "ganska stort", "mycket stort", "vet ej"],
        "polis_fots": ["aldrig", "mer sällan än varje månad", "varje månad",
                       "varje vecka eller oftare", "vet ej"],
        "kon": ["kvinna", "man"],
    },
}  # fmt: skip
_MISSING_SEX = {"kod": None, "text": "Vill ej uppge", "webb": "annat/vill ej svara"}

_PROBLEM_ITEMS = {
    "problem_nedskrapning": ("Nedskräpning", "nedskrapning"),
    "problem_skadegorelse": ("Skadegörelse", "skadegorelse"),
    "problem_klotter": ("Klotter", "klotter"),
    "problem_vardslos_biltrafik": ("Vårdslös biltrafik", "biltrafik"),
    "problem_buskorning": ("Buskörning med moped eller motorcykel", "buskorning"),
    "problem_ungdomsgang": ("Ungdomsgäng som stör ordningen", "ungdomsgang"),
    "problem_berusade": ("Berusade personer som stör ordningen", "berusade"),
    "problem_narkotikapaverkade": ("Personer som är påverkade av narkotika", "narkpaverkade"),
    "problem_narkotikahandel": ("Öppen narkotikahandel", "narkhandel"),
    "problem_bostadsinbrott": ("Bostadsinbrott", "bostadsinbrott"),
    "problem_cykelstolder": ("Cykelstölder", "cykelstolder"),
}
_TEXT_HEADERS = {
    "otrygg_ute_sent": "Om du går ut ensam sent en kväll i ditt bostadsområde, hur trygg eller "
    "otrygg känner du dig då?",
    "avstatt_aktivitet": "Har du under de senaste 12 månaderna avstått från någon aktivitet "
    "på grund av oro för att utsättas för brott?",
    "oro_inbrott": "Hur orolig är du för att någon ska bryta sig in i din bostad?",
    "oro_vald": "Hur orolig är du för att bli utsatt för våld eller misshandel?",
    "utsatt_brott": "Har du under de senaste 12 månaderna utsatts för något brott i kommunen?",
    **{q: f"Hur stort problem är följande i ditt bostadsområde? {label}"
       for q, (label, _) in _PROBLEM_ITEMS.items()},
    "fortroende_polisen": "Hur stort förtroende har du för polisens arbete i ditt område?",
    "ser_polis_fots": "Hur ofta ser du polis till fots i ditt område?",
    "grannsamverkan": "Bor du i ett område med Grannsamverkan mot brott?",
}  # fmt: skip
_CODE_HEADERS = {
    "otrygg_ute_sent": "F1",
    "avstatt_aktivitet": "F2",
    "oro_inbrott": "F3_1",
    "oro_vald": "F3_2",
    "utsatt_brott": "F4",
    **{q: f"F5_{i}" for i, q in enumerate(
        [p for p in _PROBLEM_ITEMS if p != "problem_narkotikahandel"], start=1)},
    "fortroende_polisen": "F6",
    "ser_polis_fots": "F7",
    "grannsamverkan": "F8",
}  # fmt: skip
_WEB_HEADERS = {
    "otrygg_ute_sent": "q01_trygg_kvall",
    "avstatt_aktivitet": "q02_avstatt",
    "oro_inbrott": "q03a_oro_inbrott",
    "oro_vald": "q03b_hur_ofta_oro_vald",
    "utsatt_brott": "q04_utsatt",
    **{q: f"q05{chr(97 + i)}_{short}" for i, (q, (_, short)) in enumerate(_PROBLEM_ITEMS.items())},
    "fortroende_polisen": "q06_fortroende_polis",
    "ser_polis_fots": "q07_polis_till_fots",
    "grannsamverkan": "q08_grannsamverkan",
}  # fmt: skip

_COMMENTS = (
    "Bra att polisen syns mer",
    "Mörkt vid stationen, saknar belysning",
    'Ungdomarna vid "torget" stör ibland; inget allvarligt',
    "Bilar kör för fort på Storgatan",
    "Trivs bra i mitt område",
    "Mer grannsamverkan, tack!",
)


# --- kommun profiles -----------------------------------------------------------------------
@dataclass(frozen=True)
class _Kommun:
    """A synthetic kommun: its areas, sizes and true answer model."""

    index: int
    name: str
    slug: str
    strata: tuple[str, ...]
    population: np.ndarray  # (years, H) stratum populations aged 16–85
    sampled: np.ndarray  # (years, H)
    response_rate: np.ndarray  # (years,)
    shift: np.ndarray  # (years, H, Q)
    patrol: np.ndarray  # (years, H, Q): the foot-patrol part of ``shift``
    patrol_start: int | None
    wastewater_population: int
    storage: str  # "xlsx" or "csv" for the historical layouts
    story: str


def _slug(name: str) -> str:
    table = str.maketrans({"å": "a", "ä": "a", "ö": "o", "Å": "a", "Ä": "a", "Ö": "o", " ": "-"})
    return "".join(c for c in name.translate(table).lower() if c.isalnum() or c == "-")


def _genitive(name: str) -> str:
    return name if name[-1:].lower() in ("s", "x", "z") else name + "s"


def _check_scenario(scenario: str) -> None:
    if scenario not in SCENARIOS:
        raise ConfigError(f"Okänt scenario '{scenario}'; välj ett av: {', '.join(SCENARIOS)}")


@cache
def _profiles(n: int, seed: int, scenario: str = "standard") -> tuple[_Kommun, ...]:
    if not 1 <= n <= len(KOMMUNER):
        raise ConfigError(f"Antalet kommuner ska vara 1–{len(KOMMUNER)}, inte {n}")
    _check_scenario(scenario)
    children = np.random.SeedSequence(seed).spawn(n)
    return tuple(_profile(i, children[i], scenario) for i in range(n))


def _profile(i: int, seq: np.random.SeedSequence, scenario: str = "standard") -> _Kommun:
    name, total = KOMMUNER[i]
    rng = np.random.default_rng(seq.spawn(1)[0])
    years = np.asarray(YEARS)
    t = years - YEARS[0]
    if i == 0:  # Älmhult, the story of the issue
        strata = ("Älmhults tätort", "Övriga tätorter", "Landsbygd")
        shares = np.array([0.52, 0.22, 0.26])
        drug_start, patrol_start = 2018, 2022
    else:
        big = total > 100_000
        strata = (
            ("Centrum", "Ytterområden", "Övriga tätorter", "Landsbygd")
            if big
            else (f"{_genitive(name)} tätort", "Övriga tätorter", "Landsbygd")
        )
        shares = rng.dirichlet([8.0, 5.0, 2.0, 1.5] if big else [6.0, 2.5, 3.0])
        drug_start = int(rng.integers(2012, 2022))
        patrol_start = int(rng.integers(2016, 2025)) if rng.random() < 0.6 else None
    h = len(strata)
    adults = total * 0.78 * 1.003**t
    population = np.round(adults[:, None] * shares[None, :]).astype(np.int64)
    sampled = np.full((len(years), h), _SAMPLED // h, dtype=np.int64)
    # a small area drawn by the Dirichlet shares (Sjöbo's "Övriga tätorter": 61 persons)
    # would have fewer people than sampled: every area holds at least 3× its sample
    population = np.maximum(population, 3 * sampled)
    response_rate = rng.uniform(0.60, 0.67, size=len(years))

    q = {name_: j for j, name_ in enumerate(_Q)}
    shift = np.zeros((len(years), h, len(_Q)))
    size = 0.25 * np.log10(total / 18000)
    level = rng.normal(0.0, 0.2, size=len(_Q))
    slope = rng.normal(0.0, 0.01, size=len(_Q))
    for name_ in ("problem_narkotikapaverkade", "problem_narkotikahandel"):
        level[q[name_]] -= 0.6  # drugs are a small problem until the story's start year
        slope[q[name_]] = 0.0
    shift += level + slope * t[:, None, None]
    for name_ in _Q:
        if name_.startswith("problem_"):
            shift[:, :, q[name_]] += size
    # areas: the centre has more disorder and sees the police, the countryside less
    centre, rural = 0, h - 1
    for name_ in ("problem_klotter", "problem_berusade", "problem_narkotikapaverkade",
                  "problem_narkotikahandel", "problem_skadegorelse", "otrygg_ute_sent"):  # fmt: skip
        shift[:, centre, q[name_]] += 0.3
    shift[:, centre, q["ser_polis_fots"]] += 0.3
    for name_ in _Q:
        if name_.startswith("problem_") and name_ != "problem_buskorning":
            shift[:, rural, q[name_]] -= 0.3
    shift[:, rural, q["problem_buskorning"]] += 0.4
    shift[:, rural, q["otrygg_ute_sent"]] -= 0.3
    shift[:, rural, q["ser_polis_fots"]] -= 0.5
    shift[:, rural, q["grannsamverkan"]] += 0.6
    # burglary worry and problems fall slowly over the years
    for name_ in ("oro_inbrott", "problem_bostadsinbrott"):
        shift[:, :, q[name_]] -= 0.02 * t[:, None]
    # drug-related problems rise after the start year
    rise = np.clip(0.07 * (years - drug_start), 0.0, 0.6)
    for name_ in ("problem_narkotikapaverkade", "problem_narkotikahandel"):
        shift[:, :, q[name_]] += rise[:, None]
    # foot patrols in the centre: fewer feel unsafe there, more see the police
    patrol = np.zeros_like(shift)
    if patrol_start is not None:
        on = years >= patrol_start
        shift[on, centre, q["otrygg_ute_sent"]] -= 0.2
        shift[on, centre, q["ser_polis_fots"]] += 0.35
        shift[on, centre, q["fortroende_polisen"]] += 0.1
        shift[on, 1:, q["ser_polis_fots"]] += 0.1
        patrol[on, centre, q["otrygg_ute_sent"]] = -0.2
        patrol[on, centre, q["ser_polis_fots"]] = 0.35
        patrol[on, centre, q["fortroende_polisen"]] = 0.1
        patrol[on, 1:, q["ser_polis_fots"]] = 0.1
    # the reworded violence item (2020) is answered differently: a series break
    shift[years >= REWORDED, :, q["oro_vald"]] += 0.35
    # year-to-year variation of the truth itself
    shift += rng.normal(0.0, 0.04, size=(len(years), 1, len(_Q)))
    if scenario == "oforandrad":
        # every true value the same in all years and areas: the kommun's level only
        # (the draws above still happen, so the rest of the kommun stays as in standard)
        flat = level.copy()
        for name_ in _Q:
            if name_.startswith("problem_"):
                flat[q[name_]] += size
        shift = np.broadcast_to(flat, shift.shape).copy()
        patrol = np.zeros_like(shift)
        drug_start, patrol_start = None, None

    if scenario == "oforandrad":
        story = "Scenario oforandrad: inga sanna förändringar mellan år eller områden."
    else:
        story = f"Narkotikaproblemen ökar från {drug_start}; " + (
            f"fotpatrullering i centrum från {patrol_start}."
            if patrol_start
            else "ingen fotpatrullering."
        )
    return _Kommun(
        index=i,
        name=name,
        slug=_slug(name),
        strata=strata,
        population=population,
        sampled=sampled,
        response_rate=response_rate,
        shift=shift,
        patrol=patrol,
        patrol_start=patrol_start,
        wastewater_population=10_000 if i == 0 else int(round(total * 0.7, -2)),
        storage="xlsx" if i == 0 else "csv",
        story=story,
    )


def _asked(question: str, year: int) -> bool:
    return question != "problem_narkotikahandel" or year >= HANDEL_FROM


def _probabilities(question: str, shift: np.ndarray) -> np.ndarray:
    """Category probabilities for an array of shifts: shape ``shift.shape + (C,)``."""
    base = np.asarray(_BASE.get(question, _PROBLEM_BASE), dtype=float)
    sev = np.asarray(_SEVERITY[_SCALE_OF[question]], dtype=float)
    logits = np.log(base) + np.asarray(shift)[..., None] * sev
    logits -= logits.max(axis=-1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(axis=-1, keepdims=True)


def _sex_shift(question: str) -> np.ndarray:
    """Shift added for (Kvinna, Man)."""
    d = _SEX_EFFECT if question in _SEX_ITEMS else 0.0
    return np.array([d, -d])


def true_population_values(
    *,
    kommuner: int = 1,
    seed: int = DEFAULT_SEED,
    years: Iterable[int] = YEARS,
    scenario: str = "standard",
    without_patrol: bool = False,
) -> pd.DataFrame:
    """The generator's true population shares.

    Parameters
    ----------
    kommuner
        Number of kommuner, as in :func:`write_sample_data`.
    seed
        The generator's seed.
    years
        Years to return (2005–2025).
    scenario
        ``"standard"`` or ``"oforandrad"`` (see :data:`SCENARIOS`).
    without_patrol
        The counterfactual: the same world without the foot patrols.

    Returns
    -------
    DataFrame
        ``kommun, year, stratum, variable, category, share``: the share of the stratum's
        population (aged 16–85) answering ``category`` to ``variable`` (missing answers
        excluded); the shares of one kommun, year, stratum and variable sum to 1.
        Questions not asked that year are left out.

    Examples
    --------
    >>> t = true_population_values(years=[2022])
    >>> float(round(t.groupby(["stratum", "variable"])["share"].sum().min(), 6))
    1.0
    """
    wanted = set(years)
    parts = []
    for k in _profiles(kommuner, seed, scenario):
        shift = k.shift - k.patrol if without_patrol else k.shift
        for yi, year in enumerate(YEARS):
            if year not in wanted:
                continue
            for qi, question in enumerate(_Q):
                if not _asked(question, year):
                    continue
                s = shift[yi, :, qi][:, None] + _sex_shift(question)[None, :]
                p = _probabilities(question, s).mean(axis=1)  # (H, C)
                cats = QUESTIONS[question]
                parts.append(
                    pd.DataFrame(
                        {
                            "kommun": k.name,
                            "year": year,
                            "stratum": np.repeat(k.strata, len(cats)),
                            "variable": question,
                            "category": np.tile(cats, len(k.strata)),
                            "share": p.ravel(),
                        }
                    )
                )
    return pd.concat(parts, ignore_index=True)


def true_indicator_values(
    *,
    kommuner: int = 1,
    seed: int = DEFAULT_SEED,
    years: Iterable[int] = YEARS,
    scenario: str = "standard",
    indicators: Sequence[str] | None = None,
    without_patrol: bool = False,
) -> pd.DataFrame:
    """The generator's true value of every proportion indicator, per area and year.

    Parameters
    ----------
    kommuner, seed, years, scenario, without_patrol
        As :func:`true_population_values`.
    indicators
        Proportion indicator ids (default all proportion indicators).

    Returns
    -------
    DataFrame
        ``kommun, year, stratum, indicator, value, population``: the share of the area's
        population (aged 16–85) in the indicator's categories among those giving a valid
        answer other than "Vet ej" (the indicator's own denominator), and the area's
        population ``N_h``. The whole kommun's true value is the mean of ``value``
        weighted by ``population × (1 − share "Vet ej")``.

    Examples
    --------
    >>> t = true_indicator_values(years=[2022], indicators=["otrygghet_ute_sent"])
    >>> t["stratum"].tolist()
    ['Älmhults tätort', 'Övriga tätorter', 'Landsbygd']
    """
    from ..survey.indicators import DONT_KNOW, load_indicators

    defs = load_indicators()
    defs = defs[defs["kind"] == "proportion"]
    if indicators is not None:
        unknown = sorted(set(indicators) - set(defs["id"]))
        if unknown:
            raise ValueError(f"indicators: no proportion indicators {unknown}")
        defs = defs.set_index("id").loc[list(indicators)].reset_index()
    shares = true_population_values(
        kommuner=kommuner,
        seed=seed,
        years=years,
        scenario=scenario,
        without_patrol=without_patrol,
    )
    pops = {k.name: k for k in _profiles(kommuner, seed, scenario)}
    parts = []
    for ind in defs.itertuples(index=False):
        cats = [c.strip() for c in ind.categories.split("|") if c.strip()]
        d = shares[shares["variable"] == ind.variables]
        key = ["kommun", "year", "stratum"]
        num = d[d["category"].isin(cats)].groupby(key, sort=False)["share"].sum()
        den = d[d["category"] != DONT_KNOW].groupby(key, sort=False)["share"].sum()
        part = (num / den).rename("value").reset_index()
        part.insert(3, "indicator", ind.id)
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out["population"] = [
        int(pops[k].population[YEARS.index(y), pops[k].strata.index(h)])
        for k, y, h in out[["kommun", "year", "stratum"]].itertuples(index=False)
    ]
    return out


def true_patrol_effect(
    *,
    kommuner: int = 1,
    seed: int = DEFAULT_SEED,
    kommun: str = "Älmhult",
    indicator: str = "otrygghet_ute_sent",
    end_year: int = YEARS[-1],
    scenario: str = "standard",
) -> pd.DataFrame:
    """The foot patrols' true effect in the central area over the commitment period.

    Parameters
    ----------
    kommuner, seed, scenario
        The generator's settings.
    kommun
        The kommun (its centre is its first area).
    indicator
        A proportion indicator.
    end_year
        Last year of the period (from the patrols' start year).

    Returns
    -------
    DataFrame
        One row: ``kommun, indicator, area, start_year, end_year, effect`` — the mean
        over the period's years of the centre's true value minus its true value in the
        same world without patrols (the causal effect, a fraction: −0.02 = 2 percentage
        points fewer) — and ``did_true``: what difference in differences estimates from
        the true values (three years before the start as pre-period, the other areas
        combined by population), which equals ``effect`` only if, without patrols, the
        centre would have moved in parallel with the other areas. No patrols (or the
        scenario ``oforandrad``): ``effect = 0`` and NaN start year.

    Examples
    --------
    >>> r = true_patrol_effect().iloc[0]
    >>> int(r["start_year"]), bool(-0.05 < r["effect"] < 0)
    (2022, True)
    """
    k = {p.name: p for p in _profiles(kommuner, seed, scenario)}[kommun]
    centre = k.strata[0]
    start = k.patrol_start
    if start is None:
        return pd.DataFrame(
            [{"kommun": kommun, "indicator": indicator, "area": centre,
              "start_year": np.nan, "end_year": end_year, "effect": 0.0, "did_true": 0.0}]
        )  # fmt: skip
    args = {"kommuner": kommuner, "seed": seed, "scenario": scenario, "indicators": [indicator]}
    with_p = true_indicator_values(**args)
    without = true_indicator_values(**args, without_patrol=True)
    with_p = with_p[with_p["kommun"] == kommun]
    without = without[without["kommun"] == kommun]
    post = list(range(start, end_year + 1))
    pre = [y for y in YEARS if y < start][-3:]

    def centre_mean(t: pd.DataFrame, years: list[int]) -> float:
        return float(t[(t["stratum"] == centre) & t["year"].isin(years)]["value"].mean())

    def others_mean(t: pd.DataFrame, years: list[int]) -> float:
        o = t[(t["stratum"] != centre) & t["year"].isin(years)]
        per_year = (o["value"] * o["population"]).groupby(o["year"]).sum() / o.groupby("year")[
            "population"
        ].sum()
        return float(per_year.mean())

    effect = centre_mean(with_p, post) - centre_mean(without, post)
    did = (centre_mean(with_p, post) - centre_mean(with_p, pre)) - (
        others_mean(with_p, post) - others_mean(with_p, pre)
    )
    return pd.DataFrame(
        [{"kommun": kommun, "indicator": indicator, "area": centre, "start_year": start,
          "end_year": end_year, "effect": effect, "did_true": did}]
    )  # fmt: skip


def _draw(k: _Kommun, year: int, rng: np.random.Generator, n_per_stratum=None) -> dict:
    """One year's respondents as arrays of category codes (-1 = missing answer)."""
    yi = YEARS.index(year)
    if n_per_stratum is None:
        counts = np.round(k.sampled[yi] * k.response_rate[yi]).astype(np.int64)
    else:
        counts = np.full(len(k.strata), int(n_per_stratum))
    stratum = np.repeat(np.arange(len(k.strata)), counts)
    n = len(stratum)
    sex = (rng.random(n) < 0.5).astype(np.int64)  # 0 Kvinna, 1 Man
    ages = np.arange(16, 86)
    age_p = np.where(ages > 70, 0.7, 1.0)
    age = rng.choice(ages, size=n, p=age_p / age_p.sum())
    answers = {}
    for qi, question in enumerate(_Q):
        if not _asked(question, year):
            answers[question] = np.full(n, -1)
            continue
        s = k.shift[yi, :, qi][:, None] + _sex_shift(question)[None, :]
        cum = np.cumsum(_probabilities(question, s), axis=-1)[stratum, sex]
        code = (rng.random(n)[:, None] > cum).sum(axis=1)
        code = np.minimum(code, cum.shape[1] - 1)
        code[rng.random(n) < 0.02] = -1  # item non-response
        answers[question] = code
    sex_reported = np.where(rng.random(n) < 0.02, -1, sex)
    return {
        "stratum": stratum,
        "sex": sex_reported,
        "age": age,
        "answers": answers,
        "counts": counts,
    }


def _categorical(codes: np.ndarray, categories: Sequence[str]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=list(categories), ordered=True)


def simulate_responses(
    rng: np.random.Generator,
    *,
    year: int,
    kommun: str = "Älmhult",
    kommuner: int = 1,
    seed: int = DEFAULT_SEED,
    n_per_stratum: int | None = None,
    scenario: str = "standard",
) -> pd.DataFrame:
    """Draw one survey sample from the generator's population, in canonical form.

    Parameters
    ----------
    rng
        Random generator for the draw.
    year
        Survey year (2005–2025).
    kommun
        Kommun name; must be among the first ``kommuner`` of :data:`KOMMUNER`.
    kommuner, seed
        The generator's settings (they fix the kommun's true values).
    n_per_stratum
        Respondents per stratum; default as the generator (sampled × response rate,
        binomial).
    scenario
        ``"standard"`` or ``"oforandrad"``.

    Returns
    -------
    DataFrame
        The canonical respondent table (``kommun, year, respondent_id, stratum, weight,
        sex, age_group`` and the question columns) plus ``population`` (N_h).

    Examples
    --------
    >>> d = simulate_responses(np.random.default_rng(1), year=2022, n_per_stratum=50)
    >>> len(d), d["weight"].groupby(d["stratum"]).sum().round().tolist()[0] > 0
    (150, True)
    """
    profiles = {k.name: k for k in _profiles(kommuner, seed, scenario)}
    if kommun not in profiles:
        raise ConfigError(f"Kommunen '{kommun}' finns inte bland de {kommuner} första")
    k = profiles[kommun]
    yi = YEARS.index(year)
    d = _draw(k, year, rng, n_per_stratum)
    n = len(d["stratum"])
    pop = k.population[yi][d["stratum"]].astype(float)
    frame = {
        "kommun": np.full(n, k.name, dtype=object),
        "year": np.full(n, year, dtype=np.int64),
        "respondent_id": [f"{year}-{i:05d}" for i in range(1, n + 1)],
        "stratum": np.asarray(k.strata, dtype=object)[d["stratum"]],
        "weight": pop / d["counts"][d["stratum"]],
        "sex": _categorical(d["sex"], SEX_CATEGORIES),
        "age_group": _categorical(_age_codes(d["age"]), [g[0] for g in AGE_GROUPS]),
    }
    for q in _Q:
        frame[q] = _categorical(d["answers"][q], QUESTIONS[q])
    frame["population"] = pop
    out = pd.DataFrame(frame)
    out["kommun"] = out["kommun"].astype("str")
    out["stratum"] = out["stratum"].astype("str")
    out["respondent_id"] = out["respondent_id"].astype("str")
    return out


def _age_codes(age: np.ndarray) -> np.ndarray:
    edges = np.array([g[1] for g in AGE_GROUPS[1:]])
    return np.searchsorted(edges, age, side="right")


# --- raw survey files ---------------------------------------------------------------------
def _layout_of(year: int) -> str:
    return "kod" if year <= 2011 else "text" if year <= 2019 else "webb"


def _source_scale(layout: str, question: str) -> list:
    scales = _SOURCE_SCALES[layout]
    return scales.get(question, scales[_SCALE_OF[question]])


def _headers(layout: str) -> dict[str, str]:
    base = {"kod": ("Lopnr", "Ar", "Omr", "Kon", "Alder", "Postnr", "Kommentar"),
            "text": ("Respondent-ID", "Undersökningsår", "Område", "Kön", "Ålder",
                     "Postnummer", "Övriga synpunkter"),
            "webb": ("id", "ar", "omrade", "kon", "alder_ar", "postnr", "fritext")}[layout]  # fmt: skip
    names = dict(zip(("respondent_id", "year", "stratum", "sex", "age", "postcode", "comment"),
                     base, strict=True))  # fmt: skip
    questions = {"kod": _CODE_HEADERS, "text": _TEXT_HEADERS, "webb": _WEB_HEADERS}[layout]
    return names | questions


def _area_codes(k: _Kommun, layout: str) -> list:
    if layout == "kod":
        return list(range(1, len(k.strata) + 1))
    if layout == "webb":
        return [f"{i:02d}" for i in range(1, len(k.strata) + 1)]
    return list(k.strata)


def _raw_table(k: _Kommun, year: int, rng: np.random.Generator) -> tuple[list[str], list[list]]:
    """Header and rows of one year's raw file, including the rows the codebook excludes."""
    layout = _layout_of(year)
    d = _draw(k, year, rng)
    n = len(d["stratum"])
    heads = _headers(layout)
    columns = ["respondent_id", "year", "stratum", "sex", "age", "postcode"]
    questions = [q for q in _Q if q in heads and _asked(q, year)]
    columns += questions + ["comment"]
    cols: dict[str, np.ndarray] = {}
    empty = None if layout != "webb" else ""
    if layout == "kod":
        ids = (rng.permutation(n) + 1).astype(object)
    elif layout == "text":
        ids = np.array([f"R{year}-{i:04d}" for i in rng.permutation(n) + 1], dtype=object)
    else:
        ids = np.array(
            [f"w{x:07d}" for x in rng.choice(10**7, size=n, replace=False)], dtype=object
        )
    cols["respondent_id"] = ids
    cols["year"] = np.full(n, year, dtype=object)
    cols["stratum"] = np.asarray(_area_codes(k, layout), dtype=object)[d["stratum"]]
    sex_values = np.asarray(_SOURCE_SCALES[layout]["kon"] + [_MISSING_SEX[layout]], dtype=object)
    cols["sex"] = sex_values[d["sex"]]  # -1 picks the missing value
    if layout == "webb":
        exact = d["age"] + rng.integers(0, 10, size=n) / 10
        cols["age"] = np.array([f"{a:.1f}".replace(".", ",") for a in exact], dtype=object)
    else:
        cols["age"] = d["age"].astype(object)
    post = rng.integers(34300, 34399, size=n)
    cols["postcode"] = np.array([f"{p // 100} {p % 100:02d}" for p in post], dtype=object)
    for q in questions:
        values = np.asarray(_source_scale(layout, q) + [empty], dtype=object)
        cols[q] = values[d["answers"][q]]
    has_comment = rng.random(n) < 0.08
    picked = rng.integers(0, len(_COMMENTS), size=n)
    cols["comment"] = np.where(has_comment, np.asarray(_COMMENTS, dtype=object)[picked], empty)
    order = rng.permutation(n)  # the contractor's files are not sorted by area
    rows = np.column_stack([cols[c][order] for c in columns]).tolist()

    # rows the codebook's rules exclude: a blank row, ages outside 16–85, no area
    template = list(rows[0]) if rows else [empty] * len(columns)
    extra = []
    for age in (15, 86 + int(rng.integers(0, 4))):
        bad = list(template)
        bad[0] = _extra_id(layout, year, len(extra))
        bad[columns.index("age")] = age if layout != "webb" else f"{age},2"
        extra.append(bad)
    no_area = list(template)
    no_area[0] = _extra_id(layout, year, len(extra))
    no_area[columns.index("stratum")] = empty
    extra.append(no_area)
    extra.append([empty] * len(columns))
    for row in extra:
        rows.insert(int(rng.integers(0, len(rows) + 1)), row)
    if layout == "text" and year >= 2015:
        total = [None] * len(columns)
        total[0] = "Totalt"
        total[columns.index("year")] = year
        for j, c in enumerate(columns):
            if c in questions:
                total[j] = sum(1 for v in cols[c] if v is not None)
        rows.append(total)
    return [heads[c] for c in columns], rows


def _extra_id(layout: str, year: int, i: int) -> object:
    return {"kod": 9001 + i, "text": f"R{year}-9{i:03d}", "webb": f"x{year}{i:03d}"}[layout]


def _xlsx_bytes(sheet: str, rows: list[list]) -> bytes:
    """An xlsx (openpyxl write-only) with fixed properties and zip entry times."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    fixed = dt.datetime(*_FIXED_TIME)
    wb.properties.creator = "trygghet-analys exempeldata"
    wb.properties.lastModifiedBy = "trygghet-analys exempeldata"
    wb.properties.created = fixed
    wb.properties.modified = fixed
    ws = wb.create_sheet(sheet)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return deterministic_zip(buf.getvalue(), when=dt.datetime(*_FIXED_TIME))


def _csv_text(rows: list[list], delimiter: str = ";") -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    writer.writerows([["" if v is None else v for v in r] for r in rows])
    return buf.getvalue()


def _file_spec(k: _Kommun, layout: str) -> dict:
    """The codebook's ``fil`` entry and the file suffix for a layout."""
    if layout == "webb":
        return {"format": "csv", "kodning": "utf-8-sig", "avgransare": ";", "decimaltecken": ","}
    if k.storage == "xlsx":
        return {"format": "xlsx", "blad": "Data" if layout == "kod" else "Svar"}
    # the other kommuner's contractor delivered the historical layouts as CSV (CP1252)
    return {"format": "csv", "kodning": "cp1252", "avgransare": ";", "decimaltecken": ","}


def _write_survey_file(folder: Path, k: _Kommun, year: int, rng: np.random.Generator) -> None:
    layout = _layout_of(year)
    header, rows = _raw_table(k, year, rng)
    spec = _file_spec(k, layout)
    if spec["format"] == "xlsx":
        (folder / f"{year}.xlsx").write_bytes(_xlsx_bytes(spec["blad"], [header, *rows]))
    else:
        text = _csv_text([header, *rows])
        (folder / f"{year}.csv").write_bytes(text.encode(spec["kodning"]))


# --- codebook, population, problemindex ---------------------------------------------------
def _codebook(k: _Kommun) -> dict:
    scales = {}
    for layout, table in _SOURCE_SCALES.items():
        for scale, values in table.items():
            if scale == "kon":
                continue
            cats = QUESTIONS[next(q for q, s in _SCALE_OF.items() if s == scale or q == scale)]
            scales[f"{layout}_{scale}"] = dict(zip(values, cats, strict=True))
    layouts = []
    spans = {"kod": "2005-2011", "text": "2012-2019", "webb": "2020-2025"}
    for layout, span in spans.items():
        heads = _headers(layout)
        columns: dict[str, object] = {
            heads["respondent_id"]: "respondent_id",
            heads["year"]: "year",
            heads["stratum"]: "stratum",
            heads["sex"]: "sex",
            heads["age"]: "age",
        }
        answers: dict[str, object] = {
            "stratum": dict(zip(_area_codes(k, layout), k.strata, strict=True)),
            "sex": dict(zip(_SOURCE_SCALES[layout]["kon"], SEX_CATEGORIES, strict=True))
            | ({_MISSING_SEX[layout]: None} if _MISSING_SEX[layout] else {}),
        }
        for q in _Q:
            if q not in heads:
                continue
            columns[heads[q]] = (
                {"variabel": q, "fran_ar": HANDEL_FROM} if q == "problem_narkotikahandel" else q
            )
            scale = q if q in _SOURCE_SCALES[layout] else _SCALE_OF[q]
            answers[q] = f"{layout}_{scale}"
        entry = {
            "namn": {
                "kod": "kodade svar 2005–2011",
                "text": "frågetexter och svarstexter 2012–2019",
                "webb": "webbenkät 2020–",
            }[layout],  # fmt: skip
            "ar": span,
            "fil": _file_spec(k, layout),
            "kolumner": columns,
            "svar": answers,
            "ignorera": [heads["postcode"], heads["comment"]],
        }
        layouts.append(entry)
    return {
        "version": 1,
        "variabler": {q: list(c) for q, c in QUESTIONS.items()},
        "aldersgrupper": {label: [lo, hi] for label, lo, hi in AGE_GROUPS},
        "uteslut": {
            "tom_rad": True,
            "summeringsrad": {"ord": ["Totalt", "Summa"]},
            "saknar_omrade": True,
            "alder_utanfor_urvalet": {"min": 16, "max": 85},
        },
        "seriebrott": [
            {
                "variabel": "oro_vald",
                "ar": REWORDED,
                "orsak": "Frågan omformulerad i webbenkäten 2020: ”hur ofta oroar du dig för "
                "våld” i stället för ”hur orolig är du för våld”",
            }
        ],
        "skalor": scales,
        "layouter": layouts,
    }


_CODEBOOK_HEADER = """\
# Kodbok för trygghetsmätningen – {name} (EXEMPELDATA, påhittade svar).
# Kopplar varje års kolumner och svarsvärden till de kanoniska variablerna.
# Formatet och alla nycklar beskrivs i docs/kodbok.md. Nästa års fil: lägg filen
# <år>.xlsx eller <år>.csv här och utöka 'ar' i rätt layout, eller lägg till en layout.
"""


class _FlowListDumper(yaml.SafeDumper):
    """Lists on one line (``[Ja, Nej]``), mappings as blocks: easy for analysts to edit."""


_FlowListDumper.add_representer(
    list,
    lambda d, data: d.represent_sequence(
        "tag:yaml.org,2002:seq", data, flow_style=not any(isinstance(x, dict | list) for x in data)
    ),
)


def _write_codebook(path: Path, k: _Kommun) -> None:
    body = yaml.dump(
        _codebook(k), Dumper=_FlowListDumper, allow_unicode=True, sort_keys=False, width=4096
    )
    path.write_text(_CODEBOOK_HEADER.format(name=k.name) + body, encoding="utf-8")


def _write_population(path: Path, k: _Kommun) -> None:
    rows = [["year", "stratum", "population", "sampled"]]
    for yi, year in enumerate(YEARS):
        for h, stratum in enumerate(k.strata):
            rows.append([year, stratum, int(k.population[yi, h]), int(k.sampled[yi, h])])
    path.write_text(_csv_text(rows), encoding="utf-8", newline="")


#: The police's published problemindex for Älmhult: REAL figures as published.
POLICE_PROBLEMINDEX = (
    (2020, "1,28", 2020, "almhult.se, nyhet 2020", "publicerat värde"),
    (2021, "1,22", 2021, "almhult.se, nyhet 2021", "publicerat värde"),
    (2021, "1,41", 2022, "almhult.se, nyhet 2022", "samma år citerat som 1,41 ett år senare"),
    (2022, "1,78", 2022, "almhult.se, nyhet 2022", "publicerat värde"),
    (2022, "1,73", 2023, "almhult.se, nyhet 2023", "senare angivet som 1,73"),
    (2023, "1,51", 2023, "almhult.se, nyhet 2023", "publicerat värde"),
)


def _write_problemindex(path: Path, kommun: str) -> None:
    rows = [["kommun", "ar", "problemindex", "publicerat_ar", "kalla", "anmarkning", "typ"]]
    for year, value, published, source, note in POLICE_PROBLEMINDEX:
        rows.append(
            [kommun, year, value, published, source, note, "verklig uppgift (ej exempeldata)"]
        )
    path.write_text(_csv_text(rows), encoding="utf-8", newline="")


def _write_kommun(
    raw: Path, k: _Kommun, seq: np.random.SeedSequence, scenario: str = "standard"
) -> None:
    survey_seq, ww_seq, com_seq = seq.spawn(3)
    raw.mkdir(parents=True, exist_ok=True)
    doc = {
        "kommun": k.name,
        "slug": k.slug,
        "min_n": 30,
        "omraden": list(k.strata),
        "exempeldata": True,
    }
    if k.index == 0 and k.name == "Älmhult":
        # EUDA's nearest site to Älmhult (README of the EUDA reference file)
        doc["jamforelsestader"] = [
            {
                "stad": "Växjö",
                "anslutna": 75410,
                "reningsverk": "Sundets ARV",
                "kalla": "EUDA, Wastewater analysis and drugs (2025), platsuppgifter för Växjö",
            }
        ]
    head = f"# {k.name} – EXEMPELDATA (påhittad). {k.story}\n"
    (raw / "kommun.yml").write_text(
        head + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    folder = raw / "trygghetsmatning"
    folder.mkdir(exist_ok=True)
    _write_codebook(folder / "kodbok.yml", k)
    _write_population(folder / "population.csv", k)
    if k.index == 0 and k.name == "Älmhult":
        _write_problemindex(folder / "polisens_problemindex.csv", k.name)
    rng = np.random.default_rng(survey_seq)
    for year in YEARS:
        _write_survey_file(folder, k, year, rng)
    write_sample_wastewater(
        raw,
        kommun=k.name,
        plant=default_plant_name(k.name),
        population=k.wastewater_population,
        rng=np.random.default_rng(ww_seq),
        scenario=scenario,
    )
    write_sample_commitments(raw, kommun=k.name, rng=np.random.default_rng(com_seq))


_GENERATED = ("kommun.yml", "trygghetsmatning", "avloppsvatten", "medborgarloften")


def _is_example(folder: Path) -> bool:
    cfg = folder / "kommun.yml"
    if not cfg.is_file():
        return False
    doc = yaml.safe_load(cfg.read_text(encoding="utf-8")) or {}
    return isinstance(doc, dict) and doc.get("exempeldata") is True


def _clear_raw(raw: Path) -> None:
    """Remove earlier example data; refuse when ``raw`` may hold anything else.

    A kommun folder is example data only when its ``kommun.yml`` says
    ``exempeldata: true``; a folder of raw files without one is treated as real data.
    """
    if not raw.exists():
        return
    region = raw / "kommuner"
    folders = [raw] if any((raw / n).exists() for n in _GENERATED) else []
    folders += sorted(p for p in region.iterdir() if p.is_dir()) if region.is_dir() else []
    for folder in folders:
        if not _is_example(folder):
            raise ConfigError(
                f"'{folder}' kan innehålla riktiga data (kommun.yml saknas eller saknar "
                "exempeldata: true); välj en annan mapp för exempeldata"
            )
    for folder in folders:
        for name in _GENERATED:
            target = folder / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
        if folder != raw:
            if not any(folder.iterdir()):
                folder.rmdir()
    if region.is_dir() and not any(region.iterdir()):
        region.rmdir()


def write_sample_data(
    out: str | Path,
    *,
    kommuner: int = 1,
    seed: int = DEFAULT_SEED,
    scenario: str = "standard",
) -> None:
    """Make ``out`` a complete synthetic data folder.

    Parameters
    ----------
    out
        The data folder; ``out/raw/`` is (re)written, ``out/processed/`` created empty
        when missing. Earlier example data in ``out/raw`` is replaced; real data (a
        ``kommun.yml`` without ``exempeldata: true``) is never touched.
    kommuner
        1 writes ``out/raw/kommun.yml`` and its folders (Älmhult); N > 1 writes
        ``out/raw/kommuner/<slug>/`` for the first N kommuner of :data:`KOMMUNER`.
    seed
        Random seed; the same seed gives byte-identical files.
    scenario
        ``"standard"`` (default): each kommun's story, as the bundled data.
        ``"oforandrad"``: no true value changes between years or areas, in the survey
        (every area and year has the kommun's level; sex differences within an area
        remain) or in the wastewater (constant level with week-to-week variation
        between campaigns and day noise). Sampling, non-response, layouts and files are
        as in ``standard``; :func:`true_indicator_values` gives the truth.

    Notes
    -----
    Per kommun: ``kommun.yml``; ``trygghetsmatning/`` with ``kodbok.yml``,
    ``population.csv`` (year, stratum, population, sampled), one survey file per year
    2005–2025 in three layouts (2005–2011 coded answers, 2012–2019 question and answer
    texts, 2020– web export as semicolon CSV with BOM and decimal comma); wastewater
    (``avloppsvatten/``) and commitments (``medborgarloften/``). Älmhult also gets
    ``polisens_problemindex.csv``, the police's real published values. Älmhult's
    2005–2019 files are xlsx; the other kommuner's are CP1252 CSV in the same layouts
    (fast to write for a whole police region).
    """
    out = Path(out)
    raw = out / "raw"
    profiles = _profiles(int(kommuner), int(seed), scenario)
    _clear_raw(raw)
    raw.mkdir(parents=True, exist_ok=True)
    seqs = np.random.SeedSequence(seed).spawn(len(profiles))
    with Progress(len(profiles), "Exempeldata", "kommuner", enabled=len(profiles) > 1) as bar:
        for k, seq in zip(profiles, seqs, strict=True):
            target = raw if len(profiles) == 1 else raw / "kommuner" / k.slug
            _write_kommun(target, k, seq.spawn(2)[1], scenario)
            bar.step(k.name)
    processed = out / "processed"
    processed.mkdir(parents=True, exist_ok=True)
    keep = processed / ".gitkeep"
    if not any(processed.iterdir()):
        keep.write_bytes(b"")
