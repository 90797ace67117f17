"""Coverage: 95% intervals from design_estimate cover the finite-population truth 93–97%.

The population is built here from a seeded rng (the sample-data generator was not yet
available when this test was written): three strata of unequal size, a 0/1 answer with
stratum- and sex-dependent prevalence, a 0–6 score. Each replicate draws a stratified
simple random sample without replacement (equal allocation, as the trygghetsmätning),
estimates with weights N_h/n_h and fpc, and checks whether the interval covers the truth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trygghet_analys.stats.estimation import design_estimate

N_H = {"Tätort": 6000, "Övriga tätorter": 2500, "Landsbygd": 900}
N_SAMPLE = 120  # respondents per stratum
REPLICATES = 800


@pytest.fixture(scope="module")
def population() -> pd.DataFrame:
    rng = np.random.default_rng(20240601)
    parts = []
    for h, (name, size) in enumerate(N_H.items()):
        sex = rng.choice(["Kvinna", "Man"], size)
        prevalence = 0.20 + 0.10 * h + np.where(sex == "Kvinna", 0.12, 0.0)
        parts.append(
            pd.DataFrame(
                {
                    "stratum": name,
                    "population": float(size),
                    "sex": sex,
                    "y": (rng.random(size) < prevalence).astype(float),
                    "score": np.round(rng.gamma(2.0 + h, 0.6, size).clip(0, 6), 2),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def covered(population) -> pd.DataFrame:
    """One row per replicate and target: whether the 95% interval covered the truth."""
    truth = {
        ("y", "all"): population["y"].mean(),
        ("y", "Kvinna"): population.loc[population["sex"] == "Kvinna", "y"].mean(),
        ("score", "all"): population["score"].mean(),
    }
    rng = np.random.default_rng(7)
    strata_rows = [np.flatnonzero(population["stratum"] == s) for s in N_H]
    hits = {key: [] for key in truth}
    for _ in range(REPLICATES):
        idx = np.concatenate([rng.choice(rows, N_SAMPLE, replace=False) for rows in strata_rows])
        sample = population.iloc[idx].copy()
        sample["weight"] = sample["population"] / N_SAMPLE
        sample.loc[rng.random(len(sample)) < 0.1, "y"] = np.nan  # item non-response (MCAR)
        common = {"stratum": "stratum", "weight": "weight", "population": "population"}
        total = design_estimate(sample, value="y", **common).iloc[0]
        by_sex = design_estimate(sample, value="y", by="sex", **common).set_index("sex")
        mean = design_estimate(sample, value="score", kind="mean", **common).iloc[0]
        for key, row in [
            (("y", "all"), total),
            (("y", "Kvinna"), by_sex.loc["Kvinna"]),
            (("score", "all"), mean),
        ]:
            hits[key].append(row["ci_low"] <= truth[key] <= row["ci_high"])
    return pd.DataFrame({f"{v}/{g}": h for (v, g), h in hits.items()})


@pytest.mark.parametrize("target", ["y/all", "y/Kvinna", "score/all"])
def test_coverage_is_close_to_95_percent(covered, target):
    rate = covered[target].mean()
    assert 0.93 <= rate <= 0.97, f"{target}: coverage {rate:.3f}"
    print(f"{target}: coverage {rate:.4f} over {len(covered)} samples")
