"""Threshold lines in the model syntax (``x1 | a*t1 + t2 + t3``): labels, fixed values,
starts, equality constraints, an item made ordinal by its threshold line, with and
without groups; scale-factor lines (``x1 ~*~ c(1, 1)*x1``) and the whole syntax
semTools' measEq.syntax writes; against lavaan 0.6.14
(tests/reference/ordinal/make_thresholds.R)."""

import json
from pathlib import Path

import pandas as pd
import pytest
from lavaan_checks import assert_fit_measures
from ordinal_reference import assert_table_estimates_and_se
from tolerances import ORDINAL_ATOL

import semnet

HERE = Path(__file__).parent.parent / "reference" / "ordinal"
REF = json.loads((HERE / "thresholds.json").read_text())
DATA = pd.read_csv(HERE / "hs_four_school.csv")
M0 = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\n"


def _fit(case: str) -> tuple[dict, semnet.Fit]:
    r = REF[case]
    kwargs = {k: r[k] for k in ("group", "group_equal", "parameterization") if r.get(k)}
    return r, semnet.cfa(r["model"], DATA, ordered=r["ordered"], **kwargs)


@pytest.mark.parametrize("case", sorted(REF))
def test_rows_estimates_and_se_as_lavaan(case):
    r, fit = _fit(case)
    assert_table_estimates_and_se(fit, r)
    ordinal = [r["ordinal"]] if isinstance(r["ordinal"], str) else r["ordinal"]
    assert sorted(fit.options.ordered) == sorted(ordinal)
    assert fit.options.estimator == "WLSMV"


@pytest.mark.parametrize("case", sorted(REF))
def test_fit_measures_as_lavaan(case):
    r, fit = _fit(case)
    assert_fit_measures(fit, r["fit_measures"], ORDINAL_ATOL)


def test_a_label_and_a_fixed_value_reach_the_estimates():
    _, fit = _fit("label_shared")
    table = fit.estimates().set_index(["lhs", "op", "rhs"])
    assert table.loc[("x1", "|", "t1"), "label"] == table.loc[("x2", "|", "t1"), "label"] == "a"
    assert table.loc[("x1", "|", "t1"), "est"] == table.loc[("x2", "|", "t1"), "est"]
    _, fit = _fit("fixed")
    assert fit.estimates().set_index(["lhs", "op", "rhs"]).loc[("x1", "|", "t2"), "est"] == 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("x1 | t5\n", r"line 3: 'x1 \| t5': 'x1' has 4 categories in the data, so its "
                      r"thresholds are t1 to t3"),
        ("x1 | t0\n", r"its thresholds are t1 to t3; remove or renumber the threshold t0"),
        ("visual | t1\n", r"thresholds belong to observed ordinal items, and 'visual' is a "
                          r"latent variable"),
        ("z | t1\n", r"'z' is not an observed variable of the model"),
    ],
)  # fmt: skip
def test_a_threshold_the_item_cannot_have_is_named(extra, message):
    with pytest.raises(semnet.ModelSpecificationError, match=message):
        semnet.cfa(M0 + extra, DATA, ordered=[f"x{i}" for i in range(1, 7)])


def test_threshold_lines_need_the_raw_data():
    cov = DATA[[f"x{i}" for i in range(1, 7)]].cov()
    with pytest.raises(semnet.DataError, match="ordinal items need the raw data"):
        semnet.cfa(M0 + "x1 | t1 + t2 + t3\n", sample_cov=cov, sample_nobs=301)
    moments = semnet.moments.from_frame(DATA[[f"x{i}" for i in range(1, 7)]])
    with pytest.raises(semnet.DataError, match="ordinal items need the raw data"):
        semnet.cfa(M0 + "x1 | t1 + t2 + t3\n", moments)


@pytest.mark.parametrize(
    ("extra", "options", "message"),
    [
        ("x1 ~*~ x2\n", {}, r"a scale factor belongs to one item; write 'x1 ~\*~ x1'"),
        ("x1 ~*~ x1\n", {"ordered": None},
         r"scale factors belong to ordinal items, and 'x1' is not one here"),
        ("x1 ~*~ c(1, 1)*x1\n", {"group": "school", "parameterization": "theta"},
         r"with parameterization='theta' the scale factors are not parameters"),
    ],
)  # fmt: skip
def test_a_scale_factor_line_lavaan_would_ignore_is_an_error(extra, options, message):
    # lavaan fits these as if the line were not there (or fails, for a continuous item)
    kwargs = {"ordered": [f"x{i}" for i in range(1, 7)], **options}
    with pytest.raises(semnet.ModelSpecificationError, match=message):
        semnet.cfa(M0 + extra, DATA, **kwargs)
