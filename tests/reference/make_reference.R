#!/usr/bin/env Rscript
## ---------------------------------------------------------------------------
## make_reference.R -- lavaan reference fixtures for semnet
##
## Run from the repository root:
##     Rscript tests/reference/make_reference.R
##
## Writes
##   semnet/datasets/HolzingerSwineford1939.csv
##   semnet/datasets/PoliticalDemocracy.csv
##   tests/reference/data/*.csv          (simulated / derived data)
##   tests/reference/<fixture>.json      (one file per fixture)
##
## Deterministic: every random step is seeded with set.seed(); every model is
## fitted on the data as read back from the CSV that Python will read.
## ---------------------------------------------------------------------------

suppressPackageStartupMessages({
  library(lavaan)
  library(semTools)
  library(jsonlite)
})

if (packageVersion("lavaan") < "0.6.14") {
  stop("lavaan >= 0.6.14 is required, found ", packageVersion("lavaan"))
}

if (!file.exists("tests/reference/make_reference.R")) {
  stop("run this script from the repository root")
}

REF_DIR  <- "tests/reference"
DATA_DIR <- file.path(REF_DIR, "data")
DS_DIR   <- "semnet/datasets"
dir.create(DATA_DIR, recursive = TRUE, showWarnings = FALSE)
dir.create(DS_DIR, recursive = TRUE, showWarnings = FALSE)

VERSIONS <- list(
  lavaan_version   = as.character(packageVersion("lavaan")),
  semtools_version = as.character(packageVersion("semTools")),
  r_version        = R.version.string
)

## ---------------------------------------------------------------------------
## CSV helpers (full precision: shortest decimal string that round-trips)
## ---------------------------------------------------------------------------

num_to_chr <- function(x) {
  out <- rep(NA_character_, length(x))
  ok  <- !is.na(x)
  for (d in 15:17) {
    todo <- ok & is.na(out)
    if (!any(todo)) break
    s <- sprintf(paste0("%.", d, "g"), x[todo])
    good <- as.numeric(s) == x[todo]
    idx <- which(todo)[good]
    out[idx] <- s[good]
  }
  stopifnot(all(!is.na(out[ok])))
  out
}

write_csv_full <- function(df, path) {
  text_cols <- which(vapply(df, function(col) is.factor(col) || is.character(col),
                            logical(1)))
  out <- df
  for (v in names(out)) {
    col <- out[[v]]
    if (is.factor(col)) {
      out[[v]] <- as.character(col)
    } else if (is.double(col)) {
      out[[v]] <- num_to_chr(col)
    }
  }
  write.csv(out, path, row.names = FALSE,
            quote = if (length(text_cols)) unname(text_cols) else FALSE,
            na = "NA")
  ## the CSV must reproduce the numbers bit for bit
  back <- read.csv(path, stringsAsFactors = FALSE)
  for (v in names(df)) {
    a <- df[[v]]
    if (is.factor(a)) a <- as.character(a)
    if (is.numeric(a)) {
      stopifnot(identical(is.na(a), is.na(back[[v]])),
                all(a[!is.na(a)] == back[[v]][!is.na(a)]))
    } else {
      stopifnot(identical(a, back[[v]]))
    }
  }
  invisible(back)
}

## ---------------------------------------------------------------------------
## JSON helpers
## ---------------------------------------------------------------------------

## a vector that must stay a JSON array even when it has length 1
arr <- function(x) {
  if (is.null(x)) return(NULL)
  if (is.factor(x)) x <- as.character(x)
  I(unname(as.vector(unclass(x))))
}

## data.frame -> list of columns (JSON object of arrays)
df_cols <- function(df) {
  if (is.null(df)) return(NULL)
  df <- as.data.frame(unclass(df), stringsAsFactors = FALSE,
                      check.names = FALSE, optional = TRUE)
  out <- lapply(df, arr)
  names(out) <- names(df)
  out
}

## matrix -> list of rows
mat_rows <- function(m) {
  if (is.null(m)) return(NULL)
  m <- unclass(m)
  if (is.null(dim(m))) m <- matrix(m, nrow = 1)
  lapply(seq_len(nrow(m)), function(i) arr(m[i, ]))
}

## named vector -> JSON object name: value
named_vec <- function(v) {
  if (is.null(v)) return(NULL)
  v <- unclass(v)
  as.list(setNames(as.vector(v), names(v)))
}

## ---------------------------------------------------------------------------
## dump_fit: write one fixture
##   name      : fixture name (file tests/reference/<name>.json)
##   fit       : a fitted lavaan object
##   call_info : list(function=, model=, data=, options=list(...))
##   extras    : named list of extra top-level entries (score_test, wald, lrt)
## ---------------------------------------------------------------------------

