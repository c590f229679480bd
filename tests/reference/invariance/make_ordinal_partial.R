# The refits that rank the candidates of semnet's partial-invariance search with ordinal
# items (InvarianceResult.partial, semnet/analyses/invariance/partial_ordinal.py), fitted
# by lavaan 0.6.14 (WLSMV) as semTools 0.5-6's measEq.syntax(ID.fac = "std.lv",
# ID.cat = "Wu.Estabrook.2016") identifies them: for each level, the level itself and the
# level with one candidate freed (group.partial), compared by lavTestLRT (Satorra 2000,
# lavaan's default for WLSMV).  Reference for tests/analyses/invariance/test_partial_ordinal.py.
#   Rscript tests/reference/invariance/make_ordinal_partial.R   (from the repository root)
# Data (written here as ordinal_partial.csv): one factor, five items of 4 categories cut
# at -1, 0, 1 from normal latent responses, three groups of 500 with different latent
# means and variances, and item y3's intercept 0.6 higher in group C (not invariant).
# Candidates: every item's thresholds (as a set) at the thresholds level, every loading
# at the metric level, every intercept at the scalar level.
suppressPackageStartupMessages({library(lavaan); library(semTools); library(jsonlite)})
stopifnot(packageVersion("lavaan") == "0.6.14", packageVersion("semTools") == "0.5.6")
here <- "tests/reference/invariance"
set.seed(20161)
items <- paste0("y", 1:5)
lambda <- c(0.8, 0.7, 0.75, 0.7, 0.65)
groups <- c("A", "B", "C")
kappa <- c(0, 0.3, -0.2)
psi <- c(1, 1.2, 0.9)
n <- 500
d <- do.call(rbind, lapply(1:3, function(g) {
  eta <- rnorm(n, kappa[g], sqrt(psi[g]))
  nu <- c(0, 0, if (g == 3) 0.6 else 0, 0, 0)
  ystar <- outer(eta, lambda) + matrix(rnorm(n * 5), n, 5) %*% diag(sqrt(1 - lambda^2)) +
    matrix(nu, n, 5, byrow = TRUE)
  y <- apply(ystar, 2, function(v) findInterval(v, c(-1, 0, 1)) + 1)
  colnames(y) <- items
  data.frame(y, group = groups[g])
}))
write.csv(d, file.path(here, "ordinal_partial.csv"), row.names = FALSE)
model <- "f =~ y1 + y2 + y3 + y4 + y5"
ladder <- list(thresholds = "thresholds", metric = c("thresholds", "loadings"),
               scalar = c("thresholds", "loadings", "intercepts"))
candidates <- list(
  thresholds = setNames(lapply(items, function(y) paste0(y, "|t", 1:3)), items),
  metric = setNames(as.list(paste0("f=~", items)), paste0("f=~", items)),
  scalar = setNames(as.list(paste0(items, "~1")), paste0(items, "~1"))
)
measures <- c("chisq", "df", "chisq.scaled", "pvalue.scaled")

fit_level <- function(ge, partial = "") {
  measEq.syntax(configural.model = model, data = d, ordered = items, ID.fac = "std.lv",
                ID.cat = "Wu.Estabrook.2016", group = "group", group.equal = ge,
                group.partial = partial, return.fit = TRUE)
}

out <- list(lavaan = as.character(packageVersion("lavaan")),
            semTools = as.character(packageVersion("semTools")),
            model = model, ordered = items, group = "group", data = "ordinal_partial.csv",
            levels = list())
for (nm in names(ladder)) {
  current <- fit_level(ladder[[nm]])
  cands <- list()
  for (key in names(candidates[[nm]])) {
    # group.partial in lavaan's syntax ("y1 | t1", "y3 ~ 1", "f =~ y2")
    partial <- gsub("(=~|~1|\\|)", " \\1 ", candidates[[nm]][[key]])
    partial <- paste(sub("~1", "~ 1", partial, fixed = TRUE), collapse = "\n")
    freed <- fit_level(ladder[[nm]], partial)
    lrt <- lavTestLRT(freed, current)
    cands[[key]] <- list(group_partial = candidates[[nm]][[key]],
                         fit_measures = as.list(fitMeasures(freed, measures)),
                         chisq_diff = lrt[["Chisq diff"]][2], df_diff = lrt[["Df diff"]][2],
                         pvalue = lrt[["Pr(>Chisq)"]][2])
  }
  out$levels[[nm]] <- list(group_equal = ladder[[nm]],
                           fit_measures = as.list(fitMeasures(current, measures)),
                           candidates = cands)
}
write_json(out, file.path(here, "ordinal_partial.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "null")
