# WLSMV and its relatives (lavaan 0.6.14) on the ordinal Holzinger-Swineford items written
# by make_ordinal.R (x1-x9 cut into 4 equal-width categories; binary items), the
# reference for semnet's DWLS/ULS/WLS fits (tests/api/test_ordinal_fit.py).
#   Rscript tests/reference/ordinal/make_wlsmv.R   (from the repository root)
suppressPackageStartupMessages({library(lavaan); library(jsonlite)})
stopifnot(packageVersion("lavaan") == "0.6.14")
here <- "tests/reference/ordinal"
hs3 <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
measures <- c("npar", "fmin", "chisq", "df", "pvalue", "chisq.scaled", "df.scaled",
              "pvalue.scaled", "chisq.scaling.factor", "baseline.chisq", "baseline.df",
              "baseline.chisq.scaled", "cfi", "tli", "cfi.scaled", "tli.scaled", "cfi.robust",
              "rmsea", "rmsea.scaled", "rmsea.robust", "srmr", "tli.robust", "nnfi", "rfi",
              "nfi", "pnfi", "ifi", "rni", "nnfi.scaled", "rni.scaled", "nnfi.robust",
              "rni.robust", "rmsea.ci.lower", "rmsea.ci.upper", "rmsea.pvalue",
              "rmsea.notclose.pvalue", "rmsea.ci.lower.scaled", "rmsea.ci.upper.scaled",
              "rmsea.ci.lower.robust", "rmsea.ci.upper.robust", "rmsea.pvalue.robust",
              "rmr_nomean", "srmr_bentler_nomean", "crmr_nomean", "cn_05", "cn_01", "mfi")

record <- function(fit, model, data, estimator, ordered, group = NULL, group.equal = NULL) {
  pt <- parTable(fit)
  fm <- fitMeasures(fit)
  keep <- intersect(measures, names(fm))
  std <- standardizedSolution(fit)
  if (is.null(std$group)) std$group <- 1L
  mi <- modindices(fit, sort. = TRUE)
  if (is.null(mi$group)) mi$group <- 1L
  list(
    lavaan = as.character(packageVersion("lavaan")), data = data, model = model,
    estimator = estimator, ordered = ordered, group = group, group_equal = group.equal,
    partable = pt[, c("lhs", "op", "rhs", "group", "free", "ustart", "label", "est", "se")],
    fit_measures = as.list(unclass(fm[keep])),
    standardized = std[, c("lhs", "op", "rhs", "group", "est.std", "se")],
    modindices = mi[seq_len(min(10, nrow(mi))), c("lhs", "op", "rhs", "group", "mi", "epc",
                                                   "sepc.all")]
  )
}

cases <- list(
  list(name = "wlsmv_four", data = "hs_four.csv", estimator = "WLSMV"),
  list(name = "ulsmv_four", data = "hs_four.csv", estimator = "ULSMV"),
  list(name = "wlsm_four", data = "hs_four.csv", estimator = "WLSM"),
  list(name = "wls_four", data = "hs_four.csv", estimator = "WLS"),
  list(name = "wlsmv_school", data = "hs_four_school.csv", estimator = "WLSMV",
       group = "school", group.equal = c("thresholds", "loadings")),
  list(name = "wlsmv_school_configural", data = "hs_four_school.csv", estimator = "WLSMV",
       group = "school"),
  list(name = "wlsmv_four_theta", data = "hs_four.csv", estimator = "WLSMV",
       parameterization = "theta"),
  list(name = "wlsmv_school_theta", data = "hs_four_school.csv", estimator = "WLSMV",
       group = "school", group.equal = c("thresholds", "loadings"),
       parameterization = "theta")
)
out <- list()
for (cs in cases) {
  d <- read.csv(file.path(here, cs$data))
  ord <- paste0("x", 1:9)
  geq <- if (is.null(cs$group.equal)) "" else cs$group.equal
  par <- if (is.null(cs$parameterization)) "delta" else cs$parameterization
  fit <- cfa(hs3, d, ordered = ord, estimator = cs$estimator, group = cs$group,
             group.equal = geq, parameterization = par)
  out[[cs$name]] <- record(fit, hs3, cs$data, cs$estimator, ord, cs$group, cs$group.equal)
  out[[cs$name]]$parameterization <- par
}
# binary items x1-x5 (above the median): one factor
d <- read.csv(file.path(here, "hs_two.csv"))
m1 <- "f =~ x1 + x2 + x3 + x4 + x5"
fit <- cfa(m1, d, ordered = names(d), estimator = "WLSMV")
out[["wlsmv_two"]] <- record(fit, m1, "hs_two.csv", "WLSMV", names(d))
# a real survey set by group: the bundled survey's GM and RC items (7 points, the top two
# merged: 6 categories, written by make_ordinal_mixed.R) by country, thresholds and
# loadings equal
d <- read.csv(file.path(here, "survey_six.csv"))
m2 <- "gm =~ gm1 + gm2 + gm3 + gm4\nrc =~ rc1 + rc2 + rc3 + rc4"
ord2 <- c(paste0("gm", 1:4), paste0("rc", 1:4))
fit <- cfa(m2, d[, c("country", ord2)], ordered = ord2, estimator = "WLSMV",
           group = "country", group.equal = c("thresholds", "loadings"))
out[["wlsmv_survey_six"]] <- record(fit, m2, "survey_six.csv", "WLSMV", ord2, "country",
                                    c("thresholds", "loadings"))
write_json(out, file.path(here, "wlsmv.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE,
           na = "null")

# Satorra's (2000) scaled-shifted difference test (lavTestLRT's default for WLSMV):
# configural against equal thresholds and loadings, by school
d <- read.csv(file.path(here, "hs_four_school.csv"))
ord <- paste0("x", 1:9)
f1 <- cfa(hs3, d, ordered = ord, group = "school")
f2 <- cfa(hs3, d, ordered = ord, group = "school", group.equal = c("thresholds", "loadings"))
lrt <- lavTestLRT(f1, f2)
write_json(list(lavaan = as.character(packageVersion("lavaan")), data = "hs_four_school.csv",
                model = hs3, ordered = ord, group = "school",
                group_equal = c("thresholds", "loadings"),
                chisq_diff = lrt[["Chisq diff"]][2], df_diff = lrt[["Df diff"]][2],
                pvalue = lrt[["Pr(>Chisq)"]][2]),
           file.path(here, "wlsmv_lrt.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)

# lavTestScore of the equal thresholds and loadings (the score tests of releasing each
# equality constraint, and their total), by school
fit <- cfa(hs3, d, ordered = ord, group = "school", group.equal = c("thresholds", "loadings"))
st <- lavTestScore(fit)
write_json(list(lavaan = as.character(packageVersion("lavaan")), data = "hs_four_school.csv",
                model = hs3, ordered = ord, group = "school",
                group_equal = c("thresholds", "loadings"),
                total = as.list(st$test[1, c("X2", "df", "p.value")]),
                uni = st$uni[, c("lhs", "rhs", "X2", "df", "p.value")]),
           file.path(here, "wlsmv_score.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
