"""Modules imported on first use.

``scipy.stats`` takes about half a second to import, more than anything else a report
imports, and a report never calls it: it reads the finished tables. The statistics
modules that need it (``stats.estimation``, ``stats.trends``, ``stats.findings``) are
imported by the report for their constants and vocabulary, so they name it through
:func:`lazy` and the import happens at the first statistic computed.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["lazy"]


class _LazyModule(ModuleType):
    """Stands in for a module; the first attribute looked up imports the real one."""

    def __getattr__(self, attr: str) -> object:
        return getattr(importlib.import_module(self.__name__), attr)


def lazy(name: str) -> ModuleType:
    """The module ``name``, imported when one of its attributes is first used.

    Examples
    --------
    >>> import sys
    >>> stats = lazy("statistics")
    >>> stats.median([3, 1, 2])
    2
    >>> "statistics" in sys.modules
    True
    """
    return _LazyModule(name)
