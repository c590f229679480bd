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
#: bootstrap quantities that semnet and lavaan/boot compute from the same resamples
#: (draws, jackknife-based and basic/normal intervals), in bootstrap standard errors:
#: only the two optimizers' stopping points differ (at most ~1e-4 SE, multi-group)
BOOT_SE_TOL = 1e-3
#: relative tolerance for the BCa acceleration from two jackknifes of the same data
#: (semnet's refits and lavaan's or numpy's; observed at most ~1e-3)
ACCEL_RTOL = 5e-3
#: interval arithmetic on identical draws (percentile quantiles): rounding only
ARITH_RTOL = 1e-10
#: Monte Carlo checks: allowed deviation, in Monte Carlo standard errors
MC_SIGMAS = 4.0

#: polychoric correlations against lavCor(): lavaan's nlminb stops within ~1e-7 of the
#: maximum of the likelihood (semnet's search within 1e-12)
POLYCHORIC_ATOL = 1e-6

# alignment optimization (tests/analyses/test_alignment.py)
#: analytic against central-difference gradients of the loss (relative)
GRAD_RTOL = 1e-6
#: delta-method Jacobian against re-optimizing after a small change of the configural
#: estimates (relative to the size of the change in the reported values)
JACOBIAN_RTOL = 1e-2
#: exactly invariant population moments: aligned values equal the population values
#: up to the optimizer's tolerance
EXACT_ATOL = 1e-4
#: recovery of planted factor means (correlation of aligned with true means)
MIN_MEAN_CORRELATION = 0.98

#: weakly identified models (a method factor on every item, ULMC): estimates agree with
#: lavaan's within this fraction of their standard error (the optimizers stop at
#: different points of a flat likelihood; the chi-squares agree to FIT_RTOL)
EST_SE_FRACTION = 1e-3

#: semopy's estimates against semnet's: semopy's L-BFGS-B stops loosely, within about
#: 1e-3 relative of the optimum (PolDem's y4~~y8 was 1.04e-3 off lavaan's in one run,
#: depending on the BLAS threads); semnet itself is checked against lavaan at EST_RTOL
SEMOPY_RTOL = 2e-3

#: the seed studies' large FIML fits (150-300 free parameters, tests/studies/): lavaan's
#: nlminb stops on the relative change of the objective (rel.tol 1e-10), which leaves
#: its estimates up to ~2e-5 from the maximum of the likelihood (semnet's log-likelihood
#: is the higher one by 3e-8 to 5e-8 in every fixture); absolute tolerance of estimates
LARGE_FIML_EST_ATOL = 5e-5
