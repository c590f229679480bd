# The invariance ladder of ordinal items (Wu & Estabrook 2016) as semTools 0.5-6's
# measEq.syntax(ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016") identifies it, fitted by
# lavaan 0.6.14 (WLSMV), the reference for semnet.invariance(..., ordered=)
# (tests/analyses/test_invariance_ordinal.py).
#   Rscript tests/reference/invariance/make_ordinal_invariance.R   (from the repository root)
# 1. the HS items x1-x9 cut into 4 equal-width categories (tests/reference/ordinal/
#    make_ordinal.R) by school, delta (configural, thresholds, metric, scalar) and theta
#    (+ strict); every level's parameter table, fit measures and lavTestLRT against the
#    level before.
#    And theta with one threshold, one intercept and one loading free in every level
#    (group.partial; semnet's group_partial = ["x1|t1", "x3~1", "visual=~x2"]).
# 2. the same items cut into 3 categories (written here as hs_three_school.csv), delta: equal
#    thresholds are an equivalent model (df 0), the step that cannot be tested.
suppressPackageStartupMessages({library(lavaan); library(semTools); library(jsonlite)})
stopifnot(packageVersion("lavaan") == "0.6.14", packageVersion("semTools") == "0.5.6")
here <- "tests/reference/invariance"
hs <- HolzingerSwineford1939
items <- paste0("x", 1:9)
hs3 <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
measures <- c("npar", "chisq", "df", "pvalue", "chisq.scaled", "df.scaled", "pvalue.scaled",
              "chisq.scaling.factor", "cfi", "tli", "rmsea", "cfi.scaled", "tli.scaled",
              "rmsea.scaled", "srmr")
ladder <- list(configural = "", thresholds = "thresholds",
               metric = c("thresholds", "loadings"),
               scalar = c("thresholds", "loadings", "intercepts"),
               strict = c("thresholds", "loadings", "intercepts", "residuals"))

run <- function(file, prm, levels, partial = "") {
  d <- read.csv(file)
  fits <- list()
  out <- list()
  for (nm in levels) {
    # (`prm`, not `par`: measEq.syntax evaluates its ... arguments by name)
    fit <- measEq.syntax(configural.model = hs3, data = d, ordered = items,
                         parameterization = prm, ID.fac = "std.lv",
                         ID.cat = "Wu.Estabrook.2016", group = "school",
                         group.equal = ladder[[nm]], group.partial = partial,
                         return.fit = TRUE)
    fits[[nm]] <- fit
    pt <- parTable(fit)
    pt <- pt[pt$op %in% c("=~", "|", "~1", "~~", "~*~"), ]
    lev <- list(group_equal = ladder[[nm]], fit_measures = as.list(fitMeasures(fit, measures)),
                partable = pt[, c("lhs", "op", "rhs", "group", "free", "ustart", "est")])
    k <- match(nm, levels)
    if (k > 1) {
      prev <- fits[[levels[k - 1]]]
      if (fitMeasures(fit, "df") > fitMeasures(prev, "df")) {
        lrt <- lavTestLRT(prev, fit)
        lev$lrt <- list(chisq_diff = lrt[["Chisq diff"]][2], df_diff = lrt[["Df diff"]][2],
                        pvalue = lrt[["Pr(>Chisq)"]][2])
      }
    }
    out[[nm]] <- lev
  }
  out
}

three <- as.data.frame(lapply(hs[items], function(x) cut(x, breaks = 3, labels = FALSE)))
three$school <- hs$school
write.csv(three, file.path(here, "hs_three_school.csv"), row.names = FALSE)

four <- "tests/reference/ordinal/hs_four_school.csv"
out <- list(
  lavaan = as.character(packageVersion("lavaan")),
  semTools = as.character(packageVersion("semTools")),
  model = hs3, ordered = items, group = "school",
  four_delta = c(list(data = "../ordinal/hs_four_school.csv", parameterization = "delta"),
                 list(levels = run(four, "delta", names(ladder)[1:4]))),
  four_theta = c(list(data = "../ordinal/hs_four_school.csv", parameterization = "theta"),
                 list(levels = run(four, "theta", names(ladder)))),
  four_theta_partial = c(list(data = "../ordinal/hs_four_school.csv",
                              parameterization = "theta",
                              group_partial = c("x1|t1", "x3~1", "visual=~x2")),
                         list(levels = run(four, "theta", names(ladder),
                                           "x1 | t1\nx3 ~ 1\nvisual =~ x2"))),
  three_delta = c(list(data = "hs_three_school.csv", parameterization = "delta"),
                  list(levels = run(file.path(here, "hs_three_school.csv"), "delta",
                                    names(ladder)[1:4])))
)
write_json(out, file.path(here, "ordinal_ladder.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "null")
