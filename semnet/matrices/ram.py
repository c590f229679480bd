"""Parameter table → model matrices, implied moments and their analytic Jacobians.

semnet uses the RAM form (McArdle & McDonald, 1984), which is algebraically the same
model as lavaan's LISREL matrices but needs no "phantom" latent variables for observed
regressions.  With all variables ``v = (observed, latent)``::

    v = A v + m + e,   Cov(e) = S
    B = (I - A)^-1
    Sigma = F B S B' F',   mu = F B m

``A`` holds loadings (``=~``) and regressions (``~``), ``S`` (co)variances (``~~``) and
``m`` intercepts and means (``~1``); ``F`` keeps the observed rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np

from semnet.partable.build import ParTable


@dataclass(frozen=True)
class GroupCells:
    """Where the parameter rows of one group sit in A, S and m.

    Each ``*_rows`` array indexes rows of :attr:`ParTable.params`; the matching
    ``*_i``/``*_j`` arrays are the matrix positions.
    """

    a_rows: np.ndarray
    a_i: np.ndarray
    a_j: np.ndarray
    s_rows: np.ndarray
    s_i: np.ndarray
    s_j: np.ndarray
    m_rows: np.ndarray
    m_i: np.ndarray


class DerivativePlan(NamedTuple):
    """Where the derivatives of one group's moments come from, fixed by the model.

    The free cells of the group ("cell space") are numbered ``S`` cells, then ``A`` cells,
    then ``m`` cells, so that the cells moving ``Sigma`` (``S``, ``A``) and those moving
    ``mu`` (``A``, ``m``) are both contiguous; a group without free ``m`` cells numbers
    its ``A`` cells first, the order of lavaan's parameter table (where the cells are
    often the free parameters themselves, in order).  ``cell_param`` is the free
    parameter of each cell (0-based); several cells share a parameter through a label,
    and their derivatives are summed.  Every ``S`` or ``A``
    cell moves ``Sigma`` by a rank-two matrix ``u v' + v u'`` (see
    :meth:`Model.sigma_factors`); the ``*_ij``-style arrays are flat positions in
    ``n x n`` matrices used by :meth:`Model.curvature_cells`.
    """

    ka: int
    ks: int
    km: int
    sigma_cells: slice
    a_cells: slice
    s_cells: slice
    mu_cells: slice
    m_cells: slice
    cell_param: np.ndarray
    unique: bool  # no two cells share a parameter
    identity: bool  # cell k is parameter k, for every parameter
    # flat positions of (cell_param_r, cell_param_c) in q x q; None where the cells are
    # the parameters or a permutation of them (perm)
    sym_flat: np.ndarray | None
    # where each parameter is exactly one cell (but the cells are not the parameters in
    # order): the cell of each parameter, and the flat positions in k x k of
    # (perm_r, perm_c) (a gather replaces the scatter); else None
    perm: np.ndarray | None
    perm_flat: np.ndarray | None
    a_i: np.ndarray
    a_j: np.ndarray
    # sigma_factors: the rows of U then V are [G'; C[:, :p]][uv_idx] * uv_scale
    uv_idx: np.ndarray
    uv_scale: np.ndarray
    # mean_derivatives: rows G[:, mu_idx] * [Bm, 1][mu_coef] for the A then the m cells
    mu_idx: np.ndarray
    mu_coef: np.ndarray
    # curvature_cells, rows = A cells: (i_r, i_c), (j_c, j_r), (j_c, i_r), (i_c, j_r); the
    # last two None where every directed path has length one (see curvature_cells)
    aa_ii: np.ndarray
    aa_jj: np.ndarray
    aa_ji: np.ndarray | None
    aa_ij: np.ndarray | None
    # columns = S cells (k, l): (i_r, k), (j_r, l), (i_r, l), (j_r, k)
    as_ik: np.ndarray
    as_jl: np.ndarray
    as_il: np.ndarray
    as_jk: np.ndarray
    as_off: np.ndarray  # 1 where the S cell is off-diagonal
    am_jm: np.ndarray  # (j_r, m) of the free m cells


class ModelMatrices(NamedTuple):
    """A, S, m of one group at given parameter values."""

    A: np.ndarray
    S: np.ndarray
    m: np.ndarray


class GroupState(NamedTuple):
    """Everything the moments and their derivatives share, for one group at one point.

    ``B = (I - A)^-1``, ``G = F B`` (the observed rows), ``SBt = S B'``, ``C = B S B'``
    (covariances of all variables) and ``Bm = B m`` (their means).
    """

    mats: ModelMatrices
    B: np.ndarray
    G: np.ndarray
    SBt: np.ndarray
    C: np.ndarray
    Bm: np.ndarray


class Batch(NamedTuple):
    """Groups that share one structure (the same fixed and free cells, hence one
    :class:`DerivativePlan` up to the parameters the cells map to), evaluated together
    over a leading group axis (:meth:`Model.batch_state`).

    ``groups`` are 0-based; ``fill_rows`` the parameter rows that fill each group's
    matrices (groups x cells of ``fill_idx``); ``cell_param`` each group's free cells'
    parameters (groups x cells); ``flat`` the flat positions of their pairs in the
    ``q x q`` matrix of the free parameters (groups x cells x cells); ``unique``: no two
    cells of the batch share a parameter (a plain indexed add then sums them).
    """

    groups: np.ndarray
    plan: DerivativePlan
    depth: int | None
    fill_idx: np.ndarray
    fill_rows: np.ndarray
    cell_param: np.ndarray
    flat: np.ndarray
    unique: bool


class BatchState(NamedTuple):
    """:class:`GroupState` of the groups of a :class:`Batch`, stacked (the matrices
    are not kept)."""

    B: np.ndarray
    G: np.ndarray
    SBt: np.ndarray
    C: np.ndarray
    Bm: np.ndarray


class Model:
    """The model implied by a parameter table, evaluated at parameter vectors.

    ``values`` vectors have one entry per row of ``partable.params``.
    """

    def __init__(self, pt: ParTable) -> None:
        self.pt = pt
        self.ov = pt.names.ov
        self.lv = pt.names.lv
        self.variables = self.ov + self.lv
        self.p = len(self.ov)
        self.n = len(self.variables)
        self.meanstructure = pt.meanstructure
        index = {v: k for k, v in enumerate(self.variables)}
        params = pt.cols
        # plain lists: one pass sorts the rows by group and operator, and the cells, the
        # buffer positions and the derivative plans are built from lists (numpy only for
        # the finished arrays)
        lhs = params["lhs"].tolist()
        rhs = params["rhs"].tolist()
        free = params["free"].tolist()
        by_group: dict[int, dict[str, list[int]]] = {
            g: {"=~": [], "~": [], "~~": [], "~1": []} for g in range(1, pt.ngroups + 1)
        }
        none: dict[str, list[int]] = {}  # (rows of no group: not in the matrices)
        for r, (g, o) in enumerate(zip(params["group"].tolist(), params["op"].tolist(),
                                       strict=True)):
            rows_of = by_group.get(g, none).get(o)
            if rows_of is not None:
                rows_of.append(r)
        self.free = params["free"]
        self.free_rows = np.flatnonzero(self.free > 0)
        self.nfree = int(self.free[self.free_rows].max()) if self.free_rows.size else 0
        self._free_index = self.free[self.free_rows].astype(np.int64) - 1
        n = self.n
        n2 = n * n
        cell_lists, fills, depths, plans = [], [], [], []
        for g in range(1, pt.ngroups + 1):
            load, reg, cov, mean = (by_group[g][o] for o in ("=~", "~", "~~", "~1"))
            a_rows = load + reg
            a_i = [index[rhs[r]] for r in load] + [index[lhs[r]] for r in reg]
            a_j = [index[lhs[r]] for r in load] + [index[rhs[r]] for r in reg]
            s_i = [index[lhs[r]] for r in cov]
            s_j = [index[rhs[r]] for r in cov]
            m_i = [index[lhs[r]] for r in mean]
            cell_lists.append((a_rows, a_i, a_j, cov, s_i, s_j, mean, m_i))
            # positions in one buffer holding A, S (both triangles) and m, and the
            # parameter rows that fill them
            fills.append((
                np.array(
                    [i * n + j for i, j in zip(a_i, a_j, strict=True)]
                    + [n2 + i * n + j for i, j in zip(s_i, s_j, strict=True)]
                    + [n2 + j * n + i for i, j in zip(s_i, s_j, strict=True)]
                    + [2 * n2 + i for i in m_i],
                    dtype=int,
                ),
                np.array(a_rows + cov + cov + mean, dtype=np.intp),
            ))  # fmt: skip
            depths.append(_path_depth(n, a_i, a_j))
            # which cells are free, and how they map to the free parameters (a label
            # shared by several cells sums their derivatives)
            plans.append(
                _derivative_plan(n, self.nfree, free, a_rows, a_i, a_j, cov, s_i, s_j, mean, m_i,
                                 depths[-1] == 1)
            )
        self._cell_lists = tuple(cell_lists)
        self._fill = tuple(fills)
        self._depth = tuple(depths)
        self._plans = tuple(plans)

    @cached_property
    def cells(self) -> tuple[GroupCells, ...]:
        """The :class:`GroupCells` of each group (built on first use: the fit itself
        reads the cells through the derivative plans)."""
        return tuple(
            GroupCells(
                a_rows=np.array(a_rows, dtype=np.intp),
                a_i=np.array(a_i, dtype=int),
                a_j=np.array(a_j, dtype=int),
                s_rows=np.array(s_rows, dtype=np.intp),
                s_i=np.array(s_i, dtype=int),
                s_j=np.array(s_j, dtype=int),
                m_rows=np.array(m_rows, dtype=np.intp),
                m_i=np.array(m_i, dtype=int),
            )
            for a_rows, a_i, a_j, s_rows, s_i, s_j, m_rows, m_i in self._cell_lists
        )

    def cell_plan(self, g: int) -> DerivativePlan:
        """The :class:`DerivativePlan` of group g (0-based)."""
        return self._plans[g]

    def to_params(
        self, g: int, x: np.ndarray, cells: slice | np.ndarray | None = None
    ) -> np.ndarray:
        """Rows of ``x`` (one per cell of group g, or per cell in ``cells``) summed into
        one row per free parameter (``x`` itself when the cells are the parameters)."""
        plan = self._plans[g]
        if cells is None:
            if plan.identity:
                return x
            if plan.perm is not None:
                return x.take(plan.perm, axis=0)
            cells = slice(None)
        out = np.zeros((self.nfree, *x.shape[1:]))
        if plan.unique:
            out[plan.cell_param[cells]] = x
        else:
            np.add.at(out, plan.cell_param[cells], x)
        return out

    def to_params_sym(self, g: int, h: np.ndarray) -> np.ndarray:
        """A matrix over the cells of group g as a matrix over the free parameters
        (cells sharing a parameter summed; ``h`` itself when the cells are the
        parameters)."""
        plan = self._plans[g]
        if plan.identity:
            return h
        q = self.nfree
        if plan.perm_flat is not None:
            return h.take(plan.perm_flat).reshape(q, q)
        if plan.unique:
            out = np.zeros((q, q))
            out.flat[plan.sym_flat] = h.ravel()
            return out
        return np.bincount(plan.sym_flat, weights=h.ravel(), minlength=q * q).reshape(q, q)

    @cached_property
    def batches(self) -> tuple[Batch, ...]:
        """The groups as :class:`Batch` es of one structure each, in order of their first
        group (a multi-group model usually has one or two: the first group differs where
        its latent means are fixed)."""
        keyed: dict[tuple, list[int]] = {}
        for g, plan in enumerate(self._plans):
            key = (self._fill[g][0].tobytes(), self._depth[g], plan.ka, plan.ks, plan.km,
                   plan.uv_idx.tobytes(), plan.uv_scale.tobytes(), plan.mu_idx.tobytes(),
                   plan.mu_coef.tobytes())
            keyed.setdefault(key, []).append(g)
        q = self.nfree
        out = []
        for groups in keyed.values():
            g0 = groups[0]
            cp = np.stack([self._plans[g].cell_param for g in groups])
            out.append(Batch(
                groups=np.array(groups, dtype=np.intp),
                plan=self._plans[g0],
                depth=self._depth[g0],
                fill_idx=self._fill[g0][0],
                fill_rows=np.stack([self._fill[g][1] for g in groups]),
                cell_param=cp,
                flat=cp[:, :, None] * q + cp[:, None, :],
                unique=np.unique(cp).size == cp.size,
            ))
        return tuple(out)

    def batch_to_params(
        self,
        batch: Batch,
        x: np.ndarray,
        out: np.ndarray,
        weights: np.ndarray,
        classes: np.ndarray | None = None,
    ) -> None:
        """Add the groups' cell vectors ``x`` (groups x cells), each times its weight,
        into ``out`` (one entry per free parameter), summing cells that share one; with
        ``classes`` (a class for each free parameter, such as the tie classes of
        equality constraints) one entry per class, summing the class's parameters."""
        wx = (weights[:, None] * x).ravel()
        if classes is not None:
            out += np.bincount(classes[batch.cell_param].ravel(), weights=wx,
                               minlength=out.size)
        elif batch.unique:
            out[batch.cell_param.ravel()] += wx
        else:
            out += np.bincount(batch.cell_param.ravel(), weights=wx, minlength=out.size)

    def batch_to_params_sym(
        self,
        batch: Batch,
        h: np.ndarray,
        out: np.ndarray,
        weights: np.ndarray,
        classes: np.ndarray | None = None,
    ) -> None:
        """Add the groups' cells x cells matrices ``h`` (groups x cells x cells), each
        times its weight, into ``out`` (free parameters x free parameters, or classes x
        classes with ``classes``, as :meth:`batch_to_params`): cost in the groups'
        cells, never a full-size matrix per group."""
        wh = (weights[:, None, None] * h).ravel()
        flat = out.reshape(-1)
        if classes is not None:
            cz = classes[batch.cell_param]
            pos = (cz[:, :, None] * out.shape[0] + cz[:, None, :]).ravel()
        elif batch.unique:
            flat[batch.flat.ravel()] += wh
            return
        else:
            pos = batch.flat.ravel()
        # an unbuffered add, as positions repeat (a bincount would allocate a second
        # full-size matrix)
        np.add.at(flat, pos, wh)

    def batch_state(self, values: np.ndarray, batch: Batch) -> BatchState:
        """:meth:`state` of every group of ``batch`` at once (raises LinAlgError for a
        non-recursive singular system)."""
        n = self.n
        nb = len(batch.groups)
        buf = np.zeros((nb, 2 * n * n + n))
        buf[:, batch.fill_idx] = values[batch.fill_rows]
        A = buf[:, : n * n].reshape(nb, n, n)
        S = buf[:, n * n : 2 * n * n].reshape(nb, n, n)
        m = buf[:, 2 * n * n :]
        if batch.depth is None:
            B = np.linalg.inv(self._identity - A)
        else:
            B = self._identity + A
            for _ in range(batch.depth - 1):
                B = self._identity + A @ B
        SBt = S @ B.transpose(0, 2, 1)
        C = B @ SBt
        Bm = (B @ m[:, :, None])[:, :, 0] if self.meanstructure else m
        return BatchState(B, B[:, : self.p], SBt, C, Bm)

    def batch_sigma_factors(self, batch: Batch, st: BatchState) -> np.ndarray:
        """:meth:`sigma_factors` of every group of ``batch`` (groups x rows x p)."""
        plan = batch.plan
        uv = np.concatenate([st.G.transpose(0, 2, 1), st.C[:, :, : self.p]], axis=1)
        return uv[:, plan.uv_idx] * plan.uv_scale

    def batch_mean_derivatives(self, batch: Batch, st: BatchState) -> np.ndarray:
        """:meth:`mean_derivatives` of every group of ``batch`` (groups x rows x p)."""
        plan = batch.plan
        bm1 = np.concatenate([st.Bm, np.ones((len(batch.groups), 1))], axis=1)
        return st.G.transpose(0, 2, 1)[:, plan.mu_idx] * bm1[:, plan.mu_coef]

    def batch_curvature_cells(
        self,
        batch: Batch,
        st: BatchState,
        w_sym: np.ndarray,
        w_mu: np.ndarray | None,
        out: np.ndarray,
    ) -> None:
        """:meth:`curvature_cells` of every group of ``batch``, added to ``out``
        (groups x cells x cells), from the stacked weights."""
        plan = batch.plan
        if not plan.ka:
            return
        nb = len(batch.groups)
        G = st.G
        Gt = G.transpose(0, 2, 1)
        M = Gt @ w_sym @ G
        Mf, Bf, Cf = M.reshape(nb, -1), st.B.reshape(nb, -1), st.C.reshape(nb, -1)
        a, s_, m = plan.a_cells, plan.s_cells, plan.m_cells
        h_aa = Mf[:, plan.aa_ii] * Cf[:, plan.aa_jj]
        if self.meanstructure:
            b = (Gt @ w_mu[:, :, None])[:, plan.a_i, 0]
        if batch.depth != 1:
            Qf = (M @ st.SBt).reshape(nb, -1)
            B_ji = Bf[:, plan.aa_ji]
            t2 = B_ji * Qf[:, plan.aa_ij]
            if self.meanstructure:
                t2 += b[:, None, :] * B_ji * st.Bm[:, plan.a_j][:, :, None]
            h_aa += t2 + t2.transpose(0, 2, 1)
        out[:, a, a] += h_aa
        if plan.ks:
            h_as = Mf[:, plan.as_ik] * Bf[:, plan.as_jl]
            h_as += Mf[:, plan.as_il] * Bf[:, plan.as_jk] * plan.as_off
            out[:, a, s_] += h_as
            out[:, s_, a] += h_as.transpose(0, 2, 1)
        if self.meanstructure and plan.km:
            h_am = b[:, :, None] * Bf[:, plan.am_jm]
            out[:, a, m] += h_am
            out[:, m, a] += h_am.transpose(0, 2, 1)

    # -- parameter vectors -------------------------------------------------------------
    def values(self, x: np.ndarray, fixed_values: np.ndarray) -> np.ndarray:
        """Row values: ``fixed_values`` with the free rows replaced by ``x``."""
        v = fixed_values.copy()
        v[self.free_rows] = x[self._free_index]
        return v

    def matrices(self, values: np.ndarray, g: int) -> ModelMatrices:
        n = self.n
        idx, rows = self._fill[g]
        buf = np.zeros(2 * n * n + n)
        buf[idx] = values[rows]
        return ModelMatrices(
            buf[: n * n].reshape(n, n), buf[n * n : 2 * n * n].reshape(n, n), buf[2 * n * n :]
        )

    @cached_property
    def _identity(self) -> np.ndarray:
        return np.eye(self.n)

    def total_effects(self, mats: ModelMatrices, g: int | None = None) -> np.ndarray:
        """B = (I - A)^-1; raises LinAlgError for a non-recursive singular system.

        With ``g`` and a recursive (acyclic) group, ``A`` is nilpotent and ``B`` is the
        finite sum ``I + A + ... + A^d`` (``d`` the longest directed path), by Horner's
        rule: no inversion.
        """
        depth = None if g is None else self._depth[g]
        if depth is None:
            return np.linalg.inv(self._identity - mats.A)
        B = self._identity + mats.A
        for _ in range(depth - 1):
            B = self._identity + mats.A @ B
        return B

    def state(self, values: np.ndarray, g: int) -> GroupState:
        """The shared pieces of group g (0-based) at ``values``."""
        mats = self.matrices(values, g)
        B = self.total_effects(mats, g)
        SBt = mats.S @ B.T
        C = B @ SBt
        # (without a mean structure m is zero, and so are the means)
        Bm = B @ mats.m if self.meanstructure else mats.m
        return GroupState(mats, B, B[: self.p], SBt, C, Bm)

    def implied(
        self, values: np.ndarray, g: int, state: GroupState | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Implied covariance and mean of the observed variables of group g (0-based)."""
        st = self.state(values, g) if state is None else state
        p = self.p
        sigma = st.C[:p, :p]
        return (sigma + sigma.T) / 2, st.Bm[:p]

    def implied_all(self, values: np.ndarray, g: int) -> tuple[np.ndarray, np.ndarray]:
        """Implied covariance and mean of all variables (observed and latent)."""
        st = self.state(values, g)
        return (st.C + st.C.T) / 2, st.Bm

    def jacobian(
        self, values: np.ndarray, g: int, state: GroupState | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Implied moments of group g and their derivatives w.r.t. the free parameters.

        Returns
        -------
        sigma : (p, p)
        mu : (p,)
        d_sigma : (nfree, p, p)
            Derivative of Sigma w.r.t. each free parameter (shared labels summed).
        d_mu : (nfree, p)
        """
        plan = self._plans[g]
        st = self.state(values, g) if state is None else state
        sigma, mu = self.implied(values, g, st)
        q, p = self.nfree, self.p
        uv = self.sigma_factors(values, g, st)
        k = plan.ks + plan.ka
        t = uv[:k, :, None] * uv[k:, None, :]
        t += t.transpose(0, 2, 1)
        d_sigma = self.to_params(g, t.reshape(-1, p * p), plan.sigma_cells)
        if self.meanstructure:
            d_mu = self.to_params(g, self.mean_derivatives(values, g, st), plan.mu_cells)
        else:
            d_mu = np.zeros((q, p))
        return sigma, mu, d_sigma.reshape(q, p, p), d_mu

    def sigma_factors(
        self, values: np.ndarray, g: int, state: GroupState | None = None
    ) -> np.ndarray:
        """``U`` stacked on ``V``, with one row each per free ``S`` or ``A`` cell of
        group g, in cell order: the cell moves the implied covariance by ``u v' + v u'``.

        For ``S_kl``, ``u = G[:, k]`` and ``v = G[:, l]`` (``u`` halved when ``k = l``);
        for ``A_ij``, ``u = G[:, i]`` and ``v = Cov(j, observed)``.
        """
        plan = self._plans[g]
        st = self.state(values, g) if state is None else state
        return np.concatenate([st.G.T, st.C[:, : self.p]]).take(plan.uv_idx, axis=0) * plan.uv_scale

    def moment_factors(self, g: int, st: GroupState) -> np.ndarray:
        """The rows the derivatives of group g's moments are made of, in one gather:
        ``U`` then ``V`` (:meth:`sigma_factors`), then with a mean structure the rows
        of :meth:`mean_derivatives`."""
        src = np.concatenate([st.G.T, st.C[:, : self.p]])
        if not self.meanstructure:
            plan = self._plans[g]
            return src.take(plan.uv_idx, axis=0) * plan.uv_scale
        rows, coef = self._factor_index[g]
        scale = np.concatenate([st.Bm, _FACTOR_SCALES])
        return src.take(rows, axis=0) * scale.take(coef)[:, None]

    @cached_property
    def _factor_index(self) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
        """Per group, the rows of ``[G'; C[:, :p]]`` of :meth:`moment_factors` and the
        positions of their factors in ``[Bm, 1, 0.5]`` (built on first use, with a mean
        structure)."""
        out = []
        for plan in self._plans:
            rows = plan.uv_idx
            coef = self.n + (plan.uv_scale[:, 0] != 1.0)  # the halved u of diagonal S cells
            if self.meanstructure:
                rows = np.concatenate([rows, plan.mu_idx])
                coef = np.concatenate([coef, plan.mu_coef[:, 0]])
            out.append((rows, coef))
        return tuple(out)

    def mean_derivatives(
        self, values: np.ndarray, g: int, state: GroupState | None = None
    ) -> np.ndarray:
        """Derivatives of the implied means of group g w.r.t. its free ``A`` then ``m``
        cells (one row each): ``G[:, i] (Bm)_j`` for ``A_ij``, ``G[:, k]`` for ``m_k``."""
        plan = self._plans[g]
        st = self.state(values, g) if state is None else state
        return st.G.T[plan.mu_idx] * np.append(st.Bm, 1.0)[plan.mu_coef]

    def weighted_hessian(
        self,
        values: np.ndarray,
        g: int,
        w_sigma: np.ndarray,
        w_mu: np.ndarray,
        state: GroupState | None = None,
    ) -> np.ndarray:
        """Hessian of ``<Sigma, W_sigma> + <mu, w_mu>`` w.r.t. the free parameters, with
        the weights held fixed: the curvature of the model itself.

        With ``P = F' W_sigma F``, ``u = F' w_mu``, ``M = B'PB``, ``b = B'u``,
        ``C = B S B'``, ``Q = M S B'`` and ``c = Bm``, differentiating ``dB = B dA B`` gives
        for cells ``A_ij``, ``A_kl``::

            2 M_ik C_lj + 2 B_li Q_kj + 2 Q_il B_jk + b_k B_li c_j + b_i B_jk c_l

        for ``A_ij`` and the symmetric cell ``S_kl``: ``2 (M_ik B_jl + M_il B_jk)`` (one
        term when ``k = l``), and for ``A_ij`` and ``m_k``: ``b_i B_jk``.  ``Sigma`` is
        linear in ``S`` and ``mu`` in ``m``, so those blocks vanish.
        """
        return self.to_params_sym(
            g, self.curvature_cells(values, g, w_sigma + w_sigma.T, w_mu, state)
        )

    def curvature_cells(
        self,
        values: np.ndarray,
        g: int,
        w_sym: np.ndarray,
        w_mu: np.ndarray | None,
        state: GroupState | None = None,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """:meth:`weighted_hessian` over the free cells of group g (before summing the
        cells that share a parameter), from ``w_sym = W_sigma + W_sigma'`` (``Sigma`` is
        symmetric: its weight counts through both triangles) and ``w_mu`` (ignored
        without a mean structure); added to ``out`` (a cells x cells matrix) when given.
        Only the rows and columns of ``A`` cells are non-zero."""
        plan = self._plans[g]
        k = plan.ka + plan.ks + plan.km
        if out is None:
            out = np.zeros((k, k))
        if not plan.ka:
            return out
        st = self.state(values, g) if state is None else state
        b = (st.G.T @ w_mu)[plan.a_i] if self.meanstructure else None
        rows = np.zeros((k, k))
        self.add_curvature(g, st, w_sym, b, rows)
        out += (rows + rows.T) / 2
        return out

    def add_curvature(
        self, g: int, st: GroupState, w_sym: np.ndarray, b: np.ndarray | None, out: np.ndarray
    ) -> None:
        """Add to ``out`` (cells x cells) a matrix whose symmetric part is
        :meth:`curvature_cells` of group g: its rows of the ``A`` cells only (each
        off-diagonal block twice, the ``A x A`` block once), from ``w_sym`` and
        ``b = (G' w_mu)[a_i]`` (the mean weight at the targets of the free ``A``
        cells; None without a mean structure)."""
        plan = self._plans[g]
        if not plan.ka:
            return
        G = st.G
        M = G.T @ w_sym @ G
        Mf, Cf, B2 = M.ravel(), st.C.ravel(), 2.0 * st.B.ravel()
        a = plan.a_cells
        h_aa = Mf.take(plan.aa_ii) * Cf.take(plan.aa_jj)
        if self._depth[g] != 1:
            # the terms with B_ji (j the source of one A cell, i the target of another):
            # no path leads from a target to a source when every path has length one
            B_ji = B2.take(plan.aa_ji)  # (2 B_ji: t2 + t2' counts as 2 t2)
            t2 = B_ji * (M @ st.SBt).ravel().take(plan.aa_ij)
            if b is not None:
                t2 += b[None, :] * B_ji * st.Bm[plan.a_j][:, None]
            h_aa += t2
        out[a, a] += h_aa
        if plan.ks:
            h_as = Mf.take(plan.as_ik) * B2.take(plan.as_jl)
            h_as += Mf.take(plan.as_il) * B2.take(plan.as_jk) * plan.as_off
            out[a, plan.s_cells] += h_as
        if b is not None and plan.km:
            out[a, plan.m_cells] += b[:, None] * B2.take(plan.am_jm)


#: the factors after ``Bm`` in :meth:`Model.moment_factors`: 1 (the ``m`` cells' and the
#: ``A`` cells' ``u``) and 0.5 (the ``u`` of a diagonal ``S`` cell)
_FACTOR_SCALES = np.array([1.0, 0.5])


def _derivative_plan(
    n: int,
    q: int,
    free: list[int],
    a_rows: list[int],
    a_i: list[int],
    a_j: list[int],
    s_rows: list[int],
    s_i: list[int],
    s_j: list[int],
    m_rows: list[int],
    m_i: list[int],
    short_paths: bool,
) -> DerivativePlan:
    """The :class:`DerivativePlan` of one group from its cells as lists (``free``: the
    parameter table's ``free`` column, ``q`` the number of free parameters,
    ``short_paths``: every directed path has length one)."""
    a_keep = [k for k, r in enumerate(a_rows) if free[r] > 0]
    s_keep = [k for k, r in enumerate(s_rows) if free[r] > 0]
    m_keep = [k for k, r in enumerate(m_rows) if free[r] > 0]
    fa_i, fa_j = [a_i[k] for k in a_keep], [a_j[k] for k in a_keep]
    fs_i, fs_j = [s_i[k] for k in s_keep], [s_j[k] for k in s_keep]
    fm_i = [m_i[k] for k in m_keep]
    ka, ks, km = len(a_keep), len(s_keep), len(m_keep)
    s_params = [free[s_rows[k]] - 1 for k in s_keep]
    a_params = [free[a_rows[k]] - 1 for k in a_keep]
    m_params = [free[m_rows[k]] - 1 for k in m_keep]
    diag = [i == j for i, j in zip(fs_i, fs_j, strict=True)]
    s_scale = [0.5 if d else 1.0 for d in diag]
    k = ka + ks + km
    if km:  # S, A, m (see DerivativePlan)
        params = s_params + a_params + m_params
        s_cells, a_cells, m_cells = slice(0, ks), slice(ks, ks + ka), slice(ks + ka, k)
        u_rows, v_rows = fs_i + fa_i, fs_j + [n + j for j in fa_j]
        u_scale = s_scale + [1.0] * ka
    else:  # A, S
        params = a_params + s_params
        a_cells, s_cells, m_cells = slice(0, ka), slice(ka, k), slice(k, k)
        u_rows, v_rows = fa_i + fs_i, [n + j for j in fa_j] + fs_j
        u_scale = [1.0] * ka + s_scale
    cell_param = np.array(params, dtype=np.int64)
    unique = len(set(params)) == k
    identity = params == list(range(q))
    perm = None
    if unique and k == q and not identity:  # params is then a permutation of range(q)
        where = [0] * q
        for cell, param in enumerate(params):
            where[param] = cell
        perm = np.array(where, dtype=np.int64)
    a_i_ = np.array(fa_i, dtype=int)
    a_j_ = np.array(fa_j, dtype=int)
    s_i_ = np.array(fs_i, dtype=int)
    s_j_ = np.array(fs_j, dtype=int)
    # rows of the A-cell blocks times n (flat row offsets), and columns
    ci, cj = a_i_ * n, a_j_ * n
    ri, rj = ci[:, None], cj[:, None]
    i_r, j_r = a_i_[:, None], a_j_[:, None]
    return DerivativePlan(
        ka=ka,
        ks=ks,
        km=km,
        sigma_cells=slice(0, ks + ka),
        a_cells=a_cells,
        s_cells=s_cells,
        mu_cells=slice(a_cells.start, a_cells.stop + km),
        m_cells=m_cells,
        cell_param=cell_param,
        unique=unique,
        identity=identity,
        sym_flat=(
            None if identity or perm is not None
            else (cell_param[:, None] * q + cell_param[None, :]).ravel()
        ),
        perm=perm,
        perm_flat=None if perm is None else (perm[:, None] * k + perm[None, :]).ravel(),
        a_i=a_i_,
        a_j=a_j_,
        uv_idx=np.array(u_rows + v_rows, dtype=int),
        uv_scale=np.array(u_scale + [1.0] * (ks + ka))[:, None],
        mu_idx=np.array(fa_i + fm_i, dtype=int),
        mu_coef=np.array(fa_j + [n] * km, dtype=int)[:, None],
        aa_ii=ri + a_i_,
        aa_jj=cj + j_r,
        aa_ji=None if short_paths else cj + i_r,
        aa_ij=None if short_paths else ci + j_r,
        as_ik=ri + s_i_,
        as_jl=rj + s_j_,
        as_il=ri + s_j_,
        as_jk=rj + s_i_,
        as_off=np.array([[0.0 if d else 1.0 for d in diag]]),
        am_jm=rj + np.array(fm_i, dtype=int),
    )


def _path_depth(n: int, a_i: list[int], a_j: list[int]) -> int | None:
    """Length of the longest directed path among the A cells (edge ``j -> i``), or None
    when they form a cycle (a non-recursive model)."""
    if set(a_i).isdisjoint(a_j):  # no variable is both a target and a source
        return 1
    children: list[list[int]] = [[] for _ in range(n)]
    indegree = [0] * n
    for i, j in zip(a_i, a_j, strict=True):
        if i == j:
            return None
        children[j].append(i)
        indegree[i] += 1
    depth = [0] * n
    queue = [v for v in range(n) if indegree[v] == 0]
    seen = 0
    while queue:
        v = queue.pop()
        seen += 1
        for w in children[v]:
            depth[w] = max(depth[w], depth[v] + 1)
            indegree[w] -= 1
            if indegree[w] == 0:
                queue.append(w)
    if seen < n:
        return None
    return max([1, *depth])
