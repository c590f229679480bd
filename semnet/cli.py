"""The ``semnet`` command line (also ``python -m semnet``): a thin layer over the API.

Subcommands
-----------
``semnet example``
    Fit the Holzinger–Swineford three-factor CFA on the bundled data and print its
    lavaan-style summary with standardized estimates.
``semnet fit MODEL_FILE DATA_CSV [--group COL] [--group-equal ...] [--std-lv]
[--estimator ML] [--standardized] [--no-fit-measures] [--format text|markdown]``
    Fit a model file (lavaan syntax) to a CSV file and print the summary.

Errors raised by semnet (:class:`semnet.SemnetError`) and unreadable input files are
printed as ``error: <message>`` on stderr with exit status 2 -- never a traceback.

New subcommands register themselves in :data:`COMMANDS` (a name and a function that
adds its parser and returns the handler), so ``semnet replicate`` can be added without
touching the others.

Examples
--------
.. code-block:: console

    $ semnet example
    $ semnet fit models/holzinger_swineford.lav hs.csv --group school \\
          --group-equal loadings,intercepts --standardized
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

#: exit status for bad input (model, data, options), as argparse uses for usage errors
EXIT_INPUT = 2

#: the Holzinger–Swineford three-factor CFA (also in ``models/holzinger_swineford.lav``)
HS_MODEL = """\
visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9
"""

Handler = Callable[[argparse.Namespace], int]


class InputError(Exception):
    """A problem with the command's input files (reported like a SemnetError)."""


def _render(summary, fmt: str) -> str:
    return summary.to_markdown() if fmt == "markdown" else str(summary)


def _fit_quietly(func, *args, **kwargs):
    """Fit without Python's warning lines; the summary lists the fit's warnings itself."""
    from semnet.errors import SemnetWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SemnetWarning)
        return func(*args, **kwargs)


# -- semnet example ----------------------------------------------------------------------
def _add_example(sub: argparse._SubParsersAction) -> Handler:
    p = sub.add_parser(
        "example",
        help="fit the Holzinger-Swineford 3-factor CFA on the bundled data",
        description="Fit the Holzinger & Swineford (1939) three-factor CFA (lavaan's tutorial "
        "model) on the bundled data and print the lavaan-style summary with standardized "
        "estimates. lavaan 0.6.14 gives chi-square 85.306 on 24 df.",
    )
    p.add_argument("--format", choices=("text", "markdown"), default="text",
                   help="output format (default: text)")
    return _run_example


def _run_example(args: argparse.Namespace) -> int:
    import semnet

    data = semnet.datasets.holzinger_swineford()
    fit = _fit_quietly(semnet.cfa, HS_MODEL, data)
    print("Holzinger & Swineford (1939), three-factor CFA:\n")
    print("\n".join("    " + line for line in HS_MODEL.splitlines()))
    print()
    print(_render(fit.summary(standardized=True), args.format), end="")
    return 0


