"""The ``semnet`` command line: example, fit, data files, clean errors in the words of the
command line, and replicate's output folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import semnet
from semnet.cli import FLAGS, cli_message, main

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


# -- messages name the flags the user typed ---------------------------------------------------
@pytest.mark.parametrize(
    ("message", "command", "expected"),
    [
        ("Pass group= the name of the column.", "fit", "Pass --group the name of the column."),
        ("missing='fimll' is not valid", "fit", "--missing fimll is not valid"),
        ("with missing='fiml' use estimator='MLR'.", "fit",
         "with --missing fiml use --estimator MLR."),
        ("or pass std_lv=True.", "fit", "or pass --std-lv."),
        ("pass fixed_x=False to model them", "fit", "pass --no-fixed-x to model them"),
        ("group_equal=['x'] and group_partial='y~1'", "fit",
         "--group-equal ['x'] and --group-partial y~1"),
        ("pass models_dir= the folder", "replicate", "pass --models the folder"),
        ("pass overwrite=True to write", "replicate", "pass --overwrite to write"),
        ("fit.group= and subgroup=x stay", "fit", "fit.group= and subgroup=x stay"),
    ],
)
def test_cli_message_names_flags(message, command, expected):
    assert cli_message(message, FLAGS[command]) == expected


def _hs_csv(tmp_path: Path) -> Path:
    csv = tmp_path / "hs.csv"
    semnet.datasets.holzinger_swineford().to_csv(csv, index=False)
    return csv


def test_fit_errors_name_flags_not_keywords(tmp_path, capsys):
    csv = _hs_csv(tmp_path)
    assert main(["fit", str(HS_MODEL_FILE), str(csv), "--missing", "fimll"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --missing fimll is not a valid choice")
    assert "missing=" not in err
    unscaled = tmp_path / "unscaled.lav"
    unscaled.write_text("f =~ NA*x1 + x2 + x3\n")
    assert main(["fit", str(unscaled), str(csv)]) == 2
    err = capsys.readouterr().err
    assert "--std-lv" in err and "std_lv" not in err


def test_group_partial_error_names_the_flag(tmp_path, capsys):
    # the message said "group_partial names ...", which the flag rewriting missed
    csv = _hs_csv(tmp_path)
    assert main(["fit", str(HS_MODEL_FILE), str(csv), "--group", "school", "--group-equal",
                 "loadings", "--group-partial", "visual=~x99"]) == 2
    assert "error: --group-partial names 'visual=~x99'" in capsys.readouterr().err


def _ordinal_hs_csv(tmp_path: Path) -> Path:
    """The HS items cut into four categories at their quartiles (codes 1 to 4)."""
    hs = semnet.datasets.holzinger_swineford()
    items = [f"x{i}" for i in range(1, 10)]
    cut = hs[items].apply(lambda x: np.searchsorted(np.quantile(x, [0.25, 0.5, 0.75]), x) + 1)
    csv = tmp_path / "hs_ordinal.csv"
    pd.concat([hs[["school"]], cut], axis=1).to_csv(csv, index=False)
    return csv


@pytest.mark.parametrize("flags", [["--ordered", "all"], ["--ordered", "x1,x2,x3",
                                   "--ordered", "x4,x5,x6,x7,x8,x9"]])
def test_fit_ordered_items_as_the_library(tmp_path, capsys, flags):
    csv = _ordinal_hs_csv(tmp_path)
    items = [f"x{i}" for i in range(1, 10)]
    expected = semnet.cfa(HS_MODEL_FILE.read_text(), pd.read_csv(csv), ordered=items)
    assert expected.options.estimator == "WLSMV"
    assert main(["fit", str(HS_MODEL_FILE), str(csv), *flags]) == 0
    out = capsys.readouterr().out
    assert "WLSMV" in out
    assert f"{expected.fit_measures()['chisq']:.3f}" in out


def test_least_squares_without_ordered_names_the_flag(tmp_path, capsys):
    assert main(["fit", str(HS_MODEL_FILE), str(_hs_csv(tmp_path)), "--estimator", "WLS"]) == 2
    err = capsys.readouterr().err
    assert "name them in --ordered (or pass --ordered all" in err
    assert "ordered=" not in err


def test_ordered_all_among_names_is_refused(tmp_path, capsys):
    csv = _ordinal_hs_csv(tmp_path)
    assert main(["fit", str(HS_MODEL_FILE), str(csv), "--ordered", "all,x1"]) == 2
    assert "error: --ordered all means every observed variable" in capsys.readouterr().err


def test_replicate_errors_name_flags(tmp_path, capsys):
    assert main(["replicate", "--models", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "--models" in err and "models_dir" not in err
    assert not (tmp_path / "o").exists()  # inputs are checked before the folder is made


@pytest.mark.parametrize("jobs", ["0", "-2"])
def test_replicate_jobs_must_be_positive_or_minus_one(tmp_path, capsys, jobs):
    assert main(["replicate", "--jobs", jobs, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "--jobs must be a positive number" in err and f"not {jobs}" in err
    assert not (tmp_path / "o").exists()


def test_replicate_negative_seed_is_exit_2(tmp_path, capsys):
    # was an internal error from numpy, after the study's fits
    assert main(["replicate", "--seed", "-1", "--out", str(tmp_path / "o")]) == 2
    assert "--seed must be a whole number >= 0, not -1" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


# -- never a traceback ---------------------------------------------------------------------------
def _boom(*args, **kwargs):
    raise RuntimeError("boom\nsecond line")


def test_unexpected_error_is_one_line_exit_1(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("SEMNET_DEBUG", raising=False)
    monkeypatch.setattr(semnet, "sem", _boom)
    assert main(["fit", str(HS_MODEL_FILE), str(_hs_csv(tmp_path))]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: internal error (RuntimeError: boom second line)")
    assert "please report it" in err and "--debug" in err
    assert "Traceback" not in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("how", ["--debug before", "--debug after", "env"])
def test_debug_shows_the_traceback(tmp_path, capsys, monkeypatch, how):
    monkeypatch.delenv("SEMNET_DEBUG", raising=False)
    monkeypatch.setattr(semnet, "sem", _boom)
    args = ["fit", str(HS_MODEL_FILE), str(_hs_csv(tmp_path))]
    if how == "--debug before":
        args = ["--debug", *args]
    elif how == "--debug after":
        args = [*args, "--debug"]
    else:
        monkeypatch.setenv("SEMNET_DEBUG", "1")
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError: boom" in err
    assert err.splitlines()[-1].startswith("error: internal error")


def test_small_group_under_fiml_gives_no_traceback(tmp_path):
    """A group with fewer cases than variables under FIML: one error line, no traceback
    (exit 2 once the estimation raises a DataError for it, 1 while it is a numpy error)."""
    hs = semnet.datasets.holzinger_swineford()
    small = pd.concat([hs, hs.iloc[:3].assign(school="Tiny")])
    csv = tmp_path / "small.csv"
    small.to_csv(csv, index=False)
    proc = subprocess.run(
        [sys.executable, "-m", "semnet", "fit", str(HS_MODEL_FILE), str(csv), "--group",
         "school", "--missing", "fiml"],
        capture_output=True, text=True, cwd=tmp_path, check=False,
        env={k: v for k, v in os.environ.items() if k != "SEMNET_DEBUG"},
    )  # fmt: skip
    assert proc.returncode in (1, 2)
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ") and len(proc.stderr.splitlines()) == 1


def test_os_error_is_a_user_error(tmp_path, capsys, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "somewhere.csv")

    monkeypatch.setattr(semnet.datasets, "read", refuse)
    assert main(["fit", str(HS_MODEL_FILE), str(_hs_csv(tmp_path))]) == 2
    assert capsys.readouterr().err == "error: Permission denied (somewhere.csv)\n"


# -- listwise deletion that drops many rows is said on stderr ------------------------------------
def _with_missing(tmp_path: Path, share: float) -> Path:
    hs = semnet.datasets.holzinger_swineford()
    rng = np.random.default_rng(1)
    hs.loc[rng.random(len(hs)) < share, "x1"] = np.nan
    csv = tmp_path / "miss.csv"
    hs.to_csv(csv, index=False)
    return csv


def test_listwise_dropping_many_rows_warns(tmp_path, capsys):
    csv = _with_missing(tmp_path, 0.3)
    dropped = int(pd.read_csv(csv)["x1"].isna().sum())
    assert main(["fit", str(HS_MODEL_FILE), str(csv)]) == 0
    captured = capsys.readouterr()
    warning = [line for line in captured.err.splitlines() if line.startswith("warning:")]
    assert warning == [
        f"warning: listwise deletion dropped {dropped} of 301 rows "
        f"({100 * dropped / 301:.0f}%) for missing values on model variables; "
        "--missing fiml uses every row."
    ]
    assert "warning:" not in captured.out
    assert main(["fit", str(HS_MODEL_FILE), str(csv), "--missing", "fiml"]) == 0
    assert "warning:" not in capsys.readouterr().err


def test_listwise_dropping_few_rows_is_quiet(tmp_path, capsys):
    csv = _with_missing(tmp_path, 0.02)
    assert 0 < pd.read_csv(csv)["x1"].isna().sum() <= 0.05 * 301
    assert main(["fit", str(HS_MODEL_FILE), str(csv)]) == 0
    assert "warning:" not in capsys.readouterr().err


# -- data files ----------------------------------------------------------------------------------
def _fit_chisq(capsys, data: Path, *extra: str) -> str:
    assert main(["fit", str(HS_MODEL_FILE), str(data), *extra]) == 0, capsys.readouterr().err
    return capsys.readouterr().out


@pytest.mark.parametrize(
    ("name", "options"),
    [("hs.csv", {"sep": ";", "decimal": ","}), ("hs.tsv", {"sep": "\t"}),
     ("hs.txt", {"sep": "|"}), ("hs.csv.gz", {"sep": ";"})],
)  # fmt: skip
def test_fit_sniffs_the_separator(tmp_path, capsys, name, options):
    path = tmp_path / name
    semnet.datasets.holzinger_swineford().to_csv(path, index=False, **options)
    assert "85.306" in _fit_chisq(capsys, path)


def test_semicolon_file_read_as_one_column_gets_a_hint(tmp_path, capsys):
    path = tmp_path / "ragged.csv"
    path.write_text("x1;x2;x3\n1;2\n1;2;3;4\n", encoding="utf-8")
    assert main(["fit", str(HS_MODEL_FILE), str(path)]) == 2
    err = capsys.readouterr().err
    assert "read as one column named 'x1;x2;x3'" in err and "';'-separated" in err


def test_fit_reads_parquet(tmp_path, capsys):
    pytest.importorskip("pyarrow")
    path = tmp_path / "hs.parquet"
    semnet.datasets.holzinger_swineford().to_parquet(path)
    assert "85.306" in _fit_chisq(capsys, path)


@pytest.mark.parametrize("suffix", [".sav", ".dta"])
def test_fit_reads_spss_and_stata_with_group_labels(tmp_path, capsys, suffix):
    pyreadstat = pytest.importorskip("pyreadstat")
    hs = semnet.datasets.holzinger_swineford()
    coded = hs.assign(school=hs["school"].map({"Pasteur": 1, "Grant-White": 2}))
    labels = {"school": {1: "Pasteur", 2: "Grant-White"}, "x1": {0: "none"}}
    path = tmp_path / f"hs{suffix}"
    write = pyreadstat.write_sav if suffix == ".sav" else pyreadstat.write_dta
    write(coded.drop(columns=["sex", "ageyr", "agemo", "grade"]), str(path),
          variable_value_labels=labels)  # fmt: skip
    out = _fit_chisq(capsys, path, "--group", "school", "--group-equal",
                     "loadings,intercepts")  # fmt: skip
    assert "164.103" in out and "Group 2 [Grant-White]:" in out


def test_spss_without_pyreadstat_names_the_extra(tmp_path, capsys, monkeypatch):
    path = tmp_path / "hs.sav"
    path.write_bytes(b"not read")
    monkeypatch.setitem(sys.modules, "pyreadstat", None)
    assert main(["fit", str(HS_MODEL_FILE), str(path)]) == 2
    err = capsys.readouterr().err
    assert "pyreadstat" in err and "semnet[io]" in err


def test_spreadsheet_is_refused_clearly(tmp_path, capsys):
    path = tmp_path / "hs.xlsx"
    path.write_bytes(b"PK")
    assert main(["fit", str(HS_MODEL_FILE), str(path)]) == 2
    assert "save the sheet as CSV" in capsys.readouterr().err


# -- replicate's output folder ---------------------------------------------------------------------
def test_replicate_out_under_a_file_is_exit_2(tmp_path, capsys):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    assert main(["replicate", "--out", str(blocker / "sub")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot create the output folder") and "is a file" in err
    assert main(["replicate", "--out", str(blocker)]) == 2
    assert "is a file" in capsys.readouterr().err


def test_replicate_unwritable_out_is_exit_2(tmp_path, capsys, monkeypatch):
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    assert main(["replicate", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot write into the output folder")
    assert "Permission denied" in err


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root writes into any folder")  # fmt: skip
def test_replicate_read_only_out_is_exit_2(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert main(["replicate", "--out", str(locked)]) == 2
    assert "cannot write into the output folder" in capsys.readouterr().err


def test_replicate_refuses_a_folder_it_did_not_write(tmp_path, capsys):
    out = tmp_path / "results"
    out.mkdir()
    (out / "thesis.md").write_text("mine", encoding="utf-8")
    assert main(["replicate", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "is not empty" in err and "--overwrite" in err and "overwrite=" not in err
    assert [p.name for p in out.iterdir()] == ["thesis.md"]


@pytest.mark.parametrize(("flag", "value"), [
    ("--ordered", ""), ("--ordered", ","), ("--group-equal", ""), ("--group-partial", " , "),
])
def test_a_list_flag_naming_nothing_is_refused(tmp_path, capsys, flag, value):
    # was read as the flag left out: the fit ran without ordinal items or constraints
    csv = _hs_csv(tmp_path)
    assert main(["fit", str(HS_MODEL_FILE), str(csv), "--group", "school", flag, value]) == 2
    assert f"error: {flag} {value!r} names nothing" in capsys.readouterr().err


def test_weights_normalization_needs_weights(tmp_path, capsys):
    # --weights-normalization bogus without --weights was accepted and ignored
    csv = _hs_csv(tmp_path)
    assert main(["fit", str(HS_MODEL_FILE), str(csv), "--weights-normalization", "bogus"]) == 2
    assert "error: --weights-normalization applies to the sampling weights" in (
        capsys.readouterr().err)
    weighted = tmp_path / "w.csv"
    semnet.datasets.holzinger_swineford().assign(w=1.0).to_csv(weighted, index=False)
    assert main(["fit", str(HS_MODEL_FILE), str(weighted), "--weights", "w",
                 "--weights-normalization", "bogus"]) == 2
    assert "error: --weights-normalization bogus is not a valid choice" in (
        capsys.readouterr().err)
