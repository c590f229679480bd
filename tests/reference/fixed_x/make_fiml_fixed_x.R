#!/usr/bin/env Rscript
## ---------------------------------------------------------------------------
## make_fiml_fixed_x.R -- lavaan 0.6.14 fixtures for full-information ML with
## exogenous covariates under fixed.x = TRUE (issue 17; tests/api/test_fiml_fixed_x.py).
##
## Run from the repository root:
##     Rscript tests/reference/fixed_x/make_fiml_fixed_x.R
##
## Writes tests/reference/fixed_x/hs_missing_x.csv (Holzinger-Swineford with about 8%
## of x1..x9 and of the covariate ageyr set to NA completely at random) and one JSON
## per fit, with make_reference.R's dump_fit() (its helper functions are read from it):
##   fiml_x_ml, fiml_x_mlr         missing = "ml": lavaan deletes the cases missing on a
##                                 covariate (with a warning) and conditions on the rest
##   fiml_x_mg_ml, fiml_x_mg_mlr   the same by school, loadings (and intercepts) equal
##   fiml_x_mg_mlr_metric          MLR, loadings equal, with lavTestLRT against the
##                                 configural fit (`lrt`, `lrt_2010`)
##   fiml_x_w, fiml_x_c_mlr        with sampling weights (w), cluster-robust (psu)
##   fimlx_mlr, fimlx_mg_ml        missing = "ml.x": those cases are kept
##   ni_controls_mlr               the bundled survey's structural model with the
##                                 controls doi ~ firm_size + firm_age, by country,
##                                 loadings and intercepts equal, MLR with FIML
## Each JSON also records lavaan's warnings (`warnings`).
## ---------------------------------------------------------------------------

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})
if (!file.exists("tests/reference/make_reference.R")) stop("run from the repository root")
if (packageVersion("lavaan") < "0.6.14") stop("lavaan >= 0.6.14 needed")

## the helper functions of make_reference.R (its top-level `name <- function` lines)
for (e in parse("tests/reference/make_reference.R")) {
  if (is.call(e) && identical(e[[1]], as.name("<-")) && is.call(e[[3]]) &&
      identical(e[[3]][[1]], as.name("function"))) eval(e, globalenv())
}
VERSIONS <- list(
  lavaan_version   = as.character(packageVersion("lavaan")),
  semtools_version = as.character(packageVersion("semTools")),
  r_version        = R.version.string
)
ARRAY_OPTS <- c("group.equal", "group.partial")
REF_DIR <- "tests/reference/fixed_x"

## fit, keeping lavaan's warnings, and dump
fixture <- function(name, fun, model, data, data_path, opts,
                    extras = function(fit) list()) {
  msgs <- character(0)
  fit <- withCallingHandlers(
    do.call(fun, c(list(model = model, data = data), opts)),
    warning = function(w) {
      msgs <<- c(msgs, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
  dump_fit(name, fit, call_info(fun, model, data_path, record_opts(opts)),
           c(list(warnings = arr(msgs)), extras(fit)))
  invisible(fit)
}

HS <- read.csv("semnet/datasets/HolzingerSwineford1939.csv")
set.seed(20261207)
for (v in c(paste0("x", 1:9), "ageyr")) HS[[v]][runif(nrow(HS)) < 0.08] <- NA
## sampling weights and clusters as tests/reference/survey/make_survey.R's
HS$w <- 0.5 + (HS$id %% 5) * 0.5
HS$psu <- ifelse(HS$school == "Pasteur", 0L, 1000L) + HS$id %/% 6L
DATA <- file.path(REF_DIR, "hs_missing_x.csv")
write.csv(HS[, c("id", "school", "ageyr", "sex", paste0("x", 1:9), "w", "psu")], DATA,
          row.names = FALSE, na = "")
HS <- read.csv(DATA)

EXO <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nvisual ~ ageyr + sex\ntextual ~ ageyr"

fixture("fiml_x_ml", "sem", EXO, HS, DATA, list(missing = "ml"))
fixture("fiml_x_mlr", "sem", EXO, HS, DATA, list(missing = "ml", estimator = "MLR"))
fixture("fiml_x_mg_ml", "sem", EXO, HS, DATA,
        list(missing = "ml", group = "school", group.equal = "loadings"))
fixture("fiml_x_mg_mlr", "sem", EXO, HS, DATA,
        list(missing = "ml", estimator = "MLR", group = "school",
             group.equal = c("loadings", "intercepts")))
## MLR metric against configural: lavTestLRT's Satorra-Bentler 2001 and 2010 (compare())
conf <- suppressWarnings(sem(EXO, data = HS, missing = "ml", estimator = "MLR",
                             group = "school"))
fixture("fiml_x_mg_mlr_metric", "sem", EXO, HS, DATA,
        list(missing = "ml", estimator = "MLR", group = "school", group.equal = "loadings"),
        extras = function(fit) list(
          lrt = lrt_extra(list(conf, fit), c("configural", "metric"))$lrt,
          lrt_2010 = lrt_extra(list(conf, fit), c("configural", "metric"),
                               method = "satorra.bentler.2010")$lrt))
## with sampling weights (lavaan: MLR) and cluster-robust MLR
fixture("fiml_x_w", "sem", EXO, HS, DATA, list(missing = "ml", sampling.weights = "w"))
fixture("fiml_x_c_mlr", "sem", EXO, HS, DATA,
        list(missing = "ml", estimator = "MLR", cluster = "psu"))
fixture("fimlx_mlr", "sem", EXO, HS, DATA, list(missing = "ml.x", estimator = "MLR"))
fixture("fimlx_mg_ml", "sem", EXO, HS, DATA,
        list(missing = "ml.x", group = "school", group.equal = "loadings"))

## the bundled survey: the study's structural model with the two controls
NI_PATH <- "sample_data/network_involvement.csv"
NI <- read.csv(NI_PATH)
STRUCT <- paste(c(readLines("models/structural.lav"), "doi ~ firm_size + firm_age"),
                collapse = "\n")
fixture("ni_controls_mlr", "sem", STRUCT, NI, NI_PATH,
        list(missing = "ml", estimator = "MLR", group = "country",
             group.equal = c("loadings", "intercepts")))
