"""lavaan syntax that semnet reads as lavaan does, against lavaan 0.6.14
(tests/reference/syntax/make_syntax.R): ``equal("lhs op rhs")`` ties a row to a named
parameter, in one group and across groups; a bound written in the syntax, which semnet
refuses, gives lavaan's estimates as an inequality constraint on a label; unquoted group
labels with hyphens in ``group:`` blocks."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lavaan_checks import assert_fit_measures
from tolerances import ATOL, EST_RTOL

import semnet

REF = json.loads((Path(__file__).parent.parent / "reference" / "syntax" / "syntax.json")
                 .read_text(encoding="utf-8"))  # fmt: skip
HS = semnet.datasets.holzinger_swineford()


def _fit(case: str) -> tuple[dict, semnet.Fit]:
    r = REF[case]
    kwargs = {k: r[k] for k in ("group", "meanstructure") if r.get(k) is not None}
    return r, semnet.cfa(r.get("semnet_model") or r["model"], HS, **kwargs)


@pytest.mark.parametrize("case", sorted(REF))
def test_fit_measures_as_lavaan(case):
    r, fit = _fit(case)
    assert_fit_measures(fit, r["fit_measures"], ATOL)


@pytest.mark.parametrize("case", sorted(REF))
def test_estimates_as_lavaan(case):
    r, fit = _fit(case)
    ref = pd.DataFrame(r["partable"])
    ref["rhs"] = ref["rhs"].fillna("")
    if not pd.api.types.is_integer_dtype(ref["group"]):  # (group: blocks name groups)
        ref["group"] = ref["group"].map({g: k for k, g in enumerate(fit.groups, start=1)})
    ours = fit.partable.params.assign(est=fit.values)
    key = ["lhs", "op", "rhs", "group"]
    merged = ref.merge(ours[[*key, "est"]], on=key, suffixes=("_lavaan", "_semnet"))
    assert len(merged) == len(ref)
    np.testing.assert_allclose(merged["est_semnet"], merged["est_lavaan"], rtol=EST_RTOL,
                               atol=ATOL)


def test_equal_gives_the_named_parameter_the_label():
    _, fit = _fit("equal_one_group")
    table = fit.estimates().set_index(["lhs", "op", "rhs"])
    assert table.loc[("visual", "=~", "x2"), "label"] == "visual=~x3"
    assert table.loc[("visual", "=~", "x2"), "est"] == table.loc[("visual", "=~", "x3"), "est"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("visual =~ x1 + equal('visual=~x9')*x2 + x3",
         r"the label 'visual=~x9' \(visual =~ x2\) reads as the name of a parameter"),
        ("visual =~ x1 + equal('visual=~x3')*x2 + b*x3",
         r"ties visual =~ x2 to a parameter that has its own label 'b'"),
    ],
)  # fmt: skip
def test_equal_naming_no_parameter_or_a_labelled_one_is_an_error(line, message):
    with pytest.raises(semnet.ModelSpecificationError, match=message):
        semnet.cfa(line + "\ntextual =~ x4 + x5 + x6", HS)


@pytest.mark.parametrize("case", ["lower_bound", "upper_bound"])
def test_a_bound_in_the_syntax_is_refused_with_the_constraint_that_does_it(case):
    r = REF[case]
    side, sign = ("lower", ">") if case == "lower_bound" else ("upper", "<")
    with pytest.raises(semnet.ModelSpecificationError,
                       match=rf"the bound {side}\(0\.[56]\) is not enforced .* 'v {sign} 0\.[56]'"):
        semnet.cfa(r["model"], HS)
