"""The study registry and the ``semnet studies`` / ``semnet replicate STUDY`` commands."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import semnet
from semnet.cli import main


def test_list_and_get():
    names = [s.name for s in semnet.studies.list()]
    assert names == semnet.studies.names()
    assert names[0] == "network-involvement" and "indirect-export" in names
    assert semnet.studies.get("indirect_export") is semnet.studies.get("indirect-export")
    with pytest.raises(semnet.SemnetError, match="no study called 'nope'; the studies are"):
        semnet.studies.get("nope")


@pytest.mark.parametrize("study", semnet.studies.list(), ids=lambda s: s.name)
def test_every_study_has_its_files_and_columns(study):
    models = study.model_files()
    assert set(models) == set(study.model_names)
    frame, digest = study.load(None)
    assert set(study.required) <= set(frame.columns) and len(digest) == 64
    assert [str(g) for g in pd.unique(frame[study.group])] == list(study.groups)
    assert study.plan


def test_network_involvement_generator_reproduces_its_survey():
    study = semnet.studies.get("network-involvement")
    committed = pd.read_csv(study.data_path())
    drawn = study.simulate()[list(committed.columns)]
    assert (drawn["country"] == committed["country"]).all()
    numbers = [c for c in committed.columns if c != "country"]
    np.testing.assert_array_equal(drawn[numbers].astype(float).to_numpy(),
                                  committed[numbers].to_numpy())  # fmt: skip


def test_model_files_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(semnet.SemnetError, match=r"lacks measurement\.lav"):
        semnet.studies.get("indirect-export").model_files(tmp_path)


def test_cli_studies_lists_one_per_line_name_first(capsys):
    assert main(["studies"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == semnet.studies.names()


def test_cli_replicate_unknown_study(capsys):
    assert main(["replicate", "nope"]) == 2
    assert "no study called 'nope'" in capsys.readouterr().err


def test_cli_replicate_names_missing_columns(tmp_path, capsys):
    study = semnet.studies.get("indirect-export")
    bad = tmp_path / "mine.csv"
    pd.read_csv(study.data_path()).drop(columns=["exs", "xr"]).to_csv(bad, index=False)
    assert main(["replicate", "indirect-export", "--data", str(bad),
                 "--out", str(tmp_path / "o")]) == 2  # fmt: skip
    assert "lack the column(s) exs, xr" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
