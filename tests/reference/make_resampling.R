#!/usr/bin/env Rscript
## ---------------------------------------------------------------------------
## make_resampling.R -- independent references for semnet's bootstrap intervals
## (BCa with the jackknife acceleration, percentile, basic, normal) and for the
## Bollen-Stine p-value, computed from the same resamples as semnet (issue 22).
##
## Run from the repository root, after the Python script that writes the inputs:
##     PYTHONPATH=$PWD python tests/reference/make_resampling_inputs.py
##     Rscript tests/reference/make_resampling.R
##
## Reads tests/reference/analyses/resampling_inputs/ (cases.json, semnet's draws of
## the checked quantities, and the data rows of the first resamples) and writes
## tests/reference/analyses/resampling_<case>.json.
##
## Ordinary cases (bca_*): every number that enters the intervals except the draws
## themselves is computed here, with lavaan and boot:
##   t0          lavaan's estimates of the quantities;
##   refits      lavaan's fits of semnet's first resamples (rows from the indices
##               file): these must equal semnet's draws, which checks the draws;
##   jackknife   lavaan's leave-one-out fits, one per case (groups in the fit's
##               order, cases in data order within a group);
##   intervals   boot::boot.ci on a boot object holding semnet's draws and t0:
##               "perc", "basic", "norm" (with var.t0 the variance of the draws
##               with divisor B, lavaan's convention) and "bca" with
##               L = Efron's jackknife influence values (n - 1)(mean - t_(i)), all
##               deletions pooled and centred at their mean (semnet's definition:
##               in a multi-group fit the deletions of every group are pooled).
##   acceleration          sum(L^3) / (6 sum(L^2)^1.5) of those L (boot's formula);
##   acceleration_boot_jack  the same formula on boot's own empinf(type = "jack")
##               values (n_g - 1)(t0 - t_(i)), centred at t0 and scaled per group;
##   acceleration_stratified  Davison & Hinkley's stratified form: l = (n_g - 1)
##               (mean_g - t_(i)) centred within groups,
##               sum_g n_g^-3 sum l^3 / (6 (sum_g n_g^-2 sum l^2)^1.5).
## Bollen-Stine case: the data are transformed to the model-implied moments here
## (X_c S^-1/2 Sigma^1/2 + mean, symmetric square roots; checked against lavaan's
## own bollen.stine bootstrap on the rows lavaan drew), semnet's resamples of them
## are refitted with lavaan, and the p-value is #{chisq_b > chisq} / #{fits}.
## ---------------------------------------------------------------------------

suppressPackageStartupMessages({
  library(lavaan)
  library(boot)
  library(jsonlite)
})
stopifnot(packageVersion("lavaan") >= "0.6.14")
if (!file.exists("tests/reference/make_resampling.R")) {
  stop("run this script from the repository root")
}

IN <- "tests/reference/analyses/resampling_inputs"
OUT <- "tests/reference/analyses"
VERSIONS <- list(lavaan_version = as.character(packageVersion("lavaan")),
                 boot_version = as.character(packageVersion("boot")),
                 r_version = R.version.string)
arr <- function(x) I(unname(as.vector(x)))
mat_rows <- function(m) lapply(seq_len(nrow(m)), function(i) arr(m[i, ]))

