"""Probing a latent interaction: simple slopes and the Johnson–Neyman region.

For an outcome equation ``y ~ b1*x + b2*z + b3*x:z`` the effect of ``x`` at a value ``w``
of the moderator is ``b1 + b3 w`` with variance
``V11 + 2 w V13 + w^2 V33`` (delta method; Aiken & West, 1991; Preacher, Curran & Bauer,
2006).  The Johnson–Neyman bounds are the values of ``w`` where that slope is exactly
significant: the roots of ``(b1 + b3 w)^2 = c^2 (V11 + 2 w V13 + w^2 V33)`` with ``c``
the normal critical value (Bauer & Curran, 2005).  With ``sd_units=True`` the moderator
values are in standard deviations of the (latent) moderator around its mean, both taken
from the fitted model.
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from semnet.data.moments import numeric_data
from semnet.errors import (
    DataError,
    ModelSpecificationError,
    OptionError,
    SemnetError,
    check_level,
)
from semnet.syntax import parse_model
from semnet.syntax.model import Modifiers, ParsedModel, Relation

if TYPE_CHECKING:
    from collections.abc import Sequence

    from semnet.results.fit import Fit


@dataclass(frozen=True)
class _Terms:
    outcome: str
    rows: tuple[int, int, int]  # parameter rows of y~x, y~z, y~x:z (row of y~z may be -1)
    group: int


def _find_terms(
    fit: Fit, x: str, moderator: str, outcome: str | None, product: str | None = None
) -> list[_Terms]:
    params = fit.partable.params
    lhs = params["lhs"].to_numpy()
    op = params["op"].to_numpy()
    rhs = params["rhs"].to_numpy()
    group = params["group"].to_numpy()
    products = {f"{x}:{moderator}", f"{moderator}:{x}"} if product is None else {product}
    out = []
    for g in range(1, fit.partable.ngroups + 1):
        reg = (op == "~") & (group == g)
        prod_rows = np.flatnonzero(reg & np.isin(rhs, list(products)))
        if outcome is not None:
            prod_rows = prod_rows[lhs[prod_rows] == outcome]
        for r in prod_rows:
            y = lhs[r]
            xr = np.flatnonzero(reg & (lhs == y) & (rhs == x))
            zr = np.flatnonzero(reg & (lhs == y) & (rhs == moderator))
            if xr.size == 0:
                raise SemnetError(
                    f"the model has '{y} ~ {rhs[r]}' but no '{y} ~ {x}'; the first-order "
                    "effect of the focal predictor is needed to probe the interaction."
                )
            out.append(_Terms(y, (int(xr[0]), int(zr[0]) if zr.size else -1, int(r)), g))
    if not out:
        raise SemnetError(
            f"no interaction term '{x}:{moderator}' in a regression of this model; add it, "
            f"e.g. 'y ~ {x} + {moderator} + {x}:{moderator}'."
        )
    return out


def _moderator_scale(fit: Fit, moderator: str, g: int) -> tuple[float, float]:
    """Model-implied mean and SD of the moderator in group g (0-based)."""
    model = fit.model
    if moderator not in model.variables:
        raise SemnetError(f"{moderator!r} is not a variable of the model.")
    k = model.variables.index(moderator)
    cov, mean = model.implied_all(fit.values, g)
    return float(mean[k]), float(np.sqrt(cov[k, k]))


def simple_slopes(
    fit: Fit,
    x: str,
    moderator: str,
    at: tuple[float, ...] = (-1.0, 0.0, 1.0),
    *,
    sd_units: bool = True,
    outcome: str | None = None,
    product: str | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Effects of ``x`` on the outcome at given values of the moderator.

    Parameters
    ----------
    fit : Fit
        A model with ``y ~ x + moderator + x:moderator``.
    at : tuple of float
        Moderator values: in SDs around its model-implied mean (``sd_units=True``) or
        raw values.
    outcome : str, optional
        The outcome, when several equations contain the product.
    product : str, optional
        Name of the product term when it is not ``"x:moderator"`` (e.g. a latent
        product factor ``xz`` measured by product indicators you built yourself).

    Returns
    -------
    DataFrame
        ``group, outcome, moderator_value, at, slope, se, z, pvalue, ci_lower, ci_upper``.

    Examples
    --------
    >>> semnet.simple_slopes(fit, x="ni", moderator="et")  # doctest: +SKIP
    """
    check_level(level)
    at = _moderator_values(at)
    if fit.vcov_free is None:
        raise SemnetError("simple slopes need standard errors, which this fit does not have.")
    crit = stats.norm.ppf(1 - (1 - level) / 2)
    rows = []
    for t in _find_terms(fit, x, moderator, outcome, product):
        b, V = _coefficients(fit, t)
        mean, sd = _moderator_scale(fit, moderator, t.group - 1)
        for a in at:
            w = mean + a * sd if sd_units else a
            slope = b[0] + b[2] * w
            var = V[0, 0] + 2 * w * V[0, 2] + w * w * V[2, 2]
            se = float(np.sqrt(max(var, 0.0)))
            z = slope / se if se > 0 else np.nan
            rows.append(
                {
                    "group": None if fit.partable.ngroups == 1 else fit.groups[t.group - 1],
                    "outcome": t.outcome,
                    "moderator_value": w,
                    "at": a,
                    "slope": slope,
                    "se": se,
                    "z": z,
                    "pvalue": 2 * stats.norm.sf(abs(z)),
                    "ci_lower": slope - crit * se,
                    "ci_upper": slope + crit * se,
                }
            )
    return pd.DataFrame(rows)


