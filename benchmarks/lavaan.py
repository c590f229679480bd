"""Timing lavaan through ``Rscript``: one R session times every task.

R's start-up and package loading are excluded: the R script warms each task up, then
times ``repeat`` fits in a loop with ``Sys.time()`` (microsecond resolution) and prints
the median, the chi-square and every run.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.tasks import Task, Timing

R_SCRIPT = r"""
ok <- suppressPackageStartupMessages(requireNamespace("lavaan", quietly = TRUE))
if (!ok) { cat("NOLAVAAN\n"); quit(status = 0) }
suppressPackageStartupMessages(library(lavaan))
cat(sprintf("LAVAAN\t%s\n", as.character(packageVersion("lavaan"))))
args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]; n_repeat <- as.integer(args[2]); n_warmup <- as.integer(args[3])
tasks <- read.delim(file.path(dir, "tasks.tsv"), colClasses = "character", na.strings = NULL)
for (k in seq_len(nrow(tasks))) {
  model <- paste(readLines(file.path(dir, tasks$model[k])), collapse = "\n")
  d <- read.csv(file.path(dir, tasks$data[k]))
  fun <- tasks$fun[k]
  grp <- if (nzchar(tasks$group[k])) tasks$group[k] else NULL
  geq <- if (nzchar(tasks$group_equal[k])) strsplit(tasks$group_equal[k], ",")[[1]] else ""
  mis <- if (nzchar(tasks$missing[k])) tasks$missing[k] else "listwise"
  est <- if (nzchar(tasks$estimator[k])) tasks$estimator[k] else "ML"
  kind <- tasks$run[k]
  nboot <- as.integer(tasks$nboot[k])
  levels <- if (nzchar(tasks$levels[k])) strsplit(tasks$levels[k], "|", fixed = TRUE)[[1]] else ""
  one <- function(equal, ...) {
    if (fun == "cfa") {
      cfa(model, data = d, group = grp, group.equal = equal, missing = mis, estimator = est, ...)
    } else {
      sem(model, data = d, group = grp, group.equal = equal, missing = mis, estimator = est, ...)
    }
  }
  run <- function() {
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
  cap <- as.integer(tasks$max_repeat[k])
  chisq <- suppressWarnings(run())
  if (n_warmup > 1 && cap == 0) for (i in 2:n_warmup) suppressWarnings(run())
  reps <- if (cap > 0) min(n_repeat, cap) else n_repeat
  times <- numeric(reps)
  for (i in seq_len(reps)) {
    t0 <- Sys.time()
    suppressWarnings(run())
    times[i] <- as.numeric(difftime(Sys.time(), t0, units = "secs")) * 1000
  }
  cat(sprintf("RESULT\t%d\t%.6f\t%.10f\t%s\n", k - 1L, median(times), chisq,
              paste(sprintf("%.6f", times), collapse = ",")))
}
"""


@dataclass(frozen=True)
class LavaanRun:
    """What the R session reported: lavaan's version and one timing per task index."""

    version: str | None
    timings: dict[int, Timing]
    reason: str = ""


def rscript() -> str | None:
    return shutil.which("Rscript")


def time_lavaan(tasks: list[Task], *, repeat: int = 20, warmup: int = 1,
                timeout: float = 600.0) -> LavaanRun:
    """Time ``tasks`` in lavaan; ``version`` is None (with a ``reason``) when unavailable."""
    exe = rscript()
    if exe is None:
        return LavaanRun(None, {}, "Rscript not found")
    with tempfile.TemporaryDirectory(prefix="semnet-bench-") as tmp:
        d = Path(tmp)
        (d / "bench.R").write_text(R_SCRIPT, encoding="utf-8")
        rows = ["model\tdata\tfun\tgroup\tgroup_equal\tmissing\testimator\trun\tnboot"
                "\tlevels\tmax_repeat"]
        for k, task in enumerate(tasks):
            (d / f"model{k}.lav").write_text(task.model, encoding="utf-8")
            task.data().to_csv(d / f"data{k}.csv", index=False)
            group = task.options.get("group") or ""
            equal = ",".join(task.options.get("group_equal", ()))
            missing = "ml" if task.options.get("missing") == "fiml" else ""
            estimator = task.options.get("estimator", "")
            levels = "|".join(",".join(task.group_equal(name)) for name in task.levels)
            rows.append(
                f"model{k}.lav\tdata{k}.csv\t{task.kind}\t{group}\t{equal}\t{missing}"
                f"\t{estimator}\t{task.run}\t{task.nboot}\t{levels}\t{task.max_repeat or 0}"
            )
        (d / "tasks.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        try:
            proc = subprocess.run(
                [exe, "--vanilla", str(d / "bench.R"), str(d), str(repeat), str(warmup)],
                capture_output=True, text=True, timeout=timeout, check=False,
            )
        except subprocess.TimeoutExpired:
            return LavaanRun(None, {}, f"Rscript timed out after {timeout:.0f} s")
    if "NOLAVAAN" in proc.stdout:
        return LavaanRun(None, {}, "the R package lavaan is not installed")
    version = None
    timings: dict[int, Timing] = {}
    for line in proc.stdout.splitlines():
        parts = line.split("\t")
        if parts[0] == "LAVAAN":
            version = parts[1]
        elif parts[0] == "RESULT":
            runs = tuple(float(x) for x in parts[4].split(","))
            timings[int(parts[1])] = Timing(statistics.median(runs), runs, float(parts[3]))
    if proc.returncode != 0 or version is None:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return LavaanRun(version, timings, "Rscript failed: " + " | ".join(tail))
    return LavaanRun(version, timings)
