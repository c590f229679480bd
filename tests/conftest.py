import sys
from pathlib import Path

import pytest

import semnet

sys.path.insert(0, str(Path(__file__).resolve().parent))

try:  # small matrices: BLAS threads only add contention on small CI machines
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
except ImportError:  # pragma: no cover
    pass


@pytest.fixture(scope="module")
def hs():
    """The Holzinger–Swineford data (301 cases), fresh for each test module."""
    return semnet.datasets.holzinger_swineford()
