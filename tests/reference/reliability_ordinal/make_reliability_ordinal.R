# Reliability of ordinal items: semTools 0.5-6's htmt(ordered = ...) and compRelSEM()
# (tau.eq x ord.scale) on lavaan 0.6.14's WLSMV fits, with the estimates those formulas
# read (loadings, factor covariances, thresholds, scales, polychoric correlations), the
# reference for tests/analyses/test_reliability_ordinal.py.
# Data: Holzinger-Swineford x1-x9 cut into 4 equal-width categories, as
# tests/reference/ordinal/make_ordinal.R (checked equal to its hs_four_school.csv).
#   Rscript tests/reference/reliability_ordinal/make_reliability_ordinal.R   (from the root)
suppressPackageStartupMessages({library(lavaan); library(semTools); library(jsonlite)})
stopifnot(packageVersion("lavaan") == "0.6.14", packageVersion("semTools") == "0.5.6")
here <- "tests/reference/reliability_ordinal"
hs <- HolzingerSwineford1939
items <- paste0("x", 1:9)
four <- as.data.frame(lapply(hs[items], function(x) cut(x, breaks = 4, labels = FALSE)))
d <- cbind(four, school = as.character(hs$school))
committed <- read.csv("tests/reference/ordinal/hs_four_school.csv")
stopifnot(isTRUE(all.equal(committed, d, check.attributes = FALSE)))

model <- "visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9"

# HTMT on polychoric correlations (semTools calls lavCor with ordered); by school on
# each school's rows, as htmt() has no group argument
htmt_of <- function(data) list(
  htmt2 = unclass(htmt(model, data[items], ordered = items)),
  htmt1 = unclass(htmt(model, data[items], ordered = items, htmt2 = FALSE)))
htmt_out <- list(all = htmt_of(d))
for (s in unique(d$school)) htmt_out[[s]] <- htmt_of(d[d$school == s, ])

vec <- function(x) as.list(setNames(as.numeric(x), names(x)))
block <- function(est, ss) list(
  lambda = unclass(est$lambda), psi = unclass(est$psi),
  tau = vec(est$tau[, "threshold"]), scales = vec(est$delta[, "scales"]),
  cor = unclass(ss$cov))
comp <- function(fit) {
  out <- list()
  for (te in c(TRUE, FALSE)) for (os in c(TRUE, FALSE)) {
    key <- paste0(if (te) "alpha" else "omega", if (os) "_ord_scale" else "_latent_scale")
    r <- compRelSEM(fit, tau.eq = te, ord.scale = os)
    out[[key]] <- if (is.data.frame(r)) lapply(split(r[, -1], r$group), as.list) else
      as.list(unclass(r))
    # semTools 0.5-6 fails on the total's categorical omega (it sums the common
    # covariance before omegaCat): the totals are kept for the other three
    if (!te && os) next
    r <- compRelSEM(fit, tau.eq = te, ord.scale = os, return.total = TRUE)
    out[[paste0(key, "_total")]] <- if (is.data.frame(r))
      setNames(as.list(r$total), r$group) else unclass(r)[["total"]]
  }
  r <- AVE(fit)
  out$AVE <- if (is.data.frame(r)) lapply(split(r[, -1], r$group), as.list) else
    as.list(unclass(r))
  out
}
describe <- function(fit) {
  est <- lavInspect(fit, "est", drop.list.single.group = FALSE)
  ss <- lavInspect(fit, "sampstat", drop.list.single.group = FALSE)
  labels <- if (lavInspect(fit, "ngroups") > 1) lavInspect(fit, "group.label") else "all"
  list(blocks = setNames(Map(block, est, ss), labels), compRelSEM = comp(fit),
       nobs = as.list(setNames(lavInspect(fit, "nobs"), labels)))
}

fits <- list(
  single = cfa(model, d, ordered = items),
  theta = cfa(model, d, ordered = items, parameterization = "theta"),
  configural = cfa(model, d, ordered = items, group = "school"),
  thresholds_loadings = cfa(model, d, ordered = items, group = "school",
                            group.equal = c("thresholds", "loadings")))
stopifnot(all(sapply(fits, lavInspect, what = "converged")))
raw_alpha <- function(x) {
  S <- cov(x); k <- ncol(S); k / (k - 1) * (1 - sum(diag(S)) / sum(S))
}
factors <- list(visual = items[1:3], textual = items[4:6], speed = items[7:9])
out <- list(
  lavaan = as.character(packageVersion("lavaan")),
  semTools = as.character(packageVersion("semTools")),
  data = "../ordinal/hs_four_school.csv", model = model, items = items,
  htmt = htmt_out,
  cronbach_raw = lapply(factors, function(v) raw_alpha(d[v])),
  fits = lapply(fits, describe))
write_json(out, file.path(here, "reliability_ordinal.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE, matrix = "rowmajor")
