"""The lavaan-style summary report: right numbers in the right places."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from reference import fixture_names, is_plain_ml, load, refit
from shared_models import HS_MODEL

import semnet
from semnet.report import Summary

MULTIGROUP = [
    n for n in fixture_names() if is_plain_ml(load(n)) and load(n)["ngroups"] > 1
]


@pytest.fixture(scope="module")
def hs_fit(hs):
    return semnet.cfa(HS_MODEL, hs)


def _value(text: str, label: str) -> str:
    """The value printed after ``label`` on a header line."""
    m = re.search(rf"^\s+{re.escape(label)}\s+(\S+)\s*$", text, flags=re.MULTILINE)
    assert m, f"no line {label!r} in the summary"
    return m.group(1)


def _row(text: str, name: str) -> list[str]:
    """The cells of the first parameter row whose name column is ``name``."""
    for line in text.splitlines():
        if line.strip().startswith(name + " ") or line.strip() == name:
            return line.split()
    raise AssertionError(f"no row {name!r}")


def test_header_and_user_model_test(hs_fit):
    text = str(hs_fit.summary())
    assert text.startswith(f"semnet {semnet.__version__} ended normally after")
    assert f"after {hs_fit.iterations} iterations" in text
    assert _value(text, "Estimator") == "ML"
    assert _value(text, "Number of model parameters") == "21"
    assert _value(text, "Number of observations") == "301"
    assert _value(text, "Test statistic") == "85.306"
    assert _value(text, "Degrees of freedom") == "24"
    assert _value(text, "P-value (Chi-square)") == "0.000"
    assert "Number of equality constraints" not in text


def test_fit_measure_blocks_match_fit_measures(hs_fit):
    text = str(hs_fit.summary())
    fm = hs_fit.fit_measures()
    for title in ("Model Test Baseline Model:", "User Model versus Baseline Model:",
                  "Loglikelihood and Information Criteria:",
                  "Root Mean Square Error of Approximation:",
                  "Standardized Root Mean Square Residual:"):
        assert title in text
    assert _value(text, "Comparative Fit Index (CFI)") == f"{fm['cfi']:.3f}" == "0.931"
    assert _value(text, "Tucker-Lewis Index (TLI)") == "0.896"
    assert _value(text, "Loglikelihood user model (H0)") == "-3737.745"
    assert _value(text, "Akaike (AIC)") == "7517.490"
    assert _value(text, "Bayesian (BIC)") == "7595.339"
    assert _value(text, "RMSEA") == "0.092"
    assert _value(text, "90 Percent confidence interval - lower") == "0.071"
    assert _value(text, "90 Percent confidence interval - upper") == "0.114"
    assert _value(text, "P-value H_0: RMSEA <= 0.050") == "0.001"
    assert _value(text, "SRMR") == "0.065"


def test_without_fit_measures(hs_fit):
    text = str(hs_fit.summary(fit_measures=False))
    assert "Model Test User Model:" in text
    assert "Model Test Baseline Model:" not in text
    assert "RMSEA" not in text


def test_estimates_rows(hs_fit):
    text = str(hs_fit.summary())
    est = hs_fit.estimates(standardized=False)
    assert "Latent Variables:" in text and "Covariances:" in text and "Variances:" in text
    assert "Intercepts:" not in text
    assert re.search(r"^\s+Estimate\s+Std\.Err\s+z-value\s+P\(>\|z\|\)$", text, re.MULTILINE)
    x2 = est[(est["lhs"] == "visual") & (est["op"] == "=~") & (est["rhs"] == "x2")].iloc[0]
    assert _row(text, "x2") == ["x2", f"{x2['est']:.3f}", f"{x2['se']:.3f}",
                                f"{x2['z']:.3f}", f"{x2['pvalue']:.3f}"]
    # a fixed loading: estimate only, blank SE
    assert _row(text, "x1") == ["x1", "1.000"]
    # residual variances carry lavaan's dot, factor variances do not
    x1_var = est.loc[(est["lhs"] == "x1") & (est["op"] == "~~"), "est"].iloc[0]
    assert _row(text, ".x1")[1] == f"{x1_var:.3f}"
    assert "  visual =~" in text and "  visual ~~" in text


def test_standardized_columns(hs_fit):
    text = str(hs_fit.summary(standardized=True))
    assert re.search(r"Estimate\s+Std\.Err\s+z-value\s+P\(>\|z\|\)\s+Std\.lv\s+Std\.all", text)
    est = hs_fit.estimates()
    x3 = est[(est["op"] == "=~") & (est["rhs"] == "x3")].iloc[0]
    cells = _row(text, "x3")
    assert cells[-2:] == [f"{x3['std_lv']:.3f}", f"{x3['std_all']:.3f}"] == ["0.656", "0.581"]
    assert _row(text, "x1")[1:] == ["1.000", "0.900", "0.772"]


def test_labels_constraints_and_defined_parameters(hs):
    model = HS_MODEL.replace("x2 + x3", "a*x2 + b*x3") + "ab := a*b\na == b\n"
    fit = semnet.cfa(model, hs)
    text = str(fit.summary())
    assert re.search(r"^    x2\s+\(a\)\s+\d", text, re.MULTILINE)
    assert re.search(r"^    x3\s+\(b\)\s+\d", text, re.MULTILINE)
    assert _value(text, "Number of equality constraints") == "1"
    assert "Defined Parameters:" in text
    ab = fit.estimates().query("op == ':='").iloc[0]
    assert _row(text, "ab")[1:3] == [f"{ab['est']:.3f}", f"{ab['se']:.3f}"]
    assert "Constraints:" in text and "|Slack|" in text
    assert re.search(r"^    a - \(b\)\s+0\.000$", text, re.MULTILINE)
    assert text.index("Defined Parameters:") < text.index("Constraints:")


def test_multigroup_headers_and_group_statistics(hs):
    fit = semnet.cfa(HS_MODEL, hs, group="school", group_equal=["loadings", "intercepts"])
    text = str(fit.summary())
    assert "Number of observations per group:" in text
    assert _value(text, "Pasteur") == "156"
    assert _value(text, "Grant-White") == "145"
    assert "Group 1 [Pasteur]:" in text and "Group 2 [Grant-White]:" in text
    assert text.index("Group 1 [Pasteur]:") < text.index("Group 2 [Grant-White]:")
    assert _value(text, "Number of model parameters") == "63"
    assert _value(text, "Number of equality constraints") == "15"
    assert "Test statistic for each group:" in text
    after = text.split("Test statistic for each group:")[1]
    assert re.search(r"^\s+Pasteur\s+90\.210$", after, re.MULTILINE)
    assert re.search(r"^\s+Grant-White\s+73\.892$", after, re.MULTILINE)
    # group_equal labels shown like lavaan's, in both groups
    assert len(re.findall(r"^    x2\s+\(\.p2\.\)", text, re.MULTILINE)) == 2
    assert "Intercepts:" in text


@pytest.mark.parametrize("name", MULTIGROUP)
def test_group_chisq_matches_lavaan(name):
    ref = load(name)
    fit = refit(name)
    per_group = Summary(fit).group_chisq()
    expected = ref["tests"]["standard"]["stat.group"]
    assert list(per_group) == ref["group_labels"]
    np.testing.assert_allclose(list(per_group.values()), expected, rtol=1e-4, atol=1e-6)
    assert sum(per_group.values()) == pytest.approx(fit.chisq, rel=1e-8)


def test_dropped_rows_used_and_total():
    data = semnet.datasets.political_democracy().copy()
    data.loc[:2, "x1"] = np.nan
    with pytest.warns(semnet.SemnetWarning):
        fit = semnet.sem("ind60 =~ x1 + x2 + x3\ndem60 =~ y1 + y2 + y3 + y4\n"
                         "dem60 ~ ind60", data)
    text = str(fit.summary())
    assert re.search(r"Used\s+Total", text)
    assert re.search(r"Number of observations\s+72\s+75$", text, re.MULTILINE)
    assert "Warnings:" in text and "3 of 75 rows were dropped" in text


def test_sample_statistics_only(hs):
    cov = hs[["x1", "x2", "x3", "x4", "x5", "x6"]].cov()
    fit = semnet.cfa("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6", sample_cov=cov,
                     sample_nobs=301)
    text = str(fit.summary(standardized=True))
    assert _value(text, "Number of observations") == "301"
    assert _value(text, "Test statistic") == f"{fit.chisq:.3f}"
    assert "Latent Variables:" in text


def test_exogenous_covariates_hidden(hs):
    fit = semnet.sem("visual =~ x1 + x2 + x3\nvisual ~ ageyr + sex", hs)
    text = str(fit.summary())
    assert "Regressions:" in text
    assert re.search(r"^    ageyr\s+-0\.027", text, re.MULTILINE)
    # fixed.x covariate moments are not model parameters: lavaan does not print them
    assert not re.search(r"^\s+\.?ageyr\s+1\.1", text, re.MULTILINE)
    assert re.search(r"^   \.visual\s+0\.467", text, re.MULTILINE)


def test_repr_markdown_html(hs_fit):
    summary = hs_fit.summary(standardized=True)
    assert repr(summary) == str(summary)
    md = summary.to_markdown()
    assert "| x2 |" in md and "P(>\\|z\\|)" in md and "85.306" in md
    assert "- : " not in md  # the text report's blank spacer lines are not list items
    assert summary._repr_html_().startswith("<pre>")
    assert "&gt;" in summary._repr_html_()


def test_printing_does_not_refit(hs_fit, monkeypatch):
    import semnet.pipeline.estimate

    def boom(*args, **kwargs):  # pragma: no cover - must not be called
        raise AssertionError("summary re-estimated the model")

    monkeypatch.setattr(semnet.pipeline.estimate, "minimize", boom)
    str(hs_fit.summary(standardized=True))
    assert isinstance(hs_fit.estimates(), pd.DataFrame)


def test_summary_reports_the_scaled_test_and_robust_indices():
    from reference import load, refit

    text = str(refit("hs_mlr").summary())
    ref = load("hs_mlr")
    assert f"{ref['tests']['yuan.bentler.mplus']['stat']:.3f}" in text
    assert "Yuan-Bentler correction (Mplus variant)" in text
    assert f"{ref['fit_measures']['cfi.robust']:.3f}" in text


def test_summary_reports_the_scaled_shifted_test():
    from reference import load, refit

    text = str(refit("hs_mlmv").summary())
    test = load("hs_mlmv")["tests"]["scaled.shifted"]
    assert f"{test['stat']:.3f}" in text
    assert "Shift parameter" in text and f"{test['shift.parameter']:.3f}" in text
    assert "simple second-order correction" in text
    assert "Robust.sem" in text


def test_summary_of_a_fiml_ml_fit_shows_robust_not_scaled_indices():
    from reference import load, refit

    text = str(refit("hs_fiml").summary())
    assert "Scaled CFI" not in text and "Scaled RMSEA" not in text
    assert f"{load('hs_fiml')['fit_measures']['cfi.robust']:.3f}" in text


def test_markdown_html_and_latex_render_through_the_table_engine(hs):
    model = HS_MODEL.replace("x2 + x3", "a*x2 + b*x3") + "ab := a*b\n"
    fit = semnet.cfa(model, hs)
    summary = fit.summary(standardized=True)
    est = fit.estimates()
    x2 = est[(est["op"] == "=~") & (est["rhs"] == "x2")].iloc[0]
    md = summary.to_markdown()
    assert "|  | Estimate | Std.Err | z-value | P(>\\|z\\|) | Std.lv | Std.all |" in md
    assert "|:--|--:|--:|--:|--:|--:|--:|" in md
    assert f"| x2 (a) | {x2['est']:.3f} | {x2['se']:.3f} | {x2['z']:.3f} | < .001 |" in md
    assert "| x1 | 1.000 |  |  |  | 0.900 | 0.772 |" in md  # fixed: blank SE
    assert "#### Defined Parameters" in md and "| ab |" in md
    html = summary.to_html()
    assert html.startswith("<h2>semnet ")
    assert "<h4>Latent Variables</h4>\n<div class=\"apa-table\"" in html
    assert '<th class="txt">P(&gt;|z|)</th>' not in html  # numeric heads are right-aligned
    assert '<th class="num">P(&gt;|z|)</th>' in html
    assert "<li>P-value (Chi-square): &lt; .001</li>" in html
    tex = summary.to_latex()
    assert "\\caption{Latent Variables}" in tex and "\\toprule" in tex
    assert f"x2 (a) & {x2['est']:.3f} & {x2['se']:.3f}" in tex
    assert "\\textless{} .001" in tex and "<" not in tex.replace("\\textless{}", "")
    # the text keeps lavaan's layout, p-values included (lavaan prints 0.000)
    assert _row(str(summary), "x2")[1:6] == ["(a)", f"{x2['est']:.3f}", f"{x2['se']:.3f}",
                                             f"{x2['z']:.3f}", "0.000"]
    assert _value(str(summary), "P-value (Chi-square)") == "0.000"
    assert "P(\\textgreater{}|z|)" in tex
