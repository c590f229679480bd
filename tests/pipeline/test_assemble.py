"""Step 9 of a fit (semnet/pipeline/assemble.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

import semnet
from semnet.options import Options
from semnet.pipeline.assemble import settled_options


@pytest.mark.parametrize("before", [None, False, True])
@pytest.mark.parametrize("after", [False, True])
def test_settled_options_equal_dataclass_replace(before: bool | None, after: bool) -> None:
    options = Options(estimator="MLR", meanstructure=before, group_equal=("loadings",))
    settled = settled_options(options, after)
    assert settled == replace(options, meanstructure=after)
    assert vars(settled) == vars(replace(options, meanstructure=after))
    assert options.meanstructure is before  # the options given are not changed
    assert (settled is options) == (before is after)
    with pytest.raises(AttributeError):
        settled.meanstructure = not after  # type: ignore[misc]


def test_fit_records_the_settled_meanstructure() -> None:
    hs = semnet.datasets.holzinger_swineford()
    assert semnet.cfa("f =~ x1 + x2 + x3", hs).options.meanstructure is False
    fit = semnet.cfa("f =~ x1 + x2 + x3", hs, group="school")
    assert fit.options.meanstructure is True and fit.options.group == "school"


HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6"


def test_group_options_one_group_ignores_are_warned_and_recorded() -> None:
    hs = semnet.datasets.holzinger_swineford()
    cov = hs[[f"x{i}" for i in range(1, 7)]].cov()
    with pytest.warns(semnet.SemnetWarning, match="group='school' is ignored: sample_cov"):
        fit = semnet.cfa(HS, sample_cov=cov, sample_nobs=301, group="school")
    assert any("group='school' is ignored" in w for w in fit.warnings)
    with pytest.warns(semnet.SemnetWarning, match=r"group_equal=\['loadings'\] has no effect"):
        fit = semnet.cfa(HS, hs, group_equal=["loadings"])
    assert any("has no effect: the fit has one group" in w for w in fit.warnings)


def test_group_options_with_groups_are_not_warned(recwarn) -> None:
    hs = semnet.datasets.holzinger_swineford()
    fit = semnet.cfa(HS, hs, group="school", group_equal=["loadings"])
    assert not [w for w in recwarn if issubclass(w.category, semnet.SemnetWarning)]
    assert fit.warnings == ()
