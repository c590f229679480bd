#!/usr/bin/env Rscript
## ---------------------------------------------------------------------------
## make_fuzz2.R -- lavaan 0.6.14's fits of the seeded random models of
## tests/reference/fuzz2/generate.py (tests/api/test_fuzz2_lavaan.py).
##
## Run from the repository root, after the generator:
##     PYTHONPATH=$PWD python tests/reference/fuzz2/generate.py
##     Rscript tests/reference/fuzz2/make_fuzz2.R
##
## Reads tests/reference/fuzz2/models.json (name, model, data path, function, lavaan
## options, whether to report modification indices) and writes
## tests/reference/fuzz2/lavaan.json: per model lavaan's warnings, `skip` (why the model
## is not compared: lavaan's error, not converged, a warning that the model is not
## identified, or a Jacobian of the implied moments of lower rank than the free
## parameters; otherwise null: a warning that the vcov is not positive definite where the
## Jacobian has full rank is recorded and the fit compared), nobs, the tests (statistic, df, scaling factor, shift),
## every fitMeasures(), parameterEstimates(standardized = TRUE) (lhs, op, rhs, group
## label or "", label, est, se, std.lv, std.all; `==`, `<`, `>` rows left out), the
## standard errors of standardizedSolution() (std.all), lavInspect(fit, "r2") and, where
## asked, modindices() (mi, epc, sepc.all). Numbers are rounded to 10 significant digits.
## ---------------------------------------------------------------------------

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})
source("tests/reference/fuzz/common.R")
if (!file.exists("tests/reference/fuzz2/models.json")) stop("run from the repository root")
if (packageVersion("lavaan") < "0.6.14") stop("lavaan >= 0.6.14 needed")

DIR <- "tests/reference/fuzz2"
INPUT <- fromJSON(file.path(DIR, "models.json"), simplifyVector = FALSE)
NOT_IDENTIFIED <- "not identified|could not compute standard errors|could not invert"
RANK_TOL <- 1e-8
CONSTRAINT_OPS <- c("==", "<", ">")

num <- function(x) if (is.numeric(x)) signif(x, 10) else x

options_of <- function(opts) lapply(opts, function(v) if (is.list(v)) unlist(v) else v)

group_labels <- function(fit, g, n) {
  labels <- lavInspect(fit, "group.label")
  if (is.null(g) || length(labels) == 0) return(rep("", n))
  ifelse(!is.na(g) & g > 0, labels[pmax(g, 1)], "")
}

test_of <- function(fit) {
  lapply(lavInspect(fit, "test"), function(t) {
    list(stat = num(t$stat), df = t$df,
         scaling.factor = if (is.null(t$scaling.factor)) NULL else num(t$scaling.factor),
         shift.parameter = if (is.null(t$shift.parameter)) NULL else num(t$shift.parameter))
  })
}

estimates_of <- function(fit) {
  pe <- parameterEstimates(fit, standardized = TRUE, rsquare = FALSE)
  ss <- standardizedSolution(fit, type = "std.all")
  key <- function(d) paste(d$lhs, d$op, d$rhs, if (is.null(d$group)) 0 else d$group)
  std_se <- ss$se[match(key(pe), key(ss))]
  keep <- !(pe$op %in% CONSTRAINT_OPS)
  pe <- pe[keep, ]
  list(lhs = pe$lhs, op = pe$op, rhs = pe$rhs, group = group_labels(fit, pe$group, nrow(pe)),
       label = if (is.null(pe$label)) rep("", nrow(pe)) else pe$label, est = num(pe$est), se = num(pe$se), std.lv = num(pe$std.lv),
       std.all = num(pe$std.all), std.all.se = num(std_se[keep]))
}

r2_of <- function(fit) {
  r2 <- lavInspect(fit, "r2")
  if (!is.list(r2)) r2 <- list(r2)
  labels <- lavInspect(fit, "group.label")
  out <- list(group = character(0), name = character(0), r2 = numeric(0))
  for (g in seq_along(r2)) {
    out$group <- c(out$group, rep(if (length(labels)) labels[g] else "", length(r2[[g]])))
    out$name <- c(out$name, names(r2[[g]]))
    out$r2 <- c(out$r2, num(unname(r2[[g]])))
  }
  out
}

modindices_of <- function(fit) {
  mi <- modindices(fit, sort. = FALSE)
  list(lhs = mi$lhs, op = mi$op, rhs = mi$rhs, group = group_labels(fit, mi$group, nrow(mi)),
       mi = num(mi$mi), epc = num(mi$epc), sepc.all = num(mi$sepc.all))
}

## lavaan's sem() overrides the user's int.ov.free and int.lv.free (to TRUE and FALSE):
## a sem() model with either is fitted by lavaan() with sem()'s other defaults, the
## model semnet.sem() fits
SEM_DEFAULTS <- list(model.type = "sem", auto.fix.first = TRUE, auto.fix.single = TRUE,
                     auto.var = TRUE, auto.cov.lv.x = TRUE, auto.cov.y = TRUE,
                     auto.th = TRUE, auto.delta = TRUE, auto.efa = TRUE,
                     int.ov.free = TRUE, int.lv.free = FALSE)

fit_model <- function(m) {
  opts <- options_of(m$options)
  fun <- m$`function`
  if (fun == "sem" && any(c("int.ov.free", "int.lv.free") %in% names(opts))) {
    fun <- "lavaan"
    opts <- c(opts, SEM_DEFAULTS[setdiff(names(SEM_DEFAULTS), names(opts))])
  }
  do.call(fun, c(list(model = m$model, data = read_data(m$data)), opts))
}

summarise <- function(m, msgs) {
  fit <- fit_model(m)
  if (!lavInspect(fit, "converged")) return(list(skip = "lavaan did not converge"))
  gap <- jacobian_gap(fit)
  bad <- grep(NOT_IDENTIFIED, msgs(), value = TRUE)
  ## a vcov that is not positive definite where the Jacobian has full rank: a cluster-
  ## robust meat of lower rank than the parameters (fewer clusters), compared all the same
  if (gap >= RANK_TOL) bad <- grep("vcov", bad, value = TRUE, invert = TRUE)
  if (length(bad)) return(list(skip = paste("lavaan:", bad[1])))
  if (gap < RANK_TOL) return(list(skip = sprintf(paste(
    "not identified (lavaan did not warn): the Jacobian of the implied moments has",
    "rank below the number of free parameters (singular values %.1e relative)"), gap)))
  fm <- fitMeasures(fit)
  out <- list(skip = NULL, nobs = I(lavInspect(fit, "nobs")), tests = test_of(fit),
              fit_measures = as.list(num(unclass(fm))), estimates = estimates_of(fit),
              r2 = r2_of(fit))
  if (isTRUE(m$modindices)) out$modindices <- modindices_of(fit)
  out
}

results <- lapply(INPUT$models, fit_one, summarise = summarise)
write_results(results, DIR, list(seed = INPUT$seed))
