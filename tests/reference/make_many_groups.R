# lavaan 0.6.14 on 30 countries x 30 rows of a one-factor, four-item CFA
# (tests/reference/data/many_groups.csv, written by benchmarks.tasks.many_groups_data(30)):
# configural and scalar fits, their estimates, standard errors and chi-squares.
# Run from the repository root: Rscript tests/reference/make_many_groups.R
library(lavaan)
library(jsonlite)
d <- read.csv("tests/reference/data/many_groups.csv")
model <- "f =~ y1 + y2 + y3 + y4"
one <- function(equal) {
  fit <- cfa(model, data = d, group = "country", group.equal = equal)
  pe <- parameterEstimates(fit)
  list(group_equal = equal, converged = lavInspect(fit, "converged"),
       chisq = unname(fitMeasures(fit, "chisq")), df = unname(fitMeasures(fit, "df")),
       npar = unname(fitMeasures(fit, "npar")),
       group_labels = lavInspect(fit, "group.label"),
       estimates = pe[pe$op != ":=", c("lhs", "op", "rhs", "group", "est", "se")])
}
out <- list(lavaan_version = as.character(packageVersion("lavaan")),
            configural = one(""), scalar = one(c("loadings", "intercepts")))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = FALSE),
           "tests/reference/many_groups.json")
