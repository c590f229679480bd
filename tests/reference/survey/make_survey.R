#!/usr/bin/env Rscript
## ---------------------------------------------------------------------------
## make_survey.R -- lavaan 0.6.14 fixtures for sampling weights, cluster-robust
## inference and growth models (issue 17; tests/api/test_survey.py).
##
## Run from the repository root:
##     Rscript tests/reference/survey/make_survey.R
##
## Writes tests/reference/survey/hs_survey.csv (Holzinger-Swineford with a
## deterministic weight column `w` and a cluster column `psu` nested in schools),
## tests/reference/survey/growth.csv (lavaan's Demo.growth) and one JSON per fit,
## with make_reference.R's dump_fit() (its helper functions are read from it).
## ---------------------------------------------------------------------------

suppressPackageStartupMessages({
  library(lavaan)
  library(semTools)
  library(jsonlite)
})
if (!file.exists("tests/reference/make_reference.R")) stop("run from the repository root")

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
REF_DIR <- "tests/reference/survey"

HS <- read.csv("semnet/datasets/HolzingerSwineford1939.csv")
## weights 0.5 .. 2.5 varying with id; clusters of about 6 consecutive pupils, within school
HS$w <- 0.5 + (HS$id %% 5) * 0.5
HS$psu <- ifelse(HS$school == "Pasteur", 0L, 1000L) + HS$id %/% 6L
HS$pop_psu <- 120L  # the population's number of PSUs per school (SurveyDesign's fpc)
DATA <- file.path(REF_DIR, "hs_survey.csv")
write.csv(HS[, c("id", "school", "ageyr", "sex", paste0("x", 1:9), "w", "psu", "pop_psu")],
          DATA, row.names = FALSE)
HS <- read.csv(DATA)

CFA <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
EXO <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nvisual ~ ageyr + sex\ntextual ~ ageyr"

## sampling weights (lavaan: estimator ML becomes MLR)
run_fixture("w_total", "cfa", CFA, HS, DATA, list(sampling.weights = "w"))
run_fixture("w_exo", "sem", EXO, HS, DATA, list(sampling.weights = "w"))
## multi-group metric fits, with lavTestLRT against the configural fit (compare())
for (norm in c("total", "group", "none")) {
  conf <- cfa(CFA, data = HS, sampling.weights = "w", group = "school",
              sampling.weights.normalization = norm)
  run_fixture(paste0("w_mg_", norm), "cfa", CFA, HS, DATA,
              list(sampling.weights = "w", sampling.weights.normalization = norm,
                   group = "school", group.equal = "loadings"),
              extras = function(fit) lrt_extra(list(conf, fit), c("configural", "metric")))
}
run_fixture("w_none", "cfa", CFA, HS, DATA,
            list(sampling.weights = "w", sampling.weights.normalization = "none"))

## cluster-robust inference (single level)
run_fixture("c_mlr", "cfa", CFA, HS, DATA, list(cluster = "psu", estimator = "MLR"))
run_fixture("c_mlm", "cfa", CFA, HS, DATA, list(cluster = "psu", estimator = "MLM"))
run_fixture("c_w_mlr", "cfa", CFA, HS, DATA,
            list(cluster = "psu", estimator = "MLR", sampling.weights = "w"))
conf <- cfa(CFA, data = HS, cluster = "psu", estimator = "MLR", group = "school")
run_fixture("c_mg_mlr", "cfa", CFA, HS, DATA,
            list(cluster = "psu", estimator = "MLR", group = "school",
                 group.equal = "loadings"),
            extras = function(fit) lrt_extra(list(conf, fit), c("configural", "metric")))
conf <- cfa(CFA, data = HS, cluster = "psu", estimator = "MLM", group = "school")
run_fixture("c_mg_mlm", "cfa", CFA, HS, DATA,
            list(cluster = "psu", estimator = "MLM", group = "school",
                 group.equal = "loadings"),
            extras = function(fit) lrt_extra(list(conf, fit), c("configural", "metric")))
run_fixture("c_exo_mlr", "sem", EXO, HS, DATA, list(cluster = "psu", estimator = "MLR"))

## growth (lavaan's Demo.growth)
GROWTH <- file.path(REF_DIR, "growth.csv")
write.csv(Demo.growth, GROWTH, row.names = FALSE)
GR <- read.csv(GROWTH)
GMODEL <- "i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4\ns =~ 0*t1 + 1*t2 + 2*t3 + 3*t4"
fit <- growth(GMODEL, data = GR)
dump_fit("growth_linear", fit, call_info("growth", GMODEL, GROWTH))
GMODEL2 <- paste0(GMODEL, "\ni ~ x1 + x2\ns ~ x1 + x2")
fit <- growth(GMODEL2, data = GR, estimator = "MLR")
dump_fit("growth_exo_mlr", fit, call_info("growth", GMODEL2, GROWTH,
                                          list(estimator = "MLR")))

