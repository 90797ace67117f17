"""How often the report claims a finding when nothing truly changes (issue 11).

For each seed, ``sample-data --scenario oforandrad`` writes a world where no true value
changes between years or areas (survey and wastewater). The pipeline's stages compute
the findings table (nothing written); the report for the latest year claims a
"statistiskt säkerställd" finding exactly when that year has a significant findings row
(q < 0.05) from the survey or the wastewater: the summary, underlag, follow-up and
draft say "statistiskt säkerställd" only of such rows, and every one of them reaches
the summary or its count. Run:

    .venv/bin/python benchmarks/null_claims.py FIRST LAST > benchmarks/null_claims.txt
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from trygghet_analys.pipeline import compute_tables
from trygghet_analys.sample.generator import write_sample_data


def claims(seed: int) -> tuple[int, int, int, int]:
    """(report year, tests that year, significant survey rows, significant wastewater rows)."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        write_sample_data(data, seed=seed, scenario="oforandrad")
        found = compute_tables(data)["findings"]
    year = int(found.loc[found["source"] == "enkät", "year"].max())
    now = found[found["year"] == year]
    sig = now[now["significant"]]
    return (
        year,
        int(now["p_value"].notna().sum()),
        int((sig["source"] == "enkät").sum()),
        int((sig["source"] == "avloppsvatten").sum()),
    )


def main(first: int, last: int) -> None:
    n = claimed = 0
    print("seed;year;tests;significant_survey;significant_wastewater;claims")
    for seed in range(first, last + 1):
        year, tests, s, w = claims(seed)
        n += 1
        claimed += bool(s + w)
        print(f"{seed};{year};{tests};{s};{w};{int(bool(s + w))}", flush=True)
    print(
        f"# seeds {first}-{last}: {claimed} of {n} reports claim a finding "
        f"({100 * claimed / n:.1f} %)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
