"""A build's memory (``_memory.build_memory``): where buffers come from, never what is
computed."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from trygghet_analys import _memory, pipeline


def test_build_memory_uses_the_system_pool_and_restores_the_pool_before():
    before = pa.default_memory_pool()
    with _memory.build_memory():
        assert pa.default_memory_pool().backend_name == "system"
    assert pa.default_memory_pool().backend_name == before.backend_name
    with pytest.raises(RuntimeError), _memory.build_memory():
        raise RuntimeError("a build that stops")
    assert pa.default_memory_pool().backend_name == before.backend_name


def test_malloc_is_told_to_keep_freed_memory_where_it_can_be():
    mallopt = _memory._mallopt()
    if mallopt is None:
        pytest.skip("not the GNU C library: nothing is set")
    # mallopt answers 1 when it takes a value: both values are within glibc's limits
    assert mallopt(_memory._M_MMAP_THRESHOLD, _memory._MMAP_THRESHOLD) == 1
    assert mallopt(_memory._M_TRIM_THRESHOLD, _memory._TRIM_THRESHOLD) == 1


def _tables(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.*"))}


def test_a_build_with_and_without_build_memory_writes_the_same_bytes(
    tmp_path, sample_data_dir, monkeypatch
):
    plain, kept = tmp_path / "plain", tmp_path / "kept"
    shutil.copytree(sample_data_dir, plain)
    shutil.copytree(sample_data_dir, kept)
    pipeline.build(kept, cache=False)
    monkeypatch.setattr(pipeline, "build_memory", contextlib.nullcontext)
    pipeline.build(plain, cache=False)
    want = _tables(plain / "processed")
    assert len(want) > 20
    assert _tables(kept / "processed") == want