# -- semnet fit ----------------------------------------------------------------------------
def _split_list(values: Sequence[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or ():
        out.extend(part.strip() for part in v.split(",") if part.strip())
    return out


def _add_fit(sub: argparse._SubParsersAction) -> Handler:
    p = sub.add_parser(
        "fit",
        help="fit a model file (lavaan syntax) to a CSV file and print the summary",
        description="Fit MODEL_FILE (lavaan model syntax) to DATA_CSV and print a "
        "lavaan-style summary.",
    )
    p.add_argument("model_file", metavar="MODEL_FILE", help="lavaan model syntax file")
    p.add_argument("data_csv", metavar="DATA_CSV", help="data as CSV with a header row")
    p.add_argument("--group", metavar="COL", help="column defining the groups")
    p.add_argument("--group-equal", metavar="WHAT", action="append",
                   help="cross-group equality constraints, e.g. loadings,intercepts "
                   "(repeatable)")
    p.add_argument("--group-partial", metavar="PARAM", action="append",
                   help="parameters exempt from --group-equal, e.g. 'x3~1' (repeatable)")
    p.add_argument("--std-lv", action="store_true",
                   help="fix latent variances to 1 instead of the first loadings")
    p.add_argument("--estimator", default="ML", help="ML, MLR, MLM or MLMV (default: ML)")
    p.add_argument("--missing", default="listwise",
                   help="listwise or fiml (default: listwise)")
    p.add_argument("--standardized", action="store_true",
                   help="add the Std.lv and Std.all columns")
    p.add_argument("--no-fit-measures", action="store_true",
                   help="leave out the fit-measure blocks")
    p.add_argument("--format", choices=("text", "markdown"), default="text",
                   help="output format (default: text)")
    return _run_fit


def _read_inputs(model_file: str, data_csv: str):
    import pandas as pd

    model_path = Path(model_file)
    if not model_path.is_file():
        raise InputError(f"model file {model_file!r} does not exist (or is not a file).")
    try:
        text = model_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read model file {model_file!r}: {exc}") from None
    data_path = Path(data_csv)
    if not data_path.is_file():
        raise InputError(f"data file {data_csv!r} does not exist (or is not a file).")
    try:
        data = pd.read_csv(data_path)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        # pandas' ParserError and EmptyDataError are ValueErrors
        raise InputError(f"cannot read data file {data_csv!r} as CSV: {exc}") from None
    return text, data


def _run_fit(args: argparse.Namespace) -> int:
    import semnet

    text, data = _read_inputs(args.model_file, args.data_csv)
    fit = _fit_quietly(
        semnet.sem,
        text,
        data,
        group=args.group,
        estimator=args.estimator,
        missing=args.missing,
        group_equal=_split_list(args.group_equal),
        group_partial=_split_list(args.group_partial),
        std_lv=args.std_lv,
    )
    summary = fit.summary(standardized=args.standardized,
                          fit_measures=not args.no_fit_measures)
    print(_render(summary, args.format), end="")
    return 0


# -- semnet replicate ------------------------------------------------------------------------
def _add_replicate(sub: argparse._SubParsersAction) -> Handler:
    p = sub.add_parser(
        "replicate",
        help="run the network-involvement study (Mikhailitchenko 2021) end to end",
        description="Run the study's analysis plan (reliability, CFA, invariance across "
        "countries, multi-group structural model, NI x ET moderation, mediation) on the "
        "bundled synthetic survey or on your own CSV with the same columns, and write every "
        "table as Markdown, LaTeX, HTML and CSV plus a path diagram and manifest.json.",
    )
    p.add_argument("--data", help="CSV with the study's columns (default: bundled sample)")
    p.add_argument("--out", default="out", help="output folder (default: out)")
    p.add_argument("--seed", type=int, default=2021, help="random seed (default: 2021)")
    p.add_argument("--bootstrap", type=int, default=200,
                   help="bootstrap draws for indirect effects (default: 200; 0 skips)")
    p.add_argument("--models", help="folder with the study's .lav files (default: models/)")
    return _run_replicate


def _run_replicate(args: argparse.Namespace) -> int:
    from semnet.studies import network_involvement

    if args.bootstrap < 0:
        raise InputError("--bootstrap must be 0 or more.")
    result = network_involvement.run(
        args.data, args.out, seed=args.seed, bootstrap=args.bootstrap,
        models_dir=args.models, progress=sys.stderr.isatty(),
    )  # fmt: skip
    tables = result.tables
    print(f"semnet replicate: {len(tables)} tables and a path diagram written to {args.out}/")
    for key in ("table5_invariance", "table9_path_equality", "table10_moderation_lms"):
        if key in tables:
            print()
            print(tables[key].to_markdown())
    print(f"total time {result.manifest['timings_seconds']['total']:.1f} s; see "
          f"{args.out}/manifest.json")  # fmt: skip
    return 0


#: subcommands in help order: (name, function adding the parser and returning the handler)
COMMANDS: list[tuple[str, Callable[[argparse._SubParsersAction], Handler]]] = [
    ("replicate", _add_replicate),
    ("fit", _add_fit),
    ("example", _add_example),
]


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Handler]]:
    """The argument parser and the handler of each subcommand."""
    from semnet import __version__

    parser = argparse.ArgumentParser(
        prog="semnet",
        description="Structural equation modeling with lavaan-identical numbers.",
    )
    parser.add_argument("--version", action="version", version=f"semnet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    handlers = {name: add(sub) for name, add in COMMANDS}
    return parser, handlers


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad input)."""
    from semnet.errors import SemnetError

    parser, handlers = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_INPUT
    try:
        return handlers[args.command](args)
    except (SemnetError, InputError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except BrokenPipeError:  # e.g. `semnet example | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
