"""The few distribution functions a build computes, from ``scipy.special``.

``scipy.stats`` costs about 0,6 s CPU to import (it brings ``scipy.optimize``, ``linalg``
and every distribution), a twentieth of the build that adds a new year to a region.
What a build asks of it is six functions that ``scipy.stats`` itself computes with
``scipy.special`` (``t_gen._ppf`` is ``stdtrit``, ``_norm_sf`` is ``ndtr(-x)``, ...) and
the Benjamini–Hochberg adjustment. Each function here gives the same bits as its
``scipy.stats`` counterpart, named in its docstring (``tests/test_dist.py`` compares them
on random and edge values), so no result changes where it is used.
"""

from __future__ import annotations

import numpy as np

from .._lazy import lazy

#: Imported at the first distribution computed: a report imports this module (through
#: ``stats.estimation``, for its constants) and computes none; ``scipy.special`` costs
#: it about 0,15 s CPU (it brings ``numpy.f2py`` and ``charset_normalizer``).
special = lazy("scipy.special")

__all__ = ["beta_ppf", "bh_adjust", "norm_ppf", "norm_sf", "t_ppf", "t_sf"]

#: Below this (and above 0) :func:`beta_ppf` asks ``scipy.stats``.
_TINY_Q = 1e-12


def t_ppf(q: object, df: object) -> np.ndarray:
    """``scipy.stats.t.ppf(q, df)``: the quantile of Student's *t* (``df`` > 0, also
    infinite). ``stdtrit`` answers +∞ at ``q`` = 0 where ``scipy.stats`` (its support's
    lower end) answers −∞; NaN for a ``q`` outside [0, 1] or ``df`` ≤ 0 in both."""
    out = special.stdtrit(df, q)
    return _as_stats(np.where((np.asarray(q) == 0) & (out == np.inf), -np.inf, out))


def t_sf(x: object, df: object) -> np.ndarray:
    """``scipy.stats.t.sf(x, df)``: the upper tail of Student's *t* (``df`` > 0)."""
    return _as_stats(special.stdtr(df, np.negative(x)))


def norm_ppf(q: object) -> np.ndarray:
    """``scipy.stats.norm.ppf(q)``: the standard normal quantile (0 < ``q`` < 1)."""
    return _as_stats(special.ndtri(q))


def norm_sf(x: object) -> np.ndarray:
    """``scipy.stats.norm.sf(x)``: the standard normal upper tail."""
    return _as_stats(special.ndtr(np.negative(x)))


def beta_ppf(q: object, a: object, b: object) -> np.ndarray:
    """``scipy.stats.beta.ppf(q, a, b)``: the quantile of the beta distribution (both
    are Boost's ``ibeta_inv``; NaN where ``a`` or ``b`` ≤ 0 or ``q`` is outside [0, 1]).

    ``betaincinv`` gives up (NaN) for some ``q`` below about 1e-20 where ``scipy.stats``
    still answers; a ``q`` in (0, 1e-12), which no interval level of this program asks
    for, goes to ``scipy.stats`` itself."""
    qs = np.asarray(q)
    if np.any((qs > 0) & (qs < _TINY_Q)):
        return lazy("scipy.stats").beta.ppf(q, a, b)
    return _as_stats(special.betaincinv(a, b, q))


def bh_adjust(p: np.ndarray) -> np.ndarray:
    """``scipy.stats.false_discovery_control(p, method="bh")`` of a 1-D array of
    p-values in [0, 1] (Benjamini & Hochberg 1995): sorted, each times ``m / rank``, the
    running minimum from the largest down, back in the input order, clipped to [0, 1];
    the same operations in the same order as scipy (1.17), so the same bits."""
    ps = np.asarray(p)
    if ps.size <= 1:
        return ps
    m = ps.shape[-1]
    order = np.argsort(ps, axis=-1)
    ps = np.take_along_axis(ps, order, axis=-1)
    ps *= m / np.arange(1, m + 1, dtype=ps.dtype)
    np.minimum.accumulate(ps[::-1], out=ps[::-1])
    np.put_along_axis(ps, order, values=ps.copy(), axis=-1)
    return np.clip(ps, 0.0, 1.0)


def _as_stats(values: np.ndarray) -> np.ndarray:
    """A 0-d answer as the NumPy scalar ``scipy.stats`` returns for scalar input."""
    return values[()] if np.ndim(values) == 0 else values
