"""Reading a survey file into a DataFrame, whatever format it was saved in."""

from __future__ import annotations

import bz2
import csv
import gzip
import lzma
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from semnet.errors import DataError

#: the separators a CSV file may use; :class:`csv.Sniffer` picks one from the first lines
SEPARATORS = ",;\t|"
#: how to install the optional readers
IO_EXTRA = "pip install 'semnet[io]'"
_SNIFF_LINES = 50
_SNIFF_BYTES = 64 * 1024
_OPENERS: dict[str, Callable] = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_ARCHIVES = (".zip", ".zst", ".tar")
_SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".ods")


def read(path: str | os.PathLike, *, value_labels: Sequence[str] = ()) -> pd.DataFrame:
    """Read a data file: CSV (separator detected), Parquet, SPSS ``.sav`` or Stata ``.dta``.

    The format follows the file's extension; anything that is not Parquet, SPSS or Stata
    is read as text with a header row, its separator (``,``, ``;``, tab or ``|``) taken
    from its first lines. A ``;``-separated file with decimal commas (``3,5``) is read as
    numbers. SPSS and Stata files keep their numeric codes, so Likert items stay numbers;
    the columns in ``value_labels`` get their value labels instead (for example the
    group column, so the groups are named ``"USA"`` rather than ``1``). SPSS and Stata
    need the optional package pyreadstat and Parquet needs pyarrow
    (``pip install 'semnet[io]'``).

    Parameters
    ----------
    path : str or path-like
        The data file.
    value_labels : sequence of str
        Columns of an SPSS or Stata file whose codes are replaced by their value labels.

    Returns
    -------
    DataFrame

    Raises
    ------
    DataError
        The file does not exist, cannot be parsed, or needs a package that is missing.

    Examples
    --------
    >>> from semnet import datasets
    >>> datasets.read(datasets.network_involvement_path()).shape
    (950, 23)
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"data file {str(path)!r} does not exist.")
    if not path.is_file():
        raise DataError(f"data file {str(path)!r} is not a file.")
    suffix = path.suffix.lower()
    if suffix in _SPREADSHEETS:
        raise DataError(
            f"data file {str(path)!r} is a spreadsheet; semnet reads CSV, Parquet, SPSS "
            "(.sav) and Stata (.dta) files: save the sheet as CSV."
        )
    if suffix in (".parquet", ".pq"):
        return _parquet(path)
    if suffix in (".sav", ".zsav"):
        return _labelled(path, "read_sav", "an SPSS", value_labels)
    if suffix == ".dta":
        return _labelled(path, "read_dta", "a Stata", value_labels)
    return _csv(path)


def _parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except ImportError:
        raise DataError(
            f"reading the Parquet file {str(path)!r} needs the optional package pyarrow: "
            f"{IO_EXTRA}"
        ) from None
    except (OSError, ValueError) as exc:  # pyarrow's errors derive from these
        raise DataError(f"cannot read data file {str(path)!r} as Parquet: {exc}") from None


def _labelled(path: Path, reader: str, kind: str, value_labels: Sequence[str]) -> pd.DataFrame:
    """An SPSS or Stata file by pyreadstat: codes, with labels for ``value_labels``."""
    try:
        import pyreadstat
    except ImportError:
        raise DataError(
            f"reading {kind} file ({str(path)!r}) needs the optional package pyreadstat: "
            f"{IO_EXTRA}"
        ) from None
    try:
        frame, meta = getattr(pyreadstat, reader)(str(path), apply_value_formats=False)
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError, OSError) as exc:
        raise DataError(f"cannot read data file {str(path)!r} as {kind} file: {exc}") from None
    for column in value_labels:
        labels = meta.variable_value_labels.get(column)
        if labels and column in frame.columns:
            frame[column] = [labels.get(v, v) for v in frame[column]]
    return frame


def _sample(path: Path) -> str:
    """The first lines of a text file (decompressed), for sniffing its separator."""
    suffix = path.suffix.lower()
    if suffix in _ARCHIVES:
        return ""  # pandas opens them; the separator is taken to be ","
    opener = _OPENERS.get(suffix, open)
    try:
        with opener(path, "rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except (OSError, EOFError, lzma.LZMAError):
        return ""
    lines = head.decode("utf-8", errors="replace").splitlines()
    if len(head) == _SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut
    return "\n".join(lines[:_SNIFF_LINES])


def _dialect(sample: str) -> tuple[str, str]:
    """Separator and decimal mark of a CSV sample (``","`` and ``"."`` when unsure)."""
    try:
        sep = csv.Sniffer().sniff(sample, delimiters=SEPARATORS).delimiter
    except csv.Error:
        sep = ","
    decimal = "," if sep == ";" and re.search(r"\d,\d", sample) else "."
    return sep, decimal


def _csv(path: Path) -> pd.DataFrame:
    sample = _sample(path)
    sep, decimal = _dialect(sample)
    try:
        try:
            frame = pd.read_csv(path, sep=sep, decimal=decimal)
        except UnicodeDecodeError:
            # not UTF-8: most often a Windows export (cp1252), which latin-1 reads
            frame = pd.read_csv(path, sep=sep, decimal=decimal, encoding="latin-1")
    except (OSError, ValueError) as exc:  # pandas' ParserError and EmptyDataError too
        raise DataError(
            f"cannot read data file {str(path)!r} as CSV: {exc}{_separator_hint(sample, sep)}"
        ) from None
    _check_unique_header(sample, sep, path)
    if frame.shape[1] == 1:
        hint = _separator_hint(str(frame.columns[0]), sep)
        if hint:
            raise DataError(
                f"data file {str(path)!r} was read as one column named "
                f"{str(frame.columns[0])[:60]!r}{hint}"
            )
    return frame


def _check_unique_header(sample: str, sep: str, path: Path) -> None:
    """pandas renames a repeated column name (``x8``, ``x8.1``), so that a model naming it
    would silently use the first column: a repeated name is a :class:`DataError`."""
    lines = sample.lstrip("\ufeff").splitlines()
    header = next(csv.reader(lines[:1], delimiter=sep), [])
    seen: dict[str, int] = {}
    for k, name in enumerate(header):
        if name in seen:
            raise DataError(
                f"data file {str(path)!r} has two columns named {name!r} (columns "
                f"{seen[name] + 1} and {k + 1}); rename one of them in the file."
            )
        seen[name] = k


def _separator_hint(text: str, used: str) -> str:
    """A hint when ``text`` (the header) holds another separator than the one used."""
    first = text.splitlines()[0] if text else ""
    for sep in SEPARATORS:
        if sep != used and sep in first:
            shown = "tab" if sep == "\t" else repr(sep)
            return (
                f". It looks {shown}-separated, but its rows do not all have the same "
                f"number of {shown} separators, so the separator could not be detected; "
                "check the file, or save it again as a comma-separated CSV."
            )
    return ""
