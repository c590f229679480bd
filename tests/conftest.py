import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

try:  # small matrices: BLAS threads only add contention on small CI machines
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
except ImportError:  # pragma: no cover
    pass
