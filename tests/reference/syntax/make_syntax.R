# lavaan syntax that semnet reads as lavaan does (lavaan 0.6.14): equal("lhs op rhs")
# ties a row to a named parameter (in one group and across groups), a bound in the
# syntax against semnet's inequality constraint on a label, and unquoted group labels
# with hyphens in group: blocks. The reference for tests/api/test_syntax_lavaan.py.
#   Rscript tests/reference/syntax/make_syntax.R   (from the repository root)
suppressPackageStartupMessages({library(lavaan); library(jsonlite)})
stopifnot(packageVersion("lavaan") == "0.6.14")
hs <- HolzingerSwineford1939
m3 <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
cases <- list(
  equal_one_group = list(model = paste0(
    "visual =~ x1 + equal('visual=~x3')*x2 + x3\n",
    "textual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n")),
  equal_across_groups = list(model = paste0(
    "visual =~ x1 + equal('visual=~x2')*x2 + x3\n",
    "textual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"), group = "school"),
  equal_group_two = list(model = paste0(
    "visual =~ x1 + x2 + c(NA, 'visual=~x2.g2')*x3\n",
    "textual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"), group = "school"),
  equal_intercepts = list(model = paste0(m3, "x2 ~ equal('x3~1')*1\n"), meanstructure = TRUE),
  lower_bound = list(model = paste0(m3, "x1 ~~ lower(0.6)*x1\n"),
                     semnet = paste0(m3, "x1 ~~ v*x1\nv > 0.6\n")),
  upper_bound = list(model = paste0(m3, "x1 ~~ upper(0.5)*x1\n"),
                     semnet = paste0(m3, "x1 ~~ v*x1\nv < 0.5\n")),
  hyphen_groups = list(model = paste0(
    "group: Pasteur\nvisual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\n",
    "group: Grant-White\nvisual =~ x1 + a*x2 + x3\ntextual =~ x4 + x5 + x6\n"),
    group = "school")
)
out <- list()
for (name in names(cases)) {
  case <- cases[[name]]
  args <- list(model = case$model, data = hs)
  if (!is.null(case$group)) args$group <- case$group
  if (!is.null(case$meanstructure)) args$meanstructure <- case$meanstructure
  fit <- do.call("cfa", args)
  stopifnot(lavInspect(fit, "converged"))
  pt <- parTable(fit)
  keep <- !(pt$op %in% c("==", "<", ">"))
  out[[name]] <- list(
    lavaan = as.character(packageVersion("lavaan")), model = case$model,
    semnet_model = case$semnet, group = case$group, meanstructure = case$meanstructure,
    partable = pt[keep, c("lhs", "op", "rhs", "group", "free", "label", "est")],
    fit_measures = as.list(unclass(fitMeasures(fit, c("npar", "chisq", "df", "cfi",
                                                       "rmsea"))))
  )
}
write_json(out, "tests/reference/syntax/syntax.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE, null = "null")
