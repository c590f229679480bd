"""The study's output folder: only files it owns, atomically, never through a symlink."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

import semnet
from semnet.studies import network_involvement as study
from semnet.studies._output import MANIFEST, STAGE_PREFIX, OutputFolder, OutputFolderError


def _manifest(outputs: list[str]) -> str:
    return json.dumps({"semnet_version": semnet.__version__, "outputs": outputs})


def _write_run(folder: OutputFolder, files: dict[str, str]) -> list[Path]:
    """Commit ``files`` (name -> text) and a manifest listing them, as a run does."""
    with folder.staging() as stage:
        for name, text in files.items():
            (stage / name).write_text(text, encoding="utf-8")
        (stage / MANIFEST).write_text(_manifest(sorted(files)), encoding="utf-8")
        written = folder.commit(stage, [*files, MANIFEST])
    assert not [p for p in folder.path.iterdir() if p.name.startswith(STAGE_PREFIX)]
    return written


def test_new_and_empty_folders_are_used(tmp_path):
    new = OutputFolder.open(tmp_path / "a" / "b")
    assert new.path.is_dir() and new.previous == ()
    written = _write_run(new, {"t.md": "x"})
    assert [p.name for p in written] == ["t.md", MANIFEST]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert OutputFolder.open(empty).path == empty


def test_foreign_folder_is_refused_unless_overwrite(tmp_path):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    (tmp_path / "t.md").write_text("old", encoding="utf-8")
    with pytest.raises(OutputFolderError, match=r"not empty .*'notes.txt'.*overwrite=True"):
        OutputFolder.open(tmp_path)
    folder = OutputFolder.open(tmp_path, overwrite=True)
    _write_run(folder, {"t.md": "new"})
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert (tmp_path / "t.md").read_text(encoding="utf-8") == "new"


def test_own_folder_is_reused_and_stale_outputs_removed(tmp_path):
    _write_run(OutputFolder.open(tmp_path), {"a.md": "1", "b.md": "2"})
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    again = OutputFolder.open(tmp_path)
    assert again.previous == ("a.md", "b.md")
    _write_run(again, {"a.md": "3"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.md", MANIFEST, "notes.txt"]
    assert (tmp_path / "a.md").read_text(encoding="utf-8") == "3"


@pytest.mark.parametrize(
    "manifest",
    [
        "not json",
        json.dumps({"outputs": []}),
        json.dumps(["semnet_version", "outputs"]),
    ],
)
def test_a_manifest_semnet_did_not_write_is_not_trusted(tmp_path, manifest):
    (tmp_path / MANIFEST).write_text(manifest, encoding="utf-8")
    with pytest.raises(OutputFolderError, match="was not written by semnet"):
        OutputFolder.open(tmp_path)


def test_a_symlinked_manifest_is_not_trusted(tmp_path):
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(_manifest(["a.md"]), encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / MANIFEST).symlink_to(elsewhere)
    with pytest.raises(OutputFolderError, match="symbolic link"):
        OutputFolder.open(out)


def test_manifest_names_outside_the_folder_are_never_removed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    names = ["../victim.txt", str(victim), ".hidden", "a.md"]
    (out / MANIFEST).write_text(_manifest(names), encoding="utf-8")
    folder = OutputFolder.open(out)
    assert folder.previous == ("a.md",)
    _write_run(folder, {"b.md": "x"})
    assert victim.read_text(encoding="utf-8") == "keep"


def test_a_symlink_in_the_folder_is_replaced_not_written_through(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep", encoding="utf-8")
    out = tmp_path / "out"
    folder = OutputFolder.open(out)
    (out / "t.md").symlink_to(victim)
    _write_run(folder, {"t.md": "new"})
    assert victim.read_text(encoding="utf-8") == "keep"
    assert not (out / "t.md").is_symlink()
    assert (out / "t.md").read_text(encoding="utf-8") == "new"


def test_an_output_name_taken_by_a_folder_is_a_clear_error(tmp_path):
    folder = OutputFolder.open(tmp_path / "out")
    (folder.path / "t.md").mkdir()
    (folder.path / "t.md" / "inside.txt").write_text("x", encoding="utf-8")
    with pytest.raises(OutputFolderError, match=r"cannot write .*t\.md': it is a folder"):
        _write_run(folder, {"t.md": "x"})
    assert not [p for p in folder.path.iterdir() if p.name.startswith(STAGE_PREFIX)]


def test_out_that_is_or_sits_under_a_file(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(OutputFolderError, match="is a file; choose a folder"):
        OutputFolder.open(blocker)
    with pytest.raises(OutputFolderError, match=r"cannot create .* is a file, not a folder"):
        OutputFolder.open(blocker / "a" / "b")


def test_a_dangling_symlink_as_out_is_a_clear_error(tmp_path):
    (tmp_path / "out").symlink_to(tmp_path / "gone")
    with pytest.raises(OutputFolderError, match="symbolic link to a folder that does not"):
        OutputFolder.open(tmp_path / "out")


def test_unwritable_folder_is_a_clear_error(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(OutputFolderError, match=r"cannot write into .*Permission denied"):
        OutputFolder.open(tmp_path)


def test_leftover_staging_folders_do_not_make_a_folder_foreign(tmp_path):
    (tmp_path / f"{STAGE_PREFIX}killed").mkdir()
    assert OutputFolder.open(tmp_path).previous == ()


def test_run_checks_the_folder_before_fitting(tmp_path, monkeypatch):
    """A refused folder fails in well under the time of a fit: nothing is estimated."""
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")

    def no_fitting(*args, **kwargs):
        raise AssertionError("fitted before checking the output folder")

    monkeypatch.setattr(semnet, "cfa", no_fitting)
    with pytest.raises(OutputFolderError, match="overwrite=True"):
        study.run(out=tmp_path, bootstrap=0)
