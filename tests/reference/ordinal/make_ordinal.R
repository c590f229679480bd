# Polychoric correlations and thresholds from lavaan 0.6.14's lavCor() (two-step
# estimates), the reference for semnet.polychoric (tests/data/test_ordinal.py).
# Writes the ordinal data sets it fits as CSV and fits them as read back.
#   Rscript tests/reference/ordinal/make_ordinal.R   (from the repository root)
suppressPackageStartupMessages({library(lavaan); library(jsonlite)})
stopifnot(packageVersion("lavaan") == "0.6.14")
here <- "tests/reference/ordinal"
hs <- HolzingerSwineford1939
items <- paste0("x", 1:9)

# 1. x1-x9 cut into 4 equal-width categories
four <- as.data.frame(lapply(hs[items], function(x) cut(x, breaks = 4, labels = FALSE)))
# 2. binary items (above the median); x1 x x3 and others give 2 x 2 tables
two <- as.data.frame(lapply(hs[items[1:5]], function(x) as.integer(x > median(x))))
# 3. sparse 6-category items: a general table with empty cells
six <- as.data.frame(lapply(hs[c("x4", "x5", "x6", "x7")],
                            function(x) cut(x, breaks = 6, labels = FALSE)))
# 4. a 2 x 2 table with one empty cell (zero.add with margins kept)
set.seed(1)
a <- rbinom(200, 1, 0.5); b <- ifelse(a == 1, rbinom(200, 1, 0.6), 0L)
zero <- data.frame(a = a + 1L, b = b + 1L, c = as.integer(hs$x1[1:200] > 5) + 1L)

sets <- list(hs_four = four, hs_two = two, hs_six = six, zero_cell = zero)
for (name in names(sets)) {
  file <- file.path(here, paste0(name, ".csv"))
  write.csv(sets[[name]], file, row.names = FALSE)
  d <- read.csv(file)
  fit <- lavCor(d, ordered = names(d), output = "fit")
  ss <- lavInspect(fit, "sampstat")
  # N x the asymptotic covariance of thresholds and correlations (Muthen 1984)
  gamma <- lavInspect(lavCor(d, ordered = names(d), output = "fit", estimator = "DWLS",
                             se = "robust.sem"), "gamma")
  out <- list(
    lavaan = as.character(packageVersion("lavaan")),
    data = paste0(name, ".csv"),
    names = names(d),
    cor = unclass(ss$cov),
    th = as.list(ss$th),
    th_names = names(ss$th),
    nobs = lavInspect(fit, "nobs"),
    gamma = unclass(gamma),
    gamma_names = colnames(gamma)
  )
  write_json(out, file.path(here, paste0(name, ".json")), digits = NA, auto_unbox = TRUE,
             pretty = TRUE)
}

# 5. the 4-category items by school: statistics per group
file <- file.path(here, "hs_four_school.csv")
write.csv(cbind(four, school = hs$school), file, row.names = FALSE)
d <- read.csv(file)
fit <- lavCor(d, ordered = items, group = "school", output = "fit")
ss <- lavInspect(fit, "sampstat")
gamma <- lavInspect(lavCor(d, ordered = items, group = "school", output = "fit",
                           estimator = "DWLS", se = "robust.sem"), "gamma")
groups <- lapply(names(ss), function(g) list(
  group = g, cor = unclass(ss[[g]]$cov), th = as.list(ss[[g]]$th),
  th_names = names(ss[[g]]$th), nobs = lavInspect(fit, "nobs")[match(g, names(ss))],
  gamma = unclass(gamma[[g]]), gamma_names = colnames(gamma[[g]])))
write_json(list(lavaan = as.character(packageVersion("lavaan")), data = "hs_four_school.csv",
                names = items, group = "school", groups = groups),
           file.path(here, "hs_four_school.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
