"""Nested-model comparison by likelihood-ratio (chi-square difference) tests.

The analogue of lavaan's ``lavTestLRT()`` / ``anova()``: models are ordered by their
degrees of freedom and each is tested against the previous (less restricted) one.  The
RMSEA of the difference is ``sqrt(max(0, (dX2 - ddf) / (N ddf))) * sqrt(G)``, as lavaan.

For robust fits (MLM, MLR) the difference of the unscaled statistics ``T0 - T1`` (model 0
the more restricted, df ``r0 > r1``) is scaled:

- Satorra & Bentler (2001): ``c_d = (r0 c0 - r1 c1) / (r0 - r1)`` from the two models'
  scaling factors (can be negative in small samples);
- Satorra & Bentler (2010), strictly positive: ``c1`` is replaced by the scaling factor of
  the less restricted model evaluated at the restricted model's estimates;
- Satorra (2000), the default for MLMV fits (as lavaan's): the difference is treated as a
  test of ``m = r0 - r1`` restrictions ``A`` on the less restricted model, with ``A``
  spanning the complement of the restricted model's directions
  (``pinv(Delta1) Delta0``).  With its normal-theory weight ``W_g``, information ``P``
  (inverted on its constraint space), Jacobian ``Delta_g`` and ADF ``Gamma_g`` (all of
  the less restricted model) and ``Pi = P^-1 A' (A P^-1 A')^-1 A P^-1``::

      U = bdiag(W_g) Delta Pi Delta' bdiag(W_g),   UG = U bdiag(f_g Gamma_g)
      a = sqrt(m / tr(UG^2)),  b = m - a tr(UG),  chisq_diff = a (T0 - T1) + b  on m df

  It is always the scaled-shifted version (lavaan's ``scaled.shifted = TRUE``), for MLM
  fits too.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats
from scipy.linalg import block_diag, null_space

from semnet._blas import one_blas_thread
from semnet.data.moments import vech_indices
from semnet.errors import OptionError, SemnetError, check_choice
from semnet.inference.moment_space import (
    adf_gamma,
    fixed_x_moments,
    fixed_x_variables,
    normal_weight,
    without_moments,
)
from semnet.inference.plugins import TESTS, InferenceContext
from semnet.inference.vcov import tangent_basis
from semnet.results.fit import Fit

METHODS = ("standard", "satorra_bentler_2001", "satorra_bentler_2010", "satorra_2000")


def compare(*fits: Fit, method: str | None = None, names: list[str] | None = None) -> pd.DataFrame:
    """Chi-square difference tests of nested models fitted to the same data.

    Parameters
    ----------
    *fits : Fit
        Two or more fits of nested models (any order).
    method : str, optional
        ``"standard"`` (plain difference of ML chi-squares, the default for ML),
        ``"satorra_bentler_2001"`` (the default for MLM and MLR fits),
        ``"satorra_bentler_2010"``, or ``"satorra_2000"`` (the default for MLMV fits;
        MLM and MLMV only), as lavaan's ``lavTestLRT()``.
    names : list of str, optional
        Row labels; default ``model1``, ``model2``, ... in the order given.

    Returns
    -------
    DataFrame
        One row per model, least restricted first: ``df, aic, bic, chisq, chisq_diff,
        df_diff, rmsea, pvalue`` (differences against the row above).  Robust methods
        drop ``rmsea`` and add the correction of each difference: ``scaling_factor``
        (Satorra-Bentler), or ``scale`` and ``shift`` (Satorra 2000:
        ``chisq_diff = scale * (T0 - T1) + shift``).  ``attrs["method"]`` names the method.

    Examples
    --------
    >>> import semnet
    >>> hs = semnet.datasets.holzinger_swineford()
    >>> m = "visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\nspeed =~ x7 + x8 + x9"
    >>> configural = semnet.cfa(m, hs, group="school")
    >>> metric = semnet.cfa(m, hs, group="school", group_equal=["loadings"])
    >>> semnet.compare(configural, metric)["pvalue"].round(3).tolist()
    [nan, 0.224]
    """
    if len(fits) == 1 and isinstance(fits[0], list | tuple):
        fits = tuple(fits[0])
    if len(fits) < 2:
        raise SemnetError("compare() needs at least two fitted models.")
    for f in fits:
        if not isinstance(f, Fit):
            raise SemnetError(f"compare() takes Fit objects, not {type(f).__name__}.")
        if not np.isfinite(f.df):
            raise SemnetError(
                f"compare() tests chi-square differences, but {f!r} has no chi-square test "
                "(an LMS fit's model is not normal). Use its lr_test() against the model "
                "without the product terms, or twice the difference of the loglik of "
                "nested LMS fits."
            )
    method = _method(fits, method)
    if names is None:
        names = [f"model{i + 1}" for i in range(len(fits))]
    if len(names) != len(fits):
        raise OptionError("names must have one entry per model.")
    if len(set(names)) != len(names):
        raise OptionError(
            f"names must differ from each other (they label the rows), not {names!r}."
        )
    _check_comparable(fits)
    order = sorted(range(len(fits)), key=lambda i: fits[i].df)
    dfs = [fits[i].df for i in order]
    if len(set(dfs)) < len(dfs):
        warnings.warn(
            "some models have the same degrees of freedom; they cannot be nested, so their "
            "difference tests are not meaningful.",
            stacklevel=2,
        )
    rows = []
    prev = None
    ngroups = fits[0].partable.ngroups
    ntotal = fits[0].ntotal
    for i in order:
        f = fits[i]
        fm = f.fit_measures()
        row = {
            "model": names[i],
            "df": f.df,
            "aic": fm.get("aic", np.nan),
            "bic": fm.get("bic", np.nan),
            "chisq": f.chisq,
            "chisq_diff": np.nan,
            "df_diff": np.nan,
            "rmsea": np.nan,
            "pvalue": np.nan,
        }
        if prev is not None:
            row.update(_difference(prev, f, method, names[i], ntotal, ngroups))
        rows.append(row)
        prev = f
    out = pd.DataFrame(rows).set_index("model")
    if method == "standard":
        out.attrs["method"] = "standard"
    else:
        out = out.drop(columns="rmsea")
        out.attrs["method"] = method
        year = method.rsplit("_", 1)[1]
        who = "Satorra" if method == "satorra_2000" else "Satorra-Bentler"
        kind = "scaled-shifted" if method == "satorra_2000" else "scaled"
        out.attrs["note"] = (
            "chisq holds the standard (unscaled) statistics; chisq_diff is the "
            f"{who} ({year}) {kind} difference."
        )
    return out


def _method(fits: tuple[Fit, ...], method: str | None) -> str:
    """The difference test's method: ``method`` checked against the fits' tests, or the
    default for them (standard for ML, Satorra-Bentler 2001 for MLM / MLR, Satorra 2000
    for MLMV)."""
    robust = [f.scaled_test is not None for f in fits]
    if any(robust) and not all(robust):
        raise SemnetError(
            "some models have a robust (scaled) test and some do not; fit all of them with "
            "the same estimator."
        )
    defaults = {TESTS.get(f.options.test).difference for f in fits}
    default = defaults.pop() if len(defaults) == 1 else "satorra_bentler_2001"
    method = check_choice(
        "method", method.replace(".", "_") if isinstance(method, str) else default, METHODS
    )
    if method != "standard" and not all(robust):
        raise SemnetError(
            f"method={method!r} needs robust fits (estimator='MLM', 'MLMV' or 'MLR'); these "
            "models were fitted with a standard test."
        )
    if method == "satorra_2000" and not all(
        TESTS.get(f.scaled_test.name).complete_data and f.patterns is None for f in fits
    ):
        raise OptionError(
            "method='satorra_2000' is available for complete-data fits with "
            "estimator='MLM' or 'MLMV'; for MLR fits use method='satorra_bentler_2001' "
            "(the default) or 'satorra_bentler_2010'."
        )
    return method


def _difference(
    prev: Fit, f: Fit, method: str, name: str, ntotal: int, ngroups: int
) -> dict[str, float]:
    """The test of ``f`` (named ``name``) against the less restricted ``prev``: the
    ``chisq_diff``, ``df_diff``, ``pvalue`` and ``rmsea`` or correction cells of its row
    (``ntotal`` cases in ``ngroups`` groups).

    Warnings point at the caller of :func:`compare`.
    """
    d_chi = f.chisq - prev.chisq
    d_df = f.df - prev.df
    row = {"chisq_diff": d_chi, "df_diff": d_df}
    if d_df > 0 and method == "standard":
        row["pvalue"] = float(stats.chi2.sf(d_chi, d_df))
        row["rmsea"] = np.sqrt(max(0.0, (d_chi - d_df) / (ntotal * d_df))) * np.sqrt(ngroups)
    elif d_df > 0 and method == "satorra_2000":
        stat, corr = _satorra_2000(prev, f)
        row["chisq_diff"] = stat
        row["pvalue"] = float(stats.chi2.sf(stat, d_df))
        row.update(corr)
    elif d_df > 0:
        c0 = f.scaled_test.scaling_factor
        if method == "satorra_bentler_2001":
            c1 = prev.scaled_test.scaling_factor
        else:
            c1 = _scaling_at(prev, f)
        cd = (f.df * c0 - prev.df * c1) / d_df
        row["scaling_factor"] = cd
        if cd > 0:
            row["chisq_diff"] = d_chi / cd
            row["pvalue"] = float(stats.chi2.sf(d_chi / cd, d_df))
        else:
            row["chisq_diff"] = np.nan
            warnings.warn(
                f"the scaling factor of the difference between {name} and the "
                f"model before it is negative ({cd:.4g}); use "
                "method='satorra_bentler_2010', which is always positive.",
                stacklevel=3,
            )
    if d_chi < -1e-6 * max(1.0, prev.chisq):
        warnings.warn(
            f"{name} has more degrees of freedom but a smaller chi-square than "
            "the model before it; the models are probably not nested.",
            stacklevel=3,
        )
    return row


def _scaling_at(less: Fit, more: Fit) -> float:
    """Scaling factor of the less restricted model evaluated at the more restricted
    model's estimates (Satorra & Bentler, 2010)."""

    keys_more = _keys(more)
    try:
        mapped = np.array([more.values[keys_more[k]] for k in _keys_list(less)])
    except KeyError as exc:
        raise SemnetError(
            "method='satorra_bentler_2010' needs models with the same parameters, differing "
            f"only in constraints; {exc.args[0]} of the less restricted model is not in the "
            "more restricted one."
        ) from None
    model = less.model
    # free parameters start at the restricted estimates; fixed ones keep their values
    x10 = mapped[model.free_rows][np.argsort(model.free[model.free_rows])]
    ctx = InferenceContext.of_fit(less.discrepancy(), less.constraints, x10, less.df)
    return TESTS.get(less.scaled_test.name).compute(ctx).scaling_factor