dump_fit <- function(name, fit, call_info, extras = list()) {
  converged <- lavInspect(fit, "converged")
  if (!isTRUE(converged)) stop("fixture ", name, ": model did not converge")

  ng      <- lavInspect(fit, "ngroups")
  glabels <- lavInspect(fit, "group.label")

  fm <- fitMeasures(fit)
  if (length(fm) == 0L || anyNA(fm[c("chisq", "df", "npar")])) {
    stop("fixture ", name, ": fit measures missing")
  }

  implied  <- lavInspect(fit, "implied",  drop.list.single.group = FALSE)
  sampstat <- lavInspect(fit, "sampstat", drop.list.single.group = FALSE)
  r2       <- lavInspect(fit, "r2",       drop.list.single.group = FALSE)
  nobs     <- lavInspect(fit, "nobs")
  norig    <- lavInspect(fit, "norig")

  resid <- residuals(fit, type = "raw")
  if (ng == 1L) resid <- list(resid)

  implied_out <- lapply(seq_len(ng), function(g) {
    s <- implied[[g]]
    list(cov   = mat_rows(s$cov),
         mean  = if (is.null(s$mean)) NULL else arr(s$mean),
         names = arr(rownames(s$cov)))
  })
  sample_out <- lapply(seq_len(ng), function(g) {
    s  <- sampstat[[g]]
    mu <- s$mean
    if (is.null(mu)) mu <- fit@SampleStats@mean[[g]]
    list(cov   = mat_rows(s$cov),
         mean  = if (is.null(mu)) NULL else arr(mu),
         names = arr(rownames(s$cov)),
         nobs  = nobs[g])
  })
  resid_out <- lapply(seq_len(ng), function(g) mat_rows(resid[[g]]$cov))
  resid_mean_out <- lapply(seq_len(ng), function(g) {
    if (is.null(resid[[g]]$mean)) NULL else arr(resid[[g]]$mean)
  })
  r2_out <- lapply(seq_len(ng), function(g) named_vec(r2[[g]]))

  V <- lavInspect(fit, "vcov")

  mi <- tryCatch(df_cols(modindices(fit, sort. = FALSE)),
                 error = function(e) {
                   message("  [", name, "] modindices failed: ", conditionMessage(e))
                   NULL
                 })

  tests <- lavInspect(fit, "test")
  tests_out <- lapply(tests, function(t) {
    t <- lapply(t, function(el) if (length(el) > 1L) arr(el) else unclass(el))
    t$stat.group <- arr(t$stat.group)
    t
  })

  x <- c(
    list(name = name),
    VERSIONS,
    list(
      call            = call_info,
      converged       = converged,
      iterations      = lavInspect(fit, "iterations"),
      npar            = lavInspect(fit, "npar"),
      nobs            = arr(nobs),
      norig           = arr(norig),
      ngroups         = ng,
      group_labels    = arr(glabels),
      estimator       = lavInspect(fit, "options")$estimator,
      test_types      = arr(lavInspect(fit, "options")$test),
      se_type         = lavInspect(fit, "options")$se,
      information     = arr(lavInspect(fit, "options")$information),
      missing         = lavInspect(fit, "options")$missing,
      partable        = df_cols(parTable(fit)),
      estimates       = df_cols(parameterEstimates(fit, standardized = TRUE,
                                                   rsquare = FALSE)),
      std_solution    = df_cols(standardizedSolution(fit, type = "std.all")),
      std_solution_lv = df_cols(standardizedSolution(fit, type = "std.lv")),
      fit_measures    = named_vec(fm),
      tests           = tests_out,
      r2              = r2_out,
      implied         = implied_out,
      sample          = sample_out,
      residuals_raw   = resid_out,
      residuals_raw_mean = resid_mean_out,
      vcov            = list(names = arr(rownames(V)), matrix = mat_rows(V)),
      modindices      = mi
    ),
    extras
  )
  path <- file.path(REF_DIR, paste0(name, ".json"))
  write_json(x, path, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null",
             null = "null")
  cat(sprintf("  %-34s converged=%s iter=%3d npar=%2d chisq=%10.4f df=%3d\n",
              name, converged, lavInspect(fit, "iterations"),
              lavInspect(fit, "npar"), fm[["chisq"]], as.integer(fm[["df"]])))
  invisible(x)
}

## convenience: build call_info
call_info <- function(fun, model, data, options = list()) {
  list(`function` = fun, model = model, data = data,
       options = if (length(options)) options else structure(list(), names = character(0)))
}

## fit + dump in one go. `opts` are passed verbatim to cfa()/sem() and
## recorded in call$options (vectors of length > 1, or group.equal /
## group.partial, are kept as JSON arrays).
ARRAY_OPTS <- c("group.equal", "group.partial")
record_opts <- function(opts) {
  out <- opts
  for (o in names(out)) {
    if (o %in% ARRAY_OPTS || length(out[[o]]) > 1L) out[[o]] <- arr(out[[o]])
  }
  out
}

run_fixture <- function(name, fun, model, data, data_path, opts = list(),
                        extras = function(fit) list()) {
  stopifnot(fun %in% c("cfa", "sem"))
  ## do.call with the function *name*: lavaan inspects match.call()
  fit <- do.call(fun, c(list(model = model, data = data), opts))
  dump_fit(name, fit, call_info(fun, model, data_path, record_opts(opts)),
           extras(fit))
  invisible(fit)
}

## ---------------------------------------------------------------------------
## extras
## ---------------------------------------------------------------------------

score_test_extra <- function(fit) {
  st <- lavTestScore(fit, epc = TRUE)
  pt <- parTable(fit)
  uni <- as.data.frame(unclass(st$uni), stringsAsFactors = FALSE)
  side <- function(plabels, prefix) {
    idx <- match(plabels, pt$plabel)
    d <- data.frame(pt$lhs[idx], pt$op[idx], pt$rhs[idx], pt$group[idx],
                    pt$label[idx], stringsAsFactors = FALSE)
    names(d) <- paste0(prefix, c("lhs", "op", "rhs", "group", "label"))
    d
  }
  uni <- cbind(uni, side(uni$lhs, "lhs."), side(uni$rhs, "rhs."))
  list(score_test = list(total = df_cols(st$test),
                         uni   = df_cols(uni),
                         epc   = df_cols(st$epc)))
}

