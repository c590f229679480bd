"""Timing lavaan in one persistent R session, turn by turn.

:class:`LavaanSession` starts ``Rscript`` once, with lavaan loaded, and keeps it waiting
for commands on its standard input, so the benchmark can alternate between lavaan and
the Python tools many times per task (R's start-up and package loading are never
timed).  Two commands, one answer line each:

- ``PREP k warmup``: build task ``k``'s fit function and run it ``warmup`` times
  (at least once); answers ``CHISQ k value`` (the check value of the first run);
- ``TIME k min_runs budget_ms max_runs clock``: collect garbage (untimed, as the Python
  side does before its turns), then time runs of task ``k`` until there are ``min_runs``
  of them and ``budget_ms`` of wall time have passed, or ``max_runs``; each run by
  ``Sys.time()`` (wall time, microsecond resolution) or, with ``clock`` ``cpu``, by the
  R process's CPU time (``proc.time()``: user + system); answers ``TIMES k ms,ms,...``.

A command that fails in R answers ``ERROR k message``; :class:`LavaanError` carries it.
"""

from __future__ import annotations

import queue
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import IO

from benchmarks.tasks import Task

R_SCRIPT = r"""
ok <- suppressPackageStartupMessages(requireNamespace("lavaan", quietly = TRUE))
if (!ok) { cat("NOLAVAAN\n"); quit(status = 0) }
suppressPackageStartupMessages(library(lavaan))
cat(sprintf("LAVAAN\t%s\n", as.character(packageVersion("lavaan"))))
flush(stdout())
dir <- commandArgs(trailingOnly = TRUE)[1]
tasks <- read.delim(file.path(dir, "tasks.tsv"), colClasses = "character", na.strings = NULL)
make_run <- function(k) {
  model <- paste(readLines(file.path(dir, tasks$model[k])), collapse = "\n")
  d <- read.csv(file.path(dir, tasks$data[k]))
  fun <- tasks$fun[k]
  grp <- if (nzchar(tasks$group[k])) tasks$group[k] else NULL
  geq <- if (nzchar(tasks$group_equal[k])) strsplit(tasks$group_equal[k], ",")[[1]] else ""
  mis <- if (nzchar(tasks$missing[k])) tasks$missing[k] else "listwise"
  est <- if (nzchar(tasks$estimator[k])) tasks$estimator[k] else "default"
  kind <- tasks$run[k]
  nboot <- as.integer(tasks$nboot[k])
  levels <- if (nzchar(tasks$levels[k])) strsplit(tasks$levels[k], "|", fixed = TRUE)[[1]] else ""
  ord <- if (nzchar(tasks$ordered[k])) strsplit(tasks$ordered[k], ",")[[1]] else NULL
  one <- function(equal, ...) {
    if (fun == "cfa") {
      cfa(model, data = d, group = grp, group.equal = equal, missing = mis, estimator = est,
          ordered = ord, ...)
    } else {
      sem(model, data = d, group = grp, group.equal = equal, missing = mis, estimator = est,
          ordered = ord, ...)
    }
  }
  function() {
    if (kind == "alignment") return(align(model, d, grp))
    if (kind == "polychoric") {
      r <- lavCor(d, ordered = names(d))
      return(sum(r[lower.tri(r)]))
    }
    if (kind == "ladder") {
      fits <- lapply(levels, function(l) {
        equal <- if (nzchar(l)) strsplit(l, ",", fixed = TRUE)[[1]] else ""
        f <- one(equal)
        pe <- parameterEstimates(f)
        fm <- fitMeasures(f)
        f
      })
      lrt <- do.call(lavTestLRT, unname(fits))
      return(sum(sapply(fits, function(f) fitMeasures(f, "chisq.scaled"))))
    }
    if (kind == "bootstrap") {
      fit <- one(geq, se = "bootstrap", bootstrap = nboot)
      pe <- parameterEstimates(fit, boot.ci.type = "perc")
      return(unname(fitMeasures(fit, "chisq")))
    }
    fit <- one(geq)
    pe <- parameterEstimates(fit)
    unname(fitMeasures(fit, "chisq"))
  }
}
# lavaan's configural model group by group (its groups share no parameter: the joint
# fit's estimates and covariance matrix), then sirt's alignment of each factor with
# Mplus's settings (FIXED: meth = 3) and delta-method standard errors; the sum of the
# absolute aligned means
align <- function(model, d, grp) {
  if (!requireNamespace("sirt", quietly = TRUE)) {
    stop("the R package sirt is not installed (the alignment task needs it)")
  }
  groups <- unique(as.character(d[[grp]]))
  fits <- lapply(groups, function(g) {
    cfa(model, data = d[d[[grp]] == g, setdiff(names(d), grp)], std.lv = TRUE,
        meanstructure = TRUE)
  })
  n <- sapply(fits, lavInspect, "nobs")
  tables <- lapply(fits, parTable)
  vcovs <- lapply(fits, lavInspect, "vcov")
  load <- tables[[1]][tables[[1]]$op == "=~", ]
  total <- 0
  for (f in unique(load$lhs)) {
    items <- load$rhs[load$lhs == f]
    G <- length(groups); I <- length(items)
    lambda <- matrix(NA, G, I); nu <- lambda
    vc <- matrix(0, 2 * G * I, 2 * G * I)
    for (g in seq_len(G)) {
      pt <- tables[[g]]
      rl <- match(items, ifelse(pt$op == "=~" & pt$lhs == f, pt$rhs, NA))
      rn <- match(items, ifelse(pt$op == "~1", pt$lhs, NA))
      lambda[g, ] <- pt$est[rl]; nu[g, ] <- pt$est[rn]
      pos <- (g - 1) * 2 * I + seq_len(2 * I)
      idx <- c(pt$free[rl], pt$free[rn])
      vc[pos, pos] <- vcovs[[g]][idx, idx]
    }
    al <- sirt::invariance.alignment(lambda = lambda, nu = nu, wgt = matrix(sqrt(n), G, I),
                                     align.scale = c(1, 1), align.pow = c(0.5, 0.5),
                                     eps = 0.01, meth = 3, vcov = vc)
    total <- total + sum(abs(al$pars$alpha0))
  }
  total
}
runs <- list()
con <- file("stdin")
open(con)
repeat {
  line <- readLines(con, n = 1)
  if (length(line) == 0 || line == "QUIT") break
  cmd <- strsplit(line, "\t", fixed = TRUE)[[1]]
  k <- as.integer(cmd[2])
  answer <- tryCatch({
    if (cmd[1] == "PREP") {
      run <- make_run(k + 1L)
      runs[[k + 1L]] <- run
      chisq <- suppressWarnings(run())
      n_warmup <- as.integer(cmd[3])
      if (n_warmup > 1) for (i in 2:n_warmup) suppressWarnings(run())
      sprintf("CHISQ\t%d\t%.10f", k, chisq)
    } else if (cmd[1] == "TIME") {
      run <- runs[[k + 1L]]
      min_runs <- as.integer(cmd[3]); budget <- as.numeric(cmd[4]) / 1000
      max_runs <- as.integer(cmd[5])
      # seconds of wall time, or of this R process's CPU time (user + system)
      clock <- if (identical(cmd[6], "cpu")) function() sum(proc.time()[1:2]) else
        function() as.numeric(Sys.time())
      times <- numeric(0)
      invisible(gc())
      start <- Sys.time()
      repeat {
        t0 <- clock()
        suppressWarnings(run())
        times <- c(times, (clock() - t0) * 1000)
        if (length(times) >= max_runs) break
        if (length(times) >= min_runs &&
            as.numeric(difftime(Sys.time(), start, units = "secs")) >= budget) break
      }
      sprintf("TIMES\t%d\t%s", k, paste(sprintf("%.6f", times), collapse = ","))
    } else {
      sprintf("ERROR\t%d\tunknown command %s", k, cmd[1])
    }
  }, error = function(e) sprintf("ERROR\t%d\t%s", k, gsub("[\t\n]", " ", conditionMessage(e))))
  cat(answer, "\n", sep = "")
  flush(stdout())
}
"""


