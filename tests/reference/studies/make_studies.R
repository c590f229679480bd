#!/usr/bin/env Rscript
## ---------------------------------------------------------------------------
## make_studies.R -- lavaan 0.6.14 reference fits of the seed studies' models
##
## Run from the repository root:
##     Rscript tests/reference/studies/make_studies.R [--fits=a,b] [--no-se] [study ...]
##
## (all studies and fits without arguments; lavaan's FIML takes minutes per fit, most of
## it the numerical observed information; --fits= picks among measurement, partial and
## multigroup; --no-se skips the standard errors, se = "none", recorded in the call and
## left out of the comparison)
##
## For every seed study of semnet.studies (models/<study>/, sample_data/<study>.csv)
## it fits, with FIML (missing = "ml"):
##   <study>_measurement   the measurement model, configural across the study's groups
##   <study>_partial       the measurement model with loadings and intercepts equal
##                         except the parameters the study's partial-invariance search
##                         frees (the planted non-invariance)
##   <study>_multigroup    the multi-group structural block (multigroup.lav), loadings
##                         and intercepts equal except those freed parameters
## and writes tests/reference/studies/<name>.json: the call, the estimates (est, se) and
## the fit measures. tests/studies/test_lavaan_fixtures.py refits them with semnet.
## ---------------------------------------------------------------------------

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})
if (packageVersion("lavaan") != "0.6.14") {
  stop("lavaan 0.6.14 is required, found ", packageVersion("lavaan"))
}
if (!file.exists("tests/reference/studies/make_studies.R")) {
  stop("run this script from the repository root")
}
OUT <- "tests/reference/studies"

## study -> group column and the parameters freed by its partial-invariance search
## (the planted non-invariance; the partial scalar search of semnet finds exactly these)
STUDIES <- list(
  gvc_position    = list(group = "gvc_role", freed = c("PA=~pa2", "ct3~1"),
                         freed_structural = c("PA=~pa2", "ct3~1")),
  indirect_export = list(group = "exportmode", freed = c("IEK=~exs", "exs~1"),
                         freed_structural = character(0)),
  ethnic_ties     = list(group = "founder", freed = c("ETH=~et4", "et2~1"),
                         freed_structural = c("ETH=~et4", "et2~1")),
  gvc_upgrading   = list(group = "country", freed = c("RGL=~rg3", "fu2~1"),
                         freed_structural = c("RGL=~rg3", "fu2~1"))
)
FIT_MEASURES <- c("npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr",
                  "logl", "aic", "bic")

model_text <- function(study, file) {
  paste(readLines(file.path("models", study, paste0(file, ".lav"))), collapse = "\n")
}

dump <- function(name, fun, model_file, data_path, fit, opts) {
  if (!isTRUE(lavInspect(fit, "converged"))) stop(name, ": did not converge")
  pe <- parameterEstimates(fit, standardized = FALSE, rsquare = FALSE)
  glabels <- lavInspect(fit, "group.label")
  est <- data.frame(lhs = pe$lhs, op = pe$op, rhs = pe$rhs,
                    group = ifelse(pe$group > 0, glabels[pmax(pe$group, 1)], ""),
                    label = if (is.null(pe$label)) "" else pe$label,
                    est = pe$est, se = if (is.null(pe$se)) NA else pe$se)
  fm <- fitMeasures(fit, FIT_MEASURES)
  x <- list(
    name = name, lavaan_version = as.character(packageVersion("lavaan")),
    r_version = R.version.string,
    call = list(`function` = fun, model = model_file, data = data_path,
                options = lapply(opts, function(o) if (length(o) > 1) I(o) else o)),
    group_labels = I(glabels), nobs = I(lavInspect(fit, "nobs")),
    estimates = est, fit_measures = as.list(unclass(fm))
  )
  write_json(x, file.path(OUT, paste0(name, ".json")), digits = NA, auto_unbox = TRUE,
             pretty = TRUE, na = "null", dataframe = "columns")
  cat(sprintf("  %-28s chisq = %10.4f  df = %4d  npar = %3d\n", name, fm[["chisq"]],
              as.integer(fm[["df"]]), as.integer(fm[["npar"]])))
}

fit_one <- function(name, fun, study, model, data, data_path, opts) {
  fit <- do.call(fun, c(list(model = model_text(study, model), data = data), opts))
  dump(name, fun, file.path("models", study, paste0(model, ".lav")), data_path, fit, opts)
}

ARGS <- commandArgs(trailingOnly = TRUE)
FITS <- c("measurement", "partial", "multigroup")
FITS_ARG <- grep("^--fits=", ARGS, value = TRUE)
if (length(FITS_ARG)) FITS <- strsplit(sub("^--fits=", "", FITS_ARG), ",")[[1]]
NO_SE <- "--no-se" %in% ARGS
WANTED <- setdiff(ARGS, c(FITS_ARG, "--no-se"))
if (!length(WANTED)) WANTED <- names(STUDIES)
for (study in WANTED) {
  s <- STUDIES[[study]]
  data_path <- file.path("sample_data", paste0(study, ".csv"))
  data <- read.csv(data_path)
  base <- list(group = s$group, missing = "ml")
  if (NO_SE) base$se <- "none"
  if ("measurement" %in% FITS) {
    fit_one(paste0(study, "_measurement"), "cfa", study, "measurement", data, data_path,
            base)
  }
  if ("partial" %in% FITS) {
    fit_one(paste0(study, "_partial"), "cfa", study, "measurement", data, data_path,
            c(base, list(group.equal = c("loadings", "intercepts"),
                         group.partial = s$freed)))
  }
  mg <- c(base, list(group.equal = c("loadings", "intercepts"), fixed.x = FALSE))
  if (length(s$freed_structural)) mg$group.partial <- s$freed_structural
  if ("multigroup" %in% FITS) {
    fit_one(paste0(study, "_multigroup"), "sem", study, "multigroup", data, data_path, mg)
  }
}
