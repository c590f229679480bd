"""The invariance ladder of ordinal items (Wu & Estabrook, 2016).

With ordinal items the ladder is configural → thresholds → thresholds + loadings
("metric") → + intercepts ("scalar") → + residual variances ("strict", theta
parameterization only), each level identified as semTools 0.5-6's ``measEq.syntax(ID.fac =
"std.lv", ID.cat = "Wu.Estabrook.2016")``: the latent variances are 1 (free in the later
groups once loadings are equal), and in every later group an item with ``k`` equal
thresholds has a free intercept (``k >= 1``, intercepts not equal) and a free scale factor
(delta) or residual variance (theta) (``k >= 2``, or ``k >= 1`` with equal intercepts;
not with equal residuals); latent means are free once intercepts are equal.  The fits
use ``semnet.sem(..., std_lv=True, ordinal_identification="wu_estabrook_2016")``.

Examples
--------
>>> from semnet.analyses.invariance.ordinal import ordinal_levels
>>> ordinal_levels("delta")
('configural', 'thresholds', 'metric', 'scalar')
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from semnet.data.sample import ordered_items, threshold_counts
from semnet.errors import OptionError
from semnet.partable.build import variable_names
from semnet.pipeline.specify import read_model
from semnet.syntax import parse_model

__all__ = ["ORDINAL_LEVELS", "ordinal_fit_args", "ordinal_items", "ordinal_levels"]

#: the ladder of ordinal items (Wu & Estabrook 2016); "strict" needs the theta
#: parameterization
ORDINAL_LEVELS = ("configural", "thresholds", "metric", "scalar", "strict")


def ordinal_levels(parameterization: str = "delta") -> tuple[str, ...]:
    """The default ladder of ordinal items: without ``"strict"`` in the delta
    parameterization (residual variances are not parameters there).

    Parameters
    ----------
    parameterization : {"delta", "theta"}

    Returns
    -------
    tuple of str

    Examples
    --------
    >>> ordinal_levels("theta")[-1]
    'strict'
    """
    return ORDINAL_LEVELS if parameterization == "theta" else ORDINAL_LEVELS[:-1]


def ordinal_items(model: str | Path, data: pd.DataFrame | None,
                  fit_args: Mapping[str, Any]) -> dict[str, int]:
    """The model's ordinal items and their numbers of thresholds (empty: none).

    Parameters
    ----------
    model : str or path
        lavaan model syntax.
    data : DataFrame or None
    fit_args : mapping
        The fit options (``ordered`` names the ordinal columns; ordered Categorical
        columns are ordinal without it).

    Returns
    -------
    dict
        Item → number of thresholds (observed categories less one).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"a": [1, 2, 3, 1], "b": [1, 2, 1, 2]})
    >>> ordinal_items("f =~ a + b", d, {"ordered": True})
    {'a': 2, 'b': 1}
    """
    if not isinstance(data, pd.DataFrame):
        return {}
    observed = variable_names(parse_model(read_model(model)).relations).ov
    items = ordered_items(data, fit_args.get("ordered"), observed)
    return threshold_counts(data, items)


def ordinal_fit_args(fit_args: Mapping[str, Any], ladder: Mapping[str, tuple[str, ...]],
                     counts: Mapping[str, int]) -> dict[str, Any]:
    """The fit options of every level of an ordinal ladder, checked.

    Parameters
    ----------
    fit_args : mapping
        The user's options for :func:`semnet.sem`.
    ladder : mapping
        Level name → ``group_equal`` tuple.
    counts : mapping
        Ordinal item → number of thresholds (:func:`ordinal_items`).

    Returns
    -------
    dict
        ``fit_args`` with ``std_lv=True`` and ``ordinal_identification=
        "wu_estabrook_2016"``.

    Raises
    ------
    OptionError
        ``std_lv=False`` (marker loadings leave the latent means unidentified with
        ordinal items), ``ordinal_identification`` given, equal residuals in the delta
        parameterization, or equal intercepts with binary items.

    Examples
    --------
    >>> ordinal_fit_args({}, {"configural": ()}, {"y1": 3})["std_lv"]
    True
    """
    args = dict(fit_args)
    if "ordinal_identification" in args:
        raise OptionError(
            "invariance() identifies ordinal items itself (Wu & Estabrook 2016, as semTools' "
            "measEq.syntax); leave out ordinal_identification."
        )
    if args.get("std_lv", True) is not True:
        raise OptionError(
            "the ordinal invariance ladder scales the factors by their variances "
            "(std_lv=True, semTools' ID.fac='std.lv'): with marker loadings and ordinal "
            "items, equal intercepts cannot identify the latent means, because the items' "
            "intercepts are already fixed to 0 to identify their scales. Leave out std_lv."
        )
    constrained = set().union(*ladder.values())
    if "residuals" in constrained and args.get("parameterization", "delta") == "delta":
        raise OptionError(
            "residual variances of ordinal items are not parameters in the delta "
            "parameterization, so they cannot be tested for invariance; pass "
            "parameterization='theta' for a 'strict' level, or leave 'strict' out."
        )
    binary = [item for item, k in counts.items() if k == 1]
    if binary and "intercepts" in constrained:
        raise OptionError(
            f"the binary item(s) {', '.join(binary)} have one threshold: with it equal "
            "across groups, the intercepts, scale factors and latent means of the later "
            "groups are not identified together (Wu & Estabrook 2016), so the 'scalar' "
            "level cannot be fitted. Stop the ladder at 'metric' (thresholds and loadings)."
        )
    args["std_lv"] = True
    args["ordinal_identification"] = "wu_estabrook_2016"
    return args
