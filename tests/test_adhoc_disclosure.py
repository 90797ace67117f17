"""suppress() and the disclosure check of ad-hoc exports (export_table)."""

from __future__ import annotations

import numpy as np
import openpyxl
import pandas as pd
import pytest

from trygghet_analys import DataError, check_disclosure, export_table, suppress
from trygghet_analys.stats.disclosure import suppress_complements

HIDDEN = ["estimate", "se", "ci_low", "ci_high"]


def _table(group_var, groups, n, *, total_n=None):
    k = len(groups)
    total = {
        "kommun": "K", "year": 2025, "indicator": "otrygghet_ute_sent", "group_var": "total",
        "group": "Hela kommunen", "estimate": 0.25, "se": 0.02, "ci_low": 0.21,
        "ci_high": 0.29, "n": total_n or sum(n),
    }  # fmt: skip
    rows = pd.DataFrame(
        {
            "kommun": "K", "year": 2025, "indicator": "otrygghet_ute_sent",
            "group_var": group_var, "group": groups, "estimate": np.linspace(0.1, 0.4, k),
            "se": 0.03, "ci_low": 0.05, "ci_high": 0.5, "n": n,
        }
    )  # fmt: skip
    return pd.concat([pd.DataFrame([total]), rows], ignore_index=True)


@pytest.mark.parametrize(("n", "hidden"), [(29, True), (30, False)])
def test_primary_boundary_is_min_n(n, hidden):
    # two other groups hidden too, so secondary suppression does not interfere
    out = suppress(_table("stratum", ["A", "B", "C", "D"], [n, 5, 5, 200]), min_n=30)
    row = out[out["group"] == "A"].iloc[0]
    assert bool(row["suppressed"]) is hidden
    assert bool(np.isnan(row["estimate"])) is hidden
    assert row["n"] == n  # n is kept


def test_suppress_equals_the_builds_two_steps():
    # the build: primary (n < min_n) in estimate_indicators, then suppress_complements
    t = _table("stratum", ["A", "B", "C"], [12, 95, 80])
    manual = t.assign(suppressed=t["n"] < 30)
    manual.loc[manual["suppressed"], HIDDEN] = np.nan
    expected = suppress_complements(manual)
    pd.testing.assert_frame_equal(suppress(t, min_n=30), expected)
    assert suppress(t, min_n=30)["suppressed"].tolist() == [False, True, False, True]


def test_min_n_per_kommun_and_the_default():
    t = _table("sex", ["Kvinna", "Man"], [35, 35])
    assert not suppress(t, min_n={"K": 30})["suppressed"].any()
    assert suppress(t, min_n={"K": 40})["suppressed"].sum() == 2
    assert suppress(t, min_n={"Annan": 40})["suppressed"].sum() == 0  # default 30
    assert suppress(t)["suppressed"].sum() == 0


def test_crossed_slice_with_one_hidden_cell_hides_a_second():
    # Kvinna × 3 age groups, Man × 3 age groups. Only "Kvinna, 16–24" is small. Within the
    # Kvinna slice (published margin "Kvinna") and the 16–24 slice one more must go.
    groups = [f"{s}, {a}" for s in ("Kvinna", "Man") for a in ("16–24", "25–44", "45–64")]
    n = [10, 60, 70, 50, 65, 80]
    out = suppress(_table("sex+age_group", groups, n), min_n=30).set_index("group")
    hidden = set(out.index[out["suppressed"]])
    assert "Kvinna, 16–24" in hidden
    for prefix in ("Kvinna, ", "Man, "):
        assert sum(g.startswith(prefix) for g in hidden) != 1, hidden
    for suffix in ("16–24", "25–44", "45–64"):
        assert sum(g.endswith(suffix) for g in hidden) != 1, hidden
    assert "Kvinna, 25–44" in hidden and "Man, 16–24" in hidden  # fewest n in each slice


def test_area_names_with_a_comma_are_split_right():
    groups = ["Diö, Liatorp, Kvinna", "Diö, Liatorp, Man", "Tätort, Kvinna", "Tätort, Man"]
    out = suppress(_table("stratum+sex", groups, [10, 90, 80, 70]), min_n=30)
    hidden = out[out["suppressed"]]["group"].tolist()
    # Diö, Liatorp slice: Man goes too; the Kvinna slice: Tätort, Kvinna goes too;
    # then Tätort has one hidden: Tätort, Man
    assert sorted(hidden) == sorted(groups)


def test_check_disclosure_refuses_a_small_cell_in_one_swedish_line(tmp_path):
    t = _table("sex", ["Kvinna", "Man"], [12, 300])
    target = tmp_path / "ut" / "tabell.xlsx"
    with pytest.raises(DataError) as err:
        export_table(t, target, min_n=30)
    text = str(err.value)
    assert "\n" not in text
    assert "Kvinna" in text and "12" in text and "minst 30" in text and "suppress(" in text
    assert "rad 3" in text  # the row as in the xlsx (header = 1)
    assert not target.exists()


def test_check_disclosure_refuses_a_missing_complement():
    # primary done by hand but not secondary: "Man" would reveal "Kvinna" via the total
    t = _table("sex", ["Kvinna", "Man"], [12, 300])
    t["suppressed"] = t["n"] < 30
    t.loc[t["suppressed"], HIDDEN] = np.nan
    with pytest.raises(DataError, match="sekundär"):
        check_disclosure(t, min_n=30)
    check_disclosure(suppress(t, min_n=30), min_n=30)  # passes


def test_a_table_without_n_is_refused_when_it_has_estimates():
    t = _table("sex", ["Kvinna", "Man"], [100, 300]).drop(columns="n")
    with pytest.raises(DataError, match="antal svar"):
        check_disclosure(t)
    check_disclosure(t.drop(columns="estimate"))  # nothing to disclose


def test_export_table_writes_the_reports_format(tmp_path):
    t = suppress(_table("sex+age_group", ["Kvinna, 16–24", "Man, 16–24"], [40, 50]), min_n=30)
    t.loc[3] = t.loc[2].to_dict() | {"indicator": "mycket_otrygg", "group": "Man, 25–44"}
    path = export_table(
        t, tmp_path / "egna" / "tabell.xlsx", labels={"mycket_otrygg": "Mycket otrygg"}
    )
    ws = openpyxl.load_workbook(path).active
    header = [c.value for c in ws[1]]
    assert header[:5] == ["Kommun", "År", "Indikator-id", "Indikator", "Indelning"]
    assert "Antal svar" in header and "Undertryckt (för få svar)" in header
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert rows[0][3] == "Otrygg ute sent en kväll"  # the package's label
    assert rows[1][4] == "Kön × ålder"
    assert rows[3][3] == "Mycket otrygg"
    again = export_table(t, tmp_path / "igen.xlsx")
    assert again.read_bytes() != b"" and path.read_bytes() != b""
    b1 = export_table(t, tmp_path / "a.xlsx", labels={"mycket_otrygg": "Mycket otrygg"})
    assert b1.read_bytes() == path.read_bytes()  # byte-reproducible, like the report
