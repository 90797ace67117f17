"""The ``trygghet-analys`` command: build, validate, kodbok-utkast, report, granska,
sample-data, fetch-euda."""

from __future__ import annotations

import argparse
import atexit
import gc
import sys
from pathlib import Path

from .errors import ConfigError, DataProblems, TrygghetError, printable

__all__ = ["INTERNAL_ERROR", "internal_error_line", "main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="trygghet-analys",
        description="Från rådata till diagram, tabeller och underlag för medborgarlöften.",
    )
    p.add_argument("--debug", action="store_true", help="visa hela felspåret vid fel")
    sub = p.add_subparsers(dest="command", required=True, metavar="KOMMANDO")

    b = sub.add_parser("build", help="bygg data/processed från data/raw")
    b.add_argument("--data", type=Path, default=None, help="datamapp med raw/ och processed/")
    b.add_argument("--tyst", action="store_true", help="skriv inget kvitto när allt gick bra")
    b.add_argument(
        "--utan-cache",
        action="store_true",
        help="läs om alla filer (standard: oförändrade filer tas från processed/.cache)",
    )

    v = sub.add_parser("validate", help="kontrollera rådata utan att skriva något")
    v.add_argument("--data", type=Path, default=None, help="datamapp med raw/ och processed/")
    v.add_argument("--tyst", action="store_true", help="skriv inget kvitto när allt gick bra")

    k = sub.add_parser(
        "kodbok-utkast", help="föreslå en layout för kodbok.yml utifrån en ny leverans"
    )
    k.add_argument("fil", type=Path, metavar="FIL", help="den nya filen (.xlsx eller .csv)")
    k.add_argument("--ar", type=int, default=None, help="undersökningsår (standard: filnamnet)")
    k.add_argument("--data", type=Path, default=None, help="datamapp med raw/ (kodbok, kommun)")

    r = sub.add_parser("report", help="ta fram årsrapporten")
    r.add_argument("--year", type=int, default=None, help="rapportår (standard: senaste året)")
    r.add_argument("--data", type=Path, default=None, help="datamapp med raw/ och processed/")
    r.add_argument("--out", type=Path, default=Path("reports"), help="utmapp (standard reports/)")
    r.add_argument("--kommun", default=None, help="kommun, om datamappen har flera")
    r.add_argument(
        "--alla",
        action="store_true",
        help="en rapport per kommun i datamappen, till UT/<kommunmapp>/<år>/ (en processpool)",
    )
    r.add_argument(
        "--notebooks",
        action="store_true",
        help="kör också notebooks till <år>/notebooks/ (behövs inte för rapport och diagrambok)",
    )

    g = sub.add_parser("granska", help="granska en färdig rapport (tabeller, diagram, filer)")
    g.add_argument("report_dir", type=Path, metavar="RAPPORTMAPP", help="mappen OUT/ÅR")

    s = sub.add_parser("sample-data", help="skapa syntetiska exempeldata")
    s.add_argument("--out", type=Path, required=True, help="datamapp att skriva raw/ i")
    s.add_argument("--kommuner", type=int, default=1, help="antal kommuner (standard 1)")
    s.add_argument("--seed", type=int, default=20220223, help="slumpfrö")
    s.add_argument(
        "--scenario",
        choices=("standard", "oforandrad"),
        default="standard",
        help="standard: kommunens berättelse (som de medföljande data); oforandrad: inga "
        "sanna förändringar mellan år eller områden",
    )

    f = sub.add_parser("fetch-euda", help="hämta EUDA:s avloppsvattendata till data/external/")
    f.add_argument("--data", type=Path, default=None, help="datamapp")
    f.add_argument("--url", default=None, help="adress till filen (standard: se README)")
    return p


