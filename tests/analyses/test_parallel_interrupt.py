"""Ctrl-C during a parallel many-fit workflow (:func:`semnet.power` and
:func:`semnet.bootstrap`, whose tasks run through :func:`semnet.analyses.parallel.map_tasks`)
returns at once and leaves no worker behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir() or sys.platform == "win32",
                                reason="reads the process table in /proc")

#: seconds the interrupted process may take to exit (the fix makes it well under one;
#: before it, the pool waited ~90 s for every queued chunk)
EXIT_WITHIN = 5.0
#: seconds to wait for the bootstrap's workers to appear
START_WITHIN = 30.0

SCRIPTS = {
    "power": """
import semnet
print("started", flush=True)
semnet.power("f =~ 0.8*x1 + 0.7*x2 + 0.6*x3\\ny ~ 0.3*f", "f =~ x1 + x2 + x3\\ny ~ f",
             n=200, reps=100000, test="y~f", seed=1, n_jobs=3, progress=False)
""",
    "bootstrap": """
import semnet
fit = semnet.sem("x8 ~ a*x7\\nx9 ~ b*x8 + x7\\nind := a*b", semnet.datasets.holzinger_swineford())
print("started", flush=True)
semnet.bootstrap(fit, n=200000, seed=1, n_jobs=3, ci="percentile", progress=False)
""",
}


def _children(pid: int) -> set[int]:
    """Live (not zombie) processes whose parent is ``pid``."""
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            state, ppid = stat.rsplit(")", 1)[1].split()[:2]
            if int(ppid) == pid and state != "Z":
                out.add(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("workflow", list(SCRIPTS))
def test_ctrl_c_stops_a_parallel_run_and_its_workers(tmp_path, workflow):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    workers: set[int] = set()
    with open(tmp_path / "stderr", "w+") as err:
        proc = subprocess.Popen([sys.executable, "-c", SCRIPTS[workflow]], stdout=subprocess.PIPE,
                                stderr=err, text=True, env=env)
        try:
            assert proc.stdout.readline().strip() == "started"
            deadline = time.monotonic() + START_WITHIN
            while len(workers) < 2 and time.monotonic() < deadline:
                workers |= _children(proc.pid)
                time.sleep(0.05)
            assert len(workers) >= 2, "the run did not start its workers"
            time.sleep(0.5)  # the workers are busy with their first chunks
            workers |= _children(proc.pid)
            proc.send_signal(signal.SIGINT)
            start = time.monotonic()
            proc.wait(timeout=EXIT_WITHIN)
            elapsed = time.monotonic() - start
            time.sleep(0.2)
            survivors = [pid for pid in workers if _alive(pid)]
        finally:
            for pid in [proc.pid, *workers]:
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)
            proc.wait()
            proc.stdout.close()
        err.seek(0)
        message = err.read()
    assert "KeyboardInterrupt" in message
    assert proc.returncode != 0
    assert elapsed < EXIT_WITHIN
    assert not survivors
