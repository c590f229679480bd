"""Bundled data sets and :func:`semnet.datasets.read` (the formats are also tested
through the command line in ``tests/test_cli.py``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import semnet
from semnet import datasets
from semnet.datasets import bundled_path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_network_involvement_is_the_committed_csv():
    survey = datasets.network_involvement()
    committed = pd.read_csv(ROOT / "sample_data" / "network_involvement.csv")
    pd.testing.assert_frame_equal(survey, committed)
    assert list(survey["country"].unique()) == ["USA", "China", "Russia"]


def test_bundled_prefers_the_packaged_copy_then_the_checkout():
    packaged = bundled_path("semnet.datasets", "HolzingerSwineford1939.csv", "no/such/path")
    assert packaged is not None and packaged.is_file()
    checkout = bundled_path("semnet.datasets", "no_such.csv", "sample_data/network_involvement.csv")
    assert Path(str(checkout)) == ROOT / "sample_data" / "network_involvement.csv"
    assert bundled_path("semnet.datasets", "no_such.csv", "no/such/path") is None


def test_read_csv_is_pandas_for_a_comma_file():
    path = datasets.network_involvement_path()
    pd.testing.assert_frame_equal(datasets.read(path), pd.read_csv(path))


@pytest.mark.parametrize(("sep", "bom"), [(",", ""), (";", "\ufeff")])
def test_read_refuses_a_repeated_column_name(tmp_path, sep, bom):
    # pandas renames the second 'b' to 'b.1': a model naming 'b' silently used the first
    path = tmp_path / "dup.csv"
    path.write_text(f"{bom}a{sep}b{sep}b\n1{sep}2{sep}3\n", encoding="utf-8")
    with pytest.raises(semnet.DataError, match=r"two columns named 'b' \(columns 2 and 3\)"):
        datasets.read(path)


def test_read_keeps_a_bom_header_and_a_name_like_a_renamed_one(tmp_path):
    path = tmp_path / "ok.csv"
    path.write_text("\ufeffb,b.1\n1,2\n", encoding="utf-8")
    assert list(datasets.read(path).columns) == ["b", "b.1"]


def test_read_semicolon_file_with_decimal_commas(tmp_path):
    survey = datasets.network_involvement()
    path = tmp_path / "survey.csv"
    survey.to_csv(path, sep=";", decimal=",", index=False)
    back = datasets.read(path)
    assert list(back.columns) == list(survey.columns)
    np.testing.assert_array_equal(back["firm_size"], survey["firm_size"])


def test_read_latin1_file(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("land;x1\nÖsterreich;1\nDänemark;2\n".encode("latin-1"))
    assert list(datasets.read(path)["land"]) == ["Österreich", "Dänemark"]


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("none.csv", None, "does not exist"),
        ("empty.csv", b"", "cannot read data file .* as CSV"),
        ("sheet.xls", b"x", "spreadsheet"),
    ],
)
def test_read_errors_are_data_errors(tmp_path, name, content, match):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(semnet.DataError, match=match):
        datasets.read(path)


def test_read_a_folder_is_a_data_error(tmp_path):
    with pytest.raises(semnet.DataError, match="is not a file"):
        datasets.read(tmp_path)


def test_read_broken_spss_file_is_a_data_error(tmp_path):
    pytest.importorskip("pyreadstat")
    path = tmp_path / "broken.sav"
    path.write_bytes(b"junk" * 10)
    with pytest.raises(semnet.DataError, match=r"cannot read data file .* as an SPSS file"):
        datasets.read(path)


def test_read_keeps_codes_except_for_labelled_columns(tmp_path):
    pyreadstat = pytest.importorskip("pyreadstat")
    frame = pd.DataFrame({"country": [1.0, 2.0, 3.0], "gm1": [1.0, 7.0, 4.0]})
    labels = {"country": {1: "USA", 2: "China"}, "gm1": {1: "disagree", 7: "agree"}}
    path = tmp_path / "survey.dta"
    pyreadstat.write_dta(frame, str(path), variable_value_labels=labels)
    back = datasets.read(path, value_labels=["country"])
    assert list(back["country"]) == ["USA", "China", 3.0]
    assert list(back["gm1"]) == [1.0, 7.0, 4.0]


@pytest.mark.parametrize("name", ["survey.csv.zip", "survey.csv.bz2", "survey.csv.xz"])
def test_read_compressed_csv(tmp_path, name):
    survey = datasets.network_involvement()
    survey.to_csv(tmp_path / name, index=False)
    pd.testing.assert_frame_equal(datasets.read(tmp_path / name), survey)
