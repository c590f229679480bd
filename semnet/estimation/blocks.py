"""Block-diagonal structure of large symmetric matrices (many-group models).

A configural multi-group model's information and Hessian are block diagonal: one block
per group, no parameter shared.  Solving with or inverting such a matrix block by block
costs ``G`` times a group's cube instead of the cube of all the groups' parameters.
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
    if q <= SMALL:
        return None
    n, labels = connected_components(csr_array(matrix != 0), directed=False)
    if n == 1:
        return None
    order = np.argsort(labels, kind="stable")
    cuts = np.flatnonzero(np.diff(labels[order])) + 1
    return np.split(order, cuts)
