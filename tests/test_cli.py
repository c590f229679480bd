"""The ``semnet`` command line: example, fit, and clean errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import semnet
from semnet.cli import main

ROOT = Path(__file__).resolve().parent.parent
HS_MODEL_FILE = ROOT / "models" / "holzinger_swineford.lav"


def test_example_prints_hs_summary(capsys):
    assert main(["example"]) == 0
    out = capsys.readouterr().out
    assert "85.306" in out
    assert "Degrees of freedom                                24" in out
    assert "Std.lv" in out and "Std.all" in out


def test_fit_on_csv(tmp_path, capsys):
    csv = tmp_path / "hs.csv"
    semnet.datasets.holzinger_swineford().to_csv(csv, index=False)
    assert main(["fit", str(HS_MODEL_FILE), str(csv)]) == 0
    out = capsys.readouterr().out
    assert "85.306" in out
    assert "Std.lv" not in out


def test_fit_multigroup_options(tmp_path, capsys):
    csv = tmp_path / "hs.csv"
    semnet.datasets.holzinger_swineford().to_csv(csv, index=False)
    code = main(["fit", str(HS_MODEL_FILE), str(csv), "--group", "school",
                 "--group-equal", "loadings,intercepts", "--standardized",
                 "--no-fit-measures"])
    assert code == 0
    out = capsys.readouterr().out
    assert "164.103" in out
    assert "Group 2 [Grant-White]:" in out
    assert "RMSEA" not in out


def test_fit_markdown(tmp_path, capsys):
    csv = tmp_path / "hs.csv"
    semnet.datasets.holzinger_swineford().to_csv(csv, index=False)
    assert main(["fit", str(HS_MODEL_FILE), str(csv), "--format", "markdown"]) == 0
    assert "| x2 |" in capsys.readouterr().out


@pytest.mark.parametrize(
    "model_text",
    ["visual =~ x1 + x2 +* x3\n", "visual =~ x1 + x2 + nosuchcolumn\n", "f =~ x1 + x2\n"],
)
def test_bad_model_file_exits_2(tmp_path, capsys, model_text):
    csv = tmp_path / "hs.csv"
    semnet.datasets.holzinger_swineford().to_csv(csv, index=False)
    bad = tmp_path / "bad.lav"
    bad.write_text(model_text)
    assert main(["fit", str(bad), str(csv)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ")
    assert "Traceback" not in captured.err
    assert captured.out == ""


def test_missing_files_exit_2(tmp_path, capsys):
    assert main(["fit", str(tmp_path / "none.lav"), str(tmp_path / "none.csv")]) == 2
    assert capsys.readouterr().err.startswith("error: model file")
    assert main(["fit", str(HS_MODEL_FILE), str(tmp_path / "none.csv")]) == 2
    assert capsys.readouterr().err.startswith("error: data file")


def test_no_command_shows_help(capsys):
    assert main([]) == 2
    assert "example" in capsys.readouterr().err


def test_python_dash_m_in_subprocess(tmp_path):
    """``python -m semnet`` end to end: exit status and stderr of a real process."""
    bad = tmp_path / "bad.lav"
    bad.write_text("visual =~ x1 + x2 +* x3\n")
    csv = tmp_path / "hs.csv"
    semnet.datasets.holzinger_swineford().to_csv(csv, index=False)
    proc = subprocess.run([sys.executable, "-m", "semnet", "fit", str(bad), str(csv)],
                          capture_output=True, text=True, cwd=tmp_path, check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ")
    assert "Traceback" not in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "semnet", "example"],
                          capture_output=True, text=True, cwd=tmp_path, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "85.306" in proc.stdout
