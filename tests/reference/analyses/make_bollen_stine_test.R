## lavaan's test = "bollen.stine" inside sem() (issue 15): the fixture of semnet's
## TESTS row "bollen_stine". Run from the repository root (about a minute):
##   Rscript tests/reference/analyses/make_bollen_stine_test.R
## Writes tests/reference/analyses/bollen_stine_test.json, for a two-group CFA with
## means and equal loadings and intercepts (HS textual factor by school):
##   groups       per group, the data lavaan's bollen.stine bootstrap resamples, made
##                with lavaan's own pieces as in lav_bootstrap_internal(): the centred
##                data times lav_matrix_symmetric_sqrt(S^-1) times
##                lav_matrix_symmetric_sqrt(Sigma.hat), plus Mu.hat; with lavaan's
##                Sigma.hat, Mu.hat and S (N divisor). Checked here: lavaan's own
##                bollen.stine draws (bootstrapLavaan, keep.idx) are refits of these
##                rows, and the transformed data have the implied moments.
##   test         lavInspect(fit, "test") of cfa(..., test = "bollen.stine",
##                bootstrap = 1000): the standard test, and the bootstrap test's stat,
##                df, pvalue, boot.larger, boot.length and the draws' mean and sd
##   fit_measures fitMeasures() chisq, df, pvalue (lavaan keeps the chi-square p-value)
##   se           parameterEstimates() standard errors (test= does not change them)
##   joint        se = "bootstrap" with test = "bollen.stine" (lavaan takes the standard
##                errors from the Bollen-Stine draws): their standard errors and p-value
##                (parameterEstimates(ci = FALSE): lavaan 0.6.14 fails to form the
##                percentile intervals of these draws, which carry the test column)
suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})
stopifnot(packageVersion("lavaan") >= "0.6.14")
if (!file.exists("tests/reference/analyses/make_bollen_stine_test.R")) {
  stop("run this script from the repository root")
}

OUT <- "tests/reference/analyses"
HS_PATH <- "semnet/datasets/HolzingerSwineford1939.csv"
MODEL <- "textual =~ x4 + x5 + x6"
GROUP_EQUAL <- c("loadings", "intercepts")
R <- 1000L
ISEED <- 20261215L
arr <- function(x) I(unname(as.vector(x)))
mat_rows <- function(m) lapply(seq_len(nrow(m)), function(i) arr(m[i, ]))

HS <- read.csv(HS_PATH)
fit_of <- function(data, ...) {
  cfa(MODEL, data = data, group = "school", group.equal = GROUP_EQUAL, ...)
}
fit <- fit_of(HS, test = "bollen.stine", bootstrap = R, iseed = ISEED)
stopifnot(lavInspect(fit, "converged"))

## the transformed data, with lavaan's own functions and pieces
sqrtm <- lavaan:::lav_matrix_symmetric_sqrt
sigma <- lavaan:::computeSigmaHat(lavmodel = fit@Model)
mu <- lavaan:::computeMuHat(lavmodel = fit@Model)
ov <- lavNames(fit, "ov")
Z <- lapply(seq_len(fit@Data@ngroups), function(g) {
  X <- scale(fit@Data@X[[g]], center = TRUE, scale = FALSE)
  X <- X %*% sqrtm(fit@SampleStats@icov[[g]]) %*% sqrtm(sigma[[g]])
  X <- scale(X, center = -mu[[g]], scale = FALSE)
  colnames(X) <- ov
  X
})
frame_of <- function(rows) {
  do.call(rbind, lapply(seq_along(Z), function(g) {
    d <- as.data.frame(Z[[g]][rows[[g]], , drop = FALSE])
    d$school <- fit@Data@group.label[[g]]
    d
  }))
}
chisq_of <- function(rows) unname(fitMeasures(fit_of(frame_of(rows)), "chisq"))

## the transformed data satisfy the model: their refit has chi-square 0
stopifnot(abs(chisq_of(lapply(Z, function(z) seq_len(nrow(z))))) < 1e-6)
## and they are what lavaan's bollen.stine bootstrap resamples
own <- bootstrapLavaan(fit, R = 5L, type = "bollen.stine", keep.idx = TRUE, iseed = 1L,
                       FUN = function(x) fitMeasures(x, "chisq"))
idx <- attr(own, "boot.idx")
again <- sapply(seq_len(5L), function(b) chisq_of(lapply(idx, function(i) i[b, ])))
stopifnot(isTRUE(all.equal(unname(own[, 1]), again, tolerance = 1e-8)))

test <- lavInspect(fit, "test")
bs <- test[["bollen.stine"]]
joint <- fit_of(HS, se = "bootstrap", test = "bollen.stine", bootstrap = R, iseed = ISEED)
joint_bs <- lavInspect(joint, "test")[["bollen.stine"]]
pe <- parameterEstimates(fit)
groups <- lapply(seq_along(Z), function(g) list(
  label = fit@Data@group.label[[g]],
  sigma = mat_rows(sigma[[g]]),
  mu = arr(mu[[g]]),
  S = mat_rows(fit@SampleStats@cov[[g]]),
  data = mat_rows(fit@Data@X[[g]]),
  transformed = mat_rows(Z[[g]])
))
out <- list(
  name = "bollen_stine_test",
  lavaan_version = as.character(packageVersion("lavaan")),
  r_version = R.version.string,
  call = list(model = MODEL, data = HS_PATH, group = "school",
              group_equal = arr(GROUP_EQUAL), variables = arr(ov),
              test = "bollen.stine", bootstrap = R, iseed = ISEED),
  groups = groups,
  test = list(
    standard = list(stat = test$standard$stat, df = test$standard$df,
                    pvalue = test$standard$pvalue),
    bollen_stine = list(stat = bs$stat, df = bs$df, pvalue = bs$pvalue,
                        boot_larger = bs$boot.larger, boot_length = bs$boot.length,
                        boot_mean = mean(bs$boot.T), boot_sd = sd(bs$boot.T))
  ),
  fit_measures = as.list(fitMeasures(fit, c("chisq", "df", "pvalue"))),
  se = list(lhs = arr(pe$lhs), op = arr(pe$op), rhs = arr(pe$rhs), group = arr(pe$group),
            se = arr(pe$se)),
  joint = list(pvalue = joint_bs$pvalue, boot_length = joint_bs$boot.length,
               se = arr(parameterEstimates(joint, ci = FALSE)$se))
)
write_json(out, file.path(OUT, "bollen_stine_test.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "null", null = "null")
cat("  bollen_stine_test\n")