def _moderator_values(at: object) -> tuple[float, ...]:
    """``at`` as a non-empty tuple of finite numbers (one number is allowed)."""
    values = (at,) if isinstance(at, numbers.Real) else at
    try:
        out = tuple(float(a) for a in values if not isinstance(a, bool | str))
        ok = len(out) == len(values) > 0 and all(np.isfinite(out))
    except TypeError:
        ok = False
    if not ok:
        raise OptionError(
            f"at must be moderator values, e.g. (-1, 0, 1) (SDs around the mean), not {at!r}."
        )
    return out


def _coefficients(fit: Fit, t: _Terms) -> tuple[np.ndarray, np.ndarray]:
    """(b_x, b_z, b_xz) and their covariance matrix (from the free-parameter vcov)."""
    free = fit.partable.params["free"].to_numpy()
    rows = [r for r in t.rows]
    b = np.array([fit.values[r] if r >= 0 else 0.0 for r in rows])
    V = np.zeros((3, 3))
    for i, ri in enumerate(rows):
        for j, rj in enumerate(rows):
            if ri >= 0 and rj >= 0 and free[ri] > 0 and free[rj] > 0:
                V[i, j] = fit.vcov_free[free[ri] - 1, free[rj] - 1]
    return b, V


@dataclass(frozen=True)
class JohnsonNeyman:
    """The Johnson–Neyman result for one outcome (and group).

    ``bounds`` are the moderator values (raw metric) where the simple slope is exactly
    significant; ``significant_inside`` says whether the slope is significant between
    them (else outside).  ``mean`` and ``sd`` are the moderator's model-implied mean and
    standard deviation, to translate bounds into SD units.
    """

    outcome: str
    group: str | None
    bounds: tuple[float, ...]
    significant_inside: bool
    mean: float
    sd: float
    level: float

    def region(self) -> str:
        """The region of significance in words."""
        if not self.bounds:
            return "the slope is significant everywhere" if not self.significant_inside \
                else "the slope is never significant"
        if len(self.bounds) == 1:
            return f"the slope is significant on one side of {self.bounds[0]:.4g}"
        lo, hi = self.bounds
        if self.significant_inside:
            return f"significant for moderator values between {lo:.4g} and {hi:.4g}"
        return f"significant for moderator values below {lo:.4g} or above {hi:.4g}"


