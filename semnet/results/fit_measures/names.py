"""The names (lavaan's order, dots as underscores) of the measures lavaan reports."""

from __future__ import annotations

#: Names (lavaan order, dots replaced by underscores) of the measures returned
#: by :func:`fit_measures` -- lavaan 0.6-14 ``fitMeasures(fit)`` for ML.
FIT_MEASURE_NAMES: tuple[str, ...] = (
    "npar", "fmin", "chisq", "df", "pvalue",
    "baseline_chisq", "baseline_df", "baseline_pvalue",
    "cfi", "tli", "nnfi", "rfi", "nfi", "pnfi", "ifi", "rni",
    "logl", "unrestricted_logl", "aic", "bic", "ntotal", "bic2",
    "rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "rmsea_ci_level",
    "rmsea_pvalue", "rmsea_close_h0", "rmsea_notclose_pvalue", "rmsea_notclose_h0",
    "rmr", "rmr_nomean", "srmr", "srmr_bentler", "srmr_bentler_nomean",
    "crmr", "crmr_nomean", "srmr_mplus", "srmr_mplus_nomean",
    "cn_05", "cn_01", "gfi", "agfi", "pgfi", "mfi", "ecvi",
)  # fmt: skip

#: lavaan's names of the robust tests that :class:`ScaledInput` supports.
ROBUST_TESTS: tuple[str, ...] = (
    "satorra.bentler", "yuan.bentler.mplus", "scaled.shifted", "mean.var.adjusted",
)  # fmt: skip

_SCALED_SUFFIX_FAMILY = ("nnfi", "rfi", "nfi", "pnfi", "ifi", "rni")

_RMSEA_SUFFIX_FAMILY = (
    "rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "rmsea_pvalue", "rmsea_notclose_pvalue",
)  # fmt: skip


def fit_measure_names(test: str | None = None, missing: bool = False) -> tuple[str, ...]:
    """Names (lavaan order, dots as underscores) that :func:`fit_measures` returns.

    Parameters
    ----------
    test : str, optional
        ``None`` for the standard ML test (:data:`FIT_MEASURE_NAMES`), or one
        of :data:`ROBUST_TESTS` for the robust set lavaan 0.6-14 reports (the
        ``*_scaled`` measures, and the ``*_robust`` ones except for
        ``"mean.var.adjusted"``).
    missing : bool, optional
        A FIML fit: lavaan then adds the (FIML-corrected) ``*_robust`` measures
        to the standard set too.

    Returns
    -------
    tuple of str

    Raises
    ------
    ValueError
        If ``test`` is not supported.
    """
    if test is not None and test not in ROBUST_TESTS:
        raise ValueError(f"unsupported robust test {test!r}; expected one of {ROBUST_TESTS}")
    base = list(FIT_MEASURE_NAMES)
    scaled = test is not None
    # lavaan 0.6-14 has no robust (population-corrected) indices for the Satterthwaite test
    robust = (scaled and test != "mean.var.adjusted") or missing
    names: list[str] = base[: base.index("pvalue") + 1]
    if scaled:
        names += ["chisq_scaled", "df_scaled", "pvalue_scaled", "chisq_scaling_factor"]
    names += ["baseline_chisq", "baseline_df", "baseline_pvalue"]
    if scaled:
        names += ["baseline_chisq_scaled", "baseline_df_scaled", "baseline_pvalue_scaled",
                  "baseline_chisq_scaling_factor"]  # fmt: skip
    names += ["cfi", "tli"]
    if scaled:
        names += ["cfi_scaled", "tli_scaled"]
    if robust:
        names += ["cfi_robust", "tli_robust"]
    names += list(_SCALED_SUFFIX_FAMILY)
    if scaled:
        names += [f"{k}_scaled" for k in _SCALED_SUFFIX_FAMILY]
    if robust:
        names += ["nnfi_robust", "rni_robust"]
    names += base[base.index("logl") : base.index("bic2") + 1]
    if test == "yuan.bentler.mplus":
        names += ["scaling_factor_h1", "scaling_factor_h0"]
    names += base[base.index("rmsea") : base.index("rmsea_notclose_h0") + 1]
    if scaled:
        names += [f"{k}_scaled" for k in _RMSEA_SUFFIX_FAMILY]
    if robust:
        names += [f"{k}_robust" for k in _RMSEA_SUFFIX_FAMILY]
    names += base[base.index("rmr") :]
    return tuple(names)
