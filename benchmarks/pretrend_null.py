"""How often the effect estimate's checks fire in a world where nothing changes.

Build a region of the ``oforandrad`` world first (no true value changes between years or
areas), then run this on its ``processed/``:

    trygghet-analys sample-data --out /tmp/of15 --scenario oforandrad --kommuner 15
    trygghet-analys build --data /tmp/of15
    .venv/bin/python benchmarks/pretrend_null.py /tmp/of15

Every kommun × area × indicator × start year (2016, 2019, 2022; three commitment years)
gets a difference-in-differences estimate (``stats.effects.did_effect``). With a true
effect of 0 and truly parallel trends, both the effect test and the parallel-trend check
should fire in about 5 % of the estimates (docs/statistik.md).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pandas as pd

from trygghet_analys.stats.effects import did_effect

START_YEARS = (2016, 2019, 2022)


def rates(data: Path) -> pd.DataFrame:
    """One row per estimate: kommun, indicator, area, start year, both p-values."""
    processed = data / "processed"
    estimates = pd.read_parquet(processed / "survey_estimates.parquet")
    strata = pd.read_parquet(processed / "survey_strata.parquet")
    rows = []
    for kommun, e in estimates.groupby("kommun"):
        s = strata[strata["kommun"] == kommun]
        areas = e.loc[e["group_var"] == "stratum", "group"].unique()
        for indicator in e["indicator"].unique():
            for area in areas:
                for start in START_YEARS:
                    try:
                        r = did_effect(
                            e, indicator=indicator, area=area, start_year=start,
                            end_year=start + 2, strata=s,
                        ).iloc[0]  # fmt: skip
                    except ValueError:
                        continue
                    rows.append((kommun, indicator, area, start, r.parallel_p, r.p_value))
    return pd.DataFrame(
        rows, columns=["kommun", "indicator", "area", "start_year", "parallel_p", "p_value"]
    )


def main(data: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = rates(Path(data))
    print(
        f"{len(r)} estimates in {r['kommun'].nunique()} kommuner: parallel-trend check fired "
        f"in {100 * (r['parallel_p'] < 0.05).mean():.1f} %, effect significant in "
        f"{100 * (r['p_value'] < 0.05).mean():.1f} % (expected about 5 % each)"
    )


if __name__ == "__main__":
    main(sys.argv[1])
