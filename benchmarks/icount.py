"""``python -m benchmarks.icount``: the instructions one fit executes, counted by
callgrind.

On a shared machine a clock says as much about the neighbours as about the code: the
same fit takes 1.3 ms in one minute and 2 ms in the next. The number of instructions a
fit executes does not depend on them, so it compares two versions of the code (run
this module with each on ``PYTHONPATH``) to a fraction of a per cent where A/B timing
cannot see 5%. It is not a time: numpy's calls into BLAS and the memory's speed weigh
differently, so confirm a gain with ``python -m benchmarks`` once.

Each case is run under ``valgrind --tool=callgrind`` with the counting switched on only
around its fits (``callgrind_control -i on``, after warm-up fits), twice: with ``n``
and with ``2 n`` fits. The difference divided by ``n`` is the count per fit, without
the process's start and the warm-up. Cases: ``hs`` (the HS three-factor CFA, model
text to the estimates table) and ``two`` (the same, by school with equal loadings and
intercepts).

Needs valgrind (``apt-get install valgrind``); without it the module says so and exits
with status 2.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence

#: the fits of each case: ``semnet.cfa`` keyword arguments on the HS CFA
CASES = {
    "hs": {},
    "two": {"group": "school", "group_equal": ["loadings", "intercepts"]},
}

#: what the counted process runs (argv: number of fits, case)
_CHILD = """
import os, subprocess, sys
import semnet
from threadpoolctl import threadpool_limits
from benchmarks.icount import CASES
from benchmarks.tasks import HS_MODEL
hs = semnet.datasets.holzinger_swineford()
n, kwargs = int(sys.argv[1]), CASES[sys.argv[2]]
with threadpool_limits(1):
    for _ in range(10):
        semnet.cfa(HS_MODEL, hs, **kwargs).estimates()
    subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], capture_output=True)
    for _ in range(n):
        semnet.cfa(HS_MODEL, hs, **kwargs).estimates()
    subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], capture_output=True)
"""


def _instructions(n: int, case: str) -> int:
    """The instructions callgrind counted in a run of ``n`` fits of ``case``."""
    with tempfile.TemporaryDirectory() as folder:
        out = subprocess.run(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no",
             f"--callgrind-out-file={os.path.join(folder, 'cg.out')}",
             sys.executable, "-c", _CHILD, str(n), case],
            capture_output=True, text=True,
            env={**os.environ, "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1"},
        )  # fmt: skip
    found = re.search(r"I\s+refs:\s+([\d,]+)", out.stderr)
    if out.returncode != 0 or found is None:
        raise RuntimeError(f"callgrind failed on case {case!r}: {out.stderr[-500:]}")
    return int(found.group(1).replace(",", ""))


def per_fit(case: str, n: int = 20) -> float:
    """Instructions per fit of ``case`` (``hs`` or ``two``), from runs of ``n`` and
    ``2 n`` fits."""
    return (_instructions(2 * n, case) - _instructions(n, case)) / n


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.icount",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", action="append", choices=sorted(CASES),
                        help="the case to count (repeatable; default: all)")
    parser.add_argument("-n", type=int, default=20, help="fits per counted run (default 20)")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("benchmarks.icount needs valgrind (apt-get install valgrind).", file=sys.stderr)
        return 2
    for case in args.case or sorted(CASES):
        print(f"{case}: {per_fit(case, args.n) / 1e3:,.0f} thousand instructions per fit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
