"""Medborgarlöften: registers, activities, follow-up and the underlag for next year.

A *register* is one YAML file per year (``raw/medborgarloften/<year>.yml``) holding the
citizen promise signed by kommun and police: focus areas, and under ``commitments`` the
concrete commitments, each linked to the indicators that show whether it works (survey
indicator ids, wastewater substance ids, activity measure ids) with the desired direction.
The key names are documented for analysts in ``docs/medborgarloften.md``.

The readers and the YAML writer are in :mod:`trygghet_analys.files.registers`, the
HTML page in :mod:`trygghet_analys.report.underlag`; everything here is DataFrame in, new
DataFrame out.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import DataError, TrygghetError
from ..formatting import fmt_number, fmt_value, where_phrase
from ..schemas import table_columns
from ..stats._values import records, row_tuples
from ..stats.estimation import TOTAL_GROUP
from ..stats.findings import SUBJECTS
from ..survey.indicators import load_indicators
from ..vocabulary import (
    Comparison,
    Source,
    load_activity_measures,
    load_ntu,
    substance_ids,
    substance_name,
)

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "ActivityTarget",
    "Commitment",
    "IndicatorLink",
    "Register",
    "Signatory",
    "SUGGESTIONS",
    "STATUSES",
    "activity_follow_up",
    "draft_document",
    "draft_register",
    "draft_table",
    "follow_up",
    "known_indicator_ids",
    "load_activity_measures",
    "load_ntu",
    "registers_frame",
    "registers_table",
    "suggest",
    "summarise_follow_up",
    "underlag",
    "underlag_by_year",
    "yearly_activities",
]

#: Follow-up statuses, best first.
STATUSES: tuple[str, ...] = ("förbättrad", "oförändrad", "försämrad", "otillräckligt underlag")
_RESPONSIBLE = ("kommun", "polis", "båda")
#: ``forslag`` in a draft: a new proposed commitment (``true``) or what to do with a
#: continued one.
SUGGESTIONS: tuple[str, ...] = ("behåll", "justera", "avsluta")
_DIRECTIONS = ("minska", "öka")
_GROUP_VARS = ("total", "stratum", "sex", "age_group")
_TOTAL = TOTAL_GROUP
_ALPHA = 0.05


# --------------------------------------------------------------------------- registers
@dataclass(frozen=True)
class Signatory:
    """One person who signed the promise."""

    name: str
    role: str


@dataclass(frozen=True)
class ActivityTarget:
    """An activity a commitment promises: measure id, unit and yearly target (or None)."""

    measure: str
    unit: str
    target: float | None = None


@dataclass(frozen=True)
class IndicatorLink:
    """An indicator that shows whether a commitment works.

    ``kind`` is ``"enkät"`` (survey indicator), ``"avloppsvatten"`` (substance) or
    ``"aktivitet"`` (activity measure); ``direction`` is ``"minska"`` or ``"öka"``.
    ``group_var``/``group`` restrict a survey indicator to a domain (e.g. one stratum).
    """

    id: str
    kind: str
    direction: str
    group_var: str = "total"
    group: str = _TOTAL


@dataclass(frozen=True)
class Commitment:
    """One commitment (löfte) of a register."""

    id: str
    focus_area: str
    text: str
    responsible: str
    activities: tuple[ActivityTarget, ...] = ()
    indicators: tuple[IndicatorLink, ...] = ()
    proposal: bool = False
    #: In a draft: ``behåll``, ``justera`` or ``avsluta`` for a continued commitment.
    suggestion: str | None = None
    #: In a draft: why, quoting the findings.
    motivation: str | None = None


@dataclass(frozen=True)
class Register:
    """A medborgarlöfte register of one kommun and year.

    Attributes
    ----------
    kommun, year : whose promise and for which year.
    signed : the signing date (None in a draft).
    signatories : who signed.
    focus_areas : the focus areas in display order.
    commitments : the commitments.
    example : True for example registers in the synthetic sample data.
    draft : True for a draft (utkast) not yet signed.
    source : the file it was read from.
    """

    kommun: str
    year: int
    signed: dt.date | None
    signatories: tuple[Signatory, ...]
    focus_areas: tuple[str, ...]
    commitments: tuple[Commitment, ...]
    example: bool = False
    draft: bool = False
    source: Path | None = field(default=None, compare=False)

    def to_frame(self) -> pd.DataFrame:
        """One row per commitment × linked indicator (``commitment_indicators``).

        Returns
        -------
        DataFrame with columns ``kommun, year, commitment_id, focus_area, text,
        responsible, indicator, indicator_kind, desired_direction, group_var, group,
        proposal, example``. A commitment without indicators gets one row with
        missing indicator columns.
        """
        return _frame(self._link_rows(), table_columns("commitment_indicators"))

    def _link_rows(self) -> list[dict]:
        """The rows of :meth:`to_frame`."""
        rows = []
        for c in self.commitments:
            base = {
                "kommun": self.kommun,
                "year": self.year,
                "commitment_id": c.id,
                "focus_area": c.focus_area,
                "text": c.text,
                "responsible": c.responsible,
            }
            links = c.indicators or (None,)
            for link in links:
                rows.append(
                    {
                        **base,
                        "indicator": None if link is None else link.id,
                        "indicator_kind": None if link is None else link.kind,
                        "desired_direction": None if link is None else link.direction,
                        "group_var": None if link is None else link.group_var,
                        "group": None if link is None else link.group,
                        "proposal": c.proposal,
                        "example": self.example,
                    }
                )
        return rows

    def to_dict(self) -> dict:
        """The register as the plain dict that :func:`dump_register` writes."""
        doc: dict = {"kommun": self.kommun, "year": self.year}
        if self.example:
            doc["exempel"] = True
        if self.draft:
            doc["utkast"] = True
        doc["signed"] = self.signed
        doc["signatories"] = [{"name": s.name, "role": s.role} for s in self.signatories]
        doc["focus_areas"] = list(self.focus_areas)
        doc["commitments"] = [_commitment_dict(c) for c in self.commitments]
        return doc


def _commitment_dict(c: Commitment) -> dict:
    out: dict = {"id": c.id}
    if c.proposal:
        out["forslag"] = True
    elif c.suggestion:
        out["forslag"] = c.suggestion
    if c.motivation:
        out["motivering"] = c.motivation
    out.update({"focus_area": c.focus_area, "text": c.text, "responsible": c.responsible})
    out["activities"] = [
        {
            "measure": a.measure,
            "unit": a.unit,
            "target": None if a.target is None else _plain_number(a.target),
        }
        for a in c.activities
    ]
    links = []
    for link in c.indicators:
        item = {"id": link.id, "direction": link.direction}
        if link.group_var != "total":
            item["group_var"] = link.group_var
            item["group"] = link.group
        links.append(item)
    out["indicators"] = links
    return out


def _plain_number(x: float) -> int | float:
    return int(x) if float(x).is_integer() else float(x)


def known_indicator_ids(survey_ids: Iterable[str] | None = None) -> dict[str, str]:
    """Every id a register may link to, mapped to its kind.

    Parameters
    ----------
    survey_ids
        Survey indicator ids; default the ids of :func:`indicators.load_indicators`
        (``resources/indikatorer.csv``).

    Returns
    -------
    dict mapping id → ``"enkät"``, ``"avloppsvatten"`` (``resources/substanser.csv``) or
    ``"aktivitet"`` (``resources/aktivitetsmatt.csv``).

    Examples
    --------
    >>> known_indicator_ids()["fotpatrull_timmar"] == "aktivitet"
    True
    """
    if survey_ids is None:
        survey_ids = load_indicators()["id"]
    out = dict.fromkeys(survey_ids, Source.SURVEY)
    out.update(dict.fromkeys(substance_ids(), Source.WASTEWATER))
    out.update(dict.fromkeys(load_activity_measures()["id"], Source.ACTIVITY))
    return out


def _known(known_indicators: Mapping[str, str] | Iterable[str] | None) -> dict[str, str]:
    if known_indicators is None:
        return known_indicator_ids()
    if isinstance(known_indicators, Mapping):
        return dict(known_indicators)
    return known_indicator_ids(known_indicators)


def registers_frame(registers: Sequence[Register]) -> pd.DataFrame:
    """All registers as one ``commitment_indicators`` table (see :meth:`Register.to_frame`)."""
    # one table of every register's rows (the schema of ``commitment_indicators`` gives
    # each column its type), not a table per register put together
    return _frame(
        [row for r in registers for row in r._link_rows()], table_columns("commitment_indicators")
    )


# --------------------------------------------------------------------------- activities
def yearly_activities(activities: pd.DataFrame) -> pd.DataFrame:
    """Activities summed per year (``summa``) or the last period's value (``senaste``)."""
    if activities is None or activities.empty:
        return pd.DataFrame(columns=["year", "measure", "value"])
    agg = load_activity_measures().set_index("id")["aggregation"].to_dict()
    # row positions per (year, measure), as groupby(...).indices gives them (keys with a
    # missing value left out), without a pandas grouping per kommun
    groups: dict[tuple, list[int]] = {}
    keys = zip(activities["year"].tolist(), activities["measure"].tolist(), strict=True)
    for i, key in enumerate(keys):
        if not (pd.isna(key[0]) or pd.isna(key[1])):
            groups.setdefault(key, []).append(i)
    values = activities["value"]
    # a plain float or int column is summed as pandas sums it (NaN as 0, numpy's sum of
    # the rows in order) without a Series per group; any other type as before
    plain = values.dtype.kind in "fiu" and not isinstance(
        values.dtype, pd.api.extensions.ExtensionDtype
    )
    array = values.to_numpy() if plain else None
    periods = activities["period"].tolist()
    rows = []
    for year, measure in sorted(groups):
        idx = groups[(year, measure)]
        if agg.get(measure) == "senaste":
            # the row of the latest period (of equal periods the last, as a stable sort)
            last = idx[0]
            for i in idx[1:]:
                if periods[i] >= periods[last]:
                    last = i
            value = values.iloc[last]
        elif array is not None:
            value = np.nansum(array[idx]) if array.dtype.kind == "f" else array[idx].sum()
        else:
            value = values.take(idx).sum()
        rows.append({"year": int(year), "measure": measure, "value": float(value)})
    return pd.DataFrame(rows)