def johnson_neyman(
    fit: Fit,
    x: str,
    moderator: str,
    *,
    outcome: str | None = None,
    product: str | None = None,
    level: float = 0.95,
) -> list[JohnsonNeyman]:
    """Johnson–Neyman region(s) of significance of the effect of ``x``.

    Returns one :class:`JohnsonNeyman` per outcome equation (and group).
    """
    check_level(level)
    if fit.vcov_free is None:
        raise SemnetError("Johnson-Neyman needs standard errors, which this fit does not have.")
    c2 = stats.norm.ppf(1 - (1 - level) / 2) ** 2
    out = []
    for t in _find_terms(fit, x, moderator, outcome, product):
        b, V = _coefficients(fit, t)
        qa = b[2] ** 2 - c2 * V[2, 2]
        qb = 2 * (b[0] * b[2] - c2 * V[0, 2])
        qc = b[0] ** 2 - c2 * V[0, 0]
        disc = qb * qb - 4 * qa * qc
        if abs(qa) < 1e-15:
            bounds = (-qc / qb,) if qb != 0 else ()
            inside = False
        elif disc < 0:
            bounds = ()
            inside = qa < 0  # slope^2 - c2 var < 0 everywhere: never significant
        else:
            r = np.sqrt(disc)
            roots = sorted(((-qb - r) / (2 * qa), (-qb + r) / (2 * qa)))
            bounds = (float(roots[0]), float(roots[1]))
            inside = qa < 0
        mean, sd = _moderator_scale(fit, moderator, t.group - 1)
        out.append(
            JohnsonNeyman(
                t.outcome,
                None if fit.partable.ngroups == 1 else fit.groups[t.group - 1],
                bounds, bool(inside), mean, sd, level,
            )
        )
    return out


