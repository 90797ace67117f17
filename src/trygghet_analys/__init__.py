"""trygghet-analys: trygghetsmätning, avloppsvattenanalys och medborgarlöften.

The public API is re-exported here; each module's ``__all__`` lists the rest.

Names are imported lazily on first use (PEP 562), so that ``trygghet-analys build`` and
each notebook kernel do not pay for matplotlib and scipy.stats until they need them.
"""

from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING

__version__ = "0.1.0"

#: public name → the module (in this package) that defines it
_EXPORTS: dict[str, str] = {
    "ConfigError": "errors",
    "DataError": "errors",
    "DataFolder": "config",
    "KommunConfig": "config",
    "TrygghetError": "errors",
    "add_indicators": "survey.indicators",
    "alt_text": "report.plotting",
    "build_wastewater": "pipeline",
    "campaign_means": "wastewater.days",
    "change_test": "stats.trends",
    "check_disclosure": "stats.disclosure",
    "commitment_panel": "report.plotting",
    "compare_estimates": "stats.trends",
    "compare_with_euda": "wastewater.euda",
    "define_indicator": "survey.indicators",
    "design_estimate": "stats.estimation",
    "draft_register": "commitments.followup",
    "dump_register": "files.registers",
    "estimate_indicators": "stats.estimation",
    "export_table": "files.export",
    "fetch_euda": "files.euda",
    "find_euda_file": "files.euda",
    "finish_figure": "report.plotting",
    "follow_up": "commitments.followup",
    "group_chart": "report.plotting",
    "group_var_label": "report.plotting",
    "group_var_name": "stats.estimation",
    "indicator_values": "survey.indicators",
    "kommun_indicators": "files.indicators",
    "load_activities": "files.registers",
    "load_indicators": "survey.indicators",
    "load_ntu": "vocabulary",
    "load_register": "files.registers",
    "load_registers": "files.registers",
    "load_tables": "report.charts",
    "parse_concentration": "files.wastewater",
    "parse_number": "files.wastewater",
    "post_stratify": "stats.estimation",
    "problem_ranking": "report.plotting",
    "rake": "stats.estimation",
    "read_euda": "files.euda",
    "read_own_indicators": "files.indicators",
    "render_underlag_html": "report.underlag",
    "response_rate_chart": "report.plotting",
    "response_rates": "stats.estimation",
    "save_figure": "files.export",
    "small_multiples": "report.plotting",
    "suppress": "stats.disclosure",
    "trend_chart": "report.plotting",
    "trend_tests": "stats.trends",
    "underlag": "commitments.followup",
    "use_style": "report.plotting",
    "wastewater_chart": "report.plotting",
}

__all__ = [
    "__version__",
    "ConfigError",
    "DataError",
    "DataFolder",
    "KommunConfig",
    "TrygghetError",
    "add_indicators",
    "alt_text",
    "build_wastewater",
    "campaign_means",
    "change_test",
    "check_disclosure",
    "commitment_panel",
    "compare_estimates",
    "compare_with_euda",
    "define_indicator",
    "design_estimate",
    "draft_register",
    "dump_register",
    "estimate_indicators",
    "export_table",
    "fetch_euda",
    "find_euda_file",
    "finish_figure",
    "follow_up",
    "group_chart",
    "group_var_label",
    "group_var_name",
    "indicator_values",
    "kommun_indicators",
    "load_activities",
    "load_indicators",
    "load_ntu",
    "load_register",
    "load_registers",
    "load_tables",
    "parse_concentration",
    "parse_number",
    "post_stratify",
    "problem_ranking",
    "rake",
    "read_euda",
    "read_own_indicators",
    "render_underlag_html",
    "response_rate_chart",
    "response_rates",
    "save_figure",
    "small_multiples",
    "suppress",
    "trend_chart",
    "trend_tests",
    "underlag",
    "use_style",
    "wastewater_chart",
]

if TYPE_CHECKING:  # explicit imports for type checkers and editors
    from .commitments.followup import draft_register, follow_up, underlag
    from .config import DataFolder, KommunConfig
    from .errors import ConfigError, DataError, TrygghetError
    from .files.euda import fetch_euda, find_euda_file, read_euda
    from .files.export import export_table, save_figure
    from .files.indicators import kommun_indicators, read_own_indicators
    from .files.registers import dump_register, load_activities, load_register, load_registers
    from .files.wastewater import parse_concentration, parse_number
    from .pipeline import build_wastewater
    from .report.charts import load_tables
    from .report.plotting import (
        alt_text,
        commitment_panel,
        finish_figure,
        group_chart,
        group_var_label,
        problem_ranking,
        response_rate_chart,
        small_multiples,
        trend_chart,
        use_style,
        wastewater_chart,
    )
    from .report.underlag import render_underlag_html
    from .stats.disclosure import check_disclosure, suppress
    from .stats.estimation import (
        design_estimate,
        estimate_indicators,
        group_var_name,
        post_stratify,
        rake,
        response_rates,
    )
    from .stats.trends import change_test, compare_estimates, trend_tests
    from .survey.indicators import (
        add_indicators,
        define_indicator,
        indicator_values,
        load_indicators,
    )
    from .vocabulary import load_ntu
    from .wastewater.days import campaign_means
    from .wastewater.euda import compare_with_euda


#: modules of the former flat layout → where they live now (importing the old name warns)
_MOVED: dict[str, str] = {
    "codebook": "files.codebook",
    "disclosure": "stats.disclosure",
    "estimation": "stats.estimation",
    "euda": "wastewater.euda",
    "indicators": "survey.indicators",
    "plotting": "report.plotting",
    "sample_data": "sample.generator",
    "trends": "stats.trends",
}


#: submodules that are public under a short name (the notebooks' ``from trygghet_analys import charts``)
_SUBMODULES: dict[str, str] = {"charts": "report.charts"}


def __getattr__(name: str) -> object:
    if name in _SUBMODULES:
        return importlib.import_module(f".{_SUBMODULES[name]}", __name__)
    moved = _MOVED.get(name)
    if moved is not None:
        warnings.warn(
            f"trygghet_analys.{name} heter nu trygghet_analys.{moved}",
            DeprecationWarning,
            stacklevel=2,
        )
        return importlib.import_module(f".{moved}", __name__)
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
