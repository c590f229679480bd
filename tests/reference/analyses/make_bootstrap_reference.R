## lavaan fixtures for bootstrap standard errors inside sem() and the bootstrap of FIML
## fits (issue 6). Run from the repository root:
##   Rscript tests/reference/analyses/make_bootstrap_reference.R
## Writes, in tests/reference/analyses/:
##   bootstrap_ci_mediation_std.json  standardizedSolution() and parameterEstimates()
##       of the se = "bootstrap" fit of bootstrap_ci_mediation.json (same call and
##       iseed, hence the same 500 draws: checked against the draws stored there)
##   bootstrap_fiml_mediation.json    parameterEstimates() of an FIML fit
##       (missing = "ml", fixed.x = FALSE) of the observed mediation model to
##       tests/reference/data/hs_missing.csv with se = "bootstrap", 1000 draws, and the
##       number of draws that succeeded
library(lavaan)
library(jsonlite)
stopifnot(packageVersion("lavaan") >= "0.6.14")

OUT <- "tests/reference/analyses"
VERSIONS <- list(lavaan_version = as.character(packageVersion("lavaan")),
                 r_version = R.version.string)
arr <- function(x) I(unname(as.vector(unclass(x))))
df_cols <- function(df) {
  df <- as.data.frame(unclass(df), stringsAsFactors = FALSE, check.names = FALSE)
  out <- lapply(df, arr)
  names(out) <- names(df)
  out
}
write_fixture <- function(name, x) {
  write_json(c(list(name = name), VERSIONS, x), file.path(OUT, paste0(name, ".json")),
             digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null", null = "null")
  cat(sprintf("  %s\n", name))
}

HS_PATH <- "semnet/datasets/HolzingerSwineford1939.csv"
HSM_PATH <- "tests/reference/data/hs_missing.csv"
HS <- read.csv(HS_PATH)
HSM <- read.csv(HSM_PATH)
MEDIATION <- "x8 ~ a*x7\nx9 ~ b*x8 + c*x7\nind := a*b\ntotal := c + a*b"

fit <- sem(MEDIATION, data = HS, se = "bootstrap", bootstrap = 500L, iseed = 20261202L)
boot <- lavInspect(fit, "boot")
stored <- fromJSON(file.path(OUT, "bootstrap_ci_mediation.json"))$boot$matrix
stopifnot(isTRUE(all.equal(unname(boot[, ]), stored, tolerance = 1e-14)))
write_fixture("bootstrap_ci_mediation_std", list(
  call = list(model = MEDIATION, data = HS_PATH, bootstrap = 500L, iseed = 20261202L),
  estimates = df_cols(parameterEstimates(fit)),
  std_all = df_cols(standardizedSolution(fit, type = "std.all")),
  std_lv = df_cols(standardizedSolution(fit, type = "std.lv"))
))

fit <- sem(MEDIATION, data = HSM, missing = "ml", fixed.x = FALSE, se = "bootstrap",
           bootstrap = 1000L, iseed = 20261204L)
boot <- lavInspect(fit, "boot")
write_fixture("bootstrap_fiml_mediation", list(
  call = list(model = MEDIATION, data = HSM_PATH, missing = "ml", fixed.x = FALSE,
              bootstrap = 1000L, iseed = 20261204L),
  n_ok = nrow(boot) - length(attr(boot, "error.idx")),
  estimates = df_cols(parameterEstimates(fit))
))