## complex survey designs (SurveyDesign): R's survey package estimates the weighted
## means and covariances (svymean, svyvar) and their Taylor-linearised covariance
## matrix; lavaan fits the moments with that matrix as NACOV (Gamma = n * vcov), as
## lavaan.survey (Oberski 2014) does.
suppressPackageStartupMessages(library(survey))
OV <- paste0("x", 1:9)
design_gamma <- function(des, data) {
  n <- nrow(data)
  p <- length(OV)
  f <- as.formula(paste("~", paste(OV, collapse = " + ")))
  sv <- svyvar(f, des)
  sm <- svymean(f, des)
  d <- sweep(as.matrix(data[OV]), 2, coef(sm))
  idx <- which(lower.tri(diag(p), diag = TRUE), arr.ind = TRUE)  # vech order
  xx <- d[, idx[, 1]] * d[, idx[, 2]] * n / (n - 1)
  colnames(xx) <- paste0("c", seq_len(ncol(xx)))
  joint <- svymean(cbind(as.matrix(data[OV]), xx), des)
  G <- n * vcov(joint)
  ## the covariance block is svyvar's own
  keep <- as.vector(lower.tri(diag(p), diag = TRUE))
  stopifnot(isTRUE(all.equal(unname(G[-(1:p), -(1:p)]),
                             unname(n * attr(sv, "var")[keep, keep]))))
  S <- matrix(as.numeric(sv), p, p, dimnames = list(OV, OV))
  list(S = S, mean = setNames(as.numeric(coef(sm)), OV), n = n, gamma = unname(G))
}
survey_fixture <- function(name, des, estimator, options) {
  st <- design_gamma(des, HS)
  fit <- cfa(CFA, sample.cov = st$S, sample.mean = st$mean, sample.nobs = st$n,
             estimator = estimator, NACOV = st$gamma)
  dump_fit(name, fit, call_info("cfa", CFA, DATA, c(options, list(estimator = estimator))),
           list(design = list(cov = mat_rows(st$S), mean = arr(st$mean), n = st$n,
                              gamma = mat_rows(st$gamma))))
}
survey_fixture("svy_mlm", svydesign(ids = ~psu, strata = ~school, weights = ~w,
                                    data = HS, nest = TRUE),
               "MLM", list(weights = "w", strata = "school", cluster = "psu"))
survey_fixture("svy_fpc_mlmv", svydesign(ids = ~psu, strata = ~school, weights = ~w,
                                         fpc = ~pop_psu, data = HS, nest = TRUE),
               "MLMV", list(weights = "w", strata = "school", cluster = "psu",
                            fpc = "pop_psu"))
survey_fixture("svy_weights_mlm", svydesign(ids = ~1, weights = ~w, data = HS),
               "MLM", list(weights = "w"))

## weighted and clustered FIML (missing = "ml" with sampling weights: lavaan's MLR)
HSM <- read.csv("tests/reference/data/hs_missing.csv")
HSM$w <- 0.5 + (HSM$id %% 5) * 0.5
HSM$psu <- ifelse(HSM$school == "Pasteur", 0L, 1000L) + HSM$id %/% 6L
MDATA <- file.path(REF_DIR, "hs_missing_survey.csv")
write.csv(HSM[, c("id", "school", paste0("x", 1:9), "w", "psu")], MDATA, row.names = FALSE)
HSM <- read.csv(MDATA)
run_fixture("wf_total", "cfa", CFA, HSM, MDATA, list(sampling.weights = "w", missing = "ml"))
run_fixture("wf_mg_group", "cfa", CFA, HSM, MDATA,
            list(sampling.weights = "w", missing = "ml", group = "school",
                 group.equal = "loadings", sampling.weights.normalization = "group"))
run_fixture("cf_mlr", "cfa", CFA, HSM, MDATA,
            list(cluster = "psu", missing = "ml", estimator = "MLR"))
run_fixture("cf_w_mg_mlr", "cfa", CFA, HSM, MDATA,
            list(cluster = "psu", missing = "ml", estimator = "MLR", sampling.weights = "w",
                 group = "school", sampling.weights.normalization = "group"))
## (with normalization "total" or "none" the groups' sums of weights are not integers;
## lavaan's FIML-corrected robust CFI/TLI/RMSEA refit the model with sample.nobs =
## those sums, which lavaan truncates to integers: semnet does not copy that)