wald_extra <- function(constraints) {
  function(fit) {
    w <- lavTestWald(fit, constraints = constraints)
    list(wald = list(constraints = constraints, stat = w$stat, df = w$df,
                     p.value = w$p.value, se = w$se))
  }
}

lrt_extra <- function(fits, model_names, method = "default") {
  tab <- do.call(lavTestLRT, c(unname(fits), list(model.names = model_names,
                                                  method = method)))
  heading <- paste(attr(tab, "heading"), collapse = "\n")
  method_arg <- method
  m <- regmatches(heading, regexpr("method = [^)]*", heading))
  method <- if (length(m)) gsub("[^A-Za-z0-9._]", "",
                                sub("method = ", "", m)) else "standard"
  d <- data.frame(model = rownames(tab), stringsAsFactors = FALSE)
  d <- cbind(d, as.data.frame(unclass(tab), check.names = FALSE,
                              stringsAsFactors = FALSE))
  out <- list(method_arg = method_arg, method = method, heading = heading,
              table = df_cols(d))
  ## method "satorra.2000" with scaled.shifted = TRUE (lavaan's default for MLMV):
  ## the scale a and shift b of each difference, T.delta = a (T0 - T1) + b
  if (!is.null(attr(tab, "scale"))) {
    out$scale <- arr(attr(tab, "scale"))
    out$shift <- arr(attr(tab, "shift"))
  }
  list(lrt = out)
}

## ---------------------------------------------------------------------------
## Datasets
## ---------------------------------------------------------------------------

cat("writing datasets\n")
HS_PATH <- file.path(DS_DIR, "HolzingerSwineford1939.csv")
PD_PATH <- file.path(DS_DIR, "PoliticalDemocracy.csv")
HS <- write_csv_full(lavaan::HolzingerSwineford1939, HS_PATH)
PD <- write_csv_full(lavaan::PoliticalDemocracy, PD_PATH)
stopifnot(identical(HS$school, as.character(lavaan::HolzingerSwineford1939$school)))

HS_MODEL <- "visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9"

## --- hs_missing: ~10% of x1..x9 set to NA completely at random -------------
set.seed(20261122)
HSM <- lavaan::HolzingerSwineford1939
for (v in paste0("x", 1:9)) HSM[[v]][runif(nrow(HSM)) < 0.10] <- NA
HSM_PATH <- file.path(DATA_DIR, "hs_missing.csv")
HSM <- write_csv_full(HSM, HSM_PATH)

## --- kenny_judd: simulated latent interaction -------------------------------
set.seed(20261123)
KJ_N <- 500
kx <- rnorm(KJ_N)                                  # var(x) = 1
kz <- 0.3 * kx + sqrt(1 - 0.3^2) * rnorm(KJ_N)     # var(z) = 1, cov(x, z) = 0.3
ky <- 0.5 * kx + 0.4 * kz + 0.3 * kx * kz + rnorm(KJ_N, sd = sqrt(0.5))
KJ <- data.frame(
  x1 = 1.0 * kx + rnorm(KJ_N, sd = 0.5),
  x2 = 0.8 * kx + rnorm(KJ_N, sd = 0.5),
  z1 = 1.0 * kz + rnorm(KJ_N, sd = 0.5),
  z2 = 0.7 * kz + rnorm(KJ_N, sd = 0.5),
  y1 = 1.0 * ky + rnorm(KJ_N, sd = 0.5),
  y2 = 0.9 * ky + rnorm(KJ_N, sd = 0.5),
  y3 = 0.8 * ky + rnorm(KJ_N, sd = 0.5)
)
ctr <- function(v) v - mean(v)
KJ$x1z1 <- ctr(KJ$x1) * ctr(KJ$z1)
KJ$x2z2 <- ctr(KJ$x2) * ctr(KJ$z2)
KJ_PATH <- file.path(DATA_DIR, "kenny_judd.csv")
KJ <- write_csv_full(KJ, KJ_PATH)

## ---------------------------------------------------------------------------
## Fixtures -- core engine
## ---------------------------------------------------------------------------

cat("core fixtures\n")
run_fixture("hs_cfa",            "cfa", HS_MODEL, HS, HS_PATH)
run_fixture("hs_cfa_stdlv",      "cfa", HS_MODEL, HS, HS_PATH, list(std.lv = TRUE))
run_fixture("hs_cfa_orthogonal", "cfa", HS_MODEL, HS, HS_PATH, list(orthogonal = TRUE))
run_fixture("hs_cfa_meanstructure", "cfa", HS_MODEL, HS, HS_PATH,
            list(meanstructure = TRUE))

