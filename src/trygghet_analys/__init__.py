"""trygghet-analys: trygghetsmätning, avloppsvattenanalys och medborgarlöften.

The public API is re-exported here; each module's ``__all__`` lists the rest.

Names are imported lazily on first use (PEP 562), so that ``trygghet-analys build`` and
each notebook kernel do not pay for matplotlib and scipy.stats until they need them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

#: public name → the module (in this package) that defines it
_EXPORTS: dict[str, str] = {
    "ConfigError": "errors",
    "DataError": "errors",
    "DataFolder": "config",
    "KommunConfig": "config",
    "TrygghetError": "errors",
    "alt_text": "plotting",
    "build_wastewater": "wastewater",
    "campaign_means": "euda",
    "change_test": "trends",
    "commitment_panel": "plotting",
    "compare_estimates": "trends",
    "compare_with_euda": "euda",
    "design_estimate": "estimation",
    "draft_register": "commitments",
    "dump_register": "commitments",
    "estimate_indicators": "estimation",
    "fetch_euda": "euda",
    "find_euda_file": "euda",
    "finish_figure": "plotting",
    "follow_up": "commitments",
    "group_chart": "plotting",
    "indicator_values": "indicators",
    "load_activities": "commitments",
    "load_indicators": "indicators",
    "load_ntu": "commitments",
    "load_register": "commitments",
    "load_registers": "commitments",
    "parse_concentration": "wastewater",
    "parse_number": "wastewater",
    "post_stratify": "estimation",
    "problem_ranking": "plotting",
    "rake": "estimation",
    "read_euda": "euda",
    "render_underlag_html": "commitments",
    "response_rate_chart": "plotting",
    "response_rates": "estimation",
    "small_multiples": "plotting",
    "trend_chart": "plotting",
    "trend_tests": "trends",
    "underlag": "commitments",
    "use_style": "plotting",
    "wastewater_chart": "plotting",
}

__all__ = [
    "__version__",
    "ConfigError",
    "DataError",
    "DataFolder",
    "KommunConfig",
    "TrygghetError",
    "alt_text",
    "build_wastewater",
    "campaign_means",
    "change_test",
    "commitment_panel",
    "compare_estimates",
    "compare_with_euda",
    "design_estimate",
    "draft_register",
    "dump_register",
    "estimate_indicators",
    "fetch_euda",
    "find_euda_file",
    "finish_figure",
    "follow_up",
    "group_chart",
    "indicator_values",
    "load_activities",
    "load_indicators",
    "load_ntu",
    "load_register",
    "load_registers",
    "parse_concentration",
    "parse_number",
    "post_stratify",
    "problem_ranking",
    "rake",
    "read_euda",
    "render_underlag_html",
    "response_rate_chart",
    "response_rates",
    "small_multiples",
    "trend_chart",
    "trend_tests",
    "underlag",
    "use_style",
    "wastewater_chart",
]

if TYPE_CHECKING:  # explicit imports for type checkers and editors
    from .commitments import (
        draft_register,
        dump_register,
        follow_up,
        load_activities,
        load_ntu,
        load_register,
        load_registers,
        render_underlag_html,
        underlag,
    )
    from .config import DataFolder, KommunConfig
    from .errors import ConfigError, DataError, TrygghetError
    from .estimation import (
        design_estimate,
        estimate_indicators,
        post_stratify,
        rake,
        response_rates,
    )
    from .euda import campaign_means, compare_with_euda, fetch_euda, find_euda_file, read_euda
    from .indicators import indicator_values, load_indicators
    from .plotting import (
        alt_text,
        commitment_panel,
        finish_figure,
        group_chart,
        problem_ranking,
        response_rate_chart,
        small_multiples,
        trend_chart,
        use_style,
        wastewater_chart,
    )
    from .trends import change_test, compare_estimates, trend_tests
    from .wastewater import build_wastewater, parse_concentration, parse_number


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
