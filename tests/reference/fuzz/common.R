## ---------------------------------------------------------------------------
## common.R -- what the differential tests' R scripts share (sourced by
## tests/reference/fuzz/make_fuzz.R and tests/reference/fuzz2/make_fuzz2.R): reading
## the data sets once, the rank of the Jacobian of the implied moments, one model's
## fit with its warnings recorded, and writing lavaan.json.
## ---------------------------------------------------------------------------

DATA <- list()
read_data <- function(path) {
  if (is.null(DATA[[path]])) DATA[[path]] <<- read.csv(path)
  DATA[[path]]
}

## relative size of the smallest singular value of the Jacobian of the implied moments
## (all groups, on the parameters left free by the equality constraints)
jacobian_gap <- function(fit) {
  D <- lavInspect(fit, "delta")
  D <- if (is.matrix(D)) D else do.call(rbind, D)
  if (fit@Model@eq.constraints) D <- D %*% fit@Model@eq.constraints.K
  s <- svd(D)$d
  min(s) / max(s)
}

## model m's summary by `summarise(m, warnings)` (the script's own), with lavaan's
## warnings recorded (not printed); a lavaan error becomes the reason to skip it
fit_one <- function(m, summarise) {
  msgs <- character(0)
  out <- tryCatch(withCallingHandlers(summarise(m, function() msgs),
    warning = function(w) {
      msgs <<- c(msgs, conditionMessage(w))
      invokeRestart("muffleWarning")
    }), error = function(e) list(skip = paste("lavaan error:", conditionMessage(e))))
  c(list(name = m$name, warnings = I(msgs), skip = out$skip), out[names(out) != "skip"])
}

## lavaan.json in `dir`: the versions, `extra` (what the inputs say of the batches)
## and the fits; then the skipped models on the console
write_results <- function(results, dir, extra) {
  out <- c(list(lavaan_version = as.character(packageVersion("lavaan")),
                r_version = R.version.string), extra, list(fits = results))
  write_json(out, file.path(dir, "lavaan.json"), digits = NA, auto_unbox = TRUE,
             na = "null", null = "null")
  skipped <- Filter(function(r) !is.null(r$skip), results)
  cat(length(results), "models,", length(skipped), "skipped\n")
  for (r in skipped) cat(" ", r$name, ":", r$skip, "\n")
}
