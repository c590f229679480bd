# Alignment optimization by sirt, independently of semnet: the fixture that
# tests/analyses/test_alignment_sirt.py compares semnet.alignment() against.
#
# Inputs: eight_countries.csv and fifteen_countries.csv, written by
# make_alignment_inputs.py (simulated by semnet from population models with planted
# non-invariant loadings and intercepts). For each data set and factor this script
#   1. fits the configural model with lavaan 0.6.14 (std.lv = TRUE: factor means 0 and
#      variances 1 in every group; loadings and intercepts free),
#   2. aligns the loadings and intercepts with sirt::invariance.alignment() with Mplus's
#      settings: component loss (x^2 + 0.01)^(1/4) (align.pow = .5 on sirt's scale,
#      eps = .01), group-pair weights sqrt(n_g n_h) (wgt = sqrt(n_g) per group and item;
#      sirt multiplies the two groups' weights), and Mplus's FIXED method (meth = 3:
#      the first group has mean 0 and variance 1), with lavaan's covariance matrix of the
#      configural loadings and intercepts for sirt's delta-method standard errors,
#   3. writes the configural estimates, the aligned means and standard deviations, their
#      standard errors and the aligned loadings and intercepts as JSON.
#
# sirt is not in Debian. It was built from its GitHub sources (sirt 4.3-21, with CDM, TAM
# and pbv from their GitHub sources; r-cran-rcpp, r-cran-rcpparmadillo, r-cran-mvtnorm,
# r-cran-pbapply from Debian) with R CMD INSTALL.
#
# Run from the repository root: Rscript tests/reference/alignment/make_alignment_sirt.R
suppressPackageStartupMessages({
  library(lavaan)
  library(sirt)
  library(jsonlite)
})

here <- "tests/reference/alignment"

align_one <- function(data, items, factor) {
  groups <- unique(as.character(data$country))
  model <- paste(factor, "=~", paste(items, collapse = " + "))
  fit <- cfa(model, data = data, group = "country", group.label = groups,
             std.lv = TRUE, meanstructure = TRUE)
  pt <- parTable(fit)
  G <- length(groups)
  I <- length(items)
  lambda <- matrix(NA, G, I, dimnames = list(groups, items))
  nu <- lambda
  free_lam <- matrix(NA, G, I)
  free_nu <- matrix(NA, G, I)
  for (g in seq_len(G)) {
    for (i in seq_len(I)) {
      r <- which(pt$group == g & pt$op == "=~" & pt$lhs == factor & pt$rhs == items[i])
      lambda[g, i] <- pt$est[r]
      free_lam[g, i] <- pt$free[r]
      r <- which(pt$group == g & pt$op == "~1" & pt$lhs == items[i])
      nu[g, i] <- pt$est[r]
      free_nu[g, i] <- pt$free[r]
    }
  }
  # sirt's order: per group, the items' loadings then the items' intercepts
  order_free <- as.vector(t(cbind(free_lam, free_nu)))
  vc <- lavInspect(fit, "vcov")[order_free, order_free]
  n <- lavInspect(fit, "nobs")
  wgt <- matrix(sqrt(n), G, I)
  al <- invariance.alignment(lambda = lambda, nu = nu, wgt = wgt,
                             align.scale = c(1, 1), align.pow = c(0.5, 0.5),
                             eps = 0.01, meth = 3, vcov = vc)
  list(
    factor = factor, items = items, groups = groups, nobs = n,
    lavaan_version = as.character(packageVersion("lavaan")),
    sirt_version = as.character(packageVersion("sirt")),
    configural = list(lambda = unname(lambda), nu = unname(nu),
                      chisq = unname(fitMeasures(fit, "chisq"))),
    fixed = list(
      mean = unname(al$pars$alpha0), sd = unname(al$pars$psi0),
      se = unname(al$SE),
      se_names = names(al$SE),
      lambda_aligned = unname(al$lambda.aligned),
      nu_aligned = unname(al$nu.aligned),
      loss = al$fopt
    )
  )
}

eight <- read.csv(file.path(here, "eight_countries.csv"))
fifteen <- read.csv(file.path(here, "fifteen_countries.csv"))
out <- list(
  eight_countries = align_one(eight, paste0("t", 1:5), "trust"),
  fifteen_countries = align_one(fifteen, paste0("y", 1:6), "f")
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           file.path(here, "alignment_sirt.json"))