HS_INTERCEPTS_MODEL <- paste(HS_MODEL,
  "x1 ~ 0*1
x4 ~ 0*1
x7 ~ 0*1
visual ~ 1
textual ~ 1
speed ~ 1", sep = "\n")
run_fixture("hs_intercepts", "sem", HS_INTERCEPTS_MODEL, HS, HS_PATH,
            list(meanstructure = TRUE))

## sample covariance input (N-1 divisor, as cov() gives; lavaan rescales)
HS_S <- cov(HS[, paste0("x", 1:9)])
fit <- cfa(HS_MODEL, sample.cov = HS_S, sample.nobs = 301)
dump_fit("hs_samplecov", fit,
         call_info("cfa", HS_MODEL, NULL,
                   list(sample.cov = list(names = arr(colnames(HS_S)),
                                          matrix = mat_rows(HS_S)),
                        sample.nobs = 301L)))

POLDEM_MODEL <- "# measurement model
ind60 =~ x1 + x2 + x3
dem60 =~ y1 + a*y2 + b*y3 + c*y4
dem65 =~ y5 + a*y6 + b*y7 + c*y8
# regressions
dem60 ~ ind60
dem65 ~ ind60 + dem60
# residual correlations
y1 ~~ y5
y2 ~~ y4 + y6
y3 ~~ y7
y4 ~~ y8
y6 ~~ y8"
run_fixture("poldem", "sem", POLDEM_MODEL, PD, PD_PATH)

HS_EXO_MODEL <- "visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
visual ~ ageyr + sex
textual ~ ageyr"
run_fixture("hs_exo", "sem", HS_EXO_MODEL, HS, HS_PATH)
run_fixture("hs_exo_meanstructure", "sem", HS_EXO_MODEL, HS, HS_PATH,
            list(meanstructure = TRUE))

HS_PATH_MODEL <- "x9 ~ x7 + x8
x8 ~ x7"
run_fixture("hs_path", "sem", HS_PATH_MODEL, HS, HS_PATH)

HS_MEDIATION_MODEL <- "x8 ~ a*x7
x9 ~ b*x8 + c*x7
ind := a*b
total := c + a*b"
run_fixture("hs_mediation", "sem", HS_MEDIATION_MODEL, HS, HS_PATH)

HS_CONSTRAINED_MODEL <- "visual  =~ x1 + v2*x2 + v3*x3
textual =~ x4 + t5*x5 + x6
speed   =~ x7 + x8 + x9
v2 == v3
d := v2 - t5"
run_fixture("hs_constrained", "cfa", HS_CONSTRAINED_MODEL, HS, HS_PATH)

## ---------------------------------------------------------------------------
## Fixtures -- multi-group and tests
## ---------------------------------------------------------------------------

cat("multi-group fixtures\n")
fit_conf <- run_fixture("hs_mg_configural", "cfa", HS_MODEL, HS, HS_PATH,
                        list(group = "school"))
fit_metric <- run_fixture("hs_mg_metric", "cfa", HS_MODEL, HS, HS_PATH,
                          list(group = "school", group.equal = "loadings"),
                          extras = score_test_extra)
fit_scalar <- cfa(HS_MODEL, data = HS, group = "school",
                  group.equal = c("loadings", "intercepts"))
dump_fit("hs_mg_scalar", fit_scalar,
         call_info("cfa", HS_MODEL, HS_PATH,
                   record_opts(list(group = "school",
                                    group.equal = c("loadings", "intercepts")))),
         c(score_test_extra(fit_scalar),
           lrt_extra(list(fit_conf, fit_metric, fit_scalar),
                     c("hs_mg_configural", "hs_mg_metric", "hs_mg_scalar"))))
run_fixture("hs_mg_strict", "cfa", HS_MODEL, HS, HS_PATH,
            list(group = "school",
                 group.equal = c("loadings", "intercepts", "residuals")))
run_fixture("hs_mg_partial", "cfa", HS_MODEL, HS, HS_PATH,
            list(group = "school", group.equal = c("loadings", "intercepts"),
                 group.partial = c("x3~1", "x7~1")))

## hs_cfa already carries modindices; this fixture pins them explicitly
## (and fails loudly if they cannot be computed)
fit <- cfa(HS_MODEL, data = HS)
mi_check <- modindices(fit, sort. = FALSE)
stopifnot(nrow(mi_check) > 0)
dump_fit("hs_modindices", fit, call_info("cfa", HS_MODEL, HS_PATH),
         list(modindices_sorted = df_cols(modindices(fit, sort. = TRUE))))

HS_MG_PATH_MODEL <- "visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
textual ~ c(b1, b2)*visual"
fit_pe <- run_fixture("hs_mg_path_equal", "sem", HS_MG_PATH_MODEL, HS, HS_PATH,
                      list(group = "school"), extras = wald_extra("b1 == b2"))
HS_MG_PATH_CONSTRAINED_MODEL <- "visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
textual ~ c(b, b)*visual"
fit_pec <- sem(HS_MG_PATH_CONSTRAINED_MODEL, data = HS, group = "school")
dump_fit("hs_mg_path_equal_constrained", fit_pec,
         call_info("sem", HS_MG_PATH_CONSTRAINED_MODEL, HS_PATH,
                   list(group = "school")),
         lrt_extra(list(fit_pe, fit_pec),
                   c("hs_mg_path_equal", "hs_mg_path_equal_constrained")))

## remaining group.equal options, std.lv scaling under metric invariance, and an
## active inequality constraint
run_fixture("hs_mg_stdlv_metric", "cfa", HS_MODEL, HS, HS_PATH,
            list(group = "school", group.equal = "loadings", std.lv = TRUE))
run_fixture("hs_mg_lv", "cfa", HS_MODEL, HS, HS_PATH,
            list(group = "school",
                 group.equal = c("loadings", "intercepts", "means",
                                 "lv.variances", "lv.covariances")))
HS_MG_STRUCT_MODEL <- "visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9
speed ~ visual + textual
x1 ~~ x4"
run_fixture("hs_mg_structural", "sem", HS_MG_STRUCT_MODEL, HS, HS_PATH,
            list(group = "school",
                 group.equal = c("loadings", "regressions", "residual.covariances")))
HS_INEQ_MODEL <- "visual  =~ x1 + x2 + b3*x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9
b3 > 0.8"
run_fixture("hs_inequality", "cfa", HS_INEQ_MODEL, HS, HS_PATH)

## Kenny-Judd style latent interaction with nonlinear equality constraints
KJ_MODEL <- "x  =~ 1*x1 + lx2*x2
z  =~ 1*z1 + lz2*z2
xz =~ 1*x1z1 + lxz2*x2z2
y  =~ y1 + y2 + y3
y ~ gx*x + gz*z + gxz*xz
x ~~ vx*x
z ~~ vz*z
x ~~ cxz*z
xz ~~ vxz*xz
lxz2 == lx2*lz2
vxz == vx*vz + cxz^2"
run_fixture("kenny_judd", "sem", KJ_MODEL, KJ, KJ_PATH, extras = score_test_extra)

## product-indicator latent interaction probed with semTools::probe2WayMC
KJ_PI_MODEL <- "x  =~ x1 + x2
z  =~ z1 + z2
xz =~ x1z1 + x2z2
y  =~ y1 + y2 + y3
y ~ x + z + xz"
run_fixture("kenny_judd_probe", "sem", KJ_PI_MODEL, KJ, KJ_PATH,
            list(meanstructure = TRUE),
            extras = function(fit) {
              pr <- probe2WayMC(fit, nameX = c("x", "z", "xz"), nameY = "y",
                                modVar = "z", valProbe = c(-1, 0, 1))
              list(probe = list(val_probe = c(-1, 0, 1),
                                slopes = df_cols(as.data.frame(pr$SimpleSlope))))
            })

## ---------------------------------------------------------------------------
## Fixtures -- robust estimators and missing data
## ---------------------------------------------------------------------------

cat("robust / missing fixtures\n")
run_fixture("hs_mlr", "cfa", HS_MODEL, HS, HS_PATH, list(estimator = "MLR"))
run_fixture("hs_mlm", "cfa", HS_MODEL, HS, HS_PATH, list(estimator = "MLM"))
run_fixture("poldem_mlr", "sem", POLDEM_MODEL, PD, PD_PATH, list(estimator = "MLR"))

run_fixture("hs_fiml", "cfa", HS_MODEL, HSM, HSM_PATH,
            list(missing = "ml", estimator = "ML"))
run_fixture("hs_fiml_mlr", "cfa", HS_MODEL, HSM, HSM_PATH,
            list(missing = "ml", estimator = "MLR"))
run_fixture("hs_listwise", "cfa", HS_MODEL, HSM, HSM_PATH,
            list(missing = "listwise", estimator = "ML"))

fit_mlr_metric <- run_fixture("hs_mg_mlr_metric", "cfa", HS_MODEL, HS, HS_PATH,
                              list(estimator = "MLR", group = "school",
                                   group.equal = "loadings"))
opts <- list(estimator = "MLR", group = "school",
             group.equal = c("loadings", "intercepts"))
fit_mlr_scalar <- do.call("cfa", c(list(model = HS_MODEL, data = HS), opts))
dump_fit("hs_mg_mlr_scalar", fit_mlr_scalar,
         call_info("cfa", HS_MODEL, HS_PATH, record_opts(opts)),
         c(lrt_extra(list(fit_mlr_metric, fit_mlr_scalar),
                     c("hs_mg_mlr_metric", "hs_mg_mlr_scalar")),
           list(lrt_2010 = lrt_extra(list(fit_mlr_metric, fit_mlr_scalar),
                                     c("hs_mg_mlr_metric", "hs_mg_mlr_scalar"),
                                     method = "satorra.bentler.2010")$lrt)))

## MLMV: ML estimates, robust.sem SEs, mean-and-variance adjusted (scaled.shifted)
## test; lavTestLRT's default for it is method = "satorra.2000"
fit_mlmv <- run_fixture("hs_mlmv", "cfa", HS_MODEL, HS, HS_PATH, list(estimator = "MLMV"))
run_fixture("hs_mlmv_orthogonal", "cfa", HS_MODEL, HS, HS_PATH,
            list(estimator = "MLMV", orthogonal = TRUE),
            extras = function(fit) lrt_extra(list(fit_mlmv, fit),
                                             c("hs_mlmv", "hs_mlmv_orthogonal")))
run_fixture("poldem_mlmv", "sem", POLDEM_MODEL, PD, PD_PATH, list(estimator = "MLMV"))
fit_mlmv_metric <- run_fixture("hs_mg_mlmv_metric", "cfa", HS_MODEL, HS, HS_PATH,
                               list(estimator = "MLMV", group = "school",
                                    group.equal = "loadings"))
opts <- list(estimator = "MLMV", group = "school",
             group.equal = c("loadings", "intercepts"))
fit_mlmv_scalar <- do.call("cfa", c(list(model = HS_MODEL, data = HS), opts))
dump_fit("hs_mg_mlmv_scalar", fit_mlmv_scalar,
         call_info("cfa", HS_MODEL, HS_PATH, record_opts(opts)),
         c(lrt_extra(list(fit_mlmv_metric, fit_mlmv_scalar),
                     c("hs_mg_mlmv_metric", "hs_mg_mlmv_scalar")),
           list(lrt_2001 = lrt_extra(list(fit_mlmv_metric, fit_mlmv_scalar),
                                     c("hs_mg_mlmv_metric", "hs_mg_mlmv_scalar"),
                                     method = "satorra.bentler.2001")$lrt,
                lrt_2010 = lrt_extra(list(fit_mlmv_metric, fit_mlmv_scalar),
                                     c("hs_mg_mlmv_metric", "hs_mg_mlmv_scalar"),
                                     method = "satorra.bentler.2010")$lrt)))

## fixed.x covariates with robust SEs and tests (issue 17): lavaan conditions on the
## covariates (Gamma of the moments less their prediction from the covariates, the
## unrestricted model's information without the covariates' own moments)
run_fixture("hs_exo_mlr", "sem", HS_EXO_MODEL, HS, HS_PATH, list(estimator = "MLR"))
run_fixture("hs_exo_mlm", "sem", HS_EXO_MODEL, HS, HS_PATH, list(estimator = "MLM"))
run_fixture("hs_exo_mlmv", "sem", HS_EXO_MODEL, HS, HS_PATH, list(estimator = "MLMV"))
## with lavTestLRT against the configural model (not written as a fixture), by its
## default method for MLR (satorra.bentler.2001) and by satorra.bentler.2010
fit_exo_configural <- sem(HS_EXO_MODEL, data = HS, estimator = "MLR", group = "school")
exo_lrt <- function(fit, method = "default") {
  lrt_extra(list(fit_exo_configural, fit), c("configural", "metric"), method)$lrt
}
run_fixture("hs_mg_exo_mlr_metric", "sem", HS_EXO_MODEL, HS, HS_PATH,
            list(estimator = "MLR", group = "school", group.equal = "loadings"),
            extras = function(fit) list(lrt = exo_lrt(fit),
                                        lrt_2010 = exo_lrt(fit, "satorra.bentler.2010")))
## MLMV: lavTestLRT's default for it is satorra.2000 (W and Gamma conditional on the
## covariates)
fit_exo_configural_mlmv <- sem(HS_EXO_MODEL, data = HS, estimator = "MLMV", group = "school")
run_fixture("hs_mg_exo_mlmv_metric", "sem", HS_EXO_MODEL, HS, HS_PATH,
            list(estimator = "MLMV", group = "school", group.equal = "loadings"),
            extras = function(fit) list(lrt = lrt_extra(list(fit_exo_configural_mlmv, fit),
                                                        c("configural", "metric"))$lrt))
## fixed.x = FALSE (the covariates' variances and covariances are free). Written to
## tests/reference/fixed_x/, out of the core loop (tests/api/test_covariates.py checks
## it): lavaan's baseline model then frees the covariates' covariances too.
REF_DIR_TOP <- REF_DIR
REF_DIR <- file.path(REF_DIR_TOP, "fixed_x")
dir.create(REF_DIR, recursive = TRUE, showWarnings = FALSE)
run_fixture("hs_exo_mlr_random_x", "sem", HS_EXO_MODEL, HS, HS_PATH,
            list(estimator = "MLR", fixed.x = FALSE))
REF_DIR <- REF_DIR_TOP

## ===========================================================================
## Analyses fixtures (issue 6): product indicators (semTools::indProd),
## indirect effects (lavaan `:=`), bootstrap (lavaan se = "bootstrap",
## test = "bollen.stine"). Written to tests/reference/analyses/ (not picked up
## by the core fixture loop, which reads tests/reference/*.json only).
## ===========================================================================

cat("analyses fixtures\n")
AN_DIR <- file.path(REF_DIR, "analyses")
dir.create(AN_DIR, recursive = TRUE, showWarnings = FALSE)

an_write <- function(name, x) {
  write_json(c(list(name = name), VERSIONS, x), file.path(AN_DIR, paste0(name, ".json")),
             digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null", null = "null")
  cat(sprintf("  %s\n", name))
}

## --- product indicators: every method x match option, complete and incomplete data
## methods: mean (meanC), double_mean (meanC + doubleMC), residual (orthogonalize),
## none (raw products). match = TRUE pairs x1-x4, x2-x5, x3-x6; match = FALSE crosses
## x1..x3 with x4, x5.
PROD_METHODS <- list(
  none        = list(meanC = FALSE, residualC = FALSE, doubleMC = FALSE),
  mean        = list(meanC = TRUE,  residualC = FALSE, doubleMC = FALSE),
  double_mean = list(meanC = TRUE,  residualC = FALSE, doubleMC = TRUE),
  residual    = list(meanC = FALSE, residualC = TRUE,  doubleMC = FALSE)
)
PROD_DATA <- list(hs = HS, hs_missing = HSM)
for (dname in names(PROD_DATA)) {
  D <- PROD_DATA[[dname]][, paste0("x", 1:9)]
  for (meth in names(PROD_METHODS)) {
    for (mt in c(TRUE, FALSE)) {
      v2 <- if (mt) c("x4", "x5", "x6") else c("x4", "x5")
      out <- do.call(indProd, c(list(data = D, var1 = c("x1", "x2", "x3"), var2 = v2,
                                     match = mt), PROD_METHODS[[meth]]))
      prods <- out[, setdiff(names(out), names(D)), drop = FALSE]
      ## the column names as semTools made them (data.frame keeps "x1.x4")
      fname <- sprintf("products_%s_%s_%s.csv", dname, meth,
                       if (mt) "match" else "all")
      write_csv_full(prods, file.path(AN_DIR, fname))
    }
  }
}
cat("  products_*.csv\n")

## --- indirect effects: lavaan `:=` definitions for every specific indirect path
an_mediation <- function(name, model, data, data_path, group = NULL) {
  fit <- if (is.null(group)) sem(model, data = data) else
    sem(model, data = data, group = group)
  stopifnot(lavInspect(fit, "converged"))
  an_write(name, list(
    call = list(model = model, data = data_path, group = group),
    estimates = df_cols(parameterEstimates(fit, standardized = TRUE)),
    std_solution = df_cols(standardizedSolution(fit, type = "std.all")),
    group_labels = arr(lavInspect(fit, "group.label"))
  ))
}

MED_LATENT <- paste(HS_MODEL, "textual ~ a*visual
speed ~ b*textual + c*visual
ind := a*b
total := c + a*b", sep = "\n")
an_mediation("mediation_latent", MED_LATENT, HS, HS_PATH)

## two mediators, parallel and serial: x1 -> x4 -> x9, x1 -> x7 -> x9,
## x1 -> x4 -> x7 -> x9
MED_TWO <- "x4 ~ a1*x1
x7 ~ a2*x1 + d*x4
x9 ~ c*x1 + b1*x4 + b2*x7
ind1 := a1*b1
ind2 := a2*b2
ind3 := a1*d*b2
total_ind := a1*b1 + a2*b2 + a1*d*b2
total := c + a1*b1 + a2*b2 + a1*d*b2"
an_mediation("mediation_two", MED_TWO, HS, HS_PATH)

MED_MG <- paste(HS_MODEL, "textual ~ c(a1, a2)*visual
speed ~ c(b1, b2)*textual + c(c1, c2)*visual
ind1 := a1*b1
ind2 := a2*b2
total1 := c1 + a1*b1
total2 := c2 + a2*b2", sep = "\n")
an_mediation("mediation_mg", MED_MG, HS, HS_PATH, group = "school")

## --- bootstrap: lavaan's bootstrap standard errors (1000 draws) of the latent
## mediation model, and the Bollen-Stine bootstrap p-values
fit <- sem(MED_LATENT, data = HS, se = "bootstrap", bootstrap = 1000L, iseed = 20261201L)
an_write("bootstrap_mediation_latent", list(
  call = list(model = MED_LATENT, data = HS_PATH, bootstrap = 1000L, iseed = 20261201L),
  estimates = df_cols(parameterEstimates(fit))
))

## percentile and bias-corrected intervals from lavaan's own draws (observed-variable
## mediation model): the draws are stored so that the interval arithmetic can be
## checked exactly
fit <- sem(HS_MEDIATION_MODEL, data = HS, se = "bootstrap", bootstrap = 500L,
           iseed = 20261202L)
boot <- lavInspect(fit, "boot")
an_write("bootstrap_ci_mediation", list(
  call = list(model = HS_MEDIATION_MODEL, data = HS_PATH, bootstrap = 500L,
              iseed = 20261202L),
  boot = list(names = arr(colnames(boot)), matrix = mat_rows(boot)),
  perc = df_cols(parameterEstimates(fit, boot.ci.type = "perc")),
  perc90 = df_cols(parameterEstimates(fit, boot.ci.type = "perc", level = 0.90)),
  bca_simple = df_cols(parameterEstimates(fit, boot.ci.type = "bca.simple")),
  norm = df_cols(parameterEstimates(fit, boot.ci.type = "norm")),
  basic = df_cols(parameterEstimates(fit, boot.ci.type = "basic"))
))

bs_fixture <- function(name, fun, model, data, data_path) {
  fit <- do.call(fun, list(model = model, data = data, test = "bollen.stine",
                           bootstrap = 1000L, iseed = 20261203L))
  t <- lavInspect(fit, "test")[["bollen.stine"]]
  an_write(name, list(
    call = list(`function` = fun, model = model, data = data_path, bootstrap = 1000L,
                iseed = 20261203L),
    chisq = t$stat, df = t$df, pvalue = t$pvalue, boot_length = t$boot.length,
    boot_larger = t$boot.larger, boot_mean = mean(t$boot.T), boot_sd = sd(t$boot.T)
  ))
}
bs_fixture("bollen_stine_hs_cfa", "cfa", HS_MODEL, HS, HS_PATH)
bs_fixture("bollen_stine_poldem", "sem", POLDEM_MODEL, PD, PD_PATH)


## ===========================================================================
## Invariance fixtures (issue 5): the synthetic three-country survey
## sample_data/network_involvement.csv (USA, China, Russia; ~3% MCAR missing
## answers per item) with the measurement model models/measurement.lav, fitted by
## FIML (missing = "ml", estimator = "ML"):
##   ni_configural, ni_metric, ni_scalar, ni_strict   the invariance ladder;
##       ni_scalar has score_test and score_release (joint release of the two
##       doi2~1 constraints); ni_strict has lrt (lavTestLRT of all four levels)
##   ni_partial_metric   group.equal = "loadings", group.partial = "ni=~ni3"
##   ni_partial          group.equal = c("loadings", "intercepts"),
##                       group.partial = c("ni=~ni3", "doi2~1"); has lrt
##                       (configural, ni_partial_metric, ni_partial)
## The partial models are the ones semnet.invariance(...).partial("scalar",
## rule = "chisq") finds: the loading and the intercept planted as non-invariant
## (sample_data/CODEBOOK.md).
## Written to tests/reference/invariance/ (same JSON schema as the top-level
## fixtures; load them as "invariance/ni_scalar"). They are kept out of the core
## per-fixture loop because lavaan's FIML optimizer stops early on one latent mean
## that is zero in the population (ni ~ 1, Russia: about 2e-4 SE from the optimum;
## a tighter rel.tol makes nlminb report false convergence).
## ===========================================================================

cat("invariance fixtures\n")
REF_DIR_TOP <- REF_DIR
REF_DIR <- file.path(REF_DIR_TOP, "invariance")
dir.create(REF_DIR, recursive = TRUE, showWarnings = FALSE)
NI_PATH  <- "sample_data/network_involvement.csv"
NI       <- read.csv(NI_PATH, stringsAsFactors = FALSE)
NI_MODEL <- paste(readLines("models/measurement.lav"), collapse = "\n")

ni_opts <- function(ge = NULL, gp = NULL) {
  o <- list(group = "country", missing = "ml", estimator = "ML")
  if (!is.null(ge)) o$group.equal <- ge
  if (!is.null(gp)) o$group.partial <- gp
  o
}
ni_fit <- function(opts) do.call("cfa", c(list(model = NI_MODEL, data = NI), opts))
ni_call <- function(opts) call_info("cfa", NI_MODEL, NI_PATH, record_opts(opts))

## joint score test of releasing every equality constraint of one parameter
score_release_extra <- function(fit, lhs, op, rhs) {
  uni <- lavTestScore(fit)$uni
  pt  <- parTable(fit)
  k   <- match(uni$lhs, pt$plabel)
  idx <- which(pt$lhs[k] == lhs & pt$op[k] == op & pt$rhs[k] == rhs)
  st  <- lavTestScore(fit, release = idx)
  list(score_release = list(param = paste0(lhs, op, rhs), release = arr(idx),
                            total = df_cols(st$test)))
}

NI_LEVELS <- list(configural = NULL,
                  metric     = "loadings",
                  scalar     = c("loadings", "intercepts"),
                  strict     = c("loadings", "intercepts", "residuals"))
ni_names <- paste0("ni_", names(NI_LEVELS))
ni_fits  <- lapply(NI_LEVELS, function(ge) ni_fit(ni_opts(ge)))
for (k in seq_along(ni_fits)) {
  extras <- list()
  if (names(NI_LEVELS)[k] == "scalar") {
    extras <- c(score_test_extra(ni_fits[[k]]),
                score_release_extra(ni_fits[[k]], "doi2", "~1", ""))
  }
  if (names(NI_LEVELS)[k] == "strict") {
    extras <- lrt_extra(unname(ni_fits), ni_names)
  }
  dump_fit(ni_names[k], ni_fits[[k]], ni_call(ni_opts(NI_LEVELS[[k]])), extras)
}

opts <- ni_opts("loadings", "ni=~ni3")
fit_ni_pm <- ni_fit(opts)
dump_fit("ni_partial_metric", fit_ni_pm, ni_call(opts))
opts <- ni_opts(c("loadings", "intercepts"), c("ni=~ni3", "doi2~1"))
fit_ni_ps <- ni_fit(opts)
dump_fit("ni_partial", fit_ni_ps, ni_call(opts),
         lrt_extra(list(ni_fits$configural, fit_ni_pm, fit_ni_ps),
                   c("ni_configural", "ni_partial_metric", "ni_partial")))

## three groups, MLR with FIML: metric and scalar, and the scaled difference test
ni_mlr_opts <- function(ge) {
  o <- ni_opts(ge)
  o$estimator <- "MLR"
  o
}
fit_ni_mlr_m <- ni_fit(ni_mlr_opts("loadings"))
dump_fit("ni_mlr_metric", fit_ni_mlr_m, ni_call(ni_mlr_opts("loadings")))
fit_ni_mlr_s <- ni_fit(ni_mlr_opts(c("loadings", "intercepts")))
dump_fit("ni_mlr_scalar", fit_ni_mlr_s, ni_call(ni_mlr_opts(c("loadings", "intercepts"))),
         lrt_extra(list(fit_ni_mlr_m, fit_ni_mlr_s), c("ni_mlr_metric", "ni_mlr_scalar")))
REF_DIR <- REF_DIR_TOP

cat("done\n")

## ---------------------------------------------------------------------------
## semTools reliability / validity (semnet.reliability, semnet.htmt)
## ---------------------------------------------------------------------------
cat("semTools reliability fixtures\n")
rel_fixture <- function(fit) {
  om <- compRelSEM(fit)
  al <- compRelSEM(fit, tau.eq = TRUE)
  av <- AVE(fit)
  if (lavInspect(fit, "ngroups") > 1L) {
    list(omega = df_cols(as.data.frame(om)), alpha = df_cols(as.data.frame(al)),
         ave = df_cols(as.data.frame(av)))
  } else {
    list(omega = as.list(om), alpha = as.list(al), ave = as.list(av))
  }
}
REL <- list(
  semtools_version = as.character(packageVersion("semTools")),
  hs_cfa = rel_fixture(cfa(HS_MODEL, data = HS)),
  hs_mg_configural = rel_fixture(cfa(HS_MODEL, data = HS, group = "school")),
  hs_fiml = rel_fixture(cfa(HS_MODEL, data = HSM, missing = "ml")),
  htmt2 = unclass(htmt(HS_MODEL, data = HS, htmt2 = TRUE)),
  htmt1 = unclass(htmt(HS_MODEL, data = HS, htmt2 = FALSE))
)
dir.create(file.path(REF_DIR, "semtools"), showWarnings = FALSE)
jsonlite::write_json(REL, file.path(REF_DIR, "semtools", "reliability.json"),
                     digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null",
                     null = "null")
