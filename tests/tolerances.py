"""Tolerances for comparing semnet with lavaan, stated once.

lavaan's optimizer (nlminb, rel.tol 1e-10) and semnet's Newton steps both converge far
beyond these; the remaining differences come from where each stops and from the
15 significant digits of the JSON fixtures.  Standard errors depend on the information
matrix at the estimate, so they get a looser bound; fit indices are smooth functions of
the converged discrepancy.
"""

#: relative tolerance for parameter estimates (and standardized estimates)
EST_RTOL = 1e-4
#: relative tolerance for standard errors (also of standardized and defined parameters)
SE_RTOL = 1e-3
#: relative tolerance for fit indices, chi-square, log-likelihoods
FIT_RTOL = 1e-4
#: absolute floor for quantities that are zero in theory (e.g. RMSEA of a saturated model)
ATOL = 1e-6
