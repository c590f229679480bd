"""Newton and Fisher-scoring steps with a backtracking line search, in the constrained
space ``z``.

Complete-data ML: a first Fisher-scoring step (``I(z) dz = -g(z)``, the expected
information as metric), then Newton steps with the exact Hessian while it is positive
definite and the steps are taken in full; scoring otherwise.  FIML: scoring with a
symmetric-rank-one correction of the metric.  The iteration stops when the decrement
``g' H^-1 g`` (about twice the distance to the minimum of ``f``) drops below ``tol``, or
after a Newton step from a decrement below 1e-8 that lowers ``f`` (quadratic convergence
puts it within ~1e-16 of the minimum).  If the steps stall, a quasi-Newton (BFGS) run
takes over from there, and, where that does not converge either and the caller asks for
it, one from the start values.

Nonlinear equality and inequality constraints: SLSQP finds the constrained optimum, then
sequential quadratic programming steps with the expected information as Hessian (the
KKT system of the active constraints) polish it to the same precision as scoring.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from scipy import optimize as sopt
from scipy.linalg import lapack

from semnet.estimation.blocks import arrow_blocks, diagonal_blocks
from semnet.estimation.constraints import LinearConstraints
from semnet.estimation.ml import Evaluation

if TYPE_CHECKING:
    from semnet.estimation.discrepancy import Discrepancy


#: Newton steps that polish a quasi-Newton (BFGS) solution
POLISH_ITER = 50


@dataclass(frozen=True)
class OptimizeResult:
    x: np.ndarray
    f: float
    iterations: int
    converged: bool
    message: str
    method: str = "Newton-Raphson"
    #: the discrepancy at ``x`` with its gradient and expected information, when the
    #: optimizer has it (saves the caller an evaluation for the standard errors)
    evaluation: Evaluation | None = None
    #: ``evaluation``'s gradient and matrices are with respect to the constrained
    #: parameters ``z`` (summed by tie class: ``con.gradient_z`` and ``con.matrix_z`` of
    #: those with respect to ``x``)
    evaluation_in_z: bool = False


def minimize(
    disc: Discrepancy,
    con: LinearConstraints,
    x_start: np.ndarray,
    *,
    max_iter: int = 500,
    tol: float = 1e-14,
    information: bool = True,
    restart: bool = False,
) -> OptimizeResult:
    """Minimize the discrepancy from ``x_start``; ``method`` of the result names the
    steps taken (as lavaan's "Optimization method" line).

    With ``restart``, where neither the steps nor a quasi-Newton run from where they
    stalled converge, a quasi-Newton run from ``x_start`` is tried too (see
    :func:`_fallback`); callers with a second start of their own (the bootstrap refits
    from the estimates) leave it off.

    With ``information`` the result's ``evaluation`` holds the gradient and expected
    information at the solution where the last step is a Newton step (otherwise the
    solution is confirmed by the discrepancy alone, which is cheaper when the caller
    needs no standard errors).
    """
    if con.nonlinear:
        method = "SLSQP, then SQP"
    elif disc.newton:
        method = "Newton-Raphson"
    else:
        method = "Fisher scoring"
    result = _minimize(disc, con, x_start, max_iter=max_iter, tol=tol, information=information,
                       restart=restart)
    if result.method == "BFGS":
        method += ", then BFGS"
    return result if result.method == method else replace(result, method=method)


def _minimize(
    disc: Discrepancy,
    con: LinearConstraints,
    x_start: np.ndarray,
    *,
    max_iter: int,
    tol: float,
    information: bool = True,
    fallback: bool = True,
    restart: bool = False,
) -> OptimizeResult:
    z = con.to_z(x_start)
    if con.nonlinear:
        return _constrained(disc, con, z, max_iter)
    if con.K.shape[1] == 0:
        x = con.to_x(z)
        ev = disc.evaluate(x, derivatives=False)
        return OptimizeResult(x, ev.f, 0, bool(np.isfinite(ev.f)), "no free parameters")
    newton = disc.newton
    # a discrepancy that sums its derivatives into the tie classes itself gives them
    # with respect to z directly (no full-size matrices over x); the final evaluation is
    # then left to the caller, which needs it with respect to x
    classes = con.classes if getattr(disc, "sums_classes", False) else None
    in_z = classes is not None

    def evaluate(z: np.ndarray, hessian: bool):
        x = con.to_x(z)
        if in_z:
            return disc.evaluate(x, hessian=hessian, classes=classes)
        return disc.evaluate(x, hessian=hessian) if newton else disc.evaluate(x)

    def gradient_z(ev: Evaluation) -> np.ndarray:
        return ev.gradient if in_z else con.gradient_z(ev.gradient)

    def matrix_z(m: np.ndarray) -> np.ndarray:
        return m if in_z else con.matrix_z(m)

    def converged(z: np.ndarray, ev: Evaluation, it: int) -> OptimizeResult:
        return OptimizeResult(con.to_x(z), ev.f, it, True, "converged", evaluation=ev,
                              evaluation_in_z=in_z)

    # the first step is a scoring step: no Hessian needed at the start
    ev = evaluate(z, False)
    if not math.isfinite(ev.f):
        return OptimizeResult(
            con.to_x(z), np.inf, 0, False, f"the starting values are not usable: {ev.reason}"
        )
    q = con.K.shape[1]
    # Newton steps with the exact Hessian where it is positive definite (complete-data
    # ML), after a first scoring step and as long as they are taken in full; otherwise,
    # and for discrepancies without a Hessian, a structured
    # quasi-Newton step: expected information + a symmetric-rank-one correction learned
    # from gradient changes (the residual curvature that makes pure scoring converge
    # only linearly in misfitting models)
    correction = np.zeros((q, q))
    g_old = s_old = None
    last_decrement = np.inf
    trust_newton = False
    for it in range(1, max_iter + 1):
        g = gradient_z(ev)
        step = None
        if newton and trust_newton and ev.hessian is not None:
            step = cholesky_solve(matrix_z(ev.hessian), g)
        newton_step = step is not None
        if step is None:
            step = _scoring_step(matrix_z(ev.information), g, g_old, s_old, correction,
                                 last_decrement)
        decrement = float(g @ step)
        if decrement < 0 or not math.isfinite(decrement):
            step, decrement = g, float(g @ g)
        last_decrement = decrement
        if decrement < tol:
            return converged(z, ev, it - 1)
        if newton_step and decrement < 1e-8:
            # Newton converges quadratically: after this step f is within ~decrement^2
            # of its minimum, so only f is needed to confirm the step (and the
            # information, where the caller wants it for the standard errors)
            z_new = z - step
            x_new = con.to_x(z_new)
            final = newton and information
            ev_new = (disc.evaluate(x_new, derivatives=final, classes=classes) if in_z
                      else disc.evaluate(x_new, derivatives=final))
            if math.isfinite(ev_new.f) and ev_new.f <= ev.f:
                return OptimizeResult(x_new, ev_new.f, it, True, "converged",
                                      evaluation=ev_new if final else None,
                                      evaluation_in_z=in_z)
        t = 1.0
        for _ in range(40):
            z_new = z - t * step
            # the next step is a Newton step (needing the Hessian) only after a full step
            # from a small decrement (see trust_newton below)
            ev_new = evaluate(z_new, t == 1.0 and decrement < 1.0)
            if math.isfinite(ev_new.f) and ev_new.f <= ev.f - 1e-4 * t * decrement:
                break
            t *= 0.5
        else:
            break
        if abs(ev.f - ev_new.f) <= 1e-16 * max(1.0, abs(ev.f)) and decrement < 1e-10:
            return converged(z_new, ev_new, it)
        trust_newton = t == 1.0 and decrement < 1.0
        g_old, s_old = g, -t * step
        z, ev = z_new, ev_new
    if not fallback:
        return OptimizeResult(con.to_x(z), ev.f, it, False, "did not converge")
    z_start = con.to_z(x_start) if restart else None
    return _fallback(disc, con, z_start, z, it, tol=tol, information=information)


def _fallback(
    disc: Discrepancy,
    con: LinearConstraints,
    z_start: np.ndarray | None,
    z_stalled: np.ndarray,
    done: int,
    *,
    tol: float,
    information: bool,
) -> OptimizeResult:
    """A quasi-Newton (BFGS) run from where the Newton and scoring steps stalled; if that
    does not converge either, one from the start values ``z_start`` (when given), polished
    by Newton steps and taken where it converges to a lower ``f``.

    Scoring steps can run along a ridge towards an improper region (a factor variance
    growing without bound as its loading goes to zero, in semopy's ``example_rf``) where
    they stall and BFGS cannot recover; BFGS's first steps from the start values follow
    the gradient and stay in the start values' basin, as lavaan's quasi-Newton optimizer
    (nlminb) does.
    """
    stalled = _bfgs(disc, con, z_stalled, done)
    if stalled.converged or z_start is None:
        return stalled
    restart = _bfgs(disc, con, z_start, done)
    if not restart.converged or not restart.f < _finite_or_inf(stalled.f):
        return stalled
    polished = _minimize(disc, con, restart.x, max_iter=POLISH_ITER, tol=tol,
                         information=information, fallback=False)
    if polished.converged and polished.f <= restart.f:
        return replace(polished, iterations=restart.iterations + polished.iterations,
                       method="BFGS")
    return restart


def _finite_or_inf(f: float) -> float:
    """``f``, or infinity where it is not finite (NaN included)."""
    return f if math.isfinite(f) else math.inf


def _scoring_step(
    H: np.ndarray,
    g: np.ndarray,
    g_old: np.ndarray | None,
    s_old: np.ndarray | None,
    correction: np.ndarray,
    last_decrement: float,
) -> np.ndarray:
    """Fisher-scoring step with the SR1 correction, updated in place from the last step
    once scoring is close (its decrement below 1e-5)."""
    if g_old is not None and last_decrement < 1e-5:
        r = (g - g_old) - (H + correction) @ s_old
        rs = float(r @ s_old)
        if abs(rs) > 1e-8 * np.linalg.norm(r) * np.linalg.norm(s_old):
            correction += np.outer(r, r) / rs
    if correction.any():
        H_try = H + correction
        if np.linalg.eigvalsh(H_try)[0] > 0:
            H = H_try
        else:
            correction[:] = 0.0
    ridged = H.copy()
    ridged.reshape(-1)[:: len(g) + 1] += 1e-12 * H.trace() / len(g)  # (a view: the diagonal)
    step = cholesky_solve(ridged, g)
    if step is not None:
        return step
    try:
        return np.linalg.solve(ridged, g)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(H, g, rcond=None)[0]


def cholesky_solve(H: np.ndarray, g: np.ndarray) -> np.ndarray | None:
    """``H^-1 g`` by Cholesky, block by block where ``H`` is block diagonal (a configural
    model with many groups; see :func:`semnet.estimation.blocks.diagonal_blocks`) or an
    arrow (groups' blocks and shared parameters: :func:`_arrow_solve`); None where ``H``
    (a block of it) is not positive definite."""
    blocks = diagonal_blocks(H)
    if blocks is None:
        return _solve_block(H, g)
    out = np.empty_like(g)
    for idx in blocks:
        sol = _solve_block(H[np.ix_(idx, idx)], g[idx])
        if sol is None:
            return None
        out[idx] = sol
    return out


def _solve_block(H: np.ndarray, g: np.ndarray) -> np.ndarray | None:
    """``H^-1 g`` for one diagonal block: through its arrow structure where it has one
    (a metric model's covariance parameters with the shared loadings), else dense."""
    arrow = arrow_blocks(H)
    if arrow is not None:
        return _arrow_solve(H, g, *arrow)
    L, info = lapack.dpotrf(H, lower=1)
    return lapack.dpotrs(L, g, lower=1)[0] if info == 0 else None


def _arrow_solve(
    H: np.ndarray, g: np.ndarray, hubs: np.ndarray, blocks: list[np.ndarray]
) -> np.ndarray | None:
    """``H^-1 g`` for ``H = [[A, B], [B', D]]`` with ``A`` over the ``hubs`` and ``D``
    block diagonal over the ``blocks``: by the Schur complement ``A - B D^-1 B'`` (``H``
    is positive definite exactly where ``D`` and the complement are); None where not."""
    B = H[hubs]
    schur = H[np.ix_(hubs, hubs)].copy()
    rhs = g[hubs].copy()
    solved = []  # per block: its indices, Cholesky factor, D^-1 B' and D^-1 g
    for idx in blocks:
        L, info = lapack.dpotrf(H[np.ix_(idx, idx)], lower=1)
        if info != 0:
            return None
        Bi = B[:, idx]
        right = np.column_stack([Bi.T, g[idx]])
        sol = lapack.dpotrs(L, right, lower=1)[0]
        schur -= Bi @ sol[:, :-1]
        rhs -= Bi @ sol[:, -1]
        solved.append((idx, L, Bi))
    Ls, info = lapack.dpotrf(schur, lower=1)
    if info != 0:
        return None
    out = np.empty_like(g)
    x_hub = lapack.dpotrs(Ls, rhs, lower=1)[0]
    out[hubs] = x_hub
    for idx, L, Bi in solved:
        out[idx] = lapack.dpotrs(L, g[idx] - Bi.T @ x_hub, lower=1)[0]
    return out


def objective_z(disc: Discrepancy, con: LinearConstraints):
    """The discrepancy and its gradient as one function of ``z`` (scipy's form), ``1e10``
    with a zero gradient where the discrepancy is not finite."""

    def fun(z: np.ndarray) -> tuple[float, np.ndarray]:
        ev = disc.evaluate(con.to_x(z))
        if not np.isfinite(ev.f):
            return 1e10, np.zeros_like(z)
        return ev.f, con.gradient_z(ev.gradient)

    return fun


def bfgs(
    disc: Discrepancy, con: LinearConstraints, z0: np.ndarray, *, gtol: float, max_iter: int
) -> tuple[np.ndarray, int, str]:
    """A quasi-Newton (BFGS) run from ``z0``: the point, the iterations and scipy's
    message."""
    res = sopt.minimize(objective_z(disc, con), z0, jac=True, method="BFGS",
                        options={"gtol": gtol, "maxiter": max_iter})  # fmt: skip
    return res.x, int(res.nit), str(res.message)


def newton_polish(
    disc: Discrepancy, con: LinearConstraints, z: np.ndarray, tol: float, max_steps: int = 20
) -> tuple[np.ndarray, bool, int]:
    """Newton steps with the discrepancy's observed information at ``z`` (computed once:
    from a quasi-Newton solution the steps are small), halving a step until it does not
    raise ``f``, until the Newton decrement falls below ``tol``.
    Returns the point, whether the decrement fell below ``tol``, and the steps taken."""
    fun = objective_z(disc, con)
    converged = False
    f_cur, g_cur = fun(z)
    H = con.matrix_z(disc.observed_information(con.to_x(z)))
    steps = 0
    for _ in range(max_steps):
        try:
            step = np.linalg.solve(H, g_cur)
        except np.linalg.LinAlgError:
            break
        decrement = float(g_cur @ step)
        if not np.isfinite(decrement) or decrement < 0:
            break
        if decrement < tol:
            converged = True
            break
        s = 1.0
        for _ in range(30):
            f_new, g_new = fun(z - s * step)
            if f_new <= f_cur + 1e-12 * max(1.0, abs(f_cur)):
                break
            s *= 0.5
        else:
            break
        z, f_cur, g_cur = z - s * step, f_new, g_new
        steps += 1
    return z, converged, steps


def _bfgs(disc: Discrepancy, con: LinearConstraints, z0: np.ndarray, done: int) -> OptimizeResult:
    res = sopt.minimize(objective_z(disc, con), z0, jac=True, method="BFGS",
                        options={"gtol": 1e-9, "maxiter": 5000})  # fmt: skip
    x = con.to_x(res.x)
    ev = disc.evaluate(x)
    g = con.gradient_z(ev.gradient)
    converged = bool(np.isfinite(ev.f) and np.max(np.abs(g)) < 1e-6)
    message = "converged" if converged else f"did not converge: {res.message}"
    return OptimizeResult(x, ev.f, done + int(res.nit), converged, message, "BFGS")


def constraint_jacobian(funcs, x: np.ndarray) -> np.ndarray:
    """Central-difference Jacobian of scalar constraint functions at ``x``."""
    out = np.zeros((len(funcs), x.size))
    for k in range(x.size):
        h = 1e-6 * max(1.0, abs(x[k]))
        e = np.zeros(x.size)
        e[k] = h
        out[:, k] = [(f(x + e) - f(x - e)) / (2 * h) for f in funcs]
    return out


def _constrained(
    disc: Discrepancy, con: LinearConstraints, z0: np.ndarray, max_iter: int
) -> OptimizeResult:
    K = con.K
    funcs = [lambda z, nc=nc: nc.h(con.to_x(z)) for nc in con.nonlinear]
    fun = objective_z(disc, con)
    specs = [
        {
            "type": "eq" if nc.equality else "ineq",
            "fun": f,
            "jac": lambda z, f=f: constraint_jacobian([f], z)[0],
        }
        for nc, f in zip(con.nonlinear, funcs, strict=True)
    ]
    res = sopt.minimize(
        fun, z0, jac=True, method="SLSQP", constraints=specs,
        options={"ftol": 1e-14, "maxiter": max_iter * 4},
    )  # fmt: skip
    z = res.x
    its = int(res.nit)
    active = [
        f for nc, f in zip(con.nonlinear, funcs, strict=True) if nc.equality or f(z) < 1e-6
    ]
    converged = False
    for _ in range(100):
        ev = disc.evaluate(con.to_x(z))
        if not np.isfinite(ev.f):
            break
        g = con.gradient_z(ev.gradient)
        H = K.T @ ev.information @ K
        c = np.array([f(z) for f in active])
        A = constraint_jacobian(active, z)
        m = len(active)
        kkt = np.block([[H, A.T], [A, np.zeros((m, m))]])
        try:
            sol = np.linalg.solve(kkt, -np.concatenate([g, c]))
        except np.linalg.LinAlgError:
            break
        d = sol[: z.size]
        its += 1
        if np.max(np.abs(d)) < 1e-10 and np.max(np.abs(c), initial=0) < 1e-10:
            converged = True
            break
        z = z + d
    x = con.to_x(z)
    ev = disc.evaluate(x)
    feasible = all(nc.h(x) > -1e-8 if not nc.equality else abs(nc.h(x)) < 1e-8
                   for nc in con.nonlinear)
    converged = converged and feasible and bool(np.isfinite(ev.f))
    message = "converged" if converged else f"did not converge: {res.message}"
    return OptimizeResult(x, ev.f, its, converged, message)
