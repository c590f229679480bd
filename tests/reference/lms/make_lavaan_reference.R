# lavaan ML estimates of the linear model (no product term) for the LMS tests, and
# lavaan's MLR (Huber-White) standard errors of that model on oneInt.
# Run from the repository root:  Rscript tests/reference/lms/make_lavaan_reference.R
library(lavaan)
library(jsonlite)
model <- "
X =~ x1 + x2 + x3
Z =~ z1 + z2 + z3
Y =~ y1 + y2 + y3
Y ~ X + Z
"
out <- list(lavaan_version = as.character(packageVersion("lavaan")))
for (name in c("null_interaction", "oneInt")) {
  d <- read.csv(file.path("tests/reference/lms", paste0(name, ".csv")))
  fit <- sem(model, d, meanstructure = TRUE)
  pe <- parameterEstimates(fit)
  out[[name]] <- list(
    logl = as.numeric(logLik(fit)),
    estimates = pe[, c("lhs", "op", "rhs", "est", "se")]
  )
}
mlr <- sem(model, read.csv("tests/reference/lms/oneInt.csv"), meanstructure = TRUE,
           estimator = "MLR")
out[["oneInt_mlr"]] <- list(estimates = parameterEstimates(mlr)[, c("lhs", "op", "rhs", "est", "se")])
write_json(out, "tests/reference/lms/lavaan_linear.json", digits = 10, pretty = TRUE)
