# Threshold lines in the model syntax (`x1 | a*t1 + t2 + t3`): labels, fixed values,
# equality constraints, an item made ordinal by its threshold line alone, and the same
# with groups; scale-factor lines (`x1 ~*~ c(1, NA)*x1`), and the whole syntax semTools'
# measEq.syntax writes for equal thresholds (Wu & Estabrook 2016). lavaan 0.6.14 and
# semTools; the reference for tests/api/test_threshold_lines.py.
#   Rscript tests/reference/ordinal/make_thresholds.R   (from the repository root)
# Data: hs_four_school.csv (make_ordinal.R): x1-x9 cut into 4 categories, with school.
suppressPackageStartupMessages({library(lavaan); library(semTools); library(jsonlite)})
stopifnot(packageVersion("lavaan") == "0.6.14")
here <- "tests/reference/ordinal"
four <- read.csv(file.path(here, "hs_four_school.csv"))
m0 <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\n"
ord6 <- paste0("x", 1:6)
measeq <- function(equal, parameterization = "delta", id = "Wu.Estabrook.2016") {
  as.character(measEq.syntax(
    configural.model = m0, data = four, ordered = ord6, group = "school",
    parameterization = parameterization, ID.fac = "std.lv", ID.cat = id,
    group.equal = equal))
}
cases <- list(
  all_written = list(extra = "x1 | t1 + t2 + t3\n", ordered = ord6),
  label_shared = list(extra = "x1 | a*t1 + t2 + t3\nx2 | a*t1\n", ordered = ord6),
  order_written = list(extra = "x2 | t2 + t1\n", ordered = ord6),
  fixed = list(extra = "x1 | 0*t2\n", ordered = ord6),
  start_and_equal = list(extra = "x1 | start(-0.5)*t1 + b*t2\nx3 | b*t2\n", ordered = ord6),
  implied_ordinal = list(extra = "x1 | t1 + t2 + t3\n", ordered = NULL),
  implied_among_named = list(extra = "x1 | t1 + t2 + t3\n", ordered = ord6[-1]),
  groups_equal = list(extra = "x1 | t1 + t2 + t3\n", ordered = ord6[-1], group = "school",
                      group.equal = "thresholds"),
  groups_labels = list(extra = "x1 | c(a, a)*t1 + t2 + t3\n", ordered = ord6,
                       group = "school"),
  groups_fixed = list(extra = "x2 | c(0, NA)*t2\n", ordered = ord6, group = "school"),
  scale_fixed = list(extra = "x1 ~*~ c(1, 1)*x1\n", ordered = ord6, group = "school",
                     group.equal = "thresholds"),
  measeq_thresholds = list(model = measeq("thresholds"), ordered = ord6, group = "school"),
  measeq_scalar = list(model = measeq(c("thresholds", "loadings", "intercepts")),
                       ordered = ord6, group = "school"),
  measeq_metric_theta = list(model = measeq(c("thresholds", "loadings"), "theta"),
                             ordered = ord6, group = "school", parameterization = "theta"),
  measeq_millsap_theta = list(model = measeq("configural", "theta", "millsap.tein.2004"),
                              ordered = ord6, group = "school", parameterization = "theta")
)
out <- list()
for (name in names(cases)) {
  case <- cases[[name]]
  model <- if (is.null(case$model)) paste0(m0, case$extra) else case$model
  args <- list(model = model, data = four, ordered = case$ordered)
  if (!is.null(case$group)) args$group <- case$group
  if (!is.null(case$group.equal)) args$group.equal <- case$group.equal
  if (!is.null(case$parameterization)) args$parameterization <- case$parameterization
  fit <- do.call("cfa", args)
  stopifnot(lavInspect(fit, "converged"))
  pt <- parTable(fit)
  fm <- fitMeasures(fit, c("npar", "chisq", "df", "chisq.scaled", "cfi.scaled", "rmsea.scaled"))
  out[[name]] <- list(
    lavaan = as.character(packageVersion("lavaan")), model = model,
    ordered = case$ordered, group = case$group, group_equal = case$group.equal,
    parameterization = case$parameterization,
    ordinal = lavNames(fit, "ov.ord"),
    partable = pt[pt$op != "==", c("lhs", "op", "rhs", "group", "free", "label", "est", "se")],
    fit_measures = as.list(unclass(fm))
  )
}
write_json(out, file.path(here, "thresholds.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE, null = "null")
