"""Multiplicity adjustment of p-values (through ``statsmodels.stats.multitest``).

Examples
--------
>>> from semnet.analyses.invariance.adjust import adjust_pvalues
>>> adjust_pvalues([0.01, 0.02, 0.04], "bh").round(3).tolist()
[0.03, 0.03, 0.04]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from semnet.errors import OptionError, check_choice

__all__ = ["ADJUST", "adjust_pvalues"]

#: the adjustments :func:`adjust_pvalues` knows, by semnet's name
ADJUST = ("bonferroni", "holm", "bh")
#: semnet's name → ``statsmodels.stats.multitest.multipletests``'s method
_STATSMODELS = {"bonferroni": "bonferroni", "holm": "holm", "bh": "fdr_bh"}


def adjust_pvalues(p: Sequence[float], method: str | None) -> np.ndarray:
    """Adjusted p-values: ``"bonferroni"``, ``"holm"``, ``"bh"`` (Benjamini–Hochberg) or None.

    Parameters
    ----------
    p : sequence of float
        The p-values of one family of tests; NaN entries stay NaN and do not count.
    method : {"bonferroni", "holm", "bh", None}
        The adjustment (None: the p-values unchanged).

    Returns
    -------
    ndarray
        The adjusted p-values, in the order given, at most 1.

    Examples
    --------
    >>> from semnet.analyses.invariance import adjust_pvalues
    >>> adjust_pvalues([0.01, 0.02, 0.04], "holm").round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    p = np.asarray(p, dtype=float)
    if p.ndim != 1:
        raise OptionError(f"adjust_pvalues needs a flat list of p-values, not shape {p.shape}.")
    out = p.copy()
    if method is None or p.size == 0:
        return out
    method = check_choice("adjust", method, ADJUST)
    known = ~np.isnan(p)
    if ((p[known] < 0) | (p[known] > 1)).any():
        raise OptionError(f"p-values must lie in [0, 1]; got {p[known].min():g} to "
                          f"{p[known].max():g}.")
    if known.any():
        from statsmodels.stats.multitest import multipletests

        out[known] = multipletests(p[known], method=_STATSMODELS[method])[1]
    return out