write_fixture <- function(name, x) {
  write_json(c(list(name = name), VERSIONS, x), file.path(OUT, paste0(name, ".json")),
             digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null", null = "null")
  cat(sprintf("  %s\n", name))
}

## a fit with the group order fixed (the order of the inputs, whatever rows are left);
## lavaan's warnings about negative variance estimates (Heywood cases in some resamples
## and jackknife samples) are silenced: those fits are kept, as lavaan's bootstrap and
## semnet's keep them
fit_case <- function(case, data) {
  fit <- suppressWarnings(if (is.null(case$group)) {
    sem(case$model, data = data)
  } else {
    sem(case$model, data = data, group = case$group,
        group.label = unlist(case$group_labels))
  })
  stopifnot(lavInspect(fit, "converged"))
  fit
}

## every estimate under semnet's name: lhs op rhs, ".g<k>" for later groups, and
## the name of a := row
semnet_values <- function(fit) {
  pe <- parameterEstimates(fit, se = FALSE, zstat = FALSE, pvalue = FALSE, ci = FALSE)
  g <- if (is.null(pe$group)) rep(1L, nrow(pe)) else pe$group
  name <- ifelse(pe$op == ":=", pe$lhs,
                 paste0(pe$lhs, pe$op, ifelse(pe$op == "~1", "", pe$rhs),
                        ifelse(g > 1, paste0(".g", g), "")))
  stats::setNames(pe$est, name)
}

## the data rows in the order of semnet's deletions (by group, then data order)
deletion_order <- function(case, data) {
  if (is.null(case$group)) return(seq_len(nrow(data)))
  unlist(lapply(unlist(case$group_labels), function(l) which(data[[case$group]] == l)))
}

## a boot object with the given draws; the statistic returns the stored full-sample
## and leave-one-out values, so that empinf(type = "jack") uses this script's jackknife
boot_object <- function(t0, t, data, strata, jack_by_row) {
  n <- nrow(data)
  statistic <- function(d, i) {
    if (length(i) == n) return(t0)
    jack_by_row[setdiff(seq_len(n), i), ]
  }
  structure(list(t0 = t0, t = t, R = nrow(t), data = data, seed = NULL,
                 statistic = statistic, sim = "ordinary", stype = "i",
                 call = quote(boot(data = data, statistic = statistic, R = R)),
                 strata = strata, weights = rep(1 / n, n)),
            class = "boot")
}

accel <- function(L) sum(L^3) / (6 * sum(L^2)^1.5)

bca_case <- function(case) {
  data <- read.csv(case$data)
  q <- unlist(case$quantities)
  fit <- fit_case(case, data)
  t0 <- semnet_values(fit)[q]
  stopifnot(!anyNA(t0))
  t <- as.matrix(read.csv(file.path(IN, paste0(case$name, "_draws.csv")),
                          check.names = FALSE))
  stopifnot(identical(colnames(t), q), nrow(t) == case$n)

  idx <- as.matrix(read.csv(file.path(IN, paste0(case$name, "_indices.csv"))))[, -1]
  refits <- t(apply(idx, 1, function(rows) semnet_values(fit_case(case, data[rows, ]))[q]))

  order <- deletion_order(case, data)
  jack <- t(vapply(order, function(r) semnet_values(fit_case(case, data[-r, ]))[q],
                   numeric(length(q))))
  jack_by_row <- jack
  jack_by_row[order, ] <- jack
  strata <- if (is.null(case$group)) rep(1L, nrow(data)) else
    match(data[[case$group]], unlist(case$group_labels))
  group_of <- strata[order]
  bo <- boot_object(t0, t, data, strata, jack_by_row)

  n <- nrow(data)
  L <- (n - 1) * sweep(-jack, 2, colMeans(jack), "+")
  a_boot <- a_strat <- numeric(length(q))
  for (k in seq_along(q)) {
    a_boot[k] <- accel(empinf(bo, index = k, type = "jack"))
    num <- den <- 0
    for (g in unique(group_of)) {
      v <- jack[group_of == g, k]
      ng <- length(v)
      l <- (ng - 1) * (mean(v) - v)
      num <- num + sum(l^3) / ng^3
      den <- den + sum(l^2) / ng^2
    }
    a_strat[k] <- num / (6 * den^1.5)
  }

  intervals <- list()
  for (conf in c(0.95, 0.90)) {
    out <- list()
    for (k in seq_along(q)) {
      tk <- t[is.finite(t[, k]), k]
      pb <- boot.ci(bo, conf = conf, type = c("perc", "basic"), index = k)
      nm <- boot.ci(bo, conf = conf, type = "norm", index = k,
                    var.t0 = mean((tk - mean(tk))^2))
      bc <- boot.ci(bo, conf = conf, type = "bca", index = k, L = L[, k])
      out[[k]] <- c(perc = pb$percent[4:5], basic = pb$basic[4:5],
                    norm = nm$normal[2:3], bca = bc$bca[4:5])
    }
    m <- do.call(rbind, out)
    intervals[[sprintf("%.2f", conf)]] <- list(
      perc_lower = arr(m[, 1]), perc_upper = arr(m[, 2]),
      basic_lower = arr(m[, 3]), basic_upper = arr(m[, 4]),
      norm_lower = arr(m[, 5]), norm_upper = arr(m[, 6]),
      bca_lower = arr(m[, 7]), bca_upper = arr(m[, 8]))
  }

  write_fixture(paste0("resampling_", case$name), list(
    call = list(model = case$model, data = case$data, group = case$group,
                group_labels = if (is.null(case$group)) NULL else
                  arr(unlist(case$group_labels)),
                n = case$n, seed = case$seed),
    quantities = arr(q),
    t0 = arr(t0),
    n_failed = sum(!stats::complete.cases(t)),
    refits = list(draws = arr(seq_len(nrow(refits))), matrix = mat_rows(refits)),
    jackknife = list(row = arr(order), group = arr(group_of), matrix = mat_rows(jack)),
    acceleration = arr(apply(L, 2, accel)),
    acceleration_boot_jack = arr(a_boot),
    acceleration_stratified = arr(a_strat),
    intervals = intervals
  ))
}

symsqrt <- function(A) {
  e <- eigen((A + t(A)) / 2, symmetric = TRUE)
  e$vectors %*% diag(sqrt(pmax(e$values, 0)), nrow(A)) %*% t(e$vectors)
}

chisq_of <- function(model, data) {
  fit <- sem(model, data = as.data.frame(data))
  if (!lavInspect(fit, "converged")) return(NA_real_)
  unname(fitMeasures(fit, "chisq"))
}

bollen_stine_case <- function(case) {
  raw <- read.csv(case$data)
  fit <- fit_case(case, raw)
  ov <- lavNames(fit, "ov")
  X <- as.matrix(raw[, ov])
  n <- nrow(X)
  S <- cov(X) * (n - 1) / n
  Sigma <- lavInspect(fit, "implied")$cov[ov, ov]
  Z <- sweep(X, 2, colMeans(X)) %*% symsqrt(solve(S)) %*% symsqrt(Sigma)
  Z <- sweep(Z, 2, colMeans(X), "+")
  colnames(Z) <- ov
  chisq0 <- unname(fitMeasures(fit, "chisq"))

  ## the transformation is lavaan's: its own bollen.stine draws, refitted here
  own <- bootstrapLavaan(fit, R = 5L, type = "bollen.stine", keep.idx = TRUE,
                         iseed = 1L, FUN = function(x) fitMeasures(x, "chisq"))
  again <- apply(attr(own, "boot.idx")[[1]], 1, function(r) chisq_of(case$model, Z[r, ]))
  stopifnot(isTRUE(all.equal(unname(own[, 1]), again, tolerance = 1e-8)))

  idx <- as.matrix(read.csv(file.path(IN, paste0(case$name, "_indices.csv"))))[, -1]
  stopifnot(nrow(idx) == case$n)
  chisq <- apply(idx, 1, function(r) chisq_of(case$model, Z[r, ]))
  ok <- is.finite(chisq)
  write_fixture(paste0("resampling_", case$name), list(
    call = list(model = case$model, data = case$data, n = case$n, seed = case$seed,
                type = "bollen_stine"),
    chisq_sample = chisq0,
    chisq = arr(chisq),
    boot_length = sum(ok),
    boot_larger = sum(chisq[ok] > chisq0),
    pvalue = sum(chisq[ok] > chisq0) / sum(ok)
  ))
}

cat("resampling fixtures\n")
for (case in fromJSON(file.path(IN, "cases.json"), simplifyVector = FALSE)) {
  if (case$type == "bollen_stine") bollen_stine_case(case) else bca_case(case)
}
