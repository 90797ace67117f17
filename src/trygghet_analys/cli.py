"""The ``trygghet-analys`` command: build, validate, report, granska, sample-data, fetch-euda."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import TrygghetError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="trygghet-analys",
        description="Från rådata till diagram, tabeller och underlag för medborgarlöften.",
    )
    p.add_argument("--debug", action="store_true", help="visa hela felspåret vid fel")
    sub = p.add_subparsers(dest="command", required=True, metavar="KOMMANDO")

    b = sub.add_parser("build", help="bygg data/processed från data/raw")
    b.add_argument("--data", type=Path, default=None, help="datamapp med raw/ och processed/")

    v = sub.add_parser("validate", help="kontrollera rådata utan att skriva något")
    v.add_argument("--data", type=Path, default=None, help="datamapp med raw/ och processed/")

    r = sub.add_parser("report", help="ta fram årsrapporten")
    r.add_argument("--year", type=int, default=None, help="rapportår (standard: senaste året)")
    r.add_argument("--data", type=Path, default=None, help="datamapp med raw/ och processed/")
    r.add_argument("--out", type=Path, default=Path("reports"), help="utmapp (standard reports/)")
    r.add_argument("--kommun", default=None, help="kommun, om datamappen har flera")

    g = sub.add_parser("granska", help="granska en färdig rapport (tabeller, diagram, filer)")
    g.add_argument("report_dir", type=Path, metavar="RAPPORTMAPP", help="mappen OUT/ÅR")

    s = sub.add_parser("sample-data", help="skapa syntetiska exempeldata")
    s.add_argument("--out", type=Path, required=True, help="datamapp att skriva raw/ i")
    s.add_argument("--kommuner", type=int, default=1, help="antal kommuner (standard 1)")
    s.add_argument("--seed", type=int, default=20220223, help="slumpfrö")

    f = sub.add_parser("fetch-euda", help="hämta EUDA:s avloppsvattendata till data/external/")
    f.add_argument("--data", type=Path, default=None, help="datamapp")
    f.add_argument("--url", default=None, help="adress till filen (standard: se README)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except TrygghetError as exc:
        if args.debug:
            raise
        print(f"fel: {exc.swedish()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("avbrutet", file=sys.stderr)
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    from . import pipeline

    if args.command == "build":
        pipeline.build(args.data)
    elif args.command == "validate":
        pipeline.validate(args.data)
    elif args.command == "report":
        from .report import render as report

        report.run(year=args.year, data=args.data, out=args.out, kommun=args.kommun)
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

        sample_data.write_sample_data(args.out, kommuner=args.kommuner, seed=args.seed)
    elif args.command == "fetch-euda":
        from .wastewater import euda

        euda.fetch_euda(args.data, url=args.url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