def activity_follow_up(
    registers: Sequence[Register], activities: pd.DataFrame, *, year: int
) -> pd.DataFrame:
    """Delivered activity against target, per commitment × activity, for one year.

    Parameters
    ----------
    registers
        Registers; the one for ``year`` (else the latest before it) is followed up.
    activities
        From :func:`load_activities`; with a ``kommun`` column when it stacks several
        kommuner (else it belongs to every register's kommun).
    year
        The year followed up.

    Returns
    -------
    DataFrame with columns ``kommun, year, commitment_id, measure, label, unit,
    target, delivered, share`` (delivered / target) and ``met`` (delivered ≥ target;
    missing when there is no target).
    """
    labels = load_activity_measures().set_index("id")["label"].to_dict()
    rows = []
    for reg in current_registers(registers, year):
        acts = _kommun(activities, reg.kommun) if _has_kommun(activities) else activities
        rows += _activity_rows(reg, yearly_activities(acts), year, labels)
    return _activity_frame(rows)


def _activity_rows(reg: Register, yearly: pd.DataFrame, year: int, labels: Mapping) -> list:
    """The rows of :func:`activity_follow_up` for one register, from its kommun's
    :func:`yearly_activities` (looked up per activity, not filtered per activity)."""
    delivered_by: dict = {}
    for y, m, v in zip(yearly["year"], yearly["measure"], yearly["value"], strict=True):
        delivered_by.setdefault((y, m), float(v))
    rows = []
    for c in reg.commitments:
        for a in c.activities:
            delivered = delivered_by.get((year, a.measure), np.nan)
            share = delivered / a.target if a.target else np.nan
            met = pd.NA if a.target is None or np.isnan(delivered) else bool(delivered >= a.target)
            rows.append(
                {
                    "kommun": reg.kommun,
                    "year": year,
                    "commitment_id": c.id,
                    "measure": a.measure,
                    "label": labels.get(a.measure, a.measure),
                    "unit": a.unit,
                    "target": np.nan if a.target is None else a.target,
                    "delivered": delivered,
                    "share": share,
                    "met": met,
                }
            )
    return rows


def _activity_frame(rows: list[dict]) -> pd.DataFrame:
    out = _frame(
        rows,
        [
            "kommun",
            "year",
            "commitment_id",
            "measure",
            "label",
            "unit",
            "target",
            "delivered",
            "share",
            "met",
        ],
    )
    return out.astype(
        {"target": "float64", "delivered": "float64", "share": "float64", "met": "boolean"}
    )


# --------------------------------------------------------------------------- follow-up
def current_registers(registers: Sequence[Register], year: int) -> list[Register]:
    """Per kommun, the register for ``year`` or else the latest one before it."""
    best: dict[str, Register] = {}
    for r in registers:
        if r.year <= year and (r.kommun not in best or r.year > best[r.kommun].year):
            best[r.kommun] = r
    return [best[k] for k in sorted(best)]


def _first_years(registers: Sequence[Register]) -> dict[tuple[str, str], int]:
    first: dict[tuple[str, str], int] = {}
    for r in registers:
        for c in r.commitments:
            key = (r.kommun, c.id)
            first[key] = min(first.get(key, r.year), r.year)
    return first


#: Genomförande words: delivered activities against the register's target.
IMPLEMENTATION: tuple[str, ...] = ("uppnått", "delvis", "ej uppnått", "inget mål angivet")
_OUTCOME_WORD = {"bättre": "förbättrad", "sämre": "försämrad", "oförändrad": "oförändrad"}


def implementation_status(delivered: float, target: float | None) -> str:
    """Genomförande of one activity: ``uppnått`` (delivered ≥ target), ``delvis``
    (something but less), ``ej uppnått`` (nothing or no report), ``inget mål angivet``.

    Examples
    --------
    >>> implementation_status(300, 300), implementation_status(299, 300)
    ('uppnått', 'delvis')
    >>> implementation_status(0, 300), implementation_status(12, None)
    ('ej uppnått', 'inget mål angivet')
    """
    if target is None or pd.isna(target):
        return "inget mål angivet"
    if delivered is None or pd.isna(delivered) or delivered <= 0:
        return "ej uppnått"
    return "uppnått" if delivered >= target else "delvis"


def commitment_implementation(statuses: Sequence[str]) -> str:
    """Genomförande of a commitment from its activities' words.

    Every activity with a target ``uppnått`` → ``uppnått``; every one ``ej uppnått`` →
    ``ej uppnått``; a mix → ``delvis``; no activity with a target → ``inget mål angivet``.
    """
    judged = [s for s in statuses if s != "inget mål angivet"]
    if not judged:
        return "inget mål angivet"
    if all(s == "uppnått" for s in judged):
        return "uppnått"
    if all(s == "ej uppnått" for s in judged):
        return "ej uppnått"
    return "delvis"


def commitment_outcome(statuses: Sequence[str]) -> str:
    """Utfall of a commitment from its outcome indicators' statuses (each once).

    More ``förbättrad`` than ``försämrad`` → ``förbättrad``, the other way round →
    ``försämrad``, otherwise ``oförändrad`` when at least one indicator could be judged,
    else ``otillräckligt underlag``. Activity counts never enter.
    """
    better, worse = statuses.count("förbättrad"), statuses.count("försämrad")
    if better > worse:
        return "förbättrad"
    if worse > better:
        return "försämrad"
    if better or statuses.count("oförändrad"):
        return "oförändrad"
    return "otillräckligt underlag"


def follow_up(
    registers: Sequence[Register],
    *,
    activities: pd.DataFrame,
    year: int,
    findings: pd.DataFrame | None = None,
    estimates: pd.DataFrame | None = None,
    changes: pd.DataFrame | None = None,
    trends: pd.DataFrame | None = None,
    wastewater_campaigns: pd.DataFrame | None = None,
    wastewater_loads: pd.DataFrame | None = None,
    indicators: pd.DataFrame | None = None,
    breaks: pd.DataFrame | None = None,
    base_year: int | None = None,
) -> pd.DataFrame:
    """Follow up each commitment of ``year``'s register: genomförande and utfall.

    Parameters
    ----------
    registers
        All registers (of one or several kommuner); the register for ``year`` (else the
        latest before it) is followed up.
    activities
        From :func:`load_activities`.
    year
        The year followed up.
    findings
        The findings table (:func:`trygghet_analys.stats.findings.build_findings`); every
        status is read from it. When None it is built here, once, from ``estimates``,
        ``changes``, ``breaks`` and ``wastewater_campaigns`` (base year: the year
        before the kommun's first register).
    estimates, changes, trends, wastewater_campaigns, wastewater_loads, breaks
        Only used to build ``findings`` when it is not given (``trends`` and
        ``wastewater_loads`` are not needed: trends and wastewater tests are in the
        findings).
    indicators
        Indicator definitions (labels, kind, direction); default
        :func:`indicators.load_indicators`.
    base_year
        The base year of the findings (default: the year before the kommun's first
        register).

    Returns
    -------
    DataFrame, one row per commitment × linked indicator, with columns
    ``kommun, year, commitment_id, focus_area, text, responsible, indicator,
    indicator_kind, label, group_var, group, desired_direction, unit, latest_year,
    latest_value, previous_year, previous_value, change_previous,
    significant_previous, base_year, base_value, change_base, p_value_base,
    significant_base, trend, status, sentence, activities_delivered, activities_met,
    implementation, effect, commitment_status``.

    Notes
    -----
    Rules (docs/medborgarloften.md). *Genomförande* (``implementation``, per commitment):
    each activity against its target by :func:`implementation_status`, combined by
    :func:`commitment_implementation`; an activity link's ``status`` is its own
    genomförande word, never "förbättrad". *Utfall* (``commitment_status``): each
    survey or wastewater indicator once, its status the findings row's direction —
    survey against the base year (else the previous year), wastewater the trend over
    the campaigns — combined by :func:`commitment_outcome`. ``effect`` is the sentence
    of an ``effekt`` finding for the commitment's area, when there is one.
    """

    ind = _indicator_table(load_indicators() if indicators is None else indicators)
    measure_labels = load_activity_measures().set_index("id")
    rows = _follow_up_rows(
        registers,
        activities=activities,
        year=year,
        findings=findings,
        estimates=estimates,
        changes=changes,
        wastewater_campaigns=wastewater_campaigns,
        breaks=breaks,
        base_year=base_year,
        ind=ind,
        measure_labels=measure_labels,
        names={},
    )
    return _follow_up_frame(rows)