def main(argv: list[str] | None = None) -> int:
    _exit_without_collecting()
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except TrygghetError as exc:
        if args.debug:
            raise
        if isinstance(exc, DataProblems) and (len(exc.problems) > 1 or exc.more):
            for line in exc.lines():
                print(f"fel: {printable(line)}", file=sys.stderr)
            print(exc.summary(), file=sys.stderr)
        else:
            print(f"fel: {printable(exc.swedish())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("avbrutet", file=sys.stderr)
        return 130
    except Exception as exc:  # the safety net: a bug, not bad input (the corpus never gets here)
        if args.debug:
            raise
        print(internal_error_line(exc), file=sys.stderr)
        return INTERNAL_ERROR


_EXIT_REGISTERED = False


def _exit_without_collecting() -> None:
    """Freeze the heap when the interpreter exits, so its last collections skip it.

    At exit Python clears every module and runs its cyclic garbage collector over
    everything still alive: the tables, the matplotlib figures and caches, the text
    layouts. For a report or a build of the bundled data that is 0,35–0,45 s CPU after
    the last file is written (docs/performance.md). ``gc.freeze`` moves every object to
    the permanent generation, which those collections do not traverse; objects are
    still released by reference counting, files opened by the program are closed by
    then (every writer uses ``with``) and ``sys.stdout``/``sys.stderr`` are flushed by
    the interpreter as before. Registered with :mod:`atexit` rather than done when
    :func:`main` returns, so that a process calling :func:`main` several times (the
    tests) keeps collecting in between. Registered once per process.
    """
    global _EXIT_REGISTERED
    if not _EXIT_REGISTERED:
        atexit.register(gc.freeze)
        _EXIT_REGISTERED = True


#: Exit code of an unexpected error (a bug in the program, not a problem in the data).
INTERNAL_ERROR = 3


def internal_error_line(exc: BaseException) -> str:
    """The one line printed for an unexpected exception (exit code 3).

    >>> internal_error_line(ValueError("x\\ny"))
    'fel: internt fel (ValueError: x\\\\ny) – kör med --debug och skicka utskriften till den som underhåller programmet'
    """
    detail = printable(str(exc))
    if len(detail) > 200:
        detail = detail[:197] + "..."
    what = type(exc).__name__ + (f": {detail}" if detail else "")
    return (
        f"fel: internt fel ({what}) – kör med --debug och skicka utskriften till den som "
        "underhåller programmet"
    )


def _dispatch(args: argparse.Namespace) -> int:
    if args.command in ("build", "validate"):
        from . import pipeline  # only here: the report and the rest do not need it (0,5–1 s)
    if args.command == "build":
        pipeline.build(args.data, receipt=None if args.tyst else print, cache=not args.utan_cache)
        if not args.tyst:
            print("Klart: tabellerna är skrivna till processed/.")
    elif args.command == "validate":
        lines = pipeline.validate(args.data)
        if not args.tyst:
            print("\n".join([*lines, "Inga fel hittades; inget skrevs."]))
    elif args.command == "kodbok-utkast":
        from .files import kodbok_draft

        print(kodbok_draft.draft_for_file(args.fil, year=args.ar, data=args.data), end="")
    elif args.command == "report":
        from .report import render as report

        if args.alla:
            if args.kommun:
                raise ConfigError("välj antingen --alla eller --kommun, inte båda")
            report.run_all(year=args.year, data=args.data, out=args.out, notebooks=args.notebooks)
        else:
            report.run(
                year=args.year,
                data=args.data,
                out=args.out,
                kommun=args.kommun,
                notebooks=args.notebooks,
            )
    elif args.command == "granska":
        from .report import granska

        defects = granska.check_report(args.report_dir)
        for line in defects:
            print(f"fel: {line}", file=sys.stderr)
        if defects:
            print(f"{len(defects)} fel i rapporten {args.report_dir}.", file=sys.stderr)
            return 2
        print(granska.receipt(args.report_dir))
    elif args.command == "sample-data":
        from .sample import generator as sample_data

        sample_data.write_sample_data(
            args.out, kommuner=args.kommuner, seed=args.seed, scenario=args.scenario
        )
    elif args.command == "fetch-euda":
        from .files import euda

        euda.fetch_euda(args.data, url=args.url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
