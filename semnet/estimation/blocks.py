"""Block-diagonal structure of large symmetric matrices (many-group models).

A configural multi-group model's information and Hessian are block diagonal: one block
per group, no parameter shared.  Solving with or inverting such a matrix block by block
costs ``G`` times a group's cube instead of the cube of all the groups' parameters.
With parameters held equal across the groups (a metric or scalar model) the matrix is an
"arrow": the groups' blocks plus the rows and columns of the shared parameters
(:func:`arrow_blocks`), solved through the Schur complement of the blocks.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components

#: matrices of at most this order are solved as they are (a scan costs more than it saves)
SMALL = 200


def diagonal_blocks(matrix: np.ndarray) -> list[np.ndarray] | None:
    """The index sets of the diagonal blocks of a symmetric ``matrix`` (the connected
    components of its non-zero pattern), or None where it is small or one block.

    Example
    -------
    >>> import numpy as np
    >>> m = np.kron(np.eye(150), np.ones((2, 2)))
    >>> [b.tolist() for b in diagonal_blocks(m)[:2]]
    [[0, 1], [2, 3]]
    """
    q = matrix.shape[0]
    if q <= SMALL or _one_block(matrix):
        return None
    n, labels = connected_components(csr_array(matrix != 0), directed=False)
    if n == 1:
        return None
    order = np.argsort(labels, kind="stable")
    cuts = np.flatnonzero(np.diff(labels[order])) + 1
    return np.split(order, cuts)


def arrow_blocks(matrix: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]] | None:
    """An "arrow" structure of a symmetric ``matrix``: the few parameters coupled with
    more than half of all the others (the hubs: loadings or intercepts held equal across
    all groups) and the diagonal blocks that remain without them (each group's own
    parameters); None where the matrix is small, has no hubs, or is one block without
    them.

    Example
    -------
    >>> import numpy as np
    >>> m = np.kron(np.eye(150), np.ones((2, 2)))
    >>> m[:, -1] = m[-1, :] = 1.0
    >>> hubs, blocks = arrow_blocks(m)
    >>> hubs.tolist(), len(blocks)
    ([299], 150)
    """
    q = matrix.shape[0]
    if q <= SMALL:
        return None
    pattern = matrix != 0
    hub = pattern.sum(axis=0) > q // 2
    n_hubs = int(hub.sum())
    if n_hubs == 0 or n_hubs > q // 4:
        return None
    rest = np.flatnonzero(~hub)
    n, labels = connected_components(csr_array(pattern[np.ix_(rest, rest)]), directed=False)
    if n == 1:
        return None
    order = np.argsort(labels, kind="stable")
    cuts = np.flatnonzero(np.diff(labels[order])) + 1
    return np.flatnonzero(hub), [rest[b] for b in np.split(order, cuts)]


def _one_block(matrix: np.ndarray) -> bool:
    """Whether the first parameter is coupled with every other (then the matrix is one
    block: a cheap test that spares the graph search where a parameter is shared by all
    groups, as a scalar model's loadings are in its Hessian)."""
    return bool((matrix[0] != 0).all())