def follow_up_of(
    jobs: Sequence[tuple[Sequence[Register], np.ndarray, pd.DataFrame]],
    *,
    findings: pd.DataFrame,
    year: int,
    indicators: pd.DataFrame | None = None,
    base_year: int | None = None,
) -> tuple[pd.DataFrame, list[int]]:
    """:func:`follow_up` of several kommuner in one call (issue 16): ``jobs`` is
    ``(registers, rows, activities)`` per kommun, ``rows`` the positions of the kommun's
    rows of ``year`` in ``findings``; all followed up in ``year`` with the same
    ``indicators`` and ``base_year``.

    Returns the table, the jobs' rows one after another (each job's rows exactly those of
    ``follow_up(registers, findings=findings.take(rows), activities=activities, ...)``,
    the types those of the whole table), and the number of rows of each job.
    """
    ind = _indicator_table(load_indicators() if indicators is None else indicators)
    measure_labels = load_activity_measures().set_index("id")
    names: dict[str, str] = {}
    rows: list[dict] = []
    counts = []
    for (registers, _, activities), fnd in zip(
        jobs, _year_findings_of(findings, jobs, year), strict=True
    ):
        made = _follow_up_rows(
            registers,
            activities=activities,
            year=year,
            findings=None,
            year_findings=fnd,
            estimates=None,
            changes=None,
            wastewater_campaigns=None,
            breaks=None,
            base_year=base_year,
            ind=ind,
            measure_labels=measure_labels,
            names=names,
        )
        rows += made
        counts.append(len(made))
    return _follow_up_frame(rows), counts


def _year_findings_of(
    findings: pd.DataFrame, jobs: Sequence[tuple], year: int
) -> list[_YearFindings]:
    """Each job's :class:`_YearFindings`, the rows of every job read out of ``findings``
    in one go (only the rows of the indicators its register links, as ``follow_up``)."""
    if not len(findings):
        return [_YearFindings(findings) for _ in jobs]
    indicator = findings["indicator"].astype(str).to_numpy(dtype=object)
    picked = []
    for registers, at, _ in jobs:
        ids = {str(i.id) for r in current_registers(registers, year) for c in r.commitments
               for i in c.indicators}  # fmt: skip
        at = np.asarray(at, dtype="int64")
        picked.append(at[np.fromiter((x in ids for x in indicator[at]), bool, len(at))])
    every = records(findings.take(np.concatenate(picked))) if picked else []
    out, start = [], 0
    for at in picked:
        out.append(_YearFindings.of_records(every[start : start + len(at)]))
        start += len(at)
    return out


def _follow_up_rows(
    registers: Sequence[Register],
    *,
    activities: pd.DataFrame,
    year: int,
    findings: pd.DataFrame | None,
    estimates: pd.DataFrame | None,
    changes: pd.DataFrame | None,
    wastewater_campaigns: pd.DataFrame | None,
    breaks: pd.DataFrame | None,
    base_year: int | None,
    ind: pd.DataFrame,
    measure_labels: pd.DataFrame,
    names: dict[str, str],
    year_findings: _YearFindings | None = None,
) -> list[dict]:
    """The rows of :func:`follow_up` before they become a table (``names``: substance
    names looked up so far, shared by the caller; ``year_findings``: the findings of
    ``year`` already indexed, for registers of one kommun, instead of ``findings``)."""
    labels = measure_labels["label"].to_dict()
    rows = []
    for reg in current_registers(registers, year):
        first = len(rows)  # this register's kommun's rows start here
        k = reg.kommun
        acts = _kommun(activities, k) if _has_kommun(activities) else activities
        yearly = yearly_activities(acts)
        act = _activity_rows(reg, yearly, year, labels)
        for r in act:  # as the activity table holds them (float64)
            r["target"], r["delivered"] = float(r["target"]), float(r["delivered"])
        by_measure = _by_measure(yearly)
        firsts = [r.year for r in registers if r.kommun == k]
        k_base = base_year if base_year is not None else min(firsts) - 1
        if year_findings is not None:
            own_findings = None
        elif findings is None:
            own_findings = _findings_here(
                k, k_base, estimates, changes, breaks, wastewater_campaigns, ind, yearly
            )
        else:
            own_findings = _kommun(findings, k)
        if own_findings is None:
            fnd = year_findings
        else:
            fnd = own_findings[own_findings["year"] == year] if len(own_findings) else own_findings
            # indexed once: each link looks its rows up (only rows of a linked indicator are
            # ever looked up, so only they are indexed)
            fnd = _YearFindings(fnd, {str(i.id) for c in reg.commitments for i in c.indicators})
        fnd.names = names
        for c in reg.commitments:
            a = [r for r in act if r["commitment_id"] == c.id]
            delivered, met = _activity_text(a)
            words = [implementation_status(r["delivered"], r["target"]) for r in a]
            base = {
                "kommun": k,
                "year": year,
                "commitment_id": c.id,
                "focus_area": c.focus_area,
                "text": c.text,
                "responsible": c.responsible,
                "activities_delivered": delivered,
                "activities_met": met,
                "implementation": commitment_implementation(words),
            }
            effects: list[str] = []
            links = c.indicators or (None,)
            for link in links:
                row = dict(base)
                if link is not None:
                    row.update(
                        indicator=link.id,
                        indicator_kind=link.kind,
                        group_var=link.group_var,
                        group=link.group,
                        desired_direction=link.direction,
                    )
                    if link.kind == Source.SURVEY:
                        row.update(_survey_link(link, fnd, ind, k_base))
                        eff = _effect_of(fnd, link)
                        if eff is not None:
                            effects.append(eff)
                    elif link.kind == Source.ACTIVITY:
                        row.update(_activity_link(link, by_measure, measure_labels, year, a))
                    else:
                        row.update(_wastewater_link(link, fnd))
                else:
                    row["status"] = "otillräckligt underlag"
                rows.append(row)
            for r in rows[first:]:  # the rows before are other kommuner's
                if r["kommun"] == k and r["commitment_id"] == c.id:
                    r["effect"] = " ".join(effects) if effects else None
    return rows


def _follow_up_frame(rows: list[dict]) -> pd.DataFrame:
    """The table of :func:`follow_up` from its rows, with each commitment's outcome."""
    out = _frame(rows, table_columns("commitment_followup"))
    if len(out):
        # per commitment, each survey or wastewater indicator once (its first row)
        judged: dict[tuple, dict[tuple, str]] = {}
        for r in rows:
            once = judged.setdefault((r["kommun"], r["commitment_id"]), {})
            if r.get("indicator_kind") in (Source.SURVEY, Source.WASTEWATER):
                once.setdefault((r["indicator"], r["group_var"], r["group"]), r["status"])
        outcome = {key: commitment_outcome(list(once.values())) for key, once in judged.items()}
        out["commitment_status"] = [
            outcome[(k, c)] for k, c in zip(out["kommun"], out["commitment_id"], strict=True)
        ]
    return out.astype(
        {
            "latest_value": "float64",
            "previous_value": "float64",
            "change_previous": "float64",
            "base_value": "float64",
            "change_base": "float64",
            "p_value_base": "float64",
            "significant_previous": "boolean",
            "significant_base": "boolean",
            "activities_met": "boolean",
            "latest_year": "Int64",
            "previous_year": "Int64",
            "base_year": "Int64",
        }
    )


def empty_follow_up() -> pd.DataFrame:
    """The ``commitment_followup`` table without rows, as :func:`follow_up` gives it."""
    return _follow_up_frame([])


def _findings_here(kommun, base_year, estimates, changes, breaks, campaigns, ind, yearly):
    """The findings of one kommun when the caller has none (one call of the builder)."""
    from ..stats.findings import build_findings
    from ..stats.trends import compare_estimates

    indicators = ind.reset_index()
    est = _kommun(estimates, kommun) if estimates is not None else pd.DataFrame()
    if est.empty or "estimate" not in est:
        est = None
    chg = _kommun(changes, kommun) if changes is not None else pd.DataFrame()
    if est is not None:
        computed = compare_estimates(
            est, breaks=_kommun(breaks, kommun) if breaks is not None else None,
            base_year=base_year, indicators=indicators,
        )  # fmt: skip
        if chg is None or chg.empty:
            chg = computed
        elif not (
            (chg["comparison"] == Comparison.BASE_YEAR) & (chg["year_from"] == base_year)
        ).any():
            basar = computed[computed["comparison"] == Comparison.BASE_YEAR]
            chg = pd.concat([chg, basar], ignore_index=True) if len(basar) else chg
    if est is None:
        cols = ["kommun", "year", "indicator", "group_var", "group", "estimate", "se"]
        est = pd.DataFrame({c: pd.Series(dtype=object) for c in [*cols, "suppressed"]})
        chg = pd.DataFrame(
            {c: pd.Series(dtype=object) for c in ["kommun", "indicator", "group_var", "group"]}
        )
    return build_findings(
        kommun=kommun,
        estimates=est,
        changes=chg,
        indicators=indicators,
        breaks=_kommun(breaks, kommun) if breaks is not None else None,
        base_year=base_year,
        wastewater_campaigns=campaigns,
        activities=yearly if len(yearly) else None,
    )


