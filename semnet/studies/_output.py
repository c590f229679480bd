"""The output folder of a study run: it writes only files it owns, each one atomically.

A run checks its folder before it computes anything: the folder is created if needed;
if it already holds files, they must come from an earlier run (its ``manifest.json``),
unless the caller asks to overwrite. The files are first written into a private
staging folder inside the output folder and then moved into place one by one with
:func:`os.replace`, the manifest last: a reader never sees a half-written file, and a
symbolic link in the output folder is replaced, never written through.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from semnet.errors import SemnetError

MANIFEST = "manifest.json"
#: prefix of the staging folders (and probe files) a run makes inside its output folder
STAGE_PREFIX = ".semnet-"


class OutputFolderError(SemnetError):
    """The output folder cannot be used: it is a file, it cannot be written, or it holds
    files that semnet did not write."""


@dataclass(frozen=True)
class OutputFolder:
    """An output folder checked for use by a run (see :meth:`open`).

    Attributes
    ----------
    path : Path
        The folder.
    previous : tuple of str
        The files an earlier run listed in the folder's manifest; those this run does not
        write again are removed when it commits, so the folder holds one run.
    """

    path: Path
    previous: tuple[str, ...] = ()

    @classmethod
    def open(cls, out: str | os.PathLike, *, overwrite: bool = False) -> OutputFolder:
        """Create ``out`` if needed and check that a run may write into it.

        Examples
        --------
        >>> import tempfile
        >>> from semnet.studies._output import OutputFolder
        >>> OutputFolder.open(tempfile.mkdtemp()).previous
        ()
        """
        path = Path(out)
        _create(path)
        previous = _own_outputs(path)
        if previous is None and not overwrite:
            foreign = sorted(e.name for e in os.scandir(path)
                             if not e.name.startswith(STAGE_PREFIX))  # fmt: skip
            if foreign:
                entries = f"{len(foreign)} entr{'y' if len(foreign) == 1 else 'ies'}"
                raise OutputFolderError(
                    f"the output folder {str(path)!r} is not empty ({entries}, e.g. "
                    f"{foreign[0]!r}) and {_why_not_ours(path)}; pass "
                    "overwrite=True to write into it anyway (files with the names of the "
                    "outputs are replaced, others are left alone), or choose a new folder."
                )
        _check_writable(path)
        return cls(path, previous or ())

    @contextmanager
    def staging(self) -> Iterator[Path]:
        """A private folder inside the output folder to write the outputs into first;
        removed on exit, whatever happens."""
        try:
            stage = Path(tempfile.mkdtemp(prefix=STAGE_PREFIX, dir=self.path))
        except OSError as exc:
            raise _cannot_write(self.path, exc) from None
        try:
            yield stage
        finally:
            shutil.rmtree(stage, ignore_errors=True)

    def commit(self, stage: Path, names: Sequence[str]) -> list[Path]:
        """Move ``names`` from ``stage`` into the folder, in that order (put the manifest
        last), then remove the earlier run's files that were not written again."""
        written = []
        for name in names:
            target = self.path / name
            try:
                os.replace(stage / name, target)
            except OSError as exc:
                why = "it is a folder" if target.is_dir() else exc.strerror or str(exc)
                raise OutputFolderError(f"cannot write {str(target)!r}: {why}.") from None
            written.append(target)
        for name in sorted(set(self.previous) - set(names)):
            stale = self.path / name
            if stale.is_symlink() or stale.is_file():
                stale.unlink(missing_ok=True)
        return written


def _create(path: Path) -> None:
    if path.is_symlink() and not path.exists():
        raise OutputFolderError(
            f"the output folder {str(path)!r} is a symbolic link to a folder that does not "
            "exist; create that folder or choose another one."
        )
    if path.exists() and not path.is_dir():
        raise OutputFolderError(
            f"the output folder {str(path)!r} is a file; choose a folder (it is created if "
            "it does not exist)."
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), path)
        raise OutputFolderError(
            f"cannot create the output folder {str(path)!r}: {str(blocker)!r} is a file, "
            "not a folder."
        ) from None
    except OSError as exc:
        raise OutputFolderError(
            f"cannot create the output folder {str(path)!r}: {exc.strerror or exc}; choose "
            "a folder you can write to."
        ) from None


def _cannot_write(path: Path, exc: OSError) -> OutputFolderError:
    return OutputFolderError(
        f"cannot write into the output folder {str(path)!r}: {exc.strerror or exc}; choose "
        "a folder you can write to."
    )


def _check_writable(path: Path) -> None:
    try:
        fd, probe = tempfile.mkstemp(prefix=STAGE_PREFIX, dir=path)
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    os.close(fd)
    os.unlink(probe)


def _own_outputs(path: Path) -> tuple[str, ...] | None:
    """The outputs listed by the folder's manifest, or ``None`` if it has none of semnet's."""
    manifest = path / MANIFEST
    if manifest.is_symlink() or not manifest.is_file():
        return None
    try:
        content = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not (isinstance(content, dict) and "semnet_version" in content
            and isinstance(content.get("outputs"), list)):  # fmt: skip
        return None
    return tuple(n for n in content["outputs"] if isinstance(n, str) and _plain_name(n))


def _plain_name(name: str) -> bool:
    """A file name directly in the folder (no separators, no ``..``, not hidden)."""
    return name == Path(name).name and not name.startswith(".") and name != MANIFEST


def _why_not_ours(path: Path) -> str:
    manifest = path / MANIFEST
    if manifest.is_symlink():
        return f"its {MANIFEST} is a symbolic link, not a file an earlier run wrote"
    if manifest.exists():
        return f"its {MANIFEST} was not written by semnet"
    return f"has no {MANIFEST} of an earlier semnet run"
