# Polyserial and Pearson correlations next to polychoric ones (mixed ordinal and continuous
# variables), pairwise deletion, and groups, from lavaan 0.6.14's lavCor(): the reference
# for semnet.polychoric (tests/data/test_ordinal_mixed.py).  Writes each data set as CSV
# and fits it as read back; records lavCor's correlations, the sample statistics vector
# (lavInspect "wls.obs": thresholds and minus the means in variable order, the variances of
# the continuous variables, the covariances) and its N x asymptotic covariance ("gamma").
#   Rscript tests/reference/ordinal/make_ordinal_mixed.R   (from the repository root)
suppressPackageStartupMessages({library(lavaan); library(jsonlite)})
stopifnot(packageVersion("lavaan") == "0.6.14")
here <- "tests/reference/ordinal"
hs <- HolzingerSwineford1939
cut4 <- function(x) cut(x, breaks = 4, labels = FALSE)

# 1. x1-x6 cut into 4 categories, x7-x9 continuous
mixed <- cbind(as.data.frame(lapply(hs[paste0("x", 1:6)], cut4)), hs[c("x7", "x8", "x9")])
# 2. the same, columns interleaved, with about 10% of the values missing completely at
#    random (pairwise deletion)
set.seed(16)
miss <- mixed[c("x7", "x1", "x2", "x8", "x3", "x4", "x5", "x9", "x6")]
for (v in names(miss)) miss[runif(nrow(miss)) < 0.1, v] <- NA
# 3. a 7-point survey (the bundled synthetic three-country data) with the two highest
#    answers merged (6 categories), one continuous covariate, by country (listwise)
survey <- read.csv("sample_data/network_involvement.csv")
six <- survey[c("country", "gm1", "gm2", "gm3", "gm4", "rc1", "rc2", "rc3", "rc4",
                "firm_size")]
for (v in c("gm1", "gm2", "gm3", "gm4", "rc1", "rc2", "rc3", "rc4")) {
  six[[v]] <- pmin(six[[v]], 6L)
}
# 4. binary items (above the median) with continuous variables, about 10% missing,
#    by school, pairwise deletion
set.seed(61)
binary <- cbind(as.data.frame(lapply(hs[c("x1", "x2", "x3")],
                                     function(x) as.integer(x > median(x)))),
                hs[c("x4", "x5", "x6")])
for (v in names(binary)) binary[runif(nrow(binary)) < 0.1, v] <- NA
binary$school <- hs$school

record <- function(d, ordered, group = NULL, missing = "listwise") {
  args <- list(d, ordered = ordered, group = group, missing = missing)
  cor <- do.call(lavCor, args)
  fit <- do.call(lavCor, c(args, list(output = "fit", estimator = "DWLS",
                                      se = "robust.sem")))
  wls <- lavInspect(fit, "wls.obs")
  gamma <- lavInspect(fit, "gamma")
  ss <- lavInspect(fit, "sampstat")
  nobs <- lavInspect(fit, "nobs")
  one <- function(c, w, g, s, n, label) list(
    group = label, cor = unclass(c), names = colnames(c), nobs = n,
    th = unname(as.numeric(s$th)), th_names = names(s$th),
    mean = as.list(s$mean), wls_obs = unname(as.numeric(w)), wls_names = names(w),
    gamma = unclass(g), gamma_names = colnames(g))
  if (is.null(group)) return(list(one(cor, wls, gamma, ss, nobs, "")))
  lapply(seq_along(wls), function(k) one(cor[[k]], wls[[k]], gamma[[k]], ss[[k]],
                                         nobs[k], names(wls)[k]))
}

sets <- list(
  hs_mixed = list(data = mixed, ordered = paste0("x", 1:6), group = NULL,
                  missing = "listwise"),
  hs_mixed_pairwise = list(data = miss, ordered = paste0("x", 1:6), group = NULL,
                           missing = "pairwise"),
  survey_six = list(data = six, ordered = c("gm1", "gm2", "gm3", "gm4", "rc1", "rc2",
                                            "rc3", "rc4"),
                    group = "country", missing = "listwise"),
  hs_binary_pairwise = list(data = binary, ordered = c("x1", "x2", "x3"), group = "school",
                            missing = "pairwise")
)
for (name in names(sets)) {
  s <- sets[[name]]
  file <- file.path(here, paste0(name, ".csv"))
  write.csv(s$data, file, row.names = FALSE, na = "")
  d <- read.csv(file)
  out <- list(lavaan = as.character(packageVersion("lavaan")), data = paste0(name, ".csv"),
              ordered = s$ordered, group = if (is.null(s$group)) "" else s$group,
              missing = s$missing,
              groups = record(d, s$ordered, s$group, s$missing))
  write_json(out, file.path(here, paste0(name, ".json")), digits = NA, auto_unbox = TRUE,
             pretty = TRUE)
}