def _moment_delta(fit: Fit, names: tuple[str, ...]) -> list[np.ndarray]:
    """Per group, the Jacobian of (mean, vech(cov)) of the observed variables in the
    order ``names``, at the fit's estimates (rows as lavaan's Delta)."""

    order = np.array([fit.partable.names.ov.index(v) for v in names])
    r, c = vech_indices(order.size)
    out = []
    for g in range(fit.partable.ngroups):
        _, _, d_sigma, d_mu = fit.model.jacobian(fit.values, g)
        d_sigma = d_sigma[:, order][:, :, order]
        delta = d_sigma[:, r, c].T
        if fit.partable.meanstructure:
            delta = np.vstack([d_mu[:, order].T, delta])
        out.append(delta)
    return out


@one_blas_thread
def _satorra_2000(less: Fit, more: Fit) -> tuple[float, dict[str, float]]:
    """Satorra's (2000) scaled-shifted difference test of ``more`` (restricted) against
    ``less``: the statistic and its ``scale`` and ``shift``."""


    if less.partable.meanstructure != more.partable.meanstructure:
        raise SemnetError(
            "method='satorra_2000' needs models that both have, or both lack, a mean "
            "structure; pass the same meanstructure= to every fit."
        )
    names = less.moments[0].names
    meanstructure = less.partable.meanstructure
    T1 = tangent_basis(less.constraints, less.x)
    T0 = tangent_basis(more.constraints, more.x)
    if less.sample.ordinal is not None:
        # least squares on the ordinal statistics: its own Jacobians, weights and Gamma
        parts = less.discrepancy().sandwich_parts(less.x)
        d1 = np.vstack([d for d, _, _ in parts]) @ T1
        d0 = np.vstack([d for d, _, _ in more.discrepancy().sandwich_parts(more.x)]) @ T0
        W, G = [w for _, w, _ in parts], [gm for _, _, gm in parts]
    else:
        d1 = np.vstack(_moment_delta(less, names)) @ T1
        d0 = np.vstack(_moment_delta(more, names)) @ T0
        W, G = _normal_parts(less, meanstructure)
    # restrictions: the directions of the less restricted model outside the span of the
    # restricted one
    A = null_space((np.linalg.pinv(d1) @ d0).T).T
    fg = np.array([m.size for m in less.moments], dtype=float) / less.ntotal
    V = block_diag(*W)
    gamma = block_diag(*[f * gm for f, gm in zip(fg, G, strict=True)])
    P_inv = np.linalg.inv(d1.T @ block_diag(*[f * w for f, w in zip(fg, W, strict=True)]) @ d1)
    pa = P_inv @ A.T
    Pi = pa @ np.linalg.pinv(A @ pa) @ pa.T
    vd = V @ d1
    UG = vd @ Pi @ vd.T @ gamma
    m = more.df - less.df
    diff = more.chisq - less.chisq
    a = np.sqrt(m / float(np.sum(UG * UG.T)))
    b = m - a * float(np.trace(UG))
    return float(diff * a + b), {"scale": float(a), "shift": float(b)}


