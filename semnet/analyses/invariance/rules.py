"""Decision rules of the invariance ladder: when a level holds against the one before.

``"chen2007"`` (default)
    Chen (2007, *Structural Equation Modeling* 14, 464–504), recommendation for total
    N > 300: "a change of ≥ −.010 in CFI, supplemented by a change of ≥ .015 in RMSEA or
    a change of ≥ .030 in SRMR would indicate noninvariance" for loadings, and the same
    with SRMR ≥ .010 for intercepts or residuals.  Implemented literally: a level FAILS
    when ΔCFI < −.010 **and** (ΔRMSEA > .015 **or** ΔSRMR > cut), cut = .030 when the
    level adds loadings and .010 otherwise (intercepts, residuals, and every other
    parameter type, for which Chen gave no value).  A drop in CFI alone, not supplemented
    by RMSEA or SRMR, does not fail the level.
``"cheung_rensvold2002"``
    Cheung & Rensvold (2002, *SEM* 9, 233–255): the level holds when ΔCFI ≥ −.01.
``"chisq"``
    The chi-square (scaled when robust) difference test: holds when p > .05.
A value exactly at a cut-off counts as holding.  Pass a :class:`Cutoffs` for other
values, or ``combine="all"`` to require every index given (a stricter reading of Chen).
With a robust estimator (MLR, MLM) the deltas of CFI and RMSEA are those of the robust
indices (``cfi_robust``, ``rmsea_robust``; Brosseau-Liard & Savalei 2014), as listed in
the ``reason`` column (with FIML, the FIML-corrected ones); set
``Cutoffs(robust=False)`` for the naive ones.  Where a robust index is not available
(NaN) the naive ones are judged.

Examples
--------
>>> from semnet.analyses.invariance.rules import CHEUNG_RENSVOLD_2002
>>> CHEUNG_RENSVOLD_2002.decide({"delta_cfi": -0.004})[0]
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from semnet.errors import OptionError, check_choice

__all__ = ["CHEN_2007", "CHEUNG_RENSVOLD_2002", "CHISQ", "RULES", "Cutoffs"]


@dataclass(frozen=True)
class Cutoffs:
    """Cut-offs that decide whether an invariance level holds against the previous one.

    Parameters
    ----------
    name : str
        Shown in the ``rule`` column of the tables.
    delta_cfi : float, optional
        Smallest ΔCFI (level minus previous level) that still holds, e.g. ``-0.01``.
    delta_rmsea : float, optional
        Largest ΔRMSEA that still holds.
    delta_srmr : float, optional
        Largest ΔSRMR that still holds, for levels that do not add loadings.
    delta_srmr_loadings : float, optional
        Largest ΔSRMR for levels that add loadings (default: ``delta_srmr``).
    alpha : float, optional
        The chi-square difference test must have ``p > alpha``.
    combine : {"all", "chen"}
        ``"all"``: every criterion given must hold.  ``"chen"``: as Chen (2007), a level
        fails only when the ΔCFI criterion fails *and* the ΔRMSEA or ΔSRMR criterion
        fails too; ``alpha``, if given, must hold in any case.
    robust : bool
        With a robust estimator, judge the robust CFI and RMSEA (``cfi_robust``,
        ``rmsea_robust``) instead of the naive ones.

    Examples
    --------
    >>> from semnet.analyses.invariance import Cutoffs
    >>> rule = Cutoffs("strict_cfi", delta_cfi=-0.005)
    >>> rule.decide({"delta_cfi": -0.007}, added=("loadings",))[0]
    False
    >>> CHEN = Cutoffs("chen", delta_cfi=-0.01, delta_rmsea=0.015, delta_srmr=0.01,
    ...                delta_srmr_loadings=0.03, combine="chen")
    >>> holds, reason = CHEN.decide(
    ...     {"delta_cfi": -0.02, "delta_rmsea": 0.01, "delta_srmr": 0.02}, added=("loadings",))
    >>> holds
    True
    >>> print(reason)
    ΔCFI = -0.0200 < -0.010, not supplemented: ΔRMSEA = 0.0100 ≤ 0.015, ΔSRMR = 0.0200 ≤ 0.030
    """

    name: str = "custom"
    delta_cfi: float | None = -0.01
    delta_rmsea: float | None = None
    delta_srmr: float | None = None
    delta_srmr_loadings: float | None = None
    alpha: float | None = None
    combine: str = "all"
    robust: bool = True

    def __post_init__(self) -> None:
        check_choice("combine", self.combine, ("all", "chen"))
        given = [self.delta_cfi, self.delta_rmsea, self.delta_srmr,
                 self.delta_srmr_loadings, self.alpha]
        if all(v is None for v in given):
            raise OptionError(
                "Cutoffs needs at least one criterion: delta_cfi, delta_rmsea, delta_srmr "
                "or alpha."
            )
        if self.combine == "chen" and (
            self.delta_cfi is None
            or (self.delta_rmsea is None and self.delta_srmr is None
                and self.delta_srmr_loadings is None)
        ):
            raise OptionError(
                "combine='chen' needs delta_cfi and at least one of delta_rmsea / delta_srmr "
                "(the indices that supplement the CFI criterion)."
            )
        if self.alpha is not None and not 0 < self.alpha < 1:
            raise OptionError(f"alpha must be between 0 and 1, not {self.alpha!r}.")

    def srmr_cut(self, added: Sequence[str]) -> float | None:
        """The ΔSRMR cut-off for a level that adds the parameter types ``added``."""
        if "loadings" in added and self.delta_srmr_loadings is not None:
            return self.delta_srmr_loadings
        return self.delta_srmr

    def decide(self, deltas: Mapping[str, float], added: Sequence[str] = ()) -> tuple[bool, str]:
        """Whether a level holds, and why.

        Parameters
        ----------
        deltas : mapping
            ``delta_cfi``, ``delta_rmsea``, ``delta_srmr`` (level minus previous level)
            and ``pvalue_diff``; missing or NaN entries are not judged.
        added : sequence of str
            The ``group_equal`` types the level adds (picks the ΔSRMR cut-off).

        Returns
        -------
        (bool, str)
        """
        def get(key):
            v = deltas.get(key)
            return None if v is None or not np.isfinite(v) else float(v)

        label = deltas.get("label", "")
        checks = []  # (kind, ok, text)
        if self.delta_cfi is not None and get("delta_cfi") is not None:
            v = get("delta_cfi")
            ok = v >= self.delta_cfi
            checks.append(("cfi", ok, f"ΔCFI{label} = {v:.4f} {'≥' if ok else '<'} "
                                      f"{self.delta_cfi:.3f}"))
        if self.delta_rmsea is not None and get("delta_rmsea") is not None:
            v = get("delta_rmsea")
            ok = v <= self.delta_rmsea
            checks.append(("rmsea", ok, f"ΔRMSEA{label} = {v:.4f} {'≤' if ok else '>'} "
                                        f"{self.delta_rmsea:.3f}"))
        cut = self.srmr_cut(added)
        if cut is not None and get("delta_srmr") is not None:
            v = get("delta_srmr")
            ok = v <= cut
            checks.append(("srmr", ok, f"ΔSRMR = {v:.4f} {'≤' if ok else '>'} {cut:.3f}"))
        chisq = None
        if self.alpha is not None and get("pvalue_diff") is not None:
            p = get("pvalue_diff")
            ok = p > self.alpha
            chisq = (ok, f"p(Δχ²) = {p:.4g} {'>' if ok else '≤'} {self.alpha:g}")
        if not checks and chisq is None:
            return True, "no criterion could be evaluated (missing fit indices)"
        if self.combine == "chen" and checks:
            cfi = [c for c in checks if c[0] == "cfi"]
            rest = [c for c in checks if c[0] != "cfi"]
            if cfi and not cfi[0][1]:
                bad = [c for c in rest if not c[1]]
                if bad:
                    holds, text = False, f"{cfi[0][2]}, supplemented by " + ", ".join(
                        c[2] for c in bad)
                else:
                    holds, text = True, f"{cfi[0][2]}, not supplemented: " + ", ".join(
                        c[2] for c in rest)
            else:
                holds, text = True, "; ".join(c[2] for c in checks)
        else:
            holds = all(c[1] for c in checks)
            shown = [c for c in checks if not c[1]] if not holds else checks
            text = "; ".join(c[2] for c in shown)
        if chisq is not None:
            if not chisq[0]:
                return False, chisq[1] if holds else f"{text}; {chisq[1]}"
            text = chisq[1] if not text else f"{text}; {chisq[1]}"
        return holds, text


#: Chen (2007): fails when ΔCFI < −.010 supplemented by ΔRMSEA > .015 or ΔSRMR > .030
#: (loadings) / .010 (intercepts, residuals and the rest)
CHEN_2007 = Cutoffs("chen2007", delta_cfi=-0.010, delta_rmsea=0.015, delta_srmr=0.010,
                    delta_srmr_loadings=0.030, combine="chen")
#: Cheung & Rensvold (2002): holds when ΔCFI ≥ −.01
CHEUNG_RENSVOLD_2002 = Cutoffs("cheung_rensvold2002", delta_cfi=-0.01)
#: the chi-square (scaled) difference test at α = .05
CHISQ = Cutoffs("chisq", delta_cfi=None, alpha=0.05)
RULES = {"chen2007": CHEN_2007, "cheung_rensvold2002": CHEUNG_RENSVOLD_2002, "chisq": CHISQ}


def as_cutoffs(rule: str | Cutoffs) -> Cutoffs:
    """The decision rule named ``rule`` (a key of :data:`RULES`), or ``rule`` itself.

    Parameters
    ----------
    rule : str or Cutoffs
        ``"chen2007"``, ``"cheung_rensvold2002"`` (or ``"cheung-rensvold2002"``),
        ``"chisq"``, in any case, or a :class:`Cutoffs`.

    Returns
    -------
    Cutoffs

    Raises
    ------
    OptionError
        For an unknown name or a value of another type.

    Examples
    --------
    >>> as_cutoffs("Chen2007") is CHEN_2007
    True
    """
    if isinstance(rule, Cutoffs):
        return rule
    if isinstance(rule, str):
        return RULES[check_choice("rule", rule.replace("-", "_").lower(), RULES)]
    raise OptionError(
        f"rule must be one of {', '.join(map(repr, RULES))} or a Cutoffs, not "
        f"{type(rule).__name__}."
    )
