"""The assembling :func:`fit_measures`: every family of measures, in lavaan's order."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from semnet.results.fit_measures.chisq import chisq_measures, group_ml, pooled_statistics
from semnet.results.fit_measures.gfi import gfi_measures
from semnet.results.fit_measures.incremental import incremental_measures
from semnet.results.fit_measures.information import information_criteria
from semnet.results.fit_measures.inputs import GroupFitInput, MissingDataInput, ScaledInput
from semnet.results.fit_measures.names import fit_measure_names
from semnet.results.fit_measures.other import other_measures
from semnet.results.fit_measures.residuals import residual_measures
from semnet.results.fit_measures.rmsea import rmsea_measures
from semnet.results.fit_measures.robust import missing_robust_measures, scaled_measures


def fit_measures(
    groups: Sequence[GroupFitInput],
    *,
    npar: int,
    df: int,
    meanstructure: bool,
    chisq: float | None = None,
    level: float = 0.90,
    scaled: ScaledInput | None = None,
    missing: MissingDataInput | None = None,
) -> pd.Series:
    """Compute lavaan's ``fitMeasures()`` for an ML fit (standard or robust test).

    Parameters
    ----------
    groups : sequence of GroupFitInput
        Sample and model-implied moments, one entry per group.
    npar : int
        Number of free parameters as lavaan's ``fitMeasures()["npar"]``
        reports it (free parameters minus the rank of the equality
        constraints; each set of equal parameters counts once).
    df : int
        Model degrees of freedom.
    meanstructure : bool
        Whether the model has a mean structure (lavaan adds one automatically
        for multiple groups).
    chisq : float, optional
        The likelihood-ratio chi-square of the model against the unrestricted
        model.  Computed from the moments as ``2 * sum_g N_g * F_g`` when
        ``None``.  ``fmin`` is always computed from the moments.
    level : float, optional
        Confidence level of the RMSEA interval (default 0.90).
    scaled : ScaledInput, optional
        Robust (scaled) test of the model and of the baseline model.  When
        given, the robust measures lavaan reports for ``estimator = "MLM"``
        / ``"MLR"`` are added (see the module docstring for the formulas).
        ``chisq`` (given or computed) is the unscaled statistic they build on.
    missing : MissingDataInput, optional
        What a FIML fit adds: log-likelihoods and baseline chi-square; ``chisq`` must
        then be given, and ``fmin`` is ``chisq / (2 N)`` as lavaan reports it.  The
        ``*_robust`` measures are then reported for the standard test too and are
        built on the FIML-corrected statistics (``missing.corrected``; NaN without
        them), and the GFI family uses the pairwise moments and the missing-data
        weight matrix (``missing.pairwise``, ``missing.patterns``; NaN without them).
        See the module docstring.

    Returns
    -------
    pandas.Series
        Float series indexed by ``fit_measure_names(scaled.test, missing is not
        None)`` -- :data:`FIT_MEASURE_NAMES` for complete data without ``scaled``
        (lavaan's names and order with dots replaced by underscores).  Measures
        that lavaan reports as ``NA`` are ``nan``.

    Raises
    ------
    ValueError
        If ``groups`` is empty, the inputs have inconsistent shapes, a
        covariance matrix is not positive definite, ``level`` is outside
        ``(0, 1)``, or ``scaled.test`` is not one of :data:`ROBUST_TESTS`.
    Examples
    --------
    >>> import numpy as np
    >>> from semnet.results.fit_measures import GroupFitInput, fit_measures
    >>> S = np.array([[1.0, 0.3], [0.3, 1.0]])
    >>> # the implied moments of the independence model (whose CFI is 0)
    >>> group = GroupFitInput(nobs=100, sample_cov=S, sample_mean=np.zeros(2),
    ...                       implied_cov=np.eye(2), implied_mean=np.zeros(2))
    >>> fm = fit_measures([group], npar=2, df=1, meanstructure=False)
    >>> round(float(fm["chisq"]), 3), round(float(fm["cfi"]), 3)
    (9.431, 0.0)
    """
    if len(groups) == 0:
        raise ValueError("at least one group is required")
    if not 0.0 < level < 1.0:
        raise ValueError("level must lie in (0, 1)")
    names = fit_measure_names(None if scaled is None else scaled.test, missing is not None)

    ngroups = len(groups)
    per_group = [group_ml(g, meanstructure) for g in groups]
    st = pooled_statistics(groups, per_group, chisq, missing)
    n, w, x2, df = st.n, st.weights, st.chisq, float(df)
    x2_null, df_null = st.baseline_chisq, st.baseline_df
    npar_f = float(npar)

    out = chisq_measures(npar_f, df, st)
    out.update(incremental_measures(x2, df, x2_null, df_null))
    out.update(information_criteria(st.logl, st.unrestricted_logl, npar_f, n))
    out.update(rmsea_measures(x2, df, n, ngroups, level))
    out.update(residual_measures(per_group, w, meanstructure))
    out.update(gfi_measures(per_group, w, meanstructure, df, missing))
    out.update(other_measures(x2, df, n, npar_f))
    if scaled is not None:
        out.update(scaled_measures(scaled, x2, df, x2_null, df_null, n, ngroups, level))
    if missing is not None:
        # with incomplete data the robust measures are built on the FIML-corrected
        # statistics (with or without a scaled test), never on the FIML chi-square
        out.update(missing_robust_measures(missing.corrected, df, df_null, n, ngroups, level))

    return pd.Series(
        [out[k] for k in names],
        index=list(names),
        dtype=float,
        name="fit_measures",
    )
