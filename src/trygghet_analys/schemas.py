"""Contracts as code: one pandera schema per processed table.

Every table ``build`` writes to ``data/processed/<name>.parquet`` has its schema in
:func:`processed_schemas`, and ``build`` validates every table before writing anything
(:func:`validate_table`); a table without a schema is a programming error. Every schema
is defined here, and the computations take their column lists from here
(:data:`LOAD_COLUMNS`, :func:`table_columns`), so a contract changes in one place.
``CONTRIBUTING.md``'s contract section is checked against these schemas by
``tests/test_contracts.py``.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import pandas as pd

from ._lazy import lazy
from .errors import DataError
from .vocabulary import Comparison, Source

if TYPE_CHECKING:
    import pandera.pandas as pa
else:
    # pandera takes 0,1-0,2 s to import and is needed only when a schema is built
    # (``build``); a report imports this module for column lists and draft rows only.
    pa = lazy("pandera.pandas")

__all__ = [
    "CAMPAIGN_COLUMNS",
    "CONSUMPTION_COLUMNS",
    "DETECTABLE_COLUMNS",
    "LOAD_COLUMNS",
    "PROCESSED_TABLES",
    "WASTEWATER_TREND_COLUMNS",
    "processed_schemas",
    "table_columns",
    "validate_table",
    "wastewater_dtypes",
]

#: Every processed table, in the order ``CONTRIBUTING.md`` describes them.
PROCESSED_TABLES: tuple[str, ...] = (
    "survey_responses",
    "survey_strata",
    "survey_breaks",
    "ledger",
    "survey_estimates",
    "survey_changes",
    "survey_trends",
    "survey_response_rates",
    "survey_indicators",
    "findings",
    "wastewater_loads",
    "wastewater_campaigns",
    "wastewater_trends",
    "wastewater_consumption",
    "wastewater_detectable",
    "wastewater_euda",
    "commitment_followup",
    "commitment_indicators",
    "underlag",
    "commitment_registers",
    "commitment_draft",
)

_GROUP_VARS = ("total", "stratum", "sex", "age_group")
_TREND_DIRECTIONS = ("ökande", "minskande", "ingen säkerställd trend")

LOAD_COLUMNS = [
    "kommun",
    "plant",
    "campaign",
    "date",
    "weekday",
    "substance",
    "metabolite",
    "concentration_ng_l",
    "loq_ng_l",
    "below_loq",
    "flow_m3_day",
    "population",
    "load_mg_day",
    "load_mg_day_1000",
    "flags",
    "excluded",
]
#: A campaign's key: one row per kommun, plant, campaign and substance.
_CAMPAIGN_KEY = ["kommun", "plant", "year", "campaign", "substance", "metabolite"]
CAMPAIGN_COLUMNS = [
    *_CAMPAIGN_KEY,
    "daily_mean",
    "weekday_mean",
    "weekend_mean",
    "n_days",
    "n_below_loq",
    "date_from",
    "date_to",
    "n_excluded",
    "daily_mean_low",
    "daily_mean_high",
]
WASTEWATER_TREND_COLUMNS = [
    "kommun",
    "plant",
    "substance",
    "metabolite",
    "year_from",
    "year_to",
    "n_campaigns",
    "slope",
    "tau",
    "p_value",
    "significant",
    "direction",
]
CONSUMPTION_COLUMNS = [
    *_CAMPAIGN_KEY,
    "daily_mean",
    "correction_factor",
    "consumption_mg_day_1000",
    "dose_mg",
    "doses_day_1000",
    "source",
    "consumption_low",
    "consumption_high",
]

#: ``wastewater_detectable``: the year-to-year change the sampling plan detects
#: (:func:`trygghet_analys.wastewater.campaigns.detectable_changes`).
DETECTABLE_COLUMNS = [
    "kommun",
    "year",
    "n_campaigns_per_year",
    "cv_between_campaigns",
    "increase",
    "decrease",
]


#: Every column of the ``wastewater_*`` tables: dtype, the rule its values keep
#: (``≥0``, ``>0``, ``1–31`` days, ``0–1`` p-value, ``±1`` Kendall's tau, ``direction``)
#: and whether it may be missing.
_WASTEWATER_COLUMN_TYPES: dict[str, tuple[str, str, bool]] = {
    "kommun": ("str", "", False),
    "plant": ("str", "", False),
    "year": ("int64", "", False),
    "campaign": ("str", "", False),
    "date": ("datetime64[us]", "", False),
    "weekday": ("str", "", False),
    "substance": ("str", "", False),
    "metabolite": ("str", "", True),
    "concentration_ng_l": ("float64", "≥0", False),
    "loq_ng_l": ("float64", "≥0", True),
    "below_loq": ("bool", "", False),
    "flow_m3_day": ("float64", "≥0", False),
    "population": ("int64", ">0", False),
    "load_mg_day": ("float64", "≥0", False),
    "load_mg_day_1000": ("float64", "≥0", False),
    "flags": ("str", "", False),
    "excluded": ("bool", "", False),
    "daily_mean": ("float64", "≥0", False),
    "weekday_mean": ("float64", "≥0", True),
    "weekend_mean": ("float64", "≥0", True),
    "n_days": ("int64", "1–31", False),
    "n_below_loq": ("int64", "≥0", False),
    "date_from": ("datetime64[us]", "", False),
    "date_to": ("datetime64[us]", "", False),
    "n_excluded": ("int64", "≥0", False),
    "daily_mean_low": ("float64", "", True),
    "daily_mean_high": ("float64", "", True),
    "year_from": ("int64", "", False),
    "year_to": ("int64", "", False),
    "n_campaigns": ("int64", "", False),
    "slope": ("float64", "", True),
    "tau": ("float64", "±1", True),
    "p_value": ("float64", "0–1", True),
    "significant": ("bool", "", False),
    "direction": ("str", "direction", False),
    "correction_factor": ("float64", "≥0", False),
    "consumption_mg_day_1000": ("float64", "≥0", False),
    "dose_mg": ("float64", "≥0", False),
    "doses_day_1000": ("float64", "≥0", False),
    "source": ("str", "", False),
    "consumption_low": ("float64", "", True),
    "consumption_high": ("float64", "", True),
    "n_campaigns_per_year": ("int64", "≥2", False),
    "cv_between_campaigns": ("float64", ">0", False),
    "increase": ("float64", ">0", False),
    "decrease": ("float64", "0–1", False),
}


def wastewater_dtypes(cols: list[str]) -> dict[str, str]:
    """Column → dtype of the ``wastewater_*`` tables' columns ``cols`` (their contract).

    Examples
    --------
    >>> wastewater_dtypes(["plant", "n_days", "daily_mean"])
    {'plant': 'str', 'n_days': 'int64', 'daily_mean': 'float64'}
    """
    return {c: _WASTEWATER_COLUMN_TYPES[c][0] for c in cols}


def _text(*checks: pa.Check, nullable: bool = False) -> pa.Column:
    return pa.Column("str", list(checks), nullable=nullable)


def _int(*checks: pa.Check) -> pa.Column:
    return pa.Column("int64", list(checks))


def _float(*checks: pa.Check, nullable: bool = True) -> pa.Column:
    return pa.Column("float64", list(checks), nullable=nullable)


def _schema(columns: dict[str, pa.Column], **kwargs: object) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(columns, strict=True, ordered=True, **kwargs)


def _survey_schemas() -> dict[str, pa.DataFrameSchema]:
    from .stats.findings import COMPARISONS, DIRECTIONS, SOURCES
    from .survey.ingest import RESPONSE_SCHEMA

    year = _int(pa.Check.in_range(1900, 2100))
    share = pa.Check.in_range(0, 1)
    probability = _float(share)
    group_var = _text(pa.Check.isin(_GROUP_VARS))
    series = {"kommun": _text(), "indicator": _text(), "group_var": group_var, "group": _text()}
    strata = {
        "kommun": _text(),
        "year": year,
        "stratum": _text(),
        "population": _int(pa.Check.gt(0)),
        "sampled": _int(pa.Check.ge(0)),
        "respondents": _int(pa.Check.ge(0)),
        "response_rate": _float(share),
    }
    return {
        "survey_responses": RESPONSE_SCHEMA,
        "survey_strata": _schema(strata, unique=["kommun", "year", "stratum"]),
        "survey_breaks": _schema(
            {"kommun": _text(), "variable": _text(), "year": year, "reason": _text()}
        ),
        "ledger": _schema(
            {
                "kommun": _text(),
                "source": _text(),
                "file": _text(),
                "sheet": _text(nullable=True),
                "row": _int(pa.Check.ge(1)),
                "rule": _text(),
                "detail": _text(),
            }
        ),
        "survey_estimates": _schema(
            {
                "kommun": _text(),
                "year": year,
                "indicator": _text(),
                "group_var": group_var,
                "group": _text(),
                "estimate": _float(),
                "se": _float(pa.Check.ge(0)),
                "ci_low": _float(),
                "ci_high": _float(),
                "n": _int(pa.Check.ge(0)),
                "suppressed": pa.Column("bool"),
            },
            checks=[
                pa.Check(
                    lambda d: ~d["suppressed"] | d["estimate"].isna(),
                    error="a suppressed row has no estimate",
                )
            ],
        ),
        "survey_changes": _schema(
            {
                **series,
                "comparison": _text(
                    pa.Check.isin([Comparison.PREVIOUS_YEAR.value, Comparison.BASE_YEAR.value])
                ),
                "year_from": year,
                "year_to": year,
                "estimate_from": _float(),
                "estimate_to": _float(),
                "change": _float(),
                "se_change": _float(pa.Check.ge(0)),
                "z": _float(),
                "p_value": probability,
                "significant": pa.Column("bool"),
            }
        ),
        "survey_trends": _schema(
            {
                **series,
                "year_from": year,
                "year_to": year,
                "n_years": _int(pa.Check.ge(2)),
                "slope": _float(),
                "tau": _float(pa.Check.in_range(-1, 1)),
                "p_value": probability,
                "significant": pa.Column("bool"),
                "direction": _text(pa.Check.isin(_TREND_DIRECTIONS)),
            }
        ),
        "survey_response_rates": _schema(
            {k: strata[k] for k in strata if k != "population"},
        ),
        "survey_indicators": _indicator_schema(),
        "findings": _schema(
            {
                "kommun": _text(),
                "year": year,
                "source": _text(pa.Check.isin(list(SOURCES))),
                "indicator": _text(),
                "group_var": _text(),
                "group": _text(),
                "comparison": _text(pa.Check.isin(list(COMPARISONS))),
                "from_year": year,
                "to_year": year,
                "value_from": _float(),
                "value_to": _float(),
                "change": _float(),
                "ci_low": _float(),
                "ci_high": _float(),
                "p_value": probability,
                "q_value": probability,
                "significant": pa.Column("bool"),
                "direction": _text(pa.Check.isin(list(DIRECTIONS))),
                "reliable": pa.Column("bool"),
                "sentence": _text(),
            }
        ),
    }


def _indicator_schema() -> pa.DataFrameSchema:
    """The indicator definitions each kommun's tables were estimated with: the columns of
    ``resources/indikatorer.csv`` (``id`` named ``indicator`` as in every other table)."""
    from .survey.indicators import INDICATOR_COLUMNS, allowed_values

    checked = {
        col: _text(pa.Check.isin(sorted(allowed_values(col))))
        for col in ("kind", "direction", "focus_area")
    }
    columns = {"kommun": _text(), "indicator": _text(pa.Check.str_matches(r"^[a-z][a-z0-9_]*$"))}
    for col in INDICATOR_COLUMNS[1:]:
        columns[col] = checked.get(col, _text())
    columns["label"] = _text(pa.Check.str_length(min_value=1))
    columns["own"] = pa.Column("bool")
    return _schema(columns, unique=["kommun", "indicator"])


def _euda_schema() -> pa.DataFrameSchema:
    from .wastewater.euda import KINDS

    return _schema(
        {
            "kommun": _text(),
            "year": _int(pa.Check.in_range(1900, 2100)),
            "metabolite": _text(),
            "city": _text(),
            "country": _text(nullable=True),
            "daily_mean": _float(pa.Check.ge(0)),
            "kind": _text(pa.Check.isin(list(KINDS))),
            "campaign": _text(nullable=True),
            "n_sites": _int(pa.Check.ge(1)),
            "season": _text(nullable=True),
            "season_matched": pa.Column("bool"),
            "population": _float(pa.Check.gt(0)),
            "rules": _text(),
        }
    )


def _underlag_schema() -> pa.DataFrameSchema:
    year = _int(pa.Check.in_range(1900, 2100))
    maybe_year = pa.Column("Int64", pa.Check.in_range(1900, 2100), nullable=True)
    rank = _int(pa.Check.ge(1))
    return _schema(
        {
            "kommun": _text(),
            "year": year,
            "focus_area": _text(),
            "rank": rank,
            "indicator": _text(),
            "label": _text(),
            "group_var": _text(),
            "group": _text(),
            "kind": _text(pa.Check.isin(["proportion", "mean"])),
            "desired_direction": _text(pa.Check.isin(["minska", "öka"])),
            "reason": _text(),
            "reasons": _text(),
            "latest_year": year,
            "latest_value": _float(nullable=False),
            "compare_year": maybe_year,
            "compare_value": _float(),
            "change": _float(),
            "significant": pa.Column("bool"),
            "ntu_year": maybe_year,
            "ntu_percent": _float(pa.Check.in_range(0, 100)),
            "ntu_source": _text(nullable=True),
            "score": _float(),
            "q_value": _float(pa.Check.in_range(0, 1)),
            "evidence_rank": rank,
            "sentence": _text(),
        },
        unique=["kommun", "year", "evidence_rank"],
        checks=[
            pa.Check(
                lambda d: d["latest_year"] == d["year"],
                error="the underlag of a year shows that year's value",
            )
        ],
    )


def _wastewater_schemas() -> dict[str, pa.DataFrameSchema]:
    """The five ``wastewater_*`` tables: non-negative loads, flows and means, a positive
    population, ``n_days`` 1–31, ``n_below_loq`` ≤ ``n_days``, p-values in [0, 1], the
    Swedish trend directions and, for the detectable change, two or more campaigns a year."""
    rules = {
        "": [],
        "≥0": [pa.Check.ge(0)],
        ">0": [pa.Check.gt(0)],
        "≥2": [pa.Check.ge(2)],
        "1–31": [pa.Check.in_range(1, 31)],
        "0–1": [pa.Check.in_range(0, 1)],
        "±1": [pa.Check.in_range(-1, 1)],
        "direction": [pa.Check.isin(list(_TREND_DIRECTIONS))],
    }

    def schema(cols: list[str], *checks: pa.Check) -> pa.DataFrameSchema:
        columns = {}
        for c in cols:
            dtype, rule, nullable = _WASTEWATER_COLUMN_TYPES[c]
            columns[c] = pa.Column(dtype, rules[rule], nullable=nullable)
        return pa.DataFrameSchema(columns, checks=list(checks), strict=True, ordered=True)

    return {
        "wastewater_loads": schema(LOAD_COLUMNS),
        "wastewater_campaigns": schema(
            CAMPAIGN_COLUMNS, pa.Check(lambda d: d["n_below_loq"] <= d["n_days"])
        ),
        "wastewater_trends": schema(WASTEWATER_TREND_COLUMNS),
        "wastewater_consumption": schema(CONSUMPTION_COLUMNS),
        "wastewater_detectable": schema(DETECTABLE_COLUMNS),
    }


def _commitment_schemas() -> dict[str, pa.DataFrameSchema]:
    """``commitment_followup``, ``commitment_indicators``, ``commitment_registers`` and
    ``commitment_draft``: the statuses, directions, responsible parties, suggestions and
    indicator kinds of :mod:`trygghet_analys.commitments.followup`."""
    from .commitments.followup import (
        _DIRECTIONS,
        _RESPONSIBLE,
        IMPLEMENTATION,
        STATUSES,
        SUGGESTIONS,
    )

    text = pa.Column("str")
    maybe_text = pa.Column("str", nullable=True)
    kinds = pa.Column("str", pa.Check.isin([s.value for s in Source]), nullable=True)
    direction = pa.Column("str", pa.Check.isin(list(_DIRECTIONS)), nullable=True)
    status = pa.Column("str", pa.Check.isin(list(STATUSES)))
    year = pa.Column("int64")
    maybe_year = pa.Column("Int64", nullable=True)
    number = pa.Column("float64", nullable=True)
    flag = pa.Column("boolean", nullable=True)
    followup = {
        "kommun": text, "year": year, "commitment_id": text, "focus_area": text, "text": text,
        "responsible": pa.Column("str", pa.Check.isin(list(_RESPONSIBLE))),
        "indicator": maybe_text, "indicator_kind": kinds, "label": maybe_text,
        "group_var": maybe_text, "group": maybe_text, "desired_direction": direction,
        "unit": maybe_text, "latest_year": maybe_year, "latest_value": number,
        "previous_year": maybe_year, "previous_value": number, "change_previous": number,
        "significant_previous": flag, "base_year": maybe_year, "base_value": number,
        "change_base": number,
        "p_value_base": pa.Column("float64", pa.Check.in_range(0, 1), nullable=True),
        "significant_base": flag,
        "trend": pa.Column(object, nullable=True),
        "status": pa.Column("str", pa.Check.isin([*STATUSES, *IMPLEMENTATION])),
        "sentence": maybe_text,
        "activities_delivered": maybe_text, "activities_met": flag,
        "implementation": pa.Column("str", pa.Check.isin(list(IMPLEMENTATION))),
        "effect": maybe_text,
        "commitment_status": status,
    }  # fmt: skip
    indicators = {
        "kommun": text, "year": year, "commitment_id": text, "focus_area": text, "text": text,
        "responsible": pa.Column("str", pa.Check.isin(list(_RESPONSIBLE))),
        "indicator": maybe_text, "indicator_kind": kinds, "desired_direction": direction,
        "group_var": maybe_text, "group": maybe_text,
        "proposal": pa.Column("bool"), "example": pa.Column("bool"),
    }  # fmt: skip
    registers = {
        "kommun": text, "year": year, "draft": pa.Column("bool"), "example": pa.Column("bool"),
        "n_commitments": pa.Column("int64", pa.Check.ge(0)),
    }  # fmt: skip
    json_list = pa.Column("str", pa.Check.str_startswith("["), nullable=True)
    draft = {
        "kommun": text, "year": year, "example": pa.Column("bool"),
        "signatories": json_list, "focus_areas": json_list,
        "commitment_id": maybe_text, "proposal": pa.Column("bool"),
        "suggestion": pa.Column("str", pa.Check.isin(list(SUGGESTIONS)), nullable=True),
        "motivation": maybe_text, "focus_area": maybe_text, "text": maybe_text,
        "responsible": pa.Column("str", pa.Check.isin(list(_RESPONSIBLE)), nullable=True),
        "activities": json_list, "indicators": json_list, "reason": maybe_text,
    }  # fmt: skip
    return {
        "commitment_followup": pa.DataFrameSchema(followup, strict=True, ordered=True, coerce=True),
        "commitment_indicators": pa.DataFrameSchema(
            indicators, strict=True, ordered=True, coerce=True
        ),
        "commitment_registers": _schema(registers, unique=["kommun", "year"]),
        "commitment_draft": _schema(draft),
    }


@cache
def processed_schemas() -> dict[str, pa.DataFrameSchema]:
    """Table name → its pandera schema (strict: exactly the contract's columns, in order).

    Examples
    --------
    >>> list(processed_schemas()) == list(PROCESSED_TABLES)
    True
    >>> list(processed_schemas()["survey_breaks"].columns)
    ['kommun', 'variable', 'year', 'reason']
    """
    found = {
        **_survey_schemas(),
        **_wastewater_schemas(),
        "wastewater_euda": _euda_schema(),
        **_commitment_schemas(),
        "underlag": _underlag_schema(),
    }
    return {name: found[name] for name in PROCESSED_TABLES}


def table_columns(name: str) -> list[str]:
    """The contract's columns of the processed table ``name``, in order.

    Examples
    --------
    >>> table_columns("survey_breaks")
    ['kommun', 'variable', 'year', 'reason']
    """
    return list(processed_schemas()[name].columns)


def validate_table(name: str, table: pd.DataFrame) -> pd.DataFrame:
    """Check one processed table against its schema before it is written.

    Parameters
    ----------
    name
        The table's name (``survey_estimates``, ...).
    table
        The table.

    Returns
    -------
    DataFrame
        The validated table (coerced where the schema says so).

    Raises
    ------
    DataError
        The table breaks its contract: the message names the table, the first failing
        column, check and value; ``failure_cases`` (pandera's table of every failing
        row, column and value) is attached to the error.
    ValueError
        ``name`` has no schema (every processed table must have one).

    Notes
    -----
    An empty table is given the contract's dtypes before it is checked: pandas types the
    columns of an empty frame however it was built (often ``object``), and no value can
    break a dtype. Its columns are still checked.
    """
    schemas = processed_schemas()
    if name not in schemas:
        raise ValueError(f"the processed table {name!r} has no schema in schemas.py")
    if table.empty:  # no value can break a dtype: give an empty table the contract's dtypes
        dtypes = {
            c: col.dtype.type
            for c, col in schemas[name].columns.items()
            if c in table.columns and col.dtype is not None
        }
        table = table.astype(dtypes)
    schema = schemas[name]
    if name == "survey_responses":  # the codebook's new questions after the known ones
        from .survey.codebook import QUESTIONS
        from .survey.ingest import new_questions, response_schema

        schema = response_schema({**QUESTIONS, **new_questions(table)})
    try:
        return schema.validate(table, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        first = cases.iloc[0]
        whole_row = first.get("schema_context") == "DataFrameSchema"
        column = None if whole_row or pd.isna(first.get("column")) else str(first["column"])
        rows = cases["index"].dropna().nunique()
        error = DataError(
            f"en tabell enligt kontraktet i CONTRIBUTING.md ({rows} rader bryter mot det; "
            f"den första: {first.get('check')})",
            file=f"processed/{name}.parquet",
            column=column,
            value=None if whole_row else first.get("failure_case"),
        )
        error.failure_cases = cases
        raise error from exc
