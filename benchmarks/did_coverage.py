"""Coverage of the difference-in-differences interval for the foot patrols (issue 11).

For each seed the sample-data generator's Älmhult (foot patrols in "Älmhults tätort"
from 2022) gets a new true world (levels, slopes, year-to-year noise) and new survey
samples 2019–2025. ``did_effect`` (pre-period 2019–2021, commitment period 2022–2025,
the other two areas combined by population) is compared with

* ``effect``: the generator's causal effect (centre with minus without patrols), and
* ``did_true``: what the same difference in differences gives on the true values.

Run: ``python benchmarks/did_coverage.py --seeds 50`` (about a minute; prints a table
and the coverage; ``docs/statistik.md`` quotes the result). The suite keeps a fast
version (few seeds) in ``tests/test_sample_scenarios.py``.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from trygghet_analys.sample.generator import simulate_responses, true_patrol_effect
from trygghet_analys.stats.effects import did_effect
from trygghet_analys.stats.estimation import estimate_indicators

INDICATOR = "otrygghet_ute_sent"
YEARS = range(2019, 2026)
START = 2022


def one_seed(seed: int) -> dict:
    """Estimate for one seed of the generator; the survey draws use the same seed."""
    rng = np.random.default_rng(seed)
    responses = pd.concat(
        [simulate_responses(rng, year=y, seed=seed) for y in YEARS], ignore_index=True
    )
    strata = responses[["kommun", "year", "stratum", "population"]].drop_duplicates()
    est = estimate_indicators(
        responses.drop(columns="population"),
        strata,
        indicators=[INDICATOR],
        group_vars=("stratum",),
    )
    r = did_effect(
        est, indicator=INDICATOR, area="Älmhults tätort", start_year=START, strata=strata
    ).iloc[0]
    truth = true_patrol_effect(seed=seed, indicator=INDICATOR, end_year=max(YEARS)).iloc[0]
    return {
        "seed": seed,
        "effect": r["effect"],
        "se": r["se"],
        "ci_low": r["ci_low"],
        "ci_high": r["ci_high"],
        "parallel_ok": r["parallel_ok"],
        "true_effect": truth["effect"],
        "did_true": truth["did_true"],
        "covers_effect": r["ci_low"] <= truth["effect"] <= r["ci_high"],
        "covers_did_true": r["ci_low"] <= truth["did_true"] <= r["ci_high"],
    }


def coverage(seeds: range) -> pd.DataFrame:
    return pd.DataFrame([one_seed(s) for s in seeds])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=50)
    p.add_argument("--first", type=int, default=1)
    args = p.parse_args()
    out = coverage(range(args.first, args.first + args.seeds))
    with pd.option_context("display.width", 160, "display.max_rows", 200):
        print(out.round(4).to_string(index=False))
    print(
        f"\nseeds {args.first}–{args.first + args.seeds - 1}: "
        f"coverage of the true effect {out['covers_effect'].mean():.0%} "
        f"({out['covers_effect'].sum()}/{len(out)}), "
        f"of the true DiD {out['covers_did_true'].mean():.0%}; "
        f"mean true effect {out['true_effect'].mean():.4f}, mean estimate "
        f"{out['effect'].mean():.4f}, mean se {out['se'].mean():.4f}, "
        f"sd of estimate - truth {(out['effect'] - out['true_effect']).std():.4f}; "
        f"parallel check passed {out['parallel_ok'].mean():.0%}"
    )


if __name__ == "__main__":
    main()
