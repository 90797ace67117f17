"""Shared fixtures: a seeded ``rng``, closed figures, and a generated sample data folder.

``sample_data_dir`` is generated once per session and must not be modified by tests;
copy it (``shutil.copytree``) before changing files. ``built_data_dir`` is a separate
copy on which ``pipeline.build`` has run; ``region_data_dir`` holds three kommuner.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import settings

from trygghet_analys import pipeline
from trygghet_analys.sample.generator import DEFAULT_SEED, write_sample_data

# Property tests: the same examples on every CI run (derandomised), and on a failure the
# blob that reproduces it is printed (@reproduce_failure). Locally they stay random.
settings.register_profile("ci", derandomize=True, print_blob=True, deadline=None)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI", "").lower() == "true" else "dev")


REPO = Path(__file__).resolve().parents[1]
#: ``../shared`` beside the clone: the design, seed article and reference data (CI has it)
SHARED = REPO.parent / "shared"


def reference_file(*candidates: Path, what: str) -> Path:
    """The first existing reference file, else skip – or fail where CI runs (``CI=true``).

    Reference data (the seed article, Brå's NTU table, the EUDA file) lie in ``../shared``,
    which CI always has: a missing file there is a broken set-up, never a silent pass.
    """
    for path in candidates:
        if path.is_file():
            return path
    message = f"referensdata saknas: {what} ({', '.join(str(p) for p in candidates)})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded random generator (the same numbers in every test run)."""
    return np.random.default_rng(20240601)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="session")
def sample_data_dir(tmp_path_factory) -> Path:
    """A data folder from ``write_sample_data`` with the default seed (one kommun).

    Read only: copy it before changing anything.
    """
    out = tmp_path_factory.mktemp("sample") / "data"
    write_sample_data(out, kommuner=1, seed=DEFAULT_SEED)
    return out


@pytest.fixture(scope="session")
def built_data_dir(tmp_path_factory, sample_data_dir) -> Path:
    """A copy of ``sample_data_dir`` on which ``pipeline.build`` has run. Read only."""
    out = tmp_path_factory.mktemp("built") / "data"
    shutil.copytree(sample_data_dir, out)
    pipeline.build(out)
    return out


@pytest.fixture(scope="session")
def region_data_dir(tmp_path_factory) -> Path:
    """A data folder with three kommuner (``raw/kommuner/<slug>/``). Read only."""
    out = tmp_path_factory.mktemp("region") / "data"
    write_sample_data(out, kommuner=3, seed=DEFAULT_SEED)
    return out


@pytest.fixture
def data_copy(tmp_path, sample_data_dir) -> Path:
    """A private, writable copy of the sample data folder."""
    out = tmp_path / "data"
    shutil.copytree(sample_data_dir, out)
    return out


@pytest.fixture
def no_raw_reading(monkeypatch):
    """The report reads ``processed/`` only: the kommun's own indicator file readers fail
    when called, and so does opening any file under a ``raw/`` folder except ``kommun.yml``
    (the kommun's settings: name, areas, base year)."""
    from trygghet_analys.files import _open
    from trygghet_analys.files import indicators as indicators_io

    def refuse(*args, **kwargs):
        raise AssertionError("the report read raw/ instead of processed/")

    for name in ("kommun_indicators", "read_own_indicators"):
        monkeypatch.setattr(indicators_io, name, refuse)
    real = _open._check

    def check(path, data_root, missing):
        if "raw" in Path(path).parts and Path(path).name != "kommun.yml":
            raise AssertionError(f"the report opened {path}")
        return real(path, data_root, missing)

    monkeypatch.setattr(_open, "_check", check)


@contextlib.contextmanager
def serve_folder(www: Path):
    """A quiet local HTTP server on 127.0.0.1 (random port) serving ``www``; yields its URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(www))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