def plot_simple_slopes(
    fit: Fit,
    x: str,
    moderator: str,
    *,
    outcome: str | None = None,
    product: str | None = None,
    level: float = 0.95,
    span: float = 3.0,
    ax=None,
):
    """Plot the simple slope of ``x`` against the moderator (in SD units) with its
    confidence band and the Johnson–Neyman bounds (matplotlib; ``pip install
    semnet[plot]``)."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SemnetError(
            "plotting needs matplotlib: pip install 'semnet[plot]'"
        ) from exc
    grid = tuple(np.linspace(-span, span, 121))
    table = simple_slopes(
        fit, x, moderator, grid, outcome=outcome, product=product, level=level
    )
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for (grp, y), part in table.groupby(["group", "outcome"], dropna=False, sort=False):
        label = y if grp is None or pd.isna(grp) else f"{y} ({grp})"
        ax.plot(part["at"], part["slope"], label=label)
        ax.fill_between(part["at"], part["ci_lower"], part["ci_upper"], alpha=0.2)
    for jn in johnson_neyman(
        fit, x, moderator, outcome=outcome, product=product, level=level
    ):
        for bnd in jn.bounds:
            ax.axvline((bnd - jn.mean) / jn.sd, linestyle="--", color="grey")
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_xlabel(f"{moderator} (SD from its mean)")
    ax.set_ylabel(f"effect of {x}")
    ax.legend()
    return ax


@dataclass(frozen=True)
class GroupModeration:
    """Moderation by grouping: one path estimated in low and high moderator groups.

    Attributes
    ----------
    fit, constrained : Fit
        The two-group model with the path free in both groups, and with it equal.
    table : DataFrame
        ``group, n, est, se, z, pvalue, ci_lower, ci_upper, std_all`` of the path.
    wald : Series
        Wald test that the path is equal in both groups (``stat, df, pvalue``).
    lrt : DataFrame
        Likelihood-ratio (chi-square difference) test of the same, as
        :func:`semnet.compare` (scaled for robust estimators).
    cut : float
        The moderator value splitting the groups (low: ``<= cut``).
    """

    fit: Fit
    constrained: Fit
    table: pd.DataFrame
    wald: pd.Series
    lrt: pd.DataFrame
    cut: float


def _moderator_score(data: pd.DataFrame, items: list[str]) -> pd.Series:
    """The row mean of the moderator's columns (checked as a fit checks its columns:
    text is an error, not a missing value)."""
    values = numeric_data(data, items, None).values
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # (rows missing on every item)
        return pd.Series(np.nanmean(values, axis=1), index=data.index)


def _cut_value(score: pd.Series, cut: object) -> float:
    """Where ``cut`` splits the moderator scores; both sides must hold cases."""
    if isinstance(cut, str) and cut == "median":
        value = float(score.median())
    elif isinstance(cut, numbers.Real) and not isinstance(cut, bool) and np.isfinite(cut):
        value = float(cut)
    else:
        raise OptionError(f"cut must be 'median' or a number, not {cut!r}.")
    low = int((score <= value).sum())
    if low == 0 or low == int(score.notna().sum()):
        raise DataError(
            f"cutting the moderator at {value:g} puts every case in one group "
            f"({'high' if low == 0 else 'low'}); the moderator needs values on both sides "
            "of the cut. Choose another cut, or check that the moderator varies."
        )
    return value


def moderation_by_groups(
    model: str,
    data: pd.DataFrame,
    *,
    moderator: str | Sequence[str],
    path: str,
    cut: str | float = "median",
    group_equal: Sequence[str] = ("loadings", "intercepts"),
    **fit_args,
) -> GroupModeration:
    """Test moderation by splitting the sample on the moderator (multi-group approach).

    The sample is split into ``low`` (moderator at or below ``cut``) and ``high``
    groups, the model is fitted to both jointly with the measurement part held equal
    (``group_equal``), and the ``path`` (e.g. ``"doi~ni"``) is tested for equality
    across the groups by a Wald and a likelihood-ratio test.

    Parameters
    ----------
    moderator : str or sequence of str
        A column, or item columns whose row mean is the moderator score.
    path : str
        The regression to compare, ``"y~x"``.
    cut : "median" or float
        Where to split.
    **fit_args
        Passed to :func:`semnet.sem` (``estimator``, ``missing``, ...).

    Examples
    --------
    >>> res = moderation_by_groups(model, data, moderator=["et1", "et2", "et3", "et4"],
    ...                            path="doi~ni", missing="fiml")  # doctest: +SKIP
    >>> res.wald["pvalue"]  # doctest: +SKIP
    """
    from semnet.analyses.compare import compare
    from semnet.api import sem

    if not isinstance(data, pd.DataFrame):
        raise DataError("data must be a pandas DataFrame.")
    items = [moderator] if isinstance(moderator, str) else list(moderator)
    missing = [c for c in items if c not in data.columns]
    if missing:
        raise DataError(f"moderator column(s) {', '.join(missing)} are not in the data.")
    score = _moderator_score(data, items)
    value = _cut_value(score, cut)
    if "~" not in path:
        raise ModelSpecificationError(f"path must look like 'y~x', not {path!r}.")
    y, x = (part.strip() for part in path.split("~", 1))
    parsed = parse_model(model)
    hits = [r for r in parsed.relations if r.op == "~" and r.lhs == y and r.rhs == x]
    if not hits:
        raise ModelSpecificationError(
            f"the model has no regression '{y} ~ {x}'; name a path of the model."
        )

    def labelled(labels: tuple[str, str]) -> ParsedModel:
        rel = tuple(
            Relation(r.lhs, r.op, r.rhs, Modifiers(
                r.modifiers.fixed, r.modifiers.start, labels, r.modifiers.lower,
                r.modifiers.upper), r.block, r.line, r.column)
            if r is hits[0] else r
            for r in parsed.relations
        )  # fmt: skip
        return ParsedModel(rel, parsed.constraints, parsed.text)

    split = data.assign(_moderator_group=np.where(score > value, "high", "low"))
    split = split[score.notna()].sort_values("_moderator_group", ascending=False, kind="stable")
    kwargs = dict(group="_moderator_group", group_equal=tuple(group_equal), **fit_args)
    free = sem(labelled(("b_low", "b_high")), split, **kwargs)
    equal = sem(labelled(("b_equal", "b_equal")), split, **kwargs)
    est = free.estimates()
    rows = est[(est["op"] == "~") & (est["lhs"] == y) & (est["rhs"] == x)].copy()
    rows.insert(1, "n", [free.nobs[g] for g in rows["group"]])
    table = rows[["group", "n", "est", "se", "z", "pvalue", "ci_lower", "ci_upper",
                  "std_all"]].reset_index(drop=True)  # fmt: skip
    wald = free.wald("b_low == b_high")
    lrt = compare(free, equal, names=["free", "equal"])
    return GroupModeration(free, equal, table, wald, lrt, value)
