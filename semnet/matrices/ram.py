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


@dataclass(frozen=True)
class ModelMatrices:
    """A, S, m of one group at given parameter values."""

    A: np.ndarray
    S: np.ndarray
    m: np.ndarray


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
        op = params["op"]
        lhs = params["lhs"]
        rhs = params["rhs"]
        group = params["group"]
        cells = []
        for g in range(1, pt.ngroups + 1):
            in_g = group == g
            load = np.flatnonzero(in_g & (op == "=~"))
            reg = np.flatnonzero(in_g & (op == "~"))
            cov = np.flatnonzero(in_g & (op == "~~"))
            mean = np.flatnonzero(in_g & (op == "~1"))
            a_rows = np.concatenate([load, reg])
            a_i = np.array(
                [index[rhs[r]] for r in load] + [index[lhs[r]] for r in reg], dtype=int
            )
            a_j = np.array(
                [index[lhs[r]] for r in load] + [index[rhs[r]] for r in reg], dtype=int
            )
            cells.append(
                GroupCells(
                    a_rows=a_rows,
                    a_i=a_i,
                    a_j=a_j,
                    s_rows=cov,
                    s_i=np.array([index[lhs[r]] for r in cov], dtype=int),
                    s_j=np.array([index[rhs[r]] for r in cov], dtype=int),
                    m_rows=mean,
                    m_i=np.array([index[lhs[r]] for r in mean], dtype=int),
                )
            )
        self.cells = tuple(cells)
        self.free = params["free"]
        self.free_rows = np.flatnonzero(self.free > 0)
        self.nfree = int(self.free.max()) if self.free_rows.size else 0
        # per group: which cells are free, and the 0/1 map from those cells to the free
        # parameters (a label shared by several cells sums their derivatives)
        self._free_cells = tuple(self._cell_maps(c) for c in self.cells)

    def _cell_maps(self, c: GroupCells):
        out = []
        for rows in (c.a_rows, c.s_rows, c.m_rows):
            f = self.free[rows]
            sel = np.flatnonzero(f > 0)
            P = np.zeros((self.nfree, sel.size))
            P[f[sel] - 1, np.arange(sel.size)] = 1.0
            out.append((sel, P))
        return tuple(out)

    # -- parameter vectors -------------------------------------------------------------
    def values(self, x: np.ndarray, fixed_values: np.ndarray) -> np.ndarray:
        """Row values: ``fixed_values`` with the free rows replaced by ``x``."""
        v = fixed_values.copy()
        v[self.free_rows] = x[self.free[self.free_rows] - 1]
        return v

    def matrices(self, values: np.ndarray, g: int) -> ModelMatrices:
        c = self.cells[g]
        A = np.zeros((self.n, self.n))
        S = np.zeros((self.n, self.n))
        m = np.zeros(self.n)
        A[c.a_i, c.a_j] = values[c.a_rows]
        S[c.s_i, c.s_j] = values[c.s_rows]
        S[c.s_j, c.s_i] = values[c.s_rows]
        m[c.m_i] = values[c.m_rows]
        return ModelMatrices(A, S, m)

    @cached_property
    def _identity(self) -> np.ndarray:
        return np.eye(self.n)

    def total_effects(self, mats: ModelMatrices) -> np.ndarray:
        """B = (I - A)^-1; raises LinAlgError for a non-recursive singular system."""
        return np.linalg.inv(self._identity - mats.A)

    def implied(self, values: np.ndarray, g: int) -> tuple[np.ndarray, np.ndarray]:
        """Implied covariance and mean of the observed variables of group g (0-based)."""
        mats = self.matrices(values, g)
        B = self.total_effects(mats)
        G = B[: self.p]
        sigma = G @ mats.S @ G.T
        mu = G @ mats.m
        return (sigma + sigma.T) / 2, mu

    def implied_all(self, values: np.ndarray, g: int) -> tuple[np.ndarray, np.ndarray]:
        """Implied covariance and mean of all variables (observed and latent)."""
        mats = self.matrices(values, g)
        B = self.total_effects(mats)
        full = B @ mats.S @ B.T
        return (full + full.T) / 2, B @ mats.m

    def jacobian(
        self, values: np.ndarray, g: int
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
        c = self.cells[g]
        mats = self.matrices(values, g)
        B = self.total_effects(mats)
        G = B[: self.p]  # p x n
        full_cols = B @ mats.S @ G.T  # n x p : Cov(all, observed)
        sigma = full_cols[: self.p]
        sigma = (sigma + sigma.T) / 2
        Bm = B @ mats.m
        mu = G @ mats.m
        q, p = self.nfree, self.p
        (a_sel, a_map), (s_sel, s_map), (m_sel, m_map) = self._free_cells[g]
        d_sigma = np.zeros((q, p * p))
        d_mu = np.zeros((q, p))
        if a_sel.size:
            i, j = c.a_i[a_sel], c.a_j[a_sel]
            # dSigma/dA_ij = G[:, i] H[j, :] + transpose, H = Cov(all, observed)
            t = G[:, i].T[:, :, None] * full_cols[j][:, None, :]
            t = t + t.transpose(0, 2, 1)
            d_sigma += a_map @ t.reshape(a_sel.size, p * p)
            if self.meanstructure:
                d_mu += a_map @ (G[:, i].T * Bm[j][:, None])
        if s_sel.size:
            i, j = c.s_i[s_sel], c.s_j[s_sel]
            t = G[:, i].T[:, :, None] * G[:, j].T[:, None, :]
            t = t + (i != j)[:, None, None] * t.transpose(0, 2, 1)
            d_sigma += s_map @ t.reshape(s_sel.size, p * p)
        if self.meanstructure and m_sel.size:
            d_mu += m_map @ G[:, c.m_i[m_sel]].T
        return sigma, mu, d_sigma.reshape(q, p, p), d_mu

    def weighted_gradient(
        self, values: np.ndarray, g: int, w_sigma: np.ndarray, w_mu: np.ndarray
    ) -> np.ndarray:
        """Gradient of ``<Sigma, W_sigma> + <mu, w_mu>`` w.r.t. the free parameters.

        Reverse mode: with ``P = F' W F`` and ``u = F' w``, the derivatives are
        ``2 (B'PB S B')_ij + (B'u)_i (Bm)_j`` for ``A``, ``(B'PB)_ij`` (both triangles) for
        ``S`` and ``(B'u)_i`` for ``m``: O(n^3) however many parameters the model has.
        """
        c = self.cells[g]
        mats = self.matrices(values, g)
        B = self.total_effects(mats)
        G = B[: self.p]  # F B
        bpb = G.T @ w_sigma @ G  # B'PB
        bu = G.T @ w_mu if self.meanstructure else np.zeros(self.n)
        bm = B @ mats.m
        d_a = 2.0 * bpb @ mats.S @ B.T + np.outer(bu, bm)
        (a_sel, a_map), (s_sel, s_map), (m_sel, m_map) = self._free_cells[g]
        out = np.zeros(self.nfree)
        if a_sel.size:
            out += a_map @ d_a[c.a_i[a_sel], c.a_j[a_sel]]
        if s_sel.size:
            i, j = c.s_i[s_sel], c.s_j[s_sel]
            out += s_map @ np.where(i == j, bpb[i, j], bpb[i, j] + bpb[j, i])
        if self.meanstructure and m_sel.size:
            out += m_map @ bu[c.m_i[m_sel]]
        return out

    def weighted_hessian(
        self, values: np.ndarray, g: int, w_sigma: np.ndarray, w_mu: np.ndarray
    ) -> np.ndarray:
        """Hessian of ``<Sigma, W_sigma> + <mu, w_mu>`` w.r.t. the free parameters, with
        the weights held fixed: the curvature of the model itself.

        With ``M = B'PB``, ``b = B'u``, ``C = B S B'``, ``Q = M S B'`` and ``c = Bm`` (``P``,
        ``u`` as in :meth:`weighted_gradient`), differentiating ``dB = B dA B`` gives for
        cells ``A_ij``, ``A_kl``::

            2 M_ik C_lj + 2 B_li Q_kj + 2 Q_il B_jk + b_k B_li c_j + b_i B_jk c_l

        for ``A_ij`` and the symmetric cell ``S_kl``: ``2 (M_ik B_jl + M_il B_jk)`` (one
        term when ``k = l``), and for ``A_ij`` and ``m_k``: ``b_i B_jk``.  ``Sigma`` is
        linear in ``S`` and ``mu`` in ``m``, so those blocks vanish.
        """
        c = self.cells[g]
        (a_sel, a_map), (s_sel, s_map), (m_sel, m_map) = self._free_cells[g]
        out = np.zeros((self.nfree, self.nfree))
        if not a_sel.size:
            return out
        mats = self.matrices(values, g)
        B = self.total_effects(mats)
        G = B[: self.p]
        M = G.T @ w_sigma @ G
        M = M + M.T  # w_sigma enters through both triangles of the symmetric Sigma
        SBt = mats.S @ B.T
        C = B @ SBt
        Q = M @ SBt
        i, j = c.a_i[a_sel], c.a_j[a_sel]
        ri, ci, rj, cj = i[:, None], i[None, :], j[:, None], j[None, :]
        t2 = B[cj, ri] * Q[ci, rj]
        h_aa = M[ri, ci] * C[cj, rj] + t2 + t2.T
        if self.meanstructure:
            b = G.T @ w_mu
            bm = B @ mats.m
            t4 = b[ci] * B[cj, ri] * bm[rj]
            h_aa = h_aa + t4 + t4.T
            if m_sel.size:
                k = c.m_i[m_sel]
                cross = a_map @ (b[ri] * B[rj, k[None, :]]) @ m_map.T
                out += cross + cross.T
        out += a_map @ h_aa @ a_map.T
        if s_sel.size:
            k, l_ = c.s_i[s_sel][None, :], c.s_j[s_sel][None, :]
            h_as = M[ri, k] * B[rj, l_] + np.where(k != l_, M[ri, l_] * B[rj, k], 0.0)
            cross = a_map @ h_as @ s_map.T
            out += cross + cross.T
        return out
