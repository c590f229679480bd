# lavaan's fit of semopy's example_rf model to its data (issue #20: semnet's Newton and
# scoring steps ran into an improper region where lavaan converges).
# Run from the repository root:  Rscript tests/reference/example_rf/make_lavaan_reference.R
library(lavaan)
library(jsonlite)
stopifnot(packageVersion("lavaan") >= "0.6.14")

dir <- "tests/reference/example_rf"
data <- read.csv(file.path(dir, "example_rf.csv"))
model <- "eta1 =~ y1 + y2\neta2 =~ y3 + y4\nx2 ~ eta1\neta2 ~ eta1\nx1 ~ eta1"
fit <- sem(model, data)
pe <- parameterEstimates(fit)
out <- list(
  name = "example_rf",
  lavaan_version = as.character(packageVersion("lavaan")),
  r_version = R.version.string,
  call = list(`function` = "sem", model = model, data = file.path(dir, "example_rf.csv")),
  converged = lavInspect(fit, "converged"),
  iterations = lavInspect(fit, "iterations"),
  fit_measures = as.list(fitMeasures(fit, c("chisq", "df", "fmin", "logl"))),
  estimates = pe[, c("lhs", "op", "rhs", "est", "se")]
)
write_json(out, file.path(dir, "lavaan.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "null", null = "null")
