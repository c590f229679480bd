#!/usr/bin/env Rscript
## ---------------------------------------------------------------------------
## make_fuzz.R -- lavaan 0.6.14's fits of the seeded random models of
## tests/reference/fuzz/models.py (tests/api/test_fuzz_lavaan.py).
##
## Run from the repository root, after the generator:
##     PYTHONPATH=$PWD python tests/reference/fuzz/models.py
##     Rscript tests/reference/fuzz/make_fuzz.R
##
## Reads tests/reference/fuzz/models.json (name, model, data path, function, lavaan
## options) and writes tests/reference/fuzz/lavaan.json: per model lavaan's warnings,
## `skip` (why the model is not compared: not converged, a warning that the model is
## not identified, or a Jacobian of the implied moments of lower rank than the free
## parameters, which lavaan's own check can miss; otherwise null), converged, nobs, the standard and robust test
## (statistic, df, scaling factor, shift), selected fitMeasures(), and
## parameterEstimates(standardized = TRUE) as columns (lhs, op, rhs, group label or "",
## label, est, se, std.all; `==` rows left out).
## ---------------------------------------------------------------------------

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})
source("tests/reference/fuzz/common.R")
if (!file.exists("tests/reference/fuzz/models.json")) stop("run from the repository root")
if (packageVersion("lavaan") < "0.6.14") stop("lavaan >= 0.6.14 needed")

DIR <- "tests/reference/fuzz"
INPUT <- fromJSON(file.path(DIR, "models.json"), simplifyVector = FALSE)

MEASURES <- c("npar", "chisq", "df", "pvalue", "chisq.scaled", "df.scaled",
              "chisq.scaling.factor", "baseline.chisq", "baseline.df", "cfi", "tli",
              "rmsea", "srmr", "logl", "unrestricted.logl", "aic", "bic", "cfi.scaled",
              "tli.scaled", "rmsea.scaled", "cfi.robust", "tli.robust", "rmsea.robust")
## warnings after which lavaan's numbers are not a reference
NOT_IDENTIFIED <- "not identified|could not compute standard errors|could not invert"

## smallest / largest singular value of the Jacobian of the implied moments (all groups,
## on the parameters left free by the equality constraints) below which a model is not
## identified (the identified models here have 1e-3 or more, the others about 1e-17)
RANK_TOL <- 1e-8

options_of <- function(opts) {
  lapply(opts, function(v) if (is.list(v)) unlist(v) else v)
}

test_of <- function(fit) {
  tests <- lavInspect(fit, "test")
  lapply(tests, function(t) {
    list(stat = t$stat, df = t$df,
         scaling.factor = if (is.null(t$scaling.factor)) NULL else t$scaling.factor,
         shift.parameter = if (is.null(t$shift.parameter)) NULL else t$shift.parameter)
  })
}

estimates_of <- function(fit) {
  pe <- parameterEstimates(fit, standardized = TRUE, rsquare = FALSE)
  pe <- pe[pe$op != "==", ]
  labels <- lavInspect(fit, "group.label")
  group <- if (is.null(pe$group) || length(labels) == 0) rep("", nrow(pe)) else
    ifelse(pe$group > 0, labels[pmax(pe$group, 1)], "")
  list(lhs = pe$lhs, op = pe$op, rhs = pe$rhs, group = group, label = pe$label,
       est = pe$est, se = pe$se, std.all = pe$std.all)
}

## the fit and its summaries, or the reason to skip it
summarise <- function(m, msgs) {
  fit <- do.call(m$`function`, c(list(model = m$model, data = read_data(m$data)),
                                  options_of(m$options)))
  if (!lavInspect(fit, "converged")) return(list(skip = "lavaan did not converge"))
  bad <- grep(NOT_IDENTIFIED, msgs(), value = TRUE)
  if (length(bad)) return(list(skip = paste("lavaan:", bad[1])))
  gap <- jacobian_gap(fit)
  if (gap < RANK_TOL) return(list(skip = sprintf(paste(
    "not identified (lavaan did not warn): the Jacobian of the implied moments has",
    "rank below the number of free parameters (singular values %.1e relative)"), gap)))
  fm <- fitMeasures(fit)
  list(skip = NULL, converged = TRUE, nobs = I(lavInspect(fit, "nobs")),
       tests = test_of(fit), fit_measures = as.list(fm[intersect(MEASURES, names(fm))]),
       estimates = estimates_of(fit))
}

results <- lapply(INPUT$models, fit_one, summarise = summarise)
write_results(results, DIR, list(batches = INPUT$batches))