class LavaanError(RuntimeError):
    """lavaan could not be timed (no R, no lavaan, an R error or a timeout)."""


def rscript() -> str | None:
    return shutil.which("Rscript")


def _task_files(tasks: list[Task], d: Path) -> None:
    """Write the R script, each task's model and data, and the task table into ``d``."""
    (d / "bench.R").write_text(R_SCRIPT, encoding="utf-8")
    rows = ["model\tdata\tfun\tgroup\tgroup_equal\tmissing\testimator\trun\tnboot\tlevels"
            "\tordered"]
    for k, task in enumerate(tasks):
        (d / f"model{k}.lav").write_text(task.model, encoding="utf-8")
        task.data().to_csv(d / f"data{k}.csv", index=False)
        group = task.options.get("group") or ""
        equal = ",".join(task.options.get("group_equal", ()))
        missing = "ml" if task.options.get("missing") == "fiml" else ""
        estimator = task.options.get("estimator", "")
        levels = "|".join(",".join(task.group_equal(name)) for name in task.levels)
        ordered = ",".join(task.options.get("ordered", ()))
        rows.append(f"model{k}.lav\tdata{k}.csv\t{task.kind}\t{group}\t{equal}\t{missing}"
                    f"\t{estimator}\t{task.run}\t{task.nboot}\t{levels}\t{ordered}")
    (d / "tasks.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    """Copy ``stream``'s lines into ``lines``, then ``None`` at its end."""
    for line in stream:
        lines.put(line.rstrip("\n"))
    lines.put(None)


class LavaanSession:
    """One R session with lavaan, waiting for ``PREP`` and ``TIME`` commands.

    Use as a context manager; :attr:`version` is lavaan's version.  Every method raises
    :class:`LavaanError` when R is missing, lavaan is not installed, R reports an error
    or an answer takes longer than ``timeout`` seconds.

    Examples
    --------
    >>> from benchmarks.tasks import TASKS
    >>> with LavaanSession(TASKS[:1]) as r:  # doctest: +SKIP
    ...     chisq = r.prepare(0, warmup=1)
    ...     times_ms = r.time(0, min_runs=3, budget_ms=0.0, max_runs=3)
    """

    def __init__(self, tasks: list[Task], *, timeout: float = 900.0) -> None:
        exe = rscript()
        if exe is None:
            raise LavaanError("Rscript not found")
        self.timeout = timeout
        self._dir = tempfile.TemporaryDirectory(prefix="semnet-bench-")
        d = Path(self._dir.name)
        _task_files(tasks, d)
        self._stderr = open(d / "stderr.txt", "w+", encoding="utf-8")  # noqa: SIM115
        self._proc = subprocess.Popen(
            [exe, "--vanilla", str(d / "bench.R"), str(d)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
            text=True, bufsize=1,
        )  # fmt: skip
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=_pump, args=(self._proc.stdout, self._lines),
                         daemon=True).start()
        first = self._answer()
        if first == "NOLAVAAN":
            self.close()
            raise LavaanError("the R package lavaan is not installed")
        if not first.startswith("LAVAAN\t"):
            self.close()
            raise LavaanError(f"unexpected answer from R: {first!r}")
        self.version = first.split("\t")[1]

    def __enter__(self) -> LavaanSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _answer(self) -> str:
        try:
            line = self._lines.get(timeout=self.timeout)
        except queue.Empty:
            self.close()
            raise LavaanError(f"R gave no answer within {self.timeout:.0f} s") from None
        if line is None:
            self._stderr.seek(0)
            tail = " | ".join(self._stderr.read().strip().splitlines()[-3:])
            self.close()
            raise LavaanError(f"Rscript stopped: {tail or 'no message'}")
        return line

    @property
    def alive(self) -> bool:
        """Whether the R session still takes commands (an error in one task leaves it
        running; a crash or a timeout ends it)."""
        return self._proc.poll() is None

    def _ask(self, command: str) -> list[str]:
        if not self.alive:
            raise LavaanError("the R session has ended")
        assert self._proc.stdin is not None
        self._proc.stdin.write(command + "\n")
        self._proc.stdin.flush()
        parts = self._answer().split("\t")
        if parts[0] == "ERROR":
            raise LavaanError("lavaan failed: " + parts[-1])
        return parts

    def prepare(self, k: int, warmup: int = 1) -> float:
        """Build task ``k``, run it ``warmup`` times (at least once); its check value."""
        return float(self._ask(f"PREP\t{k}\t{max(1, warmup)}")[2])

    def time(self, k: int, *, min_runs: int, budget_ms: float, max_runs: int,
             cpu: bool = False) -> tuple[float, ...]:
        """One turn of task ``k``: milliseconds of each run, of wall time or, with
        ``cpu``, of R's CPU time (see the module notes)."""
        clock = "cpu" if cpu else "wall"
        parts = self._ask(f"TIME\t{k}\t{min_runs}\t{budget_ms:.3f}\t{max_runs}\t{clock}")
        return tuple(float(x) for x in parts[2].split(","))

    def close(self) -> None:
        """End the R session and remove its files (idempotent)."""
        if self.alive:
            try:
                assert self._proc.stdin is not None
                self._proc.stdin.write("QUIT\n")
                self._proc.stdin.close()
                self._proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self._proc.kill()
                self._proc.wait()
        self._stderr.close()
        self._dir.cleanup()
