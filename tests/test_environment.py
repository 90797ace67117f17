"""The three dependency lists (pyproject, lock, environment.yml) must not drift apart."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


def _pyproject() -> set[str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = meta["dependencies"] + meta["optional-dependencies"]["dev"]
    return {_name(r) for r in reqs}


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            assert "==" in line, f"requirements.lock: '{line}' is not pinned exactly"
            name, version = line.split("==")
            pins[_name(name)] = version
    return pins


def _environment() -> dict[str, str]:
    """Package → version of environment.yml: conda's ``name=version`` and, in its pip
    list, PyPI's ``name==version`` (for a package whose conda name differs)."""
    doc = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pins = {}
    for dep in doc["dependencies"]:
        if isinstance(dep, str) and dep not in ("pip",) and not dep.startswith("python="):
            name, _, version = dep.partition("=")
            pins[_name(name)] = version
        elif isinstance(dep, dict):
            for pip_dep in dep["pip"]:
                if pip_dep != "-e .":
                    assert "==" in pip_dep, f"environment.yml: '{pip_dep}' is not pinned exactly"
                    name, version = pip_dep.split("==")
                    pins[_name(name)] = version
    return pins


def test_every_dependency_is_pinned_in_the_lock():
    missing = _pyproject() - set(_lock())
    assert not missing, f"in pyproject.toml but not in requirements.lock: {sorted(missing)}"


def test_environment_lists_exactly_the_pyproject_packages():
    assert set(_environment()) == _pyproject()


def test_environment_versions_equal_the_lock():
    lock = _lock()
    drift = {n: (v, lock.get(n)) for n, v in _environment().items() if lock.get(n) != v}
    assert not drift, f"environment.yml vs requirements.lock: {drift}"


def test_environment_reads_the_pip_list():
    # zlib-ng comes from PyPI there (conda-forge's "zlib-ng" is the C library)
    assert _environment()["zlib-ng"] == _lock()["zlib-ng"]


def test_lock_pins_python_311_compatible_setuptools_for_editable_install():
    # the Makefile installs with --no-build-isolation, so the build backend must be locked
    assert "setuptools" in _lock()


def test_public_api_is_lazy_and_complete():
    # importing the package must not pull in matplotlib or scipy (fast CLI and kernels),
    # yet every name in __all__ must resolve
    import subprocess
    import sys

    code = (
        "import sys, trygghet_analys as t\n"
        "heavy = [m for m in ('matplotlib', 'scipy', 'pandera') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert set(t.__all__) - {'__version__'} == set(t._EXPORTS)\n"
        "missing = [n for n in t.__all__ if getattr(t, n, None) is None]\n"
        "assert not missing, missing\n"
        "from trygghet_analys import design_estimate, read_euda, campaign_means\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