class _YearFindings:
    """One kommun's findings rows of the followed-up year, indexed once by ``(source,
    indicator)`` and, for ``effekt`` rows, by ``(indicator, group)``; each list keeps the
    table's row order. A link looks up its few rows instead of masking the table."""

    def __init__(self, fnd: pd.DataFrame, indicators: set[str] | None = None):
        self.rows: dict[tuple[str, str], list[dict]] = {}
        self.effects: dict[tuple[str, str], list[dict]] = {}
        self.names: dict[str, str] = {}  # substance_name per substance (shared by the caller)
        if fnd.empty:
            return
        if indicators is not None:  # the rows of these indicators only (in order)
            fnd = fnd[fnd["indicator"].astype(str).isin(indicators).to_numpy()]
        self._index(records(fnd))

    @classmethod
    def of_records(cls, records: list[dict]) -> _YearFindings:
        """From the rows as ``to_dict("records")`` gives them."""
        out = cls(pd.DataFrame())
        out._index(records)
        return out

    def _index(self, records: list[dict]) -> None:
        for r in records:
            self.rows.setdefault((str(r["source"]), str(r["indicator"])), []).append(r)
            if r.get("comparison") == Comparison.EFFECT:
                self.effects.setdefault((r["indicator"], r["group"]), []).append(r)


def _link_rows(fnd: _YearFindings, source: str, link) -> list[dict]:
    rows = fnd.rows.get((str(source), str(link.id)), [])
    if source == Source.SURVEY:
        rows = [r for r in rows if r["group_var"] == link.group_var and r["group"] == link.group]
    return rows


def _status_of(row: Mapping, link, ind: pd.DataFrame) -> str:
    """The outcome word of a findings row, against the register's desired direction."""
    word = _OUTCOME_WORD[str(row["direction"])]
    indicator_up = (
        ind.at[link.id, "direction"] == "higher_is_better" if link.id in ind.index else False
    )
    if link.kind == Source.SURVEY and indicator_up != (link.direction == "öka"):
        word = {"förbättrad": "försämrad", "försämrad": "förbättrad"}.get(word, word)
    return word


def _survey_link(link, fnd: _YearFindings, ind: pd.DataFrame, base_year: int | None) -> dict:
    label = ind.at[link.id, "label"] if link.id in ind.index else link.id
    kind = ind.at[link.id, "kind"] if link.id in ind.index else "proportion"
    out: dict = {"label": label, "unit": "index 0–6" if kind == "mean" else "andel"}
    f = _link_rows(fnd, Source.SURVEY, link)
    prev = [r for r in f if r["comparison"] == Comparison.PREVIOUS_YEAR]
    base = [r for r in f if r["comparison"] == Comparison.BASE_YEAR]
    # the trend with the latest start (the commitment period's when there is one); of
    # equal starts the first row, as pandas' (stable) descending sort puts first
    trend = None
    for r in f:
        if r["comparison"] == Comparison.TREND and (
            trend is None or r["from_year"] > trend["from_year"]
        ):
            trend = r
    decide = None
    if prev:
        p = prev[0]
        out.update(
            latest_year=int(p["to_year"]),
            latest_value=float(p["value_to"]),
            previous_year=int(p["from_year"]),
            previous_value=float(p["value_from"]),
            change_previous=float(p["change"]),
            significant_previous=bool(p["significant"]),
        )
        decide = p
    if base:
        b = base[0]
        decide = b
    elif decide is not None and int(decide["from_year"]) == base_year:
        b = decide  # the base year is the previous year: one comparison, kept once
    else:
        b = None
    if b is not None:
        out.update(
            latest_year=int(b["to_year"]),
            latest_value=float(b["value_to"]),
            base_year=int(b["from_year"]),
            base_value=float(b["value_from"]),
            change_base=float(b["change"]),
            p_value_base=float(b["p_value"]),
            significant_base=bool(b["significant"]),
        )
    if trend is not None:
        out["trend"] = {"bättre": "förbättrande", "sämre": "försämrande"}.get(
            str(trend["direction"]), "ingen säkerställd trend"
        )
    if decide is None:
        out["status"] = "otillräckligt underlag"
        return out
    out["status"] = _status_of(decide, link, ind)
    out["sentence"] = str(decide["sentence"])
    return out


def _effect_of(fnd: _YearFindings, link) -> str | None:
    if link.group_var != "stratum":
        return None
    e = fnd.effects.get((link.id, link.group))
    return None if not e else str(e[0]["sentence"])


def _by_measure(yearly: pd.DataFrame) -> dict[str, dict[int, float]]:
    """:func:`yearly_activities` as measure → year → value (the first row of each)."""
    out: dict[str, dict[int, float]] = {}
    for y, m, v in zip(yearly["year"], yearly["measure"], yearly["value"], strict=True):
        out.setdefault(m, {}).setdefault(y, float(v))
    return out


def _activity_link(link, by_measure, measures, year, act: list[dict]) -> dict:
    label = measures.at[link.id, "label"] if link.id in measures.index else link.id
    out: dict = {
        "label": label,
        "unit": measures.at[link.id, "unit"] if link.id in measures.index else "",
    }
    v = by_measure.get(link.id, {})
    target = float(next((r["target"] for r in act if r["measure"] == link.id), np.nan))
    if year in v:
        out.update(latest_year=year, latest_value=float(v[year]))
    if year - 1 in v and year in v:
        out.update(
            previous_year=year - 1,
            previous_value=float(v[year - 1]),
            change_previous=float(v[year] - v[year - 1]),
        )
    delivered = float(v[year]) if year in v else np.nan
    # a count is genomförande, judged against its target, never an outcome
    out["status"] = implementation_status(delivered, target)
    goal = "" if np.isnan(target) else f" av målet {fmt_number(target, 0)}"
    out["sentence"] = (
        f"{label}: {fmt_number(delivered, 0)}{goal} år {year} ({out['status']})."
        if not np.isnan(delivered)
        else f"{label}: ingen uppgift för {year}."
    )
    return out


def _wastewater_link(link, fnd: _YearFindings) -> dict:
    if link.id not in fnd.names:
        fnd.names[link.id] = substance_name(link.id)
    out: dict = {
        "label": fnd.names[link.id],
        "unit": "mg/dag/1000 inv",
    }
    f = [r for r in _link_rows(fnd, Source.WASTEWATER, link) if r["comparison"] == Comparison.TREND]
    if not f:
        out["status"] = "otillräckligt underlag"
        return out
    t = f[0]
    out.update(latest_year=int(t["to_year"]), latest_value=float(t["value_to"]))
    out["sentence"] = str(t["sentence"])
    if pd.isna(t["p_value"]):
        out["status"] = "otillräckligt underlag"
        out["trend"] = "otillräckligt underlag"
        return out
    out["trend"] = {"bättre": "förbättrande", "sämre": "försämrande"}.get(
        str(t["direction"]), "ingen säkerställd trend"
    )
    word = _OUTCOME_WORD[str(t["direction"])]
    if link.direction == "öka":  # substances: less is better unless a register says so
        word = {"förbättrad": "försämrad", "försämrad": "förbättrad"}.get(word, word)
    out["status"] = word
    return out


def _activity_text(a: list[dict]) -> tuple[str, object]:
    if not a:
        return "", pd.NA
    parts = []
    for r in a:
        unit = "" if r["unit"] == "antal" else f" {r['unit']}"
        target = None if np.isnan(r["target"]) else fmt_number(r["target"], 0)
        if np.isnan(r["delivered"]):
            goal = "" if target is None else f" (målet {target}{unit})"
            parts.append(f"{r['label']}: ingen uppgift{goal}")
        else:
            goal = "" if target is None else f" av målet {target}"
            parts.append(f"{r['label']}: {fmt_number(r['delivered'], 0)}{goal}{unit}")
    mets = [r["met"] for r in a if not pd.isna(r["met"])]
    return "; ".join(parts), (all(mets) if mets else pd.NA)


def _has_kommun(frame: pd.DataFrame | None) -> bool:
    return frame is not None and "kommun" in frame.columns


def _kommun(frame: pd.DataFrame | None, kommun: str) -> pd.DataFrame:
    if frame is None or frame.empty or "kommun" not in frame:
        return pd.DataFrame() if frame is None else frame.iloc[0:0]
    return frame[frame["kommun"] == kommun]


def _indicator_table(indicators: pd.DataFrame | None) -> pd.DataFrame:
    cols = ["id", "label", "kind", "variables", "direction", "focus_area", "unit", "ntu_id"]
    if indicators is None:
        return pd.DataFrame(columns=cols).set_index("id")
    out = indicators.copy()
    for c in cols:
        if c not in out:
            out[c] = pd.NA
    return out.set_index("id")


def summarise_follow_up(followup: pd.DataFrame) -> pd.DataFrame:
    """One row per commitment from :func:`follow_up`.

    Returns
    -------
    DataFrame with columns ``kommun, year, commitment_id, focus_area, text,
    responsible, activities_delivered, activities_met, implementation (genomförande),
    effect, n_improved, n_unchanged, n_worsened, n_insufficient, commitment_status``
    (utfall). The counts are of outcome indicators only (survey, wastewater).
    """
    keys = [
        "kommun",
        "year",
        "commitment_id",
        "focus_area",
        "text",
        "responsible",
        "activities_delivered",
        "activities_met",
        "implementation",
        "effect",
        "commitment_status",
    ]
    rows = []
    for _, g in followup.groupby(["kommun", "commitment_id"], sort=False):
        first = g.iloc[0]
        outcome = g[g["indicator_kind"].isin([Source.SURVEY, Source.WASTEWATER])]
        s = outcome.drop_duplicates(["indicator", "group_var", "group"])["status"].tolist()
        rows.append(
            {
                **{k: first[k] for k in keys},
                "n_improved": s.count("förbättrad"),
                "n_unchanged": s.count("oförändrad"),
                "n_worsened": s.count("försämrad"),
                "n_insufficient": s.count("otillräckligt underlag"),
            }
        )
    cols = keys[:-1] + [
        "n_improved",
        "n_unchanged",
        "n_worsened",
        "n_insufficient",
        "commitment_status",
    ]
    return _frame(rows, cols)