def _normal_parts(fit: Fit, meanstructure: bool) -> tuple[list, list]:
    """Per group the normal-theory weight at the implied moments and the ADF Gamma of
    the moments; ``fixed.x`` covariates are conditioned on (their moments leave both)."""
    W, G = [], []
    for g, mom in enumerate(fit.moments):
        sigma, _ = fit.model.implied(fit.values, g)
        W.append(without_moments(normal_weight(sigma, meanstructure), fixed_x_moments(fit.model)))
        G.append(adf_gamma(mom, meanstructure, fixed_x_variables(fit.model)))
    return W, G


def _keys_list(fit: Fit) -> list[tuple]:
    """``(lhs, op, rhs, group)`` of every row; a covariance's two sides in name order, so
    ``f ~~ g`` of one model finds ``g ~~ f`` of another."""
    p = fit.partable.params
    return [
        (min(lhs, rhs), op, max(lhs, rhs), g) if op == "~~" else (lhs, op, rhs, g)
        for lhs, op, rhs, g in zip(p["lhs"], p["op"], p["rhs"], p["group"], strict=True)
    ]


def _keys(fit: Fit) -> dict[tuple, int]:
    return {k: i for i, k in enumerate(_keys_list(fit))}


#: how far the moments of two fits may differ and still be the same data's: a covariance
#: matrix computed from the cases and one given as ``sample_cov`` (rescaled from N - 1 to N)
#: differ in the last digits only
SAME_MOMENTS_RTOL = 1e-10


