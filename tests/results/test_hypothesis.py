"""Score tests (lavTestScore) and Wald tests (lavTestWald) against lavaan."""

from __future__ import annotations

import numpy as np
import pytest
from reference import load, refit
from tolerances import SE_RTOL

import semnet


@pytest.mark.parametrize("name", ["hs_mg_metric", "hs_mg_scalar"])
def test_score_test_matches_lavaan(name):
    ref = load(name)["score_test"]
    st = refit(name).score_test()
    assert st.total["X2"] == pytest.approx(ref["total"]["X2"][0], rel=SE_RTOL)
    assert st.total["df"] == ref["total"]["df"][0]
    assert st.total["pvalue"] == pytest.approx(ref["total"]["p.value"][0], rel=SE_RTOL)
    uni = ref["uni"]
    assert len(st.uni) == len(uni["X2"])
    # constraints are named by parameter and the groups they tie, not by row numbers
    expected = [f"{a}{o}{b}" for a, o, b in zip(uni["lhs.lhs"], uni["lhs.op"], uni["lhs.rhs"],
                                                 strict=True)]
    assert st.uni["param"].tolist() == expected
    assert set(st.uni["groups"]) == {"Pasteur,Grant-White"}
    assert st.uni["lhs"].tolist() == uni["lhs"]
    assert st.uni["rhs"].tolist() == uni["rhs"]
    assert np.allclose(st.uni["X2"], uni["X2"], rtol=SE_RTOL, atol=1e-5)
    assert np.allclose(st.uni["pvalue"], uni["p.value"], rtol=SE_RTOL, atol=1e-6)


def test_score_test_release_subset():
    fit = refit("hs_mg_metric")
    one = fit.score_test(release=[2])
    # releasing a single constraint: the total equals that constraint's univariate test
    assert one.total["df"] == 1
    assert one.total["X2"] == pytest.approx(fit.score_test().uni["X2"][2], rel=1e-8)


def test_score_test_without_constraints_is_an_error():
    with pytest.raises(semnet.SemnetError, match="no equality constraints"):
        refit("hs_cfa").score_test()


def test_wald_matches_lavaan():
    ref = load("hs_mg_path_equal")["wald"]
    w = refit("hs_mg_path_equal").wald(ref["constraints"])
    assert w["stat"] == pytest.approx(ref["stat"], rel=SE_RTOL)
    assert w["df"] == ref["df"]
    assert w["pvalue"] == pytest.approx(ref["p.value"], rel=SE_RTOL)


def test_wald_unknown_label():
    with pytest.raises(semnet.ModelSpecificationError, match="not a parameter label"):
        refit("hs_mg_path_equal").wald("b1 == b9")


@pytest.mark.parametrize("release", [["visual=~x2"], [1.5], [0, 0], [[0]], []])
def test_score_test_release_that_is_not_a_list_of_rows_is_refused(release):
    # ['visual=~x2'] was a ValueError from int(); [1.5] silently meant row 1; [0, 0]
    # counted one constraint twice (df 2)
    fit = refit("hs_mg_metric")
    with pytest.raises(semnet.SemnetError, match="release must list constraint numbers"):
        fit.score_test(release=release)


@pytest.mark.parametrize("constraints", ["a == a", "a == b; a == b", "a == b\n2*a == 2*b"])
def test_wald_of_redundant_constraints_is_a_clear_error(constraints):
    # was numpy's LinAlgError (Singular matrix); lavaan stops with "exactly singular"
    fit = semnet.sem("x9 ~ a*x1 + b*x2", semnet.datasets.holzinger_swineford())
    with pytest.raises(semnet.ModelSpecificationError, match="redundant"):
        fit.wald(constraints)


@pytest.mark.parametrize("constraints", [None, ["a == 0", "b == 0"]])
def test_wald_takes_one_string(constraints):
    # was a TypeError saying "the model must be a string"
    fit = semnet.sem("x9 ~ a*x1 + b*x2", semnet.datasets.holzinger_swineford())
    with pytest.raises(semnet.ModelSpecificationError, match="one string"):
        fit.wald(constraints)
