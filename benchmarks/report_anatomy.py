"""Where one kommun's report spends its CPU time, kommun after kommun in one process (issue 16).

``report --alla`` draws every kommun's report in a worker process that has already drawn
others; the ratio ``report --alla`` ÷ one ``report --kommun`` depends on how a kommun's
cost ``c`` compares with what a lone report pays once (``F``: start, imports, first
drawing). This script runs :func:`trygghet_analys.report.render.run` for the kommuner
named, one after the other in this process (the first one warms it up, as a worker's
first kommun does), and splits each kommun's CPU time over the report's steps by timing
the functions that do them. Nothing is changed in what they do: the report folder is the
same as ``report --kommun`` writes.

Run (a built data folder; a region from ``make bench --keep`` or ``sample-data``)::

    python benchmarks/report_anatomy.py DATA Alvesta Alvesta Lund Växjö

It prints one table per kommun; docs/performance.md ("Varför `report --alla` inte når 15
på två kärnor") quotes a run.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import functools
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from trygghet_analys.files import export as _export
from trygghet_analys.report import chartfacts, charts, plotting, render

#: (module, function name, Swedish label) of the steps timed; the rest of a kommun's time
#: is building the charts' figures and everything small.
STEPS: tuple[tuple[object, str, str], ...] = (
    (charts, "load_tables", "läsa kommunens tabeller"),
    (plotting, "finish_figure", "tight_layout (del av uppbyggnaden)"),
    (_export, "figure_png_bytes", "png (första ritningen)"),
    (chartfacts, "figure_facts", "fakta och teckenförklaringskontroll"),
    (_export, "save_figure", "svg"),
    (_export, "_add_book_page", "pdf och diagrambokens sida"),
    (render, "summary_findings", "sammanfattningens fynd"),
    (render, "render_html", "rapport.html"),
    (render, "table_sheets", "tabellernas blad"),
    (_export, "write_xlsx", "tabeller.xlsx"),
)
NESTED = {"tight_layout (del av uppbyggnaden)"}
REST = "diagrammens uppbyggnad och övrigt"


@contextlib.contextmanager
def _timing(spent: collections.Counter) -> Iterator[None]:
    """Wrap every function of :data:`STEPS` so that its CPU time adds to ``spent``; the
    originals are put back on exit."""
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in STEPS]
    for (owner, name, original), (_, _, label) in zip(originals, STEPS, strict=True):

        def timed(*args: object, _f: Callable = original, _label: str = label, **kw: object):
            started = time.process_time()
            try:
                return _f(*args, **kw)
            finally:
                spent[_label] += time.process_time() - started

        setattr(owner, name, functools.wraps(original)(timed))
    try:
        yield
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)


def anatomy(data: Path, kommuner: list[str]) -> list[tuple[str, float, dict[str, float]]]:
    """Each kommun's report in turn in this process: (kommun, CPU seconds, seconds per step).

    The steps are :data:`STEPS` and :data:`REST` (the total less every step not nested in
    another); the first kommun's figures include warming the process up.
    """
    spent: collections.Counter = collections.Counter()
    result = []
    with tempfile.TemporaryDirectory(prefix="anatomy-") as tmp, _timing(spent):
        for name in kommuner:
            spent.clear()
            started = time.process_time()
            render.run(data=data, out=Path(tmp), kommun=name, build=False, quiet=True)
            total = time.process_time() - started
            spent[REST] = total - sum(v for k, v in spent.items() if k not in NESTED)
            result.append((name, total, dict(spent.most_common())))
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", type=Path, help="en byggd datamapp")
    p.add_argument("kommuner", nargs="+", help="kommuner i tur och ordning; den första värmer upp")
    args = p.parse_args(argv)
    for i, (name, total, steps) in enumerate(anatomy(args.data, args.kommuner)):
        warm = " (värmer upp)" if i == 0 else ""
        print(f"\n{name}{warm}: {total:.2f} s CPU\n")
        print("| steg | CPU (s) | andel |\n|---|---:|---:|")
        for label, seconds in steps.items():
            print(f"| {label} | {seconds:.2f} | {100 * seconds / total:.0f} % |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
