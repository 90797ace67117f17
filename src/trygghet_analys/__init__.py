"""trygghet-analys: trygghetsmätning, avloppsvattenanalys och medborgarlöften.

The public API is re-exported here; each module's ``__all__`` lists the rest.
"""

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

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "DataError",
    "DataFolder",
    "KommunConfig",
    "TrygghetError",
    "__version__",
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
    "rake",
    "problem_ranking",
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
