"""Indirect, direct and total effects of a fitted model, without hand-written ``:=``.

In the structural part of a model (its regressions, ``y ~ x``, among latent and observed
variables) every directed path from ``x`` to ``y`` carries an effect: the product of
the regression coefficients along it (Wright's path-tracing rules; Bollen, 1987).  The
path ``x → y`` itself is the *direct* effect, every longer path a *specific indirect*
effect, their sum the *total indirect* effect, and direct plus total indirect the
*total* effect of ``x`` on ``y``.  The numbers are exactly those of lavaan's
``ind := a*b`` / ``total := c + a*b`` definitions, with delta-method standard errors
from the fit's covariance matrix of the free parameters (Sobel, 1982), as lavaan
computes them for ``:=`` rows.  Bootstrap intervals: :func:`semnet.analyses.bootstrap.
bootstrap` with ``indirect=``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from semnet.errors import ModelSpecificationError, OptionError, check_level
from semnet.results.standardize import row_scales

__all__ = ["EffectPlan", "effect_plan", "indirect_effects"]

COLUMNS = [
    "group", "effect", "path", "est", "se", "z", "pvalue", "ci_lower", "ci_upper",
    "std_lv", "std_all",
]  # fmt: skip


@dataclass(frozen=True)
class EffectRow:
    """One reported effect: ``kind`` is ``"indirect"``, ``"total_indirect"``,
    ``"direct"`` or ``"total"``; ``paths`` the parameter-row chains summed (each a tuple of
    rows of ``ParTable.params`` whose values are multiplied)."""

    group: str | None
    kind: str
    path: str
    paths: tuple[tuple[int, ...], ...]

    @property
    def name(self) -> str:
        """A unique column name, e.g. ``"indirect[visual->textual->speed]"`` (with
        ``"@Pasteur"`` appended in multi-group fits)."""
        where = f"@{self.group}" if self.group is not None else ""
        return f"{self.kind}[{self.path}]{where}"


@dataclass(frozen=True)
class EffectPlan:
    """The effects of ``x`` on ``y`` as functions of a fit's row values (picklable, so
    that bootstrap workers can evaluate them)."""

    x: str
    y: str
    mediators: tuple[str, ...] | None
    rows: tuple[EffectRow, ...]

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.rows]

    def evaluate(self, values: np.ndarray) -> np.ndarray:
        """Every effect at the parameter-row values ``values``."""
        out = np.empty(len(self.rows))
        for k, row in enumerate(self.rows):
            out[k] = sum(float(np.prod(values[list(p)])) for p in row.paths)
        return out


def effect_plan(fit, x: str, y: str, m: str | Sequence[str] | None = None) -> EffectPlan:
    """Enumerate the directed paths from ``x`` to ``y`` in every group of ``fit``.

    Parameters
    ----------
    fit : Fit
    x, y : str
        Cause and outcome (latent or observed variables of the model).
    m : str or sequence of str, optional
        Mediators: report only the indirect paths whose intermediate variables are all
        among ``m``.  Default: every indirect path.

    Returns
    -------
    EffectPlan
    """
    pt = fit.partable
    variables = set(pt.names.ov) | set(pt.names.lv)
    for what, v in (("x", x), ("y", y)):
        if not isinstance(v, str):
            raise OptionError(f"{what} must be one variable name (a string), not {v!r}.")
        if v not in variables:
            raise ModelSpecificationError(
                f"{what}={v!r} is not a variable of the model; its variables are "
                f"{', '.join(sorted(variables))}."
            )
    if x == y:
        raise OptionError(f"x and y are both {x!r}; give two different variables.")
    mediators: tuple[str, ...] | None = None
    if m is not None:
        mediators = (m,) if isinstance(m, str) else tuple(m)
        unknown = [v for v in mediators if v not in variables]
        if unknown:
            raise ModelSpecificationError(
                f"mediator(s) {', '.join(map(repr, unknown))} are not variables of the model."
            )
        if x in mediators or y in mediators:
            raise OptionError("the mediators m must differ from x and y.")

    params = pt.params
    op = params["op"].to_numpy()
    lhs = params["lhs"].to_numpy()
    rhs = params["rhs"].to_numpy()
    group = params["group"].to_numpy()
    free = params["free"].to_numpy()
    single = pt.ngroups == 1
    rows: list[EffectRow] = []
    any_path = False
    for g in range(1, pt.ngroups + 1):
        label = None if single else pt.groups[g - 1]
        # edges cause -> effect with the row holding the coefficient (fixed zeros dropped)
        edges: dict[str, list[tuple[str, int]]] = {}
        for r in np.flatnonzero((group == g) & (op == "~")):
            if free[r] == 0 and fit.values[r] == 0:
                continue
            edges.setdefault(rhs[r], []).append((lhs[r], int(r)))
        _check_acyclic(edges, x, y, label)
        all_paths = _paths(edges, x, y)
        direct = [p for p in all_paths if len(p[0]) == 2]
        # shorter paths first, then in the order of the regressions in the model
        indirect = sorted((p for p in all_paths if len(p[0]) > 2), key=lambda p: len(p[0]))
        any_path = any_path or bool(all_paths)
        if mediators is not None:
            chosen = [p for p in indirect if set(p[0][1:-1]) <= set(mediators)]
        else:
            chosen = indirect
        for nodes, chain in chosen:
            rows.append(EffectRow(label, "indirect", " -> ".join(nodes), (chain,)))
        tag = "" if mediators is None else f" via {', '.join(mediators)}"
        rows.append(
            EffectRow(label, "total_indirect", f"{x} -> {y}{tag}", tuple(c for _, c in chosen))
        )
        rows.append(EffectRow(label, "direct", f"{x} -> {y}", tuple(c for _, c in direct)))
        rows.append(EffectRow(label, "total", f"{x} -> {y}", tuple(c for _, c in all_paths)))
        if mediators is not None and indirect and not chosen:
            raise ModelSpecificationError(
                f"no indirect path from {x!r} to {y!r} runs only through "
                f"{', '.join(mediators)}; the indirect paths are "
                + "; ".join(" -> ".join(n) for n, _ in indirect)
                + "."
            )
    if not any_path:
        raise ModelSpecificationError(
            f"the model has no directed path (chain of '~' regressions) from {x!r} to "
            f"{y!r}; x must be a predictor of y or of one of its predictors."
        )
    return EffectPlan(x, y, mediators, tuple(rows))


def _paths(edges, x, y):
    """All directed paths x -> ... -> y: (nodes, rows) pairs, depth-first in the order
    the regressions appear in the model."""
    out = []

    def walk(node, nodes, chain):
        for nxt, r in edges.get(node, []):
            if nxt in nodes:
                continue
            if nxt == y:
                out.append(((*nodes, nxt), (*chain, r)))
            else:
                walk(nxt, (*nodes, nxt), (*chain, r))

    walk(x, (x,), ())
    return out


def _check_acyclic(edges, x, y, label) -> None:
    """Raise if a feedback loop lies on a path from x to y (effects are then infinite
    sums, not products along finitely many paths)."""
    reach_from_x = _reach(edges, x)
    reverse: dict[str, list[tuple[str, int]]] = {}
    for a, outs in edges.items():
        for b, r in outs:
            reverse.setdefault(b, []).append((a, r))
    reach_to_y = _reach(reverse, y)
    on_path = (reach_from_x & reach_to_y) | {x, y}
    state: dict[str, int] = {}

    def visit(n):
        state[n] = 1
        for b, _ in edges.get(n, []):
            if b not in on_path:
                continue
            if state.get(b) == 1:
                where = f" in group {label!r}" if label is not None else ""
                raise ModelSpecificationError(
                    f"the regressions between {x!r} and {y!r}{where} form a feedback loop "
                    f"(through {b!r}); specific indirect effects are not defined for "
                    "non-recursive models."
                )
            if b not in state:
                visit(b)
        state[n] = 2

    visit(x)


def _reach(edges, start) -> set[str]:
    seen = {start}
    todo = [start]
    while todo:
        n = todo.pop()
        for b, _ in edges.get(n, []):
            if b not in seen:
                seen.add(b)
                todo.append(b)
    return seen


def indirect_effects(
    fit,
    x: str,
    m: str | Sequence[str] | None = None,
    *,
    y: str,
    level: float = 0.95,
) -> pd.DataFrame:
    """Specific and total indirect, direct and total effects of ``x`` on ``y``.

    Every directed path from ``x`` to ``y`` through the model's regressions (``~``,
    among latent and observed variables) is found; its effect is the product of the
    coefficients along it.  Standard errors by the delta method with the fit's
    covariance matrix of the free parameters (as lavaan's for ``:=`` definitions, so
    robust for MLR/MLM fits); ``z``, ``pvalue`` and a Wald interval.

    Parameters
    ----------
    fit : Fit
        A fitted model (:func:`semnet.sem`).
    x : str
        The cause.
    m : str or sequence of str, optional
        Restrict the specific indirect effects to paths whose intermediate variables are
        all among ``m`` (``total_indirect`` then sums those paths only; ``direct`` and
        ``total`` are unaffected, so ``total`` need not equal ``direct + total_indirect``).
    y : str
        The outcome (keyword).
    level : float
        Confidence level of ``ci_lower`` / ``ci_upper``.

    Returns
    -------
    DataFrame
        One row per effect and group: ``group`` (``None`` for single-group fits),
        ``effect`` (``"indirect"``, ``"total_indirect"``, ``"direct"``, ``"total"``),
        ``path`` (e.g. ``"visual -> textual -> speed"``), ``est, se, z, pvalue,
        ci_lower, ci_upper`` and the standardized effects ``std_lv, std_all`` (the
        same products of standardized coefficients, as lavaan standardizes ``:=``).
        Without a direct path, ``direct`` is 0 with ``se`` 0, as a fixed parameter.

    Examples
    --------
    >>> import semnet
    >>> from semnet.analyses.mediation import indirect_effects
    >>> model = '''
    ... visual  =~ x1 + x2 + x3
    ... textual =~ x4 + x5 + x6
    ... speed   =~ x7 + x8 + x9
    ... textual ~ visual
    ... speed ~ textual + visual
    ... '''
    >>> fit = semnet.sem(model, semnet.datasets.holzinger_swineford())
    >>> tab = indirect_effects(fit, "visual", y="speed")
    >>> tab["effect"].tolist()
    ['indirect', 'total_indirect', 'direct', 'total']
    >>> tab["path"].iloc[0]
    'visual -> textual -> speed'
    """
    check_level(level)
    plan = effect_plan(fit, x, y, m)
    est = plan.evaluate(fit.values)
    has_params = np.array([bool(r.paths) for r in plan.rows])
    if fit.vcov_free is None:
        se = np.where(has_params, np.nan, 0.0)
    else:
        J = fit.jacobian(plan.evaluate)
        cov = J @ fit.vcov_free @ J.T
        se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
        se = np.where(has_params, se, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, est / se, np.nan)
    crit = stats.norm.ppf(1 - (1 - level) / 2)
    std = {kind: plan.evaluate(fit.values * scale)
           for kind, scale in row_scales(fit.model, fit.values).items()}
    return pd.DataFrame(
        {
            "group": pd.array([r.group for r in plan.rows], dtype=object),
            "effect": [r.kind for r in plan.rows],
            "path": [r.path for r in plan.rows],
            "est": est,
            "se": se,
            "z": z,
            "pvalue": 2 * stats.norm.sf(np.abs(z)),
            "ci_lower": est - crit * se,
            "ci_upper": est + crit * se,
            "std_lv": std["std_lv"],
            "std_all": std["std_all"],
        },
        columns=COLUMNS,
    )
