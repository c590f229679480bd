"""Measurement invariance across groups: the configural → metric → scalar → strict ladder
(with ordinal items, configural → thresholds → metric → scalar → strict: Wu & Estabrook
2016, :mod:`~semnet.analyses.invariance.ordinal`).

:func:`invariance` fits a ladder of nested multi-group models, each adding cross-group
equality constraints (lavaan's ``group.equal``) to the one before, and judges every step
against the previous one by a chi-square difference test (Satorra–Bentler scaled for
robust estimators, through :func:`semnet.compare`) and by changes in fit indices
(ΔCFI, ΔRMSEA, ΔSRMR) against published cut-offs (:class:`Cutoffs`).

On top of the ladder, :meth:`InvarianceResult.partial` frees, one at a time, the
equality constraints flagged by score tests until a level holds (partial invariance);
:meth:`InvarianceResult.latent_means` compares latent means once scalar invariance (full
or partial) holds; :func:`compare_paths` tests whether structural paths are equal across
groups.

Every fit is made by :func:`semnet.sem` with the options given, so each number equals
lavaan's ``cfa(..., group =, group.equal =, group.partial =)`` and ``lavTestLRT()``.

Decision rules (:class:`Cutoffs`): ``"chen2007"`` (default), ``"cheung_rensvold2002"``
and ``"chisq"``, as :mod:`~semnet.analyses.invariance.rules` defines them.

The package splits the work by job: :mod:`~semnet.analyses.invariance.rules` (decision
rules), :mod:`~semnet.analyses.invariance.levels` (levels, their fits and comparisons),
:mod:`~semnet.analyses.invariance.ladder` (:func:`invariance`,
:class:`InvarianceResult`), :mod:`~semnet.analyses.invariance.partial` (the score-test
search), :mod:`~semnet.analyses.invariance.latent_means`,
:mod:`~semnet.analyses.invariance.paths` (:func:`compare_paths`) and
:mod:`~semnet.analyses.invariance.adjust` (:func:`adjust_pvalues`).

Examples
--------
>>> import semnet
>>> hs = semnet.datasets.holzinger_swineford()
>>> m = "visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\nspeed =~ x7 + x8 + x9"
>>> res = semnet.invariance(m, hs, group="school")  # doctest: +SKIP
>>> res.table()["decision"].tolist()  # doctest: +SKIP
[None, 'holds', 'fails', 'holds']
"""

from semnet.analyses.invariance.adjust import ADJUST, adjust_pvalues
from semnet.analyses.invariance.formats import (
    frame_to_html,
    frame_to_latex,
    frame_to_markdown,
    frame_to_text,
)
from semnet.analyses.invariance.ladder import InvarianceResult, invariance
from semnet.analyses.invariance.levels import (
    DEFAULT_LEVELS,
    EXTRA_LEVELS,
    INDICATOR_TYPES,
    LEVEL_STEPS,
)
from semnet.analyses.invariance.ordinal import ORDINAL_LEVELS
from semnet.analyses.invariance.partial import PartialResult
from semnet.analyses.invariance.paths import PathComparison, compare_paths
from semnet.analyses.invariance.rules import (
    CHEN_2007,
    CHEUNG_RENSVOLD_2002,
    CHISQ,
    RULES,
    Cutoffs,
)

__all__ = [
    "ADJUST",
    "CHEN_2007",
    "CHEUNG_RENSVOLD_2002",
    "CHISQ",
    "DEFAULT_LEVELS",
    "EXTRA_LEVELS",
    "INDICATOR_TYPES",
    "LEVEL_STEPS",
    "ORDINAL_LEVELS",
    "RULES",
    "Cutoffs",
    "InvarianceResult",
    "PartialResult",
    "PathComparison",
    "adjust_pvalues",
    "compare_paths",
    "frame_to_html",
    "frame_to_latex",
    "frame_to_markdown",
    "frame_to_text",
    "invariance",
]
