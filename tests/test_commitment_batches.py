"""The follow-up, underlag and draft of a build made with less pandas per call (issue 16):
each shortcut against the plain pandas computation it replaces, on the sample region and
on random data with the edge cases (repeated ranks, missing values, several periods)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trygghet_analys import pipeline
from trygghet_analys.commitments import followup as cm
from trygghet_analys.config import DataFolder
from trygghet_analys.files import registers as registers_io
from trygghet_analys.files.cache import frame_digest
from trygghet_analys.schemas import processed_schemas
from trygghet_analys.survey.indicators import load_indicators
from trygghet_analys.vocabulary import load_ntu


@pytest.fixture(scope="module")
def region_tables(region_data_dir):
    """Every processed table of the three-kommun sample region (computed, not written)."""
    return pipeline.compute_tables(region_data_dir)


def _old_yearly(activities: pd.DataFrame) -> pd.DataFrame:
    """``yearly_activities`` as it was: a pandas ``Series.sum`` per year and measure."""
    agg = cm.load_activity_measures().set_index("id")["aggregation"].to_dict()
    groups = activities.groupby(["year", "measure"], sort=True).indices
    rows = []
    for year, measure in sorted(groups):
        idx = groups[(year, measure)]
        if agg.get(measure) == "senaste":
            periods = activities["period"].tolist()
            last = idx[0]
            for i in idx[1:]:
                if periods[i] >= periods[last]:
                    last = i
            value = activities["value"].iloc[last]
        else:
            value = activities["value"].take(idx).sum()
        rows.append({"year": int(year), "measure": measure, "value": float(value)})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("dtype", ["float64", "int64"])
def test_yearly_activities_sums_bit_for_bit_as_pandas_sums(rng, dtype):
    measures = cm.load_activity_measures()
    summed = measures.loc[measures["aggregation"] == "summa", "id"].tolist()
    latest = measures.loc[measures["aggregation"] == "senaste", "id"].tolist()
    n = 400
    values = rng.normal(size=n) * 10.0 ** rng.integers(-3, 7, size=n)
    if dtype == "int64":
        values = rng.integers(0, 10**6, size=n)
    acts = pd.DataFrame(
        {
            "period": [
                f"{y}-Q{q}"
                for y, q in zip(rng.integers(2019, 2025, n), rng.integers(1, 5, n), strict=True)
            ],
            "measure": rng.choice(summed + latest, size=n),
            "value": pd.array(values, dtype=dtype),
        }
    )
    acts["year"] = acts["period"].str[:4].astype(int)
    if dtype != "int64":
        acts.loc[rng.random(n) < 0.15, "value"] = np.nan
    got, want = cm.yearly_activities(acts), _old_yearly(acts)
    assert got["value"].to_numpy().tobytes() == want["value"].to_numpy().tobytes()
    pd.testing.assert_frame_equal(got, want)
    assert acts["value"].isna().any() or dtype == "int64"  # the NaN case is exercised


def _rows(groups) -> list:
    """Each group's rows without their index (which differs: the kommun's table or the
    year's), as text so that NaN equals NaN."""
    return [(area, [repr(tuple(r)[1:]) for r in g]) for area, g in groups]


def test_the_proposals_of_every_year_equal_the_pandas_grouping(region_tables):
    """``_YearProposals`` (the table read once) gives every year of every kommun exactly
    the groups and rows of ``_proposal_groups`` (sort, ``groupby``, ``itertuples``)."""
    under = region_tables["underlag"]
    assert under["significant"].any()
    checked = 0
    for _, own in under.groupby("kommun", sort=False):
        own = own.reset_index(drop=True)
        at = own.groupby(own["year"].astype(int), sort=True).indices
        fast = cm._YearProposals(own, at)
        assert fast.fast
        for year in at:
            want = cm._proposal_groups(own.take(at[year]).reset_index(drop=True))
            got = fast.of(year)
            assert [a for a, _ in got] == [a for a, _ in want]
            assert _rows(got) == _rows(want)
            checked += bool(want)
    assert checked > 5


def test_repeated_ranks_or_no_evidence_rank_take_the_pandas_grouping(region_tables):
    under = region_tables["underlag"]
    own = under[under["kommun"] == under["kommun"].iloc[0]].reset_index(drop=True)
    year = int(own.loc[own["significant"], "year"].iloc[-1])
    tied = own.assign(evidence_rank=1)
    at = tied.groupby("year", sort=True).indices
    want = cm._proposal_groups(tied.take(at[year]).reset_index(drop=True))
    got = cm._YearProposals(tied, at).of(year)
    assert _rows(got) == _rows(want)
    plain = own.drop(columns="evidence_rank")
    assert not cm._YearProposals(plain, plain.groupby("year").indices).fast


