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


class FreeCells(NamedTuple):
    """The free cells of one group: positions, and 0/1 maps to the free parameters (a
    label shared by several cells sums their derivatives)."""

    a_i: np.ndarray
    a_j: np.ndarray
    a_map: np.ndarray
    s_i: np.ndarray
    s_j: np.ndarray
    s_off: np.ndarray  # positions (in the s arrays) of off-diagonal cells
    s_map: np.ndarray
    m_i: np.ndarray
    m_map: np.ndarray


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
        # plain lists: one pass sorts the rows by group and operator
        lhs = params["lhs"].tolist()
        rhs = params["rhs"].tolist()
        by_group: dict[int, dict[str, list[int]]] = {
            g: {"=~": [], "~": [], "~~": [], "~1": []} for g in range(1, pt.ngroups + 1)
        }
        for r, (g, o) in enumerate(zip(params["group"].tolist(), params["op"].tolist(),
                                       strict=True)):
            rows_of = by_group.get(g, {}).get(o)
            if rows_of is not None:
                rows_of.append(r)
        cells = []
        for g in range(1, pt.ngroups + 1):
            load, reg, cov, mean = (by_group[g][o] for o in ("=~", "~", "~~", "~1"))
            cells.append(
                GroupCells(
                    a_rows=np.array(load + reg, dtype=np.intp),
                    a_i=np.array([index[rhs[r]] for r in load] + [index[lhs[r]] for r in reg],
                                 dtype=int),
                    a_j=np.array([index[lhs[r]] for r in load] + [index[rhs[r]] for r in reg],
                                 dtype=int),
                    s_rows=np.array(cov, dtype=np.intp),
                    s_i=np.array([index[lhs[r]] for r in cov], dtype=int),
                    s_j=np.array([index[rhs[r]] for r in cov], dtype=int),
                    m_rows=np.array(mean, dtype=np.intp),
                    m_i=np.array([index[lhs[r]] for r in mean], dtype=int),
                )
            )  # fmt: skip
        self.cells = tuple(cells)
        self._fill = tuple(self._fill_index(c) for c in cells)
        self._depth = tuple(_path_depth(self.n, c.a_i, c.a_j) for c in cells)
        self.free = params["free"]
        self.free_rows = np.flatnonzero(self.free > 0)
        self.nfree = int(self.free.max()) if self.free_rows.size else 0
        # per group: which cells are free, and the 0/1 map from those cells to the free
        # parameters (a label shared by several cells sums their derivatives)
        self._free_cells = tuple(self._cell_maps(c) for c in self.cells)

    def _fill_index(self, c: GroupCells) -> tuple[np.ndarray, np.ndarray]:
        """Positions in one buffer holding A, S (both triangles) and m, and the parameter
        rows that fill them."""
        n2 = self.n * self.n
        idx = np.concatenate([
            c.a_i * self.n + c.a_j,
            n2 + c.s_i * self.n + c.s_j,
            n2 + c.s_j * self.n + c.s_i,
            2 * n2 + c.m_i,
        ])  # fmt: skip
        rows = np.concatenate([c.a_rows, c.s_rows, c.s_rows, c.m_rows])
        return idx, rows

    def _cell_maps(self, c: GroupCells) -> FreeCells:
        maps = []
        for rows in (c.a_rows, c.s_rows, c.m_rows):
            f = self.free[rows]
            sel = np.flatnonzero(f > 0)
            P = np.zeros((self.nfree, sel.size))
            P[f[sel] - 1, np.arange(sel.size)] = 1.0
            maps.append((sel, P))
        (a_sel, a_map), (s_sel, s_map), (m_sel, m_map) = maps
        s_i, s_j = c.s_i[s_sel], c.s_j[s_sel]
        return FreeCells(
            c.a_i[a_sel], c.a_j[a_sel], a_map, s_i, s_j, np.flatnonzero(s_i != s_j), s_map,
            c.m_i[m_sel], m_map,
        )  # fmt: skip

    # -- parameter vectors -------------------------------------------------------------
    def values(self, x: np.ndarray, fixed_values: np.ndarray) -> np.ndarray:
        """Row values: ``fixed_values`` with the free rows replaced by ``x``."""
        v = fixed_values.copy()
        v[self.free_rows] = x[self.free[self.free_rows] - 1]
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
        return GroupState(mats, B, B[: self.p], SBt, C, B @ mats.m)

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
        fc = self._free_cells[g]
        st = self.state(values, g) if state is None else state
        G = st.G  # p x n
        sigma, mu = self.implied(values, g, st)
        q, p = self.nfree, self.p
        d_sigma = np.zeros((q, p * p))
        d_mu = np.zeros((q, p))
        if fc.a_i.size:
            # dSigma/dA_ij = G[:, i] H[j, :] + transpose, H = Cov(all, observed)
            gi = G[:, fc.a_i].T
            t = gi[:, :, None] * st.C[fc.a_j, :p][:, None, :]
            t += t.transpose(0, 2, 1)
            d_sigma += fc.a_map @ t.reshape(-1, p * p)
            if self.meanstructure:
                d_mu += fc.a_map @ (gi * st.Bm[fc.a_j][:, None])
        if fc.s_i.size:
            t = G[:, fc.s_i].T[:, :, None] * G[:, fc.s_j].T[:, None, :]
            if fc.s_off.size:
                t[fc.s_off] += t[fc.s_off].transpose(0, 2, 1)
            d_sigma += fc.s_map @ t.reshape(-1, p * p)
        if self.meanstructure and fc.m_i.size:
            d_mu += fc.m_map @ G[:, fc.m_i].T
        return sigma, mu, d_sigma.reshape(q, p, p), d_mu

    def weighted_gradient(
        self,
        values: np.ndarray,
        g: int,
        w_sigma: np.ndarray,
        w_mu: np.ndarray,
        state: GroupState | None = None,
    ) -> np.ndarray:
        """Gradient of ``<Sigma, W_sigma> + <mu, w_mu>`` w.r.t. the free parameters.

        Reverse mode: with ``P = F' W F`` and ``u = F' w``, the derivatives are
        ``2 (B'PB S B')_ij + (B'u)_i (Bm)_j`` for ``A``, ``(B'PB)_ij`` (both triangles) for
        ``S`` and ``(B'u)_i`` for ``m``: O(n^3) however many parameters the model has.
        """
        fc = self._free_cells[g]
        st = self.state(values, g) if state is None else state
        G = st.G  # F B
        bpb = G.T @ w_sigma @ G  # B'PB
        bu = G.T @ w_mu if self.meanstructure else np.zeros(self.n)
        d_a = 2.0 * bpb @ st.SBt + np.outer(bu, st.Bm)
        out = np.zeros(self.nfree)
        if fc.a_i.size:
            out += fc.a_map @ d_a[fc.a_i, fc.a_j]
        if fc.s_i.size:
            i, j = fc.s_i, fc.s_j
            out += fc.s_map @ np.where(i == j, bpb[i, j], bpb[i, j] + bpb[j, i])
        if self.meanstructure and fc.m_i.size:
            out += fc.m_map @ bu[fc.m_i]
        return out

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

        With ``M = B'PB``, ``b = B'u``, ``C = B S B'``, ``Q = M S B'`` and ``c = Bm`` (``P``,
        ``u`` as in :meth:`weighted_gradient`), differentiating ``dB = B dA B`` gives for
        cells ``A_ij``, ``A_kl``::

            2 M_ik C_lj + 2 B_li Q_kj + 2 Q_il B_jk + b_k B_li c_j + b_i B_jk c_l

        for ``A_ij`` and the symmetric cell ``S_kl``: ``2 (M_ik B_jl + M_il B_jk)`` (one
        term when ``k = l``), and for ``A_ij`` and ``m_k``: ``b_i B_jk``.  ``Sigma`` is
        linear in ``S`` and ``mu`` in ``m``, so those blocks vanish.
        """
        fc = self._free_cells[g]
        out = np.zeros((self.nfree, self.nfree))
        if not fc.a_i.size:
            return out
        st = self.state(values, g) if state is None else state
        B, G, C = st.B, st.G, st.C
        M = G.T @ w_sigma @ G
        M += M.T  # w_sigma enters through both triangles of the symmetric Sigma
        Q = M @ st.SBt
        ri, ci = fc.a_i[:, None], fc.a_i[None, :]
        rj, cj = fc.a_j[:, None], fc.a_j[None, :]
        B_ji = B[cj, ri]
        t2 = B_ji * Q[ci, rj]
        h_aa = M[ri, ci] * C[cj, rj] + t2 + t2.T
        if self.meanstructure:
            b = G.T @ w_mu
            t4 = b[ci] * B_ji * st.Bm[rj]
            h_aa += t4 + t4.T
            if fc.m_i.size:
                cross = fc.a_map @ (b[ri] * B[rj, fc.m_i[None, :]]) @ fc.m_map.T
                out += cross + cross.T
        out += fc.a_map @ h_aa @ fc.a_map.T
        if fc.s_i.size:
            k, l_ = fc.s_i[None, :], fc.s_j[None, :]
            h_as = M[ri, k] * B[rj, l_]
            if fc.s_off.size:
                ko, lo = k[:, fc.s_off], l_[:, fc.s_off]
                h_as[:, fc.s_off] += M[ri, lo] * B[rj, ko]
            cross = fc.a_map @ h_as @ fc.s_map.T
            out += cross + cross.T
        return out


def _path_depth(n: int, a_i: np.ndarray, a_j: np.ndarray) -> int | None:
    """Length of the longest directed path among the A cells (edge ``j -> i``), or None
    when they form a cycle (a non-recursive model)."""
    children: list[list[int]] = [[] for _ in range(n)]
    indegree = [0] * n
    for i, j in zip(a_i.tolist(), a_j.tolist(), strict=True):
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
