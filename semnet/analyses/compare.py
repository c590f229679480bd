"""Nested-model comparison by likelihood-ratio (chi-square difference) tests.

The analogue of lavaan's ``lavTestLRT()`` / ``anova()``: models are ordered by their
degrees of freedom and each is tested against the previous (less restricted) one.  The
RMSEA of the difference is ``sqrt(max(0, (dX2 - ddf) / (N ddf))) * sqrt(G)``, as lavaan.

For robust fits (MLM, MLR) the difference of the unscaled statistics ``T0 - T1`` (model 0
the more restricted, df ``r0 > r1``) is scaled:

- Satorra & Bentler (2001): ``c_d = (r0 c0 - r1 c1) / (r0 - r1)`` from the two models'
  scaling factors (can be negative in small samples);
- Satorra & Bentler (2010), strictly positive: ``c1`` is replaced by the scaling factor of
  the less restricted model evaluated at the restricted model's estimates.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from semnet.errors import OptionError, SemnetError, check_choice
from semnet.results.fit import Fit

METHODS = ("standard", "satorra_bentler_2001", "satorra_bentler_2010")


def compare(*fits: Fit, method: str | None = None, names: list[str] | None = None) -> pd.DataFrame:
    """Chi-square difference tests of nested models fitted to the same data.

    Parameters
    ----------
    *fits : Fit
        Two or more fits of nested models (any order).
    method : str, optional
        ``"standard"`` (plain difference of ML chi-squares, the default for ML),
        ``"satorra_bentler_2001"`` (the default for robust fits) or
        ``"satorra_bentler_2010"``.
    names : list of str, optional
        Row labels; default ``model1``, ``model2``, ... in the order given.

    Returns
    -------
    DataFrame
        One row per model, least restricted first: ``df, aic, bic, chisq, chisq_diff,
        df_diff, rmsea, pvalue`` (differences against the row above).

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
    robust = [f.scaled_test is not None for f in fits]
    if any(robust) and not all(robust):
        raise SemnetError(
            "some models have a robust (scaled) test and some do not; fit all of them with "
            "the same estimator."
        )
    default = "satorra_bentler_2001" if all(robust) else "standard"
    method = check_choice(
        "method", method.replace(".", "_") if isinstance(method, str) else default, METHODS
    )
    if method != "standard" and not all(robust):
        raise SemnetError(
            f"method={method!r} needs robust fits (estimator='MLM' or 'MLR'); these models "
            "were fitted with a standard test."
        )
    if names is None:
        names = [f"model{i + 1}" for i in range(len(fits))]
    if len(names) != len(fits):
        raise OptionError("names must have one entry per model.")
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
            "aic": fm["aic"],
            "bic": fm["bic"],
            "chisq": f.chisq,
            "chisq_diff": np.nan,
            "df_diff": np.nan,
            "rmsea": np.nan,
            "pvalue": np.nan,
        }
        if prev is not None:
            d_chi = f.chisq - prev.chisq
            d_df = f.df - prev.df
            row["chisq_diff"] = d_chi
            row["df_diff"] = d_df
            if d_df > 0 and method == "standard":
                row["pvalue"] = float(stats.chi2.sf(d_chi, d_df))
                row["rmsea"] = np.sqrt(max(0.0, (d_chi - d_df) / (ntotal * d_df))) * np.sqrt(
                    ngroups
                )
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
                        f"the scaling factor of the difference between {names[i]} and the "
                        f"model before it is negative ({cd:.4g}); use "
                        "method='satorra_bentler_2010', which is always positive.",
                        stacklevel=2,
                    )
            if d_chi < -1e-6 * max(1.0, prev.chisq):
                warnings.warn(
                    f"{names[i]} has more degrees of freedom but a smaller chi-square than "
                    "the model before it; the models are probably not nested.",
                    stacklevel=2,
                )
        rows.append(row)
        prev = f
    out = pd.DataFrame(rows).set_index("model")
    if method == "standard":
        out.attrs["method"] = "standard"
    else:
        out = out.drop(columns="rmsea")
        out.attrs["method"] = method
        year = method.rsplit("_", 1)[1]
        out.attrs["note"] = (
            "chisq holds the standard (unscaled) statistics; chisq_diff is the "
            f"Satorra-Bentler ({year}) scaled difference."
        )
    return out


def _scaling_at(less: Fit, more: Fit) -> float:
    """Scaling factor of the less restricted model evaluated at the more restricted
    model's estimates (Satorra & Bentler, 2010)."""
    from semnet.inference.robust import mlm, mlr
    from semnet.inference.vcov import tangent_basis

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
    disc = less.discrepancy()
    T = tangent_basis(less.constraints, x10)
    if less.scaled_test.name == "satorra_bentler":
        return mlm(disc, x10, T, less.df)[1].scaling_factor
    return mlr(disc, x10, T, less.df, model.nfree)[1].scaling_factor


def _keys_list(fit: Fit) -> list[tuple]:
    p = fit.partable.params
    return list(zip(p["lhs"], p["op"], p["rhs"], p["group"], strict=True))


def _keys(fit: Fit) -> dict[tuple, int]:
    return {k: i for i, k in enumerate(_keys_list(fit))}


def _check_comparable(fits: tuple[Fit, ...]) -> None:
    first = fits[0]
    for f in fits[1:]:
        if f.meta.get("data_sha256") != first.meta.get("data_sha256") or f.nobs != first.nobs:
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