def test_the_follow_up_reads_only_the_linked_indicators_findings(region_tables):
    """Indexing only the rows of linked indicators changes nothing: every row of the
    build's follow-up is what a follow-up over all the year's findings rows gives."""
    followup = region_tables["commitment_followup"]
    assert len(followup)
    findings = region_tables["findings"]
    ids = set(followup["indicator"].dropna().astype(str))
    rest = findings[~findings["indicator"].astype(str).isin(ids)]
    assert len(rest)  # rows that were indexed before and are not now
    every = cm._YearFindings(findings)
    linked = cm._YearFindings(findings, ids)
    for key, rows in linked.rows.items():
        assert repr(rows) == repr(every.rows[key])  # as text: NaN equals NaN
    assert {k for k in every.rows if k[1] in ids} == set(linked.rows)
    effects = {k: v for k, v in every.effects.items() if k[0] in ids}
    assert repr(effects) == repr(linked.effects)


def test_the_underlag_of_all_kommuner_in_one_call_equals_one_call_per_kommun(region_tables):
    """``underlag_of`` (every kommun at once, the build's call) gives each kommun exactly
    the rows, order and types of its own ``underlag_by_year`` call, for every year and for
    a different set of years per kommun."""
    t = region_tables
    indicators, ntu = load_indicators(), load_ntu()
    kommuner = list(dict.fromkeys(t["survey_estimates"]["kommun"]))
    assert len(kommuner) == 3
    years = {
        k: sorted(set(t["survey_estimates"].loc[t["survey_estimates"]["kommun"] == k, "year"]))
        for k in kommuner
    }
    for pick in (lambda ys: ys, lambda ys: ys[-1:], lambda ys: ys[::3]):
        jobs = [(k, pick(years[k])) for k in reversed(kommuner)]  # not the table's order
        both = cm.underlag_of(
            t["survey_estimates"], t["findings"], indicators=indicators, ntu=ntu, jobs=jobs
        )
        assert list(dict.fromkeys(both["kommun"])) == [
            k for k, _ in jobs if k in set(both["kommun"])
        ]
        for k, ys in jobs:
            want = cm.underlag_by_year(
                t["survey_estimates"],
                t["survey_changes"],
                indicators=indicators,
                ntu=ntu,
                kommun=k,
                findings=t["findings"],
                years=ys,
            )
            got = both[both["kommun"] == k].reset_index(drop=True)
            pd.testing.assert_frame_equal(got, want)
            assert len(want)
    assert set(both["year"]) != set(t["underlag"]["year"])  # the last pick: some years only


def test_the_draft_keys_from_the_region_follow_up_hashed_once_are_the_slices_digests(
    region_tables, region_data_dir
):
    """``_SuggestDigests`` gives, for every kommun and register, exactly
    ``frame_digest(suggest_inputs(...))`` of the kommun's follow-up: the draft keys are
    unchanged by hashing the region once."""
    followup = region_tables["commitment_followup"]
    rows = pipeline._per_kommun(followup)
    checked = 0
    for k in DataFolder.at(region_data_dir).kommuner():
        regs = registers_io.load_registers(k.commitments_dir)
        mine = rows(k.name)
        digests = pipeline._SuggestDigests(rows, k.name)
        for year in range(2000, 2030):
            current = cm.current_registers(regs, year)
            want = frame_digest(cm.suggest_inputs(current, mine))
            assert digests.of(current) == want
            checked += want != "-"
        assert digests.of([]) == frame_digest(None)
    assert checked > 3
    empty = pipeline._SuggestDigests(rows, "Ingen kommun")
    assert empty.of(cm.current_registers(regs, 2029)) == frame_digest(
        cm.suggest_inputs(cm.current_registers(regs, 2029), rows("Ingen kommun"))
    )


def test_the_follow_up_of_all_kommuner_in_one_call_equals_one_call_per_kommun(
    region_tables, region_data_dir
):
    """``follow_up_of`` (the build's call) gives each kommun the rows of its own
    ``follow_up`` call: the same values in the same order (the types those of the whole
    table, which the table's schema coerces as it coerces each kommun's)."""
    findings = region_tables["findings"]
    year = int(findings["year"].max())
    jobs, want = [], []
    for k in DataFolder.at(region_data_dir).kommuner():
        regs = registers_io.load_registers(k.commitments_dir)
        path = k.commitments_dir / "aktiviteter.csv"
        acts = registers_io.load_activities(path)
        at = np.flatnonzero((findings["kommun"] == k.name) & (findings["year"] == year))
        jobs.append((regs, at, acts))
        own = findings.take(at).reset_index(drop=True)
        want.append(cm.follow_up(regs, findings=own, activities=acts, year=year, base_year=2021))
    jobs.append(([], np.arange(0), jobs[0][2]))  # a kommun without a register
    want.append(cm.empty_follow_up())
    got, counts = cm.follow_up_of(jobs, findings=findings, year=year, base_year=2021)
    assert counts == [len(w) for w in want] and all(counts[:-1])
    schema = processed_schemas()["commitment_followup"]
    start = 0
    for w, n in zip(want, counts, strict=True):
        part = got.iloc[start : start + n].reset_index(drop=True)
        start += n
        pd.testing.assert_frame_equal(schema.validate(part), schema.validate(w))
    assert start == len(got)