def _same_data(a: Fit, b: Fit) -> bool:
    """Whether two fits saw the same cases: the same data hash, or the same rows and
    statistics once ``b``'s variables are put in ``a``'s order (models that list the
    same variables in another order, as lavaan compares them); where one fit has summary
    statistics only, the same covariances (and means, where both models have them) to
    rounding."""
    if a.nobs != b.nobs:
        return False
    if a.meta.get("data_sha256") == b.meta.get("data_sha256"):
        return True
    for ma, mb in zip(a.moments, b.moments, strict=True):
        if ma.label != mb.label or sorted(ma.names) != sorted(mb.names):
            return False
        order = [mb.names.index(name) for name in ma.names]
        if ma.data is not None and mb.data is not None:
            same = np.array_equal(ma.data, mb.data[:, order], equal_nan=True)
        else:  # summary statistics (sample_cov): equal to rounding, from the same cases
            cov = mb.cov[np.ix_(order, order)]
            tol = SAME_MOMENTS_RTOL * np.abs(ma.cov).max()
            same = np.allclose(ma.cov, cov, rtol=SAME_MOMENTS_RTOL, atol=tol)
            if same and a.partable.meanstructure and b.partable.meanstructure:
                same = np.allclose(ma.mean, mb.mean[order], rtol=SAME_MOMENTS_RTOL, atol=tol)
        if not same:
            return False
    return True


def _check_comparable(fits: tuple[Fit, ...]) -> None:
    first = fits[0]
    for f in fits[1:]:
        if not _same_data(first, f):
            raise SemnetError(
                "the models were not fitted to the same data (different cases or variables), "
                "so they cannot be compared by a chi-square difference test. Fit every model "
                "to the same data with the same missing-data handling."
            )
        if f.groups != first.groups:
            raise SemnetError(
                "the models have different groups; fit them with the same group column."
            )
        if set(f.partable.names.ov) != set(first.partable.names.ov):
            raise SemnetError(
                "the models use different observed variables, so they are not nested."
            )
        if f.options.estimator != first.options.estimator:
            raise SemnetError("the models were fitted with different estimators.")
