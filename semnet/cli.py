"""The ``semnet`` command line (also ``python -m semnet``): a thin layer over the API.

Subcommands
-----------
``semnet studies``
    List the registered studies, one per line, the study's name first.
``semnet replicate [STUDY] [--data FILE] [--out DIR] [--seed N] [--bootstrap N] [--jobs N]
[--models DIR] [--overwrite]``
    Run a study (default: network-involvement) end to end and write its tables (and,
    for network-involvement, a path diagram) and manifest into ``--out`` (a new or empty
    folder, or one an earlier run wrote).
``semnet example``
    Fit the Holzinger–Swineford three-factor CFA on the bundled data and print its
    lavaan-style summary with standardized estimates.
``semnet fit MODEL_FILE DATA_FILE [--group COL] [--group-equal ...] [--std-lv]
[--estimator ML] [--missing listwise|fiml] [--standardized] [--no-fit-measures]
[--format text|markdown]``
    Fit a model file (lavaan syntax) to a data file (CSV with any common separator,
    Parquet, SPSS ``.sav``, Stata ``.dta``) and print the summary.

The command line never shows a traceback. Errors raised by semnet
(:class:`semnet.SemnetError`), unreadable input files and unusable output folders print
as ``error: <message>`` on stderr with exit status 2; the message names the command's
flags (``--group``), not the library's keywords (``group=``). Anything else is a bug:
it prints ``error: internal error (...)`` with exit status 1, and ``--debug`` (or the
environment variable ``SEMNET_DEBUG=1``) adds the traceback.

New subcommands register themselves in :data:`COMMANDS` (a name and a function that
adds its parser and returns the handler), and the flags that set the library's keywords
in :data:`FLAGS`.

Examples
--------
.. code-block:: console

    $ semnet example
    $ semnet fit models/holzinger_swineford.lav hs.csv --group school \\
          --group-equal loadings,intercepts --standardized
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import traceback
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

#: exit status for bad input (model, data, options, output folder), as argparse uses
EXIT_INPUT = 2
#: exit status for a bug in semnet (an exception that is not a SemnetError)
EXIT_INTERNAL = 1
#: environment variable that makes the command line print tracebacks (like ``--debug``)
DEBUG_ENV = "SEMNET_DEBUG"
#: share of the rows that listwise deletion may drop before ``fit`` warns on stderr
LISTWISE_WARN_SHARE = 0.05

#: the Holzinger–Swineford three-factor CFA (also in ``models/holzinger_swineford.lav``)
HS_MODEL = """\
visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9
"""

#: per subcommand, the library's keywords (``name`` or ``name=value``) and the flag that
#: sets them, so that error messages name what the user typed
FLAGS: dict[str, dict[str, str]] = {
    "fit": {
        "std_lv=True": "--std-lv",
        "fixed_x=False": "--no-fixed-x",
        "group_equal": "--group-equal",
        "group_partial": "--group-partial",
        "group": "--group",
        "estimator": "--estimator",
        "missing": "--missing",
        "sampling_weights_normalization": "--weights-normalization",
        "sampling_weights": "--weights",
        "cluster": "--cluster",
        "ordered=True": "--ordered all",
        "ordered": "--ordered",
    },
    "replicate": {
        "overwrite=True": "--overwrite",
        "models_dir": "--models",
        "bootstrap": "--bootstrap",
        "seed": "--seed",
        "out": "--out",
        "n_jobs": "--jobs",
    },
}

Handler = Callable[[argparse.Namespace], int]


class InputError(Exception):
    """A problem with the command's input files (reported like a SemnetError)."""


def cli_message(message: str, flags: Mapping[str, str]) -> str:
    """``message`` with the library's keywords replaced by the command-line flags.

    ``name='value'`` becomes ``--flag value``, ``name=`` becomes ``--flag``, and a key
    that holds its value (``std_lv=True``) becomes its flag.

    Examples
    --------
    >>> from semnet.cli import FLAGS, cli_message
    >>> cli_message("pass group= the column; or missing='fiml'", FLAGS["fit"])
    'pass --group the column; or --missing fiml'
    >>> cli_message("or pass std_lv=True.", FLAGS["fit"])
    'or pass --std-lv.'
    """
    for key, flag in flags.items():
        if "=" in key:
            message = re.sub(rf"(?<![\w.-]){re.escape(key)}(?!\w)", flag, message)
        else:
            pattern = rf"(?<![\w.-]){re.escape(key)}=(?:'([^']*)'|\"([^\"]*)\"|(?=(\S))|)"
            message = re.sub(pattern, lambda m, flag=flag: _flag_with_value(flag, m), message)
    return message