# --------------------------------------------------------------------------- underlag
#: Sentence subjects per survey indicator: the findings table's own (one list).
_SUBJECTS = SUBJECTS


@dataclass(frozen=True)
class _Domain:
    """One indicator × domain of the underlag, with its non-suppressed yearly series."""

    indicator: str
    group_var: str
    group: str
    kind: str
    worse_up: bool
    subject: str
    where: str
    year: int
    series: dict[int, float]

    @property
    def value(self) -> float:
        return self.series[self.year]


def _finding(
    reason,
    prio,
    score,
    sentence,
    *,
    compare_year=np.nan,
    compare_value=np.nan,
    change=np.nan,
    significant=True,
) -> dict:
    return dict(
        reason=reason,
        prio=prio,
        score=score,
        sentence=sentence,
        compare_year=compare_year,
        compare_value=compare_value,
        change=change,
        significant=significant,
    )


_ADVERSE_REASONS = {
    Comparison.PREVIOUS_YEAR: "säkerställd försämring mot föregående år",
    Comparison.BASE_YEAR: "säkerställd försämring mot basåret",
    Comparison.TREND: "säkerställd försämrande trend",
}


def _adverse_findings(rows: list) -> list[dict]:
    """Statistically supported worsening, read from the findings table (q < 0.05)."""
    out = []
    for r in rows:
        if not bool(r.significant) or r.direction != "sämre":
            continue
        found = _finding(
            _ADVERSE_REASONS.get(r.comparison, "säkerställd försämring"),
            0,
            1.0 - float(r.q_value),
            r.sentence,
            compare_year=int(r.from_year),
            compare_value=float(r.value_from),
            change=float(r.value_to) - float(r.value_from),
        )
        found["q_value"] = float(r.q_value)
        out.append(found)
    return out


def _ntu_finding(dom: _Domain, last: Mapping[str, float], level: float) -> list[dict]:
    """Worse than the national NTU level, when the 95 % interval excludes it."""
    beyond = last["ci_low"] > level if dom.worse_up else last["ci_high"] < level
    if not beyond:
        return []
    cmp = "högre" if dom.worse_up else "lägre"
    sentence = (
        f"{dom.subject} {dom.where} är {fmt_value(dom.value, dom.kind)} år {dom.year}, "
        f"{cmp} än i riket enligt Brå:s nationella trygghetsundersökning "
        "(kommunens 95-procentiga konfidensintervall når inte rikets nivå)."
    )
    score = abs(dom.value - level) / max(float(last["se"]), 1e-9)
    return [_finding(f"{cmp} än riket (NTU)", 3, score, sentence, significant=False)]


def _history_finding(dom: _Domain, min_history: int) -> list[dict]:
    """The worst level of the kommun's own series (at least ``min_history`` years)."""
    earlier = [v for y, v in dom.series.items() if y < dom.year]
    if len(dom.series) < min_history or not earlier:
        return []
    worst = max(earlier) if dom.worse_up else min(earlier)
    if not (dom.value > worst if dom.worse_up else dom.value < worst):
        return []
    first_year = min(dom.series)
    word = "högsta" if dom.worse_up else "lägsta"
    sentence = (
        f"{dom.subject} {dom.where} är {fmt_value(dom.value, dom.kind)} år {dom.year}, "
        f"den {word} nivån sedan mätningarna började år {first_year}."
    )
    return [
        _finding(
            f"{word} nivån i den egna serien",
            4,
            abs(dom.value - worst),
            sentence,
            compare_year=first_year,
            significant=False,
        )
    ]


