"""Reading the model (semnet/pipeline/specify.py)."""

from __future__ import annotations

import pytest

import semnet
from semnet.pipeline.specify import read_model


def test_a_model_file_that_is_not_utf8_is_named(tmp_path):
    # was a UnicodeDecodeError from the codec
    path = tmp_path / "latin.lav"
    path.write_bytes("f =~ x1 + x2 + x3  # Gr\u00f6\u00dfe\n".encode("latin-1"))
    with pytest.raises(semnet.ModelSpecificationError, match=r"not UTF-8 text \(byte 0xf6"):
        read_model(path)


def test_a_folder_is_not_a_model_file(tmp_path):
    # was "does not exist"
    with pytest.raises(semnet.ModelSpecificationError, match="is a folder"):
        read_model(tmp_path)


def test_a_utf8_model_file_is_read(tmp_path):
    path = tmp_path / "m.lav"
    path.write_text("f =~ x1 + x2 + x3  # Gr\u00f6\u00dfe\n", encoding="utf-8")
    assert read_model(path).startswith("f =~ x1")


@pytest.mark.parametrize("factor", ["x1", "sex"])
def test_a_latent_variable_named_like_a_column_is_refused(factor):
    # x1 was silently taken as latent and its data ignored; lavaan 0.6.14 refuses:
    # "some latent variable names collide with observed variable names"
    with pytest.raises(semnet.ModelSpecificationError, match=f"'{factor}' have the name of a"):
        semnet.cfa(f"{factor} =~ x2 + x3 + x4", semnet.datasets.holzinger_swineford())


def test_a_latent_name_may_match_a_row_of_sample_cov():
    # lavaan checks the columns of raw data only
    hs = semnet.datasets.holzinger_swineford()
    cov = hs[["x1", "x2", "x3", "x4"]].cov()
    fit = semnet.cfa("x1 =~ x2 + x3 + x4", sample_cov=cov, sample_nobs=301)
    assert fit.df == 0


@pytest.mark.parametrize("interaction", [None, "double_mean", "lms"])
def test_a_product_term_naming_an_unknown_variable_says_so(interaction):
    # 'f9' (a typo) was called "an observed variable" to be made a single-indicator factor
    hs = semnet.datasets.holzinger_swineford()
    model = "f1 =~ x1 + x2 + x3\nf2 =~ x4 + x5 + x6\nf3 =~ x7 + x8 + x9\nf3 ~ f1 + f1:f9"
    with pytest.raises(semnet.ModelSpecificationError,
                       match="'f9' in the product term 'f1:f9' is neither a latent"):
        semnet.sem(model, hs, interaction=interaction)
