"""False alarms of wastewater tests in a world without change (issue 11).

For each seed, ``write_sample_wastewater(..., scenario="oforandrad")`` writes four years
(2022–2025) of two 7-day campaigns at a constant true level, with week-to-week
variation between campaigns and day noise. Counted per substance and seed (7 × seeds):

* ``campaign_trend``: Mann–Kendall on log campaign means, p < 0.05;
* ``campaign_change`` 2024 → 2025: Welch on log campaign means (2 + 2 campaigns);
* the old way, for comparison: Welch's t test over the pooled sample *days* of 2024
  against those of 2025 (14 + 14 days), p < 0.05.

Run: ``python benchmarks/wastewater_false_alarms.py --seeds 100`` (docs/statistik.md
quotes the result).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from trygghet_analys import pipeline
from trygghet_analys.sample._wastewater import write_sample_wastewater
from trygghet_analys.wastewater.campaigns import campaign_change, campaign_trend


def one_seed(seed: int) -> pd.DataFrame:
    with tempfile.TemporaryDirectory() as d:
        raw = Path(d) / "raw"
        write_sample_wastewater(
            raw,
            kommun="K",
            plant="K reningsverk",
            population=10_000,
            rng=np.random.default_rng(seed),
            scenario="oforandrad",
        )
        tables = pipeline.build_wastewater(raw, "K")
    c, days = tables["wastewater_campaigns"], tables["wastewater_loads"]
    trend = campaign_trend(c).set_index("substance")
    change = campaign_change(c, from_years=2024, to_years=2025).set_index("substance")
    days = days.assign(year=pd.to_datetime(days["date"]).dt.year)
    old = {}
    for sub, g in days.groupby("substance"):
        a = g.loc[g["year"] == 2024, "load_mg_day_1000"]
        b = g.loc[g["year"] == 2025, "load_mg_day_1000"]
        old[sub] = stats.ttest_ind(b, a, equal_var=False).pvalue < 0.05
    return (
        pd.DataFrame(
            {
                "seed": seed,
                "trend": trend["significant"],
                "change": change["significant"],
                "days_welch": pd.Series(old),
            }
        )
        .rename_axis("substance")
        .reset_index()
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=100)
    args = p.parse_args()
    out = pd.concat([one_seed(s) for s in range(1, args.seeds + 1)], ignore_index=True)
    print(out.groupby("substance")[["trend", "change", "days_welch"]].mean().round(3))
    n = len(out)
    print(
        f"\n{args.seeds} seeds x 7 substances = {n} series: significant at 5 % — "
        f"campaign trend {out['trend'].mean():.1%}, campaign change 2024→2025 "
        f"{out['change'].mean():.1%}, old Welch over days 2024→2025 "
        f"{out['days_welch'].mean():.1%}; seeds with at least one significant campaign "
        f"trend {out.groupby('seed')['trend'].any().mean():.0%}"
    )


if __name__ == "__main__":
    main()