def _flag_with_value(flag: str, m: re.Match) -> str:
    quoted, double, other = m.groups()
    if quoted is not None or double is not None:
        return f"{flag} {quoted if quoted is not None else double}"
    return flag if other is None else f"{flag} "


def _render(summary, fmt: str) -> str:
    return summary.to_markdown() if fmt == "markdown" else str(summary)


def _fit_quietly(func, *args, **kwargs):
    """Fit without Python's warning lines; the summary lists the fit's warnings itself."""
    from semnet.errors import SemnetWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SemnetWarning)
        return func(*args, **kwargs)


def _common() -> argparse.ArgumentParser:
    """Options every subcommand takes (after its name, too)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help=f"print the traceback of an error (also: {DEBUG_ENV}=1)")
    return common


# -- semnet example ----------------------------------------------------------------------
def _add_example(sub: argparse._SubParsersAction) -> Handler:
    p = sub.add_parser(
        "example",
        parents=[_common()],
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
def _split_list(values: Sequence[str] | None, flag: str) -> list[str]:
    """The comma-separated names of a repeatable ``flag``; a value naming nothing (``''``,
    ``','``) is refused rather than read as the flag left out."""
    out: list[str] = []
    for v in values or ():
        names = [part.strip() for part in v.split(",") if part.strip()]
        if not names:
            raise InputError(f"{flag} {v!r} names nothing; give names separated by commas, "
                             f"or leave {flag} out.")
        out.extend(names)
    return out


def _add_fit(sub: argparse._SubParsersAction) -> Handler:
    p = sub.add_parser(
        "fit",
        parents=[_common()],
        help="fit a model file (lavaan syntax) to a data file and print the summary",
        description="Fit MODEL_FILE (lavaan model syntax) to DATA_FILE and print a "
        "lavaan-style summary. DATA_FILE is a CSV file with a header row (separator "
        "',', ';', tab or '|', detected), a Parquet file, an SPSS .sav or a Stata .dta "
        "file (Parquet, SPSS and Stata need: pip install 'semnet[io]').",
    )
    p.add_argument("model_file", metavar="MODEL_FILE", help="lavaan model syntax file")
    p.add_argument("data_file", metavar="DATA_FILE",
                   help="data: .csv (or .tsv, .txt), .parquet, .sav or .dta")
    p.add_argument("--group", metavar="COL", help="column defining the groups")
    p.add_argument("--group-equal", metavar="WHAT", action="append",
                   help="cross-group equality constraints, e.g. loadings,intercepts "
                   "(repeatable)")
    p.add_argument("--group-partial", metavar="PARAM", action="append",
                   help="parameters exempt from --group-equal, e.g. 'x3~1' (repeatable)")
    p.add_argument("--std-lv", action="store_true",
                   help="fix latent variances to 1 instead of the first loadings")
    p.add_argument("--no-fixed-x", action="store_true",
                   help="treat observed exogenous covariates as random variables "
                   "(lavaan's fixed.x = FALSE)")
    p.add_argument("--ordered", metavar="COL", action="append",
                   help="ordinal items, e.g. q1,q2,q3 (repeatable), or 'all' for every "
                   "observed variable of the model: thresholds and polychoric correlations, "
                   "estimated by WLSMV unless --estimator says otherwise")
    p.add_argument("--estimator",
                   help="ML, MLR, MLM or MLMV; with --ordered WLSMV, WLSMVS, ULSMV, DWLS or "
                   "WLS (default: ML, WLSMV with --ordered)")
    p.add_argument("--missing", default="listwise",
                   help="listwise, fiml or fiml.x (fiml keeping the rows missing on a "
                   "covariate, lavaan's ml.x) (default: listwise)")
    p.add_argument("--weights", metavar="COL",
                   help="column of sampling weights (robust SEs and the Yuan-Bentler test, "
                   "as lavaan's sampling.weights)")
    p.add_argument("--weights-normalization", metavar="HOW",
                   help="total, group or none (default: total)")
    p.add_argument("--cluster", metavar="COL",
                   help="column of cluster labels: cluster-robust SEs and the Yuan-Bentler "
                   "test (as lavaan's cluster=, with ML, MLR or MLM)")
    p.add_argument("--standardized", action="store_true",
                   help="add the Std.lv and Std.all columns")
    p.add_argument("--no-fit-measures", action="store_true",
                   help="leave out the fit-measure blocks")
    p.add_argument("--format", choices=("text", "markdown"), default="text",
                   help="output format (default: text)")
    return _run_fit


def _ordered(values: Sequence[str] | None) -> list[str] | bool | None:
    """``--ordered``: the named columns, ``True`` for ``all``, ``None`` when not given."""
    names = _split_list(values, "--ordered")
    if names == ["all"]:
        return True
    if "all" in names:
        raise InputError(
            "--ordered all means every observed variable of the model; give it alone, "
            "or name the ordinal columns."
        )
    return names or None


def _read_model(model_file: str) -> str:
    path = Path(model_file)
    if not path.is_file():
        raise InputError(f"model file {model_file!r} does not exist (or is not a file).")
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read model file {model_file!r}: {exc}") from None


def _warn_listwise(fit, missing: str) -> None:
    """A stderr line when listwise deletion dropped more than LISTWISE_WARN_SHARE."""
    if str(missing).lower() != "listwise":
        return
    dropped = sum(fit.n_dropped.values())
    total = sum(fit.nobs.values()) + dropped
    if total and dropped / total > LISTWISE_WARN_SHARE:
        print(f"warning: listwise deletion dropped {dropped} of {total} rows "
              f"({100 * dropped / total:.0f}%) for missing values on model variables; "
              "--missing fiml uses every row.", file=sys.stderr)  # fmt: skip


def _run_fit(args: argparse.Namespace) -> int:
    import semnet

    if args.weights_normalization is not None and args.weights is None:
        raise InputError("--weights-normalization applies to the sampling weights; give "
                         "their column with --weights COL, or leave it out.")
    text = _read_model(args.model_file)
    data = semnet.datasets.read(args.data_file, value_labels=[args.group] if args.group else [])
    fit = _fit_quietly(
        semnet.sem,
        text,
        data,
        group=args.group,
        estimator=args.estimator,
        missing=args.missing,
        group_equal=_split_list(args.group_equal, "--group-equal"),
        group_partial=_split_list(args.group_partial, "--group-partial"),
        std_lv=args.std_lv,
        fixed_x=not args.no_fixed_x,
        sampling_weights=args.weights,
        sampling_weights_normalization=args.weights_normalization or "total",
        cluster=args.cluster,
        ordered=_ordered(args.ordered),
    )
    summary = fit.summary(standardized=args.standardized,
                          fit_measures=not args.no_fit_measures)
    print(_render(summary, args.format), end="")
    sys.stdout.flush()
    _warn_listwise(fit, args.missing)
    return 0


# -- semnet replicate ------------------------------------------------------------------------
def _add_replicate(sub: argparse._SubParsersAction) -> Handler:
    p = sub.add_parser(
        "replicate",
        parents=[_common()],
        help="run a study end to end (default: network-involvement; see semnet studies)",
        description="Run a study's analysis plan (reliability, CFA, invariance across "
        "groups, multi-group structural model, latent interactions, mediation) on its "
        "bundled synthetic survey or on your own data file with the same columns, and "
        "write every table as Markdown, LaTeX, HTML and CSV plus manifest.json. The "
        "output folder must be new, empty, or one an earlier run wrote (it has that "
        "run's manifest.json); --overwrite writes into any folder.",
    )
    p.add_argument("study", metavar="STUDY", nargs="?", default="network-involvement",
                   help="the study to run (default: network-involvement; semnet studies "
                   "lists them)")
    p.add_argument("--data", metavar="FILE",
                   help="data file (.csv, .parquet, .sav, .dta) with the study's columns "
                   "(default: the bundled sample)")
    p.add_argument("--out", metavar="DIR", default="out", help="output folder (default: out)")
    p.add_argument("--seed", type=int, default=2021, help="random seed (default: 2021)")
    p.add_argument("--bootstrap", metavar="N", type=int, default=200,
                   help="bootstrap draws for indirect effects (default: 200; 0 skips)")
    p.add_argument("--models", metavar="DIR",
                   help="folder with the study's .lav files (default: the ones shipped "
                   "with semnet, as in models/)")
    p.add_argument("--overwrite", action="store_true",
                   help="write into a non-empty folder that no earlier run wrote (files "
                   "with the outputs' names are replaced)")
    p.add_argument("--weights", metavar="COL",
                   help="column of sampling weights (network-involvement study: the models "
                   "that allow them are fitted with MLR and the weights, as lavaan)")
    p.add_argument("--jobs", metavar="N", type=int, default=1,
                   help="worker processes for the bootstrap (default: 1; -1: every CPU); "
                   "the tables are the same whatever N")
    return _run_replicate


#: the endings of the table names ``semnet replicate`` prints, by study (the rest are
#: only written)
SHOWN = {
    "network-involvement": ("_invariance", "_path_equality", "_moderation_lms"),
}
SHOWN_DEFAULT = ("_invariance", "_effects")


def _run_replicate(args: argparse.Namespace) -> int:
    from semnet.studies import get

    if args.bootstrap < 0:
        raise InputError(f"--bootstrap must be 0 or more, not {args.bootstrap}.")
    if args.seed < 0:
        raise InputError(f"--seed must be a whole number >= 0, not {args.seed}.")
    if args.jobs == 0 or args.jobs < -1:
        raise InputError(f"--jobs must be a positive number of worker processes or -1 "
                         f"(every CPU), not {args.jobs}.")
    study = get(args.study)
    extra = {}
    if args.weights is not None:
        if study.name != "network-involvement":
            raise InputError(f"--weights is available for the network-involvement study, "
                             f"not yet for {study.name!r}.")
        extra["weights"] = args.weights
    result = study.run(
        args.data, args.out, seed=args.seed, bootstrap=args.bootstrap,
        models_dir=args.models, progress=None, overwrite=args.overwrite, jobs=args.jobs,
        **extra,
    )  # fmt: skip
    tables = result.tables
    report = result.manifest.get("report")
    if report:
        word = f", {report['docx']}" if report["docx"] else ""
        print(f"semnet replicate: {len(tables)} tables (Markdown, LaTeX, HTML, CSV), a path "
              f"diagram, {report['html']}{word} written to {args.out}/")
        if not report["docx"]:
            print(f"  no Word file: {report['docx_status']}", file=sys.stderr)
    else:
        figures = " and a path diagram" if any(f.suffix == ".svg" for f in result.files) else ""
        print(f"semnet replicate: {len(tables)} tables{figures} written to {args.out}/")
    shown = SHOWN.get(study.name, SHOWN_DEFAULT)
    for key, table in tables.items():
        if key.endswith(shown):
            print()
            print(table.to_text())
    print(f"total time {result.manifest['timings_seconds']['total']:.1f} s; see "
          f"{args.out}/manifest.json")  # fmt: skip
    return 0


# -- semnet studies --------------------------------------------------------------------------
def _add_studies(sub: argparse._SubParsersAction) -> Handler:
    sub.add_parser(
        "studies", parents=[_common()], help="list the studies semnet replicate runs",
        description="List the registered studies, one per line: name, groups compared, "
        "title.",
    )  # fmt: skip
    return _run_studies


def _run_studies(args: argparse.Namespace) -> int:
    from semnet.studies import list_studies

    for study in list_studies():
        print(f"{study.name}\t{study.group}: {'/'.join(study.groups)}\t{study.title}")
    return 0


#: subcommands in help order: (name, function adding the parser and returning the handler)
COMMANDS: list[tuple[str, Callable[[argparse._SubParsersAction], Handler]]] = [
    ("replicate", _add_replicate),
    ("studies", _add_studies),
    ("fit", _add_fit),
    ("example", _add_example),
]


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Handler]]:
    """The argument parser and the handler of each subcommand.

    Examples
    --------
    >>> from semnet.cli import build_parser
    >>> parser, handlers = build_parser()
    >>> sorted(handlers)
    ['example', 'fit', 'replicate', 'studies']
    """
    from semnet._version import __version__

    parser = argparse.ArgumentParser(
        prog="semnet",
        description="Structural equation modeling with lavaan-identical numbers.",
    )
    parser.add_argument("--version", action="version", version=f"semnet {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help=f"print the traceback of an error (also: {DEBUG_ENV}=1)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    handlers = {name: add(sub) for name, add in COMMANDS}
    return parser, handlers


def _one_line(exc: BaseException, limit: int = 300) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _report(exc: BaseException, command: str, debug: bool) -> int:
    """Print ``exc`` as one ``error:`` line (and its traceback when debugging)."""
    from semnet.errors import SemnetError

    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    if isinstance(exc, SemnetError | InputError):
        print(f"error: {cli_message(str(exc), FLAGS.get(command, {}))}", file=sys.stderr)
        return EXIT_INPUT
    if isinstance(exc, OSError):  # the system refused (disk full, permission denied)
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"error: {exc.strerror or _one_line(exc)}{where}", file=sys.stderr)
        return EXIT_INPUT
    hint = "" if debug else f" (--debug or {DEBUG_ENV}=1 shows the traceback)"
    print(f"error: internal error ({type(exc).__name__}: {_one_line(exc)}); please report "
          f"it with the command you ran{hint}", file=sys.stderr)  # fmt: skip
    return EXIT_INTERNAL


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad input, 1 a bug).

    Examples
    --------
    >>> from semnet.cli import main
    >>> main(["fit", "no_such_model.lav", "data.csv"])  # doctest: +SKIP
    2
    """
    parser, handlers = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_INPUT
    debug = args.debug or os.environ.get(DEBUG_ENV, "") not in ("", "0")
    try:
        return handlers[args.command](args)
    except BrokenPipeError:  # e.g. `semnet example | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        return _report(exc, args.command, debug)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
