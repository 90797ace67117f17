"""Hand-written mutation run over the modules that decide what the council reads.

Usage: ``make mutants`` (or ``python tests/mutants/run.py [--only ID ...]``).

Each mutant in ``mutants.toml`` is one realistic bug: a replacement of an exact piece of
code (``old`` → ``new``) in one file, with the test files that should catch it. The run
copies ``src/`` once to a temporary folder, applies one mutant at a time there, and runs the
named tests against the copy (``PYTHONPATH``); the working tree is never changed. A mutant
is *killed* when a test fails, *survives* when all pass. Mutants marked ``equivalent`` (with
the reason) are run but left out of the kill rate. An ``old`` that no longer occurs exactly
once makes the list stale: the run stops and says which, so the list is kept current (a CI
test checks this too: ``tests/test_mutants.py``).

Not run in CI: it takes minutes on two cores.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LIST = Path(__file__).with_name("mutants.toml")


def load(path: Path = LIST) -> list[dict]:
    """The mutants, each checked to apply exactly once to the current source."""
    mutants = tomllib.loads(path.read_text(encoding="utf-8"))["mutant"]
    seen = set()
    for m in mutants:
        missing = {"id", "file", "old", "new", "tests"} - set(m)
        if missing:
            raise SystemExit(f"mutant {m.get('id', '?')}: saknar {sorted(missing)}")
        if m["id"] in seen:
            raise SystemExit(f"mutant {m['id']}: id:t finns två gånger")
        seen.add(m["id"])
        count = (REPO / m["file"]).read_text(encoding="utf-8").count(m["old"])
        if count != 1:
            raise SystemExit(
                f"mutant {m['id']}: 'old' finns {count} gånger i {m['file']} (ska vara 1) – "
                "uppdatera mutants.toml efter kodändringen"
            )
    return mutants


def run_one(m: dict, copy: Path) -> tuple[str, float]:
    target = copy / m["file"]
    original = target.read_text(encoding="utf-8")
    mutated = original.replace(m["old"], m["new"], 1)
    compile(mutated, str(target), "exec")  # a mutant must be valid Python
    target.write_text(mutated, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(copy / "src"), PYTHONDONTWRITEBYTECODE="1")
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *m["tests"]],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        rc = -1
    finally:
        target.write_text(original, encoding="utf-8")
    seconds = time.perf_counter() - t0
    if rc == 0:
        return "överlevde", seconds
    if rc == 1:
        return "dödad", seconds
    return f"dödad (rc {rc})", seconds


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="*", help="kör bara dessa id")
    args = p.parse_args(argv)
    mutants = load()
    if args.only:
        mutants = [m for m in mutants if m["id"] in set(args.only)]
    with tempfile.TemporaryDirectory(prefix="mutants-") as tmp:
        copy = Path(tmp)
        shutil.copytree(REPO / "src", copy / "src", ignore=shutil.ignore_patterns("__pycache__"))
        rows = []
        for i, m in enumerate(mutants, 1):
            outcome, seconds = run_one(m, copy)
            rows.append((m, outcome))
            print(f"[{i}/{len(mutants)}] {m['id']}: {outcome} ({seconds:.0f} s)", flush=True)
    counted = [(m, o) for m, o in rows if "equivalent" not in m]
    killed = sum(o.startswith("dödad") for _, o in counted)
    print()
    print(f"Mutanter: {len(rows)}, varav {len(rows) - len(counted)} ekvivalenta (ej räknade).")
    rate = killed / len(counted) if counted else float("nan")
    print(f"Dödade: {killed} av {len(counted)} = {rate:.1%}".replace(".", ","))
    for m, o in rows:
        if not o.startswith("dödad"):
            why = m.get("equivalent", "OÖVERVÄGD – skriv ett test eller förklara")
            print(f"  överlevde: {m['id']} ({m['file']}): {why}")
    return 0 if all(o.startswith("dödad") or "equivalent" in m for m, o in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
