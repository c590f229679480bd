# Common-method-variance models fitted by lavaan 0.6.14: the reference for
# semnet.harman and semnet.ulmc (tests/analyses/test_cmv.py).
# Simulates survey data with a planted method factor, writes it as CSV, fits it as read
# back: the hypothesized CFA, the one-factor CFA and the ULMC model, single-group and by
# group.   Rscript tests/reference/cmv/make_cmv.R   (from the repository root)
suppressPackageStartupMessages({library(lavaan); library(jsonlite)})
stopifnot(packageVersion("lavaan") == "0.6.14")
here <- "tests/reference/cmv"
pop <- "
f1 =~ 0.8*y1 + 0.7*y2 + 0.75*y3 + 0.6*y4
f2 =~ 0.7*y5 + 0.8*y6 + 0.65*y7 + 0.7*y8
f3 =~ 0.75*y9 + 0.6*y10 + 0.7*y11 + 0.8*y12
m  =~ 0.5*y1 + 0.2*y2 + 0.4*y3 + 0.3*y4 + 0.1*y5 + 0.45*y6 + 0.25*y7 + 0.35*y8 +
      0.5*y9 + 0.15*y10 + 0.3*y11 + 0.4*y12 + 0.6*mk1 + 0.55*mk2 + 0.65*mk3
f1 ~~ 0.4*f2 + 0.3*f3
f2 ~~ 0.35*f3
m ~~ 0*f1 + 0*f2 + 0*f3
"
set.seed(2021)
d <- simulateData(pop, sample.nobs = 1000)
d$g <- rep(c("A", "B"), each = 500)
d$marker <- round(rnorm(1000), 6)
d[c("mk1", "mk2", "mk3")] <- round(d[c("mk1", "mk2", "mk3")], 6)
file <- file.path(here, "cmv.csv")
write.csv(d, file, row.names = FALSE)
d <- read.csv(file)
items <- paste0("y", 1:12)
hyp <- "f1 =~ y1 + y2 + y3 + y4\nf2 =~ y5 + y6 + y7 + y8\nf3 =~ y9 + y10 + y11 + y12\n"
one <- paste0("common =~ ", paste(items, collapse = " + "), "\n")
ulmc <- paste0(hyp, "method =~ NA*y1 + ", paste(items[-1], collapse = " + "), "\n",
               "method ~~ 1*method\nmethod ~~ 0*f1 + 0*f2 + 0*f3\n")
record <- function(fit) {
  pe <- parameterEstimates(fit, standardized = TRUE)
  list(lhs = pe$lhs, op = pe$op, rhs = pe$rhs,
       group = if (is.null(pe$group)) rep(1L, nrow(pe)) else pe$group,
       est = pe$est, se = pe$se, std_all = pe$std.all,
       chisq = unname(fitMeasures(fit, "chisq")), df = unname(fitMeasures(fit, "df")))
}
out <- list(lavaan = as.character(packageVersion("lavaan")), data = "cmv.csv",
            hypothesized = hyp, one_factor = one, ulmc = ulmc)
for (g in c("none", "g")) {
  grp <- if (g == "none") NULL else "g"
  key <- if (g == "none") "single" else "groups"
  out[[key]] <- list(hypothesized = record(cfa(hyp, d, group = grp)),
                     one_factor = record(cfa(one, d, group = grp)),
                     ulmc = record(cfa(ulmc, d, group = grp)))
}
# the CFA marker technique (Williams, Hartman & Cavazotte 2010) with the latent marker
# mk =~ mk1 + mk2 + mk3: the CFA model, then baseline, Method-C, Method-U, Method-R
marker_items <- c("mk1", "mk2", "mk3")
cfa_m <- cfa(paste0(hyp, "mk =~ mk1 + mk2 + mk3\n"), d)
pe <- parameterEstimates(cfa_m)
lam <- pe$est[pe$lhs == "mk" & pe$op == "=~"]
err <- sapply(marker_items, function(v) pe$est[pe$lhs == v & pe$op == "~~" & pe$rhs == v])
fixed_marker <- paste0("mk =~ ", paste0(sprintf("%.17g", lam), "*", marker_items, collapse = " + "),
                       "\n", paste0(marker_items, " ~~ ", sprintf("%.17g", err), "*",
                                     marker_items, collapse = "\n"), "\n",
                       "mk ~~ 0*f1 + 0*f2 + 0*f3\n")
baseline <- paste0(hyp, fixed_marker)
method_c <- paste0(baseline, "mk =~ ", paste0("a*", items, collapse = " + "), "\n")
method_u <- paste0(baseline, "mk =~ ", paste(items, collapse = " + "), "\n")
fb <- cfa(baseline, d); fc <- cfa(method_c, d); fu <- cfa(method_u, d)
best <- if (lavTestLRT(fc, fu)[2, "Pr(>Chisq)"] < 0.05) method_u else method_c
pb <- parameterEstimates(fb)
cv <- pb[pb$op == "~~" & pb$lhs %in% c("f1", "f2", "f3") & pb$rhs %in% c("f1", "f2", "f3") &
         pb$lhs != pb$rhs, ]
method_r <- paste0(best, paste0(cv$lhs, " ~~ ", sprintf("%.17g", cv$est), "*", cv$rhs,
                                collapse = "\n"), "\n")
fr <- cfa(method_r, d)
out$cfa_marker <- list(marker_items = marker_items, cfa = record(cfa_m),
                       baseline = record(fb), method_c = record(fc), method_u = record(fu),
                       method_r = record(fr), chosen = if (identical(best, method_u)) "U" else "C")
# Lindell-Whitney inputs: the correlation matrix of the items and the marker
out$cor <- unclass(cor(d[c(items, "marker")]))
write_json(out, file.path(here, "cmv.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
