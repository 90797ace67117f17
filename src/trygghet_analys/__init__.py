"""trygghet-analys: trygghetsmätning, avloppsvattenanalys och medborgarlöften.

The public API is re-exported here; each module's ``__all__`` lists the rest.
"""

from .config import DataFolder, KommunConfig
from .errors import ConfigError, DataError, TrygghetError
from .estimation import design_estimate, estimate_indicators, response_rates
from .euda import campaign_means, compare_with_euda, fetch_euda, find_euda_file, read_euda
from .indicators import indicator_values, load_indicators
from .trends import compare_estimates, trend_tests
from .wastewater import build_wastewater, parse_concentration, parse_number

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "DataError",
    "DataFolder",
    "KommunConfig",
    "TrygghetError",
    "__version__",
    "build_wastewater",
    "campaign_means",
    "compare_estimates",
    "compare_with_euda",
    "design_estimate",
    "estimate_indicators",
    "fetch_euda",
    "find_euda_file",
    "indicator_values",
    "load_indicators",
    "parse_concentration",
    "parse_number",
    "read_euda",
    "response_rates",
    "trend_tests",
]