def underlag(
    estimates: pd.DataFrame,
    changes: pd.DataFrame,
    trends: pd.DataFrame,
    *,
    indicators: pd.DataFrame,
    ntu: pd.DataFrame,
    kommun: str,
    year: int,
    group_vars: Sequence[str] = ("total", "stratum"),
    min_history: int = 5,
    findings: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Indicators that worsened or stand high: the underlag for next year's promise.

    Parameters
    ----------
    estimates, changes, trends
        The survey tables (CONTRIBUTING.md).
    indicators
        ``indikatorer.csv``: ``id, label, kind, direction, focus_area, ntu_id`` used.
    ntu
        From :func:`load_ntu`.
    kommun, year
        Whose underlag and for which survey year.
    group_vars
        Domains considered (default the whole kommun and each area).
    min_history
        Years of estimates needed before "highest level in the series" is said.
    findings
        The findings table; every worsening is read from it (when None it is built once
        from ``estimates`` and ``changes``, the base year taken from the ``basår`` rows).

    Returns
    -------
    DataFrame, one row per indicator × domain that qualifies, grouped by focus area
    (in the indicators table's order) and ranked within it (``rank`` 1 = most urgent),
    with columns ``kommun, year, focus_area, rank, indicator, label, group_var, group,
    kind, desired_direction (minska|öka), reason, reasons, latest_year, latest_value, compare_year, compare_value, change,
    significant, ntu_year, ntu_percent, ntu_source, score, sentence``.

    Notes
    -----
    Reasons, most urgent first: a statistically supported worsening against the
    previous year, or against the base year (the ``changes`` table); a statistically
    supported worsening trend (Mann–Kendall); a level worse than the national NTU level
    where the kommun's 95 % confidence interval excludes it (NTU's own sampling error,
    from ~200 000 respondents, is neglected); the worst level of the kommun's own
    series. Every number in ``sentence`` is taken from ``estimates`` (years too); NTU
    figures stay in their own columns with their source. Suppressed estimates are
    never used. ``sentence`` says "statistiskt säkerställd" exactly when
    ``significant`` is true.
    """
    if findings is None:
        findings = _underlag_findings(estimates, changes, indicators, kommun)
    return _underlag_years(
        estimates,
        findings,
        indicators=indicators,
        ntu=ntu,
        kommun=kommun,
        years=[year],
        group_vars=group_vars,
        min_history=min_history,
    )


def _underlag_years(
    estimates: pd.DataFrame,
    findings: pd.DataFrame,
    *,
    indicators: pd.DataFrame,
    ntu: pd.DataFrame | None,
    kommun: str,
    years: Sequence[int],
    group_vars: Sequence[str],
    min_history: int,
) -> pd.DataFrame:
    """:func:`underlag` for several years at once (each year ranked on its own): one
    kommun's call of :func:`_underlag_batch`."""
    return _underlag_batch(
        estimates,
        findings,
        indicators=indicators,
        ntu=ntu,
        jobs=[(kommun, years)],
        group_vars=group_vars,
        min_history=min_history,
    )


def _underlag_batch(
    estimates: pd.DataFrame,
    findings: pd.DataFrame,
    *,
    indicators: pd.DataFrame,
    ntu: pd.DataFrame | None,
    jobs: Sequence[tuple[str, Sequence[int]]],
    group_vars: Sequence[str],
    min_history: int,
) -> pd.DataFrame:
    """:func:`underlag` of several kommuner and years in one call: ``jobs`` is
    ``(kommun, years)`` pairs, the rows come out by job, then year, each kommun and year
    ranked on its own, exactly as one call per kommun would give them.

    The estimates and findings of every kommun are split into domains once, and each
    year looks at a domain's series up to that year; ``build`` writes the underlag of
    every survey year this way, for every kommun in one call (:func:`underlag_of`).
    """
    table = _indicator_table(indicators)
    ind = table.to_dict("index")
    order = {f: i for i, f in enumerate(dict.fromkeys(table["focus_area"].dropna()))}
    names = list(dict.fromkeys(k for k, _ in jobs))
    est = _kommuner(estimates, names)
    est = est[
        est["group_var"].isin(group_vars)
        & ~est["suppressed"].astype(bool)
        & est["estimate"].notna()
    ]
    # a domain's years ascending, as plain arrays (a stable sort: each kommun's rows in
    # the order of its own table)
    est = est.sort_values("year", kind="stable")
    est_years = est["year"].to_numpy(dtype="int64")
    cols = {c: est[c].to_numpy(dtype="float64") for c in ("estimate", "ci_low", "ci_high", "se")}
    domains: dict[str, list] = {k: [] for k in names}
    for (kommun, *key), at in est.groupby(
        ["kommun", "indicator", "group_var", "group"], sort=False
    ).indices.items():
        domains[kommun].append((tuple(key), at))
    # the findings rows of every job's years read once, as tuples, in the table's order
    fnd = _kommuner(findings, names)
    fnd_rows = fnd.groupby(["kommun", "year"], sort=False).indices if len(fnd) else {}
    wanted = [fnd_rows.get((k, y), np.arange(0)) for k, years in jobs for y in years]
    taken = fnd.take(np.concatenate(wanted)) if wanted and len(fnd) else fnd.iloc[0:0]
    tuples = list(row_tuples(taken))
    worse_trend = _worsening_wastewater(taken)
    ntu_of: dict[str, pd.DataFrame] = {}
    rows = []
    start = 0
    for job, (kommun, years) in enumerate(jobs):
        for year in years:
            here = range(start, start + len(fnd_rows.get((kommun, year), ())))
            start = here.stop
            by_domain: dict[tuple, list] = {}
            for i in here:
                r = tuples[i]
                by_domain.setdefault((r.indicator, r.group_var, r.group, r.source), []).append(r)
            for (indicator, group_var, group), every in domains[kommun]:
                info = ind.get(indicator)
                if info is None:
                    continue
                at = every[est_years[every] <= year]
                if not len(at) or est_years[at[-1]] != year:
                    continue
                series = dict(zip(est_years[at], cols["estimate"][at], strict=True))
                last = {c: v[at[-1]] for c, v in cols.items()}
                domain = _Domain(
                    indicator=indicator,
                    group_var=group_var,
                    group=group,
                    kind="mean" if info["kind"] == "mean" else "proportion",
                    worse_up=info["direction"] != "higher_is_better",
                    subject=_SUBJECTS.get(indicator, f"Indikatorn ”{info['label']}”"),
                    where=where_phrase(group_var, group),
                    year=year,
                    series=series,
                )
                found = _adverse_findings(
                    by_domain.get((indicator, group_var, group, Source.SURVEY), [])
                )
                ntu_row = None
                ntu_id = info.get("ntu_id")
                if group_var == "total" and isinstance(ntu_id, str) and ntu_id and ntu is not None:
                    if ntu_id not in ntu_of:
                        ntu_of[ntu_id] = ntu[ntu["indicator"] == ntu_id].sort_values("year")
                    n = ntu_of[ntu_id]
                    n = n[n["year"] <= year]
                    if len(n):
                        ntu_row = n.iloc[-1]
                        found += _ntu_finding(domain, last, float(ntu_row["percent"]) / 100)
                found += _history_finding(domain, min_history)
                if not found:
                    continue
                found.sort(key=lambda x: (x["prio"], -x["score"], -abs(np.nan_to_num(x["change"]))))
                best = found[0]
                rows.append(
                    {
                        "kommun": kommun,
                        "year": year,
                        "focus_area": info["focus_area"],
                        "indicator": indicator,
                        "label": info["label"],
                        "group_var": group_var,
                        "group": group,
                        "kind": domain.kind,
                        "desired_direction": "minska" if domain.worse_up else "öka",
                        "reason": best["reason"],
                        "reasons": "; ".join(dict.fromkeys(x["reason"] for x in found)),
                        "latest_year": year,
                        "latest_value": series[year],
                        "compare_year": best["compare_year"],
                        "compare_value": best["compare_value"],
                        "change": best["change"],
                        "significant": best["significant"],
                        "ntu_year": np.nan if ntu_row is None else int(ntu_row["year"]),
                        "ntu_percent": np.nan if ntu_row is None else float(ntu_row["percent"]),
                        "ntu_source": None if ntu_row is None else str(ntu_row["source"]),
                        "score": best["score"],
                        "q_value": best.get("q_value", np.nan),
                        "sentence": best["sentence"],
                        "_prio": best["prio"],
                        "_job": job,
                    }
                )
            for r in _wastewater_rows([tuples[i] for i in here if worse_trend[i]], kommun, year):
                rows.append(r | {"_job": job})
    if not rows:
        return _frame([], table_columns("underlag"))
    out = pd.DataFrame(rows)
    gv_order = {g: i for i, g in enumerate(_GROUP_VARS)}
    out = out.assign(
        _fa=out["focus_area"].map(order).fillna(len(order)),
        _gv=out["group_var"].map(gv_order).fillna(len(gv_order)),
        _effect=out["change"].abs().fillna(0.0),
    )
    # strength of evidence: reason, q-value, then the size of the change (end points);
    # per job (kommun) and year
    evidence = ["_job", "year", "_prio", "q_value", "_effect", "score", "_gv", "indicator", "group"]
    up = [True, True, True, True, False, False, True, True, True]
    out = out.sort_values(evidence, ascending=up, kind="stable", na_position="last")
    out["evidence_rank"] = out.groupby(["_job", "year"], sort=False).cumcount() + 1
    out = out.sort_values(["_job", "year", "_fa", "evidence_rank"], kind="stable")
    out["rank"] = out.groupby(["_job", "year", "focus_area"], sort=False).cumcount() + 1
    return (
        out[table_columns("underlag")]
        .reset_index(drop=True)
        .astype(
            {
                "significant": "bool",
                "compare_year": "Int64",
                "ntu_year": "Int64",
                "latest_year": "int64",
                "rank": "int64",
                "evidence_rank": "int64",
                "q_value": "float64",
                "ntu_source": "str",
            }
        )
    )


def _kommuner(frame: pd.DataFrame | None, names: Sequence[str]) -> pd.DataFrame:
    """The rows of these kommuner (:func:`_kommun` of several), in the table's order."""
    if frame is None or frame.empty or "kommun" not in frame:
        return pd.DataFrame() if frame is None else frame.iloc[0:0]
    if len(names) == 1:
        return frame[frame["kommun"] == names[0]]
    return frame[frame["kommun"].isin(names)]


def empty_underlag() -> pd.DataFrame:
    """The ``underlag`` table without rows, as :func:`underlag_by_year` gives it."""
    return _frame([], table_columns("underlag"))


def underlag_of(
    estimates: pd.DataFrame,
    findings: pd.DataFrame,
    *,
    indicators: pd.DataFrame,
    ntu: pd.DataFrame,
    jobs: Sequence[tuple[str, Sequence[int]]],
) -> pd.DataFrame:
    """:func:`underlag_by_year` of several kommuner in one call (issue 16): ``jobs`` is
    ``(kommun, years)`` pairs, the kommuner sharing ``indicators``; the rows come out by
    job and are, for each kommun, exactly those of ``underlag_by_year(..., kommun=k,
    findings=findings, years=years)``.

    Every kommun must have estimates, changes and findings (``underlag_by_year`` gives
    an empty table without the first two and builds its own findings without the
    third: call it for such a kommun). ``years`` are those of the kommun's estimates.
    """
    est = _kommuner(estimates, list(dict.fromkeys(k for k, _ in jobs)))
    est = est.assign(group=est["group"].astype(str))
    return _underlag_batch(
        est,
        findings,
        indicators=indicators,
        ntu=ntu,
        jobs=[(k, sorted(int(y) for y in years)) for k, years in jobs],
        group_vars=("total", "stratum"),
        min_history=5,
    )


def underlag_by_year(
    estimates: pd.DataFrame,
    changes: pd.DataFrame,
    *,
    indicators: pd.DataFrame,
    ntu: pd.DataFrame,
    kommun: str,
    findings: pd.DataFrame | None = None,
    years: Sequence[int] | None = None,
) -> pd.DataFrame:
    """The underlag of one kommun for every survey year: the ``underlag`` table of ``build``.

    Each year's rows are :func:`underlag` for that year, so that a report for any year
    (``report --year``) reads its underlag instead of computing it.

    Parameters
    ----------
    estimates, changes
        The survey tables (any kommuner; only ``kommun``'s rows are used).
    indicators, ntu, findings
        As for :func:`underlag`.
    kommun
        Whose underlag.
    years
        Only these survey years (default: every year). A year's rows rest on the
        estimates up to that year and the findings of that year only, so a build keeps
        earlier years' rows and computes a new year alone (``pipeline.underlag_stage``).

    Returns
    -------
    DataFrame with the columns of :func:`underlag`, the years ascending; empty (with the
    columns) when the kommun has no estimates or no changes.
    """
    est = _kommun(estimates, kommun)
    chg = _kommun(changes, kommun)
    if est.empty or chg.empty:
        return _frame([], table_columns("underlag"))
    est = est.assign(group=est["group"].astype(str))
    fnd = _kommun(findings, kommun) if findings is not None else pd.DataFrame()
    if fnd.empty:
        fnd = _underlag_findings(est, chg, indicators, kommun)
    return _underlag_years(
        est,
        fnd,
        indicators=indicators,
        ntu=ntu,
        kommun=kommun,
        years=sorted(int(y) for y in est["year"].unique() if years is None or int(y) in set(years)),
        group_vars=("total", "stratum"),
        min_history=5,
    )


def _underlag_findings(estimates, changes, indicators, kommun) -> pd.DataFrame:
    """Findings built once for a caller that has none (the base year from ``changes``)."""
    from ..stats.findings import build_findings

    chg = _kommun(changes, kommun)
    base = (
        chg.loc[chg["comparison"] == Comparison.BASE_YEAR, "year_from"]
        if len(chg)
        else pd.Series([])
    )
    return build_findings(
        kommun=kommun,
        estimates=_kommun(estimates, kommun),
        changes=chg,
        indicators=indicators,
        base_year=int(base.mode().iloc[0]) if len(base) else None,
    )


def _worsening_wastewater(fnd: pd.DataFrame) -> np.ndarray:
    """Which findings rows are a wastewater trend that worsened (q < 0.05)."""
    if fnd.empty:
        return np.zeros(len(fnd), dtype=bool)
    return (
        (fnd["source"] == Source.WASTEWATER) & fnd["significant"] & (fnd["direction"] == "sämre")
    ).to_numpy(dtype=bool)


def _wastewater_rows(ww: Iterable, kommun: str, year: int) -> list[dict]:
    """Substances whose trend over the campaigns worsened (q < 0.05), under Trygghet: the
    underlag rows of the findings rows (``itertuples``) :func:`_worsening_wastewater`
    picks."""
    rows = []
    for r in ww:
        name = "MDMA" if r.indicator == "mdma" else str(r.indicator).capitalize()
        rows.append(
            {
                "kommun": kommun, "year": year, "focus_area": "Trygghet",
                "indicator": r.indicator, "label": f"{name} i avloppsvattnet",
                "group_var": r.group_var, "group": r.group, "kind": "mean",
                "desired_direction": "minska",
                "reason": "säkerställd försämrande trend i avloppsvattnet",
                "reasons": "säkerställd försämrande trend i avloppsvattnet",
                "latest_year": year, "latest_value": float(r.value_to),
                "compare_year": int(r.from_year), "compare_value": float(r.value_from),
                "change": float(r.value_to) - float(r.value_from), "significant": True,
                "ntu_year": np.nan, "ntu_percent": np.nan, "ntu_source": None,
                "score": 1.0 - float(r.q_value), "q_value": float(r.q_value),
                "sentence": r.sentence, "_prio": 0,
            }
        )  # fmt: skip
    return rows


# --------------------------------------------------------------------------- draft register
def suggest(rows: pd.DataFrame) -> tuple[str, str]:
    """``behåll``, ``justera`` or ``avsluta`` for one commitment, and why.

    Parameters
    ----------
    rows
        The commitment's rows of :func:`follow_up`.

    Returns
    -------
    (forslag, motivering)

    Notes
    -----
    Rules (docs/medborgarloften.md), first match wins: nothing measurable (no activity
    target and no outcome that can be judged) → ``avsluta``; utfall ``försämrad`` →
    ``justera``; genomförande ``ej uppnått`` → ``justera``; otherwise ``behåll``. The
    motivering quotes the findings sentences of the outcome indicators that moved, the
    genomförande and the effect estimate when there is one.
    """
    return _suggest(rows.to_dict("records"))


def _missing_as_one(x: object) -> object:
    """A value as ``drop_duplicates`` compares it: every missing value (None, NaN, NA) alike."""
    return None if x is None or (not isinstance(x, str) and pd.isna(x)) else x


def _suggest(records: list[dict]) -> tuple[str, str]:
    """:func:`suggest` on the commitment's rows as records (``to_dict("records")``), in
    plain Python: each survey or wastewater indicator once (its first row, as
    ``drop_duplicates`` keeps it), then the rules of :func:`suggest`."""
    first = records[0]
    impl, outcome = str(first["implementation"]), str(first["commitment_status"])
    seen: set[tuple] = set()
    outcomes = []
    for r in records:
        if r["indicator_kind"] not in (Source.SURVEY, Source.WASTEWATER):
            continue
        once = tuple(_missing_as_one(r[c]) for c in ("indicator", "group_var", "group"))
        if once not in seen:
            seen.add(once)
            outcomes.append(r)
    worse = [str(r["sentence"]) for r in outcomes if r["status"] == "försämrad"]
    better = [str(r["sentence"]) for r in outcomes if r["status"] == "förbättrad"]
    done = f"Genomförande {impl}" + (
        f" ({first['activities_delivered']})." if first["activities_delivered"] else "."
    )
    effect = first.get("effect")
    effect = f" {effect}" if isinstance(effect, str) and effect else ""
    if outcome == "otillräckligt underlag" and impl == "inget mål angivet":
        return "avsluta", (
            "Löftet har varken ett mål för aktiviteterna eller en indikator som går att "
            "följa upp: avsluta det eller formulera om det med mätbara mål."
        )
    if outcome == "försämrad":
        return "justera", " ".join(["Utfallet har försämrats.", *worse, done]) + effect
    if impl == "ej uppnått":
        return "justera", " ".join(["Aktiviteterna genomfördes inte.", *better, done]) + effect
    if outcome == "förbättrad":
        return "behåll", " ".join(["Utfallet har förbättrats.", *better, done]) + effect
    return "behåll", (
        f"Inga statistiskt säkerställda förändringar i löftets indikatorer ännu. {done}{effect}"
    )


def draft_register(
    registers: Sequence[Register],
    underlag: pd.DataFrame,
    *,
    year: int,
    kommun: str | None = None,
    max_proposals: int = 2,
    followup: pd.DataFrame | None = None,
) -> dict:
    """A draft register for ``year + 1``, for the council to edit.

    The latest register up to ``year`` is carried over (its commitments as continued
    ones); for each focus area of the underlag, up to ``max_proposals`` of the highest
    ranked indicators that no continued commitment already follows become proposed
    commitments (``forslag: true``) whose text the council writes.

    Parameters
    ----------
    registers
        Registers; only those of ``kommun`` are used.
    underlag
        From :func:`underlag`.
    year
        The year the underlag is for; the draft is for ``year + 1``.
    kommun
        Whose draft; default the kommun of ``underlag``.
    max_proposals
        Proposed commitments per focus area.
    followup
        From :func:`follow_up`: each continued commitment then carries
        ``forslag: behåll | justera | avsluta`` and a ``motivering`` quoting the
        findings (rules in :func:`suggest`).

    Returns
    -------
    dict with the register keys (``utkast: true``, ``signed: None``), ready for
    :func:`dump_register`; it loads with :func:`load_register`.
    """
    return _draft_register(
        registers,
        underlag,
        year=year,
        kommun=kommun,
        max_proposals=max_proposals,
        said=_Suggestions(followup),
    )


#: The follow-up columns :func:`suggest` reads (with ``commitment_id``, which picks the rows).
SUGGEST_COLUMNS = ("commitment_id", "implementation", "commitment_status", "indicator_kind",
                   "indicator", "group_var", "group", "status", "sentence",
                   "activities_delivered", "effect")  # fmt: skip


def suggest_inputs(
    current: Sequence[Register], followup: pd.DataFrame | None
) -> pd.DataFrame | None:
    """What a draft year of :func:`draft_table` reads of the follow-up, given the
    register in force (``current``, from :func:`current_registers`): the rows of that
    register's commitments in :data:`SUGGEST_COLUMNS`, in order (None when the draft
    reads no follow-up: none given, or no single register in force). A build keys each
    year's draft on this, the register and the year's underlag rows
    (``pipeline._cached_draft``)."""
    if len(current) != 1 or followup is None or not len(followup):
        return None
    reg = current[0]
    mine = _kommun(followup, reg.kommun) if _has_kommun(followup) else followup
    ids = [c.id for c in reg.commitments]
    cols = [c for c in SUGGEST_COLUMNS if c in mine.columns]
    return mine.loc[mine["commitment_id"].isin(ids), cols]


class _Suggestions:
    """:func:`suggest` for each commitment of a follow-up table, made once: the table is
    split by kommun and commitment once, and a commitment's suggestion (the same in every
    draft year, as it rests on the follow-up only) is kept for the next draft year."""

    def __init__(self, followup: pd.DataFrame | None):
        self.followup = followup
        self._split: dict[str, dict[str, list[dict]]] = {}
        self._said: dict[tuple[str, str], tuple[str, str] | None] = {}

    def __bool__(self) -> bool:
        return self.followup is not None and len(self.followup) > 0

    def of(self, kommun: str, commitment_id: str) -> tuple[str, str] | None:
        """``(forslag, motivering)`` of one commitment; None when it has no follow-up rows."""
        key = (kommun, commitment_id)
        if key not in self._said:
            if kommun not in self._split:
                fu = self.followup
                mine = _kommun(fu, kommun) if _has_kommun(fu) else fu
                split: dict[str, list[dict]] = {}
                for r in records(mine):  # in the table's order
                    split.setdefault(r["commitment_id"], []).append(r)
                self._split[kommun] = split
            rows = self._split[kommun].get(commitment_id)
            self._said[key] = None if not rows else _suggest(rows)
        return self._said[key]


def _draft_register(
    registers: Sequence[Register],
    underlag: pd.DataFrame,
    *,
    year: int,
    kommun: str | None,
    max_proposals: int,
    said: _Suggestions,
    groups: list[tuple[str, list]] | None = None,
) -> dict:
    """:func:`draft_register`, the suggestions taken from ``said`` and, when given, the
    proposal candidates from ``groups`` (:func:`_proposal_groups` of ``underlag``)."""
    if kommun is None and len(underlag):
        kommun = str(underlag["kommun"].iloc[0])
    pool = [r for r in registers if kommun is None or r.kommun == kommun]
    current = current_registers(pool, year)
    if len(current) != 1:
        found = ", ".join(r.kommun for r in current) or "inget"
        raise DataError(
            f"ett medborgarlöfte för år {year} eller tidigare för en kommun (fanns: {found})",
            value=kommun,
        )
    reg = current[0]
    doc = reg.to_dict()
    doc["year"] = year + 1
    doc["utkast"] = True
    doc["signed"] = None
    keys = ("kommun", "year", "exempel", "utkast", "signed", "signatories", "focus_areas")
    doc = {k: doc[k] for k in (*keys, "commitments") if k in doc}
    if said:
        carried = []
        for c in doc["commitments"]:
            rest = {k: v for k, v in c.items() if k not in ("id", "forslag", "motivering")}
            made = said.of(reg.kommun, c["id"])
            if made is None:
                carried.append(c)
                continue
            suggestion, motivation = made
            carried.append({"id": c["id"], "forslag": suggestion, "motivering": motivation, **rest})
        doc["commitments"] = carried
    followed = {(i.id, i.group_var, i.group) for c in reg.commitments for i in c.indicators}
    followed |= {(i.id, "reningsverk") for c in reg.commitments for i in c.indicators}
    areas = list(doc["focus_areas"])
    proposals = []
    n = 0
    for area, g in _proposal_groups(underlag) if groups is None else groups:
        picked = 0
        for r in g:
            seen = (r.indicator, r.group_var, r.group) in followed or (
                (r.indicator, r.group_var) in followed
            )
            if picked >= max_proposals or seen:
                continue
            n += 1
            picked += 1
            if area not in areas:
                areas.append(area)
            link = {"id": r.indicator, "direction": r.desired_direction}
            if r.group_var not in ("total", "reningsverk"):
                link.update(group_var=r.group_var, group=r.group)
            proposals.append(
                {
                    "id": f"F{n}",
                    "forslag": True,
                    "motivering": str(r.sentence),
                    "focus_area": area,
                    "text": f"FÖRSLAG (rådet formulerar löftet): {r.sentence}",
                    "responsible": "båda",
                    "activities": [],
                    "indicators": [link],
                }
            )
    doc["focus_areas"] = areas
    doc["commitments"] = doc["commitments"] + proposals
    return doc


def _proposal_groups(underlag: pd.DataFrame) -> list[tuple[str, list]]:
    """The significant rows of one year's underlag as proposal candidates: per focus area
    (in order of first appearance after the sort), the rows (``itertuples``) by
    ``evidence_rank`` (else ``rank``)."""
    order = "evidence_rank" if "evidence_rank" in underlag.columns else "rank"
    strong = underlag[underlag["significant"].astype(bool)] if len(underlag) else underlag
    return [
        (area, list(g.itertuples()))
        for area, g in strong.sort_values(order).groupby("focus_area", sort=False)
    ]


class _YearProposals:
    """:func:`_proposal_groups` of each year of one kommun's underlag (every year), the
    table read once into rows instead of a take, a sort and a grouping per year.

    Exactly :func:`_proposal_groups` of the year's rows: the significant rows sorted by
    ``evidence_rank`` (unique within a year, so any sort gives the one order) and grouped
    by focus area in order of first appearance, rows without a focus area left out as
    ``groupby`` leaves them. A table without ``evidence_rank``, or with a year whose
    ranks repeat, is given to :func:`_proposal_groups` itself."""

    def __init__(self, underlag: pd.DataFrame, at: Mapping[int, np.ndarray]):
        self.underlag = underlag
        self.at = at
        self.fast = "evidence_rank" in underlag.columns and len(underlag) > 0
        if self.fast:
            self.rows = list(row_tuples(underlag, index=True))
            self.strong = underlag["significant"].astype(bool).to_numpy()
            self.rank = underlag["evidence_rank"].to_numpy()
            self.area = underlag["focus_area"].to_numpy(dtype=object)

    def of(self, year: int) -> list[tuple[str, list]]:
        idx = self.at[year]
        if self.fast:
            idx = idx[self.strong[idx]]
            ranks = self.rank[idx]
            if len(np.unique(ranks)) == len(ranks):
                groups: dict = {}
                for i in idx[np.argsort(ranks, kind="stable")]:
                    area = self.area[i]
                    if not pd.isna(area):
                        groups.setdefault(area, []).append(self.rows[i])
                return list(groups.items())
        return _proposal_groups(self.underlag.take(self.at[year]).reset_index(drop=True))


def registers_table(registers: Sequence[Register], *, kommun: str) -> pd.DataFrame:
    """One row per register of ``kommun`` (``commitment_registers``): what the report needs
    of the registers besides the draft (commitment periods, base year, whether the kommun
    has a medborgarlöfte), so that it reads ``processed/`` only.

    Returns
    -------
    DataFrame with columns ``kommun, year, draft, example, n_commitments``, by year.
    """
    rows = [
        {
            "kommun": kommun,
            "year": int(r.year),
            "draft": bool(r.draft),
            "example": bool(r.example),
            "n_commitments": len(r.commitments),
        }
        for r in sorted(registers, key=lambda r: r.year)
    ]
    out = _frame(rows, table_columns("commitment_registers"))
    types = {"year": "int64", "draft": "bool", "example": "bool", "n_commitments": "int64"}
    return out.astype({"kommun": "str", **types})


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def draft_table(
    registers: Sequence[Register],
    underlag: pd.DataFrame,
    *,
    kommun: str,
    followup: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """:func:`draft_register` for every year of ``underlag`` (``commitment_draft``).

    The report writes ``medborgarlofte_<YEAR+1>_utkast.yml`` from these rows
    (:func:`draft_document`) and computes nothing; ``build`` makes them.

    Parameters
    ----------
    registers
        The kommun's registers (none: no rows).
    underlag
        The kommun's ``underlag`` table, every year (``year`` column).
    kommun
        Whose drafts.
    followup
        The kommun's ``commitment_followup`` (see :func:`draft_register`).

    Returns
    -------
    DataFrame
        Per underlag year (``year``, the draft being for ``year + 1``): one row per
        commitment of the draft, in its order; the register's ``example``, ``signatories``
        and ``focus_areas`` repeated on each row; nested lists (``signatories``,
        ``focus_areas``, ``activities``, ``indicators``) as JSON text. A draft without
        commitments is one row with empty commitment columns; a draft that cannot be made
        is one row whose ``reason`` says why (the message of the ``DataError``), so that
        nothing is dropped without a word.
    """
    columns = table_columns("commitment_draft")
    rows: list[dict] = []
    if registers and underlag is not None and len(underlag):
        said = _Suggestions(followup)  # each commitment's suggestion made once, for every year
        at = underlag.groupby(underlag["year"].astype(int), sort=True).indices
        proposals = _YearProposals(underlag, at)
        pool = [r for r in registers if r.kommun == kommun]
        for year in sorted(int(y) for y in at):
            # a year without a register in force is refused before its underlag is read
            in_force = current_registers(pool, year)
            try:
                doc = _draft_register(
                    registers,
                    underlag[:0],
                    year=year,
                    kommun=kommun,
                    max_proposals=2,
                    said=said,
                    groups=proposals.of(year) if in_force else [],
                )
            except TrygghetError as exc:
                rows.append({"kommun": kommun, "year": year, "proposal": False, "example": False,
                             "reason": str(exc)})  # fmt: skip
                continue
            rows += _draft_rows(doc, kommun=kommun, year=year)
    out = _frame(rows, columns)
    types = {c: "str" for c in columns if c not in ("year", "example", "proposal")}
    return out.astype({**types, "year": "int64", "example": "bool", "proposal": "bool"})


_DRAFT_KEYS = ("id", "forslag", "motivering", "focus_area", "text", "responsible",
               "activities", "indicators")  # fmt: skip


def _draft_rows(doc: dict, *, kommun: str, year: int) -> list[dict]:
    """The rows of one draft (see :func:`draft_table`)."""
    base = {
        "kommun": kommun,
        "year": year,
        "example": bool(doc.get("exempel", False)),
        "signatories": _json(doc["signatories"]),
        "focus_areas": _json(doc["focus_areas"]),
        "proposal": False,
    }
    rows = []
    for c in doc["commitments"]:
        unknown = set(c) - set(_DRAFT_KEYS)
        if unknown:
            raise ValueError(f"a draft commitment has keys the table has no column for: {unknown}")
        forslag = c.get("forslag")
        rows.append(
            {
                **base,
                "commitment_id": str(c["id"]),
                "proposal": forslag is True,
                "suggestion": forslag if isinstance(forslag, str) else None,
                "motivation": c.get("motivering"),
                "focus_area": c["focus_area"],
                "text": c["text"],
                "responsible": c["responsible"],
                "activities": _json(c["activities"]),
                "indicators": _json(c["indicators"]),
            }
        )
    return rows or [base]


def draft_document(rows: pd.DataFrame) -> dict:
    """The draft register of one kommun and year from its ``commitment_draft`` rows: the
    dict :func:`draft_register` made, ready for
    :func:`~trygghet_analys.files.registers.dump_register` (formatting only).

    Raises
    ------
    ValueError
        ``rows`` is empty, holds more than one draft, or the draft could not be made
        (its ``reason`` is then the message).
    """
    if rows.empty or rows[["kommun", "year"]].drop_duplicates().shape[0] != 1:
        raise ValueError("draft_document needs the rows of exactly one kommun and year")
    first = rows.iloc[0]
    if isinstance(first["reason"], str):
        raise ValueError(first["reason"])
    doc: dict = {"kommun": str(first["kommun"]), "year": int(first["year"]) + 1}
    if bool(first["example"]):
        doc["exempel"] = True
    doc["utkast"] = True
    doc["signed"] = None
    doc["signatories"] = json.loads(first["signatories"])
    doc["focus_areas"] = json.loads(first["focus_areas"])
    commitments = []
    for r in rows.to_dict("records"):
        if not isinstance(r["commitment_id"], str):  # a draft without commitments
            continue
        c: dict = {"id": r["commitment_id"]}
        if bool(r["proposal"]):
            c["forslag"] = True
        elif isinstance(r["suggestion"], str):
            c["forslag"] = r["suggestion"]
        if isinstance(r["motivation"], str):
            c["motivering"] = r["motivation"]
        c["focus_area"] = r["focus_area"]
        c["text"] = r["text"]
        c["responsible"] = r["responsible"]
        c["activities"] = json.loads(r["activities"])
        c["indicators"] = json.loads(r["indicators"])
        commitments.append(c)
    doc["commitments"] = commitments
    return doc


# --------------------------------------------------------------------------- schemas
def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    out = pd.DataFrame(rows)
    for c in columns:
        if c not in out:
            out[c] = None
    return out[columns]
