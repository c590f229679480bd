# WLSMV (lavaan 0.6.14) with pairwise deletion and with ordinal and continuous observed
# variables together, the reference for tests/api/test_ordinal_more.py.
#   Rscript tests/reference/ordinal/make_wlsmv_more.R   (from the repository root)
# Data: hs_four_school.csv (make_ordinal.R) with about 10% of the values of x1-x9 set
# missing completely at random (written as hs_four_missing.csv); x1-x6 cut into 4
# categories next to the continuous x7-x9 (hs_mixed.csv, make_ordinal_mixed.R) with the
# school column (written as hs_mixed_school.csv).
suppressPackageStartupMessages({library(lavaan); library(jsonlite)})
stopifnot(packageVersion("lavaan") == "0.6.14")
here <- "tests/reference/ordinal"
hs3 <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
measures <- c("npar", "fmin", "chisq", "df", "pvalue", "chisq.scaled", "df.scaled",
              "pvalue.scaled", "chisq.scaling.factor", "baseline.chisq", "baseline.df",
              "baseline.chisq.scaled", "cfi", "tli", "cfi.scaled", "tli.scaled", "cfi.robust",
              "rmsea", "rmsea.scaled", "rmsea.robust", "srmr", "tli.robust")

four <- read.csv(file.path(here, "hs_four_school.csv"))
set.seed(1616)
miss <- four
for (v in paste0("x", 1:9)) miss[runif(nrow(miss)) < 0.1, v] <- NA
write.csv(miss, file.path(here, "hs_four_missing.csv"), row.names = FALSE, na = "")
mixed <- read.csv(file.path(here, "hs_mixed.csv"))
mixed$school <- four$school
write.csv(mixed, file.path(here, "hs_mixed_school.csv"), row.names = FALSE)

record <- function(fit, model, data, estimator, ordered, group = NULL, group.equal = NULL,
                   missing = "listwise", parameterization = "delta") {
  pt <- parTable(fit)
  fm <- fitMeasures(fit)
  keep <- intersect(measures, names(fm))
  std <- standardizedSolution(fit)
  if (is.null(std$group)) std$group <- 1L
  wls <- lavInspect(fit, "wls.obs", drop.list.single.group = FALSE)
  est <- lavInspect(fit, "wls.est", drop.list.single.group = FALSE)
  mi <- modindices(fit, sort. = TRUE)
  if (is.null(mi$group)) mi$group <- 1L
  list(
    lavaan = as.character(packageVersion("lavaan")), data = data, model = model,
    estimator = estimator, ordered = ordered, group = group, group_equal = group.equal,
    missing = missing, parameterization = parameterization,
    nobs = as.list(lavInspect(fit, "nobs")),
    partable = pt[, c("lhs", "op", "rhs", "group", "free", "ustart", "label", "est", "se")],
    fit_measures = as.list(unclass(fm[keep])),
    standardized = std[, c("lhs", "op", "rhs", "group", "est.std", "se")],
    wls_obs = lapply(wls, function(w) as.list(w)),
    wls_est = lapply(est, function(w) as.list(w)),
    modindices = mi[seq_len(min(10, nrow(mi))), c("lhs", "op", "rhs", "group", "mi", "epc",
                                                   "sepc.all")]
  )
}
ord9 <- paste0("x", 1:9)
ord6 <- paste0("x", 1:6)
sem_out <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nx7 ~ visual + textual"
sem_cov <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nvisual + textual ~ x7"
cases <- list(
  pairwise_four = list(d = miss, file = "hs_four_missing.csv", ord = ord9, missing = "pairwise"),
  pairwise_school = list(d = miss, file = "hs_four_missing.csv", ord = ord9,
                         missing = "pairwise", group = "school"),
  pairwise_school_equal = list(d = miss, file = "hs_four_missing.csv", ord = ord9,
                               missing = "pairwise", group = "school",
                               group.equal = c("thresholds", "loadings")),
  mixed_one = list(d = mixed, file = "hs_mixed_school.csv", ord = ord6),
  mixed_theta = list(d = mixed, file = "hs_mixed_school.csv", ord = ord6,
                     parameterization = "theta"),
  mixed_school = list(d = mixed, file = "hs_mixed_school.csv", ord = ord6, group = "school",
                      group.equal = c("thresholds", "loadings")),
  mixed_sem = list(d = mixed, file = "hs_mixed_school.csv", ord = ord6, model = sem_out),
  # a continuous covariate: semnet models it as a random variable (fixed.x = FALSE), as
  # lavaan with conditional.x = FALSE (lavaan's default, conditional.x = TRUE, regresses
  # the thresholds and correlations on the covariates instead)
  mixed_covariate = list(d = mixed, file = "hs_mixed_school.csv", ord = ord6,
                         model = sem_cov, conditional.x = FALSE)
)
out <- list()
for (nm in names(cases)) {
  cs <- cases[[nm]]
  model <- if (is.null(cs$model)) hs3 else cs$model
  miss_opt <- if (is.null(cs$missing)) "listwise" else cs$missing
  par <- if (is.null(cs$parameterization)) "delta" else cs$parameterization
  geq <- if (is.null(cs$group.equal)) "" else cs$group.equal
  cx <- if (is.null(cs$conditional.x)) "default" else cs$conditional.x
  fit <- sem(model, cs$d, ordered = cs$ord, estimator = "WLSMV", group = cs$group,
             group.equal = geq, missing = miss_opt, parameterization = par,
             conditional.x = cx)
  stopifnot(lavInspect(fit, "converged"))
  out[[nm]] <- record(fit, model, cs$file, "WLSMV", cs$ord, cs$group, cs$group.equal,
                      miss_opt, par)
  out[[nm]]$fixed_x <- lavInspect(fit, "options")$fixed.x
}
# WLSMVS: lavaan 0.6.14 still accepts it (the Satterthwaite mean-and-variance adjusted
# test, non-integer df)
fit <- cfa(hs3, four, ordered = ord9, estimator = "WLSMVS")
out[["wlsmvs_four"]] <- record(fit, hs3, "hs_four_school.csv", "WLSMVS", ord9)
out[["wlsmvs_four"]]$fixed_x <- TRUE
write_json(out, file.path(here, "wlsmv_more.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "null")

# lavTestLRT between WLSMVS fits (its default for them is Satorra's 2000 scaled-shifted
# difference, as for WLSMV): configural against equal thresholds and loadings, by school
f1 <- cfa(hs3, four, ordered = ord9, group = "school", estimator = "WLSMVS")
f2 <- cfa(hs3, four, ordered = ord9, group = "school", estimator = "WLSMVS",
          group.equal = c("thresholds", "loadings"))
lrt <- lavTestLRT(f1, f2)
stopifnot(grepl("satorra.2000", attr(lrt, "heading"), fixed = TRUE))
write_json(list(lavaan = as.character(packageVersion("lavaan")), data = "hs_four_school.csv",
                model = hs3, ordered = ord9, group = "school", estimator = "WLSMVS",
                group_equal = c("thresholds", "loadings"),
                chisq_diff = lrt[["Chisq diff"]][2], df_diff = lrt[["Df diff"]][2],
                pvalue = lrt[["Pr(>Chisq)"]][2]),
           file.path(here, "wlsmvs_lrt.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
