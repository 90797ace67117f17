"""``stats/_dist.py``: the distribution functions a build computes from ``scipy.special``
give the same bits as the ``scipy.stats`` calls they replace, and computing the survey's
statistics no longer imports ``scipy.stats`` (0,6 s CPU of a new year's build)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import scipy.stats as st

from trygghet_analys.stats import _dist

RNG = np.random.default_rng(20261202)
N = 50_000

#: Edge values besides the random ones: boundaries, outside the domain, ±∞, NaN.
Q_EDGES = np.array([-0.1, 0.0, 1e-300, 1e-12, 0.025, 0.5, 0.975, 1 - 1e-12, 1.0, 1.5, np.nan])
DF_EDGES = np.array([-1.0, 0.0, 1e-300, 0.5, 1.0, 2.0, 29.0, 1e6, np.inf, np.nan])
X_EDGES = np.array([-np.inf, -40.0, -1.0, -0.0, 0.0, 1e-300, 1.96, 40.0, np.inf, np.nan])
AB_EDGES = np.array([-1.0, 0.0, 1e-300, 0.3, 1.0, 2.5, 40.0, 1e6, np.inf, np.nan])


def _same_bits(ours: object, theirs: object) -> None:
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape
    assert ours.dtype == theirs.dtype
    # the same numbers, NaN where NaN, and the same sign of every zero and infinity (a
    # NaN's sign bit is not compared: ndtri(NaN) keeps its input's, scipy.stats writes
    # its own NaN; only a NaN *input* gives one, and no caller passes one)
    assert np.array_equal(ours, theirs, equal_nan=True)
    real = ~np.isnan(theirs)
    assert np.array_equal(np.signbit(ours[real]), np.signbit(theirs[real]))


def _grid(*axes: np.ndarray) -> list[np.ndarray]:
    return [a.ravel() for a in np.meshgrid(*axes, indexing="ij")]


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def test_t_ppf_equals_scipy_stats():
    q, df = RNG.uniform(0, 1, N), RNG.uniform(0.5, 3000, N)
    _same_bits(_dist.t_ppf(q, df), st.t.ppf(q, df))  # reference: scipy.stats.t.ppf(q, df)
    q, df = _grid(Q_EDGES, DF_EDGES)
    _same_bits(_dist.t_ppf(q, df), st.t.ppf(q, df))
    # at q = 0 scipy.special's stdtrit says +∞, the support's lower end is −∞
    assert _dist.t_ppf(0.0, 5.0) == -np.inf == st.t.ppf(0.0, 5.0)
    _same_bits(_dist.t_ppf(0.975, 29), st.t.ppf(0.975, 29))  # scalar in, NumPy scalar out
    assert type(_dist.t_ppf(0.975, 29)) is type(st.t.ppf(0.975, 29))


def test_t_sf_equals_scipy_stats():
    x, df = RNG.normal(0, 4, N), RNG.uniform(0.5, 3000, N)
    _same_bits(_dist.t_sf(x, df), st.t.sf(x, df))  # reference: scipy.stats.t.sf(x, df)
    x, df = _grid(X_EDGES, DF_EDGES)
    _same_bits(_dist.t_sf(x, df), st.t.sf(x, df))
    assert type(_dist.t_sf(2.1, 7.5)) is type(st.t.sf(2.1, 7.5))


def test_norm_equals_scipy_stats():
    q, x = RNG.uniform(0, 1, N), RNG.normal(0, 4, N)
    _same_bits(_dist.norm_ppf(q), st.norm.ppf(q))  # reference: scipy.stats.norm.ppf(q)
    _same_bits(_dist.norm_ppf(Q_EDGES), st.norm.ppf(Q_EDGES))
    _same_bits(_dist.norm_sf(x), st.norm.sf(x))  # reference: scipy.stats.norm.sf(x)
    _same_bits(_dist.norm_sf(X_EDGES), st.norm.sf(X_EDGES))
    assert _dist.norm_ppf(0.975) == st.norm.ppf(0.975) == 1.959963984540054
    assert type(_dist.norm_sf(1.0)) is type(st.norm.sf(1.0))


def test_beta_ppf_equals_scipy_stats():
    q, a, b = RNG.uniform(0, 1, N), RNG.uniform(0.01, 500, N), RNG.uniform(0.01, 500, N)
    # reference: scipy.stats.beta.ppf(q, a, b)
    _same_bits(_dist.beta_ppf(q, a, b), st.beta.ppf(q, a, b))
    q, a, b = _grid(Q_EDGES, AB_EDGES, AB_EDGES)
    _same_bits(_dist.beta_ppf(q, a, b), st.beta.ppf(q, a, b))
    # a tiny q, where scipy.special's betaincinv gives NaN for some shapes, still equals
    q, a, b = (
        10 ** RNG.uniform(-200, -12, N),
        10 ** RNG.uniform(-3, 6, N),
        10 ** RNG.uniform(-3, 6, N),
    )
    _same_bits(_dist.beta_ppf(q, a, b), st.beta.ppf(q, a, b))
    _same_bits(_dist.beta_ppf(1e-300, 2.5, 40.0), st.beta.ppf(1e-300, 2.5, 40.0))


@pytest.mark.parametrize("m", [0, 1, 2, 3, 17, 400])
def test_bh_adjust_equals_false_discovery_control(m):
    p = RNG.uniform(0, 1, m) ** 3  # many small p-values, as in a report
    if m > 3:
        p[: m // 4] = p[m // 4 : 2 * (m // 4)]  # ties
        p[-1], p[-2] = 0.0, 1.0
    # reference: scipy.stats.false_discovery_control(p, method="bh")
    _same_bits(_dist.bh_adjust(p.copy()), st.false_discovery_control(p, method="bh"))


def test_bh_adjust_leaves_its_input_alone():
    p = np.array([0.5, 0.01, 0.2])
    _dist.bh_adjust(p)
    assert p.tolist() == [0.5, 0.01, 0.2]
    # the published example of scipy's documentation
    out = _dist.bh_adjust(np.array([0.5, 0.6, 0.1, 0.001]))
    np.testing.assert_allclose(out, [0.6, 0.6, 0.2, 0.004], rtol=0, atol=1e-15)


def test_survey_statistics_do_not_import_scipy_stats():
    """Estimates with Korn–Graubard intervals, change tests, trends and q-values, as a
    build that adds a survey year computes them, leave ``scipy.stats`` unimported."""
    code = textwrap.dedent(
        """
        import sys
        import numpy as np, pandas as pd
        from trygghet_analys import pipeline  # noqa: F401  (everything a build imports)
        from trygghet_analys.stats import estimation, findings, trends
        from trygghet_analys.wastewater import campaigns, loads  # noqa: F401
        lo, hi = estimation.korn_graubard_ci(
            np.array([0.2, 0.5]), np.array([0.02, 0.03]), n=np.array([300, 200]),
            rows=np.array([300, 200]), df=np.array([290, 195]))
        z, p, sig = trends.change_test(0.2, 0.02, 0.3, 0.03)
        s = pd.DataFrame({"k": ["a"] * 6, "year": range(2015, 2021),
                          "estimate": [0.1, 0.2, 0.15, 0.3, 0.35, 0.4]})
        trends.mann_kendall(s, by=["k"])
        f = pd.DataFrame({"kommun": ["a"] * 3, "year": [2025] * 3, "p_value": [0.01, 0.2, np.nan]})
        findings.adjust_q_values(f)
        print("scipy.stats" in sys.modules)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
