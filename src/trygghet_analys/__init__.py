"""trygghet-analys: trygghetsmätning, avloppsvattenanalys och medborgarlöften.

The public API is re-exported here; see each module's ``__all__``.
"""

from .config import DataFolder, KommunConfig
from .errors import ConfigError, DataError, TrygghetError

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "DataError",
    "DataFolder",
    "KommunConfig",
    "TrygghetError",
    "__version__",
]
